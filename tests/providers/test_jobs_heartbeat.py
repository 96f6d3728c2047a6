"""Two servers on one database: each job records the server running it and a
heartbeat; a server never interrupts another live server's job, and a job whose
server stopped beating shows as interrupted to whoever reads it, without a restart."""

from __future__ import annotations

import datetime as dt
import threading
import time

from pydantic import BaseModel
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from providers.store import jobs
from providers.store.access import Principal
from providers.store.jobs import JobKind, JobStatus
from providers.store.models import JobRow, Role, utcnow
from wijzer.jobs import JobRunner, WorkContext

TAFEL = Principal("tafel-a", Role.TAFEL, None, "JZ31")
ALL = tuple(JobKind)


def _job(sessions: sessionmaker[Session], server: str | None) -> str:
    with sessions.begin() as s:
        job_id = jobs.create(s, TAFEL, JobKind.TAFEL_RUN, "Proef", "{}", server_id=server).id
        jobs.mark_running(s, job_id)
    return job_id


def _age(sessions: sessionmaker[Session], job_id: str, seconds: float) -> None:
    """The job's last heartbeat was `seconds` ago (its server stopped then)."""
    with sessions.begin() as s:
        s.execute(
            update(JobRow)
            .where(JobRow.id == job_id)
            .values(heartbeat_at=utcnow() - dt.timedelta(seconds=seconds))
        )


def _read(sessions: sessionmaker[Session], job_id: str) -> jobs.JobRecord:
    with sessions() as s:
        record = jobs.get(s, TAFEL, job_id, ALL)
    assert record is not None
    return record


def test_a_job_records_its_server_and_heartbeat(sessions: sessionmaker[Session]) -> None:
    job_id = _job(sessions, "server-a")
    record = _read(sessions, job_id)
    assert record.server_id == "server-a"
    assert record.heartbeat_at is not None
    _age(sessions, job_id, 30)
    with sessions.begin() as s:
        assert jobs.heartbeat(s, "server-a") == 1
        assert jobs.heartbeat(s, "server-b") == 0
    beat = _read(sessions, job_id).heartbeat_at
    assert beat is not None
    assert beat > utcnow() - dt.timedelta(seconds=5)


def test_a_starting_server_leaves_a_live_servers_job_alone(
    sessions: sessionmaker[Session],
) -> None:
    live = _job(sessions, "server-a")
    crashed = _job(sessions, "server-c")
    unclaimed = _job(sessions, None)  # written before servers had ids
    _age(sessions, crashed, jobs.HEARTBEAT_STALE_S + 5)
    with sessions.begin() as s:  # server b starts
        assert jobs.interrupt_unfinished(s, stale_after_s=jobs.HEARTBEAT_STALE_S) == 2
    assert _read(sessions, live).status is JobStatus.RUNNING
    assert _read(sessions, crashed).status is JobStatus.INTERRUPTED
    assert _read(sessions, unclaimed).status is JobStatus.INTERRUPTED


def test_a_job_without_a_recent_heartbeat_reads_as_interrupted(
    sessions: sessionmaker[Session],
) -> None:
    job_id = _job(sessions, "server-a")
    _age(sessions, job_id, jobs.HEARTBEAT_STALE_S - 10)
    assert _read(sessions, job_id).status is JobStatus.RUNNING
    _age(sessions, job_id, jobs.HEARTBEAT_STALE_S + 1)
    lost = _read(sessions, job_id)  # no restart: the reader sees it
    assert lost.status is JobStatus.INTERRUPTED
    assert lost.step == jobs.STEP_LOST
    with sessions() as s:
        assert [j.status for j in jobs.listing(s, TAFEL, ALL)] == [JobStatus.INTERRUPTED]
    # a late progress report (the server came back) makes it running again
    with sessions.begin() as s:
        jobs.mark_progress(s, job_id, "Verder", 50)
    assert _read(sessions, job_id).status is JobStatus.RUNNING


class Out(BaseModel):
    ok: bool = True


RELEASE = threading.Event()


def _blocking_work(ctx: WorkContext) -> Out:
    ctx.progress("Bezig", 10)
    RELEASE.wait(20)
    return Out()


def test_two_runners_one_database(sessions: sessionmaker[Session]) -> None:
    """Server a runs a job and beats; server b starts, reads it as running; when a
    stops beating (a crash), b reads it as interrupted without restarting."""
    RELEASE.clear()
    url = sessions.kw["bind"].url.render_as_string(hide_password=False)
    a = JobRunner(
        sessions, url, executor="thread", server_id="a", heartbeat_every_s=0.1, stale_after_s=1.0
    )
    b = JobRunner(
        sessions, url, executor="thread", server_id="b", heartbeat_every_s=0.1, stale_after_s=1.0
    )
    try:
        job = a.submit(
            TAFEL, JobKind.TAFEL_RUN, "Lang", Out(), _blocking_work, today=dt.date.today()
        )
        deadline = time.monotonic() + 10
        while (b.get(TAFEL, job.id) or job).status is not JobStatus.RUNNING:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert b.interrupt_unfinished() == 0
        time.sleep(1.5)  # longer than the limit: a's heartbeat keeps it alive
        seen = b.get(TAFEL, job.id)
        assert seen is not None
        assert seen.status is JobStatus.RUNNING
        a._stop.set()  # server a crashes: no more heartbeats
        time.sleep(1.5)
        lost = b.get(TAFEL, job.id)
        assert lost is not None
        assert lost.status is JobStatus.INTERRUPTED
        assert lost.step == jobs.STEP_LOST
    finally:
        RELEASE.set()
        a.shutdown()
        b.shutdown()
