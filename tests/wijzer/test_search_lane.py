"""Searches take turns in the process's search lane; other pages do not wait for them."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.wijzer.conftest import login
from tests.wijzer.data import DORDRECHT
from wijzer.routers import zoeken

BASE = {"zorgvorm": "TRAUMATHERAPIE", "leeftijd": "9", "gemeente": DORDRECHT}


@pytest.fixture
def verwijzer(client: TestClient) -> TestClient:
    login(client, "test-verwijzer")
    return client


@pytest.fixture
def inside(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The most searches seen working at once (each made to take 50 ms)."""
    real = zoeken.build_context
    lock = threading.Lock()
    now = [0]
    most = [0]

    def slow(*args: Any, **kwargs: Any) -> Any:
        with lock:
            now[0] += 1
            most[0] = max(most[0], now[0])
        try:
            time.sleep(0.05)
            return real(*args, **kwargs)
        finally:
            with lock:
                now[0] -= 1

    monkeypatch.setattr(zoeken, "build_context", slow)
    return most


def _many(client: TestClient, n: int, path: str = "/zoeken") -> list[int]:
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: client.get(path, params=BASE).status_code, range(n)))


def test_searches_take_turns_two_at_a_time(
    app: FastAPI, verwijzer: TestClient, inside: list[int]
) -> None:
    assert app.state.settings.search_concurrency == 2  # the default
    assert _many(verwijzer, 6) == [200] * 6
    assert _many(verwijzer, 6, "/api/v1/zoeken") == [200] * 6
    assert inside[0] == 2


@pytest.mark.parametrize("width", [1, 3])
def test_the_lane_is_as_wide_as_set(
    app: FastAPI, verwijzer: TestClient, inside: list[int], width: int
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"search_concurrency": width})
    app.state.search_lane = None  # made again, as wide as set, by the next search
    assert _many(verwijzer, 9) == [200] * 9
    if width == 1:
        assert inside[0] == 1
    else:
        assert 1 < inside[0] <= width


def test_other_pages_do_not_wait_for_the_lane(
    verwijzer: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, release = threading.Event(), threading.Event()
    real = zoeken.build_context

    def held(*args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(zoeken, "build_context", held)
    with ThreadPoolExecutor(1) as pool:
        search = pool.submit(lambda: verwijzer.get("/zoeken", params=BASE).status_code)
        assert started.wait(10)
        # The lane is taken; another page is answered all the same.
        assert verwijzer.get("/wachttijden").status_code == 200
        release.set()
        assert search.result(10) == 200


def test_the_lane_checks_the_role_first(client: TestClient) -> None:
    login(client, "test-aanbieder")
    assert client.get("/zoeken", params=BASE).status_code == 403
    assert client.get("/api/v1/zoeken", params=BASE).status_code == 403


def test_the_same_app_searches_from_a_second_event_loop(app: FastAPI) -> None:
    for _ in range(2):  # each TestClient runs the app in an event loop of its own
        with TestClient(app) as client:
            login(client, "test-verwijzer")
            assert client.get("/zoeken", params=BASE).status_code == 200
