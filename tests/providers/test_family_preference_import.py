"""A family's wish to stay on one provider's waiting list (fixture u2) as an import
column: file (CSV, XLSX, JSON) -> validation -> database -> scenario -> matching, and
back out through the export unchanged."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from matcher.domain.explain import explain
from matcher.domain.match import match
from matcher.domain.reasons import Reason
from matcher.domain.scenario_file import load
from providers.convert import scenario_from_db, to_scenario
from providers.errors import ImportRejected
from providers.io import export_tables, read_tables
from providers.store import Principal, import_files
from providers.store.dump import load_records
from providers.validate import validate

from .conftest import TODAY

SYSTEM = Principal.system("test")
U2 = Path(__file__).parents[1] / "fixtures" / "scenarios" / "u2_family_preference.json"
COLUMN = "gezinswens_aanbieder_id"


def _u2(wish: str | None = "X") -> dict[str, list[dict[str, Any]]]:
    """Fixture u2 in the import format: X is full, Y has a place, the family wants X."""

    def provider(ref: str, name: str) -> dict[str, Any]:
        return {"aanbieder_id": ref, "naam": name, "regio": "JZ31", "hoofdaannemer": False}

    def offering(ref: str, provider: str, free: int) -> dict[str, Any]:
        return {
            "aanbod_id": ref,
            "aanbieder_id": provider,
            "zorgvorm": "TRAUMATHERAPIE",
            "gemeente": "GM0590",
            "plaatsen_vrij": free,
            "vrijkomend_per_week": 0,
            "leeftijd_min": 4,
            "leeftijd_max": 18,
            "prijs_per_plaatsing": 300000,
            "bevestigd_door": f"planning {provider}",
            "bevestigd_op": TODAY,
        }

    def contract(ref: str, provider: str) -> dict[str, Any]:
        return {
            "contract_id": ref,
            "aanbieder_id": provider,
            "regio": "JZ31",
            "zorgvorm": "TRAUMATHERAPIE",
            "geldig_van": dt.date(TODAY.year, 1, 1),
            "geldig_tot": dt.date(TODAY.year + 1, 12, 31),
        }

    child = {
        "kind_ref": "K-U2",
        "gemeente": "GM0590",
        "geboortemaand": "2015-05",
        "gi": "INTERVENCE",
        "maatregel": "OTS",
        "uitspraakdatum": TODAY - dt.timedelta(days=28),
        "zorgvorm": "TRAUMATHERAPIE",
        COLUMN: wish,
    }
    return {
        "aanbieders": [
            provider("X", "Traumacentrum Rotterdam"),
            provider("Y", "Praktijk Maasoever"),
        ],
        "aanbod": [offering("X-TT", "X", 0), offering("Y-TT", "Y", 1)],
        "contracten": [contract("C-X", "X"), contract("C-Y", "Y")],
        "kinderen": [child],
    }


def _files(tmp_path: Path, fmt: str, data: dict[str, list[dict[str, Any]]]) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    dest = tmp_path / ("csv" if fmt == "csv" else f"data.{fmt}")
    export_tables(data, fmt, dest)
    return dest


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_u2_through_the_import_keeps_the_child_on_its_familys_waiting_list(
    sessions: sessionmaker[Session], tmp_path: Path, fmt: str
) -> None:
    import_files(sessions, SYSTEM, _files(tmp_path, fmt, _u2()), today=TODAY)
    with sessions() as s, s.begin():
        sc = scenario_from_db(s, SYSTEM, evaluation_date=TODAY, region_code="JZ31")
    (need,) = sc.child_by_ref["K-U2"].needs
    assert need.family_prefers_waitlist_at == "X"
    r = match(sc)
    assert r.unplaced == [("K-U2", need.id)]
    (ne,) = explain(r, search=False).needs
    assert ne.decisive is not None
    assert ne.decisive.reason is Reason.FAMILY_PREFERS_WAITLIST
    # the same outcome as the fixture itself
    fixture = match(load(U2))
    (fx,) = explain(fixture, search=False).needs
    assert fx.decisive is not None
    assert fx.decisive.code == ne.decisive.code


def test_without_the_wish_the_child_gets_the_free_place(tmp_path: Path) -> None:
    tables, problems = read_tables(_files(tmp_path, "csv", _u2(wish=None)))
    v = validate(tables, problems, today=TODAY)
    r = match(to_scenario(v.records, evaluation_date=TODAY, region_code="JZ31"))
    assert [p.offering for p in r.placements.values()] == ["Y-TT"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_export_then_import_is_the_identity(
    sessions: sessionmaker[Session], tmp_path: Path, fmt: str
) -> None:
    import_files(sessions, SYSTEM, _files(tmp_path / "in", fmt, _u2()), today=TODAY)
    with sessions() as s, s.begin():
        first = load_records(s, SYSTEM)
    assert [k[COLUMN] for k in first["kinderen"]] == ["X"]
    # (u2 has no budgets: an empty table has no columns to read back from JSON)
    out = {table: rows for table, rows in first.items() if rows}
    import_files(sessions, SYSTEM, _files(tmp_path / "out", fmt, out), today=TODAY)
    with sessions() as s, s.begin():
        again = load_records(s, SYSTEM)
    assert again == first


def test_a_provider_that_does_not_exist_is_named_with_file_row_and_column(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    with pytest.raises(ImportRejected) as exc:
        import_files(sessions, SYSTEM, _files(tmp_path, "csv", _u2(wish="Z")), today=TODAY)
    (p,) = exc.value.problems
    assert (p.file, p.row, p.column, p.code) == ("kinderen.csv", 2, COLUMN, "VERWIJZING")
    assert p.message.startswith("Aanbieder Z bestaat niet.")
    with sessions() as s, s.begin():
        assert load_records(s, SYSTEM, ("kinderen",))["kinderen"] == []
