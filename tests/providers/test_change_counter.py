"""The database raises the offer counter on every write the search's cache depends on,
once per transaction, and concurrent writers on PostgreSQL never wait on it in a cycle."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from providers.store import Principal, import_files
from providers.store.models import (
    Budget,
    Contract,
    Offering,
    OfferingRelease,
    Provider,
    SubcontractAcceptance,
)
from providers.store.purchase import _summed_version, data_version

from .conftest import TODAY

SYSTEM = Principal.system("test")


def _version(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        (n,) = data_version(s)
        assert isinstance(n, int)
        return n


def test_every_kind_of_write_raises_the_counter(
    sessions: sessionmaker[Session], demo_dir: Path
) -> None:
    start = _version(sessions)
    import_files(sessions, SYSTEM, demo_dir, today=TODAY)
    after_import = _version(sessions)
    assert after_import > start
    with sessions() as s:
        offering = s.scalars(select(Offering).order_by(Offering.id)).first()
        assert offering is not None
        oid, pid = offering.id, offering.provider_id
        assert s.scalar(select(Budget.id).limit(1)) is not None
        assert s.scalar(select(Contract.id).limit(1)) is not None
    writes = [
        update(Offering).where(Offering.id == oid).values(places_free=Offering.places_free + 1),
        update(Provider).where(Provider.id == pid).values(name=Provider.name + " BV"),
        update(Budget).values(spent_cents=Budget.spent_cents + 1),
        update(Contract).values(valid_until=Contract.valid_until),
        text(
            "INSERT INTO offering_releases (offering_id, on_date, places) "
            f"VALUES ({oid}, '2027-03-01', 1)"
        ),
        delete(OfferingRelease).where(OfferingRelease.offering_id == oid),
        text(
            "INSERT INTO subcontract_acceptances (main_provider_id, sub_provider_id) "
            f"SELECT {pid}, p.id FROM providers p WHERE p.id <> {pid} LIMIT 1"
        ),
        delete(SubcontractAcceptance),
    ]
    seen = after_import
    for statement in writes:
        with sessions() as s, s.begin():
            s.execute(statement)
        now = _version(sessions)
        assert now > seen, statement
        seen = now
    # A read changes nothing.
    with sessions() as s:
        s.execute(select(Offering)).all()
    assert _version(sessions) == seen


def test_a_rolled_back_write_leaves_it(sessions: sessionmaker[Session], demo_dir: Path) -> None:
    import_files(sessions, SYSTEM, demo_dir, today=TODAY)
    before = _version(sessions)
    with sessions() as s:
        s.execute(update(Offering).values(places_free=Offering.places_free + 1))
        s.rollback()
    assert _version(sessions) == before


def test_raised_once_per_transaction_on_postgres_per_row_on_sqlite(
    engine: Engine, sessions: sessionmaker[Session], demo_dir: Path
) -> None:
    import_files(sessions, SYSTEM, demo_dir, today=TODAY)
    before = _version(sessions)
    with sessions() as s, s.begin():
        ids = s.scalars(select(Offering.id)).all()
        assert len(ids) > 1
        for oid in ids:
            s.execute(update(Offering).where(Offering.id == oid).values(places_free=0))
    raised = _version(sessions) - before
    # SQLite raises it per row (one writer at a time: nothing can wait on it).
    assert raised == (1 if engine.dialect.name == "postgresql" else len(ids))


def test_two_writers_crossing_rows_do_not_deadlock(
    engine: Engine, sessions: sessionmaker[Session], demo_dir: Path
) -> None:
    """Writer 1 changes A, then B; writer 2 changes B first. Had the counter been raised
    at once, writer 1 would hold it while waiting for B, and writer 2 would wait for it
    while holding B. Raised at commit, writer 2 commits and writer 1 goes on."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: the other waits at its first write")
    import_files(sessions, SYSTEM, demo_dir, today=TODAY)
    with sessions() as s:
        a, b = s.scalars(select(Offering.id).order_by(Offering.id).limit(2)).all()
    before = _version(sessions)
    one, two = sessions(), sessions()
    failures: list[BaseException] = []
    for s in (one, two):
        s.execute(text("SET lock_timeout = '5s'"))
    one.execute(update(Offering).where(Offering.id == a).values(places_free=3))
    two.execute(update(Offering).where(Offering.id == b).values(places_free=4))

    def writer_one() -> None:
        try:
            one.execute(update(Offering).where(Offering.id == b).values(places_free=5))
            one.commit()
        except BaseException as exc:  # reported below, in the test's own thread
            failures.append(exc)

    thread = threading.Thread(target=writer_one)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive()  # waiting for B, which writer 2 holds
    two.commit()
    thread.join(10)
    one.close()
    two.close()
    assert not failures, failures
    assert _version(sessions) == before + 2
    with sessions() as s:
        assert s.get(Offering, b).places_free == 5  # type: ignore[union-attr]


def test_the_counter_and_the_summed_version_see_the_same_writes(
    sessions: sessionmaker[Session], demo_dir: Path
) -> None:
    """The fallback for databases without the triggers notices the same changes."""
    with sessions() as s:
        summed = _summed_version(s)
    import_files(sessions, SYSTEM, demo_dir, today=TODAY)
    with sessions() as s:
        assert _summed_version(s) != summed
        summed = _summed_version(s)
    with sessions() as s, s.begin():
        s.execute(
            update(Offering).values(
                places_free=Offering.places_free + 1, version=Offering.version + 1
            )
        )
    with sessions() as s:
        assert _summed_version(s) != summed


def test_the_migration_goes_down_and_up_again(engine: Engine) -> None:
    from alembic import command
    from alembic.config import Config

    from providers.store.engine import MIGRATIONS_DIR, current_revision, migrate

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0010")
    assert current_revision(engine) == "0010"
    migrate(engine)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT kind, n FROM change_counters")).all())
    assert rows == {"aanbod": 0, "aanmeldingen": 0}


def test_one_read_of_every_counter_gives_each_version(
    sessions: sessionmaker[Session], demo_dir: Path
) -> None:
    """The search reads both counters at once; each version is what its own read gives."""
    from providers.store import changes
    from providers.store.waits import aanmelding_version

    import_files(sessions, SYSTEM, demo_dir, today=TODAY)
    with sessions() as s:
        read = changes.counters(s)
        assert read is not None
        assert set(read) >= {changes.OFFERS, changes.AANMELDINGEN}
        assert data_version(s, read) == data_version(s) == (read[changes.OFFERS],)
        assert aanmelding_version(s, read) == aanmelding_version(s)
    with sessions.begin() as s:
        s.execute(update(Budget).values(spent_cents=Budget.spent_cents + 1))
    with sessions() as s:
        # a read kept from before a write stands for the data as it was then
        assert data_version(s) > data_version(s, read)
