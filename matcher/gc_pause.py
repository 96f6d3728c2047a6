"""Python's cyclic collector paused while a what-if is re-solved.

A what-if at 10,000 children makes and drops some millions of small objects (pair
checks, tuples, lists) and builds tables of thousands of entries. Almost all of it is
freed by reference counting; the cyclic collector only walks it. Measured over 74
what-ifs at 10,000 children, it ran 29 times per what-if and took 34-39 ms of each
(`benchmarks/RESULTS.md`, "What-if at 10,000 children under 0.2 s ... s30"): a sixth
of the 0.2 s a what-if may take.

`collector_paused` switches the collector off for the block and, once the last block
running in the process ends, on again, with one collection of the youngest generation:
garbage in a reference cycle made during the block is freed there, and its time is
counted as the block's own. Nothing else changes: the collector does not decide what
is computed.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Pause:
    """How many blocks run, and whether the collector ran before the first of them.
    Blocks may run in several threads at once; the collector comes back after the
    last one, and only when it ran before."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.was_enabled = False

    def enter(self) -> None:
        with self.lock:
            if self.depth == 0:
                self.was_enabled = gc.isenabled()
                gc.disable()
            self.depth += 1

    def leave(self) -> bool:
        """True when this was the last block and the collector is back on."""
        with self.lock:
            self.depth -= 1
            if self.depth == 0 and self.was_enabled:
                gc.enable()
                return True
            return False


_PAUSE = _Pause()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off (see the module's docstring)."""
    _PAUSE.enter()
    try:
        yield
    finally:
        if _PAUSE.leave():
            # the cycles the block left behind are freed now, not at some later
            # allocation of another request
            gc.collect(0)
