"""GAP knapsack Lagrangian: steps and bound in a fixed time, with the
knapsacks solved by OR-Tools' branch and bound (what the solver uses) and by
the dynamic programme in numpy (what it used before).

Both start from the LP's item prices and step towards the best known answer,
so the two differ only in how fast a step is.  Prints a Markdown table
(bounds in min form, as the instances are stated).

    .venv/bin/python -m benchmarks.gap_bound_steps c10200 c20200 b10200 d10200 e10400
"""

from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path

from benchmarks.gap_yardstick import DEFAULT_DIR


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instances", nargs="+")
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--seconds", type=float, default=1.0)
    a = ap.parse_args()

    from matcher.problem_file import read_orlib_gap
    from matcher.solvers.budget import TimeBudget
    from matcher.solvers.colgen import dual_bound
    from matcher.solvers.core import build_core
    from matcher.solvers.gap_bound import knapsack_bound
    from matcher.solvers.mip import solve_mip

    with open(a.dir / "optima.csv", newline="") as f:
        best = {r["instance"]: int(r["best_known_value"]) for r in csv.DictReader(f)}
    print(f"# {a.seconds} s per run, load average at start {os.getloadavg()}")
    print("| instance | knapsacks | steps | bound (min form) |")
    print("|---|---|---|---|")
    for name in a.instances:
        core = build_core(read_orlib_gap(a.dir / f"{name}.txt"))
        lp = solve_mip(
            core, time_limit_s=30, relative_gap=0, relax=True, grace_s=0.1, in_process=True
        )
        prices = dual_bound(core, lp.duals)[1]
        for label, exact in (("branch and bound", False), ("numpy programme", True)):
            r = knapsack_bound(
                core,
                incumbent=-float(best[name]),
                budget=TimeBudget(a.seconds),
                start_prices=prices,
                fix=False,
                exact_steps=exact,
            )
            assert r is not None
            print(f"| {name} | {label} | {r.iterations} | {-r.bound:.2f} |", flush=True)
    print(f"load average at end {os.getloadavg()}")


if __name__ == "__main__":
    main()
