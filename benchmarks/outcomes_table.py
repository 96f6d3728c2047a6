"""Benchmark: outcomes per group on the demo region, first come, first served against
the matching.

    PYTHONPATH=. .venv/bin/python benchmarks/outcomes_table.py [--region JZ31]
        [--seed 1] [--children 120] [--today 2026-12-06]

Builds the demo as the web demo loads it (both demo regions, 120 and 60 children,
seed 1: `wijzer.demo_site`), converts the region with `providers.convert.to_scenario`,
matches it and runs first come, first served on the same eligibility
(`matcher.domain.outcomes.matching_and_fcfs`).  Prints one row per group: waiting
children, and per method placed within the norm, placed late, unplaced, mean and p90
days late and the disparity flag ("!"); unclassified needs are the same for both.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _days(v: float | int | None) -> str:
    return "-" if v is None else f"{v:.0f}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--region", default="JZ31")
    ap.add_argument("--other", default="JZ24", help="the demo's second region")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--children", type=int, default=120)
    ap.add_argument("--today", default=dt.date.today().isoformat())
    args = ap.parse_args()

    from matcher.domain.match import match
    from matcher.domain.outcomes import matching_and_fcfs
    from providers import demo
    from providers.convert import to_scenario

    today = dt.date.fromisoformat(args.today)
    data = demo.generate_regions(
        (args.region, args.other),
        seed=args.seed,
        n_children={args.region: args.children, args.other: 60},
        today=today,
    )
    sc = to_scenario(data, evaluation_date=today, region_code=args.region)
    t0 = time.perf_counter()
    result = match(sc)
    ours, fcfs = matching_and_fcfs(result)
    seconds = time.perf_counter() - t0
    print(
        f"region {args.region}, peildatum {today}, seed {args.seed}: {len(sc.children)} "
        f"children, {result.n_within_norm} needs within the norm by the matching "
        f"({seconds:.2f} s for both methods)"
    )
    print()
    print(
        "| dimension | group | children | unclassified "
        "| FCFS within | FCFS late | FCFS unplaced | FCFS mean late | FCFS p90 late "
        "| match within | match late | match unplaced | match mean late | match p90 late |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for f, m in zip(fcfs.rows, ours.rows, strict=True):
        assert (f.dimension, f.group) == (m.dimension, m.group)
        cells = [m.dimension.label, m.group, str(m.children), str(m.unclassified)]
        for r in (f, m):
            flag = " !" if r.flagged else ""
            cells += [
                f"{r.within_norm}{flag}",
                str(r.placed_late),
                str(r.unplaced),
                _days(r.mean_days_late),
                _days(r.p90_days_late),
            ]
        print("| " + " | ".join(cells) + " |")
    print()
    print("! = flagged: a group of at least 5 children well behind the other children")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
