"""A what-if's patched compile equals compiling the changed scenario from scratch."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from matcher.domain.compile import Compiled, compile_scenario
from matcher.domain.compile_patch import patch_compile
from matcher.domain.eligibility import evaluate
from matcher.domain.incremental import evaluate_changes, resolve
from matcher.domain.match import decode, match
from matcher.domain.model import CareNeed, Contract, Release, Scenario
from matcher.domain.synth import generate
from matcher.domain.whatif import (
    AddChildren,
    AddContract,
    AddOffering,
    AddPlaces,
    AllowLate,
    AllowOutOfRegion,
    ChangeCeiling,
    Delta,
    Forbid,
    GemeenteLeaves,
    LiftIntakeStop,
    Pin,
    RemoveChildren,
    SetReleases,
    WaiveContraIndication,
    apply,
)
from matcher.problem import validate_arrays
from matcher.solution import SolveOptions, Status, verify
from tests.test_solve_helpers import assert_same_problem

EXACT = SolveOptions(time_limit_s=20, relative_gap=0.0)

# the kinds a patch must handle itself; the others change the policy, the regions or
# the contracts (every pair is checked again) and compile in full
PATCHED = {
    "add_places",
    "remove_places",
    "add_release",
    "set_releases",
    "raise_ceiling",
    "lower_ceiling",
    "waive",
    "lift_stop",
    "add_child",
    "remove_child",
    "add_offering",
    "pin",
    "forbid",
}


def _deltas(sc: Scenario, seed: int) -> list[tuple[str, Delta]]:
    """One delta of every kind in `whatif` (two directions where they differ)."""
    rng = random.Random(seed)
    ev = sc.evaluation_date
    base = evaluate(sc)
    offs = list(sc.offerings)
    with_ci = [o for o in offs if o.contra_indications] or offs
    ci_off = rng.choice(with_ci)
    stops = [o for o in offs if o.intake_stop] or offs
    bundled = {ref for b in sc.bundles for ref, _ in b.members}
    single = [c for c in sc.children if c.ref not in bundled]
    pairs = [(k, pc) for k in base.pairs for pc in base.eligible(*k)]
    (pin_key, pin_pc) = rng.choice(pairs)
    (forbid_key, forbid_pc) = rng.choice(pairs)
    c = rng.choice(sc.children)
    new_child = replace(
        c, ref="NEW1", needs=(CareNeed("n1", c.needs[0].care_type),), ruling_date=ev
    )
    cheap = min(offs, key=lambda o: o.price_cents)
    out: list[tuple[str, Delta]] = [
        ("add_places", AddPlaces(rng.choice(offs).id, 2)),
        ("remove_places", AddPlaces(max(offs, key=lambda o: o.free_now).id, -1)),
        ("add_release", AddPlaces(rng.choice(offs).id, 1, on=ev + timedelta(days=40))),
        ("set_releases", SetReleases(rng.choice(offs).id, (Release(ev + timedelta(10), 2),))),
        ("waive", WaiveContraIndication(ci_off.id, sorted(ci_off.contra_indications, key=str)[0]))
        if ci_off.contra_indications
        else ("waive", LiftIntakeStop(ci_off.id)),
        ("lift_stop", LiftIntakeStop(rng.choice(stops).id)),
        ("add_child", AddChildren((new_child,))),
        ("remove_child", RemoveChildren((rng.choice(single).ref,))),
        ("remove_bundled", RemoveChildren((sorted(bundled)[0],)) if bundled else None),
        ("gemeente_leaves", GemeenteLeaves(sc.children[0].gemeente)),
        ("out_of_region", AllowOutOfRegion(not sc.policy.allow_out_of_region)),
        ("late", AllowLate(not sc.policy.allow_late)),
        ("add_offering", AddOffering(replace(cheap, id="NEWOFF", free_now=3))),
        ("add_contract", AddContract(Contract("NEWC", cheap.provider, cheap.care_type, "JZ90"))),
        ("pin", Pin(pin_key[0], pin_key[1], pin_pc.offering_id)),
        ("forbid", Forbid(forbid_key[0], forbid_key[1], forbid_pc.offering_id)),
    ]
    if sc.budgets:
        b = rng.choice(sc.budgets)
        out.append(("raise_ceiling", ChangeCeiling(b.id, 1_000_000)))
        out.append(("lower_ceiling", ChangeCeiling(b.id, -b.remaining_cents // 2 - 1)))
    return [(k, d) for k, d in out if d is not None]


def assert_same_compiled(a: Compiled, b: Compiled) -> None:
    pa, pb = a.problem, b.problem
    assert validate_arrays(pa) == []
    assert_same_problem(pa, pb)
    assert dict(pa.meta) == dict(pb.meta)
    assert a.arcs == b.arcs
    assert a.weights == b.weights
    assert a.item_members == b.item_members
    assert a.bundle_of == b.bundle_of
    assert a.bundle_infeasible == b.bundle_infeasible
    assert a.groups == b.groups
    assert a.cutoffs == b.cutoffs
    assert a.targets == b.targets
    assert a.own_places == b.own_places
    assert a.pinned == b.pinned
    assert a.priority == b.priority
    assert {k: set(v) for k, v in a.pairs_at.items() if v} == {
        k: set(v) for k, v in b.pairs_at.items() if v
    }
    assert {k: v for k, v in a.via_pairs.items() if v} == {
        k: v for k, v in b.via_pairs.items() if v
    }
    assert a.raw_uses is not None
    assert b.raw_uses is not None
    for x, y in zip(a.raw_uses, b.raw_uses, strict=True):
        assert np.array_equal(x, y)
    assert np.array_equal(a.demand, b.demand)


def _patched(base: Compiled, new: Scenario) -> Compiled | None:
    elig, changes = evaluate_changes(new, base.eligibility)
    return patch_compile(base, new, elig, changes)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_patch_equals_fresh_compile_for_every_delta_kind(seed):
    sc = generate(80, 40, seed=seed, n_gemeenten=4)
    base = compile_scenario(sc)
    kinds = set()
    for kind, d in _deltas(sc, seed):
        new = apply(sc, d)
        patched = _patched(base, new)
        if kind in PATCHED:
            assert patched is not None, kind
        if patched is None:
            continue
        kinds.add(kind)
        assert_same_compiled(patched, compile_scenario(new, evaluate(new)))
    assert kinds >= PATCHED - {"raise_ceiling", "lower_ceiling"}


@pytest.mark.parametrize("seed", [4, 5])
def test_patch_of_a_patch_equals_fresh_compile(seed):
    """What-ifs chained on a what-if's result patch a patched problem."""
    sc = generate(80, 40, seed=seed, n_gemeenten=4)
    comp = compile_scenario(sc)
    cur = sc
    for kind, d in _deltas(sc, seed):
        if kind not in PATCHED or kind in ("pin", "forbid"):
            continue  # a later delta may remove the pinned child
        nxt = apply(cur, d)
        patched = _patched(comp, nxt)
        assert patched is not None, kind
        assert_same_compiled(patched, compile_scenario(nxt, evaluate(nxt)))
        comp, cur = patched, nxt


