"""A synthetic region at the arc level (a stand-in until the domain generator
feeds planning): children with deadlines, offerings with places freeing per
month, and candidate purchases per care type x region x provider.

Every random path takes an explicit seed (numpy Generator)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from matcher.planning.model import CandidatePurchase, PlanningProblem
from matcher.problem import AssignmentProblem, Sense

# care type -> (category, share of children, euro per place, intake lead days lo, hi)
CARE_MIX: Mapping[str, tuple[str, float, int, int, int]] = {
    "PLEEGZORG": ("RESIDENTIAL", 0.12, 40_000, 21, 42),
    "GEZINSHUIS": ("RESIDENTIAL", 0.10, 90_000, 21, 42),
    "KLEINSCHALIGE_WOONVOORZIENING": ("RESIDENTIAL", 0.08, 160_000, 28, 56),
    "AMBULANTE_JGGZ": ("AMBULANT", 0.25, 12_000, 14, 35),
    "TRAUMATHERAPIE": ("AMBULANT", 0.15, 9_000, 14, 35),
    "VIDEOHOMETRAINING": ("AMBULANT", 0.15, 5_000, 7, 28),
    "GEZINSDIAGNOSTIEK": ("DIAGNOSTIC", 0.15, 4_000, 7, 21),
}

MONTH_DAYS = 30


@dataclass(frozen=True)
class PlanChild:
    ref: str
    care_type: str
    region: str
    referred_on: date
    deadline: date
    not_for: frozenset[str] = frozenset()  # offerings/purchases ruled out (contra-indication)


@dataclass(frozen=True)
class PlanOffering:
    id: str
    provider: str
    care_type: str
    region: str
    intake_lead_days: int
    places_by_month: tuple[int, ...]  # month 0 = free now


@dataclass(frozen=True)
class PlanPurchaseSpec:
    id: str
    provider: str
    care_type: str
    region: str
    price_cents: int
    available_month: int
    intake_lead_days: int
    max_units: int


@dataclass(frozen=True)
class RegionInstance:
    name: str
    as_of: date
    months: int
    children: tuple[PlanChild, ...]
    offerings: tuple[PlanOffering, ...]
    purchases: tuple[PlanPurchaseSpec, ...]
    inflow_per_month: Mapping[tuple[str, str], float]
    seed: int

    def month_start(self, m: int) -> date:
        return self.as_of + timedelta(days=MONTH_DAYS * m)


def synthetic_region(
    seed: int,
    *,
    regions: int = 3,
    children_per_region: int = 60,
    months: int = 6,
    shortage: float = 0.5,
    as_of: date = date(2026, 1, 5),
) -> RegionInstance:
    """A seeded synthetic instance: `regions` jeugdhulpregio's sharing a plan.

    Places over the horizon cover about `shortage` of the children waiting,
    deadlines follow the ruling + 3 months norm (some already passed, some
    "zoveel eerder"), and every care type x region has two or three
    candidate purchases from existing or new providers at different prices
    and dates.
    """
    rng = np.random.default_rng(seed)
    cts = list(CARE_MIX)
    shares = np.array([CARE_MIX[c][1] for c in cts])
    shares = shares / shares.sum()
    region_ids = [f"R{seed}-{chr(65 + k)}" for k in range(regions)]
    children: list[PlanChild] = []
    offerings: list[PlanOffering] = []
    purchases: list[PlanPurchaseSpec] = []
    inflow: dict[tuple[str, str], float] = {}
    n = 0
    for rg in region_ids:
        picks = rng.choice(len(cts), size=children_per_region, p=shares)
        for ci, ct in enumerate(cts):
            cat, share, euro, lead_lo, lead_hi = CARE_MIX[ct]
            demand = int(np.sum(picks == ci))
            inflow[(ct, rg)] = share * children_per_region / 4.0
            providers = [f"aanbieder-{rg}-{ct.lower()}-{k}" for k in range(2)]
            rate = shortage * demand / (2 * months)
            for k, prov in enumerate(providers):
                places = tuple(int(v) for v in rng.poisson(rate, months))
                offerings.append(
                    PlanOffering(
                        id=f"{prov}-o",
                        provider=prov,
                        care_type=ct,
                        region=rg,
                        intake_lead_days=int(rng.integers(lead_lo, lead_hi + 1)),
                        places_by_month=places,
                    )
                )
                del k
            sellers = [*providers, f"nieuw-{rg}-{ct.lower()}"]
            for k, prov in enumerate(sellers[: 2 + int(rng.random() < 0.5)]):
                purchases.append(
                    PlanPurchaseSpec(
                        id=f"koop-{rg}-{ct.lower()}-{k}",
                        provider=prov,
                        care_type=ct,
                        region=rg,
                        price_cents=int(euro * rng.uniform(0.8, 1.4)) * 100,
                        available_month=int(rng.integers(0, 3)),
                        intake_lead_days=int(rng.integers(lead_lo, lead_hi + 1)),
                        max_units=3 if cat == "RESIDENTIAL" else 6,
                    )
                )
            for _ in range(demand):
                children.append(
                    _child(
                        rng,
                        f"kind-{seed}-{n:04d}",
                        ct,
                        rg,
                        as_of,
                        as_of,
                        _sources(offerings, purchases).get((ct, rg), ()),
                    )
                )
                n += 1
    return RegionInstance(
        name=f"regio-{seed}",
        as_of=as_of,
        months=months,
        children=tuple(children),
        offerings=tuple(offerings),
        purchases=tuple(purchases),
        inflow_per_month=inflow,
        seed=seed,
    )


def _sources(
    offerings: Sequence[PlanOffering], purchases: Sequence[PlanPurchaseSpec]
) -> dict[tuple[str, str], list[str]]:
    """Offering and purchase ids per (care type, region), offerings first."""
    out: dict[tuple[str, str], list[str]] = defaultdict(list)
    for o in offerings:
        out[(o.care_type, o.region)].append(o.id)
    for pc in purchases:
        out[(pc.care_type, pc.region)].append(pc.id)
    return out


def _child(
    rng: np.random.Generator,
    ref: str,
    ct: str,
    rg: str,
    referred: date,
    as_of: date,
    ids: Sequence[str],
) -> PlanChild:
    waited = int(rng.integers(0, 150)) if referred == as_of else int(rng.integers(0, 30))
    ruling = referred - timedelta(days=waited)
    norm = 42 if rng.random() < 0.15 else 91  # "zoveel eerder" for some
    not_for = frozenset(i for i in ids if rng.random() < 0.15)
    return PlanChild(ref, ct, rg, referred, ruling + timedelta(days=norm), not_for)


def inflow_children(
    inst: RegionInstance, seed: int, *, scale: float = 1.0
) -> tuple[PlanChild, ...]:
    """Children referred during the horizon: Poisson per care type x region."""
    rng = np.random.default_rng(seed)
    sources = _sources(inst.offerings, inst.purchases)
    out: list[PlanChild] = []
    n = 0
    for (ct, rg), lam in sorted(inst.inflow_per_month.items()):
        k = int(rng.poisson(lam * scale * inst.months))
        for _ in range(k):
            day = int(rng.integers(0, MONTH_DAYS * inst.months))
            referred = inst.as_of + timedelta(days=day)
            out.append(
                _child(
                    rng,
                    f"instroom-{inst.seed}-{seed}-{n:04d}",
                    ct,
                    rg,
                    referred,
                    inst.as_of,
                    sources.get((ct, rg), ()),
                )
            )
            n += 1
    return tuple(out)


def inflow_scenarios(
    inst: RegionInstance, draws: int, seed: int, *, scale: float = 1.0
) -> list[PlanningProblem]:
    """Today's list plus `draws` independent inflow draws, one problem each."""
    seeds = np.random.default_rng(seed).integers(0, 2**62, size=draws)
    return [compile_region(inst, inflow_children(inst, int(s), scale=scale)) for s in seeds]


