"""One table per instance family x size: ours against every peer at equal time, per seed.

    PYTHONPATH=. .venv/bin/python -m benchmarks.family_table --sizes 1k \
        [--families base3 perceel4 ...] [--seeds 1 2 3] [--peers greedy highs cpsat cbc] \
        [--time-limit S] [--json out.jsonl]

Every method runs alone in its own process (one after the other, so each has the whole
machine), on the same instance (`benchmarks/families.py`, seed fixed), with the same time
limit; a process still running at the limit plus `--grace` seconds is killed and reported
as "no answer". Every answer goes through `matcher.verify`: an answer that breaks a row
(an urgent child left out, a ceiling overrun) is reported as infeasible and never counts as
better than ours. Ours reports its gap to its own proven bound and its peak memory.

Targets (issue 18): 1k x 200 within 0.3 % in 2 s; 10k x 2k within 0.5 % in 10 s; 50k x 5k
within 0.5 % in 60 s and 4 GB; 100k x 10k within 1 % in 180 s and 8 GB; and at least as
good as each feasible peer.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle  # nosec B403: our own temporary file, written by this script
import resource
import subprocess  # nosec B404: runs this script as a worker
import sys
import tempfile
import time
from typing import Any

SIZES: dict[str, tuple[int, int, float, float, float | None]] = {
    # children, offerings, time limit s, target gap, memory limit GB
    "1k": (1_000, 200, 2.0, 0.003, None),
    "10k": (10_000, 2_000, 10.0, 0.005, None),
    "50k": (50_000, 5_000, 60.0, 0.005, 4.0),
    "100k": (100_000, 10_000, 180.0, 0.01, 8.0),
}
PEERS = ("greedy", "highs", "cpsat", "cbc")
NAMES = {
    "ours": "ours",
    "greedy": "greedy first come, first served",
    "highs": "HiGHS MIP",
    "cpsat": "plain CP-SAT",
    "cbc": "CBC (PuLP)",
}


def _worker(method: str, path: str, limit: float, seed: int) -> dict[str, Any]:
    """Run one method on the pickled problem; the result as a dict (printed as JSON)."""
    from benchmarks import peers
    from matcher import SolveOptions, solve, verify
    from matcher.solution import VerificationError

    with open(path, "rb") as f:
        p = pickle.load(f)  # nosec B301: our own temporary file
    t0 = time.perf_counter()
    if method == "ours":
        sol = solve(p, SolveOptions(time_limit_s=limit, seed=seed))
    elif method == "greedy":
        sol = peers.greedy_fcfs(p)
    elif method == "highs":
        sol = peers.highs_plain(p, limit)
    elif method == "cpsat":
        sol = solve(p, SolveOptions(time_limit_s=limit, strategy="cpsat-plain", seed=seed))
    elif method == "cbc":
        sol = peers.pulp_cbc(p, limit)
    else:
        raise SystemExit(f"unknown method {method}")
    wall = time.perf_counter() - t0
    out: dict[str, Any] = {
        "method": method,
        "wall_s": round(wall, 3),
        "status": sol.status.value,
        "objective": sol.objective,
        "placed": len(sol.assignments),
        "feasible": None,
        "note": "",
    }
    if sol.status.has_solution:
        try:
            verify(p, sol)
            out["feasible"] = True
        except VerificationError as exc:
            out["feasible"] = False
            out["note"] = f"{len(exc.issues)} rows broken, e.g. {exc.issues[0][:70]}"
    if method == "ours":
        out["bound"] = sol.best_bound
        out["gap"] = sol.gap
        out["strategy"] = sol.strategy
        out["bound_source"] = sol.stats.get("bound_source")
        out["lp_converged"] = sol.stats.get("lp_converged")
        if "parts_tried" in sol.stats:
            # parts solved again after PDLP's route (matcher/solvers/strategies/parts.py)
            out["parts"] = {k: sol.stats[f"parts_{k}"] for k in ("tried", "improved", "gain", "s")}
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out["peak_gb"] = round(max(own, kids) / 2**20, 2)  # ru_maxrss is in KiB on Linux
    return out


def _run(method: str, path: str, limit: float, seed: int, grace: float) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.family_table", "--worker", method, path, str(limit)]
    cmd += ["--seed-worker", str(seed)]
    t0 = time.perf_counter()
    try:
        done = subprocess.run(  # nosec B603: our own script, fixed arguments
            cmd, capture_output=True, text=True, timeout=limit + grace, check=False
        )
    except subprocess.TimeoutExpired:
        return {
            "method": method,
            "status": "killed",
            "objective": None,
            "feasible": None,
            "wall_s": round(time.perf_counter() - t0, 1),
            "note": f"no answer: still running at {limit + grace:.0f} s, stopped",
        }
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["?"])[-1][:90]
        return {
            "method": method,
            "status": "error",
            "objective": None,
            "feasible": None,
            "wall_s": round(time.perf_counter() - t0, 1),
            "note": f"failed: {tail}",
        }
    return dict(json.loads(lines[-1]))


def _ratio(r: dict[str, Any], ours: dict[str, Any]) -> str:
    if r.get("objective") is None:
        return "no answer"
    txt = f"{r['objective'] / ours['objective']:.4f}" if ours.get("objective") else "-"
    if r.get("feasible") is False:
        txt += " (infeasible)"
    return txt


def _verdict(ours: dict[str, Any], peers: list[dict[str, Any]], size: str, limit: float) -> str:
    """Against the size's targets at its own limit; at another limit only the peers and
    the time count."""
    _, _, own_limit, target, mem = SIZES[size]
    misses = []
    if ours.get("objective") is None or not ours.get("feasible"):
        return "no feasible answer"
    gap = ours.get("gap")
    if limit == own_limit and (gap is None or gap > target):
        misses.append(f"gap {'-' if gap is None else f'{gap:.2%}'} > {target:.1%}")
    if mem is not None and ours.get("peak_gb", 0) > mem:
        misses.append(f"memory {ours['peak_gb']} GB > {mem:g} GB")
    if ours.get("wall_s", 0) > limit * 1.1 + 0.5:
        misses.append(f"time {ours['wall_s']} s")
    for r in peers:
        if r.get("feasible") and r["objective"] > ours["objective"]:
            misses.append(f"{NAMES[r['method']]} better")
    return "met" if not misses else "missed: " + "; ".join(misses)


def _instance(family: str, children: int, offerings: int, seed: int) -> Any:
    """A generated family at this size, or the domain path's compiled demo scenario
    (`domain-region`: 600 children of JZ31; `domain-national`: 20,000 children and 4,000
    offerings), whatever the size says."""
    from benchmarks.families import domain_problem, generate_family

    if family.startswith("domain-"):
        return domain_problem(family.removeprefix("domain-"), seed)
    return generate_family(family, children, offerings, seed=seed)


def _shape(family: str, children: int, offerings: int) -> str:
    if family == "domain-region":
        return "demo region JZ31"
    if family == "domain-national":
        return "national demo, 20,000 children x 4,000 offerings"
    return f"{children:,} children x {offerings:,} offerings"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--worker", nargs=3, metavar=("METHOD", "FILE", "LIMIT"), help=argparse.SUPPRESS
    )
    ap.add_argument("--seed-worker", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--sizes", nargs="*", default=["1k"], choices=list(SIZES))
    ap.add_argument("--families", nargs="*")
    ap.add_argument("--seeds", nargs="*", type=int, default=[1, 2, 3])
    ap.add_argument("--peers", nargs="*", default=list(PEERS), choices=list(PEERS))
    ap.add_argument("--time-limit", type=float, help="instead of the size's own limit")
    ap.add_argument("--grace", type=float, default=30.0)
    ap.add_argument("--json", help="append every result as one JSON line to this file")
    a = ap.parse_args()
    if a.worker:
        method, path, limit = a.worker
        print(json.dumps(_worker(method, path, float(limit), a.seed_worker)), flush=True)
        return

    from benchmarks.families import FAMILIES

    families = a.families or list(FAMILIES)
    # (domain-region and domain-national are run when named: they are the demo's own sizes)
    commit = subprocess.run(  # nosec B603 B607: git on our own checkout
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    print(f"# family table, commit {commit}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"# machine: {os.cpu_count()} cores; load average at start {os.getloadavg()}")
    for size in a.sizes:
        c, o, limit, target, mem = SIZES[size]
        limit = a.time_limit or limit
        for fam in families:
            rows: list[tuple[int, dict[str, Any], list[dict[str, Any]], int, str]] = []
            for seed in a.seeds:
                p = _instance(fam, c, o, seed)
                with tempfile.NamedTemporaryFile(suffix=".pkl", delete=False) as f:
                    pickle.dump(p, f)
                try:
                    ours = _run("ours", f.name, limit, seed, a.grace)
                    others = [_run(m, f.name, limit, seed, a.grace) for m in a.peers]
                finally:
                    os.unlink(f.name)
                shape = f"{p.n_items:,} items ({int(p.must_assign.sum())} must)"
                rows.append((seed, ours, others, p.n_arcs, shape))
                if a.json:
                    with open(a.json, "a") as out:
                        for r in [ours, *others]:
                            rec = {"family": fam, "size": size, "seed": seed, "limit": limit, **r}
                            out.write(json.dumps(rec) + "\n")
            print(
                f"\n#### {fam}, {_shape(fam, c, o)}, {rows[0][4]}, {limit:g} s"
                + f" (target gap {target:.1%}"
                + (f", {mem:g} GB" if mem else "")
                + f"); load {os.getloadavg()[0]:.2f}\n"
            )
            head = "| seed | arcs | ours objective | gap to own bound | time s | peak GB "
            head += "".join(f"| {NAMES[m]} / ours " for m in a.peers) + "| verdict |"
            print(head)
            print("|" + "---|" * (7 + len(a.peers)))
            for seed, ours, others, arcs, _ in rows:
                gap = ours.get("gap")
                cells = [
                    str(seed),
                    f"{arcs:,}",
                    f"{ours['objective']:,}" if ours.get("objective") is not None else "-",
                    "-" if gap is None else f"{gap:.3%}",
                    f"{ours.get('wall_s', '-')}",
                    f"{ours.get('peak_gb', '-')}",
                    *[_ratio(r, ours) for r in others],
                    _verdict(ours, others, size, limit),
                ]
                print("| " + " | ".join(cells) + " |", flush=True)
            notes = [
                f"seed {s}: {NAMES[r['method']]}: {r['note']}"
                for s, _, rs, _, _ in rows
                for r in rs
                if r.get("note")
            ]
            notes += [f"seed {s}: ours: {o['note']}" for s, o, _, _, _ in rows if o.get("note")]
            srcs = {
                f"{o.get('bound_source')} (converged: {o.get('lp_converged')})"
                for _, o, _, _, _ in rows
            }
            print("\nbound of ours: " + "; ".join(sorted(srcs)))
            for row_seed, row_ours, *_ in rows:
                if row_ours.get("parts"):
                    pt = row_ours["parts"]
                    print(
                        f"- seed {row_seed}: parts solved again: {pt['improved']} of {pt['tried']} "
                        f"better, +{pt['gain']:,} in {pt['s']:.1f} s"
                    )
            for n in notes:
                print(f"- {n}")
    print(f"\nload average at end {os.getloadavg()}")


if __name__ == "__main__":
    main()
