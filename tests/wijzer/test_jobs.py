"""Jobs through the app: results that survive a restart, "onderbroken" with a button
to start again, the quota as a Dutch 429, the table's own runs with name, who,
when and status, compare any two, and the stored JSON of every result type."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from providers.store import jobs as jobstore
from providers.store.access import Principal
from providers.store.jobs import JobKind
from providers.store.models import JobRow, Role
from services.matching import RunOutcome, RunParams
from tests.wijzer.conftest import csrf_from, login
from tests.wijzer.data import CARE, REGION
from wijzer.app import create_app
from wijzer.settings import Settings
from wijzer.views import tafel as tafel_view
from wijzer.views.inkoop_scenario import AdviceParams, AdviceResult, ScenarioResult

TAFEL = Principal("test-tafel", Role.TAFEL, None, REGION)
INKOOP = Principal("test-inkoop", Role.INKOOP, None, REGION)
OTHER_TABLE = Principal("tafel-utrecht", Role.TAFEL, None, "JZ20")


def _api_run(client: TestClient, refs: list[str], name: str | None = None) -> str:
    token = csrf_from(client.get("/tafel").text)
    body: dict[str, Any] = {"refs": refs}
    if name is not None:
        body["name"] = name
    r = client.post("/api/v1/tafel/runs", json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def _wait(client: TestClient, path: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = client.get(path).json()
    while not body["done"]:
        assert time.monotonic() < deadline, body
        time.sleep(0.2)
        body = client.get(path).json()
    return body


def _stored(app: FastAPI, who: Principal, kind: JobKind, params: str, name: str = "Proef") -> str:
    with app.state.sessions.begin() as s:
        return jobstore.create(s, who, kind, name, params).id


def _job_count(app: FastAPI) -> int:
    with app.state.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(JobRow)) or 0)


# ----------------------------------------------------------- restart and executors


def test_a_finished_result_survives_a_restart_on_the_process_pool(settings: Settings) -> None:
    process = settings.model_copy(update={"jobs_executor": "process"})
    first = create_app(process)
    assert first.state.jobs.executor.name == "process"
    with TestClient(first) as c:
        login(c, "test-tafel")
        job_id = _api_run(c, ["K-001", "K-002", "K-003"], name="Voor de herstart")
        before = _wait(c, f"/api/v1/tafel/runs/{job_id}")
        assert before["status"] == "klaar", before
    first.state.engine.dispose()

    second = create_app(process)  # a new process on the same database
    with TestClient(second) as c:
        login(c, "test-tafel")
        after = c.get(f"/api/v1/tafel/runs/{job_id}").json()
        assert after["status"] == "klaar"
        assert after["outcome"] == before["outcome"]
        assert after["name"] == "Voor de herstart"
        html = c.get(f"/tafel/runs/{job_id}").text
        assert "Uitkomst: 2 van 3 hulpvragen binnen de norm" in html
        assert "Voor de herstart" in c.get("/tafel").text
    second.state.engine.dispose()


def test_an_unfinished_job_is_interrupted_and_can_be_started_again(
    settings: Settings,
) -> None:
    app = create_app(settings)
    params = RunParams(refs=["K-001"]).model_dump_json()
    waiting = _stored(app, TAFEL, JobKind.TAFEL_RUN, params, name="Middenin")
    with TestClient(app) as c:  # the start-up of a new server process
        login(c, "test-tafel")
        html = c.get(f"/tafel/runs/{waiting}").text
        assert "Deze berekening is onderbroken" in html
        assert "Opnieuw starten" in html
        assert 'hx-trigger="every 1s"' not in html  # nothing to wait for
        assert "Onderbroken" in c.get("/tafel").text
        token = csrf_from(html)
        again = c.post(
            f"/tafel/runs/{waiting}/herstart", data={"csrf_token": token}, follow_redirects=False
        )
        assert again.status_code == 303
        new_id = again.headers["location"].rsplit("/", 1)[-1]
        body = _wait(c, f"/api/v1/tafel/runs/{new_id}")
        assert body["status"] == "klaar"
        assert body["params"] == RunParams.model_validate_json(params).model_dump(mode="json")
        assert body["name"] == "Middenin"
        # a finished job is not started again
        done = c.post(f"/tafel/runs/{new_id}/herstart", data={"csrf_token": token})
        assert done.status_code == 409
        assert "loopt nog of is al klaar" in done.text
    app.state.engine.dispose()


def test_an_interrupted_inkoop_job_can_be_started_again(settings: Settings) -> None:
    app = create_app(settings)
    params = AdviceParams(budget_cents=10_000_000, max_places=2).model_dump_json()
    waiting = _stored(app, INKOOP, JobKind.INKOOP_ADVICE, params, name="Inkoopadvies")
    with TestClient(app) as c:
        login(c, "test-inkoop")
        html = c.get(f"/inkoop/scenario/{waiting}").text
        assert "Deze berekening is onderbroken" in html
        r = c.post(
            f"/inkoop/scenario/{waiting}/herstart",
            data={"csrf_token": csrf_from(html)},
            follow_redirects=False,
        )
        assert r.status_code == 303
        new_id = r.headers["location"].rsplit("/", 1)[-1]
        body = _wait(c, f"/api/v1/inkoop/scenarios/{new_id}")
        assert body["status"] == "klaar"
        assert body["advice"] is not None
    app.state.engine.dispose()


def test_jobs_run_on_a_dask_cluster(settings: Settings) -> None:
    distributed = pytest.importorskip(
        "distributed", reason="dask.distributed is not installed (pip install .[dask])"
    )
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        app = create_app(settings.model_copy(update={"dask_scheduler": cluster.scheduler_address}))
        assert app.state.jobs.executor.name == "dask"
        with TestClient(app) as c:
            login(c, "test-tafel")
            job_id = _api_run(c, ["K-001"])
            body = _wait(c, f"/api/v1/tafel/runs/{job_id}")
            assert body["status"] == "klaar", body
            assert body["outcome"]["rows"][0]["provider"] == "Hulp Zuid"
        app.state.engine.dispose()


# ------------------------------------------------------------------------- quota


def test_above_the_quota_a_dutch_429_and_nothing_stored(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"jobs_max_active": 3}))
    params = RunParams(refs=["K-001"]).model_dump_json()
    with TestClient(app, base_url="http://testserver") as c:
        for _ in range(3):  # stored after the start-up, so they stay waiting
            _stored(app, TAFEL, JobKind.TAFEL_RUN, params)
        before = _job_count(app)
        login(c, "test-tafel")
        token = csrf_from(c.get("/tafel").text)
        page = c.post("/tafel/runs", data={"kind": ["K-001"], "csrf_token": token})
        assert page.status_code == 429
        assert "U heeft al 3 berekeningen die wachten of bezig zijn" in page.text
        assert "Wacht tot er een klaar is" in page.text
        api = c.post(
            "/api/v1/tafel/runs", json={"refs": ["K-001"]}, headers={"X-CSRF-Token": token}
        )
        assert api.status_code == 429
        assert "Wacht tot er een klaar is" in api.json()["detail"]
        assert _job_count(app) == before
        # another user is not held back
        login(c, "test-inkoop")
        token = csrf_from(c.get("/inkoop").text)
        ok = c.post(
            "/api/v1/inkoop/advies", json={"budget_euro": 1000}, headers={"X-CSRF-Token": token}
        )
        assert ok.status_code == 202
    app.state.engine.dispose()


# ------------------------------------------------------- the table's list of runs


def test_the_table_lists_only_its_own_runs_with_name_who_when_status(
    app: FastAPI, client: TestClient
) -> None:
    login(client, "test-tafel")
    params = RunParams(refs=["K-001"]).model_dump_json()
    advice = AdviceParams(budget_cents=100_000, max_places=1).model_dump_json()
    inkoop = _stored(app, INKOOP, JobKind.INKOOP_ADVICE, advice, name="Inkoopadvies X")
    other = _stored(app, OTHER_TABLE, JobKind.TAFEL_RUN, params, name="Utrecht-run")
    job_id = _api_run(client, ["K-001"], name="Proef met K-001")
    _wait(client, f"/api/v1/tafel/runs/{job_id}")
    html = client.get("/tafel").text
    runs = html.split('id="runs-titel"')[1].split("</table>")[0]
    assert "Proef met K-001" in runs
    assert "test-tafel" in runs  # who
    assert "Klaar" in runs  # status in words
    assert re.search(r"\d{1,2} \w+ 2026 \d\d:\d\d", runs)  # when
    assert "Inkoopadvies X" not in html
    assert inkoop not in html
    assert "Utrecht-run" not in html
    assert other not in html
    # and inkoop does not see the table's run
    login(client, "test-inkoop")
    assert "Proef met K-001" not in client.get("/inkoop").text


def test_a_run_without_a_name_is_called_run_with_date_and_time(tafel_client: TestClient) -> None:
    token = csrf_from(tafel_client.get("/tafel").text)
    r = tafel_client.post(
        "/tafel/runs",
        data={"kind": ["K-001"], "naam": "  ", "csrf_token": token},
        follow_redirects=False,
    )
    html = tafel_client.get(r.headers["location"]).text
    assert re.search(r"<h1[^>]*>Run \d\d-\d\d-\d{4} \d\d:\d\d</h1>", html)
    assert "Matching van 1 kind" in html  # what it computed, beside the name


def test_compare_any_two_runs_from_the_list(tafel_client: TestClient) -> None:
    ids = [
        _api_run(tafel_client, refs, name=f"Run {i}")
        for i, refs in enumerate((["K-001"], ["K-001", "K-002"], ["K-001", "K-002", "K-003"]))
    ]
    for job_id in ids:
        _wait(tafel_client, f"/api/v1/tafel/runs/{job_id}")
    html = tafel_client.get("/tafel").text
    form = html.split('action="/tafel/vergelijk"')[1].split("</form>")[0]
    for job_id in ids:  # each finished run can be picked as A and as B
        assert form.count(f'value="{job_id}"') == 2
    # the first and the last, not only a run and the one before it
    page = tafel_client.get("/tafel/vergelijk", params={"a": ids[0], "b": ids[2]})
    assert page.status_code == 200
    assert "A: Matching van 1 kind" in page.text
    assert "B: Matching van 3 kinderen" in page.text


@pytest.fixture
def tafel_client(client: TestClient) -> TestClient:
    login(client, "test-tafel")
    return client


# ----------------------------------------------------- stored results as JSON


def _stored_result(app: FastAPI, job_id: str) -> str:
    with app.state.sessions() as s:
        text = s.scalar(select(JobRow.result).where(JobRow.id == job_id))
    assert text is not None
    assert not text.startswith("\x80")  # JSON, never a pickle
    return str(text)


def test_every_result_type_round_trips_through_its_stored_json(
    app: FastAPI, client: TestClient
) -> None:
    login(client, "test-tafel")
    run = _api_run(client, ["K-001", "K-002", "K-003"])
    _wait(client, f"/api/v1/tafel/runs/{run}")
    login(client, "test-inkoop")
    token = csrf_from(client.get("/inkoop").text)
    headers = {"X-CSRF-Token": token}
    scenario = client.post(
        "/api/v1/inkoop/scenarios",
        json={"extra_places": [{"care_type": CARE, "region": REGION, "places": 2}]},
        headers=headers,
    ).json()["id"]
    advice = client.post(
        "/api/v1/inkoop/advies", json={"budget_euro": 100000}, headers=headers
    ).json()["id"]
    for job_id in (scenario, advice):
        assert _wait(client, f"/api/v1/inkoop/scenarios/{job_id}")["status"] == "klaar"
    for job_id, model in ((run, RunOutcome), (scenario, ScenarioResult), (advice, AdviceResult)):
        text = _stored_result(app, job_id)
        value = model.model_validate_json(text)
        again = model.model_validate_json(value.model_dump_json())
        assert again == value
        assert again.model_dump_json() == value.model_dump_json()


def test_a_stored_job_an_older_version_wrote_is_no_server_error(
    app: FastAPI, client: TestClient
) -> None:
    run = _stored(app, TAFEL, JobKind.TAFEL_RUN, '{"kinderen": 3}', name="Oud formaat")
    scenario = _stored(app, INKOOP, JobKind.INKOOP_SCENARIO, '{"extra_places": 1}')
    with app.state.sessions.begin() as s:
        for job_id in (run, scenario):
            jobstore.mark_done(s, job_id, '{"rijen": []}')
    login(client, "test-tafel")
    assert "Oud formaat" in client.get("/tafel").text
    page = client.get(f"/tafel/runs/{run}")
    assert page.status_code == 200
    assert "kan niet meer worden gelezen" in page.text
    failed = _stored(app, TAFEL, JobKind.TAFEL_RUN, '{"kinderen": 3}')
    with app.state.sessions.begin() as s:
        jobstore.mark_failed(s, failed, "RuntimeError")
    token = csrf_from(page.text)
    again = client.post(f"/tafel/runs/{failed}/herstart", data={"csrf_token": token})
    assert again.status_code == 409
    assert "Start een nieuwe berekening" in again.text
    login(client, "test-inkoop")
    assert client.get("/inkoop").status_code == 200
    page = client.get(f"/inkoop/scenario/{scenario}")
    assert page.status_code == 200
    assert "kan niet meer worden gelezen" in page.text


def test_run_name_default_is_run_with_dutch_date_and_time() -> None:
    winter = dt.datetime(2026, 12, 6, 2, 5, tzinfo=dt.UTC)
    summer = dt.datetime(2026, 7, 1, 22, 30, tzinfo=dt.UTC)
    assert tafel_view.run_name(None, winter) == "Run 06-12-2026 03:05"
    assert tafel_view.run_name("   ", summer) == "Run 02-07-2026 00:30"
    assert tafel_view.run_name("  Proef   met\tpins ", winter) == "Proef met pins"
    assert len(tafel_view.run_name("x" * 500, winter)) == 120


def test_run_label_says_what_was_computed() -> None:
    assert tafel_view.run_label(RunParams(refs=["K-001"])) == "Matching van 1 kind"
    assert tafel_view.run_label(RunParams(refs=["K-001", "K-002"])) == "Matching van 2 kinderen"
    rerun = RunParams(refs=["K-001"], parent="abc")
    assert tafel_view.run_label(rerun) == "Opnieuw: 0 vastgezet, 0 uitgesloten"
