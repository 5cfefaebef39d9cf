"""The layout's rules, checked on the code itself (docs/developing.md, "Imports run one way").

- The data model, the analysis and the report import nothing from execution (strategies,
  runner, session, the suites' measurement modules), not even lazily inside a function.
- The report imports nothing from the CLI; nothing but the CLI's own entry points imports it.
- No import cycle between gilbench's modules.
- Loading a results file and rendering it, in a fresh interpreter, brings no execution
  module (nor ``multiprocessing.pool``) into ``sys.modules``.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bench", "workloads")

# What "execution" means for the import rules.
EXECUTION = ("bench.strategies", "bench.runner", "bench.session", "bench.suites.base",
             "bench.suites.startup", "bench.suites.ipc", "bench.suites.sync",
             "bench.suites.latency", "bench.startprobe", "bench.interpreters", "bench.remote",
             "bench.selfcheck", "bench.cli", "bench.pytest_plugin")
DATA_AND_ANALYSIS = ("bench.results", "bench.suites.entries", "bench.analysis", "bench.fmt",
                     "bench.stats")
RENDERING = ("bench.report",)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """Every gilbench module this one imports, at module level or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            # `from pkg import sub` imports the submodule pkg.sub when there is one.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                       for a in node.names]
        else:
            continue
        out |= {t for t in targets if t in known and t != name}
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(path, name, known) for name, path in mods.items()}


def under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_import_graph_is_read_from_the_code():
    g = graph()
    assert "bench.runner.block" in g["bench.runner.sweep"]  # a plain import is seen
    assert "bench.strategies.base" in g["bench.strategies.processes"]
    assert "bench.analysis" in g["bench.report.sweep"]


@pytest.mark.parametrize("layer, forbidden", [
    (DATA_AND_ANALYSIS, EXECUTION),
    (RENDERING, EXECUTION),
    (RENDERING, ("bench.cli",)),
])
def test_lower_layers_import_nothing_from_higher_ones(layer, forbidden):
    bad = sorted(f"{m} imports {t}" for m, targets in graph().items() if under(m, layer)
                 for t in targets if under(t, forbidden))
    assert not bad, "imports against the layering:\n" + "\n".join(bad)


def test_there_is_no_import_cycle():
    g = graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for t in sorted(g[m]):
            if state.get(t) == 1:
                return [*path[path.index(t):], t]
            if t not in state and (cycle := visit(t)):
                return cycle
        path.pop()
        state[m] = 2
        return None

    for m in sorted(g):
        if m not in state and (cycle := visit(m)):
            pytest.fail("import cycle: " + " -> ".join(cycle))


def test_loading_and_rendering_a_results_file_imports_no_execution_code(tmp_path):
    reference = sorted((ROOT / "reports" / "reference").glob("*.json"))[0]
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from bench.results import load, with_speedups\n"
        "import dataclasses\n"
        "from bench.report import render\n"
        "from bench.report.compare import load_runs\n"
        f"r = load(Path({str(reference)!r}))\n"
        "r = r.with_speedups()\n"
        f"render(r, Path({str(tmp_path)!r}))\n"
        "print(json.dumps(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    bad = [m for m in loaded if under(m, EXECUTION) or m == "multiprocessing.pool"]
    assert not bad, f"rendering a results file imported {bad}"
    assert (tmp_path / "report.html").exists()
