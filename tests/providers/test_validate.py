from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from providers.errors import ImportRejected, Problem
from providers.io import read_bytes, read_tables
from providers.validate import elfproef, looks_like_bsn, looks_like_name, validate

TODAY = dt.date(2025, 6, 2)

AANBIEDERS = (
    "aanbieder_id,naam,regio,hoofdaannemer,accepteert_onderaannemers\n"
    "A1,Kompas Dordrecht,JZ31,ja,A2\n"
    "A2,Zonnehof Gorinchem,JZ31,nee,\n"
)
AANBOD_HEADER = (
    "aanbod_id,aanbieder_id,zorgvorm,gemeente,plaatsen_vrij,vrijkomend_per_week,leeftijd_min,leeftijd_max,"
    "lvb_expertise,contra_indicaties,opnamestop,prijs_per_plaatsing,intake_dagen,verwachte_wachttijd_dagen,"
    "werkgebied,bevestigd_door,bevestigd_op\n"
)
KIND_HEADER = (
    "kind_ref,gemeente,geboortemaand,gi,maatregel,uitspraakdatum,gi_in_kennis_datum,urgente_deadline,"
    "zorgvorm,zorgvorm_2,zorgvorm_3,kenmerken,gezin_ref,huidig_aanbod_id\n"
)


def _check(files: dict[str, str | bytes], **kw: object):  # type: ignore[no-untyped-def]
    tables, problems = [], []
    for name, text in files.items():
        t, p = read_bytes(name, text.encode("utf-8") if isinstance(text, str) else text)
        tables += t
        problems += p
    return validate(tables, problems, today=TODAY, **kw)  # type: ignore[arg-type]


def _problems(files: dict[str, str | bytes], **kw: object) -> list[Problem]:
    with pytest.raises(ImportRejected) as exc:
        _check(files, **kw)
    return list(exc.value.problems)


def test_elfproef() -> None:
    assert elfproef("111222333")
    assert elfproef("123456782")
    assert not elfproef("123456789")
    assert not elfproef("000000000")
    assert not elfproef("12345678")


def test_bsn_like_values_are_recognised_also_without_leading_zero_or_with_dots() -> None:
    assert looks_like_bsn("111222333")
    assert looks_like_bsn("111.222.333")
    assert looks_like_bsn("bsn 111 222 333")
    # 8 digits: Excel stored 012345672 as a number and dropped the zero
    assert elfproef("012345672")
    assert looks_like_bsn("12345672")
    assert not looks_like_bsn("123456789")
    assert not looks_like_bsn("2024-11-20")
    assert not looks_like_bsn("K-000123")


def test_names_are_recognised() -> None:
    assert looks_like_name("Jan Jansen")
    assert looks_like_name("Fatima el Amrani")
    assert looks_like_name("Anne-Marie van der Berg")
    assert not looks_like_name("K-00012")
    assert not looks_like_name("GEZINSHUIS")
    assert not looks_like_name("Dordrecht")


def test_demo_files_validate(demo_dir: Path) -> None:
    tables, problems = read_tables(demo_dir)
    v = validate(tables, problems, today=dt.date(2025, 6, 2))
    assert v.count("kinderen") == 60
    assert v.count("aanbod") > 10


