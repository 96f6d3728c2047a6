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
  priority mode, else the caller re-solves the whole scenario).

The number placed within the norm of the whole scenario after the change is the base
number minus the neighbourhood's base share plus its new share.  A policy switch for
everyone (a place outside the region) returns None: the caller re-solves everything.
A late start allowed for everyone only adds arcs, so no other part can place fewer
within the norm; the child's own neighbourhood answers whether it is placed.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence

from matcher.domain.incremental import resolve
from matcher.domain.match import MatchResult, Placement, match
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
from matcher.solution import SolveOptions

__all__ = ["Neighbourhoods"]

Node = tuple[str, ...]
Scope = frozenset[Node]

# A pair failing first for one of these can become an arc when places, time or money
# are added, so it links its need to the offering.
LINKS = frozenset({Reason.NO_CAPACITY, Reason.WAIT_EXCEEDS_DEADLINE, Reason.BUDGET_CEILING_REACHED})
# A pair failing first for one of these becomes an arc only with that switch.
SWITCHED = frozenset({Reason.INTAKE_STOP, Reason.CONTRA_INDICATION})


@dataclasses.dataclass
class _Part:
    scenario: Scenario
    base: MatchResult
    needs: frozenset[tuple[str, str]]
    base_within: int


class Neighbourhoods:
    """The neighbourhoods of one base answer, and re-solves within them."""

    def __init__(self, r: MatchResult) -> None:
        self.base = r
        self._parent: dict[Node, Node] = {}
        self._switched: dict[tuple[str, Reason], list[Node]] = defaultdict(list)
        sc = r.scenario
        idx = r.compiled.eligibility.index
        kids, offs = sc.child_by_ref, sc.offering_by_id
        for (ref, nid), checks in r.compiled.eligibility.pairs.items():
            need: Node = ("n", ref, nid)
            self._find(need)
            for pc in checks:
                first = pc.reasons[0] if pc.reasons else None
                if first is None or first in LINKS:
                    at: Node = ("o", pc.offering_id)
                    self._union(need, at)
                    o = offs[pc.offering_id]
                    for b in idx.budgets_for(kids[ref], o, pc.via_main_contractor):
                        self._union(at, ("b", b.id))
                elif first in SWITCHED:
                    self._switched[(pc.offering_id, first)].append(need)
        for c in sc.children:
            for n in c.needs:
                if n.current_offering is not None:
                    self._union(("n", c.ref, n.id), ("o", n.current_offering))
        for bundle in sc.bundles:
            first_member: Node = ("n", *bundle.members[0])
            for m in bundle.members[1:]:
                self._union(first_member, ("n", *m))
        self._members: dict[Node, list[Node]] = defaultdict(list)
        for node in list(self._parent):
            self._members[self._find(node)].append(node)
        self._parts: dict[Scope, _Part | None] = {}
        dearest = max(sc.offerings, key=lambda o: o.price_cents, default=None)
        self._dearest = dearest.id if dearest is not None else None

    # ---------------------------------------------------------------- union-find

    def _find(self, x: Node) -> Node:
        parent = self._parent
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def _union(self, a: Node, b: Node) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            self._parent[ra] = rb

    # ---------------------------------------------------------------- scopes

    def scope(self, deltas: Sequence[Delta], ref: str, nid: str) -> Scope | None:
        """The neighbourhoods (by their roots) the change can reach; None when the
        change reaches every need (a place outside the region for everyone)."""
        seeds: list[Node] = []
        for d in deltas:
            if isinstance(d, AddPlaces):
                seeds.append(("o", d.offering))
            elif isinstance(d, ChangeCeiling):
                seeds.append(("b", d.budget))
            elif isinstance(d, LiftIntakeStop):
                seeds += [("o", d.offering), *self._switched[(d.offering, Reason.INTAKE_STOP)]]
            elif isinstance(d, WaiveContraIndication):
                seeds += [
                    ("o", d.offering),
                    *self._switched[(d.offering, Reason.CONTRA_INDICATION)],
                ]
            elif isinstance(d, AllowLate):
                seeds.append(("n", ref, nid))
            else:
                return None
        return frozenset(self._find(s) for s in seeds)

    def _part(self, scope: Scope, options: SolveOptions) -> _Part | None:
        if scope in self._parts:
            return self._parts[scope]
        r = self.base
        sc = r.scenario
        nodes = [n for root in scope for n in self._members.get(root, [root])]
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
        base = match(sub, options)
        within = sum(1 for k, p in r.placements.items() if k in needs and p.within_norm)
        same = (
            base.compiled.weights.priority_mode == r.compiled.weights.priority_mode
            and base.n_within_norm == within
        )
        part = _Part(sub, base, needs, within) if same else None
        self._parts[scope] = part
        return part

    def resolve(
        self, deltas: Sequence[Delta], scope: Scope, options: SolveOptions
    ) -> tuple[dict[tuple[str, str], Placement], int] | None:
        """(placements of the neighbourhood, needs placed within the norm in the whole
        scenario) with `deltas` applied; None when the neighbourhood cannot stand for
        the whole (the caller then re-solves everything)."""
        part = self._part(scope, options)
        if part is None:
            return None
        r2, _ = resolve(part.base, apply_all(part.scenario, list(deltas)), options)
        return r2.placements, self.base.n_within_norm - part.base_within + r2.n_within_norm
