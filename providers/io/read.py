"""Load raw tables from CSV, XLSX and JSON files without interpreting cells."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from providers.errors import Problem, ProvidersError
from providers.schema import TABLES

MAX_FILE_BYTES = 64 * 1024 * 1024
# An XLSX is a zip: the sizes its members declare are checked before anything is
# unpacked (the zip module never inflates a member past its declared size), so a
# small file that unpacks to gigabytes is refused at once.
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
MAX_ZIP_MEMBERS = 1000
# Data compresses well, but not a thousand times: such a member is a zip bomb.
MAX_COMPRESSION_RATIO = 200
# Rows per table and columns per row; the national demo has 100,000 children.
MAX_ROWS = 500_000
MAX_COLUMNS = 200
# Our format nests three deep ({table: [{column: [codes]}]}).
MAX_JSON_DEPTH = 20
# Digits of one number in a JSON file (Python refuses over 4300 with a ValueError).
MAX_JSON_DIGITS = 40
INF = float("inf")
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
    all_rows: list[list[str]] = []
    try:
        for cells in reader:
            if len(all_rows) > MAX_ROWS:
                problems.append(_too_many_rows(name, table))
                return []
            if len(cells) > MAX_COLUMNS:
                problems.append(_too_many_columns(name, table, reader.line_num))
                return []
            all_rows.append(cells)
    except csv.Error:
        # The csv module's own text is English; the line is what the user needs.
        problems.append(
            Problem(
                name,
                table,
                reader.line_num or None,
                None,
                "Het CSV-bestand kan hier niet worden gelezen: een cel is te lang of een "
                'aanhalingsteken (") staat verkeerd.',
            )
        )
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


NOT_XLSX = (
    "Dit is geen geldig Excel-bestand (.xlsx). Sla het in Excel opnieuw op als "
    "'Excel-werkmap (.xlsx)'."
)


def _too_many_rows(name: str, sheet: str | None) -> Problem:
    return Problem(
        name,
        sheet,
        None,
        None,
        f"Het bestand heeft te veel rijen (meer dan {MAX_ROWS:,}). Splits het in kleinere "
        "bestanden.".replace(",", "."),
        "TE_GROOT",
    )


def _too_many_columns(name: str, sheet: str | None, row: int | None) -> Problem:
    return Problem(
        name,
        sheet,
        row,
        None,
        f"Deze rij heeft te veel kolommen (meer dan {MAX_COLUMNS}). Gebruik het sjabloon.",
        "TE_GROOT",
    )


def _zip_problem(name: str, data: bytes) -> Problem | None:
    """Check an XLSX's zip directory before anything is unpacked."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return Problem(name, None, None, None, NOT_XLSX)
    unpacked = sum(m.file_size for m in members)
    bomb = any(
        m.file_size > 1024 * 1024 and m.file_size > MAX_COMPRESSION_RATIO * max(1, m.compress_size)
        for m in members
    )
    if len(members) > MAX_ZIP_MEMBERS or unpacked > MAX_UNPACKED_BYTES or bomb:
        return Problem(
            name,
            None,
            None,
            None,
            "Dit Excel-bestand is uitgepakt veel te groot (of het is kapot). Sla het in Excel "
            "opnieuw op, of splits het in kleinere bestanden.",
            "TE_GROOT",
        )
    return None


def _read_xlsx(name: str, data: bytes, problems: list[Problem]) -> list[RawTable]:
    from openpyxl import load_workbook

    refused = _zip_problem(name, data)
    if refused is not None:
        problems.append(refused)
        return []
    try:
        # data_only=False keeps formulas visible, so we can refuse them.
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:
        # Any failure of the parser on this file (a broken zip, truncated or invalid
        # XML, a missing part) means the same to the user, and the library's own text is
        # English and technical.
        problems.append(Problem(name, None, None, None, NOT_XLSX))
        return []
    try:
        return _read_sheets(name, wb, problems)
    except Exception:
        # A sheet's XML is only parsed while its rows are read.
        problems.append(Problem(name, None, None, None, NOT_XLSX))
        return []
    finally:
        wb.close()


