"""Use case: a matching of a tafel's waiting children, with pins and forbids.

The children come through the data layer's scoped, audited read
(`providers.convert.scenario_from_db`: a tafel sees its own region); matching and
explanations are the domain's (`matcher.domain.match`, `explain`).  The result is
one row per need: where it is placed, or why not.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from matcher.domain import CareType, Scenario
from matcher.domain.compile import Compiled, compile_scenario
from matcher.domain.explain import explain, sentences
from matcher.domain.match import match
from providers import reference
from providers.convert import scenario_from_db
from providers.store import access
from providers.store.access import Principal

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

Progress = Callable[[str, int], None]
EXPLAIN_BUDGET_S = 2.5


class Choice(BaseModel):
    """A pin (place this need at this option) or a forbid (never at this offering)."""

    child_ref: str
    need_id: str
    offering: str
    option: str = ""


class RunParams(BaseModel):
    """The request: which children, and the pins and forbids of earlier runs."""

    refs: list[str]
    pins: list[Choice] = Field(default_factory=list)
    forbids: list[Choice] = Field(default_factory=list)
    parent: str | None = None


class NeedRow(BaseModel):
    child_ref: str
    need_id: str
    care_type_label: str
    placed: bool
    offering: str | None = None
    option: str | None = None
    provider: str | None = None
    location: str | None = None
    start: dt.date | None = None
    deadline: dt.date | None = None
    within_norm: bool = False
    via_main_contractor: str | None = None
    pinned: bool = False
    forbidden: list[str] = Field(default_factory=list)
    summary: str = ""
    sentences: list[str] = Field(default_factory=list)
    smallest_change: str | None = None


class RunSummary(BaseModel):
    needs: int
    placed: int
    within_norm: int
    unplaced: int
    solver_status: str
    wall_time_s: float
    strategy: str


class RunOutcome(BaseModel):
    """The result: totals and one row per need (placed first by child, then unplaced)."""

    summary: RunSummary
    rows: list[NeedRow]


def care_type_label(care_type: str) -> str:
    try:
        return CareType(care_type).label_nl
    except ValueError:
        return care_type


def select_children(scenario: Scenario, refs: Sequence[str]) -> Scenario:
    """The scenario with only the chosen children (and the bundles all of whose members
    are chosen)."""
    keep = set(refs)
    return dataclasses.replace(
        scenario,
        children=tuple(c for c in scenario.children if c.ref in keep),
        bundles=tuple(b for b in scenario.bundles if all(r in keep for r, _ in b.members)),
    )


def with_choices(compiled: Compiled, pins: Sequence[Choice], forbids: Sequence[Choice]) -> Compiled:
    """The compiled problem with the run's pins and forbids as arc-level pins.

    The one place where a tafel's choices become (item, option) pairs: a pin keeps
    the need at the option it had, a forbid drops every option at the offering.
    Choices whose child, need or option is no longer in the problem are left out.
    """
    arcs_by_item: dict[str, list[tuple[str, str]]] = {}
    for info in compiled.arcs:
        arcs_by_item.setdefault(info.item, []).append(
            (info.offering, f"{info.offering}@{info.group}")
        )
    pinned: list[tuple[str, str]] = []
    forbidden: list[tuple[str, str]] = []
    for pin in pins:
        item = compiled.item_of(pin.child_ref, pin.need_id)
        options = [opt for _, opt in arcs_by_item.get(item, []) if opt == pin.option]
        pinned.extend((item, opt) for opt in options[:1])
    for forbid in forbids:
        item = compiled.item_of(forbid.child_ref, forbid.need_id)
        forbidden.extend(
            (item, opt) for off, opt in arcs_by_item.get(item, []) if off == forbid.offering
        )
    if not (pinned or forbidden):
        return compiled
    return dataclasses.replace(
        compiled, problem=compiled.problem.with_pins(pinned=pinned, forbidden=forbidden)
    )


def run_matching(
    sessions: sessionmaker[Session],
    user: Principal,
    params: RunParams,
    *,
    today: dt.date,
    progress: Progress,
    explain_budget_s: float = EXPLAIN_BUDGET_S,
) -> RunOutcome:
    progress("Gegevens ophalen", 10)
    with sessions.begin() as session:
        scenario = scenario_from_db(
            session, user, evaluation_date=today, region_code=user.region_code
        )
        names = access.provider_names(session)
    scenario = select_children(scenario, params.refs)
    progress("Rekenen", 35)
    compiled = with_choices(compile_scenario(scenario), params.pins, params.forbids)
    result = match(scenario, compiled=compiled)
    progress("Uitleg zoeken voor kinderen zonder plek", 65)
    explanation = explain(result, time_budget_s=explain_budget_s)
    progress("Uitkomst klaarzetten", 95)

    offerings = scenario.offering_by_id
    gemeenten = reference.gemeenten()
    option_of = {
        (ref, nid): opt
        for item, opt in result.solution.assignments.items()
        for ref, nid in compiled.item_members[item]
    }
    pins = {(p.child_ref, p.need_id) for p in params.pins}
    forbids: dict[tuple[str, str], list[str]] = {}
    for f in params.forbids:
        forbids.setdefault((f.child_ref, f.need_id), []).append(f.offering)
    rows: list[NeedRow] = []
    for (ref, nid), p in result.placements.items():
        o = offerings[p.offering]
        g = gemeenten.get(o.location_gemeente)
        rows.append(
            NeedRow(
                child_ref=ref,
                need_id=nid,
                care_type_label=care_type_label(p.care_type),
                placed=True,
                offering=p.offering,
                option=option_of.get((ref, nid)),
                provider=names.get(p.provider, p.provider),
                location=g.name if g else o.location_gemeente,
                start=p.start,
                deadline=p.deadline,
                within_norm=p.within_norm,
                via_main_contractor=names.get(p.via_main_contractor, p.via_main_contractor)
                if p.via_main_contractor
                else None,
                pinned=(ref, nid) in pins,
                forbidden=forbids.get((ref, nid), []),
            )
        )

    def offering_name(offering_id: str | None) -> str:
        o = offerings.get(offering_id or "")
        if o is None:
            return offering_id or ""
        g = gemeenten.get(o.location_gemeente)
        return f"{names.get(o.provider, o.provider)} ({g.name if g else o.location_gemeente})"

    by_need = {(n.child_ref, n.need_id): n for n in explanation.needs}
    for ref, nid in result.unplaced:
        ne = by_need.get((ref, nid))
        need = scenario.child_by_ref[ref].need(nid)
        change = ne.smallest_change if ne else None
        rows.append(
            NeedRow(
                child_ref=ref,
                need_id=nid,
                care_type_label=care_type_label(need.care_type.value),
                placed=False,
                forbidden=forbids.get((ref, nid), []),
                summary=ne.summary if ne else "",
                sentences=sentences(ne, offering_name) if ne else [],
                smallest_change=(
                    f"Kleinste verandering gevonden bij {offering_name(change.placed_at)}"
                    if change
                    else None
                ),
            )
        )
    rows.sort(key=lambda r: (r.placed, r.child_ref, r.need_id))
    s = result.summary()
    return RunOutcome(
        summary=RunSummary(
            needs=s["needs"],
            placed=s["placed"],
            within_norm=s["within_norm"],
            unplaced=s["unplaced"],
            solver_status=str(s["solver_status"]),
            wall_time_s=float(s["wall_time_s"]),
            strategy=str(s["strategy"]),
        ),
        rows=rows,
    )


def rerun_params(
    parent_id: str,
    params: RunParams,
    outcome: RunOutcome,
    pin_keys: Sequence[str],
    forbid_keys: Sequence[str],
) -> tuple[RunParams, str]:
    """Use case "run again": the parent run's choices plus new pins and forbids, given
    as "child|need" keys of placed rows; keys of rows that are not placed are ignored.
    Returns the new run's request and its label."""
    rows = {f"{r.child_ref}|{r.need_id}": r for r in outcome.rows}
    pins = list(params.pins)
    forbids = list(params.forbids)
    for key in pin_keys:
        row = rows.get(key)
        if row and row.placed and row.offering and row.option:
            pins.append(
                Choice(
                    child_ref=row.child_ref,
                    need_id=row.need_id,
                    offering=row.offering,
                    option=row.option,
                )
            )
    for key in forbid_keys:
        row = rows.get(key)
        if row and row.placed and row.offering:
            forbids.append(
                Choice(child_ref=row.child_ref, need_id=row.need_id, offering=row.offering)
            )
    new = RunParams(refs=params.refs, pins=pins, forbids=forbids, parent=parent_id)
    return new, f"Opnieuw: {len(pins)} vastgezet, {len(forbids)} uitgesloten"
