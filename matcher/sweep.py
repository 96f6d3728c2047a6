"""Many scenarios through one executor: in-process by default, Dask when configured.

An executor maps a function over tasks with one shared context:

    executor.map(fn, context, tasks, progress=callback) -> results in task order

`fn(context, task)` must be a module-level function (Dask pickles it) and
must draw all randomness from seeds inside the task, so that every executor
gives the same results.  `progress(done, total)` is called as results come
in: the CLI drives a `rich` progress bar with it, a web job stores it.

Dask is used when a scheduler address is given (`scheduler=` or the
environment variable WIJZER_DASK_SCHEDULER).  `dask.distributed` is imported
only inside `DaskExecutor`, the one exception to the rule that the matcher
imports only the standard library, OR-Tools, numpy, holidays and dateutil
(see docs/planning.md); `rich` is imported only by the command line.

The planning sweep at the bottom runs Monte Carlo inflow draws x purchase
options on a region and returns flat records.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from matcher.planning import (
    RegionInstance,
    compile_region,
    evaluate,
    inflow_children,
    inflow_scenarios,
    naive_units,
    plan_purchases,
    synthetic_region,
)
from matcher.solution import SolveOptions

C = TypeVar("C")
T = TypeVar("T")
R = TypeVar("R")

ProgressCallback = Callable[[int, int], None]
ENV_SCHEDULER = "WIJZER_DASK_SCHEDULER"


class Executor(Protocol):
    name: str

    def map(
        self,
        fn: Callable[[C, T], R],
        context: C,
        tasks: Sequence[T],
        *,
        progress: ProgressCallback | None = None,
    ) -> list[R]: ...

    def close(self) -> None: ...


class InProcessExecutor:
    """Runs every task in this process, one after the other."""

    name = "in-process"

    def map(
        self,
        fn: Callable[[C, T], R],
        context: C,
        tasks: Sequence[T],
        *,
        progress: ProgressCallback | None = None,
    ) -> list[R]:
        out: list[R] = []
        total = len(tasks)
        if progress:
            progress(0, total)
        for k, task in enumerate(tasks, start=1):
            out.append(fn(context, task))
            if progress:
                progress(k, total)
        return out

    def close(self) -> None:
        return None


def _run_batch(fn: Callable[[C, T], R], context: C, batch: Sequence[T]) -> list[R]:
    return [fn(context, t) for t in batch]


class DaskExecutor:
    """Runs tasks on a dask.distributed cluster.

    `scheduler` is an address ("tcp://host:8786"), a `distributed.Client`, or
    a cluster object (e.g. `LocalCluster`).  The context is scattered once to
    every worker; tasks travel in batches of `batch_size` because a single
    scenario takes milliseconds and per-task overhead would dominate.
    """

    name = "dask"

    def __init__(self, scheduler: Any, *, batch_size: int | None = None) -> None:
        import distributed  # lazy: optional dependency, see docs/planning.md

        client_cls: Any = distributed.Client

        self._own_client = False
        self.client: Any
        if isinstance(scheduler, client_cls):
            self.client = scheduler
        elif isinstance(scheduler, str):
            self.client = client_cls(scheduler)
            self._own_client = True
        else:  # a cluster object
            self.client = client_cls(scheduler)
            self._own_client = True
        self.batch_size = batch_size

    def _batches(self, n: int) -> int:
        if self.batch_size:
            return max(1, self.batch_size)
        workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        # a few batches per worker keeps all busy without drowning in overhead
        return max(1, math.ceil(n / (workers * 8)))

    def map(
        self,
        fn: Callable[[C, T], R],
        context: C,
        tasks: Sequence[T],
        *,
        progress: ProgressCallback | None = None,
    ) -> list[R]:
        import distributed

        as_completed: Any = distributed.as_completed
        total = len(tasks)
        if progress:
            progress(0, total)
        if total == 0:
            return []
        size = self._batches(total)
        ctx = self.client.scatter(context, broadcast=True, hash=False)
        futures = []
        spans: dict[Any, tuple[int, int]] = {}
        for lo in range(0, total, size):
            hi = min(total, lo + size)
            fut = self.client.submit(_run_batch, fn, ctx, list(tasks[lo:hi]), pure=False)
            spans[fut.key] = (lo, hi)
            futures.append(fut)
        results: list[Any] = [None] * total
        done = 0
        try:
            for fut in as_completed(futures):
                lo, hi = spans[fut.key]
                results[lo:hi] = fut.result()  # re-raises a task's exception here
                done += hi - lo
                if progress:
                    progress(done, total)
        except BaseException:
            # one failed scenario fails the sweep; do not leave the rest running
            self.client.cancel(futures)
            raise
        return results

    def close(self) -> None:
        if self._own_client:
            self.client.close()


def get_executor(scheduler: Any = None, *, batch_size: int | None = None) -> Executor:
    """Dask when a scheduler is given or WIJZER_DASK_SCHEDULER is set, else in-process."""
    target = scheduler if scheduler is not None else os.environ.get(ENV_SCHEDULER) or None
    if target is None:
        return InProcessExecutor()
    return DaskExecutor(target, batch_size=batch_size)


# ---------------------------------------------------------------------------
# The planning sweep: Monte Carlo inflow x purchase options.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepTask:
    index: int
    draw: int
    inflow_seed: int
    option: str


@dataclass(frozen=True)
class SweepContext:
    instance: RegionInstance
    options: Mapping[str, Mapping[str, int]]  # option name -> units bought
    inflow_scale: float = 1.0


@dataclass(frozen=True)
class SweepResult(Generic[R]):
    records: list[R]
    executor: str
    wall_time_s: float

    @property
    def per_second(self) -> float:
        return len(self.records) / self.wall_time_s if self.wall_time_s > 0 else math.inf


def run_planning_scenario(ctx: SweepContext, task: SweepTask) -> dict[str, Any]:
    """One scenario: draw the inflow, buy the option's places, solve, count."""
    t0 = time.perf_counter()
    extra = inflow_children(ctx.instance, task.inflow_seed, scale=ctx.inflow_scale)
    pp = compile_region(ctx.instance, extra)
    ev = evaluate(pp, ctx.options[task.option], SolveOptions(time_limit_s=30.0, workers=1))
    return {
        "index": task.index,
        "draw": task.draw,
        "inflow_seed": task.inflow_seed,
        "option": task.option,
        "children": pp.problem.n_items,
        "inflow": len(extra),
        "within_norm": ev.within_norm,
        "placed": ev.placed,
        "spent_cents": ev.spent_cents,
        "status": ev.status.value,
        "wall_time_s": round(time.perf_counter() - t0, 6),
    }


