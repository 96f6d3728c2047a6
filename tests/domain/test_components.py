"""Per-component solving: signatures, reuse, and the repaired base answer a re-solve
keeps when the solver has no time to start."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np

from matcher.domain.components import solve_by_components, warm_answer
from matcher.domain.incremental import resolve
from matcher.domain.match import match
from matcher.domain.synth import generate
from matcher.domain.whatif import AddPlaces, ChangeCeiling, apply
from matcher.problem import ProblemBuilder, Sense
from matcher.solution import Solution, SolveOptions, Status, objective_of, verify

EXACT = SolveOptions(time_limit_s=20, relative_gap=0.0)


def _problem(cap_a: int = 1, cap_b: int = 5):
    b = ProblemBuilder(Sense.MAXIMIZE)
    for it in ("x", "y", "z"):
        b.item(it)
    b.resource("A", cap_a)
    b.resource("B", cap_b)
    b.arc("x", "a", 10, {"A": 1, "B": 2})
    b.arc("y", "a", 7, {"A": 1})
    b.arc("y", "b", 3, {"B": 2})
    b.arc("z", "b", 5, {"B": 2})
    return b.build()


def test_warm_answer_repairs_an_over_full_resource_and_fills_free_places():
    p = _problem(cap_a=1, cap_b=4)
    # x and y both on A (capacity 1): y, the least valuable there, is dropped; then the
    # fill gives the one free unit pair of B to z (5) rather than to y on b (3)
    out = warm_answer(p, {"x": "a", "y": "a"})
    assert out is not None
    chosen, bound, objective = out
    assert chosen == {"x": "a", "z": "b"}
    sol = Solution(Status.FEASIBLE, None, None, None, chosen, ("y",), 0.0, "")
    look = {
        (p.item_ids[int(i)], p.option_ids[int(o)]): a
        for a, (i, o) in enumerate(zip(p.arc_item, p.arc_option, strict=True))
    }
    obj = objective_of(p, [look[(k, v)] for k, v in chosen.items()])
    verify(p, replace(sol, objective=obj))
    assert objective == obj
    assert bound >= obj
    assert bound == 10 + 7 + 5  # every item's best arc
    # on a set of whole components: the same answer (here one component holds them all)
    assert warm_answer(p, {"x": "a", "y": "a"}, np.arange(3)) == out


def test_warm_answer_drops_pairs_without_an_arc_and_declines_what_it_cannot_pin():
    p = _problem()
    out = warm_answer(p, {"x": "gone", "z": "b"})
    assert out is not None
    assert out[0]["z"] == "b"
    assert out[0].get("x") == "a"  # filled again: A is free
    full = _problem(cap_a=1, cap_b=2)
    must = replace(full, must_assign=full.must_assign.copy())
    must.must_assign[2] = True
    # B holds one arc: x (the most valuable) takes it, z cannot be placed
    assert warm_answer(must, {"x": "a"}) is None


def test_a_resolve_without_time_keeps_the_repaired_base_answer_unproven():
    seed = 3
    sc = generate(80, 40, seed=seed, n_gemeenten=4)
    base = match(sc, EXACT)
    rng = random.Random(seed)
    deltas = [AddPlaces(rng.choice(sc.offerings).id, 2)]
    deltas += [ChangeCeiling(b.id, -b.remaining_cents // 2) for b in sc.budgets[:1]]
    kept = 0
    for d in deltas:
        r, comp = resolve(base, apply(sc, d), replace(EXACT, time_limit_s=0.0))
        verify(comp.problem, r.solution)
        stats = r.solution.stats
        kept += stats["components_kept_warm"]
        if stats["components_kept_warm"]:
            assert r.solution.status is Status.FEASIBLE
        if r.solution.status is not Status.OPTIMAL:
            assert r.solution.best_bound is not None
            assert r.solution.best_bound >= r.solution.objective
        exact, _ = resolve(base, apply(sc, d), EXACT)
        assert exact.solution.objective >= r.solution.objective
    assert kept  # the changed parts had no time for the solver


def test_an_unchanged_proven_component_keeps_its_answer():
    sc = generate(60, 30, seed=4, n_gemeenten=3)
    base = match(sc, EXACT)
    p = base.compiled.problem
    sol, proven = solve_by_components(p, p, base.solution, EXACT, base.proven_items)
    assert sol.stats["components_reused"] == sol.stats["components"]
    assert sol.assignments == base.solution.assignments
    assert proven == base.proven_items
    # one arc value changed: its component is solved again, the others are reused
    changed = replace(p, arc_value=p.arc_value.copy())
    changed.arc_value[0] += 1
    sol2, _ = solve_by_components(changed, p, base.solution, EXACT, base.proven_items)
    assert sol2.stats["components_reused"] == sol.stats["components"] - 1


def test_an_unchanged_unproven_component_keeps_its_base_answer_unproven():
    sc = generate(60, 30, seed=4, n_gemeenten=3)
    base = match(sc, EXACT)
    base.proven_items = frozenset()  # as if the base ran out of time everywhere
    p = base.compiled.problem
    sol, proven = solve_by_components(p, p, base.solution, EXACT, base.proven_items)
    assert sol.stats["items_kept_unproven"] == p.n_items
    assert sol.assignments == base.solution.assignments
    assert sol.status is Status.FEASIBLE
    assert not proven
    verify(p, sol)
    assert sol.best_bound is not None
    assert sol.best_bound >= sol.objective


def test_transportation_items_are_those_whose_every_arc_uses_one_place_by_one() -> None:
    from benchmarks.families import generate_family
    from matcher.domain.compile import compile_scenario
    from matcher.domain.components import _transportation_items
    from matcher.domain.synth import generate

    problems = {
        "domain": compile_scenario(generate(80, 40, seed=2, n_gemeenten=4)).problem,
        "bundles": generate_family("bundles", 200, 40, seed=2),  # every arc has a ceiling
    }
    for family, p in problems.items():
        want = np.ones(p.n_items, dtype=bool)
        for a in range(p.n_arcs):
            lo, hi = int(p.use_ptr[a]), int(p.use_ptr[a + 1])
            if hi - lo > 1 or any(int(q) != 1 for q in p.use_amount[lo:hi]):
                want[int(p.arc_item[a])] = False
        got = _transportation_items(p)
        assert np.array_equal(got, want), family
    assert 0 < int(_transportation_items(problems["domain"]).sum()) < problems["domain"].n_items
