"""Solve a scenario and read the answer back in domain terms.

The objective aims at each child's target date (see `compile`); whether a placement is
"binnen de norm" is the norm clock's verdict on its real start (`clocks.start_verdict`),
never the objective's flag.
"""

from __future__ import annotations

import enum
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np

from matcher.domain.arcs import ArcInfo
from matcher.domain.clocks import NormStatus, deadline_norm3, start_verdict, status
from matcher.domain.compile import Compiled, compile_scenario
from matcher.domain.components import solve_by_components
from matcher.domain.eligibility import PairCheck, PairWarning, evaluate, start_of
from matcher.domain.model import Scenario
from matcher.solution import Solution, SolveOptions
from matcher.solve import solve
from matcher.solvers.budget import TimeBudget

DEFAULT_OPTIONS = SolveOptions(time_limit_s=10.0, relative_gap=0.0)
# Part of the limit kept back for decoding, so that the whole match keeps the limit.
DECODE_RESERVE_SHARE = 0.05
DECODE_RESERVE_MAX_S = 0.5


class PlacementKind(enum.Enum):
    PRIMARY = "PRIMARY"
    ALTERNATIVE = "ALTERNATIVE"
    KEPT = "KEPT"


@dataclass(frozen=True)
class Placement:
    """One placed need.  `within_norm`: help starts on or before the legal norm-3
    deadline (for an alternative: only when accepted); `days_late`: days the start lies
    after that deadline (0 when on time)."""

    child_ref: str
    need_id: str
    offering: str
    provider: str
    care_type: str
    start: date
    deadline: date | None
    norm_status: NormStatus
    within_norm: bool
    kind: PlacementKind
    via_main_contractor: str | None = None
    bundle: str | None = None
    warnings: tuple[PairWarning, ...] = ()
    days_late: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "child": self.child_ref,
            "need": self.need_id,
            "offering": self.offering,
            "provider": self.provider,
            "care_type": self.care_type,
            "start": self.start.isoformat(),
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "norm_status": self.norm_status.value,
            "within_norm": self.within_norm,
            "days_late": self.days_late,
            "kind": self.kind.value,
            "via_main_contractor": self.via_main_contractor,
            "bundle": self.bundle,
            "warnings": [w.value for w in self.warnings],
        }


@dataclass(frozen=True)
class ChildCounts:
    """Every child of the scenario in exactly one bucket, so that the totals always add
    up to the list the GI sent: `unplaced` (a classified need waits without a place),
    else `unclassified` (a need is not classified yet), else `placed` (every waiting need
    has a place), else `not_waiting` (all help already started)."""

    total: int
    placed: int
    unplaced: int
    unclassified: int
    not_waiting: int

    def to_json(self) -> dict[str, int]:
        return {
            "total": self.total,
            "placed": self.placed,
            "unplaced": self.unplaced,
            "unclassified": self.unclassified,
            "not_waiting": self.not_waiting,
        }


@dataclass
class MatchResult:
    scenario: Scenario
    compiled: Compiled
    solution: Solution
    placements: dict[tuple[str, str], Placement] = field(default_factory=dict)
    unplaced: list[tuple[str, str]] = field(default_factory=list)
    # items whose independent part of the problem was solved to proven optimality
    proven_items: frozenset[str] = frozenset()

    @property
    def n_within_norm(self) -> int:
        return sum(1 for p in self.placements.values() if p.within_norm)

    @property
    def n_meets_target(self) -> int:
        """Members whose help starts by the objective's target date (tier 1 of the
        objective; an overdue child within its grace days counts).  Not the norm."""
        look = {(i.item, f"{i.offering}@{i.group}"): i for i in self.compiled.arcs}
        return sum(
            info.members
            for item, opt in self.solution.assignments.items()
            if (info := look[(item, opt)]).meets_target
        )

    @property
    def n_on_time(self) -> int:
        return sum(1 for p in self.placements.values() if p.norm_status is NormStatus.ON_TIME)

    @property
    def count_date(self) -> date:
        """The peildatum: every figure of this result holds on this day."""
        return self.scenario.evaluation_date

    @property
    def unclassified(self) -> list[tuple[str, str]]:
        """(child ref, need id) of every need not classified yet: never matched, always
        counted."""
        return [(c.ref, n.id) for c in self.scenario.children for n in c.unclassified_needs]

    def child_counts(self) -> ChildCounts:
        unplaced = {ref for ref, _ in self.unplaced}
        placed = {ref for ref, _ in self.placements}
        counts = {"placed": 0, "unplaced": 0, "unclassified": 0, "not_waiting": 0}
        for c in self.scenario.children:
            if c.ref in unplaced:
                counts["unplaced"] += 1
            elif c.unclassified_needs:
                counts["unclassified"] += 1
            elif c.ref in placed:
                counts["placed"] += 1
            else:
                counts["not_waiting"] += 1
        return ChildCounts(total=len(self.scenario.children), **counts)

    def summary(self) -> dict[str, Any]:
        """Totals on the peildatum: needs = placed + unplaced + unclassified, and the
        children in `ChildCounts` buckets that add up to all children."""
        return {
            "count_date": self.count_date.isoformat(),
            "needs": len(self.placements) + len(self.unplaced) + len(self.unclassified),
            "placed": len(self.placements),
            "within_norm": self.n_within_norm,
            "on_time": self.n_on_time,
            "unplaced": len(self.unplaced),
            "unclassified": len(self.unclassified),
            "children": self.child_counts().to_json(),
            "solver_status": self.solution.status.value,
            "objective": self.solution.objective,
            "best_bound": self.solution.best_bound,
            "wall_time_s": round(self.solution.wall_time_s, 4),
            "strategy": self.solution.strategy,
        }


