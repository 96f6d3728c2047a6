"""Reference data: care types, iJw code lists, gemeenten and jeugdregio's.

Every table is loaded per year (`year=2025`) from package data, and every row
keeps its `bron` (source) and `bron_jaar`.  A region can replace or extend the
product list with its own file (`load_region_products`).  The care-type
identifiers are the same as `matcher.domain.CareType`; this table adds the
category, "zo thuis mogelijk" rank and the mappings to iJw JZ020 and Iv3
taakveld.  The Dutch label of a project care type has one home,
`matcher.domain.caretypes.care_type_label` (the project table has no label
column); only a region's own product list brings its own product names.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

from matcher.domain.caretypes import CareType, care_type_label
from providers.errors import ProvidersError

DEFAULT_YEAR = 2025
CATEGORIES = ("verblijf", "ambulant", "crisis", "diagnostiek")


class ReferenceDataError(ProvidersError, ValueError):
    """A reference table is missing, or a region's own table is malformed."""


@dataclass(frozen=True)
class Gemeente:
    code: str  # CBS code, e.g. GM0505
    name: str
    region_code: str  # jeugdregio, e.g. JZ31
    region_name: str
    province: str
    lat: float
    lon: float
    bron: str
    bron_jaar: int


@dataclass(frozen=True)
class Jeugdregio:
    code: str
    name: str
    provinces: tuple[str, ...]
    lat: float
    lon: float
    gemeente_codes: tuple[str, ...]
    bron: str
    bron_jaar: int


@dataclass(frozen=True)
class Code:
    """One entry of a code list (iJw, Iv3 or project-owned)."""

    code: str
    label: str
    bron: str
    bron_jaar: int
    extra: tuple[tuple[str, str], ...] = ()

    def get(self, key: str, default: str = "") -> str:
        return dict(self.extra).get(key, default)


@dataclass(frozen=True)
class CareTypeInfo:
    """A project care type with its labels and mappings."""

    code: str  # same identifier as matcher.domain.CareType
    label: str
    category: str  # verblijf | ambulant | crisis | diagnostiek
    home_rank: int  # 1 = thuis ... 5 = gesloten (DOMAIN §3e)
    level: str
    jz020: str
    iv3_taakveld: str
    requires_stability: bool
    bron: str
    bron_jaar: int


def _data_path(*parts: str) -> Path:
    return Path(str(resources.files("providers.reference").joinpath("data", *parts)))


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        raise ReferenceDataError(f"Referentietabel ontbreekt: {path.name}")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def available_years() -> tuple[int, ...]:
    base = _data_path()
    return tuple(sorted(int(p.name) for p in base.iterdir() if p.name.isdigit()))


def _year_file(year: int, name: str) -> Path:
    path = _data_path(str(year), name)
    if not path.exists():
        years = ", ".join(str(y) for y in available_years())
        raise ReferenceDataError(f"Geen referentiedata voor {year} ({name}); wel voor: {years}")
    return path


@cache
def gemeenten(year: int = DEFAULT_YEAR) -> dict[str, Gemeente]:
    """All gemeenten of `year`, by CBS code."""
    out: dict[str, Gemeente] = {}
    for r in _rows(_year_file(year, "gemeenten.csv")):
        out[r["gemeentecode"]] = Gemeente(
            code=r["gemeentecode"],
            name=r["gemeentenaam"],
            region_code=r["jeugdregio_code"],
            region_name=r["jeugdregio_naam"],
            province=r["provincie"],
            lat=float(r["lat"]),
            lon=float(r["lon"]),
            bron=r["bron"],
            bron_jaar=int(r["bron_jaar"]),
        )
    return out


@cache
def jeugdregios(year: int = DEFAULT_YEAR) -> dict[str, Jeugdregio]:
    """All jeugdregio's of `year`, by code (JZxx)."""
    out: dict[str, Jeugdregio] = {}
    for r in _rows(_year_file(year, "jeugdregios.csv")):
        out[r["jeugdregio_code"]] = Jeugdregio(
            code=r["jeugdregio_code"],
            name=r["jeugdregio_naam"],
            provinces=tuple(p.strip() for p in r["provincies"].split(";") if p.strip()),
            lat=float(r["lat"]),
            lon=float(r["lon"]),
            gemeente_codes=tuple(c for c in r["gemeentecodes"].split(";") if c),
            bron=r["bron"],
            bron_jaar=int(r["bron_jaar"]),
        )
    return out


CODE_LIST_FILES = {
    "JZ020": "jz020.csv",
    "WJ759": "wj759.csv",
    "COD327": "cod327.csv",
    "WJ232": "wj232.csv",
    "IV3": "iv3_taakvelden.csv",
}


