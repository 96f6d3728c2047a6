"""Wait-time forecast: rules, seeds and the calibration backtest."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest

from matcher.forecast import (
    DEFAULT_FLOW,
    FlowParams,
    ForecastInputError,
    OfferingState,
    QueueEntry,
    backtest,
    estimate_flow,
    forecast_child,
    forecast_offering,
    simulate_history,
    simulate_starts,
    with_new_referral,
)
from matcher.forecast.history import DEFAULT_CASES

AS_OF = date(2026, 3, 2)

# No randomness except where a test adds it: fixed lead, no slips, no
# cancellations, no urgent inflow.
STILL = FlowParams(
    inflow_per_week=0.0,
    urgent_share=0.0,
    los_median_days=10_000.0,
    los_sigma=0.0,
    intake_lead_median_days=7.0,
    intake_lead_sigma=0.0,
    slip_probability=0.0,
    slip_mean_days=0.0,
    cancel_per_week=0.0,
)


def state(
    queue: tuple[QueueEntry, ...],
    *,
    capacity: int = 2,
    free_now: int = 0,
    schedule: tuple[int, ...] = (1, 1),
    flow: FlowParams = STILL,
    offering_id: str = "o1",
) -> OfferingState:
    return OfferingState(
        offering_id=offering_id,
        care_type="AMBULANT",
        capacity=capacity,
        free_now=free_now,
        release_schedule=schedule,
        queue=queue,
        as_of=AS_OF,
        flow=flow,
    )


def test_start_is_release_plus_intake_lead_not_the_intake() -> None:
    # One place comes free in week 0, one in week 1; intake takes 7 days.
    st = state((QueueEntry("a"), QueueEntry("b")))
    starts = simulate_starts(st, runs=200, seed=3)
    assert np.all((starts[:, 0] >= 7) & (starts[:, 0] < 14))
    assert np.all((starts[:, 1] >= 14) & (starts[:, 1] < 21))


def test_free_place_still_waits_for_the_intake() -> None:
    st = state((QueueEntry("a"),), free_now=1, schedule=())
    fc = forecast_offering(st, runs=50, seed=1)[0]
    assert fc.median_days == pytest.approx(7.0)
    assert fc.median_date == AS_OF + timedelta(days=7)


def test_urgent_children_go_first() -> None:
    st = state((QueueEntry("r1"), QueueEntry("u1", urgent=True)))
    fc = {f.ref: f for f in forecast_offering(st, runs=100, seed=2)}
    assert fc["u1"].median_days is not None
    assert fc["r1"].median_days is not None
    assert fc["u1"].median_days < fc["r1"].median_days


def test_urgent_inflow_delays_a_regular_child_already_waiting() -> None:
    calm = state((QueueEntry("r1"),), capacity=3, schedule=(1, 1, 1))
    busy = replace(calm, flow=replace(STILL, inflow_per_week=0.7, urgent_share=1.0))
    m_calm = forecast_offering(calm, runs=300, seed=5)[0].median_days
    m_busy = forecast_offering(busy, runs=300, seed=5)[0].median_days
    assert m_calm is not None
    assert m_busy is not None
    assert m_busy > m_calm


def test_new_referral_position() -> None:
    st = state((QueueEntry("u1", urgent=True), QueueEntry("r1")))
    urgent = with_new_referral(st, QueueEntry("new", urgent=True))
    assert [e.ref for e in urgent.queue] == ["u1", "new", "r1"]
    regular = with_new_referral(st, QueueEntry("new"))
    assert [e.ref for e in regular.queue] == ["u1", "r1", "new"]


def test_chance_of_missing_the_deadline() -> None:
    early = AS_OF + timedelta(days=3)
    late = AS_OF + timedelta(days=60)
    st = state((QueueEntry("a", deadline=early), QueueEntry("b", deadline=late)))
    fa, fb = forecast_offering(st, runs=100, seed=1)
    assert fa.p_after_deadline == 1.0
    assert fb.p_after_deadline == 0.0


def test_no_start_within_horizon_counts_as_late_and_has_no_date() -> None:
    st = state((QueueEntry("a", deadline=AS_OF + timedelta(days=30)),), schedule=())
    fc = forecast_offering(st, runs=50, seed=1, horizon_days=100)[0]
    assert fc.median_date is None
    assert fc.high_date is None
    assert fc.p_after_deadline == 1.0


def test_same_seed_same_forecast_other_seed_differs() -> None:
    flow = DEFAULT_FLOW["AMBULANT"]
    st = state(tuple(QueueEntry(f"c{i}") for i in range(8)), capacity=10, flow=flow)
    a = simulate_starts(st, runs=200, seed=11)
    b = simulate_starts(st, runs=200, seed=11)
    c = simulate_starts(st, runs=200, seed=12)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_forecast_does_not_touch_global_random_state() -> None:
    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    st = state((QueueEntry("a"),), flow=DEFAULT_FLOW["AMBULANT"], capacity=5)
    forecast_offering(st, runs=20, seed=1)
    assert np.random.random() == before


def test_cancellations_leave_nan_and_are_reported() -> None:
    flow = replace(STILL, cancel_per_week=2.0)
    st = state((QueueEntry("a"), QueueEntry("b")), schedule=(0, 0, 0, 1, 1), flow=flow)
    fc = forecast_offering(st, runs=300, seed=4)
    assert all(f.p_leaves_queue > 0.9 for f in fc)
    steady = forecast_offering(replace(st, flow=STILL), runs=50, seed=4)
    assert all(f.p_leaves_queue == 0.0 for f in steady)


def test_invalid_input_reports_every_problem() -> None:
    bad = state(
        (QueueEntry("a"), QueueEntry("a")),
        capacity=1,
        free_now=-1,
        schedule=(2, -1),
        flow=replace(STILL, urgent_share=1.5, los_sigma=-1.0),
    )
    with pytest.raises(ForecastInputError) as exc:
        forecast_offering(bad, runs=10)
    text = str(exc.value)
    for part in ("free_now", "negative week", "twice", "urgent_share", "los_sigma"):
        assert part in text


def test_forecast_child_sorted_and_independent_per_offering() -> None:
    flow = DEFAULT_FLOW["AMBULANT"]
    far = state(tuple(QueueEntry(f"x{i}") for i in range(6)), capacity=8, flow=flow)
    near = state((), capacity=8, flow=flow, free_now=1, schedule=(1,), offering_id="o2")
    child = QueueEntry("kind-1", deadline=AS_OF + timedelta(days=60))
    both = forecast_child(child, [far, near], runs=200, seed=9)
    assert [f.offering_id for f in both] == ["o2", "o1"]
    alone = forecast_child(child, [far], runs=200, seed=9)
    assert alone[0] == next(f for f in both if f.offering_id == "o1")


def test_records_are_json_ready() -> None:
    st = state((QueueEntry("a", deadline=AS_OF + timedelta(days=20)),), free_now=1, schedule=())
    rec = forecast_offering(st, runs=20, seed=1)[0].to_record()
    back = json.loads(json.dumps(rec))
    assert back["ref"] == "a"
    assert back["median_date"] == (AS_OF + timedelta(days=7)).isoformat()


def test_estimate_flow_recovers_parameters() -> None:
    true = DEFAULT_CASES[1].flow
    hist = simulate_history(true, capacity=20, days=2000, seed=7)
    est = estimate_flow(hist, 2000.0, window_days=1500.0)
    assert est.inflow_per_week == pytest.approx(true.inflow_per_week, rel=0.15)
    assert est.los_median_days == pytest.approx(true.los_median_days, rel=0.15)
    assert est.intake_lead_median_days == pytest.approx(true.intake_lead_median_days, rel=0.15)
    assert est.slip_probability == pytest.approx(true.slip_probability, abs=0.08)


def test_history_never_starts_a_child_at_the_intake() -> None:
    hist = simulate_history(DEFAULT_CASES[0].flow, capacity=12, days=1500, seed=3)
    started = [c for c in hist.children if c.start is not None]
    assert started
    assert all(c.offered_at is not None and c.start > c.offered_at for c in started)


@pytest.mark.slow
def test_calibration_80_percent_intervals_cover_about_80_percent() -> None:
    """Backtest on generated history, parameters estimated before each snapshot."""
    rep = backtest(seeds=range(1, 7), snapshots=10, snapshot_every_days=45, runs=300)
    assert rep.judged >= 1000
    assert 0.72 <= rep.coverage <= 0.88, rep.to_record()
    # the misses fall on both sides, not all on one
    assert rep.below / rep.judged < 0.15
    assert rep.above / rep.judged < 0.15
    # the deadline chance is calibrated on average too
    assert abs(rep.mean_p_late - rep.observed_late) < 0.05


@pytest.mark.slow
def test_calibration_check_fails_a_forecast_that_treats_intake_as_start() -> None:
    """The same check rejects a wrong model: no intake lead, no urgent inflow."""
    rep = backtest(
        seeds=(1, 2, 3),
        snapshots=8,
        snapshot_every_days=45,
        runs=300,
        adjust=lambda f: replace(f, intake_lead_median_days=0.0, urgent_share=0.0),
    )
    assert rep.coverage < 0.72, rep.to_record()


def test_parameter_draws_widen_with_little_evidence() -> None:
    from matcher.forecast.simulate import draw_params

    flow = DEFAULT_FLOW["AMBULANT"]
    rng = np.random.default_rng(0)
    state_before = rng.bit_generator.state
    assert draw_params(rng, flow) is flow
    assert rng.bit_generator.state == state_before  # no evidence: no draws

    def spread(weeks: float, stays: int) -> tuple[float, float]:
        f = replace(flow, evidence_weeks=weeks, evidence_stays=stays, evidence_intakes=stays)
        r = np.random.default_rng(1)
        draws = [draw_params(r, f) for _ in range(400)]
        urgent = np.array([d.inflow_per_week * d.urgent_share for d in draws])
        los = np.log([d.los_median_days for d in draws])
        return float(urgent.std()), float(los.std())

    few = spread(10.0, 10)
    many = spread(1000.0, 1000)
    assert few[0] > 3 * many[0]
    assert few[1] > 3 * many[1]


def test_little_evidence_gives_a_wider_interval() -> None:
    base = replace(DEFAULT_FLOW["AMBULANT"], cancel_per_week=0.0)
    queue = tuple(QueueEntry(f"c{i}") for i in range(10))
    sure = state(queue, capacity=12, flow=replace(base, evidence_weeks=5000, evidence_stays=5000))
    unsure = replace(sure, flow=replace(base, evidence_weeks=8, evidence_stays=4))

    def widths(st: OfferingState) -> list[float]:
        out = []
        for f in forecast_offering(st, runs=400, seed=2, horizon_days=730)[:4]:
            assert f.low_days is not None
            high = 730.0 if f.high_days is None else f.high_days  # None: beyond the horizon
            out.append(high - f.low_days)
        return out

    w_sure, w_unsure = widths(sure), widths(unsure)
    assert np.mean(w_unsure) > np.mean(w_sure)


def test_one_simulation_serves_every_deadline() -> None:
    """A search keeps an entry's simulated starts and applies each child's deadline
    (`EntryStarts.forecast`): the figures are those of a summary made for that deadline,
    counting runs without a start in the horizon (inf) as late and leaving out the runs
    in which the child left the list (nan)."""
    from matcher.forecast.simulate import INTERVAL, EntryStarts, summarise_entry

    rng = np.random.default_rng(4)
    col = rng.integers(0, 200, size=300).astype(float)
    col[rng.random(300) < 0.1] = np.inf
    col[rng.random(300) < 0.1] = np.nan
    starts = np.column_stack([rng.integers(0, 50, size=300).astype(float), col])
    st = state((QueueEntry("a"), QueueEntry("b")), flow=DEFAULT_FLOW["AMBULANT"])
    kept = EntryStarts.of(st, starts, 1, seed=7, runs=300)
    stayed = col[~np.isnan(col)]
    for days in (-5, 0, 17, 99, 100, 150, 199, 400):
        deadline = AS_OF + timedelta(days=days)
        with_deadline = replace(st, queue=(QueueEntry("a"), QueueEntry("b", deadline=deadline)))
        f = kept.forecast(deadline)
        assert f == summarise_entry(with_deadline, starts, 1, seed=7, runs=300)
        assert f.p_after_deadline == float(np.mean(stayed > days))
    found = np.quantile(stayed, (INTERVAL[0], 0.5, INTERVAL[1]), method="inverted_cdf")
    f = kept.forecast(None)
    assert f.p_after_deadline is None
    assert [f.low_days, f.median_days, f.high_days] == [
        float(v) if np.isfinite(v) else None for v in found
    ]
    assert f.p_leaves_queue == pytest.approx(1 - stayed.size / 300)
