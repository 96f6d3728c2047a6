"""Benchmark: a zorgbemiddelingstafel matching of a whole list, end to end.

    .venv/bin/python benchmarks/wijzer_table_run.py [--children 600] [--seed 1]
        [--budget 2.5] [--one-process]

Builds a fresh SQLite database with the data layer's demo generator (one region,
`--children` waiting children) through the importer and a tafel account, then
runs exactly what the "Matching berekenen" button runs in its background job
(`services.matching.run_matching`): the scoped, audited read and conversion
to a Scenario, the optimal matching, the explanation per unplaced child (with
its time budget, `--budget` seconds, default the run button's) and the rows for the
page. Prints the time per phase, the processor seconds of the whole run (the search's
second process included; `--one-process` keeps the search in this one), and how many
unplaced needs got a verified change, a "nothing found" sentence or none because the
budget ran out (a budget large enough that none runs out times the whole search).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REGION = "JZ31"
NOT_SEARCHED = "Niet (verder) gezocht"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--children", type=int, default=600)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--budget", type=float, default=None)
    # the search in this process alone (`matcher.domain.search_split.SPLIT` off)
    ap.add_argument("--one-process", action="store_true")
    args = ap.parse_args()

    from benchmarks.help_search import cpu_seconds
    from matcher.domain import search_split
    from providers import demo
    from providers.io import export_tables
    from providers.store import access, accounts
    from providers.store.engine import make_engine, migrate, session_factory
    from providers.store.importer import import_files
    from providers.store.models import OrganisationKind, Role
    from services.matching import EXPLAIN_BUDGET_S, RunParams, run_matching
    from wijzer.auth import DatabaseAccountDirectory

    search_split.SPLIT = not args.one_process
    today = dt.date.today()
    with tempfile.TemporaryDirectory(prefix="wijzer-bench-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'wijzer.sqlite3'}")
        migrate(engine)
        sessions = session_factory(engine)
        data = demo.generate_region(REGION, seed=args.seed, n_children=args.children, today=today)
        files = export_tables(data, "csv", Path(tmp) / "csv")
        import_files(sessions, access.Principal.system("benchmark"), files, today=today)
        with sessions.begin() as s:
            org = accounts.create_organisation(
                s, "Tafel", OrganisationKind.REGIO, region_code=REGION
            )
            accounts.create_account(s, "tafel", "benchmark wachtwoord", Role.TAFEL, org)
        user = DatabaseAccountDirectory(sessions).get("tafel")
        assert user is not None
        with sessions() as s:
            refs = [c.ref for c in access.waiting_list(s, user, purpose="benchmark")]
            s.commit()
        marks: list[tuple[str, float]] = []
        t0 = time.perf_counter()
        c0 = cpu_seconds()
        outcome = run_matching(
            sessions,
            user,
            RunParams(refs=refs),
            today=today,
            progress=lambda step, _pct: marks.append((step, time.perf_counter())),
            explain_budget_s=EXPLAIN_BUDGET_S if args.budget is None else args.budget,
        )
        total = time.perf_counter() - t0
        cpu = cpu_seconds() - c0
        engine.dispose()
    marks.append(("einde", t0 + total))
    s_ = outcome.summary
    print(
        f"children {len(refs)}, needs {s_.needs}, placed {s_.placed}, within norm "
        f"{s_.within_norm}, unplaced {s_.unplaced}, solver {s_.strategy} {s_.solver_status} "
        f"{s_.wall_time_s:.2f} s"
    )
    print("| phase | seconds |")
    print("|---|---|")
    for (step, at), (_, nxt) in itertools.pairwise(marks):
        print(f"| {step} | {nxt - at:.2f} |")
    print(f"| total (end to end) | {total:.2f} |")
    print(f"| processor seconds (end to end) | {cpu:.2f} |")
    unplaced = [r for r in outcome.rows if not r.placed and not r.unclassified]
    changed = sum(1 for r in unplaced if r.smallest_change)
    skipped = sum(1 for r in unplaced if any(NOT_SEARCHED in x for x in r.sentences))
    print(
        f"unplaced {len(unplaced)}: verified change {changed}, nothing found "
        f"{len(unplaced) - changed - skipped}, not searched (budget) {skipped}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
