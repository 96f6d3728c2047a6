"""Concurrency and faults, on SQLite and (with WIJZER_TEST_POSTGRES_URL) PostgreSQL.

- 20 providers' sessions update one offering at the same moment through the
  API: exactly one wins, all 19 others get a 409 with the stored figures, and
  the database holds the winner's figures with the version raised by one.
- Two matching jobs of the table run at once and give the same result as each
  alone (the wijzer's own background jobs, started through the pages).
- A connection killed in the middle of an import (PostgreSQL:
  pg_terminate_backend from a second connection; SQLite: the importing process
  is killed with SIGKILL while it writes) leaves no partial data.
- The app keeps answering after every database connection was terminated.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text

from providers import demo
from providers.errors import ImportRejected
from providers.io import export_tables
from providers.store import Principal
from providers.store.engine import make_engine, migrate, session_factory
from providers.store.importer import import_files
from services.matching import RunOutcome
from tests.security.conftest import PG_SKIP, count_rows, csrf_from, logged_in, pg_url_for_schema
from wijzer.auth import Role

ROOT = Path(__file__).resolve().parents[2]
N_WRITERS = 20
IMPORT_TODAY = dt.date(2026, 11, 20)


def _body(version: int, places: int) -> dict[str, Any]:
    return {
        "version": version,
        "places_free": places,
        "release_per_week": 0.5,
        "expected_wait_days": 7,
        "intake_days": 14,
        "intake_stop": False,
        "lvb_expertise": False,
        "age_min": 0,
        "age_max": 18,
        "contra_indications": [],
    }


def test_twenty_parallel_updates_one_winner_every_loser_told(
    app: FastAPI, ids: dict[str, int], backend: str
) -> None:
    oid = ids["offering:snel"]
    # Two people of one provider (one account) edit the same offering in 20 browser
    # tabs: one login, its session cookie in 20 independent clients.
    first = logged_in(app, Role.AANBIEDER)
    clients = [first]
    for _ in range(N_WRITERS - 1):
        c = TestClient(app, base_url="http://testserver")
        c.cookies.update(first.cookies)
        clients.append(c)
    try:
        tokens = [csrf_from(c.get("/").text) for c in clients]
        rows = clients[0].get("/api/v1/aanbod").json()["offerings"]
        version = next(r["version"] for r in rows if r["id"] == oid)
        start = threading.Barrier(N_WRITERS)
        answers: dict[int, Any] = {}

        def write(n: int) -> None:
            start.wait()
            answers[n] = clients[n].put(
                f"/api/v1/aanbod/{oid}",
                json=_body(version, 100 + n),
                headers={"X-CSRF-Token": tokens[n]},
            )

        threads = [threading.Thread(target=write, args=(n,)) for n in range(N_WRITERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert len(answers) == N_WRITERS
        codes = sorted(r.status_code for r in answers.values())
        assert codes == [200] + [409] * (N_WRITERS - 1), (backend, codes)
        winner = next(n for n, r in answers.items() if r.status_code == 200)
        for n, r in answers.items():
            if n == winner:
                continue
            body = r.json()
            assert "niet opgeslagen" in body["detail"]
            # Every loser sees what is stored now: the winner's figures.
            assert body["current"]["version"] == version + 1
            assert body["current"]["places_free"] == 100 + winner
        stored = next(
            r for r in clients[0].get("/api/v1/aanbod").json()["offerings"] if r["id"] == oid
        )
        assert (stored["version"], stored["places_free"]) == (version + 1, 100 + winner)
        with app.state.engine.connect() as conn:
            writes = conn.execute(
                text("SELECT count(*) FROM audit_log WHERE entity = 'offerings' AND action = :a"),
                {"a": "schrijven"},
            ).scalar_one()
        assert writes == 1  # only the winner's write happened
    finally:
        for c in clients:
            c.close()


def _start_run(client: TestClient, refs: list[str]) -> str:
    token = csrf_from(client.get("/tafel").text)
    r = client.post("/tafel/runs", data={"kind": refs, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return str(r.headers["location"]).rsplit("/", 1)[-1]


def _wait_outcome(app: FastAPI, job_id: str, timeout: float = 120) -> list[tuple[Any, ...]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = app.state.jobs.get(Principal.system(), job_id)
        if job is not None and job.status.value in ("klaar", "mislukt"):
            assert job.status.value == "klaar", job.error
            return sorted(
                (r.child_ref, r.need_id, r.placed, r.offering, r.option, r.start)
                for r in RunOutcome.model_validate_json(job.result).rows
            )
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def test_two_matching_jobs_at_once_do_not_interfere(app: FastAPI, backend: str) -> None:
    a, b = logged_in(app, Role.TAFEL), logged_in(app, Role.BEHEER)
    try:
        alone_a = _wait_outcome(app, _start_run(a, ["K-001", "K-002"]))
        alone_b = _wait_outcome(app, _start_run(b, ["K-002", "K-003"]))
        assert alone_a
        assert alone_b

        def start(
            go: threading.Barrier,
            out: dict[str, str],
            name: str,
            client: TestClient,
            refs: list[str],
        ) -> None:
            go.wait()
            out[name] = _start_run(client, refs)

        for _ in range(3):
            ids_: dict[str, str] = {}
            go = threading.Barrier(2)
            threads = [
                threading.Thread(target=start, args=(go, ids_, "a", a, ["K-001", "K-002"])),
                threading.Thread(target=start, args=(go, ids_, "b", b, ["K-002", "K-003"])),
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert _wait_outcome(app, ids_["a"]) == alone_a
            assert _wait_outcome(app, ids_["b"]) == alone_b
        # The table sees its own runs only; beheer's run is not the table's to open.
        assert a.get(f"/tafel/runs/{ids_['a']}").status_code == 200
    finally:
        a.close()
        b.close()


@pytest.fixture(scope="module")
def import_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("national")
    data = demo.generate_national(n_children=3000, n_offerings=600, seed=7, today=IMPORT_TODAY)
    export_tables(data, "csv", out)
    return out


@PG_SKIP
@pytest.mark.postgres
def test_connection_killed_during_import_leaves_nothing(
    pg_schema: str, pg_admin: Engine, import_dir: Path
) -> None:
    app_name = f"{pg_schema}-import"
    engine = make_engine(pg_url_for_schema(pg_schema, application_name=app_name))
    migrate(engine)
    sessions = session_factory(engine)
    before = count_rows(engine)
    writing = threading.Event()
    killed: list[int] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _watch(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # The import is deep in its transaction: offerings and children are written.
        if statement.lstrip().upper().startswith("INSERT INTO CHILD_NEEDS"):
            writing.set()

    def killer() -> None:
        if not writing.wait(120):
            return
        with pg_admin.connect() as conn:
            pids = conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid), pid FROM pg_stat_activity "
                    "WHERE application_name = :a"
                ),
                {"a": app_name},
            ).all()
        killed.extend(pid for ok, pid in pids if ok)

    thread = threading.Thread(target=killer)
    thread.start()
    try:
        with pytest.raises(Exception) as failed:  # noqa: PT011 - any failure is fine here
            import_files(sessions, Principal.system("kill-test"), import_dir, today=IMPORT_TODAY)
    finally:
        writing.set()
        thread.join(60)
    assert killed, "the import finished before it could be interrupted"
    if isinstance(failed.value, ImportRejected):
        assert failed.value.problems[0].code == "DATABASE"
        assert "niets ingelezen" in failed.value.problems[0].message
    event.remove(engine, "before_cursor_execute", _watch)
    # The pool drops the dead connection (pool_pre_ping); the next import works.
    assert count_rows(engine) == before
    summary = import_files(sessions, Principal.system("retry"), import_dir, today=IMPORT_TODAY)
    assert summary.inserted["kinderen"] == 3000
    engine.dispose()


KILL_SCRIPT = """
import sys, time
from sqlalchemy import event
from providers.store import Principal
from providers.store.engine import make_engine, session_factory
from providers.store.importer import import_files
import datetime as dt
engine = make_engine(sys.argv[1])
@event.listens_for(engine, "before_cursor_execute")
def watch(conn, cursor, statement, *args):
    if statement.lstrip().upper().startswith("INSERT INTO CHILD_NEEDS"):
        print("writing", flush=True)
        time.sleep(30)
