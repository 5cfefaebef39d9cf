"""The cost suites in a report: one module per suite, named after it, with

- ``section(results, chart) -> list[Block]``: its report section;
- ``chart(results, stem) -> list[Path]``: its chart (PNG and SVG);
- ``headline(results) -> str | None``: its line in the terminal summary.

Today: ``startup``, ``ipc``, ``sync``, ``latency``. The modules are found from the
suites' registry (``bench.suites.COST_SUITES``), so
a new suite's report module needs no edit here.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from gilbench.bench.report.document import Block
from gilbench.bench.results import Results
from gilbench.bench.suites import COST_SUITES


def module(name: str) -> ModuleType:
    return importlib.import_module(f"gilbench.bench.report.suites.{name}")


def cost_sections(results: Results, charts: dict[str, list[Path]]) -> list[Block]:
    """The section of every cost suite the run measured, in the order they run."""
    blocks: list[Block] = []
    for name in COST_SUITES:
        if results.entries(name):
            chart = charts.get(f"suite:{name}")
            blocks += module(name).section(results, chart[0] if chart else None)
    return blocks


def write_cost_charts(results: Results, out: Path) -> dict[str, list[Path]]:
    """One chart per cost suite that has an ok entry, keyed ``suite:<name>``."""
    return {f"suite:{name}": module(name).chart(results, out / name) for name in COST_SUITES
            if any(e.ok for e in results.entries(name))}


def headlines(results: Results) -> list[str]:
    """A line per cost suite for the terminal summary."""
    lines = (module(name).headline(results) for name in COST_SUITES)
    return [line for line in lines if line]
