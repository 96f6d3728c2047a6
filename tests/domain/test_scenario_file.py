from __future__ import annotations

import json

import pytest

from matcher.domain.scenario_file import ScenarioValidationError, dumps, from_dict, load, loads
from matcher.domain.synth import generate

from .conftest import FIXTURES


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("t[1-7]*.json")))
def test_fixtures_round_trip(path):
    sc = load(path)
    assert loads(dumps(sc)) == sc


def test_synthetic_round_trip():
    sc = generate(60, 30, seed=5)
    assert loads(dumps(sc)) == sc


def _doc(**over):
    doc = json.loads((FIXTURES / "t2_traumatherapie.json").read_text(encoding="utf-8"))
    doc.update(over)
    return doc


def test_every_problem_is_reported_at_once():
    doc = _doc()
    doc["version"] = 2
    doc["children"][0]["age_years"] = "nine"
    doc["children"][0]["needs"][0]["care_type"] = "MAGIC"
    doc["offerings"][0]["free_now"] = -1  # semantic, reported after the structural ones
    doc["offerings"][1]["unknown"] = 1
    del doc["offerings"][1]["region"]
    with pytest.raises(ScenarioValidationError) as exc:
        from_dict(doc)
    where = {i.where for i in exc.value.issues}
    assert "$.version" in where
    assert "$.children[0].age_years" in where
    assert "$.children[0].needs[0].care_type" in where
    assert "$.offerings[1].unknown" in where
    assert "$.offerings[1].region" in where


def test_semantic_problems_all_at_once():
    doc = _doc()
    doc["offerings"][0]["free_now"] = -1
    doc["offerings"][1]["age_min"] = 30
    doc["children"].append(dict(doc["children"][0]))
    doc["children"][0]["needs"][0]["current_offering"] = "NOPE"
    doc["bundles"] = [{"id": "F", "members": [{"child": "GHOST", "need": "x"}]}]
    doc["policy"] = {"weights": {"home": 1}}
    with pytest.raises(ScenarioValidationError) as exc:
        from_dict(doc)
    msgs = [str(i) for i in exc.value.issues]
    assert any("free_now" in m for m in msgs)
    assert any("age_min" in m for m in msgs)
    assert any("twee keer" in m for m in msgs)  # duplicate child ref
    assert any("NOPE" in m for m in msgs)
    assert any("GHOST" in m for m in msgs)
    assert any("weights" in m for m in msgs)


def test_bad_json_text():
    with pytest.raises(ScenarioValidationError) as exc:
        loads("{not json")
    assert "JSON" in str(exc.value)


def test_schema_file_is_valid_json_and_lists_the_top_level_fields():
    from pathlib import Path

    schema = json.loads(
        (Path(__file__).resolve().parents[2] / "docs" / "scenario.schema.json").read_text()
    )
    assert schema["properties"]["format"]["const"] == "beschikbaarheidswijzer-scenario"
    for key in ("children", "offerings", "contracts", "budgets", "policy", "bundles"):
        assert key in schema["properties"]


def test_schema_file_matches_the_model():
    from pathlib import Path

    from matcher.domain.schema import json_schema

    path = Path(__file__).resolve().parents[2] / "docs" / "scenario.schema.json"
    assert json.loads(path.read_text(encoding="utf-8")) == json_schema()


def test_fixtures_validate_against_the_schema():
    jsonschema = pytest.importorskip("jsonschema")
    from matcher.domain.schema import json_schema

    schema = json_schema()
    for path in sorted(FIXTURES.glob("t[1-7]*.json")):
        jsonschema.validate(json.loads(path.read_text(encoding="utf-8")), schema)
