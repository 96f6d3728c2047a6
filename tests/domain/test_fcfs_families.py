"""First come, first served takes a family bundle as one, as the matching does."""

from __future__ import annotations

from datetime import date

from matcher.domain.fcfs import first_come_first_served
from matcher.domain.match import match
from matcher.domain.model import FamilyBundle
from tests.domain.helpers import child, offering, scenario, with_policy


def siblings_and_one_between(places: int):
    """Siblings S1 (oldest ruling) and S2 (youngest) must go together; C's ruling lies
    between theirs.  One offering with `places` free places."""
    kids = [
        child("S1", ruling_date=date(2022, 1, 10)),
        child("C", ruling_date=date(2022, 1, 20)),
        child("S2", ruling_date=date(2022, 2, 1)),
    ]
    bundle = FamilyBundle("F", (("S1", "n"), ("S2", "n")))
    return scenario(kids, [offering("O", free_now=places)], bundles=(bundle,))


def test_a_bundle_is_served_together_at_its_earliest_ruling() -> None:
    got = first_come_first_served(siblings_and_one_between(2))
    # the bundle's turn is S1's: both siblings take the two places before C
    assert sorted(ref for ref, _ in got.placements) == ["S1", "S2"]
    assert got.unplaced == [("C", "n")]
    assert {p.offering for p in got.placements.values()} == {"O"}
    assert len({p.start for p in got.placements.values()}) == 1


def test_a_bundle_that_does_not_fit_takes_no_place() -> None:
    got = first_come_first_served(siblings_and_one_between(1))
    # one place cannot hold both siblings: neither goes, and C gets the place
    assert sorted(got.unplaced) == [("S1", "n"), ("S2", "n")]
    assert list(got.placements) == [("C", "n")]
    # the matching keeps the bundle together as well: both siblings or neither
    placed = {ref for ref, _ in match(siblings_and_one_between(1)).placements}
    assert len(placed & {"S1", "S2"}) in (0, 2)


def test_without_bundling_every_child_is_served_on_its_own() -> None:
    got = first_come_first_served(with_policy(siblings_and_one_between(2), bundle_families=False))
    assert sorted(ref for ref, _ in got.placements) == ["C", "S1"]
    assert got.unplaced == [("S2", "n")]
