"""What-if: immutable deltas on a Scenario, warm-started re-solves and `compare`.

Every delta is a frozen dataclass; `apply(scenario, delta)` returns a new scenario and
never changes its input.  `compare(a, b)` reports placed-within-the-norm per gemeente
and per care type, the children that moved and the cost difference.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Union

from matcher.domain.incremental import resolve
from matcher.domain.match import DEFAULT_OPTIONS, MatchResult, match
from matcher.domain.model import (
    Child,
    ChildAttribute,
    Contract,
    DeltaError,
    Forbid,
    Offering,
    Pin,
    Release,
    Scenario,
)
from matcher.domain.scenario_file import ScenarioValidationError, _enc, _Reader
from matcher.problem import ValidationIssue
from matcher.solution import SolveOptions

__all__ = [
    "AddChildren",
    "AddContract",
    "AddOffering",
    "AddPlaces",
    "AllowLate",
    "AllowOutOfRegion",
    "ChangeCeiling",
    "Comparison",
    "Delta",
    "DeltaError",
    "Forbid",
    "GemeenteLeaves",
    "LiftIntakeStop",
    "Move",
    "Pin",
    "ReferenceCount",
    "RemoveChildren",
    "SetReleases",
    "WaiveContraIndication",
    "WhatIf",
    "apply",
    "apply_all",
    "compare",
    "delta_from_json",
    "delta_to_json",
    "deltas_from_json",
    "what_if",
]


@dataclass(frozen=True)
class AddPlaces:
    """Add `places` at an offering: free now (`on` is None) or released on `on`.
    Negative `places` removes free places (never below zero)."""

    offering: str
    places: int = 1
    on: date | None = None


@dataclass(frozen=True)
class SetReleases:
    offering: str
    releases: tuple[Release, ...]


@dataclass(frozen=True)
class ChangeCeiling:
    """Lift (positive) or lower (negative) a budget ceiling by `amount_cents`."""

    budget: str
    amount_cents: int


@dataclass(frozen=True)
class WaiveContraIndication:
    """The provider waives contra-indication `attribute` at `offering` (maatwerk)."""

    offering: str
    attribute: ChildAttribute


@dataclass(frozen=True)
class LiftIntakeStop:
    offering: str


@dataclass(frozen=True)
class AddChildren:
    children: tuple[Child, ...]


@dataclass(frozen=True)
class RemoveChildren:
    refs: tuple[str, ...]


@dataclass(frozen=True)
class GemeenteLeaves:
    """A gemeente leaves the joint purchase: region contracts and budgets stop covering it."""

    gemeente: str


@dataclass(frozen=True)
class AllowOutOfRegion:
    allowed: bool = True


@dataclass(frozen=True)
class AllowLate:
    allowed: bool = True


@dataclass(frozen=True)
class AddContract:
    contract: Contract


@dataclass(frozen=True)
class AddOffering:
    """A new offering that is not purchased yet (a care type or provider new to the
    region); with an `AddContract` for it, the purchase an inkoop team considers."""

    offering: Offering


Delta = Union[  # noqa: UP007 - a runtime alias used in isinstance-free dispatch and typing
    AddPlaces,
    SetReleases,
    ChangeCeiling,
    WaiveContraIndication,
    LiftIntakeStop,
    AddChildren,
    RemoveChildren,
    GemeenteLeaves,
    AllowOutOfRegion,
    AllowLate,
    AddContract,
    AddOffering,
    Pin,
    Forbid,
]


def _offering(sc: Scenario, oid: str) -> Offering:
    o = sc.offering_by_id.get(oid)
    if o is None:
        raise DeltaError(f"onbekend aanbod {oid!r}")
    return o


def _pair(sc: Scenario, child_ref: str, need_id: str, offering: str) -> None:
    """A pin or forbid must name a known child, one of its needs and a known offering."""
    child = sc.child_by_ref.get(child_ref)
    if child is None:
        raise DeltaError(f"onbekend kind {child_ref!r}")
    if need_id not in {n.id for n in child.needs}:
        raise DeltaError(f"kind {child_ref!r} heeft geen hulpvraag {need_id!r}")
    _offering(sc, offering)


def _replace_offering(sc: Scenario, new: Offering) -> Scenario:
    return replace(sc, offerings=tuple(new if o.id == new.id else o for o in sc.offerings))


def apply(sc: Scenario, delta: Delta) -> Scenario:
    """A new scenario with `delta` applied (pure)."""
    if isinstance(delta, AddPlaces):
        o = _offering(sc, delta.offering)
        if delta.on is None:
            new = replace(o, free_now=max(0, o.free_now + delta.places))
        else:
            new = replace(o, releases=(*o.releases, Release(delta.on, max(0, delta.places))))
        return _replace_offering(sc, new)
    if isinstance(delta, SetReleases):
        o = _offering(sc, delta.offering)
        return _replace_offering(sc, replace(o, releases=tuple(delta.releases)))
    if isinstance(delta, ChangeCeiling):
        if delta.budget not in {b.id for b in sc.budgets}:
            raise DeltaError(f"onbekend budget {delta.budget!r}")
        return replace(
            sc,
            budgets=tuple(
                replace(b, ceiling_cents=max(0, b.ceiling_cents + delta.amount_cents))
                if b.id == delta.budget
                else b
                for b in sc.budgets
            ),
        )
    if isinstance(delta, WaiveContraIndication):
        o = _offering(sc, delta.offering)
        new = replace(o, waived_contra_indications=o.waived_contra_indications | {delta.attribute})
        sc2 = _replace_offering(sc, new)
        # a waiver also covers recorded refusals on that ground
        return replace(
            sc2,
            refusals=tuple(
                r
                for r in sc.refusals
                if not (r.offering == delta.offering and r.contra_indication == delta.attribute)
            ),
        )
    if isinstance(delta, LiftIntakeStop):
        o = _offering(sc, delta.offering)
        return _replace_offering(sc, replace(o, intake_stop=False))
    if isinstance(delta, AddChildren):
        known = set(sc.child_by_ref)
        clash = [c.ref for c in delta.children if c.ref in known]
        if clash:
            raise DeltaError(f"kinderen bestaan al: {', '.join(clash)}")
        return replace(sc, children=sc.children + tuple(delta.children))
    if isinstance(delta, RemoveChildren):
        gone = set(delta.refs)
        return replace(
            sc,
            children=tuple(c for c in sc.children if c.ref not in gone),
            bundles=tuple(
                replace(b, members=tuple(m for m in b.members if m[0] not in gone))
                for b in sc.bundles
            ),
            refusals=tuple(r for r in sc.refusals if r.child_ref not in gone),
        )
    if isinstance(delta, GemeenteLeaves):
        return replace(
            sc,
            regions=tuple(
                replace(r, gemeenten=tuple(g for g in r.gemeenten if g != delta.gemeente))
                for r in sc.regions
            ),
        )
    if isinstance(delta, AllowOutOfRegion):
        return replace(sc, policy=replace(sc.policy, allow_out_of_region=delta.allowed))
    if isinstance(delta, AllowLate):
        return replace(sc, policy=replace(sc.policy, allow_late=delta.allowed))
    if isinstance(delta, AddContract):
        return replace(sc, contracts=(*sc.contracts, delta.contract))
    if isinstance(delta, AddOffering):
        if delta.offering.id in sc.offering_by_id:
            raise DeltaError(f"aanbod {delta.offering.id!r} bestaat al")
        return replace(sc, offerings=(*sc.offerings, delta.offering))
    if isinstance(delta, Pin):
        # a need has one pin: a new pin replaces the old one; eligibility is checked
        # when the scenario is matched, after every delta is in place
        _pair(sc, delta.child_ref, delta.need_id, delta.offering)
        others = tuple(
            p for p in sc.pins if (p.child_ref, p.need_id) != (delta.child_ref, delta.need_id)
        )
        return replace(sc, pins=(*others, delta))
    if isinstance(delta, Forbid):
        _pair(sc, delta.child_ref, delta.need_id, delta.offering)
        if delta in sc.forbids:
            return sc
        return replace(sc, forbids=(*sc.forbids, delta))
    raise DeltaError(f"onbekende wijziging {delta!r}")


def apply_all(sc: Scenario, deltas: Iterable[Delta]) -> Scenario:
    for d in deltas:
        sc = apply(sc, d)
    return sc


# ---------------------------------------------------------------- JSON form

_KINDS: dict[str, type] = {
    "add_places": AddPlaces,
    "set_releases": SetReleases,
    "change_ceiling": ChangeCeiling,
    "waive_contra_indication": WaiveContraIndication,
    "lift_intake_stop": LiftIntakeStop,
    "add_children": AddChildren,
    "remove_children": RemoveChildren,
    "gemeente_leaves": GemeenteLeaves,
    "allow_out_of_region": AllowOutOfRegion,
    "allow_late": AllowLate,
    "add_contract": AddContract,
    "add_offering": AddOffering,
    "pin": Pin,
    "forbid": Forbid,
}
_KIND_OF = {v: k for k, v in _KINDS.items()}


def delta_from_json(data: Mapping[str, Any], where: str = "$") -> Delta:
    """One delta from its JSON form ``{"kind": "add_places", "offering": ..., ...}``."""
    kind = data.get("kind") if isinstance(data, Mapping) else None
    cls = _KINDS.get(str(kind))
    if cls is None:
        raise ScenarioValidationError(
            [ValidationIssue(f"{where}.kind", f"kies uit: {', '.join(_KINDS)}")]
        )
    rd = _Reader()
    body = {k: v for k, v in data.items() if k != "kind"}
    obj = rd.obj(cls, body, where)
    if rd.issues or obj is None:
        raise ScenarioValidationError(rd.issues)
    return obj  # type: ignore[no-any-return]


def deltas_from_json(data: Any) -> list[Delta]:
    items = data if isinstance(data, list) else data.get("deltas", [data])
    out: list[Delta] = []
    issues: list[Any] = []
    for i, d in enumerate(items):
        try:
            out.append(delta_from_json(d, f"$[{i}]"))
        except ScenarioValidationError as exc:
            issues.extend(exc.issues)
    if issues:
        raise ScenarioValidationError(issues)
    return out


def delta_to_json(delta: Delta) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": _KIND_OF[type(delta)]}
    for f in dataclasses.fields(delta):
        out[f.name] = _enc(getattr(delta, f.name), f.name)
    return out


# ------------------------------------------------------------------ compare


@dataclass(frozen=True)
class Move:
    child_ref: str
    need_id: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class ReferenceCount:
    """A figure to hold the scenario against, such as the number of waiting children a
    region published ("35 wachtende kinderen op 1 januari 2022")."""

    count: int
    label: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "label": self.label}


@dataclass
class Comparison:
    """Before and after on one peildatum (`count_date`).  Totals per side: placed +
    unplaced + unclassified needs, and the children (`children_*`).  With a `reference`
    the difference says how far the scenario's list is from the published figure."""

    within_norm_before: int
    within_norm_after: int
    on_time_before: int
    on_time_after: int
    by_gemeente: dict[str, tuple[int, int]] = field(default_factory=dict)
    by_care_type: dict[str, tuple[int, int]] = field(default_factory=dict)
    moves: list[Move] = field(default_factory=list)
    cost_before_cents: int = 0
    cost_after_cents: int = 0
    count_date: date | None = None
    placed: tuple[int, int] = (0, 0)
    unplaced: tuple[int, int] = (0, 0)
    unclassified: tuple[int, int] = (0, 0)
    children: tuple[int, int] = (0, 0)
    reference: ReferenceCount | None = None

    @property
    def cost_difference_cents(self) -> int:
        return self.cost_after_cents - self.cost_before_cents

    @property
    def reference_difference(self) -> int | None:
        """Children in the scenario (after the changes) minus the reference figure."""
        return None if self.reference is None else self.children[1] - self.reference.count

    def reference_text(self) -> str:
        """ "De regio noemde 35 kinderen; in dit scenario staan 33 kinderen: 2 minder." """
        ref, diff = self.reference, self.reference_difference
        if ref is None or diff is None:
            return ""
        what = ref.label or "De referentie"
        here = self.children[1]
        verb = "staat" if here == 1 else "staan"
        kids = f"{here} kind" if here == 1 else f"{here} kinderen"
        told = f"{ref.count} kind" if ref.count == 1 else f"{ref.count} kinderen"
        more = "meer" if diff > 0 else "minder"
        tail = "dat klopt" if diff == 0 else f"{abs(diff)} {more}"
        return f"{what} noemde {told}; in dit scenario {verb} {kids}: {tail}."

    def to_json(self) -> dict[str, Any]:
        def pair(v: tuple[int, int]) -> dict[str, int]:
            return {"before": v[0], "after": v[1]}

        return {
            "count_date": self.count_date.isoformat() if self.count_date else None,
            "within_norm": {"before": self.within_norm_before, "after": self.within_norm_after},
            "on_time": {"before": self.on_time_before, "after": self.on_time_after},
            "placed": pair(self.placed),
            "unplaced": pair(self.unplaced),
            "unclassified": pair(self.unclassified),
            "children": pair(self.children),
            "by_gemeente": {
                k: {"before": a, "after": b} for k, (a, b) in sorted(self.by_gemeente.items())
            },
            "by_care_type": {
                k: {"before": a, "after": b} for k, (a, b) in sorted(self.by_care_type.items())
            },
            "moves": [dataclasses.asdict(m) for m in self.moves],
            "cost_difference_cents": self.cost_difference_cents,
            "reference": None
            if self.reference is None
            else {
                **self.reference.to_json(),
                "difference": self.reference_difference,
                "text": self.reference_text(),
            },
        }


