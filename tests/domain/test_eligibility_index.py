"""The indexed eligibility equals the per-pair rules on random scenarios.

`evaluate` runs the rules only on pairs that `pair_index.CandidateIndex` cannot rule
out and computes the other candidates' reasons when they are read; the reference
`evaluate_every_pair` runs every rule on every candidate.  Both must give the same
needs in the same order, the same eligible checks, and the same reasons for every
candidate.  The scenarios start from `synth.generate` and are then varied in every
fact an index looks at: regions and service areas, contracts (also expired ones),
subcontracts that accept or refuse (per care type or for all), opnamestops, places,
ages, LVB and unstable children, contra-indications and waivers, refusals, forbids,
current placements, a family's waiting-list preference, accepted alternatives and the
policy switches.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.domain.compile import compile_scenario
from matcher.domain.eligibility import evaluate, evaluate_every_pair
from matcher.domain.incremental import evaluate_incremental
from matcher.domain.model import (
    CareNeed,
    Child,
    ChildAttribute,
    Contract,
    Forbid,
    Mode,
    Offering,
    Policy,
    Refusal,
    Scenario,
    Subcontract,
)
from matcher.domain.reasons import Reason
from matcher.domain.synth import generate

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
OTHER_REGIONS = ("JZ91", "JZ92")
ATTRS = (
    ChildAttribute.LVB,
    ChildAttribute.UNSTABLE_SITUATION,
    ChildAttribute.AGGRESSION,
    ChildAttribute.ZEDENVERLEDEN,
)


def _offering(o: Offering, rng: random.Random, gemeenten: list[str]) -> Offering:
    kw: dict[str, object] = {}
    if rng.random() < 0.3:
        kw["service_area"] = frozenset(rng.sample([*gemeenten, "JZ90", *OTHER_REGIONS], k=2))
    if rng.random() < 0.2:
        kw["waived_contra_indications"] = frozenset(rng.sample(ATTRS, k=1))
    if rng.random() < 0.2:
        kw["contra_indications"] = o.contra_indications | {rng.choice(ATTRS)}
    if rng.random() < 0.1:
        kw["intake_stop"] = not o.intake_stop
    if rng.random() < 0.15:
        kw["free_now"], kw["releases"] = 0, ()
    if rng.random() < 0.2:
        lo = rng.randrange(0, 16)
        kw["age_min"], kw["age_max"] = lo, lo + rng.randrange(0, 8)
    return replace(o, **kw) if kw else o  # type: ignore[arg-type]


def _need(n: CareNeed, rng: random.Random, offs: list[Offering]) -> CareNeed:
    kw: dict[str, object] = {}
    if rng.random() < 0.3:
        kw["alternative_accepted"] = not n.alternative_accepted
    if rng.random() < 0.1:
        kw["current_offering"] = rng.choice(offs).id
        if rng.random() < 0.5:
            kw["start_date"] = date(2022, 1, 1)
    if rng.random() < 0.1:
        o = rng.choice(offs)
        kw["family_prefers_waitlist_at"] = rng.choice((o.id, o.provider))
    return replace(n, **kw) if kw else n  # type: ignore[arg-type]


def _child(c: Child, rng: random.Random, offs: list[Offering], gemeenten: list[str]) -> Child:
    kw: dict[str, object] = {"needs": tuple(_need(n, rng, offs) for n in c.needs)}
    if rng.random() < 0.15:
        kw["region"] = rng.choice(OTHER_REGIONS)
    if rng.random() < 0.1:
        kw["gemeente"] = rng.choice((*gemeenten, "GM8000"))  # GM8000: in no region
    if rng.random() < 0.3:
        kw["attributes"] = c.attributes | {rng.choice(ATTRS)}
    if rng.random() < 0.3:
        kw["age_years"] = None
        kw["birth_month"] = date(2022 - rng.randrange(0, 19), rng.randrange(1, 13), 1)
    return replace(c, **kw)  # type: ignore[arg-type]


def varied(seed: int, n: int, m: int) -> Scenario:
    sc = generate(n, m, seed=seed, n_gemeenten=4)
    rng = random.Random(seed + 1)
    gemeenten = list(sc.regions[0].gemeenten)
    offs = [_offering(o, rng, gemeenten) for o in sc.offerings]
    kids = [_child(c, rng, offs, gemeenten) for c in sc.children]
    ev = sc.evaluation_date
    contracts = list(sc.contracts)
    for c in rng.sample(contracts, k=len(contracts) // 5):
        contracts.append(
            replace(c, id=c.id + "x", buyer=rng.choice(gemeenten), valid_until=ev - timedelta(1))
        )
    contracts += [
        Contract(f"CF{i}", o.provider, o.care_type, rng.choice(gemeenten), valid_from=ev)
        for i, o in enumerate(rng.sample(offs, k=min(3, len(offs))))
    ]
    providers = sorted({o.provider for o in offs})
    subs = list(sc.subcontracts) + [
        Subcontract(rng.choice(providers), rng.choice(providers), rng.random() < 0.5, o.care_type)
        for o in rng.sample(offs, k=min(4, len(offs)))
    ]
    pairs = [(c, nd, o) for c in kids for nd in c.needs for o in offs]
    picks = rng.sample(pairs, k=min(12, len(pairs)))
    refusals = [
        Refusal(o.id, c.ref, rng.choice((None, *ATTRS)))
        for c, _, o in picks[:6]  # some with a contra-indication, some without
    ]
    forbids = [Forbid(c.ref, nd.id, o.id) for c, nd, o in picks[6:]]
    policy = Policy(
        mode=rng.choice((Mode.ADVISORY, Mode.BINDING)),
        allow_out_of_region=rng.random() < 0.3,
        allow_late=rng.random() < 0.3,
        bundle_families=rng.random() < 0.8,
    )
    return replace(
        sc,
        children=tuple(kids),
        offerings=tuple(offs),
        contracts=tuple(contracts),
        subcontracts=tuple(subs),
        refusals=tuple(refusals),
        forbids=tuple(forbids),
        policy=policy,
    )


def assert_same(fast_sc: Scenario) -> None:
    fast = evaluate(fast_sc)
    ref = evaluate_every_pair(fast_sc)
    assert list(fast.pairs) == list(ref.pairs)
    for key in ref.pairs:
        assert fast.eligible(*key) == [pc for pc in ref.pairs[key] if pc.eligible]
    assert fast.pairs.filled == 0  # no reason was computed to find the eligible pairs
    for key in ref.pairs:
        assert fast.pairs[key] == ref.pairs[key]  # every candidate, every reason


@SETTINGS
@given(seed=st.integers(0, 100_000), n=st.integers(1, 40), m=st.integers(1, 30))
def test_indexed_eligibility_equals_every_pair(seed: int, n: int, m: int) -> None:
    assert_same(varied(seed, n, m))


@SETTINGS
@given(seed=st.integers(0, 100_000), n=st.integers(5, 30), m=st.integers(3, 20))
def test_compiled_problem_is_the_same_from_either_path(seed: int, n: int, m: int) -> None:
    sc = varied(seed, n, m)
    a = compile_scenario(sc, evaluate(sc)).problem
    b = compile_scenario(sc, evaluate_every_pair(sc)).problem
    assert a.item_ids == b.item_ids
    assert a.option_ids == b.option_ids
    assert a.arc_item.tolist() == b.arc_item.tolist()
    assert a.arc_option.tolist() == b.arc_option.tolist()
    assert a.arc_value.tolist() == b.arc_value.tolist()
    assert a.use_resource.tolist() == b.use_resource.tolist()


@SETTINGS
@given(seed=st.integers(0, 100_000), n=st.integers(3, 25), m=st.integers(2, 15))
def test_incremental_eligibility_equals_a_fresh_one(seed: int, n: int, m: int) -> None:
    sc = varied(seed, n, m)
    rng = random.Random(seed + 2)
    base = evaluate(sc)
    offs = list(sc.offerings)
    k = rng.randrange(len(offs))
    offs[k] = replace(offs[k], free_now=0, releases=(), intake_stop=rng.random() < 0.5)
    kids = list(sc.children)
    j = rng.randrange(len(kids))
    kids[j] = replace(kids[j], attributes=kids[j].attributes ^ {ChildAttribute.LVB})
    new = replace(sc, offerings=tuple(offs), children=tuple(kids))
    inc = evaluate_incremental(new, base)
    full = evaluate_every_pair(new)
    assert list(inc.pairs) == list(full.pairs)
    for key in full.pairs:
        assert inc.eligible(*key) == [pc for pc in full.pairs[key] if pc.eligible]
        assert inc.pairs[key] == full.pairs[key]


def test_a_need_whose_reasons_are_read_is_the_only_one_computed() -> None:
    sc = varied(7, 30, 20)
    elig = evaluate(sc)
    key = next(iter(elig.pairs))
    assert elig.pairs[key] == evaluate_every_pair(sc).pairs[key]
    assert elig.pairs.filled == 1


def test_match_charges_every_phase_to_its_time_limit() -> None:
    from matcher.domain.match import match
    from matcher.solution import SolveOptions

    sc = varied(11, 30, 20)
    r = match(sc, SolveOptions(time_limit_s=5.0, relative_gap=0.0))
    phases = r.solution.stats["phases_s"]
    assert set(phases) == {"eligibility", "compile", "solve", "decode"}
    assert r.solution.stats["time_limit_s"] == 5.0
    assert r.solution.stats["match_s"] >= sum(phases.values()) - 1e-3
    assert r.compiled.eligibility.pairs.filled == 0  # matching read no reasons


@SETTINGS
@given(seed=st.integers(0, 100_000), n=st.integers(1, 20), m=st.integers(1, 30))
def test_purchase_route_asks_every_contracted_main_contractor_in_order(
    seed: int, n: int, m: int
) -> None:
    """The index asks only the hoofdaannemers that said something about a provider;
    the route is the one of asking every contracted hoofdaannemer in name order (R11):
    the first that accepts is used, and every one that refuses is named."""
    from matcher.domain.scenario_index import ScenarioIndex

    sc = varied(seed, n, m)
    rng = random.Random(seed)
    names = [*sorted({o.provider for o in sc.offerings}), "P-extra-1", "P-extra-2"]
    care_types = sorted({o.care_type for o in sc.offerings}, key=lambda c: c.value)
    # several contracted hoofdaannemers per gemeente, with a word on many providers
    extra_contracts = [
        Contract(
            f"CR{i}", rng.choice(names), rng.choice(care_types), rng.choice(sc.regions[0].gemeenten)
        )
        for i in range(12)
    ]
    extra_subs = [
        Subcontract(
            rng.choice(names),
            rng.choice(names),
            rng.random() < 0.5,
            rng.choice([None, *care_types]),
        )
        for _ in range(40)
    ]
    sc = replace(
        sc,
        contracts=(*sc.contracts, *extra_contracts),
        subcontracts=(*sc.subcontracts, *extra_subs),
    )
    index = ScenarioIndex(sc)
    providers = sorted(
        {o.provider for o in sc.offerings} | {s.sub_provider for s in sc.subcontracts}
    )
    gemeenten = [*sc.regions[0].gemeenten, "GM9999"]
    for g in gemeenten:
        for ct in {o.care_type for o in sc.offerings}:
            contracted = index.contracted_providers(
                Child(ref="x", gemeente=g, region=sc.regions[0].code, needs=()), ct
            )
            for p in providers:
                expected: tuple[object, ...]
                if p in contracted:
                    expected = (None, None, ())
                elif not contracted:
                    expected = (Reason.NOT_PURCHASED, None, ())
                else:
                    declining: list[str] = []
                    expected = (Reason.NOT_PURCHASED_NO_MAIN_CONTRACTOR, None, ())
                    for main in sorted(contracted):
                        says = index.accepts_sub(main, p, ct)
                        if says:
                            expected = (None, main, ())
                            break
                        if says is False:
                            declining.append(main)
                    else:
                        expected = (Reason.NOT_PURCHASED_NO_MAIN_CONTRACTOR, None, tuple(declining))
                assert index.route(g, ct, p) == expected, (g, ct, p)


@SETTINGS
@given(seed=st.integers(0, 100_000), n=st.integers(1, 20), m=st.integers(1, 20))
def test_lookups_shared_by_the_gemeenten_of_a_region_are_each_gemeentes_own(
    seed: int, n: int, m: int
) -> None:
    """The index answers a gemeente without contracts or budgets of its own as its
    region; asked for children of every gemeente in turn, each answer is the one a new
    index gives for that child alone."""
    from matcher.domain.model import Budget
    from matcher.domain.scenario_index import ScenarioIndex

    sc = varied(seed, n, m)
    rng = random.Random(seed)
    gemeenten = list(sc.regions[0].gemeenten)
    region = sc.regions[0].code
    providers = sorted({o.provider for o in sc.offerings})
    budgets = [
        Budget(f"BG{i}", rng.randint(0, 10**6), gemeente=rng.choice(gemeenten)) for i in range(2)
    ] + [
        Budget(f"BR{i}", rng.randint(0, 10**6), provider=rng.choice([None, *providers]), region=r)
        for i, r in enumerate((region, region, "JZ91"))
    ]
    sc = replace(sc, budgets=(*sc.budgets, *budgets))
    shared = ScenarioIndex(sc)
    asks = [
        (g, o, via)
        for g in [*gemeenten, "GM9999"]
        for o in sc.offerings
        for via in (None, rng.choice(providers))
    ]
    rng.shuffle(asks)
    for g, o, via in asks:
        child = Child(ref="x", gemeente=g, region=region, needs=())
        fresh = ScenarioIndex(sc)
        assert shared.budgets_for(child, o, via) == fresh.budgets_for(child, o, via), (g, o.id)
        assert shared.route(g, o.care_type, o.provider) == fresh.route(g, o.care_type, o.provider)
        assert shared.purchasable(g, o.care_type) == fresh.purchasable(g, o.care_type)
        assert shared.contracted_providers(child, o.care_type) == fresh.contracted_providers(
            child, o.care_type
        )
