"""Names, not codes, on every surface of the test data a person reads: the budget
ceiling is named by its scope and year, gemeenten by their names (the GM codes and
the ceiling's id stay in HTML attributes and in the API's machine fields)."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.wijzer.conftest import login, username_for
from tests.wijzer.test_no_raw_codes import (  # noqa: F401 (jobs is a fixture)
    MACHINE_FIELDS,
    _get,
    _urls,
    jobs,
    visible_text,
)
from wijzer.auth import Role

CODES = re.compile(r"\bB-BUDGET\b|\bGM\d{4}\b")


def _codes(value: object, where: str, key: str = "") -> list[str]:
    if key in MACHINE_FIELDS:
        return []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _codes(v, f"{where}.{k}", k)]
    if isinstance(value, list):
        return [p for v in value for p in _codes(v, where, key)]
    if isinstance(value, str):
        return [f"{where}: {m.group(0)}" for m in CODES.finditer(value)]
    return []


@pytest.mark.parametrize("role", [Role.TAFEL, Role.INKOOP, Role.BEHEER])
def test_no_budget_id_or_gemeente_code_where_a_person_reads(
    app: FastAPI,
    jobs: dict[str, str],  # noqa: F811
    ids: dict[str, int],
    role: Role,
) -> None:
    pages, exports, api = _urls(jobs, ids)
    found: list[str] = []
    seen = 0
    with TestClient(app) as client:
        login(client, username_for(role))
        for target in pages:
            url, r = _get(client, target)
            if r.status_code == 200:
                seen += 1
                found += _codes(visible_text(r.text), url)
        for url in exports:
            r = client.get(url)
            if r.status_code == 200 and url.endswith(".csv"):
                seen += 1
                found += _codes(r.content.decode("utf-8-sig"), url)
        for target in api:
            url, r = _get(client, target)
            if r.status_code == 200:
                seen += 1
                found += _codes(r.json(), url)
    assert seen >= 4, f"{role.value} reached too few surfaces"
    assert not found, "\n".join(sorted(set(found)))


def test_the_inkoop_form_names_the_ceiling(app: FastAPI) -> None:
    with TestClient(app) as client:
        login(client, username_for(Role.INKOOP))
        text = visible_text(client.get("/inkoop").text)
    assert "Plafond Budget Zorg 2026: hoeveel euro erbij?" in text
