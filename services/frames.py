"""Results as pandas DataFrames, for analysts and for the exports.

`to_frame(x)` takes a match result, an explanation, a what-if comparison, outcomes
per group (the domain's or the page's), the uitvraag report or a tafel run, and gives
one row per thing with the documented columns below.  pandas stays out of the
matcher: the library's results are plain dataclasses and this module reads them.
The exports are written from these frames (`providers.io.export.frame_sheet`), so a
file and a frame can never disagree.  Column names are the exports' Dutch ones.

Columns (docs/analysis.md shows them in use):

- MatchResult, one row per waiting need: kind, hulpvraag, gemeente, leeftijd,
  lvb, maatregel, zorgvorm, uitkomst ("binnen de norm", "te laat", "geen plek",
  "nog niet bepaald"), aanbod, aanbieder, start, deadline, binnen_norm,
  dagen_te_laat.
- Explanation, one row per need without a place: kind, hulpvraag, zorgvorm,
  reden_code, reden, kleinste_wijziging, agenderen, uitleg.
- Comparison (what-if), one row per gemeente and per care type: soort, groep,
  binnen_norm_voor, binnen_norm_na, verschil.
- Outcomes (domain), one row per group: methode, dimensie, groep, kinderen,
  binnen_norm, te_laat, geen_plek, nog_niet_bepaald, aandeel_binnen_norm,
  gemiddeld_dagen_te_laat, p90_dagen_te_laat, achterstand.
- GroupOutcomes (a page's table), one row per group: dimensie, groep, kinderen,
  nog_niet_bepaald, then for the matching and for first come, first served
  (suffix _matching, _eerst): binnen_norm, te_laat, geen_plek,
  aandeel_binnen_norm, gemiddeld_dagen_te_laat, p90_dagen_te_laat, achterstand.
  A hidden (small) cell is empty.
- UitvraagReport, one row per waiting child: kind, gi, gemeente, maatregel,
  uitspraak, dagen_sinds_uitspraak, deadline, normstatus, dagen_te_laat, hulp,
  doorslaggevend (the decisive reason of a child without a place), belemmeringen,
  afwijzingen (no's from providers recorded in the referral loop).
- ReportResult (the uitvraag as the page and its download show it), one row per
  waiting child, by deadline: the columns of `REPORT_COLUMNS`, in words.
- RunOutcome (a tafel run), one row per need: the columns of `RUN_COLUMNS`.

Frames of a page's own result (the inkoop scenario and advice as a job keeps them,
the flows of the rapportage page) are read through small protocols
(`services.page_frames`, re-exported here), so that this layer does not import the
web app and the file has the page's order:

- `scenario_totals_frame`, one row per table row of an inkoop scenario, the columns
  of `SCENARIO_TOTALS_COLUMNS`: tabel, groep, then binnen de norm and geblokkeerd,
  each nu / scenario / verschil.  A hidden (small) count is the text "verborgen"
  (`HIDDEN`); a cell that does not apply to the row is empty.
- `advice_totals_frame`, one row per purchase of a rule plus the rule's total, the
  columns of `ADVICE_TOTALS_COLUMNS`; euro in whole euro.
- `flows_frame`, one row per month between two momentopnames: `FLOW_COLUMNS`.
- `audit_frame`, one row per logboek entry: `AUDIT_COLUMNS`; tijd_utc is the text
  "YYYY-MM-DD HH:MM:SS" (a spreadsheet keeps the time of day that way).
"""

from __future__ import annotations

import datetime as dt
from functools import singledispatch
from typing import Any

import pandas as pd

from matcher.domain.caretypes import care_type_label
from matcher.domain.explain import Explanation, change_text, sentences
from matcher.domain.match import MatchResult
from matcher.domain.model import ChildAttribute
from matcher.domain.outcomes import MEASURE_LABELS, Outcomes, age_band
from matcher.domain.reasons import summary_text
from matcher.domain.uitvraag import UitvraagReport
from matcher.domain.whatif import Comparison
from providers import reference
from services.matching import RunOutcome
from services.norm import norm_status_text
from services.outcomes import GroupOutcomes
from services.page_frames import (
    ADVICE_TOTALS_COLUMNS,
    AUDIT_COLUMNS,
    FLOW_COLUMNS,
    HIDDEN,
    SCENARIO_TOTALS_COLUMNS,
    advice_totals_frame,
    audit_frame,
    flows_frame,
    scenario_totals_frame,
)
from services.uitvraag import ReportResult

__all__ = [
    "ADVICE_TOTALS_COLUMNS",
    "AUDIT_COLUMNS",
    "FLOW_COLUMNS",
    "GROUP_COLUMNS",
    "HIDDEN",
    "REPORT_COLUMNS",
    "RUN_COLUMNS",
    "SCENARIO_TOTALS_COLUMNS",
    "advice_totals_frame",
    "audit_frame",
    "flows_frame",
    "scenario_totals_frame",
    "to_frame",
]

REPORT_COLUMNS = (
    "kind",
    "gi",
    "gemeente",
    "maatregel",
    "uitspraak",
    "dagen_sinds_uitspraak",
    "deadline",
    "norm",
    "dagen_te_laat",
    "hulp",
    "doorslaggevend",
    "belemmeringen",
    "afwijzingen",
)

