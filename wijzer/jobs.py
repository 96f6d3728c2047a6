"""Background jobs: stored in the database, run by one executor per app.

A matching of a table's list or an inkoop what-if can take seconds to minutes;
the page shows its progress and stays usable. The job itself (who, what, status,
progress, result) is a row of the data layer (`providers.store.jobs`, which also
decides who may see it), so a job outlives the process that started it: after a
restart a finished result is still there and an unfinished one says "onderbroken".

The work runs on one executor: a local process pool by default, the Dask cluster
of the sweeps when `WIJZER_DASK_SCHEDULER` is set, or threads (for a database only
this process can reach, such as SQLite in memory). Every executor gets the same
picklable `Task`; the worker opens its own database connection and writes the
progress and the result itself, so nothing has to be relayed back to this process.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import multiprocessing
import secrets
import socket
import threading
import time
from collections.abc import Callable, Collection
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session, sessionmaker

from providers.store import jobs as store
from providers.store.access import Principal
from providers.store.engine import make_engine, session_factory
from providers.store.jobs import JobKind, JobQuotaExceeded, JobRecord, JobStatus

__all__ = [
    "UNREADABLE",
    "Job",
    "JobKind",
    "JobQuotaExceeded",
    "JobRunner",
    "JobStatus",
    "Progress",
    "Task",
    "WorkContext",
    "decode",
    "run_task",
]

log = logging.getLogger("wijzer.jobs")
Progress = Callable[[str, int], None]
ExecutorKind = Literal["process", "thread"]
ALL_KINDS: tuple[JobKind, ...] = tuple(JobKind)
# Progress is written at most this often (plus at every new step): a solver may
# report many times a second, and each report is a database write.
PROGRESS_EVERY_S = 0.5
PROGRESS_LOCK_WAIT_MS = 200
SQLITE_BUSY_MS = 30_000  # as set for every connection in providers.store.engine


@dataclass(frozen=True)
class WorkContext:
    """What a job's work function gets: its own database sessions and the request."""

    sessions: sessionmaker[Session]
    principal: Principal
    params: str
    today: dt.date
    progress: Progress
    options: dict[str, float]


# A job's work: a module-level function (so a process or a Dask worker can find it by
# name) that returns the result as a pydantic model.
Work = Callable[[WorkContext], BaseModel]


@dataclass(frozen=True)
class Task:
    """One job as sent to a worker: plain values only, so it pickles."""

    job_id: str
    database_url: str
    principal: Principal
    params: str
    today: dt.date
    work: Work
    options: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    """A stored job as the pages read it; `params` and `result` are JSON text that
    the view of its kind decodes with its own models."""

    id: str
    kind: JobKind
    owner: str
    scope: str | None
    label: str
    params: str
    status: JobStatus
    step: str
    percent: int
    created: dt.datetime
    started: dt.datetime | None
    finished: dt.datetime | None
    result: str | None
    error: str

    @property
    def done(self) -> bool:
        return self.status not in store.ACTIVE

    @staticmethod
    def of(record: JobRecord) -> Job:
        return Job(
            id=record.id,
            kind=record.kind,
            owner=record.owner,
            scope=record.region_code,
            label=record.name,
            params=record.params,
            status=record.status,
            step=record.step,
            percent=record.percent,
            created=record.created_at,
            started=record.started_at,
            finished=record.finished_at,
            result=record.result,
            error=record.error,
        )


M = TypeVar("M", bound=BaseModel)
UNREADABLE = "Deze berekening kan niet meer worden gelezen. Start een nieuwe berekening."


def decode(model: type[M], text: str | None) -> M | None:
    """A stored parameter or result, or None when it no longer fits its model (a row
    written by an older version): the page then says so instead of failing."""
    if text is None:
        return None
    try:
        return model.model_validate_json(text)
    except ValidationError:
        log.warning("stored job JSON does not fit %s", model.__name__)
        return None


# ------------------------------------------------------------------ the worker's side


@functools.lru_cache(maxsize=4)
def _worker_sessions(database_url: str) -> sessionmaker[Session]:
    # One engine per worker process and database, kept between tasks: opening a
    # connection pool for every job would cost more than a small job itself.
    return session_factory(make_engine(database_url))


def run_task(task: Task, sessions: sessionmaker[Session] | None = None) -> None:
    """Run one job and write its progress and outcome; never raises."""
    db = sessions if sessions is not None else _worker_sessions(task.database_url)
    last: list[Any] = [None, 0.0]

    def progress(step: str, percent: int) -> None:
        now = time.monotonic()
        if last[0] == step and now - last[1] < PROGRESS_EVERY_S:
            return
        if _write_progress(db, task.job_id, step, percent):
            last[0], last[1] = step, now

    try:
        with db.begin() as s:
            store.mark_running(s, task.job_id)
        work_db = _work_sessions(db)
        context = WorkContext(
            work_db, task.principal, task.params, task.today, progress, task.options
        )
        result = task.work(context).model_dump_json()
    except Exception as exc:  # a failed job must show its failure, not vanish
        log.exception("job %s failed", task.job_id)
        _mark_failed(db, task.job_id, type(exc).__name__)
        return
    with db.begin() as s:
        store.mark_done(s, task.job_id, result)


