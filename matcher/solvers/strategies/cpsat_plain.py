"""Strategy ``cpsat-plain``: CP-SAT without hint or incumbent (a reference
only, for measurements)."""

from __future__ import annotations

from typing import Any

from matcher.solution import SolveOptions
from matcher.solvers.budget import TimeBudget
from matcher.solvers.core import Core
from matcher.solvers.strategies import searches
from matcher.solvers.strategies.base import Outcome


class CpSatPlainStrategy:
    name = "cpsat-plain"

    def run(
        self, core: Core, options: SolveOptions, budget: TimeBudget, stats: dict[str, Any]
    ) -> Outcome:
        chosen, bound, source, proven = searches.run_cpsat(
            core, None, None, "none", options, budget, stats
        )
        return Outcome(core, chosen, bound, proven, source)
