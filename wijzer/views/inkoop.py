"""Inkoop: aggregates only, small cells suppressed by the data layer.

Shows how many children wait, per gemeente and per care type, as a
chart (SVG) and as a table with the same numbers; the counts come from the
use case ``services.waiting_overview``.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy.orm import Session

from services.waiting_overview import waiting_overview
from wijzer.auth import SessionUser

CHART_WIDTH = 760
BAR_HEIGHT = 22
BAR_GAP = 8
LABEL_WIDTH = 320


class Cell(BaseModel):
    key: str
    label: str
    count: int | None
    suppressed: bool


class Bar(BaseModel):
    label: str
    count: int
    y: int
    width: int
    text_x: int


class Chart(BaseModel):
    title: str
    height: int
    bars: list[Bar]
    max_count: int


class Breakdown(BaseModel):
    title: str
    by: str
    key_label: str
    counts: str  # what one unit of a count is, for the column heading
    overlap_note: str
    cells: list[Cell]
    total: int | None
    suppressed_cells: int
    chart: Chart


class InkoopContext(BaseModel):
    region: str | None
    note: str
    breakdowns: list[Breakdown]


def chart_of(title: str, cells: list[Cell]) -> Chart:
    """Bars for the cells that may be shown; suppressed cells are left out of the chart
    and marked in the table."""
    shown = sorted((c for c in cells if c.count is not None), key=lambda c: -(c.count or 0))
    top = max((c.count or 0 for c in shown), default=0)
    room = CHART_WIDTH - LABEL_WIDTH - 40
    bars = []
    for i, c in enumerate(shown):
        width = round(room * (c.count or 0) / top) if top else 0
        bars.append(
            Bar(
                label=c.label,
                count=c.count or 0,
                y=i * (BAR_HEIGHT + BAR_GAP),
                width=width,
                text_x=LABEL_WIDTH + width + 6,
            )
        )
    height = max(1, len(bars)) * (BAR_HEIGHT + BAR_GAP)
    return Chart(title=title, height=height, bars=bars, max_count=top)


def overview(session: Session, user: SessionUser) -> InkoopContext:
    result = waiting_overview(session, user)
    breakdowns = []
    for b in result.breakdowns:
        cells = [
            Cell(key=c.key, label=c.label, count=c.count, suppressed=c.count is None)
            for c in b.cells
        ]
        breakdowns.append(
            Breakdown(
                title=b.dimension.title,
                by=b.dimension.by,
                key_label=b.dimension.key_label,
                counts=b.dimension.counts,
                overlap_note=b.dimension.overlap_note,
                cells=cells,
                total=b.total,
                suppressed_cells=b.hidden_cells,
                chart=chart_of(b.dimension.title, cells),
            )
        )
    return InkoopContext(region=result.region, note=result.note, breakdowns=breakdowns)