def test_every_problem_is_reported_at_once_with_file_sheet_row_column() -> None:
    aanbod = AANBOD_HEADER + (
        # row 2: negative places
        "O1,A1,GEZINSHUIS,GM0505,-1,0,0,18,nee,,nee,1000,14,30,,planning,2025-05-01\n"
        "O2,A9,HONDENOPVANG,GM9999,2,0,0,18,misschien,,nee,12.3.4,14,30,,planning,2025-02-30\n"
        "O1,A2,PLEEGZORG,GM0505,1,0,12,4,nee,,nee,1000,14,30,,planning,2031-01-01\n"
    )
    problems = _problems({"aanbieders.csv": AANBIEDERS, "aanbod.csv": aanbod})
    where = {(p.file, p.row, p.column, p.code) for p in problems}
    assert ("aanbod.csv", 2, "plaatsen_vrij", "BEREIK") in where
    assert ("aanbod.csv", 3, "zorgvorm", "ONBEKENDE_CODE") in where
    assert ("aanbod.csv", 3, "gemeente", "ONBEKENDE_CODE") in where
    assert ("aanbod.csv", 3, "lvb_expertise", "JA_NEE") in where
    assert ("aanbod.csv", 3, "prijs_per_plaatsing", "GETAL") in where
    assert ("aanbod.csv", 3, "bevestigd_op", "DATUM") in where  # 30 February
    assert ("aanbod.csv", 3, "aanbieder_id", "VERWIJZING") in where
    assert ("aanbod.csv", 4, "aanbod_id", "DUBBEL") in where
    assert ("aanbod.csv", 4, "leeftijd_max", "BEREIK") in where
    assert ("aanbod.csv", 4, "bevestigd_op", "DATUM") in where  # in the future
    assert all(p.sheet == "aanbod" for p in problems)
    msgs = " | ".join(p.message for p in problems)
    assert "bestaat niet" in msgs
    assert "toekomst" in msgs
    assert "staat ook al in rij 2" in msgs


def test_missing_and_unknown_columns() -> None:
    problems = _problems({"aanbieders.csv": "aanbieder_id,naam,kleur\nA1,Kompas,blauw\n"})
    msgs = {(p.column, p.code) for p in problems}
    assert ("regio", "KOLOM") in msgs  # required column missing
    assert ("kleur", "KOLOM") in msgs  # unknown column


def test_unknown_table_file_and_unsupported_format() -> None:
    assert _problems({"klanten.csv": "a,b\n1,2\n"})[0].code == "ONBEKENDE_TABEL"
    assert "Alleen .csv" in _problems({"aanbod.txt": "x"})[0].message


def test_not_utf8_is_refused_with_a_hint() -> None:
    data = ("aanbieder_id;naam;regio\nA1;Zorg Één;JZ31\n").encode("cp1252")
    p = _problems({"aanbieders.csv": data})
    assert p[0].code == "CODERING"
    assert "CSV UTF-8" in p[0].message


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "aanbod.csv"
    big.write_bytes(b"x" * 2048)
    tables, problems = read_tables([big], max_bytes=1024)
    assert tables == []
    assert problems[0].code == "TE_GROOT"


def test_dutch_excel_csv_with_semicolons_and_decimal_comma() -> None:
    aanbod = AANBOD_HEADER.replace(",", ";") + (
        "O1;A1;GEZINSHUIS;GM0505;2;0,5;0;18;ja;ZEDENVERLEDEN,AGRESSIE;nee;€ 1.234,56;"
        "14;30;;planning;01-05-2025\n"
    )
    v = _check({"aanbieders.csv": AANBIEDERS, "aanbod.csv": aanbod})
    rec = v.records["aanbod"][0]
    assert rec["vrijkomend_per_week"] == 0.5
    assert rec["prijs_per_plaatsing"] == 123456  # cents
    assert rec["bevestigd_op"] == dt.date(2025, 5, 1)
    assert rec["contra_indicaties"] == ("ZEDENVERLEDEN", "AGRESSIE")
    assert rec["lvb_expertise"] is True


def test_codes_are_normalised() -> None:
    aanbod = AANBOD_HEADER + (
        "O1,A1,gezinshuis,0505,2,0,0,18,nee,zedenverleden,nee,1000,14,30,jz31,planning,2025-05-01\n"
        "O2,A1,Kleinschalige woonvoorziening,Dordrecht,2,0,0,18,nee,,nee,1000,14,30,,"
        "planning,2025-05-01\n"
    )
    v = _check({"aanbieders.csv": AANBIEDERS, "aanbod.csv": aanbod})
    r1, r2 = v.records["aanbod"]
    assert (r1["zorgvorm"], r1["gemeente"], r1["werkgebied"]) == ("GEZINSHUIS", "GM0505", ("JZ31",))
    assert (r2["zorgvorm"], r2["gemeente"]) == ("KLEINSCHALIGE_WOONVOORZIENING", "GM0505")


