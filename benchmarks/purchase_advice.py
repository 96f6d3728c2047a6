"""Purchase advice against the naive rule "buy where the waiting list is longest".

    .venv/bin/python benchmarks/purchase_advice.py [--regions 20] [--budget-euro 1000000]

For each seeded synthetic region (3 jeugdhulpregio's x 60 waiting children,
7 care types, 6 months of releases, 2-3 candidate purchases per care type x
region): plan the advice on 4 inflow draws (its own seed), apply the naive
rule, and judge every option on today's waiting list and on 20 held-out
inflow draws (another seed).  "Per M EUR" is the number of extra children
(needs) within the norm, relative to buying nothing, per million euro spent.
"""

from __future__ import annotations

import argparse
import statistics
import time

from matcher.planning import (
    PLAN_OPTIONS,
    compile_region,
    evaluate,
    inflow_scenarios,
    naive_units,
    plan_purchases,
    synthetic_region,
)

TRAIN_SEED = 10_000
TEST_SEED = 20_000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--regions", type=int, default=20)
    ap.add_argument("--budget-euro", type=int, default=1_000_000)
    ap.add_argument("--train-draws", type=int, default=4)
    ap.add_argument("--test-draws", type=int, default=20)
    args = ap.parse_args()
    budget = args.budget_euro * 100

    rules = ("advice", "advice-today", "naive")
    gained_today: dict[str, list[int]] = {r: [] for r in rules}
    gained_flow: dict[str, list[float]] = {r: [] for r in rules}
    spent: dict[str, list[int]] = {r: [] for r in rules}
    plan_s: list[float] = []
    header = (
        f"{'region':>6} {'kids':>5} {'none':>5} "
        + " ".join(f"{r + ' today':>18} {r + ' +inflow':>18}" for r in rules)
        + f" {'plan s':>7}"
    )
    print(header)
    for seed in range(1, args.regions + 1):
        inst = synthetic_region(seed)
        pp = compile_region(inst)
        train = inflow_scenarios(inst, args.train_draws, TRAIN_SEED + seed)
        test = inflow_scenarios(inst, args.test_draws, TEST_SEED + seed)
        t0 = time.perf_counter()
        adv = plan_purchases(pp, budget, PLAN_OPTIONS, scenarios=train)
        plan_s.append(time.perf_counter() - t0)
        adv_today = plan_purchases(pp, budget, PLAN_OPTIONS)
        units = {
            "advice": adv.units,
            "advice-today": adv_today.units,
            "naive": naive_units(pp, budget),
        }
        none_today = evaluate(pp, {}).within_norm
        none_flow = [evaluate(d, {}).within_norm for d in test]
        cells = []
        for r in rules:
            today = evaluate(pp, units[r]).within_norm - none_today
            flow = statistics.fmean(
                evaluate(d, units[r]).within_norm - n0
                for d, n0 in zip(test, none_flow, strict=True)
            )
            gained_today[r].append(today)
            gained_flow[r].append(flow)
            spent[r].append(pp.spend(units[r]))
            cells.append(f"{today:>18d} {flow:>18.1f}")
        print(
            f"{seed:>6} {pp.problem.n_items:>5} {none_today:>5} "
            + " ".join(cells)
            + f" {plan_s[-1]:>7.1f}"
        )

    print()
    print(
        f"{'rule':<14} {'spent M EUR':>12} {'+today':>8} {'+inflow':>8} "
        f"{'per M EUR today':>16} {'per M EUR inflow':>17}"
    )
    for r in rules:
        s = sum(spent[r]) / 100 / 1e6
        gt, gf = sum(gained_today[r]), sum(gained_flow[r])
        print(
            f"{r:<14} {s:>12.2f} {gt:>8d} {gf:>8.1f} {gt / s if s else float('nan'):>16.1f} "
            f"{gf / s if s else float('nan'):>17.1f}"
        )
    wins = sum(a >= n for a, n in zip(gained_flow["advice"], gained_flow["naive"], strict=True))
    print(
        f"\nadvice >= naive (with inflow) in {wins} of {args.regions} regions; "
        f"planning time per region: median {statistics.median(plan_s):.1f} s, "
        f"max {max(plan_s):.1f} s"
    )


if __name__ == "__main__":
    main()
