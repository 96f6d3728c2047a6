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

from matcher.domain import Forbid, Pin, Scenario
from matcher.domain.caretypes import UNCLASSIFIED_CODE, care_type_label
from matcher.domain.clocks import deadline_norm3, start_verdict
from matcher.domain.eligibility import ScenarioIndex, candidates, check_pair
from matcher.domain.explain import SearchLimits, change_text, explain, sentences
from matcher.domain.floor import FLOOR_DIMENSIONS, FloorRun, match_with_floor
from matcher.domain.match import MatchResult, match
from matcher.domain.outcomes import Dimension
from matcher.domain.reasons import summary_text
from matcher.domain.whatif import apply_all
from providers import reference
from providers.convert import scenario_from_db
from providers.store import access
from providers.store.access import Principal
from services.norm import status_text, verdict_text
from services.outcomes import GroupOutcomes, group_outcomes

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

Progress = Callable[[str, int], None]
# the dimensions a tafel may put a floor on: (code, label)
FLOOR_CHOICES = tuple((d.value, d.label) for d in FLOOR_DIMENSIONS)
EXPLAIN_BUDGET_S = 2.5
UNCLASSIFIED_SENTENCE = (
    "De hulpvraag is nog niet bepaald. Het kind telt mee, maar krijgt pas een plek "
    "als de hulpvraag bepaald is."
)


class Choice(BaseModel):
    """A pin (place this need at this offering) or a forbid (never at this offering).

    It becomes the domain's `Pin` or `Forbid`; the matcher turns it into what the
    solver needs, so nothing here knows the solver's options."""

    child_ref: str
    need_id: str
    offering: str


class RunParams(BaseModel):
    """The request: which children, the pins and forbids of earlier runs, and an
    optional group floor (no group of `floor_dimension` below `floor_percent`
    percent of its children within the norm)."""

    refs: list[str]
    pins: list[Choice] = Field(default_factory=list)
    forbids: list[Choice] = Field(default_factory=list)
    parent: str | None = None
    floor_dimension: str | None = None
    floor_percent: int | None = Field(default=None, ge=0, le=100)


class FloorSummary(BaseModel):
    """What the group floor did: met or not, and its price in children placed within
    the norm overall (without minus with the floor)."""

    dimension: str
    dimension_label: str
    percent: int
    met: bool
    within_without: int | None
    within_with: int | None
    cost: int | None
    text: str


class OfferChoice(BaseModel):
    """An offering an unplaced need may be pinned to (eligible, though the solver
    did not choose it)."""

    offering: str
    name: str = Field(description="provider (place)")
    earliest_start: dt.date | None = None
    in_time: bool = False


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
    days_late: int = 0
    norm: str = Field(default="", description="the norm verdict in words, with the days late")
    via_main_contractor: str | None = None
    pinned: bool = False
    forbidden: list[str] = Field(default_factory=list, description="offering ids")
    forbidden_names: list[str] = Field(default_factory=list, description="provider (place)")
    summary: str = Field(default="", description="the explanation's summary code")
    summary_text: str = Field(default="", description="the summary in words")
    sentences: list[str] = Field(default_factory=list)
    smallest_change: str | None = None
    unclassified: bool = Field(
        default=False, description="the need is not classified yet: counted, never matched"
    )
    eligible: list[OfferChoice] = Field(
        default_factory=list, description="unplaced: the offerings the table may pin it to"
    )


class RunSummary(BaseModel):
    count_date: dt.date = Field(description="the peildatum: the day the run counts from")
    needs: int
    placed: int
    within_norm: int
    placed_late: int = Field(description="placed, but help starts after the legal deadline")
    unplaced: int
    unclassified: int = Field(0, description="needs not classified yet: never matched")
    children: int = Field(0, description="all chosen children")
    children_placed: int = Field(0, description="children with a place for every need")
    children_unplaced: int = Field(0, description="children with a need without a place")
    children_unclassified: int = Field(
        0, description="children whose other needs are placed but one is not classified yet"
    )
    children_not_waiting: int = Field(0, description="children whose help already started")
    solver_status: str
    solver_status_text: str
    wall_time_s: float
    strategy: str


class RunOutcome(BaseModel):
    """The result: totals and one row per need (placed first by child, then unplaced)."""

    summary: RunSummary
    rows: list[NeedRow]
    groups: GroupOutcomes = Field(default_factory=GroupOutcomes)
    floor: FloorSummary | None = None


