"""Fixtures: every database test runs on SQLite, and on PostgreSQL when
WIJZER_TEST_POSTGRES_URL is set (CI sets it).  Each PostgreSQL test gets its
own schema, named with a per-run prefix and dropped afterwards, so runs can
repeat and run side by side without touching each other's data."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from providers import demo
from providers.io import export_tables
from providers.store import make_engine, migrate, session_factory

PG_ENV = "WIJZER_TEST_POSTGRES_URL"
RUN_PREFIX = f"wt_{uuid.uuid4().hex[:8]}"
TODAY = dt.date(2025, 6, 2)

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(
                not os.environ.get(PG_ENV),
                reason=f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)",
            ),
        ],
    ),
]


@pytest.fixture(scope="session")
def _pg_admin() -> Iterator[Engine | None]:
    url = os.environ.get(PG_ENV)
    if not url:
        yield None
        return
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    yield admin
    # Leftovers of this run (a test that died before its own teardown).
    with admin.connect() as conn:
        names = conn.execute(
            text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :p"), {"p": RUN_PREFIX + "%"}
        ).scalars()
        for name in list(names):
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, _pg_admin: Engine | None
) -> Iterator[Engine]:
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
        migrate(eng)
        yield eng
        eng.dispose()
        return
    assert _pg_admin is not None
    schema = f"{RUN_PREFIX}_{uuid.uuid4().hex[:8]}"
    with _pg_admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    eng = make_engine(os.environ[PG_ENV], schema=schema)
    try:
        migrate(eng)
        yield eng
    finally:
        eng.dispose()
        with _pg_admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Demo files of ZHZ (JZ31) in the import format, written once per run."""
    out = tmp_path_factory.mktemp("demo_jz31")
    data = demo.generate_region("JZ31", seed=1, n_children=60, today=TODAY)
    export_tables(data, "csv", out)
    return out
