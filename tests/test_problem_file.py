"""JSON problem format v1 and the OR-Library GAP reader."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings

from matcher import AssignmentProblem, ProblemBuilder, ProblemValidationError, Sense
from matcher.problem_file import (
    problem_from_json_dict,
    problem_to_json_dict,
    read_orlib_gap,
    read_problem,
    write_problem,
)
from tests.test_solve_helpers import assert_same_problem, tiny_problems

GAP_DIR = Path(__file__).resolve().parent / "fixtures" / "gap"
SCHEMA = Path(__file__).resolve().parents[1] / "docs" / "problem.schema.json"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems(budgets=True))
def test_json_round_trip(p: AssignmentProblem) -> None:
    assert_same_problem(p, problem_from_json_dict(json.loads(json.dumps(problem_to_json_dict(p)))))


def test_write_and_read_file(tmp_path: Path) -> None:
    b = ProblemBuilder(sense=Sense.MINIMIZE, name="demo")
    b.item("a", must_assign=True)
    b.item("b", unassigned_penalty=7)
    b.resource("cap", 2)
    b.arc("a", "x", 3, {"cap": 1}, pinned=True)
    b.arc("b", "x", 4, {"cap": 1})
    b.arc("b", "y", 1, forbidden=True)
    p = b.build()
    f = tmp_path / "p.json"
    write_problem(p, f)
    q = read_problem(f)
    assert_same_problem(p, q)
    doc = json.loads(f.read_text())
    assert doc["format"] == "matcher-problem"
    assert doc["version"] == 1


def test_json_matches_schema(tmp_path: Path) -> None:
    schema = json.loads(SCHEMA.read_text())
    b = ProblemBuilder()
    b.item("a")
    b.resource("r", 1)
    b.arc("a", "x", 1, {"r": 1}, pinned=True)
    jsonschema.validate(problem_to_json_dict(b.build()), schema)


def test_reader_reports_every_problem_at_once() -> None:
    doc = {
        "format": "matcher-problem",
        "version": 1,
        "sense": "sideways",
        "items": [{"id": "a"}, {"id": "a"}, {"id": 5}],
        "resources": [{"id": "r", "capacity": -1}, {"id": "s", "capacity": "lots"}],
        "arcs": [
            {"item": "zz", "option": "x", "value": 1},
            {"item": "a", "option": "x", "value": 1.5, "uses": {"nope": 1}},
        ],
    }
    with pytest.raises(ProblemValidationError) as exc:
        problem_from_json_dict(doc)
    text = str(exc.value)
    for needle in (
        "$.sense",
        "$.items[2].id",
        "$.resources[1].capacity",
        "unknown item 'zz'",
        "$.arcs[1].value",
        "unknown resource 'nope'",
        "duplicate item id 'a'",
        "capacity -1 is negative",
    ):
        assert needle in text, needle


def test_reader_rejects_wrong_version_and_bad_json() -> None:
    with pytest.raises(ProblemValidationError, match="version"):
        problem_from_json_dict({"format": "matcher-problem", "version": 2})
    with pytest.raises(ProblemValidationError, match="not valid JSON"):
        read_problem(io.StringIO("{nope"))


def test_orlib_gap_reader_on_real_file() -> None:
    p = read_orlib_gap(GAP_DIR / "a05100.txt")
    text = (GAP_DIR / "a05100.txt").read_text().split()
    m, n = int(text[0]), int(text[1])
    assert (m, n) == (5, 100)
    assert p.n_items == 100
    assert p.n_options == 5
    assert p.n_arcs == 500
    assert p.sense is Sense.MINIMIZE
    assert bool(p.must_assign.all())
    assert p.item_ids[:3] == ("0", "1", "2")
    assert p.option_ids == ("0", "1", "2", "3", "4")
    # job 7 at agent 3: cost c[3][7], amount a[3][7]
    look = p.arc_lookup()
    a = look[(7, 3)]
    assert int(p.arc_value[a]) == int(text[2 + 3 * n + 7])
    assert p.arc_uses(a) == {"agent:3": int(text[2 + m * n + 3 * n + 7])}
    assert int(p.capacity[4]) == int(text[2 + 2 * m * n + 4])


def test_orlib_gap_reader_rejects_short_file() -> None:
    with pytest.raises(ProblemValidationError, match="expected"):
        read_orlib_gap(io.StringIO("2 3\n1 2 3\n"), name="short")
    with pytest.raises(ProblemValidationError, match="integers"):
        read_orlib_gap(io.StringIO("2 x\n"), name="bad")
