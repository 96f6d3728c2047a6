"""HiGHS stops where its bound is less than one above the answer
(`matcher.solvers.mip.INTEGER_GAP`): every weight is a whole number, so the optimum is
one too, and such an answer is optimal.

The fixture is a re-solve of the ceiling walk of the search for what would help on the
default demo list (104 needs, late starts allowed, a regional budget raised by
48,000 euros): nearly equal weights, whose root HiGHS left 0.67 above the answer and
then searched 100 nodes to bring it under 1e-6."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from matcher.problem import AssignmentProblem, ProblemBuilder
from matcher.problem_file import read_problem
from matcher.solvers import mip, mip_model
from matcher.solvers.core import CoreInfeasible, build_core
from matcher.solvers.status import SearchStatus
from tests.test_solve_helpers import at_scale, brute_force, core_answers, per_arc, tiny_problems

FIXTURES = Path(__file__).parent / "fixtures" / "problems"
# the answer of the fixture, proven with HiGHS's own gap (1e-6)
OPTIMUM = 22976244035


def test_a_bound_less_than_one_above_the_answer_proves_it_at_the_root() -> None:
    core = build_core(read_problem(FIXTURES / "late_walk_re_solve.json"))
    r = mip.solve_mip(core, time_limit_s=60, relative_gap=0.0, in_process=True, presolve=False)
    assert r.status is SearchStatus.OPTIMAL
    assert r.chosen is not None
    assert core.value(r.chosen) == OPTIMUM
    assert r.bound is not None
    assert OPTIMUM <= r.bound < OPTIMUM + 1
    assert r.stats["highs_nodes"] == 1


def test_without_it_highs_searches_on_to_the_same_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    core = build_core(read_problem(FIXTURES / "late_walk_re_solve.json"))
    # HiGHS's own absolute gap, in the problem's units
    monkeypatch.setattr(mip, "INTEGER_GAP", 1e-6 / mip_model.objective_scale(core))
    r = mip.solve_mip(core, time_limit_s=60, relative_gap=0.0, in_process=True, presolve=False)
    assert r.status is SearchStatus.OPTIMAL
    assert r.chosen is not None
    assert core.value(r.chosen) == OPTIMUM
    assert r.stats["highs_nodes"] > 1


# large enough that the model's weights are scaled down (by 2^-10 and more): a gap of
# one unit of the problem is then far less than one in the model
BIG = 2**31


def test_an_answer_one_unit_below_the_best_is_not_taken_for_it() -> None:
    """A knapsack whose LP bound is half a unit above the best answer; HiGHS starts
    from the answer one unit below the best (1.5 under the bound) and must go on."""
    b = ProblemBuilder()
    b.resource("money", 3)
    for item, size, value in (("a", 2, 2 * BIG + 2), ("b", 2, 2 * BIG + 1), ("c", 1, BIG)):
        b.item(item)
        b.arc(item, "o", value, {"money": size})
    core = build_core(b.build())
    assert mip_model.objective_scale(core) <= 2**-10
    # b and c: one unit below a and c
    nxt = np.full(core.n_items, -1, dtype=np.int64)
    for item in ("b", "c"):
        i = core.problem.item_ids.index(item)
        nxt[i] = int(np.flatnonzero(core.arc_item == i)[0])
    assert core.is_feasible(nxt)
    assert core.value(nxt) == 3 * BIG + 1
    r = mip.solve_mip(
        core, time_limit_s=30, relative_gap=0.0, in_process=True, presolve=False, hint=nxt
    )
    assert r.status is SearchStatus.OPTIMAL
    assert r.chosen is not None
    assert core.value(r.chosen) == 3 * BIG + 2


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems(budgets=True, max_items=4), st.data())
def test_an_answer_one_unit_below_the_optimum_is_not_taken_for_it(
    p: AssignmentProblem, data: st.DataObject
) -> None:
    # the same choices weighed at a large scale with a few units between them, so that
    # the best and the next answer often differ by exactly one; HiGHS starts from the
    # next answer and must not stop there
    big = at_scale(p, BIG, data.draw(per_arc(p, 2)))
    try:
        core = build_core(big)
    except CoreInfeasible:
        return
    answers = core_answers(core)
    assume(len(answers) >= 2 and answers[0][0] > answers[1][0])
    best = answers[0][0]
    assert best == brute_force(big).objective
    nxt = next(chosen for value, chosen in answers if value < best)
    r = mip.solve_mip(core, time_limit_s=30, relative_gap=0.0, in_process=True, hint=nxt)
    assert r.status is SearchStatus.OPTIMAL
    assert r.chosen is not None
    assert core.value(r.chosen) == best
