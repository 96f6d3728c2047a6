"""From the domain level: a `Scenario` plus offerings on sale, compiled by
`matcher.domain.compile`, as a planning problem."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from matcher.domain.clocks import deadline_norm3
from matcher.domain.compile import compile_scenario, option_id
from matcher.planning.model import CandidatePurchase, PlanningInputError, PlanningProblem


@dataclass(frozen=True)
class OfferingPurchase:
    """A purchase option at the domain level.

    `offering` is a new offering (a new provider, or extra places of an
    existing provider under a new id) whose places are on sale: either
    `free_now` places and no releases, or no free places and releases on one
    date.  `price_cents` is per place.  `contracts` are the contracts the
    purchase brings (a provider not yet contracted for the region).
    """

    id: str
    offering: Any  # matcher.domain.model.Offering
    price_cents: int
    contracts: tuple[Any, ...] = ()  # matcher.domain.model.Contract


def planning_from_scenario(
    scenario: Any, purchases: Sequence[OfferingPurchase]
) -> tuple[PlanningProblem, Any]:
    """Compile `scenario` with the offerings on sale as purchases.

    The scenario is compiled with every purchase offering added (so the
    domain decides eligibility, norms and deadlines, contracts and budgets);
    then the places of those offerings start at zero and each unit bought
    adds one.  Returns the planning problem and the domain `Compiled` (to
    read children and offerings back).
    """
    issues: list[str] = []
    known = {o.id for o in scenario.offerings}
    seen: set[str] = set()
    places: dict[str, int] = {}
    for pc in purchases:
        o = pc.offering
        if pc.id in seen:
            issues.append(f"purchase {pc.id!r} is listed twice")
        seen.add(pc.id)
        if o.id in known:
            issues.append(f"purchase {pc.id!r}: offering {o.id!r} already exists; use a new id")
        known.add(o.id)
        dates = {r.on for r in o.releases if r.places > 0}
        if (o.free_now > 0) == bool(dates) or len(dates) > 1:
            issues.append(f"purchase {pc.id!r}: places must be free now or come free on one date")
        places[pc.id] = o.free_now + sum(r.places for r in o.releases)
        if pc.price_cents < 0:
            issues.append(f"purchase {pc.id!r}: price {pc.price_cents} is negative")
    if issues:
        raise PlanningInputError(issues)

    scen = replace(
        scenario,
        offerings=(*scenario.offerings, *(pc.offering for pc in purchases)),
        contracts=(*scenario.contracts, *(c for pc in purchases for c in pc.contracts)),
    )
    comp = compile_scenario(scen)
    p = comp.problem
    if len(comp.arcs) != p.n_arcs:
        raise RuntimeError("compiled arcs and arc information differ in length")
    ridx = p.resource_index()
    on_sale: dict[str, str] = {}  # offering id -> purchase id
    candidates: list[CandidatePurchase] = []
    cap = p.capacity.copy()
    for pc in purchases:
        oid = pc.offering.id
        on_sale[oid] = pc.id
        adds: dict[str, int] = {}
        for g in comp.groups.get(oid, []):
            rid = f"place:{option_id(oid, g.index)}"
            adds[rid] = 1
            cap[ridx[rid]] = 0
        if len(adds) > 1:
            raise RuntimeError(f"purchase {pc.id!r} compiled into more than one release group")
        candidates.append(
            CandidatePurchase(
                id=pc.id,
                provider=pc.offering.provider,
                care_type=pc.offering.care_type.value,
                region=pc.offering.region,
                price_cents=pc.price_cents,
                adds=adds,
                max_units=places[pc.id],
                available_on=min(
                    (r.on for r in pc.offering.releases), default=scen.evaluation_date
                ),
            )
        )
    # The compile drops uses of places that can never run out; places on sale
    # start at zero here, so every arc to them must use them again.
    ptr: list[int] = [0]
    ures: list[int] = []
    uamt: list[int] = []
    for a, info in enumerate(comp.arcs):
        lo, hi = int(p.use_ptr[a]), int(p.use_ptr[a + 1])
        res = p.use_resource[lo:hi].tolist()
        amt = p.use_amount[lo:hi].tolist()
        if info.offering in on_sale:
            r_on_sale = ridx[f"place:{option_id(info.offering, info.group)}"]
            if r_on_sale not in res:
                res.append(r_on_sale)
                amt.append(info.members)
        ures.extend(res)
        uamt.extend(amt)
        ptr.append(len(ures))
    prob = replace(
        p,
        capacity=cap,
        use_ptr=np.asarray(ptr, dtype=np.int64),
        use_resource=np.asarray(ures, dtype=np.int32),
        use_amount=np.asarray(uamt, dtype=np.int64),
    )
    care: list[str] = []
    region: list[str] = []
    children = scen.child_by_ref
    for it in p.item_ids:
        ref, nid = comp.item_members[it][0]
        ch = children[ref]
        care.append(ch.need(nid).care_type.value)
        region.append(ch.region)
    # An arc counts as within the norm when it meets the objective's target for
    # children whose legal deadline is still ahead: for them the target is that
    # deadline.  A child already past it meets only the grace target, which is no
    # start within the norm.
    ev = scen.evaluation_date
    deadline_ahead = {
        ref: (dl := deadline_norm3(ch)) is not None and dl >= ev for ref, ch in children.items()
    }
    within = [
        info.meets_target and all(deadline_ahead[ref] for ref, _ in comp.item_members[info.item])
        for info in comp.arcs
    ]
    pp = PlanningProblem(
        problem=prob,
        within_norm=np.asarray(within, dtype=np.bool_),
        candidates=tuple(candidates),
        item_care_type=tuple(care),
        item_region=tuple(region),
        meta={"source": "domain", "scenario": scen.name},
    )
    pp.validate()
    return pp, comp
