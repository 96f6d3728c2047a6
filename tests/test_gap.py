"""The GAP yardstick in small: published optima reached and verified.

The full tables come from benchmarks/gap_yardstick.py; here two small
instances per type keep the path from reader to verified optimum honest.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from matcher import SolveOptions, Status, solve, verify
from matcher.io import read_orlib_gap

GAP_DIR = Path(__file__).resolve().parent / "fixtures" / "gap"


def best_known() -> dict[str, int]:
    with open(GAP_DIR / "optima.csv", newline="") as f:
        return {r["instance"]: int(r["best_known_value"]) for r in csv.DictReader(f)}


@pytest.mark.parametrize("name", ["a05100", "a20100", "b10100"])
def test_published_optimum_reached(name: str) -> None:
    p = read_orlib_gap(GAP_DIR / f"{name}.txt")
    sol = solve(p, SolveOptions(time_limit_s=20, relative_gap=0.0))
    verify(p, sol)
    assert sol.objective == best_known()[name]
    assert sol.status is Status.OPTIMAL
    assert sol.best_bound == sol.objective


def test_hard_instance_answer_is_verified_with_honest_bound() -> None:
    p = read_orlib_gap(GAP_DIR / "d05100.txt")
    sol = solve(p, SolveOptions(time_limit_s=3))
    verify(p, sol)
    assert sol.objective is not None
    assert sol.best_bound is not None
    best = best_known()["d05100"]
    # the published optimum lies between our bound and our answer
    assert sol.best_bound <= best <= sol.objective
