"""The uniforme uitvraag's report and momentopname (services.uitvraag)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session, sessionmaker

from matcher.domain.reasons import Reason, reason_text
from matcher.domain.scenario_file import loads
from providers.store import access
from services import uitvraag as uc

from .conftest import REGION, TODAY, principal


def test_report_of_today_lists_the_region_and_its_waiting_children(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as db:
        user = principal(db, f"tafel-{REGION}")
        waiting = {c.ref for c in access.waiting_list(db, user)}
    result = uc.report(sessions, user, uc.ReportRequest(today=TODAY))
    assert result.region == REGION
    assert result.report.count_date == TODAY
    assert {r["child_ref"] for r in result.report.rows} <= waiting
    assert result.report.rows
    assert result.flows == ()  # no momentopnames stored yet


def test_two_snapshots_give_one_month_of_flows(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as db:
        user = principal(db, "tafel-JZ22")
        first = uc.snapshot(db, user, uc.SnapshotRequest(count_date=TODAY - dt.timedelta(days=30)))
        uc.snapshot(db, user, uc.SnapshotRequest(count_date=TODAY))
    assert first.region_code == "JZ22"
    result = uc.report(sessions, user, uc.ReportRequest(today=TODAY))
    assert [f.count_date for _, f in result.flows] == [TODAY]


def test_inkoop_may_not_take_a_snapshot(sessions: sessionmaker[Session]) -> None:
    with sessions() as db:
        user = principal(db, f"inkoop-{REGION}")
        with pytest.raises(access.AccessDenied) as exc:
            uc.snapshot(db, user, uc.SnapshotRequest(count_date=TODAY))
    assert "momentopname" in exc.value.user_message


def test_a_tafel_may_not_ask_for_another_region(sessions: sessionmaker[Session]) -> None:
    with sessions() as db:
        user = principal(db, f"tafel-{REGION}")
    with pytest.raises(access.AccessDenied):
        uc.report(sessions, user, uc.ReportRequest(today=TODAY, region="JZ22"))


LVB_CHILD = """{
  "format": "beschikbaarheidswijzer-scenario", "version": 1, "name": "lvb",
  "evaluation_date": "2026-11-20",
  "regions": [{"code": "JZ29", "name": "Rijnmond", "gemeenten": ["GM0599"]}],
  "children": [{"ref": "A", "gemeente": "GM0599", "region": "JZ29", "age_years": 12,
                "ruling_date": "2026-10-01", "attributes": ["lvb"],
                "needs": [{"id": "hulp", "care_type": "AMBULANTE_JGGZ"}]}],
  "offerings": [{"id": "GGZ-1", "provider": "GGZ", "care_type": "AMBULANTE_JGGZ",
                 "region": "JZ29", "location_gemeente": "GM0599", "free_now": 2,
                 "price_cents": 250000}],
  "contracts": [{"id": "C-GGZ", "provider": "GGZ", "care_type": "AMBULANTE_JGGZ",
                 "buyer": "JZ29"}]
}"""


def test_obstacles_are_the_catalogues_sentences_with_lvb_in_capitals() -> None:
    (record,) = uc.waiting_records(loads(LVB_CHILD))
    assert record.obstacles == (reason_text(Reason.NO_LVB_EXPERTISE),)
    assert "LVB" in record.obstacles[0]  # str.capitalize() made this "lvb"


def test_an_unplaced_child_has_one_decisive_reason_with_its_obstacles_as_detail() -> None:
    (record,) = uc.waiting_records(loads(LVB_CHILD))
    assert record.decisive == reason_text(Reason.NO_LVB_EXPERTISE)
    assert record.decisive_text is not None
    assert record.decisive_text.startswith("Doorslaggevend: ")
    assert record.obstacles == (reason_text(Reason.NO_LVB_EXPERTISE),)


def test_the_decisive_reason_is_the_one_the_tafel_run_shows() -> None:
    from matcher.domain.explain import explain
    from matcher.domain.match import match
    from providers import demo
    from providers.convert import to_scenario

    data = demo.generate_region("JZ31", seed=2, n_children=120, today=TODAY)
    scenario = to_scenario(data, evaluation_date=TODAY, region_code="JZ31")
    result = match(scenario)
    shown: dict[str, str] = {}
    for ne in explain(result, search=False).needs:
        assert ne.decisive is not None
        shown.setdefault(ne.child_ref, ne.decisive.text)
    records = uc.waiting_records(scenario, result)
    with_reason = {r.child_ref: r.decisive_text for r in records if r.decisive_text}
    assert with_reason
    assert with_reason == {ref: text for ref, text in shown.items() if ref in with_reason}
    # every child with a ruling that the matching leaves without a place has one
    ruled = {r.child_ref for r in records}
    assert set(with_reason) == set(shown) & ruled
    # and the report counts exactly one reason per such child
    from matcher.domain.uitvraag import Snapshot, build_report

    rep = build_report(Snapshot(TODAY, "JZ31", records))
    counted = sum(sum(v["c_obstacles"].values()) for v in rep.by_gemeente.values())
    no_reason_obstacles = sum(len(r.obstacles) for r in records if not r.decisive)
    assert counted == len(with_reason) + no_reason_obstacles
