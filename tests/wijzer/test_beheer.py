"""Upload with preview, beheer pages, own password, momentopname and "alles klopt nog",
through the web app as each role uses them."""

from __future__ import annotations

import csv
import io
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from providers.io import export_tables
from providers.store.access import Principal
from providers.store.dump import load_records
from providers.store.models import Account, AuditEntry, ImportBatch, Offering
from tests.wijzer.conftest import PASSWORD, csrf_from, login, username_for
from tests.wijzer.data import WAITING
from wijzer.app import create_app
from wijzer.auth import MemoryAccountDirectory, Role, SessionUser
from wijzer.settings import Settings


def _csv(app: FastAPI, tmp_path: Path, table: str, **where: str) -> bytes:
    """A stored table in the import format (CSV), optionally only rows where col == value."""
    with app.state.sessions() as s:
        records = load_records(s, Principal.system(), [table])
    rows = [r for r in records[table] if all(r.get(k) == v for k, v in where.items())]
    (path,) = export_tables({table: rows}, "csv", tmp_path)
    return path.read_bytes()


def _edit(data: bytes, column: str, value: str, row: int = 0) -> bytes:
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    rows[row][column] = value
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _post_files(client: TestClient, files: list[tuple[str, bytes]]) -> Any:
    token = csrf_from(client.get("/inlezen").text)
    return client.post(
        "/inlezen",
        data={"csrf_token": token},
        files=[("bestanden", (name, data, "application/octet-stream")) for name, data in files],
    )


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert match, name
    return match.group(1)


def _count(app: FastAPI, model: Any) -> int:
    with app.state.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_aanbieder_previews_then_stores_its_own_offerings(
    client: TestClient, app: FastAPI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = _edit(_csv(app, tmp_path, "aanbod", aanbieder_id="P-HOOFD"), "plaatsen_vrij", "7")
    login(client, username_for(Role.AANBIEDER))
    caplog.set_level(logging.INFO, logger="wijzer.uploads")
    preview = _post_files(client, [("aanbod.csv", data)])
    assert preview.status_code == 200
    html = preview.text
    assert "Controleer wat er verandert" in html
    assert "0 nieuwe regels en 1 gewijzigde regel" in html
    assert "Er is nog niets opgeslagen" in html
    with app.state.sessions() as s:
        snel = s.scalars(select(Offering).where(Offering.ext_id == "O-SNEL")).one()
        assert snel.places_free == 2  # the preview stored nothing
    confirm = client.post(
        "/inlezen/bevestigen",
        data={
            "csrf_token": _hidden(html, "csrf_token"),
            "token": _hidden(html, "token"),
            "digest": _hidden(html, "digest"),
        },
        follow_redirects=False,
    )
    assert confirm.status_code == 303
    assert confirm.headers["location"].startswith("/inlezen?opgeslagen=")
    with app.state.sessions() as s:
        changed = {
            o.ext_id: o.places_free
            for o in s.scalars(select(Offering).where(Offering.ext_id.in_(["O-SNEL", "O-OUD"])))
        }
    # The first exported row was changed; which one that is follows the export's order.
    assert sorted(changed.values()) in ([2, 7], [1, 7])
    page = client.get(confirm.headers["location"]).text
    assert "Ingelezen en opgeslagen" in page
    assert "aanbod.csv" in page
    assert "Aanbod: 2" in page
    again = client.post(
        "/inlezen/bevestigen",
        data={
            "csrf_token": _hidden(html, "csrf_token"),
            "token": _hidden(html, "token"),
            "digest": _hidden(html, "digest"),
        },
    )
    assert again.status_code == 422
    assert "verlopen of al gebruikt" in again.text
    messages = [r.getMessage() for r in caplog.records if r.name == "wijzer.uploads"]
    assert any(m.startswith("upload preview: user=test-aanbieder") for m in messages)
    assert any(m.startswith("upload stored: user=test-aanbieder") for m in messages)
    with app.state.sessions() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.entity == "import_batches")).one()
    assert entry.actor == "test-aanbieder"


def test_a_tampered_digest_stores_nothing(client: TestClient, app: FastAPI, tmp_path: Path) -> None:
    data = _edit(_csv(app, tmp_path, "aanbod", aanbieder_id="P-HOOFD"), "plaatsen_vrij", "7")
    login(client, username_for(Role.AANBIEDER))
    html = _post_files(client, [("aanbod.csv", data)]).text
    response = client.post(
        "/inlezen/bevestigen",
        data={
            "csrf_token": _hidden(html, "csrf_token"),
            "token": _hidden(html, "token"),
            "digest": "0" * 64,
        },
    )
    assert response.status_code == 422
    assert _count(app, ImportBatch) == 0


