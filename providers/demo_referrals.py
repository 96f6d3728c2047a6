"""Demo history of the referral loop: six months of aanmeldingen, answers and starts.

For every offering of the demo region this writes finished cases (fictional,
pseudonymous refs "H-..."), each with an aanmelding that was accepted and
started, some after a no elsewhere, so the measured wait shows beside the
provider's own figure.  Providers in the demo tend to report a shorter wait than
they deliver (a random factor per offering), as the inspection reports found.
It also gives the demo GI the region's waiting children as its caseload, with a
few open aanmeldingen (some past their answer term).

Everything is seeded: the same seed and date give the same history.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.domain.clocks import add_working_days
from matcher.domain.reasons import Reason
from providers.store.models import (
    Aanmelding,
    AanmeldingEvent,
    AanmeldingStatus,
    Child,
    ChildNeed,
    ChildStatus,
    NeedClock,
    Offering,
    utcnow,
)

S = AanmeldingStatus
HISTORY_DAYS = 182
ANSWER_DAYS = 5
DECLINE_REASONS = (
    (Reason.NO_CAPACITY, "Geen plek binnen de termijn"),
    (Reason.CONTRA_INDICATION, "Past niet bij onze groep"),
    (Reason.AGE_OUT_OF_RANGE, "Buiten onze leeftijdsgrens"),
    (Reason.PROVIDER_DECLINED_WITHOUT_CONTRA_INDICATION, "Niet passend na overleg"),
)


@dataclass(frozen=True)
class HistorySummary:
    cases: int
    aanmeldingen: int
    starts: int
    open_aanmeldingen: int


class _Writer:
    def __init__(self, session: Session, rng: random.Random, organisation_id: int | None) -> None:
        self.session = session
        self.rng = rng
        self.org = organisation_id
        self.aanmeldingen = 0

    def aanmelding(
        self,
        need: ChildNeed,
        offering: Offering,
        requested: dt.date,
        steps: list[tuple[S, dt.date, dict[str, object]]],
    ) -> Aanmelding:
        final, _, _ = steps[-1] if steps else (S.AANGEVRAAGD, requested, {})
        values: dict[str, object] = {}
        for _, _, v in steps:
            values.update(v)
        active = need.id if final in (S.AANGEVRAAGD, S.GEACCEPTEERD, S.INTAKE_GEDAAN) else None
        a = Aanmelding(
            need_id=need.id,
            active_need_id=active,
            offering_id=offering.id,
            organisation_id=self.org,
            status=final.value,
            requested_on=requested,
            answer_due=add_working_days(requested, ANSWER_DAYS),
            requested_by="demo-verwijzer",
            context=f"zorgvorm={offering.care_type}",
            shared_attributes="",
            **{"reason_text": "", **values},
        )
        self.session.add(a)
        self.session.flush()
        events = [(S.AANGEVRAAGD, requested, "")] + [
            (s, on, str(v.get("reason_text", ""))) for s, on, v in steps
        ]
        for status, on, detail in events:
            self.session.add(
                AanmeldingEvent(
                    aanmelding_id=a.id,
                    at=utcnow(),
                    on=on,
                    actor="demo-aanbieder" if status is not S.AANGEVRAAGD else "demo-verwijzer",
                    status=status.value,
                    detail=detail,
                )
            )
        self.aanmeldingen += 1
        return a


def _starts_for(o: Offering, rng: random.Random) -> int:
    # About the places that free in six months, with some offerings below the six
    # starts a measured wait needs.
    expected = o.release_per_week * 26 + (1 if o.places_free else 0)
    return max(0, min(14, round(expected * rng.uniform(0.5, 1.3))))


def _birth_month(o: Offering, on: dt.date, rng: random.Random) -> str:
    age = rng.randint(max(0, o.age_min), max(o.age_min, min(o.age_max, 17)))
    return f"{on.year - age:04d}-{rng.randint(1, 12):02d}"


def generate_history(
    session: Session,
    region_code: str,
    *,
    today: dt.date,
    organisation_id: int | None,
    seed: int = 1,
) -> HistorySummary:
    """Write the history for `region_code`; the caller commits.  Does nothing when the
    region already has an aanmelding (a demo database that is started again)."""
    existing = session.scalar(
        select(Aanmelding.id)
        .join(Offering, Aanmelding.offering_id == Offering.id)
        .where(Offering.region_code == region_code)
        .limit(1)
    )
    if existing is not None:
        return HistorySummary(0, 0, 0, 0)
    rng = random.Random(seed)
    offerings = list(
        session.scalars(
            select(Offering).where(Offering.region_code == region_code).order_by(Offering.ext_id)
        )
    )
    by_care: dict[str, list[Offering]] = {}
    for o in offerings:
        by_care.setdefault(o.care_type, []).append(o)
    w = _Writer(session, rng, organisation_id)
    cases = starts = 0
    for o in offerings:
        # Providers report a shorter wait than they deliver, more for some than others.
        bias = math.exp(rng.gauss(0.1, 0.3))
        for _ in range(_starts_for(o, rng)):
            start = today - dt.timedelta(days=rng.randint(1, HISTORY_DAYS - 1))
            wait = max(3, round(o.expected_wait_days * bias * rng.lognormvariate(0, 0.25)))
            requested = start - dt.timedelta(days=wait)
            cases += 1
            child = Child(
                ref=f"H-{region_code}-{cases:04d}",
                organisation_id=organisation_id,
                gemeente_code=o.gemeente_code,
                region_code=region_code,
                birth_month=_birth_month(o, start, rng),
                gi="",
                measure="OTS",
                ruling_date=requested - dt.timedelta(days=rng.randint(5, 45)),
                attributes="",
                status=ChildStatus.PLACED.value,
                placed_at=start,
                needs=[ChildNeed(seq=1, care_type=o.care_type)],
            )
            session.add(child)
            session.flush()
            need = child.needs[0]
            others = [x for x in by_care[o.care_type] if x.id != o.id]
            if others and rng.random() < 0.3:
                earlier = requested - dt.timedelta(days=rng.randint(8, 20))
                reason, text = rng.choice(DECLINE_REASONS)
                w.aanmelding(
                    need,
                    rng.choice(others),
                    earlier,
                    [
                        (
                            S.AFGEWEZEN,
                            add_working_days(earlier, rng.randint(1, 7)),
                            {"reason": reason.name, "reason_text": text},
                        )
                    ],
                )
                session.flush()
            accepted = min(start, add_working_days(requested, rng.randint(1, 7)))
            intake = min(start, accepted + dt.timedelta(days=rng.randint(0, o.intake_days)))
            w.aanmelding(
                need,
                o,
                requested,
                [
                    (
                        S.GEACCEPTEERD,
                        accepted,
                        {"answered_on": accepted, "planned_intake": intake, "planned_start": start},
                    ),
                    (S.INTAKE_GEDAAN, intake, {"intake_date": intake}),
                    (S.GESTART, start, {"start_date": start}),
                ],
            )
            session.add(NeedClock(need_id=need.id, start_date=start, started_offering_id=o.id))
            starts += 1
    open_count = _open_aanmeldingen(session, w, region_code, by_care, today)
    session.flush()
    return HistorySummary(cases, w.aanmeldingen, starts, open_count)


def _open_aanmeldingen(
    session: Session,
    w: _Writer,
    region_code: str,
    by_care: dict[str, list[Offering]],
    today: dt.date,
) -> int:
    """The demo GI owns the region's waiting list; every fourth need gets an open
    aanmelding (some past the answer term, some accepted with a planned start)."""
    waiting = list(
        session.scalars(
            select(Child)
            .where(Child.region_code == region_code, Child.status == ChildStatus.WAITING.value)
            .order_by(Child.ref)
        )
    )
    n = 0
    for i, child in enumerate(waiting):
        if child.organisation_id is None:
            child.organisation_id = w.org
        need = child.needs[0] if child.needs else None
        if i % 4 or need is None or not by_care.get(need.care_type):
            continue
        o = w.rng.choice(by_care[need.care_type])
        requested = today - dt.timedelta(days=w.rng.randint(1, 14))
        steps: list[tuple[S, dt.date, dict[str, object]]] = []
        if w.rng.random() < 0.4:
            answered = min(today, add_working_days(requested, 2))
            planned = today + dt.timedelta(days=w.rng.randint(7, 60))
            steps.append(
                (
                    S.GEACCEPTEERD,
                    answered,
                    {"answered_on": answered, "planned_intake": answered, "planned_start": planned},
                )
            )
        w.aanmelding(need, o, requested, steps)
        n += 1
    return n
