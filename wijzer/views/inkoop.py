"""Inkoop: aggregates only, small cells suppressed by the data layer.

Shows who waits, per gemeente and per care type, as a chart (SVG) and as a
table with the same numbers. Scenario runs (extra places, lifted ceilings, a
gemeente that leaves) need the matching on case rows, which the data layer
does not give to inkoop; they wait for an aggregate-only entry point there.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy.orm import Session

from matcher.domain.caretypes import care_type_label
from providers import reference
from providers.store import aggregates
from wijzer.auth import SessionUser

CHART_WIDTH = 760
BAR_HEIGHT = 22
BAR_GAP = 8
LABEL_WIDTH = 320


class Cell(BaseModel):
    key: str
    label: str
    count: int | None
    suppressed: bool


class Bar(BaseModel):
    label: str
    count: int
    y: int
    width: int
    text_x: int


class Chart(BaseModel):
    title: str
    height: int
    bars: list[Bar]
    max_count: int


class Breakdown(BaseModel):
    title: str
    by: str
    cells: list[Cell]
    total: int | None
    suppressed_cells: int
    chart: Chart


class InkoopContext(BaseModel):
    region: str | None
    note: str
    breakdowns: list[Breakdown]


def _label(by: str, key: str) -> str:
    if by == "gemeente":
        g = reference.gemeenten().get(key)
        return g.name if g else key
    if by == "zorgvorm":
        return care_type_label(key, capital=True)
    return key


def chart_of(title: str, cells: list[Cell]) -> Chart:
    """Bars for the cells that may be shown; suppressed cells are left out of the chart
    and marked in the table."""
    shown = sorted((c for c in cells if c.count is not None), key=lambda c: -(c.count or 0))
    top = max((c.count or 0 for c in shown), default=0)
    room = CHART_WIDTH - LABEL_WIDTH - 40
    bars = []
    for i, c in enumerate(shown):
        width = round(room * (c.count or 0) / top) if top else 0
        bars.append(
            Bar(
                label=c.label,
                count=c.count or 0,
                y=i * (BAR_HEIGHT + BAR_GAP),
                width=width,
                text_x=LABEL_WIDTH + width + 6,
            )
        )
    height = max(1, len(bars)) * (BAR_HEIGHT + BAR_GAP)
    return Chart(title=title, height=height, bars=bars, max_count=top)


def overview(session: Session, user: SessionUser) -> InkoopContext:
    breakdowns = []
    for by, title in (("zorgvorm", "Wachtend per hulpvorm"), ("gemeente", "Wachtend per gemeente")):
        agg = aggregates.waiting_aggregates(session, user, by=(by,))
        cells = [
            Cell(key=r.key[0], label=_label(by, r.key[0]), count=r.count, suppressed=r.suppressed)
            for r in agg.rows
        ]
        cells.sort(key=lambda c: (c.count is None, -(c.count or 0), c.label))
        breakdowns.append(
            Breakdown(
                title=title,
                by=by,
                cells=cells,
                total=agg.total,
                suppressed_cells=sum(1 for c in cells if c.count is None),
                chart=chart_of(title, cells),
            )
        )
    note = (
        "Aantallen onder 5 kinderen worden niet getoond, en soms ook een groter aantal, "
        "zodat niemand een verborgen aantal uit het totaal kan terugrekenen."
    )
    return InkoopContext(region=user.region_code, note=note, breakdowns=breakdowns)