def _work_sessions(db: sessionmaker[Session]) -> sessionmaker[Session]:
    """The sessions a job's work gets. On SQLite they do not flush before every query:
    a job that reads a region writes the audit of that read, and a flushed write holds
    the database's one write lock until the job's transaction ends, which kept its
    progress (and its server's heartbeat) out until the job was done. Unflushed, the
    audit is written at the commit, in the same transaction as before."""
    engine = db.kw["bind"]
    if engine.dialect.name != "sqlite":
        return db
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)


def _write_progress(db: sessionmaker[Session], job_id: str, step: str, percent: int) -> bool:
    """Write progress without waiting long for a lock; False when it was not written.

    On SQLite a job that holds a write transaction while it computes (an inkoop
    scenario writes its audit entry first) blocks every other writer, its own
    progress included: waiting the usual 30 s would stall the job, so the progress
    waits a moment and is otherwise written at the next report. PostgreSQL locks
    rows, so there it is always written.
    """
    engine = db.kw["bind"]
    try:
        with engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                conn.exec_driver_sql(f"PRAGMA busy_timeout={PROGRESS_LOCK_WAIT_MS}")
            try:
                with Session(bind=conn) as s:
                    store.mark_progress(s, job_id, step, percent)
                    s.commit()
                # On SQLite the PRAGMA above began the connection's transaction; the
                # session joined it and its commit left it open, so the progress was
                # rolled back when the connection closed. The connection commits it.
                conn.commit()
            finally:
                if sqlite:
                    conn.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    except Exception:  # progress is a courtesy; the job itself goes on
        log.info("progress of job %s not written now", job_id, exc_info=True)
        return False
    return True


def _mark_failed(db: sessionmaker[Session], job_id: str, error: str) -> None:
    try:
        with db.begin() as s:
            store.mark_failed(s, job_id, error)
    except Exception:
        log.exception("job %s: its failure could not be written", job_id)


# ------------------------------------------------------------------------ executors


class Executor(Protocol):
    name: str

    def submit(self, task: Task, on_lost: Callable[[str], None]) -> None: ...

    def shutdown(self) -> None: ...


class LocalExecutor:
    """A process pool (default) or a thread pool, created on first use and again
    after a shutdown (the app may be started and stopped more than once)."""

    def __init__(self, kind: ExecutorKind, workers: int, sessions: sessionmaker[Session]) -> None:
        self.name: str = kind
        self._workers = workers
        self._sessions = sessions
        self._pool: ProcessPoolExecutor | ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _ensure(self) -> ProcessPoolExecutor | ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                if self.name == "process":
                    # spawn, not fork: the web server has threads and open connections
                    # that a forked child must not inherit.
                    self._pool = ProcessPoolExecutor(
                        max_workers=self._workers, mp_context=multiprocessing.get_context("spawn")
                    )
                else:
                    self._pool = ThreadPoolExecutor(
                        max_workers=self._workers, thread_name_prefix="wijzer-job"
                    )
            return self._pool

    def submit(self, task: Task, on_lost: Callable[[str], None]) -> None:
        pool = self._ensure()
        future: Future[None]
        if isinstance(pool, ThreadPoolExecutor):
            future = pool.submit(run_task, task, self._sessions)
        else:
            future = pool.submit(run_task, task)

        def done(f: Future[None]) -> None:
            # run_task never raises: an exception here means the worker itself died
            # (killed, out of memory) or the task could not be sent to it.
            if not f.cancelled() and f.exception() is not None:
                on_lost(type(f.exception()).__name__)
                if isinstance(pool, ProcessPoolExecutor):
                    with self._lock:
                        if self._pool is pool:
                            self._pool = None  # a broken pool takes no new work

        future.add_done_callback(done)

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


