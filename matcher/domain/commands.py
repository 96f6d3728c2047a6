"""``python -m matcher match`` and ``python -m matcher whatif`` (registered via `register`).

A readable table for people, or one JSON document on stdout with ``--json``.
Exit codes as in `matcher.cli`: 0 an answer, 2 invalid input, 3 no answer.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path
from typing import Any

from matcher.cli import quiet_stdout
from matcher.domain.caretypes import care_type_label
from matcher.domain.dates import date_text
from matcher.domain.explain import explain, sentences
from matcher.domain.match import DEFAULT_OPTIONS, MatchResult, match
from matcher.domain.model import Scenario
from matcher.domain.reasons import (
    NORM_STATUS_LABELS,
    SOLVER_STATUS_LABELS,
    plural,
    warning_text,
)
from matcher.domain.scenario_file import ScenarioValidationError, load
from matcher.domain.whatif import (
    DeltaError,
    ReferenceCount,
    delta_to_json,
    deltas_from_json,
    what_if,
)
from matcher.solution import SolveOptions

EXIT_OK, EXIT_INPUT, EXIT_NO_ANSWER = 0, 2, 3


def register(sub: Any) -> None:
    m = sub.add_parser(
        "match",
        help="match a scenario (children, offerings, contracts, budgets)",
        description="Match waiting children to care capacity and explain who stays unplaced.",
    )
    m.add_argument("scenario", help="scenario JSON (docs/scenario-format.md)")
    m.add_argument("--explain", action="store_true", help="explain every unplaced need")
    m.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    m.add_argument("--time-limit", type=float, default=10.0, metavar="S")
    m.add_argument(
        "--search-time",
        type=float,
        default=5.0,
        metavar="S",
        help="seconds for the search of what would help (with --explain)",
    )
    m.set_defaults(func=run_match)
    w = sub.add_parser(
        "whatif",
        help="apply deltas to a scenario and compare",
        description="Apply one or more deltas (JSON object or list) and compare with the base.",
    )
    w.add_argument("scenario", help="scenario JSON")
    w.add_argument("delta", help="delta JSON: one object, a list, or {'deltas': [...]}")
    w.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    w.add_argument("--time-limit", type=float, default=10.0, metavar="S")
    w.add_argument(
        "--reference",
        type=int,
        metavar="N",
        help="a published count of waiting children to hold the scenario against",
    )
    w.add_argument("--reference-label", default="", metavar="TEXT", help="who published it")
    w.set_defaults(func=run_whatif)


def _print_issues(exc: Exception) -> None:
    issues = getattr(exc, "issues", None)
    print("Het bestand klopt niet:", file=sys.stderr)
    for i in issues or [exc]:
        print(f"  - {i}", file=sys.stderr)


def _load(path: str) -> Scenario | None:
    try:
        return load(path)
    except (OSError, ScenarioValidationError) as exc:
        _print_issues(exc)
        return None


def _options(args: argparse.Namespace) -> SolveOptions:
    return replace(DEFAULT_OPTIONS, time_limit_s=args.time_limit)


def _quiet() -> AbstractContextManager[None]:
    return quiet_stdout()


def result_json(r: MatchResult) -> dict[str, Any]:
    return {
        "summary": r.summary(),
        "placements": [p.to_json() for _, p in sorted(r.placements.items())],
        "unplaced": [{"child": c, "need": n} for c, n in r.unplaced],
        "unclassified": [{"child": c, "need": n} for c, n in r.unclassified],
    }


def _table(rows: list[list[str]], head: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=False)]
    line = "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def _totals(r: MatchResult) -> str:
    """ "Peildatum 1 maart 2022. 35 kinderen: 20 met een plek, 13 zonder plek, 2 met hulp die
    nog niet is bepaald." (the buckets add up to all children)."""
    c = r.child_counts()
    parts = [
        f"{c.placed} met een plek",
        f"{c.unplaced} zonder plek",
        f"{c.unclassified} met hulp die nog niet is bepaald",
    ]
    if c.not_waiting:
        parts.append(f"{c.not_waiting} al begonnen")
    head = f"Peildatum {date_text(r.count_date)}. {plural(c.total, 'kind', 'kinderen')}: "
    return head + ", ".join(parts[:-1]) + f" en {parts[-1]}."


