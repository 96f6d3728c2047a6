"""Strategy ``mip``: the incumbents, an LP route chosen by size and time
(column and cut generation, PDLP, the plain LP, or none), the Lagrangian of
the budget rows where the LP does not fit, then HiGHS MIP (MathOpt) under a
hard deadline and (up to `cpsat.CPSAT_MAX_ARCS` free arcs) CP-SAT polishing
of the best answer in the last `POLISH_SHARE` of the time.  With two workers,
a small core and a long enough limit, HiGHS MIP searches the whole core
beside all of this from the start (side.py); the better answer and bound win."""

from __future__ import annotations

from typing import Any

from matcher.solution import SolveOptions
from matcher.solvers.budget import TimeBudget
from matcher.solvers.core import Core, IntArray
from matcher.solvers.mip import MipChild
from matcher.solvers.mip_model import AtLeast
from matcher.solvers.strategies import cpsat, lp_routes, parts, searches, side, steps
from matcher.solvers.strategies.base import Outcome
from matcher.solvers.tiers import split as split_tiers
from matcher.solvers.tiers import units_of

# Share of the time the MIP route leaves to CP-SAT polishing, and the least
# time left for which polishing is tried (docs/solver.md).
POLISH_SHARE = 0.25
POLISH_MIN_S = 2.0

# A warm-started small core: HiGHS for at most this many nodes, then CP-SAT on
# all but SMALL_CPSAT_KEEP of the time left, then HiGHS again (with presolve)
# without a limit (docs/solver.md, "Small re-solves"): the search's re-solves that
# HiGHS proves took at most 120 nodes, those it did not 10,000 nodes in 7 s
SMALL_MIP_NODES = 200
SMALL_CPSAT_KEEP = 0.5
# ... and CP-SAT for at most this long: where it cannot prove (the ceiling walk's
# re-solves of about 100 items, which HiGHS proves in 100 nodes), HiGHS goes on
SMALL_CPSAT_MAX_S = 2.0

# Problems with budget rows get the LP by column and cut generation
# (colgen.py) in the first COLGEN_SHARE of the time limit.
COLGEN = True
COLGEN_SHARE = 0.5
# ... when the plain LP would take at most this share of the time limit
# (at the measured LP rate): the restricted LPs take a few rounds, and a
# first round alone gives a bound far weaker than the Lagrangian one
COLGEN_MAX_LP_SHARE = 0.75

# ... and, on cores from PDLP_MIN_ARCS arcs (where PDLP can take over), only when the
# plain LP would take at most this share: on the families of benchmarks/families.py at
# 10k x 2k (124k arcs, 10 s) the loop did not converge in its half of the time and left
# gaps of 1.2-4.2 % where PDLP's route left 0.2-1.1 % (benchmarks/RESULTS.md, "Targets
# per family")
COLGEN_LARGE_MAX_LP_SHARE = 0.3

# The LP with cuts by PDLP (pdlp_lp.py) where the simplex LP does not fit:
# from this many arcs (measured from 54k up; below, the simplex or the
# Lagrangian alone), within this share of the time limit, and only when its
# time holds PDLP_MIN_ROUNDS rounds of the expected length (PDLP's first
# round took 1.0 s at 275k arcs, 4e-6 s per arc; docs/solver.md)
PDLP = True
PDLP_MIN_ARCS = 50_000
PDLP_SHARE = 0.7
PDLP_SECONDS_PER_ARC = 4e-6
PDLP_MIN_ROUNDS = 2

# After PDLP's route: the Lagrangian for this many steps (the first, from PDLP's prices,
# gave the bound on every family at 10k and 50k; the second's repair once a better
# answer), then parts of the problem solved again until its deadline (parts.py)
PARTS = True
LAGRANGE_STEPS_BEFORE_PARTS = 3

# Share of the time limit kept free after the sub-MIP on the LP's fractional
# items (for the steps after it and for assembling the answer).
FIX_MIP_RESERVE = 0.05


