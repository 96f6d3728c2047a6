"""Seeded instance families (arc level), so that a route is judged on more than one shape.

`benchmarks/generate.py` builds one shape: three resources per arc, providers of
similar size, nothing that must be assigned.  Regions that buy in percelen, a few
large providers, urgent children and families change the problem; each family below
switches one or more of these on (see benchmarks/README.md for the list):

- ``resources``: 3 (place, provider contract volume, gemeente ceiling) or 4 (also a
  perceel ceiling per jeugdregio x care type, as regions purchase in percelen);
- ``providers``: "uniform" or "heavy" (Zipf: few large providers, many small ones);
- ``urgent``: share of children that must be assigned; each one is made urgent only
  after a greedy pass found it a place that fits every ceiling together with the
  urgent children before it, so the problem stays feasible;
- ``bundles``: share of items that are families of 2-3 children who go to one
  offering together (place use 2-3, price times 2-3);
- ``ceiling``: provider, gemeente and perceel ceilings as a share of the spend the
  places would allow (0.6 tight, 0.9 default, 1.2 loose);
- ``late``: every offering also has places that free up later, a second option with
  its own place resource and a lower value (the start misses the target date);
- ``values``: "narrow" (urgency and wait, then nearness, as generate.py) or "wide"
  (1 .. 10^6, favouring overdue children and nearby offerings).

Children need one of 15 care types; an offering of the same type or of one of the
next two more intensive types on the ladder may serve them, mostly in their own
jeugdregio.  `domain_problem` gives the domain path's problems (a demo region, the
national demo) compiled from a `providers demo` scenario.

    PYTHONPATH=. python benchmarks/families.py perceel4 1000 200 --seed 1 -o /tmp/p.json
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass, replace

import numpy as np

from matcher.problem import AssignmentProblem, Sense

N_CARE_TYPES = 15
LADDER = 2  # an offering up to this many types more intensive may serve a need


@dataclass(frozen=True)
class FamilyConfig:
    resources: int = 3
    providers: str = "uniform"
    urgent: float = 0.0
    bundles: float = 0.0
    ceiling: float = 0.9
    late: bool = False
    values: str = "narrow"
    options_per_item: int = 20
    places_per_child: float = 0.7
    regions: int = 0  # 0: about one jeugdregio per 500 children (at least 2)


FAMILIES: dict[str, FamilyConfig] = {
    "base3": FamilyConfig(),
    "perceel4": FamilyConfig(resources=4, providers="heavy", urgent=0.03, values="wide"),
    "heavy": FamilyConfig(providers="heavy"),
    "urgent": FamilyConfig(urgent=0.03),
    "bundles": FamilyConfig(bundles=0.05),
    "tight": FamilyConfig(resources=4, ceiling=0.6),
    "loose": FamilyConfig(resources=4, ceiling=1.2),
    "late": FamilyConfig(late=True),
    "all4": FamilyConfig(
        resources=4, providers="heavy", urgent=0.03, bundles=0.05, late=True, values="wide"
    ),
}


def _candidates(
    rng: np.random.Generator,
    c_type: np.ndarray,
    c_xy: np.ndarray,
    c_reg: np.ndarray,
    o_type: np.ndarray,
    o_xy: np.ndarray,
    o_reg: np.ndarray,
    k: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(item, offering, nearness rank) of the nearest `k` offerings per item among its
    own and the next LADDER care types; other regions count three times as far."""
    out_c, out_o, out_r = [], [], []
    for t in range(N_CARE_TYPES):
        kids = np.flatnonzero(c_type == t)
        cand = np.flatnonzero((o_type >= t) & (o_type <= t + LADDER))
        if kids.size == 0 or cand.size == 0:
            continue
        for lo in range(0, kids.size, 1000):
            chunk = kids[lo : lo + 1000]
            d = np.sqrt(((c_xy[chunk, None, :] - o_xy[None, cand, :]) ** 2).sum(-1))
            d = d * np.where(c_reg[chunk, None] == o_reg[None, cand], 1.0, 3.0)
            d = d * (1.0 + 0.5 * (o_type[cand] - t))[None, :]  # own type first
            kk = min(k, cand.size)
            near = np.argsort(d, axis=1, kind="stable")[:, :kk]
            want = rng.integers(max(1, kk // 4), kk + 1, chunk.size)
            rank = np.broadcast_to(np.arange(kk), near.shape)
            keep = rank < want[:, None]
            out_c.append(np.broadcast_to(chunk[:, None], near.shape)[keep])
            out_o.append(cand[near[keep]])
            out_r.append(rank[keep])
    if not out_c:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    return np.concatenate(out_c), np.concatenate(out_o), np.concatenate(out_r)


def generate_family(
    name: str, children: int, offerings: int, seed: int = 0, cfg: FamilyConfig | None = None
) -> AssignmentProblem:
    cfg = cfg or FAMILIES[name]
    rng = np.random.default_rng(seed)
    n_c, n_o = children, offerings
    n_r = cfg.regions or max(2, n_c // 500)
    side = int(np.ceil(np.sqrt(n_r)))
    n_p = max(2, n_o // 7)
    n_g = max(3, n_c // 250)

    def region_of(xy: np.ndarray) -> np.ndarray:
        cell = np.minimum((xy * side).astype(np.int64), side - 1)
        return (cell[:, 0] * side + cell[:, 1]) % n_r

    # offerings: care type, place, provider, price
    o_type = rng.integers(0, N_CARE_TYPES, n_o)
    o_xy = rng.random((n_o, 2))
    o_reg = region_of(o_xy)
    if cfg.providers == "heavy":
        w = 1.0 / np.arange(1, n_p + 1) ** 1.1
        o_prov = rng.choice(n_p, n_o, p=w / w.sum())
    else:
        o_prov = rng.integers(0, n_p, n_o)
    o_price = (rng.uniform(1_500_000, 6_000_000, n_o) * (1 + o_type / N_CARE_TYPES)).astype(
        np.int64
    )

    # items: a child, or a family of 2-3 children with one need
    weights = 1.0 / (1.0 + np.arange(N_CARE_TYPES))
    c_type = rng.choice(N_CARE_TYPES, n_c, p=weights / weights.sum())
    c_xy = rng.random((n_c, 2))
    c_reg = region_of(c_xy)
    g_xy = rng.random((n_g, 2))
    c_gem = np.argmin(((c_xy[:, None, :] - g_xy[None, :, :]) ** 2).sum(-1), axis=1)
    size = np.where(rng.random(n_c) < cfg.bundles, rng.integers(2, 4, n_c), 1)
    waited = rng.gamma(2.0, 6.0, n_c)  # weeks: the right-skewed wait
    overdue = waited > 18 * rng.uniform(0.6, 1.4, n_c)

    ac, ao, ar = _candidates(rng, c_type, c_xy, c_reg, o_type, o_xy, o_reg, cfg.options_per_item)
    order = np.lexsort((ao, ac))
    ac, ao, ar = ac[order], ao[order], ar[order]
    sz = size[ac]
    if cfg.values == "wide":
        near = 1.0 - ar / max(1, cfg.options_per_item)
        base = np.where(overdue[ac], 2e5 + 6e5 * np.minimum(waited[ac] / 52, 1), 1e3 * waited[ac])
        val = base + 1.9e5 * near + np.where(o_type[ao] == c_type[ac], 1e4, 0)
        value = np.clip(val, 1, 1_000_000).astype(np.int64) * sz
    else:
        base = 1000 + (waited * 40).astype(np.int64) + np.where(overdue, 3000, 0)
        fit = (50 - np.minimum(ar, 50)) * 6 + np.where(o_type[ao] == c_type[ac], 100, 0)
        value = (base[ac] + fit) * sz

    # places per offering by demand; later places for the late family
    demand = np.bincount(ao, weights=sz, minlength=n_o)
    share = demand / max(demand.sum(), 1.0)
    places = np.maximum(1, rng.poisson(share * size.sum() * cfg.places_per_child))
    later = rng.poisson(places * 0.5) if cfg.late else np.zeros(n_o, dtype=np.int64)

    # ceilings as a share of what the places would cost
    full_spend = (places + later) * o_price
    prov_cap = np.bincount(o_prov, weights=full_spend, minlength=n_p) * cfg.ceiling
    mean_price = np.bincount(ac, weights=o_price[ao], minlength=n_c) / np.maximum(
        np.bincount(ac, minlength=n_c), 1
    )
    gem_cap = (
        np.bincount(c_gem, weights=mean_price * size * cfg.places_per_child, minlength=n_g)
        * cfg.ceiling
    )
    perceel = o_reg * N_CARE_TYPES + o_type  # jeugdregio x care type of the offering
    n_pc = n_r * N_CARE_TYPES
    perc_cap = np.bincount(perceel, weights=full_spend, minlength=n_pc) * cfg.ceiling

    # resources: places (now, later), provider, gemeente, perceel
    n_slot = 2 if cfg.late else 1
    res_place = n_o * n_slot
    cap = np.concatenate(
        [
            np.stack([places, later], axis=1)[:, :n_slot].reshape(-1),
            prov_cap.astype(np.int64),
            gem_cap.astype(np.int64),
            perc_cap.astype(np.int64) if cfg.resources == 4 else np.zeros(0, dtype=np.int64),
        ]
    ).astype(np.int64)

    # arcs: one per (item, offering, slot); a late slot loses the target-date value
    slots = np.arange(n_slot)
    a_c = np.repeat(ac, n_slot)
    a_o = np.repeat(ao, n_slot)
    a_s = np.tile(slots, ac.size)
    a_v = np.repeat(value, n_slot)
    a_v = np.where(a_s == 1, np.maximum(1, a_v // 4), a_v)
    price = o_price[a_o] * size[a_c]
    uses = [a_o * n_slot + a_s, res_place + o_prov[a_o], res_place + n_p + c_gem[a_c]]
    amts = [size[a_c], price, price]
    if cfg.resources == 4:
        uses.append(res_place + n_p + n_g + perceel[a_o])
        amts.append(price)
    use_res = np.stack(uses, axis=1)
    use_amt = np.stack(amts, axis=1).astype(np.int64)

    must = _urgent(rng, cfg.urgent, n_c, a_c, a_v, use_res, use_amt, cap)
    width = len(str(max(n_c, n_o, n_p, n_g, n_pc)))
    opt_names = [f"o{j:0{width}d}@{s}" for j in range(n_o) for s in range(n_slot)]
    res_names = (
        [f"place:{o}" for o in opt_names]
        + [f"provider:p{j:0{width}d}" for j in range(n_p)]
        + [f"gemeente:g{j:0{width}d}" for j in range(n_g)]
        + (
            [f"perceel:r{j // N_CARE_TYPES}t{j % N_CARE_TYPES}" for j in range(n_pc)]
            if cfg.resources == 4
            else []
        )
    )
    k = use_res.shape[1]
    # item ids sort in waiting order (longest wait first), as the greedy peer expects
    wait_rank = np.argsort(np.argsort(-waited, kind="stable"), kind="stable")
    return AssignmentProblem.create(
        items=[f"c{wait_rank[i]:0{width}d}{'f' if size[i] > 1 else ''}" for i in range(n_c)],
        options=opt_names,
        resources=res_names,
        capacity=cap,
        arc_item=a_c,
        arc_option=a_o * n_slot + a_s,
        arc_value=a_v,
        use_ptr=np.arange(0, k * a_c.size + 1, k, dtype=np.int64),
        use_resource=use_res.reshape(-1),
        use_amount=use_amt.reshape(-1),
        must_assign=must,
        sense=Sense.MAXIMIZE,
        name=f"{name}-{n_c}x{n_o}-seed{seed}",
        meta={"generator": "benchmarks.families", "family": name, "seed": seed},
    )


def _urgent(
    rng: np.random.Generator,
    share: float,
    n_items: int,
    a_c: np.ndarray,
    a_v: np.ndarray,
    use_res: np.ndarray,
    use_amt: np.ndarray,
    cap: np.ndarray,
) -> np.ndarray:
    """Must-assign flags: a drawn item becomes urgent only when its best arc that still
    fits every resource, after the urgent items before it took theirs, exists; that
    greedy assignment shows the urgent items can all be placed at once."""
    must = np.zeros(n_items, dtype=bool)
    if share <= 0:
        return must
    left = cap.astype(np.int64).copy()
    by_item: dict[int, list[int]] = {}
    for a, i in enumerate(a_c.tolist()):
        by_item.setdefault(i, []).append(a)
    drawn = rng.permutation(n_items)[: max(1, round(share * n_items))]
    for i in sorted(drawn.tolist()):
        arcs = sorted(by_item.get(i, []), key=lambda a: -int(a_v[a]))
        for a in arcs:
            if np.all(left[use_res[a]] >= use_amt[a]):
                left[use_res[a]] -= use_amt[a]
                must[i] = True
                break
    return must


def domain_problem(size: str, seed: int = 1, children: int | None = None) -> AssignmentProblem:
    """The problem the domain path compiles from `providers demo`: "region" (JZ31, 600
    children) or "national" (20,000 children, 4,000 offerings); `children` makes a
    smaller region."""
    from matcher.domain.compile import compile_scenario
    from providers import demo
    from providers.convert import to_scenario

    today = dt.date(2026, 6, 1)
    if size == "region":
        data = demo.generate_region("JZ31", seed=seed, n_children=children or 600, today=today)
        sc = to_scenario(data, evaluation_date=today, region_code="JZ31")
    else:
        data = demo.generate_national(20_000, 4_000, seed=seed, today=today)
        sc = to_scenario(data, evaluation_date=today)
    p = compile_scenario(sc).problem
    return replace(p, name=f"domain-{size}-seed{seed}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("family", choices=[*FAMILIES, "domain-region", "domain-national"])
    ap.add_argument("children", type=int, nargs="?", default=1000)
    ap.add_argument("offerings", type=int, nargs="?", default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-o", "--output", required=True, help="JSON problem file to write")
    a = ap.parse_args()
    from matcher.problem_file import write_problem

    if a.family.startswith("domain-"):
        p = domain_problem(a.family.removeprefix("domain-"), a.seed)
    else:
        p = generate_family(a.family, a.children, a.offerings, a.seed)
    write_problem(p, a.output)
    n_must = int(p.must_assign.sum())
    print(f"{p.name}: {p.n_items} items ({n_must} must), {p.n_arcs} arcs -> {a.output}")


if __name__ == "__main__":
    main()
