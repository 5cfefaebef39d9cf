"""Strategies whose driver runs in a host process of their own (``bench.strategies.apart``):
Ray's, so that gilbench's process never imports Ray and every worker it forks after a Ray
cell is clean. The host's behaviour is tested with a threads driver (seconds, no
cluster); Ray's own with a real local Ray."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from gilbench.bench.strategies import (
    STRATEGIES,
    CellTimeout,
    Deadline,
    TaskFailed,
    WorkerDied,
    apart,
)
from gilbench.bench.strategies.apart import Apart
from gilbench.bench.strategies.serial import Serial
from gilbench.bench.strategies.threads import Threads
from tests import kernels
from tests.helpers import assert_no_new_children, children

ROOT = Path(__file__).resolve().parent.parent
HANG_GUARD_S = 60  # a hang guard, far above the second or two each of these takes


class ThreadsApart(Apart):
    """The threads strategy, its driver in a host process (not registered)."""

    name = "threads_apart"
    model = "threads"
    driver = Threads


class SerialApart(Apart):
    name = "serial_apart"
    model = "serial"
    driver = Serial


def test_the_driver_runs_in_the_host_and_answers_there():
    before = children()
    with ThreadsApart(2) as s:
        s.start(Deadline(HANG_GUARD_S))
        assert s.pids == [s.host_pid] and s.host_pid != os.getpid()
        assert s.map(kernels.square, list(range(6)), Deadline(HANG_GUARD_S)) == [
            0, 1, 4, 9, 16, 25]
        assert s.gil_now(Deadline(HANG_GUARD_S)) is s.gil_in_workers
    assert_no_new_children(before)


def test_a_failing_task_comes_back_as_the_same_failure():
    failed = "ValueError: task 1 failed on purpose"
    with ThreadsApart(2) as s, pytest.raises(TaskFailed, match=failed):
        s.start(Deadline(HANG_GUARD_S))
        s.map(kernels.raises, list(range(6)), Deadline(HANG_GUARD_S))


def test_a_host_killed_mid_run_fails_the_cell_naming_it(monkeypatch):
    monkeypatch.setenv("GILBENCH_TEST_PID", str(os.getpid()))
    before = children()
    started = time.monotonic()
    with pytest.raises(WorkerDied, match=r"the threads_apart driver process \d+ was killed by "
                                         r"SIGKILL during 'map'"), ThreadsApart(2) as s:
        s.start(Deadline(HANG_GUARD_S))
        s.map(kernels.kills_a_worker_outside, list(range(4)), Deadline(HANG_GUARD_S))
    assert time.monotonic() - started < HANG_GUARD_S
    assert_no_new_children(before)


def test_a_host_that_does_not_answer_is_a_timeout_and_is_ended(monkeypatch):
    # A serial driver cannot stop its own task: the parent waits the run's limit and
    # the grace, then terminates the host (SIGTERM unwinds it; a kill after the grace).
    monkeypatch.setattr(apart, "GRACE_S", 0.5)
    before = children()
    with pytest.raises(CellTimeout, match="did not answer 'map' within"), SerialApart(1) as s:
        s.start(Deadline(HANG_GUARD_S))
        s.map(kernels.hangs_forever, [0, 1], Deadline(0.5))
    assert_no_new_children(before)


def test_a_driver_that_cannot_start_fails_at_start_not_at_creation():
    class Broken(Apart):
        name = "broken_apart"
        model = "threads"
        driver = kernels.CannotStart

    before = children()
    s = Broken(2)
    with pytest.raises(Exception, match="RuntimeError: no driver here"):
        s.start(Deadline(HANG_GUARD_S))
    s.terminate()
    assert_no_new_children(before)


def test_sigterm_to_the_host_mid_run_ends_it_and_its_driver():
    before = children()
    s = ThreadsApart(2)
    s.start(Deadline(HANG_GUARD_S))
    os.kill(s.host_pid, signal.SIGTERM)
    with pytest.raises(WorkerDied):
        s.map(kernels.square, [1, 2], Deadline(HANG_GUARD_S))
    s.terminate()
    assert_no_new_children(before)


# ------------------------------------------------------------ Ray, for real


def _raylet_mapped(pid: int) -> bool:
    with open(f"/proc/{pid}/maps") as maps:
        return "_raylet" in maps.read()


@pytest.mark.slow
@pytest.mark.skipif(not STRATEGIES["ray"].available()[0], reason="ray is not installed here")
def test_a_ray_cell_leaves_this_process_without_ray_and_forks_clean_workers():
    script = textwrap.dedent("""
        import json, os, sys
        from gilbench.bench.runner import CellSpec, measure
        from gilbench.workloads import Task

        def main():
            out = []
            for strategy, method in (("ray", None), ("pool_map", "fork"), ("process_pool", "fork")):
                spec = CellSpec("fib", strategy, method, 2, 16, 8)
                cell, _ = measure(spec, Task("fib", 16), None, repeats=2, warmup=1,
                                  timeout_s=120)
                out.append([strategy, cell.status, cell.error])
            with open(f"/proc/{os.getpid()}/maps") as maps:
                raylet = "_raylet" in maps.read()
            print(json.dumps({"cells": out, "ray_imported": "ray" in sys.modules,
                              "raylet_mapped": raylet}))

        if __name__ == "__main__":
            main()
    """)
    r = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                       timeout=HANG_GUARD_S * 5, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr[-3000:]
    said = json.loads(r.stdout.strip().splitlines()[-1])
    assert said["ray_imported"] is False and said["raylet_mapped"] is False
    assert [c[:2] for c in said["cells"]] == [["ray", "ok"], ["pool_map", "ok"],
                                              ["process_pool", "ok"]], said


@pytest.mark.slow
@pytest.mark.skipif(not STRATEGIES["ray"].available()[0], reason="ray is not installed here")
def test_a_sweep_with_ray_first_never_maps_raylet_in_gilbench(cli_env, tmp_path):
    # Ray's cells run in the order given now (no longer last): before fork-based cells.
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "gilbench", "run", "--profile", "smoke",
                             "--suite", "speedup", "--workloads", "fib", "--strategies",
                             "serial,ray,pool_map,process_queue", "--start-method", "fork",
                             "--workers", "2", "--out", str(out)],
                            env=cli_env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    mapped = False
    hosts: set[int] = set()
    until = time.monotonic() + HANG_GUARD_S * 5
    while proc.poll() is None and time.monotonic() < until:
        try:
            mapped = mapped or _raylet_mapped(proc.pid)
            hosts |= {p.pid for p in psutil.Process(proc.pid).children()
                      if "spawn_main" in " ".join(p.cmdline())}
        except (OSError, psutil.Error):
            pass
        time.sleep(0.05)
    _, stderr = proc.communicate(timeout=HANG_GUARD_S)
    assert proc.returncode == 0, stderr[-3000:]
    assert not mapped, "gilbench's own process mapped Ray's _raylet library"
    assert hosts, "no Ray host process was seen"
    cells = json.loads((out / "results.json").read_text())["cells"]
    assert [c["strategy"] for c in cells] == ["serial", "ray", "pool_map", "process_queue"]
    assert all(c["status"] == "ok" for c in cells), cells


def test_the_ray_watch_stops_on_its_sigint_though_started_with_ctrl_c_held_back():
    # It is started inside children_ignore_ctrl_c (SIGINT blocked, inherited): it must
    # still exit by itself on the one SIGINT that stops it (code 0), not wait out the
    # grace and be killed (-9), which made every close of Ray 5 s slower.
    from gilbench.bench.launch import module_command
    from gilbench.bench.reaper import stop_helper
    from gilbench.bench.signals import children_ignore_ctrl_c

    with children_ignore_ctrl_c():
        proc = subprocess.Popen(module_command(sys.executable, "gilbench.bench.raywatch"),
                                stdin=subprocess.DEVNULL, start_new_session=True)
    time.sleep(1.0)  # let it install its handlers (a SIGINT before that kills it: -2)
    assert stop_helper(proc, grace_s=HANG_GUARD_S) == 0


@pytest.mark.slow
@pytest.mark.skipif(not STRATEGIES["ray"].available()[0], reason="ray is not installed here")
def test_a_ray_host_stopped_mid_run_ends_long_before_the_runs_limit(monkeypatch):
    # ray.wait waits in slices, so a SIGTERM (a failed cell, Ctrl-C) is acted on within a
    # slice, not when the run's 120 s limit is up; the driver is closed, its folder gone.
    # Ray's workers find this repository's tests as a user's job finds its code.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    before, mine = children(), f"gilbench-ray-{os.getpid()}-*"
    others = set(Path(tempfile.gettempdir()).glob(mine))  # another test's Ray, if alive
    s = STRATEGIES["ray"](2)
    try:
        s.start(Deadline(HANG_GUARD_S * 2))
        host = s.host_pid
        threading.Timer(1.0, lambda: s.host_pid == host and os.kill(host, signal.SIGTERM)
                        ).start()
        started = time.monotonic()
        with pytest.raises(WorkerDied, match="exited with code 0 during 'map'"):
            s.map(kernels.hangs_forever, [0, 1], Deadline(120))
        assert time.monotonic() - started < HANG_GUARD_S  # a hang guard, half the limit
    finally:
        s.terminate()
    assert_no_new_children(before)
    assert not set(Path(tempfile.gettempdir()).glob(mine)) - others


def test_a_second_sigterm_does_not_cut_the_hosts_close_short(monkeypatch, tmp_path):
    # A failed cell's terminate and the host's own parent watch (or two Ctrl-Cs) can both
    # send SIGTERM: the second must not stop the driver's close half-way.
    class Slow(Apart):
        name = "slow_apart"
        model = "threads"
        driver = kernels.SlowToClose

    mark = tmp_path / "closed"
    monkeypatch.setenv("GILBENCH_TEST_MARK", str(mark))
    before = children()
    s = Slow(1)
    s.start(Deadline(HANG_GUARD_S))
    os.kill(s.host_pid, signal.SIGTERM)
    time.sleep(0.3)  # inside the driver's one-second close
    os.kill(s.host_pid, signal.SIGTERM)
    s.terminate()
    assert mark.read_text() == "closed"
    assert_no_new_children(before)


def test_a_local_rays_folder_leaves_a_tmpdir_too_long_for_its_sockets(monkeypatch, tmp_path):
    # Ray refuses to start when a socket's path passes 107 bytes ("AF_UNIX path length
    # cannot exceed 107 bytes"): under a long TMPDIR (a test's own folder, macOS's
    # /var/folders/...) its folder goes to /tmp; under a short one it stays there.
    from gilbench.bench.strategies.ray_cluster import RAY_SOCKET_TAIL, UNIX_PATH_MAX, temp_base

    long = tmp_path / ("x" * 40)
    long.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(long))
    assert temp_base() == "/tmp"
    monkeypatch.setattr(tempfile, "tempdir", "/var/tmp")
    assert temp_base() == "/var/tmp"
    assert len("/var/tmp/gilbench-ray-4194304-abcdefgh") + RAY_SOCKET_TAIL <= UNIX_PATH_MAX
