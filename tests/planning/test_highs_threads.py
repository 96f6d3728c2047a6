"""Purchase advice and the solver share one HiGHS thread setting in one process.

HiGHS fixes its thread count at the first solve in a process. The web server
runs purchase advice and table matchings in one process, so advice asked with
two workers must not leave the solver's later HiGHS calls failing.
"""

import random

from matcher import ProblemBuilder
from matcher.planning import plan_purchases, planning_from_scenario
from matcher.solution import SolveOptions, verify
from matcher.solve import solve
from tests.planning.test_domain_bridge import (
    AMB,
    REGION,
    Contract,
    OfferingPurchase,
    date,
    on_sale,
    scenario,
)


def budgeted_problem(seed: int) -> ProblemBuilder:
    rng = random.Random(seed)
    b = ProblemBuilder()
    for r in range(6):
        b.resource(f"plek{r}", 3)
    b.resource("budget", 4_000)
    for i in range(40):
        b.item(f"k{i}")
        for r in rng.sample(range(6), 3):
            b.arc(
                f"k{i}",
                f"o{r}",
                rng.randint(1, 50),
                {f"plek{r}": 1, "budget": rng.randint(100, 900)},
            )
    return b


def test_advice_with_two_workers_leaves_the_solver_working() -> None:
    early = OfferingPurchase(
        "koop-vroeg",
        on_sale("KOOP-A", "P2", date(2022, 3, 15), 2),
        price_cents=1_000_00,
        contracts=(Contract("C-A", "P2", AMB, REGION),),
    )
    pp, _ = planning_from_scenario(scenario(), [early])
    plan = plan_purchases(pp, 2_000_00, SolveOptions(time_limit_s=20.0, workers=2))
    assert plan.units == {"koop-vroeg": 2}

    problem = budgeted_problem(7).build()
    sol = solve(problem, SolveOptions(strategy="mip", time_limit_s=20.0, workers=2))
    assert sol.status.has_solution
    assert not sol.stats.get("highs_failed", False)
    verify(problem, sol)
