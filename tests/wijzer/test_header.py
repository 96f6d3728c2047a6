"""The page header names the signed-in account with its role and organisation, each
once: beheer's organisation is called "Beheer" like its role."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from wijzer.auth import Role


def _account_line(html: str) -> str:
    found = re.search(r"<span>(test-[^<]*)</span>", html)
    assert found, html[:2000]
    return found.group(1)


def test_beheer_reads_its_role_once(login_as: Callable[[Role], TestClient]) -> None:
    assert _account_line(login_as(Role.BEHEER).get("/").text) == "test-beheer (Beheer)"


@pytest.mark.parametrize("role", [Role.VERWIJZER, Role.AANBIEDER])
def test_other_roles_show_their_organisation(
    login_as: Callable[[Role], TestClient], role: Role
) -> None:
    line = _account_line(login_as(role).get("/").text)
    assert line.count(",") == 1, line
    assert line.split(", ")[1].rstrip(")") not in ("", "Beheer"), line
