"""Explanations: why a need stayed unplaced, who took the places, what would help.

For every unplaced need: the reason per candidate offering, a summary code, the decisive
reason (`matcher.domain.decisive`), the binding resources with the children that use
them, and the smallest change that would place the child, found by re-solving
(`matcher.domain.helps`), never guessed; or a sentence saying what was searched without
result.  Also a per-rule breakdown of the objective and the totals on the peildatum
(placed + unplaced + unclassified = all children).  Everything is available as JSON and
as short B1 Dutch sentences.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np

from matcher.domain import search_split
from matcher.domain.caretypes import care_type_label
from matcher.domain.decisive import Blockers, Decisive, SolutionUse, decide
from matcher.domain.eligibility import PairCheck, Reason, check_pair
from matcher.domain.explain_text import (
    candidate_text,
    change_text,
    delta_nl,
    reason_nl,
    sentences,
)
from matcher.domain.floor import FloorRun, check_help
from matcher.domain.helps import (
    HelpSearch,
    ResolveCache,
    SearchLimits,
    SmallestChange,
    search_help,
)
from matcher.domain.match import DEFAULT_OPTIONS, ChildCounts, MatchResult
from matcher.domain.neighbourhood import Neighbourhoods
from matcher.domain.reasons import (
    ALL_CANDIDATES,
    group_of,
    summary_of,
    summary_text,
    wj759,
)
from matcher.solution import SolveOptions

__all__ = [
    "BindingResource",
    "CandidateReason",
    "Explanation",
    "NeedExplanation",
    "SearchLimits",
    "SmallestChange",
    "candidate_text",
    "change_text",
    "delta_nl",
    "explain",
    "objective_breakdown",
    "reason_nl",
    "sentences",
]


@dataclass(frozen=True)
class CandidateReason:
    """One candidate offering: `reason` is the one shown (the first rule that fails),
    `all_reasons` every failing rule, `blockers` also what the answer used up (the
    input of the decisive reason)."""

    offering: str
    provider: str
    reason: Reason
    all_reasons: tuple[Reason, ...]
    detail: dict[str, Any] = field(default_factory=dict)
    blockers: tuple[Reason, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "offering": self.offering,
            "provider": self.provider,
            "reason": self.reason.value,
            "all_reasons": [r.value for r in self.all_reasons],
            "blockers": [r.value for r in self.blockers],
            "wj759": wj759(self.reason),
            "group": group_of(self.reason).value,
            "text": candidate_text(self),
            **self.detail,
        }


@dataclass(frozen=True)
class BindingResource:
    resource: str
    kind: str  # "places" or "budget"
    offering: str | None
    taken_by: tuple[str, ...]  # child refs


@dataclass
class NeedExplanation:
    child_ref: str
    need_id: str
    care_type: str
    summary: str
    candidates: list[CandidateReason]
    binding: list[BindingResource]
    times_discussed_after: int
    escalate: bool
    suggest_discretionary_request: bool
    changes: list[SmallestChange] = field(default_factory=list)
    search_note: str = ""
    decisive: Decisive | None = None
    resolves: int = 0
    search_limit_reached: bool = False
    search_out_of_time: bool = False
    # offering and budget id -> the name a reader knows it by (provider, ceiling name)
    names: dict[str, str] = field(default_factory=dict)

    @property
    def smallest_change(self) -> SmallestChange | None:
        """The first verified change: within the norm before late, fewer changes first,
        then places < ceiling < intake stop < waiver < out of region < late start."""
        return self.changes[0] if self.changes else None

    def to_json(self) -> dict[str, Any]:
        return {
            "child": self.child_ref,
            "need": self.need_id,
            "care_type": self.care_type,
            "care_type_label": care_type_label(self.care_type),
            "summary": self.summary,
            "summary_text": summary_text(self.summary),
            "group": group_of(self.summary).value,
            "decisive": self.decisive.to_json() if self.decisive else None,
            "candidates": [c.to_json() for c in self.candidates],
            "binding": [
                {
                    "resource": b.resource,
                    "kind": b.kind,
                    "offering": b.offering,
                    "taken_by": list(b.taken_by),
                }
                for b in self.binding
            ],
            "times_discussed_after": self.times_discussed_after,
            "escalate": self.escalate,
            "suggest_discretionary_request": self.suggest_discretionary_request,
            "smallest_change": self.smallest_change.to_json() if self.smallest_change else None,
            "smallest_change_text": change_text(self.smallest_change, self._name)
            if self.smallest_change
            else None,
            "other_changes": [c.to_json() for c in self.changes[1:]],
            "search_note": self.search_note,
            "resolves": self.resolves,
            "search_limit_reached": self.search_limit_reached,
            "search_out_of_time": self.search_out_of_time,
            "sentences": sentences(self),
        }

    def _name(self, key: str) -> str:
        return self.names.get(key, key)


@dataclass
class Explanation:
    """All unplaced needs with the totals on the peildatum (`count_date`): `counts`
    puts every child in one bucket (placed + unplaced + unclassified + not waiting =
    all children); `unclassified` lists the needs not classified yet."""

    needs: list[NeedExplanation]
    objective: dict[str, dict[str, int]]
    excluded_pairs: dict[str, int]
    count_date: date | None = None
    counts: ChildCounts | None = None
    unclassified: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "count_date": self.count_date.isoformat() if self.count_date else None,
            "children": self.counts.to_json() if self.counts else None,
            "unclassified": [{"child": c, "need": n} for c, n in self.unclassified],
            "unplaced": [n.to_json() for n in self.needs],
            "objective_breakdown": self.objective,
            "excluded_pairs_by_reason": self.excluded_pairs,
        }


# ------------------------------------------------------------------ analysis


def _usage(r: MatchResult) -> tuple[np.ndarray, dict[str, list[str]]]:
    p = r.compiled.problem
    use = np.zeros(p.n_resources, dtype=np.int64)
    users: dict[str, list[str]] = defaultdict(list)
    look = {
        (p.item_ids[int(i)], p.option_ids[int(o)]): a
        for a, (i, o) in enumerate(zip(p.arc_item, p.arc_option, strict=True))
    }
    for item, opt in r.solution.assignments.items():
        a = look[(item, opt)]
        lo, hi = int(p.use_ptr[a]), int(p.use_ptr[a + 1])
        refs = [ref for ref, _ in r.compiled.item_members[item]]
        for k in range(lo, hi):
            ri = int(p.use_resource[k])
            use[ri] += int(p.use_amount[k])
            users[p.resource_ids[ri]].extend(refs)
    return use, users


def _arcs_by_pair(r: MatchResult) -> dict[tuple[str, str], list[int]]:
    """Arc indices per (item, offering), so a candidate's arcs are found without a scan."""
    out: dict[tuple[str, str], list[int]] = defaultdict(list)
    for a, info in enumerate(r.compiled.arcs):
        out[(info.item, info.offering)].append(a)
    return out


