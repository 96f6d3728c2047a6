"""Use case: an inkoop what-if scenario, a matching on the case rows returned as
aggregates only.

Inkoop may never see a child's row, yet a scenario ("5 more places", "lift
this ceiling", "this gemeente leaves the joint purchase") needs the matching
on the region's waiting children.  The region is read with system rights by the
data layer (`providers.store.regional.load_region`, audited); this use case
matches the baseline and the scenario (warm-started) and hands back only counts:

- placed within the norm per gemeente and per care type (baseline, scenario,
  difference);
- the bottlenecks: children blocked per reason and per care type.

Every cell under `SMALL_CELL` children is suppressed.  So that a total minus
the shown cells cannot give a suppressed cell back, rows are suppressed
together (both columns of a row, and the difference) and more rows are
suppressed until the hidden rows are at least two and hide at least
`2 * SMALL_CELL` children per column (see `protect`).
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from matcher.domain import (
    AddContract,
    AddOffering,
    AddPlaces,
    CareType,
    ChangeCeiling,
    Contract,
    Delta,
    Expertise,
    GemeenteLeaves,
    MatchResult,
    Offering,
    Reason,
    Scenario,
    explain,
    match,
    what_if,
)
from matcher.domain.caretypes import care_type_label
from matcher.domain.reasons import Group, PairWarning, euro_text, group_of
from matcher.forecast import ForecastInputError, QueueEntry, simulate_starts
from matcher.forecast import with_new_referral as refer
from matcher.forecast.domain import state_from_offering
from matcher.forecast.simulate import summarise_entry
from providers import reference
from providers.store.access import Principal
from providers.store.aggregates import protect, small_cell
from providers.store.regional import RegionOptions as RegionOptions
from providers.store.regional import load_region, region_of, region_options
from providers.store.regional import region_codes as region_codes
from services.errors import InvalidRequest
from services.matching import FloorSummary, with_floor
from services.outcomes import GroupOutcomes, group_outcomes, hide_small_cells

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

Progress = Callable[[str, int], None]

# The reason groups inkoop sees, in the catalogue's order (DOMAIN 6c question 3); a
# tafel's exclusion and the "let op" notes never block a child in a scenario.
REASON_GROUPS: tuple[Group, ...] = tuple(
    g for g in Group if g not in (Group.EXCLUDED_BY_TABLE, Group.ATTENTION)
)


@dataclass(frozen=True)
class ExtraPlaces:
    """`places` more places free now for `care_type` in `region`.  When nothing of
    that care type is purchased in the region yet, the places are a new purchase,
    at `price_cents` per traject (required then: there is no price to go by)."""

    care_type: str
    region: str
    places: int
    price_cents: int | None = None


@dataclass(frozen=True)
class CeilingLift:
    budget: str
    amount_cents: int


@dataclass(frozen=True)
class ScenarioRequest:
    extra_places: tuple[ExtraPlaces, ...] = ()
    ceiling_lifts: tuple[CeilingLift, ...] = ()
    gemeenten_leave: tuple[str, ...] = ()
    # a group floor on the scenario's matching (services.matching.with_floor)
    floor_dimension: str | None = None
    floor_percent: int | None = None

    @property
    def empty(self) -> bool:
        changes = self.extra_places or self.ceiling_lifts or self.gemeenten_leave
        return not (changes or self.floor_dimension)


@dataclass(frozen=True)
class AggRow:
    """One row of an aggregate table; None means suppressed (or derived from a
    suppressed cell)."""

    key: str
    baseline: int | None
    scenario: int | None

    @property
    def difference(self) -> int | None:
        if self.baseline is None or self.scenario is None:
            return None
        return self.scenario - self.baseline


@dataclass(frozen=True)
class AggTable:
    """Rows of a partition with the column totals (`total`)."""

    by: str  # reden
    rows: tuple[AggRow, ...]
    total: AggRow
    suppressed_rows: int


@dataclass(frozen=True)
class GroupRow:
    """Needs of one gemeente or care type: placed within the norm and blocked, before and
    after.  A hidden row hides all four cells."""

    key: str
    within: AggRow
    blocked: AggRow

    @property
    def hidden(self) -> bool:
        return self.within.baseline is None


@dataclass(frozen=True)
class GroupTable:
    by: str  # gemeente, zorgvorm
    rows: tuple[GroupRow, ...]
    within: AggRow  # column totals
    blocked: AggRow
    suppressed_rows: int


@dataclass(frozen=True)
class ForecastRow:
    """Days until help starts for a child referred today (simulated, matcher.forecast):
    median and 80 % interval at the offering of this care type with the earliest
    median, now and in the scenario.  No child is in it: the queue is the offering's
    own release schedule and places."""

    care_type: str
    baseline: tuple[float, float, float] | None  # (low, median, high) days
    scenario: tuple[float, float, float] | None


@dataclass(frozen=True)
class ScenarioOutcome:
    region: str
    evaluation_date: dt.date
    needs: int | None  # waiting needs in the region (hidden with a hidden total)
    within_norm: AggRow
    blocked: AggRow  # not placed within the norm: placed late or not placed
    by_gemeente: GroupTable
    by_care_type: GroupTable
    blocked_by_reason: AggTable
    applied: tuple[str, ...] = field(default_factory=tuple)  # B1 description of each change
    forecast: tuple[ForecastRow, ...] = ()
    # of `blocked`: placed, but help starts after the legal deadline (an overdue child
    # placed as soon as possible is late, never within the norm)
    placed_late: AggRow = AggRow("totaal", None, None)
    # the scenario's outcomes per group next to first come, first served, small cells
    # hidden
    groups: GroupOutcomes = field(default_factory=GroupOutcomes)
    # what the group floor did, with small counts left out of its sentence
    floor: FloorSummary | None = None
    # needs not classified yet: counted, never matched (the same before and after), so
    # within + blocked + unclassified = needs
    unclassified: int | None = 0


# ------------------------------------------------------------------ suppression


def hide_small_floor(f: FloorSummary) -> FloorSummary:
    """The floor's sentence without its counts when one of them is small: inkoop
    sees no count of 1 to 4 children, nor a difference that gives one away."""
    counts = (f.within_without, f.within_with, f.cost)
    if not any(n is not None and small_cell(abs(n)) for n in counts):
        return f
    if not f.met:
        return f.model_copy(update={"within_without": None})
    text = (
        f"Met ondergrens: bij {f.dimension_label.lower()} krijgt elke groep minstens "
        f"{f.percent}% van de kinderen hulp binnen de norm. Wat dat kost, tonen we niet: "
        "het gaat om minder dan 5 kinderen."
    )
    hidden = {"within_without": None, "within_with": None, "cost": None, "text": text}
    return f.model_copy(update=hidden)


def _shown(n: int, hide: bool = False) -> int | None:
    return None if hide or small_cell(n) else n


def _group_table(
    by: str,
    keys: Sequence[str],
    within: tuple[Counter[str], Counter[str]],
    blocked: tuple[Counter[str], Counter[str]],
    totals: tuple[AggRow, AggRow],
) -> GroupTable:
    (wb, ws), (bb, bs) = within, blocked
    cells = {k: (wb[k], ws[k], bb[k], bs[k]) for k in keys}
    margin_hidden = any(v is None for t in totals for v in (t.baseline, t.scenario))
    hidden = protect(cells, margin_hidden=margin_hidden)
    none = AggRow("", None, None)
    rows = tuple(
        GroupRow(k, none, none)
        if k in hidden
        else GroupRow(k, AggRow(k, wb[k], ws[k]), AggRow(k, bb[k], bs[k]))
        for k in keys
    )
    return GroupTable(by, rows, totals[0], totals[1], len(hidden))


def _reason_table(blocked: tuple[Counter[str], Counter[str]], total: AggRow) -> AggTable:
    bb, bs = blocked
    keys = [g.value for g in REASON_GROUPS]
    cells = {k: (bb[k], bs[k]) for k in keys}
    hidden = protect(cells, margin_hidden=total.baseline is None or total.scenario is None)
    rows = tuple(AggRow(k, None, None) if k in hidden else AggRow(k, bb[k], bs[k]) for k in keys)
    return AggTable("reden", rows, total, len(hidden))


# ------------------------------------------------------------------ the matching


def scenario_options(
    session: Session, user: Principal, *, today: dt.date, region: str | None = None
) -> RegionOptions:
    """What the scenario form may offer (the region's supply, no case data)."""
    return region_options(session, user, today=today, region=region)


def region_name(code: str) -> str:
    r = reference.jeugdregios().get(code)
    return r.name if r else code


def gemeente_name(code: str) -> str:
    g = reference.gemeenten().get(code)
    return g.name if g else code


def deltas_for(sc: Scenario, req: ScenarioRequest) -> tuple[list[Delta], list[str]]:
    """The domain deltas of a request, and a B1 line per change.

    Extra places for a care type and region go to the offerings of that care type
    in that region that are purchased and take new children (no intake stop), one
    place at a time in turn, so no single provider gets them all.
    """
    issues: dict[str, str] = {}
    deltas: list[Delta] = []
    lines: list[str] = []
    for i, ep in enumerate(req.extra_places):
        if ep.places <= 0:
            continue
        try:
            ct = CareType(ep.care_type)
        except ValueError:
            issues[f"plekken_{i}"] = "Deze hulpvorm kennen we niet."
            continue
        contracted = {c.provider for c in sc.contracts if c.care_type is ct}
        targets = sorted(
            o.id
            for o in sc.offerings
            if o.care_type is ct
            and o.region == ep.region
            and not o.intake_stop
            and o.provider in contracted
        )
        if not targets:
            if any(o.care_type is ct and o.region == ep.region for o in sc.offerings):
                # purchased offerings exist but all have an intake stop: a new purchase
                # next to them is not what "extra places" means
                issues[f"plekken_{i}"] = (
                    f"Al het ingekochte aanbod voor {care_type_label(ct)} in regio "
                    f"{region_name(ep.region)} heeft een opnamestop. Kies een andere hulpvorm."
                )
                continue
            if ep.region not in {r.code for r in sc.regions}:
                issues[f"plekken_{i}"] = "Deze regio kennen we niet. Kies een regio uit de lijst."
                continue
            if ep.price_cents is None or ep.price_cents <= 0:
                issues[f"prijs_{i}"] = (
                    f"{care_type_label(ct, capital=True)} is in regio {region_name(ep.region)} "
                    "nog niet ingekocht. Vul de prijs per traject in, dan rekenen we met "
                    "nieuw aanbod."
                )
                continue
            new, contract = new_purchase(sc, ct, ep.region, ep.places, ep.price_cents, i)
            deltas.extend((AddOffering(new), AddContract(contract)))
            extra = "1 plek" if ep.places == 1 else f"{ep.places} plekken"
            price = f"{ep.price_cents // 100:,}".replace(",", ".")
            lines.append(
                f"nieuw ingekocht: {extra} {care_type_label(ct)} in regio "
                f"{region_name(ep.region)}, € {price} per traject "
                "(we rekenen met aanbod voor alle leeftijden, met alle expertise en zonder "
                "contra-indicaties: het beste geval)"
            )
            continue
        per: Counter[str] = Counter()
        for k in range(ep.places):
            per[targets[k % len(targets)]] += 1
        deltas.extend(AddPlaces(oid, n) for oid, n in sorted(per.items()))
        extra = "1 extra plek" if ep.places == 1 else f"{ep.places} extra plekken"
        lines.append(f"{extra} {care_type_label(ct)} in regio {region_name(ep.region)}")
    budget_by_id = {b.id: b for b in sc.budgets}
    for i, cl in enumerate(req.ceiling_lifts):
        if cl.amount_cents <= 0:
            continue
        if cl.budget not in budget_by_id:
            issues[f"plafond_{i}"] = "Dit budget bestaat niet in uw regio."
            continue
        deltas.append(ChangeCeiling(cl.budget, cl.amount_cents))
        lines.append(f"{budget_by_id[cl.budget].display_name} {euro_text(cl.amount_cents)} hoger")
    # the joint purchase is that of the region whose children are in the scenario
    own = {c.region for c in sc.children}
    members = {g for r in sc.regions if r.code in own for g in r.gemeenten}
    for g in req.gemeenten_leave:
        if g not in members:
            issues["gemeenten"] = "Deze gemeente doet niet mee aan de inkoop van uw regio."
            continue
        deltas.append(GemeenteLeaves(g))
        lines.append(f"gemeente {gemeente_name(g)} stapt uit de gezamenlijke inkoop")
    if issues:
        raise InvalidRequest(issues)
    return deltas, lines


NEW_PROVIDER = "NIEUW"
NEW_PROVIDER_NAME = "Nieuw in te kopen aanbod"


def new_purchase(
    sc: Scenario, ct: CareType, region: str, places: int, price_cents: int, row: int
) -> tuple[Offering, Contract]:
    """An offering of a care type the region has not purchased, and its contract.

    Nothing is known about a provider that is not purchased yet, so the offering is
    the best case (every age, every expertise, no contra-indications); the scenario
    then shows the most that buying this care type could change.  It stands in the
    region's first gemeente, so distance preferences treat it as nearby."""
    gemeenten = [g for r in sc.regions if r.code == region for g in r.gemeenten]
    oid = f"{NEW_PROVIDER}-{ct.name}-{region}-{row}"
    offering = Offering(
        id=oid,
        provider=NEW_PROVIDER,
        care_type=ct,
        region=region,
        free_now=places,
        location_gemeente=gemeenten[0] if gemeenten else "",
        age_min=0,
        age_max=23,
        expertise=frozenset(Expertise),
        price_cents=price_cents,
        provider_name=NEW_PROVIDER_NAME,
    )
    contract = Contract(id=f"C-{oid}", provider=NEW_PROVIDER, care_type=ct, buyer=region)
    return offering, contract


def _within(r: MatchResult) -> tuple[Counter[str], Counter[str]]:
    kids = r.scenario.child_by_ref
    g: Counter[str] = Counter()
    ct: Counter[str] = Counter()
    for (ref, nid), p in r.placements.items():
        if p.within_norm:
            g[kids[ref].gemeente] += 1
            ct[kids[ref].need(nid).care_type.value] += 1
    return g, ct


def _blocked(r: MatchResult) -> tuple[Counter[str], Counter[str]]:
    """Needs not placed within the norm, per reason group and per care type.

    A need counts once (a partition, so a stacked chart adds up): placed late under
    "te laat", a family that cannot be placed together under its own reason, every
    other unplaced need under the group of its decisive reason
    (`matcher.domain.decisive`: the reason that stands between the child and help, so a
    child blocked by a ceiling at its best candidate is not "meerdere" because a second
    candidate is also full)."""
    by_reason: Counter[str] = Counter()
    by_ct: Counter[str] = Counter()
    kids = r.scenario.child_by_ref
    for (ref, nid), p in r.placements.items():
        if not p.within_norm:  # placed, but help starts after the deadline
            by_reason[group_of(PairWarning.LATE).value] += 1
            by_ct[kids[ref].need(nid).care_type.value] += 1
    for ne in explain(r, search=False).needs:
        if ne.summary == Reason.FAMILY_BUNDLE_INFEASIBLE.value:
            group = group_of(Reason.FAMILY_BUNDLE_INFEASIBLE)
        elif ne.decisive is not None:
            group = ne.decisive.group
        else:
            group = Group.NO_OFFER
        # a what-if has no tafel choices, and a "let op" note never blocks
        by_reason[(group if group in REASON_GROUPS else Group.OTHER).value] += 1
        by_ct[ne.care_type] += 1
    return by_reason, by_ct


FORECAST_RUNS = 200
FORECAST_SEED = 1


def _earliest_start(sc: Scenario, region: str) -> dict[str, tuple[float, float, float]]:
    """Per care type: (low, median, high) days to the start of a new, regular referral at
    the purchased offering in `region` with the earliest median (seeded per offering)."""
    contracted = {(c.provider, c.care_type) for c in sc.contracts}
    best: dict[str, tuple[float, float, float]] = {}
    for o in sc.offerings:
        if o.intake_stop or o.region != region or (o.provider, o.care_type) not in contracted:
            continue
        try:
            state = refer(
                state_from_offering(o, as_of=sc.evaluation_date),
                QueueEntry(ref="nieuw", urgent=False, deadline=None),
            )
            seed = (FORECAST_SEED * 1_000_003 + zlib.crc32(o.id.encode())) % (2**63)
            starts = simulate_starts(state, runs=FORECAST_RUNS, seed=seed)
        except ForecastInputError:
            continue
        f = summarise_entry(state, starts, len(state.queue) - 1, seed=seed, runs=FORECAST_RUNS)
        if f.median_days is None or f.low_days is None or f.high_days is None:
            continue
        got = (f.low_days, f.median_days, f.high_days)
        ct = o.care_type.value
        if ct not in best or got[1] < best[ct][1]:
            best[ct] = got
    return best


def run_scenario(
    session: Session,
    user: Principal,
    req: ScenarioRequest,
    *,
    today: dt.date,
    region: str | None = None,
    progress: Progress | None = None,
) -> ScenarioOutcome:
    """Baseline and scenario for the user's region, as suppressed aggregates only."""
    step = progress or (lambda _s, _p: None)
    step("Gegevens van de regio lezen", 5)
    code = region_of(session, user, region)
    sc = load_region(session, user, today=today, region=code)
    deltas, lines = deltas_for(sc, req)
    step("De huidige situatie berekenen", 15)
    base = match(sc)
    step("Het scenario berekenen", 45)
    wi = what_if(sc, deltas, base=base)
    step("Knelpunten zoeken", 70)
    gb, cb = _within(base)
    result = wi.result
    floor = None
    if req.floor_dimension and req.floor_percent is not None:
        step("Rekenen met de ondergrens per groep", 60)
        result, floor = with_floor(result, req.floor_dimension, req.floor_percent)
        floor = hide_small_floor(floor)
        lines.append(
            f"Ondergrens: bij {floor.dimension_label.lower()} krijgt elke groep minstens "
            f"{floor.percent}% van de kinderen hulp binnen de norm"
        )
    gs, cs = _within(result)
    rb, bcb = _blocked(base)
    rs, bcs = _blocked(result)
    step("Wachttijden voorspellen", 85)
    fb = _earliest_start(sc, code)
    fs = _earliest_start(result.scenario, code)
    forecast = tuple(ForecastRow(ct, fb.get(ct), fs.get(ct)) for ct in sorted(set(fb) | set(fs)))
    step("Totalen maken", 95)
    gemeenten = sorted({c.gemeente for c in sc.children})
    care = sorted({n.care_type.value for c in sc.children for n in c.needs})
    n_needs = sum(len(c.needs) for c in sc.children)
    n_unclassified = sum(len(c.unclassified_needs) for c in sc.children)
    # needs = within + blocked in each column: when one of the two is small, hiding it
    # alone would not help, so both go, and the number of needs with them.
    wt = (base.n_within_norm, result.n_within_norm)
    bt = (n_needs - wt[0], n_needs - wt[1])
    hide = tuple(small_cell(w) or small_cell(b) for w, b in zip(wt, bt, strict=True))
    # all needs = classified + unclassified: a hidden unclassified count hides the total
    hide_unclassified = small_cell(n_unclassified)
    within = AggRow("totaal", _shown(wt[0], hide[0]), _shown(wt[1], hide[1]))
    blocked = AggRow("totaal", _shown(bt[0], hide[0]), _shown(bt[1], hide[1]))
    late = tuple(len(r.placements) - r.n_within_norm for r in (base, result))
    late_shown = tuple(
        None if h or small_cell(n) or small_cell(b - n) else n
        for h, n, b in zip(hide, late, bt, strict=True)
    )
    # per gemeente: needs minus within the norm (a need is placed within the norm or not)
    need_g: Counter[str] = Counter(c.gemeente for c in sc.children for _ in c.needs)
    bgb = Counter({k: need_g[k] - gb[k] for k in need_g})
    bgs = Counter({k: need_g[k] - gs[k] for k in need_g})
    return ScenarioOutcome(
        region=code,
        evaluation_date=today,
        needs=_shown(n_needs + n_unclassified, any(hide) or hide_unclassified),
        within_norm=within,
        blocked=blocked,
        by_gemeente=_group_table("gemeente", gemeenten, (gb, gs), (bgb, bgs), (within, blocked)),
        by_care_type=_group_table("zorgvorm", care, (cb, cs), (bcb, bcs), (within, blocked)),
        blocked_by_reason=_reason_table((rb, rs), blocked),
        applied=tuple(lines),
        forecast=forecast,
        placed_late=AggRow("totaal", late_shown[0], late_shown[1]),
        groups=hide_small_cells(group_outcomes(result)),
        floor=floor,
        unclassified=_shown(n_unclassified, hide_unclassified),
    )
