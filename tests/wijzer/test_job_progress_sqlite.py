"""A running job's progress is readable before the job ends, also on SQLite, where
a job that reads a region (and writes the audit of that read) used to hold the one
write lock until its end, so its progress appeared only with the result."""

from __future__ import annotations

import threading
import time

from fastapi import FastAPI
from pydantic import BaseModel

from providers.store import regional
from providers.store.access import Principal
from providers.store.models import Role
from tests.wijzer.data import REGION, TODAY
from wijzer.jobs import JobKind, JobStatus, WorkContext

INKOOP = Principal("test-inkoop", Role.INKOOP, None, REGION)
RELEASE = threading.Event()


class Out(BaseModel):
    children: int


def _scenario_like(ctx: WorkContext) -> Out:
    """What an inkoop scenario does: read the region (audited) in one transaction and
    report progress while it computes."""
    with ctx.sessions.begin() as session:
        sc = regional.load_region(session, ctx.principal, today=TODAY)
        ctx.progress("Het scenario berekenen", 45)
        RELEASE.wait(20)
    return Out(children=len(sc.children))


def test_progress_is_readable_while_the_job_runs(app: FastAPI) -> None:
    assert app.state.engine.dialect.name == "sqlite"
    RELEASE.clear()
    runner = app.state.jobs
    job = runner.submit(
        INKOOP, JobKind.INKOOP_SCENARIO, "Proef", Out(children=0), _scenario_like, today=TODAY
    )
    try:
        deadline = time.monotonic() + 10
        seen = runner.get(INKOOP, job.id)
        while seen is None or seen.percent != 45:
            assert time.monotonic() < deadline, seen
            time.sleep(0.05)
            seen = runner.get(INKOOP, job.id)
        assert seen.status is JobStatus.RUNNING
        assert seen.step == "Het scenario berekenen"
    finally:
        RELEASE.set()
    deadline = time.monotonic() + 10
    done = runner.get(INKOOP, job.id)
    while done is None or done.status is not JobStatus.DONE:
        assert time.monotonic() < deadline, done
        time.sleep(0.05)
        done = runner.get(INKOOP, job.id)
    assert Out.model_validate_json(done.result or "{}").children > 0
