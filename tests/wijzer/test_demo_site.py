"""The demo starts with a referral history in both regions, so every demo account
sees measured waits for its own region."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import select

from providers.store import waits
from providers.store.engine import make_engine, session_factory
from providers.store.models import Offering
from wijzer.demo_site import DEMO_REGION, DEMO_REGION_2, prepare_demo
from wijzer.settings import Settings


def test_both_demo_regions_show_measured_waits(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    settings = Settings(database_url=url, secret_key="d" * 40)
    out = io.StringIO()
    accounts = prepare_demo(settings, out=out)
    assert {a.region for a in accounts} >= {DEMO_REGION, DEMO_REGION_2}
    engine = make_engine(url)
    with session_factory(engine)() as session:
        shown = {
            oid
            for oid, m in waits.measured_waits(session, today=settings.current_date()).items()
            if m.shown
        }
        regions = {
            o.region_code for o in session.scalars(select(Offering).where(Offering.id.in_(shown)))
        }
    engine.dispose()
    assert regions >= {DEMO_REGION, DEMO_REGION_2}, out.getvalue()
    # a second start keeps the history it has
    again = io.StringIO()
    prepare_demo(settings, out=again)
    assert "0 aanmeldingen" in again.getvalue(), again.getvalue()