def test_another_user_cannot_commit_someones_preview(
    client: TestClient, app: FastAPI, tmp_path: Path
) -> None:
    data = _csv(app, tmp_path, "aanbod", aanbieder_id="P-HOOFD")
    login(client, username_for(Role.BEHEER))
    html = _post_files(client, [("aanbod.csv", data)]).text
    login(client, username_for(Role.AANBIEDER))
    token = csrf_from(client.get("/inlezen").text)
    response = client.post(
        "/inlezen/bevestigen",
        data={
            "csrf_token": token,
            "token": _hidden(html, "token"),
            "digest": _hidden(html, "digest"),
        },
    )
    assert response.status_code == 422
    assert _count(app, ImportBatch) == 0


def test_problems_name_file_row_and_column_and_change_nothing(
    client: TestClient, app: FastAPI, tmp_path: Path
) -> None:
    data = _edit(_csv(app, tmp_path, "aanbod", aanbieder_id="P-HOOFD"), "plaatsen_vrij", "-3")
    login(client, username_for(Role.AANBIEDER))
    response = _post_files(client, [("aanbod.csv", data)])
    assert response.status_code == 422
    html = response.text
    assert "Er is 1 probleem. Er is niets opgeslagen." in html
    assert 'data-label="Rij">2<' in html
    assert 'data-label="Kolom">plaatsen_vrij<' in html
    assert _count(app, ImportBatch) == 0


def test_an_aanbieder_cannot_upload_other_providers_or_children(
    client: TestClient, app: FastAPI, tmp_path: Path
) -> None:
    login(client, username_for(Role.AANBIEDER))
    other = _csv(app, tmp_path, "aanbod", aanbieder_id="P-SUB")
    html = _post_files(client, [("aanbod.csv", other)]).text
    assert "U kunt alleen uw eigen aanbod inlezen." in html
    kids = _csv(app, tmp_path / "k", "kinderen")
    html = _post_files(client, [("kinderen.csv", kids)]).text
    assert "Met uw rol kunt u de tabel kinderen niet inlezen." in html
    assert _count(app, ImportBatch) == 0


def test_a_tafel_uploads_only_its_own_regions_waiting_list(
    client: TestClient, app: FastAPI, tmp_path: Path
) -> None:
    login(client, username_for(Role.TAFEL))
    kids = _csv(app, tmp_path, "kinderen")  # K-004 lives in JZ22
    html = _post_files(client, [("kinderen.csv", kids)]).text
    assert "u kunt alleen regio JZ31 inlezen" in html
    own = _csv(app, tmp_path / "eigen", "kinderen", gemeente="GM0505")
    response = _post_files(client, [("kinderen.csv", own)])
    assert response.status_code == 200
    assert "Kinderen op de wachtlijst" in response.text
    assert "Hetzelfde gebleven: 2" in response.text


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([], "Kies een of meer bestanden"),
        ([("gegevens.txt", b"x")], "geen CSV-, XLSX- of JSON-bestand"),
        ([("aanbod.xlsx", b"geen zip")], "geen geldig Excel-bestand"),
    ],
)
def test_no_file_a_wrong_type_or_a_broken_file_is_a_dutch_message(
    client: TestClient, files: list[tuple[str, bytes]], message: str
) -> None:
    login(client, username_for(Role.BEHEER))
    if files:
        response = _post_files(client, files)
    else:
        token = csrf_from(client.get("/inlezen").text)
        response = client.post("/inlezen", data={"csrf_token": token})
    assert response.status_code == 422
    assert message in response.text


def test_a_too_large_upload_is_refused_before_reading(client: TestClient, app: FastAPI) -> None:
    login(client, username_for(Role.BEHEER))
    limit = app.state.settings.max_body_bytes
    response = _post_files(client, [("aanbod.csv", b"x" * (limit + 1))])
    assert response.status_code == 413
    assert "te veel gegevens" in response.text


