"""Measured against self-reported waits in the demo (the referral loop's history).

Builds the demo database exactly as `python3 tasks.py demo` does (in a temporary
SQLite file, without serving it) and prints, per demo region with a history, how
many offerings show a measured wait (at least `waits.MIN_STARTS` real starts in
the last six months) and how far the provider's own figure lies from it.

    PYTHONPATH=. .venv/bin/python -m benchmarks.demo_waits
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import select

from providers.store import waits
from providers.store.engine import make_engine, session_factory
from providers.store.models import Offering
from wijzer.demo_site import prepare_demo
from wijzer.settings import Settings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--today", type=dt.date.fromisoformat, default=None)
    a = ap.parse_args()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.sqlite3'}"
        settings = Settings(database_url=url, secret_key="d" * 40, today=a.today)
        prepare_demo(settings, out=io.StringIO())
        today = settings.current_date()
        engine = make_engine(url)
        with session_factory(engine)() as session:
            measured = waits.measured_waits(session, today=today)
            offerings = session.scalars(select(Offering)).all()
        engine.dispose()
    print(f"# demo waits, peildatum {today}, commit {commit}, load {os.getloadavg()}")
    print(
        "| region | offerings | with a start | measured wait shown | median self - measured "
        "(days) | median abs. difference | marked (more than "
        f"{waits.DEFAULT_MARGIN_DAYS} days off) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for region in sorted({o.region_code for o in offerings}):
        own = [o for o in offerings if o.region_code == region]
        started = [o for o in own if o.id in measured]
        shown = [(o, measured[o.id]) for o in started if measured[o.id].shown]
        diffs = [o.expected_wait_days - (m.median_days or 0.0) for o, m in shown]
        marked = sum(
            waits.differs(o.expected_wait_days, m, waits.DEFAULT_MARGIN_DAYS) for o, m in shown
        )
        med = f"{statistics.median(diffs):+.1f}" if diffs else "-"
        med_abs = f"{statistics.median(abs(d) for d in diffs):.1f}" if diffs else "-"
        print(
            f"| {region} | {len(own)} | {len(started)} | {len(shown)} | {med} | {med_abs} "
            f"| {marked} |"
        )


if __name__ == "__main__":
    main()
