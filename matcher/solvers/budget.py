"""One time budget per solve, handed down to every step.

`solve()` starts a `TimeBudget` once; each step reads the time left from
it, and a step that may use only part of what is left gets a sub-budget
(`share`, `until`).  Low-level calls that want seconds or a point in time
(`time.perf_counter()` scale) take them from the budget where they are
called, so the limit never travels in three forms at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TimeBudget:
    """`limit` seconds from `start` (a `time.perf_counter()` reading)."""

    limit: float
    start: float = field(default_factory=time.perf_counter)

    @property
    def deadline(self) -> float:
        """The end of the budget on the `time.perf_counter()` scale."""
        return self.start + self.limit

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def left(self) -> float:
        return max(0.0, self.limit - self.elapsed())

    def at(self, fraction: float) -> float:
        """The point in time when `fraction` of the whole limit has passed."""
        return self.start + fraction * self.limit

    def share(self, fraction: float, reserve_s: float = 0.0) -> TimeBudget:
        """A budget from now of `fraction` of what is left after keeping
        `reserve_s` seconds back."""
        now = time.perf_counter()
        left = max(0.0, self.deadline - now - reserve_s)
        return TimeBudget(fraction * left, now)

    def until(self, deadline: float) -> TimeBudget:
        """A budget from now to `deadline`, never past this budget's end."""
        now = time.perf_counter()
        return TimeBudget(max(0.0, min(deadline, self.deadline) - now), now)
