"""What-if re-solve time on a synthetic regional scenario (about 600 children, 300 offerings).

    .venv/bin/python benchmarks/whatif.py [--children 600] [--offerings 300] [--seed 0]
        [--deltas 20] [--no-budgets] [--check] [--time-limit 30] [--base-cache PATH]

For each of `--deltas` random one-delta what-ifs (add a place, lift a ceiling, waive a
contra-indication, lift an intake stop, add a child) it times the full what-if path:
apply the delta, re-check the affected pairs, compile, re-solve the changed components
warm-started from the base answer, and decode.  `--check` also solves every changed
scenario from scratch (time limit `--check-time-limit`) and reports how many answers have
the same objective and the largest difference in children placed within the norm
(slow).  `--time-limit` caps each what-if re-solve (a time-boxed what-if).  Prints one
table, and the median seconds per phase of a re-solve (eligibility, compile, solve,
decode).  `--base-cache PATH` keeps the scenario and its base answer in PATH (written
with cloudpickle the first time, read afterwards): at 10,000 children the base takes a
minute to build.  The garbage of building the base is collected before the timed
re-solves.  The base is always solved with a limit of at least 30 s (the
tafel's base answer), whatever `--time-limit` a what-if gets.  Before the timed
re-solves it runs `incremental.prepare` on the base (what a server does once after the
base answer) and prints its seconds apart.  Every what-if answer is checked with
`matcher.solution.verify` outside the timing (assignments, capacities, objective, the
bound not below the objective); `--per-delta` prints one line per re-solve with its
phases and gap.
"""

from __future__ import annotations