def select_children(scenario: Scenario, refs: Sequence[str]) -> Scenario:
    """The scenario with only the chosen children (and the bundles all of whose members
    are chosen)."""
    keep = set(refs)
    return dataclasses.replace(
        scenario,
        children=tuple(c for c in scenario.children if c.ref in keep),
        bundles=tuple(b for b in scenario.bundles if all(r in keep for r, _ in b.members)),
    )


def with_choices(scenario: Scenario, pins: Sequence[Choice], forbids: Sequence[Choice]) -> Scenario:
    """The scenario with the run's pins and forbids as the domain's `Pin` and `Forbid`.

    Choices whose child, need or offering is no longer in the scenario are left out
    (a run again after the data changed)."""
    needs = {(c.ref, n.id) for c in scenario.children for n in c.needs}
    offerings = scenario.offering_by_id

    def known(c: Choice) -> bool:
        return (c.child_ref, c.need_id) in needs and c.offering in offerings

    deltas: list[Pin | Forbid] = [Pin(c.child_ref, c.need_id, c.offering) for c in pins if known(c)]
    deltas += [Forbid(c.child_ref, c.need_id, c.offering) for c in forbids if known(c)]
    return apply_all(scenario, deltas)


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
    scenario = with_choices(scenario, params.pins, params.forbids)
    result = match(scenario)
    floor = floor_run = None
    if params.floor_dimension and params.floor_percent is not None:
        progress("Rekenen met de ondergrens per groep", 50)
        plain = result
        result, floor = with_floor(result, params.floor_dimension, params.floor_percent)
        if floor.met:  # what would help must then work with the floor as well
            floor_run = FloorRun(Dimension(floor.dimension), floor.percent / 100, plain)
    compiled = result.compiled
    progress("Uitleg zoeken voor kinderen zonder plek", 65)
    # the rows show only the smallest change, so each child's search stops there
    explanation = explain(
        result,
        time_budget_s=explain_budget_s,
        floor=floor_run,
        limits=SearchLimits(stop_at_smallest=True),
    )
    progress("Uitkomst klaarzetten", 95)

    offerings = scenario.offering_by_id
    gemeenten = reference.gemeenten()
    option_of = {
        (ref, nid): opt
        for item, opt in result.solution.assignments.items()
        for ref, nid in compiled.item_members[item]
    }

    budget_names = {b.id: b.display_name for b in scenario.budgets}

    def budget_name(budget_id: str) -> str:
        return budget_names.get(budget_id, budget_id)

    def offering_name(offering_id: str | None) -> str:
        o = offerings.get(offering_id or "")
        if o is None:
            # a sentence may name a ceiling where it names an offering
            return budget_name(offering_id or "")
        g = gemeenten.get(o.location_gemeente)
        return f"{names.get(o.provider, o.provider)} ({g.name if g else o.location_gemeente})"

    pins = {(p.child_ref, p.need_id) for p in params.pins}
    forbids: dict[tuple[str, str], list[str]] = {}
    for f in params.forbids:
        forbids.setdefault((f.child_ref, f.need_id), []).append(f.offering)
    rows: list[NeedRow] = []
    for (ref, nid), p in result.placements.items():
        o = offerings[p.offering]
        g = gemeenten.get(o.location_gemeente)
        verdict = start_verdict(p.deadline, p.start, today)
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
                days_late=p.days_late,
                norm=verdict_text(verdict),
                via_main_contractor=names.get(p.via_main_contractor, p.via_main_contractor)
                if p.via_main_contractor
                else None,
                pinned=(ref, nid) in pins,
                forbidden=forbids.get((ref, nid), []),
                forbidden_names=[offering_name(x) for x in forbids.get((ref, nid), [])],
            )
        )

    by_need = {(n.child_ref, n.need_id): n for n in explanation.needs}
    index = ScenarioIndex(scenario)
    for ref, nid in result.unplaced:
        ne = by_need.get((ref, nid))
        need = scenario.child_by_ref[ref].need(nid)
        change = ne.smallest_change if ne else None
        deadline = deadline_norm3(scenario.child_by_ref[ref])
        waiting = start_verdict(deadline, None, today)
        rows.append(
            NeedRow(
                child_ref=ref,
                need_id=nid,
                care_type_label=care_type_label(need.care_type.value),
                placed=False,
                deadline=deadline,
                days_late=waiting.days_late,
                norm=verdict_text(waiting),
                forbidden=forbids.get((ref, nid), []),
                forbidden_names=[offering_name(x) for x in forbids.get((ref, nid), [])],
                summary=ne.summary if ne else "",
                summary_text=summary_text(ne.summary) if ne else "",
                sentences=sentences(ne, offering_name) if ne else [],
                smallest_change=change_text(change, offering_name, budget_name) if change else None,
                eligible=eligible_offers(scenario, index, ref, nid, deadline, offering_name),
            )
        )
    for ref, nid in result.unclassified:
        rows.append(
            NeedRow(
                child_ref=ref,
                need_id=nid,
                care_type_label=care_type_label(UNCLASSIFIED_CODE, capital=True),
                placed=False,
                unclassified=True,
                sentences=[UNCLASSIFIED_SENTENCE],
            )
        )
    rows.sort(key=lambda r: (r.placed, r.unclassified, r.child_ref, r.need_id))
    s = result.summary()
    kids = result.child_counts()
    return RunOutcome(
        summary=RunSummary(
            count_date=result.count_date,
            needs=s["needs"],
            placed=s["placed"],
            within_norm=s["within_norm"],
            placed_late=s["placed"] - s["within_norm"],
            unplaced=s["unplaced"],
            unclassified=s["unclassified"],
            children=kids.total,
            children_placed=kids.placed,
            children_unplaced=kids.unplaced,
            children_unclassified=kids.unclassified,
            children_not_waiting=kids.not_waiting,
            solver_status=str(s["solver_status"]),
            solver_status_text=status_text(str(s["solver_status"])),
            wall_time_s=float(s["wall_time_s"]),
            strategy=str(s["strategy"]),
        ),
        rows=rows,
        groups=group_outcomes(result),
        floor=floor,
    )