def sweep_tasks(options: Sequence[str], draws: int, seed: int) -> list[SweepTask]:
    """Every option sees the same inflow draws (common random numbers)."""
    seeds = np.random.default_rng(seed).integers(0, 2**62, size=draws)
    out: list[SweepTask] = []
    for d in range(draws):
        for name in options:
            out.append(SweepTask(len(out), d, int(seeds[d]), name))
    return out


def purchase_options(
    instance: RegionInstance,
    budget_cents: int,
    *,
    train_draws: int = 4,
    train_seed: int = 1_000_003,
    options: SolveOptions | None = None,
) -> dict[str, dict[str, int]]:
    """Options compared in a sweep: nothing, the advice and the naive rule.

    The advice is planned on `train_draws` inflow draws of its own seed, so a
    sweep with another seed judges it on draws it has not seen.
    """
    pp = compile_region(instance)
    draws = inflow_scenarios(instance, train_draws, train_seed) if train_draws else []
    advice = plan_purchases(pp, budget_cents, options, scenarios=draws)
    return {
        "none": {},
        "advice": dict(advice.units),
        "naive": naive_units(pp, budget_cents),
    }


def planning_sweep(
    instance: RegionInstance,
    options: Mapping[str, Mapping[str, int]],
    *,
    draws: int,
    seed: int,
    executor: Executor | None = None,
    progress: ProgressCallback | None = None,
    inflow_scale: float = 1.0,
) -> SweepResult[dict[str, Any]]:
    ex = executor or InProcessExecutor()
    ctx = SweepContext(instance, {k: dict(v) for k, v in options.items()}, inflow_scale)
    tasks = sweep_tasks(list(options), draws, seed)
    t0 = time.perf_counter()
    records = ex.map(run_planning_scenario, ctx, tasks, progress=progress)
    return SweepResult(records, ex.name, time.perf_counter() - t0)


