"""Load raw tables from CSV, XLSX and JSON files without interpreting cells."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from providers.errors import Problem
from providers.schema import TABLES

MAX_FILE_BYTES = 64 * 1024 * 1024
# Sheets our own template adds; they are not data.
HELPER_SHEETS = {"toelichting", "codes"}


@dataclass
class RawTable:
    """Cells of one table as read; `rows` holds (row number as the user sees it, cells)."""

    file: str
    sheet: str | None
    table: str
    header: list[str]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)
    decimal_comma: bool = False


def _norm_header(h: Any) -> str:
    return str(h if h is not None else "").strip().lower().replace(" ", "_")


def _table_name(stem: str) -> str:
    return stem.strip().lower()


def _is_empty(cells: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _read_csv(name: str, data: bytes, problems: list[Problem]) -> list[RawTable]:
    table = _table_name(Path(name).stem)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(
            Problem(
                name,
                table,
                None,
                None,
                "Het bestand is niet opgeslagen als UTF-8 (teken op positie "
                f"{exc.start}). Kies in Excel 'Opslaan als' en dan 'CSV UTF-8'.",
                "CODERING",
            )
        )
        return []
    if "\x00" in text:
        problems.append(
            Problem(name, table, None, None, "Het bestand bevat binaire tekens.", "CODERING")
        )
        return []
    first = text.split("\n", 1)[0]
    # Dutch Excel writes ';' between cells and a comma as decimal separator.
    semicolon = first.count(";") > first.count(",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";" if semicolon else ",")
    try:
        all_rows = list(reader)
    except csv.Error as exc:
        problems.append(Problem(name, table, None, None, f"Het CSV-bestand is kapot: {exc}."))
        return []
    if not all_rows:
        problems.append(Problem(name, table, None, None, "Het bestand is leeg.", "LEEG"))
        return []
    raw = RawTable(
        name, table, table, [_norm_header(h) for h in all_rows[0]], decimal_comma=semicolon
    )
    for n, cells in enumerate(all_rows[1:], start=2):
        if not _is_empty(list(cells)):
            raw.rows.append((n, list(cells)))
    return [raw]


def _read_xlsx(name: str, data: bytes, problems: list[Problem]) -> list[RawTable]:
    from openpyxl import load_workbook

    try:
        # data_only=False keeps formulas visible, so we can refuse them.
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        # The library's own text is English and technical; the user needs only this.
        problems.append(
            Problem(
                name,
                None,
                None,
                None,
                "Dit is geen geldig Excel-bestand (.xlsx). Sla het in Excel opnieuw op als "
                "'Excel-werkmap (.xlsx)'.",
            )
        )
        return []
    out: list[RawTable] = []
    try:
        for ws in wb.worksheets:
            table = _table_name(ws.title)
            if table in HELPER_SHEETS:
                continue
            if table not in TABLES:
                problems.append(
                    Problem(
                        name,
                        ws.title,
                        None,
                        None,
                        f"Onbekend blad '{ws.title}'. Gebruik: {', '.join(TABLES)}.",
                        "ONBEKEND_BLAD",
                    )
                )
                continue
            rows = ws.iter_rows(values_only=True)
            header_row = next(rows, None)
            if header_row is None:
                continue
            raw = RawTable(name, ws.title, table, [_norm_header(h) for h in header_row])
            for n, cells in enumerate(rows, start=2):
                values = list(cells)
                if not _is_empty(values):
                    raw.rows.append((n, values))
            out.append(raw)
    finally:
        wb.close()
    return out


def _read_json(name: str, data: bytes, problems: list[Problem]) -> list[RawTable]:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        problems.append(
            Problem(name, None, None, None, "Het bestand is niet opgeslagen als UTF-8.", "CODERING")
        )
        return []
    except json.JSONDecodeError as exc:
        problems.append(
            Problem(
                name,
                None,
                None,
                None,
                f"Dit is geen geldige JSON: er gaat iets mis in regel {exc.lineno}, "
                f"teken {exc.colno}.",
            )
        )
        return []
    if not isinstance(doc, dict):
        problems.append(
            Problem(name, None, None, None, "De JSON moet een object met tabellen zijn.")
        )
        return []
    out: list[RawTable] = []
    for key, records in doc.items():
        table = _table_name(str(key))
        if table.startswith("_"):
            continue  # metadata such as _format
        if table not in TABLES:
            problems.append(Problem(name, str(key), None, None, f"Onbekende tabel '{key}'."))
            continue
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            problems.append(
                Problem(name, table, None, None, "Een tabel moet een lijst met objecten zijn.")
            )
            continue
        header: list[str] = []
        for rec in records:
            for k in rec:
                nk = _norm_header(k)
                if nk not in header:
                    header.append(nk)
        raw = RawTable(name, table, table, header)
        for n, rec in enumerate(records, start=1):
            norm = {_norm_header(k): v for k, v in rec.items()}
            raw.rows.append((n, [norm.get(h) for h in header]))
        out.append(raw)
    return out


def _too_big(name: str, max_bytes: int) -> Problem:
    mb = max_bytes / (1024 * 1024)
    return Problem(name, None, None, None, f"Het bestand is groter dan {mb:g} MB.", "TE_GROOT")


def read_bytes(
    name: str, data: bytes, max_bytes: int = MAX_FILE_BYTES
) -> tuple[list[RawTable], list[Problem]]:
    """Read one uploaded file; the format follows from the file name."""
    problems: list[Problem] = []
    if len(data) > max_bytes:
        return [], [_too_big(name, max_bytes)]
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        tables = _read_csv(name, data, problems)
    elif suffix == ".xlsx":
        tables = _read_xlsx(name, data, problems)
    elif suffix == ".json":
        tables = _read_json(name, data, problems)
    else:
        problems.append(
            Problem(name, None, None, None, "Alleen .csv, .xlsx en .json kunnen worden ingelezen.")
        )
        tables = []
    if suffix == ".csv" and tables and tables[0].table not in TABLES:
        problems.append(
            Problem(
                name,
                None,
                None,
                None,
                "De bestandsnaam moet een tabelnaam zijn: " + ", ".join(t + ".csv" for t in TABLES),
                "ONBEKENDE_TABEL",
            )
        )
        tables = []
    return tables, problems


def read_path(
    path: Path | str, max_bytes: int = MAX_FILE_BYTES
) -> tuple[list[RawTable], list[Problem]]:
    p = Path(path)
    if p.stat().st_size > max_bytes:
        # Refuse before reading, so an oversized upload never fills memory.
        return [], [_too_big(p.name, max_bytes)]
    return read_bytes(p.name, p.read_bytes(), max_bytes)


DATA_SUFFIXES = frozenset({".csv", ".xlsx", ".json"})


def data_files(paths: Iterable[Path | str]) -> list[Path]:
    """The given files, with each directory replaced by its .csv/.xlsx/.json files
    (sorted)."""
    out: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            out.extend(sorted(f for f in path.iterdir() if f.suffix.lower() in DATA_SUFFIXES))
        else:
            out.append(path)
    return out


def read_tables(
    paths: Iterable[Path | str] | Path | str, max_bytes: int = MAX_FILE_BYTES
) -> tuple[list[RawTable], list[Problem]]:
    """Read files, or every .csv/.xlsx/.json in a directory."""
    files = data_files([paths]) if isinstance(paths, str | Path) else [Path(f) for f in paths]
    tables: list[RawTable] = []
    problems: list[Problem] = []
    for f in files:
        t, pr = read_path(f, max_bytes)
        tables.extend(t)
        problems.extend(pr)
    return tables, problems
