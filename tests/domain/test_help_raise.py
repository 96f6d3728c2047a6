"""The smallest ceiling raise is found from the amounts the answers pay
(matcher.domain.helps._least_raise), with re-solves shared by the children waiting on
one budget, and is the same raise a bisection finds."""

from __future__ import annotations

from matcher.domain.helps import _least_raise, _smallest

# children waiting on one budget get a place, one by one, as the raise grows: the
# answer with raise v places those whose threshold is at most v and pays the largest
# such threshold
THRESHOLDS = [4800, 9595, 14398, 19054, 23990, 28798, 33597, 38398]
TOP = 50_000


def _needed(v: int) -> int:
    return max((t for t in THRESHOLDS if t <= v), default=0)


def test_each_child_gets_its_own_smallest_raise_with_shared_re_solves() -> None:
    asked: set[int] = set()
    bisected: set[tuple[int, int]] = set()
    for t in THRESHOLDS:

        def pred(v: int, t: int = t) -> bool:
            asked.add(v)
            return v >= t

        got = _least_raise(pred, _needed, 4800, TOP)
        assert got == t

        def counted(v: int, t: int = t) -> bool:
            bisected.add((t, v))  # a bisection asks child-specific amounts
            return v >= t

        assert _smallest(counted, 4800, TOP) == t
    # the re-solves asked are the answers' own amounts (and one euro less), shared
    assert len(asked) <= 2 * len(THRESHOLDS) + 3
    assert len(asked) < len({v for _, v in bisected}) / 2


def test_no_raise_when_the_answer_pays_nothing_extra() -> None:
    assert _least_raise(lambda v: True, lambda v: 0, 4800, TOP) == 0


def test_an_answer_that_cannot_be_repeated_falls_back_to_bisection() -> None:
    # the answer of the top raise claims to need 100 euro, but 100 does not place the
    # child (another answer of the same worth was found): bisect between 100 and top
    assert _least_raise(lambda v: v >= 7000, lambda v: 100, 4800, TOP) == 7000


def test_the_shortfall_is_tried_first() -> None:
    asked: list[int] = []

    def pred(v: int) -> bool:
        asked.append(v)
        return v >= 4800

    assert _least_raise(pred, _needed, 4800, TOP) == 4800
    assert asked == [4800, 4799]
