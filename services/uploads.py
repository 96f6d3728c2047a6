"""Use case: upload files in the browser, see what would change, then store it all at once.

Step one (`preview_upload`) reads and validates the files with the same code as
``python -m providers import`` (`providers.store.upload_preview` uses the
importer's validation, role check and writer) and stores nothing. The uploaded
bytes are kept on the server under a random token, with the SHA-256 of their
names and content and the changes that were shown. Step two (`commit_upload`)
stores exactly those bytes: the token must belong to the same user, the hash the
form carries must match, and the write must change the same rows as the preview
showed, or nothing is stored.

Pending uploads are kept in the database (`providers.store.pending_uploads`), so
the confirmation may reach another server process than the preview, or the same
one after a restart; they expire after 30 minutes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from providers import reference
from providers.io.read import MAX_FILE_BYTES
from providers.store import pending_uploads as pending_store
from providers.store.access import Principal
from providers.store.upload_preview import SHOWN_KEYS as SHOWN_KEYS
from providers.store.upload_preview import UploadChanges as UploadChanges
from providers.store.upload_preview import apply_upload
from services.errors import InvalidRequest

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

EXPIRED = (
    "Dit voorbeeld is verlopen of al gebruikt. Er is niets ingelezen. Kies het bestand opnieuw."
)
# How long a preview may wait for its confirmation, and how many may wait at once.
PENDING_TTL_S = 30 * 60
PENDING_MAX = 100


def digest_of(files: tuple[tuple[str, bytes], ...]) -> str:
    """SHA-256 over every file's name and content, each prefixed with its length, so
    no two different uploads share a digest by moving bytes between files."""
    h = hashlib.sha256()
    for name, data in files:
        encoded = name.encode()
        h.update(len(encoded).to_bytes(8, "big") + encoded)
        h.update(len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


@dataclass(frozen=True)
class PendingUpload:
    token: str
    username: str
    files: tuple[tuple[str, bytes], ...]
    digest: str
    changes: UploadChanges
    created: float


class PendingUploads:
    """Previews waiting for their confirmation, in the database: one per token, for
    one user, used once; one per user (a new upload replaces the previous one)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        ttl_s: float = PENDING_TTL_S,
        max_entries: int = PENDING_MAX,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._sessions = sessions
        self._clock = clock

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self._clock(), dt.UTC)

    def put(
        self, username: str, files: tuple[tuple[str, bytes], ...], changes: UploadChanges
    ) -> PendingUpload:
        now = self._now()
        digest = digest_of(files)
        with self._sessions.begin() as session:
            token = pending_store.put(
                session,
                username,
                files,
                digest,
                changes,
                now=now,
                ttl_s=self.ttl_s,
                max_entries=self.max_entries,
            )
        return PendingUpload(token, username, files, digest, changes, now.timestamp())

    def waiting(self) -> int:
        with self._sessions() as session:
            return pending_store.waiting(session)

    def take(self, token: str, username: str, digest: str) -> PendingUpload | None:
        """The pending upload if it is this user's, unexpired and unchanged; removed only
        when it matched (a wrong guess does not destroy another's preview)."""
        with self._sessions.begin() as session:
            found = pending_store.take(session, token, username, digest, now=self._now())
        if found is None:
            return None
        files, stored_digest, changes, created = found
        if digest_of(files) != stored_digest:
            return None
        return PendingUpload(token, username, files, stored_digest, changes, created.timestamp())


@dataclass(frozen=True)
class UploadRequest:
    files: tuple[tuple[str, bytes], ...]
    today: dt.date | None = None
    year: int = reference.DEFAULT_YEAR
    max_bytes: int = MAX_FILE_BYTES


@dataclass(frozen=True)
class UploadPreview:
    token: str
    digest: str
    file_names: tuple[str, ...]
    changes: UploadChanges


@dataclass(frozen=True)
class UploadDone:
    batch_id: int | None
    file_names: tuple[str, ...]
    changes: UploadChanges


def preview_upload(
    sessions: sessionmaker[Session],
    user: Principal,
    pending: PendingUploads,
    req: UploadRequest,
) -> UploadPreview:
    """Validate and compare; stores nothing. Raises `ImportRejected` with every problem."""
    if not req.files:
        raise InvalidRequest({"bestanden": "Kies een of meer bestanden om in te lezen."})
    out = apply_upload(
        sessions,
        user,
        req.files,
        commit=False,
        year=req.year,
        today=req.today,
        max_bytes=req.max_bytes,
    )
    item = pending.put(user.username, req.files, out.changes)
    return UploadPreview(item.token, item.digest, tuple(n for n, _ in req.files), out.changes)


def commit_upload(
    sessions: sessionmaker[Session],
    user: Principal,
    pending: PendingUploads,
    token: str,
    digest: str,
    *,
    today: dt.date | None = None,
    year: int = reference.DEFAULT_YEAR,
    max_bytes: int = MAX_FILE_BYTES,
) -> UploadDone:
    """Store the previewed files exactly as previewed, or nothing (`PreviewOutdated`,
    `ImportRejected`, or InvalidRequest for an unknown or used token)."""
    item = pending.take(token, user.username, digest)
    if item is None:
        raise InvalidRequest({"bestanden": EXPIRED})
    out = apply_upload(
        sessions,
        user,
        item.files,
        commit=True,
        expected=item.changes,
        year=year,
        today=today,
        max_bytes=max_bytes,
    )
    batch = out.summary.batch_id if out.summary else None
    return UploadDone(batch, tuple(n for n, _ in item.files), out.changes)
