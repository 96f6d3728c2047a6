"""Use case: import provider data (files on disk, or uploaded files) all-or-nothing.

Reading, validation and storage are the data layer's (``providers.io``,
``providers.validate``, ``providers.store.importer``), which also checks that the
user may write each row.  On any problem nothing is stored and
``providers.errors.ImportRejected`` lists every problem (file, row, column, B1
message).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from providers import reference
from providers.io import data_files
from providers.store import importer
from providers.store.access import Principal
from services.errors import InvalidRequest

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker


@dataclass(frozen=True)
class ImportRequest:
    """Files on disk (`paths`, directories are read for their data files) or uploaded
    (`uploads`: name and content), not both."""

    paths: tuple[Path, ...] = ()
    uploads: tuple[tuple[str, bytes], ...] = ()
    year: int = reference.DEFAULT_YEAR
    today: dt.date | None = None


@dataclass(frozen=True)
class ImportResult:
    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    batch_id: int | None = None

    @property
    def total(self) -> int:
        return sum(self.inserted.values()) + sum(self.updated.values())


def run_import(
    sessions: sessionmaker[Session], user: Principal, req: ImportRequest
) -> ImportResult:
    """Store every table of the request, or nothing (ImportRejected with every problem)."""
    if bool(req.paths) == bool(req.uploads):
        raise InvalidRequest({"bestanden": "Kies de bestanden die u wilt inlezen."})
    if req.paths:
        summary = importer.import_files(
            sessions, user, data_files(req.paths), year=req.year, today=req.today
        )
    else:
        summary = importer.import_upload(
            sessions, user, req.uploads, year=req.year, today=req.today
        )
    return ImportResult(dict(summary.inserted), dict(summary.updated), summary.batch_id)
