"""Storage tests; each runs on SQLite and (with WIJZER_TEST_POSTGRES_URL) on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from providers.errors import ImportRejected
from providers.store import (
    AccessDenied,
    Aggregate,
    ConflictError,
    NotFound,
    OrganisationKind,
    Principal,
    Role,
    authenticate,
    create_account,
    create_organisation,
    current_revision,
    get_child,
    import_files,
    import_upload,
    load_records,
    offerings_for_edit,
    record_export,
    search_offerings,
    update_offering,
    waiting_aggregates,
    waiting_list,
)
from providers.store.models import AuditEntry, Child, ChildNeed, Offering, Provider

from .conftest import TODAY

SYSTEM = Principal.system("test")
TABLES = ("providers", "offerings", "contracts", "budgets", "children", "child_needs")


def _counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as s:
        return {t: s.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def _load(sessions: sessionmaker[Session], demo_dir: Path) -> None:
    import_files(sessions, SYSTEM, demo_dir, today=TODAY)


def test_migrations_reach_head(engine: Engine) -> None:
    assert current_revision(engine) == "0011"


def test_import_then_reimport_updates_in_place(
    sessions: sessionmaker[Session], demo_dir: Path
) -> None:
    first = import_files(sessions, SYSTEM, demo_dir, today=TODAY)
    assert first.inserted["kinderen"] == 60
    before = _counts(sessions)
    second = import_files(sessions, SYSTEM, demo_dir, today=TODAY)
    assert second.inserted["kinderen"] == 0
    assert second.updated["kinderen"] == 60
    assert _counts(sessions) == before
    with sessions() as s:
        # an update of figures bumps their version
        assert s.scalar(select(func.min(Offering.version))) == 2


def test_export_equals_the_imported_files(
    sessions: sessionmaker[Session], demo_dir: Path, tmp_path: Path
) -> None:
    from providers.io import export_tables

    _load(sessions, demo_dir)
    with sessions() as s, s.begin():
        data = load_records(s, SYSTEM)
    export_tables(data, "csv", tmp_path)
    for f in demo_dir.iterdir():
        assert (tmp_path / f.name).read_text(encoding="utf-8") == f.read_text(encoding="utf-8"), (
            f.name
        )


def test_a_bad_file_changes_zero_rows(
    sessions: sessionmaker[Session], demo_dir: Path, tmp_path: Path
) -> None:
    _load(sessions, demo_dir)
    before = _counts(sessions)
    bad = tmp_path / "bad"
    shutil.copytree(demo_dir, bad)
    kinderen = (bad / "kinderen.csv").read_text(encoding="utf-8").splitlines()
    # the last row gets a BSN in gezin_ref; all earlier rows are fine and new
    fields = kinderen[-1].split(",")
    fields[0] = "K-NIEUW-1"
    fields[12] = "111222333"
    kinderen.append(",".join(fields))
    (bad / "kinderen.csv").write_text("\n".join(kinderen) + "\n", encoding="utf-8")
    aanbod = (
        (bad / "aanbod.csv").read_text(encoding="utf-8").replace(",planning ", ",planning-nieuw ")
    )
    (bad / "aanbod.csv").write_text(aanbod, encoding="utf-8")
    with pytest.raises(ImportRejected) as exc:
        import_files(sessions, SYSTEM, bad, today=TODAY)
    assert [p.code for p in exc.value.problems] == ["BSN"]
    assert _counts(sessions) == before
    with sessions() as s:
        assert (
            s.scalar(select(func.count()).where(Offering.confirmed_by.like("planning-nieuw%"))) == 0
        )


def test_a_database_failure_midway_rolls_everything_back(
    sessions: sessionmaker[Session], demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The children are written last; if that fails, the providers written before go too."""
    from providers.store import importer

    real = importer._upsert

    def failing(
        session: Session, model: object, rows: list[dict[str, object]], key: str = "ext_id"
    ):  # type: ignore[no-untyped-def]
        if model is Child:
            raise IntegrityError("INSERT", {}, Exception("simulated failure"))
        return real(session, model, rows, key)

    monkeypatch.setattr(importer, "_upsert", failing)
    with pytest.raises(ImportRejected) as exc:
        _load(sessions, demo_dir)
    assert exc.value.problems[0].code == "DATABASE"
    assert _counts(sessions) == dict.fromkeys(TABLES, 0)


