"""DataFrames of every result, and exports written from them."""

from __future__ import annotations

import datetime as dt
import json

from matcher.domain.explain import explain
from matcher.domain.match import match
from matcher.domain.outcomes import matching_and_fcfs
from matcher.domain.uitvraag import build_report, snapshots_from_json
from matcher.domain.whatif import AddPlaces, what_if
from providers.io.export import frame_sheet
from services.frames import GROUP_COLUMNS, RUN_COLUMNS, to_frame
from services.matching import NeedRow, RunOutcome, RunSummary
from services.outcomes import group_outcomes
from tests.domain.conftest import FIXTURES, scenario
from tests.domain.test_outcomes import starving_list


def test_match_result_frame_has_a_row_per_need_and_the_totals_agree() -> None:
    result = match(scenario("u1_unclassified_batch.json"))
    frame = to_frame(result)
    s = result.summary()
    assert len(frame) == s["needs"]
    assert int(frame["binnen_norm"].sum()) == s["within_norm"]
    assert (frame["uitkomst"] == "geen plek").sum() == s["unplaced"]
    assert (frame["uitkomst"] == "nog niet bepaald").sum() == s["unclassified"]


def test_explanation_frame_lists_the_needs_without_a_place() -> None:
    result = match(scenario("u1_unclassified_batch.json"))
    frame = to_frame(explain(result, time_budget_s=1.0))
    assert sorted(zip(frame["kind"], frame["hulpvraag"], strict=True)) == sorted(result.unplaced)
    assert frame["reden"].str.len().min() > 0


def test_comparison_frame_has_before_after_and_difference() -> None:
    sc = starving_list()
    wi = what_if(sc, [AddPlaces("LVB", 2)])
    frame = to_frame(wi.comparison)
    assert set(frame["soort"]) == {"gemeente", "zorgvorm"}
    assert (frame["verschil"] == frame["binnen_norm_na"] - frame["binnen_norm_voor"]).all()
    per_gemeente = frame[frame["soort"] == "gemeente"]
    assert int(per_gemeente["binnen_norm_voor"].sum()) == wi.base.n_within_norm


def test_outcome_frames_match_the_rows() -> None:
    result = match(starving_list())
    ours, _ = matching_and_fcfs(result)
    frame = to_frame(ours)
    assert len(frame) == len(ours.rows)
    assert list(frame[frame["achterstand"]]["groep"]) == ["met LVB"]
    page = to_frame(group_outcomes(result))
    assert tuple(page.columns) == GROUP_COLUMNS
    lvb = page[page["groep"] == "met LVB"].iloc[0]
    assert bool(lvb["achterstand_matching"])
    assert not bool(lvb["achterstand_eerst"])


def test_uitvraag_frame_has_a_row_per_waiting_child() -> None:
    data = json.loads((FIXTURES / "t8_uitvraag.json").read_text(encoding="utf-8"))
    report = build_report(next(s for s in snapshots_from_json(data) if s.complete))
    frame = to_frame(report)
    assert list(frame["kind"]) == [r["child_ref"] for r in report.rows]
    assert all(isinstance(d, dt.date) for d in frame["deadline"])


def test_the_export_sheet_is_the_frame() -> None:
    """The besluitenlijst cells are the frame's, in the exports' spelling."""
    row = NeedRow(
        child_ref="K-1",
        need_id="n",
        care_type_label="pleegzorg",
        placed=True,
        provider="Hulp Zuid",
        location="Dordrecht",
        start=dt.date(2022, 3, 1),
        deadline=dt.date(2022, 5, 1),
        within_norm=True,
        norm="Binnen de norm",
    )
    summary = RunSummary(
        count_date=dt.date(2022, 3, 1),
        needs=1,
        placed=1,
        within_norm=1,
        placed_late=0,
        unplaced=0,
        solver_status="OPTIMAL",
        solver_status_text="",
        wall_time_s=0.0,
        strategy="flow",
    )
    columns, rows = frame_sheet(to_frame(RunOutcome(summary=summary, rows=[row])))
    assert tuple(columns) == RUN_COLUMNS
    assert rows == [
        [
            "K-1",
            "n",
            "pleegzorg",
            "geplaatst",
            "Hulp Zuid",
            "Dordrecht",
            "2022-03-01",
            "2022-05-01",
            "ja",
            "Binnen de norm",
            0,
            "",
            "",
        ]
    ]


def test_the_uitvraag_download_is_its_frame_in_words() -> None:
    from services.frames import REPORT_COLUMNS
    from services.uitvraag import ReportResult

    data = json.loads((FIXTURES / "t8_uitvraag.json").read_text(encoding="utf-8"))
    report = build_report(next(s for s in snapshots_from_json(data) if s.complete))
    frame = to_frame(ReportResult(region=report.region, report=report, flows=()))
    columns, rows = frame_sheet(frame)
    assert tuple(columns) == REPORT_COLUMNS
    assert len(rows) == len(report.rows)
    deadlines = [r[columns.index("deadline")] for r in rows]
    assert deadlines == sorted(deadlines)
    norm = columns.index("norm")
    assert all(r[norm] and not r[norm].isupper() for r in rows)
