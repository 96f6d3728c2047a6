"""Benchmark: the domain path from demo files to a decoded match, per phase.

    PYTHONPATH=. python benchmarks/domain_path.py [--sizes region,national]
        [--repeat 3] [--time-limit 10] [--seed 1]

Sizes: ``region`` is `providers demo --region JZ31 --children 600`; ``national``
is `providers demo --national --children 20000 --offerings 4000`.  Phases:
build (the demo generator), validate (write CSV, read it back and validate every
rule, as an import does), convert (`providers.convert.to_scenario`), eligibility
(`matcher.domain.eligibility.evaluate`), compile, solve (per component, with the
time limit) and decode.  "pairs checked" counts the (need, offering) pairs whose
rules ran one by one (`check_pair`); "candidates" counts the pairs of a
need with an offering of its care type or of an accepted alternative.  The last
column gives `match` as the application calls it (`matcher.domain.match.match`),
whose time limit must cover eligibility, compilation, the solve and decoding.

Each size is repeated `--repeat` times; the table shows the median per phase and
the load average before and after (the machine is shared: compare the pair
counts, which do not depend on load, as well as the seconds).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from matcher.domain import eligibility as elig_mod  # noqa: E402
from matcher.domain.compile import compile_scenario  # noqa: E402
from matcher.domain.components import solve_by_components  # noqa: E402
from matcher.domain.match import decode, match  # noqa: E402
from matcher.domain.model import Policy  # noqa: E402
from matcher.solution import SolveOptions  # noqa: E402
from providers import demo  # noqa: E402
from providers.convert import to_scenario  # noqa: E402
from providers.io import export_tables, read_tables  # noqa: E402
from providers.validate import validate  # noqa: E402

TODAY = dt.date(2026, 6, 1)
PHASES = ("build", "validate", "convert", "eligibility", "compile", "solve", "decode")


class CallCounter:
    """Counts calls of `check_pair` wherever the domain calls it from."""

    def __init__(self) -> None:
        self.calls = 0
        self._orig: Callable[..., Any] = elig_mod.check_pair

    def __enter__(self) -> CallCounter:
        orig = self._orig

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return orig(*args, **kwargs)

        elig_mod.check_pair = counted
        return self

    def __exit__(self, *exc: object) -> None:
        elig_mod.check_pair = self._orig


def build(size: str, seed: int) -> dict[str, Any]:
    if size == "region":
        return demo.generate_region("JZ31", seed=seed, n_children=600, today=TODAY)
    return demo.generate_national(20_000, 4_000, seed=seed, today=TODAY)


class Clock:
    """Wall and CPU seconds of one phase (CPU time suffers less from a loaded machine)."""

    def __init__(self, out: dict[str, float], name: str) -> None:
        self.out, self.name = out, name

    def __enter__(self) -> Clock:
        self.t, self.c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.out[self.name] = time.perf_counter() - self.t
        self.out[self.name + "_cpu"] = time.process_time() - self.c


def one_run(size: str, seed: int, limit: float) -> dict[str, float]:
    out: dict[str, float] = {}
    with Clock(out, "build"):
        data = build(size, seed)
    with Clock(out, "validate"), tempfile.TemporaryDirectory() as tmp:
        export_tables(data, "csv", Path(tmp))
        tables, problems = read_tables(Path(tmp))
        v = validate(tables, problems, today=TODAY)
    region = "JZ31" if size == "region" else None
    with Clock(out, "convert"):
        sc = to_scenario(v.records, evaluation_date=TODAY, region_code=region, policy=Policy())
    with CallCounter() as cc:
        with Clock(out, "eligibility"):
            el = elig_mod.evaluate(sc)
        with Clock(out, "compile"):
            comp = compile_scenario(sc, el)
    out["pairs_checked"] = cc.calls
    kids = sc.child_by_ref
    out["candidates"] = sum(
        len(elig_mod.candidates(sc, kids[ref].need(nid), el.index)) for ref, nid in el.pairs
    )
    out["eligible"] = sum(len(el.eligible(ref, nid)) for ref, nid in el.pairs)
    out["arcs"] = comp.problem.n_arcs
    opts = SolveOptions(time_limit_s=limit, relative_gap=0.0)
    with Clock(out, "solve"):
        sol, _ = solve_by_components(comp.problem, None, None, opts)
    with Clock(out, "decode"):
        decode(comp, sol)
    with Clock(out, "match"):
        res = match(sc, opts)
    out["placed"] = len(res.placements)
    out["gap"] = res.solution.gap if res.solution.gap is not None else float("nan")
    out["optimal"] = float(res.solution.status.value == "OPTIMAL")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="region,national")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    print(f"domain path benchmark, seed {a.seed}, time limit {a.time_limit} s, {a.repeat} runs")
    print(f"date {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores")
    print()
    print(
        "| size | phase | wall s (median) | min | max | CPU s (median) "
        "| pairs checked | candidates | load before -> after |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for size in a.sizes.split(","):
        load0 = os.getloadavg()
        runs = [one_run(size, a.seed, a.time_limit) for _ in range(a.repeat)]
        load1 = os.getloadavg()
        loads = f"{load0[0]:.2f} -> {load1[0]:.2f}"
        r0 = runs[0]
        for ph in (*PHASES, "match"):
            vals = [r[ph] for r in runs]
            cpu = statistics.median(r[ph + "_cpu"] for r in runs)
            pairs = f"{int(r0['pairs_checked'])}" if ph == "eligibility" else ""
            cand = f"{int(r0['candidates'])}" if ph == "eligibility" else ""
            print(
                f"| {size} | {ph} | {statistics.median(vals):.3f} | {min(vals):.3f} | "
                f"{max(vals):.3f} | {cpu:.3f} | {pairs} | {cand} | {loads} |"
            )
        el_comp = [r["eligibility"] + r["compile"] for r in runs]
        el_cpu = statistics.median(r["eligibility_cpu"] + r["compile_cpu"] for r in runs)
        print(
            f"| {size} | eligibility + compile | {statistics.median(el_comp):.3f} | "
            f"{min(el_comp):.3f} | {max(el_comp):.3f} | {el_cpu:.3f} | | | {loads} |"
        )
        print(
            f"\n{size}: {int(r0['eligible'])} eligible pairs, {int(r0['arcs'])} arcs; "
            f"match within its {a.time_limit} s limit in "
            f"{sum(r['match'] <= a.time_limit for r in runs)} of {len(runs)} runs; "
            f"match placed {[int(r['placed']) for r in runs]}, gap to its bound "
            f"{[round(r['gap'], 5) for r in runs]}, optimal {[bool(r['optimal']) for r in runs]}\n"
        )


if __name__ == "__main__":
    main()