def _solution_reason(
    r: MatchResult,
    item: str,
    oid: str,
    use: np.ndarray,
    arcs: dict[tuple[str, str], list[int]],
) -> tuple[Reason, list[tuple[str, int]]]:
    """Why an eligible candidate was not used: the resources its arcs would overflow."""
    p = r.compiled.problem
    full: list[tuple[str, int]] = []
    for a in arcs.get((item, oid), ()):
        lo, hi = int(p.use_ptr[a]), int(p.use_ptr[a + 1])
        for k in range(lo, hi):
            ri = int(p.use_resource[k])
            if use[ri] + int(p.use_amount[k]) > int(p.capacity[ri]):
                full.append((p.resource_ids[ri], ri))
    if any(rid.startswith("place:") for rid, _ in full):
        return Reason.NO_CAPACITY, full
    if full:
        return Reason.BUDGET_CEILING_REACHED, full
    return Reason.NO_CAPACITY, full


_Checked = tuple[PairCheck, tuple[Reason, ...]]


def _blockers(
    r: MatchResult, pc: PairCheck, reasons: list[Reason], use: SolutionUse, members: int
) -> tuple[Reason, ...]:
    """Every reason this candidate fails for: the rules, plus places and budget the
    answer used up (so a candidate is "one reason away" only when it truly is)."""
    out = list(dict.fromkeys(reasons))
    if pc.eligible or set(out) & {
        Reason.NO_PROVIDER_OFFERS_CARE_TYPE,
        Reason.ALTERNATIVE_NOT_ACCEPTED,
    }:
        return tuple(out)
    sc = r.scenario
    o = sc.offering_by_id[pc.offering_id]
    child = sc.child_by_ref[pc.child_ref]
    timing = {Reason.NO_CAPACITY, Reason.WAIT_EXCEEDS_DEADLINE}
    if not set(out) & timing and pc.offering_id != child.need(pc.need_id).current_offering:
        target = r.compiled.eligibility.index.target(child)
        if use.free_places(o, target) < members:
            out.append(Reason.NO_CAPACITY)
    if Reason.BUDGET_CEILING_REACHED not in out and use.short_budgets(pc, members):
        out.append(Reason.BUDGET_CEILING_REACHED)
    return tuple(out)


