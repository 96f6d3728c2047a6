"""The purchase rows (providers, contracts, accepted onderaannemers, budgets) in one
read, and the data version that tells a cache when any of it changed.

Plain column selects: a search must not build thousands of ORM objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from providers.store import changes, models


@dataclass(frozen=True)
class ContractRow:
    """A contract with its provider named by the import format's `aanbieder_id`."""

    ext_id: str
    provider: str
    care_type: str
    gemeente: str | None
    region: str
    perceel: str | None
    valid_from: dt.date
    valid_until: dt.date | None


@dataclass(frozen=True)
class BudgetRow:
    ext_id: str
    level: str
    region: str
    provider: str | None
    gemeente: str | None
    perceel: str | None
    care_types: tuple[str, ...]
    ceiling_cents: int
    spent_cents: int


@dataclass(frozen=True)
class PurchaseTables:
    """The rows behind every purchase question, read once per data version."""

    contracts: tuple[ContractRow, ...]
    subcontracts: tuple[tuple[str, str], ...]  # (main provider, accepted sub provider)
    budgets: tuple[BudgetRow, ...]
    # provider ext id -> the provider's name (ceilings and offerings are named by it)
    provider_names: Mapping[str, str] = field(default_factory=dict)


def purchase_tables(session: Session, *, region_code: str | None = None) -> PurchaseTables:
    """Every provider; the contracts and budgets of `region_code` (all without it)."""
    prov, con = models.Provider, models.Contract
    sub, bud = models.SubcontractAcceptance, models.Budget
    cq = select(
        con.ext_id,
        con.provider_id,
        con.care_type,
        con.gemeente_code,
        con.region_code,
        con.perceel,
        con.valid_from,
        con.valid_until,
    ).order_by(con.ext_id)
    bq = select(
        bud.ext_id,
        bud.level,
        bud.region_code,
        bud.provider_id,
        bud.gemeente_code,
        bud.perceel,
        bud.care_types,
        bud.ceiling_cents,
        bud.spent_cents,
    ).order_by(bud.ext_id)
    if region_code:
        cq = cq.where(con.region_code == region_code)
        bq = bq.where(bud.region_code == region_code)
    ext: dict[int, str] = {}
    names: dict[str, str] = {}
    for pid, e, n in session.execute(select(prov.id, prov.ext_id, prov.name)):
        ext[pid] = e
        names[e] = n
    return PurchaseTables(
        contracts=tuple(ContractRow(r[0], ext[r[1]], *r[2:]) for r in session.execute(cq)),
        subcontracts=tuple(
            (ext[m], ext[s])
            for m, s in session.execute(
                select(sub.main_provider_id, sub.sub_provider_id).order_by(
                    sub.main_provider_id, sub.sub_provider_id
                )
            )
        ),
        budgets=tuple(
            BudgetRow(
                ext_id=r[0],
                level=r[1],
                region=r[2],
                provider=ext[r[3]] if r[3] else None,
                gemeente=r[4],
                perceel=r[5],
                care_types=tuple(t for t in (r[6] or "").split(",") if t),
                ceiling_cents=int(r[7]),
                spent_cents=int(r[8] or 0),
            )
            for r in session.execute(bq)
        ),
        provider_names=names,
    )


def data_version(session: Session, read: Mapping[str, int] | None = None) -> tuple[object, ...]:
    """Changes whenever anything the search reads changes (including imports): on
    SQLite and PostgreSQL the database's own change counter (`changes.OFFERS`).
    `read`: the counters as `changes.counters` read them earlier in this session."""
    n = changes.counter(session, changes.OFFERS, read)
    return (n,) if n is not None else _summed_version(session)


def _summed_version(session: Session) -> tuple[object, ...]:
    """The version from the tables themselves, for a database without the triggers."""
    off, bud = models.Offering, models.Budget
    row = session.execute(
        select(
            select(func.count(off.id)).scalar_subquery(),
            select(func.coalesce(func.sum(off.version), 0)).scalar_subquery(),
            select(func.max(off.updated_at)).scalar_subquery(),
            select(func.count(bud.id)).scalar_subquery(),
            select(func.coalesce(func.sum(bud.version), 0)).scalar_subquery(),
            select(func.max(models.ImportBatch.id)).scalar_subquery(),
            select(func.count(models.Contract.id)).scalar_subquery(),
            select(func.count()).select_from(models.SubcontractAcceptance).scalar_subquery(),
            select(func.count(models.Provider.id)).scalar_subquery(),
        )
    ).one()
    return tuple(row)
