"""The published JSON Schemas' records, derived from the dataclasses that write them.

Each record a results file holds (``Cell``, its ``Confirmation``, the ``Plan``, one entry
class per cost suite, the interpreter's fields of the machine record, a ``--python`` run's
``InterpreterEntry``) is a dataclass; its schema object is generated from it: which
properties exist, in which order new ones come, their JSON types (``float | None`` is
``["number", "null"]``, a ``tuple[float, ...]`` an array of numbers, a nested dataclass
an object of its own fields); a field the dataclass no longer has leaves ``required``.
What a type cannot say stays written in the schema file beside the generated parts and is
kept by the generator: descriptions, bounds (``minimum``, ``minLength``), enums,
``if``/``then`` rules, a field's ``oneOf`` when it has one (checked against the type by
the tests), and which fields are required (a contract with the files already written: a
new field is never required, or older files would stop matching).

``python -m gilbench.bench.schemagen`` rewrites ``bench/schema/*.schema.json`` in place;
``tests/test_schema.py`` fails while a committed schema differs from what this module
generates, so a field added to a dataclass reaches the schema by running it.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
KEPT = ("enum", "const", "oneOf", "anyOf", "$ref")  # a refinement the type cannot say
JSON = {str: "string", int: "integer", float: "number", bool: "boolean",
        type(None): "null"}

Locate = Callable[[dict[str, Any]], dict[str, Any]]


@dataclasses.dataclass(frozen=True)
class Record:
    """One dataclass and where its object sits in a schema file."""

    name: str
    cls: type
    file: str  # the schema file's stem: "results", "interpreters"
    locate: Locate
    keys: dict[str, str] = dataclasses.field(default_factory=dict)  # field -> its key
    own: bool = True  # the object holds only this record's fields (the machine holds more)


def records() -> list[Record]:
    """Every record a published schema holds, with the way to its object."""
    from gilbench.bench.entries import ENTRY_TYPES
    from gilbench.bench.interprecord import MACHINE_KEYS, InterpreterRecord
    from gilbench.bench.plan import Plan
    from gilbench.bench.results import Cell
    from gilbench.bench.runfolder import InterpreterEntry

    out = [Record("cell", Cell, "results", _at("$defs", "cell")),
           Record("plan", Plan, "results", _at("$defs", "plan")),
           Record("machine (the interpreter's fields)", InterpreterRecord, "results",
                  _at("properties", "machine"), MACHINE_KEYS, own=False),
           Record("interpreters", InterpreterEntry, "interpreters",
                  _at("properties", "interpreters", "items"))]
    out += [Record(suite, cls, "results", _at("properties", suite, "items"))
            for suite, cls in ENTRY_TYPES.items()]
    return out


def _at(*path: str) -> Locate:
    def locate(schema: dict[str, Any]) -> dict[str, Any]:
        for key in path:
            schema = schema[key]
        return schema
    return locate


def _shape(hint: Any) -> tuple[list[str], Any]:
    """(JSON types, the item hint or nested dataclass) of a type hint."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        names: list[str] = []
        inner = None
        for a in args:
            more, sub = _shape(a)
            names += [n for n in more if n not in names]
            inner = inner if sub is None else sub
        return names, inner
    if hint in JSON:
        return [JSON[hint]], None
    if origin in (tuple, list):
        return ["array"], args
    if origin is dict or hint is dict:
        return ["object"], None
    if dataclasses.is_dataclass(hint):
        return ["object"], hint
    if origin is typing.Literal:
        return sorted({JSON[type(a)] for a in args}), None
    return [], None  # Any: the schema says it


def _type(names: list[str]) -> str | list[str]:
    return names[0] if len(names) == 1 else names


def prop(hint: Any, existing: dict[str, Any] | None) -> dict[str, Any]:
    """A property's schema: the type from the hint, the rest kept from ``existing``."""
    out = dict(existing or {})
    if any(k in out for k in KEPT):
        return out
    names, inner = _shape(hint)
    if not names:
        return out
    out["type"] = _type(names)
    if "array" in names and isinstance(inner, tuple):
        if len(inner) == 2 and inner[1] is Ellipsis:
            out["items"] = prop(inner[0], out.get("items"))
        elif inner and "items" in out and "prefixItems" not in out:
            # a fixed-length tuple the file describes with one item schema: all places'
            # types together ([low, high] where high may be null)
            out["items"] = prop(typing.Union[tuple(inner)], out["items"])  # noqa: UP007
            out["minItems"] = out["maxItems"] = len(inner)
        elif inner:  # a fixed-length tuple: each place its own type
            given = out.get("prefixItems") or [None] * len(inner)
            out["prefixItems"] = [prop(a, g) for a, g in zip(inner, given, strict=False)]
            out["minItems"] = out["maxItems"] = len(inner)
    elif dataclasses.is_dataclass(inner):
        out.update(record_object(inner, out))
    return out


def record_object(cls: Any, existing: dict[str, Any], keys: dict[str, str] | None = None,
                  own: bool = True) -> dict[str, Any]:
    """The object schema of a dataclass: its properties derived (kept ones first, in the
    file's order, new ones after in field order), its required fields, the rest kept."""
    keys = keys or {}
    hints = typing.get_type_hints(cls)
    fields = {keys.get(f.name, f.name): f for f in dataclasses.fields(cls)}
    given = existing.get("properties", {})
    props = {k: (prop(hints[fields[k].name], v) if k in fields else v)
             for k, v in given.items() if k in fields or not own}
    props |= {k: prop(hints[f.name], None) for k, f in fields.items() if k not in props}
    out = dict(existing)
    out["properties"] = props
    if "required" in existing:
        out["required"] = [k for k in existing["required"] if k in props or not own]
    return out


def generate(stem: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The schema file ``stem`` as generated from its records (a new object; the given
    one supplies what types cannot say)."""
    out = json.loads(json.dumps(schema))
    for r in records():
        if r.file == stem:
            obj = r.locate(out)
            new = record_object(r.cls, obj, r.keys, r.own)
            obj.clear()
            obj.update(new)
    return out


def text(schema: dict[str, Any]) -> str:
    """A schema as its file holds it."""
    return json.dumps(schema, indent=1) + "\n"


def regenerate(folder: Path = SCHEMA_DIR) -> list[Path]:
    """Rewrite the schema files whose generated form differs; the paths rewritten."""
    changed = []
    for stem in sorted({r.file for r in records()}):
        path = folder / f"{stem}.schema.json"
        old = path.read_text(encoding="utf-8")
        new = text(generate(stem, json.loads(old)))
        if new != old:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def main() -> int:
    for path in regenerate():
        print(f"regenerated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
