"""Upload in the browser: the form with the import history, the problems of a refused
file, and the preview of what will change."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel
from sqlalchemy.orm import Session

from services.audit import import_batches
from services.errors import Problem
from services.uploads import SHOWN_KEYS, UploadChanges
from wijzer.auth import Role, SessionUser

TABLE_LABELS: dict[str, str] = {
    "aanbieders": "Aanbieders",
    "aanbod": "Aanbod",
    "contracten": "Contracten",
    "budgetten": "Budgetten",
    "kinderen": "Kinderen op de wachtlijst",
}
# What each role may upload, in words (the data layer decides; this only explains).
WHAT_YOU_MAY: dict[Role, str] = {
    Role.BEHEER: "U kunt alle tabellen inlezen: aanbieders, aanbod, contracten, budgetten "
    "en kinderen.",
    Role.AANBIEDER: "U kunt alleen uw eigen aanbod inlezen (de tabel aanbod).",
    Role.TAFEL: "U kunt de wachtlijst van uw eigen regio inlezen (de tabel kinderen).",
}
# A refused file can have thousands of problems; the page shows this many.
SHOWN_PROBLEMS = 500


class BatchItem(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    files: str
    counts: list[tuple[str, int]]
    total: int


class UploadPage(BaseModel):
    what_you_may: str
    batches: list[BatchItem]
    show_actor: bool
    stored_batch: int | None = None
    error: str = ""


class ProblemItem(BaseModel):
    file: str
    sheet: str
    row: str
    column: str
    message: str


class ProblemsPage(BaseModel):
    files: list[str]
    problems: list[ProblemItem]
    total: int


class TableItem(BaseModel):
    table: str
    label: str
    new: list[str]
    new_count: int
    changed: list[str]
    changed_count: int
    unchanged: int
    not_in_file: list[str]
    not_in_file_count: int


class PreviewPage(BaseModel):
    files: list[str]
    token: str
    digest: str
    tables: list[TableItem]
    new: int
    changed: int
    shown_keys: int = SHOWN_KEYS
    nothing_changes: bool = False


def upload_page(
    session: Session,
    user: SessionUser,
    *,
    stored_batch: int | None = None,
    error: str = "",
) -> UploadPage:
    batches = [
        BatchItem(
            id=b.id,
            at=b.at,
            actor=b.actor,
            files=b.files,
            counts=[(TABLE_LABELS.get(t, t), n) for t, n in b.counts.items()],
            total=b.total,
        )
        for b in import_batches(session, user)
    ]
    return UploadPage(
        what_you_may=WHAT_YOU_MAY.get(user.role, ""),
        batches=batches,
        show_actor=user.role is Role.BEHEER,
        stored_batch=stored_batch,
        error=error,
    )


def problems_page(files: list[str], problems: list[Problem]) -> ProblemsPage:
    items = [
        ProblemItem(
            file=p.file,
            sheet=p.sheet or "",
            row="" if p.row is None else str(p.row),
            column=p.column or "",
            message=p.message,
        )
        for p in problems[:SHOWN_PROBLEMS]
    ]
    return ProblemsPage(files=files, problems=items, total=len(problems))


def preview_page(files: list[str], token: str, digest: str, changes: UploadChanges) -> PreviewPage:
    tables = [
        TableItem(
            table=t.table,
            label=TABLE_LABELS.get(t.table, t.table),
            new=list(t.new[:SHOWN_KEYS]),
            new_count=len(t.new),
            changed=list(t.changed[:SHOWN_KEYS]),
            changed_count=len(t.changed),
            unchanged=t.unchanged,
            not_in_file=list(t.not_in_file[:SHOWN_KEYS]),
            not_in_file_count=len(t.not_in_file),
        )
        for t in changes.tables
    ]
    return PreviewPage(
        files=files,
        token=token,
        digest=digest,
        tables=tables,
        new=changes.new,
        changed=changes.changed,
        nothing_changes=changes.new == 0 and changes.changed == 0,
    )
