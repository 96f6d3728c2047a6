"""Imports as a use case (services.imports): all or nothing, every problem at once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from providers import demo
from providers.errors import ImportRejected
from providers.io import data_files, export_tables
from providers.store import access
from providers.store.engine import make_engine, migrate, session_factory
from providers.store.models import Offering
from services import imports as uc
from services.errors import InvalidRequest

TODAY = dt.date(2025, 6, 2)
SYSTEM = access.Principal.system("test")


@pytest.fixture
def empty(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    migrate(engine)
    return session_factory(engine)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("import")
    export_tables(demo.generate_region("JZ31", seed=2, n_children=20, today=TODAY), "csv", out)
    return out


def test_a_directory_is_imported_as_a_whole(empty: sessionmaker[Session], files: Path) -> None:
    result = uc.run_import(empty, SYSTEM, uc.ImportRequest(paths=(files,), today=TODAY))
    assert result.batch_id is not None
    assert result.inserted["aanbod"] > 0
    assert result.total == sum(result.inserted.values()) + sum(result.updated.values())
    assert data_files([files]) == sorted(files.glob("*.csv"))


def test_uploads_are_imported_like_files(empty: sessionmaker[Session], files: Path) -> None:
    uploads = tuple((p.name, p.read_bytes()) for p in sorted(files.glob("*.csv")))
    result = uc.run_import(empty, SYSTEM, uc.ImportRequest(uploads=uploads, today=TODAY))
    assert result.inserted["aanbod"] > 0


def test_a_bad_file_stores_nothing_and_names_every_problem(
    empty: sessionmaker[Session], tmp_path: Path
) -> None:
    bad = tmp_path / "aanbod.csv"
    bad.write_text("aanbod_id,aanbieder_id\nO-1,\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as exc:
        uc.run_import(empty, SYSTEM, uc.ImportRequest(paths=(bad,), today=TODAY))
    assert exc.value.problems
    assert "niets ingelezen" in exc.value.user_message
    with empty() as db:
        assert db.scalar(select(func.count()).select_from(Offering)) == 0


@pytest.mark.parametrize(
    "req",
    [uc.ImportRequest(), uc.ImportRequest(paths=(Path("a.csv"),), uploads=(("a.csv", b""),))],
)
def test_a_request_needs_files_or_uploads_not_both(
    empty: sessionmaker[Session], req: uc.ImportRequest
) -> None:
    with pytest.raises(InvalidRequest) as exc:
        uc.run_import(empty, SYSTEM, req)
    assert "bestanden" in exc.value.issues
