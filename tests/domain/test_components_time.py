"""Time shares of `solve_by_components`: a small component with budget rows gets at
least `MIN_PART_S` while the limit leaves it.

Shares by items alone gave the national demo's small budget components less than the
solver's least search time, so they kept their first answer and the flow bound (a 26 %
gap after 2 s of a 10 s limit)."""

from __future__ import annotations

from matcher import ProblemBuilder
from matcher.domain.components import solve_by_components
from matcher.solution import SolveOptions, Status
from matcher.solvers.strategies import steps


def _problem(flow_items: int, budget_parts: int) -> ProblemBuilder:
    b = ProblemBuilder()
    # a large part without budget rows (one flow solves it)...
    for k in range(flow_items):
        b.resource(f"place:f{k}", 1)
        b.item(f"f{k}")
        b.arc(f"f{k}", f"of{k}", 10, {f"place:f{k}": 1})
    # ... and small parts whose budget binds, so that the flow relaxation (budget
    # dropped) is not tight and only a search proves the answer
    for p in range(budget_parts):
        b.resource(f"budget:{p}", 10)
        for o in range(3):
            b.resource(f"place:{p}-{o}", 2)
        for i in range(6):
            b.item(f"c{p}-{i}")
            for o in range(3):
                price = 3 + (i * 7 + o * 5 + p) % 5
                b.arc(
                    f"c{p}-{i}",
                    f"o{p}-{o}",
                    20 + (i * 3 + o * 11 + p) % 17,
                    {f"place:{p}-{o}": 1, f"budget:{p}": price},
                )
    return b


def test_small_budget_components_get_a_search_and_are_proven() -> None:
    p = _problem(100, 100).build()
    sol, proven = solve_by_components(p, None, None, SolveOptions(time_limit_s=3.0))
    # by items each budget part's share would be about 3 s x 6 / 600, far below a search
    assert steps.MIN_SEARCH_S > 3.0 * 6 / 600
    assert sol.status is Status.OPTIMAL, sol.stats
    assert len(proven) == p.n_items
    assert sol.gap is not None
    assert sol.gap <= 1e-6


def test_the_floor_never_breaks_the_limit() -> None:
    """With less time than the floor for all parts, the parts still end by the limit."""
    p = _problem(200, 30).build()
    sol, _ = solve_by_components(p, None, None, SolveOptions(time_limit_s=1.0))
    assert sol.status.has_solution
    assert sol.wall_time_s < 1.0 + 0.5
