"""A role change is a security event: one INFO line in the JSON application log and
one audit entry, like login, logout and export; it counts at once for open sessions."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from providers import cli
from providers.store import AccessDenied, NotFound, Principal, Role, change_role
from providers.store.models import Account, AuditEntry
from tests.security.conftest import PASSWORD, logged_in
from wijzer import logs

SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logs.configure(stream)
    yield stream
    logging.getLogger().removeHandler(handler)


def _events(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def _role_changes(stream: io.StringIO) -> list[dict[str, Any]]:
    return [e for e in _events(stream) if "role change" in e["message"]]


def _audit(sessions: sessionmaker[Session]) -> list[AuditEntry]:
    with sessions() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.entity == "accounts")))


def test_role_change_is_logged_audited_and_counts_at_once(
    app: FastAPI, sessions: sessionmaker[Session], json_log: io.StringIO
) -> None:
    tafel = logged_in(app, Role.TAFEL)
    assert tafel.get("/tafel").status_code == 200
    with sessions.begin() as s:
        change_role(s, Principal("test-beheer", Role.BEHEER, None), "test-tafel", Role.INKOOP)
    [event] = _role_changes(json_log)
    assert event["level"] == "INFO"
    assert event["logger"] == "providers.security"
    assert "test-tafel" in event["message"]
    assert "from=tafel to=inkoop" in event["message"]
    assert "test-beheer" in event["message"]
    assert event["time"].endswith("+00:00")
    assert PASSWORD not in json_log.getvalue()
    [entry] = _audit(sessions)
    assert (entry.actor, entry.role, entry.action) == ("test-beheer", "beheer", "schrijven")
    assert entry.record_refs == "test-tafel"
    assert entry.detail == "rol tafel -> inkoop"
    # The open session has the new role on its next request.
    assert tafel.get("/tafel").status_code == 403
    assert tafel.get("/api/v1/ik").json()["role"] == "inkoop"
    tafel.close()


@SQLITE_ONLY
def test_only_beheer_changes_roles_and_a_refusal_changes_nothing(
    sessions: sessionmaker[Session], json_log: io.StringIO
) -> None:
    for role in (Role.TAFEL, Role.INKOOP, Role.VERWIJZER, Role.AANBIEDER):
        with sessions.begin() as s, pytest.raises(AccessDenied):
            change_role(s, Principal(f"test-{role.value}", role, 1), "test-tafel", Role.BEHEER)
    with sessions.begin() as s, pytest.raises(NotFound):
        change_role(s, Principal.system(), "bestaat-niet", Role.TAFEL)
    with sessions.begin() as s, pytest.raises(ValueError, match="provider"):
        # An aanbieder account needs a provider's organisation; the tafel's has none.
        change_role(s, Principal.system(), "test-tafel", Role.AANBIEDER)
    with sessions() as s:
        account = s.scalar(select(Account).where(Account.username == "test-tafel"))
        assert account is not None
        assert account.role == "tafel"
    assert _role_changes(json_log) == []
    assert _audit(sessions) == []


@SQLITE_ONLY
def test_role_change_on_the_command_line(
    settings: Any, sessions: sessionmaker[Session], json_log: io.StringIO
) -> None:
    url = settings.database_url
    assert cli.main(["rol", "test-inkoop", "tafel", "--database-url", url]) == 0
    assert cli.main(["rol", "bestaat-niet", "tafel", "--database-url", url]) == 1
    [entry] = _audit(sessions)
    assert (entry.actor, entry.record_refs) == ("beheer-cli", "test-inkoop")
    assert entry.detail == "rol inkoop -> tafel"
    [event] = _role_changes(json_log)
    assert event["level"] == "INFO"
    assert "test-inkoop" in event["message"]
