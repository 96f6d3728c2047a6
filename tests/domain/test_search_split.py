"""The search for what would help on two processes (matcher.domain.search_split): the
same answers as one process, groups that share no re-solve, and a child that fails or
hangs costs no answer."""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import sys
import time
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest

from matcher.domain import search_split
from matcher.domain.explain import SearchLimits, explain
from matcher.domain.helps import ResolveCache
from matcher.domain.match import MatchResult, match
from matcher.domain.neighbourhood import Neighbourhoods
from providers import demo
from providers.convert import to_scenario

TODAY = dt.date(2026, 11, 20)


@cache
def _region() -> MatchResult:
    data = demo.generate_region("JZ31", seed=3, n_children=200, today=TODAY)
    return match(to_scenario(data, evaluation_date=TODAY, region_code="JZ31"))


def _answers(r: MatchResult) -> dict[tuple[str, str], Any]:
    ex = explain(r, time_budget_s=120, limits=SearchLimits(stop_at_smallest=True))
    return {
        (n.child_ref, n.need_id): (
            [(c.deltas, c.placed_at, c.within_norm, c.start) for c in n.changes],
            n.search_note,
            n.resolves,
            n.search_limit_reached,
            n.search_out_of_time,
        )
        for n in ex.needs
    }


def test_two_processes_give_every_need_the_answer_of_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    r = _region()
    splits: list[search_split.Split[Any]] = []
    run = search_split.run_split

    def watched(*args: Any, **kwargs: Any) -> search_split.Split[Any]:
        got = run(*args, **kwargs)
        splits.append(got)
        return got

    monkeypatch.setattr(search_split, "run_split", watched)
    both = _answers(r)
    monkeypatch.setattr(search_split, "SPLIT", False)
    alone = _answers(r)
    assert len(splits) == 1, "the first search must have been split"
    assert 0 < splits[0].from_child < len(both), "each process must search some needs"
    assert sum(1 for a in alone.values() if a[0]) >= 20, "the region must have changes"
    assert both == alone


