from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from matcher.domain.eligibility import Reason
from matcher.domain.explain import explain, sentences
from matcher.domain.match import match
from matcher.domain.model import Budget, CareType, ChildAttribute, Expertise, Release
from matcher.domain.whatif import (
    AddChildren,
    AddOffering,
    AddPlaces,
    ChangeCeiling,
    DeltaError,
    GemeenteLeaves,
    LiftIntakeStop,
    RemoveChildren,
    SetReleases,
    WaiveContraIndication,
    apply,
    compare,
    delta_from_json,
    delta_to_json,
    what_if,
)

from .helpers import child, offering, scenario


def test_deltas_are_pure_and_round_trip_json():
    sc = scenario([child("A")], [offering("O", free_now=1)])
    before = repr(sc)
    deltas = [
        AddPlaces("O", 2),
        AddPlaces("O", 1, on=date(2022, 4, 1)),
        SetReleases("O", (Release(date(2022, 5, 1), 3),)),
        WaiveContraIndication("O", ChildAttribute.AGGRESSION),
        LiftIntakeStop("O"),
        RemoveChildren(("A",)),
        GemeenteLeaves("GM0599"),
        AddChildren((child("B"),)),
        AddOffering(
            offering(
                "NIEUW",
                CareType.PLEEGZORG,
                expertise=frozenset(Expertise),
                contra_indications=frozenset({ChildAttribute.AGGRESSION}),
            )
        ),
    ]
    for d in deltas:
        new = apply(sc, d)
        assert new is not sc
        assert delta_from_json(delta_to_json(d)) == d
    assert repr(sc) == before
    assert apply(sc, AddPlaces("O", 2)).offering_by_id["O"].free_now == 3
    assert apply(sc, AddPlaces("O", -5)).offering_by_id["O"].free_now == 0
    with pytest.raises(DeltaError):
        apply(sc, AddOffering(offering("O")))  # an id that exists: never two offerings


def test_compare_per_gemeente_care_type_moves_and_cost():
    kids = [child("A"), child("B", gemeente="GM0597")]
    sc = scenario(kids, [offering("O", free_now=1, price_cents=100_00)])
    w = what_if(sc, [AddPlaces("O", 1)])
    c = w.comparison
    assert (c.within_norm_before, c.within_norm_after) == (1, 2)
    assert sum(a for a, _ in c.by_gemeente.values()) == 1
    assert sum(b for _, b in c.by_gemeente.values()) == 2
    assert c.by_care_type == {"AMBULANTE_JGGZ": (1, 2)}
    assert len(c.moves) == 1
    assert c.cost_difference_cents == 100_00
    assert compare(w.base, w.base).moves == []


def test_binding_resources_name_the_children_that_took_the_places():
    a = child("A", ruling_date=date(2021, 10, 1))  # overdue: gets the place
    b = child("B")
    r = match(scenario([a, b], [offering("O", free_now=1)]))
    ex = explain(r)
    (ne,) = ex.needs
    assert (ne.child_ref, ne.summary) == ("B", "NO_CAPACITY")
    assert ne.binding[0].taken_by == ("A",)
    assert any("gingen naar: A" in s for s in ne.to_json()["sentences"])
    ch = ne.smallest_change
    assert ch is not None
    assert ch.deltas == (AddPlaces("O", 1),)
    named = sentences(ne, lambda oid: f"Aanbieder van {oid}")
    assert "De plekken bij Aanbieder van O gingen naar: A." in named
    assert named[-1].endswith("kan het kind starten bij Aanbieder van O.")
    assert not any(s.startswith("O:") or " bij O " in s for s in named)


def test_budget_binding_by_competition_and_verified_lift():
    a = child("A", ruling_date=date(2021, 10, 1))
    b = child("B")
    sc = scenario([a, b], [offering("O", free_now=2, price_cents=100_00)])
    sc = replace(sc, budgets=(Budget("BUD", 150_00, 0, provider="O"),))
    r = match(sc)
    (ne,) = explain(r).needs
    assert ne.summary == "BUDGET_CEILING_REACHED"
    assert ne.binding[0].kind == "budget"
    assert ne.binding[0].taken_by == ("A",)
    assert ne.smallest_change.deltas == (ChangeCeiling("BUD", 50_00),)


def test_search_is_capped_and_never_guesses():
    kids = [child("A", attributes=frozenset({ChildAttribute.LVB}))]
    r = match(scenario(kids, [offering("O")]))
    (ne,) = explain(r).needs
    assert ne.candidates[0].reason is Reason.NO_LVB_EXPERTISE
    assert ne.smallest_change is None  # no delta can give expertise
    assert ne.search_note


def test_objective_breakdown_per_rule():
    r = match(scenario([child("A")], [offering("O", ct=CareType.AMBULANTE_JGGZ)]))
    br = explain(r).objective
    assert br["meets_target"]["points"] == 1
    assert br["home"]["points"] == 4
    total = sum(v["score"] for v in br.values())
    assert total == r.solution.objective
