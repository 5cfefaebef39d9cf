"""Faults of the machine, produced for real: a full disk, two runs into one folder, a
worker out of memory or stopped, gilbench killed, a broken results.json given to
--resume, and every command's exit watched by a child subreaper.

Each is checked for four outcomes: **one line** (``gilbench: error: ...``, no traceback),
**the right exit code** (74 for a write that failed, 2 for bad input, 1 for a failed
cell), **nothing lost** (what was saved is whole and reads back; nothing that was there
is overwritten) and **nothing left** (no descendant at the moment gilbench exits, alive
or zombie; no temporary file, partial file or lock in the folder).

A full disk without root: ``RLIMIT_FSIZE`` on gilbench's process (and SIGXFSZ ignored)
makes every write past the limit fail with EFBIG, as ENOSPC would. The limits are read
off a real run's file sizes, so that each one lands on results.json, on the charts or on
the report page.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gilbench.bench.cli import EXIT_WRITE_FAILED
from gilbench.bench.errors import UserError
from gilbench.bench.files import LOCK_NAME, FolderLock, new_folder
from gilbench.bench.results import load
from tests.helpers import run_watched

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
KERNELS = ROOT / "tests" / "fault_kernels.py"
GILBENCH = [sys.executable, "-m", "gilbench"]
# A small, fast run: two kinds of work, threads and processes, with their charts.
SMOKE = ["run", "--profile", "smoke", "--suite", "speedup", "--workloads", "fib,sleep",
         "--strategies", "serial,threads,process_pool", "--workers", "1,2"]


def one_error_line(said: str) -> str:
    """The one line a fault must give, and no traceback."""
    assert "Traceback" not in said and "Exception ignored" not in said, said[-3000:]
    errors = [line for line in said.splitlines() if line.startswith("gilbench: error:")]
    assert len(errors) == 1, said[-3000:]
    return errors[0]


def assert_nothing_left(r: dict, *folders: Path) -> None:
    assert r["orphaned"] == [], (f"processes that outlived their parent: {r['orphaned']}; "
                                 f"the command said: {r['stderr'][-2000:]}")
    for folder in folders:
        if not folder.exists():
            continue
        names = {p.name: p for p in folder.rglob("*")}
        assert not [n for n in names if n.endswith(".tmp")], sorted(names)
        assert LOCK_NAME not in names, sorted(names)
        assert not [n for n, p in names.items() if p.is_file() and p.stat().st_size == 0], \
            f"partial (empty) files: {sorted(names)}"


# The tests that share the ``sizes`` smoke run stay on one pytest-xdist worker, which
# runs it once (each worker would run its own).
SHARES_SIZES = pytest.mark.xdist_group("test_faults-sizes")


@pytest.fixture(scope="module")
def sizes(tmp_path_factory) -> dict[str, int]:
    """The file sizes of a whole smoke run (what the limits below are cut between)."""
    out = tmp_path_factory.mktemp("whole") / "run"
    r = subprocess.run([*GILBENCH, *SMOKE, "--out", str(out)], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    charts = [p.stat().st_size for p in out.iterdir() if p.suffix in (".png", ".svg")]
    found = {"results": (out / "results.json").stat().st_size,
             "report_md": (out / "report.md").stat().st_size,
             "report_html": (out / "report.html").stat().st_size,
             "smallest_chart": min(charts), "largest_chart": max(charts)}
    # What the three limits rely on: results.json and report.md fit under every chart,
    # and every chart under report.html (which embeds them).
    assert max(found["results"], found["report_md"]) < found["smallest_chart"], found
    assert found["largest_chart"] < found["report_html"], found
    return found


def limit_at(sizes: dict[str, int], where: str) -> int:
    """A file-size limit that the first write of ``where`` goes past."""
    if where == "the first save":
        return 1000
    if where == "a later save":  # the first workload's cells fit, both workloads' do not
        return sizes["results"] * 3 // 4
    if where == "charts":
        return (max(sizes["results"], sizes["report_md"]) + sizes["smallest_chart"]) // 2
    return (sizes["largest_chart"] + sizes["report_html"]) // 2  # the report page


@SHARES_SIZES
@pytest.mark.parametrize("where", ["the first save", "a later save", "charts", "report"])
def test_a_full_disk_is_one_line_and_loses_nothing(where, sizes, cli_env, tmp_path):
    out = tmp_path / "run"
    r = run_watched([*GILBENCH, *SMOKE, "--out", str(out)], env=cli_env, cwd=tmp_path,
                    fsize=limit_at(sizes, where))
    line = one_error_line(r["stderr"])
    assert r["returncode"] == EXIT_WRITE_FAILED, r["stderr"][-2000:]
    failed = line.partition("cannot write ")[2].partition(": ")[0]
    assert Path(failed).parent == out, line
    assert Path(failed).name.endswith({"the first save": "results.json",
                                       "a later save": "results.json", "charts": "g",
                                       "report": "report.html"}[where]), line
    assert "File too large (EFBIG)" in line
    if where == "the first save":  # nothing to keep: the same command again
        assert f"nothing is saved in {out} yet" in line
        assert "once there is space: gilbench run --profile smoke" in line
        assert not (out / "results.json").exists()
    elif where == "a later save":  # the run stopped; what was saved is there, and resumes
        saved = load(out)
        assert saved.run["complete"] is False and 0 < len(saved.cells) < 10
        assert f"({len(saved.cells)} of 10 cells)" in line
        assert f"once there is space: gilbench run --resume {out}" in line
    else:  # the run finished; only the report is left to do
        saved = load(out)
        assert saved.run["complete"] is True and len(saved.cells) == 10
        assert "is saved whole (10 cells)" in line
        assert f"once there is space: gilbench report {out}" in line
        assert not (out / "report.html").exists()
    assert_nothing_left(r, out)
    # Once there is space, the command the line gives finishes the job.
    finish = shlex.split(line.rpartition("once there is space: ")[2])
    assert finish[0] == "gilbench"
    r = subprocess.run([*GILBENCH, *finish[1:]], env=cli_env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert load(out).run["complete"] is True and (out / "report.html").stat().st_size > 0


@SHARES_SIZES
def test_report_compare_and_export_on_a_full_disk_say_so_and_change_nothing(
        sizes, cli_env, tmp_path):
    run = tmp_path / "run"
    r = subprocess.run([*GILBENCH, *SMOKE, "--out", str(run)], env=cli_env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    small = limit_at(sizes, "charts")
    commands = {
        "report": ["report", str(run), "--out", str(tmp_path / "again")],
        "compare": ["compare", str(run), str(run), "--labels", "a,b", "--out",
                    str(tmp_path / "cmp")],
        "export": ["export", str(run), "--format", "pyperf", "--out",
                   str(tmp_path / "exp" / "run.json")],
    }
    for name, args in commands.items():
        r = run_watched([*GILBENCH, *args], env=cli_env, cwd=tmp_path,
                        fsize=small if name != "export" else 100)
        line = one_error_line(r["stderr"])
        assert r["returncode"] == EXIT_WRITE_FAILED, (name, r["stderr"][-2000:])
        assert "File too large (EFBIG)" in line and "unchanged (only read)" in line, line
        assert_nothing_left(r, tmp_path / "again", tmp_path / "cmp", tmp_path / "exp")
    assert not (tmp_path / "exp" / "run.json").exists()
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before  # nothing overwritten


def test_xfsz_is_ignored_by_gilbench_itself():
    # A plain `ulimit -f` (SIGXFSZ at its default, which kills with a core dump): gilbench
    # ignores it, so the write fails with EFBIG and is said in one line.
    code = ("import signal; from gilbench.bench.signals import install_stop_handlers; "
            "install_stop_handlers(); print(signal.getsignal(signal.SIGXFSZ) == signal.SIG_IGN)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=ROOT, timeout=60)
    assert r.stdout.strip() == "True", r.stderr


def test_two_runs_started_together_into_one_folder(cli_env, tmp_path):
    out = tmp_path / "shared"
    runs = {w: subprocess.Popen([*GILBENCH, "run", "--profile", "quick", "--suite", "speedup",
                                 "--workloads", w, "--strategies", "serial,process_pool",
                                 "--workers", "2", "--out", str(out)],
                                env=cli_env, cwd=tmp_path, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
            for w in ("fib", "sleep")}
    said = {w: p.communicate(timeout=300) for w, p in runs.items()}
    codes = {w: p.returncode for w, p in runs.items()}
    assert sorted(codes.values()) == [0, 2], (codes, said)
    winner = next(w for w, c in codes.items() if c == 0)
    loser = next(w for w in runs if w != winner)
    line = one_error_line(said[loser][1])
    assert f"{out} is in use by another gilbench run (pid {runs[winner].pid})" in line, line
    assert {c.workload for c in load(out).cells} == {winner}  # nothing of either lost
    assert_nothing_left({"orphaned": []}, out)


def test_a_run_refused_before_the_holder_wrote_its_pid_still_names_it(tmp_path):
    """The gap the two runs above met now and then: the holder has the lock and has not
    written its pid yet. The refused run waits for it (the holder writes it 50 ms later)."""
    import fcntl
    import os
    import threading

    folder = tmp_path / "held"
    folder.mkdir()
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    writer = threading.Timer(0.05, os.write, (fd, b"12345 report\n"))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held, still empty
        writer.start()
        with pytest.raises(UserError, match=r"in use by another gilbench report \(pid 12345\)"):
            FolderLock(folder).acquire()
    finally:
        writer.join()
        os.close(fd)


def test_a_resume_of_a_folder_in_use_is_refused_and_a_killed_run_leaves_no_lock(
        cli_env, tmp_path):
    out = tmp_path / "run"
    args = [*GILBENCH, "run", "--profile", "quick", "--suite", "speedup", "--workloads",
            "sleep", "--strategies", "serial,threads", "--workers", "2", "--repeats", "40",
            "--out", str(out)]
    proc = subprocess.Popen(args, env=cli_env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / "results.json").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (out / "results.json").exists(), "the run never saved anything"
        before = (out / "results.json").read_bytes()
        r = subprocess.run([*GILBENCH, "run", "--resume", str(out)], env=cli_env,
                           cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert r.returncode == 2
        line = one_error_line(r.stderr)
        assert f"is in use by another gilbench run (pid {proc.pid})" in line, line
        assert (out / "results.json").read_bytes() in (before, (out / "results.json"
                                                                ).read_bytes())
    finally:
        proc.kill()  # SIGKILL: no chance to release anything
        proc.communicate(timeout=60)
    time.sleep(1)  # its workers notice their parent is gone
    # The kernel dropped the dead run's lock: the folder can be resumed at once.
    r = subprocess.run([*GILBENCH, "run", "--resume", str(out)], env=cli_env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert load(out).run["complete"] is True
    assert not (out / LOCK_NAME).exists()


def test_default_folders_never_collide(tmp_path):
    base = tmp_path / "reports" / "20261204T101500Z-host"
    made = [new_folder(base) for _ in range(3)]
    assert [p.name for p in made] == [base.name, f"{base.name}-2", f"{base.name}-3"]
    assert all(p.is_dir() for p in made)


def test_runs_started_together_without_out_get_folders_of_their_own(cli_env, tmp_path):
    args = [*GILBENCH, "run", "--profile", "smoke", "--suite", "speedup", "--workloads",
            "fib", "--strategies", "serial,threads", "--workers", "2"]
    procs = [subprocess.Popen(args, env=cli_env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
    folders = sorted(p for p in (tmp_path / "reports").iterdir() if p.is_dir())
    assert len(folders) == 3, folders
    # the folder they made together got its .gitignore once, whole (bench.runfolder)
    assert (tmp_path / "reports" / ".gitignore").read_text().endswith("\n*\n")
    assert all(len(load(f).cells) == 2 for f in folders)


@pytest.mark.parametrize("kernel, status, reason", [
    ("runs_out_of_memory", "error", "MemoryError: out of memory"),
    ("stops_its_worker", "timeout", "ran past its 5 s time limit"),
])
def test_a_worker_that_runs_out_of_memory_or_stops_fails_its_cell_and_the_run_goes_on(
        kernel, status, reason, cli_env, tmp_path):
    out = tmp_path / "run"
    r = run_watched([*GILBENCH, "run", "--profile", "quick", "--suite", "speedup",
                     "--workloads-from", str(KERNELS), "--workloads", f"{kernel},fib",
                     "--strategies", "serial,threads,pool_map,process_pool", "--workers", "2",
                     "--timeout", "5", "--out", str(out)], env=cli_env, cwd=tmp_path)
    assert r["returncode"] == 1, r["stderr"][-2000:]  # a cell failed; everything written
    assert "Traceback" not in r["stderr"]
    cells = {(c.workload, c.strategy): c for c in load(out).cells}
    for strategy in ("pool_map", "process_pool"):
        cell = cells[(kernel, strategy)]
        assert cell.status == status and reason in (cell.error or ""), cell
    assert cells[(kernel, "threads")].status == "ok"  # in gilbench's own process: no fault
    assert all(c.status == "ok" for (w, _), c in cells.items() if w == "fib")  # it went on
    assert (out / "report.html").exists()
    assert_nothing_left(r, out)


@pytest.mark.parametrize("strategy, child", [
    ("process_pool", r"spawn_main"),
    ("loky", r"loky"),
    ("dask", r"spawn_main"),
    ("ray", r"raylet"),
])
def test_gilbench_killed_mid_cell_leaves_no_descendant(strategy, child, cli_env, tmp_path):
    out = tmp_path / "run"
    r = run_watched([*GILBENCH, "run", "--profile", "quick", "--suite", "speedup",
                     "--workloads", "sleep", "--strategies", f"serial,{strategy}", "--workers",
                     "2", "--repeats", "200", "--start-method", "spawn", "--out", str(out)],
                    env=cli_env, cwd=tmp_path, linger_s=5,
                    signal_when={"name": "SIGKILL", "when": {"child": child}, "delay_s": 1.5})
    assert r["signalled"] and r["returncode"] == -9, r["stderr"][-2000:]
    assert r["left"] == [], f"still there 5 s after gilbench was killed: {r['left']}"


@SHARES_SIZES
@pytest.mark.parametrize("content, message", [
    ("truncated", "is not valid JSON"),
    ('{"hello": "world"}', "not a gilbench results file (no schema_version)"),
    ('{"schema_version": 99, "cells": []}', "has schema_version 99"),
    ("pytest-benchmark", "holds no run plan to resume"),
])
def test_resume_of_a_broken_or_foreign_results_json_is_one_line_and_overwrites_nothing(
        content, message, sizes, cli_env, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    if content == "truncated":
        whole = subprocess.run([*GILBENCH, *SMOKE, "--out", str(tmp_path / "whole")],
                               env=cli_env, cwd=tmp_path, capture_output=True, timeout=300)
        assert whole.returncode == 0
        text = (tmp_path / "whole" / "results.json").read_text()
        content = text[: len(text) // 2]
    elif content == "pytest-benchmark":
        content = json.dumps({"machine_info": {"node": "pb"}, "datetime": "2026-12-01",
                              "benchmarks": [{"name": "t", "stats": {"data": [0.1] * 6},
                                              "extra_info": {"workload": "fib",
                                                             "strategy": "threads"}}]})
    resume_is_refused(out, "results.json", content, message, cli_env, tmp_path)


def resume_is_refused(out: Path, name: str, content: str, message: str, env, cwd) -> None:
    """--resume of a folder holding only ``name`` (with ``content``): one line with
    ``message``, exit 2, the file as it was, nothing else written, nothing left."""
    (out / name).write_text(content)
    r = run_watched([*GILBENCH, "run", "--resume", str(out)], env=env, cwd=cwd)
    assert r["returncode"] == 2, r["stderr"][-2000:]
    assert message in one_error_line(r["stderr"])
    assert (out / name).read_text() == content  # nothing overwritten
    assert sorted(p.name for p in out.iterdir()) == [name]
    assert_nothing_left(r, out)


@pytest.mark.parametrize("content, message", [
    ('{"schema_version": 2, "argv": [], "plan": {}, "interpreters": []}',
     "its interpreters.json has schema_version 2; this gilbench reads 1"),
    ('{"argv": ["gilbench"], "plan": {"profile": "quick"}, "interpreters": []}',
     "not a gilbench run folder"),
    ("[1, 2", "not a gilbench run folder"),
])
def test_resume_of_a_broken_or_newer_interpreters_record_is_one_line(content, message, cli_env,
                                                                     tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    resume_is_refused(out, "interpreters.json", content, message, cli_env, tmp_path)


# ------------------------------------------------------------ nothing outlives gilbench

QUICK = ["run", "--profile", "quick", "--workers", "2"]
EXITS = {
    # Success: every process strategy under every start method, loky, Dask and the
    # start-up suite (probe, fork server, resource trackers).
    "ok": ([*QUICK, "--suite", "speedup,startup", "--workloads", "sleep", "--strategies",
            "serial,pool_map,process_pool,loky,dask", "--start-method",
            "fork,spawn,forkserver", "--repeats", "6"], None, 0),
    # A local Ray, its watch helper and its folder, after a successful sweep.
    "ok with ray": ([*QUICK, "--suite", "speedup", "--workloads", "sleep", "--strategies",
                     "serial,pool_map,ray", "--repeats", "6"], None, 0),
    "ctrl-c in the sweep": ([*QUICK, "--suite", "speedup", "--workloads", "fib",
                             "--strategies", "serial,pool_map,loky", "--start-method",
                             "forkserver"], "sweep", 130),
    "ctrl-c starting dask": ([*QUICK, "--suite", "speedup", "--workloads", "fib",
                              "--strategies", "serial,dask"], "dask-start:0.5", 130),
    "ctrl-c starting ray": ([*QUICK, "--suite", "speedup", "--workloads", "fib",
                             "--strategies", "serial,ray"], "ray-start:1", 130),
    "ctrl-c in the startup suite": ([*QUICK, "--suite", "startup"], "suite-startup:1", 130),
    "ctrl-c in a --python run": ([*QUICK, "--suite", "speedup", "--workloads", "fib",
                                  "--strategies", "serial,process_pool", "--python",
                                  sys.executable], "python-run:1", 130),
    "ctrl-c in selfcheck": (["selfcheck"], "selfcheck:3", 130),
}


@pytest.mark.parametrize("case", list(EXITS))
def test_nothing_of_gilbench_outlives_it(case, cli_env, tmp_path):
    args, phase, code = EXITS[case]
    if args[0] == "run":
        args = [*args, "--out", str(tmp_path / "out")]
    env = {**cli_env, "GILBENCH_SIGINT_AT": phase} if phase else cli_env
    r = run_watched([*GILBENCH, *args], env=env, cwd=tmp_path)
    assert r["returncode"] == code, r["stderr"][-3000:]
    assert "Traceback" not in r["stderr"], r["stderr"][-3000:]
    # A Ray worker still starting when Ray shuts down can outlive its raylet by a moment
    # (Ray's own order of ending): Ray's host process adopts it (a child subreaper) and
    # ends it before it exits, so it is no orphan of gilbench's either.
    assert_nothing_left(r, tmp_path / "out")


def test_nothing_outlives_a_run_stopped_by_sigterm(cli_env, tmp_path):
    out = tmp_path / "out"
    r = run_watched([*GILBENCH, *QUICK, "--suite", "speedup", "--workloads", "fib,sleep",
                     "--strategies", "serial,pool_map,process_pool", "--start-method",
                     "spawn", "--out", str(out)], env=cli_env, cwd=tmp_path,
                    signal_when={"name": "SIGTERM",
                                 "when": {"cells": 3, "results": str(out / "results.json")}})
    assert r["signalled"] and r["returncode"] == 143, r["stderr"][-2000:]
    assert f"gilbench run --resume {out}" in r["stderr"]
    assert load(out).run["complete"] is False
    assert_nothing_left(r, out)


LOST_POOL = """
import multiprocessing, sys
from gilbench.bench.reaper import reap_children
ctx = multiprocessing.get_context(sys.argv[1])
lost = [ctx.Pool(2)]  # as a stop signal inside Pool() leaves one: no one will close it,
lost[0].map(abs, [1, 2])  # and its threads replace every worker that ends
reap_children()
print("reaped")
"""


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_a_pool_no_one_closed_is_ended_at_exit(method, cli_env, tmp_path):
    # Reaping its workers must not make it start new ones (left behind, with a new
    # resource tracker), and its finalizer must not wait for ever on a queue lock
    # that a killed worker held (the hang guard: run_watched's 60 s timeout).
    r = run_watched([sys.executable, "-c", LOST_POOL, method], env=cli_env, cwd=tmp_path,
                    timeout_s=60)
    assert r["returncode"] == 0 and r["stdout"] == "reaped\n", r["stderr"][-3000:]
    assert_nothing_left(r)


ORPHANED_WHILE_STARTING = """
import multiprocessing, os, signal, sys, time
from tests.kernels import starts_slowly
ctx = multiprocessing.get_context(sys.argv[1])
pool = ctx.Pool(2, initializer=starts_slowly)  # its workers start now...
pool.map_async(time.sleep, [60, 60], chunksize=1)  # ...a long task waits for each...
time.sleep(0.3)  # ...in their queue...
os.kill(os.getpid(), signal.SIGKILL)  # ...and their parent dies before they are gilbench's
"""


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_workers_orphaned_while_they_start_exit_by_themselves(method, cli_env, tmp_path):
    # A worker orphaned before its initializer ran sees init (or a subreaper) as its
    # parent already: it knows its real parent by multiprocessing's sentinel instead.
    r = run_watched([sys.executable, "-c", ORPHANED_WHILE_STARTING, method], env=cli_env,
                    cwd=tmp_path, linger_s=10)
    assert r["returncode"] == -9
    assert r["left"] == [], f"orphaned workers still running 10 s on: {r['left']}"
