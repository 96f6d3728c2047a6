from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from providers import demo
from providers.io import (
    export_csv,
    export_tables,
    export_xlsx,
    read_tables,
    safe_cell,
    write_template,
)
from providers.schema import IMPORT_ORDER, TABLES
from providers.validate import validate

TODAY = dt.date(2025, 6, 2)


def test_template_has_frozen_headers_dropdowns_and_toelichting(tmp_path: Path) -> None:
    path = tmp_path / "sjabloon.xlsx"
    write_template(path)
    wb = load_workbook(path)
    assert wb.sheetnames[0] == "Toelichting"
    assert set(IMPORT_ORDER) <= set(wb.sheetnames)
    assert wb["Codes"].sheet_state == "hidden"
    for t in IMPORT_ORDER:
        ws = wb[t]
        assert ws.freeze_panes == "A2"
        assert [c.value for c in ws[1]] == list(TABLES[t].column_names)
    ws = wb["aanbod"]
    ranges = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in ws.data_validations.dataValidation}
    # zorgvorm (C) and gemeente (D) get lists from the Codes sheet; ja/nee inline
    assert ranges["C2"].startswith("Codes!")
    assert ranges["D2"].startswith("Codes!")
    assert ranges["I2"] == '"ja,nee"'
    codes = wb["Codes"]
    col = [c.value for c in codes[1]].index("gemeente") + 1
    gemeenten = [codes.cell(row=r, column=col).value for r in range(2, codes.max_row + 1)]
    assert len([g for g in gemeenten if g]) == 342
    text = " ".join(str(c.value) for row in wb["Toelichting"].iter_rows() for c in row if c.value)
    assert "GEZINSHUIS" in text
    assert "GM0505" in text
    assert "pseudoniem" in text.lower()


def test_an_empty_template_imports_as_empty_tables(tmp_path: Path) -> None:
    path = tmp_path / "sjabloon.xlsx"
    write_template(path)
    tables, problems = read_tables(path)
    assert problems == []
    v = validate(tables, problems, today=TODAY)
    assert all(v.count(t) == 0 for t in IMPORT_ORDER)


@pytest.mark.parametrize("value", ['=HYPERLINK("x")', "+31 10", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_safe_cell_neutralises_formula_starts(value: str) -> None:
    out = safe_cell(value)
    assert out == "'" + value
    assert safe_cell(-5) == -5
    assert safe_cell(3.5) == 3.5
    assert safe_cell("Kompas") == "Kompas"


def test_csv_export_is_injection_safe() -> None:
    buf = io.StringIO()
    export_csv(["naam", "aantal"], [["=cmd|' /C calc'!A0", -3]], buf)
    rows = list(csv.reader(io.StringIO(buf.getvalue())))
    assert rows[1] == ["'=cmd|' /C calc'!A0", "-3"]


def test_xlsx_export_writes_text_not_formulas(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    export_xlsx({"lijst": (["naam", "n"], [["=1+1", -2], ["@foo", 4]])}, path)
    ws = load_workbook(path)["lijst"]
    assert ws["A2"].value == "'=1+1"
    assert ws["A2"].data_type == "s"
    assert ws["B2"].value == -2
    assert ws["A3"].value == "'@foo"
    assert ws.freeze_panes == "A2"


@pytest.mark.parametrize(
    ("fmt", "dialect"), [("csv", "utf8"), ("csv", "excel-nl"), ("xlsx", "utf8"), ("json", "utf8")]
)
def test_round_trip_every_format(tmp_path: Path, fmt: str, dialect: str) -> None:
    data = demo.generate_region("JZ24", seed=3, n_children=40, today=TODAY)
    dest = tmp_path / ("out" if fmt == "csv" else f"out.{fmt}")
    export_tables(data, fmt, dest, dialect=dialect)
    tables, problems = read_tables(dest)
    v = validate(tables, problems, today=TODAY)
    for t in IMPORT_ORDER:
        assert v.records[t] == data[t], t


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_an_exported_empty_table_reads_back_as_empty(tmp_path: Path, fmt: str) -> None:
    # A region without budgets exports an empty budgetten table; reading that export
    # back must not fail on "missing columns" (JSON has no header row to read them from).
    data = dict(demo.generate_region("JZ24", seed=3, n_children=20, today=TODAY))
    data["budgetten"] = []
    dest = tmp_path / ("out" if fmt == "csv" else f"out.{fmt}")
    export_tables(data, fmt, dest)
    tables, problems = read_tables(dest)
    assert problems == []
    v = validate(tables, problems, today=TODAY)
    assert v.records["budgetten"] == []
    assert v.records["aanbod"] == data["aanbod"]


def test_excel_nl_csv_uses_semicolons_and_decimal_comma(tmp_path: Path) -> None:
    data = demo.generate_region("JZ31", seed=2, n_children=20, today=TODAY)
    export_tables(data, "csv", tmp_path, dialect="excel-nl")
    text = (tmp_path / "budgetten.csv").read_text(encoding="utf-8")
    header, first = text.splitlines()[:2]
    assert header.startswith("budget_id;niveau;regio")
    plafond = first.split(";")[header.split(";").index("plafond")]
    assert "," in plafond
    assert "." not in plafond


def test_json_export_is_valid_json_with_a_format_tag(tmp_path: Path) -> None:
    data = demo.generate_region("JZ31", seed=2, n_children=20, today=TODAY)
    export_tables(data, "json", tmp_path / "x.json")
    doc = json.loads((tmp_path / "x.json").read_text(encoding="utf-8"))
    assert doc["_format"] == "beschikbaarheidswijzer-import-1"
    assert len(doc["kinderen"]) == 20