def _read_sheets(name: str, wb: Any, problems: list[Problem]) -> list[RawTable]:
    out: list[RawTable] = []
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
        # The size the sheet declares, checked before its rows are read.
        if (ws.max_row or 0) > MAX_ROWS + 1:
            problems.append(_too_many_rows(name, ws.title))
            return []
        if (ws.max_column or 0) > MAX_COLUMNS:
            problems.append(_too_many_columns(name, ws.title, None))
            return []
        rows = ws.iter_rows(values_only=True)
        header_row = next(rows, None)
        if header_row is None:
            continue
        raw = RawTable(name, ws.title, table, [_norm_header(h) for h in header_row])
        for n, cells in enumerate(rows, start=2):
            if n > MAX_ROWS + 1:
                problems.append(_too_many_rows(name, ws.title))
                return []
            values = list(cells)
            if _is_empty(values):
                continue
            if len(values) > MAX_COLUMNS and not _is_empty(values[MAX_COLUMNS:]):
                problems.append(_too_many_columns(name, ws.title, n))
                return []
            raw.rows.append((n, values))
        out.append(raw)
    return out


class _JsonRefused(ProvidersError, ValueError):
    """A value the JSON reader refuses; the message is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message, user_message=message)


def _json_constant(token: str) -> Any:
    raise _JsonRefused(
        f"Het bestand bevat '{token}'. Dat is geen getal; laat de waarde leeg of vul een getal in."
    )


def _json_float(text: str) -> float:
    value = float(text)
    if len(text) > MAX_JSON_DIGITS + 10 or value != value or value in (INF, -INF):
        raise _JsonRefused(f"Het getal {text[:20]} in het bestand is te groot of te lang.")
    return value


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_DIGITS:
        raise _JsonRefused(
            f"Een getal in het bestand is te lang (meer dan {MAX_JSON_DIGITS} cijfers)."
        )
    return int(text)


_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def _json_depth(text: str) -> int:
    """How deep arrays and objects nest, outside strings (before the parser recurses)."""
    depth = deepest = 0
    for m in _JSON_TOKENS.finditer(text):
        part = m.group()
        if part in ("[", "{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_JSON_DEPTH:
                    break
        elif part in ("]", "}"):
            depth -= 1
    return deepest


def _read_json(name: str, data: bytes, problems: list[Problem]) -> list[RawTable]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        problems.append(
            Problem(name, None, None, None, "Het bestand is niet opgeslagen als UTF-8.", "CODERING")
        )
        return []
    if _json_depth(text) > MAX_JSON_DEPTH:
        problems.append(
            Problem(
                name,
                None,
                None,
                None,
                f"De JSON is te diep genest (meer dan {MAX_JSON_DEPTH} niveaus). Gebruik het "
                "formaat van het sjabloon: tabellen met een lijst van rijen.",
                "TE_DIEP",
            )
        )
        return []
    try:
        doc = json.loads(
            text, parse_constant=_json_constant, parse_int=_json_int, parse_float=_json_float
        )
    except _JsonRefused as exc:
        problems.append(Problem(name, None, None, None, exc.user_message, "GETAL"))
        return []
    except RecursionError:
        problems.append(Problem(name, None, None, None, "De JSON is te diep genest.", "TE_DIEP"))
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
        if len(records) > MAX_ROWS:
            problems.append(_too_many_rows(name, table))
            continue
        # An empty list has no keys to read a header from; it stands for the table with
        # every column and no rows, as an exported empty table (CSV and XLSX keep the
        # header row), so it must not be rejected for missing columns.
        header: list[str] = [] if records else list(TABLES[table].column_names)
        for rec in records:
            if len(rec) > MAX_COLUMNS:
                problems.append(_too_many_columns(name, table, None))
                return []
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
