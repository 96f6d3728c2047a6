"""Outcomes per group: who is placed within the norm, who is placed late, who waits.

One row per group of a dimension (gemeente, age band, LVB, measure type, care type),
for the matching and for first come, first served on the same list
(`matcher.domain.fcfs`).  The unit is a waiting child:

- a child counts in a group of the care-type dimension when it waits for that care
  type (a child waiting for two care types counts in both; the unclassified needs
  form the group "nog niet bepaald"); in every other dimension exactly once;
- in its group a child is *unplaced* when a need of the group has no place, else
  *unclassified* when a need is not classified yet, else *placed within the norm*
  when every placed need starts on or before the legal deadline
  (`clocks.within_norm`, never the objective's target), else *placed late*;
- children whose help all started are not waiting and are not counted;
- days late are a child's largest days late over its late placements in the group;
  mean and 90th percentile (nearest rank) are over the children placed late.

Disparity rule (docs/outcomes.md): a group of at least `MIN_GROUP` children is
flagged when its share placed within the norm is more than `GAP_POINTS` percentage
points below that of the other children of the same dimension.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from matcher.domain.caretypes import care_type_label
from matcher.domain.fcfs import first_come_first_served
from matcher.domain.match import MatchResult
from matcher.domain.model import Child, ChildAttribute, MeasureType, Scenario

__all__ = [
    "GAP_POINTS",
    "MIN_GROUP",
    "Dimension",
    "GroupOutcome",
    "Outcomes",
    "age_band",
    "child_group",
    "flag_text",
    "matching_and_fcfs",
    "outcomes_per_group",
]

MIN_GROUP = 5
GAP_POINTS = 10.0
# the usual length of help; a child who turns 18 within it needs an 18+ follow-up
TURNING_18_WEEKS = 26
UNCLASSIFIED = "nog niet bepaald"


class Dimension(enum.Enum):
    GEMEENTE = "gemeente"
    AGE = "leeftijd"
    LVB = "lvb"
    MEASURE = "maatregel"
    CARE_TYPE = "zorgvorm"

    @property
    def label(self) -> str:
        return _DIMENSION_LABEL[self]


_DIMENSION_LABEL = {
    Dimension.GEMEENTE: "Gemeente",
    Dimension.AGE: "Leeftijd",
    Dimension.LVB: "Licht verstandelijke beperking (LVB)",
    Dimension.MEASURE: "Maatregel",
    Dimension.CARE_TYPE: "Zorgvorm",
}

MEASURE_LABELS = {
    MeasureType.OTS: "OTS",
    MeasureType.MACHTIGING_UHP: "machtiging uithuisplaatsing",
    MeasureType.OTS_MACHTIGING_UHP: "OTS met machtiging uithuisplaatsing",
    MeasureType.JEUGDRECLASSERING: "jeugdreclassering",
    MeasureType.VOOGDIJ: "voogdij",
    MeasureType.VOLUNTARY: "vrijwillig kader",
}

AGE_BANDS = ("0-5 jaar", "6-11 jaar", "12-15 jaar", "16-17 jaar", "wordt 18 tijdens de hulp")
ADULT = "18 jaar of ouder"


class Placed(Protocol):
    """What the count needs of a placement (the matching's and first come, first served's)."""

    @property
    def within_norm(self) -> bool: ...

    @property
    def days_late(self) -> int: ...


@dataclass(frozen=True)
class GroupOutcome:
    """One group's counts of waiting children; `within_share` in percent (None: no
    children); `flagged`: the disparity rule holds for this group."""

    dimension: Dimension
    group: str
    children: int
    within_norm: int
    placed_late: int
    unplaced: int
    unclassified: int
    mean_days_late: float | None
    p90_days_late: int | None
    within_share: float | None
    rest_share: float | None
    flagged: bool


@dataclass(frozen=True)
class Outcomes:
    """The rows of one method ("matching" or "fcfs"), dimension by dimension."""

    method: str
    rows: tuple[GroupOutcome, ...]

    @property
    def flagged(self) -> tuple[GroupOutcome, ...]:
        return tuple(r for r in self.rows if r.flagged)

    def row(self, dimension: Dimension, group: str) -> GroupOutcome | None:
        return next((r for r in self.rows if r.dimension is dimension and r.group == group), None)


def age_band(scenario: Scenario, child: Child) -> str:
    """The child's age band on the evaluation date; "wordt 18 tijdens de hulp" when it
    turns 18 within `TURNING_18_WEEKS` (only known from a birth month)."""
    ev = scenario.evaluation_date
    age = child.age_on(ev)
    if age >= 18:
        return ADULT
    if child.age_on(ev + timedelta(weeks=TURNING_18_WEEKS)) >= 18:
        return AGE_BANDS[4]
    if age <= 5:
        return AGE_BANDS[0]
    if age <= 11:
        return AGE_BANDS[1]
    if age <= 15:
        return AGE_BANDS[2]
    return AGE_BANDS[3]


def _child_groups(scenario: Scenario, child: Child) -> dict[Dimension, str]:
    lvb = ChildAttribute.LVB in child.attributes
    return {
        Dimension.GEMEENTE: scenario.gemeente_name.get(child.gemeente, child.gemeente),
        Dimension.AGE: age_band(scenario, child),
        Dimension.LVB: "met LVB" if lvb else "zonder LVB",
        Dimension.MEASURE: MEASURE_LABELS[child.measure],
    }


def child_group(scenario: Scenario, child: Child, dimension: Dimension) -> str:
    """The group of a child in a dimension other than the care type."""
    return _child_groups(scenario, child)[dimension]


def p90(values: list[int]) -> int | None:
    """The 90th percentile by nearest rank: the smallest value with at least 90% of
    the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


