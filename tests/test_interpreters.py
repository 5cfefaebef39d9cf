"""--python: the sweep inside other interpreters, on a real Python 3.13 where there is one."""

from __future__ import annotations

import json
import sys

import pytest

from gilbench.bench.interpreters import find_interpreters, merged_machine, run_in
from gilbench.bench.machine import collect_machine
from gilbench.bench.results import load
from gilbench.bench.runner import Plan
from tests.helpers import OTHER_PYTHON, needs_other_python
from tests.helpers import run_gilbench as gilbench


@pytest.mark.parametrize("args, message", [
    (["--python", "/no/such/python"], "--python /no/such/python: cannot run it"),
    (["--python", "/bin/true"], "cannot run gilbench's harness"),
    (["--python", sys.executable, "--suite", "ipc"], "--python runs the speedup suite"),
    (["--python", sys.executable, "--resume", "x"], "--resume takes no --python"),
])
def test_bad_python_options_are_one_line(args, message, cli_env, tmp_path):
    r = gilbench("run", *args, "--out", str(tmp_path / "x"), env=cli_env, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and message in r.stderr, r.stderr


@pytest.mark.slow
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


def test_merged_machine_fills_only_what_the_other_interpreter_could_not_read():
    theirs = {"python_version": "3.13.0", "memory_bytes": None, "physical_cores": None}
    ours = {"python_version": "3.11.7", "memory_bytes": 8, "physical_cores": 2}
    got = merged_machine(theirs, ours)
    assert got == {"python_version": "3.13.0", "memory_bytes": 8, "physical_cores": 2}


def test_a_run_in_another_interpreter_keeps_the_same_run_record_as_any_run(tmp_path):
    # The same Session assembles it: the plan (which the Noise section reads its target
    # from), the noise checks, and the interpreter that ran it. This interpreter serves
    # as the "other" one: run_in starts it as a separate process all the same.
    [interp] = find_interpreters([sys.executable])
    plan = Plan(profile="smoke", workloads=("sleep",), strategies=("serial", "threads"),
                workers=(2,), start_methods=("fork",), repeats=2, warmup=0, tasks=4,
                timeout_s=60, sizes=(("sleep", 2),), target_ci=0.05, max_repeats=4)
    seen = []
    done = run_in(interp, plan, tmp_path, collect_machine(), seen.append)
    assert [c.strategy for c in seen] == ["serial", "threads"] and done.complete
    saved = load(tmp_path / "results.json")
    assert Plan.from_dict(saved.run["plan"]) == plan
    assert saved.run["interpreter"] == sys.executable and saved.run["label"] == interp.label
    assert "noise_checks" in saved.run and "resume_hint" not in saved.run
    assert saved.cells[1].speedup is not None
