"""Scenario sweeps: one executor interface, in-process and on a Dask LocalCluster."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from matcher.planning import synthetic_region
from matcher.sweep import (
    ENV_SCHEDULER,
    DaskExecutor,
    InProcessExecutor,
    get_executor,
    main,
    planning_sweep,
    purchase_options,
    summarise,
    sweep_tasks,
)


def square_plus(ctx: int, task: int) -> int:
    return task * task + ctx


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    distributed = pytest.importorskip("distributed")
    # Threads, not processes: starting worker processes costs seconds per test
    # run on a shared machine; the executor code path is the same.
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        dashboard_address=None,
        silence_logs=40,
    ) as c:
        yield c


@pytest.fixture(scope="module")
def region() -> Any:
    return synthetic_region(2, regions=1, children_per_region=30, months=4)


@pytest.fixture(scope="module")
def options(region: Any) -> dict[str, dict[str, int]]:
    return purchase_options(region, 20_000_000, train_draws=2, train_seed=5)


def test_in_process_map_keeps_order_and_reports_progress() -> None:
    seen: list[tuple[int, int]] = []
    out = InProcessExecutor().map(
        square_plus, 1, list(range(6)), progress=lambda d, t: seen.append((d, t))
    )
    assert out == [1, 2, 5, 10, 17, 26]
    assert seen[0] == (0, 6)
    assert seen[-1] == (6, 6)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_get_executor_defaults_to_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_SCHEDULER, raising=False)
    assert isinstance(get_executor(), InProcessExecutor)


def test_get_executor_reads_the_environment(monkeypatch: pytest.MonkeyPatch, cluster: Any) -> None:
    monkeypatch.setenv(ENV_SCHEDULER, cluster.scheduler_address)
    ex = get_executor()
    try:
        assert isinstance(ex, DaskExecutor)
        assert ex.map(square_plus, 0, [1, 2, 3]) == [1, 4, 9]
    finally:
        ex.close()


@pytest.mark.parametrize("batch_size", [None, 1, 4])
def test_dask_map_matches_in_process(cluster: Any, batch_size: int | None) -> None:
    seen: list[int] = []
    ex = DaskExecutor(cluster, batch_size=batch_size)
    try:
        out = ex.map(square_plus, 3, list(range(25)), progress=lambda d, t: seen.append(d))
    finally:
        ex.close()
    assert out == InProcessExecutor().map(square_plus, 3, list(range(25)))
    assert seen[0] == 0
    assert seen[-1] == 25
    assert seen == sorted(seen)


def test_sweep_tasks_share_inflow_draws_across_options() -> None:
    tasks = sweep_tasks(["none", "advice"], draws=3, seed=7)
    assert len(tasks) == 6
    assert [t.index for t in tasks] == list(range(6))
    by_draw = {(t.draw, t.option): t.inflow_seed for t in tasks}
    assert all(by_draw[(d, "none")] == by_draw[(d, "advice")] for d in range(3))
    assert len({by_draw[(d, "none")] for d in range(3)}) == 3
    assert sweep_tasks(["none"], 3, 7)[0].inflow_seed == tasks[0].inflow_seed


def strip_time(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "wall_time_s"} for r in records]


def test_planning_sweep_same_records_in_process_and_on_dask(
    cluster: Any, region: Any, options: dict[str, dict[str, int]]
) -> None:
    local = planning_sweep(region, options, draws=4, seed=3)
    ex = DaskExecutor(cluster)
    try:
        remote = planning_sweep(region, options, draws=4, seed=3, executor=ex)
    finally:
        ex.close()
    assert local.executor == "in-process"
    assert remote.executor == "dask"
    assert len(local.records) == 4 * len(options)
    assert strip_time(local.records) == strip_time(remote.records)


def test_buying_never_lowers_children_within_norm_per_draw(
    region: Any, options: dict[str, dict[str, int]]
) -> None:
    res = planning_sweep(region, options, draws=5, seed=11)
    by = {(r["draw"], r["option"]): r for r in res.records}
    for d in range(5):
        assert by[(d, "advice")]["within_norm"] >= by[(d, "none")]["within_norm"]
        assert by[(d, "naive")]["within_norm"] >= by[(d, "none")]["within_norm"]
    rows = {row["option"]: row for row in summarise(res.records)}
    assert set(rows) == {"none", "advice", "naive"}
    assert rows["none"]["spent_cents"] == 0
    assert rows["advice"]["within_norm_p10"] <= rows["advice"]["within_norm_p90"]


def test_cli_prints_json_records(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "--regions",
            "1",
            "--children-per-region",
            "20",
            "--draws",
            "2",
            "--train-draws",
            "1",
            "--budget-euro",
            "100000",
            "--json",
            "--no-progress",
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["executor"] == "in-process"
    assert len(data["records"]) == 6


def test_importing_the_sweep_loads_neither_dask_nor_rich() -> None:
    code = (
        "import sys, matcher.sweep, matcher.planning, matcher.forecast;"
        "bad = [m for m in ('distributed', 'dask', 'rich') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def fail_on_three(ctx: int, task: int) -> int:
    if task == 3:
        raise ValueError("scenario 3 is broken")
    return task


def test_a_failing_scenario_fails_the_sweep_on_both_executors(cluster: Any) -> None:
    with pytest.raises(ValueError, match="scenario 3"):
        InProcessExecutor().map(fail_on_three, 0, list(range(6)))
    ex = DaskExecutor(cluster, batch_size=2)
    try:
        with pytest.raises(ValueError, match="scenario 3"):
            ex.map(fail_on_three, 0, list(range(6)))
        # the executor is still usable afterwards
        assert ex.map(square_plus, 0, [2]) == [4]
    finally:
        ex.close()


def test_rich_progress_bar_follows_the_callback() -> None:
    pytest.importorskip("rich")
    from matcher.sweep import _progress_bar

    with _progress_bar(True) as progress:
        assert progress is not None
        progress(0, 4)
        progress(3, 4)
        bar = progress.bar  # type: ignore[attr-defined]
        task = bar.tasks[0]
        assert task.total == 4
        assert task.completed == 3
    with _progress_bar(False) as nothing:
        assert nothing is None
