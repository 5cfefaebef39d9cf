"""The gilbench command as a user runs it: a subprocess, real files, real signals."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from gilbench.bench.cli import main, make_parser
from gilbench.bench.strategies import STRATEGIES
from gilbench.bench.suites import COST_SUITES
from gilbench.workloads import KINDS, WORKLOADS
from tests.helpers import start_interruptible, temp_leftovers

CORE_STRATEGIES = ("threads", "thread_pool", "process_queue", "process_pipe", "pool_map",
                   "pool_imap", "pool_apply_async", "process_pool")
DESIGN_CELL_FIELDS = {"workload", "kind", "size", "tasks", "strategy", "start_method", "workers",
                      "status", "error", "times_s", "median_s", "startup_s", "cpu_s",
                      "speedup", "speedup_ci95", "efficiency"}


def gilbench(*args: str, env: dict[str, str], cwd: Path, timeout: float = 240):
    """Run the command; if it hangs, make it dump every thread's stack and fail with that."""
    proc = subprocess.Popen([sys.executable, "-X", "faulthandler", "-m", "gilbench", *args],
                            env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)  # faulthandler prints where each thread is
        out, err = proc.communicate()
        pytest.fail(f"gilbench {' '.join(args)} hung for {timeout:g} s; its stacks:\n"
                    f"{err[-6000:]}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_list_json(cli_env, tmp_path):
    r = gilbench("list", "--json", env=cli_env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert [w["name"] for w in data["workloads"]] == list(WORKLOADS)
    assert all({"name", "kind", "releases_gil", "description"} <= set(w)
               for w in data["workloads"])
    # Every strategy runs here, or says why not (subinterpreters before Python 3.13,
    # interpreter_pool before 3.14), and says where it runs.
    assert all(s["available"] or s["unavailable_reason"] for s in data["strategies"])
    assert all(s["available"] for s in data["strategies"]
               if s["name"] not in ("subinterpreters", "interpreter_pool"))
    runs_on = {s["name"]: s["runs_on"] for s in data["strategies"]}
    assert "3.14+" in runs_on["interpreter_pool"] and "3.13" in runs_on["subinterpreters"]
    assert [s["name"] for s in data["suites"]] == ["speedup", "granularity", *COST_SUITES]


def test_info_json(cli_env, tmp_path):
    r = gilbench("info", "--json", env=cli_env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["usable_cpus"] >= 1 and "gil_enabled" in info



# A kernel of each kind: every kernel under every strategy is test_strategies' job (in
# this process, one run each); this is the command's, with every strategy and suite.
ONE_OF_EACH_KIND = ("fib", "zlib", "file_rw", "http_json")


def failed_in(out) -> str:
    """What failed in a run's results.json, cell by cell and measurement by measurement
    (a failure message names them, whatever the terminal summary had room for)."""
    try:
        data = json.loads((out / "results.json").read_text())
    except (OSError, ValueError):
        return ""
    bad = [f"{c['workload']} {c['strategy']} {c['workers']}: {c['status']}: {c.get('error')}"
           for c in data["cells"] if c["status"] in ("error", "timeout")]
    bad += [f"{suite}: {e.get('status')}: {e}" for suite in ("startup", "ipc", "sync", "latency")
            for e in data.get(suite) or () if e.get("status") in ("error", "timeout")]
    return "failed: " + "; ".join(bad) if bad else ""


@pytest.mark.slow
def test_smoke_run_of_every_kind_strategy_and_suite_writes_every_file(cli_env, tmp_path,
                                                                     private_tmp):
    assert {WORKLOADS[w].kind for w in ONE_OF_EACH_KIND} == set(KINDS)
    out = tmp_path / "run"
    temp = private_tmp
    r = gilbench("run", "--profile", "smoke", "--workloads", ",".join(ONE_OF_EACH_KIND),
                 "--out", str(out), env={**cli_env, "TMPDIR": str(temp)}, cwd=tmp_path)
    assert r.returncode == 0, failed_in(out) or r.stdout[-3000:] + r.stderr[-1000:]
    assert not temp_leftovers(temp), "file_rw's temporary folder was left behind"
    assert not list(out.glob(".*.tmp")), "a temporary results file was left behind"
    assert "cells ok" in r.stdout and "verdict" in r.stdout  # the summary table
    data = json.loads((out / "results.json").read_text())
    assert data["run"]["complete"] is True
    cells = data["cells"]
    assert {c["workload"] for c in cells} == set(ONE_OF_EACH_KIND)
    # Every strategy but Ray, which the default sweep runs only when named.
    assert {c["strategy"] for c in cells} == set(STRATEGIES) - {"ray"}
    # ok, or skipped with the reason (asyncio on CPU work; subinterpreters before 3.13,
    # interpreter_pool before 3.14).
    assert all(c["status"] == "ok" or (c["status"] == "skipped" and c["error"]) for c in cells), [
        c for c in cells if c["status"] != "ok"]
    assert all(c["status"] == "ok" for c in cells
               if c["strategy"] not in ("asyncio", "subinterpreters", "interpreter_pool"))
    assert all(set(c) >= DESIGN_CELL_FIELDS for c in cells)
    assert all(c["speedup"] == 1.0 for c in cells if c["strategy"] == "serial")
    for name in ("report.md", "report.html", "overview.png", "overview.svg",
                 *(f"speedup-{w}.{ext}" for w in ONE_OF_EACH_KIND for ext in ("png", "svg")),
                 *(f"{s}.{ext}" for s in COST_SUITES for ext in ("png", "svg"))):
        assert (out / name).stat().st_size > 0, name
    # Every cost suite under its own key, every entry ok (or, for subinterpreters and their
    # pool on an older Python, skipped with the version they need); each section reported.
    for suite in COST_SUITES:
        assert data[suite] and all(e["status"] == "ok" or (
            e["status"] == "skipped" and e["model"] == "interpreters"
            and "needs Python 3.1" in e["error"]) for e in data[suite]), data[suite]
    assert data["run"]["suites_done"] == list(COST_SUITES)
    report = (out / "report.md").read_text()
    for heading in ("## Findings", "## Start-up", "## IPC", "## Synchronisation",
                    "## GIL latency"):
        assert heading in report
    # the claims are a one-line tally at the end of a run (in full: the report, or -v)
    assert "\nFindings: " in r.stdout and "of the article's 13 claims measured here" in r.stdout
    assert "    rule:" not in r.stdout and "cost measurements ok" in r.stdout
    # Re-render elsewhere from the results file alone.
    again = tmp_path / "again"
    r = gilbench("report", str(out / "results.json"), "--out", str(again), env=cli_env,
                 cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (again / "report.html").exists() and (again / "speedup-fib.png").exists()
    # An existing run is never silently overwritten.
    r = gilbench("run", "--profile", "smoke", "--out", str(out), env=cli_env, cwd=tmp_path)
    assert r.returncode == 2 and "--resume" in r.stderr


@pytest.mark.slow
def test_a_run_without_workloads_runs_every_kernel(cli_env, tmp_path):
    out = tmp_path / "all"
    r = gilbench("run", "--profile", "smoke", "--suite", "speedup", "--strategies", "threads",
                 "--workers", "2", "--out", str(out), env=cli_env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    cells = json.loads((out / "results.json").read_text())["cells"]
    assert [c["workload"] for c in cells if c["strategy"] == "serial"] == list(WORKLOADS)
    assert all(c["status"] == "ok" for c in cells)


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


BAD_INPUTS = {
    "unknown workload": (["run", "--workloads", "fib,nope"], "unknown workload 'nope'; valid: fib"),
    "unknown strategy": (["run", "--strategies", "warp"], "unknown strategy 'warp'; valid:"),
    # interpreter_pool needs 3.14+ (the tests' interpreter is older: see the skip below)
    "no asked-for strategy runs here": (
        ["run", "--strategies", "interpreter_pool"], "--strategies: none of interpreter_pool "
        "can run on this interpreter (interpreter_pool: needs Python 3.14+"),
    "zero workers": (["run", "--workers", "0"], "--workers: 0 is out of range"),
    "negative workers": (["run", "--workers", "2,-1"], "--workers: -1 is out of range"),
    "workers not a number": (["run", "--workers", "two"], "'two' is not a whole number"),
    "repeats zero": (["run", "--repeats", "0"], "--repeats: 0 is out of range"),
    "timeout not a number": (["run", "--timeout", "soon"], "--timeout: 'soon' is not a number"),
    "timeout zero": (["run", "--timeout", "0"], "must be a positive number"),
    "unknown profile": (["run", "--profile", "huge"],
                        "--profile: unknown profile 'huge'; valid: quick, standard, full"),
    "mistyped profile": (["run", "--profile", "standrad"], "(did you mean 'standard'?)"),
    "mistyped workload": (["run", "--workloads", "nbdoy"],
                          "unknown workload 'nbdoy' (did you mean 'nbody'?); valid: fib,"),
    "mistyped strategy": (["run", "--strategies", "proces_pool"],
                          "unknown strategy 'proces_pool' (did you mean 'process_pool'?)"),
    "unknown start method": (["run", "--start-method", "teleport"],
                             "unknown start method 'teleport'; valid: fork"),
    "unknown subcommand": (["frobnicate"], "argument COMMAND: unknown choice 'frobnicate'; "
                           "valid: list, info, run, timeit, selfcheck, report, compare, export"),
    "mistyped subcommand": (["comapre"], "unknown choice 'comapre' (did you mean 'compare'?)"),
    "unknown suite": (["run", "--suite", "ipc,gpu"],
                      "unknown suite 'gpu'; valid: speedup, granularity, startup, ipc, sync, "
                      "latency, all"),
    "empty suite list": (["run", "--suite", ","], "--suite: empty list; valid: speedup"),
    "empty suite": (["run", "--suite", ""], "--suite: empty list; valid: speedup"),
    # An empty value is refused, never read as "not given" (the whole default sweep).
    "empty workloads": (["run", "--workloads", ""], "--workloads: empty list; valid: fib"),
    "empty strategies": (["run", "--strategies", ""], "--strategies: empty list; valid:"),
    "empty workers": (["run", "--workers", ""], "--workers: empty list"),
    "empty start method": (["run", "--start-method", ""], "--start-method: empty list"),
    "empty timeout": (["run", "--timeout", ""], "--timeout: '' is not a number"),
    # No option is abbreviated: a typo is not read as the option it starts.
    "quiet and verbose": (["run", "-q", "-v"], "argument -v/--verbose: not allowed with "
                          "argument -q/--quiet"),
    "abbreviated option": (["run", "--profil", "quick"],
                           "unrecognized arguments: --profil quick (did you mean '--profile'?)"),
    "abbreviated option of compare": (["compare", "a.json", "b.json", "--fail-if", "5"],
                                      "unrecognized arguments: --fail-if 5"),
    "mistyped option": (["run", "--worker", "2"],
                        "unrecognized arguments: --worker 2 (did you mean '--workers'?)"),
    "unknown option": (["run", "--zzz"], "unrecognized arguments: --zzz"),
    "missing results file": (["report", "{tmp}/none.json"], "no such file"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_line_and_exit_2(case, capsys, monkeypatch, tmp_path):
    # In this process (main() is the command; the real program's exit is tested below).
    args, message = BAD_INPUTS[case]
    if case == "no asked-for strategy runs here" and sys.version_info >= (3, 14):
        pytest.skip("interpreter_pool runs on this interpreter")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    monkeypatch.chdir(tmp_path)
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's own errors end the parser this way
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("gilbench: error: ")
    assert message in lines[0]
    assert not (tmp_path / "reports").exists()  # nothing was run


def test_bad_input_ends_the_program_with_one_line_and_exit_2(cli_env, tmp_path):
    # The program as a user runs it: the same line on stderr, exit 2, no traceback.
    r = gilbench("run", "--workloads", "fib,nope", env=cli_env, cwd=tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.strip().splitlines() == [
        "gilbench: error: unknown workload 'nope'; valid: "
        + ", ".join(WORKLOADS)]
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize("content, message", [
    ("", "is empty"),
    ('{"schema_version": 1, "cel', "is not valid JSON"),
    ('{"schema_version": 2, "cells": []}', "schema_version 2"),
    ('["not", "results"]', "expected a JSON object"),
])
def test_bad_results_files_for_report(content, message, capsys, tmp_path):
    path = write(tmp_path / "results.json", content)
    assert main(["report", path]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert message in err and len(err.strip().splitlines()) == 1


def test_unwritable_output_folder(cli_env, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    r = gilbench("run", "--profile", "smoke", "--workloads", "fib", "--out",
                 str(blocker / "sub"), env=cli_env, cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "cannot write to output folder" in r.stderr


def descendants(pid: int) -> set[int]:
    try:
        return {p.pid for p in psutil.Process(pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        return set()


@pytest.mark.slow
def test_ctrl_c_saves_partial_results_leaves_nothing_and_resume_finishes(cli_env, tmp_path):
    out = tmp_path / "run"
    args = [sys.executable, "-m", "gilbench", "run", "--profile", "quick", "--suite", "speedup",
            "--workloads", "fib,socket_echo,sleep", "--strategies", ",".join(CORE_STRATEGIES),
            "--repeats", "2", "--out", str(out)]
    # Its own session, like a terminal's foreground group: SIGINT goes to all of it.
    proc = start_interruptible(args, env=cli_env, cwd=tmp_path)
    results = out / "results.json"
    seen: set[int] = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        seen |= descendants(proc.pid)
        if results.exists() and len(json.loads(results.read_text())["cells"]) >= 30:
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("the run never got going")
    seen |= descendants(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)
    started = time.monotonic()
    _, err = proc.communicate(timeout=30)
    # A hang guard, not a timing (it takes about a second): Ctrl-C must stop the run.
    assert time.monotonic() - started < 30, "Ctrl-C must stop the run within seconds"
    assert proc.returncode == 130, err
    assert f"gilbench run --resume {out}" in err and "Traceback" not in err
    data = json.loads(results.read_text())
    assert data["run"]["complete"] is False
    finished = len(data["cells"])
    assert finished >= 30
    time.sleep(0.5)
    alive = [p for p in seen if psutil.pid_exists(p)
             and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"processes left behind after Ctrl-C: {alive}"
    # Resume finishes the run without redoing the finished cells.
    r = subprocess.run([sys.executable, "-m", "gilbench", "run", "--resume", str(out)],
                       env=cli_env, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-2000:]
    data = json.loads(results.read_text())
    assert data["run"]["complete"] is True
    assert len(data["cells"]) == 3 * (1 + 8 * 3)
    assert f"{3 * 25 - finished} cells" in r.stderr


STUCK_SCRIPT = """
import sys
from gilbench.bench.cli import leave
from gilbench.bench.runner import CellSpec, measure
from tests import kernels
cell, _ = measure(CellSpec("fib", "thread_pool", None, 2, 1, 4), kernels.hangs_forever, None,
                  repeats=1, warmup=0, timeout_s=0.5)
print(cell.status, flush=True)
sys.exit(leave(1))
"""


def test_a_thread_stuck_in_a_hung_task_does_not_hang_the_exit(cli_env, repo_root):
    r = subprocess.run([sys.executable, "-c", STUCK_SCRIPT], env=cli_env, cwd=repo_root,
                       capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "timeout"
    assert r.returncode == 1
    assert "stuck in a task that timed out" in r.stderr


@pytest.mark.slow
def test_a_worker_killed_from_outside_mid_run_fails_only_its_cell(cli_env, tmp_path):
    out = tmp_path / "run"
    args = [sys.executable, "-m", "gilbench", "run", "--profile", "quick", "--suite", "speedup",
            "--workloads", "sleep", "--strategies", "pool_map,process_pool", "--workers", "2",
            "--repeats", "60", "--out", str(out)]
    proc = start_interruptible(args, env=cli_env, cwd=tmp_path)
    results = out / "results.json"
    deadline = time.monotonic() + 60
    victim = None
    while victim is None and time.monotonic() < deadline:
        # Once the serial cell is saved, the next children are pool_map's workers.
        if results.exists() and len(json.loads(results.read_text())["cells"]) == 1:
            # Pool workers are forked: they share gilbench's command line (a helper such
            # as multiprocessing's resource tracker does not).
            with contextlib.suppress(psutil.Error):
                cmd = psutil.Process(proc.pid).cmdline()
                kids = {k for k in descendants(proc.pid) if psutil.Process(k).cmdline() == cmd}
                if len(kids) >= 2:
                    victim = min(kids)
        time.sleep(0.02)
    assert victim is not None, "never saw the pool's workers"
    time.sleep(0.3)  # mid-run: the cell's timed repeats are under way
    os.kill(victim, signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    cells = {c["strategy"]: c for c in json.loads(results.read_text())["cells"]}
    assert cells["pool_map"]["status"] == "error"
    assert f"worker process {victim} was killed by SIGKILL" in cells["pool_map"]["error"]
    assert cells["process_pool"]["status"] == "ok"  # the sweep went on
    assert cells["serial"]["status"] == "ok"


@pytest.mark.slow
def test_ctrl_c_in_a_cost_suite_saves_what_finished_and_resume_redoes_it(cli_env, tmp_path):
    out = tmp_path / "run"
    args = [sys.executable, "-m", "gilbench", "run", "--profile", "quick", "--suite",
            "speedup,sync,latency", "--workloads", "sleep", "--strategies", "threads",
            "--workers", "2", "--out", str(out)]
    proc = start_interruptible(args, env=cli_env, cwd=tmp_path)
    results = out / "results.json"
    seen: set[int] = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        seen |= descendants(proc.pid)
        if results.exists() and len(json.loads(results.read_text()).get("latency", [])) >= 2:
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("the latency suite never got going")
    seen |= descendants(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    data = json.loads(results.read_text())
    assert data["run"]["complete"] is False
    assert data["run"]["suites_done"] == ["sync"]
    assert len(data["cells"]) == 2 and data["sync"]
    time.sleep(0.5)
    alive = [p for p in seen if psutil.pid_exists(p)
             and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"processes left behind after Ctrl-C: {alive}"
    sync_before = data["sync"]
    r = subprocess.run([sys.executable, "-m", "gilbench", "run", "--resume", str(out)],
                       env=cli_env, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-2000:]
    told = " ".join(r.stderr.split())  # the first line is wrapped to the terminal
    assert "0 cells" in told and "cost suites latency" in told
    data = json.loads(results.read_text())
    assert data["run"]["complete"] is True
    assert data["run"]["suites_done"] == ["sync", "latency"]
    assert data["sync"] == sync_before  # finished suites are kept, not re-measured
    configs = {(e["model"], e["cpu_workers"], e["switch_interval_s"]) for e in data["latency"]}
    assert len(configs) == len(data["latency"]), "an interrupted suite is re-run whole, once"


@pytest.mark.parametrize("sizes, message", [
    ("", "empty list"), ("x", "not a number"), ("0", "out of range"), ("1/0", "not a number"),
    ("1000", "out of range"),
])
def test_bad_sizes_are_one_line(capsys, tmp_path, sizes, message):
    assert main(["run", "--sizes", sizes, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


@pytest.mark.parametrize("args, message", [
    (["--target-ci", "0"], "out of range"), (["--target-ci", "abc"], "not a percentage"),
    (["--target-ci", "3", "--repeats", "5"], "give one of them"),
])
def test_bad_precision_options_are_one_line(capsys, tmp_path, args, message):
    assert main(["run", *args, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


@pytest.mark.parametrize("command", ["list", "info"])
def test_list_and_info_fit_the_width(command, capsys, monkeypatch):
    # 100 columns where no terminal says otherwise; every entry kept, wrapped under itself
    monkeypatch.setenv("COLUMNS", "100")
    assert main([command]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines and max(map(len, lines)) <= 100, max(lines, key=len)
    monkeypatch.setenv("COLUMNS", "70")
    assert main([command]) == 0
    narrow = capsys.readouterr().out.splitlines()
    assert max(map(len, narrow)) <= 70 and len(narrow) > len(lines)
    if command == "list":
        assert " ".join(" ".join(narrow).split()).count("releases the GIL") == 3


@pytest.mark.parametrize("command", ["", "run", "compare", "timeit", "selfcheck", "report",
                                     "export", "list", "info"])
def test_every_help_fits_the_width(command, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit) as ended:
        main([*command.split(), "--help"])
    assert ended.value.code == 0
    out = capsys.readouterr().out
    assert max(map(len, out.splitlines())) <= 100, max(out.splitlines(), key=len)
    assert "%%" not in out


def test_a_reader_that_closes_the_pipe_gets_no_traceback(cli_env, tmp_path):
    # The read end closes before gilbench has even started, so its first write meets a
    # closed pipe (as with `gilbench list | head -1`).
    proc = subprocess.Popen([sys.executable, "-m", "gilbench", "list"], env=cli_env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


def test_help_groups_the_options_with_examples_exit_codes_and_this_machines_durations(
        cli_env, tmp_path):
    from gilbench.bench.fmt import fmt_minutes
    from gilbench.bench.machine import usable_cpus
    from gilbench.bench.options import expected_default_s

    top = gilbench("--help", env=cli_env, cwd=tmp_path)
    assert top.returncode == 0 and "exit codes:" in top.stdout
    assert "export" in top.stdout and "compare" in top.stdout
    r = gilbench("run", "--help", env=cli_env, cwd=tmp_path)
    assert r.returncode == 0
    text = " ".join(r.stdout.split())  # argparse wraps to the terminal's width
    order = [text.index(h) for h in ("what to run:", "precision:", "output:", "advanced:",
                                     "examples:", "exit codes:")]
    assert order == sorted(order)
    assert "smoke" not in r.stdout  # the tests' profile is not offered
    n = usable_cpus()
    for p in ("quick", "standard", "full"):
        assert f"{p} {fmt_minutes(expected_default_s(p, n))}" in text
    assert "2 bad usage or input" in text and "130 interrupted" in text
    for command in ("compare", "export", "selfcheck"):
        h = gilbench(command, "--help", env=cli_env, cwd=tmp_path)
        assert h.returncode == 0 and "exit codes:" in h.stdout, command


def test_a_default_runs_first_line_expects_what_help_and_readme_say():
    """One source for a profile's duration: the run's own estimate of the default plan."""
    from gilbench.bench.cli import make_parser
    from gilbench.bench.machine import usable_cpus
    from gilbench.bench.options import build_plan, expected_default_s
    from gilbench.bench.runner.expand import expected_s, specs
    from gilbench.bench.suites import COST_SUITES

    for profile in ("quick", "standard"):
        plan = build_plan(make_parser().parse_args(["run", "--profile", profile]), print)
        assert expected_s(plan, specs(plan), list(COST_SUITES)) == pytest.approx(
            expected_default_s(profile, usable_cpus()))


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="the published durations are "
                    "for Python 3.11, the project's default (3.13 adds subinterpreter cells)")
def test_readme_and_usage_quote_the_estimates_durations(repo_root):
    from gilbench.bench.fmt import fmt_minutes
    from gilbench.bench.options import expected_default_s

    readme = " ".join((repo_root / "README.md").read_text(encoding="utf-8").split())
    for profile in ("standard", "quick"):
        said = f"about {fmt_minutes(expected_default_s(profile, 2))} on 2 CPUs"
        assert said in readme, (profile, said)
    usage = (repo_root / "docs" / "usage.md").read_text(encoding="utf-8")
    rows = [line for line in usage.splitlines() if line.strip().startswith("| ")
            and line.split("|")[1].strip() in ("2", "4", "16", "64")]
    assert len(rows) == 4
    for row in rows:
        cols = [c.strip() for c in row.split("|")[1:-1]]
        n = int(cols[0])
        assert cols[3].startswith(fmt_minutes(expected_default_s("quick", n))), row
        assert cols[4].startswith(fmt_minutes(expected_default_s("standard", n))), row


def test_the_cli_imports_matplotlib_only_to_draw(cli_env, tmp_path):
    """`gilbench list`, `--help`, a usage error and every spawned worker (which re-imports
    gilbench's main module) skip matplotlib's second of imports; a chart imports it."""
    code = ("import sys, gilbench.bench.cli, gilbench.bench.report, gilbench.bench.report.compare; "
            "print('matplotlib' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], env=cli_env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "False", r.stderr
    draw = ("import sys, pathlib, gilbench.bench.report.charts as c; "
            "c.save_figure(c.new_figure(figsize=(1, 1)), pathlib.Path(sys.argv[1])); "
            "print('matplotlib' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", draw, str(tmp_path / "x")], env=cli_env,
                       cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "True" and (tmp_path / "x.png").exists(), r.stderr


def test_a_bad_placement_is_one_line_before_anything_runs(cli_env, tmp_path):
    r = gilbench("run", "--profile", "smoke", env={**cli_env, "GILBENCH_PLACEMENT": "pinned"},
                 cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("gilbench: error: GILBENCH_PLACEMENT='pinned'") and "free" in line
    assert not (tmp_path / "reports").exists()


def test_a_bug_is_one_line_and_its_own_exit_code_never_1(capsys, monkeypatch):
    # 1 is what a CI gate reads as "slower": an internal error must never exit with it.
    import gilbench.bench.cli as cli

    def broken() -> dict:
        raise RuntimeError("something gilbench did not expect")

    monkeypatch.setattr(cli, "collect_machine", broken)
    assert main(["info"]) == 70
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "gilbench: internal error: RuntimeError: something gilbench did not expect (a bug "
        "in gilbench; GILBENCH_TRACEBACK=1 shows where)"]
    monkeypatch.setenv("GILBENCH_TRACEBACK", "1")
    assert main(["info"]) == 70
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_a_terminal_that_cannot_show_the_signs_gets_question_marks(cli_env, repo_root,
                                                                   tmp_path):
    # PYTHONIOENCODING=ascii: × and ÷ cannot be written; once a traceback and exit 1
    ref = repo_root / "reports" / "reference" / "dev-2cpu-compare-2026-11-27"
    r = subprocess.run([sys.executable, "-m", "gilbench", "compare",
                        str(ref / "quick-2cpu" / "results.json"),
                        str(ref / "quick-taskset-1cpu" / "results.json")],
                       env={**cli_env, "PYTHONIOENCODING": "ascii"}, cwd=tmp_path,
                       capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    assert b"Traceback" not in r.stderr
    out = r.stdout.decode("ascii")  # nothing but ASCII came out
    assert "slower" in out and "?" in out


def _suggested(text: str) -> list[list[str]]:
    """Every `gilbench ...` command line in a text, as argv (an example's comment after two
    spaces, a pipe, a redirection and a shell continuation dropped)."""
    import re
    import shlex

    found = []
    for line in re.sub(r"\\\n\s*", "", text).splitlines():
        m = re.search(r"gilbench ((?:run|report|compare|selfcheck|export|list|info)\b.*)", line)
        if m:
            command = re.split(r"\s{2,}|\s+#|\s+>|\s+\||;|\)|, or ", m.group(1))[0]
            found.append(shlex.split(command))
    return found


def test_every_command_a_message_or_example_suggests_is_accepted(tmp_path):
    # The examples in every --help, the advice of a verdict that can't tell, the resume
    # line of an interrupted run and of a full disk: each parses (no "--target-ci 0.02",
    # refused as out of range, again).
    from gilbench.bench.analysis.verdicts import MORE_PRECISION
    from gilbench.bench.options import parse_target_ci
    from gilbench.bench.run.endings import interrupted
    from gilbench.bench.runfolder import how_to_finish

    parser = make_parser()
    subparsers = next(a for a in parser._actions if hasattr(a, "choices") and a.choices)
    texts = [parser.epilog or ""] + [s.epilog or "" for s in subparsers.choices.values()]
    commands = [c for t in texts for c in _suggested(t)]
    commands += [["run", *part.split()] for part in
                 MORE_PRECISION.removeprefix("more pairs: ").split(", or ")]
    commands += _suggested(interrupted("under x", tmp_path / "run"))
    commands += _suggested(how_to_finish(tmp_path, ["run", "--profile", "quick"]))
    assert len(commands) >= 12, commands
    for argv in commands:
        args = parser.parse_args(argv)  # a refused one raises UserError: the test fails
        if getattr(args, "target_ci", None) is not None:
            parse_target_ci(args.target_ci)


def test_a_runs_own_lines_fit_the_terminal_and_its_errors_stay_whole(capsys, monkeypatch):
    # The first line of the README's run was 186 columns in a 100-column terminal; what the
    # run tells is wrapped (its rest indented), an error or a command to copy is not.
    from gilbench.bench.run.endings import say, tell

    monkeypatch.setenv("COLUMNS", "60")
    long = "gilbench 0.1.0: 440 cells (11 workloads × 14 strategies × workers 1,2,4) + " \
           "cost suites startup, ipc, sync, latency, profile standard → reports/x"
    tell(long)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) > 1 and all(len(x) <= 60 for x in lines)
    assert lines[1].startswith("  ") and " ".join(x.strip() for x in lines) == long
    say("gilbench: error: " + "x" * 100)
    assert len(capsys.readouterr().err.splitlines()) == 1


def test_a_reports_folder_gilbench_makes_stays_out_of_the_users_git(tmp_path, monkeypatch):
    import subprocess

    from gilbench.bench.runfolder import REPORTS_GITIGNORE, run_folder

    monkeypatch.chdir(tmp_path)
    subprocess.run(["git", "init", "-q"], check=True)
    out = run_folder(None, "2026-12-07T21:00:00Z")
    (out / "results.json").write_text("{}")
    assert out.parent.name == "reports"
    assert (tmp_path / "reports" / ".gitignore").read_text() == REPORTS_GITIGNORE
    listed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                            capture_output=True, text=True, check=True).stdout
    assert listed == ""  # the run is not offered to the user's next commit
    # a reports/ folder the user has is theirs: nothing is written into it but runs
    (tmp_path / "reports" / ".gitignore").unlink()
    again = run_folder(None, "2026-12-07T21:00:01Z")
    assert again.is_dir() and not (tmp_path / "reports" / ".gitignore").exists()
    # --out is taken as given
    assert run_folder(str(tmp_path / "mine"), "2026-12-07T21:00:02Z") == tmp_path / "mine"
