"""Property-based API tests with schemathesis against /api/v1, in-process (ASGI).

Every operation is called with schema-valid (positive) and schema-invalid
(negative) requests, as every role and without a session, with a fixed seed
(hypothesis ``derandomize``), and every answer goes through all of
schemathesis' checks (``--checks all``): no server error, a documented status
code, content type and headers, a body that matches the response schema,
schema-valid requests accepted and schema-invalid ones refused. Then
schemathesis' own state machine walks the operations as each role, and two
hand-made flows follow a provider's update with its version and a table's run
to its end.

A few rules depend on more than one field or on the signed-in user's region, so
no static schema can state them; the schema's descriptions name them, and
`_follow_rules` makes a schema-valid request keep them before it is sent:
- an offering's `age_min` is not above its `age_max`;
- a ruling date (`uitspraak`, a case's `ruling_date`) is not after today, and a
  case's child is born in the last 22 years;
- an inkoop scenario uses the care types, regions, budgets and gemeenten that
  GET /api/v1/inkoop/scenario-opties lists for the user's region;
- the `regio` parameter of the inkoop API names a region the user may choose
  (`choosable_regions`: inkoop its own, beheer any).
Every other schema-valid request must be accepted as it was generated.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS as REGISTRY
from schemathesis.checks import load_all_checks
from sqlalchemy import Engine, text, update

from providers.store.engine import make_engine, migrate, session_factory
from providers.store.models import Offering
from tests.security.conftest import (
    BACKENDS,
    RUN_PREFIX,
    TODAY,
    _settings,
    csrf_from,
    login,
    pg_url_for_schema,
    username_for,
)
from tests.wijzer.data import seed
from tests.wijzer.test_role_matrix import GET_MATRIX, UNSAFE_MATRIX
from wijzer.app import create_app
from wijzer.auth import Role
from wijzer.security import SAFE_METHODS

load_all_checks()
# Every check schemathesis has, as `--checks all` on the command line.
CHECKS = list(REGISTRY.get_all())
# Chosen so the whole schema run stays near 90 s on a 2-core machine.
MAX_EXAMPLES = {GenerationMode.POSITIVE: 15, GenerationMode.NEGATIVE: 10}
DENIED_EXAMPLES = 4
# Calls per role and mode, for the summary line of the last test.
CALLS: Counter[str] = Counter()


def allowed_roles(label: str) -> frozenset[Role]:
    """Roles that may call an API operation, from the role matrix of the web tests."""
    method, path = label.split(" ", 1)
    roles = GET_MATRIX[path][1] if method in SAFE_METHODS else UNSAFE_MATRIX[method, path]
    return frozenset(Role) if roles is None else roles


@pytest.fixture(scope="module", params=BACKENDS)
def api_url(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    template_db: tuple[Path, dict[str, int]],
) -> Iterator[str]:
    """The test data on SQLite, or in a fresh PostgreSQL schema for the whole module."""
    if request.param == "sqlite":
        db = tmp_path_factory.mktemp("schema-db") / "wijzer.sqlite3"
        shutil.copy(template_db[0], db)
        yield f"sqlite:///{db}"
        return
    admin: Engine | None = request.getfixturevalue("pg_admin")
    assert admin is not None
    schema = f"{RUN_PREFIX}_api_{uuid.uuid4().hex[:6]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = pg_url_for_schema(schema, application_name=schema)
    engine = make_engine(url)
    try:
        migrate(engine)
        with session_factory(engine).begin() as session:
            seed(session)
    finally:
        engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :a AND pid <> pg_backend_pid()"
                ),
                {"a": schema},
            )
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.fixture(scope="module")
def api_app(api_url: str) -> Iterator[FastAPI]:
    # A high login limit: this module logs in many times from one address.
    app = create_app(_settings(api_url, login_max_failures=1000))
    yield app
    app.state.jobs.shutdown()
    app.state.engine.dispose()


@pytest.fixture(scope="module")
def schema(api_app: FastAPI) -> Any:
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", api_app)


def _auth_headers(app: FastAPI, role: Role | None) -> dict[str, str]:
    """Session cookie and CSRF token of a real login (nothing for anonymous)."""
    if role is None:
        return {}
    with TestClient(app, base_url="http://testserver") as c:
        login(c, username_for(role))
        token = csrf_from(c.get("/").text)
        cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
    return {"Cookie": cookie, "X-CSRF-Token": token}


def test_every_api_operation_has_a_rule(schema: Any) -> None:
    labels = {op.ok().label for op in schema.get_all_operations()}
    assert {"GET /api/v1/ik", "PUT /api/v1/aanbod/{offering_id}"} <= labels
    for label in labels:
        allowed_roles(label)  # KeyError: an operation without a rule in the role matrix


def _options(app: FastAPI, headers: dict[str, str]) -> dict[str, Any] | None:
    """The user's scenario options (None when the role may not make scenarios)."""
    with TestClient(app, base_url="http://testserver") as c:
        answer = c.get("/api/v1/inkoop/scenario-opties", headers=headers)
    return answer.json() if answer.status_code == 200 else None


