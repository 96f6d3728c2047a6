"""The monthly uniforme uitvraag: counting, reconciliation and the report data.

Pure computation on snapshots (`momentopnames`).  Rules (DOMAIN.md §6d, T8):
- stock(t) = stock(t-1) + inflow - outflow, per month, with the inflow split into new
  measures and children newly reported although already waiting (e.g. a GI newly included);
- duplicate requests ("dubbele aanvragen") are counted once; cancellations leave the
  waiting count and are listed with their reason;
- a partial survey is never extrapolated;
- every row carries the inspection norm status; a regional definition is an extra
  column, never a replacement;
- (c) obstacles count one decisive reason per child (the tafel run's); every obstacle
  stays as detail;
- the municipal view holds aggregates only, no child-identifying fields.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from matcher.domain.caretypes import CareType
from matcher.domain.clocks import (
    NormStatus,
    days_late_at,
    norm3_deadline_for,
    regional_deadline_for,
    status,
)
from matcher.domain.model import MeasureType, RegionalNorm
from matcher.domain.scenario_file import ScenarioValidationError, _Reader
from matcher.errors import MatcherError
from matcher.problem import ValidationIssue

FORMAT = "beschikbaarheidswijzer-uitvraag"


class PartialSurveyError(MatcherError, ValueError):
    """Raised when a figure would have to be extrapolated from an incomplete survey.

    Its message is written for the person at the screen."""

    def __init__(self, message: str) -> None:
        super().__init__(message, user_message=message)


class CancellationReason(enum.Enum):
    VERHUIZING = "VERHUIZING"
    OUDERS_WILLEN_GEEN_HULP = "OUDERS_WILLEN_GEEN_HULP"
    HULP_NIET_GEREALISEERD = "HULP_NIET_GEREALISEERD"
    ANDERE_DIENSTVERLENING = "ANDERE_DIENSTVERLENING"
    DUBBELE_AANVRAAG = "DUBBELE_AANVRAAG"


class ExitKind(enum.Enum):
    STARTED = "STARTED"
    ALTERNATIVE_ACCEPTED = "ALTERNATIVE_ACCEPTED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class WaitingRecord:
    """One request for help of a waiting child (pseudonymous `child_ref` only).  Empty
    `care_types`: the help is not classified yet; the request still counts."""

    request_id: str
    child_ref: str
    gi: str
    gemeente: str
    measure: MeasureType
    ruling_date: date
    care_types: tuple[CareType, ...]
    obstacles: tuple[str, ...] = ()
    urgent_deadline: date | None = None
    need_determined_date: date | None = None
    late_explanation: str | None = None
    interim_help: str | None = None
    cancelled: CancellationReason | None = None
    # no's from providers recorded in the referral loop (an obstacle of its own)
    declines: int = 0
    # the one reason that stands between the child and help (a few words, counted per
    # gemeente and GI) and its sentence; `obstacles` are the detail
    decisive: str | None = None
    decisive_text: str | None = None


@dataclass(frozen=True)
class Exit:
    child_ref: str
    kind: ExitKind
    on: date
    reason: CancellationReason | None = None


@dataclass(frozen=True)
class Snapshot:
    count_date: date
    region: str
    records: tuple[WaitingRecord, ...]
    exits: tuple[Exit, ...] = ()  # who left the list since the previous snapshot
    gis_included: tuple[str, ...] = ()
    complete: bool = True  # every GI and caseworker reported
    measures_total: int | None = None


@dataclass(frozen=True)
class Cleaned:
    waiting: tuple[WaitingRecord, ...]
    duplicates: tuple[WaitingRecord, ...]
    cancellations: tuple[WaitingRecord, ...]


def clean(records: Sequence[WaitingRecord]) -> Cleaned:
    """Drop cancellations (kept in a list with their reason) and count duplicate requests
    once: the same child waiting for the same help is one waiting child."""
    waiting: list[WaitingRecord] = []
    dups: list[WaitingRecord] = []
    cancelled: list[WaitingRecord] = []
    seen: set[tuple[str, tuple[CareType, ...]]] = set()
    for r in sorted(records, key=lambda x: x.request_id):
        if r.cancelled is CancellationReason.DUBBELE_AANVRAAG:
            dups.append(r)
            continue
        if r.cancelled is not None:
            cancelled.append(r)
            continue
        key = (r.child_ref, tuple(sorted(r.care_types, key=lambda c: c.value)))
        if key in seen:
            dups.append(r)
            continue
        seen.add(key)
        waiting.append(r)
    return Cleaned(tuple(waiting), tuple(dups), tuple(cancelled))


def headline_count(snap: Snapshot) -> int:
    """The number of waiting children; refuses to scale up a partial survey."""
    if not snap.complete:
        raise PartialSurveyError(
            "Deze telling is onvolledig. Het aantal wordt niet opgehoogd of geschat; "
            "vraag de ontbrekende gegevens op."
        )
    return len({r.child_ref for r in clean(snap.records).waiting})


def deadline_of(r: WaitingRecord) -> date:
    """The norm-3 deadline of a waiting request (a record always has a ruling date)."""
    return norm3_deadline_for(r.ruling_date, r.urgent_deadline)


def norm_status(r: WaitingRecord, as_of: date) -> NormStatus:
    return status(deadline_of(r), None, as_of, explanation=r.late_explanation)


@dataclass
class MonthFlow:
    count_date: date
    stock_start: int
    inflow_new_measures: int
    inflow_newly_reported: int
    outflow: dict[str, int]
    stock_end: int
    newly_reported_refs: tuple[str, ...] = ()

    @property
    def inflow(self) -> int:
        return self.inflow_new_measures + self.inflow_newly_reported

    @property
    def outflow_total(self) -> int:
        return sum(self.outflow.values())

    @property
    def balanced(self) -> bool:
        return self.stock_end == self.stock_start + self.inflow - self.outflow_total

    def to_json(self) -> dict[str, Any]:
        return {
            "count_date": self.count_date.isoformat(),
            "stock_start": self.stock_start,
            "inflow_new_measures": self.inflow_new_measures,
            "inflow_newly_reported": self.inflow_newly_reported,
            "outflow": dict(sorted(self.outflow.items())),
            "stock_end": self.stock_end,
            "balanced": self.balanced,
        }


def reconcile(prev: Snapshot, curr: Snapshot) -> MonthFlow:
    """The month between two snapshots.  A child new on the list whose ruling lies before
    the previous count date was already waiting: newly reported, not a new measure.
    Children that left are classified by the recorded exits; unexplained departures are
    counted as UNEXPLAINED so the balance never hides them."""
    if not prev.complete or not curr.complete:
        raise PartialSurveyError("Een onvolledige telling kan niet worden aangesloten.")
    a = {r.child_ref: r for r in clean(prev.records).waiting}
    b = {r.child_ref: r for r in clean(curr.records).waiting}
    new = [b[k] for k in sorted(b.keys() - a.keys())]
    newly = [r for r in new if r.ruling_date <= prev.count_date]
    exits = {e.child_ref: e for e in curr.exits}
    out: Counter[str] = Counter()
    for ref in sorted(a.keys() - b.keys()):
        e = exits.get(ref)
        if e is None:
            out["UNEXPLAINED"] += 1
        elif e.kind is ExitKind.CANCELLED:
            out[f"CANCELLED_{e.reason.value if e.reason else 'ONBEKEND'}"] += 1
        else:
            out[e.kind.value] += 1
    return MonthFlow(
        count_date=curr.count_date,
        stock_start=len(a),
        inflow_new_measures=len(new) - len(newly),
        inflow_newly_reported=len(newly),
        outflow=dict(out),
        stock_end=len(b),
        newly_reported_refs=tuple(r.child_ref for r in newly),
    )


@dataclass
class UitvraagReport:
    count_date: date
    region: str
    rows: list[dict[str, Any]]
    by_gemeente: dict[str, dict[str, Any]]
    by_gi: dict[str, dict[str, Any]]
    cancellations: list[dict[str, Any]]
    duplicates_removed: int
    flow: MonthFlow | None
    definitions: dict[str, str]
    share_of_measures: float | None = None
    regional_norm: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def unclassified(self) -> int:
        """Waiting requests whose help is not classified yet (counted, never dropped)."""
        return sum(1 for r in self.rows if not r["care_types"])

    def to_json(self) -> dict[str, Any]:
        return {
            "count_date": self.count_date.isoformat(),
            "region": self.region,
            "waiting": len(self.rows),
            "unclassified": self.unclassified,
            "definitions": self.definitions,
            "a_children": self.rows,
            "by_gemeente": self.by_gemeente,
            "by_gi": self.by_gi,
            "cancellations": self.cancellations,
            "duplicates_removed": self.duplicates_removed,
            "flow": self.flow.to_json() if self.flow else None,
            "share_of_measures": self.share_of_measures,
        }


def _counted(row: dict[str, Any]) -> list[str]:
    decisive = row.get("decisive")
    return [decisive] if decisive else list(row["obstacles"])


def _sections(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    """(a) who waits (count), (b) for which help, (c) which obstacles, per group."""
    out: dict[str, dict[str, Any]] = {}
    for k in sorted({r[key] for r in rows}):
        mine = [r for r in rows if r[key] == k]
        out[k] = {
            "a_waiting": len(mine),
            "b_care_types": dict(sorted(Counter(c for r in mine for c in r["care_types"]).items())),
            # waiting children whose help is not classified yet still count in (a)
            "b_unclassified": sum(1 for r in mine if not r["care_types"]),
            "b_categories": dict(sorted(Counter(c for r in mine for c in r["categories"]).items())),
            # one decisive reason per child, so the counts add up to children; a record
            # without one (an older snapshot) counts its obstacles
            "c_obstacles": dict(sorted(Counter(o for r in mine for o in _counted(r)).items())),
            "c_obstacle_details": dict(
                sorted(Counter(o for r in mine for o in r["obstacles"]).items())
            ),
            "norm_status": dict(sorted(Counter(r["norm_status"] for r in mine).items())),
        }
    return out


def build_report(
    snap: Snapshot,
    previous: Snapshot | None = None,
    *,
    regional_norm: RegionalNorm | None = None,
) -> UitvraagReport:
    if not snap.complete:
        raise PartialSurveyError(
            "Deze telling is onvolledig; het rapport wordt niet gemaakt en niet opgehoogd."
        )
    cl = clean(snap.records)
    rows: list[dict[str, Any]] = []
    for r in cl.waiting:
        row: dict[str, Any] = {
            "child_ref": r.child_ref,
            "gi": r.gi,
            "gemeente": r.gemeente,
            "measure": r.measure.value,
            "ruling_date": r.ruling_date.isoformat(),
            "days_since_ruling": (snap.count_date - r.ruling_date).days,
            "deadline": deadline_of(r).isoformat(),
            "norm_status": norm_status(r, snap.count_date).value,
            "days_late": days_late_at(deadline_of(r), snap.count_date),
            "care_types": [c.value for c in r.care_types],
            "categories": sorted({c.category.value for c in r.care_types}),
            "interim_help": r.interim_help,
            "decisive": r.decisive,
            "decisive_text": r.decisive_text,
            "obstacles": list(r.obstacles),
            "declines": r.declines,
        }
        if regional_norm is not None and r.need_determined_date is not None:
            dl = regional_deadline_for(r.need_determined_date, regional_norm.weeks)
            row["regional_status"] = status(dl, None, snap.count_date).value
        rows.append(row)
    flow = reconcile(previous, snap) if previous is not None else None
    share = None
    if snap.measures_total:
        share = round(len(rows) / snap.measures_total, 4)
    defs = {
        "inspection": "Hulp is op tijd als die start binnen 3 maanden na de uitspraak, "
        "of eerder als dat nodig is (zoveel eerder).",
        "count": "Momentopname op de teldatum. Dubbele aanvragen tellen één keer. "
        "Afgemelde kinderen tellen niet mee, maar staan met reden in de lijst.",
    }
    if regional_norm is not None:
        defs["regional"] = (
            f"{regional_norm.name}: {regional_norm.weeks} weken na vaststellen hulpvraag "
            "(extra kolom, vervangt de inspectienorm niet)."
        )
    return UitvraagReport(
        count_date=snap.count_date,
        region=snap.region,
        rows=rows,
        by_gemeente=_sections(rows, "gemeente"),
        by_gi=_sections(rows, "gi"),
        cancellations=[
            {"request_id": r.request_id, "reason": r.cancelled.value if r.cancelled else None}
            for r in cl.cancellations
        ],
        duplicates_removed=len(cl.duplicates),
        flow=flow,
        definitions=defs,
        share_of_measures=share,
        regional_norm=regional_norm.name if regional_norm else None,
    )


def municipal_view(report: UitvraagReport, *, min_cell: int = 1) -> dict[str, Any]:
    """Aggregates only: no child refs, request ids or per-child rows.  Cells below
    `min_cell` are suppressed (shown as None)."""

    def sup(d: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in d.items():
            if isinstance(v, dict):
                out[k] = sup(v)
            elif isinstance(v, int) and 0 < v < min_cell:
                out[k] = None
            else:
                out[k] = v
        return out

    return {
        "count_date": report.count_date.isoformat(),
        "region": report.region,
        "definitions": report.definitions,
        "waiting": len(report.rows),
        "unclassified": report.unclassified,
        "by_gemeente": sup(report.by_gemeente),
        "by_gi": sup(report.by_gi),
        "cancellations_by_reason": dict(
            sorted(Counter(c["reason"] for c in report.cancellations).items())
        ),
        "duplicates_removed": report.duplicates_removed,
        "flow": report.flow.to_json() if report.flow else None,
        "share_of_measures": report.share_of_measures,
    }


# ---------------------------------------------------------------- JSON input


def snapshots_from_json(data: dict[str, Any]) -> list[Snapshot]:
    """Read the uitvraag fixture format (see docs/scenario-format.md, last section)."""
    rd = _Reader()
    if data.get("format") != FORMAT or data.get("version") != 1:
        raise ScenarioValidationError([ValidationIssue("$.format", f"moet {FORMAT!r} v1 zijn")])
    out = []
    for i, raw in enumerate(data.get("snapshots", [])):
        snap = rd.obj(Snapshot, raw, f"$.snapshots[{i}]")
        if snap is not None:
            out.append(snap)
    if rd.issues:
        raise ScenarioValidationError(rd.issues)
    return out