def _human(r: MatchResult) -> str:
    s = r.summary()
    status = SOLVER_STATUS_LABELS.get(str(s["solver_status"]), str(s["solver_status"]))
    parts = [
        _totals(r),
        f"Hulpvragen: {s['needs']}  geplaatst: {s['placed']}  binnen de norm: {s['within_norm']}"
        f"  op tijd (inspectienorm): {s['on_time']}  zonder plek: {s['unplaced']}"
        f"  nog niet bepaald: {s['unclassified']}",
        f"Rekenstatus: {status} ({s['wall_time_s']} s)",
        "",
    ]
    rows = [
        [
            p.child_ref,
            p.need_id,
            p.offering,
            p.start.isoformat(),
            p.deadline.isoformat() if p.deadline else "-",
            NORM_STATUS_LABELS.get(p.norm_status.value, p.norm_status.value),
            str(p.days_late),
            "; ".join(warning_text(w) for w in p.warnings) or "-",
        ]
        for _, p in sorted(r.placements.items())
    ]
    if rows:
        head = [
            "kind",
            "hulpvraag",
            "aanbod",
            "start",
            "uiterlijk",
            "status",
            "dagen te laat",
            "let op",
        ]
        parts.append(_table(rows, head))
    return "\n".join(parts)


def run_match(args: argparse.Namespace) -> int:
    sc = _load(args.scenario)
    if sc is None:
        return EXIT_INPUT
    try:
        with _quiet():
            r = match(sc, _options(args))
            ex = explain(r, time_budget_s=args.search_time) if args.explain else None
    except DeltaError as exc:
        _print_issues(exc)
        return EXIT_INPUT
    if not r.solution.status.has_solution:
        print(f"Geen oplossing: {r.solution.status.value}", file=sys.stderr)
        return EXIT_NO_ANSWER
    if args.json:
        doc = result_json(r)
        if ex is not None:
            doc["explanation"] = ex.to_json()
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return EXIT_OK
    print(_human(r))
    if ex is not None:
        for ne in ex.needs:
            print()
            print(f"Kind {ne.child_ref}, hulpvraag {ne.need_id}:")
            for line in sentences(ne):
                print(f"  {line}")
        for ref, nid in ex.unclassified:
            print()
            print(f"Kind {ref}, hulpvraag {nid}: de hulp is nog niet bepaald; het kind telt mee.")
    return EXIT_OK


def run_whatif(args: argparse.Namespace) -> int:
    sc = _load(args.scenario)
    if sc is None:
        return EXIT_INPUT
    try:
        deltas = deltas_from_json(json.loads(Path(args.delta).read_text(encoding="utf-8")))
    except (OSError, ValueError, ScenarioValidationError) as exc:
        _print_issues(exc)
        return EXIT_INPUT
    try:
        with _quiet():
            ref = (
                ReferenceCount(args.reference, args.reference_label)
                if args.reference is not None
                else None
            )
            w = what_if(sc, deltas, options=_options(args), reference=ref)
    except DeltaError as exc:
        _print_issues(exc)
        return EXIT_INPUT
    if not w.result.solution.status.has_solution:
        print(f"Geen oplossing: {w.result.solution.status.value}", file=sys.stderr)
        return EXIT_NO_ANSWER
    if args.json:
        doc = {
            "deltas": [delta_to_json(d) for d in w.deltas],
            "base": result_json(w.base),
            "result": result_json(w.result),
            "comparison": w.comparison.to_json(),
        }
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return EXIT_OK
    c = w.comparison
    if c.count_date is not None:
        print(f"Peildatum: {date_text(c.count_date)}")
    print(f"Binnen de norm: {c.within_norm_before} -> {c.within_norm_after}")
    print(f"Geplaatst: {c.placed[0]} -> {c.placed[1]}")
    print(f"Zonder plek: {c.unplaced[0]} -> {c.unplaced[1]}")
    print(f"Hulp nog niet bepaald: {c.unclassified[0]} -> {c.unclassified[1]}")
    if c.reference is not None:
        print(c.reference_text())
    print(f"Op tijd (inspectienorm): {c.on_time_before} -> {c.on_time_after}")
    euros = f"{c.cost_difference_cents / 100:+,.2f}".replace(",", " ").replace(".", ",")
    print(f"Kosten: {euros.replace(' ', '.')} euro")
    gem = w.result.scenario.gemeente_name
    rows = [[gem.get(g, g), a, b, b - a] for g, (a, b) in sorted(c.by_gemeente.items())]
    if rows:
        print()
        print(_table([[str(x) for x in r] for r in rows], ["gemeente", "voor", "na", "verschil"]))
    rows = [[care_type_label(t), a, b, b - a] for t, (a, b) in sorted(c.by_care_type.items())]
    if rows:
        print()
        print(_table([[str(x) for x in r] for r in rows], ["hulpvorm", "voor", "na", "verschil"]))
    if c.moves:
        print()
        mv = [[m.child_ref, m.need_id, m.before or "-", m.after or "-"] for m in c.moves]
        print(_table(mv, ["kind", "hulpvraag", "voor", "na"]))
    print()
    print(_human(w.result))
    return EXIT_OK
