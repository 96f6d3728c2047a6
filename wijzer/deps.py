"""Database access for the app: one engine per app, one session per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from providers.store.engine import make_engine, migrate, session_factory
from wijzer.settings import Settings


def engine_for(settings: Settings) -> Engine:
    return make_engine(settings.database_url)


def prepare(engine: Engine) -> None:
    """Bring the database to the newest schema (alembic migrations of the data layer)."""
    migrate(engine)


def sessions_for(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


def db_session(request: Request) -> Iterator[Session]:
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions() as session:
        yield session


DbSession = Annotated[Session, Depends(db_session)]
