"""The rows and files the corpus cases are made of (see make_corpus.py)."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook

KIDS_HEADER = (
    "kind_ref,gemeente,geboortemaand,gi,maatregel,uitspraakdatum,gi_in_kennis_datum,"
    "urgente_deadline,zorgvorm,zorgvorm_2,zorgvorm_3,kenmerken,gezin_ref,huidig_aanbod_id"
)
KID = "K-900001,GM0505,2014-03,WSS,OTS,2026-08-12,2026-08-14,,PLEEGZORG,,,,,"
KID2 = "K-900002,GM0642,2012-05,WSS,OTS,2026-07-01,,,GEZINSHUIS,,,LVB,G-9001,"
OFFER_HEADER = (
    "aanbod_id,aanbieder_id,zorgvorm,gemeente,plaatsen_vrij,vrijkomend_per_week,leeftijd_min,"
    "leeftijd_max,lvb_expertise,contra_indicaties,opnamestop,prijs_per_plaatsing,intake_dagen,"
    "verwachte_wachttijd_dagen,werkgebied,bevestigd_door,bevestigd_op"
)
OFFER = "O-900001,P-HOOFD,PLEEGZORG,GM0505,2,0,0,18,nee,,nee,3000.00,14,0,,planning,2026-11-15"
CONTRACT_HEADER = "contract_id,aanbieder_id,regio,gemeente,zorgvorm,perceel,geldig_van,geldig_tot"
PROVIDER_HEADER = "aanbieder_id,naam,regio,hoofdaannemer,accepteert_onderaannemers"


def kids(*rows: str, header: str = KIDS_HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def offers(*rows: str) -> str:
    return "\n".join([OFFER_HEADER, *rows]) + "\n"


def kid(**changes: str) -> str:
    cells = dict(zip(KIDS_HEADER.split(","), KID.split(","), strict=True))
    cells.update(changes)
    return ",".join(_quote(v) for v in cells.values())


def offer(**changes: str) -> str:
    cells = dict(zip(OFFER_HEADER.split(","), OFFER.split(","), strict=True))
    cells.update(changes)
    return ",".join(_quote(v) for v in cells.values())


def _quote(v: str) -> str:
    if "," in v or '"' in v:
        return '"' + v.replace('"', '""') + '"'
    return v


def xlsx(sheets: dict[str, list[list[Any]]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# name -> (files {filename: content}, expected {code, file, row, column}, what it tests)
Case = tuple[dict[str, str | bytes], dict[str, Any], str]
