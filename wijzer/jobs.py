"""Background jobs with progress, one runner per app (on ``app.state``, never module-level).

A matching of a table's list can take seconds; the page shows its progress and
stays usable. Jobs live in memory: after a restart earlier runs are gone, which
suits what-if runs (the decisions themselves are exported or recorded elsewhere).
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

Progress = Callable[[str, int], None]


class JobStatus(StrEnum):
    QUEUED = "wacht"
    RUNNING = "bezig"
    DONE = "klaar"
    FAILED = "mislukt"


@dataclass
class Job:
    id: str
    owner: str
    scope: str | None
    label: str
    params: Any
    status: JobStatus = JobStatus.QUEUED
    step: str = "In de wachtrij"
    percent: int = 0
    created: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    result: Any = None
    error: str = ""


class JobRunner:
    """Runs jobs on a small thread pool and keeps the most recent ones."""

    def __init__(self, max_workers: int = 2, keep: int = 100) -> None:
        self._max_workers = max_workers
        self._pool: ThreadPoolExecutor | None = None
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._keep = keep

    def submit(
        self,
        *,
        owner: str,
        scope: str | None,
        label: str,
        params: Any,
        work: Callable[[Progress], Any],
    ) -> Job:
        job = Job(id=secrets.token_urlsafe(8), owner=owner, scope=scope, label=label, params=params)
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > self._keep:
                self._jobs.popitem(last=False)

        def progress(step: str, percent: int) -> None:
            job.step, job.percent = step, max(0, min(100, percent))

        def run() -> None:
            job.status = JobStatus.RUNNING
            try:
                job.result = work(progress)
            except Exception as exc:  # a failed job must show its failure, not vanish
                job.status = JobStatus.FAILED
                job.error = type(exc).__name__
                job.step = "Het rekenen is mislukt"
                raise
            job.status = JobStatus.DONE
            job.step, job.percent = "Klaar", 100

        with self._lock:
            # Created on first use and again after a shutdown: the app may be started
            # and stopped more than once (tests, reloads).
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self._max_workers, thread_name_prefix="wijzer-job"
                )
            self._pool.submit(run)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def for_scope(self, scope: str | None) -> list[Job]:
        with self._lock:
            jobs = list(self._jobs.values())
        return [j for j in reversed(jobs) if scope is None or j.scope == scope]

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
