from __future__ import annotations

import json

from matcher.cli import main

from .conftest import FIXTURES

T1 = str(FIXTURES / "t1_zedenverleden.json")
T6 = str(FIXTURES / "t6_lvb_out_of_region.json")


def test_match_json_with_explanation(capsys):
    assert main(["match", T1, "--explain", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"]["placed"] == 0
    summaries = {(u["child"], u["need"]): u["summary"] for u in doc["explanation"]["unplaced"]}
    assert summaries[("A", "woon")] == "ALL_CANDIDATES_CONTRA_INDICATION"


def test_match_readable_table_in_dutch(capsys):
    assert main(["match", T6, "--explain"]) == 0
    out = capsys.readouterr().out
    assert "binnen de norm" in out
    assert "LVB-deskundigheid" in out


def test_whatif_json_and_table(tmp_path, capsys):
    d = tmp_path / "d.json"
    d.write_text(json.dumps([{"kind": "allow_out_of_region", "allowed": True}]))
    assert main(["whatif", T6, str(d), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["comparison"]["within_norm"] == {"before": 0, "after": 1}
    assert doc["comparison"]["moves"] == [
        {"child_ref": "E", "need_id": "wonen", "before": None, "after": "BR-BW"}
    ]
    assert main(["whatif", T6, str(d)]) == 0
    assert "Binnen de norm: 0 -> 1" in capsys.readouterr().out


def test_bad_input_reports_every_problem_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "format": "beschikbaarheidswijzer-scenario",
                "version": 1,
                "evaluation_date": "2021-13-01",
                "children": [{"ref": "X", "gemeente": "GM1", "needs": [], "colour": "red"}],
                "offerings": [{"id": "O", "provider": "P", "care_type": "NOPE", "region": "R"}],
            }
        )
    )
    assert main(["match", str(bad)]) == 2
    err = capsys.readouterr().err
    for fragment in ("evaluation_date", "colour", "region", "NOPE"):
        assert fragment in err
    d = tmp_path / "d.json"
    d.write_text(json.dumps({"kind": "add_places", "offering": "NOPE"}))
    assert main(["whatif", T6, str(d)]) == 2


OVERDUE = str(FIXTURES / "overdue_child.json")


def test_match_counts_within_the_norm_by_the_legal_deadline(capsys):
    assert main(["match", OVERDUE, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"]["within_norm"] == 1
    days = {p["child"]: (p["within_norm"], p["days_late"]) for p in doc["placements"]}
    assert days == {"LAAT": (False, 66), "OPTIJD": (True, 0)}
    assert main(["match", OVERDUE]) == 0
    out = capsys.readouterr().out
    assert "binnen de norm: 1" in out
    assert "dagen te laat" in out
    assert "LATE," not in out  # warnings are sentences, not codes


def test_a_pin_on_an_ineligible_pair_is_bad_input(tmp_path, capsys):
    d = tmp_path / "d.json"
    d.write_text(
        json.dumps({"kind": "pin", "child_ref": "E", "need_id": "wonen", "offering": "BR-BW"})
    )
    assert main(["whatif", T6, str(d)]) == 2
    assert "vastzetten kan niet" in capsys.readouterr().err
