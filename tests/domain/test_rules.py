"""One test pair (satisfied / violated) per eligibility rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from matcher.domain import eligibility as el
from matcher.domain.eligibility import PairContext, Reason, ScenarioIndex
from matcher.domain.model import (
    Budget,
    CareType,
    ChildAttribute,
    Contract,
    Expertise,
    Mode,
    Refusal,
    Release,
    Subcontract,
)

from .helpers import child, offering, scenario, with_policy


def ctx(sc, ref="K", oid="O"):
    c = sc.child_by_ref[ref]
    idx = ScenarioIndex(sc)
    return PairContext(sc, c, c.needs[0], sc.offering_by_id[oid], idx.target(c), idx)


def base(**child_kw):
    return scenario([child(**child_kw)], [offering()])


def test_every_rule_says_hard_or_soft():
    for rule in el.HARD_RULES:
        assert rule.__doc__ is not None
        assert rule.__doc__.startswith("Hard")
    assert el.soft_warnings.__doc__ is not None
    assert el.soft_warnings.__doc__.startswith("Soft:")


def test_care_type():
    assert el.rule_care_type(ctx(base())) is None
    sc = scenario([child()], [offering(ct=CareType.SPELTHERAPIE)])
    assert el.rule_care_type(ctx(sc)) is Reason.NO_PROVIDER_OFFERS_CARE_TYPE
    sc = scenario(
        [child(alternatives=(CareType.SPELTHERAPIE,))], [offering(ct=CareType.SPELTHERAPIE)]
    )
    assert el.rule_care_type(ctx(sc)) is Reason.ALTERNATIVE_NOT_ACCEPTED
    sc = scenario(
        [child(alternatives=(CareType.SPELTHERAPIE,), alternative_accepted=True)],
        [offering(ct=CareType.SPELTHERAPIE)],
    )
    assert el.rule_care_type(ctx(sc)) is None


def test_family_preference():
    assert el.rule_family_preference(ctx(base(family_prefers_waitlist_at="O"))) is None
    got = el.rule_family_preference(ctx(base(family_prefers_waitlist_at="OTHER")))
    assert got is Reason.FAMILY_PREFERS_WAITLIST


def test_contra_indication_and_waiver():
    attrs = frozenset({ChildAttribute.AGGRESSION})
    sc = scenario([child(attributes=attrs)], [offering()])
    assert el.rule_contra_indication(ctx(sc)) is None
    sc = scenario([child(attributes=attrs)], [offering(contra_indications=attrs)])
    assert el.rule_contra_indication(ctx(sc)) is Reason.CONTRA_INDICATION
    sc = scenario(
        [child(attributes=attrs)],
        [offering(contra_indications=attrs, waived_contra_indications=attrs)],
    )
    assert el.rule_contra_indication(ctx(sc)) is None


def test_declared_refusal_with_contra_indication_counts_as_contra_indication():
    attrs = frozenset({ChildAttribute.AGGRESSION})
    sc = scenario([child(attributes=attrs)], [offering()])
    sc = replace(sc, refusals=(Refusal("O", "K", ChildAttribute.AGGRESSION),))
    assert el.rule_contra_indication(ctx(sc)) is Reason.CONTRA_INDICATION


def test_lvb_expertise():
    lvb = frozenset({ChildAttribute.LVB})
    sc = scenario([child(attributes=lvb)], [offering(expertise=frozenset({Expertise.LVB}))])
    assert el.rule_lvb_expertise(ctx(sc)) is None
    sc = scenario([child(attributes=lvb)], [offering()])
    assert el.rule_lvb_expertise(ctx(sc)) is Reason.NO_LVB_EXPERTISE


def test_stability():
    unstable = frozenset({ChildAttribute.UNSTABLE_SITUATION})
    sc = scenario([child(attributes=unstable)], [offering(requires_stability=False)])
    assert el.rule_stability(ctx(sc)) is None
    sc = scenario([child(attributes=unstable)], [offering()])  # J-GGZ needs stability
    assert el.rule_stability(ctx(sc)) is Reason.UNSTABLE_SITUATION


def test_age_and_turning_18_warning():
    assert el.rule_age(ctx(base())) is None
    sc = scenario([child(age_years=12)], [offering(age_min=16)])
    assert el.rule_age(ctx(sc)) is Reason.AGE_OUT_OF_RANGE
    sc = scenario([child(birth_month=date(2004, 6, 1), age_years=None)], [offering(age_max=23)])
    c = ctx(sc)
    assert el.rule_age(c) is None
    assert el.PairWarning.TURNS_18_DURING_CARE in set(el.soft_warnings(c, None))
    sc = scenario([child(birth_month=date(2004, 6, 1), age_years=None)], [offering(age_max=17)])
    assert el.rule_age(ctx(sc)) is Reason.AGE_OUT_OF_RANGE


def test_purchased_direct_via_main_contractor_or_not():
    assert el.rule_purchased(ctx(base())) is None
    sc = scenario([child()], [offering()], contract_all=False)
    assert el.rule_purchased(ctx(sc)) is Reason.NOT_PURCHASED
    main = Contract("C-M", "MAIN", CareType.AMBULANTE_JGGZ, "JZ29")
    sc = scenario([child()], [offering()], contract_all=False, contracts=(main,))
    assert el.rule_purchased(ctx(sc)) is Reason.NOT_PURCHASED_NO_MAIN_CONTRACTOR
    sc2 = replace(sc, subcontracts=(Subcontract("MAIN", "O", True),))
    c = ctx(sc2)
    assert el.rule_purchased(c) is None
    assert c.purchase[1] == "MAIN"
    sc3 = replace(sc, subcontracts=(Subcontract("MAIN", "O", False),))
    assert el.purchase_route(ctx(sc3)) == (
        Reason.NOT_PURCHASED_NO_MAIN_CONTRACTOR,
        None,
        ("MAIN",),
    )


def test_contract_of_the_gemeente_itself_counts_and_gemeente_leaving_ends_region_contract():
    from matcher.domain.whatif import GemeenteLeaves, apply

    sc = base()
    left = apply(sc, GemeenteLeaves("GM0599"))
    assert el.rule_purchased(ctx(left)) is Reason.NOT_PURCHASED
    own = replace(left, contracts=(Contract("C-G", "O", CareType.AMBULANTE_JGGZ, "GM0599"),))
    assert el.rule_purchased(ctx(own)) is None


def test_region():
    assert el.rule_region(ctx(base())) is None
    sc = scenario(
        [child()],
        [offering(region="JZ36")],
        contracts=(Contract("C", "O", CareType.AMBULANTE_JGGZ, "JZ29"),),
    )
    assert el.rule_region(ctx(sc)) is Reason.ONLY_OUT_OF_REGION
    assert el.rule_region(ctx(with_policy(sc, allow_out_of_region=True))) is None
    served = replace(sc, offerings=(offering(region="JZ36", service_area=frozenset({"JZ29"})),))
    assert el.rule_region(ctx(served)) is None


def test_intake_stop():
    assert el.rule_intake_stop(ctx(base())) is None
    sc = scenario([child()], [offering(intake_stop=True)])
    assert el.rule_intake_stop(ctx(sc)) is Reason.INTAKE_STOP
    sc = scenario([child(current_offering="O")], [offering(intake_stop=True)])
    assert el.rule_intake_stop(ctx(sc)) is None  # a current placement is not an intake


def test_provider_refusal_advisory_vs_binding():
    sc = replace(base(), refusals=(Refusal("O", "K", None, "te complex"),))
    assert el.rule_provider_refusal(ctx(base())) is None
    assert el.rule_provider_refusal(ctx(sc)) is Reason.PROVIDER_DECLINED_WITHOUT_CONTRA_INDICATION
    assert el.rule_provider_refusal(ctx(with_policy(sc, mode=Mode.BINDING))) is None


def test_budget():
    ok = replace(base(), budgets=(Budget("B", 1_000_000, 0, provider="O"),))
    assert el.rule_budget(ctx(ok)) is None
    full = replace(base(), budgets=(Budget("B", 1_000_000, 950_000, provider="O"),))
    assert el.rule_budget(ctx(full)) is Reason.BUDGET_CEILING_REACHED
    other_perceel = replace(
        base(), budgets=(Budget("B", 1_000_000, 1_000_000, provider="O", perceel="RESIDENTIAL"),)
    )
    assert el.rule_budget(ctx(other_perceel)) is None
    gem = replace(base(), budgets=(Budget("B", 10, 10, gemeente="GM0599"),))
    assert el.rule_budget(ctx(gem)) is Reason.BUDGET_CEILING_REACHED


@pytest.mark.parametrize("lead", [0, 30])
def test_time(lead):
    sc = scenario([child()], [offering(free_now=0, intake_lead_days=lead, releases=())])
    assert el.rule_time(ctx(sc)) is Reason.NO_CAPACITY
    soon = scenario([child()], [offering(free_now=1, intake_lead_days=lead)])
    # ruling 2022-02-01: deadline 2022-05-01, evaluation 2022-03-01
    assert el.rule_time(ctx(soon)) is None
    late = scenario(
        [child()],
        [offering(free_now=0, intake_lead_days=lead, releases=(Release(date(2022, 6, 1), 1),))],
    )
    assert el.rule_time(ctx(late)) is Reason.WAIT_EXCEEDS_DEADLINE
    assert el.rule_time(ctx(with_policy(late, allow_late=True))) is None


def test_wj759_mapping_uses_known_codes():
    from matcher.domain.reasons import REASONS, wj759
    from providers.reference import code_list

    # The packaged WJ759 list, built from the iJw source (tests/providers checks that).
    codes = set(code_list("WJ759"))
    assert {e.wj759 for e in REASONS.values()} - {None} <= codes
    assert wj759(Reason.BUDGET_CEILING_REACHED) == "2"
    assert wj759(Reason.NOT_PURCHASED) == "3"
    assert wj759(Reason.CONTRA_INDICATION) == "7"
    assert wj759(Reason.AGE_OUT_OF_RANGE) == "9"
    assert wj759(Reason.NO_CAPACITY) is None


def test_ineligible_pairs_never_become_arcs():
    from matcher.domain.compile import compile_scenario

    attrs = frozenset({ChildAttribute.AGGRESSION})
    sc = scenario(
        [child(attributes=attrs)],
        [offering("BAD", contra_indications=attrs), offering("GOOD")],
    )
    p = compile_scenario(sc).problem
    assert {o.split("@")[0] for o in p.option_ids} == {"GOOD"}