def test_patch_declines_what_it_cannot_show():
    sc = generate(60, 30, seed=7, n_gemeenten=3)
    base = compile_scenario(sc)
    assert _patched(base, apply(sc, AllowLate(not sc.policy.allow_late))) is None
    top = max(sc.offerings, key=lambda o: o.price_cents)
    dearer = AddOffering(replace(top, id="DEAR", price_cents=top.price_cents * 2))
    assert _patched(base, apply(sc, dearer)) is None  # every cost level changes


@pytest.mark.parametrize("seed", [4, 6])
def test_resolve_equals_scratch_for_every_delta_kind(seed):
    sc = generate(60, 30, seed=seed, n_gemeenten=3)
    base = match(sc, EXACT)
    assert base.solution.status is Status.OPTIMAL
    for kind, d in _deltas(sc, seed):
        new = apply(sc, d)
        r, comp = resolve(base, new, EXACT)
        verify(comp.problem, r.solution)
        scratch = match(new, EXACT, compiled=compile_scenario(new))
        assert r.solution.status is Status.OPTIMAL, kind
        assert r.solution.objective == scratch.solution.objective, kind


@pytest.mark.parametrize("seed", [4, 8])
def test_decode_reusing_the_base_equals_decoding_everything(seed):
    sc = generate(80, 40, seed=seed, n_gemeenten=4)
    base = match(sc, EXACT)
    reused = 0
    for kind, d in _deltas(sc, seed):
        r, comp = resolve(base, apply(sc, d), EXACT)
        full = decode(comp, r.solution)
        assert list(r.placements.items()) == list(full.placements.items()), kind
        assert r.unplaced == full.unplaced, kind
        reused += sum(1 for k, p in r.placements.items() if base.placements.get(k) is p)
    assert reused > 0  # the base's placements were taken over, not decoded again


@pytest.mark.parametrize("seed", [2, 3, 5])
def test_a_ceiling_below_a_price_drops_arcs_in_the_patch_too(seed):
    """A ceiling change alone rebuilds only the items whose placement cost lies between
    the old and the new remaining amount: there arcs appear or vanish."""
    sc = generate(80, 40, seed=seed, n_gemeenten=4)
    base = compile_scenario(sc)
    placed_at = {a.offering for a in base.arcs}
    o, b = next(
        (o, b)
        for b in sc.budgets
        for o in sorted(sc.offerings, key=lambda o: -o.price_cents)
        if o.provider == b.provider
        and b.perceel in (None, o.effective_perceel)
        and o.id in placed_at
        and o.price_cents > 0
    )
    cut = apply(sc, ChangeCeiling(b.id, o.price_cents - 1 - b.remaining_cents))
    patched = _patched(base, cut)
    assert patched is not None
    fresh = compile_scenario(cut, evaluate(cut))
    assert_same_compiled(patched, fresh)
    back = apply(cut, ChangeCeiling(b.id, b.remaining_cents - (o.price_cents - 1)))
    again = _patched(patched, back)
    assert again is not None
    assert_same_compiled(again, compile_scenario(back, evaluate(back)))
    assert fresh.problem.n_arcs < base.problem.n_arcs == again.problem.n_arcs


