"""Fast primal heuristics on a `Core`: repair an over-full choice, refill greedily.

These give every strategy a feasible incumbent within a fraction of a second:
the min-cost-flow relaxation (budgets dropped) repaired to feasibility, or an
earlier solution (warm start) repaired the same way.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from matcher.solvers.core import Core, IntArray


def repair(core: Core, chosen: IntArray) -> IntArray:
    """Drop chosen arcs until no resource is over capacity.

    Per over-full resource (canonical order), the chosen arcs using it leave
    in order of least weight per unit of that resource, optional items before
    must-assign items.  Dropping never raises another resource's use, so one
    pass suffices.
    """
    chosen = chosen.copy()
    use = core.usage_exact(chosen)
    over = np.flatnonzero(use > core.capacity)
    if over.size == 0:
        return chosen
    sel = np.zeros(core.n_arcs, dtype=bool)
    sel[chosen[chosen >= 0]] = True
    use_arc = core.use_arc()
    mask = sel[use_arc] & (use > core.capacity)[core.use_res]
    ent_arc, ent_res, ent_amt = use_arc[mask], core.use_res[mask], core.use_amount[mask]
    must_arc = core.must[core.arc_item[ent_arc]]
    ratio = core.weight[ent_arc] / np.maximum(ent_amt, 1)
    o = np.lexsort((ent_arc, ratio, must_arc, ent_res))
    ent_arc, ent_res = ent_arc[o], ent_res[o]
    ptr, res_l, amt_l = core.use_ptr, core.use_res, core.use_amount
    cap = core.capacity
    use_l = use.tolist()
    dropped = np.zeros(core.n_arcs, dtype=bool)
    for a, r in zip(ent_arc.tolist(), ent_res.tolist(), strict=True):
        if use_l[r] <= cap[r] or dropped[a]:
            continue
        dropped[a] = True
        for k in range(int(ptr[a]), int(ptr[a + 1])):
            use_l[int(res_l[k])] -= int(amt_l[k])
    it = core.arc_item[np.flatnonzero(dropped)]
    chosen[it] = -1
    return chosen


def refill(core: Core, chosen: IntArray, order: npt.NDArray[np.float64] | None = None) -> IntArray:
    """Give unassigned items the best arc that still fits, must-assign first.

    Optional items only take arcs with a positive weight (weight 0 changes
    nothing).  Arcs are tried in order of (must-assign first, weight
    descending, canonical index), so the result is deterministic.  `order`
    replaces the weight as the sort key (e.g. weights priced by budget duals).
    """
    chosen = chosen.copy()
    free = chosen < 0
    cand = np.flatnonzero(free[core.arc_item])
    if cand.size == 0:
        return chosen
    must = core.must[core.arc_item[cand]]
    cand = cand[must | (core.weight[cand] > 0)]
    if cand.size == 0:
        return chosen
    must = core.must[core.arc_item[cand]]
    key = core.weight[cand] if order is None else order[cand]
    o = np.lexsort((cand, -key, ~must))
    cand = cand[o]
    slack = (core.capacity - core.usage_exact(chosen)).tolist()
    ptr = core.use_ptr.tolist()
    res_l = core.use_res.tolist()
    amt_l = core.use_amount.tolist()
    item_l = core.arc_item.tolist()
    taken = (~free).tolist()
    for a in cand.tolist():
        i = item_l[a]
        if taken[i]:
            continue
        lo, hi = ptr[a], ptr[a + 1]
        fits = True
        for k in range(lo, hi):
            if slack[res_l[k]] < amt_l[k]:
                fits = False
                break
        if not fits:
            continue
        for k in range(lo, hi):
            slack[res_l[k]] -= amt_l[k]
        taken[i] = True
        chosen[i] = a
    return chosen


def improve_moves(core: Core, chosen: IntArray, rounds: int = 2) -> IntArray:
    """Move assigned items to a better arc that fits (first improvement).

    A cheap local search after refill: each round visits items in canonical
    order and moves an item to its best arc whose extra use fits the slack.
    """
    chosen = chosen.copy()
    slack = (core.capacity - core.usage_exact(chosen)).tolist()
    ptr = core.use_ptr.tolist()
    res_l = core.use_res.tolist()
    amt_l = core.use_amount.tolist()
    w = core.weight.tolist()
    iptr = core.item_ptr.tolist()
    ch = chosen.tolist()
    for _ in range(rounds):
        moved = False
        for i in range(core.n_items):
            cur = ch[i]
            if cur < 0:
                continue
            best, best_w = -1, w[cur]
            for a in range(iptr[i], iptr[i + 1]):
                if w[a] <= best_w:
                    continue
                # extra use of a once cur is released
                ok = True
                for k in range(ptr[a], ptr[a + 1]):
                    need = amt_l[k]
                    r = res_l[k]
                    for k2 in range(ptr[cur], ptr[cur + 1]):
                        if res_l[k2] == r:
                            need -= amt_l[k2]
                    if need > slack[r]:
                        ok = False
                        break
                if ok:
                    best, best_w = a, w[a]
            if best >= 0:
                for k in range(ptr[cur], ptr[cur + 1]):
                    slack[res_l[k]] += amt_l[k]
                for k in range(ptr[best], ptr[best + 1]):
                    slack[res_l[k]] -= amt_l[k]
                ch[i] = best
                moved = True
        if not moved:
            break
    return np.asarray(ch, dtype=np.int64)


def repair_and_fill(
    core: Core, chosen: IntArray, order: npt.NDArray[np.float64] | None = None
) -> IntArray:
    out = refill(core, repair(core, chosen), order)
    if bool(np.any(core.must & (out < 0))):
        out = place_must(core, out, order)
    return out


def priced_weight(core: Core, prices: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Arc weight minus the priced use of its resources (Lagrangian weight)."""
    cost = np.bincount(
        core.use_arc(), weights=prices[core.use_res] * core.use_amount, minlength=core.n_arcs
    )
    out: npt.NDArray[np.float64] = core.weight.astype(np.float64) - cost
    return out


