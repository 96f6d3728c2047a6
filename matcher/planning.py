"""Capacity planning for inkoop: which purchases bring most children within the norm?

The model lives on the arc level (`AssignmentProblem`), so any layer that can
compile to arcs can feed it: the domain compile, or the synthetic regional
instance at the bottom of this module.  A candidate purchase adds places to
one or more resources per unit bought (a new release group of an offering,
or the places of a provider that has no contract yet and so starts at zero
capacity).  One MIP (HiGHS through OR-Tools MathOpt) holds both the purchase
variables and the assignment:

    maximise   sum_a x_a * ((n + 1) * within_norm_a + 1)
    subject to every item at most once, resources <= capacity + bought places,
               sum_p price_p * y_p <= budget,

i.e. first the number of children (needs) placed within the norm, then the
number placed at all; among those optima it spends as little as possible.
What each purchase buys is measured by re-solving without it (marginal
value), not guessed.  The naive rule "buy where the waiting list is
longest" is implemented for comparison.

Every random path takes an explicit seed (numpy Generator).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from matcher.problem import AssignmentProblem, Sense
from matcher.solution import SolveOptions, Status, verify
from matcher.solvers.mip import HIGHS_THREADS

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

CENTS_PER_MILLION_EURO = 100_000_000
EPS_SCALE = 0.4
# The objective weighs a child within the norm at (n + 1), so a 0.1 % gap
# leaves at most about one child within the norm on the table on regional
# instances; HiGHS reaches it in about a second where closing the gap fully
# took 36 s on a four-draw regional instance.
PLAN_OPTIONS = SolveOptions(time_limit_s=60.0, relative_gap=1e-3, workers=1)


class PlanningInputError(ValueError):
    """Raised with every problem in a planning input at once."""

    def __init__(self, issues: Sequence[str]) -> None:
        self.issues = tuple(issues)
        lines = "\n".join(f"  - {i}" for i in self.issues)
        super().__init__(f"{len(self.issues)} problem(s) in the planning input:\n{lines}")


@dataclass(frozen=True)
class CandidatePurchase:
    """Places that inkoop could buy: per unit, `adds` places to resources."""

    id: str
    provider: str
    care_type: str
    region: str
    price_cents: int
    adds: Mapping[str, int]
    max_units: int = 1
    available_on: date | None = None

    def to_record(self) -> dict[str, object]:
        return {
            "id": self.id,
            "provider": self.provider,
            "care_type": self.care_type,
            "region": self.region,
            "price_cents": self.price_cents,
            "places_per_unit": sum(self.adds.values()),
            "max_units": self.max_units,
            "available_on": None if self.available_on is None else self.available_on.isoformat(),
        }


@dataclass(frozen=True, eq=False)
class PlanningProblem:
    """An arc-level problem plus what planning needs to know about it.

    `within_norm[a]` says whether arc `a` starts help by the child's deadline.
    `item_care_type` / `item_region` name the waiting list an item is on (the
    naive rule counts them).  Resources that purchases add to must exist in
    `problem`, with the capacity there is without any purchase.
    """

    problem: AssignmentProblem
    within_norm: BoolArray
    candidates: tuple[CandidatePurchase, ...]
    item_care_type: tuple[str, ...]
    item_region: tuple[str, ...]
    meta: Mapping[str, object] = field(default_factory=dict)

    def issues(self) -> list[str]:
        p = self.problem
        out: list[str] = []
        if self.within_norm.shape[0] != p.n_arcs:
            out.append(f"within_norm has {self.within_norm.shape[0]} entries, expected {p.n_arcs}")
        for name, seq in (
            ("item_care_type", self.item_care_type),
            ("item_region", self.item_region),
        ):
            if len(seq) != p.n_items:
                out.append(f"{name} has {len(seq)} entries, expected {p.n_items}")
        res = p.resource_index()
        seen: set[str] = set()
        for c in self.candidates:
            if c.id in seen:
                out.append(f"purchase {c.id!r} is listed twice")
            seen.add(c.id)
            if c.price_cents < 0:
                out.append(f"purchase {c.id!r}: price {c.price_cents} is negative")
            if c.max_units < 0:
                out.append(f"purchase {c.id!r}: max_units {c.max_units} is negative")
            for r, q in c.adds.items():
                if r not in res:
                    out.append(f"purchase {c.id!r} adds to unknown resource {r!r}")
                if q < 0:
                    out.append(f"purchase {c.id!r} adds a negative amount to {r!r}")
        return out

    def validate(self) -> None:
        errs = self.issues()
        if errs:
            raise PlanningInputError(errs)

    def planning_values(self) -> IntArray:
        """Arc values of the planning objective: within norm first, then placed."""
        n = self.problem.n_items
        return self.within_norm.astype(np.int64) * (n + 1) + 1

    def with_units(
        self, units: Mapping[str, int], *, prefer: BoolArray | None = None
    ) -> AssignmentProblem:
        """The arc problem with `units` bought and planning values on the arcs.

        `prefer` marks arcs to keep where the optimum allows it (so that a
        re-solve changes only what it must, and the children it drops are the
        ones the purchase really unblocked).
        """
        p = self.problem
        cap = p.capacity.copy()
        ridx = p.resource_index()
        by_id = {c.id: c for c in self.candidates}
        for pid, k in units.items():
            if k <= 0:
                continue
            for r, q in by_id[pid].adds.items():
                cap[ridx[r]] += q * k
        value = self.planning_values()
        if prefer is not None:
            value = value * (p.n_items + 1) + prefer.astype(np.int64)
        return replace(
            p,
            capacity=cap,
            arc_value=value,
            sense=Sense.MAXIMIZE,
            unassigned_penalty=np.zeros(p.n_items, dtype=np.int64),
        )

    def spend(self, units: Mapping[str, int]) -> int:
        by_id = {c.id: c for c in self.candidates}
        return sum(by_id[p].price_cents * k for p, k in units.items() if k > 0)


@dataclass(frozen=True)
class Evaluation:
    """Children (needs) within the norm and placed for one set of purchases."""

    units: Mapping[str, int]
    spent_cents: int
    within_norm: int
    placed: int
    within_refs: frozenset[str]
    assignments: Mapping[str, str]
    status: Status


def evaluate(
    pp: PlanningProblem,
    units: Mapping[str, int],
    options: SolveOptions | None = None,
    *,
    prefer: BoolArray | None = None,
) -> Evaluation:
    """Best assignment once `units` are bought (one solve of the arc problem)."""
    from matcher.solve import solve

    prob = pp.with_units(units, prefer=prefer)
    sol = solve(prob, options or SolveOptions(time_limit_s=30.0, workers=1))
    if not sol.status.has_solution:
        raise RuntimeError(f"evaluation found no solution: {sol.status.value} {dict(sol.stats)}")
    verify(prob, sol)  # capacities, purchases and objective, checked independently
    arcs = _arcs_of(pp, sol.assignments)
    within = {prob.item_ids[int(i)] for i in prob.arc_item[arcs & pp.within_norm]}
    return Evaluation(
        units={k: v for k, v in units.items() if v > 0},
        spent_cents=pp.spend(units),
        within_norm=len(within),
        placed=len(sol.assignments),
        within_refs=frozenset(within),
        assignments=dict(sol.assignments),
        status=sol.status,
    )


@dataclass(frozen=True)
class PurchaseEffect:
    """What one chosen purchase buys, measured by re-solving without it."""

    purchase_id: str
    provider: str
    care_type: str
    region: str
    units: int
    spent_cents: int
    marginal_within_norm: int
    unblocked: tuple[str, ...]

    @property
    def cents_per_child(self) -> int | None:
        if self.marginal_within_norm <= 0:
            return None
        return self.spent_cents // self.marginal_within_norm

    def to_record(self) -> dict[str, object]:
        return {
            "purchase_id": self.purchase_id,
            "provider": self.provider,
            "care_type": self.care_type,
            "region": self.region,
            "units": self.units,
            "spent_cents": self.spent_cents,
            "marginal_within_norm": self.marginal_within_norm,
            "cents_per_child": self.cents_per_child,
            "unblocked": list(self.unblocked),
        }


@dataclass(frozen=True)
class PurchasePlan:
    """The advice: what to buy, what it costs, whom it brings within the norm."""

    rule: str
    budget_cents: int
    units: Mapping[str, int]
    spent_cents: int
    baseline_within_norm: int
    within_norm: int
    baseline_placed: int
    placed: int
    unblocked: tuple[str, ...]
    effects: tuple[PurchaseEffect, ...]
    proven_optimal: bool
    wall_time_s: float
    model_gap: float | None = None  # relative gap of the purchase model when it stopped

    @property
    def gained(self) -> int:
        return self.within_norm - self.baseline_within_norm

    @property
    def children_per_million_euro(self) -> float | None:
        if self.spent_cents <= 0:
            return None
        return self.gained * CENTS_PER_MILLION_EURO / self.spent_cents

    def to_record(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "budget_cents": self.budget_cents,
            "spent_cents": self.spent_cents,
            "units": dict(self.units),
            "baseline_within_norm": self.baseline_within_norm,
            "within_norm": self.within_norm,
            "gained": self.gained,
            "baseline_placed": self.baseline_placed,
            "placed": self.placed,
            "children_per_million_euro": self.children_per_million_euro,
            "unblocked": list(self.unblocked),
            "effects": [e.to_record() for e in self.effects],
            "proven_optimal": self.proven_optimal,
            "model_gap": self.model_gap,
            "wall_time_s": round(self.wall_time_s, 3),
        }


def _solve_purchase_mip(
    scenarios: Sequence[PlanningProblem], budget_cents: int, options: SolveOptions
) -> tuple[dict[str, int], bool, float, float]:
    """The purchase model as one MIP, solved by HiGHS through MathOpt.

    Purchase variables are shared by every scenario (e.g. today's list plus
    one draw of the inflow); each scenario has its own assignment variables
    and the objective sums over scenarios, so the purchases maximise the
    expected number within the norm (sample average).  The LP relaxation of
    assignment + knapsack is tight: HiGHS proves optimality in well under a
    second on regional instances where CP-SAT (tried first) only found good
    solutions within 20 s.  Spending is a
    tie-break inside one objective: `eps * spend` stays below 0.4, and the
    absolute gap of 0.5 can then never trade away a child within the norm.
    """
    from datetime import timedelta as _td

    from ortools.math_opt.python import mathopt

    cands = scenarios[0].candidates
    m = mathopt.Model(name="purchases")
    y = [m.add_integer_variable(lb=0, ub=c.max_units, name=f"y{k}") for k, c in enumerate(cands)]
    obj = mathopt.LinearExpression()
    terms: list[Any] = []
    for s, pp in enumerate(scenarios):
        p = pp.problem
        value = pp.planning_values()
        open_arcs = np.flatnonzero(~p.forbidden)
        x = {int(a): m.add_binary_variable(name=f"x{s}_{a}") for a in open_arcs}
        per_item: dict[int, list[Any]] = defaultdict(list)
        per_res: dict[int, list[tuple[Any, int]]] = defaultdict(list)
        for a, var in x.items():
            per_item[int(p.arc_item[a])].append(var)
            if p.pinned[a]:
                m.add_linear_constraint(var == 1)
            lo, hi = int(p.use_ptr[a]), int(p.use_ptr[a + 1])
            for u in range(lo, hi):
                per_res[int(p.use_resource[u])].append((var, int(p.use_amount[u])))
        for i, vs in per_item.items():
            expr = mathopt.fast_sum(vs)
            if p.must_assign[i]:
                m.add_linear_constraint(expr == 1)
            else:
                m.add_linear_constraint(expr <= 1)
        ridx = p.resource_index()
        extra: dict[int, list[tuple[Any, int]]] = defaultdict(list)
        for k, c in enumerate(cands):
            for rid, q in c.adds.items():
                extra[ridx[rid]].append((y[k], q))
        for ri in set(per_res) | set(extra):
            lhs = mathopt.fast_sum(q * v for v, q in per_res.get(ri, []))
            add = mathopt.fast_sum(q * v for v, q in extra.get(ri, []))
            m.add_linear_constraint(lhs - add <= int(p.capacity[ri]))
        terms.extend(float(value[a]) * var for a, var in x.items())
    spend = mathopt.fast_sum(c.price_cents * y[k] for k, c in enumerate(cands))
    m.add_linear_constraint(spend <= budget_cents)
    eps = EPS_SCALE / (budget_cents + 1)
    obj = mathopt.fast_sum(terms) - eps * spend
    m.maximize(obj)
    params = mathopt.SolveParameters(
        time_limit=_td(seconds=max(0.1, options.time_limit_s)),
        absolute_gap_tolerance=0.5,
        relative_gap_tolerance=max(0.0, options.relative_gap),
        random_seed=options.seed,
    )
    # HiGHS takes its thread count from its own options, not `threads`, and fixes
    # it for the whole process at the first solve: a count other than the solver's
    # would break every later HiGHS call in the same process (a web server).
    params.highs.int_options["threads"] = HIGHS_THREADS
    res = mathopt.solve(m, mathopt.SolverType.HIGHS, params=params)
    if not res.has_primal_feasible_solution():
        raise RuntimeError(f"purchase model found no solution ({res.termination.reason.name})")
    proven = res.termination.reason == mathopt.TerminationReason.OPTIMAL
    vals = res.variable_values()
    units = {c.id: round(vals[y[k]]) for k, c in enumerate(cands)}
    primal = float(res.objective_value())
    bound = float(res.termination.objective_bounds.dual_bound)
    return {k: v for k, v in units.items() if v > 0}, proven, primal, bound


def _arcs_of(pp: PlanningProblem, assignments: Mapping[str, str]) -> BoolArray:
    """Mask of the arcs an assignment uses (sorted keys, no per-arc dict)."""
    p = pp.problem
    items, opts = p.item_index(), p.option_index()
    n_opt = max(1, p.n_options)
    key = p.arc_item.astype(np.int64) * n_opt + p.arc_option
    order = np.argsort(key, kind="stable")
    want = np.fromiter(
        (items[it] * n_opt + opts[op] for it, op in assignments.items()),
        dtype=np.int64,
        count=len(assignments),
    )
    pos = np.searchsorted(key[order], want)
    if want.size and (
        np.any(pos >= key.size) or np.any(key[order][np.minimum(pos, key.size - 1)] != want)
    ):
        raise RuntimeError("an assignment uses an arc the problem does not have")
    mask = np.zeros(p.n_arcs, dtype=np.bool_)
    mask[order[pos]] = True
    return mask


def explain_units(
    pp: PlanningProblem,
    units: Mapping[str, int],
    *,
    rule: str,
    budget_cents: int,
    options: SolveOptions | None = None,
    proven_optimal: bool = False,
    started: float | None = None,
) -> PurchasePlan:
    """Evaluate `units` against buying nothing and measure each purchase."""
    t0 = time.perf_counter() if started is None else started
    opts = options or SolveOptions(time_limit_s=30.0, workers=1)
    full = evaluate(pp, units, opts)
    # Re-solves prefer the plan's own arcs, so the children they drop are the
    # ones the purchases really unblock, not an arbitrary tie.
    keep = _arcs_of(pp, full.assignments)
    base = evaluate(pp, {}, opts, prefer=keep)
    by_id = {c.id: c for c in pp.candidates}
    effects: list[PurchaseEffect] = []
    for pid, k in sorted(units.items()):
        if k <= 0:
            continue
        without = {q: n for q, n in units.items() if q != pid}
        ev = evaluate(pp, without, opts, prefer=keep)
        c = by_id[pid]
        effects.append(
            PurchaseEffect(
                purchase_id=pid,
                provider=c.provider,
                care_type=c.care_type,
                region=c.region,
                units=k,
                spent_cents=c.price_cents * k,
                marginal_within_norm=full.within_norm - ev.within_norm,
                unblocked=tuple(sorted(full.within_refs - ev.within_refs)),
            )
        )
    return PurchasePlan(
        rule=rule,
        budget_cents=budget_cents,
        units={k: v for k, v in sorted(units.items()) if v > 0},
        spent_cents=full.spent_cents,
        baseline_within_norm=base.within_norm,
        within_norm=full.within_norm,
        baseline_placed=base.placed,
        placed=full.placed,
        unblocked=tuple(sorted(full.within_refs - base.within_refs)),
        effects=tuple(effects),
        proven_optimal=proven_optimal,
        wall_time_s=time.perf_counter() - t0,
    )


def plan_purchases(
    pp: PlanningProblem,
    budget_cents: int,
    options: SolveOptions | None = None,
    *,
    scenarios: Sequence[PlanningProblem] = (),
) -> PurchasePlan:
    """The purchase advice: the set that maximises children within the norm.

    Without `scenarios` the advice serves the children waiting in `pp`.  With
    `scenarios` (today's list plus drawn inflow, see `inflow_scenarios`) it
    maximises the expected number within the norm over those draws; what each
    purchase buys is still reported on `pp`, whose children are real.
    """
    if budget_cents < 0:
        raise PlanningInputError([f"budget {budget_cents} is negative"])
    pp.validate()
    ids = [c.id for c in pp.candidates]
    for k, sc in enumerate(scenarios):
        sc.validate()
        if [c.id for c in sc.candidates] != ids:
            raise PlanningInputError([f"scenario {k} offers other purchases than the plan"])
    t0 = time.perf_counter()
    opts = options or PLAN_OPTIONS
    units, proven, primal, bound = _solve_purchase_mip(list(scenarios) or [pp], budget_cents, opts)
    plan = explain_units(
        pp,
        units,
        rule="advice" if not scenarios else f"advice-{len(scenarios)}-draws",
        budget_cents=budget_cents,
        options=opts,
        proven_optimal=proven,
        started=t0,
    )
    gap = abs(bound - primal) / max(1.0, abs(primal)) if math.isfinite(bound) else None
    return replace(plan, model_gap=gap)


def waiting_lists(pp: PlanningProblem) -> dict[tuple[str, str], int]:
    """Children (needs) waiting per (care type, region)."""
    out: dict[tuple[str, str], int] = defaultdict(int)
    for ct, rg in zip(pp.item_care_type, pp.item_region, strict=True):
        out[(ct, rg)] += 1
    return dict(out)


def naive_units(pp: PlanningProblem, budget_cents: int) -> dict[str, int]:
    """The naive rule: buy one place at a time where the waiting list is longest.

    The list shrinks by the places bought; within a list the cheapest place
    per euro is bought first.  Lists without an affordable candidate are
    skipped; buying stops when no list with children left can be served.
    """
    left = dict(waiting_lists(pp))
    budget = budget_cents
    units: dict[str, int] = defaultdict(int)
    groups: dict[tuple[str, str], list[CandidatePurchase]] = defaultdict(list)
    for c in pp.candidates:
        groups[(c.care_type, c.region)].append(c)
    for cs in groups.values():
        cs.sort(key=lambda c: (c.price_cents / max(1, sum(c.adds.values())), c.id))
    while True:
        bought = False
        for key in sorted(left, key=lambda k: (-left[k], k)):
            if left[key] <= 0:
                break
            for c in groups.get(key, []):
                if units[c.id] < c.max_units and c.price_cents <= budget:
                    units[c.id] += 1
                    budget -= c.price_cents
                    left[key] -= sum(c.adds.values())
                    bought = True
                    break
            if bought:
                break
        if not bought:
            return {k: v for k, v in units.items() if v > 0}


def naive_plan(
    pp: PlanningProblem, budget_cents: int, options: SolveOptions | None = None
) -> PurchasePlan:
    pp.validate()
    t0 = time.perf_counter()
    return explain_units(
        pp,
        naive_units(pp, budget_cents),
        rule="longest-waiting-list",
        budget_cents=budget_cents,
        options=options,
        started=t0,
    )


# ---------------------------------------------------------------------------
# A synthetic region at the arc level (a stand-in until the domain generator
# feeds planning): children with deadlines, offerings with places freeing per
# month, and candidate purchases per care type x region x provider.
# ---------------------------------------------------------------------------

# care type -> (category, share of children, euro per place, intake lead days lo, hi)
CARE_MIX: Mapping[str, tuple[str, float, int, int, int]] = {
    "PLEEGZORG": ("RESIDENTIAL", 0.12, 40_000, 21, 42),
    "GEZINSHUIS": ("RESIDENTIAL", 0.10, 90_000, 21, 42),
    "KLEINSCHALIGE_WOONVOORZIENING": ("RESIDENTIAL", 0.08, 160_000, 28, 56),
    "AMBULANTE_JGGZ": ("AMBULANT", 0.25, 12_000, 14, 35),
    "TRAUMATHERAPIE": ("AMBULANT", 0.15, 9_000, 14, 35),
    "VIDEOHOMETRAINING": ("AMBULANT", 0.15, 5_000, 7, 28),
    "GEZINSDIAGNOSTIEK": ("DIAGNOSTIC", 0.15, 4_000, 7, 21),
}

MONTH_DAYS = 30


@dataclass(frozen=True)
class PlanChild:
    ref: str
    care_type: str
    region: str
    referred_on: date
    deadline: date
    not_for: frozenset[str] = frozenset()  # offerings/purchases ruled out (contra-indication)


@dataclass(frozen=True)
class PlanOffering:
    id: str
    provider: str
    care_type: str
    region: str
    intake_lead_days: int
    places_by_month: tuple[int, ...]  # month 0 = free now


@dataclass(frozen=True)
class PlanPurchaseSpec:
    id: str
    provider: str
    care_type: str
    region: str
    price_cents: int
    available_month: int
    intake_lead_days: int
    max_units: int


@dataclass(frozen=True)
class RegionInstance:
    name: str
    as_of: date
    months: int
    children: tuple[PlanChild, ...]
    offerings: tuple[PlanOffering, ...]
    purchases: tuple[PlanPurchaseSpec, ...]
    inflow_per_month: Mapping[tuple[str, str], float]
    seed: int

    def month_start(self, m: int) -> date:
        return self.as_of + timedelta(days=MONTH_DAYS * m)


def synthetic_region(
    seed: int,
    *,
    regions: int = 3,
    children_per_region: int = 60,
    months: int = 6,
    shortage: float = 0.5,
    as_of: date = date(2026, 1, 5),
) -> RegionInstance:
    """A seeded synthetic instance: `regions` jeugdhulpregio's sharing a plan.

    Places over the horizon cover about `shortage` of the children waiting,
    deadlines follow the ruling + 3 months norm (some already passed, some
    "zoveel eerder"), and every care type x region has two or three
    candidate purchases from existing or new providers at different prices
    and dates.
    """
    rng = np.random.default_rng(seed)
    cts = list(CARE_MIX)
    shares = np.array([CARE_MIX[c][1] for c in cts])
    shares = shares / shares.sum()
    region_ids = [f"R{seed}-{chr(65 + k)}" for k in range(regions)]
    children: list[PlanChild] = []
    offerings: list[PlanOffering] = []
    purchases: list[PlanPurchaseSpec] = []
    inflow: dict[tuple[str, str], float] = {}
    n = 0
    for rg in region_ids:
        picks = rng.choice(len(cts), size=children_per_region, p=shares)
        for ci, ct in enumerate(cts):
            cat, share, euro, lead_lo, lead_hi = CARE_MIX[ct]
            demand = int(np.sum(picks == ci))
            inflow[(ct, rg)] = share * children_per_region / 4.0
            providers = [f"aanbieder-{rg}-{ct.lower()}-{k}" for k in range(2)]
            rate = shortage * demand / (2 * months)
            for k, prov in enumerate(providers):
                places = tuple(int(v) for v in rng.poisson(rate, months))
                offerings.append(
                    PlanOffering(
                        id=f"{prov}-o",
                        provider=prov,
                        care_type=ct,
                        region=rg,
                        intake_lead_days=int(rng.integers(lead_lo, lead_hi + 1)),
                        places_by_month=places,
                    )
                )
                del k
            sellers = [*providers, f"nieuw-{rg}-{ct.lower()}"]
            for k, prov in enumerate(sellers[: 2 + int(rng.random() < 0.5)]):
                purchases.append(
                    PlanPurchaseSpec(
                        id=f"koop-{rg}-{ct.lower()}-{k}",
                        provider=prov,
                        care_type=ct,
                        region=rg,
                        price_cents=int(euro * rng.uniform(0.8, 1.4)) * 100,
                        available_month=int(rng.integers(0, 3)),
                        intake_lead_days=int(rng.integers(lead_lo, lead_hi + 1)),
                        max_units=3 if cat == "RESIDENTIAL" else 6,
                    )
                )
            for _ in range(demand):
                children.append(
                    _child(
                        rng,
                        f"kind-{seed}-{n:04d}",
                        ct,
                        rg,
                        as_of,
                        as_of,
                        _sources(offerings, purchases).get((ct, rg), ()),
                    )
                )
                n += 1
    return RegionInstance(
        name=f"regio-{seed}",
        as_of=as_of,
        months=months,
        children=tuple(children),
        offerings=tuple(offerings),
        purchases=tuple(purchases),
        inflow_per_month=inflow,
        seed=seed,
    )


def _sources(
    offerings: Sequence[PlanOffering], purchases: Sequence[PlanPurchaseSpec]
) -> dict[tuple[str, str], list[str]]:
    """Offering and purchase ids per (care type, region), offerings first."""
    out: dict[tuple[str, str], list[str]] = defaultdict(list)
    for o in offerings:
        out[(o.care_type, o.region)].append(o.id)
    for pc in purchases:
        out[(pc.care_type, pc.region)].append(pc.id)
    return out


def _child(
    rng: np.random.Generator,
    ref: str,
    ct: str,
    rg: str,
    referred: date,
    as_of: date,
    ids: Sequence[str],
) -> PlanChild:
    waited = int(rng.integers(0, 150)) if referred == as_of else int(rng.integers(0, 30))
    ruling = referred - timedelta(days=waited)
    norm = 42 if rng.random() < 0.15 else 91  # "zoveel eerder" for some
    not_for = frozenset(i for i in ids if rng.random() < 0.15)
    return PlanChild(ref, ct, rg, referred, ruling + timedelta(days=norm), not_for)


def inflow_children(
    inst: RegionInstance, seed: int, *, scale: float = 1.0
) -> tuple[PlanChild, ...]:
    """Children referred during the horizon: Poisson per care type x region."""
    rng = np.random.default_rng(seed)
    sources = _sources(inst.offerings, inst.purchases)
    out: list[PlanChild] = []
    n = 0
    for (ct, rg), lam in sorted(inst.inflow_per_month.items()):
        k = int(rng.poisson(lam * scale * inst.months))
        for _ in range(k):
            day = int(rng.integers(0, MONTH_DAYS * inst.months))
            referred = inst.as_of + timedelta(days=day)
            out.append(
                _child(
                    rng,
                    f"instroom-{inst.seed}-{seed}-{n:04d}",
                    ct,
                    rg,
                    referred,
                    inst.as_of,
                    sources.get((ct, rg), ()),
                )
            )
            n += 1
    return tuple(out)


def inflow_scenarios(
    inst: RegionInstance, draws: int, seed: int, *, scale: float = 1.0
) -> list[PlanningProblem]:
    """Today's list plus `draws` independent inflow draws, one problem each."""
    seeds = np.random.default_rng(seed).integers(0, 2**62, size=draws)
    return [compile_region(inst, inflow_children(inst, int(s), scale=scale)) for s in seeds]


def compile_region(
    inst: RegionInstance, extra_children: Sequence[PlanChild] = ()
) -> PlanningProblem:
    """Arc-level planning problem of a synthetic region.

    Every month's released places of an offering form one resource; a child
    gets an arc to every such group (and to every purchase's places) of its
    care type and region that it is not ruled out of.  Help starts at the
    later of the group's date and the referral, plus the intake lead time; an
    arc is within the norm when that is on or before the deadline.  Places
    not used stay free for later children, which the arcs to earlier groups
    express; stays are assumed to outlast the horizon.
    """
    kids = (*inst.children, *extra_children)
    # Built straight into index arrays: a sweep compiles thousands of these,
    # and the row-wise builder's per-arc bookkeeping dominated the time.
    res_ids: list[str] = []
    res_cap: list[int] = []
    # (care type, region) -> [(source id, resource index, ordinal date, lead)]
    groups: dict[tuple[str, str], list[tuple[str, int, int, int]]] = defaultdict(list)
    for o in inst.offerings:
        for m, places in enumerate(o.places_by_month):
            if places > 0:
                groups[(o.care_type, o.region)].append(
                    (o.id, len(res_ids), inst.month_start(m).toordinal(), o.intake_lead_days)
                )
                res_ids.append(f"place:{o.id}@{m}")
                res_cap.append(places)
    candidates: list[CandidatePurchase] = []
    for pc in inst.purchases:
        rid = f"buy:{pc.id}"
        on = inst.month_start(pc.available_month)
        groups[(pc.care_type, pc.region)].append(
            (pc.id, len(res_ids), on.toordinal(), pc.intake_lead_days)
        )
        res_ids.append(rid)
        res_cap.append(0)
        candidates.append(
            CandidatePurchase(
                id=pc.id,
                provider=pc.provider,
                care_type=pc.care_type,
                region=pc.region,
                price_cents=pc.price_cents,
                adds={rid: 1},
                max_units=pc.max_units,
                available_on=on,
            )
        )
    # one option per resource, numbered in order of first use (as the row-wise
    # builder did, so solutions and tie-breaks stay the same)
    opt_of_res: dict[int, int] = {}
    a_item: list[int] = []
    a_opt: list[int] = []
    a_res: list[int] = []
    within: list[bool] = []
    care: list[str] = []
    region: list[str] = []
    for i, c in enumerate(kids):
        care.append(c.care_type)
        region.append(c.region)
        referred = c.referred_on.toordinal()
        deadline = c.deadline.toordinal()
        for src, ri, free_day, lead in groups.get((c.care_type, c.region), ()):
            if src in c.not_for:
                continue
            a_item.append(i)
            a_res.append(ri)
            op = opt_of_res.get(ri)
            if op is None:
                op = opt_of_res[ri] = len(opt_of_res)
            a_opt.append(op)
            within.append(max(free_day, referred) + lead <= deadline)
    options = [""] * len(opt_of_res)
    for ri, op in opt_of_res.items():
        options[op] = res_ids[ri]
    n_arcs = len(a_item)
    w = np.asarray(within, dtype=np.bool_)
    prob = AssignmentProblem.create(
        items=[c.ref for c in kids],
        options=options,
        resources=res_ids,
        capacity=res_cap,
        arc_item=a_item,
        arc_option=a_opt,
        arc_value=w.astype(np.int64),
        use_ptr=np.arange(n_arcs + 1, dtype=np.int64),
        use_resource=a_res,
        use_amount=np.ones(n_arcs, dtype=np.int64),
        sense=Sense.MAXIMIZE,
        name=inst.name,
    )
    return PlanningProblem(
        problem=prob,
        within_norm=w,
        candidates=tuple(candidates),
        item_care_type=tuple(care),
        item_region=tuple(region),
        meta={"instance": inst.name, "children": len(kids)},
    )


def region_waiting_summary(inst: RegionInstance) -> list[dict[str, object]]:
    """Flat records per care type x region (for tables and the naive rule)."""
    count: dict[tuple[str, str], int] = defaultdict(int)
    overdue: dict[tuple[str, str], int] = defaultdict(int)
    for c in inst.children:
        count[(c.care_type, c.region)] += 1
        if c.deadline < inst.as_of:
            overdue[(c.care_type, c.region)] += 1
    return [
        {"care_type": ct, "region": rg, "waiting": n, "past_deadline": overdue[(ct, rg)]}
        for (ct, rg), n in sorted(count.items())
    ]


def per_million(gained: int, spent_cents: int) -> float:
    return math.nan if spent_cents <= 0 else gained * CENTS_PER_MILLION_EURO / spent_cents


# ---------------------------------------------------------------------------
# From the domain level: a Scenario plus offerings on sale.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferingPurchase:
    """A purchase option at the domain level.

    `offering` is a new offering (a new provider, or extra places of an
    existing provider under a new id) whose places are on sale: either
    `free_now` places and no releases, or no free places and releases on one
    date.  `price_cents` is per place.  `contracts` are the contracts the
    purchase brings (a provider not yet contracted for the region).
    """

    id: str
    offering: Any  # matcher.domain.model.Offering
    price_cents: int
    contracts: tuple[Any, ...] = ()  # matcher.domain.model.Contract


def planning_from_scenario(
    scenario: Any, purchases: Sequence[OfferingPurchase]
) -> tuple[PlanningProblem, Any]:
    """Compile `scenario` with the offerings on sale as purchases.

    The scenario is compiled with every purchase offering added (so the
    domain decides eligibility, norms and deadlines, contracts and budgets);
    then the places of those offerings start at zero and each unit bought
    adds one.  Returns the planning problem and the domain `Compiled` (to
    read children and offerings back).
    """
    from matcher.domain.compile import compile_scenario

    issues: list[str] = []
    known = {o.id for o in scenario.offerings}
    seen: set[str] = set()
    places: dict[str, int] = {}
    for pc in purchases:
        o = pc.offering
        if pc.id in seen:
            issues.append(f"purchase {pc.id!r} is listed twice")
        seen.add(pc.id)
        if o.id in known:
            issues.append(f"purchase {pc.id!r}: offering {o.id!r} already exists; use a new id")
        known.add(o.id)
        dates = {r.on for r in o.releases if r.places > 0}
        if (o.free_now > 0) == bool(dates) or len(dates) > 1:
            issues.append(f"purchase {pc.id!r}: places must be free now or come free on one date")
        places[pc.id] = o.free_now + sum(r.places for r in o.releases)
        if pc.price_cents < 0:
            issues.append(f"purchase {pc.id!r}: price {pc.price_cents} is negative")
    if issues:
        raise PlanningInputError(issues)

    scen = replace(
        scenario,
        offerings=(*scenario.offerings, *(pc.offering for pc in purchases)),
        contracts=(*scenario.contracts, *(c for pc in purchases for c in pc.contracts)),
    )
    comp = compile_scenario(scen)
    p = comp.problem
    if len(comp.arcs) != p.n_arcs:
        raise RuntimeError("compiled arcs and arc information differ in length")
    ridx = p.resource_index()
    on_sale: dict[str, str] = {}  # offering id -> purchase id
    candidates: list[CandidatePurchase] = []
    cap = p.capacity.copy()
    for pc in purchases:
        oid = pc.offering.id
        on_sale[oid] = pc.id
        adds: dict[str, int] = {}
        for g in comp.groups.get(oid, []):
            rid = f"place:{oid}@{g.index}"
            adds[rid] = 1
            cap[ridx[rid]] = 0
        if len(adds) > 1:
            raise RuntimeError(f"purchase {pc.id!r} compiled into more than one release group")
        candidates.append(
            CandidatePurchase(
                id=pc.id,
                provider=pc.offering.provider,
                care_type=pc.offering.care_type.value,
                region=pc.offering.region,
                price_cents=pc.price_cents,
                adds=adds,
                max_units=places[pc.id],
                available_on=min(
                    (r.on for r in pc.offering.releases), default=scen.evaluation_date
                ),
            )
        )
    # The compile drops uses of places that can never run out; places on sale
    # start at zero here, so every arc to them must use them again.
    ptr: list[int] = [0]
    ures: list[int] = []
    uamt: list[int] = []
    for a, info in enumerate(comp.arcs):
        lo, hi = int(p.use_ptr[a]), int(p.use_ptr[a + 1])
        res = p.use_resource[lo:hi].tolist()
        amt = p.use_amount[lo:hi].tolist()
        if info.offering in on_sale:
            r_on_sale = ridx[f"place:{info.offering}@{info.group}"]
            if r_on_sale not in res:
                res.append(r_on_sale)
                amt.append(info.members)
        ures.extend(res)
        uamt.extend(amt)
        ptr.append(len(ures))
    prob = replace(
        p,
        capacity=cap,
        use_ptr=np.asarray(ptr, dtype=np.int64),
        use_resource=np.asarray(ures, dtype=np.int32),
        use_amount=np.asarray(uamt, dtype=np.int64),
    )
    care: list[str] = []
    region: list[str] = []
    children = scen.child_by_ref
    for it in p.item_ids:
        ref, nid = comp.item_members[it][0]
        ch = children[ref]
        care.append(ch.need(nid).care_type.value)
        region.append(ch.region)
    pp = PlanningProblem(
        problem=prob,
        within_norm=np.asarray([info.within_norm for info in comp.arcs], dtype=np.bool_),
        candidates=tuple(candidates),
        item_care_type=tuple(care),
        item_region=tuple(region),
        meta={"source": "domain", "scenario": scen.name},
    )
    pp.validate()
    return pp, comp
