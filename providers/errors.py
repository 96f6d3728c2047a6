"""The data layer's errors: one base class, and the problems found in input files,
reported all at once.

Every error here carries two messages: `user_message`, B1 Dutch for the person at
the screen, and `str(exc)`, for the developer and the log.  A route shows the
first and never the second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass


class ProvidersError(Exception):
    """Base of the data layer's errors."""

    default_user_message = "Er ging iets mis met de gegevens."

    def __init__(self, message: str = "", *, user_message: str | None = None) -> None:
        self.user_message = user_message or message or self.default_user_message
        super().__init__(message or self.user_message)

    @property
    def message(self) -> str:
        """The user message (the name the routes have always read)."""
        return self.user_message


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


class ImportRejected(ProvidersError, ValueError):
    """The input has problems; nothing was imported.  `.problems` lists them all."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems[:50])
        more = len(self.problems) - 50
        tail = f"\n  ... en nog {more} problemen" if more > 0 else ""
        head = f"{len(self.problems)} probleem/problemen gevonden; er is niets ingelezen."
        super().__init__(f"{head}\n{lines}{tail}", user_message=head)
