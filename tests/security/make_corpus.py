"""Writes the corpus of broken import files (tests/security/corpus/).

    .venv/bin/python -m tests.security.make_corpus

Each case is a folder with the file(s) a user might upload and an entry in
``corpus/manifest.json`` saying which problem the import must report (code,
file, row, column). The files are committed; this script documents how they
were made and can write them again. One case, a file over the size limit, is
made by the test itself (a sparse file), so 64 MB never lands in git.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tests.security.corpus_limits import GENERATED, limit_cases
from tests.security.corpus_rows import (
    CONTRACT_HEADER,
    KID,
    KID2,
    KIDS_HEADER,
    OFFER,
    OFFER_HEADER,
    PROVIDER_HEADER,
    Case,
    kid,
    kids,
    offer,
    offers,
    xlsx,
)

__all__ = ["KID", "KID2", "OFFER", "cases", "kids", "offers"]

CORPUS = Path(__file__).parent / "corpus"


def cases() -> dict[str, Case]:
    long_ref = "K-" + "x" * 300 + "1"
    c: dict[str, Case] = {
        "encoding_latin1": (
            {"kinderen.csv": kids(kid(kenmerken="LVB"), kid(kind_ref="K-9é")).encode("latin-1")},
            {"code": "CODERING", "file": "kinderen.csv"},
            "wrong encoding (Latin-1 instead of UTF-8)",
        ),
        "encoding_utf16": (
            {"kinderen.csv": kids(kid()).encode("utf-16")},
            {"code": "CODERING", "file": "kinderen.csv"},
            "wrong encoding (UTF-16 as written by some Excel versions)",
        ),
        "binary_nul": (
            {"kinderen.csv": kids(kid()).encode() + b"\x00\x00"},
            {"code": "CODERING", "file": "kinderen.csv"},
            "binary bytes in a CSV",
        ),
        "empty_file": (
            {"kinderen.csv": b""},
            {"code": "LEEG", "file": "kinderen.csv"},
            "an empty file",
        ),
        "missing_column": (
            {
                "kinderen.csv": kids(
                    "K-900001,2014-03,WSS,OTS,2026-08-12,,,PLEEGZORG,,,,,",
                    header=KIDS_HEADER.replace("gemeente,", "", 1),
                )
            },
            {"code": "KOLOM", "file": "kinderen.csv", "row": 1, "column": "gemeente"},
            "a required column is missing",
        ),
        "extra_column": (
            {"kinderen.csv": kids(KID + ",x", header=KIDS_HEADER + ",opmerking")},
            {"code": "KOLOM", "file": "kinderen.csv", "row": 1, "column": "opmerking"},
            "an unknown extra column",
        ),
        "extra_cells": (
            {"kinderen.csv": kids(KID, KID2 + ",teveel")},
            {"code": "KOLOM", "file": "kinderen.csv", "row": 3},
            "a row with more cells than columns",
        ),
        "duplicate_column": (
            {"kinderen.csv": kids(KID + ",WSS", header=KIDS_HEADER + ",gi")},
            {"code": "KOLOM", "file": "kinderen.csv", "row": 1, "column": "gi"},
            "the same column twice",
        ),
        "unknown_care_type": (
            {"kinderen.csv": kids(kid(zorgvorm="ZWEMLES"))},
            {"code": "ONBEKENDE_CODE", "file": "kinderen.csv", "row": 2, "column": "zorgvorm"},
            "an unknown care type code",
        ),
        "unknown_gemeente": (
            {"kinderen.csv": kids(kid(gemeente="GM9999"))},
            {"code": "ONBEKENDE_CODE", "file": "kinderen.csv", "row": 2, "column": "gemeente"},
            "an unknown gemeente code",
        ),
        "unknown_gi": (
            {"kinderen.csv": kids(kid(gi="GEEN_GI"))},
            {"code": "ONBEKENDE_CODE", "file": "kinderen.csv", "row": 2, "column": "gi"},
            "an unknown gecertificeerde instelling",
        ),
        "unknown_attribute": (
            {"kinderen.csv": kids(kid(kenmerken="LVB,VLIEGANGST"))},
            {"code": "ONBEKENDE_CODE", "file": "kinderen.csv", "row": 2, "column": "kenmerken"},
            "an unknown code inside a list of codes",
        ),
        "impossible_date": (
            {"kinderen.csv": kids(kid(uitspraakdatum="2026-02-30"))},
            {"code": "DATUM", "file": "kinderen.csv", "row": 2, "column": "uitspraakdatum"},
            "a date that does not exist (30 February)",
        ),
        "not_a_date": (
            {"kinderen.csv": kids(kid(uitspraakdatum="gisteren"))},
            {"code": "DATUM", "file": "kinderen.csv", "row": 2, "column": "uitspraakdatum"},
            "text where a date belongs",
        ),
        "future_ruling": (
            {"kinderen.csv": kids(kid(uitspraakdatum="2030-01-01"))},
            {"code": "DATUM", "file": "kinderen.csv", "row": 2, "column": "uitspraakdatum"},
            "a ruling date in the future",
        ),
        "month_13": (
            {"kinderen.csv": kids(kid(geboortemaand="2014-13"))},
            {"code": "MAAND", "file": "kinderen.csv", "row": 2, "column": "geboortemaand"},
            "a birth month that does not exist",
        ),
        "deadline_before_ruling": (
            {"kinderen.csv": kids(kid(urgente_deadline="2026-01-01"))},
            {"code": "DATUM", "file": "kinderen.csv", "row": 2, "column": "urgente_deadline"},
            "an urgent deadline before the ruling",
        ),
        "required_empty": (
            {"kinderen.csv": kids(kid(kind_ref=""))},
            {"code": "VERPLICHT", "file": "kinderen.csv", "row": 2, "column": "kind_ref"},
            "a required cell left empty",
        ),
        "duplicate_child_ref": (
            {"kinderen.csv": kids(KID, KID2, KID)},
            {"code": "DUBBEL", "file": "kinderen.csv", "row": 4, "column": "kind_ref"},
            "the same child twice (duplicate id)",
        ),
        "duplicate_offering_id": (
            {"aanbod.csv": offers(OFFER, offer(plaatsen_vrij="3"))},
            {"code": "DUBBEL", "file": "aanbod.csv", "row": 3, "column": "aanbod_id"},
            "the same offering twice (duplicate id)",
        ),
        "negative_places": (
            {"aanbod.csv": offers(offer(plaatsen_vrij="-1"))},
            {"code": "BEREIK", "file": "aanbod.csv", "row": 2, "column": "plaatsen_vrij"},
            "negative free places",
        ),
        "fractional_places": (
            {"aanbod.csv": offers(offer(plaatsen_vrij="1.5"))},
            {"code": "GETAL", "file": "aanbod.csv", "row": 2, "column": "plaatsen_vrij"},
            "half a place",
        ),
        "huge_places": (
            {"aanbod.csv": offers(offer(plaatsen_vrij="99999999999999999999"))},
            {"code": "BEREIK", "file": "aanbod.csv", "row": 2, "column": "plaatsen_vrij"},
            "a number far over the maximum (no integer overflow)",
        ),
        "age_range_inverted": (
            {"aanbod.csv": offers(offer(leeftijd_min="12", leeftijd_max="4"))},
            {"code": "BEREIK", "file": "aanbod.csv", "row": 2, "column": "leeftijd_max"},
            "youngest age above oldest age",
        ),
        "price_three_decimals": (
            {"aanbod.csv": offers(offer(prijs_per_plaatsing="10.005"))},
            {"code": "GETAL", "file": "aanbod.csv", "row": 2, "column": "prijs_per_plaatsing"},
            "an amount with three decimals",
        ),
        "not_yes_no": (
            {"aanbod.csv": offers(offer(opnamestop="misschien"))},
            {"code": "JA_NEE", "file": "aanbod.csv", "row": 2, "column": "opnamestop"},
            "a yes/no cell with another word",
        ),
        "unknown_provider": (
            {"aanbod.csv": offers(offer(aanbieder_id="P-BESTAAT-NIET"))},
            {"code": "VERWIJZING", "file": "aanbod.csv", "row": 2, "column": "aanbieder_id"},
            "a reference to a provider that does not exist",
        ),
        "contract_ends_before_start": (
            {
                "contracten.csv": CONTRACT_HEADER
                + "\nC-9001,P-HOOFD,JZ31,,PLEEGZORG,,2026-12-31,2026-01-01\n"
            },
            {"code": "DATUM", "file": "contracten.csv", "row": 2, "column": "geldig_tot"},
            "a contract that ends before it starts",
        ),
        "gemeente_outside_region": (
            {
                "contracten.csv": CONTRACT_HEADER
                + "\nC-9002,P-HOOFD,JZ31,GM0344,PLEEGZORG,,2026-01-01,2026-12-31\n"
            },
            {"code": "REGIO", "file": "contracten.csv", "row": 2, "column": "gemeente"},
            "a gemeente that is not in the contract's region",
        ),
        "formula_csv": (
            {"kinderen.csv": kids(kid(gezin_ref='=HYPERLINK("http://x.example","klik")'))},
            {"code": "FORMULE", "file": "kinderen.csv", "row": 2, "column": "gezin_ref"},
            "a spreadsheet formula in a cell (CSV)",
        ),
        "formula_xlsx": (
            {
                "aanbod.xlsx": xlsx(
                    {
                        "aanbod": [
                            OFFER_HEADER.split(","),
                            [*OFFER.split(",")[:4], "=1+1", *OFFER.split(",")[5:]],
                        ]
                    }
                )
            },
            {"code": "FORMULE", "file": "aanbod.xlsx", "row": 2, "column": "plaatsen_vrij"},
            "a real formula cell in an Excel file",
        ),
        "bsn_as_ref": (
            {"kinderen.csv": kids(kid(kind_ref="111222333"))},
            {"code": "BSN", "file": "kinderen.csv", "row": 2, "column": "kind_ref"},
            "a BSN (passes the elfproef) as the child's ref",
        ),
        "bsn_dotted": (
            {"kinderen.csv": kids(kid(gezin_ref="123.456.782"))},
            {"code": "BSN", "file": "kinderen.csv", "row": 2, "column": "gezin_ref"},
            "a BSN written with dots",
        ),
        "bsn_leading_zero_dropped": (
            {"kinderen.csv": kids(kid(gezin_ref="12345672"))},
            {"code": "BSN", "file": "kinderen.csv", "row": 2, "column": "gezin_ref"},
            "a BSN whose leading zero Excel dropped (8 digits)",
        ),
        "bsn_in_extra_column": (
            {"kinderen.csv": kids(KID + ",999999990", header=KIDS_HEADER + ",bsn")},
            {"code": "BSN", "file": "kinderen.csv", "row": 2, "column": "bsn"},
            "a BSN in a column the template does not have",
        ),
        "name_as_ref": (
            {"kinderen.csv": kids(kid(gezin_ref="Fatima el Amrani"))},
            {"code": "NAAM", "file": "kinderen.csv", "row": 2, "column": "gezin_ref"},
            "a person's name where a pseudonym belongs",
        ),
        "postcode": (
            {"kinderen.csv": kids(KID + ",3311 AB", header=KIDS_HEADER + ",adres")},
            {"code": "ADRES", "file": "kinderen.csv", "row": 2, "column": "adres"},
            "an address (postcode) in a child row",
        ),
        "very_long_ref": (
            {"kinderen.csv": kids(kid(kind_ref=long_ref))},
            {"code": "TE_LANG", "file": "kinderen.csv", "row": 2, "column": "kind_ref"},
            "a 303-character ref",
        ),
        "very_long_name": (
            {"aanbieders.csv": PROVIDER_HEADER + "\nP-9001," + "Zorg" * 2500 + ",JZ31,nee,\n"},
            {"code": "TE_LANG", "file": "aanbieders.csv", "row": 2, "column": "naam"},
            "a 10,000-character provider name",
        ),
        "unknown_table_name": (
            {"patienten.csv": kids(KID)},
            {"code": "ONBEKENDE_TABEL", "file": "patienten.csv"},
            "a file whose name is not a table",
        ),
        "wrong_extension": (
            {"kinderen.txt": kids(KID)},
            {"code": "ONGELDIG", "file": "kinderen.txt"},
            "a file type that cannot be imported",
        ),
        "not_really_xlsx": (
            {"aanbod.xlsx": b"PK\x03\x04 dit is geen zip" + bytes(range(256))},
            {"code": "ONGELDIG", "file": "aanbod.xlsx"},
            "a broken Excel file",
        ),
        "unknown_sheet": (
            {"gegevens.xlsx": xlsx({"Blad1": [["a", "b"], [1, 2]]})},
            {"code": "ONBEKEND_BLAD", "file": "gegevens.xlsx"},
            "an Excel sheet that is not a table",
        ),
        "broken_json": (
            {"data.json": b'{"kinderen": [{"kind_ref": "K-1",'},
            {"code": "ONGELDIG", "file": "data.json"},
            "JSON cut off halfway",
        ),
        "json_not_object": (
            {"data.json": b'[{"kind_ref": "K-1"}]'},
            {"code": "ONGELDIG", "file": "data.json"},
            "JSON that is a list, not an object with tables",
        ),
        "json_object_in_cell": (
            {
                "data.json": json.dumps(
                    {
                        "kinderen": [
                            dict(
                                zip(KIDS_HEADER.split(","), KID.split(","), strict=True),
                                gezin_ref={"naam": "x"},
                            )
                        ]
                    }
                ).encode()
            },
            {"code": "ONGELDIG", "file": "data.json", "row": 1, "column": "gezin_ref"},
            "an object where one value belongs",
        ),
        "same_table_twice": (
            {
                "kinderen.csv": kids(KID),
                "data.json": json.dumps(
                    {"kinderen": [dict(zip(KIDS_HEADER.split(","), KID2.split(","), strict=True))]}
                ).encode(),
            },
            {"code": "DUBBEL"},
            "the same table in two files",
        ),
        "one_bad_row_among_good": (
            {"kinderen.csv": kids(KID, KID2, kid(kind_ref="K-900003", zorgvorm="ONBEKEND"))},
            {"code": "ONBEKENDE_CODE", "file": "kinderen.csv", "row": 4, "column": "zorgvorm"},
            "two good rows and one bad: nothing at all is stored",
        ),
        "good_offering_bad_children": (
            {"aanbod.csv": offers(OFFER), "kinderen.csv": kids(kid(gemeente="GM0000"))},
            {"code": "ONBEKENDE_CODE", "file": "kinderen.csv", "row": 2, "column": "gemeente"},
            "a good file with a bad one: the good one is not stored either",
        ),
    }
    c.update(limit_cases())
    return c


def main() -> None:
    if CORPUS.exists():
        shutil.rmtree(CORPUS)
    CORPUS.mkdir()
    manifest: dict[str, Any] = {}
    for name, (files, expected, what) in cases().items():
        folder = CORPUS / name
        folder.mkdir()
        for filename, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            (folder / filename).write_bytes(data)
        manifest[name] = {"what": what, "expect": expected}
    for name, (what, expected) in GENERATED.items():
        manifest[name] = {"what": what, "expect": expected, "generated": True}
    (CORPUS / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(manifest)} cases in {CORPUS}")


if __name__ == "__main__":
    main()
