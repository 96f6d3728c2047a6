"""Parts solved before (`components._solve_part`): the same part, warm start and options
(but the time limit) give the kept proven answer without a solve; anything else is
solved again, and only proven optimal answers are kept."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from matcher.domain import components
from matcher.domain.components import solve_by_components
from matcher.problem import AssignmentProblem
from matcher.solution import Solution, SolveOptions, Status
from matcher.solve import solve as real
from tests.budget_problems import budget_problem


def _problem(budget: int = 10) -> AssignmentProblem:
    """One part with a budget row that binds (solved by a search, not a flow)."""
    return budget_problem(
        6,
        3,
        budget=budget,
        places=2,
        value=lambda i, o: 20 + (i * 3 + o * 11) % 17,
        amount=lambda i, o: 3 + (i * 7 + o * 5) % 5,
    )


@pytest.fixture(autouse=True)
def _empty() -> Iterator[None]:
    components._SOLVED.clear()
    yield
    components._SOLVED.clear()


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[AssignmentProblem]:
    seen: list[AssignmentProblem] = []

    def counting(p: AssignmentProblem, o: SolveOptions) -> Solution:
        seen.append(p)
        return real(p, o)

    monkeypatch.setattr("matcher.domain.components.solve", counting)
    return seen


OPTS = SolveOptions(time_limit_s=5.0, relative_gap=0.0)


def test_the_same_part_is_solved_once(calls: list[AssignmentProblem]) -> None:
    first, _ = solve_by_components(_problem(), None, None, OPTS)
    again, proven = solve_by_components(_problem(), None, None, replace(OPTS, time_limit_s=4.0))
    assert first.status is Status.OPTIMAL
    assert len(calls) == 1
    assert again.assignments == first.assignments
    assert again.objective == first.objective
    assert again.status is Status.OPTIMAL
    assert len(proven) == 6


@pytest.mark.parametrize(
    "change",
    [
        lambda p, o, w: (_problem(budget=11), o, w),  # another capacity
        lambda p, o, w: (p, replace(o, seed=1), w),  # other options
        lambda p, o, w: (
            p,
            o,
            Solution(Status.FEASIBLE, None, None, None, {"c0": "o1"}, (), 0.0, ""),
        ),
    ],
)
def test_anything_else_is_solved_again(calls: list[AssignmentProblem], change: Any) -> None:
    p = _problem()
    solve_by_components(p, None, None, OPTS)
    q, opts, warm = change(p, OPTS, None)
    sol, _ = solve_by_components(q, None, warm, opts)
    assert len(calls) == 2
    assert sol.status is Status.OPTIMAL


def test_a_limit_shorter_than_the_kept_solve_solves_again(calls: list[AssignmentProblem]) -> None:
    solve_by_components(_problem(), None, None, OPTS)
    (key,) = components._SOLVED
    components._SOLVED[key] = replace(components._SOLVED[key], wall_time_s=3.0)
    solve_by_components(_problem(), None, None, replace(OPTS, time_limit_s=2.0))
    assert len(calls) == 2


def test_an_unproven_answer_is_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    n = [0]

    def unproven(p: AssignmentProblem, o: SolveOptions) -> Solution:
        n[0] += 1
        return replace(real(p, o), status=Status.FEASIBLE)

    monkeypatch.setattr("matcher.domain.components.solve", unproven)
    solve_by_components(_problem(), None, None, OPTS)
    solve_by_components(_problem(), None, None, OPTS)
    assert n[0] == 2
    assert not components._SOLVED


def test_the_key_covers_ids_and_arrays() -> None:
    p = _problem()
    renamed = replace(p, item_ids=tuple(f"x{k}" for k in p.item_ids))
    key = components._part_key
    assert key(p, {}, OPTS) == key(_problem(), {}, replace(OPTS, time_limit_s=1.0))
    assert key(p, {}, OPTS) != key(renamed, {}, OPTS)
    assert key(p, {}, OPTS) != key(replace(p, arc_value=p.arc_value + 1), {}, OPTS)
    assert key(p, {}, OPTS) != key(p, {"c0": "o0"}, OPTS)


def test_a_limit_too_short_for_a_search_solves_again(calls: list[AssignmentProblem]) -> None:
    """With less than `MIN_PART_S` a new solve may stop at its first answer: the kept
    proven one is not what it would give."""
    solve_by_components(_problem(), None, None, OPTS)
    solve_by_components(
        _problem(), None, None, replace(OPTS, time_limit_s=components.MIN_PART_S / 2)
    )
    assert len(calls) == 2
