"""T8: the uniforme uitvraag, reconciliation and counting method."""

from __future__ import annotations

import itertools
import json

import pytest

from matcher.domain.model import RegionalNorm
from matcher.domain.uitvraag import (
    PartialSurveyError,
    build_report,
    clean,
    headline_count,
    municipal_view,
    reconcile,
    snapshots_from_json,
)

from .conftest import FIXTURES


@pytest.fixture(scope="module")
def snaps():
    data = json.loads((FIXTURES / "t8_uitvraag.json").read_text(encoding="utf-8"))
    return snapshots_from_json(data)


def test_t8_monthly_counts_and_balance(snaps):
    nh = [s for s in snaps if s.region == "NH"]
    assert [headline_count(s) for s in nh] == [98, 147, 130, 127]
    for prev, curr in itertools.pairwise(nh):
        flow = reconcile(prev, curr)
        assert flow.balanced
        assert flow.stock_end == flow.stock_start + flow.inflow - flow.outflow_total
        assert "UNEXPLAINED" not in flow.outflow


def test_t8_april_rise_split_into_new_and_newly_reported(snaps):
    mar, apr = (s for s in snaps if s.region == "NH" and s.count_date.month in (3, 4))
    flow = reconcile(mar, apr)
    assert flow.inflow_new_measures == 30
    assert flow.inflow_newly_reported == 39
    assert flow.outflow_total == 20
    # the newly reported children come from the newly included GI
    gi_of = {r.child_ref: r.gi for r in apr.records}
    assert {gi_of[ref] for ref in flow.newly_reported_refs} == {"LJR"}


def test_t8_duplicates_once_cancellations_listed(snaps):
    rij = next(s for s in snaps if s.region == "RIJNMOND")
    cl = clean(rij.records)
    assert len(rij.records) == 30
    assert len(cl.duplicates) == 2
    assert len(cl.cancellations) == 5
    assert headline_count(rij) == 23
    rep = build_report(rij)
    reasons = sorted(c["reason"] for c in rep.cancellations)
    assert reasons == [
        "ANDERE_DIENSTVERLENING",
        "HULP_NIET_GEREALISEERD",
        "OUDERS_WILLEN_GEEN_HULP",
        "VERHUIZING",
        "VERHUIZING",
    ]
    assert rep.duplicates_removed == 2


def test_t8_refuses_to_extrapolate_a_partial_survey(snaps):
    part = next(s for s in snaps if not s.complete)
    with pytest.raises(PartialSurveyError):
        headline_count(part)
    with pytest.raises(PartialSurveyError):
        build_report(part)


def test_t8_sections_per_gemeente_and_gi_with_norm_status(snaps):
    mar, apr = (s for s in snaps if s.region == "NH" and s.count_date.month in (3, 4))
    rep = build_report(apr, mar, regional_norm=RegionalNorm("Amsterdam-Amstelland"))
    for section in (rep.by_gemeente, rep.by_gi):
        assert section
        for v in section.values():
            assert {"a_waiting", "b_care_types", "c_obstacles", "norm_status"} <= v.keys()
    assert sum(v["a_waiting"] for v in rep.by_gemeente.values()) == 147
    assert set(rep.by_gi) == {"DJGB", "JBRA", "WSS", "LJR"}
    assert all(r["norm_status"] in {"PENDING", "LATE", "LATE_EXPLAINED"} for r in rep.rows)
    assert "inspection" in rep.definitions
    assert "regional" in rep.definitions  # an extra column, next to the inspection norm
    assert rep.flow is not None
    assert rep.flow.balanced


def test_t8_municipal_view_has_no_child_identifying_fields(snaps):
    mar, apr = (s for s in snaps if s.region == "NH" and s.count_date.month in (3, 4))
    view = municipal_view(build_report(apr, mar))
    text = json.dumps(view)
    assert "child_ref" not in text
    assert "request_id" not in text
    for r in apr.records:
        assert r.child_ref not in text
        assert r.request_id not in text
    assert view["waiting"] == 147


def test_share_of_measures(snaps):
    mar = next(s for s in snaps if s.region == "NH" and s.count_date.month == 3)
    assert build_report(mar).share_of_measures == round(98 / 6100, 4)


def test_obstacles_count_one_decisive_reason_per_child_with_every_obstacle_as_detail():
    import dataclasses
    import datetime as dt

    from matcher.domain.caretypes import CareType
    from matcher.domain.model import MeasureType
    from matcher.domain.uitvraag import Snapshot, WaitingRecord

    base = WaitingRecord(
        request_id="R1",
        child_ref="K1",
        gi="GI",
        gemeente="GM1",
        measure=MeasureType.OTS,
        ruling_date=dt.date(2026, 10, 1),
        care_types=(CareType.AMBULANTE_JGGZ,),
        obstacles=("Geen LVB-expertise", "Er is een contra-indicatie"),
        decisive="Geen LVB-expertise",
        decisive_text="Doorslaggevend: geen LVB-expertise.",
    )
    older = dataclasses.replace(
        base, request_id="R2", child_ref="K2", decisive=None, decisive_text=None
    )
    rep = build_report(Snapshot(dt.date(2026, 11, 20), "X", (base, older)))
    section = rep.by_gemeente["GM1"]
    # K1 counts once, by its decisive reason; K2 (no decisive reason known) by each
    assert section["c_obstacles"] == {"Er is een contra-indicatie": 1, "Geen LVB-expertise": 2}
    assert section["c_obstacle_details"] == {
        "Er is een contra-indicatie": 2,
        "Geen LVB-expertise": 2,
    }
    row = next(r for r in rep.rows if r["child_ref"] == "K1")
    assert row["decisive_text"] == "Doorslaggevend: geen LVB-expertise."
    assert row["obstacles"] == ["Geen LVB-expertise", "Er is een contra-indicatie"]
