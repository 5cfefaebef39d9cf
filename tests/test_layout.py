"""The layout's rules, checked on the code itself (docs/developing.md, "Imports run one way").

"Execution" is read off the code, not listed by hand: a module of gilbench that imports
(at module level or inside a function; not under ``if TYPE_CHECKING:``) one of the
standard library's ways to start work — processes, threads, sockets, servers, event
loops, executors — is execution, and so is every module that imports an execution module.
Then:

- The data model, the analysis and the report (``bench.results``, ``bench.analysis``,
  ``bench.report`` and everything they import) hold no execution module.
- No import cycle between gilbench's modules.
- In a fresh interpreter, importing them loads none of those standard-library modules,
  asyncio included, and no execution module of gilbench; rendering a results file (which
  brings matplotlib) loads no execution module of gilbench, nor multiprocessing, asyncio
  or concurrent.futures.
"""

from __future__ import annotations

import ast
import functools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bench", "workloads", "gilbench")
OWN_INIT_ONLY = ("gilbench", "gilbench.bench")  # layer-table names that are no prefix

# The standard library's ways to start work: what makes a module "execution".
STARTS_WORK = ("multiprocessing", "subprocess", "socket", "socketserver", "threading",
               "asyncio", "concurrent.futures", "http.server")
# The layers that read results and must not run anything: each root and all it imports.
READERS = ("gilbench.bench.results", "gilbench.bench.analysis", "gilbench.bench.report")


def module_name(path: Path) -> str:
    """The name a file of the repository is imported by: bench/ and workloads/ are the
    packages gilbench.bench and gilbench.workloads (gilbench/ links to them)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    if parts[0] != "gilbench":
        parts.insert(0, "gilbench")
    return ".".join(parts)


@functools.cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")
            if not (ROOT / "gilbench" / p.relative_to(ROOT).parts[1]).is_symlink()
            or pkg != "gilbench"}


def _runtime_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that runs (those under ``if TYPE_CHECKING:`` do not)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for child in node.body for n in ast.walk(child)}
    return [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
            and id(n) not in skipped]


def imported_names(path: Path, name: str) -> set[str]:
    """Every dotted name this module imports (``from a import b``: ``a`` and ``a.b``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
            continue
        base = node.module or ""
        if node.level:
            base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                            + ([base] if base else []))
        out |= {base, *(f"{base}.{a.name}" for a in node.names)}
    return out


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """Every gilbench module this one imports (``from pkg import sub`` imports pkg.sub)."""
    return {t for t in imported_names(path, name) if t in known and t != name}


@functools.cache
def graph() -> dict[str, frozenset[str]]:
    mods = modules()
    known = set(mods)
    return {name: frozenset(imports_of(path, name, known)) for name, path in mods.items()}


def under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@functools.cache
def execution() -> frozenset[str]:
    """gilbench's modules that start work, directly or through another such module."""
    found = {m for m, path in modules().items()
             if any(under(n, STARTS_WORK) for n in imported_names(path, m))}
    g = graph()
    while True:
        more = {m for m, targets in g.items() if m not in found and targets & found}
        if not more:
            return frozenset(found)
        found |= more


def closure(roots: tuple[str, ...]) -> set[str]:
    """The roots (with their submodules) and every gilbench module they import."""
    g = graph()
    todo = [m for m in g if under(m, roots)]
    seen: set[str] = set()
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo += g[m]
    return seen


def test_execution_is_read_from_the_code():
    ex = execution()
    # Modules that start processes, threads and servers are found without a list ...
    for m in ("bench.strategies.processes", "bench.runner.block", "bench.session",
              "bench.interpreters.sweep", "bench.interpreters.serial", "bench.suites.ipc",
              "bench.startprobe", "bench.reaper", "bench.cli", "workloads.io",
              "workloads.mixed", "bench.pytest_plugin"):
        assert f"gilbench.{m}" in ex, m
    # ... and the data floor is not among them.
    for m in ("bench.results", "bench.plan", "bench.serialcost", "bench.runfolder",
              "bench.kinds", "bench.stats", "bench.files", "bench.entries", "_legacy"):
        assert f"gilbench.{m}" not in ex, m


def test_an_import_under_type_checking_does_not_count(tmp_path):
    path = tmp_path / "x.py"
    path.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                    "    import multiprocessing\nimport json\n")
    assert imported_names(path, "x") == {"typing", "typing.TYPE_CHECKING", "json"}


def test_the_readers_import_no_execution():
    readers, g = closure(READERS), graph()
    bad = sorted(readers & execution())
    assert not bad, ("the data model, the analysis or the report reach execution modules: "
                     + ", ".join(f"{m} (imported by {sorted(x for x in readers if m in g[x])})"
                                 for m in bad))


def documented_layers() -> dict[str, int]:
    """The layer table of docs/developing.md (its ```layers block): prefix -> layer."""
    text = (ROOT / "docs" / "developing.md").read_text(encoding="utf-8")
    block = text.split("```layers\n", 1)[1].split("```", 1)[0]
    return {prefix: int(line.split()[0]) for line in block.splitlines() if line.strip()
            for prefix in line.split()[1:]}