def explain(
    r: MatchResult,
    *,
    search: bool = True,
    max_tries_per_need: int | None = None,
    time_budget_s: float = 5.0,
    options: SolveOptions | None = None,
    limits: SearchLimits | None = None,
    floor: FloorRun | None = None,
) -> Explanation:
    """Explain every unplaced need.  `limits` bounds the search for what would help
    (`max_tries_per_need`, when given, caps its re-solves per need); `time_budget_s`
    bounds the whole search, spent on the earliest deadlines first (a re-solve covers
    the neighbourhood of the change, about a tenth of a second on a regional list;
    the children the budget does not reach get a sentence saying so)."""
    sc = r.scenario
    comp = r.compiled
    offs = sc.offering_by_id
    kids = sc.child_by_ref
    lim = limits or SearchLimits()
    if max_tries_per_need is not None:
        lim = replace(lim, max_resolves=max_tries_per_need)
    if floor is not None:  # a change the floor undoes leaves the next one
        lim = replace(lim, stop_at_smallest=False)
    use, users = _usage(r)
    arcs = _arcs_by_pair(r)
    solution_use = SolutionUse(r)
    names = {o.id: o.display_name for o in sc.offerings} | {
        b.id: b.display_name for b in sc.budgets
    }
    out: list[NeedExplanation] = []
    deadline = time.perf_counter() + time_budget_s
    cache = ResolveCache()
    hoods = Neighbourhoods(r) if search and r.unplaced else None
    todo: list[
        tuple[date | None, int, NeedExplanation, list[tuple[PairCheck, tuple[Reason, ...]]]]
    ] = []
    for ref, nid in r.unplaced:
        child = kids[ref]
        need = child.need(nid)
        item = comp.item_of(ref, nid)
        members = len(comp.item_members.get(item, ((ref, nid),)))
        cands: list[CandidateReason] = []
        binding: dict[str, BindingResource] = {}
        checked: list[tuple[PairCheck, tuple[Reason, ...]]] = []
        all_blockers: list[Blockers] = []
        for pc0 in comp.eligibility.pairs.get((ref, nid), []):
            o = offs[pc0.offering_id]
            pc = (
                pc0
                if pc0.eligible
                else check_pair(sc, child, need, o, comp.eligibility.index, full=True)
            )
            detail = _detail(pc, o.age_min, o.age_max)
            reasons = list(pc.reasons)
            if pc.eligible:
                if item in comp.bundle_infeasible:
                    reasons = [Reason.FAMILY_BUNDLE_INFEASIBLE]
                else:
                    reason, full = _solution_reason(r, item, o.id, use, arcs)
                    if not full and solution_use.short_budgets(pc, members):
                        reason = Reason.BUDGET_CEILING_REACHED
                    reasons = [reason]
                    for rid, _ in full:
                        binding[rid] = BindingResource(
                            rid,
                            "places" if rid.startswith("place:") else "budget",
                            o.id if rid.startswith("place:") else None,
                            tuple(sorted(set(users.get(rid, [])))),
                        )
            blockers = _blockers(r, pc, reasons, solution_use, members)
            cands.append(
                CandidateReason(o.id, o.provider, reasons[0], tuple(reasons), detail, blockers)
            )
            checked.append((pc, blockers))
            all_blockers.append(Blockers(o.id, blockers, pc.in_region))
        # alternatives nobody chose are shown, but they are no candidates for the summary
        summary = summary_of(
            [c.reason for c in cands if c.reason is not Reason.ALTERNATIVE_NOT_ACCEPTED]
        )
        if item in comp.bundle_infeasible:
            summary = Reason.FAMILY_BUNDLE_INFEASIBLE.value
        contra = sorted(
            {a for pc, _ in checked for a in pc.contra_indications}, key=lambda a: a.value
        )
        decisive = decide(
            all_blockers, care_label=care_type_label(need.care_type), names=names, contra=contra
        )
        after = child.times_discussed + 1
        ne = NeedExplanation(
            child_ref=ref,
            need_id=nid,
            care_type=need.care_type.value,
            summary=summary,
            candidates=cands,
            binding=sorted(binding.values(), key=lambda b: b.resource),
            times_discussed_after=after,
            escalate=after >= sc.policy.escalation_after
            or summary == ALL_CANDIDATES + Reason.CONTRA_INDICATION.value,
            suggest_discretionary_request=any(
                Reason.BUDGET_CEILING_REACHED in c.blockers for c in cands
            ),
            decisive=decisive,
            names=names,
        )
        out.append(ne)
        todo.append((comp.eligibility.index.deadline(child), len(todo), ne, checked))
    if search:
        # the time budget goes to the children whose deadline comes first (overdue first)
        order = sorted(todo, key=lambda t: (t[0] or date.max, t[1]))

        def run_one(i: int) -> HelpSearch:
            _, _, ne, checked = order[i]
            return search_help(
                r,
                ne.child_ref,
                ne.need_id,
                checked,
                use=solution_use,
                limits=lim,
                deadline=deadline,
                options=options,
                names=names,
                cache=cache,
                hoods=hoods,
            )

        workers = (options or DEFAULT_OPTIONS).workers
        if hoods is not None and search_split.wanted(workers, len(order)):
            keys = [(ne.child_ref, ne.need_id) for _, _, ne, _ in order]
            found_all = search_split.run_split(
                len(order), run_one, hoods.sharing(keys), deadline
            ).answers
        else:
            found_all = [run_one(i) for i in range(len(order))]
        for (_, _, ne, _), found in zip(order, found_all, strict=True):
            _take(ne, found)
        if floor is not None:  # a run with a group floor: its changes must hold there too
            check_help(r, out, floor, deadline=deadline + time_budget_s)
    excluded: dict[str, int] = defaultdict(int)
    for pcs in comp.eligibility.pairs.values():
        for pc in pcs:
            if pc.reason is not None:
                excluded[pc.reason.value] += 1
    return Explanation(
        out,
        objective_breakdown(r),
        dict(sorted(excluded.items())),
        count_date=r.count_date,
        counts=r.child_counts(),
        unclassified=r.unclassified,
    )


