"""Uploads seen before they are stored: which rows are new, changed or not in the file.

`apply_upload` reads and validates uploaded files exactly as the import does
(`providers.store.importer`), writes them with the same `write_validated` in one
transaction, and compares the stored tables before and after that write. Without
`commit` the transaction is rolled back, so a preview changes nothing; with
`commit` it is kept only when the changes equal the preview the user agreed to
(`expected`), so what is stored is what was shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from providers import reference
from providers.errors import ImportRejected, Problem, ProvidersError
from providers.io.read import MAX_FILE_BYTES, RawTable, read_bytes
from providers.schema import IMPORT_ORDER
from providers.store.access import Principal, audit
from providers.store.dump import load_records
from providers.store.importer import ImportSummary, _permission, known_keys, write_validated
from providers.store.models import AuditAction, Provider, Role
from providers.validate import validate

KEY_COLUMNS: dict[str, str] = {
    "aanbieders": "aanbieder_id",
    "aanbod": "aanbod_id",
    "contracten": "contract_id",
    "budgetten": "budget_id",
    "kinderen": "kind_ref",
}
# A preview lists at most this many keys per kind of change; the counts stay exact.
SHOWN_KEYS = 50


class PreviewOutdated(ProvidersError):
    """The stored data changed between the preview and the commit."""

    default_user_message = (
        "De opgeslagen gegevens zijn veranderd sinds u het voorbeeld bekeek. Er is niets "
        "ingelezen. Bekijk het nieuwe voorbeeld en bevestig opnieuw."
    )


@dataclass(frozen=True)
class TableChanges:
    """One table of an upload: keys of new and changed rows, how many stay the same, and
    the stored rows in the user's scope that the file does not mention (they stay)."""

    table: str
    new: tuple[str, ...]
    changed: tuple[str, ...]
    unchanged: int
    not_in_file: tuple[str, ...]


@dataclass(frozen=True)
class UploadChanges:
    tables: tuple[TableChanges, ...]

    @property
    def new(self) -> int:
        return sum(len(t.new) for t in self.tables)

    @property
    def changed(self) -> int:
        return sum(len(t.changed) for t in self.tables)


@dataclass(frozen=True)
class UploadOutcome:
    changes: UploadChanges
    summary: ImportSummary | None  # None for a preview


def _read(
    uploads: Iterable[tuple[str, bytes]], max_bytes: int
) -> tuple[list[RawTable], list[Problem], str]:
    tables: list[RawTable] = []
    problems: list[Problem] = []
    names: list[str] = []
    for name, data in uploads:
        t, p = read_bytes(name, data, max_bytes)
        tables.extend(t)
        problems.extend(p)
        names.append(name)
    return tables, problems, ", ".join(names)


def _stored(
    session: Session, principal: Principal, wanted: Sequence[str]
) -> dict[str, dict[str, dict[str, Any]]]:
    """The stored rows of `wanted` that this principal may replace, by key."""
    region = principal.region_code if principal.role is Role.INKOOP else None
    records = load_records(
        session,
        principal,
        wanted,
        region_code=region,
        waiting_only=False,
        purpose="inlezen vergelijken",
        action=AuditAction.READ,
    )
    own: str | None = None
    if principal.role is Role.AANBIEDER:
        own = session.scalar(select(Provider.ext_id).where(Provider.id == principal.provider_id))
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for table, rows in records.items():
        key = KEY_COLUMNS[table]
        out[table] = {str(r[key]): r for r in rows if own is None or r.get("aanbieder_id") == own}
    return out


def _compare(
    file_keys: Mapping[str, list[str]],
    before: Mapping[str, Mapping[str, Mapping[str, Any]]],
    after: Mapping[str, Mapping[str, Mapping[str, Any]]],
) -> UploadChanges:
    tables = []
    for table in IMPORT_ORDER:
        if table not in file_keys:
            continue
        keys = file_keys[table]
        old, new = before.get(table, {}), after.get(table, {})
        added = tuple(k for k in keys if k not in old)
        changed = tuple(k for k in keys if k in old and old[k] != new.get(k))
        listed = set(keys)
        tables.append(
            TableChanges(
                table=table,
                new=added,
                changed=changed,
                unchanged=len(keys) - len(added) - len(changed),
                not_in_file=tuple(sorted(k for k in old if k not in listed)),
            )
        )
    return UploadChanges(tuple(tables))


def _database_problem(files: str, message: str) -> ImportRejected:
    return ImportRejected([Problem(files or "(upload)", None, None, None, message, "DATABASE")])


def apply_upload(
    sessions: sessionmaker[Session],
    principal: Principal,
    uploads: Iterable[tuple[str, bytes]],
    *,
    commit: bool,
    expected: UploadChanges | None = None,
    year: int = reference.DEFAULT_YEAR,
    today: dt.date | None = None,
    max_bytes: int = MAX_FILE_BYTES,
) -> UploadOutcome:
    """Preview (commit=False) or store (commit=True) uploaded files, all-or-nothing.

    Raises `ImportRejected` with every problem (file, sheet, row, column), or
    `PreviewOutdated` when a commit would change other rows than `expected` shows."""
    tables, read_problems, files = _read(uploads, max_bytes)
    with sessions() as session:
        transaction = session.begin()
        try:
            v = validate(
                tables, read_problems, year=year, known_keys=known_keys(session), today=today
            )
            wanted = [t for t in IMPORT_ORDER if t in v.records]
            # The role check first, so a table this role may not write is reported as a
            # problem of the file, not as a refusal to read the stored rows.
            refused = _permission(session, principal, v, year)
            if refused:
                raise ImportRejected(refused)
            before = _stored(session, principal, wanted)
            summary = write_validated(session, principal, v, year=year, files=files)
            after = _stored(session, principal, wanted)
            file_keys = {t: [str(r[KEY_COLUMNS[t]]) for r in v.records[t]] for t in wanted}
            changes = _compare(file_keys, before, after)
            if not commit:
                transaction.rollback()
                return UploadOutcome(changes, None)
            if expected is not None and changes != expected:
                transaction.rollback()
                raise PreviewOutdated()
            audit(
                session,
                principal,
                AuditAction.IMPORT,
                "import_batches",
                [str(summary.batch_id)],
                detail=f"bestanden={files}; nieuw={changes.new}; gewijzigd={changes.changed}",
            )
            transaction.commit()
            return UploadOutcome(changes, summary)
        except IntegrityError as exc:
            transaction.rollback()
            raise _database_problem(
                files, "De gegevens passen niet bij wat al is opgeslagen."
            ) from exc
        except DBAPIError as exc:
            transaction.rollback()
            raise _database_problem(
                files, "De database gaf een fout; er is niets ingelezen."
            ) from exc
        except BaseException:
            if transaction.is_active:
                transaction.rollback()
            raise
