"""Solutions, solve options and the independent verifier."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matcher.errors import MatcherError
from matcher.problem import AssignmentProblem, Sense


class Status(enum.Enum):
    OPTIMAL = "OPTIMAL"
    FEASIBLE = "FEASIBLE"
    INFEASIBLE = "INFEASIBLE"
    NO_SOLUTION_IN_TIME = "NO_SOLUTION_IN_TIME"
    MODEL_INVALID = "MODEL_INVALID"

    @property
    def has_solution(self) -> bool:
        return self in (Status.OPTIMAL, Status.FEASIBLE)


@dataclass(frozen=True)
class SolveOptions:
    """How to solve.

    `relative_gap` is the proven gap at which a solver may stop early;
    `warm_start` is an earlier solution of a similar problem (what-if
    re-solves); `strategy` "auto" picks by problem shape, any other value
    forces one strategy (the names are `matcher.solve.STRATEGIES`, from the
    registry in `matcher.solvers.strategies`).
    """

    time_limit_s: float = 10.0
    relative_gap: float = 1e-4
    workers: int = 2
    seed: int = 0
    warm_start: Solution | None = None
    strategy: str = "auto"


@dataclass(frozen=True)
class Solution:
    """An answer to an `AssignmentProblem`.

    `objective` is computed from the assignment (see `Sense`); `best_bound`
    is the best proven bound on the optimum (upper for MAXIMIZE, lower for
    MINIMIZE) and `gap` = |best_bound - objective| / max(1, |objective|).
    """

    status: Status
    objective: int | None
    best_bound: float | None
    gap: float | None
    assignments: Mapping[str, str]
    unassigned: tuple[str, ...]
    wall_time_s: float
    strategy: str
    stats: Mapping[str, Any] = field(default_factory=dict)

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "objective": self.objective,
            "best_bound": _finite_or_none(self.best_bound),
            "gap": _finite_or_none(self.gap),
            "wall_time_s": round(self.wall_time_s, 6),
            "strategy": self.strategy,
            "assignments": [{"item": k, "option": v} for k, v in self.assignments.items()],
            "unassigned": list(self.unassigned),
            "stats": {k: _plain(v) for k, v in self.stats.items()},
        }

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> Solution:
        return cls(
            status=Status(data["status"]),
            objective=data.get("objective"),
            best_bound=data.get("best_bound"),
            gap=data.get("gap"),
            assignments={str(a["item"]): str(a["option"]) for a in data.get("assignments", [])},
            unassigned=tuple(str(u) for u in data.get("unassigned", [])),
            wall_time_s=float(data.get("wall_time_s", 0.0)),
            strategy=str(data.get("strategy", "")),
            stats=dict(data.get("stats", {})),
        )


def _plain(value: Any) -> Any:
    """A stats value as JSON takes it: an enum (a search status) by its value."""
    return value.value if isinstance(value, enum.Enum) else value


def _finite_or_none(x: float | None) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return float(x)


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None or not math.isfinite(bound):
        return None
    return abs(bound - objective) / max(1.0, abs(objective))


class VerificationError(MatcherError, ValueError):
    def __init__(self, issues: list[str]) -> None:
        self.issues = issues
        super().__init__("solution rejected:\n" + "\n".join(f"  - {i}" for i in issues))


@dataclass(frozen=True)
class VerifyReport:
    objective: int
    n_assigned: int
    resource_use: Mapping[str, int]


def assignment_arcs(problem: AssignmentProblem, assignments: Mapping[str, str]) -> list[int]:
    """Arc indices of an assignment; raises VerificationError on unknown pairs."""
    items, options, look = problem.item_index(), problem.option_index(), problem.arc_lookup()
    arcs: list[int] = []
    issues: list[str] = []
    for it, op in assignments.items():
        a = look.get((items.get(it, -1), options.get(op, -1)))
        if a is None:
            issues.append(f"item {it!r} is assigned to option {op!r}, but there is no such arc")
        else:
            arcs.append(a)
    if issues:
        raise VerificationError(issues)
    return arcs


def objective_of(problem: AssignmentProblem, arcs: list[int]) -> int:
    """Objective of the assignment given by arc indices (see `Sense`)."""
    assigned = np.zeros(problem.n_items, dtype=bool)
    idx = np.asarray(arcs, dtype=np.int64)
    assigned[problem.arc_item[idx]] = True
    value = int(problem.arc_value[idx].sum())
    penalty = int(problem.unassigned_penalty[~assigned].sum())
    return value - penalty if problem.sense is Sense.MAXIMIZE else value + penalty


def verify(problem: AssignmentProblem, solution: Solution, *, tol: float = 1e-6) -> VerifyReport:
    """Check `solution` against `problem` from the assignment alone.

    Rejects (VerificationError, listing every issue) an assignment on a
    missing or forbidden arc, an item assigned twice or both assigned and
    unassigned, a missing must-assign item, a dropped pinned arc, any resource
    over capacity, a reported objective that differs from the recomputed one,
    and a bound on the wrong side of the objective.
    """
    issues: list[str] = []
    if not solution.status.has_solution:
        if solution.assignments:
            issues.append(f"status {solution.status.value} but assignments are given")
        if issues:
            raise VerificationError(issues)
        return VerifyReport(objective=0, n_assigned=0, resource_use={})

    arcs = assignment_arcs(problem, solution.assignments)
    arr = np.asarray(arcs, dtype=np.int64)
    item_of = problem.arc_item[arr] if arr.size else np.zeros(0, dtype=np.int32)
    assigned = np.zeros(problem.n_items, dtype=bool)
    assigned[item_of] = True

    for a in arr[problem.forbidden[arr]] if arr.size else []:
        issues.append(
            f"item {problem.item_ids[problem.arc_item[a]]!r} uses forbidden arc to "
            f"option {problem.option_ids[problem.arc_option[a]]!r}"
        )
    chosen_arcs = set(arcs)
    for a in np.flatnonzero(problem.pinned):
        if int(a) not in chosen_arcs:
            issues.append(
                f"pinned arc {problem.item_ids[problem.arc_item[a]]!r} -> "
                f"{problem.option_ids[problem.arc_option[a]]!r} is not in the solution"
            )
    for i in np.flatnonzero(problem.must_assign & ~assigned):
        issues.append(f"item {problem.item_ids[i]!r} must be assigned but is not")

    unassigned = set(solution.unassigned)
    expected_unassigned = {problem.item_ids[i] for i in np.flatnonzero(~assigned)}
    both = unassigned & set(solution.assignments)
    if both:
        issues.append(f"{len(both)} item(s) both assigned and unassigned, e.g. {sorted(both)[0]!r}")
    if unassigned != expected_unassigned:
        missing = expected_unassigned - unassigned
        extra = unassigned - expected_unassigned
        if missing:
            issues.append(
                f"{len(missing)} item(s) neither assigned nor listed unassigned, "
                f"e.g. {sorted(missing)[0]!r}"
            )
        if extra - both:
            issues.append(
                f"unassigned list names unknown or assigned items, e.g. {sorted(extra - both)[0]!r}"
            )
    if len(solution.unassigned) != len(unassigned):
        issues.append("unassigned list has duplicates")

    # resource use, recomputed
    use = np.zeros(problem.n_resources, dtype=np.int64)
    if arr.size:
        lo, hi = problem.use_ptr[arr], problem.use_ptr[arr + 1]
        counts = hi - lo
        idx = np.repeat(lo - np.concatenate(([0], np.cumsum(counts)[:-1])), counts) + np.arange(
            int(counts.sum())
        )
        np.add.at(use, problem.use_resource[idx], problem.use_amount[idx])
    over = np.flatnonzero(use > problem.capacity)
    for r in over:
        issues.append(
            f"resource {problem.resource_ids[r]!r} used {int(use[r])} > capacity "
            f"{int(problem.capacity[r])}"
        )

    obj = objective_of(problem, arcs)
    if solution.objective is None or int(solution.objective) != obj:
        issues.append(f"reported objective {solution.objective} differs from recomputed {obj}")
    if solution.best_bound is not None and math.isfinite(solution.best_bound):
        slack = tol * max(1.0, abs(obj)) + 1e-6
        if problem.sense is Sense.MAXIMIZE and solution.best_bound < obj - slack:
            issues.append(f"best bound {solution.best_bound} is below the objective {obj}")
        if problem.sense is Sense.MINIMIZE and solution.best_bound > obj + slack:
            issues.append(f"best bound {solution.best_bound} is above the objective {obj}")
    if solution.status is Status.OPTIMAL and solution.gap is not None and solution.gap > 0.01:
        # OPTIMAL may stop within the requested relative gap; a gap above 1 %
        # contradicts the status.
        issues.append(f"status OPTIMAL with a gap of {solution.gap:.4%}")
    if issues:
        raise VerificationError(issues)
    return VerifyReport(
        objective=obj,
        n_assigned=len(arcs),
        resource_use={problem.resource_ids[r]: int(use[r]) for r in np.flatnonzero(use)},
    )
