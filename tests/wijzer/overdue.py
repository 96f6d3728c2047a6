"""Overdue children in the web test data: their legal deadline lies before today.

`make_overdue_region` turns the test data set's region into one where counts are big
enough to be shown to inkoop (5 or more): five overdue children (ruling 1 July 2026,
deadline 1 October 2026, 50 days before TODAY) and five with their deadline ahead
(ruling 1 November 2026, deadline 1 February 2027), and ten free places at Hulp Zuid.
Help there starts after the 14-day intake on 4 December 2026: within the objective's
28 grace days for an overdue child, but 64 days after its legal deadline.  So an
overdue child is placed, late, and never "binnen de norm".
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from providers.store.models import Child, ChildNeed, Offering
from tests.wijzer.data import CARE, DORDRECHT, REGION, UTRECHT

OVERDUE_RULING = dt.date(2026, 7, 1)
OVERDUE_DEADLINE = dt.date(2026, 10, 1)
START = dt.date(2026, 12, 4)
DAYS_LATE = (START - OVERDUE_DEADLINE).days  # 64
DAYS_PAST = 50  # TODAY - OVERDUE_DEADLINE
OVERDUE = tuple(f"L-{i:03d}" for i in range(1, 6))
ON_TIME = tuple(f"T-{i:03d}" for i in range(1, 6))


def make_overdue_region(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        # The data set's own children move out, so the region holds only these ten.
        for child in s.scalars(select(Child).where(Child.region_code == REGION)):
            child.region_code = "JZ22"
            child.gemeente_code = UTRECHT
        fast = s.scalar(select(Offering).where(Offering.ext_id == "O-SNEL"))
        assert fast is not None
        fast.places_free = 10
        fast.contra_indications = ""
        for refs, ruling in ((OVERDUE, OVERDUE_RULING), (ON_TIME, dt.date(2026, 11, 1))):
            for ref in refs:
                s.add(
                    Child(
                        ref=ref,
                        gemeente_code=DORDRECHT,
                        region_code=REGION,
                        birth_month="2016-04",
                        gi="WSS",
                        measure="OTS",
                        ruling_date=ruling,
                        attributes="",
                        needs=[ChildNeed(seq=1, care_type=CARE)],
                    )
                )


def freshen_rulings(session: Session, region: str, today: dt.date, days: int = 60) -> None:
    """Move every ruling in `region` to at most `days` before `today` (and drop urgent
    deadlines that have passed), so that deadlines lie ahead.

    In the demo region most children waited past their legal deadline, so few can still
    start within the norm and an inkoop table would hide nearly every cell; tests that
    need shown cells use this."""
    earliest = today - dt.timedelta(days=days)
    for child in session.scalars(select(Child).where(Child.region_code == region)):
        child.ruling_date = max(child.ruling_date, earliest)
        if child.urgent_deadline is not None and child.urgent_deadline <= today:
            child.urgent_deadline = None
