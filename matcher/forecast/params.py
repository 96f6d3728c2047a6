"""Inputs of the wait-time forecast: flow parameters and the state of one offering.

Everything here is a small frozen dataclass so that the web app can turn it
into JSON without help, and so that a forecast can be reproduced from its
inputs and a seed alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from matcher.errors import MatcherError


class ForecastInputError(MatcherError, ValueError):
    """Raised with every problem in the forecast input at once."""

    def __init__(self, issues: list[str]) -> None:
        self.issues = tuple(issues)
        lines = "\n".join(f"  - {i}" for i in self.issues)
        super().__init__(f"{len(self.issues)} problem(s) in the forecast input:\n{lines}")


@dataclass(frozen=True)
class FlowParams:
    """How children flow through the places of one offering.

    Lengths of stay and intake lead times are lognormal (median and shape),
    because durations in care are right-skewed: most stays end near the
    median and a few run far longer.  `urgent_share` of the inflow ("zoveel
    eerder") is placed ahead of the regular queue, which is why inflow matters
    for a child who is already waiting.  A scheduled release is late with
    probability `slip_probability`, by an exponential number of days.
    """

    inflow_per_week: float
    urgent_share: float
    los_median_days: float
    los_sigma: float
    intake_lead_median_days: float
    intake_lead_sigma: float
    slip_probability: float
    slip_mean_days: float
    cancel_per_week: float
    # How much history the estimates rest on (0 = take them as exact).  With
    # evidence the forecast draws the rates and medians per run, so an
    # estimate from ten referrals gives a wider interval than one from a
    # thousand (parameter uncertainty, not only process noise).
    evidence_weeks: float = 0.0  # weeks of referrals behind inflow and urgent share
    evidence_stays: int = 0  # stays behind the length-of-stay estimate
    evidence_intakes: int = 0  # intakes behind the lead-time estimate

    def issues(self) -> list[str]:
        out: list[str] = []
        for name in (
            "inflow_per_week",
            "los_median_days",
            "intake_lead_median_days",
            "slip_mean_days",
            "cancel_per_week",
            "evidence_weeks",
            "evidence_stays",
            "evidence_intakes",
        ):
            v = float(getattr(self, name))
            if not math.isfinite(v) or v < 0:
                out.append(f"{name} must be a finite number >= 0, got {v}")
        for name in ("los_sigma", "intake_lead_sigma"):
            v = float(getattr(self, name))
            if not math.isfinite(v) or v < 0 or v > 3:
                out.append(f"{name} must lie in [0, 3], got {v}")
        for name in ("urgent_share", "slip_probability"):
            v = float(getattr(self, name))
            if not 0.0 <= v <= 1.0:
                out.append(f"{name} must lie in [0, 1], got {v}")
        if self.los_median_days <= 0:
            out.append("los_median_days must be > 0")
        return out

    def to_json_dict(self) -> dict[str, float]:
        return {k: float(getattr(self, k)) for k in self.__dataclass_fields__}


# Defaults per care-type category.  The inspection reports give waits, not
# lengths of stay, so these are planning assumptions (see docs/forecast.md):
# verblijf runs most of a year (an OTS lasts at most a year), ambulant help a
# few months, crisis places a few weeks, diagnostics about six weeks.  The
# intake lead time follows "het duurt vaak enkele weken voordat de intake
# plaatsvindt" (often several weeks).
DEFAULT_FLOW: Mapping[str, FlowParams] = {
    "RESIDENTIAL": FlowParams(
        inflow_per_week=0.5,
        urgent_share=0.2,
        los_median_days=270.0,
        los_sigma=0.5,
        intake_lead_median_days=21.0,
        intake_lead_sigma=0.5,
        slip_probability=0.3,
        slip_mean_days=21.0,
        cancel_per_week=0.01,
    ),
    "AMBULANT": FlowParams(
        inflow_per_week=2.0,
        urgent_share=0.15,
        los_median_days=120.0,
        los_sigma=0.6,
        intake_lead_median_days=21.0,
        intake_lead_sigma=0.6,
        slip_probability=0.25,
        slip_mean_days=14.0,
        cancel_per_week=0.01,
    ),
    "CRISIS": FlowParams(
        inflow_per_week=1.5,
        urgent_share=0.9,
        los_median_days=28.0,
        los_sigma=0.5,
        intake_lead_median_days=1.0,
        intake_lead_sigma=0.3,
        slip_probability=0.4,
        slip_mean_days=10.0,
        cancel_per_week=0.05,
    ),
    "DIAGNOSTIC": FlowParams(
        inflow_per_week=1.5,
        urgent_share=0.1,
        los_median_days=42.0,
        los_sigma=0.4,
        intake_lead_median_days=14.0,
        intake_lead_sigma=0.5,
        slip_probability=0.2,
        slip_mean_days=10.0,
        cancel_per_week=0.01,
    ),
}


@dataclass(frozen=True)
class QueueEntry:
    """One child waiting at the offering, in queue order.

    `ref` is pseudonymous.  `urgent` entries are served before regular ones.
    `deadline` is the child's norm-3 deadline (or earlier "zoveel eerder").
    """

    ref: str
    urgent: bool = False
    deadline: date | None = None


@dataclass(frozen=True)
class OfferingState:
    """What is known about one offering on `as_of`.

    `capacity` places in total; `free_now` of them are free and not reserved
    for an intake; `release_schedule[w]` places are planned to come free in
    week w (days 7w..7w+6 after `as_of`); `queue` is the waiting list in the
    provider's order.  Children in intake hold a place and are not in the
    queue: an intake is not a start.
    """

    offering_id: str
    care_type: str
    capacity: int
    free_now: int
    release_schedule: tuple[int, ...]
    queue: tuple[QueueEntry, ...]
    as_of: date
    flow: FlowParams
    confirmed_on: date | None = None
    meta: Mapping[str, str] = field(default_factory=dict)

    def issues(self) -> list[str]:
        out = [f"flow: {m}" for m in self.flow.issues()]
        if self.capacity < 0:
            out.append(f"capacity {self.capacity} is negative")
        if self.free_now < 0:
            out.append(f"free_now {self.free_now} is negative")
        if any(r < 0 for r in self.release_schedule):
            out.append("release_schedule has a negative week")
        if self.free_now + sum(self.release_schedule) > self.capacity:
            out.append(
                f"free_now + planned releases ({self.free_now + sum(self.release_schedule)}) "
                f"exceed the capacity {self.capacity}"
            )
        refs = [e.ref for e in self.queue]
        if len(set(refs)) != len(refs):
            out.append("queue lists a child twice")
        if self.capacity == 0 and self.queue:
            out.append("offering has no places but a waiting queue")
        return out

    def validate(self) -> None:
        errs = self.issues()
        if errs:
            raise ForecastInputError([f"{self.offering_id}: {e}" for e in errs])
