"""The interface every solver strategy implements, and the registry of them.

A strategy turns a `Core` into an `Outcome` (the answer in core arcs, the
best bound and where it came from) within a `TimeBudget`; `matcher.solve`
validates, builds the core, picks a strategy by name from the registry,
runs it and turns the outcome into a `Solution` (`finish.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from matcher.solution import SolveOptions
from matcher.solvers.budget import TimeBudget
from matcher.solvers.core import Core, IntArray


@dataclass(frozen=True)
class Outcome:
    """What a strategy found.  `core` is the core the answer refers to (a
    strategy may add cut rows to it); `bound` is in max form; `proven` says
    that a search proved the answer within the gap asked for."""

    core: Core
    chosen: IntArray | None
    bound: float | None
    proven: bool
    bound_source: str


class Strategy(Protocol):
    """One way to solve a core.  `run` may raise `CoreInfeasible`; it writes
    its measurements into `stats`."""

    @property
    def name(self) -> str: ...

    def run(
        self, core: Core, options: SolveOptions, budget: TimeBudget, stats: dict[str, Any]
    ) -> Outcome: ...


class Registry(Mapping[str, Strategy]):
    """Strategies by name, in the order they were given (the order of the
    CLI's choices)."""

    def __init__(self, strategies: Iterable[Strategy]) -> None:
        self._by_name: dict[str, Strategy] = {}
        for s in strategies:
            if s.name in self._by_name:
                raise ValueError(f"two strategies are named {s.name!r}")
            self._by_name[s.name] = s

    def __getitem__(self, name: str) -> Strategy:
        return self._by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)