def test_audit_log_filters_pages_and_exports(client: TestClient, app: FastAPI) -> None:
    login(client, username_for(Role.TAFEL))
    client.get("/tafel")  # reads the waiting list: an audit entry with the refs
    login(client, username_for(Role.BEHEER))
    page = client.get("/beheer/logboek", params={"gebruiker": "test-tafel", "ref": "K-001"})
    assert page.status_code == 200
    assert "K-001" in page.text
    assert "Zorgbemiddelingstafel" in page.text
    none = client.get("/beheer/logboek", params={"ref": "K-00"})
    assert "0 regels" in none.text
    wrong = client.get("/beheer/logboek", params={"van": "2026-02-30", "rol": "baas"})
    assert "Vul een datum in als jjjj-mm-dd" in wrong.text
    assert "Kies een rol uit de lijst." in wrong.text
    export = client.get("/beheer/logboek.csv", params={"gebruiker": "test-tafel"})
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    lines = export.text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("id;tijd_utc;gebruiker")
    assert all(";test-tafel;" in line for line in lines[1:])
    assert len(lines) > 1
    with app.state.sessions() as s:
        exported = s.scalars(select(AuditEntry).where(AuditEntry.entity == "audit_log")).one()
    assert exported.actor == "test-beheer"
    assert client.get("/beheer/logboek.csv", params={"van": "gisteren"}).status_code == 422


def test_beheer_creates_an_account_that_can_sign_in_once_given_the_password(
    client: TestClient, app: FastAPI
) -> None:
    login(client, username_for(Role.BEHEER))
    page = client.get("/beheer/gebruikers").text
    org = re.search(r'<option value="(\d+)">Tafel ZHZ', page)
    assert org
    response = client.post(
        "/beheer/gebruikers",
        data={
            "csrf_token": csrf_from(page),
            "gebruikersnaam": "Nieuwe.Tafel",
            "rol": "tafel",
            "organisatie": org.group(1),
        },
    )
    assert response.status_code == 200
    assert "Eenmalig wachtwoord voor nieuwe.tafel" in response.text
    password = re.search(r'wijzer-secret">([^<]+)<', response.text)
    assert password
    with TestClient(app) as other:
        login(other, "nieuwe.tafel", password.group(1))
        assert other.get("/tafel").status_code == 200
    dup = client.post(
        "/beheer/gebruikers",
        data={
            "csrf_token": csrf_from(page),
            "gebruikersnaam": "nieuwe.tafel",
            "rol": "tafel",
            "organisatie": org.group(1),
        },
    )
    assert dup.status_code == 422
    assert "bestaat al" in dup.text


def test_beheer_deactivates_and_resets_and_the_session_ends(
    client: TestClient, app: FastAPI
) -> None:
    with app.state.sessions() as s:
        acc_id = s.scalars(select(Account.id).where(Account.username == "test-tafel")).one()
    with TestClient(app) as tafel:
        login(tafel, "test-tafel")
        login(client, username_for(Role.BEHEER))
        token = csrf_from(client.get("/beheer/gebruikers").text)
        off = client.post(f"/beheer/gebruikers/{acc_id}/uitzetten", data={"csrf_token": token})
        assert "Account test-tafel staat uit en is uitgelogd." in off.text
        assert tafel.get("/tafel", follow_redirects=False).status_code == 303
        on = client.post(f"/beheer/gebruikers/{acc_id}/aanzetten", data={"csrf_token": token})
        assert "Account test-tafel staat aan." in on.text
        reset = client.post(f"/beheer/gebruikers/{acc_id}/wachtwoord", data={"csrf_token": token})
        new = re.search(r'wijzer-secret">([^<]+)<', reset.text)
        assert new
        login(tafel, "test-tafel", new.group(1))
        assert tafel.get("/tafel").status_code == 200


def test_beheer_cannot_switch_itself_off(client: TestClient, app: FastAPI) -> None:
    with app.state.sessions() as s:
        me = s.scalars(select(Account.id).where(Account.username == "test-beheer")).one()
    login(client, username_for(Role.BEHEER))
    token = csrf_from(client.get("/beheer/gebruikers").text)
    response = client.post(f"/beheer/gebruikers/{me}/uitzetten", data={"csrf_token": token})
    assert response.status_code == 422
    assert "eigen account niet uitzetten" in response.text


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_everyone_changes_their_own_password_and_other_sessions_end(
    client: TestClient, app: FastAPI, role: Role
) -> None:
    name = username_for(role)
    new = "een heel nieuw wachtwoord"
    with TestClient(app) as elsewhere:
        login(elsewhere, name)
        login(client, name)
        token = csrf_from(client.get("/account/wachtwoord").text)
        short = client.post(
            "/account/wachtwoord",
            data={"csrf_token": token, "huidig": PASSWORD, "nieuw": "kort", "nogmaals": "kort"},
        )
        assert short.status_code == 422
        assert "minstens 12 tekens" in short.text
        differ = client.post(
            "/account/wachtwoord",
            data={"csrf_token": token, "huidig": PASSWORD, "nieuw": new, "nogmaals": new + "x"},
        )
        assert "niet gelijk" in differ.text
        wrong = client.post(
            "/account/wachtwoord",
            data={"csrf_token": token, "huidig": "fout", "nieuw": new, "nogmaals": new},
        )
        assert "huidige wachtwoord klopt niet" in wrong.text
        done = client.post(
            "/account/wachtwoord",
            data={"csrf_token": token, "huidig": PASSWORD, "nieuw": new, "nogmaals": new},
        )
        assert done.status_code == 200
        assert "Uw wachtwoord is gewijzigd" in done.text
        assert client.get("/account/wachtwoord").status_code == 200  # this session stays
        assert elsewhere.get("/account/wachtwoord", follow_redirects=False).status_code == 303
        login(elsewhere, name, new)