def _counts(r: MatchResult) -> tuple[Counter[str], Counter[str], int]:
    g: Counter[str] = Counter()
    ct: Counter[str] = Counter()
    cost = 0
    kids = r.scenario.child_by_ref
    offs = r.scenario.offering_by_id
    for (ref, nid), p in r.placements.items():
        cost += offs[p.offering].price_cents
        if p.within_norm:
            g[kids[ref].gemeente] += 1
            ct[kids[ref].need(nid).care_type.value] += 1
    return g, ct, cost


def compare(
    a: MatchResult, b: MatchResult, *, reference: ReferenceCount | None = None
) -> Comparison:
    ga, cta, costa = _counts(a)
    gb, ctb, costb = _counts(b)
    moves = []
    keys = sorted(set(a.placements) | set(b.placements) | set(a.unplaced) | set(b.unplaced))
    for key in keys:
        pa, pb = a.placements.get(key), b.placements.get(key)
        oa = pa.offering if pa else None
        ob = pb.offering if pb else None
        if oa != ob:
            moves.append(Move(key[0], key[1], oa, ob))
    gem = {k: (ga[k], gb[k]) for k in set(ga) | set(gb)}
    cts = {k: (cta[k], ctb[k]) for k in set(cta) | set(ctb)}
    return Comparison(
        within_norm_before=a.n_within_norm,
        within_norm_after=b.n_within_norm,
        on_time_before=a.n_on_time,
        on_time_after=b.n_on_time,
        by_gemeente=gem,
        by_care_type=cts,
        moves=moves,
        cost_before_cents=costa,
        cost_after_cents=costb,
        count_date=b.count_date,
        placed=(len(a.placements), len(b.placements)),
        unplaced=(len(a.unplaced), len(b.unplaced)),
        unclassified=(len(a.unclassified), len(b.unclassified)),
        children=(len(a.scenario.children), len(b.scenario.children)),
        reference=reference,
    )


@dataclass
class WhatIf:
    base: MatchResult
    result: MatchResult
    deltas: tuple[Delta, ...]
    comparison: Comparison


def what_if(
    scenario: Scenario,
    deltas: Sequence[Delta],
    *,
    base: MatchResult | None = None,
    options: SolveOptions | None = None,
    reference: ReferenceCount | None = None,
) -> WhatIf:
    """Apply `deltas`, re-solve warm-started from the base answer (only the parts of the
    problem the deltas changed, see `matcher.domain.incremental`), and compare.
    A `Pin` on a pair that is not eligible raises `DeltaError`."""
    opts = options or DEFAULT_OPTIONS
    b = base or match(scenario, opts)
    new_sc = apply_all(scenario, deltas)
    r, _ = resolve(b, new_sc, opts)
    return WhatIf(b, r, tuple(deltas), compare(b, r, reference=reference))
