"""Uploads with a preview, the audit log viewer's queries, account administration and
"alles klopt nog": each rule of the data layer, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from providers.convert import offering_of
from providers.errors import ImportRejected
from providers.store import access, accounts, releases
from providers.store import sessions as web_sessions
from providers.store.access import AccessDenied, Principal
from providers.store.audit_log import AuditFilter, export_audit, import_batches, search_audit
from providers.store.importer import import_files
from providers.store.models import Account, AuditEntry, Offering, OrganisationKind, Role
from providers.store.upload_preview import PreviewOutdated, apply_upload

from .conftest import TODAY

SYSTEM = Principal.system("beheerder")
TABLES = ("providers", "offerings", "contracts", "budgets", "children", "child_needs")


def _counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as s:
        return {t: s.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def _edited_aanbod(demo_dir: Path) -> tuple[bytes, str, str]:
    """aanbod.csv with the first row's places changed and one new row; returns the
    content, the changed key and the new key."""
    text_in = (demo_dir / "aanbod.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text_in)))
    rows[0]["plaatsen_vrij"] = str(int(rows[0]["plaatsen_vrij"]) + 3)
    extra = dict(rows[1], aanbod_id="NIEUW-1")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows([*rows, extra])
    return out.getvalue().encode(), rows[0]["aanbod_id"], "NIEUW-1"


def test_preview_names_new_and_changed_rows_and_stores_nothing(
    sessions: sessionmaker[Session], demo_dir: Path
) -> None:
    import_files(sessions, SYSTEM, demo_dir, today=TODAY)
    before = _counts(sessions)
    data, changed, new = _edited_aanbod(demo_dir)
    out = apply_upload(sessions, SYSTEM, [("aanbod.csv", data)], commit=False, today=TODAY)
    assert out.summary is None
    (table,) = out.changes.tables
    assert table.table == "aanbod"
    assert table.new == (new,)
    assert table.changed == (changed,)
    assert table.unchanged == before["offerings"] - 1
    assert table.not_in_file == ()
    assert _counts(sessions) == before
    with sessions() as s:
        assert s.scalar(select(Offering).where(Offering.ext_id == new)) is None


def test_commit_stores_exactly_the_preview_and_logs_it(
    sessions: sessionmaker[Session], demo_dir: Path
) -> None:
    import_files(sessions, SYSTEM, demo_dir, today=TODAY)
    before = _counts(sessions)
    data, _, _ = _edited_aanbod(demo_dir)
    preview = apply_upload(sessions, SYSTEM, [("aanbod.csv", data)], commit=False, today=TODAY)
    done = apply_upload(
        sessions,
        SYSTEM,
        [("aanbod.csv", data)],
        commit=True,
        expected=preview.changes,
        today=TODAY,
    )
    assert done.changes == preview.changes
    assert done.summary is not None
    assert done.summary.batch_id is not None
    assert _counts(sessions)["offerings"] == before["offerings"] + 1
    with sessions() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.entity == "import_batches")).one()
    assert entry.action == "import"
    assert entry.record_refs == str(done.summary.batch_id)
    assert "nieuw=1" in entry.detail
    assert "gewijzigd=1" in entry.detail
    batches = import_batches_for(sessions, SYSTEM)
    assert batches[0].id == done.summary.batch_id
    assert batches[0].files == "aanbod.csv"


def import_batches_for(sessions: sessionmaker[Session], who: Principal) -> list:  # type: ignore[type-arg]
    with sessions() as s:
        return import_batches(s, who)


def test_commit_refuses_when_the_stored_data_changed_since_the_preview(
    sessions: sessionmaker[Session], demo_dir: Path
) -> None:
    import_files(sessions, SYSTEM, demo_dir, today=TODAY)
    data, _, _ = _edited_aanbod(demo_dir)
    preview = apply_upload(sessions, SYSTEM, [("aanbod.csv", data)], commit=False, today=TODAY)
    import_files(sessions, SYSTEM, [demo_dir / "aanbod.csv"], today=TODAY)  # nothing new
    # Someone stores the new row in between: the commit would no longer add it.
    apply_upload(sessions, SYSTEM, [("aanbod.csv", data)], commit=True, today=TODAY)
    before = _counts(sessions)
    with pytest.raises(PreviewOutdated) as exc:
        apply_upload(
            sessions,
            SYSTEM,
            [("aanbod.csv", data)],
            commit=True,
            expected=preview.changes,
            today=TODAY,
        )
    assert "niets ingelezen" in exc.value.user_message
    assert _counts(sessions) == before


def test_a_bad_upload_lists_every_problem_and_changes_nothing(
    sessions: sessionmaker[Session], demo_dir: Path
) -> None:
    import_files(sessions, SYSTEM, demo_dir, today=TODAY)
    before = _counts(sessions)
    bad = (demo_dir / "aanbod.csv").read_text(encoding="utf-8").splitlines()
    header = bad[0].split(",")
    cells = bad[1].split(",")
    cells[header.index("plaatsen_vrij")] = "veel"
    bad[1] = ",".join(cells)
    with pytest.raises(ImportRejected) as exc:
        apply_upload(
            sessions,
            SYSTEM,
            [("aanbod.csv", "\n".join(bad).encode())],
            commit=True,
            today=TODAY,
        )
    (problem,) = exc.value.problems
    assert (problem.file, problem.row, problem.column) == ("aanbod.csv", 2, "plaatsen_vrij")
    assert _counts(sessions) == before


def test_an_aanbieder_may_preview_only_its_own_offerings(
    sessions: sessionmaker[Session], demo_dir: Path
) -> None:
    import_files(sessions, SYSTEM, demo_dir, today=TODAY)
    with sessions() as s, s.begin():
        first = s.scalars(select(Offering).order_by(Offering.id)).first()
        assert first is not None
        pid = first.provider_id
        org = accounts.create_organisation(
            s, "Aanbieder", OrganisationKind.AANBIEDER, provider_id=pid
        )
        who = Principal("planner", Role.AANBIEDER, org.id, provider_id=pid)
        own = s.scalar(text("SELECT ext_id FROM providers WHERE id = :i"), {"i": pid})
    aanbod = (demo_dir / "aanbod.csv").read_bytes()
    with pytest.raises(ImportRejected) as exc:
        apply_upload(sessions, who, [("aanbod.csv", aanbod)], commit=False, today=TODAY)
    assert {p.code for p in exc.value.problems} == {"GEEN_TOEGANG"}
    lines = aanbod.decode().splitlines()
    header = lines[0].split(",")
    col = header.index("aanbieder_id")
    mine = [ln for ln in lines[1:] if ln.split(",")[col] == own]
    only_first = "\n".join([lines[0], mine[0]]).encode()
    out = apply_upload(sessions, who, [("aanbod.csv", only_first)], commit=False, today=TODAY)
    (table,) = out.changes.tables
    # The other stored offerings of this provider are listed as not in the file; those
    # of other providers are not this user's business.
    assert len(table.not_in_file) == len(mine) - 1
    with pytest.raises(ImportRejected) as exc:
        apply_upload(
            sessions,
            who,
            [("kinderen.csv", (demo_dir / "kinderen.csv").read_bytes())],
            commit=False,
            today=TODAY,
        )
    assert "niet inlezen" in exc.value.problems[0].message


def _entries(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        tafel = Principal("tf", Role.TAFEL, None, region_code="JZ31")
        access.audit(s, tafel, access.AuditAction.READ, "children", ["K-1", "K-12"])
        access.audit(s, tafel, access.AuditAction.EXPORT, "children", ["K-2"])
        access.audit(s, SYSTEM, access.AuditAction.WRITE, "accounts", ["tf"])


def test_audit_search_filters_and_pages(sessions: sessionmaker[Session]) -> None:
    _entries(sessions)
    with sessions() as s:
        assert search_audit(s, SYSTEM, AuditFilter()).total == 3
        by_ref = search_audit(s, SYSTEM, AuditFilter(ref="K-1")).rows
        assert [r.record_refs for r in by_ref] == ["K-1,K-12"]  # whole refs only
        assert search_audit(s, SYSTEM, AuditFilter(ref="K-%")).total == 0
        assert search_audit(s, SYSTEM, AuditFilter(actor="tf", action="export")).total == 1
        assert search_audit(s, SYSTEM, AuditFilter(role="beheer")).total == 1
        future = TODAY + dt.timedelta(days=36500)
        assert search_audit(s, SYSTEM, AuditFilter(since=future)).total == 0
        today = dt.datetime.now(dt.UTC).date()
        assert search_audit(s, SYSTEM, AuditFilter(since=today, until=today)).total == 3
        page2 = search_audit(s, SYSTEM, AuditFilter(), page=2, per_page=2)
        assert (page2.page, page2.pages, len(page2.rows)) == (2, 2, 1)
        assert search_audit(s, SYSTEM, AuditFilter(), page=99, per_page=2).page == 2


def test_only_beheer_reads_or_exports_the_audit_log(sessions: sessionmaker[Session]) -> None:
    _entries(sessions)
    tafel = Principal("tf", Role.TAFEL, None, region_code="JZ31")
    with sessions() as s:
        with pytest.raises(AccessDenied):
            search_audit(s, tafel, AuditFilter())
        with pytest.raises(AccessDenied):
            export_audit(s, tafel, AuditFilter())
    with sessions() as s, s.begin():
        rows = export_audit(s, SYSTEM, AuditFilter(actor="tf"))
    assert len(rows) == 2
    with sessions() as s:
        logged = search_audit(s, SYSTEM, AuditFilter(action="export", role="beheer")).rows
    assert [r.entity for r in logged] == ["audit_log"]


def test_import_history_shows_others_only_to_beheer(
    sessions: sessionmaker[Session], demo_dir: Path
) -> None:
    import_files(sessions, SYSTEM, demo_dir, today=TODAY)
    with sessions() as s:
        assert len(import_batches(s, SYSTEM)) == 1
        assert import_batches(s, Principal("tf", Role.TAFEL, None, region_code="JZ31")) == []


def _org(sessions: sessionmaker[Session], kind: OrganisationKind, **kw: object) -> int:
    with sessions() as s, s.begin():
        return accounts.create_organisation(s, "Org", kind, **kw).id  # type: ignore[arg-type]


def test_beheer_creates_deactivates_and_resets_accounts(
    sessions: sessionmaker[Session],
) -> None:
    org = _org(sessions, OrganisationKind.REGIO, region_code="JZ31")
    with sessions() as s, s.begin():
        first = accounts.admin_create_account(s, SYSTEM, " Tafel-ZHZ ", Role.TAFEL, org)
    with sessions() as s, s.begin():
        assert accounts.authenticate(s, "tafel-zhz", first) is not None
        token = web_sessions.start_session(s, "tafel-zhz", 3600)
        acc_id = s.scalars(select(Account.id).where(Account.username == "tafel-zhz")).one()
    with sessions() as s, s.begin():
        name, second = accounts.reset_password(s, SYSTEM, acc_id)
    assert name == "tafel-zhz"
    assert second != first
    with sessions() as s, s.begin():
        assert web_sessions.session_user(s, token) is None  # the reset ended it
        assert accounts.authenticate(s, "tafel-zhz", first) is None
        assert accounts.authenticate(s, "tafel-zhz", second) is not None
        accounts.set_account_active(s, SYSTEM, acc_id, False)
    with sessions() as s, s.begin():
        assert accounts.authenticate(s, "tafel-zhz", second) is None
        rows = accounts.list_accounts(s, SYSTEM)
        assert [(r.username, r.active) for r in rows] == [("tafel-zhz", False)]
        refs = s.scalars(select(AuditEntry.detail).where(AuditEntry.entity == "accounts"))
        assert list(refs) == ["aangemaakt rol=tafel", "wachtwoord opnieuw", "uitgezet"]


@pytest.mark.parametrize(
    ("username", "role", "kind", "message"),
    [
        ("a", Role.TAFEL, OrganisationKind.REGIO, "3 tot 60 tekens"),
        ("met spatie", Role.TAFEL, OrganisationKind.REGIO, "3 tot 60 tekens"),
        ("aanbieder-1", Role.AANBIEDER, OrganisationKind.REGIO, "gekoppeld"),
        ("tafel-2", Role.TAFEL, OrganisationKind.GI, "met een regio"),
    ],
)
def test_account_rules(
    sessions: sessionmaker[Session],
    username: str,
    role: Role,
    kind: OrganisationKind,
    message: str,
) -> None:
    org = _org(sessions, kind, region_code="JZ31" if kind is OrganisationKind.REGIO else None)
    with sessions() as s, s.begin(), pytest.raises(accounts.AccountError) as exc:
        accounts.admin_create_account(s, SYSTEM, username, role, org)
    assert message in exc.value.user_message


def test_no_duplicate_usernames_and_only_beheer_administers(
    sessions: sessionmaker[Session],
) -> None:
    org = _org(sessions, OrganisationKind.REGIO, region_code="JZ31")
    with sessions() as s, s.begin():
        accounts.admin_create_account(s, SYSTEM, "tafel-zhz", Role.TAFEL, org)
    tafel = Principal("tafel-zhz", Role.TAFEL, org, region_code="JZ31")
    with sessions() as s, s.begin():
        with pytest.raises(accounts.AccountError, match="bestaat al"):
            accounts.admin_create_account(s, SYSTEM, "tafel-zhz", Role.TAFEL, org)
        for call in (
            lambda: accounts.list_accounts(s, tafel),
            lambda: accounts.admin_create_account(s, tafel, "nog-een", Role.TAFEL, org),
            lambda: accounts.reset_password(s, tafel, 1),
            lambda: accounts.set_account_active(s, tafel, 1, False),
        ):
            with pytest.raises(AccessDenied):
                call()
        me = s.scalars(select(Account.id).where(Account.username == "tafel-zhz")).one()
        with pytest.raises(accounts.AccountError, match="eigen account"):
            accounts.set_account_active(s, Principal("tafel-zhz", Role.BEHEER, None), me, False)


def test_own_password_change_keeps_only_the_current_session(
    sessions: sessionmaker[Session],
) -> None:
    org = _org(sessions, OrganisationKind.REGIO, region_code="JZ31")
    old = "oud en lang genoeg wachtwoord"
    new = "nieuw en ook lang genoeg"
    with sessions() as s, s.begin():
        accounts.create_account(
            s, "tafel-zhz", old, Role.TAFEL, s.get_one(accounts.Organisation, org)
        )
        here = web_sessions.start_session(s, "tafel-zhz", 3600)
        there = web_sessions.start_session(s, "tafel-zhz", 3600)
    me = Principal("tafel-zhz", Role.TAFEL, org, region_code="JZ31")
    cases = [
        ("fout wachtwoord hier", new, "huidige wachtwoord klopt niet"),
        (old, "kort", "minstens 12 tekens"),
        (old, "aaaaaaaaaaaaaaaa", "meer verschillende tekens"),
        (old, "TAFEL-ZHZ", "minstens 12"),
        (old, old, "anders is dan het huidige"),
    ]
    for current, candidate, message in cases:
        with sessions() as s, s.begin(), pytest.raises(accounts.AccountError) as exc:
            accounts.change_own_password(s, me, current, candidate, keep_token=here)
        assert message in exc.value.user_message
    with sessions() as s, s.begin():
        accounts.change_own_password(s, me, old, new, keep_token=here)
    with sessions() as s, s.begin():
        assert web_sessions.session_user(s, here) == "tafel-zhz"
        assert web_sessions.session_user(s, there) is None
        assert accounts.authenticate(s, "tafel-zhz", new) is not None
        assert accounts.authenticate(s, "tafel-zhz", old) is None


def test_password_equal_to_username_is_refused() -> None:
    assert accounts.password_problem("planner-zuid-1", "Planner-Zuid-1") is not None
    assert accounts.password_problem("een goed lang wachtwoord", "planner") is None


def test_alles_klopt_nog_confirms_every_own_offering(
    sessions: sessionmaker[Session], demo_dir: Path
) -> None:
    import_files(sessions, SYSTEM, demo_dir, today=TODAY)
    with sessions() as s, s.begin():
        first = s.scalars(select(Offering).order_by(Offering.id)).first()
        assert first is not None
        pid = first.provider_id
        org = accounts.create_organisation(s, "A", OrganisationKind.AANBIEDER, provider_id=pid)
        who = Principal("planner", Role.AANBIEDER, org.id, provider_id=pid)
        others_before = {
            o.id: (o.version, o.confirmed_by)
            for o in s.scalars(select(Offering).where(Offering.provider_id != pid))
        }
        mine = {
            o.id: o.version for o in s.scalars(select(Offering).where(Offering.provider_id == pid))
        }
    now = dt.datetime(2025, 6, 2, 10, tzinfo=dt.UTC)
    with sessions() as s, s.begin():
        assert access.confirm_all_offerings(s, who, now=now) == len(mine)
    with sessions() as s:
        for o in s.scalars(select(Offering)):
            if o.provider_id == pid:
                assert (o.confirmed_by, o.version) == ("planner", mine[o.id] + 1)
                assert o.confirmed_at.replace(tzinfo=dt.UTC) == now
            else:
                assert (o.version, o.confirmed_by) == others_before[o.id]
        entry = s.scalars(select(AuditEntry).where(AuditEntry.detail == "alles klopt nog")).one()
        assert entry.record_count == len(mine)
        with pytest.raises(AccessDenied):
            access.confirm_all_offerings(s, SYSTEM)


def test_release_schedule_is_stored_with_the_offering_and_used_by_the_matching(
    sessions: sessionmaker[Session], demo_dir: Path
) -> None:
    import_files(sessions, SYSTEM, demo_dir, today=TODAY)
    with sessions() as s:
        first = s.scalars(select(Offering).order_by(Offering.id)).first()
        assert first is not None
        oid, version, ext = first.id, first.version, first.ext_id
    later = TODAY + dt.timedelta(days=30)
    past = TODAY - dt.timedelta(days=3)
    with sessions() as s, s.begin():
        view = access.update_offering(
            s, SYSTEM, oid, version, {"release_schedule": [(later, 2), (past, 1)]}
        )
    assert view.release_schedule == ((past, 1), (later, 2))
    assert view.version == version + 1
    with sessions() as s:
        (found,) = [v for v in access.search_offerings(s, SYSTEM) if v.id == oid]
    assert found.release_schedule == ((past, 1), (later, 2))
    offering = offering_of(found, TODAY)
    # Only dates after the evaluation date count; the weekly estimate is not used.
    assert [(r.on, r.places) for r in offering.releases] == [(later, 2)]
    assert offering.id == ext
    with sessions() as s, s.begin():
        access.update_offering(s, SYSTEM, oid, version + 1, {"release_schedule": []})
    with sessions() as s:
        assert access.get_offering(s, SYSTEM, oid).release_schedule == ()


@pytest.mark.parametrize(
    ("schedule", "why"),
    [
        ([(TODAY, 0)], "whole number >= 1"),
        ([(TODAY, 1), (TODAY, 2)], "occurs twice"),
        ([(TODAY + dt.timedelta(days=i), 1) for i in range(21)], "at most 20"),
        ([(TODAY, True)], "whole number >= 1"),
    ],
)
def test_release_schedule_rules(schedule: list[tuple[dt.date, int]], why: str) -> None:
    with pytest.raises(ValueError, match=why):
        releases.check_schedule(schedule)


def test_only_the_own_aanbieder_changes_a_release_schedule(
    sessions: sessionmaker[Session], demo_dir: Path
) -> None:
    import_files(sessions, SYSTEM, demo_dir, today=TODAY)
    with sessions() as s:
        rows = s.scalars(select(Offering).order_by(Offering.id)).all()
        mine = rows[0]
        theirs = next(o for o in rows if o.provider_id != mine.provider_id)
        who = Principal("planner", Role.AANBIEDER, None, provider_id=mine.provider_id)
        tafel = Principal("tf", Role.TAFEL, None, region_code="JZ31")
    change = {"release_schedule": [(TODAY + dt.timedelta(days=9), 1)]}
    with sessions() as s, s.begin(), pytest.raises(AccessDenied):
        access.update_offering(s, who, theirs.id, theirs.version, change)
    with sessions() as s, s.begin(), pytest.raises(AccessDenied):
        access.update_offering(s, tafel, mine.id, mine.version, change)
    with sessions() as s:
        assert releases.schedules(s, [mine.id, theirs.id]) == {}


@pytest.mark.parametrize(
    ("name", "kind", "region", "provider", "message"),
    [
        ("x", OrganisationKind.GI, None, None, "2 tot 200 tekens"),
        ("Tafel Oost", OrganisationKind.REGIO, None, None, "de jeugdregio"),
        ("Tafel Oost", OrganisationKind.REGIO, "JZ99", None, "jeugdregio uit de lijst"),
        ("Zorg BV", OrganisationKind.AANBIEDER, None, None, "welke aanbieder"),
        ("Zorg BV", OrganisationKind.AANBIEDER, None, 999_999, "aanbieder uit de lijst"),
    ],
)
def test_organisation_rules(
    sessions: sessionmaker[Session],
    name: str,
    kind: OrganisationKind,
    region: str | None,
    provider: int | None,
    message: str,
) -> None:
    with sessions() as s, s.begin(), pytest.raises(accounts.AccountError) as exc:
        accounts.admin_create_organisation(
            s, SYSTEM, name, kind, region_code=region, provider_id=provider
        )
    assert message in exc.value.user_message


def test_beheer_binds_an_organisation_to_a_region_and_only_beheer_may(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as s, s.begin():
        oid = accounts.admin_create_organisation(
            s, SYSTEM, " Tafel Oost ", OrganisationKind.REGIO, region_code="JZ31"
        )
    with sessions() as s:
        (org,) = accounts.list_organisations(s, SYSTEM)
        assert (org.id, org.name, org.region_code) == (oid, "Tafel Oost", "JZ31")
        with pytest.raises(AccessDenied):
            accounts.admin_create_organisation(
                s, Principal("tf", Role.TAFEL, None), "X Y", OrganisationKind.GI
            )


def test_the_account_of_a_session_is_read_as_the_account_itself(
    sessions: sessionmaker[Session],
) -> None:
    """One read gives the account behind a session, as `active_account` gives it, and
    nothing for an unknown, ended or expired session or a switched-off account."""
    org = _org(sessions, OrganisationKind.REGIO, region_code="JZ31")
    with sessions() as s, s.begin():
        accounts.admin_create_account(s, SYSTEM, "tafel-zhz", Role.TAFEL, org)
        live = web_sessions.start_session(s, "tafel-zhz", 3600)
        ended = web_sessions.start_session(s, "tafel-zhz", 3600)
        web_sessions.end_session(s, ended)
        acc_id = s.scalars(select(Account.id).where(Account.username == "tafel-zhz")).one()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    with sessions() as s:
        found = web_sessions.session_account(s, live)
        assert found is not None
        assert found == accounts.active_account(s, "tafel-zhz")
        assert found[0].role is Role.TAFEL
        assert found[0].region_code == "JZ31"
        assert web_sessions.session_account(s, ended) is None
        assert web_sessions.session_account(s, "not-a-token") is None
        assert web_sessions.session_account(s, live, now=later) is None  # expired
    with sessions() as s, s.begin():
        # switched off behind the app's back: switching off also ends the sessions
        s.execute(update(Account).where(Account.id == acc_id).values(active=False))
    with sessions() as s:
        assert web_sessions.session_user(s, live) == "tafel-zhz"  # the session still runs
        assert web_sessions.session_account(s, live) is None  # but its account is off
