"""Local search for GAP-like cores: every item must be assigned, every arc uses
one resource (an agent) by a positive amount.

A short tabu search over shift moves (one item to another agent) and swap
moves (two items of different agents trade places), in the space of answers
that may exceed capacities: an excess costs `penalty[r]` per unit, and the
penalties adapt (up while the current answer is infeasible, down while it
fits), the oscillation that the GAP literature (Yagiura, Ibaraki and Glover)
found to work well.  Moves are evaluated for all items at once on dense
(item x agent) matrices.  The best feasible answer seen is returned; it is
never worse than the start.
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt

from matcher.solvers.budget import TimeBudget
from matcher.solvers.core import Core, IntArray

FloatArray = npt.NDArray[np.float64]

# dense matrices above this many cells cost more per step than they gain
MAX_CELLS = 400_000
# swap moves are evaluated between each item and this many candidate partners
SWAP_PARTNERS = 64
# after this many steps without a better feasible answer the search restarts
# from the best one with a share of the items moved to random agents
# (0 disables restarts)
STALL_STEPS = 50
KICK_SHARE = 0.01


def is_gap_like(core: Core) -> bool:
    """Every item must-assign and every arc uses exactly one resource."""
    if core.n_items == 0 or core.n_arcs == 0 or not bool(core.must.all()):
        return False
    per_arc = np.diff(core.use_ptr)
    return bool((per_arc == 1).all()) and bool((core.use_amount > 0).all())


def arc_agents(core: Core) -> tuple[IntArray, IntArray]:
    """Per arc of a GAP-like core: its one resource (agent) and the amount."""
    use_arc = core.use_arc()
    agent = np.empty(core.n_arcs, dtype=np.int64)
    agent[use_arc] = core.use_res
    amount = np.empty(core.n_arcs, dtype=np.int64)
    amount[use_arc] = core.use_amount
    return agent, amount


def tabu_search(
    core: Core,
    start: IntArray,
    budget: TimeBudget,
    seed: int = 0,
    max_iter: int = 100_000,
    target: float | None = None,
    stats: dict[str, int] | None = None,
) -> IntArray:
    """Improve the feasible answer `start` (arc per item) until the `budget` ends, or
    until an answer reaches `target` (max form: a value no answer can beat by
    more than the tolerance the caller accepts).  `stats` gets the number of
    steps taken."""
    if not is_gap_like(core) or not core.is_feasible(start):
        return start
    n, m = core.n_items, core.n_resources
    if n * m > MAX_CELLS or n < 2:
        return start
    agent_of_arc, amount_of_arc = arc_agents(core)
    big = 1e18
    cost = np.full((n, m), big)  # min form: cost = -weight
    need = np.full((n, m), big)
    arc_at = np.full((n, m), -1, dtype=np.int64)
    cost[core.arc_item, agent_of_arc] = -core.weight.astype(np.float64)
    need[core.arc_item, agent_of_arc] = amount_of_arc
    arc_at[core.arc_item, agent_of_arc] = np.arange(core.n_arcs)
    cap = core.capacity.astype(np.float64)
    rng = np.random.default_rng(seed)
    rows = np.arange(n)

    x = agent_of_arc[start]  # agent per item
    load = np.bincount(x, weights=need[rows, x], minlength=m)
    cur_cost = float(cost[rows, x].sum())
    best_x, best_cost = x.copy(), cur_cost
    scale = float(np.abs(cost[cost < big]).mean()) / max(1.0, float(need[need < big].mean()))
    pen = np.full(m, max(scale, 1e-9))
    tabu = np.zeros((n, m), dtype=np.int64)  # iteration until which (item, agent) is tabu
    tenure = max(5, int(0.1 * n))
    it = 0
    last_best = 0
    deadline = budget.deadline
    while it < max_iter and (it % 32 or time.perf_counter() < deadline):
        it += 1
        over = np.maximum(0.0, load - cap)
        penalty = float(pen @ over)
        cur_obj = cur_cost + penalty
        # shift moves: item j from a = x[j] to agent b
        own_need = need[rows, x]
        la = load[x] - own_need  # load of a without j
        pen_a = pen[x] * (np.maximum(0.0, la - cap[x]) - over[x])
        lb = load[None, :] + need  # load of b with j
        pen_b = pen[None, :] * (np.maximum(0.0, lb - cap[None, :]) - over[None, :])
        d_shift = cost - cost[rows, x][:, None] + pen_a[:, None] + pen_b
        d_shift[rows, x] = np.inf
        d_shift[need >= big] = np.inf
        new_obj = cur_obj + d_shift
        allowed = (tabu <= it) | (cur_cost + (cost - cost[rows, x][:, None]) < best_cost - 1e-9)
        d_shift = np.where(allowed, d_shift, np.inf)
        j_s, b_s = np.unravel_index(int(np.argmin(d_shift)), d_shift.shape)
        best_shift = float(d_shift[j_s, b_s])
        # swap moves: item j (agent a) with item k (agent b), k from a sample
        k = rng.integers(0, n, size=(n, min(SWAP_PARTNERS, n)))
        a = x[:, None]
        b = x[k]
        valid = (
            (a != b) & (need[k, np.broadcast_to(a, k.shape)] < big) & (need[rows[:, None], b] < big)
        )
        nja, njb = need[rows[:, None], a], need[rows[:, None], b]
        nka, nkb = need[k, a], need[k, b]
        new_la = load[a] - nja + nka
        new_lb = load[b] - nkb + njb
        dp = pen[a] * (np.maximum(0.0, new_la - cap[a]) - over[a]) + pen[b] * (
            np.maximum(0.0, new_lb - cap[b]) - over[b]
        )
        dc = cost[rows[:, None], b] + cost[k, a] - cost[rows[:, None], a] - cost[k, b]
        d_swap = np.where(valid, dc + dp, np.inf)
        ok = (tabu[rows[:, None], b] <= it) & (tabu[k, a] <= it) | (
            cur_cost + dc < best_cost - 1e-9
        )
        d_swap = np.where(ok, d_swap, np.inf)
        j_w, kk = np.unravel_index(int(np.argmin(d_swap)), d_swap.shape)
        best_swap = float(d_swap[j_w, kk])
        if not np.isfinite(best_shift) and not np.isfinite(best_swap):
            break
        if best_shift <= best_swap:
            j, bb = int(j_s), int(b_s)
            aa = int(x[j])
            load[aa] -= need[j, aa]
            load[bb] += need[j, bb]
            cur_cost += float(cost[j, bb] - cost[j, aa])
            x[j] = bb
            tabu[j, aa] = it + tenure
        else:
            j, kx = int(j_w), int(k[j_w, kk])
            aa, bb = int(x[j]), int(x[kx])
            load[aa] += need[kx, aa] - need[j, aa]
            load[bb] += need[j, bb] - need[kx, bb]
            cur_cost += float(cost[j, bb] + cost[kx, aa] - cost[j, aa] - cost[kx, bb])
            x[j], x[kx] = bb, aa
            tabu[j, aa] = it + tenure
            tabu[kx, bb] = it + tenure
        del new_obj
        excess = load - cap
        if (excess <= 1e-9).all():
            if cur_cost < best_cost - 1e-9:
                best_x, best_cost = x.copy(), cur_cost
                last_best = it
                if target is not None and core.const - best_cost >= target - 1e-9:
                    break  # proven good enough: more steps cannot pay
            pen *= 0.9  # feasible: let the search cross the border again
        else:
            pen = np.where(excess > 1e-9, pen * 1.1, pen)
        # bounded both ways: a search that stays infeasible for thousands of
        # steps would otherwise grow the prices past the float range
        pen = np.clip(pen, 1e-9 * max(scale, 1.0), 1e12 * max(scale, 1.0))
        if STALL_STEPS and it - last_best >= STALL_STEPS:
            # kick: back to the best answer, a few items to random allowed agents
            x = best_x.copy()
            movers = rng.choice(n, size=max(1, int(KICK_SHARE * n)), replace=False)
            for j in movers.tolist():
                opts = np.flatnonzero(need[j] < big)
                x[j] = int(opts[rng.integers(0, opts.size)])
            load = np.bincount(x, weights=need[rows, x], minlength=m)
            cur_cost = float(cost[rows, x].sum())
            tabu[:] = 0
            last_best = it
    if stats is not None:
        stats["iterations"] = it
    out = arc_at[rows, best_x]
    return out if core.is_feasible(out) and core.value(out) >= core.value(start) else start
