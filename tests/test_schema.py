"""The published JSON Schemas (bench/schema/): results.json, and a --python run's
interpreters.json and serial-cost.json.

Every reference file is checked here; every such file a test writes under its tmp_path is
checked by conftest's ``results_files_match_the_schema``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tests.helpers import SCHEMA, SCHEMAS, schema_errors

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is in the test extra")

REFERENCE = Path(__file__).resolve().parent.parent / "reports" / "reference"
FILES = sorted(p for p in REFERENCE.rglob("*.json")
               if "cells" in json.loads(p.read_text(encoding="utf-8")))


def test_the_schema_is_a_valid_draft_2020_12_schema_of_version_1():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema_version"] == {"const": 1}


def test_the_schema_ships_in_the_wheel_beside_the_code():
    from importlib.resources import files

    for path in SCHEMAS.values():
        assert files("gilbench.bench").joinpath(f"schema/{path.name}").is_file()
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text("utf-8")))


RECORDS = sorted(p for name in ("interpreters.json", "serial-cost.json")
                 for p in REFERENCE.rglob(name))


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: str(p.relative_to(REFERENCE)))
def test_every_reference_python_run_record_matches_its_schema(path):
    assert schema_errors(json.loads(path.read_text(encoding="utf-8")), path.name) == []


def test_the_records_written_today_match_and_their_schemas_catch_breaks(tmp_path):
    from gilbench.bench import serialcost
    from gilbench.bench.plan import Plan
    from gilbench.bench.runfolder import InterpreterEntry, InterpretersRecord
    from gilbench.bench.serialcost import SerialRuns

    plan = Plan(profile="quick", workloads=("fib",), strategies=("serial", "threads"),
                workers=(2,), start_methods=("fork",), repeats=6, warmup=1, tasks=8,
                timeout_s=60, sizes=(("fib", 24),))
    InterpretersRecord(("gilbench", "run"), plan, (
        InterpreterEntry("/usr/bin/python3", "python3.11", "/usr/bin/python3"),)).write(tmp_path)
    serialcost.save(tmp_path / "serial-cost.json", [SerialRuns(
        "fib", 24, 8, {"python3.11": (0.1,) * 6, "python3.13t": (0.15,) * 6})], [], 6)
    record = json.loads((tmp_path / "interpreters.json").read_text())
    serial = json.loads((tmp_path / "serial-cost.json").read_text())
    assert record["schema_version"] == 1 and serial["schema_version"] == 1
    assert schema_errors(record, "interpreters.json") == []
    assert schema_errors(serial, "serial-cost.json") == []
    assert InterpretersRecord.read(tmp_path).plan == plan

    def broken(data, file, change) -> list[str]:
        data = copy.deepcopy(data)
        change(data)
        return schema_errors(data, file)

    assert broken(record, "interpreters.json", lambda d: d.update(schema_version=2))
    assert broken(record, "interpreters.json", lambda d: d["plan"].pop("workloads"))
    assert broken(record, "interpreters.json", lambda d: d["plan"].update(workers=[0]))
    assert broken(record, "interpreters.json", lambda d: d["interpreters"][0].pop("path"))
    assert broken(record, "interpreters.json", lambda d: d.update(interpreters=[]))
    assert broken(serial, "serial-cost.json", lambda d: d.update(schema_version=2))
    assert broken(serial, "serial-cost.json", lambda d: d["runs"][0].pop("times_s"))
    assert broken(serial, "serial-cost.json",
                  lambda d: d["runs"][0]["times_s"].update(python3_11=[-1.0]))
    assert not broken(record, "interpreters.json", lambda d: d.update(a_new_field=1))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(REFERENCE)))
def test_every_reference_file_matches_the_schema(path):
    assert schema_errors(json.loads(path.read_text(encoding="utf-8"))) == []


def test_the_schema_catches_what_breaks_the_contract():
    good = json.loads(FILES[0].read_text(encoding="utf-8"))
    assert len(FILES) >= 10 and schema_errors(good) == []

    def broken(change) -> list[str]:
        data = copy.deepcopy(good)
        change(data)
        return schema_errors(data)

    assert broken(lambda d: d.update(schema_version=2))
    assert broken(lambda d: d["cells"][0].pop("workload"))
    assert broken(lambda d: d["cells"][0].update(status="fine"))
    assert broken(lambda d: d["cells"][0].update(speedup_ci95=[1.0]))
    assert broken(lambda d: d["cells"][0].update(workers=0))
    assert broken(lambda d: d["cells"][0].update(times_s=[-1.0]))
    assert broken(lambda d: d["machine"].pop("usable_cpus"))
    ok = next(i for i, c in enumerate(good["cells"]) if c["status"] == "ok")
    assert broken(lambda d: d["cells"][ok].update(times_s=[]))
    # New fields may be added within version 1: they are not errors.
    assert not broken(lambda d: d["cells"][0].update(a_new_field=1))


# -- the records and the schema in step: every field a dataclass writes is in the schema
# with the JSON types its annotation gives, and the schema names no field no record has.

def _json_types(tp: object) -> set[str]:
    """The JSON types a value of this annotation is written as."""
    import dataclasses
    import types
    import typing

    if tp is type(None):
        return {"null"}
    simple = {bool: "boolean", int: "integer", float: "number", str: "string"}
    if tp in simple:
        return {simple[tp]}  # type: ignore[index]
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_json_types(a) for a in typing.get_args(tp)))
    if origin in (tuple, list):
        return {"array"}
    if dataclasses.is_dataclass(tp):
        return {"object"}
    raise AssertionError(f"no JSON type for {tp!r}")


def _item_types(tp: object) -> set[str] | None:
    """The JSON types of a homogeneous tuple's items (tuple[X, ...]); None otherwise."""
    import typing

    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if len(args) == 1 and typing.get_origin(args[0]) is tuple:
        inner = typing.get_args(args[0])
        if len(inner) == 2 and inner[1] is Ellipsis:
            return _json_types(inner[0])
    return None