def solve_compiled(compiled: Compiled, options: SolveOptions | None = None) -> Solution:
    return solve(compiled.problem, options or DEFAULT_OPTIONS)


def match(
    scenario: Scenario,
    options: SolveOptions | None = None,
    *,
    compiled: Compiled | None = None,
) -> MatchResult:
    """Compile, solve and decode: the domain entry point.

    The problem is solved per independent component (see `matcher.domain.incremental`):
    parts without budget rows or bundles are transportation problems that min-cost flow
    solves exactly, and a what-if can reuse every part it did not change.

    The time limit covers the whole call: eligibility and compilation count against it,
    the solver gets what is left (minus a small reserve for decoding).  The seconds of
    each phase are in `solution.stats["phases_s"]`.
    """
    opts = options or DEFAULT_OPTIONS
    budget = TimeBudget(opts.time_limit_s)
    phases: dict[str, float] = {}
    t = time.perf_counter()
    if compiled is None:
        elig = evaluate(scenario)
        phases["eligibility"] = time.perf_counter() - t
        t = time.perf_counter()
        compiled = compile_scenario(scenario, elig)
        phases["compile"] = time.perf_counter() - t
        t = time.perf_counter()
    reserve = min(DECODE_RESERVE_MAX_S, DECODE_RESERVE_SHARE * opts.time_limit_s)
    solve_opts = replace(opts, time_limit_s=max(0.0, budget.left() - reserve))
    sol, proven = solve_by_components(compiled.problem, None, opts.warm_start, solve_opts)
    phases["solve"] = time.perf_counter() - t
    t = time.perf_counter()
    result = decode(compiled, sol)
    phases["decode"] = time.perf_counter() - t
    stats = dict(sol.stats)
    stats["phases_s"] = {k: round(v, 4) for k, v in phases.items()}
    stats["match_s"] = round(budget.elapsed(), 4)
    stats["time_limit_s"] = opts.time_limit_s
    result.solution = replace(sol, stats=stats)
    result.proven_items = proven
    return result


def _by_offering(comp: Compiled, sol: Solution) -> dict[str, dict[str, str]]:
    """Per offering: the items placed there and their option."""
    out: dict[str, dict[str, str]] = defaultdict(dict)
    for item, opt in sol.assignments.items():
        out[opt.rsplit("@", 1)[0]][item] = opt
    return out


@dataclass(frozen=True)
class _BaseReadBack:
    """What every what-if's decode reads of one base answer: its items per offering
    and its placements per offering in the base's order."""

    base: MatchResult
    solution: Solution
    n_placements: int
    items_at: dict[str, dict[str, str]]
    placed_at: dict[str, list[tuple[str, str]]]


_READ_BACK: dict[int, _BaseReadBack] = {}


def _base_read_back(base: MatchResult) -> _BaseReadBack:
    """Kept per base (by identity, holding it so the id stays valid) while its answer
    and placements stay as they are: at 10,000 children, reading them again took about
    a tenth of a what-if's decode."""
    hit = _READ_BACK.get(id(base))
    if (
        hit is not None
        and hit.base is base
        and hit.solution is base.solution
        and hit.n_placements == len(base.placements)
    ):
        return hit
    placed_at: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key, pl in base.placements.items():
        placed_at[pl.offering].append(key)
    read = _BaseReadBack(
        base,
        base.solution,
        len(base.placements),
        dict(_by_offering(base.compiled, base.solution)),
        dict(placed_at),
    )
    if len(_READ_BACK) >= 4:
        _READ_BACK.pop(next(iter(_READ_BACK)))
    _READ_BACK[id(base)] = read
    return read


def _unchanged_at(
    oid: str, comp: Compiled, base: MatchResult, items: dict[str, str], before: dict[str, str]
) -> bool:
    """The placements at `oid` read back the same as in `base`: the same items on the
    same options (`before`: the base's), the same offering, own places, children and
    pair checks."""
    bc = base.compiled
    if items != before:
        return False
    if base.scenario.offering_by_id.get(oid) is not comp.scenario.offering_by_id[oid]:
        return False
    if bc.own_places.get(oid, 0) != comp.own_places.get(oid, 0):
        return False
    old_kids, kids = base.scenario.child_by_ref, comp.scenario.child_by_ref
    for it in items:
        if bc.item_members.get(it) != comp.item_members[it]:
            return False
        for ref, nid in comp.item_members[it]:
            if old_kids.get(ref) is not kids[ref]:
                return False
            was = bc.eligibility.pairs.eligible((ref, nid))
            if was is not comp.eligibility.pairs.eligible((ref, nid)):
                return False
    return True


