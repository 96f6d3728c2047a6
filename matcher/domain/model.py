"""The domain level: an immutable description of waiting children and provider capacity.

Everything is a frozen dataclass; codes are enums; money is integer euro cents; dates are
`datetime.date`.  A `Scenario` is compiled into the arc-level `AssignmentProblem` by
`matcher.domain.compile`.  Children are identified by a pseudonymous `ref` only: never a
name, BSN or address.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from matcher.domain.caretypes import CareCategory, CareType
from matcher.errors import MatcherError

__all__ = [
    "Budget",
    "CareCategory",
    "CareNeed",
    "CareType",
    "Child",
    "ChildAttribute",
    "Contract",
    "DeltaError",
    "Expertise",
    "FamilyBundle",
    "Forbid",
    "MeasureType",
    "Mode",
    "Norm2Anchor",
    "Offering",
    "Pin",
    "Policy",
    "Refusal",
    "Region",
    "RegionalNorm",
    "RegionalNormAnchor",
    "Release",
    "Scenario",
    "Subcontract",
    "UnclassifiedNeed",
    "Weights",
]


class MeasureType(enum.Enum):
    OTS = "OTS"
    MACHTIGING_UHP = "MACHTIGING_UHP"
    OTS_MACHTIGING_UHP = "OTS_MACHTIGING_UHP"
    JEUGDRECLASSERING = "JEUGDRECLASSERING"
    VOOGDIJ = "VOOGDIJ"
    VOLUNTARY = "VOLUNTARY"


class ChildAttribute(enum.Enum):
    """Characteristics of a child that providers may declare as contra-indication."""

    ZEDENVERLEDEN = "zedenverleden"
    SEXUALLY_TRANSGRESSIVE = "sexually_transgressive"
    AGGRESSION = "aggression"
    LVB = "lvb"
    SEVERE_PSYCHIATRY = "severe_psychiatry"
    TRAUMA_ATTACHMENT = "trauma_attachment"
    UNSTABLE_SITUATION = "unstable_situation"
    SUICIDALITY = "suicidality"
    EXTERNALISING = "externalising"
    COMPLEX_DIVORCE = "complex_divorce"
    ADDICTION = "addiction"
    NEEDS_CLOSED_SETTING = "needs_closed_setting"
    MULTI_COMPLEX = "multi_complex"


class Expertise(enum.Enum):
    LVB = "lvb"
    TRAUMA = "trauma"
    ASS = "ass"
    FORENSIC = "forensic"
    ADDICTION = "addiction"


class Mode(enum.Enum):
    """ADVISORY: providers may still refuse (today's practice); BINDING: acceptance duty."""

    ADVISORY = "ADVISORY"
    BINDING = "BINDING"


class Norm2Anchor(enum.Enum):
    """Where the six weeks of norm 2 start (the norms do not say; configurable)."""

    LATER_OF_RULING_AND_GI = "LATER_OF_RULING_AND_GI"
    RULING = "RULING"
    GI_NOTIFIED = "GI_NOTIFIED"


class RegionalNormAnchor(enum.Enum):
    NEED_DETERMINED = "NEED_DETERMINED"
    AANMELDING = "AANMELDING"


@dataclass(frozen=True)
class RegionalNorm:
    """An extra regional definition (e.g. Amsterdam-Amstelland: 6 weeks after the need is clear).

    It is always shown next to the inspection norm, never instead of it.
    """

    name: str
    weeks: int = 6
    anchor: RegionalNormAnchor = RegionalNormAnchor.NEED_DETERMINED


@dataclass(frozen=True)
class CareNeed:
    """One kind of help a child waits for, with the clock dates of that help.

    `start_date` is the day the help itself began: an intake, an aanmelding or
    overbruggingshulp never set it.  `alternatives` are other care types that the
    professional considers passend; they count toward norm 3 only when
    `alternative_accepted` (by family and professional) is true.
    """

    id: str
    care_type: CareType
    alternatives: tuple[CareType, ...] = ()
    alternative_accepted: bool = False
    need_determined_date: date | None = None
    aanmelding_date: date | None = None
    intake_date: date | None = None
    bridging_start_date: date | None = None
    start_date: date | None = None
    current_offering: str | None = None
    family_prefers_waitlist_at: str | None = None
    late_explanation: str | None = None
    resolved_by_breakthrough: bool = False


@dataclass(frozen=True)
class UnclassifiedNeed:
    """A need whose care type is not determined yet (the GI's list counts the child,
    the matcher cannot place it).  It is never matched and never dropped: every total
    counts it as "nog niet bepaald"."""

    id: str
    need_determined_date: date | None = None
    note: str = ""


@dataclass(frozen=True)
class Child:
    """A waiting child (pseudonymous `ref` only).

    `gemeente` is the GM code of the gemeente that pays (woonplaatsbeginsel); `region` is the
    jeugdhulpregio where the child lives (used for in/out of region).  Give `age_years` or
    `birth_month` (first day of the month).
    """

    ref: str
    gemeente: str
    region: str
    needs: tuple[CareNeed, ...] = ()
    age_years: int | None = None
    birth_month: date | None = None
    measure: MeasureType = MeasureType.OTS
    gi: str = ""
    ruling_date: date | None = None
    gi_notified_date: date | None = None
    koers_date: date | None = None
    caseworker_assigned_date: date | None = None
    urgent_deadline: date | None = None
    acute_unsafety: bool = False
    attributes: frozenset[ChildAttribute] = frozenset()
    times_discussed: int = 0
    family_id: str | None = None
    unclassified_needs: tuple[UnclassifiedNeed, ...] = ()

    def age_on(self, day: date) -> int:
        """Age in whole years on `day` (from the birth month, or `age_years` as given)."""
        if self.birth_month is not None:
            years = day.year - self.birth_month.year
            if day.month < self.birth_month.month:
                years -= 1
            return years
        return int(self.age_years or 0)

    def need(self, need_id: str) -> CareNeed:
        for n in self.needs:
            if n.id == need_id:
                return n
        raise KeyError(need_id)


@dataclass(frozen=True)
class Release:
    """`places` places become free at `on` (the weekly release schedule)."""

    on: date
    places: int


@dataclass(frozen=True)
class Offering:
    """A provider x care type x location with its capacity and acceptance rules.

    `free_now` places can start at once (after `intake_lead_days`); `releases` add places
    later.  `service_area` lists gemeente or region codes served besides the own `region`.
    `stated_preferences` is kept for the record only: provider preferences such as
    "prefers lower complexity" are never a matching input (R15).
    """

    id: str
    provider: str
    care_type: CareType
    region: str
    free_now: int = 0
    releases: tuple[Release, ...] = ()
    location_gemeente: str = ""
    service_area: frozenset[str] = frozenset()
    age_min: int = 0
    age_max: int = 23
    expertise: frozenset[Expertise] = frozenset()
    contra_indications: frozenset[ChildAttribute] = frozenset()
    waived_contra_indications: frozenset[ChildAttribute] = frozenset()
    requires_stability: bool | None = None
    intake_stop: bool = False
    price_cents: int = 0
    intake_lead_days: int = 0
    duration_weeks: int = 26
    perceel: str = ""
    stated_preferences: tuple[str, ...] = ()
    last_confirmed: date | None = None
    provider_name: str = ""

    @property
    def display_name(self) -> str:
        """What a reader knows the offering by: the provider's name, else its id."""
        return self.provider_name or self.id

    @property
    def effective_perceel(self) -> str:
        return self.perceel or self.care_type.category.value

    @property
    def needs_stability(self) -> bool:
        if self.requires_stability is None:
            return self.care_type.requires_stability
        return self.requires_stability


@dataclass(frozen=True)
class Contract:
    """`buyer` (a region or gemeente code) purchased `care_type` from `provider`."""

    id: str
    provider: str
    care_type: CareType
    buyer: str
    valid_from: date | None = None
    valid_until: date | None = None


@dataclass(frozen=True)
class Subcontract:
    """Whether hoofdaannemer `main_provider` accepts `sub_provider` as onderaannemer.

    A hoofdaannemer cannot be forced: `accepts=False` records an explicit refusal.
    `care_type=None` means for every care type.
    """

    main_provider: str
    sub_provider: str
    accepts: bool = True
    care_type: CareType | None = None


@dataclass(frozen=True)
class Region:
    """A jeugdhulpregio and the gemeenten that purchase jointly through it."""

    code: str
    gemeenten: tuple[str, ...]
    name: str = ""
    # the gemeenten's names in the order of `gemeenten` (sentences show them for codes)
    gemeente_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Budget:
    """A budget ceiling and what is already spent, in euro cents.

    The ceiling applies to a placement when every scope field that is set matches:
    `provider` (the delivering provider or its hoofdaannemer), `perceel`, the child's
    `gemeente`, or the purchasing `region` of the child's gemeente.
    """

    id: str
    ceiling_cents: int
    spent_cents: int = 0
    provider: str | None = None
    perceel: str | None = None
    gemeente: str | None = None
    region: str | None = None
    name: str = ""

    @property
    def display_name(self) -> str:
        return self.name or self.id

    @property
    def remaining_cents(self) -> int:
        return max(0, self.ceiling_cents - self.spent_cents)


@dataclass(frozen=True)
class FamilyBundle:
    """Needs of one family that are served together at one offering, or not at all (R24)."""

    id: str
    members: tuple[tuple[str, str], ...]  # (child ref, need id)


@dataclass(frozen=True)
class Refusal:
    """A provider's refusal of a child at an offering.

    With a declared `contra_indication` it is a contra-indication; without it, in ADVISORY
    mode it is recorded as PROVIDER_DECLINED_WITHOUT_CONTRA_INDICATION, and in BINDING mode
    it is ignored (acceptance duty).
    """

    offering: str
    child_ref: str
    contra_indication: ChildAttribute | None = None
    note: str = ""


class DeltaError(MatcherError, ValueError):
    """A change (delta) that cannot be applied, or a tafel decision that cannot hold.

    Its message is written for the person at the screen."""

    def __init__(self, message: str) -> None:
        super().__init__(message, user_message=message)


@dataclass(frozen=True)
class Pin:
    """The tafel's decision: need `need_id` of child `child_ref` goes to `offering`.

    It holds only when the pair is eligible; otherwise matching raises `DeltaError`.
    A need has at most one pin; for a family bundle the pin moves the whole bundle.
    """

    child_ref: str
    need_id: str
    offering: str


@dataclass(frozen=True)
class Forbid:
    """The tafel's decision: need `need_id` of child `child_ref` never goes to `offering`
    (explained as EXCLUDED_BY_TABLE, never as full)."""

    child_ref: str
    need_id: str
    offering: str


# "Tier 1 (within the norm)" below means: help starts by the objective's target date
# (clocks.objective_target_date), not the legal norm.  The docstring is part of the
# generated docs/scenario.schema.json, so its wording changes together with that file.
@dataclass(frozen=True)
class Weights:
    """Sub-weights of the objective (see docs/matching-rules.md).

    Tier 1 (within the norm) gets a weight computed from the scenario size so that it
    dominates everything below it.  Tier 2 (priority): one point outweighs all fit points
    of one child; with `strict_priority` it outweighs the fit of all children together
    (exact but numerically hard for the MIP solvers at a few hundred children).  Within
    one child the fit weights are lexicographic: home > keep + region + cost_levels,
    keep > region + cost_levels, region > cost_levels.
    """

    priority_overdue: int = 2000
    priority_urgent: int = 1000
    priority_max_wait_days: int = 999
    home: int = 40
    keep: int = 20
    region: int = 10
    cost_levels: int = 9
    strict_priority: bool = False


@dataclass(frozen=True)
class Policy:
    mode: Mode = Mode.ADVISORY
    allow_out_of_region: bool = False
    allow_late: bool = False
    holidays: str = "NL"
    norm2_anchor: Norm2Anchor = Norm2Anchor.LATER_OF_RULING_AND_GI
    regional_norm: RegionalNorm | None = None
    bundle_families: bool = True
    escalation_after: int = 2
    # the objective's target for a child already past its deadline (not a norm)
    overdue_grace_days: int = 28
    horizon_weeks: int = 52
    # whether "what would help" may propose that a provider waives a declared
    # contra-indication (maatwerk); a region decides this, the matcher does not
    allow_waivers: bool = False
    weights: Weights = field(default_factory=Weights)


@dataclass(frozen=True)
class Scenario:
    """Children, offerings, contracts, budgets and policy on one `evaluation_date`."""

    evaluation_date: date
    children: tuple[Child, ...] = ()
    offerings: tuple[Offering, ...] = ()
    contracts: tuple[Contract, ...] = ()
    subcontracts: tuple[Subcontract, ...] = ()
    regions: tuple[Region, ...] = ()
    budgets: tuple[Budget, ...] = ()
    bundles: tuple[FamilyBundle, ...] = ()
    refusals: tuple[Refusal, ...] = ()
    policy: Policy = field(default_factory=Policy)
    name: str = ""
    version: int = 1
    # The tafel's decisions on top of the situation; they travel as deltas, not in the
    # scenario file (see docs/scenario-format.md).
    pins: tuple[Pin, ...] = ()
    forbids: tuple[Forbid, ...] = ()

    @cached_property
    def child_by_ref(self) -> dict[str, Child]:
        return {c.ref: c for c in self.children}

    @cached_property
    def offering_by_id(self) -> dict[str, Offering]:
        return {o.id: o for o in self.offerings}

    @cached_property
    def gemeente_name(self) -> dict[str, str]:
        """GM code -> the gemeente's name, where a region gives it."""
        out: dict[str, str] = {}
        for r in self.regions:
            for code, name in zip(r.gemeenten, r.gemeente_names, strict=False):
                if name:
                    out[code] = name
        return out

    @cached_property
    def purchase_region_of(self) -> dict[str, str]:
        """gemeente code -> the region code it purchases through."""
        out: dict[str, str] = {}
        for r in self.regions:
            for g in r.gemeenten:
                out[g] = r.code
        return out
