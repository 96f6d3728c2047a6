"""What would help: the smallest change that places an unplaced need, found by re-solving.

Only candidates that fail for reasons a change can lift are searched (an offering the
tafel excluded, or one that lacks expertise, never is).  The levers, smallest first:

- k extra places at one offering (the most places first: when they do not help, nothing
  smaller will; else k found by doubling, then bisection, up to `SearchLimits.max_places`);
- a ceiling raise in whole euros (the answer's shortfall is tried first, then one euro
  less; bisection only when that also works), up to `SearchLimits.max_raise_cents`;
- lifting an opnamestop;
- a waived contra-indication, only the offering's declared one and only when
  `Policy.allow_waivers`;
- a place outside the region, or a late start (policy switches);
- pairs of these at one offering when it fails for two reasons.

Every change is verified: the re-solve (of the neighbourhood the change can reach,
`matcher.domain.neighbourhood`, else of the whole scenario, `matcher.domain.incremental`)
places the child without lowering the number placed within the norm.  Re-solves per need are
capped; a need without a change gets a B1 sentence that says what was searched.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from matcher.domain.decisive import SolutionUse
from matcher.domain.eligibility import PairCheck
from matcher.domain.incremental import resolve
from matcher.domain.match import DEFAULT_OPTIONS, MatchResult, Placement
from matcher.domain.neighbourhood import Neighbourhoods, Scope
from matcher.domain.reasons import Reason, euro_text, group_of, name_list, plural
from matcher.domain.whatif import (
    AddPlaces,
    AllowLate,
    AllowOutOfRegion,
    ChangeCeiling,
    Delta,
    LiftIntakeStop,
    WaiveContraIndication,
    apply_all,
    delta_to_json,
)
from matcher.errors import MatcherError
from matcher.solution import SolveOptions

__all__ = ["HelpSearch", "ResolveCache", "SearchLimits", "SmallestChange", "search_help"]


@dataclass(frozen=True)
class SearchLimits:
    max_places: int = 5
    max_raise_cents: int = 50_000_00
    max_resolves: int = 12  # per need
    max_found: int = 3
    # stop a need's search at its first change when no later plan can give one that
    # sorts before it: for a caller that shows only the smallest (the tafel's run; a
    # run with a group floor needs the others, in case the smallest does not hold there)
    stop_at_smallest: bool = False


@dataclass
class SmallestChange:
    """A verified change: with `deltas` applied the re-solve places the need at
    `placed_at`, starting `start`; `within_norm` False means only a late start ("te
    laat")."""

    deltas: tuple[Delta, ...]
    placed_at: str
    within_norm: bool
    tried: int
    start: date | None = None

    @property
    def late(self) -> bool:
        return not self.within_norm

    def to_json(self) -> dict[str, Any]:
        return {
            "deltas": [delta_to_json(d) for d in self.deltas],
            "placed_at": self.placed_at,
            "within_norm": self.within_norm,
            "late": self.late,
            "start": self.start.isoformat() if self.start else None,
            "tried": self.tried,
        }


@dataclass
class HelpSearch:
    """The outcome of the search for one need: the changes found (smallest first), the
    number of re-solves, whether the cap stopped it, what was searched, and `note`: a B1
    sentence when nothing was found."""

    changes: list[SmallestChange] = field(default_factory=list)
    resolves: int = 0
    limit_reached: bool = False
    out_of_time: bool = False  # the time budget of the whole explanation ran out
    place_offerings: tuple[str, ...] = ()
    budgets: tuple[str, ...] = ()
    unliftable: tuple[Reason, ...] = ()
    note: str = ""


# placements, the number placed within the norm in the whole scenario, and the needs
# the re-solve covered (None: every need)
Seen = tuple[dict[tuple[str, str], Placement], int, frozenset[tuple[str, str]] | None]
CacheKey = tuple[tuple[Delta, ...], Scope | None]


class ResolveCache:
    """Re-solves of one base answer by their changes (and the neighbourhood they were
    solved in): one re-solve with 2 extra places at an offering answers the question
    for every child waiting there.  A value holds the placements and the number placed
    within the norm in the whole scenario."""

    def __init__(self) -> None:
        self._seen: dict[CacheKey, Seen] = {}

    def get(self, key: CacheKey) -> Seen | None:
        return self._seen.get(key)

    def put(self, key: CacheKey, got: Seen) -> Seen:
        self._seen[key] = got
        return got


class _Stop(MatcherError):
    """The re-solve cap or the time budget is reached."""


# Reasons a change can lift (a waiver only where the policy allows it).
_QUANTITY = {Reason.NO_CAPACITY, Reason.WAIT_EXCEEDS_DEADLINE, Reason.BUDGET_CEILING_REACHED}
_SWITCH = {Reason.INTAKE_STOP, Reason.ONLY_OUT_OF_REGION, Reason.CONTRA_INDICATION}


@dataclass(frozen=True)
class _Plan:
    offering: str
    switches: tuple[Delta, ...]
    places: bool
    budgets: tuple[tuple[str, int], ...]  # (budget id, shortfall guess in cents)
    late: bool  # AllowLate instead of extra places

    @property
    def levers(self) -> int:
        return len(self.switches) + int(self.places) + len(self.budgets) + int(self.late)

    @property
    def fewest_deltas(self) -> int:
        """The fewest changes a change found by this plan can have: a raise may turn
        out to need no euro, a number of places never zero."""
        return max(1, len(self.switches) + int(self.places) + int(self.late))

    @property
    def rank(self) -> tuple[int, int]:
        kinds = (
            1 * int(self.places)
            + 2 * len(self.budgets)
            + sum(_SWITCH_RANK[type(s)] for s in self.switches)
            + 7 * int(self.late)
        )
        return self.levers, kinds


_SWITCH_RANK: dict[type, int] = {
    LiftIntakeStop: 3,
    WaiveContraIndication: 4,
    AllowOutOfRegion: 5,
}


def _plans(
    r: MatchResult, pc: PairCheck, blockers: Sequence[Reason], use: SolutionUse
) -> list[_Plan]:
    sc = r.scenario
    o = sc.offering_by_id[pc.offering_id]
    if any(b not in _QUANTITY and b not in _SWITCH for b in blockers):
        return []
    switches: list[Delta] = []
    for b in dict.fromkeys(blockers):
        if b is Reason.INTAKE_STOP:
            switches.append(LiftIntakeStop(o.id))
        elif b is Reason.ONLY_OUT_OF_REGION and not sc.policy.allow_out_of_region:
            switches.append(AllowOutOfRegion(True))
        elif b is Reason.CONTRA_INDICATION:
            declared = [a for a in pc.contra_indications if a in o.contra_indications]
            if not sc.policy.allow_waivers or len(declared) != len(pc.contra_indications):
                return []
            switches += [WaiveContraIndication(o.id, a) for a in declared]
    members = len(r.compiled.item_members[r.compiled.item_of(pc.child_ref, pc.need_id)])
    budgets = (
        tuple(use.short_budgets(pc, members)) if Reason.BUDGET_CEILING_REACHED in blockers else ()
    )
    if Reason.BUDGET_CEILING_REACHED in blockers and not budgets:
        budgets = tuple((b, 100) for b in pc.blocking_budgets)
    wants_place = Reason.NO_CAPACITY in blockers or Reason.WAIT_EXCEEDS_DEADLINE in blockers
    out = [_Plan(o.id, tuple(switches), wants_place, budgets, False)]
    if Reason.WAIT_EXCEEDS_DEADLINE in blockers and not sc.policy.allow_late:
        out.append(_Plan(o.id, tuple(switches), False, budgets, True))
    return out


def _smallest(pred: Callable[[int], bool], first: int, top: int) -> int | None:
    """The smallest v in 1..top with pred(v), for a pred that is monotone in v: try
    `first`, then one less; else double upwards and bisect."""
    first = max(1, min(first, top))
    if pred(first):
        if first == 1 or not pred(first - 1):
            return first
        lo, hi = 0, first - 1
    else:
        lo, v = first, first
        while True:
            if v >= top:
                return None
            v = min(top, v * 2)
            if pred(v):
                hi = v
                break
            lo = v
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if pred(mid):
            hi = mid
        else:
            lo = mid
    return hi


def _least_raise(
    pred: Callable[[int], bool],
    needed: Callable[[int], int | None],
    guess: int,
    top: int,
    carry: Callable[[int, int], object] = lambda hi, to: None,
) -> int | None:
    """The smallest raise in euros (0 for none) for which pred holds, given pred(top).

    The shortfall `guess` and one euro less are tried first.  Else the search walks down
    from the top: an answer that places the child pays a known amount from the budget,
    so that amount (`needed`) is enough for it; one euro less either fails (then that
    amount is the smallest) or gives an answer that pays less.  The amounts the walk
    visits are those of the answers themselves, the same for every child waiting on
    this budget, so one re-solve serves them all instead of a bisection per child.
    `carry(hi, tight)` may make the answer at `hi` the answer at `tight` (it fits there
    and stays optimal), which spares that re-solve."""
    g = max(1, min(guess, top))
    hi = top
    if pred(g):
        if g == 1 or not pred(g - 1):
            return g
        hi = g - 1
    while hi > 0:
        tight = needed(hi)
        if tight is not None and tight < hi:
            if tight > 0:
                carry(hi, tight)
            if pred(tight):
                hi = tight
                continue
            return _bisect(pred, tight, hi)  # that answer was one of several equal ones
        if not pred(hi - 1):
            return hi
        below = needed(hi - 1)
        if below is None or below >= hi - 1:
            return 0 if pred(0) else _bisect(pred, 0, hi - 1)
        hi -= 1
    return 0


def _bisect(pred: Callable[[int], bool], lo: int, hi: int) -> int:
    """The smallest v in lo+1..hi with pred(v), given pred(hi) and not pred(lo)."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if pred(mid):
            hi = mid
        else:
            lo = mid
    return hi


def search_help(
    r: MatchResult,
    ref: str,
    nid: str,
    candidates: Sequence[tuple[PairCheck, tuple[Reason, ...]]],
    *,
    use: SolutionUse,
    limits: SearchLimits,
    deadline: float,
    options: SolveOptions | None = None,
    names: Mapping[str, str] | None = None,
    cache: ResolveCache | None = None,
    hoods: Neighbourhoods | None = None,
) -> HelpSearch:
    """Search the smallest verified change for need (ref, nid); `candidates` holds each
    candidate's pair check and blockers.  A `cache` shared over the needs of one
    explanation lets one re-solve answer every child it places; with `hoods` a re-solve
    covers only the needs the change can reach (`matcher.domain.neighbourhood`)."""
    opts = options or DEFAULT_OPTIONS
    out = HelpSearch()
    plans: list[_Plan] = []
    unliftable: set[Reason] = set()
    for pc, blockers in candidates:
        got = _plans(r, pc, blockers, use)
        if not got:
            unliftable |= {
                b
                for b in blockers
                if b not in _QUANTITY and (b not in _SWITCH or b is Reason.CONTRA_INDICATION)
            }
        plans += got
    plans.sort(key=lambda p: (p.rank, p.offering))
    out.unliftable = tuple(sorted(unliftable, key=lambda x: x.value))
    sc = r.scenario
    child = sc.child_by_ref[ref]
    dl = r.compiled.eligibility.index.deadline(child)
    shared = cache if cache is not None else ResolveCache()
    # a new place starts after the intake, so no change places a child within the norm
    # whose deadline comes before the shortest intake of any offering (a kept place
    # starts when it started)
    lead = min((o.intake_lead_days for o in sc.offerings), default=0)
    in_norm_possible = dl is not None and (
        sc.evaluation_date + timedelta(days=lead) <= dl
        or child.need(nid).current_offering is not None
    )

    def attempt(deltas: tuple[Delta, ...]) -> Placement | None:
        scope = hoods.scope(deltas, ref, nid) if hoods is not None else None
        seen = shared.get((deltas, scope))
        if seen is None:
            if time.perf_counter() > deadline:
                out.out_of_time = True
                raise _Stop
            if out.resolves >= limits.max_resolves:
                raise _Stop
            out.resolves += 1
            # a change after which the child has no eligible pair needs no re-solve; it
            # counts as one against the cap, as its re-solve did (nothing is cached:
            # another child may still be placed by it)
            if (
                scope is not None
                and hoods is not None
                and not hoods.placeable(deltas, scope, (ref, nid))
            ):
                return None
            # a re-solve may not run far past the budget; a feasible answer that places
            # the child is still a verified change
            left = max(0.5, deadline - time.perf_counter())
            probe = replace(opts, time_limit_s=min(opts.time_limit_s, left))
            got: Seen | None = None
            if hoods is not None and scope is not None:
                local = hoods.resolve(deltas, scope, probe)
                if local is not None:
                    got = (*local, hoods.needs(scope))
            if got is None:
                r2, _ = resolve(r, apply_all(sc, deltas), probe)
                got = (r2.placements, r2.n_within_norm, None)
            seen = shared.put((deltas, scope), got)
        placements, within, _ = seen
        pl = placements.get((ref, nid))
        return None if pl is None or within < r.n_within_norm else pl

    def spent(deltas: tuple[Delta, ...], bid: str) -> int | None:
        """Cents the answer of an earlier re-solve with `deltas` pays from budget `bid`
        in the whole scenario (None when that re-solve was not made)."""
        scope = hoods.scope(deltas, ref, nid) if hoods is not None else None
        seen = shared.get((deltas, scope))
        if seen is None:
            return None
        placements, _, needs = seen
        base = r.placements
        inside = base.keys() if needs is None else needs
        total = use.budget.get(bid, 0)
        total -= sum(use.pays(p, bid) for k, p in base.items() if k in inside)
        return total + sum(use.pays(p, bid) for p in placements.values())

    def carry(src: tuple[Delta, ...], dst: tuple[Delta, ...]) -> None:
        """The answer of the re-solve of `src` as that of `dst`, where it provably is
        one (`Neighbourhoods.carry`): a re-solve spared, counted as none."""
        if hoods is None:
            return
        scope = hoods.scope(dst, ref, nid)
        if scope is None or scope != hoods.scope(src, ref, nid):
            return
        if shared.get((dst, scope)) is not None or shared.get((src, scope)) is None:
            return
        got = hoods.carry(src, dst, scope)
        if got is not None:
            shared.put((dst, scope), (*got, hoods.needs(scope)))

    searched_places: list[str] = []
    searched_budgets: list[str] = []
    best_levers: int | None = None
    try:
        for i, plan in enumerate(plans):
            if len(out.changes) >= limits.max_found:
                break
            if best_levers is not None and plan.levers > best_levers:
                break
            # a late start (a policy switch, re-solved for everyone) is advice only when
            # no other change was found
            if plan.late and out.changes:
                continue
            found = _run_plan(
                plan, attempt, spent, carry, r, dl, limits, searched_places, searched_budgets
            )
            if found is not None:
                deltas, pl = found
                if any(c.deltas == deltas for c in out.changes):
                    continue
                out.changes.append(
                    SmallestChange(deltas, pl.offering, pl.within_norm, out.resolves, pl.start)
                )
                best_levers = plan.levers
                if limits.stop_at_smallest and _first_stays_first(
                    out.changes[0], plans[i + 1 :], best_levers, in_norm_possible
                ):
                    break
    except _Stop:
        out.limit_reached = True
    out.changes.sort(key=lambda c: (not c.within_norm, len(c.deltas)))
    out.place_offerings = tuple(dict.fromkeys(searched_places))
    out.budgets = tuple(dict.fromkeys(searched_budgets))
    if not out.changes:
        out.note = no_change_text(out, limits, names or {})
    return out


def _first_stays_first(
    first: SmallestChange, rest: Sequence[_Plan], levers: int, in_norm_possible: bool
) -> bool:
    """Whether no plan still to run can find a change that sorts before `first` (the
    changes are sorted, stably, within the norm first and then by their number of
    changes; plans with more levers, and late starts once a change is found, are not
    run).  `in_norm_possible` False: no start of this need can be within the norm."""
    if not first.within_norm and in_norm_possible:
        return False
    return all(
        p.fewest_deltas >= len(first.deltas) for p in rest if p.levers <= levers and not p.late
    )


def _run_plan(
    plan: _Plan,
    attempt: Callable[[tuple[Delta, ...]], Placement | None],
    spent: Callable[[tuple[Delta, ...], str], int | None],
    carry: Callable[[tuple[Delta, ...], tuple[Delta, ...]], None],
    r: MatchResult,
    dl: date | None,
    limits: SearchLimits,
    searched_places: list[str],
    searched_budgets: list[str],
) -> tuple[tuple[Delta, ...], Placement] | None:
    sc = r.scenario
    o = sc.offering_by_id[plan.offering]
    base: tuple[Delta, ...] = plan.switches + ((AllowLate(True),) if plan.late else ())
    # a new place starts now (after the intake): within the norm only if that is in time
    in_time = dl is None or sc.evaluation_date + timedelta(days=o.intake_lead_days) <= dl

    def ok(pl: Placement | None, want_norm: bool) -> bool:
        return pl is not None and (pl.within_norm or not want_norm)

    raise_all = tuple(ChangeCeiling(b, limits.max_raise_cents) for b, _ in plan.budgets)
    places = 0
    if plan.places:
        searched_places.append(o.id)

        def with_places(k: int) -> bool:
            return ok(attempt((*base, AddPlaces(o.id, k), *raise_all)), in_time)

        # the most places first: one re-solve (shared by every child waiting there)
        # rules the offering out, and the smallest k is only searched where one exists
        if not with_places(limits.max_places):
            return None
        k = _smallest(with_places, 1, limits.max_places)
        if k is None:
            return None
        places = k
    extra: tuple[Delta, ...] = (AddPlaces(o.id, places),) if places else ()
    ceilings: list[Delta] = []
    for i, (bid, guess) in enumerate(plan.budgets):
        searched_budgets.append(bid)
        rest = raise_all[i + 1 :]

        def changed(
            euros: int, bid: str = bid, rest: tuple[Delta, ...] = rest
        ) -> tuple[Delta, ...]:
            raise_ = (ChangeCeiling(bid, euros * 100),) if euros else ()
            return (*base, *extra, *ceilings, *raise_, *rest)

        def with_raise(euros: int) -> bool:
            return ok(attempt(changed(euros)), False)

        def needed(euros: int, bid: str = bid) -> int | None:
            # the raise the answer of that re-solve needs: what it pays from the budget
            # beyond what is left (that answer stays possible with this raise)
            cents = spent(changed(euros), bid)
            left = next(b.remaining_cents for b in sc.budgets if b.id == bid)
            return None if cents is None else max(0, -(-(cents - left) // 100))

        top = limits.max_raise_cents // 100
        if not with_raise(top):
            return None

        def carried(
            hi: int, to: int, changed: Callable[[int], tuple[Delta, ...]] = changed
        ) -> None:
            carry(changed(hi), changed(to))

        euros = _least_raise(with_raise, needed, -(-guess // 100), top, carried)
        if euros is None:
            return None
        if euros:
            ceilings.append(ChangeCeiling(bid, euros * 100))
    deltas = (*base, *extra, *ceilings)
    pl = attempt(deltas)
    if pl is None or not deltas:
        return None
    return deltas, pl


def no_change_text(s: HelpSearch, limits: SearchLimits, names: Mapping[str, str]) -> str:
    """ "Geen wijziging gevonden: tot 5 extra plekken bij 3 aanbieders en een plafond tot
    € 50.000 hoger plaatsen dit kind niet." (B1, from what was searched)."""
    parts: list[str] = []
    if s.place_offerings:
        where = (
            f"bij {names.get(s.place_offerings[0], s.place_offerings[0])}"
            if len(s.place_offerings) == 1
            else f"bij {plural(len(s.place_offerings), 'aanbieder', 'aanbieders')}"
        )
        parts.append(f"tot {plural(limits.max_places, 'extra plek', 'extra plekken')} {where}")
    if s.budgets:
        parts.append(f"een plafond tot {euro_text(limits.max_raise_cents)} hoger")
    if s.out_of_time:
        return (
            "Niet (verder) gezocht: de rekentijd voor deze lijst is op. "
            "Probeer een wijziging voor dit kind apart als wat-als."
        )
    if s.limit_reached:
        searched = f" ({name_list(parts)})" if parts else ""
        cap = plural(limits.max_resolves, "herberekening", "herberekeningen")
        return f"Geen wijziging gevonden binnen {cap}{searched}: dat is de grens per kind."
    if parts:
        return f"Geen wijziging gevonden: {name_list(parts)} plaatsen dit kind niet."
    if s.unliftable:
        why = name_list([group_of(x).label.lower() for x in s.unliftable])
        return (
            "Geen wijziging gevonden: bij elke aanbieder speelt een reden die geen extra "
            f"plek of geld oplost ({why})."
        )
    return "Geen wijziging gevonden: geen aanbieder biedt deze hulp; inkoop kan dit inkopen."
