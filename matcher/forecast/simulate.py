"""Monte Carlo forecast of real start dates at one offering.

Expected start = queue already waiting + release schedule + intake lead time.
Each run draws, for one offering:

- when the places now taken come free: planned releases land somewhere in
  their planned week and may slip; places without a planned release get the
  residual stay of a place in steady state (length-biased length of stay,
  uniform age), conditioned on lying beyond the planned weeks;
- urgent referrals ("zoveel eerder"), a Poisson stream that goes ahead of the
  regular queue;
- children leaving the queue without a start (cancellations);
- for every child who gets a place: the intake lead time.  The child starts
  after the intake lead time, not at the intake: an intake is not a start.
  Its place comes free again after its length of stay (short stays such as
  crisis places recycle within the horizon).

Every run uses one `numpy.random.Generator` made from an explicit seed; no
global random state is touched, so the same seed gives the same forecast.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from matcher.forecast.params import FlowParams, OfferingState, QueueEntry

FloatArray = npt.NDArray[np.float64]

DEFAULT_RUNS = 1000
DEFAULT_HORIZON_DAYS = 730
INTERVAL = (0.1, 0.9)  # the 80 % interval


@dataclass(frozen=True)
class StartForecast:
    """Forecast real start of one child at one offering (a flat record).

    Offsets are in days after `as_of`; dates are None when the quantile lies
    beyond the simulated horizon.  `p_after_deadline` is the chance that help
    starts after the child's deadline, counting "no start within the horizon"
    as after; it is None when the child has no deadline.  The distribution is
    over runs in which the child stays on the list (`p_leaves_queue` is the
    share of runs in which the child leaves it first).
    """

    ref: str
    offering_id: str
    care_type: str
    as_of: date
    position: int
    median_days: float | None
    low_days: float | None
    high_days: float | None
    median_date: date | None
    low_date: date | None
    high_date: date | None
    deadline: date | None
    p_after_deadline: float | None
    p_leaves_queue: float
    runs: int
    seed: int
    confirmed_on: date | None = None

    def to_record(self) -> dict[str, object]:
        """Flat JSON-ready record (dates as ISO strings)."""
        out: dict[str, object] = {}
        for k in self.__dataclass_fields__:
            v = getattr(self, k)
            out[k] = v.isoformat() if isinstance(v, date) else v
        return out


def lognormal(
    rng: np.random.Generator, median: float, sigma: float, size: int | tuple[int, ...]
) -> FloatArray:
    if median <= 0:
        return np.zeros(size, dtype=np.float64)
    return np.asarray(rng.lognormal(math.log(median), sigma, size), dtype=np.float64)


def slips(rng: np.random.Generator, flow: FlowParams, size: int) -> FloatArray:
    late = rng.random(size) < flow.slip_probability
    extra = rng.exponential(max(flow.slip_mean_days, 1e-9), size)
    return np.where(late, extra, 0.0)


def residual_beyond(
    rng: np.random.Generator, flow: FlowParams, n: int, beyond_days: float
) -> FloatArray:
    """Remaining planned stay of `n` occupants known to end after `beyond_days`.

    In steady state a place is caught in a stay with probability proportional
    to its length (length-biased lognormal: mu + sigma^2) and at a uniform
    point of it.  Rejection keeps draws beyond the planned weeks; if that
    region is almost empty (short stays, long schedule) the few left get
    `beyond_days` plus a fresh residual.
    """
    if n == 0:
        return np.zeros(0, dtype=np.float64)
    mu = math.log(flow.los_median_days) + flow.los_sigma**2
    got: list[FloatArray] = []
    need = n
    for _ in range(20):
        batch = max(64, 8 * need)
        length = rng.lognormal(mu, flow.los_sigma, batch)
        res = length * rng.random(batch)
        ok = res[res > beyond_days]
        got.append(ok[:need])
        need -= int(min(need, ok.size))
        if need == 0:
            break
    if need:
        length = rng.lognormal(mu, flow.los_sigma, need)
        got.append(beyond_days + length * rng.random(need))
    return np.concatenate(got)


def draw_params(rng: np.random.Generator, flow: FlowParams) -> FlowParams:
    """One draw of the parameters given how much history they rest on.

    Urgent referrals: Gamma posterior of a Poisson rate (Jeffreys prior).
    Medians of stays and intake lead times: lognormal with the standard error
    of a mean of logs.  Without evidence the parameters are returned as they
    are and no random numbers are used.
    """
    from dataclasses import replace

    changes: dict[str, float] = {}
    if flow.evidence_weeks > 0:
        urgent = flow.inflow_per_week * flow.urgent_share * flow.evidence_weeks
        # only the urgent stream matters to the queue: carry it as the inflow
        changes["inflow_per_week"] = rng.gamma(urgent + 0.5) / flow.evidence_weeks
        changes["urgent_share"] = 1.0
    if flow.evidence_stays >= 2:
        se = flow.los_sigma / math.sqrt(flow.evidence_stays)
        changes["los_median_days"] = flow.los_median_days * math.exp(rng.normal(0.0, se))
    if flow.evidence_intakes >= 2 and flow.intake_lead_median_days > 0:
        se = flow.intake_lead_sigma / math.sqrt(flow.evidence_intakes)
        changes["intake_lead_median_days"] = flow.intake_lead_median_days * math.exp(
            rng.normal(0.0, se)
        )
    return replace(flow, **changes) if changes else flow  # type: ignore[arg-type]


def simulate_starts(
    state: OfferingState,
    *,
    runs: int = DEFAULT_RUNS,
    seed: int = 0,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> FloatArray:
    """Start offsets (days after `as_of`), shape (runs, len(queue)).

    NaN where the child left the queue, +inf where it had not started within
    `horizon_days`.
    """
    state.validate()
    rng = np.random.default_rng(seed)
    flow = state.flow
    n_q = len(state.queue)
    out = np.full((runs, n_q), np.inf, dtype=np.float64)
    if n_q == 0:
        return out
    urgent_idx = [i for i, e in enumerate(state.queue) if e.urgent]
    regular_idx = [i for i, e in enumerate(state.queue) if not e.urgent]
    sched = np.asarray(state.release_schedule, dtype=np.int64)
    n_sched = int(sched.sum())
    week_of = np.repeat(np.arange(sched.size, dtype=np.float64), sched)
    n_unsched = state.capacity - state.free_now - n_sched
    cancel_rate = flow.cancel_per_week / 7.0
    base_flow = flow
    for r in range(runs):
        flow = draw_params(rng, base_flow)
        urgent_rate = flow.inflow_per_week * flow.urgent_share / 7.0
        planned = 7.0 * week_of + 7.0 * rng.random(n_sched)
        rel = np.concatenate(
            (
                np.zeros(state.free_now),
                planned + slips(rng, flow, n_sched),
                residual_beyond(rng, flow, n_unsched, 7.0 * sched.size)
                + slips(rng, flow, n_unsched),
            )
        )
        n_arr = int(rng.poisson(urgent_rate * horizon_days))
        arr_t = np.sort(rng.random(n_arr) * horizon_days)
        if cancel_rate > 0:
            arr_cancel = arr_t + rng.exponential(1.0 / cancel_rate, n_arr)
            q_cancel = rng.exponential(1.0 / cancel_rate, n_q)
        else:
            arr_cancel = np.full(n_arr, np.inf)
            q_cancel = np.full(n_q, np.inf)
        n_serve = n_q + n_arr
        lead = lognormal(rng, flow.intake_lead_median_days, flow.intake_lead_sigma, n_serve)
        stay = lognormal(rng, flow.los_median_days, flow.los_sigma, n_serve) + slips(
            rng, flow, n_serve
        )
        _serve_queue(
            rel.tolist(),
            urgent_idx,
            regular_idx,
            q_cancel.tolist(),
            arr_t.tolist(),
            arr_cancel.tolist(),
            lead.tolist(),
            stay.tolist(),
            float(horizon_days),
            out[r],
        )
    return out


def _serve_queue(
    releases: list[float],
    urgent_idx: list[int],
    regular_idx: list[int],
    q_cancel: list[float],
    arr_t: list[float],
    arr_cancel: list[float],
    lead: list[float],
    stay: list[float],
    horizon: float,
    out_row: FloatArray,
) -> None:
    """One run of the priority queue; writes start offsets into `out_row`."""
    heapq.heapify(releases)
    ui = ri = ai = 0
    served = 0
    n_u, n_r, n_a = len(urgent_idx), len(regular_idx), len(arr_t)
    while releases:
        t = heapq.heappop(releases)
        if t > horizon:
            break
        # Existing urgent entries, then urgent arrivals by arrival time, then
        # the regular queue in order; children who left before t are skipped.
        while ui < n_u and q_cancel[urgent_idx[ui]] <= t:
            out_row[urgent_idx[ui]] = np.nan
            ui += 1
        who = -1
        if ui < n_u:
            who = urgent_idx[ui]
            ui += 1
        else:
            while ai < n_a and arr_t[ai] <= t and arr_cancel[ai] <= t:
                ai += 1
            if ai < n_a and arr_t[ai] <= t:
                ai += 1
                who = -2
            else:
                while ri < n_r and q_cancel[regular_idx[ri]] <= t:
                    out_row[regular_idx[ri]] = np.nan
                    ri += 1
                if ri < n_r:
                    who = regular_idx[ri]
                    ri += 1
        if who == -1:
            if ui >= n_u and ri >= n_r:
                return
            continue
        start = t + lead[served]
        free_again = start + stay[served]
        served += 1
        if who >= 0:
            out_row[who] = start if start <= horizon else np.inf
        if free_again <= horizon:
            heapq.heappush(releases, free_again)
    # Children not reached by the end of the horizon keep +inf, except those
    # whose leaving falls inside the horizon.
    for k in range(ui, n_u):
        if q_cancel[urgent_idx[k]] <= horizon:
            out_row[urgent_idx[k]] = np.nan
    for k in range(ri, n_r):
        if q_cancel[regular_idx[k]] <= horizon:
            out_row[regular_idx[k]] = np.nan


def _quantiles_days(values: FloatArray, qs: tuple[float, ...]) -> list[float | None]:
    """The quantiles `qs` in one pass (each as np.quantile(values, q) would give it)."""
    found = np.quantile(values, qs, method="inverted_cdf")
    return [float(v) if math.isfinite(v) else None for v in found]


def _as_date(as_of: date, days: float | None) -> date | None:
    if days is None:
        return None
    return as_of + timedelta(days=math.ceil(days))


def summarise(
    state: OfferingState, starts: FloatArray, *, seed: int, runs: int
) -> list[StartForecast]:
    """Turn simulated start offsets into one `StartForecast` per queue entry."""
    return [
        summarise_entry(state, starts, j, seed=seed, runs=runs) for j in range(len(state.queue))
    ]


def summarise_entry(
    state: OfferingState, starts: FloatArray, j: int, *, seed: int, runs: int
) -> StartForecast:
    """The `StartForecast` of queue entry `j` (0-based) alone: a search or a what-if
    needs one child's figures, not those of everyone in the queue."""
    return EntryStarts.of(state, starts, j, seed=seed, runs=runs).forecast(state.queue[j].deadline)