def test_no_re_solve_serves_needs_of_two_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every re-solve the search asks the cache for is asked for by the needs of one
    group only (a change for everyone, scope None, excepted)."""
    r = _region()
    hoods = Neighbourhoods(r)
    keys = sorted(r.unplaced)
    group_of = {keys[i]: g for g, pos in enumerate(hoods.sharing(keys)) for i in pos}
    assert sorted(i for pos in hoods.sharing(keys) for i in pos) == list(range(len(keys)))
    assert len(set(group_of.values())) >= 2
    asked: dict[Any, set[int]] = {}
    current: list[int] = []
    get = ResolveCache.get

    def watched_get(self: ResolveCache, key: Any) -> Any:
        if key[1] is not None:
            asked.setdefault(key, set()).add(current[-1])
        return get(self, key)

    # the module, not the function `matcher.domain.explain` that shadows it
    explain_module = sys.modules["matcher.domain.explain"]
    search = explain_module.search_help

    def watched_search(r: MatchResult, ref: str, nid: str, *a: Any, **k: Any) -> Any:
        current.append(group_of[(ref, nid)])
        return search(r, ref, nid, *a, **k)

    monkeypatch.setattr(search_split, "SPLIT", False)
    monkeypatch.setattr(ResolveCache, "get", watched_get)
    monkeypatch.setattr(explain_module, "search_help", watched_search)
    explain(r, time_budget_s=120, limits=SearchLimits(stop_at_smallest=True))
    assert len(asked) >= 50, "the search must have re-solved"
    shared = {k: g for k, g in asked.items() if len(g) > 1}
    assert not shared


def _groups() -> list[list[int]]:
    return [[0, 3], [1], [2, 4]]


def _both_take_groups(in_child: Callable[[], None]) -> search_split.Split[tuple[str, int]]:
    """`run_split` over `_groups()` where this process waits until the child has taken a
    group of its own; the child runs `in_child` for each of its needs."""
    parent = os.getpid()
    child_started = mp.get_context("fork").Event()

    def run_one(i: int) -> tuple[str, int]:
        if os.getpid() == parent:
            child_started.wait(30)
            return ("parent", i)
        child_started.set()
        in_child()
        return ("child", i)

    return search_split.run_split(5, run_one, _groups(), time.perf_counter() + 30)


def test_each_process_takes_whole_groups_and_every_answer_comes_back() -> None:
    got = _both_take_groups(lambda: None)
    assert [i for _, i in got.answers] == [0, 1, 2, 3, 4]
    assert got.from_child == sum(1 for who, _ in got.answers if who == "child") > 0
    by = {i: who for who, i in got.answers}
    for group in _groups():
        assert len({by[i] for i in group}) == 1, "a group is searched by one process"


def test_a_failing_child_leaves_its_needs_to_this_process() -> None:
    parent = os.getpid()

    def run_one(i: int) -> int:
        if os.getpid() != parent:
            raise RuntimeError("child fails")
        time.sleep(0.05)  # the child gets a group before the parent takes them all
        return i * 10

    got = search_split.run_split(5, run_one, _groups(), time.perf_counter() + 30)
    assert got.answers == [0, 10, 20, 30, 40]
    assert got.from_child == 0


def test_a_hanging_child_is_stopped_after_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_split, "GRACE_S", 0.2)
    parent = os.getpid()

    def run_one(i: int) -> int:
        if os.getpid() != parent:
            time.sleep(60)
        time.sleep(0.05)
        return i

    t0 = time.perf_counter()
    got = search_split.run_split(5, run_one, _groups(), t0 + 0.5)
    assert got.answers == [0, 1, 2, 3, 4]
    assert got.from_child == 0
    assert time.perf_counter() - t0 < 5


def test_one_process_where_there_is_no_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork(method: str) -> Any:
        raise ValueError(method)

    monkeypatch.setattr(search_split.mp, "get_context", no_fork)
    got = search_split.run_split(5, lambda i: i, _groups(), time.perf_counter() + 30)
    assert got.answers == [0, 1, 2, 3, 4]
    assert got.from_child == 0


def test_a_short_list_or_one_core_is_not_split() -> None:
    assert search_split.wanted(2, search_split.SPLIT_MIN_NEEDS)
    assert not search_split.wanted(2, search_split.SPLIT_MIN_NEEDS - 1)
    assert not search_split.wanted(1, 500)


def _nothing() -> None:
    return None


def test_the_child_may_start_a_process_of_its_own() -> None:
    """A re-solve of a large neighbourhood runs HiGHS in a forked process of its own
    (`matcher.solvers.mip.MipChild`): the search's child must be allowed to start one."""

    def start_one() -> None:
        grandchild = mp.get_context("fork").Process(target=_nothing)
        grandchild.start()
        grandchild.join(30)
        assert grandchild.exitcode == 0

    got = _both_take_groups(start_one)
    assert got.from_child > 0
    assert [i for _, i in got.answers] == [0, 1, 2, 3, 4]


def test_a_daemon_searches_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mp.current_process(), "daemon", True, raising=False)
    got = search_split.run_split(5, lambda i: i, _groups(), time.perf_counter() + 30)
    assert got.answers == [0, 1, 2, 3, 4]
    assert got.from_child == 0


def test_a_process_that_cannot_start_leaves_the_search_to_this_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ctx = mp.get_context("fork")

    class NoStart(ctx.Process):  # type: ignore[name-defined,misc]
        def start(self) -> None:
            raise OSError("no more processes")

    class Ctx:
        def __getattr__(self, name: str) -> Any:
            return NoStart if name == "Process" else getattr(ctx, name)

    monkeypatch.setattr(search_split.mp, "get_context", lambda _method: Ctx())
    got = search_split.run_split(5, lambda i: i, _groups(), time.perf_counter() + 30)
    assert got.answers == [0, 1, 2, 3, 4]
    assert got.from_child == 0


def test_a_failure_here_stops_the_child_and_is_raised() -> None:
    parent = os.getpid()

    def run_one(i: int) -> int:
        if os.getpid() == parent:
            raise RuntimeError("the search failed here")
        time.sleep(60)
        return i

    # other tests' processes (a job pool's workers) may still run beside this one
    before = {p.pid for p in mp.active_children()}
    t0 = time.perf_counter()
    with pytest.raises(RuntimeError, match="failed here"):
        search_split.run_split(5, run_one, _groups(), t0 + 30)
    assert time.perf_counter() - t0 < 5
    assert not [p for p in mp.active_children() if p.pid not in before]
