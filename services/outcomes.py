"""Use case: outcomes per group of a matching, next to first come, first served.

The counts are the domain's (`matcher.domain.outcomes`); this module gives them the
names a person reads and, for inkoop, hides small cells with the data layer's rule
(`providers.store.aggregates.protect`): a row of a dimension is hidden when a count
of it, for either method, is 1 to 4, plus so many more rows that the dimension's
total minus the shown rows gives no hidden row back.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from matcher.domain.match import MatchResult
from matcher.domain.outcomes import (
    ADULT,
    AGE_BANDS,
    GAP_POINTS,
    MIN_GROUP,
    Dimension,
    GroupOutcome,
    flag_text,
    matching_and_fcfs,
)
from providers import reference
from providers.store.aggregates import protect

RULE_TEXT = (
    f"Een groep krijgt de vlag 'achterstand' als er minstens {MIN_GROUP} kinderen in "
    f"zitten en het deel van de kinderen dat binnen de norm geholpen wordt meer dan "
    f"{GAP_POINTS:.0f} procentpunten lager is dan bij de andere kinderen."
)
FCFS_TEXT = (
    "Wie het eerst komt, het eerst maalt: de kinderen op volgorde van de datum van de "
    "uitspraak; elk kind krijgt de plek die past en het eerst vrij is."
)
UNIT_TEXT = (
    "We tellen kinderen die wachten. Een kind dat op twee zorgvormen wacht, telt bij "
    "elke zorgvorm mee. Dagen te laat: alleen van de kinderen met een plek die te laat start."
)
HIDDEN_TEXT = "Aantallen onder 5 kinderen worden niet getoond."


class GroupCells(BaseModel):
    """One method's counts of waiting children in a group; None: hidden (small cell)."""

    within_norm: int | None
    placed_late: int | None
    unplaced: int | None
    mean_days_late: float | None = Field(description="over the children placed late")
    p90_days_late: int | None = Field(description="90th percentile, nearest rank")
    within_share: float | None = Field(description="percent of the group's children")
    flagged: bool
    flag_text: str = ""


class GroupRow(BaseModel):
    dimension: str = Field(description="the dimension's code: gemeente, leeftijd, ...")
    dimension_label: str
    group: str
    children: int | None
    unclassified: int | None
    matching: GroupCells
    fcfs: GroupCells
    hidden: bool = False


class GroupOutcomes(BaseModel):
    """Outcomes per group of one list, for the matching and for first come, first served."""

    rows: list[GroupRow] = Field(default_factory=list)
    rule: str = RULE_TEXT
    fcfs_rule: str = FCFS_TEXT
    unit: str = UNIT_TEXT
    hidden_rows: int = 0

    @property
    def flagged(self) -> list[GroupRow]:
        return [r for r in self.rows if r.matching.flagged]

    @property
    def dimensions(self) -> list[tuple[str, list[GroupRow]]]:
        out: dict[str, list[GroupRow]] = {}
        for r in self.rows:
            out.setdefault(r.dimension_label, []).append(r)
        return list(out.items())


def _cells(o: GroupOutcome) -> GroupCells:
    return GroupCells(
        within_norm=o.within_norm,
        placed_late=o.placed_late,
        unplaced=o.unplaced,
        mean_days_late=o.mean_days_late,
        p90_days_late=o.p90_days_late,
        within_share=o.within_share,
        flagged=o.flagged,
        flag_text=flag_text(o),
    )


def group_outcomes(result: MatchResult) -> GroupOutcomes:
    """The matching's outcomes per group next to first come, first served's."""
    ours, fcfs = matching_and_fcfs(result)
    names = {code: g.name for code, g in reference.gemeenten().items()}
    rows: list[GroupRow] = []
    for o in ours.rows:
        f = fcfs.row(o.dimension, o.group)
        if f is None:  # both count the same waiting children in the same groups
            raise AssertionError(f"group {o.group} missing in first come, first served")
        group = names.get(o.group, o.group) if o.dimension is Dimension.GEMEENTE else o.group
        rows.append(
            GroupRow(
                dimension=o.dimension.value,
                dimension_label=o.dimension.label,
                group=group,
                children=o.children,
                unclassified=o.unclassified,
                matching=_cells(o),
                fcfs=_cells(f),
            )
        )
    # a person reads ages youngest first and the rest by name (codes sort otherwise)
    dims = [d.value for d in Dimension]
    ages = [*AGE_BANDS, ADULT]

    def order(r: GroupRow) -> tuple[int, int, str]:
        age = ages.index(r.group) if r.dimension == Dimension.AGE.value else 0
        return dims.index(r.dimension), age, r.group.casefold()

    return GroupOutcomes(rows=sorted(rows, key=order))


def _counts(r: GroupRow) -> tuple[int, ...]:
    per_method = [
        v for c in (r.matching, r.fcfs) for v in (c.within_norm, c.placed_late, c.unplaced)
    ]
    return tuple(int(v or 0) for v in (r.children, r.unclassified, *per_method))


def hide_small_cells(g: GroupOutcomes) -> GroupOutcomes:
    """The same table with small cells hidden (inkoop sees totals only).  A hidden row
    keeps its group name and its flag, which gives no count away."""
    hidden_keys: set[tuple[str, str]] = set()
    for dim in Dimension:
        rows = {r.group: _counts(r) for r in g.rows if r.dimension == dim.value}
        hidden_keys |= {(dim.value, k) for k in protect(rows)}
    out: list[GroupRow] = []
    for r in g.rows:
        if (r.dimension, r.group) not in hidden_keys:
            out.append(r)
            continue
        blank = {
            "within_norm": None,
            "placed_late": None,
            "unplaced": None,
            "mean_days_late": None,
            "p90_days_late": None,
            "within_share": None,
        }
        out.append(
            r.model_copy(
                update={
                    "children": None,
                    "unclassified": None,
                    "hidden": True,
                    "matching": r.matching.model_copy(update=blank | {"flag_text": ""}),
                    "fcfs": r.fcfs.model_copy(update=blank | {"flag_text": ""}),
                }
            )
        )
    return g.model_copy(update={"rows": out, "hidden_rows": len(hidden_keys)})
