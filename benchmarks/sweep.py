"""A 1,000-scenario sweep in-process and on a 2-worker Dask LocalCluster.

    .venv/bin/python benchmarks/sweep.py [--draws 250] [--region-seed 1]

Scenarios: 250 Monte Carlo inflow draws x 4 purchase options (none, advice,
advice at half budget, naive) on one synthetic region (3 jeugdhulpregio's,
180 waiting children plus about 270 drawn referrals, 7 care types).  Each
scenario compiles the arc problem and solves it (min-cost flow).  The
LocalCluster uses worker processes (2 workers x 1 thread); its start-up time
is reported apart.  Both runs must give the same records.
"""

from __future__ import annotations

import argparse
import os
import time

from matcher.planning import synthetic_region
from matcher.sweep import DaskExecutor, InProcessExecutor, planning_sweep, purchase_options


def strip(records: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{k: v for k, v in r.items() if k != "wall_time_s"} for r in records]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=250)
    ap.add_argument("--region-seed", type=int, default=1)
    ap.add_argument("--budget-euro", type=int, default=1_000_000)
    ap.add_argument("--batch-size", type=int, default=None)
    args = ap.parse_args()

    inst = synthetic_region(args.region_seed)
    budget = args.budget_euro * 100
    opts = purchase_options(inst, budget, train_draws=4, train_seed=10_000 + args.region_seed)
    half = purchase_options(inst, budget // 2, train_draws=4, train_seed=10_000 + args.region_seed)
    options = {
        "none": opts["none"],
        "advice": opts["advice"],
        "advice-half": half["advice"],
        "naive": opts["naive"],
    }

    rows = []
    res_local = planning_sweep(
        inst, options, draws=args.draws, seed=7, executor=InProcessExecutor()
    )
    rows.append(("in-process", 0.0, res_local))

    from distributed import LocalCluster

    t0 = time.perf_counter()
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    )
    ex = DaskExecutor(cluster, batch_size=args.batch_size)
    # warm the workers (imports) so the sweep timing is the sweep
    ex.map(lambda c, t: t, None, [0, 1])
    startup = time.perf_counter() - t0
    try:
        res_dask = planning_sweep(inst, options, draws=args.draws, seed=7, executor=ex)
    finally:
        ex.close()
        cluster.close()
    rows.append(("dask LocalCluster 2x1 (processes)", startup, res_dask))

    same = strip(res_local.records) == strip(res_dask.records)
    print(
        f"instance: {inst.name}, {len(inst.children)} waiting children, cpu count {os.cpu_count()}"
    )
    print(f"{'executor':<36} {'scenarios':>9} {'start-up s':>10} {'wall s':>8} {'per s':>8}")
    for name, st, res in rows:
        print(
            f"{name:<36} {len(res.records):>9} {st:>10.2f} {res.wall_time_s:>8.2f} "
            f"{res.per_second:>8.1f}"
        )
    print(f"records identical across executors: {same}")
    mean_task = sum(float(r["wall_time_s"]) for r in res_local.records) / len(res_local.records)  # type: ignore[arg-type]
    print(f"mean scenario time in-process: {mean_task * 1000:.1f} ms")


if __name__ == "__main__":
    main()
