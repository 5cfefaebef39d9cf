"""The newer answers — subinterpreters, asyncio, loky, Dask — and running the sweep in
other interpreters (``--python``), on the real things: a real LocalCluster, a real
external Dask scheduler, a real Python 3.13 with its own-GIL subinterpreters."""

from __future__ import annotations

import glob
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.interpreters import merged_machine
from bench.report.sweep import free_threading
from bench.results import Results
from bench.runner import CellSpec, measure
from bench.strategies.coroutines import Asyncio
from bench.strategies.subinterpreters import Subinterpreters, interpreters_api
from tests.helpers import assert_no_new_children, cell, children
from workloads import WORKLOADS, Task


def gilbench(*args: str, env: dict[str, str], cwd: Path, timeout: float = 300):
    return subprocess.run([sys.executable, "-m", "bench", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def python_with_subinterpreters() -> str | None:
    """A working Python 3.13+ on this machine (pyenv's, or one on PATH), for --python."""
    candidates = sorted(glob.glob(str(Path.home() / ".pyenv/versions/3.1[34]*/bin/python")))
    candidates += [c for c in (shutil.which(f"python3.{m}") for m in (14, 13)) if c]
    for c in candidates:
        ok = subprocess.run([c, "-c", "import _interpreters"], capture_output=True, timeout=60)
        if ok.returncode == 0:
            return c
    return None


OTHER_PYTHON = python_with_subinterpreters()
needs_other_python = pytest.mark.skipif(OTHER_PYTHON is None,
                                        reason="no Python 3.13+ interpreter on this machine")


def test_list_says_which_strategies_run_here_and_why_not(cli_env, tmp_path):
    r = gilbench("list", "--json", env=cli_env, cwd=tmp_path)
    strategies = {s["name"]: s for s in json.loads(r.stdout)["strategies"]}
    assert {"subinterpreters", "asyncio", "loky", "dask"} <= set(strategies)
    sub = strategies["subinterpreters"]
    assert sub["available"] is (interpreters_api() is not None)
    if not sub["available"]:
        assert "needs Python 3.13+" in sub["unavailable_reason"]
    assert strategies["loky"]["available"] and strategies["dask"]["available"]


def test_asyncio_overlaps_waits_and_refuses_cpu_work():
    w = WORKLOADS["sleep"]
    task = Task("sleep", w.sizes["smoke"])
    cell_, out = measure(CellSpec("sleep", "asyncio", None, 4, task.size, 8), task,
                         [task(i) for i in range(8)], repeats=1, warmup=0, timeout_s=30)
    assert cell_.status == "ok" and out == list(range(8))
    assert cell_.model == "async" and cell_.start_method is None
    assert "not applicable" in Asyncio.applies_to(Task("fib", 1))
    slow = Task("sleep", 3000)  # 3 s per task against a 0.5 s limit
    cell_, _ = measure(CellSpec("sleep", "asyncio", None, 2, 3000, 2), slow, None, repeats=1,
                       warmup=0, timeout_s=0.5)
    assert cell_.status == "timeout"


def test_subinterpreters_refuse_numpy():
    assert "numpy cannot be imported" in Subinterpreters.applies_to(Task("numpy_matmul", 1))
    assert Subinterpreters.applies_to(Task("fib", 1)) is None


def test_dask_against_an_existing_scheduler(cli_env, tmp_path):
    from distributed import LocalCluster

    before = children()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        out = tmp_path / "run"
        r = gilbench("run", "--suite", "speedup", "--profile", "smoke", "--workloads", "sleep",
                     "--strategies", "dask", "--dask-scheduler", cluster.scheduler_address,
                     "--out", str(out), env=cli_env, cwd=tmp_path)
        assert r.returncode == 0, r.stderr[-2000:]
    data = json.loads((out / "results.json").read_text())
    assert data["machine"]["dask_cluster"]["workers"] == 2
    assert data["machine"]["dask_cluster"]["address"] == cluster.scheduler_address
    assert all(c["status"] == "ok" for c in data["cells"])
    assert_no_new_children(before)


def test_an_unreachable_dask_scheduler_is_one_line(cli_env, tmp_path):
    r = gilbench("run", "--suite", "speedup", "--strategies", "dask", "--dask-scheduler",
                 "tcp://127.0.0.1:9", "--out", str(tmp_path / "x"), env=cli_env, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "cannot reach a Dask scheduler" in r.stderr


@pytest.mark.parametrize("args, message", [
    (["--python", "/no/such/python"], "--python /no/such/python: cannot run it"),
    (["--python", "/bin/true"], "cannot run gilbench's harness"),
    (["--python", sys.executable, "--suite", "ipc"], "--python runs the speedup suite"),
    (["--python", sys.executable, "--resume", "x"], "--resume cannot be combined"),
])
def test_bad_python_options_are_one_line(args, message, cli_env, tmp_path):
    r = gilbench("run", *args, "--out", str(tmp_path / "x"), env=cli_env, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and message in r.stderr, r.stderr


@needs_other_python
def test_the_sweep_in_two_interpreters_with_subinterpreters(cli_env, tmp_path):
    out = tmp_path / "multi"
    r = gilbench("run", "--python", sys.executable, "--python", OTHER_PYTHON, "--profile",
                 "smoke", "--workloads", "fib,numpy_matmul", "--strategies",
                 "serial,threads,subinterpreters,process_pool", "--out", str(out),
                 env=cli_env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    labels = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert len(labels) == 2 and all(label.startswith("python3.") for label in labels)
    other = json.loads((out / labels[-1] / "results.json").read_text())
    assert other["machine"]["python_executable"] != sys.executable
    assert other["run"]["complete"] is True
    sub = [c for c in other["cells"] if c["strategy"] == "subinterpreters"
           and c["workload"] == "fib"]
    assert sub and all(c["status"] == "ok" and c["speedup"] for c in sub), sub
    matmul = [c for c in other["cells"] if c["workload"] == "numpy_matmul"]
    assert all(c["status"] == "skipped" and "numpy" in c["error"] for c in matmul)
    for name in ("compare.md", "compare.html", f"{labels[0]}/report.html",
                 f"{labels[1]}/speedup-fib.png"):
        assert (out / name).stat().st_size > 0, name
    assert all(label in (out / "compare.md").read_text() for label in labels)


def test_free_threading_section_says_what_changed():
    cells = [cell("fib", "cpu", "serial", 1, 1.0), cell("fib", "cpu", "threads", 2, 0.55),
             cell("fib", "cpu", "pool_map", 2, 0.52)]
    from bench.results import with_speedups

    free = Results(machine={"free_threaded_build": True, "gil_enabled": False,
                            "python_gil_env": "0"}, cells=tuple(with_speedups(cells)))
    text = free_threading(free)
    assert "free-threaded build" in text and "PYTHON_GIL=0" in text
    assert "1.82×" in text  # threads' best speedup on CPU work: 1 / 0.55
    assert free_threading(Results(machine={"gil_enabled": True}, cells=())) is None
    import dataclasses

    reenabled = Results(machine=free.machine, cells=tuple(
        dataclasses.replace(c, gil_enabled_in_workers=True) for c in free.cells))
    assert "turns it back on" in free_threading(reenabled)


def test_merged_machine_fills_only_what_the_other_interpreter_could_not_read():
    theirs = {"python_version": "3.13.0", "memory_bytes": None, "physical_cores": None}
    ours = {"python_version": "3.11.7", "memory_bytes": 8, "physical_cores": 2}
    got = merged_machine(theirs, ours)
    assert got == {"python_version": "3.13.0", "memory_bytes": 8, "physical_cores": 2}