MAX_OFFERS = 20


def eligible_offers(
    scenario: Scenario,
    index: ScenarioIndex,
    ref: str,
    need_id: str,
    deadline: dt.date | None,
    name: Callable[[str | None], str],
) -> list[OfferChoice]:
    """The offerings an unplaced need could be pinned to, earliest start first.  The
    table's forbids are in the scenario already, so a forbidden offering is not here."""
    child = scenario.child_by_ref[ref]
    need = child.need(need_id)
    out = []
    for o in candidates(scenario, need, index):
        check = check_pair(scenario, child, need, o, index, full=False)
        if not check.eligible:
            continue
        start = check.earliest_start
        out.append(
            OfferChoice(
                offering=o.id,
                name=name(o.id),
                earliest_start=start,
                in_time=bool(start and deadline and start <= deadline),
            )
        )
    out.sort(key=lambda c: (c.earliest_start or dt.date.max, c.name))
    return out[:MAX_OFFERS]


def _children(n: int) -> str:
    return f"{n} kind" if n == 1 else f"{n} kinderen"


def with_floor(
    result: MatchResult, dimension: str, percent: int
) -> tuple[MatchResult, FloorSummary]:
    """The matching with the group floor when it can be met, else the plain one; and
    what the floor did, in words."""
    dim = Dimension(dimension)
    got = match_with_floor(result, dim, percent / 100)
    label = dim.label.lower()
    if got.result is None or got.cost is None or got.floor_within is None:
        text = (
            f"Een ondergrens van {percent}% per groep ({label}) is niet haalbaar met de "
            "plekken en budgetten van nu. Hieronder staat de matching zonder ondergrens."
        )
        return result, FloorSummary(
            dimension=dim.value,
            dimension_label=dim.label,
            percent=percent,
            met=False,
            within_without=got.base_within,
            within_with=None,
            cost=None,
            text=text,
        )
    cost = (
        "Dat kost niets"
        if got.cost == 0
        else f"Dat kost {_children(got.cost)} binnen de norm"
        if got.cost > 0
        else f"Dat geeft {_children(-got.cost)} meer binnen de norm"
    )
    text = (
        f"Met ondergrens: bij {label} krijgt elke groep minstens {percent}% van de "
        f"kinderen hulp binnen de norm. {cost}: {_children(got.floor_within)} binnen de "
        f"norm, zonder ondergrens {_children(got.base_within)}."
    )
    return got.result, FloorSummary(
        dimension=dim.value,
        dimension_label=dim.label,
        percent=percent,
        met=True,
        within_without=got.base_within,
        within_with=got.floor_within,
        cost=got.cost,
        text=text,
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
        if row and row.placed and row.offering:
            pins.append(Choice(child_ref=row.child_ref, need_id=row.need_id, offering=row.offering))
    for key in forbid_keys:
        row = rows.get(key)
        if row and row.placed and row.offering:
            forbids.append(
                Choice(child_ref=row.child_ref, need_id=row.need_id, offering=row.offering)
            )
    new = RunParams(
        refs=params.refs,
        pins=pins,
        forbids=forbids,
        parent=parent_id,
        floor_dimension=params.floor_dimension,
        floor_percent=params.floor_percent,
    )
    return new, f"Opnieuw: {len(pins)} vastgezet, {len(forbids)} uitgesloten"