import_files(session_factory(engine), Principal.system("kill"), sys.argv[2],
             today=dt.date(2026, 11, 20))
print("finished", flush=True)
"""


def test_process_killed_during_sqlite_import_leaves_nothing(
    tmp_path: Path, import_dir: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'kill.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    before = count_rows(engine)
    engine.dispose()
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, url, str(import_dir)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line == "writing", line
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        assert count_rows(engine) == before
    finally:
        engine.dispose()


@PG_SKIP
@pytest.mark.postgres
def test_app_recovers_after_connections_are_terminated(
    backend: str,
    pg_admin: Engine,
    request: pytest.FixtureRequest,
) -> None:
    if backend != "postgresql":
        pytest.skip("terminating server connections is a PostgreSQL test")
    pg_schema: str = request.getfixturevalue("pg_schema")
    client_for: Callable[[Role | str], TestClient] = request.getfixturevalue("client_for")
    client = client_for(Role.VERWIJZER)
    url = "/api/v1/zoeken?zorgvorm=TRAUMATHERAPIE&leeftijd=9&gemeente=GM0505"
    assert client.get(url).status_code == 200
    for _ in range(2):
        with pg_admin.connect() as conn:
            n = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :a"
                ),
                {"a": pg_schema},
            ).scalar_one()
        assert n >= 1  # the app's pooled connections were there and are gone now
        response = client.get(url)
        assert response.status_code == 200, response.text
        assert response.json()["results"]
    # A write and a fresh login also work on new connections.
    assert client_for(Role.TAFEL).get("/api/v1/ik").json()["role"] == "tafel"
