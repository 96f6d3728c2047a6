"""From the domain level to forecast inputs: an `Offering` and its waiting children.

The domain `Offering` carries places free now, a release schedule by date,
the intake lead time and the usual duration; it does not carry the total
number of places, so `capacity` is an argument (without it every taken
place is assumed to be in the release schedule).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from matcher.domain.clocks import deadline_norm3
from matcher.domain.model import Child, Offering
from matcher.forecast.params import DEFAULT_FLOW, FlowParams, OfferingState, QueueEntry


def flow_for(offering: Offering, base: FlowParams | None = None) -> FlowParams:
    """Category defaults, with the offering's own duration and intake lead time."""
    flow = base or DEFAULT_FLOW[offering.care_type.category.value]
    changes: dict[str, float] = {}
    if offering.duration_weeks > 0:
        changes["los_median_days"] = 7.0 * offering.duration_weeks
    if offering.intake_lead_days > 0:
        changes["intake_lead_median_days"] = float(offering.intake_lead_days)
    return replace(flow, **changes) if changes else flow  # type: ignore[arg-type]


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
) -> OfferingState:
    """The forecast state of a domain offering on `as_of`.

    Releases dated before `as_of` count in week 0; `schedule_weeks` cuts the
    schedule (default: up to the last release).
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
        flow=flow_for(offering, flow),
        confirmed_on=offering.last_confirmed,
        meta={"provider": offering.provider, "region": offering.region},
    )
