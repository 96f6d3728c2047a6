"""Convert provider data into the matcher's domain `Scenario`.

`to_scenario(records, evaluation_date=...)` takes typed records of the import
format (from `providers.validate` or `providers.store.load_records`);
`scenario_from_db(session, principal, ...)` reads them from the database with
the principal's scope (the read of children is audited).

Choices the import format leaves open, written down here:

- Offering ids are the `aanbod_id` values, need ids are `<kind_ref>/<n>`
  (n = 1, 2, 3 for zorgvorm, zorgvorm_2, zorgvorm_3).
- Releases: `vrijkomend_per_week` becomes whole places on weekly dates
  (0.5 a week: one place every two weeks).  When an offering has no free place
  and publishes an expected wait, its first place frees after that wait; with
  no release rate, that is one place then.
- An empty `werkgebied` means the offering's own region.
- `Offering.perceel` is the perceel of a contract for that provider and care
  type, so perceel budgets apply to it; otherwise the care category.
- Budgets: level "perceel" scopes to provider + perceel, "aanbieder" to the
  provider, "gemeente" to the gemeente, "regio" to the region.  The budget's
  `zorgvormen` list is informative only (the matcher scopes by perceel).
- A family (`gezin_ref`) with two or more children needing the same care type
  becomes a `FamilyBundle` for that care type (used when the policy bundles).
- `huidig_aanbod_id` is the current placement of the need with the same care
  type, if any.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from matcher.domain import (
    Budget,
    CareNeed,
    CareType,
    Child,
    ChildAttribute,
    Contract,
    Expertise,
    FamilyBundle,
    MeasureType,
    Offering,
    Policy,
    Region,
    Release,
    Scenario,
    Subcontract,
)
from providers import reference

Records = Mapping[str, Sequence[Mapping[str, Any]]]


class ConversionError(ValueError):
    """The data uses codes the matcher does not know (e.g. a region's own product)."""


def _attributes() -> dict[str, ChildAttribute]:
    return {code: ChildAttribute(c.get("matcher")) for code, c in reference.attributes().items()}


def _measures() -> dict[str, MeasureType]:
    return {code: MeasureType(c.get("matcher")) for code, c in reference.measures().items()}


def releases(
    per_week: float, free_now: int, wait_days: int, evaluation_date: dt.date, horizon_weeks: int
) -> tuple[Release, ...]:
    """Weekly release dates from a rate and a published wait (see module doc)."""
    first = evaluation_date + dt.timedelta(days=wait_days if free_now == 0 and wait_days > 0 else 7)
    if per_week <= 0:
        if free_now == 0 and wait_days > 0:
            return (Release(on=first, places=1),)
        return ()
    out: list[Release] = []
    done = 0
    for week in range(horizon_weeks + 1):
        due = math.floor(per_week * (week + 1) + 1e-9)
        if due > done:
            out.append(Release(on=first + dt.timedelta(weeks=week), places=due - done))
            done = due
    return tuple(out)


def _care_type(code: str, where: str, unknown: set[str]) -> CareType | None:
    try:
        return CareType(code)
    except ValueError:
        unknown.add(f"{code} ({where})")
        return None


def to_scenario(
    records: Records,
    *,
    evaluation_date: dt.date,
    policy: Policy | None = None,
    region_code: str | None = None,
    year: int = reference.DEFAULT_YEAR,
    name: str = "",
) -> Scenario:
    """Build a `Scenario`; with `region_code`, only that region's children and
    the offerings that could serve them (in region, serving it, or contracted)."""
    policy = policy or Policy()
    gem = reference.gemeenten(year)
    attrs = _attributes()
    measures = _measures()
    unknown: set[str] = set()

    contracts_in = list(records.get("contracten", ()))
    if region_code:
        contracts_in = [c for c in contracts_in if c["regio"] == region_code]
    perceel_of: dict[tuple[str, str], str] = {}
    for c in contracts_in:
        if c.get("perceel"):
            perceel_of.setdefault((c["aanbieder_id"], c["zorgvorm"]), c["perceel"])
    contracts: list[Contract] = []
    for c in contracts_in:
        ct = _care_type(c["zorgvorm"], f"contract {c['contract_id']}", unknown)
        if ct is not None:
            contracts.append(
                Contract(
                    id=c["contract_id"],
                    provider=c["aanbieder_id"],
                    care_type=ct,
                    buyer=c.get("gemeente") or c["regio"],
                    valid_from=c.get("geldig_van"),
                    valid_until=c.get("geldig_tot"),
                )
            )
    subcontracts = tuple(
        Subcontract(main_provider=p["aanbieder_id"], sub_provider=sub, accepts=True)
        for p in records.get("aanbieders", ())
        for sub in p.get("accepteert_onderaannemers", ())
    )
    contracted_providers = {c.provider for c in contracts}
    subs_of_contracted = {
        s.sub_provider for s in subcontracts if s.main_provider in contracted_providers
    }

    offerings: list[Offering] = []
    for o in records.get("aanbod", ()):
        region = gem[o["gemeente"]].region_code
        area = frozenset(o.get("werkgebied") or ())
        if region_code and not (
            region == region_code
            or region_code in area
            or o["aanbieder_id"] in contracted_providers
            or o["aanbieder_id"] in subs_of_contracted
        ):
            continue
        ct = _care_type(o["zorgvorm"], f"aanbod {o['aanbod_id']}", unknown)
        if ct is None:
            continue
        free = int(o["plaatsen_vrij"])
        offerings.append(
            Offering(
                id=o["aanbod_id"],
                provider=o["aanbieder_id"],
                care_type=ct,
                region=region,
                free_now=free,
                releases=releases(
                    float(o.get("vrijkomend_per_week") or 0.0),
                    free,
                    int(o.get("verwachte_wachttijd_dagen") or 0),
                    evaluation_date,
                    policy.horizon_weeks,
                ),
                location_gemeente=o["gemeente"],
                service_area=area,
                age_min=0 if o.get("leeftijd_min") is None else int(o["leeftijd_min"]),
                age_max=23 if o.get("leeftijd_max") is None else int(o["leeftijd_max"]),
                expertise=frozenset({Expertise.LVB}) if o.get("lvb_expertise") else frozenset(),
                contra_indications=frozenset(attrs[a] for a in o.get("contra_indicaties", ())),
                intake_stop=bool(o.get("opnamestop")),
                price_cents=int(o.get("prijs_per_plaatsing") or 0),
                intake_lead_days=14 if o.get("intake_dagen") is None else int(o["intake_dagen"]),
                perceel=perceel_of.get((o["aanbieder_id"], o["zorgvorm"]), ""),
                last_confirmed=o.get("bevestigd_op"),
            )
        )
    offering_ct = {o.id: o.care_type for o in offerings}

    children: list[Child] = []
    family_needs: dict[tuple[str, CareType], list[tuple[str, str]]] = defaultdict(list)
    for k in records.get("kinderen", ()):
        region = gem[k["gemeente"]].region_code
        if region_code and region != region_code:
            continue
        needs: list[CareNeed] = []
        current = k.get("huidig_aanbod_id")
        for n, col in enumerate(("zorgvorm", "zorgvorm_2", "zorgvorm_3"), start=1):
            code = k.get(col)
            if not code:
                continue
            ct = _care_type(code, f"kind {k['kind_ref']}", unknown)
            if ct is None:
                continue
            nid = f"{k['kind_ref']}/{n}"
            needs.append(
                CareNeed(
                    id=nid,
                    care_type=ct,
                    current_offering=current
                    if current and offering_ct.get(current) is ct
                    else None,
                )
            )
            if k.get("gezin_ref"):
                family_needs[(k["gezin_ref"], ct)].append((k["kind_ref"], nid))
        y, m = (int(x) for x in k["geboortemaand"].split("-"))
        children.append(
            Child(
                ref=k["kind_ref"],
                gemeente=k["gemeente"],
                region=region,
                needs=tuple(needs),
                birth_month=dt.date(y, m, 1),
                measure=measures[k["maatregel"]],
                gi=k["gi"],
                ruling_date=k["uitspraakdatum"],
                gi_notified_date=k.get("gi_in_kennis_datum"),
                urgent_deadline=k.get("urgente_deadline"),
                attributes=frozenset(attrs[a] for a in k.get("kenmerken", ())),
                family_id=k.get("gezin_ref"),
            )
        )
    if unknown:
        raise ConversionError("Deze codes kent de matcher niet: " + ", ".join(sorted(unknown)))
    bundles = tuple(
        FamilyBundle(id=f"{fam}/{ct.value}", members=tuple(members))
        for (fam, ct), members in sorted(
            family_needs.items(), key=lambda kv: (kv[0][0], kv[0][1].value)
        )
        if len(members) >= 2
    )

    budgets: list[Budget] = []
    for b in records.get("budgetten", ()):
        if region_code and b["regio"] != region_code:
            continue
        level = b["niveau"]
        budgets.append(
            Budget(
                id=b["budget_id"],
                ceiling_cents=int(b["plafond"]),
                spent_cents=int(b.get("besteed") or 0),
                provider=b.get("aanbieder_id") if level in ("aanbieder", "perceel") else None,
                perceel=b.get("perceel") if level == "perceel" else None,
                gemeente=b.get("gemeente") if level == "gemeente" else None,
                region=None if level == "gemeente" else b["regio"],
            )
        )

    regions = tuple(
        Region(code=r.code, gemeenten=r.gemeente_codes, name=r.name)
        for r in reference.jeugdregios(year).values()
    )
    return Scenario(
        evaluation_date=evaluation_date,
        children=tuple(children),
        offerings=tuple(offerings),
        contracts=tuple(contracts),
        subcontracts=subcontracts,
        regions=regions,
        budgets=tuple(budgets),
        bundles=bundles,
        policy=policy,
        name=name or (f"regio {region_code}" if region_code else "alle regio's"),
    )


def scenario_from_db(
    session: Any,
    principal: Any,
    *,
    evaluation_date: dt.date,
    region_code: str | None = None,
    policy: Policy | None = None,
    year: int = reference.DEFAULT_YEAR,
) -> Scenario:
    """The stored data as a Scenario, within the principal's scope.

    The children are read with the principal's rights (tafel: own region;
    verwijzer: own organisation) and the read is audited as "lezen" with
    purpose "matching".  The caller commits the session (for the audit entry).
    """
    from providers.store.dump import load_records
    from providers.store.models import AuditAction

    region = region_code or getattr(principal, "region_code", None)
    records = load_records(session, principal, ("aanbieders", "aanbod", "contracten", "budgetten"))
    # Children separately, so only the region's children are read (and audited).
    records |= load_records(
        session,
        principal,
        ("kinderen",),
        region_code=region,
        purpose="matching",
        action=AuditAction.READ,
    )
    return to_scenario(
        records, evaluation_date=evaluation_date, policy=policy, region_code=region, year=year
    )
