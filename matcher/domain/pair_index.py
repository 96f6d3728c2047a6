"""Which (need, offering) pairs can be eligible at all, found through indexes.

At national size most candidate pairs fail on facts that do not depend on the pair
alone: the offering is out of the child's region, its provider is not purchased for
the child's gemeente, it has an opnamestop or no place in the horizon.  Checking
every rule per pair costs tens of microseconds in Python, times millions of pairs.
Here those facts are indexed per (care type, gemeente, region) once, and a few
per-child facts (age at the evaluation date, LVB, an unstable situation, declared
contra-indications, the target date, a family's waiting-list preference) strike out
more pairs with one comparison each.  What survives is checked by the real rules
(`eligibility.check_pair`), so the eligible pairs and everything about them come from
the one rule implementation; the index only skips pairs that a rule is sure to reject.

A pair that the index skips is still a candidate: its reasons are computed by the same
rules when somebody asks for them (`PairTable`), e.g. for a child being explained.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from matcher.domain.caretypes import CareType
from matcher.domain.model import CareNeed, Child, ChildAttribute, Expertise, Offering
from matcher.domain.scenario_index import ScenarioIndex, candidates

if TYPE_CHECKING:
    from matcher.domain.eligibility import PairCheck

PairKey = tuple[str, str]  # (child ref, need id)


class CandidateIndex:
    """Offerings per care type that pass the rules that do not depend on the child
    beyond its gemeente and region (region, purchase, opnamestop, any place at all)."""

    def __init__(self, index: ScenarioIndex) -> None:
        self.index = index
        sc = index.scenario
        self.allow_out_of_region = sc.policy.allow_out_of_region
        self.allow_late = sc.policy.allow_late
        # position in `by_care_type[ct]`: the order in which `candidates` lists them
        self.position: dict[tuple[CareType, str], int] = {}
        self.by_region: dict[tuple[CareType, str], list[Offering]] = defaultdict(list)
        self.by_area: dict[tuple[CareType, str], list[Offering]] = defaultdict(list)
        for ct, offs in index.by_care_type.items():
            for i, o in enumerate(offs):
                self.position.setdefault((ct, o.id), i)
                self.by_region[(ct, o.region)].append(o)
                for code in o.service_area:
                    self.by_area[(ct, code)].append(o)
        self._groups: dict[tuple[CareType, str, str], list[Offering]] = {}
        # per offering object (not id: the index must stay sound whatever the ids)
        self.declared = {
            id(o): o.contra_indications - o.waived_contra_indications
            for o in index.scenario.offerings
            if o.contra_indications - o.waived_contra_indications
        }

    def open_offerings(self, ct: CareType, gemeente: str, region: str) -> list[Offering]:
        """Offerings of `ct`, in candidate order, that a child of this gemeente and region
        could get as a new placement: in region (unless the policy allows out of region),
        purchased (directly or through an accepting hoofdaannemer), no opnamestop, and
        some place within the horizon."""
        key = (ct, gemeente, region)
        hit = self._groups.get(key)
        if hit is not None:
            return hit
        idx = self.index
        if self.allow_out_of_region:
            pool = list(idx.by_care_type.get(ct, ()))
        else:
            seen: dict[str, Offering] = {}
            for lst in (
                self.by_region.get((ct, region), ()),
                self.by_area.get((ct, gemeente), ()),
                self.by_area.get((ct, region), ()),
            ):
                for o in lst:
                    seen.setdefault(o.id, o)
            pool = sorted(seen.values(), key=lambda o: self.position[(ct, o.id)])
        ok_providers = idx.purchasable(gemeente, ct)
        first = idx.first_start
        out = [
            o
            for o in pool
            if o.provider in ok_providers and not o.intake_stop and first[o.id] is not None
        ]
        self._groups[key] = out
        return out

    def survivors(self, child: Child, need: CareNeed) -> list[Offering]:
        """The candidates of this need, in candidate order, that the rules might accept;
        every other candidate is certain to get a reason."""
        idx = self.index
        target = idx.target(child)
        first = idx.first_start
        ev = idx.scenario.evaluation_date
        age = child.age_on(ev)
        lvb = ChildAttribute.LVB in child.attributes
        unstable = ChildAttribute.UNSTABLE_SITUATION in child.attributes
        attrs = child.attributes
        pref = need.family_prefers_waitlist_at
        declared = self.declared
        out: list[Offering] = []
        segments = [need.care_type]
        if need.alternative_accepted:
            # an alternative that was not accepted is never eligible (rule_care_type)
            segments += [a for a in need.alternatives if a != need.care_type]
        for ct in segments:
            for o in self.open_offerings(ct, child.gemeente, child.region):
                if o.id == need.current_offering:
                    continue  # the own place is added below, exempt from several rules
                if pref is not None and pref != o.id and pref != o.provider:
                    continue
                if age < o.age_min or (age > o.age_max and o.duration_weeks >= 0):
                    continue
                if lvb and Expertise.LVB not in o.expertise:
                    continue
                if unstable and o.needs_stability:
                    continue
                if attrs and id(o) in declared and not attrs.isdisjoint(declared[id(o)]):
                    continue
                if not self.allow_late:
                    f = first[o.id]
                    if f is None or f > target:
                        continue
                out.append(o)
        own = need.current_offering
        if own is not None:
            out = self._with_own_place(child, need, own, out)
        return out

    def _with_own_place(
        self, child: Child, need: CareNeed, own: str, out: list[Offering]
    ) -> list[Offering]:
        """The child's current offering is checked whenever it is a candidate (the region,
        opnamestop and time rules do not apply to it), at its candidate position."""
        cands = candidates(self.index.scenario, need, self.index)
        if not any(o.id == own for o in cands):
            return out
        keep = {o.id for o in out} | {own}
        return [o for o in cands if o.id in keep]


class PairTable(Mapping[PairKey, list["PairCheck"]]):
    """Per waiting need, every candidate's `PairCheck`, in candidate order.

    The eligible checks are known at once; the checks of the other candidates (each
    with its first reason) are computed on first access per need, by `fill`.  Lists
    assigned directly are kept as given.
    """

    def __init__(self, fill: Callable[[PairKey], list[PairCheck]] | None = None) -> None:
        self._fill = fill
        self._keys: dict[PairKey, None] = {}
        self._full: dict[PairKey, list[PairCheck]] = {}
        self._eligible: dict[PairKey, list[PairCheck]] = {}

    def add_eligible(self, key: PairKey, checks: list[PairCheck]) -> None:
        self._keys[key] = None
        self._eligible[key] = checks

    def take_eligible(self, other: PairTable) -> None:
        """Every need of `other` with its eligible checks, in `other`'s order, after
        the needs already here (a what-if starts from its base's table this way and
        then replaces the needs a change reached: a replaced need keeps its place)."""
        self._keys.update(other._keys)
        self._eligible.update(other._eligible)

    def remove(self, key: PairKey) -> None:
        self._keys.pop(key, None)
        self._eligible.pop(key, None)
        self._full.pop(key, None)

    def __setitem__(self, key: PairKey, checks: list[PairCheck]) -> None:
        self._keys[key] = None
        self._full[key] = checks
        self._eligible[key] = [pc for pc in checks if pc.eligible]

    def __getitem__(self, key: PairKey) -> list[PairCheck]:
        hit = self._full.get(key)
        if hit is not None:
            return hit
        if key not in self._keys or self._fill is None:
            raise KeyError(key)
        checks = self._full[key] = self._fill(key)
        return checks

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __iter__(self) -> Iterator[PairKey]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def eligible(self, key: PairKey) -> list[PairCheck]:
        return self._eligible.get(key, [])

    @property
    def filled(self) -> int:
        """Needs whose full list of checks has been computed."""
        return len(self._full)
