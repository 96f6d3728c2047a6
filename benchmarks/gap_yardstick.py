"""GAP yardstick: solve the published OR-Library / Yagiura GAP instances.

Every instance is read with the CLI's reader (`--format orlib-gap`), solved
with `matcher.solve` (2 workers unless told otherwise), checked with
`matcher.verify`, and compared with the published best known value
(../shared/benchmarks/gap/optima.csv).  Prints one Markdown table row per
instance, then the means per group and the targets.

    .venv/bin/python -m benchmarks.gap_yardstick --time-limit 10
    .venv/bin/python -m benchmarks.gap_yardstick --time-limit 60 --only d e
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from pathlib import Path

from matcher.problem_file import read_orlib_gap
from matcher.solution import SolveOptions, verify
from matcher.solve import solve

DEFAULT_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "gap"


def load_optima(directory: Path) -> dict[str, dict[str, str]]:
    with open(directory / "optima.csv", newline="") as f:
        return {row["instance"]: row for row in csv.DictReader(f)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--strategy", default="auto")
    ap.add_argument("--only", nargs="*", default=[], help="instance names or type letters")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    optima = load_optima(a.dir)
    names = sorted(optima, key=lambda s: (s[0], int(s[1:3]), int(s[3:])))
    if a.only:
        names = [n for n in names if n in a.only or n[0] in a.only]
    print(
        f"# GAP yardstick: time limit {a.time_limit} s, {a.workers} workers, "
        f"strategy {a.strategy}, load average at start {os.getloadavg()}"
    )
    print(
        "| instance | best known | proven opt | objective | % above best | bound "
        "| status | strategy | time s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    above: dict[str, list[float]] = {}
    missed_opt: list[str] = []
    for n in names:
        row = optima[n]
        best = int(row["best_known_value"])
        opt = row.get("optimum") or ""
        p = read_orlib_gap(a.dir / f"{n}.txt")
        t0 = time.perf_counter()
        sol = solve(
            p,
            SolveOptions(
                time_limit_s=a.time_limit,
                workers=a.workers,
                seed=a.seed,
                strategy=a.strategy,
                relative_gap=0.0,
            ),
        )
        wall = time.perf_counter() - t0
        verify(p, sol)
        obj = sol.objective
        pct = (obj - best) / best * 100 if obj is not None else float("nan")
        above.setdefault(n[0], []).append(pct)
        if n[0] in "abc" and int(row["jobs"]) <= 200 and obj != best:
            missed_opt.append(n)
        bound = "-" if sol.best_bound is None else f"{sol.best_bound:.0f}"
        print(
            f"| {n} | {best} | {opt or '-'} | {obj} | {pct:.3f} | {bound} | "
            f"{sol.status.value} | {sol.strategy} | {wall:.1f} |",
            flush=True,
        )
    print()
    print("| type | instances | mean % above best known |")
    print("|---|---|---|")
    for k in sorted(above):
        v = above[k]
        print(f"| {k} | {len(v)} | {sum(v) / len(v):.3f} |")
    de = above.get("d", []) + above.get("e", [])
    if de:
        print(
            f"\nmean over D and E: {sum(de) / len(de):.3f} % above best known ({len(de)} instances)"
        )
    abc_small = [n for n in names if n[0] in "abc" and int(optima[n]["jobs"]) <= 200]
    if abc_small:
        print(
            f"A/B/C up to 200 jobs at the published optimum: "
            f"{len(abc_small) - len(missed_opt)} of {len(abc_small)}"
            + (f" (missed: {', '.join(missed_opt)})" if missed_opt else "")
        )
    print(f"load average at end {os.getloadavg()}")


if __name__ == "__main__":
    main()
