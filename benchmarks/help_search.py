"""Benchmark: the search for what would help, over every unplaced child of a demo region.

    PYTHONPATH=. .venv/bin/python benchmarks/help_search.py [--children 600] [--seed 1]
        [--budget 5] [--region JZ31] [--dump answers.jsonl] [--check answers.jsonl]
        [--all-changes]

Builds the region with the data layer's demo generator and the one converter
(`providers.convert.to_scenario`), matches it, and runs the explanation with its search
(`matcher.domain.explain`, time budget `--budget` seconds), as the tafel's run does:
each child's search stops at its smallest change (`--all-changes`: it goes on to the
others, as `explain` does by default).  Prints one table row:
children, unplaced needs, needs with a verified change, needs with an explicit "nothing
within reach" sentence (in brackets: those whose search stopped at the re-solves
allowed per child), needs the budget did not reach ("Niet (verder) gezocht"),
re-solves, and seconds (match, search; and the search's processor seconds, its second
process's included, which a shared machine inflates less than the wall time).
`--one-process` keeps the whole search in this process (`matcher.domain.search_split`),
to compare.

`--check FILE` compares each need's answer with a saved `--dump` (the whole search, a
budget large enough that no need is left unsearched): the decisive reason, the smallest
change (its changes, where and when the child starts), and the sentence when nothing
was found.  The other changes found are not compared: the search may stop a child at
its first change once no later one can be smaller.  The saved answers of the default
list are `benchmarks/answers/help_search_jz31_600.jsonl` (made at ba45956, before the
search was made faster), `..._99ba7d2.jsonl` (after the objective's scale changed which
of several equal answers HiGHS returns) and `..._f51375d.jsonl`, the current one (the
ceiling walk carries an answer to the amount it pays: four needs got another answer of
the same worth, one a change where the per-child cap stopped it before; RESULTS.md,
s31).  Exit status 1 when an answer differs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--children", type=int, default=600)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--budget", type=float, default=5.0)
    ap.add_argument("--region", default="JZ31")
    ap.add_argument("--today", default="2026-11-20")
    # per-need answers (JSON lines), to compare the answers of two versions
    ap.add_argument("--dump", default="")
    ap.add_argument("--check", default="")
    # every change per need (as `explain` by default) rather than the smallest only (as
    # the tafel's run, `services.matching`)
    ap.add_argument("--all-changes", action="store_true")
    # the whole search in this process alone (`matcher.domain.search_split.SPLIT` off)
    ap.add_argument("--one-process", action="store_true")
    args = ap.parse_args()

    from matcher.domain import search_split
    from matcher.domain.explain import SearchLimits, explain
    from matcher.domain.match import match
    from providers import demo
    from providers.convert import to_scenario

    search_split.SPLIT = not args.one_process
    today = dt.date.fromisoformat(args.today)
    data = demo.generate_region(args.region, seed=args.seed, n_children=args.children, today=today)
    sc = to_scenario(data, evaluation_date=today, region_code=args.region)
    t0 = time.perf_counter()
    r = match(sc)
    t1 = time.perf_counter()
    c1 = cpu_seconds()
    limits = SearchLimits(stop_at_smallest=not args.all_changes)
    ex = explain(r, time_budget_s=args.budget, limits=limits)
    t2 = time.perf_counter()
    c2 = cpu_seconds()
    needs = ex.needs
    changed = sum(1 for n in needs if n.changes)
    out_of_time = sum(1 for n in needs if not n.changes and n.search_out_of_time)
    # of "nothing within reach": the search stopped at the re-solves per child (its
    # sentence says so) rather than running out of levers
    capped = sum(
        1 for n in needs if not n.changes and n.search_limit_reached and not n.search_out_of_time
    )
    nothing = len(needs) - changed - out_of_time
    resolves = sum(n.resolves for n in needs)
    rows = [_row(n) for n in sorted(needs, key=lambda n: (n.child_ref, n.need_id))]
    print(
        "| children | unplaced | verified change | nothing within reach (of which at the "
        "per-child cap) | not searched | re-solves | match s | search s | search cpu s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {len(sc.children)} | {len(needs)} | {changed} | {nothing} ({capped}) "
        f"| {out_of_time} | {resolves} | {t1 - t0:.2f} | {t2 - t1:.2f} | {c2 - c1:.2f} |"
    )
    if args.dump:
        with open(args.dump, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, sort_keys=True) + "\n")
    if args.check:
        with open(args.check, encoding="utf-8") as fh:
            saved = [json.loads(line) for line in fh]
        bad = differences(saved, rows)
        for line in bad:
            print(line)
        print(f"check against {args.check}: {len(saved)} saved, {len(bad)} differ")
        return 1 if bad else 0
    return 0


def cpu_seconds() -> float:
    """Processor seconds of this process and of its ended children (the search's second
    process, `matcher.domain.search_split`)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _row(n: Any) -> dict[str, Any]:
    return {
        "child": n.child_ref,
        "need": n.need_id,
        "decisive": n.decisive.code if n.decisive else None,
        "changes": [c.to_json() | {"tried": None} for c in n.changes],
        "out_of_time": n.search_out_of_time,
        "note": n.search_note,
    }


def answer(row: dict[str, Any]) -> tuple[Any, ...]:
    """What a need's answer is: its decisive reason, its smallest change (or none) and
    the sentence that says nothing was found."""
    first = row["changes"][0] if row["changes"] else None
    return row["decisive"], first, row["note"], row["out_of_time"]


def differences(saved: list[dict[str, Any]], rows: list[dict[str, Any]]) -> list[str]:
    """One line per need whose answer differs from the saved one (or that is missing
    on one side)."""
    old = {(r["child"], r["need"]): r for r in saved}
    new = {(r["child"], r["need"]): r for r in rows}
    out: list[str] = []
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if a is None or b is None:
            out.append(f"{key[1]}: only in {'the run' if a is None else 'the saved answers'}")
        elif answer(a) != answer(b):
            out.append(f"{key[1]}: saved {answer(a)}, now {answer(b)}")
    return out


if __name__ == "__main__":
    raise SystemExit(main())