@dataclass(frozen=True)
class EntryStarts:
    """One queue entry's simulated starts, summarised as far as no deadline enters.
    The simulation does not read the deadline, so a search keeps this per offering
    and applies each child's deadline with `forecast`."""

    state: OfferingState
    j: int
    stayed: FloatArray  # sorted: the starts of the runs in which the entry stayed
    p_leave: float
    low_days: float | None
    median_days: float | None
    high_days: float | None
    seed: int
    runs: int

    @classmethod
    def of(
        cls, state: OfferingState, starts: FloatArray, j: int, *, seed: int, runs: int
    ) -> EntryStarts:
        col = starts[:, j]
        stayed = np.sort(col[~np.isnan(col)])
        lo = med = hi = None
        if stayed.size:
            lo, med, hi = _quantiles_days(stayed, (INTERVAL[0], 0.5, INTERVAL[1]))
        p_leave = 1.0 - stayed.size / max(1, col.size)
        return cls(state, j, stayed, p_leave, lo, med, hi, seed, runs)

    def p_after(self, deadline: date) -> float:
        """The share of runs (of those the entry stayed in) that start after `deadline`;
        a run without a start in the horizon (inf) counts as after."""
        limit = (deadline - self.state.as_of).days
        # the array's own method: np.searchsorted's dispatch costs twice the search
        after = self.stayed.size - int(self.stayed.searchsorted(limit, side="right"))
        return after / self.stayed.size

    def forecast(self, deadline: date | None) -> StartForecast:
        state, as_of = self.state, self.state.as_of
        return StartForecast(
            ref=state.queue[self.j].ref,
            offering_id=state.offering_id,
            care_type=state.care_type,
            as_of=as_of,
            position=self.j + 1,
            median_days=self.median_days,
            low_days=self.low_days,
            high_days=self.high_days,
            median_date=_as_date(as_of, self.median_days),
            low_date=_as_date(as_of, self.low_days),
            high_date=_as_date(as_of, self.high_days),
            deadline=deadline,
            p_after_deadline=None
            if deadline is None or not self.stayed.size
            else self.p_after(deadline),
            p_leaves_queue=self.p_leave,
            runs=self.runs,
            seed=self.seed,
            confirmed_on=state.confirmed_on,
        )


