"""Eligibility of a child's need at an offering: eligible, or the typed reasons why not.

One function per rule; its docstring says whether the rule is Hard (the pair never
becomes an arc) or Soft (a warning or a term of the objective).  `check_pair` runs the
hard rules in a fixed order and keeps every failing reason; the first one is the reason
shown per candidate ("one reason per child x provider").  Ineligible pairs are masked
out before compilation: they never become arcs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from matcher.domain.model import (
    CareNeed,
    Child,
    ChildAttribute,
    Expertise,
    Mode,
    Offering,
    Scenario,
)
from matcher.domain.pair_index import CandidateIndex, PairKey, PairTable
from matcher.domain.reasons import PairWarning, Reason
from matcher.domain.scenario_index import ScenarioIndex, Slot, candidates, start_of

__all__ = [
    "Eligibility",
    "PairCheck",
    "PairContext",
    "PairWarning",
    "Reason",
    "ScenarioIndex",
    "Slot",
    "candidates",
    "check_pair",
    "evaluate",
    "evaluate_every_pair",
    "lazy_pairs",
    "start_of",
    "waiting_needs",
]


class PairContext:
    """One (child, need, offering) under evaluation, with lazily cached lookups (a rule
    and the full check read the same facts; each is computed once per pair)."""

    __slots__ = (
        "_blocking",
        "_contra",
        "_purchase",
        "child",
        "index",
        "need",
        "offering",
        "scenario",
        "target",
    )

    def __init__(
        self,
        scenario: Scenario,
        child: Child,
        need: CareNeed,
        offering: Offering,
        target: date,
        index: ScenarioIndex,
    ) -> None:
        self.scenario = scenario
        self.child = child
        self.need = need
        self.offering = offering
        self.target = target  # the objective's target date (clocks.objective_target_date)
        self.index = index
        self._purchase: tuple[Reason | None, str | None, tuple[str, ...]] | None = None
        self._contra: tuple[ChildAttribute, ...] | None = None
        self._blocking: tuple[str | None, tuple[str, ...]] | None = None

    @property
    def purchase(self) -> tuple[Reason | None, str | None, tuple[str, ...]]:
        if self._purchase is None:
            self._purchase = purchase_route(self)
        return self._purchase


class PairCheck(NamedTuple):
    """The outcome for one (child, need, offering).

    A named tuple rather than a frozen dataclass: as immutable, and made about three
    times as fast (a frozen dataclass sets each field through `object.__setattr__`);
    one is made per pair checked, some 115 per search of the wijzer and millions on a
    national list."""

    child_ref: str
    need_id: str
    offering_id: str
    reasons: tuple[Reason, ...]
    warnings: tuple[PairWarning, ...] = ()
    via_main_contractor: str | None = None
    main_contractors_declining: tuple[str, ...] = ()
    contra_indications: tuple[ChildAttribute, ...] = ()
    is_alternative: bool = False
    earliest_start: date | None = None
    blocking_budgets: tuple[str, ...] = ()
    in_region: bool = True

    @property
    def eligible(self) -> bool:
        return not self.reasons

    @property
    def reason(self) -> Reason | None:
        return self.reasons[0] if self.reasons else None


# --------------------------------------------------------------------------- rules
# Each rule returns the failing reason or None.


def rule_care_type(ctx: PairContext) -> Reason | None:
    """Hard: the offering provides the needed care type, or an alternative that family and
    professional accepted as passend (R1; alternatives count only when accepted)."""
    ct = ctx.offering.care_type
    if ct == ctx.need.care_type:
        return None
    if ct in ctx.need.alternatives:
        return None if ctx.need.alternative_accepted else Reason.ALTERNATIVE_NOT_ACCEPTED
    return Reason.NO_PROVIDER_OFFERS_CARE_TYPE


def rule_table_forbid(ctx: PairContext) -> Reason | None:
    """Hard: the tafel excluded this pair (a `Forbid`); it never becomes an arc and is
    explained as excluded, not as full."""
    key = (ctx.child.ref, ctx.need.id, ctx.offering.id)
    return Reason.EXCLUDED_BY_TABLE if key in ctx.index.forbidden else None


def rule_family_preference(ctx: PairContext) -> Reason | None:
    """Hard: a family that prefers to stay on one waiting list is not referred elsewhere
    (R20)."""
    pref = ctx.need.family_prefers_waitlist_at
    if pref is None or pref in (ctx.offering.id, ctx.offering.provider):
        return None
    return Reason.FAMILY_PREFERS_WAITLIST


def contra_indications_hit(ctx: PairContext) -> tuple[ChildAttribute, ...]:
    if ctx._contra is None:
        ctx._contra = _contra_indications_hit(ctx)
    return ctx._contra


def _contra_indications_hit(ctx: PairContext) -> tuple[ChildAttribute, ...]:
    if not ctx.child.attributes:
        return ()  # nothing to hit; the common case of a search without kenmerken
    declared = ctx.offering.contra_indications - ctx.offering.waived_contra_indications
    hits = set(ctx.child.attributes & declared)
    for r in ctx.index.refusals.get((ctx.offering.id, ctx.child.ref), ()):
        if (
            r.contra_indication is not None
            and r.contra_indication in ctx.child.attributes
            and r.contra_indication not in ctx.offering.waived_contra_indications
        ):
            hits.add(r.contra_indication)
    return tuple(sorted(hits, key=lambda a: a.value))


def rule_contra_indication(ctx: PairContext) -> Reason | None:
    """Hard: none of the child's attributes is a contra-indication the offering declared and
    did not waive (R3, R4).  A waiver (maatwerk) is a what-if and flags the placement."""
    return Reason.CONTRA_INDICATION if contra_indications_hit(ctx) else None


def rule_lvb_expertise(ctx: PairContext) -> Reason | None:
    """Hard: a child with LVB needs an offering with LVB expertise (R5; a requirement,
    not an exclusion)."""
    if ChildAttribute.LVB in ctx.child.attributes and Expertise.LVB not in ctx.offering.expertise:
        return Reason.NO_LVB_EXPERTISE
    return None


def rule_stability(ctx: PairContext) -> Reason | None:
    """Hard: treatment that needs a stable situation cannot start while the child's
    situation is unstable (R6)."""
    if ctx.offering.needs_stability and ChildAttribute.UNSTABLE_SITUATION in ctx.child.attributes:
        return Reason.UNSTABLE_SITUATION
    return None


def _ages(ctx: PairContext) -> tuple[int, int]:
    return ctx.index.ages(ctx.child, ctx.offering.duration_weeks)


def rule_age(ctx: PairContext) -> Reason | None:
    """Hard: age at the start and at the planned end lie in the offering's age range (R8)."""
    a0, a1 = _ages(ctx)
    if a0 < ctx.offering.age_min or a1 > ctx.offering.age_max:
        return Reason.AGE_OUT_OF_RANGE
    return None


