"""Parts of a large problem solved again (matcher/solvers/strategies/parts.py): a part's
problem has exactly the answers of the whole that keep the held items where they are,
an answer is only ever replaced by a better one, and `solve` runs the step after PDLP's
route within its time limit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher import AssignmentProblem, ProblemBuilder, SolveOptions, solve, verify
from matcher.solvers.budget import TimeBudget
from matcher.solvers.core import Core, IntArray, build_core
from matcher.solvers.strategies import parts, steps
from tests.test_colgen import _all_choices, provider_problems


def _two_gemeenten() -> AssignmentProblem:
    """Children c0-c2 of gemeente g1 and c3-c4 of g2; one contract row p that c0
    uses on one of its two arcs only, and c4 on its only arc."""
    b = ProblemBuilder()
    for o in ("o1", "o2", "o3"):
        b.resource(f"place:{o}", 1)
    b.resource("gemeente:g1", 10)
    b.resource("gemeente:g2", 4)
    b.resource("provider:p", 3)
    b.item("c0")
    b.arc("c0", "o1", 5, {"place:o1": 1, "gemeente:g1": 4, "provider:p": 4})
    b.arc("c0", "o2", 4, {"place:o2": 1, "gemeente:g1": 4})
    for c in ("c1", "c2"):
        b.item(c)
        b.arc(c, "o2", 3, {"place:o2": 1, "gemeente:g1": 4})
        b.arc(c, "o3", 2, {"place:o3": 1, "gemeente:g1": 4})
    b.item("c3")
    b.arc("c3", "o3", 6, {"place:o3": 1, "gemeente:g2": 3})
    b.item("c4")
    b.arc("c4", "o1", 7, {"place:o1": 1, "gemeente:g2": 3, "provider:p": 2})
    return b.build()


def _row(core: Core, name: str) -> int:
    ids = [core.problem.resource_ids[r] for r in core.res_orig.tolist()]
    return ids.index(name)


def test_owner_row_is_the_largest_row_every_arc_of_the_item_uses() -> None:
    core = build_core(_two_gemeenten())
    owner = parts.owner_rows(core)
    g1, g2 = _row(core, "gemeente:g1"), _row(core, "gemeente:g2")
    # c4 uses p on its only arc too, but g2 owns more items (c3 and c4)
    assert owner.tolist() == [g1, g1, g1, g2, g2]


def test_parts_join_whole_rows_and_cover_every_owned_item(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    core = build_core(_two_gemeenten())
    chosen = np.full(core.n_items, -1, dtype=np.int64)
    monkeypatch.setattr(parts, "PART_ARCS", 2)
    # without an LP point, the rows with more arcs first: g1 (6 arcs), then g2 (2)
    assert [m.tolist() for m in parts.parts(core, chosen, None)] == [
        [True, True, True, False, False],
        [False, False, False, True, True],
    ]
    # an LP point that promises more on g2's children puts g2 first
    x = np.zeros(core.n_arcs)
    x[core.item_ptr[3]] = 1.0
    first = parts.parts(core, chosen, x)[0]
    assert first.tolist() == [False, False, False, True, True]
    # one part of every item would be the whole problem again
    monkeypatch.setattr(parts, "PART_ARCS", 100)
    assert parts.parts(core, chosen, None) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(provider_problems(), st.integers(0, 2**31 - 1))
def test_a_part_has_exactly_the_answers_that_hold_the_other_items(
    p: AssignmentProblem, seed: int
) -> None:
    core = build_core(p)
    everything = _all_choices(core)
    feasible = [c for c in everything if core.is_feasible(c)]
    rng = np.random.default_rng(seed)
    held = feasible[int(rng.integers(len(feasible)))]
    free = rng.random(core.n_items) < 0.5
    sub, back = parts.part_core(core, held, free)
    held_here = np.where(free, steps.to_sub(held, back), -1)
    assert sub.is_feasible(held_here)
    in_sub = set()
    for c in _all_choices(sub):
        whole = np.where(free, steps.to_core(c, back), held)
        assert sub.is_feasible(c) == core.is_feasible(whole)
        assert sub.value(c) - sub.value(held_here) == core.value(whole) - core.value(held)
        if sub.is_feasible(c):
            in_sub.add(tuple(whole.tolist()))
    holding = {tuple(c.tolist()) for c in feasible if bool(np.all(c[~free] == held[~free]))}
    assert in_sub == holding


def _answers(better: bool) -> parts.SolvePart:
    """A `solve_part` that returns the part's best answer (or its worst), found by
    enumeration."""

    def solve_part(sub: Core, seconds: float) -> IntArray | None:
        assert 0 < seconds <= parts.PART_S
        found = [c for c in _all_choices(sub) if sub.is_feasible(c)]
        return (max if better else min)(found, key=sub.value)

    return solve_part


def test_improve_takes_a_better_part_answer_and_never_a_worse_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    core = build_core(_two_gemeenten())
    monkeypatch.setattr(parts, "PART_ARCS", 2)
    monkeypatch.setattr(parts, "PART_MIN_S", 0.0)
    nothing = np.full(core.n_items, -1, dtype=np.int64)
    optimum = max((c for c in _all_choices(core) if core.is_feasible(c)), key=core.value)
    stats: dict[str, object] = {}
    got = parts.improve(core, nothing, None, TimeBudget(10.0), _answers(True), stats)
    assert core.is_feasible(got)
    # the two gemeenten share only the place o3 and the contract p: solved one after
    # the other from nothing, they reach the optimum here
    assert core.value(got) == core.value(optimum)
    assert stats["parts_tried"] == 2
    assert stats["parts_improved"] == 2
    assert stats["parts_gain"] == core.value(optimum) - core.value(nothing)
    worse = parts.improve(core, optimum, None, TimeBudget(10.0), _answers(False), {})
    assert worse.tolist() == optimum.tolist()


def test_improve_stops_when_the_time_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    core = build_core(_two_gemeenten())
    monkeypatch.setattr(parts, "PART_ARCS", 2)
    nothing = np.full(core.n_items, -1, dtype=np.int64)
    stats: dict[str, object] = {}

    def never(sub: Core, seconds: float) -> IntArray | None:
        raise AssertionError("no part fits in the time left")

    got = parts.improve(core, nothing, None, TimeBudget(parts.PART_MIN_S / 2), never, stats)
    assert got.tolist() == nothing.tolist()
    assert stats["parts_tried"] == 0


def test_solve_runs_parts_after_pdlp_within_its_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PDLP's route opened at 1k x 200 (as in test_pdlp_lp.py) with parts of 3,000
    arcs: after at most three Lagrangian steps parts run, each by the route without
    parts of its own, the answer is verified and the limit kept."""
    from benchmarks.generate import GeneratorConfig, generate
    from matcher.solvers.strategies import mip as mip_strategy

    monkeypatch.setattr(mip_strategy, "COLGEN", False)
    monkeypatch.setattr(mip_strategy, "PDLP_MIN_ARCS", 1_000)
    monkeypatch.setattr(parts, "PART_ARCS", 3_000)
    # PDLP in half the limit, so that a part fits however many rounds it makes
    monkeypatch.setattr(mip_strategy, "PDLP_SHARE", 0.5)
    monkeypatch.setattr(parts, "PART_S", 0.5)
    monkeypatch.setattr(parts, "PART_MIN_S", 0.3)
    p = generate(GeneratorConfig(1000, 200, seed=1))
    seen: list[int] = []
    workers: list[int] = []
    run = mip_strategy.MipStrategy.run

    def counted(self: mip_strategy.MipStrategy, core: Core, *args: object) -> object:
        if not self.with_parts:
            seen.append(core.n_arcs)
            workers.append(args[0].workers)  # type: ignore[attr-defined]
        return run(self, core, *args)  # type: ignore[arg-type]

    # the first solve in a process pays for loading the solvers and left PDLP one round
    # in 2 s (a bound 1.4 % above the answer, as without parts); test_pdlp_lp.py's solve
    # comes after others
    solve(p, SolveOptions(time_limit_s=2.0))
    monkeypatch.setattr(mip_strategy.MipStrategy, "run", counted)
    # 2 s: the plain LP does not fit twice in the time left (test_pdlp_lp.py)
    sol = solve(p, SolveOptions(time_limit_s=2.0))
    verify(p, sol)
    assert sol.stats["lagrange_iterations"] <= mip_strategy.LAGRANGE_STEPS_BEFORE_PARTS
    assert sol.stats["parts_tried"] >= 1
    assert len(seen) == sol.stats["parts_tried"]
    # a part's route has the solve's two workers (PDLP's threads are done by then)
    assert workers == [2] * len(seen)
    assert all(n < build_core(p).n_arcs for n in seen), seen
    assert sol.wall_time_s < 2.0 + 0.25
    assert sol.gap is not None
    # the bound is PDLP's: with its cuts (a second round) under 1 %; when the time left
    # it one round (no cuts), 1.4 % with or without parts
    if sol.stats["pdlp_rounds"] >= 2:
        assert sol.gap < 0.01
