"""Command line: ``python -m matcher solve FILE [...]``.

Subcommands register themselves through `SUBCOMMANDS`: each entry names a
function ``add_command(subparsers)`` that adds one subparser and sets
``func`` (called with the parsed arguments, returning the exit code).  Other
modules add their subcommand (e.g. ``match``, ``whatif``) by adding one entry.

OR-Tools is imported only when a solve runs, so ``--help`` stays fast.

Exit codes: 0 an answer (OPTIMAL or FEASIBLE); 1 the answer failed
``--verify``; 2 the input is invalid; 3 no answer (INFEASIBLE or
NO_SOLUTION_IN_TIME).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from matcher.solvers.strategies import AUTO, STRATEGIES

SUBCOMMANDS: list[str] = [
    "matcher.cli:add_solve_command",
    "matcher.domain.commands:register",
    "matcher.sweep:add_sweep_command",
]

EXIT_OK, EXIT_VERIFY, EXIT_INPUT, EXIT_NO_ANSWER = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m matcher", description="Assignment of waiting children to care capacity."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for entry in SUBCOMMANDS:
        module, _, func = entry.partition(":")
        add: Callable[[Any], None] = getattr(importlib.import_module(module), func)
        add(sub)
    return parser


def add_solve_command(sub: Any) -> None:
    p = sub.add_parser(
        "solve",
        help="solve an arc-level problem file",
        description="Solve an arc-level assignment problem (JSON format v1 or OR-Library GAP).",
    )
    p.add_argument("file", help="problem file")
    p.add_argument("--format", choices=("json", "orlib-gap"), default="json")
    p.add_argument("--time-limit", type=float, default=10.0, metavar="S", help="seconds")
    p.add_argument("--gap", type=float, default=1e-4, metavar="G", help="relative gap to stop")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    p.add_argument("--verify", action="store_true", help="check the answer independently")
    p.add_argument(
        "--strategy", default=AUTO, choices=STRATEGIES, help="how to solve (default %(default)s)"
    )
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--warm-start", metavar="SOLUTION.json", help="earlier --json output")
    p.set_defaults(func=run_solve)


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Send file descriptor 1 to stderr: native solvers print there directly."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def run_solve(args: argparse.Namespace) -> int:
    from matcher.problem import ProblemValidationError
    from matcher.problem_file import read_any
    from matcher.solution import Solution, SolveOptions, Status, VerificationError, verify

    out: dict[str, Any]
    try:
        with quiet_stdout():
            problem = read_any(args.file, args.format)
    except (ProblemValidationError, OSError) as exc:
        issues = (
            [str(i) for i in exc.issues] if isinstance(exc, ProblemValidationError) else [str(exc)]
        )
        if args.json:
            out = {
                "status": Status.MODEL_INVALID.value,
                "objective": None,
                "best_bound": None,
                "gap": None,
                "wall_time_s": 0.0,
                "assignments": [],
                "unassigned": [],
                "issues": issues,
            }
            print(json.dumps(out))
        else:
            print(f"problem in {args.file}:", file=sys.stderr)
            for i in issues:
                print(f"  - {i}", file=sys.stderr)
        return EXIT_INPUT

    warm = None
    if args.warm_start:
        with open(args.warm_start, encoding="utf-8") as f:
            warm = Solution.from_json_dict(json.load(f))
    opts = SolveOptions(
        time_limit_s=args.time_limit,
        relative_gap=args.gap,
        workers=args.workers,
        seed=args.seed,
        warm_start=warm,
        strategy=args.strategy,
    )
    with quiet_stdout():
        from matcher.solve import solve

        sol = solve(problem, opts)
    out = sol.to_json_dict()
    code = EXIT_OK if sol.status.has_solution else EXIT_NO_ANSWER
    if sol.status is Status.MODEL_INVALID:
        code = EXIT_INPUT
    if args.verify:
        try:
            rep = verify(problem, sol)
            out["verified"] = True
            out["verify"] = {"objective": rep.objective, "n_assigned": rep.n_assigned}
        except VerificationError as exc:
            out["verified"] = False
            out["verify"] = {"issues": exc.issues}
            code = EXIT_VERIFY
    if args.json:
        print(json.dumps(out))
    else:
        print(_summary(problem.name or args.file, out))
    return code


def _fmt(x: object) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.6g}"
    return str(x)


def _summary(name: str, out: dict[str, Any]) -> str:
    gap = out.get("gap")
    lines = [
        f"problem    {name}",
        f"status     {out['status']}",
        f"objective  {_fmt(out['objective'])}",
        f"bound      {_fmt(out['best_bound'])}  ({out['stats'].get('bound_source', '-')})",
        f"gap        {'-' if gap is None else f'{gap:.4%}'}",
        f"assigned   {len(out['assignments'])}, unassigned {len(out['unassigned'])}",
        f"wall time  {out['wall_time_s']:.3f} s  (strategy {out['strategy']})",
    ]
    if "verified" in out:
        lines.append(f"verified   {'yes' if out['verified'] else 'NO: ' + str(out['verify'])}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code
