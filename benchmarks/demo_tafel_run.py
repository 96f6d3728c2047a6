"""The demo tafel run as the tafel of each demo region sees it: every waiting child of
the region matched, with explanations and the search for what would help, through the
same use case as the run button (`services.matching.run_matching`).

Prints per region: needs, placed within the norm, placed late, unplaced, unclassified,
what the old label counted as "Binnen de norm" (start by the objective's target date:
the deadline, or for a child already past it the peildatum plus the grace days), and
for the unplaced needs how many got a verified change, a "nothing found" sentence
or the "not searched: time is up" sentence.

    PYTHONPATH=. .venv/bin/python -m benchmarks.demo_tafel_run [--budget 2.5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from matcher.domain.model import Policy
from providers.store import access, accounts
from providers.store.engine import make_engine, session_factory
from providers.store.models import Account, Role
from services.matching import EXPLAIN_BUDGET_S, RunParams, run_matching
from wijzer.demo_site import DEMO_REGION, DEMO_REGION_2, prepare_demo, username_of
from wijzer.settings import Settings

NOT_SEARCHED = "Niet (verder) gezocht"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=float, default=EXPLAIN_BUDGET_S)
    a = ap.parse_args()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    print(f"# demo tafel run, commit {commit}, explain budget {a.budget} s, load {os.getloadavg()}")
    print(
        "| region | children | needs | old label 'Binnen de norm' | within the norm "
        "| placed late | unplaced | unclassified "
        "| unplaced: verified change | unplaced: nothing found | unplaced: not searched "
        "| unplaced without a reason | run s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.sqlite3'}"
        settings = Settings(database_url=url, secret_key="d" * 40)
        prepare_demo(settings, out=io.StringIO())
        today = settings.current_date()
        engine = make_engine(url)
        sessions = session_factory(engine)
        for region in (DEMO_REGION, DEMO_REGION_2):
            with sessions.begin() as s:
                acc = s.scalar(
                    select(Account).where(Account.username == username_of(Role.TAFEL, region))
                )
                assert acc is not None
                tafel = accounts.principal_for(s, acc)
                refs = [c.ref for c in access.waiting_list(s, tafel)]
            t = time.perf_counter()
            out = run_matching(
                sessions,
                tafel,
                RunParams(refs=refs),
                today=today,
                progress=lambda step, pct: None,
                explain_budget_s=a.budget,
            )
            wall = time.perf_counter() - t
            unplaced = [r for r in out.rows if not r.placed and not r.unclassified]
            changed = sum(1 for r in unplaced if r.smallest_change)
            skipped = sum(1 for r in unplaced if any(NOT_SEARCHED in x for x in r.sentences))
            no_reason = sum(1 for r in unplaced if not r.summary_text.strip())
            grace = dt.timedelta(days=Policy().overdue_grace_days)
            old_label = sum(
                1
                for r in out.rows
                if r.placed
                and r.start is not None
                and r.start
                <= (r.deadline if r.deadline is None or r.deadline >= today else today + grace)
            )
            m = out.summary
            print(
                f"| {region} | {m.children} | {m.needs} | {old_label} | {m.within_norm} "
                f"| {m.placed_late} | {m.unplaced} | {m.unclassified} | {changed} "
                f"| {len(unplaced) - changed - skipped} | {skipped} | {no_reason} | {wall:.1f} |"
            )
        engine.dispose()


if __name__ == "__main__":
    main()
