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
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from ortools.sat.python import cp_model

from matcher.domain.clocks import deadline_norm3
from matcher.domain.match import MatchResult, decode
from matcher.domain.outcomes import Dimension, Outcomes, child_group, outcomes_per_group
from matcher.solution import Solution, Status

__all__ = ["FLOOR_DIMENSIONS", "FloorResult", "match_with_floor"]

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
