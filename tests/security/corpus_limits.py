"""Corpus cases for the limits: numbers no person means, parser limits, damaged files."""

from __future__ import annotations

import json
from typing import Any

from tests.security import bad_files
from tests.security.corpus_rows import (
    KID,
    KIDS_HEADER,
    Case,
    kid,
    kids,
    offer,
    offers,
    xlsx,
)

INT_COLUMNS = (
    "plaatsen_vrij",
    "leeftijd_min",
    "leeftijd_max",
    "intake_dagen",
    "verwachte_wachttijd_dagen",
)
KID_RECORD = dict(zip(KIDS_HEADER.split(","), KID.split(","), strict=True))


def _json(doc: object) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def _at(code: str, file: str, row: int | None = None, column: str | None = None) -> dict[str, Any]:
    expect: dict[str, Any] = {"code": code, "file": file}
    if row is not None:
        expect["row"] = row
    if column is not None:
        expect["column"] = column
    return expect


def limit_cases() -> dict[str, Case]:
    """Numbers no person means, parser limits, and damaged files of every format."""
    c: dict[str, Case] = {}
    for col in INT_COLUMNS:
        for tag, value, what in (
            ("superscript", "²", "a superscript digit"),
            ("arabic_digits", "٣", "an Arabic-Indic digit"),
            ("5000_digits", "9" * 5000, "5,000 digits"),
        ):
            c[f"{tag}_{col}"] = (
                {"aanbod.csv": offers(offer(**{col: value}))},
                _at("GETAL", "aanbod.csv", 2, col),
                f"{what} in {col}",
            )
    for tag, col, value in (
        ("exponent_places", "plaatsen_vrij", "1e3"),
        ("hex_places", "plaatsen_vrij", "0x10"),
        ("nan_text_places", "plaatsen_vrij", "NaN"),
        ("infinity_text_places", "plaatsen_vrij", "Infinity"),
        ("nan_price", "prijs_per_plaatsing", "NaN"),
        ("exponent_price", "prijs_per_plaatsing", "1e400"),
        ("superscript_price", "prijs_per_plaatsing", "³"),
        ("5000_digits_price", "prijs_per_plaatsing", "1" * 5000),
        ("nan_release", "vrijkomend_per_week", "nan"),
        ("inf_release", "vrijkomend_per_week", "inf"),
    ):
        c[tag] = (
            {"aanbod.csv": offers(offer(**{col: value}))},
            _at("GETAL", "aanbod.csv", 2, col),
            f"'{value[:12]}' in {col}",
        )
    c["negative_age"] = (
        {"aanbod.csv": offers(offer(leeftijd_min="-1"))},
        _at("BEREIK", "aanbod.csv", 2, "leeftijd_min"),
        "a negative age",
    )
    c["superscript_month"] = (
        {"kinderen.csv": kids(kid(geboortemaand="²⁰¹⁴-03"))},
        _at("MAAND", "kinderen.csv", 2, "geboortemaand"),
        "a birth month in superscript digits",
    )
    c["arabic_date"] = (
        {"kinderen.csv": kids(kid(uitspraakdatum="٢٠٢٦-٠٨-١٢"))},
        _at("DATUM", "kinderen.csv", 2, "uitspraakdatum"),
        "a date in Arabic-Indic digits",
    )
    c["dde_in_ref"] = (
        {"kinderen.csv": kids(kid(gezin_ref="+cmd|' /C calc'!A0"))},
        _at("CODE", "kinderen.csv", 2, "gezin_ref"),
        "a DDE payload where a family ref belongs",
    )
    c["at_formula_in_ref"] = (
        {"kinderen.csv": kids(kid(kind_ref="@SUM(1+1)"))},
        _at("CODE", "kinderen.csv", 2, "kind_ref"),
        "an @-formula as a child's ref",
    )
    c["bom_only"] = (
        {"kinderen.csv": "\ufeff".encode()},
        _at("LEEG", "kinderen.csv"),
        "a CSV with only a byte order mark",
    )
    c["csv_field_too_large"] = (
        {"kinderen.csv": kids(kid(gezin_ref='"' + "x" * 200_000 + '"'))},
        _at("ONGELDIG", "kinderen.csv", 2),
        "a CSV cell over the csv module's 128 kB field limit",
    )
    c["csv_too_many_columns"] = (
        {"kinderen.csv": kids(KID + "," * 300)},
        _at("TE_GROOT", "kinderen.csv", 2),
        "a CSV row with 300 cells",
    )
    # JSON
    c.update(
        {
            "json_nested_10000": (
                {"data.json": bad_files.deep_json(10_000)},
                _at("TE_DIEP", "data.json"),
                "JSON nested 10,000 deep (would overflow the parser's stack)",
            ),
            "json_nested_30": (
                {"data.json": bad_files.deep_json(30)},
                _at("TE_DIEP", "data.json"),
                "JSON nested deeper than the format allows",
            ),
            "json_nan": (
                {"data.json": b'{"kinderen": [{"kind_ref": "K-1", "geboortemaand": NaN}]}'},
                _at("GETAL", "data.json"),
                "NaN as a JSON value",
            ),
            "json_infinity": (
                {"data.json": b'{"aanbod": [{"plaatsen_vrij": Infinity}]}'},
                _at("GETAL", "data.json"),
                "Infinity as a JSON value",
            ),
            "json_minus_infinity": (
                {"data.json": b'{"aanbod": [{"plaatsen_vrij": -Infinity}]}'},
                _at("GETAL", "data.json"),
                "-Infinity as a JSON value",
            ),
            "json_5000_digits": (
                {"data.json": b'{"aanbod": [{"plaatsen_vrij": ' + b"9" * 5000 + b"}]}"},
                _at("GETAL", "data.json"),
                "a 5,000-digit JSON number (Python refuses over 4,300 digits)",
            ),
            "json_float_overflow": (
                {"data.json": b'{"aanbod": [{"plaatsen_vrij": 1e999}]}'},
                _at("GETAL", "data.json"),
                "a JSON number that overflows to infinity",
            ),
            "json_nul_in_text": (
                {"data.json": _json({"kinderen": [KID_RECORD | {"gezin_ref": "G-1\u0000x"}]})},
                _at("CODERING", "data.json", 1, "gezin_ref"),
                "a NUL character inside a JSON string",
            ),
            "json_nul_in_ref": (
                {"data.json": _json({"kinderen": [KID_RECORD | {"kind_ref": "K-9\u0000"}]})},
                _at("CODERING", "data.json", 1, "kind_ref"),
                "a NUL character in a child's ref",
            ),
            "json_utf16": (
                {"data.json": json.dumps({"kinderen": [KID_RECORD]}).encode("utf-16")},
                _at("CODERING", "data.json"),
                "JSON saved as UTF-16",
            ),
            "json_table_not_list": (
                {"data.json": _json({"kinderen": {"kind_ref": "K-1"}})},
                _at("ONGELDIG", "data.json"),
                "a table that is an object, not a list of rows",
            ),
            "json_row_not_object": (
                {"data.json": _json({"kinderen": [KID_RECORD, "K-2"]})},
                _at("ONGELDIG", "data.json"),
                "a row that is text, not an object",
            ),
        }
    )
    # XLSX
    good = xlsx({"kinderen": [KIDS_HEADER.split(","), KID.split(",")]})
    sheet = "xl/worksheets/sheet1.xml"
    c.update(
        {
            "xlsx_truncated_workbook": (
                {"kinderen.xlsx": bad_files.truncate_member(good, "xl/workbook.xml")},
                _at("ONGELDIG", "kinderen.xlsx"),
                "an XLSX whose workbook XML is cut off",
            ),
            "xlsx_truncated_sheet": (
                {"kinderen.xlsx": bad_files.truncate_member(good, sheet)},
                _at("ONGELDIG", "kinderen.xlsx"),
                "an XLSX whose sheet XML is cut off",
            ),
            "xlsx_missing_workbook": (
                {"kinderen.xlsx": bad_files.replace_member(good, "xl/workbook.xml", None)},
                _at("ONGELDIG", "kinderen.xlsx"),
                "an XLSX without its workbook part",
            ),
            "xlsx_sheet_not_xml": (
                {"kinderen.xlsx": bad_files.replace_member(good, sheet, b"dit is geen xml")},
                _at("ONGELDIG", "kinderen.xlsx"),
                "an XLSX whose sheet is not XML",
            ),
            "xlsx_damaged_data": (
                {"kinderen.xlsx": bad_files.corrupt_member_data(good, sheet)},
                _at("ONGELDIG", "kinderen.xlsx"),
                "an XLSX with damaged compressed data",
            ),
            "xlsx_entity_expansion": (
                {"kinderen.xlsx": bad_files.replace_member(good, sheet, bad_files.BILLION_LAUGHS)},
                _at("ONGELDIG", "kinderen.xlsx"),
                "an XLSX sheet with an XML entity bomb",
            ),
            "xlsx_empty_zip": (
                {"kinderen.xlsx": b"PK\x05\x06" + bytes(18)},
                _at("ONGELDIG", "kinderen.xlsx"),
                "an empty zip named .xlsx",
            ),
            "xlsx_plain_text": (
                {"kinderen.xlsx": kids(KID).encode()},
                _at("ONGELDIG", "kinderen.xlsx"),
                "a CSV renamed to .xlsx",
            ),
            "xlsx_too_many_columns": (
                {
                    "kinderen.xlsx": xlsx(
                        {
                            "kinderen": [
                                KIDS_HEADER.split(","),
                                [*KID.split(","), *[None] * 240, "x"],
                            ]
                        }
                    )
                },
                _at("TE_GROOT", "kinderen.xlsx"),
                "an XLSX sheet 255 columns wide",
            ),
            "xlsx_formula_in_ref": (
                {
                    "kinderen.xlsx": xlsx(
                        {"kinderen": [KIDS_HEADER.split(","), ["=A1", *KID.split(",")[1:]]]}
                    )
                },
                _at("FORMULE", "kinderen.xlsx", 2, "kind_ref"),
                "a formula as a child's ref in Excel",
            ),
        }
    )
    return c


# Cases the test builds itself (too large to commit); see test_corpus._case_files.
GENERATED: dict[str, tuple[str, dict[str, Any]]] = {
    "oversize": (
        "a file over the 64 MB size limit (made by the test as a sparse file)",
        {"code": "TE_GROOT", "file": "kinderen.csv"},
    ),
    "xlsx_zip_bomb": (
        "a 1 MB XLSX that unpacks to 1 GiB (made by the test)",
        {"code": "TE_GROOT", "file": "aanbod.xlsx"},
    ),
}
