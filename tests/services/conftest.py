"""One demo database (region JZ31, SQLite) for the use-case tests, with an account per
role."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from providers.store import access, accounts
from providers.store.engine import make_engine, migrate, session_factory
from providers.store.models import Account, OrganisationKind, Role
from wijzer.demo_site import load_demo_data

TODAY = dt.date(2026, 11, 20)
REGION = "JZ31"


@pytest.fixture(scope="session")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sessionmaker[Session]]:
    path: Path = tmp_path_factory.mktemp("services") / "demo.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    factory = session_factory(engine)
    load_demo_data(factory, TODAY, io.StringIO())
    with factory.begin() as db:
        for role, region in [
            (Role.INKOOP, REGION),
            (Role.TAFEL, REGION),
            (Role.VERWIJZER, REGION),
            (Role.INKOOP, "JZ22"),
            (Role.TAFEL, "JZ22"),
        ]:
            org = accounts.create_organisation(
                db, f"org {role.value} {region}", OrganisationKind.REGIO, region_code=region
            )
            accounts.create_account(db, f"{role.value}-{region}", "x" * 12, role, org)
    yield factory
    engine.dispose()


def principal(db: Session, username: str) -> access.Principal:
    acc = db.scalar(select(Account).where(Account.username == username))
    assert acc is not None
    return accounts.principal_for(db, acc)
