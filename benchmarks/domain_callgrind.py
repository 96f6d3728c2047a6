"""Instructions spent in eligibility + compile on the demo region (independent of load).

    PYTHONPATH=. python benchmarks/domain_callgrind.py [--children 600] [--code DIR]

Runs this script three times under `valgrind --tool=callgrind`: once only building
the scenario (`base`), once with `evaluate` + `compile_scenario` (`evaluate`), once
with the per-pair reference `evaluate_every_pair` + `compile_scenario` (`every`),
and prints the instructions of each and the difference to `base`, which is the work
of eligibility and compile (including one-time imports made on the way, such as the
holiday calendars of the first deadline).  `--code DIR` runs the measured code from
another checkout (e.g. an older commit from `git worktree add`); code without
`evaluate_every_pair` skips that mode.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 6, 1)


def run(mode: str, children: int) -> None:
    from matcher.domain import eligibility
    from matcher.domain.compile import compile_scenario
    from providers import demo
    from providers.convert import to_scenario

    data = demo.generate_region("JZ31", seed=1, n_children=children, today=TODAY)
    sc = to_scenario(data, evaluation_date=TODAY, region_code="JZ31")
    if mode == "evaluate":
        compile_scenario(sc, eligibility.evaluate(sc))
    elif mode == "every":
        compile_scenario(sc, eligibility.evaluate_every_pair(sc))  # type: ignore[attr-defined]


def count(mode: str, children: int, code: Path) -> int | None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        proc = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                __file__,
                "--run",
                mode,
                "--children",
                str(children),
            ],
            capture_output=True,
            text=True,
            env=dict(os.environ, PYTHONPATH=str(code)),
        )
    if proc.returncode != 0:
        return None
    m = re.search(r"Collected : (\d+)", proc.stderr)
    return int(m.group(1)) if m else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--children", type=int, default=600)
    ap.add_argument("--code", type=Path, default=ROOT)
    ap.add_argument("--run", choices=("base", "evaluate", "every"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.run:
        run(a.run, a.children)
        return
    print(f"callgrind, demo region JZ31 with {a.children} children, code {a.code}")
    print(f"date {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, load {os.getloadavg()[0]:.2f}")
    print()
    print("| mode | instructions | minus base |")
    print("|---|---:|---:|")
    base = count("base", a.children, a.code)
    for mode in ("base", "evaluate", "every"):
        n = base if mode == "base" else count(mode, a.children, a.code)
        if n is None or base is None:
            print(f"| {mode} | - | - |")
            continue
        print(f"| {mode} | {n:,} | {n - base:,} |", flush=True)


if __name__ == "__main__":
    main()
