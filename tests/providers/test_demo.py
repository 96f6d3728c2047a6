from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from providers import demo, reference
from providers.cli import main
from providers.io import read_tables
from providers.validate import validate

TODAY = dt.date(2025, 6, 2)


def test_same_seed_same_data_other_seed_other_data() -> None:
    a = demo.generate_region("JZ31", seed=7, n_children=50, today=TODAY)
    b = demo.generate_region("JZ31", seed=7, n_children=50, today=TODAY)
    c = demo.generate_region("JZ31", seed=8, n_children=50, today=TODAY)
    assert a == b
    assert a != c


@pytest.mark.parametrize("region", ["JZ31", "JZ24"])
def test_region_uses_its_real_gemeenten(region: str) -> None:
    d = demo.generate_region(region, seed=1, n_children=200, today=TODAY)
    members = set(reference.jeugdregios()[region].gemeente_codes)
    assert {k["gemeente"] for k in d["kinderen"]} <= members
    in_region = [o for o in d["aanbod"] if not o["werkgebied"]]
    assert {o["gemeente"] for o in in_region} <= members
    # one provider outside the region serves it as onderaannemer (T6/T7)
    outside = [o for o in d["aanbod"] if o["werkgebied"]]
    assert len(outside) == 1
    assert region in outside[0]["werkgebied"]


def test_two_regions_in_one_data_set() -> None:
    """The demo's two regions: the first as generate_region makes it, the second
    after it, ids unique over both, each region's children in its own gemeenten."""
    both = demo.generate_regions(("JZ31", "JZ24"), seed=1, n_children={"JZ24": 40}, today=TODAY)
    first = demo.generate_region("JZ31", seed=1, today=TODAY)
    for table, rows in first.items():
        assert both[table][: len(rows)] == rows, table
    gem = reference.gemeenten()
    regions = Counter(gem[k["gemeente"]].region_code for k in both["kinderen"])
    assert regions == {"JZ31": 23, "JZ24": 40}
    for table, key in (
        ("kinderen", "kind_ref"),
        ("aanbod", "aanbod_id"),
        ("budgetten", "budget_id"),
    ):
        ids = [r[key] for r in both[table]]
        assert len(ids) == len(set(ids)), table
    assert {b["regio"] for b in both["budgetten"]} == {"JZ31", "JZ24"}
    with pytest.raises(ValueError, match="different"):
        demo.generate_regions(("JZ31", "JZ31"))


def test_children_count_is_bounded() -> None:
    assert (
        len(demo.generate_region("JZ31", seed=1, today=TODAY)["kinderen"]) == 23
    )  # ZHZ 06-07-2021
    assert len(demo.generate_region("JZ24", seed=1, today=TODAY)["kinderen"]) == 35  # Haaglanden
    assert len(demo.generate_region("JZ31", seed=1, n_children=600, today=TODAY)["kinderen"]) == 600
    for n in (19, 601):
        with pytest.raises(ValueError, match="20 to 600"):
            demo.generate_region("JZ31", seed=1, n_children=n, today=TODAY)


def test_need_mix_follows_the_haaglanden_counts() -> None:
    d = demo.generate_region("JZ24", seed=1, n_children=600, today=TODAY)
    cts = reference.care_types()
    first = Counter(cts[k["zorgvorm"]].category for k in d["kinderen"] if not k["gezin_ref"])
    n = sum(first.values())
    # Haaglanden 1 Jan 2022: 16 verblijf and 17 ambulant of 35 (+2 unclassified)
    assert first["verblijf"] / n == pytest.approx(16 / 35, abs=0.07)
    assert first["ambulant"] / n == pytest.approx(17 / 35, abs=0.07)
    jggz = sum(1 for k in d["kinderen"] if k["zorgvorm"] == "AMBULANTE_JGGZ" and not k["gezin_ref"])
    assert jggz / n == pytest.approx(7 / 35, abs=0.05)


def test_waits_and_ceilings_follow_domain_figures() -> None:
    d = demo.generate_region("JZ31", seed=1, n_children=600, today=TODAY)
    trauma = [
        o["verwachte_wachttijd_dagen"]
        for o in d["aanbod"]
        if o["zorgvorm"] == "TRAUMATHERAPIE" and o["plaatsen_vrij"] == 0
    ]
    assert trauma
    assert min(trauma) >= 240  # waits of most of a year and more
    assert any(b["besteed"] == b["plafond"] for b in d["budgetten"])  # some ceilings reached
    overdue = sum(1 for k in d["kinderen"] if (TODAY - k["uitspraakdatum"]).days > 92)
    assert 0.45 < overdue / 600 < 0.75
    lvb = sum(1 for k in d["kinderen"] if "LVB" in k["kenmerken"])
    assert 0.12 < lvb / 600 < 0.28


def test_national_generator_sizes() -> None:
    d = demo.generate_national(5_000, 800, seed=2, today=TODAY)
    assert len(d["kinderen"]) == 5_000
    assert len(d["aanbod"]) == 800
    assert {k["gemeente"][:2] for k in d["kinderen"]} == {"GM"}
    regions = {reference.gemeenten()[k["gemeente"]].region_code for k in d["kinderen"]}
    assert len(regions) == 42
    with pytest.raises(ValueError, match="100k"):
        demo.generate_national(100_001, 10)


def test_cli_demo_writes_valid_import_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo"
    assert (
        main(["demo", "--region", "JZ31", "--seed", "1", "--out", str(out), "--date", "2025-06-02"])
        == 0
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "aanbieders.csv",
        "aanbod.csv",
        "budgetten.csv",
        "contracten.csv",
        "kinderen.csv",
    ]
    tables, problems = read_tables(out)
    v = validate(tables, problems, today=TODAY)
    assert v.count("kinderen") == 23
    assert "kinderen" in capsys.readouterr().out


def test_cli_import_reports_problems_and_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo"
    main(["demo", "--region", "JZ31", "--seed", "1", "--out", str(out)])
    (out / "kinderen.csv").write_text(
        (out / "kinderen.csv").read_text(encoding="utf-8").replace("K-000003", "Jan Jansen"),
        encoding="utf-8",
    )
    db = f"sqlite:///{tmp_path / 'x.db'}"
    assert main(["import", str(out), "--database-url", db]) == 1
    err = capsys.readouterr().err
    assert "kinderen.csv, blad kinderen, rij 4, kolom kind_ref" in err
    assert "naam" in err
