"""The use cases the web layer calls instead of the data layer: offerings of an
aanbieder, accounts, the audit log, meldingen, sign-in sessions and exports. Each
test runs on SQLite, and on PostgreSQL when WIJZER_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from providers.store import access as store_access
from providers.store import make_engine, migrate, session_factory
from providers.store import meldingen as store_meldingen
from providers.store import sessions as store_sessions
from providers.store.accounts import create_account, create_organisation
from providers.store.models import AuditEntry, Offering, Provider
from services import aanbieder, accounts, audit, errors, exports, login, meldingen
from services.accounts import OrganisationKind
from services.principal import Principal, Role

PG_ENV = "WIJZER_TEST_POSTGRES_URL"
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"needs {PG_ENV}"),
        ],
    ),
]
PASSWORD = "een-lang-wachtwoord"


@dataclass(frozen=True)
class World:
    sessions: sessionmaker[Session]
    beheer: Principal
    aanbieder: Principal
    tafel: Principal
    offering_id: int


@pytest.fixture(params=BACKENDS)
def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'web.db'}")
        migrate(engine)
        yield session_factory(engine)
        engine.dispose()
        return
    admin = create_engine(os.environ[PG_ENV], isolation_level="AUTOCOMMIT")
    schema = f"wt_uc_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(os.environ[PG_ENV], schema=schema)
    try:
        migrate(engine)
        yield session_factory(engine)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> World:
    with sessions.begin() as s:
        provider = Provider(ext_id="P-1", name="Aanbieder Een", region_code="JZ31")
        s.add(provider)
        s.flush()
        offering = Offering(
            ext_id="O-1",
            provider_id=provider.id,
            care_type="TRAUMATHERAPIE",
            gemeente_code="GM0505",
            region_code="JZ31",
            places_free=1,
            confirmed_by="t",
            confirmed_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        )
        s.add(offering)
        own = create_organisation(
            s, "Aanbieder Een", OrganisationKind.AANBIEDER, provider_id=provider.id
        )
        region = create_organisation(s, "Tafel", OrganisationKind.REGIO, region_code="JZ31")
        boss = create_organisation(s, "Beheer", OrganisationKind.BEHEER)
        s.flush()
        for name, role, org in [
            ("aanbieder", Role.AANBIEDER, own),
            ("tafel", Role.TAFEL, region),
            ("beheer", Role.BEHEER, boss),
        ]:
            create_account(s, name, PASSWORD, role, org)
        return World(
            sessions,
            beheer=Principal("beheer", Role.BEHEER, boss.id),
            aanbieder=Principal("aanbieder", Role.AANBIEDER, own.id, provider_id=provider.id),
            tafel=Principal("tafel", Role.TAFEL, region.id, region_code="JZ31"),
            offering_id=offering.id,
        )


def _exports(s: Session) -> list[AuditEntry]:
    return list(s.scalars(select(AuditEntry).where(AuditEntry.action == "export")))


# ------------------------------------------------------------------------- errors


def test_the_web_catches_the_data_layers_own_error_classes() -> None:
    """An `except` on the name from services catches what the data layer raises."""
    assert errors.AccessDenied is store_access.AccessDenied
    assert errors.NotFound is store_access.NotFound
    assert errors.ConflictError is store_access.ConflictError
    assert accounts.AccountError is errors.AccountError


# ---------------------------------------------------------------------- aanbieder


def test_an_update_on_an_old_version_is_a_conflict_with_what_is_stored(world: World) -> None:
    with world.sessions.begin() as s:
        (view,) = aanbieder.offerings_for_edit(s, world.aanbieder)
        aanbieder.update_offering(s, world.aanbieder, view.id, view.version, {"places_free": 3})
    with pytest.raises(errors.ConflictError) as caught, world.sessions.begin() as s:
        aanbieder.update_offering(s, world.aanbieder, view.id, view.version, {"places_free": 0})
    assert caught.value.current is not None
    assert caught.value.current.places_free == 3


def test_confirm_all_counts_the_own_offerings_and_refuses_beheer(world: World) -> None:
    with world.sessions.begin() as s:
        assert aanbieder.confirm_all(s, world.aanbieder) == 1
    with pytest.raises(errors.AccessDenied), world.sessions.begin() as s:
        aanbieder.confirm_all(s, world.beheer)
    with pytest.raises(errors.AccessDenied), world.sessions() as s:
        aanbieder.offerings_for_edit(s, world.tafel)


def test_stale_after_the_given_number_of_days() -> None:
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    assert aanbieder.is_stale(old, max_age_days=7)
    assert not aanbieder.is_stale(old, max_age_days=14)


# ----------------------------------------------------------------------- accounts


def test_beheer_creates_an_account_and_no_one_else_can(world: World) -> None:
    with world.sessions.begin() as s:
        (org,) = [o for o in accounts.list_organisations(s, world.beheer) if o.name == "Tafel"]
        password = accounts.admin_create_account(s, world.beheer, "Nieuw.Lid", Role.TAFEL, org.id)
    assert len(password) >= accounts.MIN_PASSWORD_LENGTH
    with world.sessions() as s:
        assert "nieuw.lid" in {a.username for a in accounts.list_accounts(s, world.beheer)}
    with pytest.raises(errors.AccessDenied), world.sessions.begin() as s:
        accounts.admin_create_account(s, world.tafel, "ander.lid", Role.TAFEL, org.id)


def test_a_wrong_current_password_is_an_account_error(world: World) -> None:
    wrong = pytest.raises(accounts.AccountError, match="huidige wachtwoord")
    with wrong, world.sessions.begin() as s:
        accounts.change_own_password(s, world.tafel, "fout", "x" * 20, keep_token=None)


# -------------------------------------------------------------------------- audit


def test_the_audit_log_is_for_beheer_and_its_export_is_logged(world: World) -> None:
    with world.sessions.begin() as s:
        store_access.record_export(s, world.tafel, "uitvraag", ["K-1"], "csv")
    f = audit.AuditFilter(action=audit.AuditAction.EXPORT.value)
    with world.sessions.begin() as s:
        page = audit.search_audit(s, world.beheer, f, page=1, per_page=10)
        assert [r.actor for r in page.rows] == ["tafel"]
        rows = audit.export_audit(s, world.beheer, f)
        assert [r.entity for r in rows] == ["uitvraag"]
    with world.sessions() as s:
        assert [e.entity for e in _exports(s)] == ["uitvraag", "audit_log"]
        with pytest.raises(errors.AccessDenied):
            audit.search_audit(s, world.tafel, f, page=1, per_page=10)
        assert audit.import_batches(s, world.tafel) == []


# ---------------------------------------------------------------------- meldingen


def test_the_inbox_shows_new_meldingen_once_then_marks_them_read(world: World) -> None:
    org = world.tafel.organisation_id
    assert org is not None
    with world.sessions.begin() as s:
        store_meldingen.add(s, org, "aanmelding", "Er is een nieuwe aanmelding.")
    with world.sessions.begin() as s:
        assert [m.read for m in meldingen.inbox(s, world.tafel)] == [False]
        assert [m.read for m in meldingen.read_inbox(s, world.tafel)] == [False]
    with world.sessions() as s:
        assert [m.read for m in meldingen.inbox(s, world.tafel)] == [True]
        assert meldingen.inbox(s, world.beheer) == []


# -------------------------------------------------------------------------- login


def test_a_session_ended_at_logout_signs_no_one_in(world: World) -> None:
    with world.sessions.begin() as s:
        token = login.start_session(s, "tafel", 3600)
    with world.sessions() as s:
        assert store_sessions.session_user(s, token) == "tafel"
    with world.sessions.begin() as s:
        login.end_session(s, token)
    with world.sessions() as s:
        assert store_sessions.session_user(s, token) is None


# ------------------------------------------------------------------------ exports


def test_an_export_is_logged_with_its_children_and_format(world: World) -> None:
    sheets: dict[str, exports.Sheet] = {
        "besluitenlijst": (["kind"], [["K-2"], ["K-1"]]),
        "uitkomst_per_groep": (["groep"], [["alle"]]),
    }
    with world.sessions.begin() as s:
        out = exports.export(
            s, world.tafel, exports.ExportKind.DECISION_LIST, "xlsx", sheets, refs=["K-1", "K-2"]
        )
    assert out == sheets
    assert list(out) == ["besluitenlijst", "uitkomst_per_groep"]
    with world.sessions() as s:
        (entry,) = _exports(s)
    assert (entry.actor, entry.entity) == ("tafel", "tafel_besluitenlijst")
    assert (entry.record_refs, entry.record_count, entry.detail) == ("K-1,K-2", 2, "formaat=xlsx")


def test_an_export_of_totals_names_no_child(world: World) -> None:
    with world.sessions.begin() as s:
        exports.export(s, world.tafel, exports.ExportKind.INKOOP_SCENARIO, "csv", {})
    with world.sessions() as s:
        (entry,) = _exports(s)
    assert (entry.entity, entry.record_refs, entry.record_count) == ("inkoop_scenario", "", 0)


def test_an_export_in_an_unknown_format_is_refused_and_logs_nothing(world: World) -> None:
    with pytest.raises(errors.InvalidRequest) as caught, world.sessions.begin() as s:
        exports.export(s, world.tafel, exports.ExportKind.UITVRAAG, "pdf", {}, refs=["K-1"])
    assert caught.value.user_message == "Kies csv of xlsx."
    with world.sessions() as s:
        assert _exports(s) == []
