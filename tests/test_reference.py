"""Every committed reference file still loads and renders (charts, report, summary)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from gilbench.bench.report import render, write_report
from gilbench.bench.report.terminal import summary
from gilbench.bench.results import load, unpaired

REFERENCE = Path(__file__).resolve().parent.parent / "reports" / "reference"
FILES = sorted(REFERENCE.glob("*.json"))


def test_there_are_reference_files():
    assert len(FILES) >= 3


CHARTED = 3  # workloads per file drawn (a chart is about a second; the code is the same)


@pytest.mark.slow
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_a_reference_file_renders(path, tmp_path):
    results = load(path)
    results = results.with_speedups()
    # The whole report without charts; then charts and report of the first workloads.
    (tmp_path / "all").mkdir()
    md_only = write_report(results, tmp_path / "all", {})
    md = (tmp_path / "all" / "report.md").read_text(encoding="utf-8")
    assert md_only and md.startswith("# gilbench report")
    assert "## Findings" in md and "## Machine" in md
    for w in results.workloads():
        assert f"### {w}" in md
    drawn = results.workloads()[:CHARTED]
    few = dataclasses.replace(results, cells=tuple(c for c in results.cells
                                                   if c.workload in drawn))
    written = render(few, tmp_path)
    for suite in results.suites:  # a chart per cost suite that has an ok entry
        if any(e.ok for e in results.entries(suite)):
            assert tmp_path / f"{suite}.png" in written
    for w in drawn:
        if any(c.speedup is not None and c.strategy != "serial" for c in results.cells_of(w)):
            assert (tmp_path / f"speedup-{w}.png").exists()
    text = summary(results, tmp_path)
    if unpaired(results.cells):  # a file from before paired runs: says so, decides nothing
        assert "predates paired measurement" in text and "predates paired measurement" in md
    else:
        assert "Findings (the article's claims, measured here):" not in text
        assert "Findings (the article's claims, measured here):" in summary(
            results, tmp_path, 1)


RUNS = sorted(p.parent for p in REFERENCE.glob("*/interpreters.json"))  # --python runs


def test_there_is_a_free_threading_reference():
    assert any("freethreading" in p.name for p in RUNS)


@pytest.mark.parametrize("folder", RUNS, ids=[p.name for p in RUNS])
def test_a_reference_python_run_compares_with_its_single_thread_cost(folder, tmp_path):
    from gilbench.bench import serialcost
    from gilbench.bench.analysis.comparison import load_runs, pick_baseline
    from gilbench.bench.report.compare import build
    from gilbench.bench.report.document import render_markdown
    from gilbench.bench.runfolder import SERIAL_COST

    record = json.loads((folder / "interpreters.json").read_text())
    labels = [i["label"] for i in record["interpreters"]]
    runs = load_runs([str(folder / label / "results.json") for label in labels], labels)
    serial, left = serialcost.load(folder / SERIAL_COST)
    assert {r.workload for r in serial} and not left
    # The blocks, rendered without their charts (test_compare draws those): fast.
    md = render_markdown(build(runs, pick_baseline(runs, None), {}, serial, left), tmp_path)
    assert md.index("What free-threading changes") < md.index("## Systems")
    assert "single-thread time ÷" in md
