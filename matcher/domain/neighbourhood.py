"""Re-solve only the part of the scenario a change can reach.

The search for what would help (`matcher.domain.helps`) re-solves the scenario once per
candidate change.  The objective is a sum over needs that share places or budgets, so a
change at one offering or ceiling can only move the needs linked to it: the needs with
an arc there, or a pair there that fails only for a lack of places, time or budget (a
change of places or money can turn such a pair into an arc), and so on through every
offering and budget they reach.  That closure is computed once per explanation
(union-find over the base answer's pair checks); a re-solve then matches a scenario of
only those needs, so it costs what the neighbourhood costs, not what the region costs.

What stays the same as in the full scenario, so that the small answer is an answer of
the whole:

- every budget (what the needs outside spend is fixed: they are not linked to it) and
  the most expensive offering (cost levels are relative to the dearest offering);
- places held by a need's current placement (the need is linked to that offering);
- family bundles (their members are linked);
- the tier order of the objective (checked: the small problem must use the same
  priority mode, else the caller re-solves the whole scenario);
- the base answer outside: the number placed within the norm of the whole is the base
  number minus the neighbourhood's base share plus its new share.

The number placed within the norm of the whole scenario after the change is the base
number minus the neighbourhood's base share plus its new share.  A policy switch for
everyone (a place outside the region) returns None: the caller re-solves everything.
A late start allowed for everyone only adds arcs, so no other part can place fewer
within the norm; the child's own neighbourhood answers whether it is placed.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict, defaultdict
from collections.abc import Sequence

from matcher.domain.compile import Compiled, compile_scenario
from matcher.domain.eligibility import (
    Eligibility,
    PairCheck,
    ScenarioIndex,
    check_pair,
    waiting_needs,
)
from matcher.domain.incremental import evaluate_incremental
from matcher.domain.match import MatchResult, Placement, decode, match
from matcher.domain.model import Scenario
from matcher.domain.reasons import Reason
from matcher.domain.whatif import (
    AddPlaces,
    AllowLate,
    ChangeCeiling,
    Delta,
    LiftIntakeStop,
    WaiveContraIndication,
    apply_all,
)
from matcher.problem import AssignmentProblem
from matcher.restriction import carries
from matcher.solution import Solution, SolveOptions, Status

__all__ = ["Neighbourhoods"]

Node = tuple[str, ...]
Scope = frozenset[Node]

# A pair failing first for one of these can become an arc when places, time or money
# are added, so it links its need to the offering.
LINKS = frozenset({Reason.NO_CAPACITY, Reason.WAIT_EXCEEDS_DEADLINE, Reason.BUDGET_CEILING_REACHED})
# A pair failing first for one of these becomes an arc only with that switch.
SWITCHED = frozenset({Reason.INTAKE_STOP, Reason.CONTRA_INDICATION})
# re-solves kept for `Neighbourhoods.carry` (the ceiling walk carries the answer it
# has just solved)
RECENT_MAX = 4


@dataclasses.dataclass
class _Part:
    scenario: Scenario
    needs: frozenset[tuple[str, str]]
    base_within: int  # of these needs, placed within the norm in the base answer
    # the base answer's pair checks of these needs: a pair check reads the child, the
    # offering, its places held and the budgets, all kept, so it holds here as well
    eligibility: Eligibility


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[Node, Node] = {}
        self.members: dict[Node, list[Node]] = {}

    def find(self, x: Node) -> Node:
        parent = self.parent
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: Node, b: Node) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[ra] = rb

    def freeze(self) -> None:
        members: dict[Node, list[Node]] = defaultdict(list)
        for node in list(self.parent):
            members[self.find(node)].append(node)
        self.members = dict(members)


class Neighbourhoods:
    """The neighbourhoods of one base answer, and re-solves within them.

    Two partitions: `narrow` links a need only through its arcs (and its current
    place, its family bundle); a change at an offering or a ceiling then adds the needs
    whose pair there it can turn into an arc.  `wide` also links every pair that fails
    only for a lack of places, time or money: a late start for everyone can turn any of
    those into an arc, so a change with one is solved in the wide neighbourhood."""

    def __init__(self, r: MatchResult) -> None:
        self.base = r
        self.narrow = _UnionFind()
        self.wide = _UnionFind()
        # (offering, reason) -> needs whose pair there fails first for that reason
        self._failing: dict[tuple[str, Reason], list[Node]] = defaultdict(list)
        self._budget_blocked: dict[str, list[Node]] = defaultdict(list)
        # a raised ceiling must bring the offerings it blocked into the re-solve, even
        # when no arc links them to the budget yet (their only pairs were blocked)
        self._budget_offerings: dict[str, set[Node]] = defaultdict(set)
        sc = r.scenario
        idx = r.compiled.eligibility.index
        kids, offs = sc.child_by_ref, sc.offering_by_id
        for (ref, nid), checks in r.compiled.eligibility.pairs.items():
            need: Node = ("n", ref, nid)
            self.narrow.find(need)
            self.wide.find(need)
            for pc in checks:
                first = pc.reasons[0] if pc.reasons else None
                at: Node = ("o", pc.offering_id)
                blocking = pc.blocking_budgets
                if not blocking and first is Reason.BUDGET_CEILING_REACHED:
                    # a check that stopped at its first reason does not name the budgets;
                    # every budget that applies to the pair may be the one that blocks
                    blocking = tuple(
                        b.id
                        for b in idx.budgets_for(
                            kids[ref], offs[pc.offering_id], pc.via_main_contractor
                        )
                    )
                for bid in blocking:
                    self._budget_blocked[bid].append(need)
                    self._budget_offerings[bid].add(at)
                if first is not None:
                    self._failing[(pc.offering_id, first)].append(need)
                if first is not None and first not in LINKS:
                    continue
                ufs = (self.narrow, self.wide) if first is None else (self.wide,)
                o = offs[pc.offering_id]
                budgets = idx.budgets_for(kids[ref], o, pc.via_main_contractor)
                for uf in ufs:
                    uf.union(need, at)
                    for b in budgets:
                        uf.union(at, ("b", b.id))
        for uf in (self.narrow, self.wide):
            for c in sc.children:
                for n in c.needs:
                    if n.current_offering is not None:
                        uf.union(("n", c.ref, n.id), ("o", n.current_offering))
            for bundle in sc.bundles:
                first_member: Node = ("n", *bundle.members[0])
                for m in bundle.members[1:]:
                    uf.union(first_member, ("n", *m))
            uf.freeze()
        self._parts: dict[Scope, _Part] = {}
        # the last change's relaxed pair checks: `placeable` asks first, `resolve` then
        # solves the same change (or another need asked and it was not placeable)
        self._checked: tuple[tuple[tuple[Delta, ...], Scope], Scenario, Eligibility | None] | None
        self._checked = None
        # a pair that failed first for its deadline, checked with late starts allowed
        # at an offering no change touched: every late re-solve gets the same check
        self._late: dict[tuple[tuple[str, str], str], PairCheck] = {}
        # the last re-solves' problems and answers, for `carry` (not their whole results:
        # kept alive, those would give every full collection more to walk)
        self._last_compiled: (
            tuple[tuple[tuple[Delta, ...], Scope], tuple[_Part, Compiled] | None] | None
        ) = None
        self._recent: OrderedDict[
            tuple[tuple[Delta, ...], Scope], tuple[AssignmentProblem, Solution]
        ] = OrderedDict()
        dearest = max(sc.offerings, key=lambda o: o.price_cents, default=None)
        self._dearest = dearest.id if dearest is not None else None

    def _at(self, offering: str, *reasons: Reason) -> list[Node]:
        return [("o", offering)] + [
            n for reason in (*LINKS, *reasons) for n in self._failing[(offering, reason)]
        ]

    # ---------------------------------------------------------------- scopes

    def scope(self, deltas: Sequence[Delta], ref: str, nid: str) -> Scope | None:
        """The neighbourhoods (by their roots, with the partition's name) the change
        can reach; None when the change reaches every need (a place outside the region
        for everyone)."""
        seeds: list[Node] = []
        late = False
        for d in deltas:
            if isinstance(d, AddPlaces):
                seeds += self._at(d.offering)
            elif isinstance(d, ChangeCeiling):
                seeds += [
                    ("b", d.budget),
                    *self._budget_blocked[d.budget],
                    *sorted(self._budget_offerings[d.budget]),
                ]
            elif isinstance(d, LiftIntakeStop):
                seeds += self._at(d.offering, Reason.INTAKE_STOP)
            elif isinstance(d, WaiveContraIndication):
                seeds += self._at(d.offering, Reason.CONTRA_INDICATION)
            elif isinstance(d, AllowLate):
                late = True
                seeds.append(("n", ref, nid))
            else:
                return None
        uf, name = (self.wide, "wide") if late else (self.narrow, "narrow")
        return frozenset({("partition", name)} | {uf.find(s) for s in seeds})

    def sharing(self, keys: Sequence[tuple[str, str]]) -> list[list[int]]:
        """The positions of the needs `keys`, grouped so that no re-solve of one group's
        search can answer another's: every scope of a change lies in one wide
        neighbourhood, or joins the needs whose pair at one offering fails for a switch
        (an intake stop, a contra-indication).  Only a change for everyone (a place
        outside the region) reaches further.  Groups and their positions in the order
        of `keys`."""
        joined = _UnionFind()
        for (oid, reason), nodes in self._failing.items():
            if reason in SWITCHED:
                for n in nodes:
                    joined.union(self.wide.find(n), self.wide.find(("o", oid)))
        out: dict[Node, list[int]] = {}
        for i, (ref, nid) in enumerate(keys):
            out.setdefault(joined.find(self.wide.find(("n", ref, nid))), []).append(i)
        return list(out.values())

    def _part(self, scope: Scope) -> _Part:
        if scope in self._parts:
            return self._parts[scope]
        r = self.base
        sc = r.scenario
        uf = self.wide if ("partition", "wide") in scope else self.narrow
        nodes = [n for root in scope for n in uf.members.get(root, [root])]
        needs = frozenset((n[1], n[2]) for n in nodes if n[0] == "n")
        offerings = {n[1] for n in nodes if n[0] == "o"} | {self._dearest or ""}
        refs = {ref for ref, _ in needs}
        children = tuple(
            dataclasses.replace(
                c,
                needs=tuple(n for n in c.needs if (c.ref, n.id) in needs),
                unclassified_needs=(),
            )
            for c in sc.children
            if c.ref in refs
        )
        sub = dataclasses.replace(
            sc,
            children=children,
            offerings=tuple(o for o in sc.offerings if o.id in offerings),
            bundles=tuple(b for b in sc.bundles if all(m in needs for m in b.members)),
            refusals=tuple(x for x in sc.refusals if x.child_ref in refs),
            pins=tuple(p for p in sc.pins if (p.child_ref, p.need_id) in needs),
            forbids=tuple(f for f in sc.forbids if (f.child_ref, f.need_id) in needs),
        )
        within = sum(1 for k, p in r.placements.items() if k in needs and p.within_norm)
        base_pairs = r.compiled.eligibility.pairs
        elig = Eligibility(sub, ScenarioIndex(sub))
        for key in needs:
            if key in base_pairs:
                elig.pairs[key] = [pc for pc in base_pairs[key] if pc.offering_id in offerings]
        part = _Part(sub, needs, within, elig)
        self._parts[scope] = part
        return part

    def needs(self, scope: Scope) -> frozenset[tuple[str, str]]:
        """The needs a re-solve in `scope` covers."""
        return self._part(scope).needs

    def _relaxed_checks(
        self, deltas: Sequence[Delta], scope: Scope
    ) -> tuple[_Part, Scenario, Eligibility | None]:
        part = self._part(scope)
        key = (tuple(deltas), scope)
        if self._checked is None or self._checked[0] != key:
            new = apply_all(part.scenario, list(deltas))
            self._checked = (key, new, _relaxed(part, new, deltas, self._late))
        return part, self._checked[1], self._checked[2]

    def placeable(self, deltas: Sequence[Delta], scope: Scope, need: tuple[str, str]) -> bool:
        """False when no re-solve of `deltas` in `scope` can place `need`: after the
        change it has no eligible pair in the neighbourhood (a re-solve places a need
        only on an eligible pair).  True when that is not known: a change that does
        not only relax rules, or a need outside the neighbourhood, is left to the
        re-solve."""
        part, _, elig = self._relaxed_checks(deltas, scope)
        if elig is None or need not in part.needs:
            return True
        return bool(elig.eligible(*need))

    def resolve(
        self, deltas: Sequence[Delta], scope: Scope, options: SolveOptions
    ) -> tuple[dict[tuple[str, str], Placement], int] | None:
        """(placements of the neighbourhood, needs placed within the norm in the whole
        scenario) with `deltas` applied; None when the neighbourhood cannot stand for
        the whole (the caller then re-solves everything)."""
        got = self._compiled(deltas, scope)
        if got is None:
            return None
        part, comp = got
        r2 = match(comp.scenario, options, compiled=comp)
        self._recent[(tuple(deltas), scope)] = (r2.compiled.problem, r2.solution)
        while len(self._recent) > RECENT_MAX:
            self._recent.popitem(last=False)
        return r2.placements, self.base.n_within_norm - part.base_within + r2.n_within_norm

    def carry(
        self, src: Sequence[Delta], dst: Sequence[Delta], scope: Scope
    ) -> tuple[dict[tuple[str, str], Placement], int] | None:
        """The answer of a recent re-solve of `src` in `scope` as the answer of `dst`
        (as `resolve` gives it), without a solve: when that answer was proven optimal
        and `dst`'s problem only restricts `src`'s and still holds it, it is optimal
        there as well (`matcher.restriction`).  None when that does not hold."""
        recent = self._recent.get((tuple(src), scope))
        if recent is None or recent[1].status is not Status.OPTIMAL:
            return None
        problem, answer = recent
        got = self._compiled(dst, scope)
        if got is None:
            return None
        part, comp = got
        if not carries(problem, comp.problem, answer):
            return None
        r2 = decode(comp, answer)
        return r2.placements, self.base.n_within_norm - part.base_within + r2.n_within_norm

    def _compiled(self, deltas: Sequence[Delta], scope: Scope) -> tuple[_Part, Compiled] | None:
        """The neighbourhood's problem with `deltas` applied; None when its objective's
        tier order is not the whole scenario's (the caller then re-solves everything).
        The last one is kept: a carry that does not hold is followed by the re-solve of
        the same change."""
        key = (tuple(deltas), scope)
        if self._last_compiled is not None and self._last_compiled[0] == key:
            return self._last_compiled[1]
        # only the pairs the change can turn around are checked again; the small problem
        # is then compiled whole
        part, new, relaxed = self._relaxed_checks(deltas, scope)
        elig = relaxed or evaluate_incremental(new, part.eligibility)
        comp = compile_scenario(new, elig)
        got = None
        if comp.weights.priority_mode == self.base.compiled.weights.priority_mode:
            got = (part, comp)
        self._last_compiled = (key, got)
        return got


def _relaxed(
    part: _Part,
    new: Scenario,
    deltas: Sequence[Delta],
    late: dict[tuple[tuple[str, str], str], PairCheck] | None = None,
) -> Eligibility | None:
    """The part's pair checks after a change that only relaxes rules (more places, a
    higher ceiling, a lifted stop, a waiver, late starts allowed); None for any other
    change.  A relaxed rule never makes an eligible pair fail, and a pair that failed
    first for a rule the change does not touch still fails there (the rules run in a
    fixed order and read nothing else the change alters).  So only the pairs that
    failed first for the relaxed rule (places and time at an offering with new places,
    whose eligible pairs get a new earliest start as well; its stop; its contra-
    indication; a ceiling; the deadline) are checked again: a ceiling raise for a
    budget of the whole region no longer checks every pair of the part."""
    # per offering the first reasons whose pairs there are checked again (None: the
    # eligible pairs as well, whose earliest start moves with new places)
    touched: dict[str, set[Reason | None]] = defaultdict(set)
    again: set[Reason] = set()
    for d in deltas:
        if isinstance(d, AddPlaces) and d.places > 0 and d.on is None:
            touched[d.offering] |= {None, Reason.NO_CAPACITY, Reason.WAIT_EXCEEDS_DEADLINE}
        elif isinstance(d, LiftIntakeStop):
            touched[d.offering].add(Reason.INTAKE_STOP)
        elif isinstance(d, WaiveContraIndication):
            touched[d.offering].add(Reason.CONTRA_INDICATION)
        elif isinstance(d, ChangeCeiling) and d.amount_cents > 0:
            again.add(Reason.BUDGET_CEILING_REACHED)
        elif isinstance(d, AllowLate) and d.allowed:
            again.add(Reason.WAIT_EXCEEDS_DEADLINE)
        else:
            return None
    old = part.scenario
    if dataclasses.replace(new.policy, allow_late=old.policy.allow_late) != old.policy:
        return None
    memo = late if late is not None else {}
    idx = ScenarioIndex(new)
    out = Eligibility(new, idx)
    offs = new.offering_by_id
    base = part.eligibility.pairs
    # in the order a full check gives, so that the problem compiles the same
    for child, need in waiting_needs(new):
        key = (child.ref, need.id)
        if key not in base:
            continue
        fresh: list[PairCheck] = []
        for pc in base[key]:
            if pc.reason in touched.get(pc.offering_id, ()):
                pc = check_pair(new, child, need, offs[pc.offering_id], idx, full=False)
            elif pc.reason is not None and pc.reason in again:
                # every rule before the deadline passed, and a higher ceiling keeps them
                # passing, so the check with late starts is the same for every change
                # that leaves this offering alone
                shared = pc.reason is Reason.WAIT_EXCEEDS_DEADLINE and pc.offering_id not in touched
                hit = memo.get((key, pc.offering_id)) if shared else None
                if hit is None:
                    hit = check_pair(new, child, need, offs[pc.offering_id], idx, full=False)
                    if shared:
                        memo[(key, pc.offering_id)] = hit
                pc = hit
            fresh.append(pc)
        out.pairs[key] = fresh
    return out