def _pick(values: list[Any], i: int) -> Any:
    return values[i % len(values)]


SCENARIOS = "POST /api/v1/inkoop/scenarios"


def _follow_rules(case: Any, options: dict[str, Any] | None) -> None:
    """Make a schema-valid request keep the rules no static schema can state (see the
    module's docstring); every other field stays as generated."""
    label = case.operation.label
    body = case.body if isinstance(case.body, dict) else None
    allowed = [None, *(options or {}).get("choosable_regions", [])]
    on_inkoop = label.split(" ", 1)[1].startswith("/api/v1/inkoop/")
    if on_inkoop and options and case.query and case.query.get("regio") not in allowed:
        # inkoop computes for its own region only (beheer chooses any)
        case.query["regio"] = options["region"]
    if label == "PUT /api/v1/aanbod/{offering_id}" and body is not None:
        if body["age_min"] > body["age_max"]:
            body["age_min"], body["age_max"] = body["age_max"], body["age_min"]
    elif label == "GET /api/v1/zoeken" and case.query:
        ruling = str(case.query.get("uitspraak") or "")
        if ruling and dt.date.fromisoformat(ruling) > TODAY:
            case.query["uitspraak"] = TODAY.isoformat()
    elif label == "POST /api/v1/casussen" and body is not None:
        # a child born before the ruling and younger than 23; a ruling not after today
        if body.get("ruling_date") and dt.date.fromisoformat(body["ruling_date"]) > TODAY:
            body["ruling_date"] = TODAY.isoformat()
        year = int(str(body.get("birth_month", "2015-01"))[:4])
        if not TODAY.year - 22 <= year <= TODAY.year - 1:
            body["birth_month"] = f"{TODAY.year - 10}-{str(body['birth_month'])[5:7]}"
    elif label == "POST /api/v1/casussen" and body is not None:
        _case_rules(body)
    elif label == "POST /api/v1/aanmeldingen/voorstel" and body is not None:
        # a proposal names each child once (one offering per child)
        seen: set[str] = set()
        body["items"] = [i for i in body["items"] if not (i["ref"] in seen or seen.add(i["ref"]))]
    elif label == "POST /api/v1/aanmeldingen/{aanmelding_id}/antwoord" and body is not None:
        _answer_rules(body)
    elif label == "POST /api/v1/inkoop/scenarios" and body is not None and options:
        # the body names what the options list for the region they were read for
        if case.query is not None and "regio" in case.query:
            case.query["regio"] = options["region"]
        pairs, budgets = options["placeable"], [b["budget"] for b in options["budgets"]]
        gemeenten = [g["value"] for g in options["gemeenten"]]
        for i, extra in enumerate(body.get("extra_places", [])):
            if pairs:
                extra.update(_pick(pairs, i))
        for i, lift in enumerate(body.get("ceiling_lifts", [])):
            lift["budget"] = _pick(budgets, i) if budgets else lift["budget"]
        if body.get("gemeenten_leave") and gemeenten:
            body["gemeenten_leave"] = [
                _pick(gemeenten, i) for i in range(len(body["gemeenten_leave"]))
            ]
        # a region without purchases (beheer's default region may be one) has no
        # budgets or places to name: those changes go, and one gemeente leaves instead
        # when nothing is left
        if not budgets:
            body["ceiling_lifts"] = []
        if not pairs:
            body["extra_places"] = []
        changes = ("extra_places", "ceiling_lifts", "gemeenten_leave")
        if not any(body.get(k) for k in changes) and gemeenten:
            body["gemeenten_leave"] = [gemeenten[0]]


