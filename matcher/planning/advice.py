"""The purchase advice: the purchase MIP's choice evaluated against buying
nothing, and what each chosen purchase buys (measured by re-solving without
it)."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from matcher.planning.model import (
    CENTS_PER_MILLION_EURO,
    PLAN_OPTIONS,
    BoolArray,
    PlanningInputError,
    PlanningProblem,
)
from matcher.planning.purchase_mip import solve_purchase_mip
from matcher.solution import SolveOptions, Status, verify
from matcher.solve import solve
from matcher.solvers.budget import TimeBudget


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
    opts = options or PLAN_OPTIONS
    budget = TimeBudget(opts.time_limit_s)
    units, proven, primal, bound = solve_purchase_mip(
        list(scenarios) or [pp], budget_cents, opts, budget
    )
    plan = explain_units(
        pp,
        units,
        rule="advice" if not scenarios else f"advice-{len(scenarios)}-draws",
        budget_cents=budget_cents,
        options=opts,
        proven_optimal=proven,
        started=budget.start,
    )
    gap = abs(bound - primal) / max(1.0, abs(primal)) if math.isfinite(bound) else None
    return replace(plan, model_gap=gap)
