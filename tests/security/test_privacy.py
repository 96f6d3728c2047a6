"""Privacy: no names, BSNs or addresses stored or logged; small cells; retention.

The full demo path runs once per backend: the data layer's demo generator, the
importer (as ``python -m wijzer demo`` does), the demo accounts, then through
the web app a table's matching run of every waiting child with its decision
list export, a verwijzer search and the inkoop overview. Afterwards every
column of every table and every captured log record (all loggers, DEBUG and up)
are scanned for BSN-like numbers (own elfproef, independent of the validator),
names of persons and Dutch addresses.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from providers import reference
from providers.store import access, accounts, aggregates
from providers.store.access import Principal
from providers.store.engine import make_engine, migrate, session_factory
from providers.store.models import Child, ChildNeed, ChildStatus, OrganisationKind, Role
from tests.security.conftest import BACKENDS, RUN_PREFIX, _settings, csrf_from, pg_url_for_schema
from wijzer import demo_site as wijzer_demo
from wijzer.app import create_app

TODAY = dt.date(2026, 11, 20)

DIGIT_RUN = re.compile(r"(?<![\d\-])(\d(?:[ .]?\d){7,8})(?![\d\-])")
POSTCODE = re.compile(r"\b[1-9]\d{3} ?(?!SS|SA|SD)[A-Z]{2}\b")
STREET = re.compile(
    r"\b[A-Z][a-z]+(straat|laan|weg|plein|gracht|kade|singel|dreef|hof|steeg)\s+\d+", re.I
)
PERSON = re.compile(r"\b[A-Z][a-z]+ (?:(?:van|de|der|den|el|ter|ten) )*[A-Z][a-z]+\b")
# Words that start many harmless capitalised pairs in Dutch UI text and data.
COMMON_FIRST_NAMES = {
    "Jan", "Piet", "Kees", "Anna", "Emma", "Sophie", "Daan", "Sem", "Lucas", "Mohammed",
    "Fatima", "Noah", "Julia", "Tess", "Milan", "Liam", "Sara", "Eva", "Lotte", "Finn",
}  # fmt: skip


def elfproef(digits: str) -> bool:
    if len(digits) == 8:
        digits = "0" + digits
    if len(digits) != 9 or digits == "000000000":
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True))
    return (total - int(digits[8])) % 11 == 0


# Timestamps as text (SQLite, log lines): their digits can pass the elfproef by chance.
TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:?\d{2}|Z)?)?"
)


def bsn_like(value: str) -> bool:
    value = TIMESTAMP.sub(" ", value)
    return any(elfproef(re.sub(r"\D", "", m.group(1))) for m in DIGIT_RUN.finditer(value))


def person_like(value: str, allowed: set[str]) -> str | None:
    """A capitalised word pair that starts with a first name and is not a known place
    or organisation name."""
    for m in PERSON.finditer(value):
        words = m.group(0)
        if words.split()[0] in COMMON_FIRST_NAMES and not any(words in a for a in allowed):
            return words
    return None


def test_the_detectors_detect() -> None:
    """The scans below can fail: each detector finds its own kind of value."""
    assert bsn_like("bsn 123456782 in tekst")
    assert bsn_like("12345672")  # Excel dropped the leading zero
    assert not bsn_like("K-000123")
    assert not bsn_like("2026-11-22 15:42:35.679967")  # a timestamp, not a BSN
    assert not bsn_like("2026-11-20")
    assert person_like("gesprek met Jan Jansen", set()) == "Jan Jansen"
    assert person_like("Fatima el Amrani", set())
    assert person_like("Lichtbaken Dordrecht", {"Lichtbaken Dordrecht"}) is None
    assert POSTCODE.search("3311 AB Dordrecht")
    assert STREET.search("Voorstraat 12")


@pytest.fixture(scope="module", params=BACKENDS)
def demo_run(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    pg_admin: Engine | None,
) -> Iterator[dict[str, Any]]:
    """The full demo path once per backend; yields the engine and the captured logs."""
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('privacy') / 'demo.sqlite3'}"
    else:
        assert pg_admin is not None
        schema = f"{RUN_PREFIX}_{uuid.uuid4().hex[:8]}"
        with pg_admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = pg_url_for_schema(schema, application_name=schema)
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(level=logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    engine = make_engine(url)
    app: FastAPI | None = None
    try:
        migrate(engine)
        sessions = session_factory(engine)
        out = io.StringIO()
        wijzer_demo.load_demo_data(sessions, TODAY, out)
        # The first region's accounts (named after their role) do the work here.
        seeded = wijzer_demo.seed_accounts(sessions)
        passwords = {a.role: a.password for a in seeded if a.username == a.role.value}
        app = create_app(_settings(url))
        _use_the_app(app, sessions, passwords)
        yield {
            "engine": engine,
            "logs": records,
            "stdout": out.getvalue(),
            "sessions": sessions,
            "accounts": seeded,
            "url": url,
        }
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        if app is not None:
            app.state.jobs.shutdown()
            app.state.engine.dispose()
        engine.dispose()
        if schema and pg_admin is not None:
            with pg_admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def _login(app: FastAPI, role: Role, password: str) -> TestClient:
    client = TestClient(app, base_url="http://testserver")
    token = csrf_from(client.get("/inloggen").text)
    r = client.post(
        "/inloggen",
        data={"gebruikersnaam": role.value, "wachtwoord": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return client


def _use_the_app(app: FastAPI, sessions: sessionmaker[Session], passwords: dict[Role, str]) -> None:
    with sessions() as s:
        refs = list(
            s.scalars(
                select(Child.ref).where(
                    Child.region_code == wijzer_demo.DEMO_REGION,
                    Child.status == ChildStatus.WAITING.value,
                )
            )
        )
    assert len(refs) >= 20
    tafel = _login(app, Role.TAFEL, passwords[Role.TAFEL])
    token = csrf_from(tafel.get("/tafel").text)
    r = tafel.post("/tafel/runs", data={"kind": refs, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    job_id = r.headers["location"].rsplit("/", 1)[-1]
    deadline = time.monotonic() + 180
    while app.state.jobs.get(Principal.system(), job_id).status.value not in ("klaar", "mislukt"):
        assert time.monotonic() < deadline, "the matching run did not finish"
        time.sleep(0.1)
    assert app.state.jobs.get(Principal.system(), job_id).status.value == "klaar"
    assert tafel.get(f"/tafel/runs/{job_id}").status_code == 200
    assert tafel.get(f"/tafel/runs/{job_id}/besluitenlijst.csv").status_code == 200
    verwijzer = _login(app, Role.VERWIJZER, passwords[Role.VERWIJZER])
    found = verwijzer.get(
        "/api/v1/zoeken", params={"zorgvorm": "PLEEGZORG", "leeftijd": "9", "gemeente": "GM0505"}
    )
    assert found.status_code == 200
    inkoop = _login(app, Role.INKOOP, passwords[Role.INKOOP])
    assert inkoop.get("/inkoop").status_code == 200
    for c in (tafel, verwijzer, inkoop):
        c.close()


def _known_names(engine: Engine) -> set[str]:
    """Names that may appear: organisations, providers, gemeenten, regions."""
    names = {g.name for g in reference.gemeenten(reference.DEFAULT_YEAR).values()}
    names |= {r.name for r in reference.jeugdregios(reference.DEFAULT_YEAR).values()}
    with engine.connect() as conn:
        names |= set(conn.execute(text("SELECT name FROM providers")).scalars())
        names |= set(conn.execute(text("SELECT name FROM organisations")).scalars())
    return names


NOT_PERSONAL_NUMBERS = re.compile(r"(^id$|_id$|_cents$|^version$|^children$|^record_count$)")


def test_demo_run_stored_no_bsn_name_or_address(demo_run: dict[str, Any]) -> None:
    engine: Engine = demo_run["engine"]
    allowed = _known_names(engine)
    findings: list[str] = []
    scanned = 0
    with engine.connect() as conn:
        insp = inspect(conn)
        tables = set(insp.get_table_names()) - {"alembic_version"}
        assert {"children", "child_needs", "audit_log", "offerings"} <= tables
        for table in sorted(tables):
            columns = [c["name"] for c in insp.get_columns(table)]
            for column in columns:
                # An account's user name is a login, not data about a child.
                personal = re.search(
                    r"naam|(?<!user)name|bsn|adres|address|postcode|straat", column
                )
                assert not personal or table in ("providers", "organisations"), (
                    f"{table}.{column}: a column for personal data"
                )
            for row in conn.execute(text(f"SELECT * FROM {table}")).mappings():
                for column, value in row.items():
                    # Hashes and tokens are random hex: digit runs in them are chance.
                    if value is None or column.endswith("_hash"):
                        continue
                    if isinstance(value, int) and NOT_PERSONAL_NUMBERS.search(column):
                        continue
                    s = str(value)
                    scanned += 1
                    if isinstance(value, (dt.date, dt.datetime, float, bool)):
                        continue
                    if bsn_like(s):
                        findings.append(f"BSN-like in {table}.{column}: {s[:40]}")
                    if POSTCODE.search(s) or STREET.search(s):
                        findings.append(f"address-like in {table}.{column}: {s[:40]}")
                    who = person_like(s, allowed)
                    if who:
                        findings.append(f"name-like in {table}.{column}: {who}")
    assert scanned > 2_000  # the scan really saw the demo data
    assert not findings, findings[:20]


def test_demo_run_logged_no_bsn_name_or_address(demo_run: dict[str, Any]) -> None:
    allowed = _known_names(demo_run["engine"])
    records: list[logging.LogRecord] = demo_run["logs"]
    texts = [r.getMessage() for r in records] + [demo_run["stdout"]]
    texts += [str(r.exc_info[1]) for r in records if r.exc_info]
    assert len(records) > 3  # the run did log (migrations, requests, jobs)
    findings = []
    for t in texts:
        if bsn_like(t):
            findings.append(("BSN", t[:80]))
        if POSTCODE.search(t) or STREET.search(t):
            findings.append(("adres", t[:80]))
        who = person_like(t, allowed)
        if who:
            findings.append(("naam", who))
    assert not findings, findings[:20]
    # Case values stay out of the logs too: no child refs or their birth months.
    with demo_run["engine"].connect() as conn:
        refs = set(conn.execute(text("SELECT ref FROM children")).scalars())
    leaked = [t[:80] for t in texts for ref in refs if ref in t]
    assert not leaked, leaked[:5]


def test_demo_matching_and_reads_were_audited_without_values(demo_run: dict[str, Any]) -> None:
    with demo_run["engine"].connect() as conn:
        rows = conn.execute(text("SELECT action, entity, detail, record_refs FROM audit_log")).all()
        months = set(conn.execute(text("SELECT birth_month FROM children")).scalars())
    actions = {(a, e) for a, e, _, _ in rows}
    assert ("import", "children") in actions
    assert ("lezen", "children") in actions
    assert ("export", "tafel_besluitenlijst") in actions
    for _, _, detail, refs in rows:
        assert not any(m in (detail or "") + (refs or "") for m in months)


def test_inkoop_gets_only_cells_of_five_or_more(demo_run: dict[str, Any]) -> None:
    sessions: sessionmaker[Session] = demo_run["sessions"]
    with sessions() as s:
        org = s.execute(
            text("SELECT id FROM organisations WHERE name = 'Demo inkoopteam'")
        ).scalar()
        who = access.Principal("inkoop", Role.INKOOP, org, region_code=wijzer_demo.DEMO_REGION)
        suppressed = 0
        for by in (("gemeente",), ("zorgvorm",), ("gemeente", "zorgvorm"), ("gi",)):
            agg = aggregates.waiting_aggregates(s, who, by)
            suppressed += agg.suppressed_cells
            assert agg.rows, by
            for row in agg.rows:
                if row.suppressed:
                    assert row.count is None
                else:
                    assert row.count is not None
                    assert row.count >= aggregates.SMALL_CELL, (by, row)
            assert agg.total is None or agg.total >= aggregates.SMALL_CELL
        assert suppressed > 0  # the demo region has small cells, so suppression was used


def test_inkoop_page_shows_no_small_counts(demo_run: dict[str, Any]) -> None:
    """The page itself: every number in a table cell is a suppressed mark or >= 5."""
    sessions: sessionmaker[Session] = demo_run["sessions"]
    with sessions.begin() as s:
        org = accounts.create_organisation(
            s, "Inkoop privacytest", OrganisationKind.REGIO, region_code="JZ31"
        )
        accounts.create_account(
            s, f"inkoop-{uuid.uuid4().hex[:6]}", "wachtwoord-lang-123", Role.INKOOP, org
        )
        user = s.execute(text("SELECT username FROM accounts ORDER BY id DESC")).scalar()
        refs = set(s.execute(text("SELECT ref FROM children")).scalars())
    assert refs, "the demo run stored children"
    app = create_app(_settings(str(demo_run["engine"].url.render_as_string(hide_password=False))))
    try:
        client = TestClient(app, base_url="http://testserver")
        token = csrf_from(client.get("/inloggen").text)
        client.post(
            "/inloggen",
            data={"gebruikersnaam": user, "wachtwoord": "wachtwoord-lang-123", "csrf_token": token},
        )
        page = client.get("/inkoop").text
        cells = re.findall(r"<td[^>]*>\s*(\d+)\s*</td>", page)
        assert cells, "the overview has numeric cells"
        assert all(int(c) >= aggregates.SMALL_CELL for c in cells), cells
        assert not any(ref in page for ref in refs)
        # The random CSRF token (URL-safe base64) can contain "K-<digit>" by chance;
        # it is no child ref, so it is left out of the pattern check.
        visible = re.sub(r'name="csrf_token" value="[^"]*"', "", page)
        assert not re.search(r"K-\d", visible)
    finally:
        app.state.engine.dispose()


# --- retention ----------------------------------------------------------------------------


def _child(ref: str, status: ChildStatus, on: dt.date | None, gemeente: str = "GM0505") -> Child:
    return Child(
        ref=ref,
        gemeente_code=gemeente,
        region_code="JZ31",
        birth_month="2014-03",
        gi="WSS",
        measure="OTS",
        ruling_date=dt.date(2023, 1, 10),
        status=status.value,
        placed_at=on if status is ChildStatus.PLACED else None,
        closed_at=on if status is ChildStatus.CLOSED else None,
        needs=[ChildNeed(seq=0, care_type="PLEEGZORG")],
    )


@pytest.fixture
def retention_db(tmp_path: Path) -> Iterator[tuple[Engine, sessionmaker[Session]]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'retention.sqlite3'}")
    migrate(engine)
    yield engine, session_factory(engine)
    engine.dispose()


def test_retention_removes_old_case_rows_and_keeps_counts(
    retention_db: tuple[Engine, sessionmaker[Session]],
) -> None:
    from providers.store.retention import purge_case_data

    engine, sessions = retention_db
    today = dt.date(2026, 11, 20)
    with sessions.begin() as s:
        s.add_all(
            [
                _child("K-OUD-1", ChildStatus.PLACED, dt.date(2024, 10, 1)),  # 25 months
                _child("K-OUD-2", ChildStatus.CLOSED, dt.date(2024, 11, 19)),  # just over
                _child("K-OUD-3", ChildStatus.PLACED, dt.date(2024, 10, 15)),
                _child("K-GRENS", ChildStatus.PLACED, dt.date(2024, 11, 20)),  # exactly 24
                _child("K-NIEUW", ChildStatus.PLACED, dt.date(2026, 1, 5)),
                _child("K-WACHT", ChildStatus.WAITING, None),
            ]
        )
    system = access.Principal.system("bewaartermijn")
    with sessions.begin() as s:
        with pytest.raises(access.AccessDenied):
            purge_case_data(
                s, access.Principal("t", Role.TAFEL, None, "JZ31"), months=24, today=today
            )
        removed = purge_case_data(s, system, months=24, today=today)
    assert removed == 3
    with engine.connect() as conn:
        left = set(conn.execute(text("SELECT ref FROM children")).scalars())
        needs = conn.execute(text("SELECT count(*) FROM child_needs")).scalar_one()
        stats = conn.execute(
            text("SELECT month, status, care_type, children FROM case_statistics ORDER BY month")
        ).all()
        audit = conn.execute(
            text("SELECT record_count, record_refs, detail FROM audit_log WHERE action = :a"),
            {"a": "verwijderen"},
        ).all()
    assert left == {"K-GRENS", "K-NIEUW", "K-WACHT"}
    assert needs == 3
    # The counts stay: two placements in 2024-10, one closure in 2024-11.
    assert [tuple(r) for r in stats] == [
        ("2024-10", "geplaatst", "PLEEGZORG", 2),
        ("2024-11", "afgesloten", "PLEEGZORG", 1),
    ]
    assert len(audit) == 1
    assert audit[0][0] == 3
    # Run again: nothing more to remove, the counts do not double.
    with sessions.begin() as s:
        assert purge_case_data(s, system, months=24, today=today) == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT sum(children) FROM case_statistics")).scalar_one() == 3


def test_retention_command_line(
    retention_db: tuple[Engine, sessionmaker[Session]], capsys: pytest.CaptureFixture[str]
) -> None:
    from providers.cli import main

    engine, sessions = retention_db
    with sessions.begin() as s:
        s.add(_child("K-CLI-1", ChildStatus.CLOSED, dt.date(2025, 1, 1)))
        s.add(_child("K-CLI-2", ChildStatus.CLOSED, dt.date(2026, 6, 1)))
        # ended 40 days before the date given: older than the 30 days kept
        ended = dt.datetime(2026, 10, 11, tzinfo=dt.UTC)
        s.add(_web_session("oud", started=ended, ended=ended))
    url = engine.url.render_as_string(hide_password=False)
    argv = ["retention", "--months", "12", "--date", "2026-11-20", "--database-url", url]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "1 kinderen verwijderd" in out
    assert "1 sessies verwijderd" in out
    with engine.connect() as conn:
        assert set(conn.execute(text("SELECT ref FROM children")).scalars()) == {"K-CLI-2"}


def _web_session(username: str, *, started: dt.datetime, ended: dt.datetime | None) -> Any:
    from providers.store.models import WebSession

    return WebSession(
        token_hash=uuid.uuid4().hex * 2,
        username=username,
        created_at=started,
        expires_at=started + dt.timedelta(hours=8),
        ended_at=ended,
    )


def test_old_web_sessions_are_deleted(retention_db: tuple[Engine, sessionmaker[Session]]) -> None:
    from providers.store.models import WebSession
    from providers.store.sessions import SESSION_KEEP_DAYS, purge_sessions

    _, sessions = retention_db
    now = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    old = now - dt.timedelta(days=SESSION_KEEP_DAYS + 1)
    recent = now - dt.timedelta(days=SESSION_KEEP_DAYS - 1)
    with sessions.begin() as s:
        s.add(_web_session("oud-afgemeld", started=old, ended=old))
        s.add(_web_session("oud-verlopen", started=old, ended=None))
        s.add(_web_session("recent-afgemeld", started=recent, ended=recent))
        s.add(_web_session("lopend", started=now - dt.timedelta(hours=1), ended=None))
    with sessions.begin() as s:
        with pytest.raises(access.AccessDenied):
            purge_sessions(s, access.Principal("tafel", Role.TAFEL, 1), now=now)
        assert purge_sessions(s, access.Principal.system(), now=now) == 2
    with sessions() as s:
        left = set(s.scalars(select(WebSession.username)))
    assert left == {"recent-afgemeld", "lopend"}


def test_secondary_suppression_in_the_data_layer(
    retention_db: tuple[Engine, sessionmaker[Session]],
) -> None:
    # one small gemeente beside two larger ones: hiding only the small cell
    # would let total minus the rest give it back, so a second cell goes too
    _, sessions = retention_db
    with sessions.begin() as s:
        for gemeente, n in (("GM0505", 10), ("GM0642", 2), ("GM0531", 9)):
            for i in range(n):
                s.add(_child(f"K-{gemeente}-{i:02d}", ChildStatus.WAITING, None, gemeente))
    who = access.Principal("inkoop", Role.INKOOP, 1, region_code="JZ31")
    with sessions() as s:
        agg = aggregates.waiting_aggregates(s, who, ("gemeente",))
    assert agg.total == 21
    # 2 + 9 hidden: 11 children in two gemeenten, nothing to derive
    assert {row.key[0]: row.count for row in agg.rows} == {
        "GM0505": 10,
        "GM0642": None,
        "GM0531": None,
    }
    assert agg.suppressed_cells == 2


def test_a_single_suppressed_cell_cannot_be_derived_from_the_total(
    retention_db: tuple[Engine, sessionmaker[Session]],
) -> None:
    """What inkoop receives (the data layer's aggregate, and the overview behind the
    page and /api/v1/inkoop/wachtenden): the total minus the shown cells never gives
    back one hidden cell. The data layer hides the second cell itself."""
    from wijzer.auth import SessionUser
    from wijzer.views import inkoop as inkoop_view

    _, sessions = retention_db
    with sessions.begin() as s:
        for i in range(10):
            s.add(_child(f"K-A{i:02d}", ChildStatus.WAITING, None, gemeente="GM0505"))
        for i in range(2):
            s.add(_child(f"K-B{i:02d}", ChildStatus.WAITING, None, gemeente="GM0642"))
        for i in range(6):
            s.add(_child(f"K-C{i:02d}", ChildStatus.WAITING, None, gemeente="GM0531"))
    who = SessionUser("inkoop", Role.INKOOP, None, region_code="JZ31")
    with sessions() as s:
        raw = aggregates.waiting_aggregates(s, who, ("gemeente",))
        ctx = inkoop_view.overview(s, who)
    # one cell is under 5 (the case that needs protection); a second one is hidden
    assert sum(r.count is not None and r.count < aggregates.SMALL_CELL for r in raw.rows) == 0
    assert sum(r.suppressed for r in raw.rows) >= 2
    assert raw.total is not None
    assert raw.total - sum(r.count or 0 for r in raw.rows) >= 2 * aggregates.SMALL_CELL
    breakdowns = [b for b in ctx.model_dump()["breakdowns"] if b["cells"]]
    assert breakdowns
    for b in breakdowns:
        hidden = [c for c in b["cells"] if c["suppressed"]]
        shown = sum(c["count"] for c in b["cells"] if not c["suppressed"])
        assert all(c["count"] is None for c in hidden)
        if b["total"] is not None and hidden:
            rest = b["total"] - shown
            # More than one hidden cell share the rest, or the rest is not small.
            assert len(hidden) > 1 or rest >= aggregates.SMALL_CELL, b


def test_demo_holds_two_regions_kept_apart(demo_run: dict[str, Any]) -> None:
    """Each region's tafel sees its own waiting children only, each inkoop team its own
    total; the second region's accounts are named `<rol>-2`."""
    seeded: list[wijzer_demo.DemoAccount] = demo_run["accounts"]
    by_name = {a.username: a for a in seeded}
    regions = (wijzer_demo.DEMO_REGION, wijzer_demo.DEMO_REGION_2)
    with demo_run["engine"].connect() as conn:
        waiting = {
            r: set(
                conn.execute(
                    text("SELECT ref FROM children WHERE region_code = :r AND status = 'wachtend'"),
                    {"r": r},
                ).scalars()
            )
            for r in regions
        }
    assert all(len(refs) >= 20 for refs in waiting.values())
    app = create_app(_settings(demo_run["url"]))
    try:
        for region, other in (regions, regions[::-1]):
            for role in (Role.TAFEL, Role.INKOOP):
                account = by_name[wijzer_demo.username_of(role, region)]
                assert account.region == region
                client = TestClient(app, base_url="http://testserver")
                token = csrf_from(client.get("/inloggen").text)
                form = {"gebruikersnaam": account.username, "wachtwoord": account.password}
                r = client.post("/inloggen", data={**form, "csrf_token": token})
                assert r.status_code == 200, r.text
                if role is Role.TAFEL:
                    shown = set(re.findall(r"K-\d{6}", client.get("/tafel").text))
                    assert shown
                    assert shown <= waiting[region]
                else:
                    body = client.get("/api/v1/inkoop/wachtenden").json()
                    assert body["region"] == region
                    assert {b["total"] for b in body["breakdowns"]} == {len(waiting[region])}
                    assert not re.search(r"K-\d{6}", client.get("/inkoop").text)
                assert not waiting[other] & set(re.findall(r"K-\d{6}", r.text))
                client.close()
    finally:
        app.state.jobs.shutdown()
        app.state.engine.dispose()
