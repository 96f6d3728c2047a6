"""A server process freezes what survives a full collection and releases it now and then."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from wijzer import collector, server


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture(autouse=True)
def _restore_gc() -> Iterator[None]:
    before = list(gc.callbacks)
    yield
    gc.callbacks[:] = before
    gc.unfreeze()


def _cycle() -> weakref.ref[Node]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_survivors_of_a_full_collection_are_frozen_and_released_after_the_interval() -> None:
    clock = Clock()
    cb = collector.FreezeSurvivors(release_every_s=600, clock=clock)
    gc.callbacks.append(cb)
    gc.collect()
    assert gc.get_freeze_count() > 0
    assert (cb.freezes, cb.releases) == (1, 0)
    # garbage in a cycle among frozen objects is not freed while they are frozen ...
    gc.unfreeze()
    alive = _cycle()
    gc.freeze()
    gc.collect()
    assert alive() is not None
    # ... and is, once the interval has passed: that collection releases, the next frees
    clock.now = 600
    gc.collect()
    assert cb.releases == 1
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert alive() is None
    assert gc.get_freeze_count() > 0  # the survivors of that one are frozen again


def test_young_collections_change_nothing() -> None:
    cb = collector.FreezeSurvivors(clock=Clock())
    gc.callbacks.append(cb)
    gc.unfreeze()
    gc.collect(0)
    gc.collect(1)
    assert (cb.freezes, cb.releases, gc.get_freeze_count()) == (0, 0, 0)


def test_objects_without_a_cycle_are_freed_while_frozen() -> None:
    gc.callbacks.append(collector.FreezeSurvivors(clock=Clock()))
    kept = Node()
    gone = weakref.ref(kept)
    gc.collect()
    assert gc.get_freeze_count() > 0
    del kept
    assert gone() is None


def test_install_once_per_process() -> None:
    first = collector.install()
    assert collector.install() is first
    assert sum(isinstance(cb, collector.FreezeSurvivors) for cb in gc.callbacks) == 1


def test_a_single_server_process_installs_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for cb in [cb for cb in gc.callbacks if isinstance(cb, collector.FreezeSurvivors)]:
        gc.callbacks.remove(cb)
    monkeypatch.setattr(server.uvicorn, "run", lambda *a, **k: None)
    monkeypatch.setattr(server.logs, "configure", lambda: None)
    server.run(None, "127.0.0.1", 0)  # type: ignore[arg-type]
    assert any(isinstance(cb, collector.FreezeSurvivors) for cb in gc.callbacks)