def test_momentopname_button_shows_its_result(client: TestClient) -> None:
    login(client, username_for(Role.TAFEL))
    report = client.get("/rapportage").text
    assert "python -m" not in report
    assert "Momentopname bewaren" in report
    response = client.post("/rapportage/momentopname", data={"csrf_token": csrf_from(report)})
    assert response.status_code == 200
    assert "Momentopname bewaard" in response.text
    assert "Op de wachtlijst: 3 kinderen." in response.text
    assert "van de lijst gegaan: 0 kinderen." in response.text


def test_beheer_start_page_has_the_momentopname_and_the_links(client: TestClient) -> None:
    login(client, username_for(Role.BEHEER))
    html = client.get("/beheer").text
    for href in ("/beheer/logboek", "/beheer/gebruikers", "/inlezen"):
        assert f'href="{href}"' in html
    result = client.post("/rapportage/momentopname", data={"csrf_token": csrf_from(html)})
    assert "alle regio&#39;s" in result.text or "alle regio's" in result.text
    # beheer counts every region of the seed
    assert f"Op de wachtlijst: {sum(WAITING.values())} kinderen." in result.text


def test_the_beheer_nav_item_is_for_beheer_only(client: TestClient) -> None:
    for role in Role:
        login(client, username_for(role))
        html = client.get("/").text
        assert ('href="/beheer"' in html) is (role is Role.BEHEER), role
        assert 'href="/account/wachtwoord"' in html


def test_alles_klopt_nog_confirms_every_own_offering(client: TestClient, app: FastAPI) -> None:
    login(client, username_for(Role.AANBIEDER))
    page = client.get("/aanbieder").text
    assert "Alles klopt nog" in page
    assert ">Aanbieder<" not in page  # one provider: no provider column
    response = client.post(
        "/aanbieder/alles-klopt", data={"csrf_token": csrf_from(page)}, follow_redirects=False
    )
    assert response.headers["location"] == "/aanbieder?bevestigd=2"
    assert "Bevestigd: 2 regels aanbod." in client.get(response.headers["location"]).text
    with app.state.sessions() as s:
        rows = s.scalars(select(Offering)).all()
    assert {o.ext_id for o in rows if o.confirmed_by == "test-aanbieder"} == {"O-SNEL", "O-OUD"}
    assert all(o.confirmed_by == "test" for o in rows if o.ext_id not in ("O-SNEL", "O-OUD"))


def test_beheer_offering_list_names_the_provider(client: TestClient) -> None:
    login(client, username_for(Role.BEHEER))
    html = client.get("/aanbieder").text
    assert ">Aanbieder<" in html
    assert "Kleine Praktijk" in html
    assert "Alles klopt nog" not in html


def _edit_form(html: str) -> dict[str, str]:
    """The hidden and text fields of the offering form as they stand (no checkboxes)."""
    fields = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', html))
    inputs = re.findall(r'id="veld-([^"]+)" name="([^"]+)" type="[^"]+" value="([^"]*)"', html)
    fields.update({name: value for _, name, value in inputs})
    return fields


