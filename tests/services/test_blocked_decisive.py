"""The inkoop what-if counts a blocked child under the group of its decisive reason
(matcher.domain.decisive), never under "meerdere" when one reason decides."""

from __future__ import annotations

from matcher.domain.explain import explain
from matcher.domain.match import match
from matcher.domain.reasons import Group, Reason, group_of
from services.what_if import REASON_GROUPS, _blocked
from tests.domain.conftest import scenario


def test_a_family_preference_is_counted_as_itself_not_as_mixed() -> None:
    r = match(scenario("u2_family_preference.json"))
    ne = next(n for n in explain(r, search=False).needs if n.child_ref == "F")
    assert ne.summary == "MIXED"  # per offering the reasons differ
    by_reason, by_ct = _blocked(r)
    group = group_of(Reason.FAMILY_PREFERS_WAITLIST)
    expected = group if group in REASON_GROUPS else Group.OTHER
    assert by_reason[expected.value] >= 1
    assert by_reason[Group.MIXED.value] == 0
    assert sum(by_reason.values()) == sum(by_ct.values())


def test_a_ceiling_blocked_child_counts_under_the_ceiling() -> None:
    r = match(scenario("u4_ceiling_search.json"))
    by_reason, _ = _blocked(r)
    assert by_reason[Group.BUDGET_CEILING.value] == 1
    assert by_reason[Group.MIXED.value] == 0


def test_every_blocked_need_is_counted_once() -> None:
    for name in (
        "u2_family_preference.json",
        "u3_third_in_queue.json",
        "u6_no_gezinshuis_in_region.json",
    ):
        r = match(scenario(name))
        by_reason, by_ct = _blocked(r)
        late = len(r.placements) - r.n_within_norm
        assert sum(by_reason.values()) == len(r.unplaced) + late == sum(by_ct.values())
        assert set(by_reason) <= {g.value for g in REASON_GROUPS}
