"""The two steps of a browser upload: a preview bound to its bytes, then the commit."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from providers.errors import ImportRejected
from providers.store.access import Principal
from providers.store.engine import make_engine, migrate, session_factory
from providers.store.upload_preview import UploadChanges
from services.errors import InvalidRequest
from services.uploads import (
    PendingUploads,
    UploadRequest,
    commit_upload,
    digest_of,
    preview_upload,
)

NOTHING = UploadChanges(())
BEHEER = Principal.system("beheerder")
PROVIDERS_CSV = b"aanbieder_id,naam,regio,hoofdaannemer\nP-1,Hulp Zuid,JZ31,nee\n"


@pytest.fixture
def empty_db(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'leeg.sqlite3'}")
    migrate(engine)
    return session_factory(engine)


def test_digest_depends_on_names_content_and_where_bytes_sit() -> None:
    assert digest_of((("a.csv", b"xy"),)) != digest_of((("a.csv", b"xz"),))
    assert digest_of((("a.csv", b"xy"),)) != digest_of((("b.csv", b"xy"),))
    assert digest_of((("a", b"bc"),)) != digest_of((("ab", b"c"),))


def test_a_pending_upload_is_for_one_user_one_digest_and_one_use(
    empty_db: sessionmaker[Session],
) -> None:
    pending = PendingUploads(empty_db)
    item = pending.put("anna", (("a.csv", b"1"),), NOTHING)
    assert pending.take(item.token, "bert", item.digest) is None
    assert pending.take(item.token, "anna", "0" * 64) is None
    assert pending.take(item.token, "anna", item.digest) == item
    assert pending.take(item.token, "anna", item.digest) is None


def test_pending_uploads_expire_and_are_bounded(empty_db: sessionmaker[Session]) -> None:
    now = [0.0]
    pending = PendingUploads(empty_db, ttl_s=10, max_entries=2, clock=lambda: now[0])
    first = pending.put("anna", (("a.csv", b"1"),), NOTHING)
    now[0] = 11
    assert pending.take(first.token, "anna", first.digest) is None
    a = pending.put("a", (), NOTHING)
    b = pending.put("b", (), NOTHING)
    c = pending.put("c", (), NOTHING)
    assert pending.take(a.token, "a", a.digest) is None  # the oldest made room
    assert pending.take(b.token, "b", b.digest) == b
    assert pending.take(c.token, "c", c.digest) == c


def test_a_new_upload_replaces_the_users_previous_preview(
    empty_db: sessionmaker[Session],
) -> None:
    pending = PendingUploads(empty_db)
    first = pending.put("anna", (("a.csv", b"1"),), NOTHING)
    pending.put("anna", (("a.csv", b"2"),), NOTHING)
    assert pending.take(first.token, "anna", first.digest) is None


def test_preview_then_commit_stores_the_previewed_file(empty_db: sessionmaker[Session]) -> None:
    pending = PendingUploads(empty_db)
    req = UploadRequest(files=(("aanbieders.csv", PROVIDERS_CSV),))
    preview = preview_upload(empty_db, BEHEER, pending, req)
    assert [(t.table, t.new) for t in preview.changes.tables] == [("aanbieders", ("P-1",))]
    with pytest.raises(InvalidRequest):
        commit_upload(empty_db, BEHEER, pending, preview.token, digest_of(((" x", b""),)))
    done = commit_upload(empty_db, BEHEER, pending, preview.token, preview.digest)
    assert done.batch_id is not None
    assert done.changes == preview.changes
    with pytest.raises(InvalidRequest) as exc:  # used once
        commit_upload(empty_db, BEHEER, pending, preview.token, preview.digest)
    assert "verlopen of al gebruikt" in exc.value.user_message


def test_a_preview_without_files_or_with_problems_keeps_nothing(
    empty_db: sessionmaker[Session],
) -> None:
    pending = PendingUploads(empty_db)
    with pytest.raises(InvalidRequest):
        preview_upload(empty_db, BEHEER, pending, UploadRequest(files=()))
    bad = b"aanbieder_id,naam,regio,hoofdaannemer\nP-1,Hulp Zuid,JZ99,nee\n"
    with pytest.raises(ImportRejected) as exc:
        preview_upload(empty_db, BEHEER, pending, UploadRequest(files=(("aanbieders.csv", bad),)))
    assert exc.value.problems[0].row == 2
    assert exc.value.problems[0].column == "regio"
    assert pending.waiting() == 0
