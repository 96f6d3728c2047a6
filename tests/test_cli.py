"""The CLI: `python -m matcher solve ...` in a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from matcher import ProblemBuilder, Sense
from matcher.cli import SUBCOMMANDS, build_parser
from matcher.problem_file import write_problem

ROOT = Path(__file__).resolve().parents[1]
GAP_DIR = ROOT / "tests" / "fixtures" / "gap"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "matcher", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def budget_problem(path: Path) -> Path:
    b = ProblemBuilder(name="cli-demo")
    for k in range(12):
        b.item(f"c{k}", unassigned_penalty=k % 3)
    b.resource("budget", 20)
    b.resource("place:x", 3)
    for k in range(12):
        b.arc(f"c{k}", "x", 10 + k, {"place:x": 1, "budget": 3 + k % 5})
        b.arc(f"c{k}", "y", 5 + (k * 7) % 11, {"budget": 2 + k % 4})
    f = path / "p.json"
    write_problem(b.build(), f)
    return f


def test_json_output_is_exactly_one_document_and_verified(tmp_path: Path) -> None:
    # the MIP route runs HiGHS, which prints to stdout unless silenced at the
    # file-descriptor level; the output must still parse as one document
    f = budget_problem(tmp_path)
    r = run("solve", str(f), "--time-limit", "5", "--json", "--verify", "--strategy", "mip")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)  # raises when there is anything else on stdout
    assert isinstance(doc, dict)
    for key in ("status", "objective", "best_bound", "gap", "wall_time_s", "assignments"):
        assert key in doc
    assert doc["verified"] is True
    assert doc["status"] in ("OPTIMAL", "FEASIBLE")
    assert all(set(a) == {"item", "option"} for a in doc["assignments"])


def test_orlib_gap_ids_are_indexes() -> None:
    r = run(
        "solve", "--format", "orlib-gap", str(GAP_DIR / "a05100.txt"),
        "--time-limit", "10", "--json", "--verify",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["verified"] is True
    assert doc["objective"] == 1698  # published optimum of a05100
    items = {a["item"] for a in doc["assignments"]}
    assert items == {str(j) for j in range(100)}
    assert {a["option"] for a in doc["assignments"]} <= {str(i) for i in range(5)}


def test_human_summary(tmp_path: Path) -> None:
    f = budget_problem(tmp_path)
    r = run("solve", str(f), "--time-limit", "3", "--verify")
    assert r.returncode == 0, r.stderr
    for word in ("status", "objective", "bound", "gap", "wall time", "verified   yes"):
        assert word in r.stdout


def test_invalid_file_exit_code_and_json(tmp_path: Path) -> None:
    f = tmp_path / "bad.json"
    f.write_text(json.dumps({"format": "matcher-problem", "version": 1, "items": [{"id": 3}]}))
    r = run("solve", str(f), "--json")
    assert r.returncode == 2
    doc = json.loads(r.stdout)
    assert doc["status"] == "MODEL_INVALID"
    assert any("$.items[0].id" in i for i in doc["issues"])
    r2 = run("solve", str(f))
    assert r2.returncode == 2
    assert "$.items[0].id" in r2.stderr


def test_infeasible_exit_code(tmp_path: Path) -> None:
    b = ProblemBuilder(sense=Sense.MINIMIZE)
    b.item("a", must_assign=True)
    b.item("b", must_assign=True)
    b.resource("r", 1)
    b.arc("a", "x", 1, {"r": 1})
    b.arc("b", "x", 1, {"r": 1})
    f = tmp_path / "inf.json"
    write_problem(b.build(), f)
    r = run("solve", str(f), "--json")
    assert r.returncode == 3
    assert json.loads(r.stdout)["status"] == "INFEASIBLE"


def test_warm_start_from_earlier_output(tmp_path: Path) -> None:
    f = budget_problem(tmp_path)
    first = run("solve", str(f), "--time-limit", "3", "--json")
    ws = tmp_path / "sol.json"
    ws.write_text(first.stdout)
    r = run("solve", str(f), "--time-limit", "0.2", "--json", "--verify", "--warm-start", str(ws))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["verified"] is True
    assert doc["objective"] >= json.loads(first.stdout)["objective"]


def test_parser_has_registry() -> None:
    assert SUBCOMMANDS[0] == "matcher.cli:add_solve_command"
    p = build_parser()
    args = p.parse_args(["solve", "x.json", "--gap", "0.01"])
    assert args.gap == pytest.approx(0.01)
    assert args.format == "json"
