"""The tafel's matching run and run-again (services.matching)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from matcher.domain import Forbid, Pin
from providers.convert import scenario_from_db
from providers.store import access
from services import matching as uc

from .conftest import REGION, TODAY, principal


def _noop(_step: str, _percent: int) -> None:
    return None


@pytest.fixture(scope="module")
def first(sessions: sessionmaker[Session]) -> tuple[uc.RunParams, uc.RunOutcome]:
    with sessions.begin() as db:
        user = principal(db, f"tafel-{REGION}")
        # the 30 most urgent: in the demo most of them are long overdue and only a few
        # can be placed, and the run-again test needs two placed rows
        refs = [c.ref for c in access.waiting_list(db, user)][:30]
    params = uc.RunParams(refs=refs)
    return params, uc.run_matching(
        sessions, user, params, today=TODAY, progress=_noop, explain_budget_s=0.5
    )


def test_a_run_has_one_row_per_need_of_the_chosen_children(
    first: tuple[uc.RunParams, uc.RunOutcome],
) -> None:
    params, outcome = first
    assert {r.child_ref for r in outcome.rows} == set(params.refs)
    s = outcome.summary
    assert s.needs == len(outcome.rows) == s.placed + s.unplaced
    assert all(r.offering and r.option for r in outcome.rows if r.placed)
    assert all(r.summary for r in outcome.rows if not r.placed)


def test_run_again_keeps_a_pin_and_honours_a_forbid(
    sessions: sessionmaker[Session], first: tuple[uc.RunParams, uc.RunOutcome]
) -> None:
    params, outcome = first
    placed = [r for r in outcome.rows if r.placed]
    assert len(placed) >= 2
    pin, forbid = placed[0], placed[1]
    again, label = uc.rerun_params(
        "run-1",
        params,
        outcome,
        [f"{pin.child_ref}|{pin.need_id}", "onbekend|x"],
        [f"{forbid.child_ref}|{forbid.need_id}"],
    )
    assert again.parent == "run-1"
    assert [p.offering for p in again.pins] == [pin.offering]  # the unknown key is ignored
    assert [f.offering for f in again.forbids] == [forbid.offering]
    assert label == "Opnieuw: 1 vastgezet, 1 uitgesloten"
    with sessions() as db:
        user = principal(db, f"tafel-{REGION}")
    second = uc.run_matching(
        sessions, user, again, today=TODAY, progress=_noop, explain_budget_s=0.5
    )
    rows = {(r.child_ref, r.need_id): r for r in second.rows}
    kept = rows[(pin.child_ref, pin.need_id)]
    assert kept.pinned
    assert kept.offering == pin.offering
    moved = rows[(forbid.child_ref, forbid.need_id)]
    assert moved.offering != forbid.offering
    assert moved.forbidden == [forbid.offering]


def test_choices_become_the_domains_pins_and_forbids(sessions: sessionmaker[Session]) -> None:
    with sessions() as db:
        scenario = scenario_from_db(
            db, access.Principal.system("test"), evaluation_date=TODAY, region_code=REGION
        )
    chosen = uc.select_children(scenario, [c.ref for c in scenario.children][:20])
    child = chosen.children[0]
    need = child.needs[0]
    offering = next(o for o in chosen.offerings if o.care_type is need.care_type)
    choice = uc.Choice(child_ref=child.ref, need_id=need.id, offering=offering.id)
    decided = uc.with_choices(chosen, [choice], [choice])
    assert decided.pins == (Pin(child.ref, need.id, offering.id),)
    assert decided.forbids == (Forbid(child.ref, need.id, offering.id),)
    # choices for children or offerings not in the scenario change nothing
    stale = uc.Choice(child_ref="niet-in-de-run", need_id="x", offering=offering.id)
    gone = uc.Choice(child_ref=child.ref, need_id=need.id, offering="bestaat-niet")
    assert uc.with_choices(chosen, [stale, gone], [stale, gone]) is chosen


def test_a_forbidden_pair_is_explained_as_excluded_by_the_table_not_as_full(
    sessions: sessionmaker[Session], first: tuple[uc.RunParams, uc.RunOutcome]
) -> None:
    _params, outcome = first
    placed = next(r for r in outcome.rows if r.placed and r.offering)
    assert placed.offering is not None
    forbid = uc.Choice(child_ref=placed.child_ref, need_id=placed.need_id, offering=placed.offering)
    again = uc.RunParams(refs=[placed.child_ref], forbids=[forbid])
    with sessions() as db:
        user = principal(db, f"tafel-{REGION}")
    rows = uc.run_matching(
        sessions, user, again, today=TODAY, progress=_noop, explain_budget_s=0.5
    ).rows
    row = next(r for r in rows if r.need_id == placed.need_id)
    assert row.offering != placed.offering
    assert row.forbidden == [placed.offering]
    if not row.placed:
        text = " ".join(row.sentences).lower()
        assert "uitgesloten door de tafel" in text
        assert "vol" not in text.split(placed.provider or "?")[-1].split(".")[0]


@pytest.mark.parametrize("username", [f"inkoop-{REGION}"])
def test_a_role_without_case_data_may_not_run_a_matching(
    sessions: sessionmaker[Session], username: str
) -> None:
    with sessions() as db:
        user = principal(db, username)
    with pytest.raises(access.AccessDenied) as exc:
        uc.run_matching(sessions, user, uc.RunParams(refs=["x"]), today=TODAY, progress=_noop)
    assert exc.value.user_message


def test_a_tafel_does_not_match_children_of_another_region(
    sessions: sessionmaker[Session], first: tuple[uc.RunParams, uc.RunOutcome]
) -> None:
    params, _ = first
    with sessions() as db:
        other = principal(db, "tafel-JZ22")
    outcome = uc.run_matching(sessions, other, params, today=TODAY, progress=_noop)
    assert outcome.rows == []
