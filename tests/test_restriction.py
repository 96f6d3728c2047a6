"""An optimal answer of a problem is carried to a smaller problem only when it is
optimal there too (matcher.restriction.carries), checked against every answer of
small problems."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.problem import AssignmentProblem, ProblemBuilder, Sense
from matcher.restriction import carries
from matcher.solution import Solution, Status, assignment_arcs, objective_of

OPTIONS = ("o1", "o2", "o3")


@dataclass
class Spec:
    """A small problem by its parts, so that a test can change one part."""

    caps: dict[str, int]
    # item -> option -> (value, uses)
    arcs: dict[str, dict[str, tuple[int, dict[str, int]]]]
    must: set[str] = field(default_factory=set)
    penalty: dict[str, int] = field(default_factory=dict)
    pins: set[tuple[str, str]] = field(default_factory=set)
    sense: Sense = Sense.MAXIMIZE

    def build(self) -> AssignmentProblem:
        b = ProblemBuilder(self.sense)
        for item in self.arcs:
            b.item(
                item, must_assign=item in self.must, unassigned_penalty=self.penalty.get(item, 0)
            )
        for r, c in self.caps.items():
            b.resource(r, c)
        for item, per in self.arcs.items():
            for opt, (value, uses) in per.items():
                b.arc(item, opt, value, uses, pinned=(item, opt) in self.pins)
        return b.build()

    def copy(self) -> Spec:
        return Spec(
            dict(self.caps),
            {i: {o: (v, dict(u)) for o, (v, u) in per.items()} for i, per in self.arcs.items()},
            set(self.must),
            dict(self.penalty),
            set(self.pins),
            self.sense,
        )


def _answers(p: AssignmentProblem) -> list[tuple[int, dict[str, str]]]:
    """Every feasible answer with its objective in max form."""
    per_item: list[list[int | None]] = [[None] for _ in p.item_ids]
    for a in range(p.n_arcs):
        per_item[int(p.arc_item[a])].append(a)
    out = []
    for pick in itertools.product(*per_item):
        arcs = [a for a in pick if a is not None]
        if any(p.must_assign[i] and a is None for i, a in enumerate(pick)):
            continue
        if any(p.pinned[a] and a not in arcs for a in range(p.n_arcs)):
            continue
        use = [0] * p.n_resources
        for a in arcs:
            for k in range(int(p.use_ptr[a]), int(p.use_ptr[a + 1])):
                use[int(p.use_resource[k])] += int(p.use_amount[k])
        if any(u > int(c) for u, c in zip(use, p.capacity, strict=True)):
            continue
        value = sum(int(p.arc_value[a]) for a in arcs) - sum(
            int(p.unassigned_penalty[i]) for i, a in enumerate(pick) if a is None
        )
        if p.sense is Sense.MINIMIZE:
            value = -value
        answer = {p.item_ids[int(p.arc_item[a])]: p.option_ids[int(p.arc_option[a])] for a in arcs}
        out.append((value, answer))
    return out


def _solution(p: AssignmentProblem, answer: dict[str, str]) -> Solution:
    """`answer` as the solver gives it for `p`: its objective there, every other item
    unassigned."""
    objective = objective_of(p, assignment_arcs(p, answer))
    unassigned = tuple(i for i in p.item_ids if i not in answer)
    return Solution(Status.OPTIMAL, objective, float(objective), 0.0, answer, unassigned, 0.0, "")


def _best(p: AssignmentProblem) -> tuple[int, dict[str, str]] | None:
    got = _answers(p)
    return max(got, key=lambda x: x[0]) if got else None


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    n_items = draw(st.integers(2, 4))
    caps = {"place": draw(st.integers(1, 3)), "budget": draw(st.integers(0, 12))}
    arcs: dict[str, dict[str, tuple[int, dict[str, int]]]] = {}
    for i in range(n_items):
        opts = draw(st.lists(st.sampled_from(OPTIONS), min_size=1, max_size=3, unique=True))
        arcs[f"i{i}"] = {
            o: (
                draw(st.integers(1, 9)),
                {"place": 1, "budget": draw(st.integers(0, 6))},
            )
            for o in opts
        }
    return Spec(caps, arcs)


@st.composite
def restricted(draw: st.DrawFn) -> tuple[Spec, Spec]:
    """A problem and one that only drops arcs and lowers capacities."""
    big = draw(specs())
    small = big.copy()
    for item, per in small.arcs.items():
        for opt in list(per):
            if draw(st.booleans()) and draw(st.booleans()):
                del per[opt]
        small.arcs[item] = per
    for r in small.caps:
        small.caps[r] = draw(st.integers(0, small.caps[r]))
    return big, small


@settings(max_examples=150, deadline=None)
@given(restricted())
def test_a_carried_answer_is_optimal_in_the_smaller_problem(pair: tuple[Spec, Spec]) -> None:
    big_spec, small_spec = pair
    big, small = big_spec.build(), small_spec.build()
    best_big = _best(big)
    assert best_big is not None  # nothing is required: leaving every item out is an answer
    value, answer = best_big
    got = carries(big, small, _solution(big, answer))
    small_answers = _answers(small)
    fits = any(a == answer for _, a in small_answers)
    # the problems only differ by dropped arcs and lower capacities: a fitting answer
    # carries, and a carried one is as good as the best of the smaller problem
    assert got == fits
    if got:
        assert value == max(v for v, _ in small_answers)


def _base() -> Spec:
    return Spec(
        {"place": 2, "budget": 10},
        {
            "i0": {"o1": (5, {"place": 1, "budget": 4}), "o2": (3, {"place": 1, "budget": 1})},
            "i1": {"o1": (4, {"place": 1, "budget": 6}), "o3": (2, {"place": 1})},
            "i2": {"o2": (6, {"place": 1, "budget": 5})},
        },
    )


def test_the_same_problem_carries_its_best_answer() -> None:
    p = _base().build()
    best = _best(p)
    assert best is not None
    assert carries(p, p, _solution(p, best[1]))


def _changed(change: str) -> Spec:
    s = _base()
    if change == "value":
        s.arcs["i2"]["o2"] = (7, {"place": 1, "budget": 5})
    elif change == "uses":
        s.arcs["i2"]["o2"] = (6, {"place": 1, "budget": 4})
    elif change == "new arc":
        s.arcs["i2"]["o3"] = (1, {"place": 1})
    elif change == "more room":
        s.caps["budget"] = 11
    elif change == "must":
        s.must = {"i1"}
    elif change == "penalty":
        s.penalty = {"i1": 3}
    elif change == "pin":
        s.pins = {("i1", "o3")}
    elif change == "sense":
        s.sense = Sense.MINIMIZE
    elif change == "other item":
        s.arcs["i3"] = {"o1": (1, {"place": 1})}
    return s


def test_no_carry_when_the_smaller_problem_is_not_a_restriction() -> None:
    big = _base().build()
    best = _best(big)
    assert best is not None
    for change in (
        "value",
        "uses",
        "new arc",
        "more room",
        "must",
        "penalty",
        "pin",
        "sense",
        "other item",
    ):
        assert not carries(big, _changed(change).build(), _solution(big, best[1])), change


def test_no_carry_when_the_answer_does_not_fit() -> None:
    big = _base().build()
    best = _best(big)
    assert best == (11, {"i0": "o1", "i2": "o2"})
    answer = best[1]
    no_arc = _base()
    del no_arc.arcs["i2"]["o2"]
    assert not carries(big, no_arc.build(), _solution(big, answer))
    no_room = _base()
    no_room.caps["budget"] = 8  # the answer pays 9
    assert not carries(big, no_room.build(), _solution(big, answer))
    room = _base()
    room.caps["budget"] = 9
    assert carries(big, room.build(), _solution(big, answer))
