"""The decisive reason, the search for what would help, and the counting rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from matcher.domain import scenario_file
from matcher.domain.decisive import Blockers, decide
from matcher.domain.explain import explain, sentences
from matcher.domain.helps import SearchLimits
from matcher.domain.incremental import _capacity_only, evaluate_incremental, resolve
from matcher.domain.match import match
from matcher.domain.model import (
    CareType,
    ChildAttribute,
    Forbid,
    MeasureType,
    UnclassifiedNeed,
)
from matcher.domain.reasons import (
    MIXED,
    NOT_A_CANDIDATE,
    PRECEDENCE,
    Reason,
    euro_text,
    name_list,
    plural,
)
from matcher.domain.uitvraag import Snapshot, WaitingRecord, build_report, municipal_view
from matcher.domain.whatif import (
    AddPlaces,
    ChangeCeiling,
    LiftIntakeStop,
    WaiveContraIndication,
    apply,
)

from .conftest import scenario as fixture
from .helpers import EV, child, offering, scenario, with_policy
from .test_reasons import assert_readable

OVERDUE = date(2021, 10, 1)


def test_every_reason_has_a_place_in_the_precedence():
    assert set(PRECEDENCE) | NOT_A_CANDIDATE == set(Reason)
    assert not set(PRECEDENCE) & NOT_A_CANDIDATE
    order = list(PRECEDENCE)
    assert order.index(Reason.NOT_PURCHASED) < order.index(Reason.CONTRA_INDICATION)
    assert order.index(Reason.CONTRA_INDICATION) < order.index(Reason.NO_LVB_EXPERTISE)
    assert order.index(Reason.NO_LVB_EXPERTISE) < order.index(Reason.FAMILY_PREFERS_WAITLIST)
    assert order.index(Reason.FAMILY_PREFERS_WAITLIST) < order.index(Reason.EXCLUDED_BY_TABLE)
    assert order.index(Reason.EXCLUDED_BY_TABLE) < order.index(Reason.BUDGET_CEILING_REACHED)
    assert order.index(Reason.BUDGET_CEILING_REACHED) < order.index(Reason.WAIT_EXCEEDS_DEADLINE)
    assert order.index(Reason.WAIT_EXCEEDS_DEADLINE) < order.index(Reason.NO_CAPACITY)


def test_decide_one_reason_away_wins_by_precedence():
    b = [
        Blockers("A", (Reason.NO_CAPACITY,), True),
        Blockers("B", (Reason.BUDGET_CEILING_REACHED,), True),
    ]
    d = decide(b, care_label="x", names={"B": "Aanbieder B"})
    assert d.reason is Reason.BUDGET_CEILING_REACHED
    assert d.offerings == ("B",)
    assert d.near
    assert "Aanbieder B" in d.text


def test_decide_mixed_only_when_no_order_decides():
    two = [
        Blockers("A", (Reason.CONTRA_INDICATION, Reason.NO_CAPACITY), True),
        Blockers("B", (Reason.INTAKE_STOP, Reason.NO_CAPACITY), True),
    ]
    d = decide(two, care_label="x", names={})
    assert d.code == MIXED
    assert d.reason is None
    assert d.parts == (Reason.CONTRA_INDICATION, Reason.INTAKE_STOP)
    assert_readable(d.text)
    same = [
        Blockers("A", (Reason.CONTRA_INDICATION, Reason.NO_CAPACITY), True),
        Blockers("B", (Reason.CONTRA_INDICATION, Reason.INTAKE_STOP), True),
    ]
    assert decide(same, care_label="x", names={}).reason is Reason.CONTRA_INDICATION


def test_decide_not_offered_in_region():
    d = decide([], care_label="gezinshuis", names={})
    assert d.code == "NOT_OFFERED_IN_REGION"
    assert d.text == "Niemand in de regio biedt gezinshuis; inkoop kan dit inkopen."


def test_contra_indication_with_a_place_outranks_a_full_provider():
    a = child("A", attributes=frozenset({ChildAttribute.AGGRESSION}))
    offs = [
        offering("K1", contra_indications=frozenset({ChildAttribute.AGGRESSION})),
        offering("K2", free_now=0),
    ]
    ne = explain(match(scenario([a], offs))).needs[0]
    assert ne.decisive.reason is Reason.CONTRA_INDICATION
    assert "agressie" in ne.decisive.text


def test_a_forbidden_offering_is_never_full_and_never_proposed():
    a = child("A")
    sc = scenario([a], [offering("O", free_now=1), offering("P", free_now=0)])
    sc = apply(sc, Forbid("A", "n", "O"))
    ne = explain(match(sc)).needs[0]
    by = {c.offering: c for c in ne.candidates}
    assert by["O"].reason is Reason.EXCLUDED_BY_TABLE
    assert Reason.NO_CAPACITY not in by["O"].blockers
    assert ne.decisive.reason is Reason.EXCLUDED_BY_TABLE
    for ch in ne.changes:
        assert all(getattr(d, "offering", None) != "O" for d in ch.deltas)
    assert ne.smallest_change.deltas == (AddPlaces("P", 1),)


def test_forbidden_only_candidate_gets_a_sentence_not_a_change():
    sc = apply(scenario([child("A")], [offering("O", free_now=1)]), Forbid("A", "n", "O"))
    ne = explain(match(sc)).needs[0]
    assert ne.changes == []
    assert ne.search_note.startswith("Geen wijziging gevonden")
    assert "uitgesloten door de tafel" in ne.search_note
    assert_readable(ne.search_note)


def test_waiver_is_proposed_only_when_the_policy_allows_it():
    a = child("A", attributes=frozenset({ChildAttribute.AGGRESSION}))
    o = offering("K", contra_indications=frozenset({ChildAttribute.AGGRESSION}))
    sc = scenario([a], [o])
    ne = explain(match(sc)).needs[0]
    assert ne.changes == []
    assert "contra-indicatie" in ne.search_note
    ne = explain(match(with_policy(sc, allow_waivers=True))).needs[0]
    assert ne.smallest_change.deltas == (WaiveContraIndication("K", ChildAttribute.AGGRESSION),)


def test_two_reasons_at_one_offering_give_a_pair_of_changes():
    sc = scenario([child("A")], [offering("O", free_now=0, intake_stop=True)])
    ne = explain(match(sc)).needs[0]
    assert ne.smallest_change.deltas == (LiftIntakeStop("O"), AddPlaces("O", 1))


def test_nothing_found_says_what_was_searched():
    ahead = [child(f"V{i}", ruling_date=OVERDUE) for i in range(6)]
    sc = scenario([*ahead, child("C")], [offering("O", free_now=0)])
    r = match(sc)
    ne = next(
        n for n in explain(r, limits=SearchLimits(max_resolves=30)).needs if n.child_ref == "C"
    )
    assert ne.changes == []
    assert ne.search_note == (
        "Geen wijziging gevonden: tot 5 extra plekken bij O plaatsen dit kind niet."
    )


def test_the_resolve_cap_is_said():
    # urgent children go first at O, but C's deadline comes first, so C is searched
    # first and reuses no re-solve of theirs
    ahead = [child(f"V{i}", ruling_date=date(2022, 2, 20), acute_unsafety=True) for i in range(3)]
    sc = scenario([child("C"), *ahead], [offering("O", free_now=0)])
    ne = next(
        n
        for n in explain(match(sc), limits=SearchLimits(max_resolves=1)).needs
        if n.child_ref == "C"
    )
    assert ne.search_limit_reached
    assert ne.resolves == 1
    assert "1 herberekening" in ne.search_note
    assert_readable(ne.search_note)


def test_dutch_number_words():
    assert plural(1, "plek", "plekken") == "1 plek"
    assert plural(3, "plek", "plekken") == "3 plekken"
    assert plural(1, "kind", "kinderen") == "1 kind"
    assert euro_text(5_000_000) == "€ 50.000"
    assert euro_text(100_150) == "€ 1.002"
    assert name_list(["A", "B", "C"]) == "A, B en C"


def test_names_instead_of_codes_in_sentences():
    a = child("A", ruling_date=OVERDUE)
    sc = scenario([a, child("B")], [offering("O", free_now=1, provider_name="Zorg BV")])
    ne = explain(match(sc)).needs[0]
    text = sentences(ne)
    assert any(line.startswith("Zorg BV:") for line in text)
    assert text[-1] == "Als er bij Zorg BV 1 plek bij komt, kan het kind starten bij Zorg BV."


# ----------------------------------------------------------- unclassified


def test_unclassified_needs_round_trip_and_validation():
    kid = replace(child("U"), needs=(), unclassified_needs=(UnclassifiedNeed("x"),))
    sc = scenario([kid, child("A")], [offering("O")])
    assert scenario_file.loads(scenario_file.dumps(sc)) == sc
    bare = replace(kid, unclassified_needs=())
    issues = scenario_file.scenario_issues(scenario([bare], [offering("O")]))
    assert any("minstens één hulpvraag" in i.message for i in issues)
    r = match(sc)
    assert r.unclassified == [("U", "x")]
    assert r.child_counts().unclassified == 1
    ex = explain(r)
    assert [n.child_ref for n in ex.needs] == []


def test_uitvraag_counts_unclassified_requests():
    rec = WaitingRecord(
        "r1", "K1", "JBRR", "GM0599", MeasureType.OTS, date(2021, 11, 1), care_types=()
    )
    rep = build_report(Snapshot(EV, "JZ29", (rec,)))
    assert rep.unclassified == 1
    assert rep.to_json()["unclassified"] == 1
    assert rep.to_json()["count_date"] == EV.isoformat()
    assert rep.by_gemeente["GM0599"]["b_unclassified"] == 1
    assert municipal_view(rep)["unclassified"] == 1


@pytest.mark.parametrize("allowed", [False, True])
def test_policy_allow_waivers_round_trips(allowed):
    sc = with_policy(scenario([child("A")], [offering("O")]), allow_waivers=allowed)
    assert scenario_file.loads(scenario_file.dumps(sc)).policy.allow_waivers is allowed


def test_a_spent_time_budget_is_said_not_hidden():
    ahead = [child(f"V{i}", ruling_date=OVERDUE) for i in range(2)]
    sc = scenario([*ahead, child("C")], [offering("O", free_now=0)])
    for ne in explain(match(sc), time_budget_s=0.0).needs:
        assert ne.changes == []
        assert ne.search_out_of_time
        assert ne.search_note.startswith("Niet (verder) gezocht")


def test_gemeente_names_follow_the_codes():
    sc = scenario([child("A")], [offering("O")])
    named = replace(sc, regions=(replace(sc.regions[0], gemeente_names=("Rotterdam", "")),))
    assert named.gemeente_name == {"GM0599": "Rotterdam"}
    assert not scenario_file.scenario_issues(named)
    bad = replace(sc, regions=(replace(sc.regions[0], gemeente_names=("Rotterdam",)),))
    assert any("gemeente_names" in i.where for i in scenario_file.scenario_issues(bad))


def _queue():
    return scenario([child("A", ruling_date=OVERDUE), child("B")], [offering("O", free_now=1)])


@pytest.mark.parametrize(
    ("build", "delta", "fast_path"),
    [
        (_queue, AddPlaces("O", 1), True),
        (lambda: fixture("u4_ceiling_search.json"), ChangeCeiling("DORD-GGZ", 100_200), True),
        # new pairs become eligible: compiled again
        (lambda: fixture("u3_third_in_queue.json"), AddPlaces("G-GH", 3), False),
        (lambda: fixture("t2_traumatherapie.json"), ChangeCeiling("T2-AMBULANT", 250_000), False),
    ],
)
def test_capacity_only_changes_reuse_the_compiled_problem(build, delta, fast_path):
    base = match(build())
    new = apply(base.scenario, delta)
    comp = _capacity_only(base.compiled, new, evaluate_incremental(new, base.compiled.eligibility))
    assert (comp is not None) is fast_path
    fresh = match(new)
    fast, _ = resolve(base, new)
    assert fast.solution.objective == fresh.solution.objective
    assert set(fast.placements) == set(fresh.placements)
    assert [p.within_norm for _, p in sorted(fast.placements.items())] == [
        p.within_norm for _, p in sorted(fresh.placements.items())
    ]
    if comp is not None:
        assert list(comp.problem.capacity) == list(fresh.compiled.problem.capacity)


def test_a_care_type_nobody_offers_gets_its_own_summary():
    sc = scenario([child("G", CareType.GEZINSHUIS)], [offering("O")])
    ne = explain(match(sc)).needs[0]
    assert ne.decisive.code == "NOT_OFFERED_IN_REGION"
    assert ne.decisive.text == "Niemand in de regio biedt gezinshuis; inkoop kan dit inkopen."
    assert ne.changes == []
    assert ne.search_note.startswith("Geen wijziging gevonden")
    assert ne.decisive.text in sentences(ne)
