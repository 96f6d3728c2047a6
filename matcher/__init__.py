"""matcher: assignment of waiting children to youth-care capacity with OR-Tools.

The arc level (`AssignmentProblem`, `solve`, `verify`) is a general assignment
problem; the domain level (`Scenario`) compiles into it.
"""

from matcher.problem import (
    AssignmentProblem,
    ProblemBuilder,
    ProblemValidationError,
    Sense,
    ValidationIssue,
)
from matcher.solution import (
    Solution,
    SolveOptions,
    Status,
    VerificationError,
    VerifyReport,
    verify,
)
from matcher.solve import STRATEGIES, solve

__all__ = [
    "STRATEGIES",
    "AssignmentProblem",
    "ProblemBuilder",
    "ProblemValidationError",
    "Sense",
    "Solution",
    "SolveOptions",
    "Status",
    "ValidationIssue",
    "VerificationError",
    "VerifyReport",
    "solve",
    "verify",
]
