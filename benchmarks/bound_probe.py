"""How far the true optimum lies from each bound, per family instance.

Per instance (max form, objective units): our solve's bound and answer at the
size's limit, the plain LP bound, the LP with knapsack cuts run to convergence
(its own time, no limit to speak of), HiGHS MIP's dual bound and answer after
each `--highs` limit (the longest gives the best known answer).

    PYTHONPATH=. python -m benchmarks.bound_probe --families tight bundles \
        --seeds 1 2 3 --limit 2 --highs 2 10 60 [--children 10000 --offerings 2000]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from benchmarks.families import generate_family
from matcher import SolveOptions, solve
from matcher.solvers.budget import TimeBudget
from matcher.solvers.colgen import lp_loop
from matcher.solvers.core import build_core
from matcher.solvers.mip import solve_mip


def probe(
    family: str,
    seed: int,
    limit: float,
    highs: list[float],
    cut_lp_s: float,
    size: tuple[int, int] = (1000, 200),
    plain_lp_s: float = 120.0,
) -> dict[str, Any]:
    p = generate_family(family, size[0], size[1], seed)
    out: dict[str, Any] = {"family": family, "seed": seed, "size": list(size)}
    t = time.perf_counter()
    sol = solve(p, SolveOptions(time_limit_s=limit))
    out["ours"] = {
        "objective": sol.objective,
        "bound": sol.best_bound,
        "wall_s": round(time.perf_counter() - t, 3),
        "bound_sources": sol.stats.get("bound_sources"),
        "lp_converged": sol.stats.get("lp_converged"),
        "lp_cuts": sol.stats.get("lp_cuts"),
        "lp_rounds": sol.stats.get("lp_rounds"),
    }
    core = build_core(p)
    t = time.perf_counter()
    r = solve_mip(core, time_limit_s=plain_lp_s, relative_gap=0.0, relax=True, grace_s=5.0)
    out["plain_lp"] = {"bound": r.bound, "s": round(time.perf_counter() - t, 3)}
    t = time.perf_counter()
    lr = lp_loop(core, budget=TimeBudget(cut_lp_s))
    out["cut_lp"] = {
        "bound": None if lr is None else (lr.lp_value if lr.lp_value is not None else lr.bound),
        "converged": None if lr is None else lr.stats.get("lp_converged"),
        "cuts": None if lr is None else lr.stats.get("lp_cuts"),
        "knapsack_rows": None if lr is None else lr.stats.get("lp_knapsack_rows"),
        "s": round(time.perf_counter() - t, 3),
    }
    for h in highs:
        t = time.perf_counter()
        m = solve_mip(core, time_limit_s=h, relative_gap=1e-6, grace_s=2.0)
        obj = None if m.chosen is None else core.value(m.chosen)
        out[f"highs_{h:g}"] = {
            "objective": obj,
            "bound": m.bound,
            "status": str(m.status),
            "s": round(time.perf_counter() - t, 3),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", nargs="*", default=["tight", "bundles"])
    ap.add_argument("--seeds", nargs="*", type=int, default=[1, 2, 3])
    ap.add_argument("--limit", type=float, default=2.0)
    ap.add_argument("--highs", nargs="*", type=float, default=[2.0, 10.0, 60.0])
    ap.add_argument("--cut-lp-s", type=float, default=30.0)
    ap.add_argument("--plain-lp-s", type=float, default=120.0)
    ap.add_argument("--children", type=int, default=1000)
    ap.add_argument("--offerings", type=int, default=200)
    args = ap.parse_args()
    size = (args.children, args.offerings)
    for fam in args.families:
        for seed in args.seeds:
            got = probe(fam, seed, args.limit, args.highs, args.cut_lp_s, size, args.plain_lp_s)
            print(json.dumps(got), flush=True)


if __name__ == "__main__":
    main()
