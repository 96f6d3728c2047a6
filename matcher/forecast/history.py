"""Generated history of one offering, snapshots of it, and the backtest.

The history is simulated child by child (arrivals, queue, intake, stay,
planned and actual end, cancellations), independently of the forecast code.
A snapshot keeps only what a provider would report on that day: free places,
planned releases per week, the waiting list in order.  The forecast then
works from the snapshot and from flow parameters estimated on the history
before that day, and the backtest checks how often the real start fell
inside the forecast 80 % interval.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from matcher.forecast.params import FlowParams, OfferingState, QueueEntry
from matcher.forecast.simulate import _derive_seed, forecast_offering

NORM_DAYS = 91  # about three calendar months; the backtest only needs a fixed offset


@dataclass(frozen=True)
class ChildHistory:
    """One referral in the generated history; times in days from day 0.

    `offered_at` is when a place was reserved for the child (the intake
    period starts), `start` when the help itself began.
    """

    ref: str
    arrival: float
    urgent: bool
    cancelled_at: float | None
    offered_at: float | None
    start: float | None
    planned_end: float | None
    actual_end: float | None


@dataclass(frozen=True)
class History:
    offering_id: str
    care_type: str
    capacity: int
    days: int
    children: tuple[ChildHistory, ...]


def simulate_history(
    flow: FlowParams,
    *,
    capacity: int,
    days: int,
    seed: int,
    offering_id: str = "aanbod-1",
    care_type: str = "AMBULANT",
) -> History:
    """Simulate `days` of one offering from an empty start."""
    rng = np.random.default_rng(seed)
    n_arr = int(rng.poisson(flow.inflow_per_week / 7.0 * days))
    arrival = np.sort(rng.random(n_arr) * days)
    urgent = rng.random(n_arr) < flow.urgent_share
    if flow.cancel_per_week > 0:
        cancel = arrival + rng.exponential(7.0 / flow.cancel_per_week, n_arr)
    else:
        cancel = np.full(n_arr, np.inf)
    lead = rng.lognormal(
        math.log(max(flow.intake_lead_median_days, 1e-9)), flow.intake_lead_sigma, n_arr
    )
    los = rng.lognormal(math.log(flow.los_median_days), flow.los_sigma, n_arr)
    late = rng.random(n_arr) < flow.slip_probability
    slip = np.where(late, rng.exponential(max(flow.slip_mean_days, 1e-9), n_arr), 0.0)

    offered = np.full(n_arr, np.nan)
    cancelled = np.zeros(n_arr, dtype=bool)
    # events: (time, order, kind, child); kind 0 = place frees, 1 = arrival, 2 = cancel
    events: list[tuple[float, int, int, int]] = []
    for i in range(n_arr):
        events.append((float(arrival[i]), 1, 1, i))
        if cancel[i] < days:
            events.append((float(cancel[i]), 2, 2, i))
    heapq.heapify(events)
    free = capacity
    urgent_q: list[int] = []
    regular_q: list[int] = []

    def give_place(t: float) -> bool:
        for q in (urgent_q, regular_q):
            while q:
                i = q.pop(0)
                if not cancelled[i]:
                    offered[i] = t
                    end = t + lead[i] + los[i] + slip[i]
                    heapq.heappush(events, (float(end), 0, 0, i))
                    return True
        return False

    while events:
        t, _, kind, i = heapq.heappop(events)
        if t > days:
            break
        if kind == 1:
            (urgent_q if urgent[i] else regular_q).append(i)
            if free > 0 and give_place(t):
                free -= 1
        elif kind == 2:
            if math.isnan(offered[i]):
                cancelled[i] = True
        elif not give_place(t):
            free += 1

    kids: list[ChildHistory] = []
    for i in range(n_arr):
        off = None if math.isnan(offered[i]) else float(offered[i])
        start = None if off is None else off + float(lead[i])
        kids.append(
            ChildHistory(
                ref=f"k{i:05d}",
                arrival=float(arrival[i]),
                urgent=bool(urgent[i]),
                cancelled_at=float(cancel[i]) if cancelled[i] else None,
                offered_at=off,
                start=start,
                planned_end=None if start is None else start + float(los[i]),
                actual_end=None if start is None else start + float(los[i] + slip[i]),
            )
        )
    return History(offering_id, care_type, capacity, days, tuple(kids))


@dataclass(frozen=True)
class Snapshot:
    state: OfferingState
    # real start offset (days after the snapshot) per queue ref; None when the
    # child left the queue or had not started when the history ends
    truth: dict[str, float | None]
    day: float


def snapshot(
    history: History,
    day: float,
    flow: FlowParams,
    *,
    schedule_weeks: int = 12,
    epoch: date = date(2025, 1, 1),
    norm_days: int = NORM_DAYS,
) -> Snapshot:
    """What the provider reports on `day`, plus the truth after it."""
    kids = history.children
    occupants = [
        c
        for c in kids
        if c.offered_at is not None
        and c.offered_at <= day
        and c.actual_end is not None
        and c.actual_end > day
    ]
    sched = [0] * schedule_weeks
    for c in occupants:
        assert c.planned_end is not None
        w = int(max(0.0, c.planned_end - day) // 7)
        if w < schedule_weeks:
            sched[w] += 1
    waiting = [
        c
        for c in kids
        if c.arrival <= day
        and (c.offered_at is None or c.offered_at > day)
        and (c.cancelled_at is None or c.cancelled_at > day)
    ]
    waiting.sort(key=lambda c: (not c.urgent, c.arrival))
    as_of = epoch + timedelta(days=int(day))
    queue = tuple(
        QueueEntry(
            ref=c.ref,
            urgent=c.urgent,
            deadline=epoch + timedelta(days=int(c.arrival) + norm_days),
        )
        for c in waiting
    )
    truth: dict[str, float | None] = {}
    for c in waiting:
        if c.start is None or c.cancelled_at is not None:
            truth[c.ref] = None
        else:
            # the snapshot date is the whole day int(day); starts count from it
            truth[c.ref] = c.start - int(day)
    state = OfferingState(
        offering_id=history.offering_id,
        care_type=history.care_type,
        capacity=history.capacity,
        free_now=history.capacity - len(occupants),
        release_schedule=tuple(sched),
        queue=queue,
        as_of=as_of,
        flow=flow,
    )
    return Snapshot(state=state, truth=truth, day=day)


def estimate_flow(history: History, day: float, *, window_days: float = 365.0) -> FlowParams:
    """Flow parameters from what was known before `day` only.

    Rates come from the last `window_days`; stays, intake lead times and
    slips from every record complete before `day` (planned lengths of stay
    are known at the start, so they carry no censoring bias).
    """
    lo = max(0.0, day - window_days)
    kids = history.children
    recent = [c for c in kids if lo <= c.arrival < day]
    weeks = max(1e-9, (day - lo) / 7.0)
    inflow = len(recent) / weeks
    urgent_share = sum(c.urgent for c in recent) / len(recent) if recent else 0.0

    los_l: list[float] = []
    lead_l: list[float] = []
    slip_l: list[float] = []
    for c in kids:
        if c.start is None or c.start > day or c.planned_end is None or c.offered_at is None:
            continue
        los_l.append(c.planned_end - c.start)
        lead_l.append(c.start - c.offered_at)
        if c.actual_end is not None and c.actual_end <= day:
            slip_l.append(c.actual_end - c.planned_end)
    los, leads, slip = np.array(los_l), np.array(lead_l), np.array(slip_l)

    def lognormal_fit(
        x: npt.NDArray[np.float64], default: tuple[float, float]
    ) -> tuple[float, float]:
        x = x[x > 0]
        if x.size < 5:
            return default
        lx = np.log(x)
        return float(math.exp(lx.mean())), float(lx.std(ddof=1))

    los_med, los_sig = lognormal_fit(los, (90.0, 0.6))
    lead_med, lead_sig = lognormal_fit(leads, (14.0, 0.5))
    late = slip[slip > 1e-9]
    slip_p = late.size / slip.size if slip.size else 0.0
    slip_mean = float(late.mean()) if late.size else 0.0

    # cancellations per child-week on the list within the window
    exposure = 0.0
    n_cancel = 0
    for c in kids:
        if c.arrival >= day:
            continue
        left = min(
            day,
            c.offered_at if c.offered_at is not None else math.inf,
            c.cancelled_at if c.cancelled_at is not None else math.inf,
        )
        a, b = max(lo, c.arrival), left
        if b > a:
            exposure += b - a
        if c.cancelled_at is not None and lo <= c.cancelled_at < day:
            n_cancel += 1
    cancel = n_cancel / (exposure / 7.0) if exposure > 0 else 0.0
    return FlowParams(
        inflow_per_week=inflow,
        urgent_share=urgent_share,
        los_median_days=los_med,
        los_sigma=min(los_sig, 3.0),
        intake_lead_median_days=lead_med,
        intake_lead_sigma=min(lead_sig, 3.0),
        slip_probability=slip_p,
        slip_mean_days=slip_mean,
        cancel_per_week=cancel,
        evidence_weeks=weeks,
        evidence_stays=int(los.size),
        evidence_intakes=int(leads.size),
    )


@dataclass(frozen=True)
class BacktestCase:
    """One generated offering for the backtest."""

    name: str
    care_type: str
    capacity: int
    flow: FlowParams


@dataclass(frozen=True)
class CalibrationReport:
    """How often real starts fell inside the forecast 80 % interval.

    `coverage` = inside / judged; `below` / `above` are the shares before the
    interval and after it (both near 10 % when calibrated).  For the deadline
    chance, `mean_p_late` is the mean forecast chance of a late start and
    `observed_late` the share that was really late.
    """

    judged: int
    inside: int
    below: int
    above: int
    censored: int
    mean_width_days: float
    mean_p_late: float
    observed_late: float
    brier_late: float

    @property
    def coverage(self) -> float:
        return self.inside / self.judged if self.judged else float("nan")

    def to_record(self) -> dict[str, float | int]:
        return {
            "judged": self.judged,
            "inside": self.inside,
            "coverage": round(self.coverage, 4),
            "below": self.below,
            "above": self.above,
            "censored": self.censored,
            "mean_width_days": round(self.mean_width_days, 1),
            "mean_p_late": round(self.mean_p_late, 4),
            "observed_late": round(self.observed_late, 4),
            "brier_late": round(self.brier_late, 4),
        }


DEFAULT_CASES: tuple[BacktestCase, ...] = (
    BacktestCase(
        "verblijf",
        "RESIDENTIAL",
        12,
        FlowParams(0.33, 0.2, 270.0, 0.5, 21.0, 0.5, 0.3, 21.0, 0.01),
    ),
    BacktestCase(
        "ambulant",
        "AMBULANT",
        20,
        FlowParams(0.9, 0.15, 120.0, 0.6, 21.0, 0.6, 0.25, 14.0, 0.01),
    ),
    BacktestCase(
        "crisis",
        "CRISIS",
        6,
        FlowParams(1.2, 0.9, 28.0, 0.5, 1.0, 0.3, 0.4, 10.0, 0.05),
    ),
    BacktestCase(
        "diagnostiek",
        "DIAGNOSTIC",
        8,
        FlowParams(1.0, 0.1, 42.0, 0.4, 14.0, 0.5, 0.2, 10.0, 0.01),
    ),
)


def backtest(
    cases: Sequence[BacktestCase] = DEFAULT_CASES,
    *,
    seeds: Sequence[int] = (1, 2),
    warmup_days: int = 730,
    snapshots: int = 6,
    snapshot_every_days: int = 61,
    tail_days: int = 730,
    runs: int = 400,
    estimate: bool = True,
    adjust: Callable[[FlowParams], FlowParams] | None = None,
) -> CalibrationReport:
    """Backtest the forecast on generated histories.

    For each case and seed: simulate warmup + snapshots + tail days, take
    `snapshots` snapshots after the warmup, forecast every waiting child from
    the snapshot (with flow parameters estimated before the snapshot when
    `estimate`, else the true ones; `adjust` changes them afterwards, which
    shows that a wrong model fails the check), and compare with the real
    start.  Children who left the
    queue are not judged (the forecast is conditional on staying); children
    with no start by the end of the history are counted as `censored`.
    """
    judged = inside = below = above = censored = 0
    widths: list[float] = []
    p_late: list[float] = []
    was_late: list[bool] = []
    for case in cases:
        for seed in seeds:
            days = warmup_days + snapshots * snapshot_every_days + tail_days
            hist = simulate_history(
                case.flow,
                capacity=case.capacity,
                days=days,
                seed=_derive_seed(seed, case.name),
                offering_id=case.name,
                care_type=case.care_type,
            )
            for k in range(snapshots):
                day = float(warmup_days + k * snapshot_every_days)
                flow = estimate_flow(hist, day) if estimate else case.flow
                if adjust is not None:
                    flow = adjust(flow)
                snap = snapshot(hist, day, flow)
                fc = forecast_offering(
                    snap.state,
                    runs=runs,
                    seed=_derive_seed(seed * 100 + k, case.name),
                    horizon_days=tail_days,
                )
                for f in fc:
                    real = snap.truth[f.ref]
                    child = next(c for c in hist.children if c.ref == f.ref)
                    if real is None:
                        if child.cancelled_at is None:
                            censored += 1
                        continue
                    judged += 1
                    lo = -math.inf if f.low_days is None else f.low_days
                    hi = math.inf if f.high_days is None else f.high_days
                    if real < lo:
                        below += 1
                    elif real > hi:
                        above += 1
                    else:
                        inside += 1
                    if f.low_days is not None and f.high_days is not None:
                        widths.append(f.high_days - f.low_days)
                    if f.p_after_deadline is not None and f.deadline is not None:
                        p_late.append(f.p_after_deadline)
                        was_late.append(real > (f.deadline - f.as_of).days)
    pl = np.asarray(p_late, dtype=np.float64)
    wl = np.asarray(was_late, dtype=np.float64)
    return CalibrationReport(
        judged=judged,
        inside=inside,
        below=below,
        above=above,
        censored=censored,
        mean_width_days=float(np.mean(widths)) if widths else float("nan"),
        mean_p_late=float(pl.mean()) if pl.size else float("nan"),
        observed_late=float(wl.mean()) if wl.size else float("nan"),
        brier_late=float(np.mean((pl - wl) ** 2)) if pl.size else float("nan"),
    )
