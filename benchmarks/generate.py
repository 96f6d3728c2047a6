"""Seeded generator of realistic sparse matching instances (arc level).

Children wait for one care type; offerings (provider x care type x location)
have places and a price per placement.  A child is eligible for the nearest
offerings of its care type or of one more intensive substitute type, 5-50 of
them (fewer only when fewer exist).  Every arc uses three resources:

- ``place:<offering>``: 1 of the offering's places;
- ``provider:<p>``: the price, against the provider's budget ceiling
  (contract volume);
- ``gemeente:<g>``: the price, against the budget ceiling of the child's
  gemeente (woonplaatsbeginsel: the gemeente of the child pays).

Ceilings are set below the spend the places alone would allow, so they bind.
Scores follow the objective order of DESIGN §4 in spirit: urgency and time
waited dominate, then distance rank and in-region; nothing here is a real
child (ids are pseudonymous counters).  Item ids sort in waiting order, which
the first-come-first-served peer uses.

    python -m benchmarks.generate 1000 200 --seed 1 -o /tmp/p.json
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from matcher.problem import AssignmentProblem, Sense

N_CARE_TYPES = 12


@dataclass(frozen=True)
class GeneratorConfig:
    children: int
    offerings: int
    seed: int = 0
    min_options: int = 5
    max_options: int = 50
    places_per_child: float = 0.7  # total places / children: care is scarce
    provider_ceiling: float = 0.9  # share of what the provider's places would cost
    gemeente_ceiling: float = 0.9  # share of the gemeente's expected spend
    offerings_per_provider: int = 7
    children_per_gemeente: int = 250


def generate(cfg: GeneratorConfig) -> AssignmentProblem:
    rng = np.random.default_rng(cfg.seed)
    n_c, n_o = cfg.children, cfg.offerings
    n_p = max(2, n_o // cfg.offerings_per_provider)
    n_g = max(3, n_c // cfg.children_per_gemeente)

    # offerings: care type, location, provider, price (euro cents per placement)
    o_type = rng.integers(0, N_CARE_TYPES, n_o)
    o_xy = rng.random((n_o, 2))
    o_prov = rng.integers(0, n_p, n_o)
    intensity = 1.0 + o_type / N_CARE_TYPES  # higher types are more intensive and dearer
    o_price = (rng.uniform(1_500_000, 6_000_000, n_o) * intensity).astype(np.int64)

    # children: care type (common types more often), location, gemeente, urgency
    weights = 1.0 / (1.0 + np.arange(N_CARE_TYPES))
    c_type = rng.choice(N_CARE_TYPES, n_c, p=weights / weights.sum())
    c_xy = rng.random((n_c, 2))
    g_xy = rng.random((n_g, 2))
    c_gem = np.argmin(((c_xy[:, None, :] - g_xy[None, :, :]) ** 2).sum(-1), axis=1)
    waited_weeks = rng.gamma(2.0, 6.0, n_c)  # the right-skewed wait of the inspection figures
    urgent = rng.random(n_c) < 0.1
    k_want = rng.integers(cfg.min_options, cfg.max_options + 1, n_c)

    # eligible offerings: nearest of own type or the next more intensive type
    by_type = [np.flatnonzero(o_type == t) for t in range(N_CARE_TYPES)]
    arc_c: list[np.ndarray] = []
    arc_o: list[np.ndarray] = []
    arc_rank: list[np.ndarray] = []
    for t in range(N_CARE_TYPES):
        kids = np.flatnonzero(c_type == t)
        if kids.size == 0:
            continue
        cand = by_type[t]
        if t + 1 < N_CARE_TYPES:
            cand = np.concatenate([cand, by_type[t + 1]])
        if cand.size == 0:
            continue
        for lo in range(0, kids.size, 2000):
            chunk = kids[lo : lo + 2000]
            d = ((c_xy[chunk, None, :] - o_xy[None, cand, :]) ** 2).sum(-1)
            k = np.minimum(k_want[chunk], cand.size)
            kmax = int(k.max())
            near = np.argsort(d, axis=1, kind="stable")[:, :kmax]
            rank = np.broadcast_to(np.arange(kmax), near.shape)
            keep = rank < k[:, None]
            arc_c.append(np.broadcast_to(chunk[:, None], near.shape)[keep])
            arc_o.append(cand[near[keep]])
            arc_rank.append(rank[keep])
    ac = np.concatenate(arc_c)
    ao = np.concatenate(arc_o)
    ar = np.concatenate(arc_rank)
    order = np.lexsort((ao, ac))
    ac, ao, ar = ac[order], ao[order], ar[order]

    # scores: urgency and wait first, then nearness, then own type over substitute
    base = 1000 + (waited_weeks * 40).astype(np.int64) + np.where(urgent, 3000, 0)
    value = base[ac] + (50 - np.minimum(ar, 50)) * 6 + np.where(o_type[ao] == c_type[ac], 100, 0)

    # places: about `places_per_child` per child overall, spread by demand
    demand = np.bincount(ao, minlength=n_o).astype(float)
    share = demand / max(demand.sum(), 1.0)
    places = np.maximum(1, rng.poisson(share * n_c * cfg.places_per_child)).astype(np.int64)

    # ceilings: providers below the cost of filling all their places; gemeenten
    # below what their children would cost at the mean price of their options
    prov_full = np.bincount(o_prov, weights=places * o_price, minlength=n_p)
    prov_cap = (prov_full * cfg.provider_ceiling).astype(np.int64)
    mean_price = np.bincount(ac, weights=o_price[ao], minlength=n_c) / np.maximum(
        np.bincount(ac, minlength=n_c), 1
    )
    gem_need = np.bincount(c_gem, weights=mean_price * cfg.places_per_child, minlength=n_g)
    gem_cap = (gem_need * cfg.gemeente_ceiling).astype(np.int64)

    n_arcs = ac.size
    use_res = np.stack([ao, n_o + o_prov[ao], n_o + n_p + c_gem[ac]], axis=1).reshape(-1)
    use_amt = np.stack([np.ones(n_arcs, dtype=np.int64), o_price[ao], o_price[ao]], axis=1).reshape(
        -1
    )
    width = len(str(max(n_c, n_o, n_p, n_g)))
    return AssignmentProblem.create(
        items=[f"c{i:0{width}d}" for i in range(n_c)],
        options=[f"o{j:0{width}d}" for j in range(n_o)],
        resources=[f"place:o{j:0{width}d}" for j in range(n_o)]
        + [f"provider:p{j:0{width}d}" for j in range(n_p)]
        + [f"gemeente:g{j:0{width}d}" for j in range(n_g)],
        capacity=np.concatenate([places, prov_cap, gem_cap]),
        arc_item=ac,
        arc_option=ao,
        arc_value=value,
        use_ptr=np.arange(0, 3 * n_arcs + 1, 3, dtype=np.int64),
        use_resource=use_res,
        use_amount=use_amt,
        sense=Sense.MAXIMIZE,
        name=f"generated-{n_c}x{n_o}-seed{cfg.seed}",
        meta={"generator": "benchmarks.generate", "seed": cfg.seed},
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("children", type=int)
    ap.add_argument("offerings", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-o", "--output", required=True, help="JSON problem file to write")
    a = ap.parse_args()
    from matcher.problem_file import write_problem

    p = generate(GeneratorConfig(a.children, a.offerings, seed=a.seed))
    write_problem(p, a.output)
    print(f"{p.name}: {p.n_items} items, {p.n_options} options, {p.n_arcs} arcs -> {a.output}")


if __name__ == "__main__":
    main()
