"""Keeps the justified bandit skips (bandit.yaml) honest."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("matcher", "providers", "services", "wijzer")


def _sources() -> dict[str, str]:
    return {
        str(p.relative_to(ROOT)): p.read_text()
        for pkg in PACKAGES
        for p in (ROOT / pkg).rglob("*.py")
    }


def test_pickle_is_only_used_for_our_own_child_processes() -> None:
    """Only for the answers of our own forked children: the solver's and the search's."""
    users = {
        f for f, src in _sources().items() if re.search(r"^\s*import pickle|pickle\.", src, re.M)
    }
    assert users <= {"matcher/solvers/mip.py", "matcher/domain/search_split.py"}, users


def test_random_module_is_only_used_for_seeded_synthetic_data() -> None:
    allowed = {"providers/demo.py", "providers/demo_referrals.py", "matcher/domain/synth.py"}
    users = {
        f
        for f, src in _sources().items()
        if re.search(r"^\s*(import random|from random import)", src, re.M)
    }
    assert users <= allowed, users


def test_secrets_come_from_the_secrets_module() -> None:
    src = _sources()
    for f in (
        "wijzer/security.py",
        "wijzer/app.py",
        "wijzer/demo_site.py",
        "providers/store/jobs.py",
    ):
        assert "secrets." in src[f], f
        assert "random." not in src[f], f
