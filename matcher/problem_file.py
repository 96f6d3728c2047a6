"""Reading and writing problems: JSON problem format v1 and OR-Library GAP files.

The JSON format is documented in docs/problem-format.md and described by
docs/problem.schema.json.  Readers report every problem of a file at once
(`ProblemValidationError`), with a JSON-path-like ``where``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from matcher.problem import (
    FORMAT_VERSION,
    AssignmentProblem,
    ProblemValidationError,
    Sense,
    ValidationIssue,
)

FORMAT_NAME = "matcher-problem"


# -- JSON v1 -----------------------------------------------------------------
def problem_to_json_dict(p: AssignmentProblem) -> dict[str, Any]:
    items = [
        {
            "id": s,
            "must_assign": bool(p.must_assign[i]),
            "unassigned_penalty": int(p.unassigned_penalty[i]),
        }
        for i, s in enumerate(p.item_ids)
    ]
    resources = [{"id": s, "capacity": int(p.capacity[r])} for r, s in enumerate(p.resource_ids)]
    ptr = p.use_ptr.tolist()
    ures = p.use_resource.tolist()
    uamt = p.use_amount.tolist()
    arcs: list[dict[str, Any]] = []
    for a, (i, o, v) in enumerate(
        zip(p.arc_item.tolist(), p.arc_option.tolist(), p.arc_value.tolist(), strict=True)
    ):
        arc: dict[str, Any] = {
            "item": p.item_ids[i],
            "option": p.option_ids[o],
            "value": v,
            "uses": {p.resource_ids[ures[k]]: uamt[k] for k in range(ptr[a], ptr[a + 1])},
        }
        if p.pinned[a]:
            arc["pinned"] = True
        if p.forbidden[a]:
            arc["forbidden"] = True
        arcs.append(arc)
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "name": p.name,
        "sense": p.sense.value,
        "items": items,
        "options": list(p.option_ids),
        "resources": resources,
        "arcs": arcs,
        "meta": dict(p.meta),
    }


def write_problem(p: AssignmentProblem, path: str | Path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(problem_to_json_dict(p), f, separators=(",", ":"))
        f.write("\n")


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def problem_from_json_dict(data: object) -> AssignmentProblem:
    """Build a problem from a parsed JSON document, reporting every issue."""
    issues: list[ValidationIssue] = []
    add = issues.append
    if not isinstance(data, Mapping):
        raise ProblemValidationError([ValidationIssue("$", "the document is not a JSON object")])
    if data.get("format") != FORMAT_NAME:
        add(ValidationIssue("$.format", f"must be {FORMAT_NAME!r}"))
    if data.get("version") != FORMAT_VERSION:
        add(
            ValidationIssue(
                "$.version", f"version {data.get('version')!r} is not supported (only 1)"
            )
        )
    sense_s = data.get("sense", "maximize")
    try:
        sense = Sense(sense_s)
    except ValueError:
        add(ValidationIssue("$.sense", f"must be 'maximize' or 'minimize', not {sense_s!r}"))
        sense = Sense.MAXIMIZE
    name = data.get("name", "")
    if not isinstance(name, str):
        add(ValidationIssue("$.name", "must be a string"))
        name = ""
    meta = data.get("meta", {})
    if not isinstance(meta, Mapping):
        add(ValidationIssue("$.meta", "must be an object"))
        meta = {}

    def listed(key: str) -> list[Any]:
        v = data.get(key, [])
        if not isinstance(v, list):
            add(ValidationIssue(f"$.{key}", "must be a list"))
            return []
        return v

    item_ids: list[str] = []
    must: list[bool] = []
    pen: list[int] = []
    for k, it in enumerate(listed("items")):
        w = f"$.items[{k}]"
        if not isinstance(it, Mapping):
            add(ValidationIssue(w, "must be an object"))
            continue
        iid = it.get("id")
        if not isinstance(iid, str):
            add(ValidationIssue(f"{w}.id", "must be a string"))
            iid = f"#{k}"
        m = it.get("must_assign", False)
        if not isinstance(m, bool):
            add(ValidationIssue(f"{w}.must_assign", "must be true or false"))
            m = False
        pe = it.get("unassigned_penalty", 0)
        if not _is_int(pe):
            add(ValidationIssue(f"{w}.unassigned_penalty", "must be an integer"))
            pe = 0
        item_ids.append(iid)
        must.append(m)
        pen.append(pe)

    res_ids: list[str] = []
    cap: list[int] = []
    for k, r in enumerate(listed("resources")):
        w = f"$.resources[{k}]"
        if not isinstance(r, Mapping):
            add(ValidationIssue(w, "must be an object"))
            continue
        rid = r.get("id")
        if not isinstance(rid, str):
            add(ValidationIssue(f"{w}.id", "must be a string"))
            rid = f"#{k}"
        c: Any = r.get("capacity")
        if not _is_int(c):
            add(ValidationIssue(f"{w}.capacity", "must be an integer"))
            c = 0
        res_ids.append(rid)
        cap.append(int(c))

    opt_ids: list[str] = []
    for k, o in enumerate(listed("options")):
        if not isinstance(o, str):
            add(ValidationIssue(f"$.options[{k}]", "must be a string"))
            continue
        opt_ids.append(o)
    opt_index = {s: i for i, s in enumerate(opt_ids)}
    if len(opt_index) != len(opt_ids):
        add(ValidationIssue("$.options", "lists an option id twice"))
    item_index = {s: i for i, s in enumerate(item_ids)}
    res_index = {s: i for i, s in enumerate(res_ids)}

    a_item: list[int] = []
    a_opt: list[int] = []
    a_val: list[int] = []
    ptr: list[int] = [0]
    ures: list[int] = []
    uamt: list[int] = []
    pinned: list[bool] = []
    forbidden: list[bool] = []
    for k, a in enumerate(listed("arcs")):
        w = f"$.arcs[{k}]"
        if not isinstance(a, Mapping):
            add(ValidationIssue(w, "must be an object"))
            continue
        it, op, val = a.get("item"), a.get("option"), a.get("value", a.get("score"))
        if "cost" in a and val is None:
            val = a.get("cost")
        if not isinstance(it, str) or it not in item_index:
            add(ValidationIssue(f"{w}.item", f"refers to unknown item {it!r}"))
        if not isinstance(op, str):
            add(ValidationIssue(f"{w}.option", "must be a string"))
            op = ""
        if not _is_int(val):
            add(ValidationIssue(f"{w}.value", "must be an integer"))
            val = 0
        uses = a.get("uses", {})
        if not isinstance(uses, Mapping):
            add(ValidationIssue(f"{w}.uses", "must be an object {resource: amount}"))
            uses = {}
        for rid, amt in uses.items():
            if rid not in res_index:
                add(ValidationIssue(f"{w}.uses", f"uses unknown resource {rid!r}"))
            elif not _is_int(amt):
                add(ValidationIssue(f"{w}.uses.{rid}", "amount must be an integer"))
            else:
                ures.append(res_index[rid])
                uamt.append(amt)
        ptr.append(len(ures))
        for flag, lst in (("pinned", pinned), ("forbidden", forbidden)):
            fv = a.get(flag, False)
            if not isinstance(fv, bool):
                add(ValidationIssue(f"{w}.{flag}", "must be true or false"))
                fv = False
            lst.append(fv)
        if op not in opt_index:
            opt_index[op] = len(opt_ids)
            opt_ids.append(op)
        a_item.append(item_index.get(it, -1) if isinstance(it, str) else -1)
        a_opt.append(opt_index[op])
        a_val.append(val)
    columns = (
        item_ids,
        must,
        pen,
        opt_ids,
        res_ids,
        cap,
        a_item,
        a_opt,
        a_val,
        ptr,
        ures,
        uamt,
        pinned,
        forbidden,
        sense,
        name,
        meta,
    )
    if not issues:
        return _create(*columns)
    # structural checks would only repeat these; still add what they find
    try:
        _create(*columns)
    except ProblemValidationError as exc:
        issues.extend(i for i in exc.issues if "unknown item #-1" not in i.message)
    raise ProblemValidationError(issues)


def _create(
    item_ids: list[str],
    must: list[bool],
    pen: list[int],
    opt_ids: list[str],
    res_ids: list[str],
    cap: list[int],
    a_item: list[int],
    a_opt: list[int],
    a_val: list[int],
    ptr: list[int],
    ures: list[int],
    uamt: list[int],
    pinned: list[bool],
    forbidden: list[bool],
    sense: Sense,
    name: str,
    meta: Mapping[str, Any],
) -> AssignmentProblem:
    return AssignmentProblem.create(
        items=item_ids,
        options=opt_ids,
        resources=res_ids,
        capacity=cap,
        arc_item=a_item,
        arc_option=a_opt,
        arc_value=a_val,
        use_ptr=ptr,
        use_resource=ures,
        use_amount=uamt,
        must_assign=must,
        unassigned_penalty=pen,
        pinned=pinned,
        forbidden=forbidden,
        sense=sense,
        name=name,
        meta=meta,
    )


def read_problem(source: str | Path | IO[str]) -> AssignmentProblem:
    """Read a JSON problem file (format v1)."""
    where = str(source) if not hasattr(source, "read") else "<stream>"
    try:
        if hasattr(source, "read"):
            data = json.load(source)
        else:
            with open(source, encoding="utf-8") as f:
                data = json.load(f)
    except json.JSONDecodeError as exc:
        raise ProblemValidationError(
            [ValidationIssue(f"{where}:{exc.lineno}:{exc.colno}", f"not valid JSON: {exc.msg}")]
        ) from None
    return problem_from_json_dict(data)


# -- OR-Library GAP ------------------------------------------------------------
def read_orlib_gap(source: str | Path | IO[str], name: str = "") -> AssignmentProblem:
    """Read an OR-Library GAP instance as a minimisation, every job must-assign.

    Item ids are the 0-based job indexes, option ids the 0-based agent
    indexes (both as strings); resource ``agent:i`` is agent i's capacity.
    """
    if hasattr(source, "read"):
        text = source.read()
        where = name or "<stream>"
    else:
        text = Path(source).read_text(encoding="ascii")
        where = str(source)
        name = name or Path(source).stem
    try:
        nums = np.asarray(text.split(), dtype=np.int64)
    except ValueError:
        raise ProblemValidationError(
            [ValidationIssue(where, "an OR-Library GAP file holds whitespace-separated integers")]
        ) from None
    if nums.size < 2:
        raise ProblemValidationError([ValidationIssue(where, "the file is empty")])
    m, n = int(nums[0]), int(nums[1])
    need = 2 + 2 * m * n + m
    if m <= 0 or n <= 0 or nums.size != need:
        raise ProblemValidationError(
            [
                ValidationIssue(
                    where,
                    f"header says {m} agents x {n} jobs, so {need} numbers are expected, "
                    f"found {nums.size}",
                )
            ]
        )
    cost = nums[2 : 2 + m * n].reshape(m, n)
    amount = nums[2 + m * n : 2 + 2 * m * n].reshape(m, n)
    cap = nums[2 + 2 * m * n :]
    # arcs job-major: job j -> agent i
    jj, ii = np.meshgrid(np.arange(n), np.arange(m), indexing="ij")
    return AssignmentProblem.create(
        items=[str(j) for j in range(n)],
        options=[str(i) for i in range(m)],
        resources=[f"agent:{i}" for i in range(m)],
        capacity=cap,
        arc_item=jj.reshape(-1).astype(np.int32),
        arc_option=ii.reshape(-1).astype(np.int32),
        arc_value=cost.T.reshape(-1),
        use_ptr=np.arange(n * m + 1, dtype=np.int64),
        use_resource=ii.reshape(-1).astype(np.int32),
        use_amount=amount.T.reshape(-1),
        must_assign=np.ones(n, dtype=bool),
        sense=Sense.MINIMIZE,
        name=name,
        meta={"source": "orlib-gap"},
    )


def read_any(path: str | Path, fmt: str = "json") -> AssignmentProblem:
    if fmt == "json":
        return read_problem(path)
    if fmt == "orlib-gap":
        return read_orlib_gap(path)
    raise ValueError(f"unknown format {fmt!r}")
