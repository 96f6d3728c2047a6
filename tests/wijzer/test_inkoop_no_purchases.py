"""Purchase advice for a region that has bought nothing yet: a finished job with a
B1 Dutch explanation and what to do, never a failed job."""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete

from providers.store.models import Contract
from services.purchase_advice import NO_PURCHASES
from tests.wijzer.conftest import csrf_from, login


def _wait(client: TestClient, job_id: str) -> dict[str, Any]:
    for _ in range(150):
        body: dict[str, Any] = client.get(f"/api/v1/inkoop/scenarios/{job_id}").json()
        if body["done"]:
            return body
        time.sleep(0.1)
    raise AssertionError("the advice did not finish")


def test_advice_without_purchases_finishes_with_an_explanation(
    client: TestClient, app: FastAPI
) -> None:
    with app.state.sessions.begin() as session:
        session.execute(delete(Contract))
    login(client, "test-inkoop")
    token = csrf_from(client.get("/inkoop").text)
    started = client.post(
        "/inkoop/advies",
        data={"csrf_token": token, "budget": "100.000", "max_plekken": "3"},
        follow_redirects=False,
    )
    assert started.status_code == 303
    job_id = started.headers["location"].rsplit("/", 1)[1]
    body = _wait(client, job_id)
    assert body["status"] == "klaar", body
    assert not body.get("error")
    assert body["advice"]["rules"] == []
    assert body["advice"]["no_advice"] == NO_PURCHASES
    html = client.get(started.headers["location"]).text
    assert "nog geen ingekocht aanbod" in html
    assert "Laat beheer de contracten van de regio inlezen" in html
    assert "Er ging iets mis" not in html
