"""A kernel that never returns in gilbench's own process (``bench.watchdog``): stopped at
the time limit in every phase that calls one there, in one line, exit 124, with what
finished saved and nothing left behind. The time bounds below are hang guards, far above
the few seconds these take; none asserts how fast anything is."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from gilbench.bench import watchdog
from gilbench.bench.watchdog import EXIT_KERNEL_HUNG, KernelHung, watched
from tests.helpers import run_watched

ROOT = Path(__file__).resolve().parent.parent
KERNELS = str(ROOT / "tests" / "hanging_kernels.py")
HANG_GUARD_S = 60  # a hang guard: a watched kernel is stopped within a second or two


# ------------------------------------------------------------ the watch itself


def test_a_call_that_returns_in_time_is_not_disturbed():
    before = signal.getsignal(signal.SIGALRM)
    with watched("k", "a phase", 5.0):
        value = sum(range(1000))
    assert value == 499500
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    for t in [t for t in threading.enumerate() if t.name == "gilbench-kernel-watch"]:
        t.join(HANG_GUARD_S)  # told the call returned, the watch thread ends
        assert not t.is_alive()


def test_python_code_past_the_limit_is_unwound_with_a_kernel_hung():
    started = time.monotonic()
    with pytest.raises(KernelHung) as caught, watched("stuck", "the serial cell's timed run",
                                                      0.3):
        while True:
            pass
    assert time.monotonic() - started < HANG_GUARD_S
    assert str(caught.value) == ("kernel 'stuck' did not return within 0.3 s in gilbench's "
                                 "own process (the serial cell's timed run)")
    assert "--timeout SECONDS" in caught.value.advice()
    # Not an Exception: no `except Exception` on the way up records it and goes on.
    assert not isinstance(caught.value, Exception)


def test_a_wait_in_a_system_call_is_unwound_too():
    with pytest.raises(KernelHung), watched("sleeper", "calibration", 0.2):
        time.sleep(HANG_GUARD_S)


def test_an_alarm_that_comes_just_after_the_call_returned_raises_nothing():
    w = watchdog._Watch("k", "p", 1.0)
    w.inside = False  # the call has returned; the alarm was already on its way
    assert w.on_alarm(signal.SIGALRM, None) is None


def test_another_users_alarm_and_handler_are_given_back():
    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda s, f: fired.append(s))
    try:
        signal.setitimer(signal.ITIMER_REAL, 30.0)
        with watched("k", "p", 5.0):
            pass
        assert signal.getsignal(signal.SIGALRM) is not signal.SIG_DFL
        assert 0 < signal.getitimer(signal.ITIMER_REAL)[0] <= 30.0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_an_inner_watch_leaves_the_bound_to_the_outer_one():
    with pytest.raises(KernelHung) as caught, watched("outer", "p", 0.3), \
            watched("inner", "q", 100.0):
        time.sleep(HANG_GUARD_S)
    assert caught.value.workload == "outer"


def test_without_a_limit_nothing_is_armed():
    with watched("k", "p", None):
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_code_that_never_comes_back_to_python_is_ended_by_the_watch_thread(tmp_path):
    # The second layer: the alarm cannot reach the stuck thread, so after the grace the
    # watch thread says the line and exits 124 itself.
    script = textwrap.dedent("""
        import signal, time
        from gilbench.bench import watchdog
        watchdog.GRACE_S = 0.5
        with watchdog.watched("native", "its serial run", 0.3):
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
            time.sleep(3600)
    """)
    started = time.monotonic()
    r = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                       text=True, timeout=HANG_GUARD_S)
    assert time.monotonic() - started < HANG_GUARD_S
    assert r.returncode == EXIT_KERNEL_HUNG, r.stderr
    assert r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith("gilbench: error: kernel 'native' did not return within 0.3 s")
    assert "does not come back to Python" in r.stderr and "nothing had been measured" in r.stderr


# ------------------------------------------------------------ each phase, as a user meets it


PHASES = {
    "hangs_in_the_check": "(result check: two calls with seed 0)",
    "hangs_when_calibrated": "(calibration of its size)",
    "hangs_in_the_serial_cell": "(the serial cell's timed run)",
}


@pytest.mark.slow
@pytest.mark.parametrize("kernel", [*PHASES, "hangs_in_native_code"])
def test_a_kernel_that_never_returns_stops_the_run_in_one_line(kernel, cli_env, tmp_path):
    out = tmp_path / "out"
    args = [sys.executable, "-m", "gilbench", "run", "--profile", "quick", "--suite", "speedup",
            "--workloads-from", KERNELS, "--workloads", kernel, "--strategies",
            "serial,process_pool", "--workers", "2", "--timeout", "1", "--out", str(out)]
    env = {**cli_env, "GILBENCH_PLACEMENT": "free"}
    r = run_watched(args, env=env, cwd=tmp_path, timeout_s=HANG_GUARD_S * 3)
    said = r["stderr"]
    assert r["returncode"] == EXIT_KERNEL_HUNG, said[-2000:]
    errors = [line for line in said.splitlines() if line.startswith("gilbench: error:")]
    assert len(errors) == 1 and "Traceback" not in said, said[-2000:]
    line = errors[0]
    assert f"kernel '{kernel}' did not return within 1 s in gilbench's own process" in line
    assert "--timeout SECONDS" in line
    if kernel in PHASES:
        assert PHASES[kernel] in line, line
    else:  # the second layer: nothing came back to Python
        assert "does not come back to Python" in line, line
    assert r["left"] == [], r["left"]  # every worker, pool and helper ended
    if kernel in ("hangs_in_the_serial_cell", "hangs_in_native_code"):
        # The run had a folder: its results file says what finished, and how to go on.
        assert (out / "results.json").exists() or "no cell of the run had finished" in line
        if (out / "results.json").exists():
            data = json.loads((out / "results.json").read_text())
            assert data["run"]["complete"] is False
            assert f"gilbench run --resume {out}" in line


@pytest.mark.slow
def test_the_pytest_path_fails_a_hung_kernels_tests_in_one_line_each(tmp_path):
    test_file = tmp_path / "test_hangs.py"
    test_file.write_text(textwrap.dedent(f"""
        import pytest, sys
        sys.path.insert(0, {str(ROOT)!r})
        from tests.hanging_kernels import hangs_in_the_serial_cell  # noqa: F401

        @pytest.mark.gilbench(workloads="hangs_in_the_serial_cell", strategies=["threads"],
                              workers=[2])
        def test_it(gilbench_benchmark):
            gilbench_benchmark()
    """))
    started = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "gilbench.bench.pytest_plugin", "-p",
                        "no:cacheprovider", str(test_file), "--benchmark-only",
                        "--gilbench-timeout", "1", f"--gilbench-out={tmp_path / 'out'}", "-q",
                        f"--rootdir={tmp_path}"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=HANG_GUARD_S * 3,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert time.monotonic() - started < HANG_GUARD_S * 3
    assert r.returncode == 1, r.stdout[-3000:]
    # The rounds of a benchmark and their serial runs are bounded together: 1 s a run.
    line = re.compile(r"gilbench: kernel 'hangs_in_the_serial_cell' did not return within "
                      r"\d+ s in gilbench's own process \(the rounds of its serial benchmark")
    # Each of its two tests fails with the line (the short summary repeats it, whole
    # under CI=true, where pytest does not shorten it).
    assert len(line.findall(r.stdout)) >= 2 and "2 failed" in r.stdout, r.stdout[-3000:]
    assert r.stdout.count("FAILED") == 2
    assert "--gilbench-timeout SECONDS" in r.stdout
    assert "Traceback" not in r.stdout and "During handling" not in r.stdout


@pytest.mark.slow
def test_a_kernel_that_never_returns_in_another_interpreter_stops_the_matrix(cli_env, tmp_path):
    # --python: the run in that interpreter says the line and exits 124; gilbench keeps
    # what finished, says how to go on, and ends 124 too (not "every cell ok").
    out = tmp_path / "out"
    args = [sys.executable, "-m", "gilbench", "run", "--profile", "quick", "--suite", "speedup",
            "--workloads-from", KERNELS, "--workloads", "hangs_in_the_serial_cell",
            "--strategies", "serial,threads", "--workers", "2", "--timeout", "1",
            "--python", sys.executable, "--out", str(out)]
    r = run_watched(args, env=cli_env, cwd=tmp_path, timeout_s=HANG_GUARD_S * 3)
    said = r["stderr"]
    assert r["returncode"] == EXIT_KERNEL_HUNG, said[-2000:]
    assert "Traceback" not in said, said[-2000:]
    assert (f"gilbench: error: kernel 'hangs_in_the_serial_cell' did not return within 1 s "
            f"in gilbench's own process (the serial cell's timed run) [{sys.executable}]"
            ) in said, said[-2000:]
    assert f"once it returns, finish with: gilbench run --resume {out}" in said
    assert r["left"] == [], r["left"]
