"""A what-if's scenario index takes the base's slots and first starts of the offerings
that did not change: the same as computing them all."""

from __future__ import annotations

import pytest

from matcher.domain.scenario_index import ScenarioIndex
from matcher.domain.synth import generate
from matcher.domain.whatif import apply
from tests.domain.test_compile_patch import _deltas


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_reused_slots_and_first_starts_equal_fresh_ones(seed):
    sc = generate(80, 40, seed=seed, n_gemeenten=4)
    base = ScenarioIndex(sc)
    taken = 0
    for kind, d in _deltas(sc, seed):
        new = apply(sc, d)
        fresh = ScenarioIndex(new)
        reused = ScenarioIndex(new)
        reused.reuse(base)
        assert reused.slots == fresh.slots, kind
        assert reused.first_start == fresh.first_start, kind
        # held places counted from the base's (a missing offering holds none)
        assert "held_places" in reused.__dict__, kind
        assert {k: v for k, v in reused.held_places.items() if v} == {
            k: v for k, v in fresh.held_places.items() if v
        }, kind
        taken += sum(1 for k, v in reused.slots.items() if base.slots.get(k) is v)
    assert taken > 0


def test_a_child_placed_now_changes_the_first_start_it_frees():
    """Held places count for the first start: a new child placed at an offering without
    free places gives that offering a first start, although the offering is the same."""
    sc = generate(80, 40, seed=5, n_gemeenten=4)
    base = ScenarioIndex(sc)
    full = [o for o in sc.offerings if base.first_start[o.id] is None]
    if not full:
        pytest.skip("every offering has a place in this scenario")
    from dataclasses import replace

    from matcher.domain.whatif import AddChildren

    c = sc.children[0]
    need = replace(c.needs[0], current_offering=full[0].id, care_type=full[0].care_type)
    new = apply(sc, AddChildren((replace(c, ref="NEWHELD", needs=(need,)),)))
    reused = ScenarioIndex(new)
    reused.reuse(base)
    assert reused.first_start == ScenarioIndex(new).first_start
    assert reused.held_places[full[0].id] == base.held_places.get(full[0].id, 0) + 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_eligibility_from_the_base_table_equals_a_full_evaluation(seed):
    """With the base's table taken over and only the reached needs visited, the needs
    come in the same order with the same eligible checks as a full evaluation, the
    budget deltas too (their needs through a hoofdaannemer come from the compile)."""
    from dataclasses import replace

    from matcher.domain.compile import compile_scenario
    from matcher.domain.eligibility import evaluate
    from matcher.domain.incremental import _walk_plan, evaluate_changes
    from matcher.domain.whatif import AddChildren

    sc = generate(80, 40, seed=seed, n_gemeenten=4)
    base = compile_scenario(sc)
    c = sc.children[1]
    later = replace(c, needs=tuple(replace(n, start_date=None) for n in c.needs))
    deltas = [*_deltas(sc, seed), ("same_child_again", AddChildren(()))]
    planned = 0
    for kind, d in deltas:
        new = apply(sc, d)
        if kind == "same_child_again":
            kids = tuple(later if k.ref == c.ref else k for k in sc.children)
            new = replace(new, children=kids)
        elig, _ = evaluate_changes(new, base.eligibility, base.via_pairs)
        full = evaluate(new)
        assert list(elig.pairs) == list(full.pairs), kind
        for key in full.pairs:
            assert [(p.offering_id, p.via_main_contractor) for p in elig.eligible(*key)] == [
                (p.offering_id, p.via_main_contractor) for p in full.eligible(*key)
            ], (kind, key)
        planned += _walk_plan(new, sc, base.eligibility, set(), True) is not None
    assert planned >= len(deltas) // 2


def test_held_places_are_counted_afresh_when_most_children_changed():
    from dataclasses import replace

    sc = generate(40, 20, seed=2, n_gemeenten=2)
    base = ScenarioIndex(sc)
    new = replace(sc, children=tuple(replace(c) for c in sc.children))  # all new objects
    reused = ScenarioIndex(new)
    assert reused._held_from(base) is None
    reused.reuse(base)
    assert reused.held_places == ScenarioIndex(new).held_places