def test_formulas_are_refused() -> None:
    aanbod = (
        AANBOD_HEADER
        + "O1,A1,GEZINSHUIS,GM0505,=1+1,0,0,18,nee,,nee,1000,14,30,,planning,2025-05-01\n"
    )
    p = _problems({"aanbieders.csv": AANBIEDERS, "aanbod.csv": aanbod})
    assert [(x.row, x.column, x.code) for x in p] == [(2, "plaatsen_vrij", "FORMULE")]


def test_too_long_text_is_refused() -> None:
    aanbieders = "aanbieder_id,naam,regio\nA1," + "x" * 500 + ",JZ31\n"
    p = _problems({"aanbieders.csv": aanbieders})
    assert p[0].code == "TE_LANG"
    assert p[0].column == "naam"


@pytest.mark.parametrize(
    ("cell_column", "value", "code"),
    [
        ("kind_ref", "111222333", "BSN"),
        ("gezin_ref", "111.222.333", "BSN"),
        ("kind_ref", "Jan Jansen", "NAAM"),
        ("gezin_ref", "Fatima el Amrani", "NAAM"),
        ("kind_ref", "Pietje", "NAAM"),  # a ref without digits is not a pseudonym
        ("kenmerken", "3311 AB", "ADRES"),
        ("kind_ref", "12345672", "BSN"),  # Excel dropped the leading zero
    ],
)
def test_child_rows_refuse_bsn_name_and_address_like_values(
    cell_column: str, value: str, code: str
) -> None:
    row = {
        "kind_ref": "K-1",
        "gemeente": "GM0505",
        "geboortemaand": "2012-05",
        "gi": "INTERVENCE",
        "maatregel": "OTS",
        "uitspraakdatum": "2025-01-10",
        "zorgvorm": "GEZINSHUIS",
    }
    row[cell_column] = value
    header = KIND_HEADER.strip().split(",")
    line = ",".join(row.get(h, "") for h in header)
    p = _problems({"kinderen.csv": KIND_HEADER + line + "\n"})
    assert any(x.code == code and x.column == cell_column and x.row == 2 for x in p), p
    # the refused value itself never appears in the message
    assert all(value not in x.message for x in p if x.code in {"BSN", "ADRES"})


def test_child_rules() -> None:
    kinderen = KIND_HEADER + (
        "K-1,GM0505,2012-05,INTERVENCE,OTS,2025-01-10,,2024-12-01,GEZINSHUIS,GEZINSHUIS,,,,\n"
        "K-2,GM0505,2026-01,INTERVENCE,OTS,2025-01-10,,,GEZINSHUIS,,,,,O-onbekend\n"
        "K-3,GM0505,1990-01,XYZ,OTS,2025-01-10,,,GEZINSHUIS,,,VLIEGANGST,,\n"
    )
    p = _problems({"kinderen.csv": kinderen})
    got = {(x.row, x.column) for x in p}
    assert (2, "urgente_deadline") in got  # before the ruling
    assert (2, "zorgvorm_2") in got  # same care type twice
    assert (3, "geboortemaand") in got  # future
    assert (3, "huidig_aanbod_id") in got  # unknown offering
    assert (4, "gi") in got
    assert (4, "kenmerken") in got
    assert (4, "geboortemaand") in got  # older than 23 at the ruling


def test_references_may_point_at_keys_already_stored() -> None:
    aanbod = (
        AANBOD_HEADER
        + "O1,A7,GEZINSHUIS,GM0505,1,0,0,18,nee,,nee,1000,14,30,,planning,2025-05-01\n"
    )
    with pytest.raises(ImportRejected):
        _check({"aanbod.csv": aanbod})
    v = _check({"aanbod.csv": aanbod}, known_keys={"aanbieders": {"A7"}})
    assert v.count("aanbod") == 1


def test_json_input() -> None:
    doc = (
        '{"aanbieders": [{"aanbieder_id": "A1", "naam": "Kompas", "regio": "JZ31", '
        '"hoofdaannemer": true}],'
        ' "kleuren": []}'
    )
    p = _problems({"upload.json": doc})
    assert [x.message for x in p] == ["Onbekende tabel 'kleuren'."]
    v = _check({"upload.json": doc.replace(', "kleuren": []', "")})
    assert v.records["aanbieders"][0]["hoofdaannemer"] is True


