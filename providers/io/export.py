"""Export to XLSX, CSV and JSON, with formula injection neutralised.

A cell that starts with =, +, -, @ (or a tab / carriage return) is run as a
formula by spreadsheet programs; such text cells get a leading apostrophe so
they are shown as text.  Numbers are written as numbers and are never touched,
so a negative amount stays a number.

The import reverses exactly this (`unneutralise`), so export -> import stores
the same data. For that to hold, a text that itself starts with an apostrophe
gets one more as well; otherwise "'=x" and "=x" would export the same.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from providers.schema import TABLES, Kind

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
_QUOTED_START = (*FORMULA_START, QUOTE)


def safe_cell(value: Any) -> Any:
    """Make one cell value safe for spreadsheets (text only; numbers pass)."""
    if isinstance(value, str) and value.startswith(_QUOTED_START):
        return QUOTE + value
    return value


def is_neutralised(text: str) -> bool:
    """True for a text `safe_cell` quoted: an apostrophe before a formula start or
    before another apostrophe."""
    return text.startswith(QUOTE) and text[1:].startswith(_QUOTED_START)


def unneutralise(text: str) -> str:
    """The text as it was before `safe_cell`; other text is returned unchanged."""
    return text[1:] if is_neutralised(text) else text


def _eur(cents: int, decimal_comma: bool) -> str:
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}{',' if decimal_comma else '.'}{frac:02d}"


def record_cells(
    table: str, record: Mapping[str, Any], *, decimal_comma: bool = False
) -> list[Any]:
    """Typed record (as `providers.validate` makes them) -> cells of the import format."""
    out: list[Any] = []
    for col in TABLES[table].columns:
        v = record.get(col.name)
        if v is None:
            out.append("")
        elif col.kind is Kind.BOOL:
            out.append("ja" if v else "nee")
        elif col.kind is Kind.EUR:
            out.append(_eur(int(v), decimal_comma))
        elif col.kind is Kind.DECIMAL:
            text = f"{float(v):g}"
            out.append(text.replace(".", ",") if decimal_comma else text)
        elif col.kind is Kind.DATE:
            out.append(v.isoformat() if isinstance(v, dt.date) else str(v))
        elif col.kind is Kind.CODES:
            out.append(",".join(v))
        else:
            out.append(v)
    return out


def export_csv(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    dest: IO[str],
    *,
    dialect: str = "utf8",
) -> None:
    """Write a CSV; dialect "utf8" (comma) or "excel-nl" (';', for Dutch Excel)."""
    delimiter = ";" if dialect == "excel-nl" else ","
    writer = csv.writer(dest, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(c) for c in row])


def export_xlsx(
    sheets: Mapping[str, tuple[Sequence[str], Iterable[Sequence[Any]]]], dest: Path | IO[bytes]
) -> None:
    """Write one sheet per entry with a frozen, bold header."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook(write_only=False)
    if wb.active is not None:
        wb.remove(wb.active)
    for name, (header, rows) in sheets.items():
        ws = wb.create_sheet(name[:31])
        ws.append([safe_cell(h) for h in header])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append([safe_cell(c) for c in row])
        for row_cells in ws.iter_rows(min_row=2):
            for cell in row_cells:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never let a string become a formula
        ws.freeze_panes = "A2"
    wb.save(dest)


def _json_default(v: Any) -> Any:
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, tuple | set | frozenset):
        return list(v)
    raise TypeError(f"cannot serialise {type(v).__name__}")


def export_json(obj: Any, dest: IO[str]) -> None:
    json.dump(obj, dest, ensure_ascii=False, indent=1, default=_json_default)


def export_tables(
    data: Mapping[str, Sequence[Mapping[str, Any]]],
    fmt: str,
    dest: Path,
    *,
    dialect: str = "utf8",
) -> list[Path]:
    """Write typed records in the import format: XLSX (one file, a sheet per
    table), CSV (one file per table in directory `dest`) or JSON (one file).
    Returns the files written."""
    tables = [t for t in TABLES if t in data]
    if fmt == "xlsx":
        sheets = {
            t: (TABLES[t].column_names, [record_cells(t, r) for r in data[t]]) for t in tables
        }
        export_xlsx(sheets, dest)
        return [dest]
    if fmt == "csv":
        dest.mkdir(parents=True, exist_ok=True)
        written = []
        for t in tables:
            path = dest / f"{t}.csv"
            with path.open("w", encoding="utf-8", newline="") as fh:
                export_csv(
                    TABLES[t].column_names,
                    (record_cells(t, r, decimal_comma=dialect == "excel-nl") for r in data[t]),
                    fh,
                    dialect=dialect,
                )
            written.append(path)
        return written
    if fmt == "json":
        doc: dict[str, Any] = {"_format": "beschikbaarheidswijzer-import-1"}
        for t in tables:
            doc[t] = [
                {
                    c.name: (
                        _eur(r[c.name], False)
                        if c.kind is Kind.EUR and r.get(c.name) is not None
                        else (
                            safe_cell(r.get(c.name))
                            if isinstance(r.get(c.name), str)
                            else r.get(c.name)
                        )
                    )
                    for c in TABLES[t].columns
                }
                for r in data[t]
            ]
        with dest.open("w", encoding="utf-8") as fh:
            export_json(doc, fh)
        return [dest]
    raise ValueError(f"unknown export format {fmt!r}")


def to_text(header: Sequence[str], rows: Iterable[Sequence[Any]], dialect: str = "utf8") -> str:
    buf = io.StringIO()
    export_csv(header, rows, buf, dialect=dialect)
    return buf.getvalue()


def frame_sheet(frame: pd.DataFrame) -> tuple[list[str], list[list[Any]]]:
    """A DataFrame as the header and rows of one export sheet, so that an export is
    written from the same frame an analyst gets: a yes/no becomes "ja"/"nee", a date
    its ISO day, a missing value an empty cell; numbers stay numbers."""

    def cell(v: Any) -> Any:
        if isinstance(v, pd.Timestamp):
            return v.date().isoformat()
        if isinstance(v, np.generic):  # a numpy scalar: the plain Python value
            v = v.item()
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            return ""
        if isinstance(v, bool):
            return "ja" if v else "nee"
        if isinstance(v, dt.date):
            return v.isoformat()
        return v

    columns = [str(c) for c in frame.columns]
    rows = [[cell(v) for v in rec] for rec in frame.itertuples(index=False, name=None)]
    return columns, rows