def summarise(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per option: children within the norm over the draws (mean, 10 %, 90 %)."""
    by: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in records:
        by[str(r["option"])].append(r)
    out: list[dict[str, Any]] = []
    for name, rs in by.items():
        w = np.array([r["within_norm"] for r in rs], dtype=np.float64)
        share = np.array([r["within_norm"] / max(1, r["children"]) for r in rs])
        out.append(
            {
                "option": name,
                "draws": len(rs),
                "within_norm_mean": round(float(w.mean()), 2),
                "within_norm_p10": float(np.quantile(w, 0.1)),
                "within_norm_p90": float(np.quantile(w, 0.9)),
                "share_within_norm_mean": round(float(share.mean()), 4),
                "spent_cents": int(rs[0]["spent_cents"]),
            }
        )
    return out


# ---------------------------------------------------------------------------
# Command line: python -m matcher sweep ... (or python -m matcher.sweep ...)
# ---------------------------------------------------------------------------


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--region-seed", type=int, default=1, help="seed of the synthetic region")
    p.add_argument("--regions", type=int, default=3, help="jeugdhulpregio's in the instance")
    p.add_argument("--children-per-region", type=int, default=60)
    p.add_argument("--draws", type=int, default=100, help="Monte Carlo inflow draws")
    p.add_argument("--seed", type=int, default=0, help="seed of the inflow draws")
    p.add_argument(
        "--train-draws", type=int, default=4, help="inflow draws the advice is planned on"
    )
    p.add_argument("--budget-euro", type=int, default=1_000_000)
    p.add_argument("--inflow-scale", type=float, default=1.0)
    p.add_argument(
        "--scheduler",
        default=None,
        help=f"Dask scheduler address (default: ${ENV_SCHEDULER}, else in-process)",
    )
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--json", action="store_true", help="print every record as JSON")
    p.add_argument("--no-progress", action="store_true")


def add_sweep_command(sub: Any) -> None:
    p = sub.add_parser(
        "sweep",
        help="run Monte Carlo inflow x purchase options on a synthetic region",
        description="Sweep Monte Carlo inflow draws x purchase options (none, advice, naive).",
    )
    add_arguments(p)
    p.set_defaults(func=run_cli)


@dataclass
class _RichProgress:
    bar: Any
    task: Any

    def __call__(self, done: int, total: int) -> None:
        self.bar.update(self.task, completed=done, total=total)


@contextlib.contextmanager
def _progress_bar(enabled: bool) -> Iterator[ProgressCallback | None]:
    if not enabled:
        yield None
        return
    from rich.console import Console  # lazy: CLI only
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("scenario's"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
        console=Console(stderr=True),  # stdout stays clean for --json
    ) as bar:
        yield _RichProgress(bar, bar.add_task("sweep", total=None))


def run_cli(args: argparse.Namespace) -> int:
    inst = synthetic_region(
        args.region_seed, regions=args.regions, children_per_region=args.children_per_region
    )
    opts = purchase_options(
        inst, args.budget_euro * 100, train_draws=args.train_draws, train_seed=args.seed + 1
    )
    executor = get_executor(args.scheduler, batch_size=args.batch_size)
    try:
        with _progress_bar(not args.no_progress and sys.stderr.isatty()) as progress:
            res = planning_sweep(
                inst,
                opts,
                draws=args.draws,
                seed=args.seed,
                executor=executor,
                progress=progress,
                inflow_scale=args.inflow_scale,
            )
    finally:
        executor.close()
    if args.json:
        json.dump({"executor": res.executor, "records": res.records}, sys.stdout)
        sys.stdout.write("\n")
        return 0
    print(
        f"{len(res.records)} scenarios on {res.executor} in {res.wall_time_s:.2f} s "
        f"({res.per_second:.1f} per second)"
    )
    print(f"{'option':<8} {'draws':>6} {'within norm':>12} {'10%':>6} {'90%':>6} {'spent EUR':>12}")
    for row in summarise(res.records):
        print(
            f"{row['option']:<8} {row['draws']:>6} {row['within_norm_mean']:>12.1f} "
            f"{row['within_norm_p10']:>6.0f} {row['within_norm_p90']:>6.0f} "
            f"{row['spent_cents'] // 100:>12,}"
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m matcher.sweep",
        description="Sweep Monte Carlo inflow draws x purchase options (none, advice, naive).",
    )
    add_arguments(p)
    return run_cli(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
