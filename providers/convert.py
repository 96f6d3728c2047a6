"""The one way from provider data to the matcher's domain objects.

`scenario_from_db(session, principal, ...)` builds a `matcher.domain.Scenario`
straight from the stored rows, within the principal's scope (the read of
children is audited); `offering_of` turns a stored offering into the domain's
`Offering` for it and for the verwijzer's search alike, so an offering has one id
(the import format's `aanbod_id`) and the same fields everywhere.
`to_scenario(records, ...)` does the same for the import format's validated
records (files that were not stored), with the same builders.

Choices the import format leaves open, written down here:

- Offering ids are the `aanbod_id` values, need ids are `<kind_ref>/<n>`
  (n = 1, 2, 3 for zorgvorm, zorgvorm_2, zorgvorm_3).
- Releases: an offering's own schedule by date (entered on its edit page) is used
  as it is, dates after the evaluation date and within the horizon only; without
  one, `vrijkomend_per_week` becomes whole places on weekly dates
  (0.5 a week: one place every two weeks).  When an offering has no free place
  and publishes an expected wait, its first place frees after that wait; with
  no release rate, that is one place then.
- An empty `werkgebied` means the offering's own region; the own region is
  never listed in `service_area` (the domain reads it as "besides the region").
- `Offering.perceel` is the perceel of a contract for that provider and care
  type, so perceel budgets apply to it; otherwise the care category.
- Budgets: level "perceel" scopes to provider + perceel, "aanbieder" to the
  provider, "gemeente" to the gemeente, "regio" to the region.  The budget's
  `zorgvormen` list is informative only (the matcher scopes by perceel).
- Names for people: an offering carries its provider's name, a region the names of
  its gemeenten (reference list of the year), and a budget a name by its scope and
  the year of the evaluation date ("Plafond Zorg B.V., ambulante hulp 2027",
  "Plafond Dordrecht 2027", "Plafond regio Zuid-Holland Zuid 2027"), so no sentence
  shows an id or a GM code.
- A need coded `NOG_NIET_BEPAALD` (care type not determined yet) becomes an
  `UnclassifiedNeed` with the same id scheme: counted in every total, never matched.
- A family (`gezin_ref`) with two or more children needing the same care type
  becomes a `FamilyBundle` for that care type (used when the policy bundles).
- `huidig_aanbod_id` is the current placement of the need with the same care
  type, if any.
- `gezinswens_aanbieder_id` (stay on that provider's waiting list) becomes each
  need's `family_prefers_waitlist_at`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

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
    Refusal,
    Release,
    Scenario,
    Subcontract,
    UnclassifiedNeed,
)
from matcher.domain.caretypes import UNCLASSIFIED_CODE, UNCLASSIFIED_LABEL
from providers import reference
from providers.codes import ATTRIBUTE_BY_CODE as ATTRIBUTE_BY_CODE
from providers.errors import ProvidersError
from providers.loop_refusals import refusals_from_loop
from providers.naming import budget_name as budget_name
from providers.naming import regions as regions
from providers.store.access import OfferingView, Principal, search_offerings, waiting_list
from providers.store.models import Provider
from providers.store.purchase import BudgetRow, ContractRow, purchase_tables

Records = Mapping[str, Sequence[Mapping[str, Any]]]

MEASURE_BY_CODE: dict[str, MeasureType] = {
    code: MeasureType(info.get("matcher")) for code, info in reference.measures().items()
}
NEED_COLUMNS = ("zorgvorm", "zorgvorm_2", "zorgvorm_3")
DEFAULT_HORIZON_WEEKS = Policy().horizon_weeks


class ConversionError(ProvidersError, ValueError):
    """The data uses codes the matcher does not know (e.g. a region's own product)."""


def attributes_of(codes: Iterable[str]) -> frozenset[ChildAttribute]:
    """The domain attributes of reference codes; codes the matcher does not use are left out."""
    return frozenset(ATTRIBUTE_BY_CODE[c] for c in codes if c in ATTRIBUTE_BY_CODE)


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


def dated_releases(
    schedule: Iterable[tuple[dt.date, int]], evaluation_date: dt.date, horizon_weeks: int
) -> tuple[Release, ...]:
    """The provider's own release dates after the evaluation date and within the horizon
    (a date already passed is part of the free places the provider states)."""
    last = evaluation_date + dt.timedelta(weeks=horizon_weeks)
    return tuple(
        Release(on=on, places=n) for on, n in sorted(schedule) if evaluation_date < on <= last
    )


# ------------------------------------------------------------------ one builder per object


def offering_of(
    view: OfferingView,
    evaluation_date: dt.date,
    *,
    horizon_weeks: int = DEFAULT_HORIZON_WEEKS,
    perceel: str = "",
) -> Offering:
    """The domain offering of a stored offering (for the matching and the search)."""
    return Offering(
        id=view.ext_id,
        provider=view.provider_ext_id,
        provider_name=view.provider_name,
        care_type=CareType(view.care_type),
        region=view.region_code,
        free_now=view.places_free,
        releases=dated_releases(view.release_schedule, evaluation_date, horizon_weeks)
        if view.release_schedule
        else releases(
            view.release_per_week,
            view.places_free,
            view.expected_wait_days,
            evaluation_date,
            horizon_weeks,
        ),
        location_gemeente=view.gemeente_code,
        service_area=frozenset(r for r in view.service_regions if r != view.region_code),
        age_min=view.age_min,
        age_max=view.age_max,
        expertise=frozenset({Expertise.LVB}) if view.lvb_expertise else frozenset(),
        contra_indications=attributes_of(view.contra_indications),
        intake_stop=view.intake_stop,
        price_cents=view.price_cents,
        intake_lead_days=view.intake_days,
        perceel=perceel,
        last_confirmed=view.confirmed_at.date(),
    )


def contract_of(row: ContractRow) -> Contract:
    return Contract(
        id=row.ext_id,
        provider=row.provider,
        care_type=CareType(row.care_type),
        buyer=row.gemeente or row.region,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
    )


def budget_of(row: BudgetRow, name: str = "") -> Budget:
    level = row.level
    return Budget(
        id=row.ext_id,
        name=name,
        ceiling_cents=row.ceiling_cents,
        spent_cents=row.spent_cents,
        provider=row.provider if level in ("aanbieder", "perceel") else None,
        perceel=row.perceel if level == "perceel" else None,
        gemeente=row.gemeente if level == "gemeente" else None,
        # Every budget belongs to the region that set it; a gemeente budget is
        # already narrower than that.
        region=None if level == "gemeente" else row.region,
    )


def perceel_of(contracts: Iterable[ContractRow]) -> dict[tuple[str, str], str]:
    """(provider, care type) -> the perceel of the first contract that names one."""
    out: dict[tuple[str, str], str] = {}
    for c in contracts:
        if c.perceel:
            out.setdefault((c.provider, c.care_type), c.perceel)
    return out


@dataclass
class _Children:
    """Children, and the family needs that may become bundles, as they are built."""

    children: list[Child] = field(default_factory=list)
    family_needs: dict[tuple[str, CareType], list[tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(
        self,
        *,
        ref: str,
        gemeente: str,
        region: str,
        care_types: Sequence[CareType | str | None],
        birth_month: str,
        measure: str,
        gi: str,
        ruling_date: dt.date,
        gi_notified_date: dt.date | None,
        urgent_deadline: dt.date | None,
        attributes: Iterable[str],
        family: str | None,
        current: str | None,
        offering_ct: Mapping[str, CareType],
        prefers: str | None = None,
    ) -> None:
        needs: list[CareNeed] = []
        unclassified: list[UnclassifiedNeed] = []
        for n, ct in enumerate(care_types, start=1):
            if ct is None:
                continue
            nid = f"{ref}/{n}"
            if not isinstance(ct, CareType):  # the care type is not determined yet
                unclassified.append(UnclassifiedNeed(id=nid, note=UNCLASSIFIED_LABEL))
                continue
            needs.append(
                CareNeed(
                    id=nid,
                    care_type=ct,
                    current_offering=current
                    if current and offering_ct.get(current) is ct
                    else None,
                    family_prefers_waitlist_at=prefers,
                )
            )
            if family:
                self.family_needs[(family, ct)].append((ref, nid))
        y, m = (int(x) for x in birth_month.split("-")[:2])
        self.children.append(
            Child(
                ref=ref,
                gemeente=gemeente,
                region=region,
                needs=tuple(needs),
                birth_month=dt.date(y, m, 1),
                measure=MEASURE_BY_CODE[measure],
                gi=gi,
                ruling_date=ruling_date,
                gi_notified_date=gi_notified_date,
                urgent_deadline=urgent_deadline,
                attributes=frozenset(ATTRIBUTE_BY_CODE[a] for a in attributes),
                family_id=family,
                unclassified_needs=tuple(unclassified),
            )
        )

    def bundles(self) -> tuple[FamilyBundle, ...]:
        return tuple(
            FamilyBundle(id=f"{fam}/{ct.value}", members=tuple(members))
            for (fam, ct), members in sorted(
                self.family_needs.items(), key=lambda kv: (kv[0][0], kv[0][1].value)
            )
            if len(members) >= 2
        )


def _need(code: str | None, where: str, unknown: set[str]) -> CareType | str | None:
    """A waiting child's need: its care type, the unclassified code as it is, or None."""
    if not code:
        return None
    if code == UNCLASSIFIED_CODE:
        return code
    return _care_type(code, where, unknown)


def _care_type(code: str, where: str, unknown: set[str]) -> CareType | None:
    try:
        return CareType(code)
    except ValueError:
        unknown.add(f"{code} ({where})")
        return None


def _serves(
    region: str, area: Iterable[str], provider: str, region_code: str | None, buyers: set[str]
) -> bool:
    """Could the offering serve a child of `region_code`: in the region, serving it, or
    of a contracted provider (or an onderaannemer a contracted one accepts)."""
    return not region_code or region == region_code or region_code in area or provider in buyers


def _record_offering(o: Mapping[str, Any], region: str, provider_name: str = "") -> OfferingView:
    """An import-format offering as the stored offering it would become."""
    confirmed = o.get("bevestigd_op") or dt.date.min
    return OfferingView(
        id=0,
        ext_id=o["aanbod_id"],
        provider_id=0,
        provider_ext_id=o["aanbieder_id"],
        provider_name=provider_name,
        care_type=o["zorgvorm"],
        gemeente_code=o["gemeente"],
        region_code=region,
        places_free=int(o["plaatsen_vrij"]),
        release_per_week=float(o.get("vrijkomend_per_week") or 0.0),
        age_min=0 if o.get("leeftijd_min") is None else int(o["leeftijd_min"]),
        age_max=23 if o.get("leeftijd_max") is None else int(o["leeftijd_max"]),
        lvb_expertise=bool(o.get("lvb_expertise")),
        contra_indications=tuple(o.get("contra_indicaties", ())),
        intake_stop=bool(o.get("opnamestop")),
        price_cents=int(o.get("prijs_per_plaatsing") or 0),
        intake_days=14 if o.get("intake_dagen") is None else int(o["intake_dagen"]),
        expected_wait_days=int(o.get("verwachte_wachttijd_dagen") or 0),
        service_regions=tuple(o.get("werkgebied") or ()),
        confirmed_by=str(o.get("bevestigd_door") or ""),
        confirmed_at=dt.datetime.combine(confirmed, dt.time(), tzinfo=dt.UTC),
        stale=False,
        version=0,
    )


def _known_contracts(rows: Iterable[ContractRow], unknown: set[str]) -> list[Contract]:
    """The contracts of care types the matcher knows; the others go to `unknown`."""
    return [
        contract_of(c)
        for c in rows
        if _care_type(c.care_type, f"contract {c.ext_id}", unknown) is not None
    ]


def _buyers(contracts: Sequence[Contract], subcontracts: Sequence[Subcontract]) -> set[str]:
    contracted = {c.provider for c in contracts}
    return contracted | {s.sub_provider for s in subcontracts if s.main_provider in contracted}


def _scenario(
    *,
    evaluation_date: dt.date,
    policy: Policy,
    region_code: str | None,
    year: int,
    name: str,
    children: _Children,
    offerings: Sequence[Offering],
    contracts: Sequence[Contract],
    subcontracts: Sequence[Subcontract],
    budgets: Sequence[Budget],
    unknown: set[str],
    refusals: Sequence[Refusal] = (),
) -> Scenario:
    if unknown:
        raise ConversionError("Deze codes kent de matcher niet: " + ", ".join(sorted(unknown)))
    return Scenario(
        evaluation_date=evaluation_date,
        children=tuple(children.children),
        offerings=tuple(offerings),
        contracts=tuple(contracts),
        subcontracts=tuple(subcontracts),
        regions=regions(year),
        budgets=tuple(budgets),
        bundles=children.bundles(),
        refusals=tuple(refusals),
        policy=policy,
        name=name or (f"regio {region_code}" if region_code else "alle regio's"),
    )


def to_scenario(
    records: Records,
    *,
    evaluation_date: dt.date,
    policy: Policy | None = None,
    region_code: str | None = None,
    year: int = reference.DEFAULT_YEAR,
    name: str = "",
) -> Scenario:
    """Build a `Scenario` from the import format's records; with `region_code`, only
    that region's children and the offerings that could serve them (in region,
    serving it, or contracted)."""
    policy = policy or Policy()
    gem = reference.gemeenten(year)
    unknown: set[str] = set()
    contract_rows = [
        ContractRow(
            ext_id=c["contract_id"],
            provider=c["aanbieder_id"],
            care_type=c["zorgvorm"],
            gemeente=c.get("gemeente"),
            region=c["regio"],
            perceel=c.get("perceel"),
            valid_from=c.get("geldig_van"),  # type: ignore[arg-type]
            valid_until=c.get("geldig_tot"),
        )
        for c in records.get("contracten", ())
        if not region_code or c["regio"] == region_code
    ]
    contracts = _known_contracts(contract_rows, unknown)
    perceel = perceel_of(contract_rows)
    subcontracts = [
        Subcontract(main_provider=p["aanbieder_id"], sub_provider=sub, accepts=True)
        for p in records.get("aanbieders", ())
        for sub in p.get("accepteert_onderaannemers", ())
    ]
    buyers = _buyers(contracts, subcontracts)
    provider_names = {
        str(p["aanbieder_id"]): str(p.get("naam") or "") for p in records.get("aanbieders", ())
    }
    offerings: list[Offering] = []
    for o in records.get("aanbod", ()):
        view = _record_offering(
            o, gem[o["gemeente"]].region_code, provider_names.get(o["aanbieder_id"], "")
        )
        if not _serves(
            view.region_code, view.service_regions, view.provider_ext_id, region_code, buyers
        ):
            continue
        if _care_type(view.care_type, f"aanbod {view.ext_id}", unknown) is None:
            continue
        offering = offering_of(
            view,
            evaluation_date,
            horizon_weeks=policy.horizon_weeks,
            perceel=perceel.get((view.provider_ext_id, view.care_type), ""),
        )
        if o.get("bevestigd_op") is None:
            offering = replace(offering, last_confirmed=None)
        offerings.append(offering)
    offering_ct = {o.id: o.care_type for o in offerings}
    children = _Children()
    for k in records.get("kinderen", ()):
        region = gem[k["gemeente"]].region_code
        if region_code and region != region_code:
            continue
        where = f"kind {k['kind_ref']}"
        children.add(
            ref=k["kind_ref"],
            gemeente=k["gemeente"],
            region=region,
            care_types=[_need(k.get(col), where, unknown) for col in NEED_COLUMNS],
            birth_month=k["geboortemaand"],
            measure=k["maatregel"],
            gi=k["gi"],
            ruling_date=k["uitspraakdatum"],
            gi_notified_date=k.get("gi_in_kennis_datum"),
            urgent_deadline=k.get("urgente_deadline"),
            attributes=k.get("kenmerken", ()),
            family=k.get("gezin_ref"),
            current=k.get("huidig_aanbod_id"),
            offering_ct=offering_ct,
            prefers=k.get("gezinswens_aanbieder_id"),
        )
    budget_rows = [
        BudgetRow(
            ext_id=b["budget_id"],
            level=b["niveau"],
            region=b["regio"],
            provider=b.get("aanbieder_id"),
            gemeente=b.get("gemeente"),
            perceel=b.get("perceel"),
            care_types=tuple(b.get("zorgvormen") or ()),
            ceiling_cents=int(b["plafond"]),
            spent_cents=int(b.get("besteed") or 0),
        )
        for b in records.get("budgetten", ())
        if not region_code or b["regio"] == region_code
    ]
    budgets = [
        budget_of(b, budget_name(b, evaluation_date.year, provider_names, year))
        for b in budget_rows
    ]
    return _scenario(
        evaluation_date=evaluation_date,
        policy=policy,
        region_code=region_code,
        year=year,
        name=name,
        children=children,
        offerings=offerings,
        contracts=contracts,
        subcontracts=subcontracts,
        budgets=budgets,
        unknown=unknown,
    )


def scenario_from_db(
    session: Session,
    principal: Principal,
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
    policy = policy or Policy()
    region = region_code or principal.region_code
    gem = reference.gemeenten(year)
    unknown: set[str] = set()
    tables = purchase_tables(session, region_code=region)
    contracts = _known_contracts(tables.contracts, unknown)
    perceel = perceel_of(tables.contracts)
    subcontracts = [
        Subcontract(main_provider=main, sub_provider=sub, accepts=True)
        for main, sub in sorted(tables.subcontracts)
    ]
    buyers = _buyers(contracts, subcontracts)
    views = search_offerings(session, principal)
    offerings: list[Offering] = []
    ext_of: dict[int, str] = {}
    for v in sorted(views, key=lambda v: v.ext_id):
        ext_of[v.id] = v.ext_id
        if not _serves(v.region_code, v.service_regions, v.provider_ext_id, region, buyers):
            continue
        if _care_type(v.care_type, f"aanbod {v.ext_id}", unknown) is None:
            continue
        offerings.append(
            offering_of(
                v,
                evaluation_date,
                horizon_weeks=policy.horizon_weeks,
                perceel=perceel.get((v.provider_ext_id, v.care_type), ""),
            )
        )
    offering_ct = {o.id: o.care_type for o in offerings}
    children = _Children()
    rows = waiting_list(session, principal, region_code=region, purpose="matching")
    wished = {c.family_prefers_provider_id for c in rows} - {None}
    q = select(Provider.id, Provider.ext_id).where(Provider.id.in_(wished))
    provider_ext = {pid: ext for pid, ext in session.execute(q).all()} if wished else {}
    for c in sorted(rows, key=lambda c: c.ref):
        if region and gem[c.gemeente_code].region_code != region:
            continue
        where = f"kind {c.ref}"
        # a need whose help has started is no longer asked for; its place in the
        # list stays, so the other needs keep their ids (pins refer to them)
        asked = [None if i in c.started else x for i, x in enumerate(c.needs)]
        codes = [*asked, None, None, None][: len(NEED_COLUMNS)]
        children.add(
            ref=c.ref,
            gemeente=c.gemeente_code,
            region=gem[c.gemeente_code].region_code,
            care_types=[_need(x, where, unknown) for x in codes],
            birth_month=c.birth_month,
            measure=c.measure,
            gi=c.gi,
            ruling_date=c.ruling_date,
            gi_notified_date=c.gi_notified_date,
            urgent_deadline=c.urgent_deadline,
            attributes=c.attributes,
            family=c.family_ref,
            current=ext_of.get(c.current_offering_id) if c.current_offering_id else None,
            offering_ct=offering_ct,
            prefers=provider_ext.get(c.family_prefers_provider_id or 0),
        )
    return _scenario(
        evaluation_date=evaluation_date,
        policy=policy,
        region_code=region,
        year=year,
        name="",
        children=children,
        offerings=offerings,
        contracts=contracts,
        subcontracts=subcontracts,
        budgets=[
            budget_of(b, budget_name(b, evaluation_date.year, tables.provider_names, year))
            for b in tables.budgets
        ],
        unknown=unknown,
        refusals=refusals_from_loop(
            session, principal, region, {c.ref for c in children.children}, offerings
        ),
    )
