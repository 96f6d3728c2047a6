"""Use case: case data leaves the system as a CSV or XLSX file.

Every export of rows goes through `export`, which writes the export (what, which
children, which format) to the audit log before it hands back the sheets to write;
so no route can hand out a file without the log knowing. A result becomes a sheet
through its DataFrame (`services.frames.to_frame`, then `frame_sheet`), the same
frame an analyst gets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from providers.io.export import frame_sheet as frame_sheet
from providers.store import access
from providers.store.access import Principal
from services.errors import InvalidRequest

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# The header and the rows of one sheet.
Sheet = tuple[Sequence[str], Sequence[Sequence[Any]]]
FORMATS = ("csv", "xlsx")


class ExportKind(StrEnum):
    """What leaves, as the audit log names it."""

    DECISION_LIST = "tafel_besluitenlijst"
    UITVRAAG = "uitvraag"
    INKOOP_SCENARIO = "inkoop_scenario"


def export(
    session: Session,
    principal: Principal,
    kind: ExportKind,
    fmt: str,
    sheets: Mapping[str, Sheet],
    *,
    refs: Iterable[str] = (),
) -> dict[str, Sheet]:
    """Record that the sheets leave as `fmt` (with the refs of the children in them;
    none for totals) and return them in order. The caller commits."""
    if fmt not in FORMATS:
        raise InvalidRequest({"formaat": "Kies csv of xlsx."})
    access.record_export(session, principal, kind.value, list(refs), fmt)
    return dict(sheets)
