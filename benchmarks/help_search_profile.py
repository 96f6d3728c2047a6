"""Benchmark: where the tafel's whole search for what would help spends its time.

    PYTHONPATH=. .venv/bin/python benchmarks/help_search_profile.py [--seed 1]
        [--children 600] [--stages]

Builds the demo region as `benchmarks/help_search.py` does (ruling date 2026-11-20),
matches it and runs `explain` as the tafel's run makes it (the smallest change per need,
a budget large enough that no need is left unsearched).

Without `--stages` the search runs on two processes (`matcher.domain.search_split`) and
each need's seconds are recorded by the process that searched it.  Prints the groups of
needs (`Neighbourhoods.sharing`: a group goes whole to one process) with their needs,
process and seconds, largest first, then each process's busy seconds and the wall time.
The longest group bounds the wall time from below: its needs share re-solves, so they
are not split between the processes.

With `--stages` the search runs in this process alone and its seconds are split by
stage: the re-solves by the kind of change and the size of the neighbourhood re-solved
(at least 100 needs or fewer), and within them compiling, the pair checks after the
change, and matching (the solver and decoding).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from unittest.mock import patch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BIG_SCOPE = 100  # needs in a re-solve's neighbourhood from which it counts as large


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--children", type=int, default=600)
    ap.add_argument("--region", default="JZ31")
    ap.add_argument("--stages", action="store_true")
    args = ap.parse_args()

    from matcher.domain import search_split
    from matcher.domain.explain import SearchLimits, explain
    from matcher.domain.match import match
    from providers import demo
    from providers.convert import to_scenario

    today = dt.date(2026, 11, 20)
    data = demo.generate_region(args.region, seed=args.seed, n_children=args.children, today=today)
    r = match(to_scenario(data, evaluation_date=today, region_code=args.region))
    limits = SearchLimits(stop_at_smallest=True)
    if args.stages:
        search_split.SPLIT = False
        stages = Stages()
        t0 = time.perf_counter()
        with stages.watching():
            explain(r, time_budget_s=600, limits=limits)
        stages.print(time.perf_counter() - t0)
        return 0

    groups: dict[int, int] = {}
    with tempfile.NamedTemporaryFile("r", suffix=".log") as log:
        original = search_split.run_split

        def run_split(
            n: int, run_one: Callable[[int], Any], parts: list[list[int]], deadline: float
        ) -> Any:
            for g, members in enumerate(parts):
                groups.update(dict.fromkeys(members, g))

            def timed(i: int) -> Any:
                t = time.perf_counter()
                out = run_one(i)
                # both processes append; each line is one write, so lines do not mix
                with open(log.name, "a", encoding="utf-8") as fh:
                    fh.write(f"{os.getpid()} {i} {time.perf_counter() - t:.6f}\n")
                return out

            return original(n, timed, parts, deadline)

        with patch.object(search_split, "run_split", run_split):
            t0 = time.perf_counter()
            explain(r, time_budget_s=600, limits=limits)
            wall = time.perf_counter() - t0
        lines = [line.split() for line in log.read().splitlines()]
    if not groups:
        print("the search was not split (too few needs, or no second process)")
        return 0
    me = str(os.getpid())
    seconds: dict[int, float] = defaultdict(float)
    who: dict[int, str] = {}
    for pid, i, s in lines:
        g = groups[int(i)]
        seconds[g] += float(s)
        who[g] = "this process" if pid == me else "the second process"
    size = Counter(groups.values())
    print(f"| group | needs | process | search s |  (seed {args.seed}, {args.children} children)")
    print("|---:|---:|---|---:|")
    for g in sorted(seconds, key=lambda g: -seconds[g]):
        print(f"| {g} | {size[g]} | {who[g]} | {seconds[g]:.2f} |")
    busy: dict[str, float] = defaultdict(float)
    taken: Counter[str] = Counter()
    for g, s in seconds.items():
        busy[who[g]] += s
        taken[who[g]] += 1
    for name in sorted(busy):
        print(f"{name}: {taken[name]} groups, busy {busy[name]:.2f} s")
    print(f"wall {wall:.2f} s; longest group {max(seconds.values()):.2f} s")
    return 0


class Stages:
    """Seconds per stage of the search in one process, by re-solve kind and size."""

    def __init__(self) -> None:
        self.seconds: dict[tuple[str, str], float] = defaultdict(float)
        self.calls: Counter[tuple[str, str]] = Counter()
        self._size = "-"

    def watching(self) -> ExitStack:
        from matcher.domain import neighbourhood

        stack = ExitStack()
        hoods = neighbourhood.Neighbourhoods
        # (method, position of its scope among the arguments after self)
        for name, at in (("resolve", 1), ("placeable", 1), ("carry", 2)):
            stack.enter_context(patch.object(hoods, name, self._method(hoods, name, at)))
        for name in ("compile_scenario", "_relaxed", "match", "decode"):
            stack.enter_context(
                patch.object(neighbourhood, name, self._function(neighbourhood, name))
            )
        return stack

    def _add(self, key: tuple[str, str], since: float) -> None:
        self.seconds[key] += time.perf_counter() - since
        self.calls[key] += 1

    def _method(self, cls: Any, name: str, at: int) -> Callable[..., Any]:
        original = getattr(cls, name)

        def wrapped(hoods: Any, *a: Any) -> Any:
            size = "large" if len(hoods.needs(a[at])) >= BIG_SCOPE else "small"
            kinds = "+".join(sorted({type(d).__name__ for d in a[0]})) or "none"
            self._size = size
            t = time.perf_counter()
            try:
                return original(hoods, *a)
            finally:
                self._add((f"{name} {kinds}", size), t)
                self._size = "-"

        return wrapped

    def _function(self, module: Any, name: str) -> Callable[..., Any]:
        original = getattr(module, name)

        def wrapped(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return original(*a, **k)
            finally:
                self._add((f"  within: {name}", self._size), t)

        return wrapped

    def print(self, total: float) -> None:
        print("| stage | neighbourhood | calls | s |")
        print("|---|---|---:|---:|")
        for (stage, size), s in sorted(
            self.seconds.items(), key=lambda kv: (kv[0][1], kv[0][0].startswith(" "), -kv[1])
        ):
            print(f"| {stage} | {size} | {self.calls[(stage, size)]} | {s:.2f} |")
        print(f"whole search {total:.2f} s")


if __name__ == "__main__":
    raise SystemExit(main())