@dataclass
class _Tally:
    within: int = 0
    late: int = 0
    unplaced: int = 0
    unclassified: int = 0
    days: tuple[int, ...] = ()

    @property
    def children(self) -> int:
        return self.within + self.late + self.unplaced + self.unclassified


def _share(within: int, children: int) -> float | None:
    return round(100.0 * within / children, 1) if children else None


def outcomes_per_group(
    scenario: Scenario,
    placements: Mapping[tuple[str, str], Placed],
    unplaced: Iterable[tuple[str, str]],
    method: str,
) -> Outcomes:
    """Count the waiting children per group of every dimension (see the module)."""
    waiting_unplaced = set(unplaced)
    tallies: dict[Dimension, dict[str, _Tally]] = {d: {} for d in Dimension}

    def add(dim: Dimension, group: str, keys: list[tuple[str, str]], unclassified: bool) -> None:
        t = tallies[dim].setdefault(group, _Tally())
        placed = [placements[k] for k in keys if k in placements]
        if any(k in waiting_unplaced for k in keys):
            t.unplaced += 1
        elif unclassified:
            t.unclassified += 1
        elif placed and all(p.within_norm for p in placed):
            t.within += 1
        elif placed:
            t.late += 1
            t.days += (max(p.days_late for p in placed),)

    for child in scenario.children:
        keys = [
            (child.ref, n.id)
            for n in child.needs
            if (child.ref, n.id) in placements or (child.ref, n.id) in waiting_unplaced
        ]
        if not keys and not child.unclassified_needs:
            continue  # help all started: not waiting
        for dim, group in _child_groups(scenario, child).items():
            add(dim, group, keys, bool(child.unclassified_needs))
        by_care: dict[str, list[tuple[str, str]]] = {}
        for ref, nid in keys:
            label = care_type_label(child.need(nid).care_type)
            by_care.setdefault(label, []).append((ref, nid))
        for label, ks in by_care.items():
            add(Dimension.CARE_TYPE, label, ks, False)
        if child.unclassified_needs:
            add(Dimension.CARE_TYPE, UNCLASSIFIED, [], True)

    rows: list[GroupOutcome] = []
    for dim in Dimension:
        groups = tallies[dim]
        all_children = sum(t.children for t in groups.values())
        all_within = sum(t.within for t in groups.values())
        for group in sorted(groups):
            t = groups[group]
            share = _share(t.within, t.children)
            rest = _share(all_within - t.within, all_children - t.children)
            flagged = (
                t.children >= MIN_GROUP
                and share is not None
                and rest is not None
                and share < rest - GAP_POINTS
            )
            rows.append(
                GroupOutcome(
                    dimension=dim,
                    group=group,
                    children=t.children,
                    within_norm=t.within,
                    placed_late=t.late,
                    unplaced=t.unplaced,
                    unclassified=t.unclassified,
                    mean_days_late=round(sum(t.days) / len(t.days), 1) if t.days else None,
                    p90_days_late=p90(list(t.days)),
                    within_share=share,
                    rest_share=rest,
                    flagged=flagged,
                )
            )
    return Outcomes(method, tuple(rows))


def flag_text(row: GroupOutcome, share_of: Callable[[float], str] | None = None) -> str:
    """The disparity in words for a person (B1 Dutch); empty when not flagged."""
    if not row.flagged or row.within_share is None or row.rest_share is None:
        return ""
    fmt = share_of or (lambda v: f"{v:.0f}%")
    return (
        f"Achterstand: {fmt(row.within_share)} binnen de norm, "
        f"tegen {fmt(row.rest_share)} bij de andere kinderen."
    )


def matching_and_fcfs(result: MatchResult) -> tuple[Outcomes, Outcomes]:
    """The outcomes per group of a matching and of first come, first served on the
    same list, with the same eligibility."""
    sc = result.scenario
    fcfs = first_come_first_served(sc, result.compiled.eligibility)
    return (
        outcomes_per_group(sc, result.placements, result.unplaced, "matching"),
        outcomes_per_group(sc, fcfs.placements, fcfs.unplaced, "fcfs"),
    )
