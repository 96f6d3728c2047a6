"""Benchmark: the tafel's whole search for what would help on several demo regions.

    PYTHONPATH=. .venv/bin/python benchmarks/help_search_regions.py [--budget 300]
        [--regions 1,600 4,600 5,300 ...]

Per region (`providers.demo.generate_region("JZ31", seed, children)`, ruling date
2026-11-20): the base matching, then `explain` with the smallest-change search as the
tafel's run makes it (`SearchLimits(stop_at_smallest=True)`) and a budget large enough
that no need is left unsearched, so that the seconds are those of the whole search.
The default regions are the eleven of `benchmarks/RESULTS.md` (s31 and later): the
default list (seed 1, 600 children) and ten more.  Prints one table row per region and
the sum.  `--one-process` keeps each search in this process (`matcher.domain.search_split`
off), to compare.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REGIONS = [
    "1,600",
    "2,600",
    "3,600",
    "4,600",
    "1,300",
    "2,300",
    "3,300",
    "4,300",
    "5,300",
    "1,450",
    "2,450",
]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=300.0)
    ap.add_argument("--regions", nargs="*", default=list(REGIONS), help="seed,children")
    # the whole search in this process alone (`matcher.domain.search_split.SPLIT` off)
    ap.add_argument("--one-process", action="store_true")
    args = ap.parse_args()

    from matcher.domain import search_split
    from matcher.domain.explain import SearchLimits, explain
    from matcher.domain.match import match
    from providers import demo
    from providers.convert import to_scenario

    search_split.SPLIT = not args.one_process
    today = dt.date(2026, 11, 20)
    print(
        "| region (seed, children) | unplaced | search s | verified change "
        "| not searched | re-solves |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    total = 0.0
    for spec in args.regions:
        seed, n = (int(x) for x in spec.split(","))
        data = demo.generate_region("JZ31", seed=seed, n_children=n, today=today)
        r = match(to_scenario(data, evaluation_date=today, region_code="JZ31"))
        t0 = time.perf_counter()
        ex = explain(r, time_budget_s=args.budget, limits=SearchLimits(stop_at_smallest=True))
        took = time.perf_counter() - t0
        total += took
        needs = ex.needs
        changed = sum(1 for x in needs if x.changes)
        unsearched = sum(1 for x in needs if not x.changes and x.search_out_of_time)
        resolves = sum(x.resolves for x in needs)
        print(
            f"| {seed}, {n} | {len(needs)} | {took:.2f} | {changed} | {unsearched} | {resolves} |",
            flush=True,
        )
    print(f"| sum | | {total:.2f} | | | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
