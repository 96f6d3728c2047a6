"""A re-solve within the neighbourhood a change can reach gives the same answer for
the child, and the same number placed within the norm, as a re-solve of the whole
scenario (matcher.domain.neighbourhood)."""

from __future__ import annotations

import datetime as dt

import pytest

from matcher.domain.incremental import resolve
from matcher.domain.match import DEFAULT_OPTIONS, MatchResult, match
from matcher.domain.neighbourhood import Neighbourhoods
from matcher.domain.whatif import AddPlaces, AllowLate, ChangeCeiling, Delta, apply_all
from providers import demo
from providers.convert import to_scenario

TODAY = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def base() -> MatchResult:
    data = demo.generate_region("JZ31", seed=3, n_children=160, today=TODAY)
    return match(to_scenario(data, evaluation_date=TODAY, region_code="JZ31"))


def _changes(r: MatchResult) -> list[tuple[str, str, tuple[Delta, ...]]]:
    """For some unplaced needs: extra places at each candidate, a late start, and a
    ceiling raise where a ceiling blocks."""
    out: list[tuple[str, str, tuple[Delta, ...]]] = []
    for ref, nid in r.unplaced[:12]:
        for pc in r.compiled.eligibility.pairs.get((ref, nid), [])[:2]:
            for k in (2,):
                out.append((ref, nid, (AddPlaces(pc.offering_id, k),)))
            out.append((ref, nid, (AllowLate(True), AddPlaces(pc.offering_id, 1))))
            for b in pc.blocking_budgets:
                out.append((ref, nid, (ChangeCeiling(b, 1_000_000),)))
    return out


def test_the_neighbourhood_answers_as_the_whole(base: MatchResult) -> None:
    hoods = Neighbourhoods(base)
    changes = _changes(base)
    assert len(changes) >= 20
    local_used = 0
    placed = 0
    for ref, nid, deltas in changes:
        scope = hoods.scope(deltas, ref, nid)
        assert scope is not None
        got = hoods.resolve(deltas, scope, DEFAULT_OPTIONS)
        if got is None:
            continue
        local_used += 1
        whole, _ = resolve(base, apply_all(base.scenario, list(deltas)))
        local_placements, local_within = got
        assert ((ref, nid) in local_placements) == ((ref, nid) in whole.placements), deltas
        placed += (ref, nid) in whole.placements
        if not any(isinstance(d, AllowLate) for d in deltas):
            assert local_within == whole.n_within_norm, deltas
        else:
            # a late start for everyone only adds arcs: elsewhere no fewer within the norm
            assert local_within <= whole.n_within_norm
    assert local_used >= len(changes) // 2
    assert placed > 0, "some change must place a child, else the check says little"


def test_a_switch_for_everyone_has_no_neighbourhood(base: MatchResult) -> None:
    from matcher.domain.whatif import AllowOutOfRegion

    ref, nid = base.unplaced[0]
    assert Neighbourhoods(base).scope((AllowOutOfRegion(True),), ref, nid) is None


def test_a_relaxing_change_checks_only_the_pairs_it_can_turn(base: MatchResult) -> None:
    """The part's pair checks after more places, a higher ceiling or late starts are
    those of checking every pair of the part again (without the budget's provider a
    raise used to do exactly that)."""
    from matcher.domain.eligibility import PairCheck, evaluate
    from matcher.domain.neighbourhood import _relaxed

    hoods = Neighbourhoods(base)
    budgets = [b.id for b in base.scenario.budgets]
    assert budgets
    compared = 0
    memo: dict[tuple[tuple[str, str], str], PairCheck] = {}
    extra: list[tuple[str, str, tuple[Delta, ...]]] = [
        (*base.unplaced[0], (AllowLate(True), ChangeCeiling(budgets[0], 2_000_000))),
        (*base.unplaced[0], (AllowLate(True),)),
        (*base.unplaced[1], (ChangeCeiling(budgets[-1], 500_000),)),
    ]
    for ref, nid, deltas in [*_changes(base)[:16], *extra]:
        scope = hoods.scope(deltas, ref, nid)
        assert scope is not None
        part = hoods._part(scope)
        new = apply_all(part.scenario, list(deltas))
        # one memo over every change, as Neighbourhoods keeps it over an explanation
        fast = _relaxed(part, new, deltas, memo)
        assert fast is not None, deltas
        full = evaluate(new)
        assert list(fast.pairs) == list(full.pairs)
        for key in full.pairs:
            want = sorted(pc.offering_id for pc in full.eligible(*key))
            got = sorted(pc.offering_id for pc in fast.pairs[key] if pc.eligible)
            assert got == want, (deltas, key)
            compared += 1
    assert compared > 100


def test_a_lowering_change_is_not_relaxed(base: MatchResult) -> None:
    from matcher.domain.neighbourhood import _relaxed

    hoods = Neighbourhoods(base)
    ref, nid = base.unplaced[0]
    budget = base.scenario.budgets[0].id
    deltas = (ChangeCeiling(budget, -100),)
    scope = hoods.scope(deltas, ref, nid)
    assert scope is not None
    part = hoods._part(scope)
    assert _relaxed(part, apply_all(part.scenario, list(deltas)), deltas) is None


def test_a_change_that_leaves_the_child_no_eligible_pair_needs_no_re_solve(
    base: MatchResult,
) -> None:
    hoods = Neighbourhoods(base)
    ruled_out = 0
    for ref, nid in base.unplaced:
        for pc in base.compiled.eligibility.pairs.get((ref, nid), []):
            deltas = (AddPlaces(pc.offering_id, 5),)
            scope = hoods.scope(deltas, ref, nid)
            assert scope is not None
            if hoods.placeable(deltas, scope, (ref, nid)):
                continue
            ruled_out += 1
            if ruled_out <= 6:  # the whole re-solve agrees (a few: they cost time)
                whole, _ = resolve(base, apply_all(base.scenario, list(deltas)))
                assert (ref, nid) not in whole.placements, deltas
    assert ruled_out > 0
