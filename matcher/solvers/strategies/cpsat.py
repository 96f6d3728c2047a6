"""Strategy ``cpsat``: the incumbents (flow + repair or warm start, the LP
when it pays) as hint, then CP-SAT; on a GAP-like core a tabu search
before and after CP-SAT (the search is shared with ``gap``, gap.py)."""

from __future__ import annotations

from typing import Any

from matcher.solution import SolveOptions
from matcher.solvers.budget import TimeBudget
from matcher.solvers.core import Core
from matcher.solvers.strategies import gap
from matcher.solvers.strategies.base import Outcome

# CP-SAT for problems whose items must all be assigned up to this many free
# arcs (`auto`), and polishing after HiGHS up to it (strategy "mip"): beyond
# it CP-SAT's memory grows faster than its answers improve (docs/solver.md).
CPSAT_MAX_ARCS = 60_000


class CpSatStrategy:
    name = "cpsat"

    def run(
        self, core: Core, options: SolveOptions, budget: TimeBudget, stats: dict[str, Any]
    ) -> Outcome:
        return gap.run_with_incumbents(core, options, budget, stats, gap=False)
