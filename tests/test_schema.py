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
        assert files("bench").joinpath(f"schema/{path.name}").is_file()
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text("utf-8")))


RECORDS = sorted(p for name in ("interpreters.json", "serial-cost.json")
                 for p in REFERENCE.rglob(name))


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: str(p.relative_to(REFERENCE)))
def test_every_reference_python_run_record_matches_its_schema(path):
    assert schema_errors(json.loads(path.read_text(encoding="utf-8")), path.name) == []


def test_the_records_written_today_match_and_their_schemas_catch_breaks(tmp_path):
    from bench import serialcost
    from bench.plan import Plan
    from bench.runfolder import InterpreterEntry, InterpretersRecord
    from bench.serialcost import SerialRuns

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