def test_broken_xlsx_is_a_clear_error() -> None:
    p = _problems({"upload.xlsx": b"PK\x03\x04 not really a zip"})
    assert "geen geldig Excel-bestand" in p[0].message


def test_budget_level_rules() -> None:
    budgets = (
        "budget_id,niveau,regio,aanbieder_id,gemeente,perceel,zorgvormen,plafond,besteed,bevestigd_door,bevestigd_op\n"
        "B1,perceel,JZ31,,,,,1000,0,inkoop,2025-05-01\n"
        "B2,gemeente,JZ31,,,,,1000,0,inkoop,2025-05-01\n"
        'B3,regio,JZ31,,,,,"1,5",0,inkoop,2025-05-01\n'
    )
    p = _problems({"budgetten.csv": budgets})
    got = {(x.row, x.column) for x in p}
    assert {(2, "aanbieder_id"), (2, "perceel"), (3, "gemeente")} <= got
    assert (4, "plafond") not in got  # 1,5 is a valid amount (euro 1.50)


@pytest.mark.parametrize(
    ("text", "semicolon", "cents"),
    [
        ("1.234,56", True, 123456),
        ("1234,5", True, 123450),
        ("12.3.4", True, None),
        ("1.23,00", True, None),
        ("1,234.56", False, 123456),
        ("1234.5", False, 123450),
        ("12,34", False, 1234),  # a lone comma is a decimal comma
        ("1,2,3", False, None),
        ("abc", False, None),
    ],
)
def test_amounts_with_thousands_separators(text: str, semicolon: bool, cents: int | None) -> None:
    sep = ";" if semicolon else ","
    budgets = (
        sep.join(["budget_id", "niveau", "regio", "plafond", "bevestigd_door", "bevestigd_op"])
        + "\n"
        + sep.join(["B1", "regio", "JZ31", f'"{text}"', "inkoop", "2025-05-01"])
        + "\n"
    )
    if cents is None:
        p = _problems({"budgetten.csv": budgets})
        assert [(x.column, x.code) for x in p] == [("plafond", "GETAL")]
    else:
        assert _check({"budgetten.csv": budgets}).records["budgetten"][0]["plafond"] == cents


def test_xlsx_cells_typed_by_excel(tmp_path: Path) -> None:
    """Excel stores numbers, dates and numeric-looking codes as typed cells."""
    from openpyxl import load_workbook

    from providers.io import write_template

    path = tmp_path / "ingevuld.xlsx"
    write_template(path)
    wb = load_workbook(path)
    ws = wb["kinderen"]
    # a correct row with Excel types: gemeente typed as the number 505, dates as dates
    ws.append(
        [
            "K-1",
            505,
            dt.datetime(2012, 5, 1),
            "INTERVENCE",
            "OTS",
            dt.datetime(2025, 1, 10),
            None,
            None,
            "GEZINSHUIS",
        ]
    )
    # a BSN typed as a number (the leading zero is gone) and a name in gezin_ref
    ws.append(
        [
            12345672,
            "GM0505",
            "2012-05",
            "INTERVENCE",
            "OTS",
            "10-01-2025",
            None,
            None,
            "GEZINSHUIS",
            None,
            None,
            None,
            "Jan de Vries",
        ]
    )
    wb.save(path)
    tables, problems = read_tables(path)
    with pytest.raises(ImportRejected) as exc:
        validate(tables, problems, today=TODAY)
    got = {(p.sheet, p.row, p.column, p.code) for p in exc.value.problems}
    assert got == {("kinderen", 3, "kind_ref", "BSN"), ("kinderen", 3, "gezin_ref", "NAAM")}
    # without the bad row the typed row reads correctly
    wb = load_workbook(path)
    wb["kinderen"].delete_rows(3)
    wb.save(path)
    v = validate(*read_tables(path), today=TODAY)
    rec = v.records["kinderen"][0]
    assert (rec["gemeente"], rec["geboortemaand"], rec["uitspraakdatum"]) == (
        "GM0505",
        "2012-05",
        dt.date(2025, 1, 10),
    )
