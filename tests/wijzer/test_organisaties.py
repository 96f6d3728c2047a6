"""Where meldingen go by e-mail: beheer sets the address of every organisation, an
aanbieder that of its own; a bad address gets a B1 message and changes nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from providers.store import meldingen
from providers.store.access import AccessDenied
from providers.store.models import Account, AuditEntry, MeldingAddress, Organisation
from services import notify
from tests.wijzer.conftest import csrf_from, username_for
from tests.wijzer.test_no_raw_codes import problems, visible_text
from wijzer.auth import Role


def _sessions(app: FastAPI) -> sessionmaker[Session]:
    sessions: sessionmaker[Session] = app.state.sessions
    return sessions


def _org_of(app: FastAPI, role: Role) -> int:
    with _sessions(app)() as s:
        org = s.scalar(
            select(Account.organisation_id).where(Account.username == username_for(role))
        )
        assert org is not None
        return org


def _addresses(app: FastAPI, org: int) -> list[str]:
    with _sessions(app)() as s:
        return list(
            s.scalars(select(MeldingAddress.email).where(MeldingAddress.organisation_id == org))
        )


def test_beheer_sets_the_address_of_any_organisation(
    app: FastAPI, login_as: Callable[[Role], TestClient]
) -> None:
    client = login_as(Role.BEHEER)
    org = _org_of(app, Role.VERWIJZER)
    page = client.get("/beheer/organisaties")
    assert page.status_code == 200
    with _sessions(app)() as s:
        names = list(s.scalars(select(Organisation.name)))
    assert all(name in page.text for name in names)
    assert "Gecertificeerde instelling" in page.text
    assert not problems(visible_text(page.text), "/beheer/organisaties")
    assert 'href="/beheer/organisaties"' in client.get("/beheer").text
    token = csrf_from(page.text)

    bad = client.post(
        f"/beheer/organisaties/{org}/email", data={"email": "team at gi", "csrf_token": token}
    )
    assert bad.status_code == 422
    assert "Vul een geldig e-mailadres in, zoals team@organisatie.nl." in bad.text
    assert 'value="team at gi"' in bad.text  # what was typed stays, beside the message
    assert _addresses(app, org) == []

    ok = client.post(
        f"/beheer/organisaties/{org}/email",
        data={"email": " Team@GI.example ", "csrf_token": token},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert _addresses(app, org) == ["team@gi.example"]
    assert "Opgeslagen: het e-mailadres voor meldingen" in client.get(ok.headers["location"]).text
    # a second address replaces the first: one mailbox per organisation
    client.post(
        f"/beheer/organisaties/{org}/email", data={"email": "wacht@gi.example", "csrf_token": token}
    )
    assert _addresses(app, org) == ["wacht@gi.example"]
    with _sessions(app)() as s:
        entries = s.scalars(
            select(AuditEntry).where(AuditEntry.entity == "melding_addresses")
        ).all()
        assert [(e.actor, e.record_refs) for e in entries] == [
            (username_for(Role.BEHEER), str(org))
        ] * 2
        # the log names the organisation, never the address
        assert all("@" not in e.detail for e in entries)
    cleared = client.post(
        f"/beheer/organisaties/{org}/email", data={"email": "", "csrf_token": token}
    )
    assert cleared.status_code == 200
    assert _addresses(app, org) == []


def test_an_aanbieder_sets_only_its_own_address(
    app: FastAPI, login_as: Callable[[Role], TestClient]
) -> None:
    client = login_as(Role.AANBIEDER)
    own, other = _org_of(app, Role.AANBIEDER), _org_of(app, Role.VERWIJZER)
    assert 'href="/aanbieder/organisatie"' in client.get("/aanbieder").text
    page = client.get("/aanbieder/organisatie")
    assert page.status_code == 200
    with _sessions(app)() as s:
        mine = s.get(Organisation, own)
        assert mine is not None
        assert mine.name in page.text
    assert f"veld-email-{other}" not in page.text
    assert not problems(visible_text(page.text), "/aanbieder/organisatie")
    token = csrf_from(page.text)
    bad = client.post("/aanbieder/organisatie/email", data={"email": "a@b", "csrf_token": token})
    assert bad.status_code == 422
    assert "Vul een geldig e-mailadres in" in bad.text
    assert _addresses(app, own) == []
    ok = client.post(
        "/aanbieder/organisatie/email",
        data={"email": "intake@zorg.example", "csrf_token": token},
        follow_redirects=False,
    )
    assert ok.headers["location"] == f"/aanbieder/organisatie?opgeslagen={own}"
    assert _addresses(app, own) == ["intake@zorg.example"]
    # the use case refuses another organisation, whatever the caller asks for
    with _sessions(app)() as s:
        user = app.state.accounts.get(username_for(Role.AANBIEDER))
        assert user is not None
        with pytest.raises(AccessDenied):
            notify.set_organisation_address(s, user, other, "x@y.example")
        assert [o.id for o in notify.organisation_addresses(s, user)] == [own]
    assert _addresses(app, other) == []


@pytest.mark.parametrize(
    "raw",
    [
        "geen",
        "a@b",
        "a b@c.nl",
        "a@b.nl, c@d.nl",
        "a@b.nl\nBcc: x@y.nl",
        "<a@b.nl>",
        "x" * 200 + "@b.nl",
    ],
)
def test_what_is_not_an_address(raw: str) -> None:
    with pytest.raises(notify.AddressError) as err:
        notify.check_email(raw)
    assert err.value.message == notify.EMAIL_MESSAGE


def test_an_address_is_trimmed_and_empty_means_none() -> None:
    assert notify.check_email("  Team@Zorg-Aanbieder.example ") == "team@zorg-aanbieder.example"
    assert notify.check_email("   ") is None


def test_meldingen_go_to_the_address_that_was_set(
    app: FastAPI, login_as: Callable[[Role], TestClient]
) -> None:
    client = login_as(Role.AANBIEDER)
    own = _org_of(app, Role.AANBIEDER)
    token = csrf_from(client.get("/aanbieder/organisatie").text)
    client.post(
        "/aanbieder/organisatie/email", data={"email": "intake@zorg.example", "csrf_token": token}
    )
    with _sessions(app).begin() as s:
        meldingen.add(s, own, "nieuwe_aanmelding", "Nieuwe aanmelding 1.")
    with _sessions(app)() as s:
        assert [m.email for m in meldingen.unmailed(s)] == ["intake@zorg.example"]
