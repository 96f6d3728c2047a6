"""The scheduled check of answer terms: a melding per overdue aanmelding, mailed once,
whoever runs the check and however often."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from typing import Any, ClassVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from providers.store import (
    aanmeldingen,
    make_engine,
    meldingen,
    migrate,
    referrals,
    session_factory,
)
from providers.store.access import Principal
from providers.store.accounts import create_organisation
from providers.store.models import (
    Melding,
    MeldingAddress,
    Offering,
    OrganisationKind,
    Provider,
    Role,
)
from services import notify

ASKED = dt.date(2026, 11, 9)  # a Monday: the answer is due Monday 16 November
LATER = dt.date(2026, 11, 20)
MAIL = notify.MailSettings(host="smtp.test", base_url="https://wijzer.test")


@pytest.fixture
def sessions(tmp_path: Any) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    migrate(engine)
    return session_factory(engine)


class _SMTP:
    sent: ClassVar[list[EmailMessage]] = []
    fail_after: ClassVar[int | None] = None

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host = host

    def __enter__(self) -> _SMTP:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def send_message(self, msg: EmailMessage) -> None:
        if _SMTP.fail_after is not None and len(_SMTP.sent) >= _SMTP.fail_after:
            raise OSError("mail server gone")
        _SMTP.sent.append(msg)


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> type[_SMTP]:
    monkeypatch.setattr(notify.smtplib, "SMTP", _SMTP)
    _SMTP.sent = []
    _SMTP.fail_after = None
    return _SMTP


def _overdue(sessions: sessionmaker[Session], n: int = 1) -> list[int]:
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
            places_free=1,
            confirmed_by="t",
            confirmed_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        )
        s.add(o)
        gi = create_organisation(s, "GI", OrganisationKind.GI, region_code="JZ31")
        s.flush()
        s.add(MeldingAddress(organisation_id=gi.id, email="team@gi.example"))
        v = Principal("v", Role.VERWIJZER, gi.id, region_code="JZ31")
        out = []
        for _ in range(n):
            ref = referrals.register_case(
                s,
                v,
                referrals.CaseInput(
                    None, "2015-04", "GM0505", "OTS", dt.date(2026, 10, 1), ("TRAUMATHERAPIE",)
                ),
                today=ASKED,
            )
            need = referrals.get_case(s, v, ref, today=ASKED).needs[0].id
            out.append(aanmeldingen.request_place(s, v, ref, need, o.id, today=ASKED))
        return out


def _count(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return int(
            s.scalar(
                select(func.count()).select_from(Melding).where(Melding.kind == "termijn_verlopen")
            )
            or 0
        )


def test_a_second_run_sends_nothing(sessions: sessionmaker[Session], smtp: type[_SMTP]) -> None:
    _overdue(sessions)
    # not overdue yet on the day the answer is due
    assert notify.check_answer_terms(sessions, today=dt.date(2026, 11, 16), mail=MAIL) == (
        notify.TermCheck(0, 0)
    )
    assert notify.check_answer_terms(sessions, today=LATER, mail=MAIL) == notify.TermCheck(1, 1)
    assert notify.check_answer_terms(sessions, today=LATER, mail=MAIL) == notify.TermCheck(0, 0)
    assert _count(sessions) == 1
    [msg] = smtp.sent
    assert msg["Subject"] == "Beschikbaarheidswijzer: Aanmelding niet op tijd beantwoord"
    assert msg["To"] == "team@gi.example"


def test_without_smtp_the_meldingen_wait_in_the_app(
    sessions: sessionmaker[Session], smtp: type[_SMTP]
) -> None:
    _overdue(sessions)
    assert notify.check_answer_terms(sessions, today=LATER, mail=None) == notify.TermCheck(1, 0)
    assert smtp.sent == []
    with sessions() as s:
        assert len(meldingen.unmailed(s)) == 1


def test_a_melding_claimed_by_one_server_is_not_sent_by_another(
    sessions: sessionmaker[Session], smtp: type[_SMTP]
) -> None:
    _overdue(sessions)
    notify.check_answer_terms(sessions, today=LATER, mail=None)
    with sessions.begin() as first:
        ids = [m.melding_id for m in meldingen.unmailed(first)]
        assert meldingen.claim(first, ids) == ids
    with sessions.begin() as second:
        # what the second server read before the first committed
        assert meldingen.claim(second, ids) == []
        assert notify.mail_pending(second, MAIL) == 0
    assert smtp.sent == []


def test_a_failed_send_is_tried_again_and_only_then(
    sessions: sessionmaker[Session], smtp: type[_SMTP]
) -> None:
    _overdue(sessions, n=3)
    smtp.fail_after = 1
    assert notify.check_answer_terms(sessions, today=LATER, mail=MAIL) == notify.TermCheck(3, 1)
    smtp.fail_after = None
    assert notify.check_answer_terms(sessions, today=LATER, mail=MAIL) == notify.TermCheck(0, 2)
    assert notify.check_answer_terms(sessions, today=LATER, mail=MAIL) == notify.TermCheck(0, 0)
    assert len(smtp.sent) == 3
    assert len({m.get_content() for m in smtp.sent}) == 3
