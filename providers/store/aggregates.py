"""Counts of waiting children for inkoop (and tafel, beheer), with small cells
suppressed so that no cell, and no difference of a total and the shown cells, gives
a count of fewer than `SMALL_CELL` children away."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from providers.store.access import AccessDenied, Principal
from providers.store.models import Child, ChildNeed, ChildStatus, NeedStatus, Role

SMALL_CELL = 5
# keys of the tables that `protect` works on: labels, or tuples of them
K = TypeVar("K", str, tuple[str, ...])


@dataclass(frozen=True)
class AggregateRow:
    """One cell of an aggregate; `count` is None when suppressed (< SMALL_CELL)."""

    key: tuple[str, ...]
    count: int | None
    suppressed: bool


@dataclass(frozen=True)
class Aggregate:
    by: tuple[str, ...]
    rows: tuple[AggregateRow, ...]
    total: int | None  # None when the total itself is a small cell
    suppressed_cells: int = 0
    note: str = field(default="Aantallen onder 5 kinderen worden niet getoond.")


AGG_FIELDS = {
    "gemeente": Child.gemeente_code,
    "regio": Child.region_code,
    "gi": Child.gi,
    "maatregel": Child.measure,
}


def waiting_aggregates(
    session: Session,
    principal: Principal,
    by: Sequence[str] = ("gemeente", "zorgvorm"),
    *,
    region_code: str | None = None,
) -> Aggregate:
    """Counts of waiting children; for inkoop (and tafel/beheer) with small cells suppressed.

    Every cell counts distinct children; grouped by zorgvorm, a child waiting
    for two care types counts in both cells, and once in the total.
    Every cell under SMALL_CELL is suppressed, for every role, and so many
    more that the total minus the shown cells gives no hidden cell back
    (`protect`), so an aggregate can be shown to anyone allowed to
    see it.
    """
    if principal.role not in (Role.INKOOP, Role.TAFEL, Role.BEHEER):
        raise AccessDenied("Deze rol ziet geen overzichten van wachtenden.")
    scope = region_code
    if principal.role in (Role.INKOOP, Role.TAFEL) and principal.region_code:
        if region_code and region_code != principal.region_code:
            raise AccessDenied("U ziet alleen cijfers van uw eigen regio.")
        scope = principal.region_code
    unknown = set(by) - set(AGG_FIELDS) - {"zorgvorm"}
    if unknown:
        raise ValueError(f"cannot group by {sorted(unknown)}")
    cols = [ChildNeed.care_type if b == "zorgvorm" else AGG_FIELDS[b] for b in by]
    q = select(*cols, func.count(func.distinct(Child.id))).select_from(Child)
    if "zorgvorm" in by:
        q = q.join(
            ChildNeed, (ChildNeed.child_id == Child.id) & (ChildNeed.status == NeedStatus.OPEN)
        )
    q = q.where(Child.status == ChildStatus.WAITING.value)
    if scope:
        q = q.where(Child.region_code == scope)
    q = q.group_by(*cols)
    counts: Counter[tuple[str, ...]] = Counter()
    for row in session.execute(q):
        counts[tuple(str(x) for x in row[:-1])] = int(row[-1])
    tq = select(func.count(Child.id)).where(Child.status == ChildStatus.WAITING.value)
    if scope:
        tq = tq.where(Child.region_code == scope)
    total = int(session.scalar(tq) or 0)
    shown_total = None if small_cell(total) else total
    hidden = protect({key: (n,) for key, n in counts.items()}, margin_hidden=shown_total is None)
    rows = tuple(
        AggregateRow(key, None if key in hidden else n, key in hidden)
        for key, n in sorted(counts.items())
    )
    return Aggregate(tuple(by), rows, shown_total, len(hidden))


def small_cell(n: int) -> bool:
    """A count from 1 to SMALL_CELL - 1: never shown (zeros are)."""
    return 0 < n < SMALL_CELL


def protect(rows: Mapping[K, Sequence[int]], *, margin_hidden: bool = False) -> set[K]:
    """The keys of the rows to hide in a table of counts with column totals.

    Primary: a row with any cell of 1 to 4.  Secondary, when the totals are
    shown: while just one row is hidden, or the hidden rows hide 1 to
    2 * SMALL_CELL - 1 children in some column, also hide the row with the
    smallest non-zero cell.  Then a total minus the shown rows gives only a sum
    over two or more hidden rows that is not itself small, never one row.  When
    the totals are hidden (they would give away a small cell elsewhere), at least
    one non-zero row is hidden, so the shown rows do not add up to the total.
    All-zero rows protect nothing and are never chosen.
    """
    hidden = {k for k, vals in rows.items() if any(small_cell(v) for v in vals)}
    width = max((len(v) for v in rows.values()), default=0)

    def weak() -> bool:
        if margin_hidden:
            return not any(any(v > 0 for v in rows[k]) for k in hidden)
        if not hidden:
            return False
        if len(hidden) == 1:
            return True
        return any(0 < sum(rows[k][c] for k in hidden) < 2 * SMALL_CELL for c in range(width))

    while weak():
        left = [
            (min(v for v in vals if v > 0), k)
            for k, vals in rows.items()
            if k not in hidden and any(v > 0 for v in vals)
        ]
        if not left:
            break
        hidden.add(min(left)[1])
    return hidden
