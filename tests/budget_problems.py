"""Small problems with one budget row that binds, for tests of the solver's search (a
flow cannot solve them)."""

from __future__ import annotations

from collections.abc import Callable

from matcher.problem import AssignmentProblem, ProblemBuilder


def budget_problem(
    n_items: int,
    n_options: int,
    *,
    budget: int,
    places: int,
    value: Callable[[int, int], int],
    amount: Callable[[int, int], int],
) -> AssignmentProblem:
    """Items c0.. with an arc to every option o0.. (`places` places each): arc (i, o) is
    worth `value(i, o)` and takes `amount(i, o)` of the budget."""
    b = ProblemBuilder()
    b.resource("budget", budget)
    for o in range(n_options):
        b.resource(f"place:{o}", places)
    for i in range(n_items):
        b.item(f"c{i}")
        for o in range(n_options):
            b.arc(f"c{i}", f"o{o}", value(i, o), {f"place:{o}": 1, "budget": amount(i, o)})
    return b.build()
