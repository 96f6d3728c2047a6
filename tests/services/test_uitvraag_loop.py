"""The uniforme uitvraag counts the referral loop: a real start takes the help off
what the child waits for (the whole case leaves the list as an exit STARTED), and the
providers' recorded no's are counted per child."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from matcher.domain.reasons import Reason
from providers.store import aanmeldingen as am
from providers.store import make_engine, migrate, referrals, session_factory
from providers.store.access import Principal
from providers.store.accounts import create_organisation
from providers.store.models import Offering, OrganisationKind, Provider, Role
from providers.store.uitvraag import monthly_flows, take_snapshot
from services import uitvraag as uc
from services.frames import to_frame

ASKED = dt.date(2026, 11, 2)
TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def sessions(tmp_path: Any) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'u.db'}")
    migrate(engine)
    return session_factory(engine)


def test_loop_starts_and_declines_in_the_uitvraag(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        p = Provider(ext_id="P-1", name="Aanbieder", region_code="JZ31")
        s.add(p)
        s.flush()
        offs = {}
        for ct in ("TRAUMATHERAPIE", "GEZINSHUIS"):
            o = Offering(
                ext_id=f"O-{ct}",
                provider_id=p.id,
                care_type=ct,
                gemeente_code="GM0505",
                region_code="JZ31",
                places_free=1,
                confirmed_by="t",
                confirmed_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
            )
            s.add(o)
            s.flush()
            offs[ct] = o.id
        gi = create_organisation(s, "GI", OrganisationKind.GI, region_code="JZ31")
        tafel = create_organisation(s, "Tafel", OrganisationKind.REGIO, region_code="JZ31")
        v = Principal("v", Role.VERWIJZER, gi.id, region_code="JZ31")
        t = Principal("t", Role.TAFEL, tafel.id, region_code="JZ31")

        def case(needs: tuple[str, ...]) -> str:
            return referrals.register_case(
                s,
                v,
                referrals.CaseInput(None, "2015-04", "GM0505", "OTS", dt.date(2026, 10, 1), needs),
                today=ASKED,
            )

        two = case(("TRAUMATHERAPIE", "GEZINSHUIS"))
        one = case(("TRAUMATHERAPIE",))
        take_snapshot(s, t, count_date=ASKED)

        def need(ref: str, ct: str) -> int:
            return next(
                n.id for n in referrals.get_case(s, v, ref, today=ASKED).needs if n.care_type == ct
            )

        # the provider answers; the system stands in for it here
        system = Principal.system("test")
        for ref in (two, one):
            aid = am.request_place(
                s, v, ref, need(ref, "TRAUMATHERAPIE"), offs["TRAUMATHERAPIE"], today=ASKED
            )
            am.accept(
                s,
                system,
                aid,
                planned_intake=ASKED,
                planned_start=dt.date(2026, 11, 10),
                today=ASKED,
            )
            am.register_start(s, system, aid, on=dt.date(2026, 11, 10), today=TODAY)
        no = am.request_place(s, v, two, need(two, "GEZINSHUIS"), offs["GEZINSHUIS"], today=ASKED)
        am.decline(s, system, no, reason=Reason.NO_CAPACITY, text="Vol", today=ASKED)

    result = uc.report(sessions, t, uc.ReportRequest(today=TODAY))
    rows = {r["child_ref"]: r for r in result.report.rows}
    # the case with every need started left the list; the other waits for one help only
    assert set(rows) == {two}
    assert rows[two]["care_types"] == ["GEZINSHUIS"]
    assert rows[two]["declines"] == 1
    # the page's download carries the no's per child as a column of its frame
    frame = to_frame(result)
    assert frame.loc[frame["kind"] == two, "afwijzingen"].tolist() == [1]
    with sessions.begin() as s:
        take_snapshot(s, t, count_date=TODAY)
        [(start, flow)] = monthly_flows(s, t)
    assert start == ASKED
    assert flow.outflow == {"STARTED": 1}
    assert flow.stock_end == 1