def layer_of(module: str, layers: dict[str, int]) -> int | None:
    """The layer of the longest documented prefix of ``module`` (None: not documented).
    ``gilbench`` and ``gilbench.bench`` name the packages' own ``__init__`` only, not
    everything under them."""
    found = [p for p in layers
             if module == p or (p not in OWN_INIT_ONLY and under(module, (p,)))]
    return layers[max(found, key=len)] if found else None


def test_every_module_imports_only_from_its_layer_or_below_as_the_docs_draw_it():
    layers = documented_layers()
    assert len(set(layers.values())) >= 6
    missing = sorted(m for m in modules() if layer_of(m, layers) is None)
    assert not missing, f"modules docs/developing.md's layer table does not place: {missing}"
    up = sorted(f"{m} (layer {layer_of(m, layers)}) imports {t} (layer {layer_of(t, layers)})"
                for m, targets in graph().items() for t in targets
                if (layer_of(t, layers) or 0) > (layer_of(m, layers) or 0))
    assert not up, "imports against the documented layers:\n" + "\n".join(up)
    # And what the table puts below execution is not execution.
    reading = [m for m in modules() if (layer_of(m, layers) or 0) <= 2]
    assert not set(reading) & execution(), sorted(set(reading) & execution())


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


def loaded_by(script: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", script + "\nimport json, sys\n"
                          "print(json.dumps(sorted(sys.modules)))"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


# The package gilbench is every module's parent, so it is loaded with any of them; it
# counts as execution for ``gilbench.measure`` and ``gilbench.workload``, imported inside
# its ``__getattr__`` only when asked for (the modules they load would show here).


def test_importing_the_readers_loads_nothing_that_starts_work():
    loaded = loaded_by("from gilbench.bench import results, analysis, report, serialcost, "
                       "runfolder; from gilbench.bench.report import compare, "
                       "freethreading, export")
    bad = [m for m in loaded if under(m, STARTS_WORK) or m in execution() - {"gilbench"}]
    assert not bad, f"importing the readers loaded {bad}"


def test_loading_and_rendering_a_results_file_imports_no_execution_code(tmp_path):
    reference = sorted((ROOT / "reports" / "reference").glob("*.json"))[0]
    loaded = loaded_by(
        "from pathlib import Path\n"
        "from gilbench.bench.results import load\n"
        "from gilbench.bench.report import render\n"
        "from gilbench.bench.analysis.comparison import load_runs\n"
        "import gilbench.bench.report.compare\n"
        f"r = load(Path({str(reference)!r})).with_speedups()\n"
        f"render(r, Path({str(tmp_path)!r}))\n")
    # matplotlib itself loads threading, subprocess and socket: what must not come is
    # gilbench's execution, and what would start workers or an event loop.
    bad = [m for m in loaded if m in execution() - {"gilbench"}
           or under(m, ("multiprocessing", "asyncio", "concurrent.futures"))]
    assert not bad, f"rendering a results file imported {bad}"
    assert (tmp_path / "report.html").exists()


def layout_entries() -> dict[str, str]:
    """docs/developing.md's layout tree (its first code block): each entry's names (a
    line of its own under bench/) with the words that follow them."""
    tree = (ROOT / "docs" / "developing.md").read_text(encoding="utf-8").split("```\n", 2)[1]
    entries: dict[str, str] = {}
    names = ""
    for line in tree.splitlines():
        if line.startswith("  ") and not line.startswith("   "):
            names = line.strip().split("  ")[0]
            entries[names] = line
        elif line.startswith("      ") and names:
            entries[names] += " " + line.strip()
    return entries


def named(word: str, text: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(word)}\b", text) is not None


def test_the_layout_tree_names_every_module_and_folder():
    entries = layout_entries()
    missing = [p.name for p in (ROOT / "bench").glob("*.py")
               if p.name != "__init__.py" and not any(p.name in e for e in entries.values())]
    for folder in sorted(p.parent for p in (ROOT / "bench").glob("*/__init__.py")):
        text = next((e for k, e in entries.items() if f"{folder.name}/" in k.split()), None)
        if text is None:
            missing.append(f"{folder.name}/")
            continue
        missing += [str(p.relative_to(ROOT)) for p in folder.rglob("*.py")
                    if p.name != "__init__.py" and not named(p.stem, text)]
    assert not missing, f"docs/developing.md's layout tree does not name: {missing}"


def test_every_package_docstring_names_its_modules():
    # bench's own map is the layout tree of docs/developing.md (the test above)
    missing = []
    for init in sorted((ROOT / "bench").glob("*/**/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        parts = [p.stem for p in init.parent.glob("*.py") if p.name != "__init__.py"] + [
            p.parent.name for p in init.parent.glob("*/__init__.py")]
        missing += [f"{init.parent.relative_to(ROOT)}: {m}" for m in parts if not named(m, doc)]
    assert not missing, f"package docstrings that do not name their modules: {missing}"
