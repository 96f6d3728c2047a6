"""The cyclic collector paused during a what-if (matcher.gc_pause)."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator

import pytest

from matcher.gc_pause import collector_paused


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def _cycle() -> weakref.ref[_Node]:
    """A reference cycle nothing else refers to; only the cyclic collector frees it."""
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_off_inside_and_on_after() -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_on_again_after_an_error() -> None:
    with pytest.raises(ValueError, match="boom"), collector_paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_stays_off_when_it_was_off_before() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_nested_blocks_turn_it_on_only_after_the_outer_one() -> None:
    with collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def _allocate_past_threshold() -> None:
    """Make and keep enough containers that the collector, if on, would run."""
    kept = [[i] for i in range(20 * gc.get_threshold()[0])]
    assert len(kept) > 0


def test_the_collector_would_free_the_cycle_unpaused() -> None:
    # the check below means something: unpaused, the allocations free the cycle
    gc.collect()
    ref = _cycle()
    _allocate_past_threshold()
    assert ref() is None


def test_a_cycle_made_inside_lives_through_the_block_and_is_freed_at_its_end() -> None:
    gc.collect()
    with collector_paused():
        ref = _cycle()
        _allocate_past_threshold()
        assert ref() is not None
    assert ref() is None


def test_threads_each_in_a_block_turn_it_on_after_the_last_one() -> None:
    inside = threading.Barrier(2)
    first_done = threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with collector_paused():
            inside.wait()
        first_done.set()

    def second() -> None:
        with collector_paused():
            inside.wait()
            first_done.wait(5)
            # the first block has ended, this one still runs
            seen.append(gc.isenabled())

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == [False]
    assert gc.isenabled()


def test_resolve_pauses_the_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    """The what-if re-solve runs inside the pause (its body sees the collector off)."""
    from matcher.domain import incremental

    states: list[bool] = []

    def body(*args: object) -> tuple[object, object]:
        states.append(gc.isenabled())
        return object(), object()

    monkeypatch.setattr(incremental, "_resolve", body)
    incremental.resolve(object(), object())  # type: ignore[arg-type]
    assert states == [False]
    assert gc.isenabled()