def test_check_constraint_keeps_places_nonnegative(
    sessions: sessionmaker[Session], demo_dir: Path
) -> None:
    _load(sessions, demo_dir)
    with sessions() as s, pytest.raises((IntegrityError, DBAPIError)):
        s.execute(text("UPDATE offerings SET places_free = -1"))
    with sessions() as s:
        assert s.scalar(select(func.min(Offering.places_free))) >= 0


def test_audit_log_is_append_only_in_the_database(
    sessions: sessionmaker[Session], demo_dir: Path
) -> None:
    _load(sessions, demo_dir)
    with sessions() as s, s.begin():
        waiting_list(s, SYSTEM)
    stmts = ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"]
    if sessions.kw["bind"].dialect.name == "postgresql":
        stmts.append("TRUNCATE audit_log")
    for stmt in stmts:
        with sessions() as s, pytest.raises((IntegrityError, DBAPIError)):
            s.execute(text(stmt))
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) >= 2
        assert set(s.scalars(select(AuditEntry.actor))) == {"test"}


def test_audit_records_refs_but_no_case_values(
    sessions: sessionmaker[Session], demo_dir: Path
) -> None:
    _load(sessions, demo_dir)
    with sessions() as s, s.begin():
        kids = waiting_list(s, SYSTEM, purpose="tafel 12 juni")
        record_export(s, SYSTEM, "besluitenlijst", [k.ref for k in kids[:3]], "xlsx")
    with sessions() as s:
        entries = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    actions = [e.action for e in entries]
    assert actions == ["import", "lezen", "export"]
    read = entries[1]
    assert read.record_count == len(kids)
    assert kids[0].ref in read.record_refs.split(",")
    everything = " ".join(f"{e.record_refs} {e.detail} {e.entity}" for e in entries)
    for k in kids:
        # no gemeente, dates, needs or attributes of any child in the log
        assert k.gemeente_code not in everything
        assert k.ruling_date.isoformat() not in everything
        assert all(n not in everything for n in k.needs)


def _first_offering(sessions: sessionmaker[Session]) -> tuple[int, int, int]:
    with sessions() as s:
        o = s.scalars(select(Offering).order_by(Offering.id)).first()
        assert o is not None
        return o.id, o.provider_id, o.version


def _provider_principal(
    sessions: sessionmaker[Session], provider_id: int, name: str = "planner"
) -> Principal:
    with sessions() as s, s.begin():
        org = create_organisation(
            s, "Aanbieder", OrganisationKind.AANBIEDER, provider_id=provider_id
        )
        return Principal(name, Role.AANBIEDER, org.id, provider_id=provider_id)


def test_two_concurrent_updates_exactly_one_wins(
    sessions: sessionmaker[Session], demo_dir: Path
) -> None:
    """Two real sessions on two connections both load version v and both write."""
    _load(sessions, demo_dir)
    oid, pid, version = _first_offering(sessions)
    who = _provider_principal(sessions, pid)
    a, b = sessions(), sessions()
    try:
        # both users have the form open with the same version
        assert a.get(Offering, oid).version == b.get(Offering, oid).version == version  # type: ignore[union-attr]
        a.rollback()
        b.rollback()
        update_offering(a, who, oid, version, {"places_free": 3})
        a.commit()
        with pytest.raises(ConflictError) as exc:
            update_offering(b, who, oid, version, {"places_free": 7})
        b.rollback()
    finally:
        a.close()
        b.close()
    assert exc.value.current_version == version + 1
    assert exc.value.current is not None
    assert exc.value.current.places_free == 3
    assert "opnieuw" in exc.value.message
    with sessions() as s:
        o = s.get(Offering, oid)
        assert o is not None
        assert (o.places_free, o.version, o.confirmed_by) == (3, version + 1, "planner")


