"""Read stored data back as typed records of the import format, for export
(`python -m providers export`), scoped by principal and audited.

The matching does not go through these records: `providers.convert` builds the
domain straight from the stored rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from providers.schema import IMPORT_ORDER
from providers.store.access import AccessDenied, Principal, _split, audit, child_scope
from providers.store.models import (
    AuditAction,
    Budget,
    Child,
    ChildStatus,
    Contract,
    Offering,
    Provider,
    Role,
    SubcontractAcceptance,
)

Records = dict[str, list[dict[str, Any]]]


def load_records(
    session: Session,
    principal: Principal,
    tables: Sequence[str] = IMPORT_ORDER,
    *,
    region_code: str | None = None,
    waiting_only: bool = True,
    purpose: str = "export",
    action: AuditAction = AuditAction.EXPORT,
) -> Records:
    """Stored tables as import-format records.

    Children follow the same scope as `access.waiting_list`; inkoop and
    aanbieder get no child rows (AccessDenied).  Reading children is audited
    as `action` (EXPORT by default) with the refs, never the values.
    """
    out: Records = {}
    providers = {p.id: p for p in session.scalars(select(Provider))}
    ext = {pid: p.ext_id for pid, p in providers.items()}
    if "aanbieders" in tables:
        acc: dict[int, list[str]] = {}
        for a in session.scalars(select(SubcontractAcceptance)):
            acc.setdefault(a.main_provider_id, []).append(ext[a.sub_provider_id])
        out["aanbieders"] = [
            {
                "aanbieder_id": p.ext_id,
                "naam": p.name,
                "regio": p.region_code,
                "hoofdaannemer": p.is_main_contractor,
                "accepteert_onderaannemers": tuple(sorted(acc.get(p.id, ()))),
            }
            for p in sorted(providers.values(), key=lambda p: p.ext_id)
        ]
    off_ext: dict[int, str] = {}
    if "aanbod" in tables or "kinderen" in tables:
        q = select(Offering).order_by(Offering.ext_id)
        offerings = list(session.scalars(q))
        off_ext = {o.id: o.ext_id for o in offerings}
        if "aanbod" in tables:
            out["aanbod"] = [
                {
                    "aanbod_id": o.ext_id,
                    "aanbieder_id": ext[o.provider_id],
                    "zorgvorm": o.care_type,
                    "gemeente": o.gemeente_code,
                    "plaatsen_vrij": o.places_free,
                    "vrijkomend_per_week": o.release_per_week,
                    "leeftijd_min": o.age_min,
                    "leeftijd_max": o.age_max,
                    "lvb_expertise": o.lvb_expertise,
                    "contra_indicaties": _split(o.contra_indications),
                    "opnamestop": o.intake_stop,
                    "prijs_per_plaatsing": o.price_cents,
                    "intake_dagen": o.intake_days,
                    "verwachte_wachttijd_dagen": o.expected_wait_days,
                    "werkgebied": _split(o.service_regions),
                    "bevestigd_door": o.confirmed_by,
                    "bevestigd_op": o.confirmed_at.date(),
                }
                for o in offerings
                if region_code is None
                or o.region_code == region_code
                or region_code in _split(o.service_regions)
            ]
    if "contracten" in tables:
        q2 = select(Contract).order_by(Contract.ext_id)
        if region_code:
            q2 = q2.where(Contract.region_code == region_code)
        out["contracten"] = [
            {
                "contract_id": c.ext_id,
                "aanbieder_id": ext[c.provider_id],
                "regio": c.region_code,
                "gemeente": c.gemeente_code,
                "zorgvorm": c.care_type,
                "perceel": c.perceel,
                "geldig_van": c.valid_from,
                "geldig_tot": c.valid_until,
            }
            for c in session.scalars(q2)
        ]
    if "budgetten" in tables:
        q3 = select(Budget).order_by(Budget.ext_id)
        if region_code:
            q3 = q3.where(Budget.region_code == region_code)
        out["budgetten"] = [
            {
                "budget_id": b.ext_id,
                "niveau": b.level,
                "regio": b.region_code,
                "aanbieder_id": ext.get(b.provider_id) if b.provider_id else None,
                "gemeente": b.gemeente_code,
                "perceel": b.perceel,
                "zorgvormen": _split(b.care_types),
                "plafond": b.ceiling_cents,
                "besteed": b.spent_cents,
                "bevestigd_door": b.confirmed_by,
                "bevestigd_op": b.confirmed_at.date(),
            }
            for b in session.scalars(q3)
        ]
    if "kinderen" in tables:
        if principal.role in (Role.INKOOP, Role.AANBIEDER):
            raise AccessDenied("Deze rol kan geen gegevens van kinderen exporteren.")
        q4 = select(Child).where(*child_scope(principal)).order_by(Child.ref)
        if region_code:
            q4 = q4.where(Child.region_code == region_code)
        if waiting_only:
            q4 = q4.where(Child.status == ChildStatus.WAITING.value)
        rows = []
        for c in session.scalars(q4):
            needs = [n.care_type for n in c.needs] + [None, None, None]
            rows.append(
                {
                    "kind_ref": c.ref,
                    "gemeente": c.gemeente_code,
                    "geboortemaand": c.birth_month,
                    "gi": c.gi,
                    "maatregel": c.measure,
                    "uitspraakdatum": c.ruling_date,
                    "gi_in_kennis_datum": c.gi_notified_date,
                    "urgente_deadline": c.urgent_deadline,
                    "zorgvorm": needs[0],
                    "zorgvorm_2": needs[1],
                    "zorgvorm_3": needs[2],
                    "kenmerken": _split(c.attributes),
                    "gezin_ref": c.family_ref,
                    "huidig_aanbod_id": off_ext.get(c.current_offering_id)
                    if c.current_offering_id
                    else None,
                    "gezinswens_aanbieder_id": ext.get(c.family_prefers_provider_id)
                    if c.family_prefers_provider_id
                    else None,
                }
            )
        out["kinderen"] = rows
        refs = [str(r["kind_ref"]) for r in rows]
        audit(session, principal, action, "children", refs, detail=purpose)
        session.flush()
    return out
