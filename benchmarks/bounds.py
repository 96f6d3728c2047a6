"""Bounds benchmark: how strong and how fast each upper bound is on the
generated instances of the scale benchmark.

Per size: the plain LP (HiGHS over all arcs), the LP with knapsack
cardinality cuts by column generation (`matcher.solvers.colgen.lp_loop`, run
to convergence), the same LP by PDLP (`matcher.solvers.pdlp_lp.pdlp_loop`, run
to convergence; the bound is the flow Lagrangian at its prices, one flow, whose
time is included), and the flow Lagrangian of the budget rows alone in the
scale benchmark's time limit.  Prints a Markdown table (bounds in max form, which
for these instances is the objective) with the time each took.

    .venv/bin/python -m benchmarks.bounds --sizes 1k 10k
"""

from __future__ import annotations

import argparse
import os
import time

from benchmarks.scale import SIZES

# generous limits: the point is the bound each method reaches, and its time
LP_LIMIT_S = 600.0
LOOP_LIMIT_S = 600.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="*", default=["1k", "10k"], choices=list(SIZES))
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    from benchmarks.generate import GeneratorConfig, generate
    from matcher.solvers.budget import TimeBudget
    from matcher.solvers.colgen import lp_loop
    from matcher.solvers.core import build_core
    from matcher.solvers.lagrange import lagrangian
    from matcher.solvers.mip import solve_mip
    from matcher.solvers.pdlp_lp import pdlp_loop

    print(f"# bounds benchmark, seed {a.seed}, load average at start {os.getloadavg()}")
    print(
        "| size | arcs | plain LP bound | s | LP with cuts (colgen) | s | rounds / cuts / "
        "converged | LP with cuts (PDLP) | s | rounds / cuts | Lagrangian (flow) | s (limit) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in a.sizes:
        children, offerings, limit = SIZES[name][:3]
        core = build_core(generate(GeneratorConfig(children, offerings, seed=a.seed)))
        t = time.perf_counter()
        lp = solve_mip(
            core, time_limit_s=LP_LIMIT_S, relative_gap=0.0, relax=True, grace_s=5.0,
            in_process=core.n_arcs <= 20_000,
        )  # fmt: skip
        lp_s = time.perf_counter() - t
        t = time.perf_counter()
        loop = lp_loop(core, budget=TimeBudget(LOOP_LIMIT_S))
        loop_s = time.perf_counter() - t
        t = time.perf_counter()
        pd = pdlp_loop(core, budget=TimeBudget(LOOP_LIMIT_S))
        pd_b, pd_st = "-", "-"
        if pd is not None:
            at = lagrangian(pd.core, budget=TimeBudget(60.0), prices=pd.prices, max_iter=1)
            pd_b = "-" if at.bound is None else f"{at.bound:,.0f}"
            pd_st = f"{pd.stats['pdlp_rounds']} / {pd.stats['pdlp_cuts']}"
        pd_s = time.perf_counter() - t
        t = time.perf_counter()
        lr = lagrangian(core, budget=TimeBudget(limit))
        lr_s = time.perf_counter() - t
        lp_b = "-" if lp.bound is None else f"{lp.bound:,.0f}"
        lo_b = "-" if loop is None else f"{loop.bound:,.0f}"
        lo_st = (
            "-"
            if loop is None
            else f"{loop.stats['lp_rounds']} / {loop.stats['lp_cuts']} / "
            f"{'yes' if loop.stats['lp_converged'] else 'no'}"
        )
        lr_b = "-" if lr.bound is None else f"{lr.bound:,.0f}"
        print(
            f"| {name} | {core.n_arcs} | {lp_b} | {lp_s:.1f} | {lo_b} | {loop_s:.1f} | {lo_st} "
            f"| {pd_b} | {pd_s:.1f} | {pd_st} | {lr_b} | {lr_s:.1f} ({limit:.0f}) |",
            flush=True,
        )
    print(f"\nload average at end {os.getloadavg()}")


if __name__ == "__main__":
    main()
