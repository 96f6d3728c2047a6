"""verify(): accepts correct answers and rejects every kind of wrong one."""

from __future__ import annotations

import dataclasses

import pytest

from matcher import (
    AssignmentProblem,
    ProblemBuilder,
    Solution,
    SolveOptions,
    Status,
    VerificationError,
    solve,
    verify,
)


def problem() -> AssignmentProblem:
    b = ProblemBuilder()
    b.item("a", must_assign=True)
    b.item("b", unassigned_penalty=2)
    b.item("c")
    b.resource("x", 1)
    b.resource("budget", 5)
    b.arc("a", "X", 4, {"x": 1, "budget": 3})
    b.arc("a", "Y", 2, {"budget": 1})
    b.arc("b", "X", 6, {"x": 1, "budget": 4})
    b.arc("b", "Y", 1, {"budget": 2})
    b.arc("c", "Z", 3, forbidden=True)
    b.arc("c", "Y", 1, {"budget": 2}, pinned=True)
    return b.build()


def answer(assign: dict[str, str], objective: int, bound: float | None = None) -> Solution:
    items = {"a", "b", "c"}
    return Solution(
        status=Status.FEASIBLE,
        objective=objective,
        best_bound=bound,
        gap=None,
        assignments=assign,
        unassigned=tuple(sorted(items - set(assign))),
        wall_time_s=0.0,
        strategy="test",
    )


def test_solver_answer_verifies() -> None:
    p = problem()
    sol = solve(p, SolveOptions(time_limit_s=5))
    rep = verify(p, sol)
    # hand check: c pinned to Y (1, budget 2); a must go; budget 5 left 3:
    # a->Y (2, budget 1) + b->Y (1, budget 2) = 4 total with c -> 1+2+1 = 4;
    # a->X (4, budget 3) and b unassigned (-2) -> 1+4-2 = 3; b->X needs budget 4
    assert rep.objective == sol.objective == 4
    assert sol.status is Status.OPTIMAL


def test_correct_hand_answer_accepted() -> None:
    rep = verify(problem(), answer({"a": "Y", "b": "Y", "c": "Y"}, 4, bound=4.0))
    assert rep.objective == 4
    assert rep.resource_use == {"budget": 5}


@pytest.mark.parametrize(
    ("assign", "objective", "needle"),
    [
        ({"a": "X", "b": "X", "c": "Y"}, 11, "> capacity"),  # x used twice, budget 9
        ({"a": "Y", "c": "Z"}, 3, "forbidden"),
        ({"a": "Y", "b": "Y"}, 3, "pinned"),
        ({"b": "Y", "c": "Y"}, 2, "must be assigned"),
        ({"a": "Y", "b": "Y", "c": "Y"}, 99, "differs from recomputed"),
        ({"a": "Q", "c": "Y"}, 0, "no such arc"),
    ],
)
def test_wrong_answers_rejected(assign: dict[str, str], objective: int, needle: str) -> None:
    with pytest.raises(VerificationError) as exc:
        verify(problem(), answer(assign, objective))
    assert needle in str(exc.value)


def test_bound_on_wrong_side_rejected() -> None:
    with pytest.raises(VerificationError, match="below the objective"):
        verify(problem(), answer({"a": "Y", "b": "Y", "c": "Y"}, 4, bound=3.0))


def test_unassigned_list_must_match() -> None:
    sol = dataclasses.replace(answer({"a": "Y", "b": "Y", "c": "Y"}, 4), unassigned=("b",))
    with pytest.raises(VerificationError, match="both assigned and unassigned"):
        verify(problem(), sol)
    sol2 = dataclasses.replace(answer({"a": "Y", "c": "Y"}, 1), unassigned=())
    with pytest.raises(VerificationError, match="neither assigned nor listed"):
        verify(problem(), sol2)


def test_no_answer_with_assignments_rejected() -> None:
    sol = dataclasses.replace(answer({"a": "Y"}, 2), status=Status.INFEASIBLE)
    with pytest.raises(VerificationError, match="but assignments are given"):
        verify(problem(), sol)