class MipStrategy:
    name = "mip"

    def __init__(self, with_parts: bool = True) -> None:
        # a part solved again (parts.py) must not be split into parts once more
        self.with_parts = with_parts

    def run(
        self, core: Core, options: SolveOptions, budget: TimeBudget, stats: dict[str, Any]
    ) -> Outcome:
        inc = steps.begin(core, options, stats)
        if inc.exact:
            return steps.exact_outcome(inc)
        # HiGHS on the whole core beside the route (side.py), from the first incumbents
        child = side.start(inc, options, budget, stats)
        try:
            opts, route_budget = (
                side.route_options(options, child),
                side.route_budget(budget, child),
            )
            out = self._route(inc, opts, route_budget, stats, child)
        except BaseException:
            if child is not None:
                # the route failed (e.g. proved the must-assign items infeasible): stop the child
                child.collect(0.0, "stopped: the route ended")
            raise
        out = side.merge(child, out, budget, stats)
        stats["bound_sources"] = {**inc.bounds, **bound_of(out)}
        return out

    def _route(
        self,
        inc: steps.Incumbents,
        options: SolveOptions,
        budget: TimeBudget,
        stats: dict[str, Any],
        child: MipChild | None,
    ) -> Outcome:
        _lp_route(inc, options, budget, stats, self.with_parts)
        best = steps.settle(inc, stats)
        if inc.done or budget.left() < steps.MIN_SEARCH_S or side.proved(child):
            # too little time to start a solver process, or the side search
            # proved its answer: the incumbent is the route's answer
            return inc.outcome(best)
        work, back, best = steps.reduced_cost_fixing(inc, best, stats)
        bound, source = inc.bound, inc.bound_source
        polish = inc.core.n_arcs <= cpsat.CPSAT_MAX_ARCS
        share = POLISH_SHARE if polish and budget.left() > POLISH_MIN_S else 0.0
        # a warm-started small core (a what-if's or a search's re-solve) gets HiGHS for
        # a number of nodes first: where its bound stalls (nearly equal weights and a
        # budget that fits a fraction of a child more) CP-SAT proves in a second what
        # HiGHS searched seven seconds for (docs/solver.md, "Small re-solves")
        staged = (
            polish
            and options.warm_start is not None
            and inc.core.n_arcs <= steps.INPROCESS_MAX_ARCS
            and budget.left() > POLISH_MIN_S
        )
        if staged:
            chosen, bound, source, proven = _small_stages(
                work, best, bound, source, options, budget, stats, share
            )
        else:
            chosen, bound, source, proven = searches.run_mip(
                work, best, bound, source, options, budget, stats,
                reserve_s=share * budget.left(),
            )  # fmt: skip
        if stats.get("highs_failed") and not polish and budget.left() > steps.MIN_SEARCH_S:
            polish = inc.core.n_arcs <= 4 * cpsat.CPSAT_MAX_ARCS  # a fallback beats no search
        if polish and not proven and budget.left() > steps.MIN_SEARCH_S and not side.proved(child):
            # CP-SAT's neighbourhood search polishes the MIP answer in the time
            # left (and finds a first answer fast when HiGHS found none)
            before = work.value(chosen) if chosen is not None else None
            chosen, bound, source, proven = searches.run_cpsat(
                work, chosen, bound, source, options, budget, stats
            )
            if before is not None and chosen is not None:
                stats["polish_gain"] = work.value(chosen) - before
        if back is not None and chosen is not None:
            chosen = steps.to_core(chosen, back)
        return Outcome(inc.core, chosen, bound, proven, source)