import argparse
import gc
import os
import pickle
import random
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matcher.domain.incremental import prepare, resolve
from matcher.domain.match import DEFAULT_OPTIONS, match
from matcher.domain.model import CareNeed
from matcher.domain.synth import generate
from matcher.domain.whatif import (
    AddChildren,
    AddPlaces,
    ChangeCeiling,
    LiftIntakeStop,
    WaiveContraIndication,
    apply,
)
from matcher.solution import verify


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the MIP runs in a forked
    child): a fairer figure than wall time on a machine shared with other work."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def random_delta(sc, rng: random.Random, k: int):
    kind = k % 5
    if kind == 0 or (kind == 1 and not sc.budgets):
        return "add_places", AddPlaces(rng.choice(sc.offerings).id, 1)
    if kind == 1:
        return "change_ceiling", ChangeCeiling(rng.choice(sc.budgets).id, 500_000)
    if kind == 2:
        with_ci = [o for o in sc.offerings if o.contra_indications]
        o = rng.choice(with_ci)
        return "waive_ci", WaiveContraIndication(o.id, sorted(o.contra_indications, key=str)[0])
    if kind == 3:
        stops = [o for o in sc.offerings if o.intake_stop] or list(sc.offerings)
        return "lift_intake_stop", LiftIntakeStop(rng.choice(stops).id)
    c = rng.choice(sc.children)
    new = replace(
        c,
        ref=f"NEW{k:03d}",
        ruling_date=sc.evaluation_date - timedelta(days=rng.randrange(5, 80)),
        needs=(CareNeed("n1", c.needs[0].care_type),),
    )
    return "add_child", AddChildren((new,))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--children", type=int, default=600)
    ap.add_argument("--offerings", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--deltas", type=int, default=20)
    ap.add_argument("--no-budgets", action="store_true")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--check-time-limit", type=float, default=60.0)
    ap.add_argument("--base-cache", default="")
    ap.add_argument("--per-delta", action="store_true")
    args = ap.parse_args()

    opts = replace(DEFAULT_OPTIONS, time_limit_s=args.time_limit)
    cache = Path(args.base_cache) if args.base_cache else None
    if cache is not None and cache.exists():
        with cache.open("rb") as f:
            sc, base, t_base = pickle.load(f)
    else:
        sc = generate(args.children, args.offerings, seed=args.seed, budgets=not args.no_budgets)
        t = time.perf_counter()
        base = match(sc, replace(DEFAULT_OPTIONS, time_limit_s=max(30.0, args.time_limit)))
        t_base = time.perf_counter() - t
        if cache is not None:
            import cloudpickle  # the eligibility table holds closures

            with cache.open("wb") as f:
                cloudpickle.dump((sc, base, t_base), f)
    p = base.compiled.problem
    # a server has long collected the garbage of building (or reading) its base; without
    # this the first re-solves pay a full collection over millions of objects
    gc.collect()
    c0 = _cpu()
    t = time.perf_counter()
    prepare(base)
    t_prep, cpu_prep = time.perf_counter() - t, _cpu() - c0
    rng = random.Random(args.seed)
    lines: list[str] = []
    gaps: list[float] = []
    rows: dict[str, list[tuple[float, bool, bool | None, int, int, float]]] = defaultdict(list)
    phases: dict[str, list[float]] = defaultdict(list)
    exact = replace(DEFAULT_OPTIONS, time_limit_s=args.check_time_limit)
    for k in range(args.deltas):
        name, delta = random_delta(sc, rng, k)
        c0 = _cpu()
        t = time.perf_counter()
        r, _ = resolve(base, apply(sc, delta), opts)
        dt = time.perf_counter() - t
        cpu = _cpu() - c0
        verify(r.compiled.problem, r.solution)  # raises on any infeasible or false claim
        ps = r.solution.stats.get("phases_s", {})
        for ph, sec in ps.items():
            phases[ph].append(sec)
        gap = r.solution.gap
        gaps.append(float("inf") if gap is None else gap)
        lines.append(
            f"{k:>3} {name:<17}{dt:>7.3f}{cpu:>7.3f}  {r.solution.status.value:<9}"
            + (f"{gap:>7.3f}" if gap is not None else f"{'-':>7}")
            + "  "
            + " ".join(f"{ph} {sec:.3f}" for ph, sec in ps.items())
        )
        same: bool | None = None
        diff = 0
        if args.check:
            full = match(apply(sc, delta), exact)
            same = full.solution.objective == r.solution.objective
            diff = full.n_within_norm - r.n_within_norm
        rows[name].append(
            (
                dt,
                r.solution.status.value == "OPTIMAL",
                same,
                r.solution.stats["items_resolved"],
                diff,
                cpu,
            )
        )

    load = os.getloadavg()[0]
    print(
        f"scenario {sc.name}: {len(sc.children)} children, {len(sc.offerings)} offerings, "
        f"{len(sc.budgets)} budgets; {p.n_items} items, {p.n_arcs} arcs, "
        f"{p.n_resources} resources"
    )
    print(
        f"base solve {t_base:.2f} s ({base.solution.status.value}, "
        f"{base.solution.strategy}, {base.n_within_norm} within the norm); "
        f"what-if time limit {args.time_limit} s; load average {load:.2f}"
    )
    print(
        f"prepare the base once (not in the times below): {t_prep:.3f} s, "
        f"{cpu_prep:.3f} CPU s; every answer verified; median gap "
        f"{statistics.median(gaps):.3f}"
    )
    print()
    if args.per_delta:
        print("  k delta             wall s  cpu s  status       gap  phases (s)")
        print("\n".join(lines))
        print()
    head = f"{'delta':<18}{'n':>4}{'median s':>10}{'p90 s':>9}{'max s':>9}{'median cpu s':>14}"
    head += f"{'optimal':>9}{'items re-solved (median)':>26}"
    if args.check:
        head += f"{'= scratch':>11}{'max within-norm short':>23}"
    print(head)
    every: list[float] = []
    cpus: list[float] = []
    for name in sorted(rows):
        ts = sorted(x[0] for x in rows[name])
        every += ts
        p90 = ts[min(len(ts) - 1, int(0.9 * len(ts)))]
        line = f"{name:<18}{len(ts):>4}{statistics.median(ts):>10.3f}{p90:>9.3f}{ts[-1]:>9.3f}"
        line += f"{statistics.median(x[5] for x in rows[name]):>14.3f}"
        cpus += [x[5] for x in rows[name]]
        line += f"{sum(x[1] for x in rows[name]):>6}/{len(ts):<2}"
        line += f"{statistics.median(x[3] for x in rows[name]):>26.0f}"
        if args.check:
            line += f"{sum(bool(x[2]) for x in rows[name]):>8}/{len(ts):<2}"
            line += f"{max(x[4] for x in rows[name]):>23}"
        print(line)
    every.sort()
    p90 = every[min(len(every) - 1, int(0.9 * len(every)))]
    n_opt = sum(x[1] for v in rows.values() for x in v)
    print(
        f"{'all':<18}{len(every):>4}{statistics.median(every):>10.3f}{p90:>9.3f}{every[-1]:>9.3f}"
        f"{statistics.median(cpus):>14.3f}{n_opt:>6}/{len(every):<2}"
    )
    print()
    print(
        "median s per phase: "
        + ", ".join(f"{ph} {statistics.median(v):.3f}" for ph, v in phases.items())
    )


if __name__ == "__main__":
    main()