def purchase_route(ctx: PairContext) -> tuple[Reason | None, str | None, tuple[str, ...]]:
    """(reason, hoofdaannemer used, hoofdaannemers that decline) for R10/R11."""
    return ctx.index.route(ctx.child.gemeente, ctx.offering.care_type, ctx.offering.provider)


def rule_purchased(ctx: PairContext) -> Reason | None:
    """Hard: the care type is purchased from this provider for the child's gemeente
    (woonplaatsbeginsel), directly or through a contracted hoofdaannemer that accepts this
    provider as onderaannemer (R10, R11)."""
    return ctx.purchase[0]


def in_region(ctx: PairContext) -> bool:
    o, c = ctx.offering, ctx.child
    return o.region == c.region or c.gemeente in o.service_area or c.region in o.service_area


def rule_region(ctx: PairContext) -> Reason | None:
    """Hard unless the policy allows out-of-region placements (R9); then Soft: a warning
    and no in-region bonus in the objective.  A current placement is not a new placement
    and may stay where it is."""
    if in_region(ctx) or ctx.scenario.policy.allow_out_of_region or own_place(ctx):
        return None
    return Reason.ONLY_OUT_OF_REGION


def rule_intake_stop(ctx: PairContext) -> Reason | None:
    """Hard: no new children at an offering with an opnamestop (R13); the current
    placement of a child there is not affected."""
    if ctx.offering.intake_stop and ctx.need.current_offering != ctx.offering.id:
        return Reason.INTAKE_STOP
    return None


