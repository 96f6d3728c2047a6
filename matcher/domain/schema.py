"""JSON Schema of scenario format v1, generated from the dataclasses.

`docs/scenario.schema.json` is this output; a test keeps the two equal.
Regenerate with ``python -m matcher.domain.schema > docs/scenario.schema.json``.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from datetime import date
from typing import Any

from matcher.domain.model import FamilyBundle, Policy
from matcher.domain.scenario_file import _LISTS, FORMAT, FORMAT_VERSION


def _type(tp: Any, name: str, defs: dict[str, Any]) -> dict[str, Any]:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return {"anyOf": [_type(inner[0], name, defs), {"type": "null"}]}
    if origin in (tuple, frozenset):
        return {"type": "array", "items": _type(args[0], name, defs)}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {"enum": [m.value for m in tp]}
    if tp is date:
        if name == "birth_month":
            return {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}
        return {"type": "string", "format": "date"}
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp is str:
        return {"type": "string"}
    if dataclasses.is_dataclass(tp):
        _object(tp, defs)
        return {"$ref": f"#/$defs/{getattr(tp, '__name__', '')}"}
    raise TypeError(tp)


def _object(cls: Any, defs: dict[str, Any]) -> None:
    if cls.__name__ in defs:
        return
    defs[cls.__name__] = {}
    hints = typing.get_type_hints(cls)
    props: dict[str, Any] = {}
    required: list[str] = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if cls is FamilyBundle and f.name == "members":
            props["members"] = {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"child": {"type": "string"}, "need": {"type": "string"}},
                    "required": ["child", "need"],
                    "additionalProperties": False,
                },
            }
        else:
            props[f.name] = _type(hints[f.name], f.name, defs)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.append(f.name)
    body: dict[str, Any] = {
        "type": "object",
        "properties": props,
        "additionalProperties": False,
    }
    if cls.__doc__:
        body["description"] = " ".join(cls.__doc__.split())
    if required:
        body["required"] = required
    defs[cls.__name__] = body


def json_schema() -> dict[str, Any]:
    defs: dict[str, Any] = {}
    props: dict[str, Any] = {
        "format": {"const": FORMAT},
        "version": {"const": FORMAT_VERSION},
        "name": {"type": "string"},
        "evaluation_date": {"type": "string", "format": "date"},
        "policy": _type(Policy, "policy", defs),
    }
    for key, cls in _LISTS.items():
        props[key] = {"type": "array", "items": _type(cls, key, defs)}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://example.invalid/beschikbaarheidswijzer/scenario.schema.json",
        "title": "Beschikbaarheidswijzer scenario, format version 1",
        "type": "object",
        "properties": props,
        "required": ["format", "version", "evaluation_date"],
        "additionalProperties": False,
        "$defs": dict(sorted(defs.items())),
    }


if __name__ == "__main__":
    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))
