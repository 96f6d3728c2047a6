"""Frames of a page's own result, read through small protocols so that the use cases
do not import the web app: the inkoop totals (scenario and advice), the stock and
flow per month and the beheer logboek.  `services.frames` documents the columns and
re-exports these functions; the downloads are written from them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Protocol

import pandas as pd

from providers.store.audit_log import AuditRow

# ------------------------------------------------------------ a page's own result

HIDDEN = "verborgen"
SUMMARY = "Samenvatting"
UNCLASSIFIED_ROW = "Hulpvraag nog niet bepaald (apart van geblokkeerd: krijgt nog geen plek)"
SCENARIO_TOTALS_COLUMNS = (
    "tabel",
    "groep",
    "binnen de norm nu",
    "binnen de norm scenario",
    "verschil binnen de norm",
    "geblokkeerd nu",
    "geblokkeerd scenario",
    "verschil geblokkeerd",
)
ADVICE_TOTALS_COLUMNS = (
    "regel",
    "hulpvorm",
    "plekken",
    "kosten in euro (één traject per plek)",
    "kinderen binnen de norm door deze inkoop",
    "euro per kind (per traject)",
)
FLOW_COLUMNS = (
    "van",
    "teldatum",
    "voorraad_begin",
    "instroom_nieuwe_maatregel",
    "instroom_nieuw_gemeld",
    "uitstroom_gestart",
    "uitstroom_afgemeld",
    "uitstroom_onbekend",
    "uitstroom_anders",
    "voorraad_eind",
    "sluit_aan",
)
AUDIT_COLUMNS = (
    "id",
    "tijd_utc",
    "gebruiker",
    "rol",
    "actie",
    "gegevens",
    "aantal",
    "refs",
    "toelichting",
)


# Read-only properties, so that a page's models (pydantic) fit these protocols.
class TotalsCell(Protocol):
    @property
    def baseline(self) -> int | None: ...
    @property
    def scenario(self) -> int | None: ...
    @property
    def difference(self) -> int | None: ...


class TotalsRow(Protocol):
    @property
    def label(self) -> str: ...
    @property
    def within(self) -> TotalsCell | None: ...
    @property
    def blocked(self) -> TotalsCell | None: ...
    @property
    def hidden(self) -> bool: ...


class TotalsTable(Protocol):
    @property
    def title(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def rows(self) -> Sequence[TotalsRow]: ...
    @property
    def total(self) -> TotalsRow: ...


class ScenarioTotals(Protocol):
    @property
    def within(self) -> TotalsCell: ...
    @property
    def blocked(self) -> TotalsCell: ...
    @property
    def placed_late(self) -> TotalsCell: ...
    @property
    def unclassified(self) -> int | None: ...
    @property
    def tables(self) -> Sequence[TotalsTable]: ...


class AdvicePurchase(Protocol):
    @property
    def label(self) -> str: ...
    @property
    def places(self) -> int: ...
    @property
    def spent_cents(self) -> int: ...
    @property
    def children(self) -> int | None: ...
    @property
    def cents_per_child(self) -> int | None: ...


class AdviceRule(Protocol):
    @property
    def label(self) -> str: ...
    @property
    def spent_cents(self) -> int: ...
    @property
    def gained(self) -> int | None: ...
    @property
    def purchases(self) -> Sequence[AdvicePurchase]: ...


class AdviceTotals(Protocol):
    @property
    def rules(self) -> Sequence[AdviceRule]: ...


class MonthFlowRow(Protocol):
    @property
    def from_date(self) -> dt.date: ...
    @property
    def count_date(self) -> dt.date: ...
    @property
    def stock_start(self) -> int: ...
    @property
    def inflow_new_measures(self) -> int: ...
    @property
    def inflow_newly_reported(self) -> int: ...
    @property
    def started(self) -> int: ...
    @property
    def cancelled(self) -> int: ...
    @property
    def unexplained(self) -> int: ...
    @property
    def other_outflow(self) -> int: ...
    @property
    def stock_end(self) -> int: ...
    @property
    def balanced(self) -> bool: ...


def _shown(n: int | None) -> int | str:
    return HIDDEN if n is None else n


def _cells(c: TotalsCell) -> list[int | str]:
    return [_shown(c.baseline), _shown(c.scenario), _shown(c.difference)]


def scenario_totals_frame(result: ScenarioTotals) -> pd.DataFrame:
    """The inkoop scenario's aggregates, the same cells and order as its page."""
    empty: list[int | str] = ["", "", ""]
    rows: list[list[int | str]] = [
        [SUMMARY, "Alle hulpvragen", *_cells(result.within), *_cells(result.blocked)],
        [
            SUMMARY,
            "Waarvan een plek, maar te laat (start na de deadline)",
            *empty,
            *_cells(result.placed_late),
        ],
        # not within the norm and not blocked either: its own row, in the blocked
        # columns, so that the within-norm columns keep adding up
        [SUMMARY, UNCLASSIFIED_ROW, *empty, *[_shown(result.unclassified)] * 2, 0],
    ]
    for t in result.tables:
        for row in [*t.rows, t.total]:
            cells: list[int | str] = [t.title, row.label]
            for col, c in (("within", row.within), ("blocked", row.blocked)):
                if c is None:
                    # a reason table has no within-norm columns: empty, never hidden
                    shown_here = not (t.kind == "reden" and col == "within")
                    cells += [HIDDEN] * 3 if row.hidden and shown_here else empty
                else:
                    cells += _cells(c)
            rows.append(cells)
    return pd.DataFrame(rows, columns=list(SCENARIO_TOTALS_COLUMNS), dtype=object)


def advice_totals_frame(advice: AdviceTotals) -> pd.DataFrame:
    """The purchase advice per rule: its purchases, then the rule's total."""
    rows: list[list[int | str]] = []
    for r in advice.rules:
        for p in r.purchases:
            per_child = HIDDEN if p.cents_per_child is None else p.cents_per_child // 100
            rows.append(
                [r.label, p.label, p.places, p.spent_cents // 100, _shown(p.children), per_child]
            )
        rows.append([r.label, "Totaal", "", r.spent_cents // 100, _shown(r.gained), ""])
    return pd.DataFrame(rows, columns=list(ADVICE_TOTALS_COLUMNS), dtype=object)


def flows_frame(flows: Iterable[MonthFlowRow]) -> pd.DataFrame:
    rows = [
        [
            f.from_date,
            f.count_date,
            f.stock_start,
            f.inflow_new_measures,
            f.inflow_newly_reported,
            f.started,
            f.cancelled,
            f.unexplained,
            f.other_outflow,
            f.stock_end,
            f.balanced,
        ]
        for f in flows
    ]
    return pd.DataFrame(rows, columns=list(FLOW_COLUMNS), dtype=object)


def audit_frame(entries: Iterable[AuditRow]) -> pd.DataFrame:
    rows = [
        [
            r.id,
            r.at.strftime("%Y-%m-%d %H:%M:%S"),
            r.actor,
            r.role,
            r.action,
            r.entity,
            r.record_count,
            r.record_refs,
            r.detail,
        ]
        for r in entries
    ]
    return pd.DataFrame(rows, columns=list(AUDIT_COLUMNS), dtype=object)