def test_parallel_updates_from_threads_lose_nothing(
    sessions: sessionmaker[Session], demo_dir: Path
) -> None:
    """Ten threads, each its own connection, all start from the same version."""
    _load(sessions, demo_dir)
    oid, pid, version = _first_offering(sessions)
    who = _provider_principal(sessions, pid)
    start = threading.Barrier(10)
    outcome: dict[int, str] = {}

    def worker(n: int) -> None:
        with sessions() as s:
            start.wait()
            try:
                update_offering(s, who, oid, version, {"places_free": n})
                s.commit()
                outcome[n] = "won"
            except ConflictError:
                s.rollback()
                outcome[n] = "conflict"

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcome.values()).count("won") == 1
    assert len(outcome) == 10
    winner = next(n for n, r in outcome.items() if r == "won")
    with sessions() as s:
        o = s.get(Offering, oid)
        assert o is not None
        assert (o.places_free, o.version) == (winner, version + 1)


def test_update_rules(sessions: sessionmaker[Session], demo_dir: Path) -> None:
    _load(sessions, demo_dir)
    oid, pid, version = _first_offering(sessions)
    owner = _provider_principal(sessions, pid, "eigen")
    with sessions() as s:
        other_pid = s.scalar(select(Provider.id).where(Provider.id != pid).order_by(Provider.id))
    assert other_pid is not None
    stranger = _provider_principal(sessions, other_pid, "ander")
    with sessions() as s:
        with pytest.raises(AccessDenied):
            update_offering(s, stranger, oid, version, {"places_free": 1})
        with pytest.raises(AccessDenied):
            update_offering(
                s, Principal("v", Role.VERWIJZER, None), oid, version, {"places_free": 1}
            )
        with pytest.raises(ValueError, match="places_free"):
            update_offering(s, owner, oid, version, {"places_free": -2})
        with pytest.raises(ValueError, match="not editable"):
            update_offering(s, owner, oid, version, {"price_cents": 1})
        with pytest.raises(NotFound):
            update_offering(s, owner, 10**9, 1, {"places_free": 1})
        mine = offerings_for_edit(s, owner)
        assert mine
        assert {o.provider_id for o in mine} == {pid}
        with pytest.raises(AccessDenied):
            offerings_for_edit(s, Principal("t", Role.TAFEL, None, region_code="JZ31"))


def test_figures_keep_who_and_when_and_go_stale(
    sessions: sessionmaker[Session], demo_dir: Path
) -> None:
    _load(sessions, demo_dir)
    oid, pid, version = _first_offering(sessions)
    who = _provider_principal(sessions, pid)
    now = dt.datetime(2025, 6, 2, 12, tzinfo=dt.UTC)
    with sessions() as s:
        views = search_offerings(s, SYSTEM, now=now)
        imported = {v.id: v for v in views}
        assert all(v.confirmed_by.startswith("planning ") for v in views)
        # the demo has figures both fresh and older than 14 days
        assert any(v.stale for v in views)
        assert not all(v.stale for v in views)
        for v in views:
            assert v.stale == ((now - v.confirmed_at) > dt.timedelta(days=14))
        # a stricter region marks more as stale
        strict = search_offerings(s, SYSTEM, now=now, max_age_days=3)
        assert sum(v.stale for v in strict) > sum(v.stale for v in views)
    with sessions() as s, s.begin():
        upd = update_offering(s, who, oid, version, {"expected_wait_days": 40}, now=now)
    assert upd.confirmed_by == "planner"
    assert upd.confirmed_at == now
    with sessions() as s:
        after = {v.id: v for v in search_offerings(s, SYSTEM, now=now + dt.timedelta(days=1))}
    assert not after[oid].stale  # just confirmed
    assert after[oid].expected_wait_days == 40
    assert imported[oid].confirmed_at < now


def test_stale_age_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from providers.store import is_stale

    t = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    now = t + dt.timedelta(days=10)
    monkeypatch.setenv("WIJZER_STALE_AFTER_DAYS", "7")
    assert is_stale(t, now=now)
    monkeypatch.setenv("WIJZER_STALE_AFTER_DAYS", "30")
    assert not is_stale(t, now=now)