RUN_COLUMNS = (
    "kind",
    "behoefte",
    "hulp",
    "uitkomst",
    "aanbieder",
    "plaats",
    "start",
    "deadline",
    "binnen_norm",
    "norm",
    "dagen_te_laat",
    "via_hoofdaannemer",
    "toelichting",
)
_METHOD_COLUMNS = (
    "binnen_norm",
    "te_laat",
    "geen_plek",
    "aandeel_binnen_norm",
    "gemiddeld_dagen_te_laat",
    "p90_dagen_te_laat",
    "achterstand",
)
GROUP_COLUMNS = (
    "dimensie",
    "groep",
    "kinderen",
    "nog_niet_bepaald",
    *(f"{c}_matching" for c in _METHOD_COLUMNS),
    *(f"{c}_eerst" for c in _METHOD_COLUMNS),
)


def _frame(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns))


@singledispatch
def to_frame(obj: object) -> pd.DataFrame:
    """One row per thing, with the columns of this module's docstring."""
    raise TypeError(f"no frame for {type(obj).__name__}")


@to_frame.register
def _(result: MatchResult) -> pd.DataFrame:
    sc = result.scenario
    rows: list[dict[str, Any]] = []

    def base(ref: str) -> dict[str, Any]:
        c = sc.child_by_ref[ref]
        return {
            "kind": ref,
            "gemeente": sc.gemeente_name.get(c.gemeente, c.gemeente),
            "leeftijd": age_band(sc, c),
            "lvb": ChildAttribute.LVB in c.attributes,
            "maatregel": MEASURE_LABELS[c.measure],
        }

    for (ref, nid), p in result.placements.items():
        o = sc.offering_by_id[p.offering]
        rows.append(
            base(ref)
            | {
                "hulpvraag": nid,
                "zorgvorm": care_type_label(sc.child_by_ref[ref].need(nid).care_type),
                "uitkomst": "binnen de norm" if p.within_norm else "te laat",
                "aanbod": p.offering,
                "aanbieder": o.display_name,
                "start": p.start,
                "deadline": p.deadline,
                "binnen_norm": p.within_norm,
                "dagen_te_laat": p.days_late,
            }
        )
    for ref, nid in result.unplaced:
        need = sc.child_by_ref[ref].need(nid)
        rows.append(
            base(ref)
            | {
                "hulpvraag": nid,
                "zorgvorm": care_type_label(need.care_type),
                "uitkomst": "geen plek",
                "binnen_norm": False,
            }
        )
    for ref, nid in result.unclassified:
        rows.append(base(ref) | {"hulpvraag": nid, "uitkomst": "nog niet bepaald"})
    cols = (
        "kind",
        "hulpvraag",
        "gemeente",
        "leeftijd",
        "lvb",
        "maatregel",
        "zorgvorm",
        "uitkomst",
        "aanbod",
        "aanbieder",
        "start",
        "deadline",
        "binnen_norm",
        "dagen_te_laat",
    )
    frame = _frame(rows, cols)
    frame["dagen_te_laat"] = frame["dagen_te_laat"].astype("Int64")
    return frame.sort_values(["kind", "hulpvraag"], ignore_index=True)


@to_frame.register
def _(explanation: Explanation) -> pd.DataFrame:
    rows = [
        {
            "kind": ne.child_ref,
            "hulpvraag": ne.need_id,
            "zorgvorm": care_type_label(ne.care_type),
            "reden_code": ne.summary,
            "reden": summary_text(ne.summary),
            "kleinste_wijziging": change_text(ne.smallest_change) if ne.smallest_change else None,
            "agenderen": ne.escalate,
            "uitleg": " ".join(sentences(ne)),
        }
        for ne in explanation.needs
    ]
    cols = ("kind", "hulpvraag", "zorgvorm", "reden_code", "reden", "kleinste_wijziging")
    return _frame(rows, (*cols, "agenderen", "uitleg"))


@to_frame.register
def _(comparison: Comparison) -> pd.DataFrame:
    rows = [
        {"soort": kind, "groep": k, "binnen_norm_voor": a, "binnen_norm_na": b, "verschil": b - a}
        for kind, table in (
            ("gemeente", comparison.by_gemeente),
            ("zorgvorm", comparison.by_care_type),
        )
        for k, (a, b) in sorted(table.items())
    ]
    return _frame(rows, ("soort", "groep", "binnen_norm_voor", "binnen_norm_na", "verschil"))


@to_frame.register
def _(outcomes: Outcomes) -> pd.DataFrame:
    rows = [
        {
            "methode": outcomes.method,
            "dimensie": r.dimension.value,
            "groep": r.group,
            "kinderen": r.children,
            "binnen_norm": r.within_norm,
            "te_laat": r.placed_late,
            "geen_plek": r.unplaced,
            "nog_niet_bepaald": r.unclassified,
            "aandeel_binnen_norm": r.within_share,
            "gemiddeld_dagen_te_laat": r.mean_days_late,
            "p90_dagen_te_laat": r.p90_days_late,
            "achterstand": r.flagged,
        }
        for r in outcomes.rows
    ]
    cols = ("methode", "dimensie", "groep", "kinderen", "binnen_norm", "te_laat", "geen_plek")
    frame = _frame(rows, (*cols, *_METHOD_COLUMNS[3:6], "nog_niet_bepaald", "achterstand"))
    frame["p90_dagen_te_laat"] = frame["p90_dagen_te_laat"].astype("Int64")
    return frame