def _small_stages(
    work: Core,
    best: IntArray | None,
    bound: float | None,
    source: str,
    options: SolveOptions,
    budget: TimeBudget,
    stats: dict[str, Any],
    share: float,
) -> searches.Found:
    """HiGHS without presolve for `SMALL_MIP_NODES` nodes, CP-SAT for at most
    `SMALL_CPSAT_MAX_S`, then HiGHS with presolve for the rest (docs/solver.md,
    "Small re-solves"): a re-solve HiGHS's root proves only with presolve (one of 133
    needs: 1 node against more than 200) or only after 20,000 nodes (one of 49 needs,
    which CP-SAT does not prove in 30 s) ends in the last stage.  There HiGHS gets the
    rows of the objective's tiers when it has them (`searches.tier_rows`)."""
    chosen, bound, source, proven = searches.run_mip(
        work, best, bound, source, options, budget, stats,
        reserve_s=share * budget.left(), presolve=False, node_limit=SMALL_MIP_NODES,
    )  # fmt: skip
    if proven or stats.get("highs_failed"):
        return chosen, bound, source, proven
    stats["highs_node_limit"] = SMALL_MIP_NODES
    keep = max(SMALL_CPSAT_KEEP * budget.left(), budget.left() - SMALL_CPSAT_MAX_S)
    chosen, bound, source, proven = searches.run_cpsat(
        work, chosen, bound, source, options, budget, stats, reserve_s=keep
    )
    if proven or budget.left() <= steps.MIN_SEARCH_S:
        return chosen, bound, source, proven
    # an objective in tiers (tiers.py): each tier solved alone gives a row that every
    # optimal answer meets, and with it HiGHS's LP cannot trade part of a top-tier unit
    # for lower ones where a tier's weights lie close together (the 49 needs above:
    # 30 nodes with the row against 20,000 without)
    rows: list[AtLeast] = []
    hint = chosen
    tiers = split_tiers(work, units_of(work))
    if tiers is not None:
        stats["tiers_units"] = list(tiers.units)
        rows, hint = searches.tier_rows(
            work, tiers, chosen, budget, stats, node_limit=SMALL_MIP_NODES
        )
    found = searches.run_mip(
        work, hint, bound, source, options, budget, stats,
        reserve_s=share * budget.left(), presolve=True, at_least=rows,
    )  # fmt: skip
    return (_better(work, chosen, found[0]), *found[1:])


def _better(core: Core, a: IntArray | None, b: IntArray | None) -> IntArray | None:
    """The answer worth more (`a` on a tie)."""
    if a is None or (b is not None and core.value(b) > core.value(a)):
        return b
    return a


def bound_of(out: Outcome) -> dict[str, float]:
    return {} if out.bound is None else {out.bound_source: out.bound}


def _lp_route(
    inc: steps.Incumbents,
    opts: SolveOptions,
    budget: TimeBudget,
    stats: dict[str, Any],
    with_parts: bool = True,
) -> None:
    """The LP route by size and time, then the Lagrangian where no LP
    fitted (or HiGHS would not fit after it); sets `inc.done` when no MIP
    search pays after these steps."""
    core = inc.core
    # a warm-started small MIP (a what-if re-solve) skips the separate LP:
    # HiGHS solves the same LP at its root, and the warm start is a better
    # hint than LP rounding there (docs/solver.md)
    if opts.warm_start is not None and core.n_arcs <= steps.INPROCESS_MAX_ARCS:
        return
    # budget rows: the LP by column and cut generation (colgen.py), whose
    # knapsack cuts close most of the plain LP's gap; GAP-like problems keep
    # the plain LP (no knapsack rows there, and their tuning was measured so)
    use_colgen = colgen_fits(core, budget.limit)
    # too large for the simplex in the time given: the LP with cuts by PDLP
    # gives the Lagrangian its prices (pdlp_lp.py). Its prices are worth
    # nothing without the flows after it: one priced by its first prices (the
    # answer), one by its last (the bound), and a step's worth of slack
    step_s = stats.get("flow_s", 0.0) + stats.get("heuristic_s", 0.0)
    pdlp_budget = budget.until(
        min(budget.at(PDLP_SHARE), budget.deadline - _answer_margin(budget) - 3 * step_s)
    )
    use_pdlp = (
        not use_colgen
        and PDLP
        and core.n_arcs >= PDLP_MIN_ARCS
        and not steps.lp_worth_it(core, budget)
        and pdlp_budget.left() > PDLP_MIN_ROUNDS * _pdlp_round_s(core)
    )
    if use_colgen:
        lp_routes.colgen(
            inc,
            budget,
            stats,
            loop_budget=budget.until(budget.at(COLGEN_SHARE)),
            fix_reserve_s=FIX_MIP_RESERVE * budget.limit,
            workers=opts.workers,
        )
        if inc.lp is not None and budget.left() < steps.SEARCH_AFTER_LP_LPS * steps.lp_expected_s(
            inc.core
        ):
            # HiGHS would spend the time left on the LP at its root
            inc.done = True
    elif use_pdlp:
        lp_routes.pdlp(inc, opts, pdlp_budget, stats)
        # the Lagrangian below starts from these prices: its first flow is
        # both the bound of the prices and the LP-priced answer
        inc.done = True
    elif steps.lp_worth_it(core, budget):
        # HiGHS would spend the time left on re-solving the LP at its root
        inc.done = steps.plain_lp(inc, opts, budget, stats)
    if (
        (inc.lp is None or inc.done)
        and inc.core.n_arcs >= steps.LP_MIN_ARCS
        and budget.left() > steps.MIN_SEARCH_S
    ):
        # too large for the LP (or for HiGHS after the LP) in the time given
        until = budget.deadline - _answer_margin(budget, inc.core)
        if use_pdlp and PARTS and with_parts:
            # after PDLP the first steps give the bound; the time after them goes
            # to the answer, part by part (parts.py)
            lp_routes.lagrangian_prices(
                inc, budget.until(until), stats, max_steps=LAGRANGE_STEPS_BEFORE_PARTS
            )
            _parts(inc, opts, budget.until(until), stats)
        else:
            lp_routes.lagrangian_prices(inc, budget.until(until), stats)
        # after a failed LP (HiGHS error) the search still runs: its own
        # failure falls back to CP-SAT
        inc.done = inc.done or not inc.lp_tried