def _orgs(sessions: sessionmaker[Session]) -> dict[str, Principal]:
    with sessions() as s, s.begin():
        gi = create_organisation(
            s, "GI Zuid", OrganisationKind.GI, region_code="JZ31", gi_code="INTERVENCE"
        )
        gi2 = create_organisation(
            s, "GI Noord", OrganisationKind.GI, region_code="JZ31", gi_code="LJR"
        )
        tafel = create_organisation(s, "Tafel ZHZ", OrganisationKind.REGIO, region_code="JZ31")
        tafel_hl = create_organisation(
            s, "Tafel Haaglanden", OrganisationKind.REGIO, region_code="JZ24"
        )
        inkoop = create_organisation(s, "SOJ ZHZ", OrganisationKind.REGIO, region_code="JZ31")
        return {
            "verwijzer": Principal("vw", Role.VERWIJZER, gi.id, region_code="JZ31"),
            "verwijzer2": Principal("vw2", Role.VERWIJZER, gi2.id, region_code="JZ31"),
            "tafel": Principal("tf", Role.TAFEL, tafel.id, region_code="JZ31"),
            "tafel_hl": Principal("th", Role.TAFEL, tafel_hl.id, region_code="JZ24"),
            "inkoop": Principal("ik", Role.INKOOP, inkoop.id, region_code="JZ31"),
        }


def test_scoped_waiting_lists(sessions: sessionmaker[Session], demo_dir: Path) -> None:
    p = _orgs(sessions)
    # the verwijzer imports the children: they become its organisation's
    import_files(
        sessions, SYSTEM, [demo_dir / f for f in ("aanbieders.csv", "aanbod.csv")], today=TODAY
    )
    import_files(sessions, p["verwijzer"], [demo_dir / "kinderen.csv"], today=TODAY)
    with sessions() as s, s.begin():
        assert len(waiting_list(s, p["tafel"])) == 60
        assert waiting_list(s, p["tafel_hl"]) == []
        assert len(waiting_list(s, p["verwijzer"])) == 60
        assert waiting_list(s, p["verwijzer2"]) == []
        ref = waiting_list(s, p["tafel"])[0].ref
        assert get_child(s, p["verwijzer"], ref).ref == ref
        with pytest.raises(NotFound):
            get_child(s, p["verwijzer2"], ref)
        for role in ("inkoop",):
            with pytest.raises(AccessDenied):
                waiting_list(s, p[role])
        with pytest.raises(AccessDenied):
            waiting_list(s, Principal("a", Role.AANBIEDER, None, provider_id=1))
        with pytest.raises(AccessDenied):
            load_records(s, p["inkoop"], ("kinderen",))


def _assert_suppressed(agg: Aggregate, direct: dict[str, int]) -> None:
    """Every small cell hidden, every shown cell exact, and the total minus the
    shown cells gives back no single hidden cell and no small hidden part."""
    for row in agg.rows:
        n = direct[row.key[0]]
        if n < 5:
            assert row.suppressed
        assert row.count == (None if row.suppressed else n)
    hidden = [row for row in agg.rows if row.suppressed]
    assert agg.suppressed_cells == len(hidden)
    if hidden and agg.total is not None:
        rest = agg.total - sum(row.count or 0 for row in agg.rows)
        assert len(hidden) >= 2
        assert not 0 < rest < 10


def test_inkoop_gets_aggregates_with_small_cells_suppressed(
    sessions: sessionmaker[Session], demo_dir: Path
) -> None:
    p = _orgs(sessions)
    _load(sessions, demo_dir)
    with sessions() as s:
        agg = waiting_aggregates(s, p["inkoop"], by=("gemeente",))
        direct: dict[str, int] = {}
        for g, n in s.execute(
            select(Child.gemeente_code, func.count()).group_by(Child.gemeente_code)
        ):
            direct[g] = n
        assert agg.total == 60
        _assert_suppressed(agg, direct)
        assert agg.suppressed_cells > 0  # the demo has small gemeenten
        by_need = waiting_aggregates(s, p["inkoop"], by=("zorgvorm",))
        needs = dict(
            s.execute(select(ChildNeed.care_type, func.count()).group_by(ChildNeed.care_type)).all()
        )
        _assert_suppressed(by_need, needs)
        with pytest.raises(AccessDenied):
            waiting_aggregates(s, p["inkoop"], region_code="JZ24")
        with pytest.raises(AccessDenied):
            waiting_aggregates(s, p["verwijzer"])


