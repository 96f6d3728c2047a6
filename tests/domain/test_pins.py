"""Domain-level pins and forbids: the tafel's decisions as deltas."""

from __future__ import annotations

import pytest

from matcher.domain import scenario_file
from matcher.domain.eligibility import Reason, evaluate
from matcher.domain.explain import explain, sentences
from matcher.domain.incremental import evaluate_incremental
from matcher.domain.match import match
from matcher.domain.model import ChildAttribute, DeltaError, Forbid, Pin
from matcher.domain.whatif import (
    AddPlaces,
    apply,
    apply_all,
    delta_from_json,
    delta_to_json,
    deltas_from_json,
    what_if,
)

from .helpers import child, offering, scenario


def two_offerings():
    # the home-like offering H wins on its own; R is the worse choice
    kids = [child("A"), child("B")]
    offs = [offering("H", free_now=2, price_cents=100_00), offering("R", free_now=2)]
    return scenario(kids, offs)


def test_pin_and_forbid_round_trip_json():
    for d in (Pin("A", "n", "R"), Forbid("A", "n", "H")):
        doc = delta_to_json(d)
        assert doc["kind"] in ("pin", "forbid")
        assert delta_from_json(doc) == d
    assert deltas_from_json(
        [{"kind": "pin", "child_ref": "A", "need_id": "n", "offering": "R"}]
    ) == [Pin("A", "n", "R")]


def test_a_pin_sends_the_need_to_that_offering():
    sc = two_offerings()
    assert match(sc).placements[("A", "n")].offering == "H"
    pinned = apply(sc, Pin("A", "n", "R"))
    assert pinned.pins == (Pin("A", "n", "R"),)
    r = match(pinned)
    assert r.placements[("A", "n")].offering == "R"
    assert r.placements[("B", "n")].offering == "H"


def test_a_pin_holds_against_competition_for_the_place():
    kids = [child("A"), child("OLD", ruling_date=child().ruling_date.replace(year=2021))]
    sc = scenario(kids, [offering("O", free_now=1)])
    assert match(sc).placements.get(("OLD", "n")) is not None  # overdue first
    r = match(apply(sc, Pin("A", "n", "O")))
    assert r.placements[("A", "n")].offering == "O"
    assert ("OLD", "n") in r.unplaced


def test_a_new_pin_replaces_the_old_one():
    sc = apply_all(two_offerings(), [Pin("A", "n", "R"), Pin("A", "n", "H")])
    assert sc.pins == (Pin("A", "n", "H"),)


def test_a_pin_on_an_ineligible_pair_is_a_clear_error():
    attrs = frozenset({ChildAttribute.AGGRESSION})
    sc = scenario(
        [child("A", attributes=attrs)],
        [offering("H"), offering("R", contra_indications=attrs)],
    )
    with pytest.raises(DeltaError, match="contra-indicatie"):
        match(apply(sc, Pin("A", "n", "R")))
    with pytest.raises(DeltaError, match="contra-indicatie"):
        what_if(sc, [Pin("A", "n", "R")])


def test_a_pin_needs_a_place():
    sc = scenario([child("A"), child("B")], [offering("O", free_now=1), offering("P")])
    with pytest.raises(DeltaError, match="plekken"):
        match(apply_all(sc, [Pin("A", "n", "O"), Pin("B", "n", "O")]))


def test_pins_and_forbids_name_known_children_needs_and_offerings():
    sc = two_offerings()
    for bad in (Pin("X", "n", "H"), Pin("A", "x", "H"), Forbid("A", "n", "X")):
        with pytest.raises(DeltaError):
            apply(sc, bad)


def test_a_forbidden_pair_is_never_used_and_explained_as_excluded():
    sc = scenario([child("A")], [offering("H", free_now=1)])
    sc2 = apply(sc, Forbid("A", "n", "H"))
    assert apply(sc2, Forbid("A", "n", "H")) == sc2  # forbidding twice changes nothing
    r = match(sc2)
    assert r.unplaced == [("A", "n")]
    assert all(info.offering != "H" for info in r.compiled.arcs)
    ne = explain(r).needs[0]
    assert ne.candidates[0].reason is Reason.EXCLUDED_BY_TABLE
    assert ne.summary == "ALL_CANDIDATES_EXCLUDED_BY_TABLE"
    assert ne.summary != "NO_CAPACITY"
    assert ne.to_json()["group"] == "tafel"
    assert any("uitgesloten door de tafel" in s for s in sentences(ne))
    assert ne.smallest_change is None  # lifting a decision of the tafel is no suggestion


def test_a_forbid_leaves_other_offerings_open():
    sc = two_offerings()
    r = match(apply(sc, Forbid("A", "n", "H")))
    assert r.placements[("A", "n")].offering == "R"


def test_a_pin_on_a_forbidden_pair_is_an_error():
    sc = apply_all(two_offerings(), [Forbid("A", "n", "R"), Pin("A", "n", "R")])
    with pytest.raises(DeltaError, match="tafel"):
        match(sc)


def test_what_if_with_decisions_equals_a_fresh_match():
    sc = two_offerings()
    base = match(sc)
    deltas = [Forbid("A", "n", "H"), Pin("B", "n", "R"), AddPlaces("H", 1)]
    w = what_if(sc, deltas, base=base)
    fresh = match(apply_all(sc, deltas))
    assert {k: p.offering for k, p in w.result.placements.items()} == {
        k: p.offering for k, p in fresh.placements.items()
    }
    assert w.result.placements[("A", "n")].offering == "R"
    assert w.result.placements[("B", "n")].offering == "R"


def test_forbids_change_eligibility_incrementally():
    sc = two_offerings()
    base = evaluate(sc)
    new = apply(sc, Forbid("A", "n", "H"))
    inc = evaluate_incremental(new, base)
    full = evaluate(new)
    assert inc.pairs == full.pairs


def test_decisions_are_not_written_into_a_scenario_file():
    sc = apply(two_offerings(), Pin("A", "n", "R"))
    with pytest.raises(ValueError, match="tafel"):
        scenario_file.dumps(sc)
    assert scenario_file.loads(scenario_file.dumps(two_offerings())) == two_offerings()


def test_a_pin_is_honoured_when_a_what_if_reuses_the_base_answer():
    # one offering, one place; the overdue child takes it in the base answer
    old = child("OLD", ruling_date=child().ruling_date.replace(year=2021))
    sc = scenario([child("A"), old], [offering("O", free_now=1)])
    base = match(sc)
    assert ("A", "n") in base.unplaced
    w = what_if(sc, [Pin("A", "n", "O")], base=base)
    assert w.result.placements[("A", "n")].offering == "O"
    assert ("OLD", "n") in w.result.unplaced
