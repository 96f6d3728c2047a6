"""The corpus of broken inputs (tests/security/corpus/, see make_corpus.py).

Every case goes through the real import paths (``import_files`` for files on
disk, as the command line does, and ``import_upload`` for uploaded bytes, as a
web upload would) against a database holding the wijzer test data. Each must
be refused with the expected problem code, naming the file (and the row and
column where the case has one), in Dutch, and must leave every table exactly
as it was (rows counted in all tables before and after, audit log included).

The wijzer has no upload page yet; when it gets one, it must call
``import_upload`` and this corpus covers it.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from providers.errors import ImportRejected, Problem
from providers.io.read import MAX_FILE_BYTES
from providers.store import Principal
from providers.store.engine import make_engine, migrate, session_factory
from providers.store.importer import import_files, import_upload
from tests.security.bad_files import zip_bomb
from tests.security.conftest import (
    BACKENDS,
    RUN_PREFIX,
    TODAY,
    count_rows,
    pg_url_for_schema,
)
from tests.security.make_corpus import KID, KID2, OFFER, kids, offers
from tests.wijzer.data import seed

CORPUS = Path(__file__).parent / "corpus"
MANIFEST: dict[str, dict[str, Any]] = json.loads((CORPUS / "manifest.json").read_text())
SYSTEM = Principal.system("corpus-test")
# Words that show a message was not written for the user (English, internals).
NOT_FOR_USERS = re.compile(
    r"Traceback|Exception|Error\b|invalid|expected|expecting|is not a|None\b|sqlalchemy|"
    r"psycopg|line \d+ column|\(char \d+\)|\bgeen een\b",
    re.I,
)
DUTCH_HINTS = re.compile(
    r"\b(het|de|een|is|niet|geen|staat|kolom|bestand|rij|datum|waarde|getal|gebruik|mag|"
    r"ontbreekt|bestaat|te|alleen|kunnen|worden|ingelezen)\b",
    re.I,
)


@pytest.fixture(scope="module", params=BACKENDS)
def corpus_db(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    pg_admin: Engine | None,
) -> Iterator[tuple[Engine, sessionmaker[Session]]]:
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('corpus') / 'db.sqlite3'}"
    else:
        assert pg_admin is not None
        schema = f"{RUN_PREFIX}_{uuid.uuid4().hex[:8]}"
        with pg_admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = pg_url_for_schema(schema, application_name=schema)
    engine = make_engine(url)
    try:
        migrate(engine)
        with session_factory(engine).begin() as session:
            seed(session)
        yield engine, session_factory(engine)
    finally:
        engine.dispose()
        if schema and pg_admin is not None:
            with pg_admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def test_corpus_is_large_enough() -> None:
    assert len(MANIFEST) >= 100
    for name, case in MANIFEST.items():
        assert case.get("generated") or (CORPUS / name).is_dir(), name


def _case_files(name: str, tmp_path: Path) -> list[Path]:
    if name == "xlsx_zip_bomb":
        bomb = tmp_path / "aanbod.xlsx"
        bomb.write_bytes(zip_bomb())
        return [bomb]
    if MANIFEST[name].get("generated"):
        big = tmp_path / "kinderen.csv"
        with big.open("wb") as f:
            f.write((kids(KID)).encode())
            # Sparse: the size is over the limit, the disk holds almost nothing.
            f.truncate(MAX_FILE_BYTES + 1)
        return [big]
    return sorted((CORPUS / name).iterdir())


def _check_problems(name: str, problems: tuple[Problem, ...]) -> None:
    expect = MANIFEST[name]["expect"]
    assert problems, name
    for p in problems:
        assert p.file, (name, p)
        assert p.message.strip(), (name, p)
        assert not NOT_FOR_USERS.search(p.message), (name, p.message)
        assert DUTCH_HINTS.search(p.message), (name, p.message)
    matching = [
        p
        for p in problems
        if p.code == expect["code"]
        and ("file" not in expect or p.file == expect["file"])
        and ("row" not in expect or p.row == expect["row"])
        and ("column" not in expect or p.column == expect["column"])
    ]
    assert matching, (
        name,
        expect,
        [(p.code, p.file, p.row, p.column, p.message) for p in problems],
    )
    # The text a user sees says where: the file, and the row and column when known.
    shown = str(matching[0])
    assert matching[0].file in shown
    if matching[0].row is not None:
        assert f"rij {matching[0].row}" in shown
    if matching[0].column:
        assert f"kolom {matching[0].column}" in shown


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_broken_input_is_refused_and_changes_nothing(
    name: str, corpus_db: tuple[Engine, sessionmaker[Session]], tmp_path: Path
) -> None:
    engine, sessions = corpus_db
    files = _case_files(name, tmp_path)
    before = count_rows(engine)

    with pytest.raises(ImportRejected) as from_disk:
        import_files(sessions, SYSTEM, files, today=TODAY)
    _check_problems(name, from_disk.value.problems)
    assert count_rows(engine) == before, name

    if name == "xlsx_zip_bomb" or not MANIFEST[name].get("generated"):
        uploads = [(f.name, f.read_bytes()) for f in files]
        with pytest.raises(ImportRejected) as uploaded:
            import_upload(sessions, SYSTEM, uploads, today=TODAY)
        _check_problems(name, uploaded.value.problems)
    else:
        # An upload over the limit is refused on its length, before any parsing.
        with pytest.raises(ImportRejected) as uploaded:
            import_upload(sessions, SYSTEM, [("kinderen.csv", b"x" * 101)], max_bytes=100)
        assert uploaded.value.problems[0].code == "TE_GROOT"
    assert count_rows(engine) == before, name


def test_the_good_rows_of_the_corpus_do_import(
    corpus_db: tuple[Engine, sessionmaker[Session]], tmp_path: Path
) -> None:
    """Control: the rows the corpus breaks are valid on their own, and an import
    does change the counts, so 'nothing changed' above means something."""
    engine, sessions = corpus_db
    (tmp_path / "kinderen.csv").write_text(kids(KID, KID2))
    (tmp_path / "aanbod.csv").write_text(offers(OFFER))
    before = count_rows(engine)
    summary = import_files(sessions, SYSTEM, sorted(tmp_path.iterdir()), today=TODAY)
    assert summary.total() == 3
    after = count_rows(engine)
    assert after["children"] == before["children"] + 2
    assert after["offerings"] == before["offerings"] + 1
    assert after["audit_log"] == before["audit_log"] + 1
    with sessions() as s:
        s.execute(
            text(
                "DELETE FROM child_needs WHERE child_id IN "
                "(SELECT id FROM children WHERE ref IN ('K-900001', 'K-900002'))"
            )
        )
        s.execute(text("DELETE FROM children WHERE ref IN ('K-900001', 'K-900002')"))
        s.execute(text("DELETE FROM offerings WHERE ext_id = 'O-900001'"))
        s.commit()