def compile_region(
    inst: RegionInstance, extra_children: Sequence[PlanChild] = ()
) -> PlanningProblem:
    """Arc-level planning problem of a synthetic region.

    Every month's released places of an offering form one resource; a child
    gets an arc to every such group (and to every purchase's places) of its
    care type and region that it is not ruled out of.  Help starts at the
    later of the group's date and the referral, plus the intake lead time; an
    arc is within the norm when that is on or before the deadline.  Places
    not used stay free for later children, which the arcs to earlier groups
    express; stays are assumed to outlast the horizon.
    """
    kids = (*inst.children, *extra_children)
    # Built straight into index arrays: a sweep compiles thousands of these,
    # and the row-wise builder's per-arc bookkeeping dominated the time.
    res_ids: list[str] = []
    res_cap: list[int] = []
    # (care type, region) -> [(source id, resource index, ordinal date, lead)]
    groups: dict[tuple[str, str], list[tuple[str, int, int, int]]] = defaultdict(list)
    for o in inst.offerings:
        for m, places in enumerate(o.places_by_month):
            if places > 0:
                groups[(o.care_type, o.region)].append(
                    (o.id, len(res_ids), inst.month_start(m).toordinal(), o.intake_lead_days)
                )
                res_ids.append(f"place:{o.id}@{m}")
                res_cap.append(places)
    candidates: list[CandidatePurchase] = []
    for pc in inst.purchases:
        rid = f"buy:{pc.id}"
        on = inst.month_start(pc.available_month)
        groups[(pc.care_type, pc.region)].append(
            (pc.id, len(res_ids), on.toordinal(), pc.intake_lead_days)
        )
        res_ids.append(rid)
        res_cap.append(0)
        candidates.append(
            CandidatePurchase(
                id=pc.id,
                provider=pc.provider,
                care_type=pc.care_type,
                region=pc.region,
                price_cents=pc.price_cents,
                adds={rid: 1},
                max_units=pc.max_units,
                available_on=on,
            )
        )
    # one option per resource, numbered in order of first use (as the row-wise
    # builder did, so solutions and tie-breaks stay the same)
    opt_of_res: dict[int, int] = {}
    a_item: list[int] = []
    a_opt: list[int] = []
    a_res: list[int] = []
    within: list[bool] = []
    care: list[str] = []
    region: list[str] = []
    for i, c in enumerate(kids):
        care.append(c.care_type)
        region.append(c.region)
        referred = c.referred_on.toordinal()
        deadline = c.deadline.toordinal()
        for src, ri, free_day, lead in groups.get((c.care_type, c.region), ()):
            if src in c.not_for:
                continue
            a_item.append(i)
            a_res.append(ri)
            op = opt_of_res.get(ri)
            if op is None:
                op = opt_of_res[ri] = len(opt_of_res)
            a_opt.append(op)
            within.append(max(free_day, referred) + lead <= deadline)
    options = [""] * len(opt_of_res)
    for ri, op in opt_of_res.items():
        options[op] = res_ids[ri]
    n_arcs = len(a_item)
    w = np.asarray(within, dtype=np.bool_)
    prob = AssignmentProblem.create(
        items=[c.ref for c in kids],
        options=options,
        resources=res_ids,
        capacity=res_cap,
        arc_item=a_item,
        arc_option=a_opt,
        arc_value=w.astype(np.int64),
        use_ptr=np.arange(n_arcs + 1, dtype=np.int64),
        use_resource=a_res,
        use_amount=np.ones(n_arcs, dtype=np.int64),
        sense=Sense.MAXIMIZE,
        name=inst.name,
    )
    return PlanningProblem(
        problem=prob,
        within_norm=w,
        candidates=tuple(candidates),
        item_care_type=tuple(care),
        item_region=tuple(region),
        meta={"instance": inst.name, "children": len(kids)},
    )


def region_waiting_summary(inst: RegionInstance) -> list[dict[str, object]]:
    """Flat records per care type x region (for tables and the naive rule)."""
    count: dict[tuple[str, str], int] = defaultdict(int)
    overdue: dict[tuple[str, str], int] = defaultdict(int)
    for c in inst.children:
        count[(c.care_type, c.region)] += 1
        if c.deadline < inst.as_of:
            overdue[(c.care_type, c.region)] += 1
    return [
        {"care_type": ct, "region": rg, "waiting": n, "past_deadline": overdue[(ct, rg)]}
        for (ct, rg), n in sorted(count.items())
    ]
