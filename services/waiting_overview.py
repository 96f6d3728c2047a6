"""Use case: who waits for which help, as counts only (the inkoop overview).

The data layer decides what a role may count and hides small cells
(``providers.store.aggregates``); this use case names each cell for a person
and says what the numbers count: every cell counts children; a child waiting
for two kinds of help counts in both care-type cells, and once in the total.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from matcher.domain.caretypes import care_type_label
from providers import reference
from providers.store import aggregates
from providers.store.access import Principal

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

SMALL_CELL_NOTE = (
    "Aantallen onder 5 worden niet getoond, en soms ook een groter aantal, "
    "zodat niemand een verborgen aantal uit het totaal kan terugrekenen."
)


@dataclass(frozen=True)
class Dimension:
    by: str  # the data layer's grouping key
    title: str
    key_label: str  # the column heading of the cell's name
    counts: str  # what one unit of the count is, for the column heading
    overlap_note: str = ""  # when one child can count in more than one cell


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension(
        "zorgvorm",
        "Wachtende kinderen per hulpvorm",
        "Hulpvorm",
        "Wachtende kinderen",
        "Een kind dat op twee hulpvormen wacht, telt bij allebei mee. "
        "Het totaal telt elk kind één keer.",
    ),
    Dimension("gemeente", "Wachtende kinderen per gemeente", "Gemeente", "Wachtende kinderen"),
)


@dataclass(frozen=True)
class Cell:
    key: str
    label: str
    count: int | None  # None: hidden (small cell)


@dataclass(frozen=True)
class Breakdown:
    dimension: Dimension
    cells: tuple[Cell, ...]
    total: int | None  # None when the total itself is a small cell

    @property
    def hidden_cells(self) -> int:
        return sum(1 for c in self.cells if c.count is None)


@dataclass(frozen=True)
class OverviewResult:
    region: str | None
    breakdowns: tuple[Breakdown, ...]
    note: str = SMALL_CELL_NOTE


def cell_label(by: str, key: str) -> str:
    if by == "gemeente":
        g = reference.gemeenten().get(key)
        return g.name if g else key
    if by == "zorgvorm":
        return care_type_label(key, capital=True)
    return key


def waiting_overview(session: Session, principal: Principal) -> OverviewResult:
    """Counts per care type and per gemeente for the principal's region, small cells hidden;
    the largest shown cell first, hidden cells last."""
    breakdowns = []
    for dim in DIMENSIONS:
        agg = aggregates.waiting_aggregates(session, principal, by=(dim.by,))
        cells = [
            Cell(key=r.key[0], label=cell_label(dim.by, r.key[0]), count=r.count) for r in agg.rows
        ]
        cells.sort(key=lambda c: (c.count is None, -(c.count or 0), c.label))
        breakdowns.append(Breakdown(dimension=dim, cells=tuple(cells), total=agg.total))
    return OverviewResult(region=principal.region_code, breakdowns=tuple(breakdowns))
