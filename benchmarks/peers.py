"""Peers on the same generated instances, in the same run, at equal time.

Ours (`matcher.solve`, strategy auto) against: greedy first come, first
served (each child in waiting order takes its best-scoring eligible option
that still has room in every resource: today's practice), plain CP-SAT (one
Boolean per arc, no hint), the same MIP in PuLP/CBC and in HiGHS (via
OR-Tools MathOpt, no hint, no heuristics of ours), and the stable
hospital-resident matching of the `matching` package (places only: it knows
no budgets, so its answer is checked and reported as it is).  Prints per size
a Markdown table with objective, children placed and time, also as ratios to
ours; every answer goes through `matcher.verify`.

    .venv/bin/python -m benchmarks.peers --sizes 1k 10k [--family perceel4] [--time-limit 2]
        [--seeds 1 2 3] [--methods ours highs] [--split]

The CBC model has the same rows as ours: at most one option per child,
exactly one for a must-assign child, every capacity and ceiling.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

from benchmarks.generate import GeneratorConfig, generate
from matcher import AssignmentProblem, Solution, SolveOptions, Status, solve, verify
from matcher.solution import VerificationError, objective_of

SIZES = {"1k": (1_000, 200, 2.0), "10k": (10_000, 2_000, 10.0), "50k": (50_000, 5_000, 60.0)}


@dataclass
class Row:
    name: str
    objective: int | None
    placed: int
    seconds: float
    note: str = ""


def as_solution(p: AssignmentProblem, arcs: list[int], wall: float, name: str) -> Solution:
    assigned = {p.item_ids[int(p.arc_item[a])]: p.option_ids[int(p.arc_option[a])] for a in arcs}
    return Solution(
        status=Status.FEASIBLE,
        objective=objective_of(p, arcs),
        best_bound=None,
        gap=None,
        assignments=assigned,
        unassigned=tuple(i for i in p.item_ids if i not in assigned),
        wall_time_s=wall,
        strategy=name,
    )


def checked(p: AssignmentProblem, sol: Solution, name: str) -> Row:
    if not sol.status.has_solution:
        return Row(name, None, 0, sol.wall_time_s, sol.status.value)
    try:
        verify(p, sol)
        note = ""
    except VerificationError as exc:
        note = f"INFEASIBLE answer ({len(exc.issues)} violations, e.g. {exc.issues[0][:60]})"
    return Row(name, sol.objective, len(sol.assignments), sol.wall_time_s, note)


def greedy_fcfs(p: AssignmentProblem) -> Solution:
    t0 = time.perf_counter()
    slack = p.capacity.astype(np.int64).copy()
    order = np.lexsort((p.arc_option, -p.arc_value, p.arc_item))
    # item ids sort in waiting order (benchmarks.generate)
    rank = np.argsort(np.argsort(np.asarray(p.item_ids)))
    order = order[np.argsort(rank[p.arc_item[order]], kind="stable")]
    ptr, res, amt = p.use_ptr.tolist(), p.use_resource.tolist(), p.use_amount.tolist()
    item = p.arc_item.tolist()
    taken = [False] * p.n_items
    arcs: list[int] = []
    sl = slack.tolist()
    for a in order.tolist():
        i = item[a]
        if taken[i] or p.forbidden[a]:
            continue
        if all(sl[res[k]] >= amt[k] for k in range(ptr[a], ptr[a + 1])):
            for k in range(ptr[a], ptr[a + 1]):
                sl[res[k]] -= amt[k]
            taken[i] = True
            arcs.append(a)
    return as_solution(p, arcs, time.perf_counter() - t0, "greedy")


def pulp_cbc(p: AssignmentProblem, limit: float) -> Solution:
    import pulp

    t0 = time.perf_counter()
    m = pulp.LpProblem("matching", pulp.LpMaximize)
    x = [
        pulp.LpVariable(f"x{a}", cat="Binary", upBound=0 if bool(p.forbidden[a]) else 1)
        for a in range(p.n_arcs)
    ]
    m += pulp.lpSum(int(v) * x[a] for a, v in enumerate(p.arc_value.tolist()))
    by_item: list[list[int]] = [[] for _ in range(p.n_items)]
    for a, i in enumerate(p.arc_item.tolist()):
        by_item[i].append(a)
    must = np.asarray(p.must_assign, dtype=bool)
    for i, arcs in enumerate(by_item):
        if must[i]:
            # a must-assign item gets exactly one of its options (as in our model)
            m += pulp.lpSum(x[a] for a in arcs) == 1
        elif len(arcs) > 1:
            m += pulp.lpSum(x[a] for a in arcs) <= 1
    rows: list[list[tuple[int, int]]] = [[] for _ in range(p.n_resources)]
    ptr, res, amt = p.use_ptr.tolist(), p.use_resource.tolist(), p.use_amount.tolist()
    for a in range(p.n_arcs):
        for k in range(ptr[a], ptr[a + 1]):
            rows[res[k]].append((a, amt[k]))
    for r, row in enumerate(rows):
        if row:
            m += pulp.lpSum(q * x[a] for a, q in row) <= int(p.capacity[r])
    build = time.perf_counter() - t0
    m.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=max(1, int(limit - build)), threads=2))
    wall = time.perf_counter() - t0
    if m.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        # stopped without an integer answer: the values left are no answer
        return Solution(Status.NO_SOLUTION_IN_TIME, None, None, None, {}, (), wall, "pulp-cbc")
    chosen = [a for a in range(p.n_arcs) if (x[a].value() or 0) > 0.5]
    sol = as_solution(p, chosen, wall, "pulp-cbc")
    return sol


def highs_plain(p: AssignmentProblem, limit: float) -> Solution:
    from matcher.solvers.core import build_core, chosen_to_original_arcs
    from matcher.solvers.mip import solve_mip

    t0 = time.perf_counter()
    core = build_core(p)
    r = solve_mip(core, time_limit_s=limit, relative_gap=1e-4, grace_s=0.5)
    wall = time.perf_counter() - t0
    if r.chosen is None:
        return Solution(Status.NO_SOLUTION_IN_TIME, None, None, None, {}, (), wall, "highs")
    return as_solution(p, chosen_to_original_arcs(core, r.chosen), wall, "highs")


def hospital_resident(p: AssignmentProblem) -> Solution:
    from matching.games import HospitalResident

    t0 = time.perf_counter()
    sys.setrecursionlimit(max(200_000, sys.getrecursionlimit()))
    place = {r: int(p.capacity[k]) for k, r in enumerate(p.resource_ids) if r.startswith("place:")}
    arcs_of: dict[str, list[tuple[int, str]]] = {}
    cands: dict[str, list[tuple[int, str]]] = {}
    look: dict[tuple[str, str], int] = {}
    for a in range(p.n_arcs):
        i, o, v = p.item_ids[p.arc_item[a]], p.option_ids[p.arc_option[a]], int(p.arc_value[a])
        arcs_of.setdefault(i, []).append((-v, o))
        cands.setdefault(o, []).append((-v, i))
        look[(i, o)] = a
    res_prefs = {i: [o for _, o in sorted(lst)] for i, lst in arcs_of.items()}
    hosp_prefs = {o: [i for _, i in sorted(lst)] for o, lst in cands.items()}
    caps = {o: place.get(f"place:{o}", 0) for o in hosp_prefs}
    game = HospitalResident.create_from_dictionaries(res_prefs, hosp_prefs, caps)
    matching = game.solve(optimal="resident")
    chosen = []
    for h, residents in matching.items():
        for r in residents:
            chosen.append(look[(str(r.name), str(h.name))])
    return as_solution(p, chosen, time.perf_counter() - t0, "hospital-resident")


def hr_row(p: AssignmentProblem) -> Row:
    """The `matching` package recurses deeply: run it on a thread with a big stack."""
    import threading

    out: list[Row] = []

    def work() -> None:
        try:
            out.append(checked(p, hospital_resident(p), "hospital-resident (matching)"))
        except RecursionError:
            out.append(Row("hospital-resident (matching)", None, 0, 0.0, "RecursionError"))

    old = threading.stack_size(512 * 2**20)
    try:
        t = threading.Thread(target=work)
        t.start()
        t.join()
    finally:
        threading.stack_size(old)
    return out[0]


METHODS = ("ours", "greedy", "cpsat", "cbc", "highs", "hr")

# the solve's time split and route facts printed with --split
SPLIT_KEYS = (
    "lp_converged",
    "lp_closed",
    "side_mip_reason",
    "side_mip_won",
    "incumbent_source",
)


def plain_lp_bound(p: AssignmentProblem) -> tuple[float | None, float]:
    """The plain LP bound (HiGHS, no time limit to speak of) in max form, and its seconds."""
    from matcher.solvers.core import build_core
    from matcher.solvers.mip import solve_mip

    core = build_core(p)
    t0 = time.perf_counter()
    r = solve_mip(core, time_limit_s=120.0, relative_gap=0.0, relax=True, grace_s=5.0)
    return r.bound, time.perf_counter() - t0


def split_line(sol: Solution) -> str:
    st = sol.stats
    secs = ", ".join(f"{k} {v:.2f}" for k, v in st.items() if k.endswith("_s") and v)
    facts = ", ".join(f"{k} {st[k]}" for k in SPLIT_KEYS if k in st)
    return f"time split: {secs}; {facts}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="*", default=["1k", "10k"], choices=list(SIZES))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seeds", type=int, nargs="*", help="several seeds (instead of --seed)")
    ap.add_argument("--family", help="a family of benchmarks/families.py (default: generate.py)")
    ap.add_argument("--time-limit", type=float, help="instead of the size's own limit")
    ap.add_argument("--methods", nargs="*", default=list(METHODS), choices=METHODS)
    ap.add_argument(
        "--split", action="store_true", help="also our time split and the plain LP bound"
    )
    a = ap.parse_args()
    for seed in a.seeds or [a.seed]:
        run(a, seed)
    print(f"\nload average at end {os.getloadavg()}")


def run(a: argparse.Namespace, seed: int) -> None:
    print(f"# peers, seed {seed}, 2 workers, load average at start {os.getloadavg()}")
    print(f"# instances: {a.family or 'benchmarks.generate'}")
    for name in a.sizes:
        c, o, limit = SIZES[name]
        limit = a.time_limit or limit
        if a.family:
            from benchmarks.families import generate_family

            p = generate_family(a.family, c, o, seed=seed)
        else:
            p = generate(GeneratorConfig(c, o, seed=seed))
        rows: list[Row] = []
        ours = solve(p, SolveOptions(time_limit_s=limit, seed=seed))
        rows.append(checked(p, ours, f"ours ({ours.strategy})"))
        m = set(a.methods)
        if "greedy" in m:
            rows.append(checked(p, greedy_fcfs(p), "greedy first come, first served"))
        if "cpsat" in m:
            plain = solve(p, SolveOptions(time_limit_s=limit, strategy="cpsat-plain"))
            rows.append(checked(p, plain, "plain CP-SAT"))
        if "cbc" in m:
            rows.append(checked(p, pulp_cbc(p, limit), "PuLP / CBC"))
        if "highs" in m:
            rows.append(checked(p, highs_plain(p, limit), "HiGHS MIP (MathOpt)"))
        if "hr" in m and c <= 10_000:
            rows.append(hr_row(p))
        base = rows[0]
        print(f"\n## {c} children x {o} offerings, {p.n_arcs} arcs, time limit {limit} s")
        print(f"bound of ours: {ours.best_bound} ({ours.stats.get('bound_source')})")
        if a.split:
            lp, lp_s = plain_lp_bound(p)
            print(f"plain LP bound: {lp} ({lp_s:.2f} s)")
            print(split_line(ours))
        print()
        print(
            "| method | objective | placed | time s | objective / ours | placed / ours "
            "| time / ours | note |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for r in rows:
            ro = (
                f"{r.objective / base.objective:.4f}"
                if r.objective is not None and base.objective
                else "-"
            )
            print(
                f"| {r.name} | {r.objective} | {r.placed} | {r.seconds:.2f} | {ro} "
                f"| {r.placed / max(base.placed, 1):.4f} | {r.seconds / base.seconds:.2f} "
                f"| {r.note} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
