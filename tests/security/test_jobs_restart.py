"""Stored jobs on both backends with the default process pool: a finished run
survives a new app on the same database, the worker writes its own progress and
times, and a worker that dies leaves a failed job, not one that waits forever."""

from __future__ import annotations

import os
import time
from typing import Any

from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import select

from providers.store.access import Principal
from providers.store.jobs import JobKind
from providers.store.models import JobRow, Role
from services.matching import RunParams
from tests.security.conftest import _settings, csrf_from, login
from tests.wijzer.data import REGION, TODAY
from wijzer.app import create_app
from wijzer.jobs import WorkContext

TAFEL = Principal("test-tafel", Role.TAFEL, None, REGION)


def _wait(client: TestClient, path: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = client.get(path).json()
    while not body["done"]:
        assert time.monotonic() < deadline, body
        time.sleep(0.2)
        body = client.get(path).json()
    return body


def test_a_run_survives_a_new_app_on_the_same_database(
    seeded_url: tuple[str, dict[str, int]],
) -> None:
    settings = _settings(seeded_url[0], jobs_executor="process")
    first = create_app(settings)
    try:
        with TestClient(first, base_url="http://testserver") as c:
            login(c, "test-tafel")
            token = csrf_from(c.get("/tafel").text)
            r = c.post(
                "/api/v1/tafel/runs",
                json={"refs": ["K-001", "K-003"], "name": "Bewaard"},
                headers={"X-CSRF-Token": token},
            )
            assert r.status_code == 202, r.text
            job_id = r.json()["id"]
            before = _wait(c, f"/api/v1/tafel/runs/{job_id}")
            assert before["status"] == "klaar", before
        with first.state.sessions() as s:
            row = s.scalars(select(JobRow).where(JobRow.id == job_id)).one()
        # written by the worker process itself, not by the web process
        assert row.started_at is not None
        assert row.finished_at is not None
        assert row.percent == 100
    finally:
        first.state.jobs.shutdown()
        first.state.engine.dispose()
    second = create_app(settings)
    try:
        with TestClient(second, base_url="http://testserver") as c:
            login(c, "test-tafel")
            after = c.get(f"/api/v1/tafel/runs/{job_id}").json()
            assert after["status"] == "klaar"
            assert after["outcome"] == before["outcome"]
            assert "Bewaard" in c.get("/tafel").text
    finally:
        second.state.jobs.shutdown()
        second.state.engine.dispose()


def die(ctx: WorkContext) -> BaseModel:
    os._exit(3)  # the worker process ends mid-job, as when it is killed


def test_a_worker_that_dies_leaves_a_failed_job(seeded_url: tuple[str, dict[str, int]]) -> None:
    app = create_app(_settings(seeded_url[0], jobs_executor="process"))
    try:
        job = app.state.jobs.submit(
            TAFEL, JobKind.TAFEL_RUN, "Sterft", RunParams(refs=["K-001"]), die, today=TODAY
        )
        deadline = time.monotonic() + 60
        while (found := app.state.jobs.get(TAFEL, job.id)).status.value != "mislukt":
            assert time.monotonic() < deadline, found
            time.sleep(0.1)
        assert found.error == "BrokenProcessPool"
        # the next job gets a fresh pool
        with TestClient(app, base_url="http://testserver") as c:
            login(c, "test-tafel")
            token = csrf_from(c.get("/tafel").text)
            r = c.post(
                "/api/v1/tafel/runs", json={"refs": ["K-001"]}, headers={"X-CSRF-Token": token}
            )
            assert _wait(c, r.headers["location"])["status"] == "klaar"
    finally:
        app.state.jobs.shutdown()
        app.state.engine.dispose()
