"""All-or-nothing import of validated tables into the database.

`import_files` reads, validates and writes in one transaction: either every
row of every file is stored, or nothing is and the caller gets every problem
at once (`ImportRejected`).  Rows are upserted by their own key (aanbieder_id,
aanbod_id, contract_id, budget_id, kind_ref), so a provider can upload a new
version of its list.  Roles limit what may be imported (see `_permission`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from providers import reference
from providers.errors import ImportRejected, Problem
from providers.io.read import MAX_FILE_BYTES, RawTable, read_bytes, read_tables
from providers.store.aanmeldingen import withdraw
from providers.store.access import Principal, audit
from providers.store.models import (
    Aanmelding,
    AuditAction,
    Budget,
    Child,
    ChildNeed,
    Contract,
    ImportBatch,
    NeedClock,
    NeedStatus,
    Offering,
    Provider,
    Role,
    SubcontractAcceptance,
    utcnow,
)
from providers.validate import Validated, validate

ALLOWED_TABLES: dict[Role, set[str]] = {
    Role.BEHEER: {"aanbieders", "aanbod", "contracten", "budgetten", "kinderen"},
    Role.INKOOP: {"aanbieders", "aanbod", "contracten", "budgetten"},
    Role.AANBIEDER: {"aanbod"},
    Role.TAFEL: {"kinderen"},
    Role.VERWIJZER: {"kinderen"},
}


@dataclass
class ImportSummary:
    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    batch_id: int | None = None
    # needs gone from the file that keep their loop history (closed, not deleted)
    closed_needs: int = 0

    def total(self) -> int:
        return sum(self.inserted.values()) + sum(self.updated.values())


def _confirmed(d: dt.date) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)


def known_keys(session: Session) -> dict[str, set[str]]:
    """Keys already stored, so a partial upload may refer to them."""
    return {
        "aanbieders": set(session.scalars(select(Provider.ext_id))),
        "aanbod": set(session.scalars(select(Offering.ext_id))),
    }


def _permission(session: Session, principal: Principal, v: Validated, year: int) -> list[Problem]:
    problems: list[Problem] = []
    allowed = ALLOWED_TABLES[principal.role]
    gem = reference.gemeenten(year)
    own_provider = None
    if principal.role is Role.AANBIEDER and principal.provider_id is not None:
        own_provider = session.scalar(
            select(Provider.ext_id).where(Provider.id == principal.provider_id)
        )
    for t, records in v.records.items():
        file, sheet = v.sources[t]
        if t not in allowed:
            problems.append(
                Problem(
                    file,
                    sheet,
                    None,
                    None,
                    f"Met uw rol kunt u de tabel {t} niet inlezen.",
                    "GEEN_TOEGANG",
                )
            )
            continue
        for rec, row in zip(records, v.rows[t], strict=True):
            if principal.role is Role.AANBIEDER and rec.get("aanbieder_id") != own_provider:
                problems.append(
                    Problem(
                        file,
                        sheet,
                        row,
                        "aanbieder_id",
                        "U kunt alleen uw eigen aanbod inlezen.",
                        "GEEN_TOEGANG",
                    )
                )
            scoped = principal.role in (Role.TAFEL, Role.INKOOP) and principal.region_code
            if scoped:
                region = rec.get("regio") or (
                    gem[rec["gemeente"]].region_code if rec.get("gemeente") else None
                )
                if region is not None and region != principal.region_code:
                    problems.append(
                        Problem(
                            file,
                            sheet,
                            row,
                            "gemeente" if "gemeente" in rec else "regio",
                            f"Deze rij hoort bij regio {region}; u kunt alleen regio "
                            f"{principal.region_code} inlezen.",
                            "GEEN_TOEGANG",
                        )
                    )
    return problems


# Above this many keys, read the whole key column once instead of long IN
# lists: PostgreSQL compares every row with every bound parameter of such a
# list, which made a national import take minutes instead of seconds.
SCAN_ABOVE = 1000


def _ids_by_key(
    session: Session, model: Any, key: str, wanted: list[str], *, version: bool = False
) -> dict[str, tuple[int, int | None]]:
    col = getattr(model, key)
    cols = [model.id, col] + ([model.version] if version else [])
    out: dict[str, tuple[int, int | None]] = {}
    if len(wanted) > SCAN_ABOVE:
        want = set(wanted)
        for rec in session.execute(select(*cols)):
            if rec[1] in want:
                out[rec[1]] = (rec[0], rec[2] if version else None)
        return out
    if wanted:
        for rec in session.execute(select(*cols).where(col.in_(wanted))):
            out[rec[1]] = (rec[0], rec[2] if version else None)
    return out


def _upsert(
    session: Session, model: Any, rows: list[dict[str, Any]], key: str = "ext_id"
) -> tuple[dict[str, int], int, int]:
    """Insert new rows, update existing ones by `key`; return (key -> id, inserted, updated)."""
    has_version = hasattr(model, "version")
    existing = _ids_by_key(session, model, key, [r[key] for r in rows], version=has_version)
    new = [r for r in rows if r[key] not in existing]
    old = []
    for r in rows:
        if r[key] in existing:
            rid, ver = existing[r[key]]
            upd = dict(r, id=rid)
            if has_version:
                upd["version"] = (ver or 0) + 1
            old.append(upd)
    # Core statements on the table: the ORM bulk path splits rows into many
    # small batches by which values are None, which costs minutes on PostgreSQL.
    table = cast(Table, model.__table__)
    conn = session.connection()
    for i in range(0, len(new), 10_000):
        conn.execute(insert(table), new[i : i + 10_000])
    if old:
        cols = sorted({k for r in old for k in r} - {"id"})
        # Parameters named like columns become the SET clause.
        stmt = update(table).where(table.c.id == bindparam("_id"))
        for i in range(0, len(old), 10_000):
            conn.execute(
                stmt, [{**{c: r.get(c) for c in cols}, "_id": r["id"]} for r in old[i : i + 10_000]]
            )
    ids: dict[str, int] = {k: v[0] for k, v in existing.items()}
    for k, (rid, _) in _ids_by_key(session, model, key, [r[key] for r in new]).items():
        ids[k] = rid
    return ids, len(new), len(old)


def _sync_needs(
    session: Session, wanted: Mapping[int, list[str]], *, closed_on: dt.date
) -> list[int]:
    """Bring each child's needs in line with the file, keyed by (child, care type), so
    the aanmeldingen, answers and starts of a need survive a re-import: an unchanged
    need keeps its id, a need gone from the file is closed when the loop has history
    for it and deleted when not, a new one is inserted.  Returns the closed needs."""
    ids = list(wanted)
    existing: dict[int, list[tuple[int, int, str, str]]] = {}
    for i in range(0, len(ids), 5000):
        for nid, cid, seq, ct, st in session.execute(
            select(
                ChildNeed.id,
                ChildNeed.child_id,
                ChildNeed.seq,
                ChildNeed.care_type,
                ChildNeed.status,
            )
            .where(ChildNeed.child_id.in_(ids[i : i + 5000]))
            .order_by(ChildNeed.child_id, ChildNeed.seq)
        ):
            existing.setdefault(cid, []).append((nid, seq, ct, st))
    old_ids = [n[0] for rows in existing.values() for n in rows]
    history: set[int] = set()
    for i in range(0, len(old_ids), 5000):
        chunk = old_ids[i : i + 5000]
        history.update(
            session.scalars(select(Aanmelding.need_id).where(Aanmelding.need_id.in_(chunk)))
        )
        history.update(
            session.scalars(select(NeedClock.need_id).where(NeedClock.need_id.in_(chunk)))
        )

    inserts: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []  # (id, seq, status, closed_on) to set
    gone: list[int] = []
    for cid, codes in wanted.items():
        # An open need first, then a closed one of the same care type (it comes back).
        pool = sorted(existing.get(cid, []), key=lambda n: (n[3] != NeedStatus.OPEN, n[1]))
        for seq, code in enumerate(codes):
            hit = next((n for n in pool if n[2] == code), None)
            if hit is None:
                inserts.append({"child_id": cid, "seq": seq, "care_type": code})
                continue
            pool.remove(hit)
            if hit[1] != seq or hit[3] != NeedStatus.OPEN:
                moves.append({"_id": hit[0], "seq": seq, "status": "open", "closed_on": None})
        for nid, _, _, st in pool:
            if st != NeedStatus.OPEN:
                continue
            if nid in history:
                moves.append(
                    {
                        "_id": nid,
                        "seq": -nid,
                        "status": NeedStatus.CLOSED.value,
                        "closed_on": closed_on,
                    }
                )
            else:
                gone.append(nid)

    conn = session.connection()
    table = cast(Table, ChildNeed.__table__)
    for i in range(0, len(gone), 5000):
        conn.execute(delete(table).where(table.c.id.in_(gone[i : i + 5000])))
    if moves:
        # (child, seq) is unique and checked row by row: park every moved need on its own
        # negative seq first, so two needs that swap places never meet.
        stmt = update(table).where(table.c.id == bindparam("_id"))
        conn.execute(stmt, [{"_id": m["_id"], "seq": -m["_id"]} for m in moves])
        conn.execute(stmt, moves)
    for i in range(0, len(inserts), 10_000):
        conn.execute(insert(table), inserts[i : i + 10_000])
    # The ORM may hold the children with their old needs loaded.
    session.expire_all()
    return [m["_id"] for m in moves if m["status"] == NeedStatus.CLOSED.value]


def _provider_ids(
    session: Session, wanted: Iterable[str], local: Mapping[str, int]
) -> dict[str, int]:
    out = dict(local)
    need = sorted(set(wanted) - set(local))
    out.update({k: v[0] for k, v in _ids_by_key(session, Provider, "ext_id", need).items()})
    return out


def write_validated(
    session: Session,
    principal: Principal,
    v: Validated,
    *,
    year: int = reference.DEFAULT_YEAR,
    files: str = "",
) -> ImportSummary:
    """Write validated tables in the caller's transaction (the caller commits or rolls back)."""
    problems = _permission(session, principal, v, year)
    if problems:
        raise ImportRejected(problems)
    gem = reference.gemeenten(year)
    s = ImportSummary()
    now = utcnow()

    prov_ids: dict[str, int] = {}
    if "aanbieders" in v.records:
        rows = [
            {
                "ext_id": r["aanbieder_id"],
                "name": r["naam"],
                "region_code": r["regio"],
                "is_main_contractor": bool(r["hoofdaannemer"]),
                "updated_at": now,
            }
            for r in v.records["aanbieders"]
        ]
        prov_ids, s.inserted["aanbieders"], s.updated["aanbieders"] = _upsert(
            session, Provider, rows
        )
        mains = [prov_ids[r["aanbieder_id"]] for r in v.records["aanbieders"]]
        if mains:
            session.execute(
                delete(SubcontractAcceptance).where(
                    SubcontractAcceptance.main_provider_id.in_(mains)
                )
            )
        subs = {x for r in v.records["aanbieders"] for x in r["accepteert_onderaannemers"]}
        prov_ids = _provider_ids(session, subs, prov_ids)
        acc = [
            {"main_provider_id": prov_ids[r["aanbieder_id"]], "sub_provider_id": prov_ids[x]}
            for r in v.records["aanbieders"]
            for x in r["accepteert_onderaannemers"]
        ]
        if acc:
            session.connection().execute(insert(cast(Table, SubcontractAcceptance.__table__)), acc)

    def pid(ext: str | None) -> int | None:
        return prov_ids[ext] if ext is not None else None

    for t in ("aanbod", "contracten", "budgetten"):
        if t in v.records:
            prov_ids = _provider_ids(
                session,
                {r["aanbieder_id"] for r in v.records[t] if r.get("aanbieder_id")},
                prov_ids,
            )

    off_ids: dict[str, int] = {}
    if "aanbod" in v.records:
        rows = []
        for r in v.records["aanbod"]:
            region = gem[r["gemeente"]].region_code
            rows.append(
                {
                    "ext_id": r["aanbod_id"],
                    "provider_id": pid(r["aanbieder_id"]),
                    "care_type": r["zorgvorm"],
                    "gemeente_code": r["gemeente"],
                    "region_code": region,
                    "places_free": r["plaatsen_vrij"],
                    "release_per_week": r["vrijkomend_per_week"] or 0.0,
                    "age_min": 0 if r["leeftijd_min"] is None else r["leeftijd_min"],
                    "age_max": 23 if r["leeftijd_max"] is None else r["leeftijd_max"],
                    "lvb_expertise": bool(r["lvb_expertise"]),
                    "contra_indications": ",".join(r["contra_indicaties"]),
                    "intake_stop": bool(r["opnamestop"]),
                    "price_cents": r["prijs_per_plaatsing"] or 0,
                    "intake_days": 14 if r["intake_dagen"] is None else r["intake_dagen"],
                    "expected_wait_days": r["verwachte_wachttijd_dagen"] or 0,
                    # empty = the offering's own region (kept empty so exports round-trip)
                    "service_regions": ",".join(r["werkgebied"]),
                    "confirmed_by": r["bevestigd_door"],
                    "confirmed_at": _confirmed(r["bevestigd_op"]),
                    "updated_at": now,
                }
            )
        off_ids, s.inserted["aanbod"], s.updated["aanbod"] = _upsert(session, Offering, rows)

    if "contracten" in v.records:
        rows = [
            {
                "ext_id": r["contract_id"],
                "provider_id": pid(r["aanbieder_id"]),
                "region_code": r["regio"],
                "gemeente_code": r["gemeente"],
                "care_type": r["zorgvorm"],
                "perceel": r["perceel"],
                "valid_from": r["geldig_van"],
                "valid_until": r["geldig_tot"],
            }
            for r in v.records["contracten"]
        ]
        _, s.inserted["contracten"], s.updated["contracten"] = _upsert(session, Contract, rows)

    if "budgetten" in v.records:
        rows = [
            {
                "ext_id": r["budget_id"],
                "level": r["niveau"],
                "region_code": r["regio"],
                "provider_id": pid(r["aanbieder_id"]),
                "gemeente_code": r["gemeente"],
                "perceel": r["perceel"],
                "care_types": ",".join(r["zorgvormen"]),
                "ceiling_cents": r["plafond"],
                "spent_cents": r["besteed"] or 0,
                "confirmed_by": r["bevestigd_door"],
                "confirmed_at": _confirmed(r["bevestigd_op"]),
            }
            for r in v.records["budgetten"]
        ]
        _, s.inserted["budgetten"], s.updated["budgetten"] = _upsert(session, Budget, rows)

    if "kinderen" in v.records:
        wanted = {r["huidig_aanbod_id"] for r in v.records["kinderen"] if r.get("huidig_aanbod_id")}
        missing = sorted(wanted - set(off_ids))
        off_ids.update(
            {k: v[0] for k, v in _ids_by_key(session, Offering, "ext_id", missing).items()}
        )
        prov_ids = _provider_ids(
            session,
            {
                r["gezinswens_aanbieder_id"]
                for r in v.records["kinderen"]
                if r.get("gezinswens_aanbieder_id")
            },
            prov_ids,
        )
        org_id = principal.organisation_id if principal.role is Role.VERWIJZER else None
        rows = []
        for r in v.records["kinderen"]:
            row = {
                "ref": r["kind_ref"],
                "gemeente_code": r["gemeente"],
                "region_code": gem[r["gemeente"]].region_code,
                "birth_month": r["geboortemaand"],
                "gi": r["gi"],
                "measure": r["maatregel"],
                "ruling_date": r["uitspraakdatum"],
                "gi_notified_date": r["gi_in_kennis_datum"],
                "urgent_deadline": r["urgente_deadline"],
                "attributes": ",".join(r["kenmerken"]),
                "family_ref": r["gezin_ref"],
                "current_offering_id": off_ids.get(r["huidig_aanbod_id"])
                if r.get("huidig_aanbod_id")
                else None,
                "family_prefers_provider_id": pid(r.get("gezinswens_aanbieder_id")),
                "created_at": now,
            }
            if org_id is not None:
                row["organisation_id"] = org_id
            rows.append(row)
        child_ids, s.inserted["kinderen"], s.updated["kinderen"] = _upsert(
            session, Child, rows, key="ref"
        )
        codes_by_child = {
            child_ids[r["kind_ref"]]: [
                c for c in (r["zorgvorm"], r["zorgvorm_2"], r["zorgvorm_3"]) if c
            ]
            for r in v.records["kinderen"]
        }
        closed = _sync_needs(session, codes_by_child, closed_on=now.date())
        s.closed_needs = len(closed)
        # Help no longer asked for: a running aanmelding for it ends (ingetrokken, or
        # afgemeld after a yes) and the provider is told, so no place is kept for it.
        for i in range(0, len(closed), 5000):
            for aid in session.scalars(
                select(Aanmelding.id).where(Aanmelding.active_need_id.in_(closed[i : i + 5000]))
            ):
                withdraw(session, principal, aid, today=now.date())

    counts = {t: s.inserted.get(t, 0) + s.updated.get(t, 0) for t in v.records}
    batch = ImportBatch(
        at=now, actor=principal.username, files=files[:1000], counts=json.dumps(counts)
    )
    session.add(batch)
    session.flush()
    s.batch_id = batch.id
    if "kinderen" in v.records:
        audit(
            session,
            principal,
            AuditAction.IMPORT,
            "children",
            count=len(v.records["kinderen"]),
            detail=f"import_batch={batch.id}",
        )
    session.flush()
    return s


