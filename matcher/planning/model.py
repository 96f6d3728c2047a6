"""The purchase-planning problem: candidate purchases on an arc-level problem,
the planning objective (children within the norm first, then placed), and
the input checks."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import numpy.typing as npt

from matcher.errors import MatcherError
from matcher.problem import AssignmentProblem, Sense
from matcher.solution import SolveOptions

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

CENTS_PER_MILLION_EURO = 100_000_000
EPS_SCALE = 0.4
# The objective weighs a child within the norm at (n + 1), so a 0.1 % gap
# leaves at most about one child within the norm on the table on regional
# instances; HiGHS reaches it in about a second where closing the gap fully
# took 36 s on a four-draw regional instance.
PLAN_OPTIONS = SolveOptions(time_limit_s=60.0, relative_gap=1e-3, workers=1)


class PlanningInputError(MatcherError, ValueError):
    """Raised with every problem in a planning input at once."""

    def __init__(self, issues: Sequence[str]) -> None:
        self.issues = tuple(issues)
        lines = "\n".join(f"  - {i}" for i in self.issues)
        super().__init__(f"{len(self.issues)} problem(s) in the planning input:\n{lines}")


@dataclass(frozen=True)
class CandidatePurchase:
    """Places that inkoop could buy: per unit, `adds` places to resources."""

    id: str
    provider: str
    care_type: str
    region: str
    price_cents: int
    adds: Mapping[str, int]
    max_units: int = 1
    available_on: date | None = None

    def to_record(self) -> dict[str, object]:
        return {
            "id": self.id,
            "provider": self.provider,
            "care_type": self.care_type,
            "region": self.region,
            "price_cents": self.price_cents,
            "places_per_unit": sum(self.adds.values()),
            "max_units": self.max_units,
            "available_on": None if self.available_on is None else self.available_on.isoformat(),
        }


@dataclass(frozen=True, eq=False)
class PlanningProblem:
    """An arc-level problem plus what planning needs to know about it.

    `within_norm[a]` says whether arc `a` starts help by the child's deadline.
    `item_care_type` / `item_region` name the waiting list an item is on (the
    naive rule counts them).  Resources that purchases add to must exist in
    `problem`, with the capacity there is without any purchase.
    """

    problem: AssignmentProblem
    within_norm: BoolArray
    candidates: tuple[CandidatePurchase, ...]
    item_care_type: tuple[str, ...]
    item_region: tuple[str, ...]
    meta: Mapping[str, object] = field(default_factory=dict)

    def issues(self) -> list[str]:
        p = self.problem
        out: list[str] = []
        if self.within_norm.shape[0] != p.n_arcs:
            out.append(f"within_norm has {self.within_norm.shape[0]} entries, expected {p.n_arcs}")
        for name, seq in (
            ("item_care_type", self.item_care_type),
            ("item_region", self.item_region),
        ):
            if len(seq) != p.n_items:
                out.append(f"{name} has {len(seq)} entries, expected {p.n_items}")
        res = p.resource_index()
        seen: set[str] = set()
        for c in self.candidates:
            if c.id in seen:
                out.append(f"purchase {c.id!r} is listed twice")
            seen.add(c.id)
            if c.price_cents < 0:
                out.append(f"purchase {c.id!r}: price {c.price_cents} is negative")
            if c.max_units < 0:
                out.append(f"purchase {c.id!r}: max_units {c.max_units} is negative")
            for r, q in c.adds.items():
                if r not in res:
                    out.append(f"purchase {c.id!r} adds to unknown resource {r!r}")
                if q < 0:
                    out.append(f"purchase {c.id!r} adds a negative amount to {r!r}")
        return out

    def validate(self) -> None:
        errs = self.issues()
        if errs:
            raise PlanningInputError(errs)

    def planning_values(self) -> IntArray:
        """Arc values of the planning objective: within norm first, then placed."""
        n = self.problem.n_items
        return self.within_norm.astype(np.int64) * (n + 1) + 1

    def with_units(
        self, units: Mapping[str, int], *, prefer: BoolArray | None = None
    ) -> AssignmentProblem:
        """The arc problem with `units` bought and planning values on the arcs.

        `prefer` marks arcs to keep where the optimum allows it (so that a
        re-solve changes only what it must, and the children it drops are the
        ones the purchase really unblocked).
        """
        p = self.problem
        cap = p.capacity.copy()
        ridx = p.resource_index()
        by_id = {c.id: c for c in self.candidates}
        for pid, k in units.items():
            if k <= 0:
                continue
            for r, q in by_id[pid].adds.items():
                cap[ridx[r]] += q * k
        value = self.planning_values()
        if prefer is not None:
            value = value * (p.n_items + 1) + prefer.astype(np.int64)
        return replace(
            p,
            capacity=cap,
            arc_value=value,
            sense=Sense.MAXIMIZE,
            unassigned_penalty=np.zeros(p.n_items, dtype=np.int64),
        )

    def spend(self, units: Mapping[str, int]) -> int:
        by_id = {c.id: c for c in self.candidates}
        return sum(by_id[p].price_cents * k for p, k in units.items() if k > 0)


def per_million(gained: int, spent_cents: int) -> float:
    return math.nan if spent_cents <= 0 else gained * CENTS_PER_MILLION_EURO / spent_cents
