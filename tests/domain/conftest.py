from __future__ import annotations

from pathlib import Path

import pytest

from matcher.domain.model import Scenario
from matcher.domain.scenario_file import load

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios"


def scenario(name: str) -> Scenario:
    return load(FIXTURES / name)


@pytest.fixture
def load_scenario():
    return scenario