def import_raw(
    sessions: sessionmaker[Session],
    principal: Principal,
    tables: list[RawTable],
    read_problems: list[Problem],
    *,
    files: str = "",
    year: int = reference.DEFAULT_YEAR,
    care_types: Mapping[str, reference.CareTypeInfo] | None = None,
    today: dt.date | None = None,
) -> ImportSummary:
    with sessions() as session, session.begin():
        v = validate(
            tables,
            read_problems,
            year=year,
            care_types=care_types,
            known_keys=known_keys(session),
            today=today,
        )
        try:
            return write_validated(session, principal, v, year=year, files=files)
        except IntegrityError as exc:
            # Validation should have caught this; never leave half an import.
            raise ImportRejected(
                [
                    Problem(
                        files or "(upload)",
                        None,
                        None,
                        None,
                        "De gegevens passen niet bij wat al is opgeslagen.",
                        "DATABASE",
                    )
                ]
            ) from exc
        except DBAPIError as exc:
            raise ImportRejected(
                [
                    Problem(
                        files or "(upload)",
                        None,
                        None,
                        None,
                        "De database gaf een fout; er is niets ingelezen.",
                        "DATABASE",
                    )
                ]
            ) from exc


def import_files(
    sessions: sessionmaker[Session],
    principal: Principal,
    paths: Iterable[Path | str] | Path | str,
    **kwargs: Any,
) -> ImportSummary:
    """Read, validate and store files (or a directory) all-or-nothing."""
    tables, problems = read_tables(paths, kwargs.pop("max_bytes", MAX_FILE_BYTES))
    names = ", ".join(sorted({t.file for t in tables}))
    return import_raw(sessions, principal, tables, problems, files=names, **kwargs)


def import_upload(
    sessions: sessionmaker[Session],
    principal: Principal,
    uploads: Iterable[tuple[str, bytes]],
    **kwargs: Any,
) -> ImportSummary:
    """Same as `import_files` for uploaded (name, bytes) pairs (the web app)."""
    tables: list[RawTable] = []
    problems: list[Problem] = []
    max_bytes = kwargs.pop("max_bytes", MAX_FILE_BYTES)
    names = []
    for name, data in uploads:
        t, p = read_bytes(name, data, max_bytes)
        tables.extend(t)
        problems.extend(p)
        names.append(name)
    return import_raw(sessions, principal, tables, problems, files=", ".join(names), **kwargs)