def _schema_types(prop: dict) -> set[str]:
    """The JSON types a schema property allows ("number" allows integers too)."""
    if "type" in prop:
        types_ = prop["type"]
        found = {types_} if isinstance(types_, str) else set(types_)
    elif "enum" in prop:
        names = {bool: "boolean", int: "integer", float: "number", str: "string",
                 type(None): "null"}
        found = {names[type(v)] for v in prop["enum"]}
    else:
        found = set().union(*(_schema_types(s) for s in prop.get("oneOf", prop.get("anyOf",
                                                                                   []))))
    return found | ({"integer"} if "number" in found else set())


def _records() -> list[tuple[str, type, dict, dict[str, str]]]:
    """(name, dataclass, its schema object, field -> key) for every record results.json
    holds (``bench.schemagen``'s list, the one the generator writes)."""
    from gilbench.bench import schemagen
    from gilbench.bench.results import Confirmation

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    out = [(r.name, r.cls, r.locate(schema), r.keys) for r in schemagen.records()
           if r.file == "results"]
    cell = schema["$defs"]["cell"]
    return [*out, ("cell.confirmation", Confirmation, cell["properties"]["confirmation"], {})]


@pytest.mark.parametrize("record", [r[0] for r in _records()])
def test_every_field_a_record_writes_is_in_the_schema_with_its_json_types(record):
    import dataclasses
    import typing

    _, cls, obj, keys = next(r for r in _records() if r[0] == record)
    hints = typing.get_type_hints(cls)
    props = obj["properties"]
    for f in dataclasses.fields(cls):
        key = keys.get(f.name, f.name)
        assert key in props, f"{record}: the schema lacks {key!r}, which {cls.__name__} writes"
        want, have = _json_types(hints[f.name]), _schema_types(props[key])
        assert want <= have, f"{record}.{key}: written as {sorted(want)}, schema {sorted(have)}"
        items = _item_types(hints[f.name])
        if items is not None and "items" in props[key]:
            assert items <= _schema_types(props[key]["items"]), f"{record}.{key}: its items"
    if not keys:  # a record of its own (the machine holds more than the interpreter)
        written = {f.name for f in dataclasses.fields(cls)}
        assert set(props) <= written, (f"{record}: the schema names fields no "
                                       f"{cls.__name__} has: {sorted(set(props) - written)}")


def test_the_drift_check_sees_a_missing_field_and_a_wrong_type():
    assert _json_types(int | None) == {"integer", "null"}
    assert _schema_types({"type": ["number", "null"]}) >= {"integer", "number", "null"}
    assert not {"string"} <= _schema_types({"type": "integer"})
    assert _item_types(tuple[float, ...] | None) == {"number"}
    assert _item_types(tuple[str, int]) is None


