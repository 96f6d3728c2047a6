"""The downloadable XLSX template.

One sheet per table with a frozen header and drop-down lists on the code and
ja/nee columns; a hidden "Codes" sheet holds the lists (Excel limits an
inline list to 255 characters, so long lists must point at cells); and a
"Toelichting" sheet explains every column and every code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from providers import reference
from providers.codes import code_values
from providers.schema import IMPORT_ORDER, TABLES, Kind

TEMPLATE_ROWS = 2000  # rows that get the drop-down lists


def write_template(
    dest: Path | IO[bytes],
    tables: Sequence[str] = IMPORT_ORDER,
    year: int = reference.DEFAULT_YEAR,
    care_types: Mapping[str, reference.CareTypeInfo] | None = None,
) -> None:
    wb = Workbook()
    toel = wb.active
    assert toel is not None
    toel.title = "Toelichting"
    codes_ws = wb.create_sheet("Codes")
    code_names = sorted(
        {c.codes for t in tables for c in TABLES[t].columns if c.codes} | {"kenmerk"}
    )
    lists: dict[str, str] = {}
    for i, name in enumerate(code_names, start=1):
        values = code_values(name, year, care_types)
        letter = get_column_letter(i)
        codes_ws.cell(row=1, column=i, value=name).font = Font(bold=True)
        for r, code in enumerate(values, start=2):
            codes_ws.cell(row=r, column=i, value=code)
        lists[name] = f"Codes!${letter}$2:${letter}${len(values) + 1}"
    codes_ws.sheet_state = "hidden"

    for t in tables:
        table = TABLES[t]
        ws = wb.create_sheet(table.name)
        ws.append(list(table.column_names))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for idx, col in enumerate(table.columns, start=1):
            letter = get_column_letter(idx)
            ws.column_dimensions[letter].width = max(12, len(col.name) + 2)
            rng = f"{letter}2:{letter}{TEMPLATE_ROWS + 1}"
            dv: DataValidation | None = None
            if col.kind is Kind.CODE and col.codes:
                dv = DataValidation(
                    type="list", formula1=lists[col.codes], allow_blank=not col.required
                )
            elif col.kind is Kind.BOOL:
                dv = DataValidation(type="list", formula1='"ja,nee"', allow_blank=True)
            if dv is not None:
                dv.error = "Kies een waarde uit de lijst (zie Toelichting)."
                dv.errorTitle = "Onbekende code"
                dv.showErrorMessage = True
                ws.add_data_validation(dv)
                dv.add(rng)

    # Toelichting: columns per table, then every code list with labels.
    toel.append(["Beschikbaarheidswijzer: invulsjabloon"])
    toel["A1"].font = Font(bold=True, size=14)
    toel.append(
        [
            "Vul per blad één rij per regel in. Gebruik alleen pseudoniemen voor kinderen: "
            "nooit een naam, BSN of adres."
        ]
    )
    toel.append([])
    for t in tables:
        table = TABLES[t]
        toel.append([f"Blad {table.name}", table.help])
        toel.cell(row=toel.max_row, column=1).font = Font(bold=True)
        toel.append(["kolom", "verplicht", "soort", "uitleg"])
        for col in table.columns:
            toel.append([col.name, "ja" if col.required else "nee", col.kind.value, col.help])
        toel.append([])
    for name in code_names:
        toel.append([f"Codes: {name}"])
        toel.cell(row=toel.max_row, column=1).font = Font(bold=True)
        for code, label in code_values(name, year, care_types).items():
            toel.append([code, label])
        toel.append([])
    toel.column_dimensions["A"].width = 34
    toel.column_dimensions["B"].width = 60
    toel.column_dimensions["D"].width = 70
    wb.save(dest)
