"""Explanations: why a need stayed unplaced, who took the places, what would help.

For every unplaced need: the reason per candidate offering, a summary code, the binding
resources with the children that use them, and the smallest change that would place the
child.  That change is found by re-solving (warm-started) a few candidate changes that
touch the child's own candidate offerings, smallest first; it is never guessed.  Also a
per-rule breakdown of the objective.  Everything is available as JSON and as short B1
Dutch sentences.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np

from matcher.domain.caretypes import care_type_label
from matcher.domain.eligibility import PairCheck, Reason, check_pair
from matcher.domain.incremental import resolve
from matcher.domain.match import DEFAULT_OPTIONS, MatchResult
from matcher.domain.model import ChildAttribute
from matcher.domain.reasons import (
    ALL_CANDIDATES,
    attribute_label,
    group_of,
    reason_text,
    summary_of,
    summary_text,
    wj759,
)
from matcher.domain.whatif import (
    AddPlaces,
    AllowOutOfRegion,
    ChangeCeiling,
    Delta,
    Forbid,
    LiftIntakeStop,
    Pin,
    WaiveContraIndication,
    apply_all,
    delta_to_json,
)
from matcher.solution import SolveOptions


@dataclass(frozen=True)
class CandidateReason:
    offering: str
    provider: str
    reason: Reason
    all_reasons: tuple[Reason, ...]
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "offering": self.offering,
            "provider": self.provider,
            "reason": self.reason.value,
            "all_reasons": [r.value for r in self.all_reasons],
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
class SmallestChange:
    deltas: tuple[Delta, ...]
    placed_at: str
    within_norm: bool
    tried: int

    def to_json(self) -> dict[str, Any]:
        return {
            "deltas": [delta_to_json(d) for d in self.deltas],
            "placed_at": self.placed_at,
            "within_norm": self.within_norm,
            "tried": self.tried,
        }


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

    @property
    def smallest_change(self) -> SmallestChange | None:
        """The first verified change in size order (places < ceiling < intake stop <
        waiver < out of region; fewer deltas first)."""
        return self.changes[0] if self.changes else None

    def to_json(self) -> dict[str, Any]:
        return {
            "child": self.child_ref,
            "need": self.need_id,
            "care_type": self.care_type,
            "summary": self.summary,
            "summary_text": summary_text(self.summary),
            "group": group_of(self.summary).value,
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
            "other_changes": [c.to_json() for c in self.changes[1:]],
            "search_note": self.search_note,
            "sentences": sentences(self),
        }


@dataclass
class Explanation:
    needs: list[NeedExplanation]
    objective: dict[str, dict[str, int]]
    excluded_pairs: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {
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


def _solution_reason(
    r: MatchResult, item: str, oid: str, use: np.ndarray
) -> tuple[Reason, list[tuple[str, int]]]:
    """Why an eligible candidate was not used: the resources its arcs would overflow."""
    p = r.compiled.problem
    full: list[tuple[str, int]] = []
    for a, info in enumerate(r.compiled.arcs):
        if info.item != item or info.offering != oid:
            continue
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


def explain(
    r: MatchResult,
    *,
    search: bool = True,
    max_tries_per_need: int = 6,
    time_budget_s: float = 20.0,
    options: SolveOptions | None = None,
) -> Explanation:
    sc = r.scenario
    comp = r.compiled
    offs = sc.offering_by_id
    kids = sc.child_by_ref
    use, users = _usage(r)
    out: list[NeedExplanation] = []
    deadline = time.perf_counter() + time_budget_s
    for ref, nid in r.unplaced:
        child = kids[ref]
        need = child.need(nid)
        item = comp.item_of(ref, nid)
        cands: list[CandidateReason] = []
        binding: dict[str, BindingResource] = {}
        fixes: list[tuple[tuple[Delta, ...], tuple[int, int], str]] = []
        for pc0 in comp.eligibility.pairs.get((ref, nid), []):
            o = offs[pc0.offering_id]
            pc = (
                pc0
                if pc0.eligible
                else check_pair(sc, child, need, o, comp.eligibility.index, full=True)
            )
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
                detail["age_range"] = [o.age_min, o.age_max]
            reasons = list(pc.reasons)
            full: list[tuple[str, int]] = []
            if pc.eligible:
                if item in comp.bundle_infeasible:
                    reasons = [Reason.FAMILY_BUNDLE_INFEASIBLE]
                else:
                    reason, full = _solution_reason(r, item, o.id, use)
                    reasons = [reason]
                    for rid, _ in full:
                        binding[rid] = BindingResource(
                            rid,
                            "places" if rid.startswith("place:") else "budget",
                            o.id if rid.startswith("place:") else None,
                            tuple(sorted(set(users.get(rid, [])))),
                        )
            cands.append(CandidateReason(o.id, o.provider, reasons[0], tuple(reasons), detail))
            fx = _fix(r, pc, reasons, full, use)
            if fx is not None:
                fixes.append(fx)
        # alternatives nobody chose are shown, but they are no candidates for the summary
        summary = summary_of(
            [c.reason for c in cands if c.reason is not Reason.ALTERNATIVE_NOT_ACCEPTED]
        )
        if item in comp.bundle_infeasible:
            summary = Reason.FAMILY_BUNDLE_INFEASIBLE.value
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
                Reason.BUDGET_CEILING_REACHED in c.all_reasons for c in cands
            ),
        )
        if search and fixes:
            if time.perf_counter() > deadline:
                ne.search_note = "time budget used up; no change searched"
            else:
                ne.changes, ne.search_note = _search(
                    r, ref, nid, fixes, max_tries_per_need, deadline, options
                )
        elif search:
            ne.search_note = "no change to the candidate offerings can fix every reason"
        out.append(ne)
    excluded: dict[str, int] = defaultdict(int)
    for pcs in comp.eligibility.pairs.values():
        for pc in pcs:
            if pc.reason is not None:
                excluded[pc.reason.value] += 1
    return Explanation(out, objective_breakdown(r), dict(sorted(excluded.items())))


_RANK = {
    AddPlaces: 1,
    ChangeCeiling: 2,
    LiftIntakeStop: 3,
    WaiveContraIndication: 4,
    AllowOutOfRegion: 5,
}


def _fix(
    r: MatchResult,
    pc: PairCheck,
    reasons: list[Reason],
    full: list[tuple[str, int]],
    use: np.ndarray,
) -> tuple[tuple[Delta, ...], tuple[int, int], str] | None:
    """The deltas that lift every reason of this candidate, or None if one cannot be lifted."""
    sc = r.scenario
    o = sc.offering_by_id[pc.offering_id]
    budgets = {b.id: b for b in sc.budgets}
    deltas: list[Delta] = []
    euros = 0
    p = r.compiled.problem
    for reason in reasons:
        if reason is Reason.CONTRA_INDICATION:
            deltas += [WaiveContraIndication(o.id, a) for a in pc.contra_indications]
        elif reason in (Reason.NO_CAPACITY, Reason.WAIT_EXCEEDS_DEADLINE):
            ev = sc.evaluation_date
            if ev + timedelta(days=o.intake_lead_days) > r.compiled.targets[pc.child_ref]:
                return None
            deltas.append(AddPlaces(o.id, 1))
            for rid, ri in full:
                if rid.startswith("budget:"):
                    need = o.price_cents - (int(p.capacity[ri]) - int(use[ri]))
                    deltas.append(ChangeCeiling(rid.removeprefix("budget:"), need))
                    euros += need
        elif reason is Reason.BUDGET_CEILING_REACHED:
            if full:
                for rid, ri in full:
                    need = o.price_cents - (int(p.capacity[ri]) - int(use[ri]))
                    deltas.append(ChangeCeiling(rid.removeprefix("budget:"), need))
                    euros += need
            else:
                for bid in pc.blocking_budgets:
                    need = o.price_cents - budgets[bid].remaining_cents
                    deltas.append(ChangeCeiling(bid, need))
                    euros += need
        elif reason is Reason.INTAKE_STOP:
            deltas.append(LiftIntakeStop(o.id))
        elif reason is Reason.ONLY_OUT_OF_REGION:
            deltas.append(AllowOutOfRegion(True))
        else:
            return None
    if not deltas:
        return None
    rank = sum(_RANK.get(type(d), 9) for d in deltas)
    return tuple(deltas), (len(deltas) * 10 + rank, euros), o.id


def _search(
    r: MatchResult,
    ref: str,
    nid: str,
    fixes: list[tuple[tuple[Delta, ...], tuple[int, int], str]],
    max_tries: int,
    deadline: float,
    options: SolveOptions | None,
    max_found: int = 3,
) -> tuple[list[SmallestChange], str]:
    """Re-solve candidate changes, smallest first; keep the ones that place the child
    without lowering the number placed within the norm."""
    seen: set[tuple[Delta, ...]] = set()
    tried = 0
    found: list[SmallestChange] = []
    base_opts = options or DEFAULT_OPTIONS
    note = ""
    for deltas, _, _oid in sorted(fixes, key=lambda f: (f[1], f[2])):
        if deltas in seen:
            continue
        seen.add(deltas)
        if tried >= max_tries or time.perf_counter() > deadline:
            note = f"stopped after {tried} re-solves (limit)"
            break
        tried += 1
        sc2 = apply_all(r.scenario, deltas)
        r2, _ = resolve(r, sc2, base_opts)
        pl = r2.placements.get((ref, nid))
        if pl is not None and r2.n_within_norm >= r.n_within_norm:
            found.append(SmallestChange(deltas, pl.offering, pl.within_norm, tried))
            if len(found) >= max_found:
                break
    if not found and not note:
        note = f"none of {tried} candidate change(s) placed the child when re-solved"
    return found, note


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


# ------------------------------------------------------------------ Dutch text


def reason_nl(reason: Reason) -> str:
    """Old name of `reasons.reason_text` (starting lower case), kept for
    wijzer.views.rapportage until it calls the catalogue."""
    text = reason_text(reason)
    return text[:1].lower() + text[1:]


def candidate_text(c: CandidateReason) -> str:
    """The catalogue sentence of a candidate's reason, with its contra-indications or
    age range filled in."""
    contra = [ChildAttribute(v) for v in c.detail.get("contra_indications", ())]
    age = c.detail.get("age_range") or (None, None)
    return reason_text(c.reason, contra=contra, age_min=age[0], age_max=age[1])


def _euro(cents: int) -> str:
    return f"€ {cents / 100:,.0f}".replace(",", ".")


def delta_nl(d: Delta, name_of: Callable[[str], str] | None = None) -> str:
    name = name_of or (lambda offering: offering)
    if isinstance(d, AddPlaces):
        places = "1 plek" if d.places == 1 else f"{d.places} plekken"
        return f"er bij {name(d.offering)} {places} bij komt"
    if isinstance(d, ChangeCeiling):
        return f"het budgetplafond {d.budget} met {_euro(d.amount_cents)} omhoog gaat"
    if isinstance(d, WaiveContraIndication):
        what = attribute_label(d.attribute)
        return f"{name(d.offering)} de contra-indicatie {what} laat vallen (maatwerk)"
    if isinstance(d, LiftIntakeStop):
        return f"de opnamestop bij {name(d.offering)} wordt opgeheven"
    if isinstance(d, AllowOutOfRegion):
        return "een plek buiten de regio is toegestaan"
    if isinstance(d, Pin):
        return (
            f"de tafel hulpvraag {d.need_id} van kind {d.child_ref} vastzet bij {name(d.offering)}"
        )
    if isinstance(d, Forbid):
        return (
            f"de tafel hulpvraag {d.need_id} van kind {d.child_ref} uitsluit bij {name(d.offering)}"
        )
    return str(d)


def sentences(ne: NeedExplanation, name_of: Callable[[str], str] | None = None) -> list[str]:
    """Short B1 sentences; `name_of` turns an offering id into what the reader
    knows it by (a web page names provider and place; the default is the id)."""
    name = name_of or (lambda offering: offering)
    label = care_type_label(ne.care_type)
    out = [f"Kind {ne.child_ref} heeft nog geen plek voor {label}."]
    for c in ne.candidates:
        text = candidate_text(c)
        out.append(f"{name(c.offering)}: {text[:1].lower()}{text[1:]}.")
    for b in ne.binding:
        if b.taken_by:
            what = "De plekken" if b.kind == "places" else "Het budget"
            where = name(b.offering) if b.offering else b.resource.removeprefix("budget:")
            out.append(f"{what} bij {where} gingen naar: {', '.join(b.taken_by)}.")
    if ne.suggest_discretionary_request:
        out.append("Doe een discretionaire aanvraag bij de gemeente.")
    if ne.escalate:
        out.append(
            f"Dit kind is nu {ne.times_discussed_after} keer besproken. "
            "Schakel op naar wie doorzettingsmacht heeft."
        )
    if ne.smallest_change is not None:
        what = " en ".join(delta_nl(d, name) for d in ne.smallest_change.deltas)
        out.append(f"Als {what}, kan het kind starten bij {name(ne.smallest_change.placed_at)}.")
    return out
