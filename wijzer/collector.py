"""Full garbage collections in a server process walk only what is new.

A server process keeps caches that live as long as it does (the search cache: the
offerings, their start forecasts, the lookups per purchase). Python's full collection
walks every object the collector tracks, and none of those is garbage: under 20 users
searching, one took 100-600 ms, longer as the cache filled, every few seconds, and
every request of that process waited for it (`benchmarks/RESULTS.md`, "Full
collections in a server process").

`FreezeSurvivors` moves what survives a full collection to the permanent generation
(`gc.freeze`), so the next one walks only what came after. A frozen object is still
freed as soon as nothing refers to it; only garbage in a reference cycle among frozen
objects would stay. So every `release_every_s` the frozen objects are released
(`gc.unfreeze`): the next full collection walks them all once and frees such cycles,
and its survivors are frozen again.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

RELEASE_EVERY_S = 600.0
OLDEST = 2  # CPython's generations are 0, 1 and 2; a collection of 2 is a full one


class FreezeSurvivors:
    """A `gc.callbacks` entry: freeze after each full collection, release now and then."""

    def __init__(
        self,
        release_every_s: float = RELEASE_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.release_every_s = release_every_s
        self.clock = clock
        self.released_at = clock()
        self.freezes = 0
        self.releases = 0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase != "stop" or info.get("generation") != OLDEST:
            return
        now = self.clock()
        if now - self.released_at >= self.release_every_s:
            gc.unfreeze()
            self.released_at = now
            self.releases += 1
        else:
            gc.freeze()
            self.freezes += 1


def install(release_every_s: float = RELEASE_EVERY_S) -> FreezeSurvivors:
    """Freeze the survivors of full collections in this process (once per process)."""
    for cb in gc.callbacks:
        if isinstance(cb, FreezeSurvivors):
            return cb
    cb = FreezeSurvivors(release_every_s)
    gc.callbacks.append(cb)
    return cb
