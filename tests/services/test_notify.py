"""Meldingen by e-mail, and a freed place told to the verwijzers with a waiting case."""

from __future__ import annotations

import datetime as dt
import importlib.util
import socket
from email.message import EmailMessage
from typing import Any, ClassVar

import pytest
from sqlalchemy.orm import Session, sessionmaker

from providers.store import make_engine, meldingen, migrate, referrals, session_factory
from providers.store.access import Principal
from providers.store.accounts import create_organisation
from providers.store.models import MeldingAddress, Offering, OrganisationKind, Provider, Role
from services import notify

TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def sessions(tmp_path: Any) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'n.db'}")
    migrate(engine)
    return session_factory(engine)


def _setup(sessions: sessionmaker[Session], places: int) -> tuple[Principal, Principal, int]:
    with sessions.begin() as s:
        p = Provider(ext_id="P-1", name="Aanbieder", region_code="JZ31")
        s.add(p)
        s.flush()
        o = Offering(
            ext_id="O-1",
            provider_id=p.id,
            care_type="TRAUMATHERAPIE",
            gemeente_code="GM0505",
            region_code="JZ31",
            places_free=places,
            confirmed_by="t",
            confirmed_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        )
        s.add(o)
        gi = create_organisation(s, "GI", OrganisationKind.GI, region_code="JZ31")
        gi2 = create_organisation(s, "GI 2", OrganisationKind.GI, region_code="JZ31")
        s.flush()
        s.add(MeldingAddress(organisation_id=gi.id, email="team@gi.example"))
        return (
            Principal("v", Role.VERWIJZER, gi.id, region_code="JZ31"),
            Principal("v2", Role.VERWIJZER, gi2.id, region_code="JZ31"),
            o.id,
        )


def _case(s: Session, v: Principal, care: str) -> str:
    return referrals.register_case(
        s,
        v,
        referrals.CaseInput(None, "2015-04", "GM0505", "OTS", dt.date(2026, 10, 1), (care,)),
        today=TODAY,
    )


def test_a_freed_place_goes_to_verwijzers_with_a_waiting_case(
    sessions: sessionmaker[Session],
) -> None:
    v, v2, oid = _setup(sessions, places=1)
    with sessions.begin() as s:
        _case(s, v, "TRAUMATHERAPIE")
        _case(s, v, "TRAUMATHERAPIE")
        _case(s, v2, "PLEEGZORG")  # waits for other help: not told
        assert meldingen.place_freed(s, oid) == 1
        assert meldingen.place_freed(s, oid) == 0  # the same freed place only once
    with sessions() as s:
        [m] = meldingen.inbox(s, v)
        assert m.kind == "plek_vrij"
        assert "2 casussen van u wachten" in m.text
        assert meldingen.inbox(s, v2) == []


class _FakeSMTP:
    sent: ClassVar[list[EmailMessage]] = []

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host = host

    def __enter__(self) -> _FakeSMTP:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def send_message(self, msg: EmailMessage) -> None:
        _FakeSMTP.sent.append(msg)


def test_meldingen_are_mailed_once_to_the_organisations_address(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    v, _, oid = _setup(sessions, places=1)
    with sessions.begin() as s:
        _case(s, v, "TRAUMATHERAPIE")
        meldingen.place_freed(s, oid)
    monkeypatch.setattr(notify.smtplib, "SMTP", _FakeSMTP)
    _FakeSMTP.sent = []
    mail = notify.MailSettings(host="smtp.test", base_url="https://wijzer.test")
    with sessions.begin() as s:
        assert notify.mail_pending(s, mail) == 1
    with sessions.begin() as s:
        assert notify.mail_pending(s, mail) == 0
    [msg] = _FakeSMTP.sent
    assert msg["To"] == "team@gi.example"
    assert msg["Subject"] == "Beschikbaarheidswijzer: Er is een plek vrij"
    assert "https://wijzer.test/casussen/aanmelden/" in msg.get_content()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.skipif(
    importlib.util.find_spec("aiosmtpd") is None,
    reason="aiosmtpd is not installed (pip install -e .[dev]): no local SMTP sink",
)
def test_meldingen_reach_a_real_smtp_sink(sessions: sessionmaker[Session]) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received: list[Any] = []

    class Sink(Message):  # type: ignore[misc]
        def handle_message(self, message: Any) -> None:
            received.append(message)

    port = _free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        v, _, oid = _setup(sessions, places=1)
        with sessions.begin() as s:
            _case(s, v, "TRAUMATHERAPIE")
            meldingen.place_freed(s, oid)
        with sessions.begin() as s:
            sent = notify.mail_pending(s, notify.MailSettings(host="127.0.0.1", port=port))
    finally:
        controller.stop()
    assert sent == 1
    assert received[0]["To"] == "team@gi.example"