def _take(ne: NeedExplanation, found: HelpSearch) -> None:
    ne.changes = found.changes
    ne.search_note = found.note
    ne.resolves = found.resolves
    ne.search_limit_reached = found.limit_reached
    ne.search_out_of_time = found.out_of_time


def _detail(pc: PairCheck, age_min: int, age_max: int) -> dict[str, Any]:
    detail: dict[str, Any] = {}
    if pc.contra_indications:
        detail["contra_indications"] = [a.value for a in pc.contra_indications]
    if pc.main_contractors_declining:
        detail["main_contractors"] = {
            m: Reason.MAIN_CONTRACTOR_DECLINES.value for m in pc.main_contractors_declining
        }
    if pc.blocking_budgets:
        detail["budgets"] = list(pc.blocking_budgets)
    if pc.via_main_contractor:
        detail["via_main_contractor"] = pc.via_main_contractor
    if pc.earliest_start:
        detail["earliest_start"] = pc.earliest_start.isoformat()
    if Reason.AGE_OUT_OF_RANGE in pc.reasons:
        detail["age_range"] = [age_min, age_max]
    return detail


def objective_breakdown(r: MatchResult) -> dict[str, dict[str, int]]:
    """Per rule (tier): how many points the chosen arcs earned and its weight."""
    comp = r.compiled
    w = comp.weights
    look = {(i.item, f"{i.offering}@{i.group}"): i for i in comp.arcs}
    tot: dict[str, int] = defaultdict(int)
    for item, opt in r.solution.assignments.items():
        info = look[(item, opt)]
        m = info.members
        tot["meets_target"] += m * int(info.meets_target)
        tot["priority"] += info.priority
        tot["home"] += m * info.home
        tot["keep"] += m * int(info.kept)
        tot["region"] += m * int(info.in_region)
        tot["cost"] += m * info.cost_level
    weights = {
        "meets_target": w.meets_target,
        "priority": w.priority,
        "home": w.home,
        "keep": w.keep,
        "region": w.region,
        "cost": 1,
    }
    return {
        k: {"points": tot[k], "weight": weights[k], "score": tot[k] * weights[k]} for k in weights
    }
