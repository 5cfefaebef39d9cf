"""Free-threading measured for real: a free-threaded CPython 3.13 (built by
.ci/build-python), with its GIL off and forced back on, and a worker whose GIL an
extension module turns back on. CI builds the interpreter (or takes it from its cache)
and sets GILBENCH_FT_PYTHON, so these run there; the report texts on made-up records
are tested in test_report."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gilbench.bench.interpreters import find_interpreters, parse_spec, run_in
from gilbench.bench.interpreters.serial import _Server, measure
from gilbench.bench.machine import collect_machine
from gilbench.bench.report import render
from gilbench.bench.report.speedups import GIL_ON_MARK, free_threading, workload_table
from gilbench.bench.results import load
from gilbench.bench.runner import Plan
from gilbench.bench.serialcost import cost
from gilbench.bench.strategies import STRATEGIES
from gilbench.workloads import WORKLOADS
from tests.helpers import FT_PYTHON, needs_ft_python
from tests.helpers import run_gilbench as gilbench

FORCED = "python3.13t-PYTHON_GIL=1"


@pytest.mark.slow
@needs_ft_python
def test_the_same_binary_with_the_gil_off_and_forced_on(cli_env, tmp_path):
    out = tmp_path / "ft"
    r = gilbench("run", "--python", FT_PYTHON, "--python", f"PYTHON_GIL=1 {FT_PYTHON}",
                 "--profile", "smoke", "--workloads", "fib,nbody,sha256,sleep",
                 "--strategies", "serial,threads,thread_pool,process_pool,subinterpreters",
                 "--out", str(out), env=cli_env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    free, forced = load(out / "python3.13t"), load(out / FORCED)
    assert free.machine["free_threaded_build"] and free.machine["gil_enabled"] is False
    assert forced.machine["free_threaded_build"] and forced.machine["gil_enabled"] is True
    assert forced.machine["python_gil_env"] == "1"
    assert forced.run["interpreter_env"] == {"PYTHON_GIL": "1"}
    record = json.loads((out / "interpreters.json").read_text())
    assert [i["env"] for i in record["interpreters"]] == [{}, {"PYTHON_GIL": "1"}]
    for res in (free, forced):
        threads = [c for c in res.cells if c.kind == "cpu" and c.model == "threads"]
        assert threads and all(c.ok and c.speedup is not None for c in threads)
        assert all(c.ok for c in res.cells if c.strategy == "subinterpreters")
    # The GIL, asked in every cell's workers (threads: this process; processes: each one).
    asked = [c for c in free.cells if c.strategy != "serial" and c.ok]
    assert asked and all(c.gil_enabled_in_workers is False for c in asked)
    forced_asked = [c for c in forced.cells if c.strategy != "serial" and c.ok]
    assert forced_asked and all(c.gil_enabled_in_workers is True for c in forced_asked)
    # Words that fit each interpreter.
    free_md = (out / "python3.13t" / "report.md").read_text()
    forced_md = (out / FORCED / "report.md").read_text()
    assert "CPU-bound pure Python (no GIL in this interpreter)" in free_md
    assert "holds the GIL" not in free_md and "code (releases the GIL)" not in free_md
    assert "GIL's signature" not in free_md
    assert "stayed off inside the workers of every cell" in free_md
    assert "CPU-bound pure Python (holds the GIL)" in forced_md
    assert "PYTHON_GIL=1 turns it on at start-up" in forced_md
    assert "extension module" not in forced_md and "What changes" not in forced_md
    # Each workload with the task size the verdict holds for.
    said = " ".join(r.stdout.split())  # the verdict lines wrap to the terminal
    assert re.search(r"\(no GIL in this interpreter\) \(fib tasks of about [\d.]+ [µm]?s, "
                     r"nbody tasks of about [\d.]+ [µm]?s\)", said), r.stdout
    # The comparison leads with what free-threading changes, single-thread cost included.
    compare = (out / "compare.md").read_text()
    assert compare.index("What free-threading changes") < compare.index("Systems")
    assert "single-thread time ÷ python3.13t's" in compare
    serial = json.loads((out / "serial-cost.json").read_text())
    # every kernel's serial runs, interleaved; the single-thread cost takes the cpu ones
    assert [(x["workload"], x["kind"]) for x in serial["runs"]] == [
        ("fib", "cpu"), ("nbody", "cpu"), ("sha256", "native"), ("sleep", "io")]
    assert all(len(t) == serial["rounds"] >= 8 for x in serial["runs"]
               for t in x["times_s"].values())
    assert f"{FORCED}'s single thread takes" in r.stdout


@pytest.mark.slow
@needs_ft_python
def test_every_kernel_and_strategy_runs_on_the_free_threaded_build_or_says_why(cli_env,
                                                                             tmp_path):
    out = tmp_path / "all"
    # Every strategy named (the default sweep leaves Ray out): Ray, which has no wheel for
    # a free-threaded build, must say so in its cells.
    r = gilbench("run", "--python", FT_PYTHON, "--profile", "smoke", "--workers", "2",
                 "--strategies", ",".join(STRATEGIES), "--out", str(out), env=cli_env,
                 cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    res = load(out / "python3.13t")
    ray = [c.error or "" for c in res.cells if c.strategy == "ray"]
    assert ray and all("Ray publishes no wheel for free-threaded builds" in e
                       or "needs numpy" in e for e in ray), ray  # (numpy_matmul's own need)
    assert set(res.workloads()) == set(WORKLOADS)
    assert {c.strategy for c in res.cells} == set(STRATEGIES)
    for c in res.cells:
        assert c.status in ("ok", "skipped"), (c.workload, c.label, c.error)
        if c.status == "skipped":
            assert c.error and ("not applicable" in c.error or "needs" in c.error), c.error
        elif c.strategy != "serial":
            assert c.gil_enabled_in_workers is not None, (c.workload, c.label)
    ran = {c.strategy for c in res.cells if c.ok}
    assert {"threads", "thread_pool", "process_pool", "pool_map", "subinterpreters"} <= ran


GILLY_C = """
#include <Python.h>
/* Single-phase init, no Py_mod_gil slot: not declared free-threading safe. */
static PyModuleDef def = {PyModuleDef_HEAD_INIT, "gilly", NULL, -1, NULL};
PyMODINIT_FUNC PyInit_gilly(void) { return PyModule_Create(&def); }
"""

# Until kernels can come from the user's own file, a sitecustomize on the interpreter's
# PYTHONPATH is how a kernel of ours reaches every process of the run (the harness, and
# each worker, whatever its start method).
SITECUSTOMIZE = '''
import multiprocessing
from gilbench import workload

@workload(kind="cpu", releases_gil=False, size_unit="n",
          sizes={"smoke": 20000, "quick": 20000, "standard": 20000, "full": 20000})
def imports_gilly(size, seed):
    """Imports an extension without free-threading support, in worker processes only."""
    if multiprocessing.parent_process() is not None:
        import gilly  # noqa: F401
    return sum(i * i for i in range(size)) + seed
'''


def build_gilly(python: str, folder) -> None:
    ask = ("import sysconfig; print(sysconfig.get_path('include')); "
           "print(sysconfig.get_config_var('EXT_SUFFIX'))")
    include, suffix = subprocess.run([python, "-c", ask], capture_output=True, text=True,
                                     check=True).stdout.split()
    (folder / "gilly.c").write_text(GILLY_C)
    subprocess.run(["cc", "-shared", "-fPIC", f"-I{include}", str(folder / "gilly.c"), "-o",
                    str(folder / f"gilly{suffix}")], check=True, capture_output=True)


@pytest.mark.slow
@needs_ft_python
def test_an_extension_that_turns_the_gil_back_on_in_workers_is_reported_per_cell(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    build_gilly(FT_PYTHON, site)
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    [interp] = find_interpreters([f"PYTHONPATH={site} {FT_PYTHON}"])
    assert interp.info["gil_enabled"] is False  # the harness itself never imports it
    plan = Plan(profile="smoke", workloads=("imports_gilly",),
                strategies=("serial", "threads", "process_pool"), workers=(1, 2),
                start_methods=("fork", "spawn"), repeats=2, warmup=0, tasks=4, timeout_s=120,
                sizes=(("imports_gilly", 20000),))
    results = run_in(interp, plan, tmp_path / "out", collect_machine(), lambda c: None)
    assert all(c.ok for c in results.cells), [c.error for c in results.cells]
    by = {label: [c.gil_enabled_in_workers for c in results.cells if c.label == label]
          for label in {c.label for c in results.cells}}
    assert by["threads"] == [False, False]
    assert by["process_pool[fork]"] == [True, True] == by["process_pool[spawn]"]
    text = free_threading(results)
    assert "on** inside the workers of 4 of 6 cells" in text
    assert "extension module without free-threading support" in text
    table = workload_table(results, "imports_gilly")
    marked = {row[0] for row in table.rows if any(GIL_ON_MARK in x for x in row[1:])}
    assert marked == {"process_pool[fork]", "process_pool[spawn]"}
    render(results, tmp_path / "out")
    assert GIL_ON_MARK in (tmp_path / "out" / "report.md").read_text()


def test_an_interpreter_spec_is_settings_then_a_path():
    assert parse_spec("/usr/bin/python3") == ("/usr/bin/python3", {})
    assert parse_spec("PYTHON_GIL=1 /opt/py/bin/python3.13t") == (
        "/opt/py/bin/python3.13t", {"PYTHON_GIL": "1"})
    assert parse_spec("A=1 B='x y' '/with space/python'") == (
        "/with space/python", {"A": "1", "B": "x y"})


@pytest.mark.parametrize("spec, message", [
    ("PYTHON_GIL=1", "no interpreter path after the settings"),
    ("1BAD=x /usr/bin/python3", "'1BAD' is not an environment variable name"),
    ("PYTHON_GIL=1 'unclosed", "No closing quotation"),
    ("/usr/bin/python3 /usr/bin/python3", "give one interpreter path"),
    ("FOO=1 /no/such/python", "cannot run it"),
])
def test_a_bad_interpreter_spec_is_one_line(spec, message, cli_env, tmp_path):
    r = gilbench("run", "--python", spec, "--out", str(tmp_path / "x"), env=cli_env,
                 cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and message in r.stderr, r.stderr


def test_the_interpreters_serial_runs_interleave_into_a_paired_ratio():
    """Two real interpreters (this one, and this one with an extra variable) serve serial
    runs in turn; each gets one time per round, and the ratio has its interval."""
    found = find_interpreters([sys.executable, f"GILBENCH_TWIN=1 {sys.executable}"])
    assert [i.env for i in found] == [{}, {"GILBENCH_TWIN": "1"}]
    assert found[1].label.endswith("-GILBENCH_TWIN=1")
    plan = Plan(profile="smoke", workloads=("fib", "sleep"), strategies=("serial",),
                workers=(1,), start_methods=("fork",), repeats=2, warmup=0, tasks=2,
                timeout_s=60, sizes=(("fib", 12), ("sleep", 1)))
    runs, left = measure(found, plan, rounds=6)
    # Every kernel, its kind recorded: the single-thread cost takes the pure-Python ones,
    # the matrix's time per task all of them.
    assert left == [] and [(r.workload, r.kind) for r in runs] == [("fib", "cpu"),
                                                                   ("sleep", "io")]
    assert all(len(t) == 6 for r in runs for t in r.times_s.values())
    c = cost(runs, found[1].label, found[0].label)
    assert c is not None and c.low is not None and c.low <= c.point <= c.high
    assert c.rounds == 6 and c.workloads == ("fib",)


def test_a_serial_run_that_fails_in_one_interpreter_says_why():
    [interp] = find_interpreters([sys.executable])
    server = _Server(interp, 60)
    try:
        assert server.run("no_such_kernel", 1, 1) == "KeyError: 'no_such_kernel'"
        assert isinstance(server.run("fib", 10, 1), float)  # and it goes on serving
    finally:
        server.close()
    assert server.proc.returncode == 0



def test_compare_of_a_python_runs_files_keeps_its_labels_and_single_thread_cost(cli_env,
                                                                              tmp_path):
    folder = (Path(__file__).resolve().parent.parent / "reports" / "reference"
              / "xeon-16cpu-freethreading-quick-2026-11-27")
    files = [str(folder / label / "results.json")
             for label in ("python3.13t", "python3.13", FORCED)]
    r = gilbench("compare", *files, "--out", str(tmp_path / "c"), env=cli_env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    md = (tmp_path / "c" / "compare.md").read_text(encoding="utf-8")
    assert "| build | free-threaded | with the GIL | free-threaded |" in md
    # (its interval: the order statistics interpolated at 95%, [1.24–2.65] before)
    assert "single-thread time ÷ python3.13's (interleaved serial runs) | 2.00× [1.55–2.34]" in md
    assert f"|  | python3.13t | python3.13 | {FORCED} |" in md  # the interpreters' labels


def test_one_usable_cpu_is_said_to_show_nothing_of_free_threading():
    import dataclasses

    from gilbench.bench.analysis.comparison import load_runs
    from gilbench.bench.report.freethreading import sentences

    folder = (Path(__file__).resolve().parent.parent / "reports" / "reference"
              / "xeon-16cpu-freethreading-quick-2026-11-27")
    runs = load_runs([str(folder / label / "results.json") for label in
                      ("python3.13t", "python3.13")], ["python3.13t", "python3.13"])
    assert not any("one usable CPU" in s for s in sentences(runs, ()))
    pinned = [dataclasses.replace(r, results=dataclasses.replace(
        r.results, machine={**r.results.machine, "usable_cpus": 1})) for r in runs]
    said = sentences(pinned, ())
    assert "python3.13t, python3.13 had one usable CPU" in said[0]
