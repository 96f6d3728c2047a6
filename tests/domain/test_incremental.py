"""The fast what-if path gives the same answers as starting from scratch."""

from __future__ import annotations

import random

import pytest

from matcher.domain.compile import compile_scenario
from matcher.domain.eligibility import evaluate
from matcher.domain.incremental import evaluate_incremental, resolve
from matcher.domain.match import match
from matcher.domain.synth import generate
from matcher.domain.whatif import (
    AddPlaces,
    AllowOutOfRegion,
    ChangeCeiling,
    LiftIntakeStop,
    RemoveChildren,
    WaiveContraIndication,
    apply,
)
from matcher.solution import SolveOptions, Status, verify

EXACT = SolveOptions(time_limit_s=20, relative_gap=0.0)


def _deltas(sc, seed):
    rng = random.Random(seed)
    with_ci = [o for o in sc.offerings if o.contra_indications]
    out = [
        AddPlaces(rng.choice(sc.offerings).id, 2),
        LiftIntakeStop(rng.choice(sc.offerings).id),
        RemoveChildren((rng.choice(sc.children).ref,)),
        AllowOutOfRegion(True),
    ]
    if sc.budgets:
        out.append(ChangeCeiling(rng.choice(sc.budgets).id, 1_000_000))
    if with_ci:
        o = rng.choice(with_ci)
        out.append(WaiveContraIndication(o.id, sorted(o.contra_indications, key=str)[0]))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_eligibility_equals_full(seed):
    sc = generate(80, 40, seed=seed, n_gemeenten=4)
    base = evaluate(sc)
    for d in _deltas(sc, seed):
        new = apply(sc, d)
        inc = evaluate_incremental(new, base)
        full = evaluate(new)
        assert inc.pairs.keys() == full.pairs.keys()
        for k in full.pairs:
            assert [(p.offering_id, p.reasons, p.via_main_contractor) for p in inc.pairs[k]] == [
                (p.offering_id, p.reasons, p.via_main_contractor) for p in full.pairs[k]
            ], (d, k)


@pytest.mark.parametrize("seed", [4, 5])
def test_component_resolve_equals_scratch(seed):
    sc = generate(60, 30, seed=seed, n_gemeenten=3)
    base = match(sc, EXACT)
    assert base.solution.status is Status.OPTIMAL
    for d in _deltas(sc, seed):
        new = apply(sc, d)
        r, comp = resolve(base, new, EXACT)
        verify(comp.problem, r.solution)
        scratch = match(new, EXACT, compiled=compile_scenario(new))
        assert r.solution.status is Status.OPTIMAL
        assert r.solution.objective == scratch.solution.objective, d
