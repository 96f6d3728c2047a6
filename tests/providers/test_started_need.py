"""A need whose help has really started is no longer matched, while the child's other
need still waits (the case stays on the list) and keeps its id."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from providers.convert import scenario_from_db
from providers.store import aanmeldingen as am
from providers.store.access import waiting_list
from tests.providers.test_referrals import TODAY, _case, _need, _world


def test_a_started_need_leaves_the_matching_and_the_other_keeps_its_id(
    sessions: sessionmaker[Session],
) -> None:
    w = _world(sessions)
    with sessions.begin() as s:
        ref = _case(s, w.v, ("TRAUMATHERAPIE", "SPELTHERAPIE"))
        aid = am.request_place(s, w.v, ref, _need(s, w.v, ref, seq=1), w.o1, today=TODAY)
        am.accept(
            s,
            w.a1,
            aid,
            planned_intake=TODAY + dt.timedelta(days=3),
            planned_start=TODAY + dt.timedelta(days=7),
            today=TODAY,
        )
    with sessions.begin() as s:
        before = next(
            c for c in scenario_from_db(s, w.t, evaluation_date=TODAY).children if c.ref == ref
        )
        am.register_start(
            s, w.a1, aid, on=TODAY + dt.timedelta(days=7), today=TODAY + dt.timedelta(days=7)
        )
    with sessions.begin() as s:
        listed = [c for c in waiting_list(s, w.t) if c.ref == ref]
        after = next(
            c for c in scenario_from_db(s, w.t, evaluation_date=TODAY).children if c.ref == ref
        )
    assert [n.care_type.value for n in before.needs] == ["TRAUMATHERAPIE", "SPELTHERAPIE"]
    assert listed
    assert listed[0].started == frozenset({0})
    assert [(n.id, n.care_type.value) for n in after.needs] == [(f"{ref}/2", "SPELTHERAPIE")]
