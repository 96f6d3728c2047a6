"""``auto``: the rule that picks a strategy by problem shape (the
measurements behind it are in docs/solver.md).

``flow`` for transportation problems; ``cpsat`` for tiny problems (up to
`searches.CPSAT_SMALL_ARCS` free arcs); for problems whose items must all be
assigned (up to `cpsat.CPSAT_MAX_ARCS` free arcs) ``gap`` when they are
GAP-like (one resource per arc) and ``cpsat`` otherwise; ``mip`` for the
rest (optional items with budget rows, where HiGHS wins from about 200 arcs).
"""

from __future__ import annotations

from matcher.problem import AssignmentProblem
from matcher.solvers.core import Core
from matcher.solvers.gap_search import is_gap_like
from matcher.solvers.strategies import cpsat, searches

AUTO = "auto"


def choose(problem: AssignmentProblem, core: Core) -> str:
    """The name of the strategy `auto` runs on `core` (built from `problem`)."""
    if problem.is_transportation():
        return "flow"
    if core.n_arcs <= searches.CPSAT_SMALL_ARCS:
        return "cpsat"
    if bool(core.must.all()) and core.n_arcs <= cpsat.CPSAT_MAX_ARCS:
        return "gap" if is_gap_like(core) else "cpsat"
    return "mip"
