"""The route again on parts of a large problem, every other item held where it is
(strategy mip, after PDLP's route).

After PDLP's LP with cuts, the Lagrangian's step from PDLP's own prices gave the bound,
and on every family at 10k x 2k and 50k x 5k none of its later steps gave a better bound
or answer (benchmarks/RESULTS.md, "The time after PDLP: parts of the problem again");
where the bound stands and the answer lags, that time goes to the answer.  A part is
the items of one or more budget rows that each of their arcs uses (a gemeente's
ceiling: its children), about `PART_ARCS` arcs in all, the size at which the route
with column generation and a sub-MIP closes to about 0.1 % in a second or two.  The
part is solved by the route itself (`solve_part`), on the capacities the held items
leave, so any answer to it is an answer to the whole; it replaces the incumbent's
items only when it is worth more.  Parts go in order of what the LP promises beyond the
incumbent on their items, the largest promise first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from matcher.solvers.budget import TimeBudget
from matcher.solvers.core import BoolArray, Core, IntArray
from matcher.solvers.lagrange import priced_rows
from matcher.solvers.strategies import steps

# arcs per part: 1k x 200 of benchmarks/families.py has 12k; the route met 0.3 % there
# in 2 s on every family but tight
PART_ARCS = 12_000
# the time limit of one part, and the least time a part is started with
PART_S = 1.5
PART_MIN_S = 1.0

SolvePart = Callable[[Core, float], "IntArray | None"]


def owner_rows(core: Core) -> IntArray:
    """Per item the budget row that every one of its arcs uses (the largest such
    row, by items), or -1: a gemeente's ceiling owns its children, a provider's
    contract only the children who can go nowhere else."""
    n_items, n_res = core.n_items, core.n_resources
    rows = priced_rows(core)
    rows[n_res - core.n_cuts :] = False  # cut rows are no part of the problem
    ua = core.use_arc()
    keep = rows[core.use_res]
    item = core.arc_item[ua[keep]]
    res = core.use_res[keep]
    # arcs per (item, row); an item is owned where that equals its arc count
    key, count = np.unique(item * n_res + res, return_counts=True)
    k_item, k_res = key // n_res, key % n_res
    owned = count == np.diff(core.item_ptr)[k_item]
    k_item, k_res = k_item[owned], k_res[owned]
    size = np.bincount(k_res, minlength=n_res)
    out = np.full(n_items, -1, dtype=np.int64)
    # the largest row last, so that it wins where an item has several
    order = np.argsort(size[k_res], kind="stable")
    out[k_item[order]] = k_res[order]
    return out


def parts(core: Core, chosen: IntArray, x: npt.NDArray[np.float64] | None) -> list[BoolArray]:
    """Items per part (a mask each): whole owner rows joined until `PART_ARCS` arcs,
    rows in order of the LP's value beyond the incumbent's on their items (by arcs
    where there is no LP point); none that holds every item."""
    owner = owner_rows(core)
    if not bool(np.any(owner >= 0)):
        return []
    n_res = core.n_resources
    arcs_per_item = np.diff(core.item_ptr)
    own = owner >= 0
    arcs = np.bincount(owner[own], weights=arcs_per_item[own], minlength=n_res)
    if x is not None and x.shape[0] == core.n_arcs:
        lp = np.bincount(core.arc_item, weights=core.weight * x, minlength=core.n_items)
        have = np.zeros(core.n_items)
        on = chosen >= 0
        have[on] = core.weight[chosen[on]]
        promise = np.bincount(owner[own], weights=(lp - have)[own], minlength=n_res)
    else:
        promise = arcs.astype(np.float64)
    rows = np.flatnonzero(arcs > 0)
    rows = rows[np.lexsort((rows, -promise[rows]))]
    out: list[BoolArray] = []
    group: list[int] = []
    total = 0.0
    for r in rows.tolist():
        group.append(r)
        total += float(arcs[r])
        if total >= PART_ARCS:
            out.append(np.isin(owner, group))
            group, total = [], 0.0
    if group:
        out.append(np.isin(owner, group))
    # a part of every item is the whole problem again, without the incumbent
    return [m for m in out if not bool(m.all())]


def part_core(core: Core, chosen: IntArray, free: BoolArray) -> tuple[Core, IntArray]:
    """The items of `free` with all their arcs, every other item held at its arc in
    `chosen`: the capacities are what the held items leave; also new -> old arc map."""
    held = np.where(free, -1, chosen)
    sub, back = core.restrict(free[core.arc_item])
    left = core.capacity - core.usage_exact(held)
    return replace(sub, capacity=left, must=core.must & free), back


def improve(
    core: Core,
    chosen: IntArray,
    x: npt.NDArray[np.float64] | None,
    budget: TimeBudget,
    solve_part: SolvePart,
    stats: dict[str, Any],
) -> IntArray:
    """`chosen` with parts solved again by `solve_part(part_core, seconds)` while
    `budget` holds `PART_MIN_S`; a part's answer is taken where it is worth more."""
    t = time.perf_counter()
    tried = improved = 0
    gain = 0
    best = chosen
    for free in parts(core, chosen, x):
        if budget.left() < PART_MIN_S:
            break
        sub, back = part_core(core, best, free)
        tried += 1
        ans = solve_part(sub, min(PART_S, budget.left()))
        if ans is None:
            continue
        cand = np.where(free, steps.to_core(ans, back), best)
        more = core.value(cand) - core.value(best)
        if more > 0 and core.is_feasible(cand):
            best, improved, gain = cand, improved + 1, gain + more
    stats["parts_tried"] = tried
    stats["parts_improved"] = improved
    stats["parts_gain"] = gain
    stats["parts_s"] = round(time.perf_counter() - t, 6)
    return best
