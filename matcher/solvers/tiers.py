"""Objectives in tiers: a row per tier that every optimal answer meets.

The domain's weights come in tiers (`matcher.domain.compile`): one more child placed
by its target date outweighs every priority and fit of the whole scenario.  Within a
tier the weights of a region's re-solves lie close together, and there HiGHS's LP
bound is weak: it places a fraction of a child more than any answer can, trading
top-tier units for lower-tier gains, and branch and bound then searches thousands of
nodes among answers of nearly the same worth.  The top tier solved alone (small whole
numbers, mostly proven at the root) gives the most units any answer has; every optimal
answer has that many, so the row "at least that many" keeps every optimal answer and
takes that trade from the LP (`strategies.searches.tier_rows`).

A problem names its tier units in its meta (`matcher.problem.OBJECTIVE_TIERS`), largest
first.  A unit is used only where it holds on the core being solved (`split`): summed
over the items, the part of the weights below the unit (each weight modulo the unit)
can differ between any two answers by less than one unit.  Then an answer with one unit
more in the tier is better whatever the rest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from matcher.problem import OBJECTIVE_TIERS
from matcher.solvers.core import Core, IntArray

__all__ = ["Tiers", "split", "units_of"]


@dataclass(frozen=True)
class Tiers:
    """A core's weights split by tier: weight = sum of unit x coefficient + rest, per
    arc; `units` largest first."""

    units: tuple[int, ...]
    coefficients: tuple[IntArray, ...]
    rest: IntArray

    def objective(self, core: Core, k: int) -> Core:
        """`core` with the weights of tier `k` (its coefficients) and no constant."""
        return dataclasses.replace(core, weight=self.coefficients[k], const=0)


def units_of(core: Core) -> tuple[int, ...]:
    """The tier units the core's problem names (none when it names none)."""
    raw = core.problem.meta.get(OBJECTIVE_TIERS, ())
    if not isinstance(raw, list | tuple):
        return ()
    return tuple(sorted({int(u) for u in raw if isinstance(u, int) and u > 1}, reverse=True))


def split(core: Core, units: Sequence[int]) -> Tiers | None:
    """The tiers of `units` that hold on `core`, from the largest down to the first
    that does not (a smaller unit is then not tried); None when none holds or no
    arc has a weight in any of them."""
    rest = core.weight.astype(np.int64)
    kept: list[int] = []
    coefficients: list[IntArray] = []
    for unit in sorted(units, reverse=True):
        q, r = np.divmod(rest, unit)
        if _spread(core, r) >= unit:
            break
        kept.append(int(unit))
        coefficients.append(q)
        rest = r
    if not kept or not any(c.any() for c in coefficients):
        return None
    return Tiers(tuple(kept), tuple(coefficients), rest)


def _spread(core: Core, part: IntArray) -> int:
    """The most by which `part` summed over an answer's arcs can differ between two
    answers: per item the largest minus the smallest over its choices (not assigning
    an optional item counts 0)."""
    n = core.n_items
    big = np.iinfo(np.int64).max
    hi = np.where(core.must, -big, 0).astype(np.int64)
    lo = np.where(core.must, big, 0).astype(np.int64)
    np.maximum.at(hi, core.arc_item, part)
    np.minimum.at(lo, core.arc_item, part)
    has = np.zeros(n, dtype=bool)
    has[core.arc_item] = True
    return int((hi - lo)[has | ~core.must].sum())
