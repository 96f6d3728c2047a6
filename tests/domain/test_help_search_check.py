"""The `--check` of benchmarks/help_search.py: which answers count as different."""

from __future__ import annotations

from typing import Any

from benchmarks.help_search import differences


def _row(need: str, changes: list[dict[str, Any]], note: str = "") -> dict[str, Any]:
    return {
        "child": need.split("/")[0],
        "need": need,
        "decisive": "NO_CAPACITY",
        "changes": changes,
        "out_of_time": False,
        "note": note,
    }


PLACES = {"deltas": [{"kind": "add_places", "offering": "O1", "places": 1}], "start": "2027-01-04"}
CEILING = {"deltas": [{"kind": "change_ceiling", "budget": "B1"}], "start": "2027-01-04"}


def test_the_same_smallest_change_is_the_same_answer_whatever_follows_it() -> None:
    assert differences([_row("K-1/1", [PLACES, CEILING])], [_row("K-1/1", [PLACES])]) == []


def test_another_smallest_change_or_start_differs() -> None:
    assert differences([_row("K-1/1", [PLACES])], [_row("K-1/1", [CEILING])])
    later = PLACES | {"start": "2027-02-01"}
    assert differences([_row("K-1/1", [PLACES])], [_row("K-1/1", [later])])


def test_nothing_found_compares_its_sentence_and_missing_needs_count() -> None:
    assert differences([_row("K-1/1", [], "a")], [_row("K-1/1", [], "b")])
    assert differences([_row("K-1/1", [], "a")], []) == ["K-1/1: only in the saved answers"]
    assert differences([], [_row("K-2/1", [], "a")]) == ["K-2/1: only in the run"]
