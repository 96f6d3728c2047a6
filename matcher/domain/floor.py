"""A group floor: the matching with a side constraint that no group of one dimension
falls below a share of its children placed within the norm.

The matching's own problem (`compile`) is solved once more with CP-SAT and, per
group g of the chosen dimension, the constraint

    children of g placed within the norm >= ceil(share * waiting children of g)

A child counts as within the norm when every waiting need of it sits on an arc
whose start is on or before the child's legal deadline: `meets_target` for a child
not yet past its deadline (its target is then the deadline itself) and not an
alternative the family did not accept.  Children with an unclassified need, and
children already past their deadline, can never count, so a floor that needs them
cannot be met; the answer then says so and the plain matching stands.

The price of the floor is shown in children placed within the norm overall:
the plain matching's count minus the count with the floor (docs/outcomes.md).
The care-type dimension is not offered: a child waiting for two care types would
sit in two groups at once.

What would help a child without a place (`matcher.domain.helps`) is searched on the
matching without the floor; in a run with a floor every change found is solved
again with the floor (`check_help`), as the run itself does: the floor when it can be
met, else the plain matching.  Only a change that still places the child, without
fewer children within the norm, is kept.  A child that the plain matching places and
the floor does not gets no change: the floor is the reason, and its sentence says so.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from matcher.domain.clocks import deadline_norm3
from matcher.domain.helps import SmallestChange
from matcher.domain.match import MatchResult, decode, match
from matcher.domain.outcomes import Dimension, Outcomes, child_group, outcomes_per_group
from matcher.domain.whatif import Delta, apply_all
from matcher.errors import MatcherError
from matcher.solution import Solution, Status

if TYPE_CHECKING:  # explain calls check_help: a type only, no import at run time
    from matcher.domain.explain import NeedExplanation

__all__ = [
    "FLOOR_DIMENSIONS",
    "FLOOR_IS_THE_REASON",
    "FloorResult",
    "FloorRun",
    "check_help",
    "match_with_floor",
]

FLOOR_DIMENSIONS = (Dimension.GEMEENTE, Dimension.AGE, Dimension.LVB, Dimension.MEASURE)


@dataclass
class FloorResult:
    """`result` is the matching with the floor (None when the floor cannot be met);
    `cost` = children within the norm without the floor minus with it."""

    dimension: Dimension
    share: float
    base: MatchResult
    result: MatchResult | None
    base_within: int
    floor_within: int | None

    @property
    def met(self) -> bool:
        return self.result is not None

    @property
    def cost(self) -> int | None:
        return None if self.floor_within is None else self.base_within - self.floor_within


def children_within(outcomes: Outcomes) -> int:
    """Waiting children placed within the norm, each counted once (the measure
    dimension holds every waiting child exactly once)."""
    return sum(r.within_norm for r in outcomes.rows if r.dimension is Dimension.MEASURE)


def match_with_floor(
    scenario_result: MatchResult,
    dimension: Dimension,
    share: float,
    *,
    time_limit_s: float = 10.0,
) -> FloorResult:
    """The matching of `scenario_result`'s scenario again, with the floor as a side
    constraint; `share` from 0 to 1."""
    if dimension not in FLOOR_DIMENSIONS:
        raise ValueError(f"no floor over {dimension.value}")
    base = scenario_result
    comp = base.compiled
    sc = comp.scenario
    p = comp.problem
    base_within = children_within(
        outcomes_per_group(sc, base.placements, base.unplaced, "matching")
    )

    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{a}") for a in range(p.n_arcs)]
    by_item: dict[int, list[int]] = defaultdict(list)
    for a in range(p.n_arcs):
        if bool(p.forbidden[a]):
            model.add(x[a] == 0)
        if bool(p.pinned[a]):
            model.add(x[a] == 1)
        by_item[int(p.arc_item[a])].append(a)
    for i in range(p.n_items):
        arcs = [x[a] for a in by_item.get(i, [])]
        if bool(p.must_assign[i]):
            model.add(sum(arcs) == 1)
        elif arcs:
            model.add(sum(arcs) <= 1)
    by_resource: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for a in range(p.n_arcs):
        for k in range(int(p.use_ptr[a]), int(p.use_ptr[a + 1])):
            by_resource[int(p.use_resource[k])].append((a, int(p.use_amount[k])))
    for r, uses in by_resource.items():
        model.add(sum(q * x[a] for a, q in uses) <= int(p.capacity[r]))

    # per waiting child: its items, and the arcs of each item that start in time
    ev = sc.evaluation_date
    item_ix = p.item_index()
    timely: dict[str, list[int]] = defaultdict(list)
    for a, info in enumerate(comp.arcs):
        if info.meets_target and not info.alternative:
            timely[info.item].append(a)
    accepted_alt = {
        comp.item_of(c.ref, n.id) for c in sc.children for n in c.needs if n.alternative_accepted
    }
    for a, info in enumerate(comp.arcs):
        if info.meets_target and info.alternative and info.item in accepted_alt:
            timely[info.item].append(a)
    items_of: dict[str, set[str]] = defaultdict(set)
    for item, members in comp.item_members.items():
        for ref, _ in members:
            items_of[ref].add(item)
    waiting = {ref for ref, _ in base.placements} | {ref for ref, _ in base.unplaced}
    groups: dict[str, list[cp_model.IntVar | int]] = defaultdict(list)
    for child in sc.children:
        if child.ref not in waiting and not child.unclassified_needs:
            continue
        group = child_group(sc, child, dimension)
        deadline = deadline_norm3(child)
        possible = (
            not child.unclassified_needs
            and deadline is not None
            and deadline >= ev
            and all(item in item_ix and timely[item] for item in items_of[child.ref])
        )
        if not possible:
            groups[group].append(0)
            continue
        w = model.new_bool_var(f"w:{child.ref}")
        for item in items_of[child.ref]:
            model.add(w <= sum(x[a] for a in timely[item]))
        groups[group].append(w)
    for kids in groups.values():
        need = math.ceil(share * len(kids) - 1e-9)
        model.add(sum(kids) >= need)

    objective = sum(int(p.arc_value[a]) * x[a] for a in range(p.n_arcs))
    # the problem's own objective: an unassigned item costs its penalty
    for i in range(p.n_items):
        penalty = int(p.unassigned_penalty[i])
        if penalty:
            objective -= penalty * (1 - sum(x[a] for a in by_item.get(i, [])))
    model.maximize(objective)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = 1
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return FloorResult(dimension, share, base, None, base_within, None)
    chosen = {
        p.item_ids[int(p.arc_item[a])]: p.option_ids[int(p.arc_option[a])]
        for a in range(p.n_arcs)
        if solver.boolean_value(x[a])
    }
    sol = Solution(
        status=Status.OPTIMAL if status == cp_model.OPTIMAL else Status.FEASIBLE,
        objective=round(solver.objective_value),
        best_bound=float(solver.best_objective_bound),
        gap=None,
        assignments=chosen,
        unassigned=tuple(i for i in p.item_ids if i not in chosen),
        wall_time_s=float(solver.wall_time),
        strategy="cpsat-floor",
    )
    result = decode(comp, sol)
    within = children_within(outcomes_per_group(sc, result.placements, result.unplaced, "matching"))
    return FloorResult(dimension, share, base, result, base_within, within)


FLOOR_IS_THE_REASON = (
    "Zonder de ondergrens per groep krijgt dit kind wel een plek. Met de ondergrens "
    "gaat die plek naar een kind uit een groep die anders te weinig hulp binnen de "
    "norm krijgt."
)
NO_CHANGE_WITH_FLOOR = (
    "Er is een wijziging gevonden die zonder de ondergrens per groep helpt, maar met "
    "de ondergrens krijgt dit kind dan nog steeds geen plek."
)
OUT_OF_TIME = (
    "Er is een wijziging gevonden, maar de tijd was op voordat die met de ondergrens "
    "per groep is nagerekend. Reken opnieuw met minder kinderen."
)


@dataclass(frozen=True)
class FloorRun:
    """The floor a run used, and the run's matching without it (`plain`)."""

    dimension: Dimension
    share: float
    plain: MatchResult


