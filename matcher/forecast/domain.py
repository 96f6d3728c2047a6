"""From the domain level to forecast inputs: an `Offering` and its waiting children.

The domain `Offering` carries places free now, a release schedule by date,
the intake lead time and the usual duration; it does not carry the total
number of places, so `capacity` is an argument (without it every taken
place is assumed to be in the release schedule).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from matcher.domain.clocks import deadline_norm3
from matcher.domain.model import Child, Offering
from matcher.forecast.params import DEFAULT_FLOW, FlowParams, OfferingState, QueueEntry

# The 80th percentile of a standard normal: a lognormal's sigma from its median and p80.
Z80 = 0.8416


@dataclass(frozen=True)
class MeasuredFlow:
    """What the referral loop measured at one offering over the last `weeks` weeks.

    Plain values handed in by the caller (the matcher reads no database): the wait
    from aanmelding to the real start (median and 80th percentile, over `starts`
    starts), the part of it after the provider's yes (`lead_median_days`), and the
    aanmeldingen made, answered and declined in the same window.
    """

    starts: int
    wait_median_days: float
    wait_p80_days: float
    lead_median_days: float
    requests: int
    answers: int
    declines: int
    weeks: float = 26.0

    @property
    def decline_rate(self) -> float:
        return self.declines / self.answers if self.answers else 0.0


def flow_from_measured(base: FlowParams, m: MeasuredFlow) -> FlowParams:
    """The flow at an offering as the loop measured it, over the provider's own figures.

    - lead time (a place to the real start): the measured days from the provider's
      yes to the start, spread as the measured wait is spread (the 80th percentile
      against the median), resting on `starts` intakes;
    - children leaving the queue without a start: a decline rate d over the measured
      median wait W is the hazard -ln(1 - d) / W per week (d capped at 0.95);
    - inflow: the aanmeldingen per week of the window, resting on `weeks` weeks.
    """
    changes: dict[str, float | int] = {
        "intake_lead_median_days": max(0.0, m.lead_median_days),
        "evidence_intakes": max(0, m.starts),
    }
    if m.wait_median_days > 0 and m.wait_p80_days > m.wait_median_days:
        sigma = math.log(m.wait_p80_days / m.wait_median_days) / Z80
        changes["intake_lead_sigma"] = min(1.5, max(0.1, sigma))
    if m.wait_median_days > 0:
        d = min(0.95, m.decline_rate)
        changes["cancel_per_week"] = -math.log(1.0 - d) / (m.wait_median_days / 7.0)
    if m.requests > 0 and m.weeks > 0:
        changes["inflow_per_week"] = m.requests / m.weeks
        changes["evidence_weeks"] = m.weeks
    return replace(base, **changes)  # type: ignore[arg-type]


def flow_for(
    offering: Offering, base: FlowParams | None = None, measured: MeasuredFlow | None = None
) -> FlowParams:
    """Category defaults, with the offering's own duration and intake lead time; with
    `measured` the loop's figures replace the provider's (`flow_from_measured`)."""
    flow = base or DEFAULT_FLOW[offering.care_type.category.value]
    changes: dict[str, float] = {}
    if offering.duration_weeks > 0:
        changes["los_median_days"] = 7.0 * offering.duration_weeks
    if offering.intake_lead_days > 0:
        changes["intake_lead_median_days"] = float(offering.intake_lead_days)
    flow = replace(flow, **changes) if changes else flow  # type: ignore[arg-type]
    return flow_from_measured(flow, measured) if measured is not None else flow


def queue_from_children(
    children: Sequence[Child], need_ids: Sequence[str] | None = None
) -> tuple[QueueEntry, ...]:
    """Queue entries in order of aanmelding (registration) at the offering.

    Urgent: a "zoveel eerder" deadline or acute unsafety.  The deadline is
    the norm-3 deadline (inspection definition).  A child without an
    aanmelding date goes last, in the given order.
    """
    rows = []
    for k, c in enumerate(children):
        nid = need_ids[k] if need_ids is not None else c.needs[0].id
        need = c.need(nid)
        rows.append((need.aanmelding_date or date.max, k, c))
    rows.sort(key=lambda r: (r[0], r[1]))
    return tuple(
        QueueEntry(
            ref=c.ref,
            urgent=c.urgent_deadline is not None or c.acute_unsafety,
            deadline=deadline_norm3(c),
        )
        for _, _, c in rows
    )


def state_from_offering(
    offering: Offering,
    *,
    as_of: date,
    queue: Sequence[QueueEntry] = (),
    capacity: int | None = None,
    flow: FlowParams | None = None,
    schedule_weeks: int | None = None,
    measured: MeasuredFlow | None = None,
) -> OfferingState:
    """The forecast state of a domain offering on `as_of`.

    Releases dated before `as_of` count in week 0; `schedule_weeks` cuts the
    schedule (default: up to the last release).  `measured`: the referral loop's
    figures for this offering, used for the flow instead of the provider's own.
    """
    weeks: dict[int, int] = {}
    for r in offering.releases:
        w = max(0, (r.on - as_of).days // 7)
        weeks[w] = weeks.get(w, 0) + r.places
    n_weeks = (max(weeks) + 1) if weeks else 0
    if schedule_weeks is not None:
        n_weeks = min(n_weeks, schedule_weeks)
    schedule = tuple(weeks.get(w, 0) for w in range(n_weeks))
    cap = capacity if capacity is not None else offering.free_now + sum(schedule)
    return OfferingState(
        offering_id=offering.id,
        care_type=offering.care_type.value,
        capacity=cap,
        free_now=offering.free_now,
        release_schedule=schedule,
        queue=tuple(queue),
        as_of=as_of,
        flow=flow_for(offering, flow, measured),
        confirmed_on=offering.last_confirmed,
        meta={"provider": offering.provider, "region": offering.region},
    )
