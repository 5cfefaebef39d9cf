"""The published JSON Schema of results.json (bench/schema/results.schema.json).

Every reference file is checked here; every results.json a test writes under its
tmp_path is checked by conftest's ``results_files_match_the_schema``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tests.helpers import SCHEMA, schema_errors

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

    assert files("bench").joinpath("schema/results.schema.json").is_file()


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
