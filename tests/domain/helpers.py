"""Small builders for domain tests (pseudonymous refs only)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from matcher.domain.model import (
    CareNeed,
    CareType,
    Child,
    Contract,
    Offering,
    Policy,
    Region,
    Scenario,
)

EV = date(2022, 3, 1)
HOME = "JZ29"
GM = "GM0599"


def child(ref: str = "K", ct: CareType = CareType.AMBULANTE_JGGZ, **kw) -> Child:
    need_kw = {k: kw.pop(k) for k in list(kw) if k in CareNeed.__dataclass_fields__}
    need = CareNeed("n", ct, **need_kw)
    base = {
        "gemeente": GM,
        "region": HOME,
        "age_years": 12,
        "ruling_date": date(2022, 2, 1),
    }
    base.update(kw)
    return Child(ref=ref, needs=(need,), **base)


def offering(oid: str = "O", ct: CareType = CareType.AMBULANTE_JGGZ, **kw) -> Offering:
    base = {"provider": oid, "region": HOME, "free_now": 1, "price_cents": 100000}
    base.update(kw)
    return Offering(id=oid, care_type=ct, **base)


def scenario(children, offerings, *, contract_all=True, policy=None, **kw) -> Scenario:
    contracts = tuple(
        Contract(f"C-{o.id}", o.provider, o.care_type, HOME)
        for o in offerings
        if contract_all and o.region == HOME
    )
    return Scenario(
        evaluation_date=EV,
        children=tuple(children),
        offerings=tuple(offerings),
        contracts=contracts + tuple(kw.pop("contracts", ())),
        regions=(Region(HOME, (GM, "GM0597")),),
        policy=policy or Policy(),
        **kw,
    )


def with_policy(sc: Scenario, **kw) -> Scenario:
    return replace(sc, policy=replace(sc.policy, **kw))
