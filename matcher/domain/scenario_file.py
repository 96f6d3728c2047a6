"""Scenario JSON, format version 1 (docs/scenario-format.md, docs/scenario.schema.json).

`load`/`loads` read and validate a scenario and report every problem at once
(`ScenarioValidationError.issues`, each with a JSON path and a short Dutch message);
`dumps`/`dump` write it back (fields equal to their default are left out).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from matcher.domain.model import (
    Budget,
    CareNeed,
    Child,
    Contract,
    FamilyBundle,
    Offering,
    Policy,
    Refusal,
    Region,
    RegionalNorm,
    Release,
    Scenario,
    Subcontract,
    Weights,
)
from matcher.errors import MatcherError
from matcher.problem import ValidationIssue

FORMAT = "beschikbaarheidswijzer-scenario"
FORMAT_VERSION = 1

_LISTS: dict[str, type] = {
    "children": Child,
    "offerings": Offering,
    "contracts": Contract,
    "subcontracts": Subcontract,
    "regions": Region,
    "budgets": Budget,
    "bundles": FamilyBundle,
    "refusals": Refusal,
}


class ScenarioValidationError(MatcherError, ValueError):
    """Every problem in a scenario file, never only the first."""

    def __init__(self, issues: list[ValidationIssue]) -> None:
        self.issues = tuple(issues)
        lines = "\n".join(f"  - {i}" for i in self.issues)
        n = len(self.issues)
        text = f"{n} {'fout' if n == 1 else 'fouten'} in het scenario:\n{lines}"
        super().__init__(text, user_message=text)


class _Reader:
    def __init__(self) -> None:
        self.issues: list[ValidationIssue] = []

    def err(self, where: str, msg: str) -> None:
        self.issues.append(ValidationIssue(where, msg))

    def value(self, tp: Any, raw: Any, where: str, field_name: str = "") -> Any:
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin in (typing.Union, types.UnionType):
            if raw is None and type(None) in args:
                return None
            inner = [a for a in args if a is not type(None)]
            return self.value(inner[0], raw, where, field_name)
        if tp is Any:
            return raw
        if origin in (tuple, frozenset):
            if not isinstance(raw, list):
                self.err(where, "moet een lijst zijn")
                return origin()
            if origin is frozenset or (len(args) == 2 and args[1] is Ellipsis):
                elem = args[0]
            else:  # fixed tuple (child ref, need id) in bundles
                return tuple(raw)
            vals = [self.value(elem, r, f"{where}[{i}]", field_name) for i, r in enumerate(raw)]
            return origin(vals)
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            try:
                return tp(raw)
            except ValueError:
                allowed = ", ".join(str(m.value) for m in tp)
                self.err(where, f"onbekende waarde {raw!r}; kies uit: {allowed}")
                return None
        if tp is date:
            if not isinstance(raw, str):
                self.err(where, "moet een datum zijn (JJJJ-MM-DD)")
                return None
            try:
                if field_name == "birth_month":
                    y, m = raw.split("-")[:2]
                    return date(int(y), int(m), 1)
                return date.fromisoformat(raw)
            except ValueError:
                self.err(where, f"{raw!r} is geen geldige datum (JJJJ-MM-DD)")
                return None
        if tp is bool:
            if not isinstance(raw, bool):
                self.err(where, "moet true of false zijn")
                return False
            return raw
        if tp is int:
            if isinstance(raw, bool) or not isinstance(raw, int):
                self.err(where, "moet een geheel getal zijn")
                return 0
            return raw
        if tp is str:
            if not isinstance(raw, str):
                self.err(where, "moet tekst zijn")
                return ""
            return raw
        if dataclasses.is_dataclass(tp):
            return self.obj(tp, raw, where)
        raise TypeError(f"unsupported type {tp!r}")  # a programming error, not bad input

    def obj(self, cls: Any, raw: Any, where: str) -> Any:
        if not isinstance(raw, Mapping):
            self.err(where, "moet een object zijn")
            return None
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
        kwargs: dict[str, Any] = {}
        for key in raw:
            if key not in fields:
                self.err(f"{where}.{key}", "onbekend veld")
        for name, f in fields.items():
            if cls is FamilyBundle and name == "members":
                kwargs[name] = self.members(raw.get(name), f"{where}.members")
                continue
            if name not in raw:
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    self.err(f"{where}.{name}", "ontbreekt")
                continue
            kwargs[name] = self.value(hints[name], raw[name], f"{where}.{name}", name)
        try:
            return cls(**kwargs)
        except TypeError:
            return None

    def members(self, raw: Any, where: str) -> tuple[tuple[str, str], ...]:
        if not isinstance(raw, list):
            self.err(where, "moet een lijst zijn van {child, need}")
            return ()
        out = []
        for i, m in enumerate(raw):
            if (
                not isinstance(m, Mapping)
                or not isinstance(m.get("child"), str)
                or not (isinstance(m.get("need"), str))
            ):
                self.err(f"{where}[{i}]", "moet een object zijn met child en need")
                continue
            out.append((m["child"], m["need"]))
        return tuple(out)


def from_dict(data: Any) -> Scenario:
    """Build a `Scenario` from parsed JSON; raises ScenarioValidationError with all issues."""
    rd = _Reader()
    if not isinstance(data, Mapping):
        raise ScenarioValidationError([ValidationIssue("$", "het bestand is geen JSON-object")])
    if data.get("format") != FORMAT:
        rd.err("$.format", f"moet {FORMAT!r} zijn")
    if data.get("version") != FORMAT_VERSION:
        rd.err("$.version", f"versie {data.get('version')!r} wordt niet ondersteund (alleen 1)")
    allowed = {"format", "version", "name", "evaluation_date", "policy", *_LISTS}
    for key in data:
        if key not in allowed:
            rd.err(f"$.{key}", "onbekend veld")
    ev = rd.value(date, data.get("evaluation_date"), "$.evaluation_date")
    policy = rd.obj(Policy, data.get("policy", {}), "$.policy") or Policy()
    lists: dict[str, tuple[Any, ...]] = {}
    for key, cls in _LISTS.items():
        raw = data.get(key, [])
        if not isinstance(raw, list):
            rd.err(f"$.{key}", "moet een lijst zijn")
            raw = []
        lists[key] = tuple(
            x for x in (rd.obj(cls, r, f"$.{key}[{i}]") for i, r in enumerate(raw)) if x
        )
    name = data.get("name", "")
    if not isinstance(name, str):
        rd.err("$.name", "moet tekst zijn")
        name = ""
    if rd.issues or ev is None:
        raise ScenarioValidationError(rd.issues)
    sc = Scenario(
        evaluation_date=ev,
        policy=policy,
        name=name,
        children=lists["children"],
        offerings=lists["offerings"],
        contracts=lists["contracts"],
        subcontracts=lists["subcontracts"],
        regions=lists["regions"],
        budgets=lists["budgets"],
        bundles=lists["bundles"],
        refusals=lists["refusals"],
    )
    issues = scenario_issues(sc)
    if issues:
        raise ScenarioValidationError(issues)
    return sc


def scenario_issues(sc: Scenario) -> list[ValidationIssue]:
    """Every semantic problem of a scenario (references, ranges, weights)."""
    out: list[ValidationIssue] = []
    add = out.append

    def dupes(kind: str, ids: list[str]) -> None:
        seen: set[str] = set()
        for i, s in enumerate(ids):
            if not s:
                add(ValidationIssue(f"$.{kind}[{i}]", "id is leeg"))
            if s in seen:
                add(ValidationIssue(f"$.{kind}[{i}]", f"id {s!r} komt twee keer voor"))
            seen.add(s)

    dupes("children", [c.ref for c in sc.children])
    dupes("offerings", [o.id for o in sc.offerings])
    dupes("contracts", [c.id for c in sc.contracts])
    dupes("budgets", [b.id for b in sc.budgets])
    dupes("bundles", [b.id for b in sc.bundles])
    dupes("regions", [r.code for r in sc.regions])
    offs = sc.offering_by_id
    providers = {o.provider for o in sc.offerings} | {c.provider for c in sc.contracts}
    for i, c in enumerate(sc.children):
        w = f"$.children[{i}]"
        if c.age_years is None and c.birth_month is None:
            add(ValidationIssue(w, "geef age_years of birth_month"))
        if c.age_years is not None and not 0 <= c.age_years <= 30:
            add(ValidationIssue(f"{w}.age_years", "leeftijd moet tussen 0 en 30 liggen"))
        if not c.needs and not c.unclassified_needs:
            add(ValidationIssue(f"{w}.needs", "een kind heeft minstens één hulpvraag"))
        if c.times_discussed < 0:
            add(ValidationIssue(f"{w}.times_discussed", "mag niet negatief zijn"))
        nids = [n.id for n in c.needs] + [n.id for n in c.unclassified_needs]
        if len(set(nids)) != len(nids):
            add(ValidationIssue(f"{w}.needs", "twee hulpvragen hebben hetzelfde id"))
        for j, n in enumerate(c.needs):
            if n.current_offering is not None and n.current_offering not in offs:
                add(
                    ValidationIssue(
                        f"{w}.needs[{j}].current_offering",
                        f"onbekend aanbod {n.current_offering!r}",
                    )
                )
            if n.start_date and n.intake_date and n.start_date < n.intake_date:
                add(ValidationIssue(f"{w}.needs[{j}].start_date", "start ligt vóór de intake"))
    for i, o in enumerate(sc.offerings):
        w = f"$.offerings[{i}]"
        if o.free_now < 0:
            add(ValidationIssue(f"{w}.free_now", "mag niet negatief zijn"))
        for k, rel in enumerate(o.releases):
            if rel.places < 0:
                add(ValidationIssue(f"{w}.releases[{k}].places", "mag niet negatief zijn"))
        if o.age_min > o.age_max:
            add(ValidationIssue(f"{w}.age_min", "age_min is groter dan age_max"))
        if o.price_cents < 0:
            add(ValidationIssue(f"{w}.price_cents", "prijs mag niet negatief zijn"))
        if o.intake_lead_days < 0 or o.duration_weeks < 0:
            add(ValidationIssue(w, "doorlooptijden mogen niet negatief zijn"))
    for i, b in enumerate(sc.budgets):
        if b.ceiling_cents < 0 or b.spent_cents < 0:
            add(ValidationIssue(f"$.budgets[{i}]", "plafond en besteed mogen niet negatief zijn"))
    for i, rg in enumerate(sc.regions):
        if rg.gemeente_names and len(rg.gemeente_names) != len(rg.gemeenten):
            add(
                ValidationIssue(
                    f"$.regions[{i}].gemeente_names",
                    "geef voor elke gemeente een naam, in dezelfde volgorde als gemeenten",
                )
            )
    for i, s in enumerate(sc.subcontracts):
        for fld in ("main_provider", "sub_provider"):
            if getattr(s, fld) not in providers:
                add(ValidationIssue(f"$.subcontracts[{i}].{fld}", "onbekende aanbieder"))
    kids = sc.child_by_ref
    seen_members: set[tuple[str, str]] = set()
    for i, bd in enumerate(sc.bundles):
        for k, (ref, nid) in enumerate(bd.members):
            where = f"$.bundles[{i}].members[{k}]"
            if ref not in kids:
                add(ValidationIssue(where, f"onbekend kind {ref!r}"))
            elif nid not in {n.id for n in kids[ref].needs}:
                add(ValidationIssue(where, f"kind {ref!r} heeft geen hulpvraag {nid!r}"))
            if (ref, nid) in seen_members:
                add(ValidationIssue(where, "deze hulpvraag zit al in een gezinsbundel"))
            seen_members.add((ref, nid))
    for i, rf in enumerate(sc.refusals):
        if rf.offering not in offs:
            add(ValidationIssue(f"$.refusals[{i}].offering", f"onbekend aanbod {rf.offering!r}"))
        if rf.child_ref not in kids:
            add(ValidationIssue(f"$.refusals[{i}].child_ref", f"onbekend kind {rf.child_ref!r}"))
    wt = sc.policy.weights
    if not (
        wt.home > wt.keep + wt.region + wt.cost_levels
        and wt.keep > wt.region + wt.cost_levels
        and wt.region > wt.cost_levels >= 0
    ):
        add(
            ValidationIssue(
                "$.policy.weights",
                "de gewichten moeten de volgorde bewaren: home > keep + region + cost_levels, "
                "keep > region + cost_levels, region > cost_levels",
            )
        )
    if min(wt.priority_overdue, wt.priority_urgent, wt.priority_max_wait_days) < 0:
        add(ValidationIssue("$.policy.weights", "gewichten mogen niet negatief zijn"))
    if wt.priority_overdue <= wt.priority_urgent + wt.priority_max_wait_days:
        add(
            ValidationIssue(
                "$.policy.weights.priority_overdue",
                "moet groter zijn dan priority_urgent + priority_max_wait_days",
            )
        )
    if wt.priority_urgent <= wt.priority_max_wait_days:
        add(
            ValidationIssue(
                "$.policy.weights.priority_urgent", "moet groter zijn dan priority_max_wait_days"
            )
        )
    return out


def loads(text: str) -> Scenario:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioValidationError(
            [ValidationIssue(f"regel {exc.lineno}", f"geen geldige JSON: {exc.msg}")]
        ) from None
    return from_dict(data)


def load(path: str | Path) -> Scenario:
    return loads(Path(path).read_text(encoding="utf-8"))


# ------------------------------------------------------------------ writing


def _enc(value: Any, field_name: str = "") -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date):
        return value.strftime("%Y-%m") if field_name == "birth_month" else value.isoformat()
    if isinstance(value, frozenset):
        return sorted(_enc(v) for v in value)
    if isinstance(value, tuple):
        return [_enc(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _obj(value)
    return value


def _obj(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        if f.default is not dataclasses.MISSING and v == f.default:
            continue
        if f.default_factory is not dataclasses.MISSING and v == f.default_factory():
            continue
        if isinstance(obj, FamilyBundle) and f.name == "members":
            out["members"] = [{"child": c, "need": n} for c, n in v]
            continue
        out[f.name] = _enc(v, f.name)
    return out


def to_dict(sc: Scenario) -> dict[str, Any]:
    """The scenario file of `sc`.  Pins and forbids are the tafel's decisions, not part
    of the situation: they are kept as deltas, so a scenario with them is refused rather
    than written without them."""
    if sc.pins or sc.forbids:
        raise ValueError(
            "een scenario met besluiten van de tafel (pins, forbids) hoort niet in een "
            "scenariobestand; bewaar de besluiten als wijzigingen (delta JSON)"
        )
    out: dict[str, Any] = {"format": FORMAT, "version": FORMAT_VERSION}
    if sc.name:
        out["name"] = sc.name
    out["evaluation_date"] = sc.evaluation_date.isoformat()
    pol = _obj(sc.policy)
    if pol:
        out["policy"] = pol
    for key in _LISTS:
        items = getattr(sc, key)
        if items:
            out[key] = [_obj(x) for x in items]
    return out


def dumps(sc: Scenario, indent: int | None = 2) -> str:
    return json.dumps(to_dict(sc), indent=indent, ensure_ascii=False)


def dump(sc: Scenario, path: str | Path) -> None:
    Path(path).write_text(dumps(sc) + "\n", encoding="utf-8")


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "CareNeed",
    "RegionalNorm",
    "Release",
    "ScenarioValidationError",
    "Weights",
    "dump",
    "dumps",
    "from_dict",
    "load",
    "loads",
    "scenario_issues",
    "to_dict",
]