@pytest.mark.parametrize("seed", [1, 3, 5])
def test_new_children_that_split_release_groups(seed):
    """A new child's target date can cut an offering's release groups in two: every
    item with arcs there is built again (its options and resources moved)."""
    sc = generate(80, 40, seed=seed, n_gemeenten=4)
    base = compile_scenario(sc)
    rng = random.Random(seed)
    regrouped = 0
    for k in range(6):
        c = rng.choice(sc.children)
        ruling = sc.evaluation_date - timedelta(days=rng.randrange(0, 200))
        child = replace(c, ref=f"X{k}", needs=(CareNeed("n1", c.needs[0].care_type),))
        new = apply(sc, AddChildren((replace(child, ruling_date=ruling),)))
        patched = _patched(base, new)
        assert patched is not None
        assert_same_compiled(patched, compile_scenario(new, evaluate(new)))
        regrouped += patched.groups != base.groups
    assert regrouped


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("with_via_index", [False, True])
def test_incremental_eligibility_equals_full_for_every_delta_kind(seed, with_via_index):
    """Same eligible checks in the same (candidate) order, and every need whose checks
    differ from the base is among the reported changes."""
    sc = generate(80, 40, seed=seed, n_gemeenten=4)
    base = evaluate(sc)
    via = compile_scenario(sc, base).via_pairs if with_via_index else None
    for kind, d in _deltas(sc, seed):
        new = apply(sc, d)
        inc, changes = evaluate_changes(new, base, via)
        full = evaluate(new)
        assert list(inc.pairs) == list(full.pairs), kind
        for k in full.pairs:
            assert inc.eligible(*k) == full.eligible(*k), (kind, k)
            if changes is not None and (
                k not in base.pairs or base.eligible(*k) != full.eligible(*k)
            ):
                assert k in changes.keys, (kind, k)


def test_keep_binding_uses_equals_counting_per_arc():
    """The running-count form of `keep_binding_uses` gives what counting the kept uses
    per arc gives, for arcs without uses too."""
    from matcher.domain.compile import keep_binding_uses

    rng = np.random.default_rng(3)
    for _ in range(20):
        n_arcs, n_res = int(rng.integers(1, 60)), int(rng.integers(1, 8))
        counts = rng.integers(0, 4, n_arcs)
        ptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        res = rng.integers(0, n_res, int(ptr[-1])).astype(np.int32)
        amt = rng.integers(1, 5, int(ptr[-1])).astype(np.int64)
        redundant = rng.random(n_res) < 0.4
        got = keep_binding_uses(ptr, res, amt, redundant)
        keep = ~redundant[res]
        use_arc = np.repeat(np.arange(n_arcs), counts)
        want_ptr = np.concatenate(([0], np.cumsum(np.bincount(use_arc[keep], minlength=n_arcs))))
        assert np.array_equal(got[0], want_ptr)
        assert got[0].dtype == np.int64
        assert np.array_equal(got[1], res[keep])
        assert np.array_equal(got[2], amt[keep])


def test_an_item_reached_through_one_offering_copies_its_other_arcs(monkeypatch):
    """More places at one offering: the items with a pair there get new arcs at that
    offering only; their arcs elsewhere come from the base, and the result is still
    the full compile."""
    import matcher.domain.compile_patch as cp

    sc = generate(80, 40, seed=7, n_gemeenten=4)
    base = compile_scenario(sc)
    busiest = max(base.pairs_at, key=lambda o: len(base.pairs_at[o]))
    copied: list[str] = []
    real_at = cp.BaseArcs.at

    def counting_at(self, it, item_ix, out):
        copy = real_at(self, it, item_ix, out)

        def counted(oids):
            copied.extend(oids)
            copy(oids)

        return counted

    monkeypatch.setattr(cp.BaseArcs, "at", counting_at)
    new = apply(sc, AddPlaces(busiest, 3))
    patched = _patched(base, new)
    assert patched is not None
    assert_same_compiled(patched, compile_scenario(new, evaluate(new)))
    assert copied, "no arc was copied from the base"
    assert busiest not in copied


def test_the_base_read_back_is_kept_until_the_base_answer_changes():
    from dataclasses import replace as dc_replace

    from matcher.domain.match import _base_read_back

    sc = generate(40, 20, seed=3, n_gemeenten=2)
    base = match(sc, EXACT)
    first = _base_read_back(base)
    assert _base_read_back(base) is first
    assert sum(len(v) for v in first.placed_at.values()) == len(base.placements)
    assert all(
        base.placements[k].offering == oid for oid, ks in first.placed_at.items() for k in ks
    )
    base.solution = dc_replace(base.solution)
    again = _base_read_back(base)
    assert again is not first
    assert again.solution is base.solution
