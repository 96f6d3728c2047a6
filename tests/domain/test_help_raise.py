"""The smallest ceiling raise is found from the amounts the answers pay
(matcher.domain.helps._least_raise), with re-solves shared by the children waiting on
one budget, and is the same raise a bisection finds."""

from __future__ import annotations

import pytest

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


def test_the_walk_asks_to_carry_the_answer_before_it_re_solves_the_amount_it_pays() -> None:
    events: list[tuple[str, int]] = []

    def pred(v: int) -> bool:
        events.append(("ask", v))
        return v >= 14398

    def carry(hi: int, to: int) -> None:
        assert to == _needed(hi)
        assert 0 < to < hi
        events.append(("carry", to))

    assert _least_raise(pred, _needed, 4800, TOP, carry) == 14398
    carried = [i for i, (kind, _) in enumerate(events) if kind == "carry"]
    assert carried, "the walk went down through the answers' amounts"
    # each answer's own amount is offered to `carry` right before `pred` asks for it
    for i in carried:
        assert events[i + 1] == ("ask", events[i][1])


def test_a_carried_answer_is_as_good_as_a_re_solve_of_its_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a demo region, every answer the ceiling walk carries to a lower raise fits
    that raise's problem and is worth as much as a fresh re-solve of it (within the
    solver's relative gap), so the spared re-solve could not have found more."""
    import datetime as dt

    from matcher.domain import search_split
    from matcher.domain.compile import compile_scenario
    from matcher.domain.explain import SearchLimits, explain
    from matcher.domain.incremental import evaluate_incremental
    from matcher.domain.match import DEFAULT_OPTIONS, match
    from matcher.domain.neighbourhood import Neighbourhoods
    from matcher.solution import verify
    from providers import demo
    from providers.convert import to_scenario

    today = dt.date(2026, 11, 20)
    data = demo.generate_region("JZ31", seed=2, n_children=200, today=today)
    base = match(to_scenario(data, evaluation_date=today, region_code="JZ31"))
    seen: list[tuple[object, object, object]] = []
    original = Neighbourhoods.carry

    def carry(self: Neighbourhoods, src, dst, scope):  # type: ignore[no-untyped-def]
        got = original(self, src, dst, scope)
        if got is not None:
            part, new, relaxed = self._relaxed_checks(dst, scope)
            elig = relaxed or evaluate_incremental(new, part.eligibility)
            fresh = match(new, DEFAULT_OPTIONS, compiled=compile_scenario(new, elig))
            seen.append((self._recent[(tuple(src), scope)], fresh, got))
        return got

    # the walk is watched from this process: none of it may run in a forked child
    monkeypatch.setattr(search_split, "SPLIT", False)
    Neighbourhoods.carry = carry  # type: ignore[method-assign]
    try:
        explain(base, time_budget_s=60, limits=SearchLimits(stop_at_smallest=True))
    finally:
        Neighbourhoods.carry = original  # type: ignore[method-assign]
    assert len(seen) >= 3, "the walk must carry answers on this region"
    for (_, answer), fresh, got in seen:  # type: ignore[misc]
        # feasible in the lower raise's problem, with the same worth there
        report = verify(fresh.compiled.problem, answer)  # type: ignore[attr-defined]
        assert report.objective == answer.objective
        best = fresh.solution  # type: ignore[attr-defined]
        assert answer.objective >= best.objective - DEFAULT_OPTIONS.relative_gap * abs(
            best.objective
        )
        assert answer.objective <= best.best_bound + 1e-6 * abs(best.best_bound)
        placements, _ = got  # type: ignore[misc]
        assert placements.keys() == {
            (m[0], m[1])
            for item in answer.assignments
            for m in fresh.compiled.item_members[item]  # type: ignore[attr-defined]
        }