@to_frame.register
def _(groups: GroupOutcomes) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for r in groups.rows:
        row: dict[str, Any] = {
            "dimensie": r.dimension_label,
            "groep": r.group,
            "kinderen": r.children,
            "nog_niet_bepaald": r.unclassified,
        }
        for suffix, c in (("matching", r.matching), ("eerst", r.fcfs)):
            row |= {
                f"binnen_norm_{suffix}": c.within_norm,
                f"te_laat_{suffix}": c.placed_late,
                f"geen_plek_{suffix}": c.unplaced,
                f"aandeel_binnen_norm_{suffix}": c.within_share,
                f"gemiddeld_dagen_te_laat_{suffix}": c.mean_days_late,
                f"p90_dagen_te_laat_{suffix}": c.p90_days_late,
                f"achterstand_{suffix}": c.flagged,
            }
        rows.append(row)
    frame = _frame(rows, GROUP_COLUMNS)
    for col in GROUP_COLUMNS:
        if col in ("kinderen", "nog_niet_bepaald") or col.startswith(
            ("binnen_norm_", "te_laat_", "geen_plek_", "p90_")
        ):
            frame[col] = frame[col].astype("Int64")
    return frame


@to_frame.register
def _(report: UitvraagReport) -> pd.DataFrame:
    def day(text: str) -> dt.date:
        return dt.date.fromisoformat(text)

    rows = [
        {
            "kind": r["child_ref"],
            "gi": r["gi"],
            "gemeente": r["gemeente"],
            "maatregel": r["measure"],
            "uitspraak": day(r["ruling_date"]),
            "dagen_sinds_uitspraak": r["days_since_ruling"],
            "deadline": day(r["deadline"]),
            "normstatus": r["norm_status"],
            "dagen_te_laat": r["days_late"],
            "hulp": ", ".join(care_type_label(c) for c in r["care_types"]),
            "doorslaggevend": r.get("decisive_text") or "",
            "belemmeringen": "; ".join(r["obstacles"]),
            "afwijzingen": int(r.get("declines", 0)),
        }
        for r in report.rows
    ]
    cols = ("kind", "gi", "gemeente", "maatregel", "uitspraak", "dagen_sinds_uitspraak")
    rest = (
        "deadline",
        "normstatus",
        "dagen_te_laat",
        "hulp",
        "doorslaggevend",
        "belemmeringen",
        "afwijzingen",
    )
    return _frame(rows, (*cols, *rest))


@to_frame.register
def _(outcome: RunOutcome) -> pd.DataFrame:
    rows = [
        {
            "kind": r.child_ref,
            "behoefte": r.need_id,
            "hulp": r.care_type_label,
            "uitkomst": (
                "geplaatst" if r.placed else "nog niet bepaald" if r.unclassified else "geen plek"
            ),
            "aanbieder": r.provider,
            "plaats": r.location,
            "start": r.start,
            "deadline": r.deadline,
            "binnen_norm": r.within_norm,
            "norm": r.norm,
            "dagen_te_laat": r.days_late,
            "via_hoofdaannemer": r.via_main_contractor,
            "toelichting": " ".join(r.sentences),
        }
        for r in outcome.rows
    ]
    return _frame(rows, RUN_COLUMNS)


@to_frame.register
def _(result: ReportResult) -> pd.DataFrame:
    gemeenten = {code: g.name for code, g in reference.gemeenten().items()}
    gis = {code: c.label for code, c in reference.gis().items()}
    measures = {c.get("matcher"): c.label for c in reference.measures().values()}
    rows = [
        {
            "kind": r["child_ref"],
            "gi": gis.get(r["gi"], r["gi"]),
            "gemeente": gemeenten.get(r["gemeente"], r["gemeente"]),
            "maatregel": measures.get(r["measure"], r["measure"]),
            "uitspraak": dt.date.fromisoformat(r["ruling_date"]),
            "dagen_sinds_uitspraak": r["days_since_ruling"],
            "deadline": dt.date.fromisoformat(r["deadline"]),
            "norm": norm_status_text(r["norm_status"], int(r.get("days_late", 0))),
            "dagen_te_laat": int(r.get("days_late", 0)),
            "hulp": ", ".join(care_type_label(c) for c in r["care_types"]),
            "doorslaggevend": r.get("decisive_text") or "",
            "belemmeringen": "; ".join(r["obstacles"]),
            "afwijzingen": int(r.get("declines", 0)),
        }
        for r in result.report.rows
    ]
    frame = _frame(rows, REPORT_COLUMNS)
    return frame.sort_values(["deadline", "kind"], ignore_index=True)
