"""Fixtures of the security suite.

The app runs in-process on a copy of the wijzer test data set (tests/wijzer/data.py),
on SQLite and, when WIJZER_TEST_POSTGRES_URL is set, on PostgreSQL in a fresh
schema per test (dropped afterwards, also when a test fails). Logins always go
through the real login form, so argon2, the rate limiter and session rotation
are part of every authenticated test.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.orm import Session, sessionmaker

from providers.store.engine import make_engine, migrate, session_factory
from tests.wijzer.conftest import csrf_from, login, username_for
from tests.wijzer.data import PASSWORD, TODAY, seed
from wijzer.app import create_app
from wijzer.auth import Role
from wijzer.settings import Settings

PG_ENV = "WIJZER_TEST_POSTGRES_URL"
RUN_PREFIX = f"ws_{uuid.uuid4().hex[:8]}"
SECRET = "security-suite-" + "s" * 40
# Tables that must exist; count_rows counts every table it finds.
ALL_TABLES = (
    "organisations",
    "accounts",
    "providers",
    "subcontract_acceptances",
    "offerings",
    "contracts",
    "budgets",
    "children",
    "child_needs",
    "audit_log",
    "import_batches",
)

PG_SKIP = pytest.mark.skipif(
    not os.environ.get(PG_ENV),
    reason=f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)",
)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, PG_SKIP])]

__all__ = [
    "ALL_TABLES",
    "BACKENDS",
    "PASSWORD",
    "PG_ENV",
    "PG_SKIP",
    "TODAY",
    "count_rows",
    "csrf_from",
    "drop_role",
    "logged_in",
    "login",
    "pg_url_for_schema",
    "username_for",
]


def count_rows(engine: Engine) -> dict[str, int]:
    """Rows in every table of the schema (new tables count too, without a list to keep)."""
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names()) - {"alembic_version"}
        assert set(ALL_TABLES) <= tables
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}


def pg_url_for_schema(schema: str, application_name: str = "wijzer-test") -> str:
    """The test server URL with a search_path, so the app's own engine lands in the schema."""
    base = os.environ[PG_ENV]
    sep = "&" if "?" in base else "?"
    options = quote(f"-csearch_path={schema}")
    return f"{base}{sep}options={options}&application_name={application_name}"


def drop_role(admin: Engine, role: str) -> None:
    """Drop a database role and what it was granted, if it exists (roles are cluster-wide)."""
    with admin.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first():
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine | None]:
    url = os.environ.get(PG_ENV)
    if not url:
        yield None
        return
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    yield admin
    with admin.connect() as conn:
        names = conn.execute(
            text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :p"),
            {"p": RUN_PREFIX + "%"},
        ).scalars()
        for name in list(names):
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        roles = conn.execute(
            text("SELECT rolname FROM pg_roles WHERE rolname LIKE :p"), {"p": RUN_PREFIX + "%"}
        ).scalars()
        leftover = list(roles)
    for role in leftover:
        drop_role(admin, role)
    admin.dispose()


@pytest.fixture
def pg_schema(pg_admin: Engine | None) -> Iterator[str]:
    """A fresh, empty schema on the PostgreSQL test server, dropped afterwards."""
    if pg_admin is None:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}")
    schema = f"{RUN_PREFIX}_{uuid.uuid4().hex[:8]}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with pg_admin.connect() as conn:
            # Sessions still holding locks in the schema would block the DROP.
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :a AND pid <> pg_backend_pid()"
                ),
                {"a": schema},
            )
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("secdb") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with session_factory(engine).begin() as session:
        ids = seed(session)
    engine.dispose()
    return path, ids


def _settings(url: str, **kw: object) -> Settings:
    values: dict[str, object] = {
        "secret_key": SECRET,
        "login_max_failures": 3,
        "database_url": url,
        "today": TODAY,
        # see tests/wijzer/conftest.py: the process pool has its own tests
        "jobs_executor": "thread",
        "jobs_max_active": 20,
    }
    values.update(kw)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def seeded_url(
    backend: str,
    tmp_path: Path,
    template_db: tuple[Path, dict[str, int]],
    request: pytest.FixtureRequest,
) -> tuple[str, dict[str, int]]:
    """A database URL with the wijzer test data, on the chosen backend."""
    if backend == "sqlite":
        db = tmp_path / "wijzer.sqlite3"
        shutil.copy(template_db[0], db)
        return f"sqlite:///{db}", template_db[1]
    schema: str = request.getfixturevalue("pg_schema")
    url = pg_url_for_schema(schema, application_name=schema)
    engine = make_engine(url)
    try:
        migrate(engine)
        with session_factory(engine).begin() as session:
            ids = seed(session)
    finally:
        engine.dispose()
    return url, ids


@pytest.fixture
def ids(seeded_url: tuple[str, dict[str, int]]) -> dict[str, int]:
    return seeded_url[1]


@pytest.fixture
def settings(seeded_url: tuple[str, dict[str, int]]) -> Settings:
    return _settings(seeded_url[0])


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.jobs.shutdown()
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def sessions(app: FastAPI) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = app.state.sessions
    return factory


def logged_in(app: FastAPI, role: Role | str) -> TestClient:
    """A new client (own cookie jar) logged in through the real login form."""
    c = TestClient(app, base_url="http://testserver")
    login(c, username_for(role) if isinstance(role, Role) else role)
    return c


@pytest.fixture
def client_for(app: FastAPI) -> Iterator[Callable[[Role | str], TestClient]]:
    made: list[TestClient] = []

    def make(role: Role | str) -> TestClient:
        c = logged_in(app, role)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()