def _case_rules(body: dict[str, Any]) -> None:
    """A case: each need once; a child born in the last 22 years and before the ruling;
    a ruling not after today; the other norm dates not before the ruling."""
    body["needs"] = list(dict.fromkeys(body["needs"]))
    ruling = min(dt.date.fromisoformat(body["ruling_date"]), TODAY)
    month = str(body["birth_month"])[5:7]
    born = dt.date(int(str(body["birth_month"])[:4]), int(month), 1)
    if not TODAY.year - 22 <= born.year <= TODAY.year - 1 or born > ruling:
        born = dt.date(TODAY.year - 10, int(month), 1)
        body["birth_month"] = born.isoformat()[:7]
    ruling = max(ruling, born)
    body["ruling_date"] = ruling.isoformat()
    for key in ("gi_notified_date", "urgent_deadline"):
        if body.get(key) and dt.date.fromisoformat(body[key]) < ruling:
            body[key] = ruling.isoformat()


def _answer_rules(body: dict[str, Any]) -> None:
    """A provider's answer carries the dates its kind needs: planned intake and start
    for an acceptance, the day of the intake or the start, a reason for a no."""
    kind = body.get("kind")
    if kind == "accept":
        body.setdefault("planned_intake", TODAY.isoformat())
        body.setdefault("planned_start", TODAY.isoformat())
        body["planned_intake"] = body["planned_intake"] or TODAY.isoformat()
        body["planned_start"] = body["planned_start"] or TODAY.isoformat()
    elif kind in ("intake", "start"):
        body["on"] = body.get("on") or TODAY.isoformat()
    elif kind in ("decline", "decline_after_intake"):
        body["reason"] = body.get("reason") or "NO_CAPACITY"
        body["text"] = body.get("text", "").strip() or "Geen plek vrij"


def _fuzz(
    operation: Any,
    headers: dict[str, str],
    mode: GenerationMode,
    n: int,
    options: dict[str, Any] | None,
) -> int:
    calls = 0

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=n,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        nonlocal calls
        if mode is GenerationMode.POSITIVE:
            _follow_rules(case, options)
        # Headers of the session go last so a generated header cannot replace them.
        merged = {**(case.headers or {}), **headers}
        response = case.call(headers=merged)
        calls += 1
        case.validate_response(response, checks=CHECKS, headers=merged)

    run()
    return calls


def _name(role: Role | None) -> str:
    return role.value if role else "anoniem"


@pytest.mark.parametrize("role", [*Role, None], ids=_name)
@pytest.mark.parametrize("mode", list(MAX_EXAMPLES), ids=lambda m: m.value)
def test_every_operation_conforms(
    api_app: FastAPI, schema: Any, role: Role | None, mode: GenerationMode
) -> None:
    headers = _auth_headers(api_app, role)
    options = _options(api_app, headers)
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        allowed = role is not None and role in allowed_roles(operation.label)
        n = MAX_EXAMPLES[mode] if allowed else DENIED_EXAMPLES
        if mode is GenerationMode.NEGATIVE and not _has_input(operation):
            continue  # nothing to make invalid
        calls = _fuzz(operation, headers, mode, n, options)
        assert calls >= 1, operation.label
        operations += 1
        CALLS[f"{_backend(api_app)} {_name(role)} {mode.value}"] += calls
    _summary(
        api_app,
        f"{_name(role)} {mode.value}",
        operations,
        CALLS[f"{_backend(api_app)} {_name(role)} {mode.value}"],
    )