def rule_provider_refusal(ctx: PairContext) -> Reason | None:
    """Hard in ADVISORY mode only: a refusal without a declared contra-indication is
    respected but recorded as such (R15, R18).  In BINDING mode it is ignored."""
    if ctx.scenario.policy.mode is not Mode.ADVISORY:
        return None
    for r in ctx.index.refusals.get((ctx.offering.id, ctx.child.ref), ()):
        if r.contra_indication is None or r.contra_indication not in ctx.child.attributes:
            return Reason.PROVIDER_DECLINED_WITHOUT_CONTRA_INDICATION
    return None


def blocking_budgets(ctx: PairContext, via: str | None) -> tuple[str, ...]:
    hit = ctx._blocking
    if hit is not None and hit[0] == via:
        return hit[1]
    price = ctx.offering.price_cents
    out: tuple[str, ...] = ()
    if price > 0:
        budgets = ctx.index.budgets_for(ctx.child, ctx.offering, via)
        if budgets:  # most offerings draw on none or one
            out = tuple(b.id for b in budgets if price > b.remaining_cents)
    ctx._blocking = (via, out)
    return out


def rule_budget(ctx: PairContext) -> Reason | None:
    """Hard: the price fits in what is left (ceiling minus spent) of every budget that
    applies (R12).  Competition for the rest of a ceiling is decided by the solver."""
    return Reason.BUDGET_CEILING_REACHED if blocking_budgets(ctx, ctx.purchase[1]) else None


def own_place(ctx: PairContext) -> bool:
    return ctx.need.current_offering == ctx.offering.id


def rule_time(ctx: PairContext) -> Reason | None:
    """Hard unless the policy allows late placements (R14): some place frees up early
    enough for help to start (after the intake lead time) by the child's target date.
    An offering with no place at all in the horizon gives NO_CAPACITY."""
    if own_place(ctx):
        return None
    first = ctx.index.first_start[ctx.offering.id]
    if first is None:
        return Reason.NO_CAPACITY
    if first <= ctx.target:
        return None
    return None if ctx.scenario.policy.allow_late else Reason.WAIT_EXCEEDS_DEADLINE


HARD_RULES: tuple[Callable[[PairContext], Reason | None], ...] = (
    rule_care_type,
    rule_table_forbid,
    rule_family_preference,
    rule_contra_indication,
    rule_lvb_expertise,
    rule_stability,
    rule_age,
    rule_purchased,
    rule_region,
    rule_intake_stop,
    rule_provider_refusal,
    rule_budget,
    rule_time,
)


def check_pair(
    scenario: Scenario,
    child: Child,
    need: CareNeed,
    offering: Offering,
    index: ScenarioIndex | None = None,
    *,
    full: bool = True,
) -> PairCheck:
    """Run the hard rules in order.  `full=False` stops at the first failing rule (enough
    to decide eligibility and the reason shown); `full=True` keeps every failing reason."""
    idx = index or ScenarioIndex(scenario)
    ctx = PairContext(scenario, child, need, offering, idx.target(child), idx)
    reasons: list[Reason] = []
    for rule in HARD_RULES:
        r = rule(ctx)
        if r is not None:
            reasons.append(r)
            if not full or r is Reason.NO_PROVIDER_OFFERS_CARE_TYPE:
                break
    first = idx.first_start[offering.id]
    if own_place(ctx):
        first = scenario.evaluation_date
    if reasons and not full:
        return PairCheck(child.ref, need.id, offering.id, tuple(reasons), earliest_start=first)
    _, via, declining = ctx.purchase
    warnings: list[PairWarning] = []
    if not reasons:
        warnings = list(soft_warnings(ctx, via))
    return PairCheck(
        child_ref=child.ref,
        need_id=need.id,
        offering_id=offering.id,
        reasons=tuple(reasons),
        warnings=tuple(warnings),
        via_main_contractor=via,
        main_contractors_declining=declining,
        contra_indications=contra_indications_hit(ctx),
        is_alternative=offering.care_type != need.care_type,
        earliest_start=first,
        blocking_budgets=blocking_budgets(ctx, via),
        in_region=in_region(ctx) or own_place(ctx),
    )


