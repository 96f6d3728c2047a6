"""Strategy ``flow``: min-cost flow.  Exact (proven optimal) on a
transportation problem (every arc uses at most one resource, by 1).  On
other problems: the flow relaxation (budget rows dropped) repaired to
feasibility, with the relaxation optimum as bound; no search after it."""

from __future__ import annotations

from typing import Any

from matcher.solution import SolveOptions
from matcher.solvers.budget import TimeBudget
from matcher.solvers.core import Core
from matcher.solvers.strategies import steps
from matcher.solvers.strategies.base import Outcome


class FlowStrategy:
    name = "flow"

    def run(
        self, core: Core, options: SolveOptions, budget: TimeBudget, stats: dict[str, Any]
    ) -> Outcome:
        inc = steps.begin(core, options, stats)
        if inc.exact:
            return steps.exact_outcome(inc)
        return inc.outcome(steps.settle(inc, stats))
