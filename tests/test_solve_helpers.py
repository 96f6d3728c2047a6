"""Shared helpers for the solver tests: oracles, shuffling, random problems.

No tests here; the oracles are deliberately naive so they cannot share a bug
with the solvers.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import numpy as np
from hypothesis import strategies as st

from matcher import AssignmentProblem, ProblemBuilder, Sense
from matcher.solvers.core import Core, IntArray


@dataclass(frozen=True)
class BruteResult:
    feasible: bool
    objective: int | None


def brute_force(p: AssignmentProblem) -> BruteResult:
    """Enumerate every assignment (tiny problems only)."""
    arcs_of: list[list[int | None]] = []
    for i in range(p.n_items):
        own = [a for a in range(p.n_arcs) if p.arc_item[a] == i and not p.forbidden[a]]
        pinned = [a for a in own if p.pinned[a]]
        if pinned:
            arcs_of.append([pinned[0]])
        elif p.must_assign[i]:
            arcs_of.append(list(own))
        else:
            arcs_of.append([None, *own])
    best: int | None = None
    for combo in itertools.product(*arcs_of):
        use = [0] * p.n_resources
        total = 0
        for i, a in enumerate(combo):
            if a is None:
                pen = int(p.unassigned_penalty[i])
                total += -pen if p.sense is Sense.MAXIMIZE else pen
                continue
            total += int(p.arc_value[a])
            for r, q in p.arc_uses(a).items():
                use[p.resource_ids.index(r)] += q
        if any(u > int(c) for u, c in zip(use, p.capacity, strict=True)):
            continue
        if best is None or (total > best if p.sense is Sense.MAXIMIZE else total < best):
            best = total
    return BruteResult(best is not None, best)


def at_scale(
    p: AssignmentProblem, unit: int, below: IntArray, meta: dict[str, object] | None = None
) -> AssignmentProblem:
    """`p` maximized with every value times `unit` plus `below` (per arc): the same
    choices, worth far more, with a little between answers of the same value."""
    return replace(
        p,
        sense=Sense.MAXIMIZE,
        arc_value=p.arc_value * unit + below,
        unassigned_penalty=p.unassigned_penalty * unit,
        meta=dict(p.meta) if meta is None else meta,
    )


@st.composite
def per_arc(draw: st.DrawFn, p: AssignmentProblem, most: int) -> IntArray:
    """A whole number from 0 to `most` for every arc of `p`."""
    values = draw(st.lists(st.integers(0, most), min_size=p.n_arcs, max_size=p.n_arcs))
    return np.array(values, dtype=np.int64)


def core_answers(core: Core) -> list[tuple[int, IntArray]]:
    """Every feasible choice of a tiny core with its value (max form), the best first."""
    per_item = [
        ([] if core.must[i] else [-1]) + [int(a) for a in np.flatnonzero(core.arc_item == i)]
        for i in range(core.n_items)
    ]
    out = []
    for combo in itertools.product(*per_item):
        chosen = np.array(combo, dtype=np.int64)
        if core.is_feasible(chosen):
            out.append((core.value(chosen), chosen))
    return sorted(out, key=lambda t: -t[0])


def assert_same_problem(a: AssignmentProblem, b: AssignmentProblem) -> None:
    """Every field of the two problems is equal, array for array."""
    assert a.item_ids == b.item_ids
    assert a.option_ids == b.option_ids
    assert a.resource_ids == b.resource_ids
    assert a.sense is b.sense
    assert a.name == b.name
    for f in (
        "must_assign",
        "unassigned_penalty",
        "capacity",
        "arc_item",
        "arc_option",
        "arc_value",
        "use_ptr",
        "use_resource",
        "use_amount",
        "pinned",
        "forbidden",
    ):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f


def shuffled(p: AssignmentProblem, seed: int) -> AssignmentProblem:
    """The same problem with items, options, resources, arcs and uses reordered."""
    rng = np.random.default_rng(seed)
    pi = rng.permutation(p.n_items)
    po = rng.permutation(p.n_options)
    pr = rng.permutation(p.n_resources)
    pa = rng.permutation(p.n_arcs)
    inv_i, inv_o, inv_r = np.argsort(pi), np.argsort(po), np.argsort(pr)
    ptr = [0]
    ures: list[int] = []
    uamt: list[int] = []
    for a in pa:
        lo, hi = int(p.use_ptr[a]), int(p.use_ptr[a + 1])
        entries = list(zip(p.use_resource[lo:hi], p.use_amount[lo:hi], strict=True))
        rng.shuffle(entries)
        for r, q in entries:
            ures.append(int(inv_r[r]))
            uamt.append(int(q))
        ptr.append(len(ures))
    return AssignmentProblem.create(
        items=[p.item_ids[k] for k in pi],
        options=[p.option_ids[k] for k in po],
        resources=[p.resource_ids[k] for k in pr],
        capacity=p.capacity[pr],
        arc_item=inv_i[p.arc_item[pa]],
        arc_option=inv_o[p.arc_option[pa]],
        arc_value=p.arc_value[pa],
        use_ptr=ptr,
        use_resource=ures,
        use_amount=uamt,
        must_assign=p.must_assign[pi],
        unassigned_penalty=p.unassigned_penalty[pi],
        pinned=p.pinned[pa],
        forbidden=p.forbidden[pa],
        sense=p.sense,
    )


@st.composite
def tiny_problems(draw: st.DrawFn, budgets: bool = True, max_items: int = 5) -> AssignmentProblem:
    """Random valid problems small enough for `brute_force`."""
    n_items = draw(st.integers(1, max_items))
    n_opts = draw(st.integers(1, 3))
    n_res = draw(st.integers(1, 3))
    sense = draw(st.sampled_from([Sense.MAXIMIZE, Sense.MINIMIZE]))
    b = ProblemBuilder(sense=sense)
    for r in range(n_res):
        b.resource(f"r{r}", draw(st.integers(0, 4)))
    pinned_items: set[int] = set()
    has_open: set[int] = set()
    musts: list[bool] = []
    for i in range(n_items):
        must = draw(st.booleans()) and draw(st.booleans())
        musts.append(must)
        b.item(f"i{i}", must_assign=must, unassigned_penalty=draw(st.integers(0, 6)))
        for o in range(n_opts):
            if not draw(st.booleans()):
                continue
            if budgets:
                uses = {
                    f"r{r}": draw(st.integers(0, 3)) for r in range(n_res) if draw(st.booleans())
                }
            else:
                uses = {f"r{draw(st.integers(0, n_res - 1))}": 1} if draw(st.booleans()) else {}
            pin = i not in pinned_items and draw(st.integers(0, 9)) == 0
            forb = not pin and draw(st.integers(0, 7)) == 0
            if pin:
                pinned_items.add(i)
            if not forb:
                has_open.add(i)
            b.arc(f"i{i}", f"o{o}", draw(st.integers(-5, 20)), uses, pinned=pin, forbidden=forb)
    # a must-assign item needs an open arc to be a valid problem
    for i in range(n_items):
        if musts[i] and i not in has_open:
            b.arc(f"i{i}", "fallback", draw(st.integers(-5, 5)), {"r0": 1})
    return b.build()