@cache
def code_list(name: str, year: int = DEFAULT_YEAR) -> dict[str, Code]:
    """An iJw or Iv3 code list (JZ020, WJ759, COD327, WJ232, IV3) of `year`."""
    try:
        file = CODE_LIST_FILES[name.upper()]
    except KeyError:
        raise ReferenceDataError(f"Onbekende codelijst: {name}") from None
    out: dict[str, Code] = {}
    for r in _rows(_year_file(year, file)):
        key = r.get("code") or r["taakveld"]
        rest = tuple(
            (k, v)
            for k, v in r.items()
            if k not in {"code", "taakveld", "omschrijving", "bron", "bron_jaar"}
        )
        out[key] = Code(key, r["omschrijving"], r["bron"], int(r["bron_jaar"]), rest)
    return out


def _label(code: str, own: str | None) -> str:
    """The project's label of a care type is the domain's (`care_type_label`); only a
    region's own product list brings its own (its product name), and a new product
    must."""
    if own and own.strip():
        return own.strip()
    if code in CareType._value2member_map_:
        return care_type_label(code, capital=True)
    raise ValueError(f"label ontbreekt voor de nieuwe zorgvorm {code}")


def _care_types_from_rows(rows: Iterable[dict[str, str]], where: str) -> dict[str, CareTypeInfo]:
    out: dict[str, CareTypeInfo] = {}
    problems: list[str] = []
    for n, r in enumerate(rows, start=2):
        try:
            code = r["code"].strip()
            info = CareTypeInfo(
                code=code,
                label=_label(code, r.get("label")),
                category=r["categorie"].strip(),
                home_rank=int(r["thuis_rang"]),
                level=r.get("niveau", "").strip(),
                jz020=r.get("jz020", "").strip(),
                iv3_taakveld=r.get("iv3_taakveld", "").strip(),
                requires_stability=r.get("vereist_stabiliteit", "false").strip() == "true",
                bron=r.get("bron", "").strip() or where,
                bron_jaar=int(r.get("bron_jaar") or DEFAULT_YEAR),
            )
        except (KeyError, ValueError) as exc:
            problems.append(f"{where} rij {n}: kolom of waarde klopt niet ({exc})")
            continue
        if info.category not in CATEGORIES:
            problems.append(f"{where} rij {n}: categorie '{info.category}' is onbekend")
        if not 1 <= info.home_rank <= 5:
            problems.append(f"{where} rij {n}: thuis_rang moet 1 tot en met 5 zijn")
        if info.code in out:
            problems.append(f"{where} rij {n}: code {info.code} staat er twee keer in")
        out[info.code] = info
    if problems:
        raise ReferenceDataError("\n".join(problems))
    return out


@cache
def care_types() -> dict[str, CareTypeInfo]:
    """The project's care-type list (identifiers as in matcher.domain.CareType)."""
    return _care_types_from_rows(_rows(_data_path("project", "zorgvormen.csv")), "zorgvormen.csv")


def load_region_products(path: Path | str) -> dict[str, CareTypeInfo]:
    """A region's own product list (the columns of zorgvormen.csv, plus `label` for a
    new product).

    Each row must map to a project care type (its `code`) or add a new one
    with its own label, category and rank; the rows replace the project's entries
    with the same code, so a region can relabel (its own product names) or remap
    products.  Without a label a project care type keeps the domain's.
    """
    p = Path(path)
    regional = _care_types_from_rows(_rows(p), p.name)
    merged = dict(care_types())
    merged.update(regional)
    return merged


@cache
def _project_codes(name: str) -> dict[str, Code]:
    out: dict[str, Code] = {}
    for r in _rows(_data_path("project", name)):
        rest = tuple(
            (k, v) for k, v in r.items() if k not in {"code", "label", "bron", "bron_jaar"}
        )
        out[r["code"]] = Code(r["code"], r["label"], r["bron"], int(r["bron_jaar"]), rest)
    return out


def attributes() -> dict[str, Code]:
    """Child attributes / contra-indications (kenmerken), project-owned."""
    return _project_codes("kenmerken.csv")


def gis() -> dict[str, Code]:
    """Gecertificeerde instellingen."""
    return _project_codes("gi.csv")


def measures() -> dict[str, Code]:
    """Measure types (maatregelen) with their WJ232 mapping."""
    return _project_codes("maatregelen.csv")


@lru_cache(maxsize=1 << 17)
def distance_between(a: str, b: str, year: int = DEFAULT_YEAR) -> float | None:
    """`distance_km` between two gemeenten by CBS code, rounded to 0.1 km as the pages
    show it (None when a code is not a gemeente of `year`); a search asks it for the
    same few hundred places again and again."""
    found = gemeenten(year)
    here, there = found.get(a), found.get(b)
    if here is None or there is None:
        return None
    return round(distance_km(here, there), 1)


def distance_km(a: Gemeente, b: Gemeente) -> float:
    """Straight-line ("hemelsbreed") distance between two gemeente points."""
    r = 6371.0
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp = p2 - p1
    dl = math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


__all__ = [
    "CATEGORIES",
    "DEFAULT_YEAR",
    "CareTypeInfo",
    "Code",
    "Gemeente",
    "Jeugdregio",
    "ReferenceDataError",
    "attributes",
    "available_years",
    "care_types",
    "code_list",
    "distance_between",
    "distance_km",
    "gemeenten",
    "gis",
    "jeugdregios",
    "load_region_products",
    "measures",
]
