"""docs/analysis.md is a working session: its examples run as doctests."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_analysis_session_runs_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the session opens the scenario file by its relative path
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    result = doctest.testfile(
        str(ROOT / "docs" / "analysis.md"), module_relative=False, optionflags=flags
    )
    assert result.attempted >= 10
    assert result.failed == 0