def test_release_schedule_by_date_on_the_edit_page(
    client: TestClient, app: FastAPI, ids: dict[str, int]
) -> None:
    oid = ids["offering:snel"]
    login(client, username_for(Role.AANBIEDER))
    page = client.get(f"/aanbieder/aanbod/{oid}").text
    assert "Plekken die vrijkomen op een datum" in page
    form = _edit_form(page)
    assert form["vrij_rijen"] == "3"
    form.update({"vrij_datum_1": "2026-12-15", "vrij_plekken_1": "2"})
    form.update({"vrij_datum_2": "2027-01-10", "vrij_plekken_2": "1"})
    saved = client.post(f"/aanbieder/aanbod/{oid}", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    with app.state.sessions() as s:
        from providers.store.releases import schedules

        stored = schedules(s, [oid])[oid]
    assert [(d.isoformat(), n) for d, n in stored] == [("2026-12-15", 2), ("2027-01-10", 1)]
    again = _edit_form(client.get(f"/aanbieder/aanbod/{oid}").text)
    assert again["vrij_datum_1"] == "2026-12-15"
    assert again["vrij_rijen"] == "5"  # the two stored dates and three empty rows


@pytest.mark.parametrize(
    ("day", "places", "message"),
    [
        ("2026-11-20", "1", "Kies in rij 1 een datum na vandaag."),
        ("2026-02-30", "1", "Vul in rij 1 een bestaande datum in"),
        ("2026-12-01", "0", "Vul in rij 1 het aantal plekken in"),
        ("2026-12-01", "", "Vul in rij 1 het aantal plekken in"),
        ("", "2", "Vul in rij 1 een bestaande datum in"),
    ],
)
def test_a_wrong_release_row_is_a_field_error_and_saves_nothing(
    client: TestClient, app: FastAPI, ids: dict[str, int], day: str, places: str, message: str
) -> None:
    oid = ids["offering:snel"]
    login(client, username_for(Role.AANBIEDER))
    form = _edit_form(client.get(f"/aanbieder/aanbod/{oid}").text)
    form.update({"vrij_datum_1": day, "vrij_plekken_1": places, "places_free": "9"})
    response = client.post(f"/aanbieder/aanbod/{oid}", data=form)
    assert response.status_code == 422
    assert message in response.text
    with app.state.sessions() as s:
        assert s.get_one(Offering, oid).places_free == 2


def test_two_rows_with_the_same_date_are_refused(client: TestClient, ids: dict[str, int]) -> None:
    oid = ids["offering:snel"]
    login(client, username_for(Role.AANBIEDER))
    form = _edit_form(client.get(f"/aanbieder/aanbod/{oid}").text)
    form.update({"vrij_datum_1": "2026-12-01", "vrij_plekken_1": "1"})
    form.update({"vrij_datum_2": "2026-12-01", "vrij_plekken_2": "2"})
    response = client.post(f"/aanbieder/aanbod/{oid}", data=form)
    assert "De datum in rij 2 staat er al." in response.text


def test_an_account_outside_the_database_gets_a_message_not_an_error(
    settings: Settings,
) -> None:
    directory = MemoryAccountDirectory()
    directory.add(SessionUser("geheugen", Role.TAFEL, None, region_code="JZ31"), PASSWORD)
    application = create_app(settings, accounts=directory)
    with TestClient(application) as c:
        login(c, "geheugen")
        token = csrf_from(c.get("/account/wachtwoord").text)
        new = "een heel nieuw wachtwoord"
        response = c.post(
            "/account/wachtwoord",
            data={"csrf_token": token, "huidig": PASSWORD, "nieuw": new, "nogmaals": new},
        )
    application.state.engine.dispose()
    assert response.status_code == 422
    assert "kan hier niet worden gewijzigd" in response.text


def test_beheer_makes_an_aanbieder_organisation_and_an_account_in_it(
    client: TestClient, app: FastAPI, ids: dict[str, int]
) -> None:
    login(client, username_for(Role.BEHEER))
    page = client.get("/beheer/gebruikers").text
    token = csrf_from(page)
    missing = client.post(
        "/beheer/organisaties",
        data={"csrf_token": token, "org_naam": "Nieuwe Zorg", "org_soort": "aanbieder"},
    )
    assert missing.status_code == 422
    assert "Kies bij een aanbieder welke aanbieder het is." in missing.text
    made = client.post(
        "/beheer/organisaties",
        data={
            "csrf_token": token,
            "org_naam": "Nieuwe Zorg",
            "org_soort": "aanbieder",
            "org_aanbieder": str(ids["provider:sub"]),
        },
    )
    assert "Organisatie Nieuwe Zorg is gemaakt." in made.text
    org = re.search(r'<option value="(\d+)">Nieuwe Zorg<', made.text)
    assert org
    account = client.post(
        "/beheer/gebruikers",
        data={
            "csrf_token": token,
            "gebruikersnaam": "planner-sub",
            "rol": "aanbieder",
            "organisatie": org.group(1),
        },
    )
    password = re.search(r'wijzer-secret">([^<]+)<', account.text)
    assert password
    with TestClient(app) as other:
        login(other, "planner-sub", password.group(1))
        own = other.get("/aanbieder").text
    assert "Zwijndrecht" in own  # O-SUB, the only offering of Kleine Praktijk
    assert "Dordrecht" not in own