def forecast_offering(
    state: OfferingState,
    *,
    runs: int = DEFAULT_RUNS,
    seed: int = 0,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> list[StartForecast]:
    """Forecast the real start of every child in the queue of one offering."""
    starts = simulate_starts(state, runs=runs, seed=seed, horizon_days=horizon_days)
    return summarise(state, starts, seed=seed, runs=runs)


def with_new_referral(state: OfferingState, entry: QueueEntry) -> OfferingState:
    """The state after `entry` is referred today: urgent children go after the
    urgent ones already waiting, regular children join the back."""
    from dataclasses import replace

    queue = list(state.queue)
    if entry.urgent:
        pos = sum(1 for e in queue if e.urgent)
        queue.insert(pos, entry)
    else:
        queue.append(entry)
    return replace(state, queue=tuple(queue))


def forecast_child(
    entry: QueueEntry,
    states: Sequence[OfferingState],
    *,
    runs: int = DEFAULT_RUNS,
    seed: int = 0,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> list[StartForecast]:
    """Forecast per offering for one child, sorted by median start.

    Where the child already waits at an offering its own place in the queue
    is used; elsewhere the forecast is for a referral made on `as_of`.
    Each offering gets its own seed derived from `seed`, so adding an
    offering does not change the others' figures.
    """
    out: list[StartForecast] = []
    for state in states:
        refs = [e.ref for e in state.queue]
        st = state if entry.ref in refs else with_new_referral(state, entry)
        sub_seed = _derive_seed(seed, state.offering_id)
        starts = simulate_starts(st, runs=runs, seed=sub_seed, horizon_days=horizon_days)
        j = [e.ref for e in st.queue].index(entry.ref)
        mine = summarise_entry(st, starts, j, seed=sub_seed, runs=runs)
        out.append(mine)
    return sorted(
        out, key=lambda f: (math.inf if f.median_days is None else f.median_days, f.offering_id)
    )


def _derive_seed(seed: int, key: str) -> int:
    """A stable per-key seed (Python's hash() is salted per process)."""
    import zlib

    return (seed * 1_000_003 + zlib.crc32(key.encode())) % (2**63)
