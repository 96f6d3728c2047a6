"""The forecast reads the referral loop: measured waits and declines become the flow."""

from __future__ import annotations

import math
from datetime import date

import pytest

from matcher.domain.model import CareType, Offering
from matcher.forecast import QueueEntry, forecast_offering, with_new_referral
from matcher.forecast.domain import MeasuredFlow, flow_for, state_from_offering

AS_OF = date(2026, 3, 2)
OFFERING = Offering(
    id="O1",
    provider="P1",
    care_type=CareType.TRAUMATHERAPIE,
    region="JZ29",
    free_now=2,
    intake_lead_days=14,
    duration_weeks=20,
)
MEASURED = MeasuredFlow(
    starts=8,
    wait_median_days=70.0,
    wait_p80_days=90.0,
    lead_median_days=49.0,
    requests=26,
    answers=10,
    declines=4,
    weeks=26.0,
)


def test_without_measurements_the_provider_figures_stay() -> None:
    assert flow_for(OFFERING, measured=None) == flow_for(OFFERING)
    assert flow_for(OFFERING).intake_lead_median_days == 14.0


def test_measured_figures_replace_the_provider_figures() -> None:
    own = flow_for(OFFERING)
    flow = flow_for(OFFERING, measured=MEASURED)
    assert flow.intake_lead_median_days == 49.0
    assert flow.evidence_intakes == 8
    assert flow.intake_lead_sigma == pytest.approx(math.log(90 / 70) / 0.8416)
    # 4 no's in 10 answers over a median wait of 10 weeks
    assert flow.cancel_per_week == pytest.approx(-math.log(0.6) / 10)
    assert flow.inflow_per_week == pytest.approx(1.0)
    assert flow.evidence_weeks == 26.0
    # what the loop does not measure stays the provider's (the duration of the help)
    assert flow.los_median_days == own.los_median_days == 140.0
    assert not flow.issues()


def test_no_declines_means_no_one_leaves_the_queue_for_a_no() -> None:
    m = MeasuredFlow(8, 30.0, 30.0, 10.0, 0, 0, 0)
    flow = flow_for(OFFERING, measured=m)
    assert flow.cancel_per_week == 0.0
    # no spread measured: the category's spread stays; no requests: the inflow stays
    assert flow.intake_lead_sigma == flow_for(OFFERING).intake_lead_sigma
    assert flow.inflow_per_week == flow_for(OFFERING).inflow_per_week
    # every answer a no: capped, still a finite rate
    assert math.isfinite(
        flow_for(OFFERING, measured=MeasuredFlow(8, 30, 40, 10, 5, 5, 5)).cancel_per_week
    )


def test_the_forecast_follows_the_measured_lead_time() -> None:
    """Two places free: the start is the lead time after today, so a measured 49 days
    instead of the provider's 14 moves the forecast median by about five weeks."""
    entry = QueueEntry(ref="kind")

    def median_days(measured: MeasuredFlow | None) -> float:
        state = with_new_referral(
            state_from_offering(OFFERING, as_of=AS_OF, measured=measured), entry
        )
        [f] = forecast_offering(state, runs=400, seed=3)
        assert f.median_days is not None
        return f.median_days

    own, measured = median_days(None), median_days(MEASURED)
    assert own == pytest.approx(14, abs=3)
    assert measured == pytest.approx(49, abs=8)