def _parts(
    inc: steps.Incumbents, opts: SolveOptions, budget: TimeBudget, stats: dict[str, Any]
) -> None:
    """The best answer with parts of the problem solved again by this strategy
    without parts (parts.py), with this solve's workers: PDLP's threads are done,
    and a part's route then runs its narrow sub-MIP on the second core
    (`lp_routes.EarlyNarrow`)."""
    best = inc.best_feasible()
    if best is None:
        return

    def solve_part(sub: Core, seconds: float) -> IntArray | None:
        part_opts = SolveOptions(
            time_limit_s=seconds,
            relative_gap=opts.relative_gap,
            workers=opts.workers,
            seed=opts.seed,
        )
        return MipStrategy(with_parts=False).run(sub, part_opts, TimeBudget(seconds), {}).chosen

    x = inc.lp.x if inc.lp is not None else None
    improved = parts.improve(inc.core, best, x, budget, solve_part, stats)
    inc.candidates.append(("parts solved again", improved))


def colgen_fits(core: Core, limit: float) -> bool:
    """Whether the LP by column and cut generation is the LP route for `core` with
    `limit` seconds (else PDLP or the plain LP, by size)."""
    if not COLGEN or core.n_arcs < steps.LP_MIN_ARCS:
        return False
    share = COLGEN_MAX_LP_SHARE if core.n_arcs < PDLP_MIN_ARCS else COLGEN_LARGE_MAX_LP_SHARE
    return steps.lp_expected_s(core) <= share * limit


def _pdlp_round_s(core: Core) -> float:
    return 0.2 + core.n_arcs * PDLP_SECONDS_PER_ARC


def _answer_margin(budget: TimeBudget, core: Core | None = None) -> float:
    """Time kept for settling and assembling the answer after the Lagrangian or
    the parts: by the core's size where it is known, never more than a share of
    the limit (a core HiGHS takes in process, up to `steps.INPROCESS_MAX_ARCS`
    arcs, is assembled in hundredths of a second)."""
    if core is not None and core.n_arcs <= steps.INPROCESS_MAX_ARCS:
        return SMALL_ANSWER_MARGIN_S + SMALL_ANSWER_MARGIN_SHARE * budget.limit
    share = 0.3 + 0.06 * budget.limit
    if core is None:
        return share
    return min(share, ANSWER_MARGIN_S + ANSWER_MARGIN_PER_ARC * core.n_arcs)


SMALL_ANSWER_MARGIN_S = 0.1
SMALL_ANSWER_MARGIN_SHARE = 0.02
# the time from the end of the route to the answer returned (settling the incumbents,
# assembling the solution) was 0.09 s at 124,000 arcs and 0.58 s at 623,000 (bundles
# 10k x 2k and 50k x 5k, a quiet machine, s37): 2.5 times that rate, where the share of
# the limit above kept 0.9 s at 10 s and 3.9 s at 60 s, up to 1.5 s of them unused
ANSWER_MARGIN_S = 0.15
ANSWER_MARGIN_PER_ARC = 2.5e-6
