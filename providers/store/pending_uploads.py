"""Uploads waiting between their preview and their confirmation, in the database.

Any server process can confirm a preview another one made (or the same one after a
restart). A row holds the uploaded files, the SHA-256 digest the form carries and
the changes that were shown, as JSON; one waiting preview per user, at most
`max_entries` in all, each until its expiry. Taking one needs the token, the same
user and the same digest, and removes it, so it is confirmed once.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from providers.store.models import PendingUploadRow
from providers.store.upload_preview import TableChanges, UploadChanges

Files = tuple[tuple[str, bytes], ...]


def pack(files: Files) -> bytes:
    """The files as one value: each name and content prefixed with its length."""
    out = bytearray()
    for name, data in files:
        encoded = name.encode()
        out += len(encoded).to_bytes(8, "big") + encoded
        out += len(data).to_bytes(8, "big") + data
    return bytes(out)


def unpack(blob: bytes) -> Files:
    files: list[tuple[str, bytes]] = []
    i = 0
    while i < len(blob):
        n = int.from_bytes(blob[i : i + 8], "big")
        name = blob[i + 8 : i + 8 + n].decode()
        i += 8 + n
        m = int.from_bytes(blob[i : i + 8], "big")
        files.append((name, blob[i + 8 : i + 8 + m]))
        i += 8 + m
    return tuple(files)


def changes_json(changes: UploadChanges) -> str:
    return json.dumps(
        [
            [t.table, list(t.new), list(t.changed), t.unchanged, list(t.not_in_file)]
            for t in changes.tables
        ]
    )


def changes_of(text: str) -> UploadChanges:
    rows: Sequence[list[Any]] = json.loads(text)
    tables = []
    for table, new, changed, unchanged, gone in rows:
        tables.append(
            TableChanges(
                str(table),
                tuple(str(x) for x in new),
                tuple(str(x) for x in changed),
                int(unchanged),
                tuple(str(x) for x in gone),
            )
        )
    return UploadChanges(tuple(tables))


def put(
    session: Session,
    owner: str,
    files: Files,
    digest: str,
    changes: UploadChanges,
    *,
    now: dt.datetime,
    ttl_s: float,
    max_entries: int,
) -> str:
    """Keep a preview; returns its token. Replaces the owner's previous one; the
    expired ones go, and the oldest when `max_entries` are waiting."""
    session.execute(delete(PendingUploadRow).where(PendingUploadRow.expires_at <= now))
    session.execute(delete(PendingUploadRow).where(PendingUploadRow.owner == owner))
    waiting = session.scalar(select(func.count()).select_from(PendingUploadRow)) or 0
    if waiting >= max_entries:
        oldest = session.scalars(
            select(PendingUploadRow.id)
            .order_by(PendingUploadRow.created_at, PendingUploadRow.id)
            .limit(waiting - max_entries + 1)
        ).all()
        session.execute(delete(PendingUploadRow).where(PendingUploadRow.id.in_(oldest)))
    token = secrets.token_urlsafe(24)
    session.add(
        PendingUploadRow(
            token=token,
            owner=owner,
            digest=digest,
            files=pack(files),
            changes=changes_json(changes),
            created_at=now,
            expires_at=now + dt.timedelta(seconds=ttl_s),
        )
    )
    session.flush()
    return token


def waiting(session: Session) -> int:
    """How many previews wait for their confirmation (expired ones included until the
    next preview removes them)."""
    return int(session.scalar(select(func.count()).select_from(PendingUploadRow)) or 0)


def take(
    session: Session, token: str, owner: str, digest: str, *, now: dt.datetime
) -> tuple[Files, str, UploadChanges, dt.datetime] | None:
    """(files, digest, changes, created) of the owner's unexpired preview with this
    digest, removed; None otherwise (a wrong guess leaves another's preview alone).
    The row is locked while it is taken, so two servers cannot both confirm it."""
    row = session.scalar(
        select(PendingUploadRow).where(PendingUploadRow.token == token).with_for_update()
    )
    if row is None or row.owner != owner or _aware(row.expires_at) <= now:
        return None
    if not secrets.compare_digest(row.digest, digest):
        return None
    out = (unpack(row.files), row.digest, changes_of(row.changes), _aware(row.created_at))
    result = session.execute(delete(PendingUploadRow).where(PendingUploadRow.token == token))
    if not getattr(result, "rowcount", 1):
        return None  # another server took it first
    return out


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; they were written in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