def check_help(
    run: MatchResult,
    needs: list[NeedExplanation],
    floor: FloorRun,
    *,
    deadline: float,
    time_limit_s: float = 10.0,
) -> None:
    """Keep, per need of `needs` (the run's needs without a place), only the changes
    that also work with the floor; see the module's text.  `deadline` is a
    `time.perf_counter()` moment after which no change is solved again."""
    tried: dict[tuple[Delta, ...], MatchResult | None] = {}

    def run_with(deltas: tuple[Delta, ...]) -> MatchResult | None:
        if deltas not in tried:
            if time.perf_counter() > deadline:
                raise TimeoutError
            try:
                plain = match(apply_all(run.scenario, deltas))
            except MatcherError:
                tried[deltas] = None
            else:
                # a solve may not run far past the deadline
                left = max(0.5, deadline - time.perf_counter())
                got = match_with_floor(
                    plain, floor.dimension, floor.share, time_limit_s=min(time_limit_s, left)
                )
                tried[deltas] = got.result or plain
        return tried[deltas]

    for ne in needs:
        key = (ne.child_ref, ne.need_id)
        if key in floor.plain.placements:
            ne.changes = []
            ne.search_note = FLOOR_IS_THE_REASON
            continue
        if not ne.changes:
            continue
        kept: list[SmallestChange] = []
        try:
            for c in ne.changes:
                got = run_with(c.deltas)
                pl = None if got is None else got.placements.get(key)
                if got is not None and pl is not None and got.n_within_norm >= run.n_within_norm:
                    kept.append(
                        replace(
                            c, placed_at=pl.offering, within_norm=pl.within_norm, start=pl.start
                        )
                    )
        except TimeoutError:
            ne.search_out_of_time = True
            ne.changes = kept
            ne.search_note = "" if kept else OUT_OF_TIME
            continue
        kept.sort(key=lambda c: (not c.within_norm, len(c.deltas)))
        ne.changes = kept
        if not kept:
            ne.search_note = NO_CHANGE_WITH_FLOOR