def from_lp(core: Core, x: npt.NDArray[np.float64], prices: npt.NDArray[np.float64]) -> IntArray:
    """LP rounding: keep the arcs at 1, then repair and refill by LP value and price."""
    chosen = np.full(core.n_items, -1, dtype=np.int64)
    one = np.flatnonzero(x > 1 - 1e-6)
    chosen[core.arc_item[one]] = one
    key = x * 1e9 + priced_weight(core, prices)
    return repair_and_fill(core, chosen, key)


def place_must(
    core: Core, chosen: IntArray, order: npt.NDArray[np.float64] | None = None
) -> IntArray:
    """Place unassigned must-assign items, moving one blocking item if needed.

    For each unplaced must-assign item (canonical order) try its arcs by
    `order` (default: weight), first where it fits as is, then after moving
    one item that uses the arc's resources to another of its arcs where that
    item fits.  The move losing the least weight wins.  This turns LP
    rounding on GAP-like problems into a feasible answer in most cases.
    """
    chosen = chosen.copy()
    key = core.weight.astype(np.float64) if order is None else order
    todo = np.flatnonzero(core.must & (chosen < 0))
    if todo.size == 0 or todo.size > max(20, core.n_items // 20):
        # many unplaced items: one-item moves will not fix it, and the search
        # below would cost seconds (the caller falls back to CP-SAT or HiGHS)
        return chosen
    slack = (core.capacity - core.usage_exact(chosen)).tolist()
    ptr = core.use_ptr.tolist()
    res_l = core.use_res.tolist()
    amt_l = core.use_amount.tolist()
    w = core.weight.tolist()
    iptr = core.item_ptr.tolist()
    ch = chosen.tolist()
    # items currently using each resource
    users: dict[int, set[int]] = {}
    for i, a in enumerate(ch):
        if a >= 0:
            for k in range(ptr[a], ptr[a + 1]):
                users.setdefault(res_l[k], set()).add(i)

    def fits(a: int, freed: dict[int, int]) -> bool:
        return all(
            slack[res_l[k]] + freed.get(res_l[k], 0) >= amt_l[k] for k in range(ptr[a], ptr[a + 1])
        )

    def take(i: int, a: int, sign: int) -> None:
        for k in range(ptr[a], ptr[a + 1]):
            slack[res_l[k]] -= sign * amt_l[k]
            if sign > 0:
                users.setdefault(res_l[k], set()).add(i)
            else:
                users.get(res_l[k], set()).discard(i)

    for j in todo.tolist():
        arcs = sorted(range(iptr[j], iptr[j + 1]), key=lambda a: (-key[a], a))
        done = False
        for a in arcs:
            if fits(a, {}):
                take(j, a, 1)
                ch[j] = a
                done = True
                break
        if done:
            continue
        best: tuple[float, int, int, int] | None = None  # (loss, a, k, b)
        for a in arcs:
            blockers = set()
            for kk in range(ptr[a], ptr[a + 1]):
                if slack[res_l[kk]] < amt_l[kk]:
                    blockers |= users.get(res_l[kk], set())
            for k in sorted(blockers):
                cur = ch[k]
                freed = {res_l[q]: amt_l[q] for q in range(ptr[cur], ptr[cur + 1])}
                if not fits(a, freed):
                    continue
                for b in range(iptr[k], iptr[k + 1]):
                    if b == cur:
                        continue
                    # b must fit once k left cur and j took a
                    need: dict[int, int] = {}
                    for q in range(ptr[b], ptr[b + 1]):
                        need[res_l[q]] = need.get(res_l[q], 0) + amt_l[q]
                    ok = True
                    for r, q in need.items():
                        s = slack[r] + freed.get(r, 0)
                        for qa in range(ptr[a], ptr[a + 1]):
                            if res_l[qa] == r:
                                s -= amt_l[qa]
                        if s < q:
                            ok = False
                            break
                    if not ok:
                        continue
                    loss = (w[cur] - w[b]) - w[a]
                    if best is None or (loss, a, k, b) < best:
                        best = (loss, a, k, b)
        if best is not None:
            _, a, k, b = best
            take(k, ch[k], -1)
            take(k, b, 1)
            ch[k] = b
            take(j, a, 1)
            ch[j] = a
    return np.asarray(ch, dtype=np.int64)