def test_import_is_limited_by_role(sessions: sessionmaker[Session], demo_dir: Path) -> None:
    p = _orgs(sessions)
    _load(sessions, demo_dir)
    aanbod = (demo_dir / "aanbod.csv").read_bytes()
    _, pid, _ = _first_offering(sessions)
    who = _provider_principal(sessions, pid)
    with pytest.raises(ImportRejected) as exc:
        import_upload(sessions, who, [("aanbod.csv", aanbod)], today=TODAY)
    codes = {x.code for x in exc.value.problems}
    assert codes == {"GEEN_TOEGANG"}  # rows of other providers
    with pytest.raises(ImportRejected) as exc:
        import_upload(
            sessions,
            p["tafel_hl"],
            [("kinderen.csv", (demo_dir / "kinderen.csv").read_bytes())],
            today=TODAY,
        )
    assert all(x.code == "GEEN_TOEGANG" for x in exc.value.problems)
    assert len(exc.value.problems) == 60  # every row named
    with pytest.raises(ImportRejected) as exc:
        import_upload(sessions, p["verwijzer"], [("aanbod.csv", aanbod)], today=TODAY)
    assert "niet inlezen" in exc.value.problems[0].message


def test_accounts_and_authentication(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        org = create_organisation(s, "Tafel ZHZ", OrganisationKind.REGIO, region_code="JZ31")
        acc = create_account(s, "tafel-zhz", "lang-en-geheim-wachtwoord", Role.TAFEL, org)
        assert acc.password_hash.startswith("$argon2")
        assert "lang-en-geheim" not in acc.password_hash
    with sessions() as s, s.begin():
        who = authenticate(s, "tafel-zhz", "lang-en-geheim-wachtwoord")
        assert who is not None
        assert (who.role, who.region_code, who.organisation_id) == (Role.TAFEL, "JZ31", org.id)
        assert authenticate(s, "tafel-zhz", "fout") is None
        assert authenticate(s, "niemand", "fout") is None
    with sessions() as s, s.begin(), pytest.raises(ValueError, match="aanbieder"):
        create_account(s, "x", "y", Role.AANBIEDER, s.merge(org))


def test_retention_removes_old_case_rows_and_keeps_counts(
    sessions: sessionmaker[Session], demo_dir: Path
) -> None:
    from providers.store import ChildStatus, purge_case_data, set_child_status
    from providers.store.models import CaseStatistic

    _load(sessions, demo_dir)
    with sessions() as s, s.begin():
        kids = waiting_list(s, SYSTEM)
        old_placed, old_closed, recent, waiting = kids[0], kids[1], kids[2], kids[3]
        set_child_status(s, SYSTEM, old_placed.ref, ChildStatus.PLACED, dt.date(2023, 1, 15))
        set_child_status(s, SYSTEM, old_closed.ref, ChildStatus.CLOSED, dt.date(2023, 3, 2))
        set_child_status(s, SYSTEM, recent.ref, ChildStatus.PLACED, dt.date(2025, 5, 1))
    with sessions() as s, s.begin(), pytest.raises(AccessDenied):
        purge_case_data(
            s, Principal("t", Role.TAFEL, None, region_code="JZ31"), months=24, today=TODAY
        )
    with sessions() as s, s.begin():
        assert purge_case_data(s, SYSTEM, months=24, today=TODAY) == 2
    with sessions() as s:
        refs = set(s.scalars(select(Child.ref)))
        assert old_placed.ref not in refs
        assert old_closed.ref not in refs
        assert {recent.ref, waiting.ref} <= refs
        assert len(refs) == 58
        stats = {
            (c.month, c.gemeente_code, c.care_type, c.status): c.children
            for c in s.scalars(select(CaseStatistic))
        }
        expected: dict[tuple[str, str, str, str], int] = {}
        for kid, month, status in (
            (old_placed, "2023-01", "geplaatst"),
            (old_closed, "2023-03", "afgesloten"),
        ):
            for need in kid.needs:
                key = (month, kid.gemeente_code, need, status)
                expected[key] = expected.get(key, 0) + 1
        assert stats == expected
        deleted = s.scalars(select(AuditEntry).where(AuditEntry.action == "verwijderen")).one()
        assert set(deleted.record_refs.split(",")) == {old_placed.ref, old_closed.ref}
    with sessions() as s, s.begin():
        assert purge_case_data(s, SYSTEM, months=24, today=TODAY) == 0
