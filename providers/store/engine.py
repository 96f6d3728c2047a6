"""Engines, sessions and migrations.

A SQLite file by default; PostgreSQL (or any SQLAlchemy URL) through
`WIJZER_DATABASE_URL`.  `migrate()` brings a database to the newest schema
with the alembic migrations that ship inside this package.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
DEFAULT_SQLITE = "sqlite:///wijzer.deps"
ENV_URL = "WIJZER_DATABASE_URL"


def database_url(url: str | None = None) -> str:
    return url or os.environ.get(ENV_URL) or DEFAULT_SQLITE


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # SQLite ignores foreign keys unless asked; WAL lets readers go on while
    # one writer commits; busy_timeout makes a second writer wait, not fail.
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str | None = None, *, schema: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine; `schema` sets the PostgreSQL search_path (tests use a fresh one)."""
    full = database_url(url)
    if full.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        engine = create_engine(full, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if schema:
        kwargs.setdefault("connect_args", {"options": f"-csearch_path={schema}"})
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(full, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to `revision` (default: newest)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
