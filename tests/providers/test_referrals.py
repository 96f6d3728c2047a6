"""The referral loop in the store; each test runs on SQLite and (with
WIJZER_TEST_POSTGRES_URL) on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from matcher.domain import ChildAttribute, clocks
from matcher.domain.eligibility import evaluate
from matcher.domain.reasons import Reason
from providers.convert import scenario_from_db
from providers.store import aanmeldingen as am
from providers.store import meldingen, referrals, waits
from providers.store.access import AccessDenied, NotFound, Principal, waiting_list
from providers.store.accounts import create_organisation
from providers.store.models import (
    UNCLASSIFIED,
    Aanmelding,
    AanmeldingStatus,
    AuditEntry,
    Offering,
    OrganisationKind,
    Provider,
    Role,
)

TODAY = dt.date(2026, 11, 20)
S = AanmeldingStatus


@dataclass(frozen=True)
class World:
    v: Principal
    v2: Principal
    a1: Principal
    a2: Principal
    t: Principal
    tu: Principal
    o1: int
    o2: int


def _world(sessions: sessionmaker[Session]) -> World:
    with sessions.begin() as s:
        provs = [
            Provider(ext_id=f"P-{i}", name=f"Aanbieder {i}", region_code="JZ31") for i in (1, 2)
        ]
        s.add_all(provs)
        s.flush()
        offs = []
        for i, p in enumerate(provs, start=1):
            o = Offering(
                ext_id=f"O-{i}",
                provider_id=p.id,
                care_type="TRAUMATHERAPIE",
                gemeente_code="GM0505",
                region_code="JZ31",
                places_free=1,
                contra_indications="ZEDENVERLEDEN",
                expected_wait_days=30,
                confirmed_by="test",
                confirmed_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
            )
            offs.append(o)
        s.add_all(offs)
        s.flush()
        gi = create_organisation(s, "GI", OrganisationKind.GI, region_code="JZ31", gi_code="WSS")
        gi2 = create_organisation(s, "GI 2", OrganisationKind.GI, region_code="JZ31")
        a1 = create_organisation(s, "A1", OrganisationKind.AANBIEDER, provider_id=provs[0].id)
        a2 = create_organisation(s, "A2", OrganisationKind.AANBIEDER, provider_id=provs[1].id)
        tafel = create_organisation(s, "Tafel", OrganisationKind.REGIO, region_code="JZ31")
        tafel_u = create_organisation(s, "Tafel U", OrganisationKind.REGIO, region_code="JZ22")
        return World(
            v=Principal("v", Role.VERWIJZER, gi.id, region_code="JZ31", gi_code="WSS"),
            v2=Principal("v2", Role.VERWIJZER, gi2.id, region_code="JZ31"),
            a1=Principal("a1", Role.AANBIEDER, a1.id, provider_id=provs[0].id),
            a2=Principal("a2", Role.AANBIEDER, a2.id, provider_id=provs[1].id),
            t=Principal("t", Role.TAFEL, tafel.id, region_code="JZ31"),
            tu=Principal("tu", Role.TAFEL, tafel_u.id, region_code="JZ22"),
            o1=offs[0].id,
            o2=offs[1].id,
        )


def _case(s: Session, v: Principal, needs: tuple[str, ...] = ("TRAUMATHERAPIE",)) -> str:
    return referrals.register_case(
        s,
        v,
        referrals.CaseInput(
            ref=None,
            birth_month="2015-04",
            gemeente_code="GM0505",
            measure="OTS",
            ruling_date=dt.date(2026, 10, 1),
            needs=needs,
            attributes=("ZEDENVERLEDEN", "AGRESSIE"),
        ),
        today=TODAY,
    )


def _need(s: Session, p: Principal, ref: str, seq: int = 1) -> int:
    case = referrals.get_case(s, p, ref, today=TODAY)
    return next(n.id for n in case.needs if n.seq == seq)


def test_cases_are_scoped_and_every_read_is_audited(sessions: sessionmaker[Session]) -> None:
    w = _world(sessions)
    v, v2, t, tu, a1 = w.v, w.v2, w.t, w.tu, w.a1
    with sessions.begin() as s:
        ref = _case(s, v, ("TRAUMATHERAPIE", UNCLASSIFIED))
    with sessions.begin() as s:
        assert [c.ref for c in referrals.list_cases(s, v, today=TODAY)] == [ref]
        assert referrals.list_cases(s, v2, today=TODAY) == []
        assert [c.ref for c in referrals.list_cases(s, t, today=TODAY)] == [ref]
        assert referrals.list_cases(s, tu, today=TODAY) == []
        with pytest.raises(NotFound):
            referrals.get_case(s, v2, ref, today=TODAY)
        with pytest.raises(AccessDenied):
            referrals.get_case(s, a1, ref, today=TODAY)
        case = referrals.get_case(s, t, ref, today=TODAY)
        assert [n.classified for n in case.needs] == [True, False]
        # the tafel's waiting list reads the open case, with no copy
        assert ref in [c.ref for c in waiting_list(s, t)]
    with sessions() as s:
        reads = s.scalars(
            select(AuditEntry).where(AuditEntry.entity == "casus", AuditEntry.action == "lezen")
        ).all()
        assert {(e.actor, e.detail) for e in reads if ref in e.record_refs} >= {
            ("v", "casusregie"),
            ("t", "zorgbemiddeling"),
        }


def test_bad_case_input_is_refused_with_the_field(sessions: sessionmaker[Session]) -> None:
    w = _world(sessions)
    v = w.v
    with sessions.begin() as s:
        ref = _case(s, v)
    with sessions() as s:
        good = referrals.CaseInput(None, "2015-04", "GM0505", "OTS", dt.date(2026, 10, 1), ("X",))
        with pytest.raises(referrals.ReferralError) as err:
            referrals.register_case(s, v, good, today=TODAY)
        assert err.value.field == "hulp"
        dup = referrals.CaseInput(
            ref, "2015-04", "GM0505", "OTS", dt.date(2026, 10, 1), (UNCLASSIFIED,)
        )
        with pytest.raises(referrals.ReferralError) as err:
            referrals.register_case(s, v, dup, today=TODAY)
        assert err.value.field == "kenmerk"


def test_one_active_aanmelding_per_need(sessions: sessionmaker[Session]) -> None:
    w = _world(sessions)
    v, a1, o1, o2 = w.v, w.a1, w.o1, w.o2
    with sessions.begin() as s:
        ref = _case(s, v)
        need = _need(s, v, ref)
        first = am.request_place(s, v, ref, need, o1, today=TODAY, context="zoeken")
    with sessions.begin() as s:
        with pytest.raises(referrals.ReferralError) as err:
            am.request_place(s, v, ref, need, o2, today=TODAY)
        assert "loopt al een aanmelding" in err.value.user_message
    # the database holds the rule too, whatever the code checks before
    with sessions() as s:
        row = s.get(Aanmelding, first)
        assert row is not None
        s.add(
            Aanmelding(
                need_id=need,
                active_need_id=need,
                offering_id=o2,
                organisation_id=row.organisation_id,
                status=S.AANGEVRAAGD.value,
                requested_on=TODAY,
                answer_due=TODAY,
                requested_by="x",
                context="",
                shared_attributes="",
                reason_text="",
            )
        )
        with pytest.raises(IntegrityError):
            s.flush()
    # after a no, a new aanmelding elsewhere is possible
    with sessions.begin() as s:
        am.decline(s, a1, first, reason=Reason.NO_CAPACITY, text="Vol tot maart", today=TODAY)
        second = am.request_place(s, v, ref, need, o2, today=TODAY)
        case = referrals.get_case(s, v, ref, today=TODAY)
        statuses = [x.status for x in case.needs[0].aanmeldingen]
        assert statuses == [S.AFGEWEZEN, S.AANGEVRAAGD]
        active = case.needs[0].active
        assert active is not None
        assert active.id == second


def test_provider_sees_only_its_own_aanmeldingen_with_the_minimum(
    sessions: sessionmaker[Session],
) -> None:
    w = _world(sessions)
    v, a1, a2, o1 = w.v, w.a1, w.a2, w.o1
    with sessions.begin() as s:
        ref = _case(s, v)
        other = _case(s, v)
        aid = am.request_place(s, v, ref, _need(s, v, ref), o1, today=TODAY)
    with sessions.begin() as s:
        box = am.inbox(s, a1, today=TODAY)
        assert [x.id for x in box] == [aid]
        assert other not in {x.child_ref for x in box}
        # only the attribute the offering declares as contra-indication is shared
        assert box[0].shared_attributes == ("ZEDENVERLEDEN",)
        assert am.inbox(s, a2, today=TODAY) == []
        with pytest.raises(NotFound):
            am.get_aanmelding(s, a2, aid, today=TODAY)
        with pytest.raises(NotFound):
            am.accept(s, a2, aid, planned_intake=TODAY, planned_start=TODAY, today=TODAY)
        assert [m.kind for m in meldingen.inbox(s, a1)] == ["nieuwe_aanmelding"]
    with sessions() as s:
        reads = s.scalars(
            select(AuditEntry).where(AuditEntry.actor == "a1", AuditEntry.action == "lezen")
        ).all()
        # the provider's reads name the case it was asked about, with the purpose
        assert {e.record_refs for e in reads} == {ref}
        assert all(e.detail.startswith("beoordelen aanmelding") for e in reads)
        assert meldingen.inbox(s, a2) == []


def test_intake_is_no_start_and_only_a_real_start_stops_the_clock(
    sessions: sessionmaker[Session],
) -> None:
    w = _world(sessions)
    v, a1, t, o1 = w.v, w.a1, w.t, w.o1
    with sessions.begin() as s:
        ref = _case(s, v)
        aid = am.request_place(s, v, ref, _need(s, v, ref), o1, today=dt.date(2026, 11, 2))
    later = dt.date(2027, 1, 10)  # past the norm-3 deadline of 1 January
    with sessions.begin() as s:
        with pytest.raises(referrals.ReferralError) as err:
            am.accept(
                s,
                a1,
                aid,
                planned_intake=dt.date(2026, 12, 10),
                planned_start=dt.date(2026, 12, 1),
                today=TODAY,
            )
        assert err.value.field == "startdatum"
        am.accept(
            s,
            a1,
            aid,
            planned_intake=dt.date(2026, 11, 25),
            planned_start=dt.date(2026, 12, 15),
            today=TODAY,
        )
        am.register_intake(s, a1, aid, on=dt.date(2026, 11, 25), today=later)
        case = referrals.get_case(s, v, ref, today=later)
        need = case.needs[0]
        assert need.start_date is None
        assert referrals.norm3_status(case, need, later) is clocks.NormStatus.LATE
        assert ref in [c.ref for c in waiting_list(s, t)]
        with pytest.raises(referrals.ReferralError):
            am.register_start(s, a1, aid, on=later + dt.timedelta(days=1), today=later)
        am.register_start(s, a1, aid, on=dt.date(2026, 12, 28), today=later)
        case = referrals.get_case(s, v, ref, today=later)
        need = case.needs[0]
        assert need.start_date == dt.date(2026, 12, 28)
        # ruling 1 Oct + 3 months = 1 Jan: a start on 28 Dec is within the norm
        assert referrals.norm3_status(case, need, later) is clocks.NormStatus.ON_TIME
        assert ref not in [c.ref for c in waiting_list(s, t)]
        assert [e.status for e in case.needs[0].aanmeldingen[0].events] == [
            "aangevraagd",
            "geaccepteerd",
            "intake_gedaan",
            "gestart",
        ]
        assert {m.kind for m in meldingen.inbox(s, v)} == {"antwoord"}


def test_decline_needs_a_catalogue_reason_and_a_text(sessions: sessionmaker[Session]) -> None:
    w = _world(sessions)
    v, a1, o1 = w.v, w.a1, w.o1
    with sessions.begin() as s:
        ref = _case(s, v)
        aid = am.request_place(s, v, ref, _need(s, v, ref), o1, today=TODAY)
    with sessions() as s:
        with pytest.raises(referrals.ReferralError) as err:
            am.decline(s, a1, aid, reason=Reason.EXCLUDED_BY_TABLE, text="x", today=TODAY)
        assert err.value.field == "reden"
        with pytest.raises(referrals.ReferralError) as err:
            am.decline(s, a1, aid, reason=Reason.NO_CAPACITY, text="  ", today=TODAY)
        assert err.value.field == "toelichting"
    with sessions.begin() as s:
        am.decline(s, a1, aid, reason=Reason.CONTRA_INDICATION, text="Zedenverleden", today=TODAY)
        view = am.get_aanmelding(s, a1, aid, today=TODAY)
        assert view.status is S.AFGEWEZEN
        assert view.reason_code == "7"
        assert am.declines(s, v) == [("O-1", ref, Reason.CONTRA_INDICATION, ("ZEDENVERLEDEN",))]
        # a second answer to the same aanmelding is refused
        with pytest.raises(referrals.ReferralError):
            am.accept(s, a1, aid, planned_intake=TODAY, planned_start=TODAY, today=TODAY)


def test_withdraw_and_overdue_answers(sessions: sessionmaker[Session]) -> None:
    w = _world(sessions)
    v, t, o1 = w.v, w.t, w.o1
    asked = dt.date(2026, 11, 9)  # a Monday: 5 working days later is Monday 16 Nov
    with sessions.begin() as s:
        ref = _case(s, v)
        need = _need(s, v, ref)
        aid = am.request_place(s, v, ref, need, o1, today=asked)
        assert s.get(Aanmelding, aid).answer_due == dt.date(2026, 11, 16)  # type: ignore[union-attr]
        assert am.overdue(s, v, today=dt.date(2026, 11, 16)) == []
        assert am.overdue(s, t, today=TODAY) == [(ref, aid, dt.date(2026, 11, 16))]
        am.withdraw(s, v, aid, today=TODAY)
        assert am.overdue(s, v, today=TODAY) == []
        am.request_place(s, v, ref, need, o1, today=TODAY)


def test_measured_wait_from_six_starts(sessions: sessionmaker[Session]) -> None:
    w = _world(sessions)
    v, a1, o1 = w.v, w.a1, w.o1
    waits_days = [10, 20, 30, 40, 50, 60, 300]
    with sessions.begin() as s:
        for i, d in enumerate(waits_days):
            ref = _case(s, v)
            asked = dt.date(2026, 4, 1) if i == 6 else dt.date(2026, 9, 1)
            aid = am.request_place(s, v, ref, _need(s, v, ref), o1, today=asked)
            start = asked + dt.timedelta(days=d if i < 6 else 10)
            am.accept(s, a1, aid, planned_intake=asked, planned_start=start, today=asked)
            am.register_start(s, a1, aid, on=start, today=TODAY)
            if i == 4:
                assert waits.measured_waits(s, today=TODAY)[o1].shown is False
    with sessions() as s:
        m = waits.measured_waits(s, today=TODAY)[o1]
        # the start of 11 April is older than six months and does not count
        assert (m.count, m.median_days, m.p80_days) == (6, 35.0, 50)
        assert waits.differs(30, m, 14) is False
        assert waits.differs(60, m, 14) is True


def test_recorded_declines_become_refusals_in_the_matching(
    sessions: sessionmaker[Session],
) -> None:
    w = _world(sessions)
    with sessions.begin() as s:
        contra_ref = _case(s, w.v)
        full_ref = _case(s, w.v)
        a = am.request_place(s, w.v, contra_ref, _need(s, w.v, contra_ref), w.o1, today=TODAY)
        b = am.request_place(s, w.v, full_ref, _need(s, w.v, full_ref), w.o1, today=TODAY)
        am.decline(s, w.a1, a, reason=Reason.CONTRA_INDICATION, text="Zeden", today=TODAY)
        am.decline(s, w.a1, b, reason=Reason.NO_CAPACITY, text="Vol", today=TODAY)
    with sessions.begin() as s:
        scenario = scenario_from_db(s, w.t, evaluation_date=TODAY)
    by_ref = {r.child_ref: r for r in scenario.refusals}
    assert by_ref[contra_ref].offering == "O-1"
    assert by_ref[contra_ref].contra_indication is ChildAttribute.ZEDENVERLEDEN
    assert by_ref[full_ref].contra_indication is None
    checks = evaluate(scenario, full=True)
    reasons = {
        ref: {
            r for c in checks.pairs[(ref, f"{ref}/1")] if c.offering_id == "O-1" for r in c.reasons
        }
        for ref in (contra_ref, full_ref)
    }
    assert Reason.CONTRA_INDICATION in reasons[contra_ref]
    assert Reason.PROVIDER_DECLINED_WITHOUT_CONTRA_INDICATION in reasons[full_ref]


def test_an_unclassified_need_is_counted_not_matched(sessions: sessionmaker[Session]) -> None:
    w = _world(sessions)
    with sessions.begin() as s:
        ref = _case(s, w.v, ("TRAUMATHERAPIE", UNCLASSIFIED))
    with sessions.begin() as s:
        scenario = scenario_from_db(s, w.t, evaluation_date=TODAY)
    child = next(c for c in scenario.children if c.ref == ref)
    assert [n.care_type.value for n in child.needs] == ["TRAUMATHERAPIE"]
    assert len(child.unclassified_needs) == 1


def test_the_case_list_keeps_open_and_recently_started_cases(
    sessions: sessionmaker[Session],
) -> None:
    w = _world(sessions)
    with sessions.begin() as s:
        old, recent, waiting = _case(s, w.v), _case(s, w.v), _case(s, w.v)
        for ref, start in ((old, dt.date(2026, 10, 12)), (recent, dt.date(2026, 11, 1))):
            asked = dt.date(2026, 10, 5)
            aid = am.request_place(s, w.v, ref, _need(s, w.v, ref), w.o1, today=asked)
            am.accept(s, w.a1, aid, planned_intake=asked, planned_start=start, today=asked)
            am.register_start(s, w.a1, aid, on=start, today=TODAY)
    with sessions.begin() as s:
        shown = {c.ref for c in referrals.list_cases(s, w.v, today=TODAY)}
        assert shown == {recent, waiting}
        assert referrals.get_case(s, w.v, old, today=TODAY).status == "geplaatst"
