"""Forecast inputs built from domain offerings and children."""

from __future__ import annotations

from datetime import date, timedelta

from matcher.domain.model import CareNeed, CareType, Child, Offering, Release
from matcher.forecast import DEFAULT_FLOW, forecast_offering
from matcher.forecast.domain import flow_for, queue_from_children, state_from_offering

AS_OF = date(2026, 3, 2)


def child(ref: str, aanmelding: date, **kw: object) -> Child:
    need = CareNeed("n", CareType.TRAUMATHERAPIE, aanmelding_date=aanmelding)
    return Child(
        ref=ref,
        gemeente="GM0599",
        region="JZ29",
        needs=(need,),
        ruling_date=date(2026, 1, 15),
        **kw,  # type: ignore[arg-type]
    )


def test_state_from_domain_offering() -> None:
    off = Offering(
        id="O1",
        provider="P1",
        care_type=CareType.TRAUMATHERAPIE,
        region="JZ29",
        free_now=0,
        releases=(
            Release(AS_OF + timedelta(days=10), 1),
            Release(AS_OF + timedelta(days=20), 2),
            Release(AS_OF - timedelta(days=3), 1),
        ),
        intake_lead_days=14,
        duration_weeks=20,
        last_confirmed=date(2026, 2, 20),
    )
    st = state_from_offering(off, as_of=AS_OF)
    assert st.release_schedule == (1, 1, 2)
    assert st.capacity == 4
    assert st.flow.los_median_days == 140.0
    assert st.flow.intake_lead_median_days == 14.0
    assert st.confirmed_on == date(2026, 2, 20)
    assert state_from_offering(off, as_of=AS_OF, capacity=9, schedule_weeks=2).release_schedule == (
        1,
        1,
    )


def test_flow_defaults_follow_the_category() -> None:
    off = Offering(
        id="O", provider="P", care_type=CareType.GEZINSHUIS, region="R", duration_weeks=0
    )
    assert flow_for(off) == DEFAULT_FLOW["RESIDENTIAL"]


def test_queue_in_order_of_aanmelding_with_urgency_and_norm_deadline() -> None:
    kids = [
        child("late", date(2026, 2, 10)),
        child("early", date(2026, 1, 20)),
        child("urgent", date(2026, 2, 25), urgent_deadline=date(2026, 3, 20)),
    ]
    q = queue_from_children(kids)
    assert [e.ref for e in q] == ["early", "late", "urgent"]
    assert q[0].deadline == date(2026, 4, 15)  # ruling + 3 calendar months
    assert q[2].urgent
    assert q[2].deadline == date(2026, 3, 20)

    off = Offering(
        id="O1",
        provider="P1",
        care_type=CareType.TRAUMATHERAPIE,
        region="JZ29",
        free_now=0,
        releases=(Release(AS_OF + timedelta(days=10), 1), Release(AS_OF + timedelta(days=40), 2)),
        intake_lead_days=14,
    )
    fc = {
        f.ref: f
        for f in forecast_offering(state_from_offering(off, as_of=AS_OF, queue=q), runs=200, seed=1)
    }
    assert fc["urgent"].median_days is not None
    assert fc["early"].median_days is not None
    assert fc["urgent"].median_days < fc["early"].median_days  # urgent goes first
    low = fc["urgent"].low_days
    assert low is not None
    assert low >= 7  # never before the first release (week 1), plus the intake
