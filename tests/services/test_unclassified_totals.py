"""Children with a need not classified yet, stored in the database: every use case
counts them and none drops them (tafel run, inkoop what-if, uitvraag), so the totals
read placed + unplaced + unclassified = all children."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from matcher.domain.caretypes import UNCLASSIFIED_CODE
from providers.store import access, accounts
from providers.store.engine import make_engine, migrate, session_factory
from providers.store.models import Child, ChildStatus, OrganisationKind, Role
from services import matching as uc
from services import uitvraag
from services import what_if as wi
from tests.wijzer.overdue import freshen_rulings
from wijzer.demo_site import load_demo_data

from .conftest import REGION, TODAY, principal

N_UNCLASSIFIED = 6


@pytest.fixture(scope="module")
def db(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[sessionmaker[Session], list[str]]]:
    path = tmp_path_factory.mktemp("unclassified") / "demo.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    factory = session_factory(engine)
    load_demo_data(factory, TODAY, io.StringIO())
    with factory.begin() as s:
        # rulings of the last 60 days, so the within-norm cells are large enough to show
        freshen_rulings(s, REGION, TODAY, 60)
        kids = list(
            s.scalars(
                select(Child)
                .where(Child.region_code == REGION, Child.status == ChildStatus.WAITING.value)
                .order_by(Child.ref)
            )
        )
        chosen = kids[:N_UNCLASSIFIED]
        for c in chosen:
            # the GI's list names the child, its need is not classified yet
            c.needs[0].care_type = UNCLASSIFIED_CODE
            del c.needs[1:]
            c.current_offering_id = None
            c.family_ref = None
        for role in (Role.TAFEL, Role.INKOOP):
            org = accounts.create_organisation(
                s, f"org {role.value}", OrganisationKind.REGIO, region_code=REGION
            )
            accounts.create_account(s, f"{role.value}-{REGION}", "x" * 12, role, org)
        refs = [c.ref for c in chosen]
    yield factory, refs
    engine.dispose()


def _noop(_step: str, _percent: int) -> None:
    return None


def test_the_tafel_run_counts_and_lists_every_child(
    db: tuple[sessionmaker[Session], list[str]],
) -> None:
    sessions, unclassified = db
    with sessions.begin() as s:
        user = principal(s, f"tafel-{REGION}")
        waiting = [c.ref for c in access.waiting_list(s, user)]
    assert set(unclassified) <= set(waiting)
    refs = [*unclassified, *[r for r in waiting if r not in unclassified][:34]]
    out = uc.run_matching(
        sessions, user, uc.RunParams(refs=refs), today=TODAY, progress=_noop, explain_budget_s=0.5
    )
    sm = out.summary
    assert sm.unclassified == N_UNCLASSIFIED
    assert sm.needs == sm.placed + sm.unplaced + sm.unclassified == len(out.rows)
    assert sm.children == len(refs)
    assert (
        sm.children_placed
        + sm.children_unplaced
        + sm.children_unclassified
        + sm.children_not_waiting
        == sm.children
    )
    assert sm.children_unclassified == N_UNCLASSIFIED
    rows = [r for r in out.rows if r.unclassified]
    assert sorted(r.child_ref for r in rows) == sorted(unclassified)
    assert all(not r.placed and r.care_type_label == "Hulpvraag nog niet bepaald" for r in rows)
    assert all(r.sentences == [uc.UNCLASSIFIED_SENTENCE] for r in rows)


def test_the_what_if_counts_them_apart(db: tuple[sessionmaker[Session], list[str]]) -> None:
    sessions, _ = db
    with sessions.begin() as s:
        user = principal(s, f"inkoop-{REGION}")
        opts = wi.scenario_options(s, user, today=TODAY)
        ct, region = opts.placeable[0]
        req = wi.ScenarioRequest(extra_places=(wi.ExtraPlaces(ct, region, 2),))
        out = wi.run_scenario(s, user, req, today=TODAY)
    assert out.unclassified == N_UNCLASSIFIED
    assert out.needs is not None
    for col in ("baseline", "scenario"):
        within, blocked = getattr(out.within_norm, col), getattr(out.blocked, col)
        assert within is not None
        assert blocked is not None
        assert within + blocked + out.unclassified == out.needs


def test_the_uitvraag_counts_them_as_waiting(db: tuple[sessionmaker[Session], list[str]]) -> None:
    sessions, unclassified = db
    with sessions.begin() as s:
        user = principal(s, f"tafel-{REGION}")
    res = uitvraag.report(sessions, user, uitvraag.ReportRequest(today=TODAY))
    rows = {r["child_ref"] for r in res.report.rows if not r["care_types"]}
    assert set(unclassified) <= rows
    assert res.report.unclassified >= N_UNCLASSIFIED
