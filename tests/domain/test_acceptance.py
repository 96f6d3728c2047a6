"""Acceptance scenarios T1-T7 of DOMAIN.md §7 (T8 is in test_uitvraag.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from matcher.domain.clocks import (
    NormStatus,
    ReferralStatus,
    classify_provider_report,
    days_late,
    deadline_norm1,
    deadline_norm3,
    deadline_regional,
    norm1_status,
    norm3_status,
    regional_status,
    waiting_on,
)
from matcher.domain.eligibility import PairWarning, Reason, ScenarioIndex, evaluate
from matcher.domain.explain import explain
from matcher.domain.match import PlacementKind, match
from matcher.domain.model import (
    CareNeed,
    CareType,
    Child,
    ChildAttribute,
    Mode,
    Refusal,
    Subcontract,
)
from matcher.domain.whatif import (
    AddChildren,
    AddPlaces,
    AllowLate,
    AllowOutOfRegion,
    ChangeCeiling,
    WaiveContraIndication,
    apply,
    what_if,
)
from matcher.solution import verify

from .conftest import scenario


def reasons_by_offering(expl, ref, need):
    ne = next(n for n in expl.needs if (n.child_ref, n.need_id) == (ref, need))
    return ne, {c.offering: c.reason for c in ne.candidates}


# ---------------------------------------------------------------- T1


def test_t1_unplaced_with_contra_indication_at_every_candidate():
    sc = scenario("t1_zedenverleden.json")
    r = match(sc)
    verify(r.compiled.problem, r.solution)
    assert ("A", "woon") in r.unplaced
    ex = explain(r)
    ne, by_off = reasons_by_offering(ex, "A", "woon")
    assert ne.summary == "ALL_CANDIDATES_CONTRA_INDICATION"
    assert by_off == {o: Reason.CONTRA_INDICATION for o in ("K1-KW", "K2-KW", "K3-KW")}
    assert all(c.detail["contra_indications"] == ["zedenverleden"] for c in ne.candidates)
    assert ne.times_discussed_after == 2
    assert ne.escalate
    assert any("doorzettingsmacht" in s for s in ne.to_json()["sentences"])


def test_t1_family_need_blocked_by_intake_stop_before_registration():
    sc = scenario("t1_zedenverleden.json")
    # visible from eligibility alone, without solving (the wijzer search)
    elig = evaluate(sc)
    (pc,) = elig.pairs[("A", "gezin")]
    assert pc.reason is Reason.INTAKE_STOP
    ex = explain(match(sc))
    ne, _ = reasons_by_offering(ex, "A", "gezin")
    assert ne.summary == "ALL_CANDIDATES_INTAKE_STOP"


def test_t1_free_places_stay_available_to_other_children():
    sc = scenario("t1_zedenverleden.json")
    other = Child(
        ref="A2",
        gemeente="GM0599",
        region="JZ29",
        age_years=15,
        ruling_date=date(2021, 2, 1),
        needs=(CareNeed("woon", CareType.KLEINSCHALIGE_WOONVOORZIENING),),
    )
    r = match(apply(sc, AddChildren((other,))))
    assert r.placements[("A2", "woon")].offering in {"K1-KW", "K2-KW", "K3-KW"}
    assert ("A", "woon") in r.unplaced


def test_t1_waiver_at_k2_places_a_flagged():
    sc = scenario("t1_zedenverleden.json")
    w = what_if(sc, [WaiveContraIndication("K2-KW", ChildAttribute.ZEDENVERLEDEN)])
    p = w.result.placements[("A", "woon")]
    assert p.offering == "K2-KW"
    assert PairWarning.DEPENDS_ON_WAIVER in p.warnings
    assert w.comparison.within_norm_after == w.comparison.within_norm_before + 1


# ---------------------------------------------------------------- T2


def test_t2_baseline_unplaced_ceiling_and_late_wait():
    sc = scenario("t2_traumatherapie.json")
    assert deadline_norm3(sc.child_by_ref["B"]) == date(2021, 6, 1)
    r = match(sc)
    assert ("B", "trauma") in r.unplaced
    ne, by_off = reasons_by_offering(explain(r), "B", "trauma")
    assert by_off == {
        "T2-TT": Reason.BUDGET_CEILING_REACHED,
        "T1-TT": Reason.WAIT_EXCEEDS_DEADLINE,
    }
    assert ne.summary == "MIXED"
    assert ne.suggest_discretionary_request
    assert any("discretionaire aanvraag" in s for s in ne.to_json()["sentences"])
    # the smallest change is found by re-solving: lift the ceiling by the price
    found = {c.deltas: c.placed_at for c in ne.changes}
    assert found[(ChangeCeiling("T2-AMBULANT", 250000),)] == "T2-TT"
    assert found[(AddPlaces("T1-TT", 1),)] == "T1-TT"
    assert ne.smallest_change is not None


def test_t2_allow_late_offers_t1_only_as_late():
    sc = apply(scenario("t2_traumatherapie.json"), AllowLate(True))
    r = match(sc)
    p = r.placements[("B", "trauma")]
    assert p.offering == "T1-TT"
    assert p.start == date(2022, 3, 28)
    assert p.norm_status is NormStatus.LATE
    assert not p.within_norm
    assert PairWarning.LATE in p.warnings


def test_t2_ceiling_lifted_places_b_on_time_at_t2():
    sc = scenario("t2_traumatherapie.json")
    w = what_if(sc, [ChangeCeiling("T2-AMBULANT", 1_000_000)])
    p = w.result.placements[("B", "trauma")]
    assert p.offering == "T2-TT"
    assert p.start <= date(2021, 6, 1)
    assert p.norm_status is NormStatus.ON_TIME


def test_t2_discretionary_request_with_14_days_lead_time_still_on_time():
    sc = scenario("t2_traumatherapie.json")
    sc = apply(sc, ChangeCeiling("T2-AMBULANT", 250000))
    o = sc.offering_by_id["T2-TT"]
    sc = replace(
        sc,
        offerings=tuple(replace(x, intake_lead_days=14) if x is o else x for x in sc.offerings),
    )
    p = match(sc).placements[("B", "trauma")]
    assert p.start == date(2021, 4, 29)
    assert p.norm_status is NormStatus.ON_TIME


# ---------------------------------------------------------------- T3


def test_t3_trauma_need_unplaced_unstable_everywhere():
    sc = scenario("t3_siblings_unstable.json")
    r = match(sc)
    assert len(r.placements) == 0
    ex = explain(r)
    for ref in ("C1", "C2", "C3"):
        ne, by_off = reasons_by_offering(ex, ref, "trauma")
        assert ne.summary == "ALL_CANDIDATES_UNSTABLE_SITUATION"
        assert by_off["J1-TB"] is Reason.UNSTABLE_SITUATION
        assert by_off["J2-TB"] is Reason.UNSTABLE_SITUATION
        assert by_off["H-IHB"] is Reason.ALTERNATIVE_NOT_ACCEPTED


def _accept_alternative(sc):
    kids = tuple(
        replace(c, needs=tuple(replace(n, alternative_accepted=True) for n in c.needs))
        for c in sc.children
    )
    return replace(sc, children=kids)


def test_t3_accepted_alternative_places_all_siblings_together_at_h():
    sc = _accept_alternative(scenario("t3_siblings_unstable.json"))
    r = match(sc)
    verify(r.compiled.problem, r.solution)
    offs = {r.placements[(ref, "trauma")].offering for ref in ("C1", "C2", "C3")}
    assert len(offs) == 1
    assert offs <= {"H-IHB", "H-VHT"}
    for ref in ("C1", "C2", "C3"):
        p = r.placements[(ref, "trauma")]
        assert p.kind is PlacementKind.ALTERNATIVE
        assert p.within_norm
        assert p.norm_status is NormStatus.ON_TIME


def test_t3_bundle_is_all_or_nothing():
    sc = _accept_alternative(scenario("t3_siblings_unstable.json"))
    sc = replace(
        sc,
        offerings=tuple(replace(o, free_now=2) if o.provider == "H" else o for o in sc.offerings),
    )
    r = match(sc)
    assert not r.placements  # two places each at H: not enough for all three
    assert len(r.unplaced) == 3


def test_t3_without_bundling_two_siblings_can_start():
    sc = _accept_alternative(scenario("t3_siblings_unstable.json"))
    sc = replace(
        sc,
        policy=replace(sc.policy, bundle_families=False),
        offerings=tuple(replace(o, free_now=1) if o.provider == "H" else o for o in sc.offerings),
    )
    r = match(sc)
    assert len(r.placements) == 2


# ---------------------------------------------------------------- T4


def test_t4_intake_and_bridging_are_not_a_start():
    sc = scenario("t4_intake_not_start.json")
    d = sc.child_by_ref["D"]
    need = d.need("vht")
    assert deadline_norm3(d) == date(2021, 4, 4)
    assert norm3_status(d, need, date(2021, 6, 1)) is NormStatus.LATE
    assert days_late(d, need, date(2021, 6, 1)) == 43
    # still waiting in the March and April snapshots despite intake and bridging help
    assert waiting_on(need, date(2021, 3, 31))
    assert waiting_on(need, date(2021, 4, 30))
    assert not waiting_on(need, date(2021, 5, 31))
    assert classify_provider_report(reported_started=True, help_began=False) is (
        ReferralStatus.INTAKE_DONE
    )
    assert classify_provider_report(reported_started=True, help_began=True) is (
        ReferralStatus.STARTED
    )


def test_t4_published_wait_is_time_to_real_start():
    sc = scenario("t4_intake_not_start.json")
    idx = ScenarioIndex(sc)
    elig = evaluate(sc, idx)
    (pc,) = elig.pairs[("D2", "po")]
    wait_days = (pc.earliest_start - sc.evaluation_date).days
    assert 140 <= wait_days <= 160  # about 5 months, not "intake in 2 weeks"


# ---------------------------------------------------------------- T5


def test_t5_inspection_and_regional_definitions():
    sc = scenario("t5_norm_clocks.json")
    ev = sc.evaluation_date
    rn = sc.policy.regional_norm
    assert rn is not None
    kids = sc.child_by_ref
    x, y, ye, z = (kids[k] for k in ("X", "Y", "Y-EXPLAINED", "Z"))
    assert deadline_norm3(x) == date(2022, 4, 10)
    assert norm3_status(x, x.need("hulp"), ev) is NormStatus.ON_TIME
    assert deadline_regional(x.need("hulp"), rn) == date(2022, 3, 7)
    assert regional_status(x, x.need("hulp"), rn, ev) is NormStatus.LATE
    assert norm3_status(y, y.need("hulp"), ev) is NormStatus.LATE
    assert deadline_regional(y.need("hulp"), rn) == date(2022, 4, 25)
    assert regional_status(y, y.need("hulp"), rn, ev) is NormStatus.ON_TIME
    assert deadline_norm3(z) == date(2022, 2, 7)
    assert norm3_status(z, z.need("hulp"), ev) is NormStatus.LATE
    assert norm3_status(ye, ye.need("hulp"), ev) is NormStatus.LATE_EXPLAINED


def test_t5_norm1_five_working_days():
    sc = scenario("t5_norm_clocks.json")
    n1 = sc.child_by_ref["N1"]
    assert deadline_norm1(n1, sc.policy) == date(2022, 1, 13)
    assert norm1_status(n1, sc.policy, sc.evaluation_date) is NormStatus.LATE


# ---------------------------------------------------------------- T6


def test_t6_not_allowed_out_of_region_unplaced_with_reasons():
    sc = scenario("t6_lvb_out_of_region.json")
    r = match(sc)
    assert ("E", "wonen") in r.unplaced
    ne, by_off = reasons_by_offering(explain(r), "E", "wonen")
    assert by_off["G1-JENO"] is Reason.NO_LVB_EXPERTISE
    assert by_off["G2-LVB"] is Reason.CONTRA_INDICATION
    assert by_off["BR-BW"] is Reason.ONLY_OUT_OF_REGION
    # the contracted hoofdaannemer's own offering: no LVB expertise and no places
    ha = next(c for c in ne.candidates if c.offering == "HA-BW")
    assert ha.all_reasons == (Reason.NO_LVB_EXPERTISE, Reason.NO_CAPACITY)
    assert ne.summary == "MIXED"


def test_t6_allowed_out_of_region_placed_at_br_via_ha_with_warnings():
    sc = apply(scenario("t6_lvb_out_of_region.json"), AllowOutOfRegion(True))
    r = match(sc)
    p = r.placements[("E", "wonen")]
    assert p.offering == "BR-BW"
    assert p.via_main_contractor == "HA"
    assert PairWarning.TURNS_18_DURING_CARE in p.warnings
    assert PairWarning.OUT_OF_REGION in p.warnings


def test_t6_never_placed_at_g1_even_with_everything_else_gone():
    sc = apply(scenario("t6_lvb_out_of_region.json"), AllowOutOfRegion(True))
    sc = replace(sc, offerings=tuple(o for o in sc.offerings if o.id != "BR-BW"))
    r = match(sc)
    assert ("E", "wonen") in r.unplaced


# ---------------------------------------------------------------- T7


def test_t7a_kept_at_oi_via_ha2():
    sc = scenario("t7a_main_contractor.json")
    r = match(sc)
    p = r.placements[("F", "open")]
    assert p.offering == "OI-OPEN"
    assert p.kind is PlacementKind.KEPT
    assert p.via_main_contractor == "HA2"
    assert p.norm_status is NormStatus.ON_TIME


def test_t7a_both_main_contractors_decline():
    sc = scenario("t7a_main_contractor.json")
    sc = replace(
        sc,
        subcontracts=(Subcontract("HA1", "OI", False), Subcontract("HA2", "OI", False)),
        offerings=tuple(o for o in sc.offerings if o.id == "OI-OPEN"),
    )
    r = match(sc)
    assert ("F", "open") in r.unplaced
    ne, _ = reasons_by_offering(explain(r), "F", "open")
    assert ne.summary == "NOT_PURCHASED_NO_MAIN_CONTRACTOR"
    assert ne.candidates[0].detail["main_contractors"] == {
        "HA1": "MAIN_CONTRACTOR_DECLINES",
        "HA2": "MAIN_CONTRACTOR_DECLINES",
    }


def test_t7b_slot_goes_to_the_overdue_child_preference_ignored():
    sc = scenario("t7b_overdue_first.json")
    assert sc.offering_by_id["HB-SAJ"].stated_preferences  # present, and not an input
    r = match(sc)
    assert r.placements[("G1", "hulp")].offering == "HB-SAJ"
    assert ("G2", "hulp") in r.unplaced


def test_t7b_refusal_without_contra_indication_recorded_in_advisory_mode():
    sc = scenario("t7b_overdue_first.json")
    sc = replace(sc, refusals=(Refusal("HB-SAJ", "G1", None, "liever minder complex"),))
    assert sc.policy.mode is Mode.ADVISORY
    r = match(sc)
    assert r.placements[("G2", "hulp")].offering == "HB-SAJ"
    _, by_off = reasons_by_offering(explain(r, search=False), "G1", "hulp")
    assert by_off["HB-SAJ"] is Reason.PROVIDER_DECLINED_WITHOUT_CONTRA_INDICATION


def test_t7b_refusal_ignored_in_binding_mode():
    sc = scenario("t7b_overdue_first.json")
    sc = replace(
        sc,
        refusals=(Refusal("HB-SAJ", "G1", None, "liever minder complex"),),
        policy=replace(sc.policy, mode=Mode.BINDING),
    )
    r = match(sc)
    p = r.placements[("G1", "hulp")]
    assert p.offering == "HB-SAJ"
    assert PairWarning.REFUSAL_IGNORED_BINDING in p.warnings
