"""Fast what-if re-solves: reuse what a delta cannot have changed.

1. Eligibility: only pairs whose child, offering, budgets or refusals changed are checked
   again (a change of policy, regions, contracts or subcontracts re-checks everything).
2. Solving: the new problem splits into connected components (items linked through the
   resources they may use).  A component whose items, arcs and capacities are identical
   to the base problem, and that no other base item could reach, keeps its part of the
   base answer: the objective is a sum over components, so the restriction of an optimal
   answer to a component is optimal for it.  Only the other components are solved,
   warm-started from the base answer.
"""

from __future__ import annotations

from matcher.domain.compile import Compiled, compile_scenario
from matcher.domain.components import solve_by_components
from matcher.domain.eligibility import (
    Eligibility,
    PairCheck,
    ScenarioIndex,
    candidates,
    check_pair,
    evaluate,
)
from matcher.domain.match import DEFAULT_OPTIONS, MatchResult, decode
from matcher.domain.model import Scenario
from matcher.solution import SolveOptions


def evaluate_incremental(new: Scenario, base: Eligibility) -> Eligibility:
    old = base.scenario
    if (
        new.policy != old.policy
        or new.regions != old.regions
        or new.contracts != old.contracts
        or new.subcontracts != old.subcontracts
        or new.evaluation_date != old.evaluation_date
    ):
        return evaluate(new)
    old_offs, new_offs = old.offering_by_id, new.offering_by_id
    changed_offs = {k for k, o in new_offs.items() if old_offs.get(k) != o}
    changed_offs |= set(old_offs) - set(new_offs)
    old_b = {b.id: b for b in old.budgets}
    new_b = {b.id: b for b in new.budgets}
    changed_b = [
        new_b.get(k) or old_b[k] for k in set(old_b) | set(new_b) if old_b.get(k) != new_b.get(k)
    ]
    if any(b.provider is None for b in changed_b):
        return evaluate(new)
    budget_providers = {b.provider for b in changed_b}
    if new.refusals != old.refusals:
        for r in set(new.refusals) ^ set(old.refusals):
            changed_offs.add(r.offering)
    for f in set(new.forbids) ^ set(old.forbids):
        changed_offs.add(f.offering)
    old_kids = old.child_by_ref
    idx = ScenarioIndex(new)
    held_old, held_new = base.index.held_places, idx.held_places
    changed_offs |= {k for k in set(held_old) | set(held_new) if held_old[k] != held_new[k]}
    out = Eligibility(new, idx)
    for child in new.children:
        same_child = old_kids.get(child.ref) == child
        for need in child.needs:
            started = need.start_date is not None and need.start_date <= new.evaluation_date
            if started and need.current_offering is None:
                continue
            prev: dict[str, PairCheck] = {}
            if same_child:
                prev = {pc.offering_id: pc for pc in base.pairs.get((child.ref, need.id), [])}
            checks = []
            for o in candidates(new, need, idx):
                pc = prev.get(o.id)
                if (
                    pc is None
                    or o.id in changed_offs
                    or o.provider in budget_providers
                    or pc.via_main_contractor in budget_providers
                ):
                    pc = check_pair(new, child, need, o, idx, full=False)
                checks.append(pc)
            out.pairs[(child.ref, need.id)] = checks
    return out


def resolve(
    base: MatchResult, new: Scenario, options: SolveOptions | None = None
) -> tuple[MatchResult, Compiled]:
    """Re-solve `new` (the base scenario with deltas applied) reusing the base answer."""
    opts = options or DEFAULT_OPTIONS
    elig = evaluate_incremental(new, base.compiled.eligibility)
    comp = compile_scenario(new, elig)
    sol, proven = solve_by_components(
        comp.problem, base.compiled.problem, base.solution, opts, base.proven_items
    )
    result = decode(comp, sol)
    result.proven_items = proven
    return result, comp
