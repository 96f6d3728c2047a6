"""Scale benchmark: generated instances from 1k x 200 to 100k x 10k.

Each size runs in its own process so that peak memory (the process and its
solver children) is measured per size.  Prints a Markdown table: generation
and model-building time, solve time, peak memory, objective, proven bound,
gap, where the bound came from, and the target of issue 2 for that size.

    .venv/bin/python -m benchmarks.scale                 # all four sizes
    .venv/bin/python -m benchmarks.scale --sizes 1k 10k
    .venv/bin/python -m benchmarks.scale --whatif 20     # warm-started re-solves
    .venv/bin/python -m benchmarks.scale --sizes 1k --warm  # libraries loaded first
    .venv/bin/python -m benchmarks.scale --sizes 1k --reference 120
        # also a long solve (strategy mip, gap 1e-4) of the same instance: how far
        # our answer is from the optimum and how far our bound is from it
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

# size name -> (children, offerings, time limit s, target gap, target s, target GB)
SIZES: dict[str, tuple[int, int, float, float, float, float]] = {
    "1k": (1_000, 200, 2.0, 0.001, 2.0, 8.0),
    "10k": (10_000, 2_000, 10.0, 0.005, 10.0, 8.0),
    "50k": (50_000, 5_000, 60.0, 0.01, 60.0, 4.0),
    "100k": (100_000, 10_000, 180.0, 0.02, 180.0, 8.0),
}


def reference(children: int, offerings: int, limit: float, seed: int, ours: float) -> None:
    """A long solve of the same instance: its answer and its proven bound."""
    from benchmarks.generate import GeneratorConfig, generate
    from matcher import SolveOptions, solve, verify

    p = generate(GeneratorConfig(children, offerings, seed=seed))
    sol = solve(p, SolveOptions(time_limit_s=limit, seed=seed, relative_gap=1e-4))
    verify(p, sol)
    assert sol.objective is not None
    assert sol.best_bound is not None
    print(
        f"| {children} x {offerings} | {limit:.0f} | {sol.status.value} | {sol.objective} "
        f"| {sol.best_bound:.0f} | {sol.wall_time_s:.1f} | {sol.stats.get('bound_source')} "
        f"| {(sol.best_bound - ours) / sol.best_bound:.3%} |",
        flush=True,
    )


def run_one(
    children: int, offerings: int, time_limit: float, seed: int, warm: bool = False
) -> dict[str, object]:
    from benchmarks.generate import GeneratorConfig, generate
    from matcher import SolveOptions, solve, verify
    from matcher.solvers.core import build_core

    if warm:
        # a long-running service has the solver libraries loaded already; a
        # small solve first takes their import out of the measured time
        solve(generate(GeneratorConfig(300, 60, seed=seed + 1000)), SolveOptions(time_limit_s=2.0))

    t0 = time.perf_counter()
    p = generate(GeneratorConfig(children, offerings, seed=seed))
    gen_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    build_core(p)  # model building alone (canonical core), for the table
    build_s = time.perf_counter() - t0
    sol = solve(p, SolveOptions(time_limit_s=time_limit, seed=seed))
    rep = verify(p, sol)
    budget_rows = [r for r in p.resource_ids if not r.startswith("place:")]
    tight = sum(
        1
        for r in budget_rows
        if rep.resource_use.get(r, 0) > 0.99 * int(p.capacity[p.resource_ids.index(r)])
    )
    peak_kb = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    return {
        "arcs": p.n_arcs,
        "budget_rows": len(budget_rows),
        "tight_budget_rows": tight,
        "generate_s": gen_s,
        "build_s": build_s,
        "solve_s": sol.wall_time_s,
        "peak_gb": peak_kb / 2**20,
        "objective": sol.objective,
        "bound": sol.best_bound,
        "gap": sol.gap,
        "status": sol.status.value,
        "strategy": sol.strategy,
        "bound_source": sol.stats.get("bound_source", "-"),
        "placed": rep.n_assigned,
    }


def whatif(n_changes: int, time_limit: float, seed: int) -> None:
    """Warm-started re-solves of a 600 x 300 instance, one place more each time."""
    import dataclasses
    import statistics

    from benchmarks.generate import GeneratorConfig, generate
    from matcher import SolveOptions, solve, verify

    p = generate(GeneratorConfig(600, 300, seed=seed, children_per_gemeente=25))
    base = solve(p, SolveOptions(time_limit_s=10.0, seed=seed))
    verify(p, base)
    rng = __import__("numpy").random.default_rng(seed)
    places = [k for k, r in enumerate(p.resource_ids) if r.startswith("place:")]
    times, deltas = [], []
    for _ in range(n_changes):
        cap = p.capacity.copy()
        cap[int(rng.choice(places))] += 1
        q = dataclasses.replace(p, capacity=cap)
        sol = solve(q, SolveOptions(time_limit_s=time_limit, seed=seed, warm_start=base))
        verify(q, sol)
        times.append(sol.wall_time_s)
        deltas.append((sol.objective or 0) - (base.objective or 0))
    print(
        f"\n## warm-started what-if re-solves: 600 x 300, {p.n_arcs} arcs, "
        f"{sum(1 for r in p.resource_ids if not r.startswith('place:'))} budget rows, "
        f"time limit {time_limit} s, {n_changes} changes (+1 place each)\n"
    )
    print("| base objective | base gap | median s | max s | objective change min / median / max |")
    print("|---|---|---|---|---|")
    print(
        f"| {base.objective} | {base.gap:.3%} | {statistics.median(times):.3f} | {max(times):.3f} "
        f"| {min(deltas)} / {statistics.median(deltas)} / {max(deltas)} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="*", default=list(SIZES), choices=list(SIZES))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--one", nargs=3, type=float, metavar=("CHILDREN", "OFFERINGS", "LIMIT"))
    ap.add_argument("--whatif", type=int, default=0, metavar="N", help="N warm re-solves")
    ap.add_argument("--whatif-limit", type=float, default=0.15)
    ap.add_argument("--reference", type=float, default=0.0, metavar="S")
    ap.add_argument(
        "--warm", action="store_true", help="load the solver libraries before the timed solve"
    )
    a = ap.parse_args()
    if a.whatif:
        print(f"# load average at start {os.getloadavg()}")
        whatif(a.whatif, a.whatif_limit, a.seed)
        print(f"\nload average at end {os.getloadavg()}")
        return
    if a.one:
        c, o, lim = a.one
        print(json.dumps(run_one(int(c), int(o), lim, a.seed, a.warm)))
        return
    print(
        f"# scale benchmark, seed {a.seed}, 2 workers, {'warm' if a.warm else 'cold'} process, "
        f"load average at start {os.getloadavg()}"
    )
    print(
        "| size | arcs | budget rows (tight) | generate s | build s | solve s | peak GB "
        "| objective | bound | gap | bound from | target | met |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    ours: dict[str, float] = {}
    for name in a.sizes:
        c, o, lim, tgap, ts, tgb = SIZES[name]
        r = subprocess.run(
            [sys.executable, "-m", "benchmarks.scale", "--seed", str(a.seed),
             "--one", str(c), str(o), str(lim), *(["--warm"] if a.warm else [])],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if r.returncode != 0:
            print(f"| {name} | failed: {r.stderr.strip().splitlines()[-1:]} |", flush=True)
            continue
        d = json.loads(r.stdout.strip().splitlines()[-1])
        ours[name] = float(d["objective"])
        gap = d["gap"]
        met = (
            gap is not None
            and gap <= tgap
            and float(d["solve_s"]) <= ts
            and float(d["peak_gb"]) <= tgb
        )
        print(
            f"| {c // 1000}k x {o // 1000 if o >= 1000 else o}{'k' if o >= 1000 else ''} "
            f"| {d['arcs']} | {d['budget_rows']} ({d['tight_budget_rows']}) "
            f"| {d['generate_s']:.1f} | {d['build_s']:.2f} | {d['solve_s']:.1f} "
            f"| {d['peak_gb']:.2f} | {d['objective']} | {d['bound']:.0f} "
            f"| {'-' if gap is None else f'{gap:.3%}'} | {d['bound_source']} "
            f"| {tgap:.1%} in {ts:.0f} s, {tgb:.0f} GB | {'yes' if met else 'NO'} |",
            flush=True,
        )
    if a.reference:
        print(
            "\n| reference instance | limit s | status | objective | proven bound | s "
            "| bound from | our answer below that bound |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for name, obj in ours.items():
            c, o = SIZES[name][:2]
            reference(c, o, a.reference, a.seed, obj)
    print(f"\nload average at end {os.getloadavg()}")


if __name__ == "__main__":
    main()
