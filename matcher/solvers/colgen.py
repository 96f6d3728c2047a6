"""A strong LP bound fast: restricted LP, column generation and knapsack cuts.

Two weaknesses of the plain LP on matching problems with budget rows:

- it is slow: HiGHS needs seconds for a few hundred thousand arcs, while
  almost all of them stay at zero;
- it is weak: a budget row over a few options with a handful of places each
  (a provider's contract volume over its offerings) is filled fractionally,
  one child's worth per row, and that adds up to about 1 % of the objective
  on generated instances (docs/solver.md).

This module answers both.  It solves the LP over a restricted set of arcs
(the best few per item at the current prices), prices every arc with the
duals and adds the arcs that could improve it (column generation).  Any
prices give a valid bound (`dual_bound`), so every round yields one, whether
or not the column generation has converged.

It also adds *knapsack cardinality cuts*.  A budget row ``r`` is a knapsack
row when every arc on it has a primary resource ``k`` (its option's places),
used by a positive whole amount ``u`` (1, or 2-3 for a family that takes 2-3
places), and an amount on ``r`` that is ``a_k`` per unit of ``k``, the same
``a_k`` for all arcs of that primary.  With ``n_k`` the units of ``k`` that the
chosen arcs on ``r`` through ``k`` take, every answer satisfies ``n_k <=
cap_k`` and ``sum a_k n_k <= B_r`` in integers, so for a set ``T`` of
primaries ``sum_{k in T} n_k <= beta_T``, the most units of ``T`` the budget
pays for (cheapest first, which is exact for a count).  These rows (amount
``u`` per arc) are valid for every integer answer and cut off the LP's
fractional fill.  Only cuts the LP point violates are added, the most
violated first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from matcher.solvers.budget import TimeBudget
from matcher.solvers.core import BoolArray, Core, IntArray

FloatArray = npt.NDArray[np.float64]

# cuts over at most this many primaries (the most used by the LP point):
# 2**K subsets are tried per row and round; 12 left seed 4 of the 1k
# benchmark 0.13 % above its optimum, 14 closes that (docs/solver.md)
MAX_CUT_OPTIONS = 14

# rows over more primaries than this get no cuts: on generated instances
# their cuts (a gemeente's budget over all its offerings) moved the bound by
# nothing and cost LP rounds (docs/solver.md)
MAX_ROW_OPTIONS = 16

# per knapsack row and round, at most this many violated cuts (most violated first)
CUTS_PER_ROW = 8

# a cut or column counts as violated above these tolerances
CUT_TOL = 1e-4
COL_TOL = 1e-6

# stop when the best bound improved by less than STALL_TOL (relative) over
# the last STALL_ROUNDS rounds and no cut is violated (only columns to add)
STALL_TOL = 2e-5
STALL_ROUNDS = 2
# ... once this share of the loop's budget is spent: before, the rounds are
# cheap against the time left, and a stalled loop's bound lay a few units
# above the plain LP where one more round converged (family late at 1k x 200)
STALL_MIN_SHARE = 0.5

# arcs per item in the first restricted LP (best priced weight first)
FIRST_ARCS_PER_ITEM = 4

# HiGHS presolve on the restricted LPs: off was 5-10 % faster per loop at 1k
# (three seeds, two runs each; docs/solver.md)
LP_PRESOLVE = False

# new arcs per item and round (best priced weight first)
NEW_ARCS_PER_ITEM = 4


@dataclass(frozen=True)
class KnapsackRow:
    row: int
    prim: IntArray  # primary resources of the row's arcs, sorted
    amount: IntArray  # amount on `row` per primary
    cap: IntArray  # capacity per primary
    budget: int


@dataclass
class LoopResult:
    core: Core  # the core with the cuts added (same arcs, more resources)
    bound: float  # max form, valid for every integer answer
    prices: FloatArray  # resource prices (duals) of the best bound, per resource of `core`
    x: FloatArray | None  # last restricted LP point over all arcs (zero outside)
    reduced_costs: FloatArray  # per arc: priced weight minus its item's price (<= 0)
    columns: npt.NDArray[np.bool_] | None = None  # the arcs of the last restricted LP
    # the last restricted LP's optimum when the loop converged: then it is the
    # LP over all arcs with the cuts, as valid as a plain LP's optimum and
    # free of the rounding that big capacities times slightly-off prices
    # put into `bound` (a few units above the LP on 2 million)
    lp_value: float | None = None
    stats: dict[str, Any] = field(default_factory=dict)


def item_max(core: Core, values: FloatArray) -> FloatArray:
    """Per item the largest of `values` over its arcs (-inf for no arcs)."""
    out = np.full(core.n_items, -np.inf)
    has = np.diff(core.item_ptr) > 0
    if values.size:
        starts = core.item_ptr[:-1][has]
        out[has] = np.maximum.reduceat(values, starts)
    return out


def dual_bound(core: Core, prices: FloatArray) -> tuple[float, FloatArray, FloatArray]:
    """The Lagrangian bound for resource prices >= 0, with every item taking its
    best priced arc (or none, when optional): valid for any prices.

    Returns the bound (max form), the item prices and the priced weights."""
    from matcher.solvers.heuristics import priced_weight

    pw = priced_weight(core, prices)
    best = item_max(core, pw)
    mu = np.where(core.must, best, np.maximum(best, 0.0))
    mu[~np.isfinite(mu)] = 0.0
    cap = core.capacity.astype(np.float64)
    return core.const + float(mu.sum()) + float(prices @ cap), mu, pw


def cut_primary(core: Core) -> tuple[IntArray, IntArray]:
    """Per arc the resource its cuts count (-1 for none) and the arc's amount on it.

    The flow's primary (the tightest resource with amount 1 only) where there
    is one; else the arc's resource of least capacity among those it uses by a
    positive amount (not a cut): on the `bundles` family a family's arc takes
    2-3 places of its offering, so the place resource is not a unit one and
    its provider rows got no cuts at all before.  Only arcs without a flow
    primary get another one, and every row they use was no knapsack row
    before (an arc without a primary spoilt it), so no row loses its cuts."""
    from matcher.solvers.flow import primary_resource

    prim = primary_resource(core)
    ua = core.use_arc()
    n_cut0 = core.n_resources - core.n_cuts
    ok = (core.use_res < n_cut0) & (core.use_amount > 0) & (prim[ua] < 0)
    arcs, res = ua[ok], core.use_res[ok]
    if arcs.size:
        o = np.lexsort((res, core.capacity[res], arcs))
        arcs, res = arcs[o], res[o]
        first = np.r_[True, arcs[1:] != arcs[:-1]]
        prim[arcs[first]] = res[first]
    # the arc's amount on its primary (1 for the flow's unit primaries)
    on_prim = core.use_res == prim[ua]
    prim_amt = np.zeros(core.n_arcs, dtype=np.int64)
    prim_amt[ua[on_prim]] = core.use_amount[on_prim]
    prim[prim_amt <= 0] = -1
    return prim, prim_amt


def knapsack_rows(
    core: Core, primary: tuple[IntArray, IntArray] | None = None
) -> list[KnapsackRow]:
    """The budget rows that can get cardinality cuts (module docstring);
    `primary` is `cut_primary(core)` when the caller has it."""
    prim, prim_amt = primary if primary is not None else cut_primary(core)
    ua = core.use_arc()
    total = np.bincount(core.use_res, weights=core.use_amount, minlength=core.n_resources)
    is_prim = np.zeros(core.n_resources, dtype=bool)
    is_prim[prim[prim >= 0]] = True
    cand = (total > core.capacity) & ~is_prim
    cand[core.n_resources - core.n_cuts :] = False
    m = cand[core.use_res]
    row, arc, amt = core.use_res[m], ua[m], core.use_amount[m]
    pk, pu = prim[arc], np.maximum(prim_amt[arc], 1)
    bad = np.zeros(core.n_resources, dtype=bool)
    bad[row[pk < 0]] = True
    # a negative amount gives budget back and "cheapest first" no longer
    # bounds the count (problem validation rejects them; a core built
    # without it still must not get invalid cuts)
    bad[row[amt <= 0]] = True
    # the row's amount must be a whole amount per unit of the primary: the
    # count of units then meets a knapsack with whole weights
    bad[row[amt % pu != 0]] = True
    ok = ~bad[row]
    row, pk, amt = row[ok], pk[ok], amt[ok] // pu[ok]
    out: list[KnapsackRow] = []
    if row.size == 0:
        return out
    # distinct (row, primary, amount): a primary with two amounts spoils its row
    # (a lexsort and a diff: np.unique over rows took 0.7 s at 10k x 2k)
    o = np.lexsort((amt, pk, row))
    trip = np.stack([row[o], pk[o], amt[o]], axis=1)
    trip = trip[np.r_[True, np.any(trip[1:] != trip[:-1], axis=1)]]
    two = np.r_[False, (trip[1:, 0] == trip[:-1, 0]) & (trip[1:, 1] == trip[:-1, 1])]
    bad[trip[two, 0]] = True
    trip = trip[~bad[trip[:, 0]]]
    if trip.size == 0:
        return out
    starts = np.flatnonzero(np.r_[True, trip[1:, 0] != trip[:-1, 0]])
    ends = np.r_[starts[1:], trip.shape[0]]
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        if e - s > MAX_ROW_OPTIONS:
            continue
        r = int(trip[s, 0])
        ks = trip[s:e, 1]
        out.append(KnapsackRow(r, ks, trip[s:e, 2], core.capacity[ks], int(core.capacity[r])))
    return out


def _bits(masks: IntArray, k: int) -> npt.NDArray[np.bool_]:
    """Per mask, which of the k members it holds."""
    out: npt.NDArray[np.bool_] = ((masks[:, None] >> np.arange(k)) & 1).astype(bool)
    return out


def cardinality_beta(amount: IntArray, cap: IntArray, budget: int, masks: IntArray) -> IntArray:
    """Per subset (bit mask over the primaries) the most arcs the budget pays
    for: cheapest first, which is exact for a count."""
    bits = _bits(masks, amount.size)
    left = np.full(masks.size, budget, dtype=np.int64)
    count = np.zeros(masks.size, dtype=np.int64)
    for j in np.argsort(amount, kind="stable"):
        a = max(int(amount[j]), 1)
        t = np.where(bits[:, j], np.minimum(cap[j], left // a), 0)
        count += t
        left -= t * a
    return count


def separate(
    core: Core,
    krows: list[KnapsackRow],
    x: FloatArray,
    per_row: int = CUTS_PER_ROW,
    min_violation: float = CUT_TOL,
    primary: tuple[IntArray, IntArray] | None = None,
) -> list[tuple[int, IntArray, int]]:
    """Cardinality cuts violated by the LP point `x`: (row, primaries, beta).

    Per row only subsets of the primaries the LP uses are tried (a primary at
    zero never makes a cut more violated), at most `MAX_CUT_OPTIONS` of them
    (the most used)."""
    if not krows:
        return []
    prim, prim_amt = primary if primary is not None else cut_primary(core)
    ua = core.use_arc()
    rows = np.array([kr.row for kr in krows], dtype=np.int64)
    pos = np.full(core.n_resources, -1, dtype=np.int64)
    pos[rows] = np.arange(rows.size)
    m = (pos[core.use_res] >= 0) & (x[ua] > 1e-9)
    key_row, key_prim = pos[core.use_res[m]], prim[ua[m]]
    val = x[ua[m]] * prim_amt[ua[m]]  # units of the primary
    n_by: dict[tuple[int, int], float] = {}
    for kr_i, kp, v in zip(key_row.tolist(), key_prim.tolist(), val.tolist(), strict=True):
        n_by[(kr_i, kp)] = n_by.get((kr_i, kp), 0.0) + v
    out: list[tuple[int, IntArray, int]] = []
    for i, kr in enumerate(krows):
        n = np.array([n_by.get((i, int(k)), 0.0) for k in kr.prim])
        # the row must be (nearly) full for a cut to be violated
        if float(n @ kr.amount) < 0.5 * kr.budget:
            continue
        sup = np.flatnonzero(n > 1e-9)
        if sup.size > MAX_CUT_OPTIONS:
            sup = np.sort(sup[np.argsort(-n[sup], kind="stable")[:MAX_CUT_OPTIONS]])
        if sup.size == 0:
            continue
        masks = np.arange(1, 2**sup.size, dtype=np.int64)
        beta = cardinality_beta(kr.amount[sup], kr.cap[sup], kr.budget, masks)
        bits = _bits(masks, sup.size)
        viol = bits @ n[sup] - beta
        hit = np.flatnonzero(viol > min_violation)
        if hit.size == 0:
            continue
        size = bits[hit].sum(axis=1)
        for h in hit[np.lexsort((size, -viol[hit]))][:per_row]:
            sel = kr.prim[sup[bits[h]]]
            out.append((kr.row, sel, int(beta[h])))
    return out


def with_cuts(
    core: Core,
    cuts: list[tuple[int, IntArray, int]],
    primary: tuple[IntArray, IntArray] | None = None,
) -> Core:
    """The core with one more resource per cut: on every arc that uses the
    cut's row through one of its primaries, the arc's amount on that primary
    (its units); capacity beta."""
    if not cuts:
        return core
    prim, prim_amt = primary if primary is not None else cut_primary(core)
    ua = core.use_arc()
    n_r = core.n_resources
    # one key per (row, primary) of every cut, sorted: each use of a cut row
    # finds the cuts it belongs to by binary search, so the cost is one pass
    # over the uses and not one per cut (thousands of cuts at 10k x 2k)
    sizes = np.array([ks.size for _, ks, _ in cuts], dtype=np.int64)
    key_cut = np.repeat(np.arange(len(cuts), dtype=np.int64), sizes)
    key = np.repeat(np.array([r for r, _, _ in cuts], dtype=np.int64), sizes) * (n_r + 1) + (
        np.concatenate([ks for _, ks, _ in cuts]).astype(np.int64)
    )
    o = np.lexsort((key_cut, key))
    key, key_cut = key[o], key_cut[o]
    on_row = np.isin(core.use_res, np.unique(np.array([r for r, _, _ in cuts])))
    u_arc = ua[on_row]
    u_key = core.use_res[on_row] * (n_r + 1) + prim[u_arc]
    lo = np.searchsorted(key, u_key, side="left")
    cnt = np.searchsorted(key, u_key, side="right") - lo
    new_arc = np.repeat(u_arc, cnt)
    first = np.repeat(lo - (np.cumsum(cnt) - cnt), cnt)
    new_res = n_r + key_cut[first + np.arange(new_arc.size)]
    o = np.lexsort((new_res, new_arc))
    arc = np.concatenate([ua, new_arc[o]])
    res = np.concatenate([core.use_res, new_res[o]])
    amt = np.concatenate([core.use_amount, prim_amt[new_arc[o]]])
    # old uses first and in their order within an arc, then the cuts by
    # number; both runs are sorted by arc, so the stable sort is a merge
    o = np.argsort(arc, kind="stable")
    ptr = np.zeros(core.n_arcs + 1, dtype=np.int64)
    np.cumsum(np.bincount(arc, minlength=core.n_arcs), out=ptr[1:])
    return replace(
        core,
        use_ptr=ptr,
        use_res=res[o],
        use_amount=amt[o],
        res_orig=np.concatenate([core.res_orig, np.full(len(cuts), -1, dtype=np.int64)]),
        capacity=np.concatenate([core.capacity, np.array([b for _, _, b in cuts], dtype=np.int64)]),
        n_cuts=core.n_cuts + len(cuts),
    )


def top_per_item(core: Core, score: FloatArray, k: int, among: npt.NDArray[np.bool_]) -> IntArray:
    """Per item the (up to) k arcs with the highest score among `among`."""
    arcs = np.flatnonzero(among)
    if arcs.size == 0:
        return arcs
    o = np.lexsort((arcs, -score[arcs], core.arc_item[arcs]))
    arcs = arcs[o]
    items = core.arc_item[arcs]
    first = np.searchsorted(items, items, side="left")
    rank = np.arange(arcs.size) - first
    return arcs[rank < k]


def new_columns(
    core: Core, pw: FloatArray, in_lp: npt.NDArray[np.bool_], per_item: int = NEW_ARCS_PER_ITEM
) -> IntArray:
    """Column pricing: the arcs outside the restricted LP whose priced weight
    `pw` lies above their item's best arc inside it (or above 0 for an
    optional item), at most `per_item` per item, best first."""
    mu_lp = item_max(core, np.where(in_lp, pw, -np.inf))
    mu_lp = np.where(core.must, mu_lp, np.maximum(mu_lp, 0.0))
    better = ~in_lp & (pw > mu_lp[core.arc_item] + COL_TOL)
    return top_per_item(core, pw, per_item, better)


def lp_loop(
    core: Core,
    *,
    budget: TimeBudget,
    prices: FloatArray | None = None,
    keep: IntArray | None = None,
    cuts: bool = True,
    in_process_max_arcs: int = 20_000,
    after_round: Callable[[int, Core, FloatArray, BoolArray, FloatArray], None] | None = None,
) -> LoopResult | None:
    """Rounds of restricted LP, column pricing and cut separation until the
    LP over all arcs and violated cuts is solved or the `budget` ends; None
    when not even one round fits.

    `prices` (per resource of `core`) choose the first arcs; `keep` are arcs
    always in the restricted LP (an incumbent's).  `after_round(rounds, core,
    x, in_lp, prices)` is called after each round's LP, with the rounds so far,
    the core with the cuts found so far, the round's point on every arc, the
    restricted LP's arcs and the round's prices."""
    from matcher.solvers.mip import solve_mip

    t_start = time.perf_counter()
    # the cuts' primaries stay those of the core without cuts (a cut is never
    # one), so one computation serves every round
    primary = cut_primary(core)
    krows = knapsack_rows(core, primary) if cuts else []
    t_krows = time.perf_counter() - t_start
    lam = np.zeros(core.n_resources) if prices is None else prices.astype(np.float64).copy()
    _, _, pw = dual_bound(core, lam)
    in_lp = np.zeros(core.n_arcs, dtype=bool)
    in_lp[top_per_item(core, pw, FIRST_ARCS_PER_ITEM, np.ones(core.n_arcs, dtype=bool))] = True
    if keep is not None:
        in_lp[keep[keep >= 0]] = True
    best: LoopResult | None = None
    rounds = cols_added = cuts_added = 0
    last_lp_s = 0.0
    lp_s_total = 0.0
    converged = False
    trace: list[tuple[float, int, int]] = []
    while True:
        left = budget.left()
        if left <= max(0.05, 1.5 * last_lp_s):
            break
        sub, back = core.restrict(in_lp)
        t = time.perf_counter()
        r = solve_mip(
            sub, time_limit_s=left, relative_gap=0.0, relax=True, grace_s=0.05,
            in_process=sub.n_arcs <= in_process_max_arcs,
            presolve=LP_PRESOLVE,
        )  # fmt: skip
        last_lp_s = time.perf_counter() - t
        lp_s_total += last_lp_s
        if r.x is None or r.duals is None:
            break
        rounds += 1
        lam = np.asarray(r.duals, dtype=np.float64)
        bound, mu, pw = dual_bound(core, lam)
        x = np.zeros(core.n_arcs)
        x[back] = r.x
        rc = pw - mu[core.arc_item]
        trace.append((round(time.perf_counter() - t_start, 3), round(bound), sub.n_arcs))
        if best is None or bound < best.bound:
            best = LoopResult(core, bound, lam, x, rc)
        else:
            best.x = x  # the newest point separates best
        if after_round is not None:
            after_round(rounds, core, x, in_lp, lam)
        new_cols = new_columns(core, pw, in_lp)
        new_cuts = separate(core, krows, x, primary=primary) if krows else []
        if new_cols.size == 0 and not new_cuts:
            converged = True
            best.lp_value = r.primal
            break
        stalled = len(trace) > STALL_ROUNDS and trace[-1 - STALL_ROUNDS][
            1
        ] - best.bound <= STALL_TOL * abs(best.bound)
        if stalled and not new_cuts and budget.elapsed() >= STALL_MIN_SHARE * budget.limit:
            # the tail of column generation: rounds that move the bound by
            # next to nothing are worth less than the time they take
            break
        in_lp[new_cols] = True
        cols_added += int(new_cols.size)
        if new_cuts:
            core = with_cuts(core, new_cuts, primary)
            lam = np.concatenate([lam, np.zeros(len(new_cuts))])
            cuts_added += len(new_cuts)
            # the best bound's prices stay valid on the larger core (price 0 on the cuts)
            best = LoopResult(
                core, best.bound, np.concatenate([best.prices, np.zeros(len(new_cuts))]),
                best.x, best.reduced_costs,
            )  # fmt: skip
    if best is None:
        return None
    best.core = core
    best.columns = in_lp
    best.stats = {
        "lp_rounds": rounds,
        "lp_columns": int(in_lp.sum()),
        "lp_columns_added": cols_added,
        "lp_cuts": cuts_added,
        "lp_knapsack_rows": len(krows),
        "lp_converged": converged,
        "lp_solve_s": round(lp_s_total, 6),
        "lp_knapsack_rows_s": round(t_krows, 6),
        "lp_trace": trace,
    }
    return best
