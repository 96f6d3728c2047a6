"""A seeded generator of synthetic regional scenarios (benchmarks and property tests).

Nothing here is real data: gemeenten are codes GM9xxx, providers P000..., children
S00000....  The shape follows DOMAIN.md: mostly ambulant needs, scarce residential
places, a share of contra-indications, LVB expertise on some offerings, budget ceilings
on ambulant percelen that partly bind, some out-of-region supply via hoofdaannemers.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from matcher.domain.caretypes import CareCategory, CareType
from matcher.domain.model import (
    Budget,
    CareNeed,
    Child,
    ChildAttribute,
    Contract,
    Expertise,
    FamilyBundle,
    Offering,
    Policy,
    Region,
    Release,
    Scenario,
    Subcontract,
)

_CARE = [
    (CareType.AMBULANTE_JGGZ, 10),
    (CareType.TRAUMATHERAPIE, 5),
    (CareType.SPECIALISTISCHE_AMBULANTE_JEUGDHULP, 10),
    (CareType.INTENSIEVE_THUISBEGELEIDING, 8),
    (CareType.VIDEOHOMETRAINING, 6),
    (CareType.AMBULANTE_BEHANDELING, 5),
    (CareType.SPELTHERAPIE, 3),
    (CareType.BEHANDELING_HECHTING, 3),
    (CareType.PLEEGZORG, 6),
    (CareType.GEZINSHUIS, 5),
    (CareType.KLEINSCHALIGE_WOONVOORZIENING, 5),
    (CareType.RESIDENTIEEL_JENO, 4),
    (CareType.RESIDENTIEEL_LVB, 3),
    (CareType.BESCHERMD_WONEN, 3),
    (CareType.GEZINSDIAGNOSTIEK, 3),
    (CareType.PERSOONLIJKHEIDSONDERZOEK, 2),
    (CareType.JEUGDZORGPLUS, 1),
]
_ALTS = {
    CareType.KLEINSCHALIGE_WOONVOORZIENING: (CareType.GEZINSHUIS,),
    CareType.GEZINSHUIS: (CareType.PLEEGZORG,),
    CareType.TRAUMATHERAPIE: (CareType.AMBULANTE_JGGZ,),
    CareType.RESIDENTIEEL_JENO: (CareType.GEZINSHUIS, CareType.KLEINSCHALIGE_WOONVOORZIENING),
}
_CI = [
    ChildAttribute.ZEDENVERLEDEN,
    ChildAttribute.AGGRESSION,
    ChildAttribute.ADDICTION,
    ChildAttribute.SUICIDALITY,
    ChildAttribute.SEVERE_PSYCHIATRY,
]
_ATTR_P = {
    ChildAttribute.ZEDENVERLEDEN: 0.04,
    ChildAttribute.AGGRESSION: 0.12,
    ChildAttribute.LVB: 0.15,
    ChildAttribute.UNSTABLE_SITUATION: 0.10,
    ChildAttribute.ADDICTION: 0.05,
    ChildAttribute.SUICIDALITY: 0.04,
    ChildAttribute.SEVERE_PSYCHIATRY: 0.06,
}


def _price(ct: CareType, rng: random.Random) -> int:
    base = {
        CareCategory.RESIDENTIAL: 60_000_00,
        CareCategory.AMBULANT: 4_000_00,
        CareCategory.DIAGNOSTIC: 2_500_00,
        CareCategory.CRISIS: 10_000_00,
    }[ct.category]
    return int(base * rng.uniform(0.7, 1.5))


def generate(
    n_children: int = 600,
    n_offerings: int = 300,
    *,
    seed: int = 0,
    budgets: bool = True,
    evaluation_date: date = date(2022, 6, 1),
    n_gemeenten: int = 10,
) -> Scenario:
    """A regional scenario; the same arguments always give the same scenario."""
    rng = random.Random(seed)
    ev = evaluation_date
    home = "JZ90"
    others = ("JZ91", "JZ92")
    gemeenten = [f"GM9{i:03d}" for i in range(n_gemeenten)]
    regions = (Region(home, tuple(gemeenten), "Synthetische regio"),)
    cts = [c for c, _ in _CARE]
    wts = [w for _, w in _CARE]
    n_prov = max(1, n_offerings // 3)
    offerings: list[Offering] = []
    contracts: list[Contract] = []
    for i in range(n_offerings):
        ct = rng.choices(cts, wts)[0]
        prov = f"P{rng.randrange(n_prov):03d}"
        region = home if rng.random() < 0.85 else rng.choice(others)
        resid = ct.category is CareCategory.RESIDENTIAL
        free = rng.choice((0, 0, 0, 1, 1, 2)) if resid else rng.choice((0, 0, 1, 1, 2, 3))
        releases = tuple(
            Release(ev + timedelta(weeks=w), rng.choice((1, 1, 2)))
            for w in range(1, 27)
            if rng.random() < (0.06 if resid else 0.15)
        )
        lo = rng.choice((0, 4, 6, 12)) if not resid else rng.choice((0, 12, 12, 16))
        ci = frozenset(a for a in _CI if rng.random() < 0.15)
        oid = f"O{i:04d}"
        offerings.append(
            Offering(
                id=oid,
                provider=prov,
                care_type=ct,
                region=region,
                free_now=free,
                releases=releases,
                age_min=lo,
                age_max=23 if ct is CareType.BESCHERMD_WONEN else 18,
                expertise=frozenset({Expertise.LVB}) if rng.random() < 0.3 else frozenset(),
                contra_indications=ci,
                intake_stop=rng.random() < 0.03,
                price_cents=_price(ct, rng),
                intake_lead_days=rng.choice((0, 7, 14, 21)),
                duration_weeks=52 if resid else 20,
            )
        )
        if region == home and rng.random() < 0.9:
            contracts.append(Contract(f"C{i:04d}", prov, ct, home))
        elif rng.random() < 0.1:
            contracts.append(Contract(f"C{i:04d}", prov, ct, rng.choice(gemeenten)))
    providers = sorted({o.provider for o in offerings})
    mains = sorted({c.provider for c in contracts})
    subs = [
        Subcontract(m, p, rng.random() < 0.7)
        for p in providers
        for m in rng.sample(mains, k=min(2, len(mains)))
        if p not in mains and rng.random() < 0.5
    ]
    budget_list: list[Budget] = []
    if budgets:
        for k, p in enumerate(providers):
            if rng.random() < 0.3:
                ceiling = rng.randrange(20, 60) * 1_000_00
                spent = int(ceiling * rng.uniform(0.6, 0.95))
                budget_list.append(Budget(f"B{k:03d}", ceiling, spent, p, "AMBULANT"))
    children: list[Child] = []
    bundles: list[FamilyBundle] = []
    for i in range(n_children):
        ct = rng.choices(cts, wts)[0]
        ruling = ev - timedelta(days=rng.randrange(5, 150))
        attrs = frozenset(a for a, p in _ATTR_P.items() if rng.random() < p)
        alts = _ALTS.get(ct, ())
        needs = [
            CareNeed(
                id="n1",
                care_type=ct,
                alternatives=alts,
                alternative_accepted=bool(alts) and rng.random() < 0.5,
                need_determined_date=ruling + timedelta(days=rng.randrange(0, 30)),
            )
        ]
        if rng.random() < 0.1:
            needs.append(CareNeed(id="n2", care_type=rng.choices(cts, wts)[0]))
        children.append(
            Child(
                ref=f"S{i:05d}",
                gemeente=rng.choice(gemeenten),
                region=home,
                needs=tuple(needs),
                age_years=rng.randrange(0, 18),
                ruling_date=ruling,
                urgent_deadline=ruling + timedelta(days=rng.randrange(20, 60))
                if rng.random() < 0.1
                else None,
                attributes=attrs,
                times_discussed=rng.choice((0, 0, 0, 1, 2, 3)),
            )
        )
    # a few sibling bundles: consecutive children with the same ambulant need
    i = 0
    while i + 2 < len(children):
        if rng.random() < 0.02:
            size = rng.choice((2, 3))
            ct = CareType.INTENSIEVE_THUISBEGELEIDING
            fam = f"FAM{i:05d}"
            for j in range(i, i + size):
                c = children[j]
                children[j] = Child(
                    ref=c.ref,
                    gemeente=children[i].gemeente,
                    region=c.region,
                    needs=(CareNeed("n1", ct),),
                    age_years=c.age_years,
                    ruling_date=children[i].ruling_date,
                    attributes=frozenset(),
                    family_id=fam,
                )
            bundles.append(
                FamilyBundle(fam, tuple((children[j].ref, "n1") for j in range(i, i + size)))
            )
            i += size
        i += 1
    return Scenario(
        evaluation_date=ev,
        children=tuple(children),
        offerings=tuple(offerings),
        contracts=tuple(contracts),
        subcontracts=tuple(subs),
        regions=regions,
        budgets=tuple(budget_list),
        bundles=tuple(bundles),
        policy=Policy(),
        name=f"synthetic-{n_children}x{n_offerings}-seed{seed}",
    )
