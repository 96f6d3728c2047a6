"""Problems found in input files, reported all at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    """One problem in an input file, with a B1 Dutch message.

    `row` is the row number as the user sees it in Excel (header = row 1);
    `sheet` is the sheet (XLSX) or the table (CSV) name.
    """

    file: str
    sheet: str | None
    row: int | None
    column: str | None
    message: str
    code: str = "ONGELDIG"

    def where(self) -> str:
        parts = [self.file]
        if self.sheet:
            parts.append(f"blad {self.sheet}")
        if self.row is not None:
            parts.append(f"rij {self.row}")
        if self.column:
            parts.append(f"kolom {self.column}")
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.where()}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class ImportRejected(ValueError):
    """The input has problems; nothing was imported.  `.problems` lists them all."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems[:50])
        more = len(self.problems) - 50
        tail = f"\n  ... en nog {more} problemen" if more > 0 else ""
        super().__init__(
            f"{len(self.problems)} probleem/problemen gevonden; er is niets ingelezen."
            f"\n{lines}{tail}"
        )
