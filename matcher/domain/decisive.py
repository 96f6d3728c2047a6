"""The decisive reason of an unplaced need, and what the answer left free.

A need that stays unplaced usually fails for different reasons at different offerings.
Per candidate the *blockers* are every reason it fails for: the eligibility rules (all of
them, not only the first) plus what the answer used up (places and budget taken by other
children).  The decisive reason follows docs/matching-rules.md ("De doorslaggevende
reden"):

1. no candidate in the child's region (or none at all): NOT_OFFERED_IN_REGION, advice
   for inkoop;
2. else, among the candidates that would have fitted but for one reason, the reason
   highest in `reasons.PRECEDENCE`;
3. else (every candidate fails for two reasons or more): their main reasons, when they
   agree; MIXED with its parts when they do not.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from matcher.domain.eligibility import PairCheck, start_of
from matcher.domain.match import MatchResult, Placement
from matcher.domain.model import ChildAttribute, Offering
from matcher.domain.reasons import (
    MIXED,
    NOT_A_CANDIDATE,
    NOT_OFFERED_IN_REGION,
    RANK,
    Group,
    Reason,
    decisive_text,
    group_of,
)

__all__ = ["Blockers", "Decisive", "SolutionUse", "decide"]


@dataclass(frozen=True)
class Blockers:
    """Every reason one candidate offering fails for, in rule order."""

    offering: str
    reasons: tuple[Reason, ...]
    in_region: bool

    @property
    def candidate(self) -> bool:
        return not set(self.reasons) & NOT_A_CANDIDATE


@dataclass(frozen=True)
class Decisive:
    """The reason that stands between a child and help.

    `code`: a `Reason` value, NOT_OFFERED_IN_REGION or MIXED; `reason`: the reason
    itself (None for the two summaries); `parts`: the reasons behind a MIXED;
    `offerings`: where the decisive reason is the only obstacle (for
    NOT_OFFERED_IN_REGION: the offerings outside the region); `text`: one B1 sentence.
    """

    code: str
    reason: Reason | None
    parts: tuple[Reason, ...]
    offerings: tuple[str, ...]
    text: str
    near: bool = False  # the offerings would fit but for this one reason

    @property
    def mixed(self) -> bool:
        return self.code == MIXED

    @property
    def group(self) -> Group:
        """The screen group of the decisive reason (a summary's group for the two
        summaries), so that every count of blocked children uses this one reason."""
        return group_of(self.reason or self.code)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "reason": self.reason.value if self.reason else None,
            "parts": [p.value for p in self.parts],
            "offerings": list(self.offerings),
            "near": self.near,
            "group": self.group.value,
            "text": self.text,
        }


def _rank(reason: Reason) -> int:
    return RANK.get(reason, len(RANK))


def decide(
    blockers: Sequence[Blockers],
    *,
    care_label: str,
    names: Mapping[str, str],
    contra: Sequence[ChildAttribute] = (),
) -> Decisive:
    """The decisive reason over the candidates' blockers (see the module docstring)."""
    cands = [b for b in blockers if b.candidate and b.reasons]
    shown = [names.get(b.offering, b.offering) for b in cands]
    if not cands or not any(b.in_region for b in cands):
        outside = tuple(b.offering for b in cands)
        text = decisive_text(NOT_OFFERED_IN_REGION, care_label=care_label, names=shown)
        return Decisive(NOT_OFFERED_IN_REGION, None, (), outside, text)
    near = [b for b in cands if len(set(b.reasons)) == 1]
    if near:
        best = min((b.reasons[0] for b in near), key=_rank)
        where = tuple(b.offering for b in near if b.reasons[0] is best)
        text = decisive_text(
            best.value,
            care_label=care_label,
            reason=best,
            names=[names.get(o, o) for o in where],
            contra=contra if best is Reason.CONTRA_INDICATION else (),
        )
        return Decisive(best.value, best, (best,), where, text, near=True)
    mains = sorted({min(b.reasons, key=_rank) for b in cands}, key=_rank)
    if len(mains) == 1:
        (main,) = mains
        text = decisive_text(main.value, care_label=care_label, reason=main)
        return Decisive(main.value, main, (main,), tuple(b.offering for b in cands), text)
    text = decisive_text(MIXED, care_label=care_label, parts=mains)
    return Decisive(MIXED, None, tuple(mains), tuple(b.offering for b in cands), text)


class SolutionUse:
    """Places and budget the answer used, in domain terms (per offering release group
    and per budget), so that an ineligible candidate can be told "vol" truthfully."""

    def __init__(self, r: MatchResult) -> None:
        self.result = r
        comp = r.compiled
        sc = r.scenario
        idx = comp.eligibility.index
        self.places: dict[tuple[str, int], int] = defaultdict(int)
        self.budget: dict[str, int] = defaultdict(int)
        look = {(i.item, f"{i.offering}@{i.group}"): i for i in comp.arcs}
        offs = sc.offering_by_id
        kids = sc.child_by_ref
        pairs = comp.eligibility.pairs
        for item, opt in r.solution.assignments.items():
            info = look[(item, opt)]
            self.places[(info.offering, info.group)] += info.members
            o = offs[info.offering]
            if o.price_cents <= 0:
                continue
            ref, nid = comp.item_members[item][0]
            # only the eligible checks: reading every pair would compute the reasons of
            # every need, placed or not, where only the unplaced ones are explained
            via = next(
                pc.via_main_contractor
                for pc in pairs.eligible((ref, nid))
                if pc.offering_id == o.id
            )
            for b in idx.budgets_for(kids[ref], o, via):
                self.budget[b.id] += o.price_cents * info.members

    def free_places(self, o: Offering, target: date) -> int:
        """Places at `o` whose help can start by `target`, minus those the answer used
        (a release group that reaches past `target` counts as used first)."""
        comp = self.result.compiled
        ev = self.result.scenario.evaluation_date
        slots = comp.eligibility.index.slots.get(o.id, ())
        usable = [i for i, s in enumerate(slots) if start_of(s, o, ev) <= target]
        if not usable:
            return 0
        cutoff = usable[-1]
        total = sum(slots[i].places for i in usable)
        used = sum(
            self.places.get((o.id, g.index), 0)
            for g in comp.groups.get(o.id, ())
            if g.first_slot <= cutoff
        )
        return max(0, total - used)

    def pays(self, p: Placement, budget_id: str) -> int:
        """Cents a placement pays from budget `budget_id` (0 when it does not apply)."""
        sc = self.result.scenario
        o = sc.offering_by_id[p.offering]
        if o.price_cents <= 0:
            return 0
        idx = self.result.compiled.eligibility.index
        budgets = idx.budgets_for(sc.child_by_ref[p.child_ref], o, p.via_main_contractor)
        return o.price_cents if any(b.id == budget_id for b in budgets) else 0

    def budget_left(self, budget_id: str) -> int:
        b = next(x for x in self.result.scenario.budgets if x.id == budget_id)
        return b.remaining_cents - self.budget.get(budget_id, 0)

    def short_budgets(self, pc: PairCheck, members: int = 1) -> list[tuple[str, int]]:
        """(budget id, cents missing) for every budget that cannot pay this pair now."""
        sc = self.result.scenario
        o = sc.offering_by_id[pc.offering_id]
        if o.price_cents <= 0:
            return []
        child = sc.child_by_ref[pc.child_ref]
        idx = self.result.compiled.eligibility.index
        out = []
        for b in idx.budgets_for(child, o, pc.via_main_contractor):
            missing = o.price_cents * members - self.budget_left(b.id)
            if missing > 0:
                out.append((b.id, missing))
        return out