def soft_warnings(ctx: PairContext, via: str | None) -> Iterable[PairWarning]:
    """Soft: warnings shown with an eligible pair (turning 18, out of region, waiver,
    hoofdaannemer route, late start, ignored refusal, alternative help)."""
    a0, a1 = _ages(ctx)
    if a0 < 18 <= a1:
        yield PairWarning.TURNS_18_DURING_CARE
    if not in_region(ctx):
        yield PairWarning.OUT_OF_REGION
    if ctx.child.attributes & ctx.offering.waived_contra_indications:
        yield PairWarning.DEPENDS_ON_WAIVER
    if via is not None:
        yield PairWarning.VIA_MAIN_CONTRACTOR
    if ctx.offering.care_type != ctx.need.care_type:
        yield PairWarning.ALTERNATIVE
    if ctx.scenario.policy.mode is Mode.BINDING and ctx.index.refusals.get(
        (ctx.offering.id, ctx.child.ref)
    ):
        yield PairWarning.REFUSAL_IGNORED_BINDING
    first = ctx.index.first_start[ctx.offering.id]
    if not own_place(ctx) and (first is None or first > ctx.target):
        yield PairWarning.LATE


@dataclass
class Eligibility:
    """Every candidate pair of a scenario, per (child ref, need id).

    `pairs[key]` lists every candidate's check in candidate order; the eligible ones
    are known at once, the others get their reasons when first read (see
    `pair_index.PairTable`).  `eligible` never computes a reason.
    """

    scenario: Scenario
    index: ScenarioIndex
    pairs: PairTable = field(default_factory=PairTable)

    def eligible(self, child_ref: str, need_id: str) -> list[PairCheck]:
        return self.pairs.eligible((child_ref, need_id))


def waiting_needs(scenario: Scenario) -> Iterable[tuple[Child, CareNeed]]:
    """The needs that wait for help: not started, or started at a current placement."""
    for child in scenario.children:
        for need in child.needs:
            started = need.start_date is not None and need.start_date <= scenario.evaluation_date
            if started and need.current_offering is None:
                continue  # help already started: not waiting
            yield child, need


def evaluate(
    scenario: Scenario, index: ScenarioIndex | None = None, *, full: bool = False
) -> Eligibility:
    """Check every candidate pair.  With `full=False` an ineligible pair carries only its
    first (shown) reason, computed when the need's checks are first read; `explain`
    re-checks the pairs of unplaced needs in full.  The rules run only on the pairs
    that `CandidateIndex` cannot rule out, so the result equals `evaluate_every_pair`."""
    idx = index or ScenarioIndex(scenario)
    if full:
        return evaluate_every_pair(scenario, idx, full=True)
    cands = CandidateIndex(idx)
    out = Eligibility(scenario, idx, lazy_pairs(scenario, idx))
    for child, need in waiting_needs(scenario):
        ok: list[PairCheck] = []
        for o in cands.survivors(child, need):
            pc = check_pair(scenario, child, need, o, idx, full=False)
            if pc.eligible:
                ok.append(pc)
        out.pairs.add_eligible((child.ref, need.id), ok)
    return out


def lazy_pairs(scenario: Scenario, idx: ScenarioIndex) -> PairTable:
    """A table whose ineligible checks are computed on first read, by the same rules:
    a candidate that is not among the eligible checks gets `check_pair(full=False)`."""
    kids = scenario.child_by_ref

    def fill(key: PairKey) -> list[PairCheck]:
        child = kids[key[0]]
        need = child.need(key[1])
        known = {pc.offering_id: pc for pc in table.eligible(key)}
        return [
            known.get(o.id) or check_pair(scenario, child, need, o, idx, full=False)
            for o in candidates(scenario, need, idx)
        ]

    table = PairTable(fill)
    return table


def evaluate_every_pair(
    scenario: Scenario, index: ScenarioIndex | None = None, *, full: bool = False
) -> Eligibility:
    """Run the rules on every candidate pair (the reference that `evaluate` equals)."""
    idx = index or ScenarioIndex(scenario)
    out = Eligibility(scenario, idx)
    for child, need in waiting_needs(scenario):
        out.pairs[(child.ref, need.id)] = [
            check_pair(scenario, child, need, o, idx, full=full)
            for o in candidates(scenario, need, idx)
        ]
    return out
