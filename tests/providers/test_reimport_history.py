"""A waiting list imported again keeps the referral loop's history: needs are updated
in place by (child, care type), a need gone from the file with history is closed, not
deleted.  SQLite and (with WIJZER_TEST_POSTGRES_URL) PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from matcher.domain.reasons import Reason
from providers import demo
from providers.io import export_tables
from providers.store import Principal, import_files, meldingen, referrals
from providers.store import aanmeldingen as am
from providers.store.access import waiting_list
from providers.store.accounts import create_organisation
from providers.store.aggregates import waiting_aggregates
from providers.store.models import (
    Aanmelding,
    AanmeldingEvent,
    AanmeldingStatus,
    ChildNeed,
    NeedClock,
    NeedStatus,
    Offering,
    OrganisationKind,
    Provider,
    Role,
)

from .conftest import TODAY

SYSTEM = Principal.system("test")
X, Y, Z = "TRAUMATHERAPIE", "GEZINSHUIS", "PERSPECTIEFONDERZOEK"


def _data() -> dict[str, list[dict[str, Any]]]:
    data = {
        t: [dict(r) for r in rows]
        for t, rows in demo.generate_region("JZ31", seed=4, n_children=20, today=TODAY).items()
    }
    kids = data["kinderen"]
    for k in kids:
        k["huidig_aanbod_id"] = None
    kids[0].update(zorgvorm=X, zorgvorm_2=Y, zorgvorm_3=None, gezin_ref=None, kenmerken=())
    kids[1].update(zorgvorm=X, zorgvorm_2=Z, zorgvorm_3=None, gezin_ref=None, kenmerken=())
    kids[2].update(zorgvorm=X, zorgvorm_2=Z, zorgvorm_3=None, gezin_ref=None)
    return {"kinderen": kids}


def _import(sessions: sessionmaker[Session], tmp: Path, name: str, data: dict[str, Any]) -> None:
    dest = tmp / name
    export_tables(data, "csv", dest)
    import_files(sessions, SYSTEM, dest, today=TODAY)


def _needs(s: Session, ref: str) -> list[tuple[int, int, str, str]]:
    case = referrals.get_case(s, SYSTEM, ref, today=TODAY)
    return [(n.id, n.seq, n.care_type, "open") for n in case.needs]


def _all_needs(s: Session, child_id: int) -> dict[str, tuple[int, int, str]]:
    rows = s.execute(
        select(ChildNeed.care_type, ChildNeed.id, ChildNeed.seq, ChildNeed.status).where(
            ChildNeed.child_id == child_id
        )
    ).all()
    return {ct: (i, seq, st) for ct, i, seq, st in rows}


def test_reimport_keeps_aanmeldingen_answers_and_starts(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    data = _data()
    ref, other = data["kinderen"][0]["kind_ref"], data["kinderen"][2]["kind_ref"]
    asking = data["kinderen"][1]["kind_ref"]
    _import(sessions, tmp_path, "eerste", data)
    with sessions.begin() as s:
        prov = Provider(ext_id="P-LOOP", name="Aanbieder", region_code="JZ31")
        s.add(prov)
        s.flush()
        offs = {}
        for ct in (X, Y, Z):
            o = Offering(
                ext_id=f"O-{ct}",
                provider_id=prov.id,
                care_type=ct,
                gemeente_code="GM0505",
                region_code="JZ31",
                places_free=1,
                expected_wait_days=30,
                confirmed_by="test",
                confirmed_at=dt.datetime(2025, 5, 1, tzinfo=dt.UTC),
            )
            s.add(o)
            s.flush()
            offs[ct] = o.id
        tafel = create_organisation(s, "Tafel", OrganisationKind.REGIO, region_code="JZ31")
        org = create_organisation(s, "A", OrganisationKind.AANBIEDER, provider_id=prov.id)
        t = Principal("t", Role.TAFEL, tafel.id, region_code="JZ31")
        a = Principal("a", Role.AANBIEDER, org.id, provider_id=prov.id)
        case = referrals.get_case(s, t, ref, today=TODAY)
        need = {n.care_type: n.id for n in case.needs}
        asked = TODAY - dt.timedelta(days=30)
        started = am.request_place(s, t, ref, need[X], offs[X], today=asked)
        am.accept(
            s,
            a,
            started,
            planned_intake=asked,
            planned_start=TODAY - dt.timedelta(days=5),
            today=asked,
        )
        am.register_intake(s, a, started, on=asked, today=asked)
        am.register_start(s, a, started, on=TODAY - dt.timedelta(days=5), today=TODAY)
        declined = am.request_place(s, t, ref, need[Y], offs[Y], today=asked)
        am.decline(s, a, declined, reason=Reason.NO_CAPACITY, text="Vol", today=asked)
        pending_need = next(
            n.id for n in referrals.get_case(s, t, asking, today=TODAY).needs if n.care_type == Z
        )
        pending = am.request_place(s, t, asking, pending_need, offs[Z], today=TODAY)
        before = _needs(s, ref)
        other_before = _needs(s, other)
        events = s.scalar(select(func.count()).select_from(AanmeldingEvent))
        child_id = s.scalar(select(ChildNeed.child_id).where(ChildNeed.id == need[X]))
        other_child = s.scalar(select(ChildNeed.child_id).where(ChildNeed.id == other_before[0][0]))
        assert child_id is not None
        assert other_child is not None
        assert events is not None

    # The same file again: every need keeps its id, and the loop its history.
    _import(sessions, tmp_path, "zelfde", data)
    with sessions() as s:
        assert _needs(s, ref) == before
        assert _needs(s, other) == other_before
        assert s.scalar(select(func.count()).select_from(AanmeldingEvent)) == events
        assert {a.need_id for a in s.scalars(select(Aanmelding))} == {
            need[X],
            need[Y],
            pending_need,
        }
        clock = s.get(NeedClock, need[X])
        assert clock is not None
        assert clock.start_date == TODAY - dt.timedelta(days=5)
        assert [(r[0], r[1]) for r in am.declines(s, SYSTEM)] == [(f"O-{Y}", ref)]

    # A changed file: Y is gone (it has history), Z is new and X moves to the back;
    # the other child loses Z, which has no history.
    changed = _data()
    changed["kinderen"][0].update(zorgvorm=Z, zorgvorm_2=X)
    changed["kinderen"][1].update(zorgvorm_2=None)
    changed["kinderen"][2].update(zorgvorm_2=None)
    _import(sessions, tmp_path, "gewijzigd", changed)
    with sessions() as s:
        now = _all_needs(s, child_id)
        assert now[X] == (need[X], 1, NeedStatus.OPEN)
        assert now[Y][0] == need[Y]
        assert now[Y][2] == NeedStatus.CLOSED
        assert now[Z][1:] == (0, NeedStatus.OPEN)
        closed = s.get(ChildNeed, need[Y])
        assert closed is not None
        assert closed.closed_on is not None
        # the closed need is no longer asked for: not on the case, not on the list
        assert [n[2] for n in _needs(s, ref)] == [Z, X]
        row = next(c for c in waiting_list(s, SYSTEM) if c.ref == ref)
        assert Y not in row.needs
        # its aanmelding, answer and events are still there
        kept = s.get(Aanmelding, declined)
        assert kept is not None
        assert kept.need_id == need[Y]
        assert kept.reason == "NO_CAPACITY"
        assert (
            s.scalar(select(func.count()).select_from(AanmeldingEvent)) == events + 1
        )  # the ending of the running one
        clock = s.get(NeedClock, need[X])
        assert clock is not None
        assert clock.start_date == TODAY - dt.timedelta(days=5)
        # a need without history is simply gone
        assert set(_all_needs(s, other_child)) == {X}
        # help no longer asked for: its running aanmelding ends, the provider is told
        ended = s.get(Aanmelding, pending)
        assert ended is not None
        assert ended.status == AanmeldingStatus.INGETROKKEN
        assert ended.active_need_id is None
        assert s.get(ChildNeed, pending_need).status == NeedStatus.CLOSED  # type: ignore[union-attr]
        assert any("is ingetrokken" in m.text for m in meldingen.inbox(s, a))

    # Y comes back: the closed need is opened again, with its history.
    _import(sessions, tmp_path, "terug", data)
    with sessions() as s:
        now = _all_needs(s, child_id)
        assert now[X] == (need[X], 0, NeedStatus.OPEN)
        assert now[Y] == (need[Y], 1, NeedStatus.OPEN)
        # Z had no history: deleted
        assert Z not in now
        assert _needs(s, ref) == before


def test_a_closed_need_is_not_counted_as_waited_for(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        for _ in range(6):
            ref = referrals.register_case(
                s,
                SYSTEM,
                referrals.CaseInput(None, "2015-04", "GM0505", "OTS", dt.date(2025, 5, 1), (X, Y)),
                today=TODAY,
            )
            case = referrals.get_case(s, SYSTEM, ref, today=TODAY)
            closed = s.get(ChildNeed, next(n.id for n in case.needs if n.care_type == Y))
            assert closed is not None
            closed.status, closed.seq, closed.closed_on = NeedStatus.CLOSED, -closed.id, TODAY
    with sessions() as s:
        counts = {r.key: r.count for r in waiting_aggregates(s, SYSTEM, ("zorgvorm",)).rows}
    assert counts == {(X,): 6}