def _backend(app: FastAPI) -> str:
    return str(app.state.engine.url.get_backend_name())


def _summary(app: FastAPI, what: str, operations: int, cases: int) -> None:
    """One line per role and mode for the record: every case goes through every check."""
    backend = _backend(app)
    checks = cases * len(CHECKS)
    print(
        f"schemathesis [{backend}] {what}: {operations} operations, {cases} cases, "
        f"{checks} checks ({len(CHECKS)} per case)"
    )


@pytest.mark.parametrize("role", [*Role, None], ids=_name)
def test_state_machine(api_app: FastAPI, schema: Any, role: Role | None) -> None:
    """Schemathesis' own stateful run: sequences of calls, each answer checked, with
    the links it finds between operations (e.g. a started run and its Location)."""
    headers = _auth_headers(api_app, role)
    options = _options(api_app, headers)
    calls = 0

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Any) -> None:
            if case.meta is None or case.meta.generation.mode.is_positive:
                fresh = case.operation.label == SCENARIOS
                _follow_rules(case, _options(api_app, headers) if fresh else options)

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": {**(case.headers or {}), **headers}}

        def teardown(self) -> None:
            # Every example starts from the offerings' first versions: hypothesis
            # replays steps, and a step whose update matched a version must match it
            # again, or its links differ and the replay counts as inconsistent.
            with api_app.state.sessions.begin() as s:
                s.execute(update(Offering).values(version=1))

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            nonlocal calls
            calls += 1
            case.validate_response(
                response,
                checks=CHECKS,
                headers=kwargs.get("headers"),
                recorder=self.recorder,
            )

    Machine.run(
        settings=settings(
            max_examples=6,
            stateful_step_count=6,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    assert calls >= 6
    CALLS[f"{_backend(api_app)} {_name(role)} stateful"] += calls
    _summary(api_app, f"{_name(role)} stateful", len(list(schema.get_all_operations())), calls)


def _has_input(operation: Any) -> bool:
    return bool(operation.body) or any(True for _ in operation.iter_parameters())


def _own_offerings(client: TestClient) -> list[dict[str, Any]]:
    response = client.get("/api/v1/aanbod")
    assert response.status_code == 200
    rows: list[dict[str, Any]] = response.json()["offerings"]
    assert rows, "the provider of the test data has offerings"
    return rows


BODY = st.fixed_dictionaries(
    {
        "places_free": st.integers(-3, 10_050),
        "release_per_week": st.floats(-1, 1_100, allow_nan=False, allow_infinity=False),
        "expected_wait_days": st.integers(-3, 4_000),
        "intake_days": st.integers(-3, 800),
        "intake_stop": st.booleans(),
        "lvb_expertise": st.booleans(),
        "age_min": st.integers(-1, 30),
        "age_max": st.integers(-1, 30),
        "contra_indications": st.lists(st.sampled_from(["ZEDENVERLEDEN", "GEEN_CODE"]), max_size=2),
    }
)


def test_stateful_provider_flow(api_app: FastAPI, schema: Any) -> None:
    """Read own offerings -> update with that version -> a stale version conflicts.

    Every answer is validated against the schema of its operation; the state the
    API reports afterwards must equal what was accepted (or be unchanged).
    """
    put_op = schema["/api/v1/aanbod/{offering_id}"]["PUT"]
    with TestClient(api_app, base_url="http://testserver") as client:
        login(client, username_for(Role.AANBIEDER))
        token = csrf_from(client.get("/").text)
        client.headers["X-CSRF-Token"] = token

        @given(body=BODY, pick=st.integers(0, 10))
        @settings(max_examples=40, derandomize=True, deadline=None, database=None)
        def step(body: dict[str, Any], pick: int) -> None:
            rows = _own_offerings(client)
            before = rows[pick % len(rows)]
            oid, version = before["id"], before["version"]
            response = client.put(f"/api/v1/aanbod/{oid}", json={**body, "version": version})
            case = put_op.Case(path_parameters={"offering_id": oid}, body={**body})
            case.validate_response(response, checks=CHECKS)
            after = next(r for r in _own_offerings(client) if r["id"] == oid)
            if response.status_code == 200:
                assert after["version"] == version + 1
                assert after["places_free"] == body["places_free"]
                assert response.json()["version"] == after["version"]
                stale = client.put(f"/api/v1/aanbod/{oid}", json={**body, "version": version})
                assert stale.status_code == 409
                put_op.Case(path_parameters={"offering_id": oid}).validate_response(
                    stale, checks=CHECKS
                )
                assert stale.json()["current"]["version"] == version + 1
                assert "opnieuw" in stale.json()["detail"]
            else:
                assert response.status_code == 422, response.text
                assert after == before

        step()


def test_stateful_table_run_flow(api_app: FastAPI, schema: Any) -> None:
    """Start a run -> follow its Location until done; every answer matches its schema,
    a child of another region never shows up, whatever refs are sent."""
    start_op = schema["/api/v1/tafel/runs"]["POST"]
    get_op = schema["/api/v1/tafel/runs/{job_id}"]["GET"]
    refs = st.lists(
        st.sampled_from(["K-001", "K-002", "K-003", "K-004", "K-999", "x" * 40]),
        min_size=1,
        max_size=5,
    )
    with TestClient(api_app, base_url="http://testserver") as client:
        login(client, username_for(Role.TAFEL))
        client.headers["X-CSRF-Token"] = csrf_from(client.get("/").text)

        @given(chosen=refs)
        @settings(max_examples=8, derandomize=True, deadline=None, database=None)
        def step(chosen: list[str]) -> None:
            started = client.post("/api/v1/tafel/runs", json={"refs": chosen})
            start_op.Case(body={"refs": chosen}).validate_response(started, checks=CHECKS)
            assert started.status_code == 202, started.text
            location = started.headers["location"]
            job_id = location.rsplit("/", 1)[-1]
            for _ in range(600):
                answer = client.get(location)
                get_op.Case(path_parameters={"job_id": job_id}).validate_response(
                    answer, checks=CHECKS
                )
                if answer.json()["done"]:
                    break
                time.sleep(0.05)
            body = answer.json()
            assert body["done"]
            assert body["status"] == "klaar", body  # unknown refs are no reason to fail
            shown = {row["child_ref"] for row in (body.get("outcome") or {}).get("rows", [])}
            assert "K-004" not in shown  # another region's child
            assert shown <= {"K-001", "K-002", "K-003"}

        step()


def test_a_json_integer_may_have_a_point_zero(api_app: FastAPI) -> None:
    """5.0 is the integer 5 in JSON (the schema says integer); true, "5" and 5.5 are not."""
    with TestClient(api_app, base_url="http://testserver") as client:
        login(client, username_for(Role.AANBIEDER))
        client.headers["X-CSRF-Token"] = csrf_from(client.get("/").text)
        row = _own_offerings(client)[0]
        body = {
            "places_free": 4.0,
            "release_per_week": 0,
            "expected_wait_days": 7,
            "intake_days": 14,
            "intake_stop": False,
            "lvb_expertise": False,
            "age_min": 0,
            "age_max": 18,
        }
        for wrong in (True, "5", 5.5):
            refused = client.put(
                f"/api/v1/aanbod/{row['id']}",
                json={**body, "places_free": wrong, "version": row["version"]},
            )
            assert refused.status_code == 422, wrong
        saved = client.put(f"/api/v1/aanbod/{row['id']}", json={**body, "version": row["version"]})
        assert saved.status_code == 200, saved.text
        assert saved.json()["places_free"] == 4
        assert saved.json()["version"] == row["version"] + 1
