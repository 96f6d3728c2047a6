"""'Binnen de norm' is start <= legal deadline; the objective's grace target is not.

Fixture overdue_child.json: LAAT's norm-3 deadline (2022-01-01) lies before the
evaluation date (2022-03-01); help can start on 2022-03-08, within the 28 grace days the
objective aims for, but 66 days after the deadline.  OPTIJD's deadline is 2022-05-01.
"""

from __future__ import annotations

from datetime import date

from matcher.domain.clocks import deadline_norm3, objective_target_date
from matcher.domain.eligibility import PairWarning
from matcher.domain.explain import explain
from matcher.domain.match import match
from matcher.domain.model import MeasureType
from matcher.domain.uitvraag import Snapshot, WaitingRecord, build_report
from matcher.domain.whatif import AddPlaces, RemoveChildren, apply, compare, what_if

from .conftest import scenario

START = date(2022, 3, 8)


def test_the_fixture_is_what_its_name_says():
    sc = scenario("overdue_child.json")
    laat = sc.child_by_ref["LAAT"]
    assert deadline_norm3(laat) == date(2022, 1, 1) < sc.evaluation_date
    assert objective_target_date(sc, laat) == date(2022, 3, 29)  # the grace target


def test_overdue_child_placed_within_grace_is_not_within_norm():
    sc = scenario("overdue_child.json")
    r = match(sc)
    laat, optijd = r.placements[("LAAT", "hulp")], r.placements[("OPTIJD", "hulp")]
    assert laat.start == optijd.start == START
    # the objective still counts LAAT as meeting its target
    assert all(info.meets_target for info in r.compiled.arcs)
    assert not laat.within_norm
    assert laat.days_late == (START - date(2022, 1, 1)).days == 66
    assert PairWarning.LATE in laat.warnings
    assert optijd.within_norm
    assert optijd.days_late == 0
    assert PairWarning.LATE not in optijd.warnings
    assert r.n_within_norm == 1
    assert r.n_meets_target == 2  # the objective's tier 1 still counts both
    assert r.summary()["within_norm"] == 1
    assert laat.to_json()["within_norm"] is False
    assert laat.to_json()["days_late"] == 66
    assert optijd.to_json()["days_late"] == 0


def test_compare_counts_only_starts_before_the_deadline():
    sc = scenario("overdue_child.json")
    empty = apply(sc, AddPlaces("GGZ-1", -2))
    w = what_if(empty, [AddPlaces("GGZ-1", 2)])
    c = w.comparison
    assert (c.within_norm_before, c.within_norm_after) == (0, 1)
    assert c.by_gemeente == {"GM0599": (0, 1)}
    assert c.by_care_type == {"AMBULANTE_JGGZ": (0, 1)}
    assert compare(w.base, w.result).to_json()["within_norm"] == {"before": 0, "after": 1}


def test_explain_does_not_call_the_overdue_child_within_norm():
    sc = apply(scenario("overdue_child.json"), AddPlaces("GGZ-1", -2))
    r = match(sc)
    ex = explain(r)
    late_change = next(ne for ne in ex.needs if ne.child_ref == "LAAT").smallest_change
    assert late_change is not None
    assert late_change.placed_at == "GGZ-1"
    assert late_change.within_norm is False
    alone = match(apply(sc, RemoveChildren(("LAAT",))))
    on_time_change = explain(alone).needs[0].smallest_change
    assert on_time_change is not None
    assert on_time_change.within_norm is True


def test_uitvraag_marks_the_overdue_child_late_with_days_late():
    rec = {
        "gi": "JBRR",
        "gemeente": "GM0599",
        "measure": MeasureType.OTS,
        "care_types": (),
    }
    snap = Snapshot(
        count_date=date(2022, 3, 1),
        region="JZ29",
        records=(
            WaitingRecord("r1", "LAAT", ruling_date=date(2021, 10, 1), **rec),
            WaitingRecord("r2", "OPTIJD", ruling_date=date(2022, 2, 1), **rec),
        ),
    )
    rows = {row["child_ref"]: row for row in build_report(snap).rows}
    assert rows["LAAT"]["norm_status"] == "LATE"
    assert rows["LAAT"]["days_late"] == 59
    assert rows["OPTIJD"]["norm_status"] == "PENDING"
    assert rows["OPTIJD"]["days_late"] == 0
    assert build_report(snap).by_gemeente["GM0599"]["norm_status"] == {"LATE": 1, "PENDING": 1}
