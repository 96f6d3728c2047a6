"""A what-if's bound from the base bound: valid against the optimum solved from scratch,
and the patch's record of which items kept their base arcs is exact."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest

from matcher.domain.compile import Compiled, compile_scenario
from matcher.domain.compile_patch import patch_compile_kept
from matcher.domain.eligibility import evaluate
from matcher.domain.incremental import delta_bound, evaluate_changes, resolve
from matcher.domain.match import match
from matcher.domain.model import Scenario
from matcher.domain.synth import generate
from matcher.domain.whatif import AddPlaces, ChangeCeiling, apply
from matcher.problem import AssignmentProblem
from matcher.solution import SolveOptions, Status, verify
from tests.domain.test_compile_patch import _deltas


def _patched(sc: Scenario, base: Compiled, seed: int) -> Iterator[tuple[str, Compiled, np.ndarray]]:
    """Each delta of `_deltas` that a patch can compile: its kind, the patched problem and
    which items kept their base arcs."""
    for kind, d in _deltas(sc, seed):
        new = apply(sc, d)
        elig, changes = evaluate_changes(new, base.eligibility)
        out = patch_compile_kept(base, new, elig, changes)
        if out is not None:
            yield kind, out[0], out[1]


EXACT = SolveOptions(time_limit_s=20, relative_gap=0.0)


def _arcs(p: AssignmentProblem, raw: tuple[np.ndarray, ...], i: int) -> set[tuple]:
    ptr, res, amt = raw
    out = set()
    for a in np.flatnonzero(p.arc_item == i).tolist():
        uses = tuple(
            sorted(
                (p.resource_ids[int(r)], int(q))
                for r, q in zip(res[ptr[a] : ptr[a + 1]], amt[ptr[a] : ptr[a + 1]], strict=True)
            )
        )
        out.add((p.option_ids[int(p.arc_option[a])], int(p.arc_value[a]), uses))
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_kept_items_have_their_base_arcs(seed):
    sc = generate(80, 40, seed=seed, n_gemeenten=4)
    base = compile_scenario(sc)
    rebuilt_somewhere = False
    for kind, comp, kept in _patched(sc, base, seed):
        assert kept.shape == (comp.problem.n_items,)
        bix = base.problem.item_index()
        for i, it in enumerate(comp.problem.item_ids):
            if kept[i]:
                assert _arcs(comp.problem, comp.raw_uses, i) == _arcs(
                    base.problem, base.raw_uses, bix[it]
                ), (kind, it)
        rebuilt_somewhere |= not bool(kept.all())
    assert rebuilt_somewhere


def test_the_bound_from_the_base_bound_is_at_least_the_optimum():
    """With the base's optimum as its bound, the adjusted bound of every delta kind (and
    of more places where the base placed most) is at least the optimum of the changed
    scenario solved from scratch."""
    grew = 0
    checked = 0
    for seed in (4, 6):
        grew, checked = _check_bounds(seed, grew, checked)
    assert checked >= 20
    assert grew > 0  # some delta raised the optimum above the base bound: it was adjusted


def _check_bounds(seed: int, grew: int, checked: int) -> tuple[int, int]:
    sc = generate(60, 12, seed=seed, n_gemeenten=3)
    base = match(sc, EXACT)
    assert base.solution.status is Status.OPTIMAL
    bound0 = float(base.solution.objective)
    busy = Counter(p.offering for p in base.placements.values())
    more = [(f"add_places:{o}", AddPlaces(o, 2)) for o, _ in busy.most_common(3)]
    for kind, d in [*_deltas(sc, seed), *more]:
        new = apply(sc, d)
        elig, changes = evaluate_changes(new, base.compiled.eligibility)
        out = patch_compile_kept(base.compiled, new, elig, changes)
        if out is None:
            continue
        comp, kept = out
        scratch = match(new, EXACT, compiled=compile_scenario(new, evaluate(new)))
        assert scratch.solution.status is Status.OPTIMAL
        b = delta_bound(base.compiled.problem, bound0, comp.problem, kept)
        if b is None:
            continue
        checked += 1
        assert b >= scratch.solution.objective, kind
        grew += scratch.solution.objective > bound0
        if bool(kept.all()) and np.array_equal(
            comp.problem.capacity[
                [comp.problem.resource_index()[r] for r in base.compiled.problem.resource_ids]
            ],
            base.compiled.problem.capacity,
        ):
            assert b == bound0, kind  # nothing changed: the base bound itself
    return grew, checked


def test_the_bound_counts_raised_capacity():
    """One more place where every child wants to go: the base optimum alone is no bound."""
    p = AssignmentProblem(
        item_ids=("a", "b"),
        must_assign=np.zeros(2, dtype=bool),
        unassigned_penalty=np.zeros(2, dtype=np.int64),
        option_ids=("x",),
        resource_ids=("r",),
        capacity=np.array([1], dtype=np.int64),
        arc_item=np.array([0, 1], dtype=np.int32),
        arc_option=np.array([0, 0], dtype=np.int32),
        arc_value=np.array([5, 7], dtype=np.int64),
        use_ptr=np.array([0, 1, 2], dtype=np.int64),
        use_resource=np.array([0, 0], dtype=np.int32),
        use_amount=np.array([1, 1], dtype=np.int64),
        pinned=np.zeros(2, dtype=bool),
        forbidden=np.zeros(2, dtype=bool),
    )
    wider = replace(p, capacity=np.array([2], dtype=np.int64))
    b = delta_bound(p, 7.0, wider, np.ones(2, dtype=bool))
    assert b is not None
    assert b >= 12
    assert delta_bound(p, math.inf, wider, np.ones(2, dtype=bool)) is None


def test_a_what_if_reports_the_tighter_valid_bound():
    sc = generate(60, 30, seed=4, n_gemeenten=3)
    base = match(sc, EXACT)
    for kind, d in _deltas(sc, 4)[:6]:
        new = apply(sc, d)
        r, comp = resolve(base, new, EXACT)
        verify(comp.problem, r.solution)
        scratch = match(new, EXACT, compiled=compile_scenario(new, evaluate(new)))
        if r.solution.best_bound is not None:
            assert r.solution.best_bound >= scratch.solution.objective, kind
        assert isinstance(r.solution.stats["bound_from_base"], bool)


@pytest.mark.parametrize("seed", [4, 6])
def test_a_place_that_stops_binding_is_not_reused_as_unchanged(seed):
    """So many more places that the offering's place row is dropped as redundant: the
    new arcs no longer show it, yet the parts of the base answer that it limited must be
    solved again (the patch knows the items kept their arcs; the capacity changed)."""
    sc = generate(60, 12, seed=seed, n_gemeenten=3)
    base = match(sc, EXACT)
    busy = Counter(p.offering for p in base.placements.values())
    for oid, _ in busy.most_common(3):
        new = apply(sc, AddPlaces(oid, 60))
        r, comp = resolve(base, new, EXACT)
        verify(comp.problem, r.solution)
        scratch = match(new, EXACT, compiled=compile_scenario(new, evaluate(new)))
        assert r.solution.status is Status.OPTIMAL, oid
        assert r.solution.objective == scratch.solution.objective, oid


@pytest.mark.parametrize("seed", [2, 3, 5])
def test_a_budget_that_stops_binding_is_not_reused_as_unchanged(seed):
    """A ceiling raised so far that its budget row is dropped as redundant: the items
    on it keep their arcs, but what the row limited in the base must be solved again."""
    sc = generate(80, 40, seed=seed, n_gemeenten=4)
    base = match(sc, EXACT)
    for b in sc.budgets:
        new = apply(sc, ChangeCeiling(b.id, 10**12))
        r, comp = resolve(base, new, EXACT)
        verify(comp.problem, r.solution)
        scratch = match(new, EXACT, compiled=compile_scenario(new, evaluate(new)))
        assert r.solution.status is Status.OPTIMAL, b.id
        assert r.solution.objective == scratch.solution.objective, b.id


@pytest.mark.parametrize("seed", [1, 2])
def test_components_from_the_base_join_whole_components(seed):
    """The labels a what-if builds from the base's components give every component of
    the new problem one label (they may join several, never split one)."""
    from matcher.domain.component_reuse import components_of, labels_from_base
    from matcher.domain.components import prepare_base

    sc = generate(80, 40, seed=seed, n_gemeenten=4)
    base = compile_scenario(sc)
    prepare_base(base.problem)
    derived_somewhere = 0
    for kind, comp, kept in _patched(sc, base, seed):
        p = comp.problem
        got = labels_from_base(p, base.problem, kept)
        assert got is not None, kind
        derived_somewhere += 1
        true = components_of(p)
        assert got.shape == true.shape
        for lab in np.unique(true):
            assert np.unique(got[true == lab]).size == 1, kind
        items = p.arc_item[p.use_arc_index()]
        assert np.array_equal(got[items], got[p.n_items + p.use_resource]), kind
    assert derived_somewhere > 5


def test_positions_by_prefix_and_by_lookup():
    from matcher.domain.component_reuse import positions

    base = ("a", "b", "c")
    index = {k: i for i, k in enumerate(base)}
    got, prefix = positions(("a", "b", "c", "d"), base, index)
    assert prefix
    assert got.tolist() == [0, 1, 2, -1]
    got, prefix = positions(("c", "a", "d"), base, index)
    assert not prefix
    assert got.tolist() == [2, 0, -1]
    got, prefix = positions(("a", "b"), base, index)
    assert not prefix
    assert got.tolist() == [0, 1]


@pytest.mark.parametrize("seed", [1, 2])
def test_reuse_is_the_same_with_and_without_the_in_place_shortcut(seed, monkeypatch):
    """Which components a what-if keeps does not depend on the shortcut taken when the
    new problem starts with the base's items and resources in the base's order."""
    from matcher.domain import component_reuse as cr
    from matcher.domain.components import prepare_base

    sc = generate(80, 40, seed=seed, n_gemeenten=4)
    base = match(sc, EXACT)
    bp = base.compiled.problem
    prepare_base(bp)
    lookup = cr.positions

    def no_shortcut(ids, base_ids, base_index):
        return np.fromiter((base_index.get(k, -1) for k in ids), np.int64, len(ids)), False

    in_place = 0
    for kind, comp, kept in _patched(sc, base.compiled, seed):
        p = comp.problem
        sig = cr.base_signatures(bp)
        if sig.positions(p)[2] or sig.positions(p)[3]:
            in_place += 1
        with monkeypatch.context() as m:
            m.setattr(cr, "positions", lookup)
            labels = cr.labels_from_base(p, bp, kept)
            fast = cr.unchanged_components(p, sig, base.proven_items, labels, kept)
            m.setattr(cr, "positions", no_shortcut)
            slow_labels = cr.labels_from_base(p, bp, kept)
            slow = cr.unchanged_components(p, sig, base.proven_items, slow_labels, kept)
        assert np.array_equal(labels, slow_labels), kind
        assert np.array_equal(fast[0], slow[0]), kind
        assert np.array_equal(fast[1], slow[1]), kind
    assert in_place > 5
