"""The charts and tables of the inkoop pages: two bars per row (now and after), and
the tables behind them, built from the use cases' suppressed aggregates."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from matcher.domain.reasons import Group
from services import what_if as data


class Cell(BaseModel):
    baseline: int | None
    scenario: int | None
    difference: int | None


class Row(BaseModel):
    key: str
    label: str
    within: Cell | None = None  # group tables
    blocked: Cell | None = None
    hidden: bool = False


class Bar(BaseModel):
    series: str  # "nu" or "scenario"
    value: int
    y: int
    width: int
    text_x: int


class ChartRow(BaseModel):
    label: str
    y: int
    bars: list[Bar]


class Chart(BaseModel):
    id: str
    title: str
    height: int
    rows: list[ChartRow]
    after_label: str = "Scenario"


class Table(BaseModel):
    id: str
    title: str
    by_label: str
    kind: str  # "groep" (binnen de norm + geblokkeerd) or "reden" (geblokkeerd)
    rows: list[Row]
    total: Row
    hidden_rows: int
    chart: Chart


class Interval(BaseModel):
    low: int
    median: int
    high: int


CHART_WIDTH = 760
LABEL_WIDTH = 300
BAR = 16
ROW_GAP = 14


def cell(r: data.AggRow) -> Cell:
    return Cell(baseline=r.baseline, scenario=r.scenario, difference=r.difference)


def chart(id_: str, title: str, rows: list[tuple[str, int, int]]) -> Chart:
    """Two bars per row (now and in the scenario), scaled to the largest value."""
    top = max((max(b, s) for _, b, s in rows), default=0)
    room = CHART_WIDTH - LABEL_WIDTH - 50
    out: list[ChartRow] = []
    y = 0
    for label, b, s in rows:
        bars = []
        for k, (series, v) in enumerate((("nu", b), ("scenario", s))):
            width = round(room * v / top) if top else 0
            bars.append(
                Bar(
                    series=series,
                    value=v,
                    y=y + k * BAR,
                    width=width,
                    text_x=LABEL_WIDTH + width + 6,
                )
            )
        out.append(ChartRow(label=label, y=y, bars=bars))
        y += 2 * BAR + ROW_GAP
    return Chart(id=id_, title=title, height=max(y, 1), rows=out)


def group_table(t: data.GroupTable, title: str, id_: str, label: Callable[[str], str]) -> Table:
    rows = [
        Row(key=r.key, label=label(r.key), hidden=True)
        if r.hidden
        else Row(key=r.key, label=label(r.key), within=cell(r.within), blocked=cell(r.blocked))
        for r in t.rows
    ]
    # The chart shows placed within the norm; most first.
    shown = sorted(
        (r for r in rows if r.within is not None),
        key=lambda r: (-(r.within.scenario or 0), r.label) if r.within else (0, r.label),
    )
    # rows that are 0 now and in the scenario say nothing in a chart (they stay in the table)
    bars = [
        (r.label, r.within.baseline or 0, r.within.scenario or 0)
        for r in shown
        if r.within and (r.within.baseline or r.within.scenario)
    ]
    return Table(
        id=id_,
        title=title,
        by_label="Gemeente" if t.by == "gemeente" else "Hulpvorm",
        kind="groep",
        rows=rows,
        total=Row(key="totaal", label="Totaal", within=cell(t.within), blocked=cell(t.blocked)),
        hidden_rows=t.suppressed_rows,
        chart=chart(id_, f"{title}: binnen de norm, nu en in het scenario", bars),
    )


def reason_table(t: data.AggTable) -> Table:
    rows = [
        Row(
            key=r.key,
            label=Group(r.key).label,
            blocked=None if r.baseline is None else cell(r),
            hidden=r.baseline is None,
        )
        for r in t.rows
    ]
    # Ranked: most children blocked in the scenario first; empty reasons last.
    rows.sort(
        key=lambda r: (
            r.hidden,
            -(r.blocked.scenario or 0) if r.blocked else 0,
            -(r.blocked.baseline or 0) if r.blocked else 0,
            r.label,
        )
    )
    bars = [
        (r.label, r.blocked.baseline or 0, r.blocked.scenario or 0)
        for r in rows
        if r.blocked and (r.blocked.baseline or r.blocked.scenario)
    ]
    return Table(
        id="reden",
        title="Knelpunten: geblokkeerd per reden",
        by_label="Reden",
        kind="reden",
        rows=rows,
        total=Row(key="totaal", label="Totaal", blocked=cell(t.total)),
        hidden_rows=t.suppressed_rows,
        chart=chart("reden", "Geblokkeerd per reden, nu en in het scenario", bars),
    )


def interval(t: tuple[float, float, float] | None) -> Interval | None:
    if t is None:
        return None
    return Interval(low=round(t[0]), median=round(t[1]), high=round(t[2]))
