"""Ctrl-C at every phase of gilbench, for real: the process group of a real run gets
SIGINT at a named moment (``bench.phases``: GILBENCH_SIGINT_AT), as a terminal sends it.

Each must stop within seconds with the interrupted exit code, keep what finished, say
how to go on, print no traceback, and leave no process, zombie, shared-memory segment or
temporary folder behind.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from gilbench.bench.phases import ENV, MARK, PHASES
from tests.helpers import (
    OTHER_PYTHON,
    PY315,
    shm_leftovers,
    shm_names,
    start_interruptible,
    temp_leftovers,
)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
# A hang guard, far above the seconds these take (the closing note has the figures).
EXIT_GUARD_S = 15


def run(*args: str) -> list[str]:
    return [sys.executable, "-m", "gilbench", "run", "--profile", "quick", *args]


def sweep(strategies: str, *more: str) -> list[str]:
    return run("--suite", "speedup", "--workloads", "fib", "--strategies", strategies,
               "--workers", "2", *more)


# phase (with the delay that puts the signal inside it) -> the command that reaches it
CASES = {
    "sweep": sweep("serial,threads,pool_map"),
    "dask-start:0.5": sweep("serial,dask"),
    "dask-close": sweep("serial,dask"),
    "ray-start:1": sweep("serial,ray"),
    "ray-close": sweep("serial,ray"),
    "loky-start:0.1": sweep("serial,loky"),
    "suite-startup:1": run("--suite", "startup"),
    "suite-ipc:1": run("--suite", "ipc"),
    "suite-sync:0.5": run("--suite", "sync"),
    "suite-latency:1": run("--suite", "latency"),
    "python-run:1": run("--suite", "speedup", "--workloads", "fib,sleep", "--strategies",
                        "serial,threads,process_pool", "--python", sys.executable),
    "single-thread:0.5": run("--suite", "speedup", "--workloads", "fib", "--strategies",
                             "serial,threads", "--python", sys.executable, "--python",
                             f"GILBENCH_TWIN=1 {sys.executable}"),
    "subinterpreters:0.2": run("--suite", "speedup", "--workloads", "fib", "--strategies",
                               "serial,subinterpreters", "--python", OTHER_PYTHON or "?"),
    "interpreter_pool:0.2": run("--suite", "speedup", "--workloads", "fib", "--strategies",
                                "serial,interpreter_pool", "--python", PY315 or "?"),
    "selfcheck:3": [sys.executable, "-m", "gilbench", "selfcheck"],
    "pytest:0.5": [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--capture=no",
                   f"--rootdir={ROOT}", str(ROOT / "tests" / "test_benchmarks.py"),
                   "--benchmark-only", "-k", "fib-serial-1 or fib-threads-2 or fib-pool_map-2"],
    # the moment the session starts writing its report (matplotlib's import, the charts)
    "pytest-report": [sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                      "--capture=no", f"--rootdir={ROOT}",
                      str(ROOT / "tests" / "test_benchmarks.py"), "--benchmark-only", "-k",
                      "fib-serial-1 or fib-threads-2"],
}


def test_every_phase_is_interrupted_here():
    assert {c.partition(":")[0] for c in CASES} == set(PHASES)


def leftovers(shm_before: set[str], temp: Path, owners: set[int]) -> set[str]:
    """What the run left: shared memory no process uses, its own temporary folders (in
    its private TMPDIR, and its local Ray's in /tmp), not those of the tests beside it."""
    return {f"shm:{name}" for name in shm_leftovers(shm_before)} | {
        f"tmp:{name}" for name in temp_leftovers(temp) | temp_leftovers(owners=owners)}


@pytest.mark.parametrize("case", list(CASES))
def test_ctrl_c_at_a_phase_stops_cleanly(case, cli_env, tmp_path, private_tmp):
    phase = case.partition(":")[0]
    if phase == "subinterpreters" and OTHER_PYTHON is None:
        pytest.skip("no Python 3.13+ interpreter on this machine")
    if phase == "interpreter_pool" and PY315 is None:
        pytest.skip("no Python 3.15 here: tools/get-python 3.15 sets one up")
    args = list(CASES[case])
    out = tmp_path / "out"
    if args[3] == "run":
        args += ["--out", str(out)]
    elif phase.startswith("pytest"):
        args += [f"--gilbench-out={out}"]
    shm_before, temp = shm_names(), private_tmp
    # A local Ray's folder stays in /tmp (its socket paths must stay short); the rest of
    # the run's temporary files go to its own folder.
    env = {**cli_env, ENV: case} if phase.startswith("ray") else {
        **cli_env, ENV: case, "TMPDIR": str(temp)}
    proc = start_interruptible(args, env=env, cwd=tmp_path)
    seen: set[int] = set()
    while proc.poll() is None:
        with contextlib.suppress(psutil.Error):
            seen |= {p.pid for p in psutil.Process(proc.pid).children(recursive=True)}
        time.sleep(0.02)
    ended = time.time()
    stdout, stderr = proc.communicate(timeout=60)
    said = stdout + stderr
    pressed = re.search(rf"{MARK} {phase} ([\d.]+)", said)
    assert pressed, f"the run never reached {phase}: {said[-2000:]}"
    assert ended - float(pressed.group(1)) < EXIT_GUARD_S
    assert "Traceback" not in said and "Exception ignored" not in said, said[-3000:]
    if phase.startswith("pytest"):
        assert proc.returncode == 2, said[-2000:]  # pytest's code for an interrupted session
        assert "KeyboardInterrupt" in stdout
    else:
        assert proc.returncode == 130, said[-2000:]
    if args[3] == "run":
        assert f"gilbench run --resume {out}" in stderr, stderr
        saved = list(out.rglob("results.json"))
        assert saved, "nothing was saved"
        for path in saved:  # after the sweeps, what is left is the single-thread cost
            assert json.loads(path.read_text())["run"]["complete"] is (phase == "single-thread")
        assert not (out / "serial-cost.json").exists()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        alive = [p for p in seen if psutil.pid_exists(p)
                 and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
        if not alive:
            break
        time.sleep(0.1)
    assert not alive, f"processes left behind after Ctrl-C at {phase}: {alive}"
    assert leftovers(shm_before, temp, seen | {proc.pid}) == set()
    if phase == "single-thread":  # the sweeps are kept; the resume measures only this
        r = subprocess.run([sys.executable, "-m", "gilbench", "run", "--resume", str(out)],
                           env=cli_env, cwd=tmp_path, capture_output=True, text=True,
                           timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        said = " ".join(r.stderr.split())  # its first line wraps to the terminal
        assert "; 0 cells left" in said and (out / "serial-cost.json").exists()
        assert (out / "compare.md").exists()


def test_sigterm_stops_a_run_like_ctrl_c(cli_env, tmp_path, private_tmp):
    # `kill PID` (or a job scheduler's stop): the same saved results and resume line, the
    # workers closed (no "leaked semaphore" warning from the resource tracker), exit 143.
    out = tmp_path / "out"
    args = sweep("serial,threads,pool_map,process_pool", "--out", str(out))
    args[args.index("fib")] = "fib,sleep"
    shm_before, temp = shm_names(), private_tmp
    proc = start_interruptible(args, env={**cli_env, "TMPDIR": str(temp)}, cwd=tmp_path)
    results = out / "results.json"
    seen: set[int] = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(psutil.Error):
            seen |= {p.pid for p in psutil.Process(proc.pid).children(recursive=True)}
        with contextlib.suppress(OSError, ValueError):
            if len(json.loads(results.read_text())["cells"]) >= 3:
                break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be stopped"
    proc.terminate()  # SIGTERM to gilbench alone, not its group
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr[-2000:]
    assert f"gilbench run --resume {out}" in stderr
    assert "Traceback" not in stderr and "leaked" not in stderr, stderr[-2000:]
    assert json.loads(results.read_text())["run"]["complete"] is False
    time.sleep(1)
    alive = [p for p in seen if psutil.pid_exists(p)
             and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"processes left behind after SIGTERM: {alive}"
    assert leftovers(shm_before, temp, seen | {proc.pid}) == set()


def test_an_interrupted_python_run_resumes_where_it_stopped(cli_env, tmp_path):
    out = tmp_path / "out"
    args = run("--suite", "speedup", "--workloads", "fib,sleep", "--strategies",
               "serial,threads,process_pool", "--workers", "1,2", "--python", sys.executable,
               "--out", str(out))
    proc = start_interruptible(args, env={**cli_env, ENV: "python-run:2"}, cwd=tmp_path)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-2000:]
    assert f"gilbench run --resume {out}" in stderr
    (saved,) = out.glob("*/results.json")
    before = json.loads(saved.read_text())
    assert before["run"]["complete"] is False and 0 < len(before["cells"]) < 10
    r = subprocess.run([sys.executable, "-m", "gilbench", "run", "--resume", str(out)],
                       env=cli_env, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"{10 - len(before['cells'])} cells left" in " ".join(r.stderr.split())
    after = json.loads(saved.read_text())
    assert after["run"]["complete"] is True and len(after["cells"]) == 10
    times = {(c["workload"], c["strategy"], c["workers"]): c["times_s"] for c in after["cells"]}
    for c in before["cells"]:  # finished cells are kept, not measured again
        assert times[(c["workload"], c["strategy"], c["workers"])] == c["times_s"]
    assert len(after["run"]["parts"]) == 2


def test_resume_of_a_folder_that_is_no_run_is_one_line(cli_env, tmp_path):
    r = subprocess.run([sys.executable, "-m", "gilbench", "run", "--resume", str(tmp_path)],
                       env=cli_env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
