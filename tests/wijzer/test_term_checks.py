"""Answers past their term are flagged without anyone opening a page: by the app's
own background check and by `python -m wijzer check-termijnen` (for cron)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from providers.store import aanmeldingen, meldingen, referrals
from providers.store.access import Principal
from providers.store.engine import make_engine, session_factory
from providers.store.models import Melding
from tests.wijzer.conftest import TODAY
from tests.wijzer.data import REGION
from wijzer.app import create_app
from wijzer.cli import main
from wijzer.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SYSTEM = Principal.system("test")


def _overdue(sessions: sessionmaker[Session], offering_id: int) -> None:
    with sessions.begin() as s:
        ref = referrals.register_case(
            s,
            SYSTEM,
            referrals.CaseInput(
                None, "2016-02", "GM0505", "OTS", dt.date(2026, 6, 1), ("TRAUMATHERAPIE",)
            ),
            today=TODAY,
        )
        need = referrals.get_case(s, SYSTEM, ref, today=TODAY).needs[0].id
        aanmeldingen.request_place(
            s, SYSTEM, ref, need, offering_id, today=TODAY - dt.timedelta(days=30)
        )


def _flagged(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return int(
            s.scalar(
                select(func.count()).select_from(Melding).where(Melding.kind == "termijn_verlopen")
            )
            or 0
        )


def _tafels(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return len(meldingen.tafel_organisations(s, REGION))


def test_the_app_checks_the_answer_terms_on_its_own(
    settings: Settings, ids: dict[str, int]
) -> None:
    app = create_app(settings.model_copy(update={"overdue_check_minutes": 0.002}))
    sessions: sessionmaker[Session] = app.state.sessions
    try:
        _overdue(sessions, ids["offering:snel"])
        expected = _tafels(sessions)
        assert expected >= 1
        with TestClient(app):
            deadline = time.monotonic() + 20
            while _flagged(sessions) < expected and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _flagged(sessions) == expected
            # many more rounds: still one melding per organisation
            time.sleep(0.5)
            assert _flagged(sessions) == expected
        assert app.state.term_checks.done()  # stopped with the app
    finally:
        app.state.engine.dispose()


def test_the_default_waits_its_interval_and_zero_switches_it_off(
    settings: Settings, ids: dict[str, int]
) -> None:
    assert Settings().overdue_check_minutes == 15
    for minutes in (15, 0):
        app = create_app(settings.model_copy(update={"overdue_check_minutes": minutes}))
        try:
            _overdue(app.state.sessions, ids["offering:snel"])
            with TestClient(app):
                time.sleep(0.2)
                assert _flagged(app.state.sessions) == 0
                assert hasattr(app.state, "term_checks") is (minutes > 0)
        finally:
            app.state.engine.dispose()


def test_check_termijnen_for_cron(
    settings: Settings,
    ids: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine = make_engine(settings.database_url)
    sessions = session_factory(engine)
    try:
        _overdue(sessions, ids["offering:snel"])
        n = _tafels(sessions)
        monkeypatch.setenv("WIJZER_DATABASE_URL", settings.database_url)
        monkeypatch.setenv("WIJZER_TODAY", TODAY.isoformat())
        monkeypatch.delenv("WIJZER_SMTP_HOST", raising=False)
        assert main(["check-termijnen"]) == 0
        first = capsys.readouterr().out
        assert f"{n} nieuwe melding" in first
        assert "0 meldingen per e-mail verstuurd" in first
        assert _flagged(sessions) == n
        # a second run, as cron would do it: a real process, nothing new
        env = {
            **os.environ,
            "WIJZER_DATABASE_URL": settings.database_url,
            "WIJZER_TODAY": TODAY.isoformat(),
            "PYTHONPATH": str(ROOT),
        }
        env.pop("WIJZER_SMTP_HOST", None)
        done = subprocess.run(
            [sys.executable, "-m", "wijzer", "check-termijnen"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "0 nieuwe meldingen, 0 meldingen per e-mail verstuurd" in done.stdout
        assert _flagged(sessions) == n
    finally:
        engine.dispose()