def test_every_key_of_the_machine_record_is_in_the_schema_with_its_value_valid():
    # The machine record is a dict (collect_machine): this machine's, as a run writes it.
    from gilbench.bench.machine import collect_machine

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))["properties"]["machine"]
    machine = collect_machine()
    assert sorted(set(machine) - set(schema["properties"])) == []
    validator = jsonschema.Draft202012Validator(schema)
    assert [e.message for e in validator.iter_errors(json.loads(json.dumps(machine)))] == []


@pytest.mark.parametrize("stem", ["results", "interpreters"])
def test_the_committed_schema_is_the_one_generated_from_the_dataclasses(stem):
    from gilbench.bench import schemagen

    path = schemagen.SCHEMA_DIR / f"{stem}.schema.json"
    committed = path.read_text(encoding="utf-8")
    assert schemagen.text(schemagen.generate(stem, json.loads(committed))) == committed, (
        f"{path.name} differs from its dataclasses: run python -m bench.schemagen")


def test_a_field_added_to_a_dataclass_reaches_the_schema_only_by_regenerating(monkeypatch,
                                                                              tmp_path):
    import dataclasses

    from gilbench.bench import schemagen
    from gilbench.bench.results import Cell, Confirmation

    @dataclasses.dataclass(frozen=True)
    class Grown(Cell):  # a field added, as a maintainer would add it to Cell
        spread_s: tuple[float, ...] | None = None
        parts: dict[str, int] = dataclasses.field(default_factory=dict)

    grown = [dataclasses.replace(r, cls=Grown) if r.cls is Cell else r
             for r in schemagen.records()]
    monkeypatch.setattr(schemagen, "records", lambda: grown)
    for stem in ("results", "interpreters"):
        (tmp_path / f"{stem}.schema.json").write_text(
            (schemagen.SCHEMA_DIR / f"{stem}.schema.json").read_text("utf-8"), "utf-8")
    before = json.loads((tmp_path / "results.schema.json").read_text("utf-8"))
    assert schemagen.generate("results", before) != before  # the committed file is stale
    assert schemagen.regenerate(tmp_path) == [tmp_path / "results.schema.json"]
    after = json.loads((tmp_path / "results.schema.json").read_text("utf-8"))
    props = after["$defs"]["cell"]["properties"]
    assert props["spread_s"] == {"type": ["array", "null"], "items": {"type": "number"}}
    assert props["parts"] == {"type": "object"}
    assert list(props)[-2:] == ["spread_s", "parts"]  # new fields after the kept ones
    assert "spread_s" not in after["$defs"]["cell"]["required"]  # old files lack it
    # What the type cannot say is kept: the description, the bounds, the enum, if/then.
    assert props["confirmation"]["description"] == before["$defs"]["cell"]["properties"][
        "confirmation"]["description"]
    assert props["workers"]["minimum"] == 1 and "enum" in props["status"]
    assert after["$defs"]["cell"]["allOf"] == before["$defs"]["cell"]["allOf"]
    assert set(props["confirmation"]["properties"]) == {
        f.name for f in dataclasses.fields(Confirmation)}
    assert schemagen.regenerate(tmp_path) == []  # a fixed point
    jsonschema.Draft202012Validator.check_schema(after)


def test_a_field_a_dataclass_dropped_leaves_its_record_but_not_the_machine():
    from gilbench.bench import schemagen
    from gilbench.bench.interprecord import MACHINE_KEYS, InterpreterRecord
    from gilbench.bench.runfolder import InterpreterEntry

    obj = {"required": ["path", "gone"], "properties": {
        "gone": {"type": "string"}, "path": {"type": "integer", "minLength": 1}}}
    out = schemagen.record_object(InterpreterEntry, obj)
    assert list(out["properties"])[:1] == ["path"] and "gone" not in out["properties"]
    assert out["required"] == ["path"]
    assert out["properties"]["path"] == {"type": "string", "minLength": 1}  # type from hint
    machine = schemagen.record_object(InterpreterRecord, obj, MACHINE_KEYS, own=False)
    assert "gone" in machine["properties"] and "python_version" in machine["properties"]
    assert machine["properties"]["jit_enabled"] == {"type": ["boolean", "null"]}
