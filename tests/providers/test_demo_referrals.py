"""The demo's referral history: six months of aanmeldingen, answers and starts."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from providers import demo_referrals
from providers.store import import_files, waits
from providers.store.access import Principal
from providers.store.models import Aanmelding, AanmeldingStatus, Child, Offering

from .conftest import TODAY

SYSTEM = Principal.system("test")


def test_history_gives_measured_waits_and_keeps_the_rules(
    sessions: sessionmaker[Session], demo_dir: Path
) -> None:
    import_files(sessions, SYSTEM, demo_dir, today=TODAY)
    with sessions.begin() as s:
        h = demo_referrals.generate_history(s, "JZ31", today=TODAY, organisation_id=None)
    assert h.starts == h.cases > 0
    assert h.aanmeldingen > h.starts  # some cases were declined elsewhere first
    with sessions() as s:
        rows = s.scalars(select(Aanmelding)).all()
        started = [a for a in rows if a.status == AanmeldingStatus.GESTART.value]
        assert len(started) == h.starts
        assert all(a.start_date is not None and a.start_date >= a.requested_on for a in started)
        assert all(a.intake_date is not None and a.intake_date <= a.start_date for a in started)  # type: ignore[operator]
        declined = [a for a in rows if a.status == AanmeldingStatus.AFGEWEZEN.value]
        assert declined
        assert all(a.reason and a.reason_text for a in declined)
        placed = s.scalars(select(Child).where(Child.ref.like("H-%"))).all()
        assert all(c.status == "geplaatst" for c in placed)
        measured = waits.measured_waits(s, today=TODAY)
        shown = [m for m in measured.values() if m.shown]
        assert shown
        assert all(m.count >= waits.MIN_STARTS for m in shown)
        offerings = {o.id: o for o in s.scalars(select(Offering))}
        # the demo providers do not all report what they deliver
        assert any(waits.differs(offerings[m.offering_id].expected_wait_days, m, 14) for m in shown)
    with sessions.begin() as s:
        again = demo_referrals.generate_history(s, "JZ31", today=TODAY, organisation_id=None)
    assert again.aanmeldingen == 0