class DaskExecutor:
    """The Dask cluster of the sweeps (`WIJZER_DASK_SCHEDULER`); its workers need the
    project installed and must reach the same database."""

    name = "dask"

    def __init__(self, scheduler: Any) -> None:
        self._scheduler = scheduler
        self._client: Any = None
        self._lock = threading.Lock()

    def _ensure(self) -> Any:
        with self._lock:
            if self._client is None:
                import distributed  # lazy: an optional dependency, as in matcher.sweep

                client_cls: Any = distributed.Client
                self._client = client_cls(self._scheduler, set_as_default=False)
            return self._client

    def submit(self, task: Task, on_lost: Callable[[str], None]) -> None:
        future = self._ensure().submit(run_task, task, pure=False)

        def done(f: Any) -> None:
            if f.status == "error":
                on_lost(type(f.exception()).__name__)

        future.add_done_callback(done)

    def shutdown(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()


def in_memory(database_url: str) -> bool:
    return database_url.startswith("sqlite") and (
        database_url in ("sqlite://", "sqlite:///") or ":memory:" in database_url
    )


# --------------------------------------------------------------------------- runner


class JobRunner:
    """Starts jobs within the quota and reads them back for a principal."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        database_url: str,
        *,
        executor: ExecutorKind = "process",
        workers: int = 2,
        dask_scheduler: Any = None,
        max_active: int = store.MAX_ACTIVE,
        max_stored: int = store.MAX_STORED,
        server_id: str | None = None,
        heartbeat_every_s: float = store.HEARTBEAT_EVERY_S,
        stale_after_s: float = store.HEARTBEAT_STALE_S,
    ) -> None:
        self._sessions = sessions
        self._url = database_url
        self.max_active = max_active
        self.max_stored = max_stored
        # New at every start: a job of this server's previous run has no live server.
        self.server_id = server_id or f"{socket.gethostname()[:40]}-{secrets.token_hex(6)}"
        self.heartbeat_every_s = heartbeat_every_s
        self.stale_after_s = stale_after_s
        self._beating: threading.Thread | None = None
        self._stop = threading.Event()
        self._beat_lock = threading.Lock()
        self.executor: Executor
        if dask_scheduler:
            self.executor = DaskExecutor(dask_scheduler)
        elif in_memory(database_url):
            # another process would open an empty database of its own
            self.executor = LocalExecutor("thread", workers, sessions)
        else:
            self.executor = LocalExecutor(executor, workers, sessions)

    def submit(
        self,
        principal: Principal,
        kind: JobKind,
        name: str,
        params: BaseModel,
        work: Work,
        *,
        today: dt.date,
        options: dict[str, float] | None = None,
    ) -> Job:
        """Store the job and hand it to the executor; `JobQuotaExceeded` above the quota."""
        text = params.model_dump_json()
        with self._sessions.begin() as s:
            record = store.create(
                s,
                principal,
                kind,
                name,
                text,
                max_active=self.max_active,
                max_stored=self.max_stored,
                server_id=self.server_id,
            )
        self._keep_beating()
        task = Task(record.id, self._url, _plain(principal), text, today, work, options or {})
        try:
            self.executor.submit(task, functools.partial(self._lost, record.id))
        except Exception as exc:  # e.g. the cluster cannot be reached
            log.exception("job %s could not be started", record.id)
            self._lost(record.id, type(exc).__name__)
        return self.get(Principal.system(), record.id) or Job.of(record)

    def _keep_beating(self) -> None:
        """Write this server's heartbeat while it has jobs waiting or running (a thread
        that ends when none are left, and starts again with the next job)."""
        with self._beat_lock:
            if self._beating is not None and self._beating.is_alive():
                return
            self._stop.clear()
            self._beating = threading.Thread(
                target=self._beat, name="wijzer-job-heartbeat", daemon=True
            )
            self._beating.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_every_s):
            try:
                with self._sessions.begin() as s:
                    left = store.heartbeat(s, self.server_id)
            except Exception:  # a missed beat is retried; a long gap shows as interrupted
                log.warning("heartbeat of server %s not written", self.server_id, exc_info=True)
                continue
            if left == 0:
                with self._beat_lock:
                    self._beating = None
                return

    def heartbeat(self) -> int:
        """Write the heartbeat now (what the thread does every `heartbeat_every_s`)."""
        with self._sessions.begin() as s:
            return store.heartbeat(s, self.server_id)

    def _lost(self, job_id: str, error: str) -> None:
        _mark_failed(self._sessions, job_id, error)

    def get(
        self, principal: Principal, job_id: str, kinds: Collection[JobKind] = ALL_KINDS
    ) -> Job | None:
        with self._sessions() as s:
            record = store.get(s, principal, job_id, kinds, stale_after_s=self.stale_after_s)
        return Job.of(record) if record is not None else None

    def listing(
        self, principal: Principal, kinds: Collection[JobKind] = ALL_KINDS, *, limit: int = 50
    ) -> list[Job]:
        with self._sessions() as s:
            records = store.listing(
                s, principal, kinds, limit=limit, stale_after_s=self.stale_after_s
            )
            return [Job.of(r) for r in records]

    def interrupt_unfinished(self) -> int:
        """At start-up: jobs left waiting or running by a stopped server are "onderbroken"."""
        with self._sessions.begin() as s:
            n = store.interrupt_unfinished(s, stale_after_s=self.stale_after_s)
        if n:
            log.info("%d unfinished job(s) marked as interrupted", n)
        return n

    def shutdown(self) -> None:
        self._stop.set()
        self.executor.shutdown()


def _plain(principal: Principal) -> Principal:
    # The signed-in user carries display fields of the web layer; the worker needs
    # only the data layer's principal, which every worker can load from its module path.
    return Principal(
        principal.username,
        principal.role,
        principal.organisation_id,
        principal.region_code,
        principal.provider_id,
        principal.gi_code,
    )