def decode(comp: Compiled, sol: Solution, base: MatchResult | None = None) -> MatchResult:
    """The placements of `sol`.  With `base` (a what-if), an offering whose placements
    read back the same as in the base keeps the base's placements."""
    sc = comp.scenario
    ev = sc.evaluation_date
    children = sc.child_by_ref
    offerings = sc.offering_by_id
    slots = comp.eligibility.index.slots
    elig = comp.eligibility
    # only the placed pairs' checks and arcs are read (not every arc or pair)
    by_item = comp.problem.item_index()
    opt_ix = comp.problem.option_index()
    first = comp.problem.item_arc_ptr()

    def arc_of(item: str, opt: str) -> ArcInfo:
        i, o = by_item[item], opt_ix[opt]
        if first is not None:
            lo, hi = int(first[i]), int(first[i + 1])
            k = lo + int(np.flatnonzero(comp.problem.arc_option[lo:hi] == o)[0])
        else:
            mask = (comp.problem.arc_item == i) & (comp.problem.arc_option == o)
            k = int(np.flatnonzero(mask)[0])
        return comp.arcs[k]

    def check(ref: str, nid: str, oid: str) -> PairCheck:
        return next(pc for pc in elig.eligible(ref, nid) if pc.offering_id == oid)

    # Earliest-deadline-first over the release slots gives each placed member a real
    # start date; it always succeeds because the solver kept every prefix within capacity.
    by_off: dict[str, list[tuple[int, int, str, str, str, bool]]] = {}
    # an offering whose placements read back as in the base: the base's placements
    # there, in the base's order (the order decoding them again would give)
    reused: dict[str, list[tuple[str, str]]] = {}
    if base is not None and (
        base.scenario.evaluation_date != ev or base.scenario.policy != sc.policy
    ):
        base = None  # start dates and verdicts depend on both
    read = _base_read_back(base) if base is not None else None
    for oid, items in _by_offering(comp, sol).items():
        if read is not None and _unchanged_at(
            oid, comp, read.base, items, read.items_at.get(oid, {})
        ):
            reused[oid] = read.placed_at[oid]
            by_off[oid] = []
            continue
        lst = by_off[oid] = []
        for item, opt in items.items():
            info = arc_of(item, opt)
            g = comp.groups[info.offering][info.group]
            for ref, nid in comp.item_members[item]:
                kept = children[ref].need(nid).current_offering == info.offering and g.index == 0
                lst.append((0 if kept else 1, g.last_slot, ref, nid, item, kept))
    result = MatchResult(sc, comp, sol)
    base_placements = base.placements if base is not None else {}
    for oid, members in by_off.items():
        if oid in reused:
            for key in reused[oid]:
                result.placements[key] = base_placements[key]
            continue
        o = offerings[oid]
        pool = [[i, s.places] for i, s in enumerate(slots[oid])]
        # a current placement whose child moves elsewhere frees its place now
        n_kept = sum(1 for m in members if m[5])
        if pool:
            pool[0][1] += comp.own_places.get(oid, 0) - n_kept
        for _, _, ref, nid, item, kept in sorted(members):
            child = children[ref]
            need = child.need(nid)
            if kept:
                start = need.start_date or ev
            else:
                k = next(j for j, (_, left) in enumerate(pool) if left > 0)
                pool[k][1] -= 1
                start = start_of(slots[oid][pool[k][0]], o, ev)
            dl = deadline_norm3(child)
            pc = check(ref, nid, oid)
            counts = not pc.is_alternative or need.alternative_accepted
            st = status(dl, start, ev) if counts else NormStatus.PENDING
            verdict = start_verdict(dl, start, ev)
            within = counts and verdict.within_norm
            kind = (
                PlacementKind.KEPT
                if kept
                else PlacementKind.ALTERNATIVE
                if pc.is_alternative
                else PlacementKind.PRIMARY
            )
            # LATE tells a person the start misses the legal deadline
            warnings = tuple(w for w in pc.warnings if w is not PairWarning.LATE or not within)
            if not within and PairWarning.LATE not in warnings:
                warnings += (PairWarning.LATE,)
            result.placements[(ref, nid)] = Placement(
                child_ref=ref,
                need_id=nid,
                offering=oid,
                provider=o.provider,
                care_type=o.care_type.value,
                start=start,
                deadline=dl,
                norm_status=st,
                within_norm=within,
                kind=kind,
                via_main_contractor=pc.via_main_contractor,
                bundle=item if item.startswith("b:") else None,
                warnings=warnings,
                days_late=verdict.days_late,
            )
    for key in comp.eligibility.pairs:
        if key not in result.placements:
            result.unplaced.append(key)
    return result
