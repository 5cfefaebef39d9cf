"""Helpers shared by the test modules (test modules never import each other)."""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import json
import multiprocessing
import multiprocessing.forkserver
import multiprocessing.resource_tracker
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from gilbench.bench.results import Cell, Results, with_speedup, with_speedups
from gilbench.bench.suites import IpcEntry, LatencyEntry, StartupEntry, SyncEntry

SHM = Path("/dev/shm")
# What multiprocessing leaves in /dev/shm when a process dies before cleaning up: shared
# memory segments (psm_*) and the named semaphores of spawn and forkserver (sem.mp-*).
SHM_PATTERNS = ("psm_*", "sem.mp-*")


def shm_names() -> set[str]:
    """Every shared-memory segment and multiprocessing semaphore now in /dev/shm."""
    if not SHM.is_dir():
        return set()
    return {p.name for pattern in SHM_PATTERNS for p in SHM.glob(pattern)}


def shm_in_use() -> set[str]:
    """The /dev/shm names some live process has mapped or open: another test's segments
    and semaphores (tests run side by side under pytest-xdist), not leftovers. A leftover
    is one that no process uses any more."""
    used = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            used |= {line.rpartition("/dev/shm/")[2].split(" (deleted)")[0]
                     for line in (proc / "maps").read_text().splitlines()
                     if "/dev/shm/" in line}
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("/dev/shm/"):
                        used.add(target.removeprefix("/dev/shm/"))
    return used


def shm_leftovers(before: set[str], looks: int = 5, apart_s: float = 0.2) -> set[str]:
    """The shared-memory segments and semaphores made since ``before`` that no live
    process uses: what a test (or the session) left behind. Looked at ``looks`` times
    ``apart_s`` apart: one that another test is creating or removing right now (listed,
    then gone before its users were read) is not a leftover; a leftover stays."""
    left = shm_names() - before
    for _ in range(looks):
        left &= shm_names()
        left -= shm_in_use()
        if not left:
            break
        time.sleep(apart_s)
    return left


def multiprocessing_helpers() -> set[int]:
    """multiprocessing's (and loky's) own long-lived helpers (the forkserver, the
    resource trackers): started on first use, they exit with the interpreter, by design."""
    pids = set()
    with contextlib.suppress(AttributeError):
        pids.add(multiprocessing.forkserver._forkserver._forkserver_pid)
    with contextlib.suppress(AttributeError):
        pids.add(multiprocessing.resource_tracker._resource_tracker._pid)
    # loky keeps its own resource tracker for the life of the interpreter, likewise.
    with contextlib.suppress(ImportError, AttributeError):
        from loky.backend import resource_tracker

        pids.add(resource_tracker._resource_tracker._pid)
    return {p for p in pids if p}


def temp_leftovers(folder: Path | None = None, owners: set[int] | None = None) -> set[str]:
    """gilbench's folders in ``folder`` (the temporary directory by default), less a
    local Ray's folder of a process still running (``gilbench-ray-<pid>-...``: another
    test's Ray, in use). ``owners``: only the Ray folders of these pids (a test's own
    runs: the tests beside it, in another pytest-xdist worker, make and remove theirs)."""
    out = set()
    for p in (folder or Path(tempfile.gettempdir())).glob("gilbench-*"):
        owner = p.name.removeprefix("gilbench-ray-").partition("-")[0]
        ray = p.name.startswith("gilbench-ray-") and owner.isdigit()
        if owners is not None and not (ray and int(owner) in owners):
            continue
        if ray and psutil.pid_exists(int(owner)) and int(owner) != os.getpid():
            continue
        out.add(p.name)
    return out


@contextlib.contextmanager
def private_tmp_dir():
    """A temporary directory of a test's own (its commands get it as TMPDIR), so that
    what a test beside it makes in /tmp is not taken for this one's leftovers. Short, in
    /tmp, not under the test's tmp_path: the Unix sockets multiprocessing puts under
    TMPDIR (the forkserver's, a Manager's) must fit in 107 bytes (a path under
    /tmp/pytest-of-root/pytest-123/popen-gw1/test_.../ does not). Removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="gbt-", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def children() -> set[int]:
    """Every descendant pid, zombies included (a zombie is a child nobody joined),
    less multiprocessing's own helpers."""
    return {p.pid for p in psutil.Process().children(recursive=True)} - multiprocessing_helpers()


def describe_pids(pids: set[int]) -> list[str]:
    """Each process in words (pid, state, command line), for a failure message."""
    out = []
    for pid in sorted(pids):
        try:
            p = psutil.Process(pid)
            out.append(f"{pid} {p.status()} {' '.join(p.cmdline())[:160]}")
        except psutil.Error:
            out.append(f"{pid} (gone)")
    return out


def assert_no_new_children(before: set[int]) -> None:
    deadline = time.monotonic() + 5
    while (left := children() - before) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, f"workers left behind: {describe_pids(left)}"


# ------------------------------------------------------------ made-up cells

MODELS = {"serial": "serial", "threads": "threads", "thread_pool": "threads",
          "pool_map": "processes", "process_pipe": "processes", "process_pool": "processes"}


# Seven runs a side: the fewest with an unpaired 95% interval (97.5% per median).
SPREAD = (0.99, 0.993, 0.997, 1.0, 1.003, 1.007, 1.01)
# Ten pairs: a paired interval at 95% (2nd smallest to 2nd largest ratio) and, the same
# range, at up to 1 - 0.05/25 (the full range), as joint intervals over a choice need.
PAIRED_SPREAD = (0.99, 0.99, 0.993, 0.997, 1.0, 1.0, 1.003, 1.007, 1.01, 1.01)


def ratios_cell(workload, kind, strategy, workers, lo, point, hi, **kw):
    """A paired cell whose ten per-round ratios are lo x 3, point x 4, hi x 3: its speedup
    is ``point`` and its interval [lo, hi] at 95% (interpolated between the 2nd and 3rd
    order statistics, both lo) and at every level up to 0.998."""
    ratios = (lo, lo, lo, *(point,) * 4, hi, hi, hi)
    c = Cell(workload=workload, kind=kind, size=kw.pop("size", 1), tasks=8,
             strategy=strategy,
             start_method="fork" if MODELS[strategy] == "processes" else None,
             workers=workers, status="ok", model=MODELS[strategy], times_s=(0.1,) * 10,
             serial_times_s=tuple(0.1 * r for r in ratios), median_s=0.1, startup_s=0.01)
    return dataclasses.replace(with_speedup(c, c.serial_times_s), **kw)


def cell(workload, kind, strategy, workers, median, status="ok", serial=1.0):
    """A made-up cell with times around ``median``; a non-serial ok one is paired with
    serial runs around ``serial`` (the way every cell of today's sweep is), so its
    speedup has an interval (10 pairs, ``PAIRED_SPREAD``)."""
    paired = status == "ok" and strategy != "serial"
    spread = PAIRED_SPREAD if paired else SPREAD
    times = tuple(median * f for f in spread) if status == "ok" else ()
    pairs = tuple(serial * f for f in reversed(spread)) if paired else ()
    return Cell(workload=workload, kind=kind, size=1, tasks=8, strategy=strategy,
                start_method="fork" if MODELS[strategy] == "processes" else None,
                workers=workers, status=status, model=MODELS[strategy], times_s=times,
                serial_times_s=pairs,
                median_s=median if status == "ok" else None, startup_s=0.01,
                error=None if status == "ok" else "worker process 1 was killed by SIGKILL")


def fib_cell(strategy, workers, median, *, workload="fib", size=10, tasks=8, **kw):
    """A fib cell with times around ``median`` (keywords set any other field)."""
    times = tuple(median * f for f in SPREAD)
    return Cell(workload=workload, kind="cpu", size=size, tasks=tasks, strategy=strategy,
                start_method="fork" if MODELS[strategy] == "processes" else None,
                workers=workers, status="ok", model=MODELS[strategy], times_s=times,
                median_s=median, **kw)


def plan_record(**fields) -> dict:
    """A whole plan's JSON form (as results.json's run.plan holds it), ``fields`` changed."""
    from gilbench.bench.plan import Plan

    base = dict(profile="quick", workloads=("fib",), strategies=("serial", "threads"),
                workers=(2,), start_methods=("fork",), repeats=3, warmup=0, tasks=8,
                timeout_s=60, sizes=(("fib", 24),))
    return Plan(**{**base, **fields}).to_dict()


def box_results(cells, **run):
    return Results(machine={"hostname": "box", "usable_cpus": 4}, cells=tuple(cells),
                   run={"profile": "quick", "complete": True, **run})


def sample_results() -> Results:
    cells = [
        cell("fib", "cpu", "serial", 1, 1.0),
        cell("fib", "cpu", "threads", 2, 1.0),
        cell("fib", "cpu", "pool_map", 2, 0.52),
        cell("fib", "cpu", "process_pipe", 2, 0.5),
        cell("fib", "cpu", "process_pipe", 4, 0.5, status="error"),
        cell("sleep", "io", "serial", 1, 1.0),
        cell("sleep", "io", "threads", 4, 0.26),
        cell("sleep", "io", "pool_map", 4, 0.255),
        cell("sleep", "io", "process_pipe", 4, 0.3),
    ]
    return Results(machine={"hostname": "box", "usable_cpus": 2, "python_version": "3.11"},
                   cells=tuple(with_speedups(cells)), run={"profile": "quick", "complete": True})


# ------------------------------------------------------------ made-up cost entries

US = 1e-6
MS = 1e-3


def around(x, spread=0.02):
    """A made-up 95% interval: ``spread`` either side of ``x``."""
    return (x * (1 - spread), x * (1 + spread))


def sync_entry(name, model, median, spread=0.02):
    return SyncEntry(mechanism=name, model=model, median_s=median, p99_s=median * 2,
                     median_ci95_s=around(median, spread), p99_ci95_s=around(median * 2),
                     round_trips=100, start_method="fork" if model == "processes" else None)


def ipc_entry(transport, size, median, model="processes", spread=0.02):
    return IpcEntry(transport=transport, model=model, payload_bytes=size, round_trips=50,
                    messages=100, median_s=median, p99_s=median * 1.5, msgs_per_s=1 / median,
                    median_ci95_s=around(median, spread), p99_ci95_s=around(median * 1.5),
                    bytes_per_s=size / median)


def lat_entry(model, n, p99, si=0.005, spread=0.05):
    return LatencyEntry(model=model, cpu_workers=n, switch_interval_s=si, pings=500,
                        median_s=p99 / 2, p99_s=p99, max_s=p99 * 1.2,
                        median_ci95_s=around(p99 / 2), p99_ci95_s=around(p99, spread))


def suite_results(cells=(), **suites) -> Results:
    return Results(machine={"hostname": "box", "usable_cpus": 2, "python_version": "3.11"},
                   cells=tuple(with_speedups(cells)), run={"profile": "quick"},
                   suites={k: tuple(v) for k, v in suites.items()})


def verdict(rule, r):
    return rule(r)[0]


def full_sample() -> Results:
    return suite_results(
        [cell("fib", "cpu", "serial", 1, 1.0), cell("fib", "cpu", "threads", 2, 1.0),
         cell("fib", "cpu", "pool_map", 2, 0.52)],
        startup=[StartupEntry(what="start_join", model="threads", median_s=80 * US,
                              p99_s=100 * US),
                 StartupEntry(what="start_join", model="processes", start_method="fork",
                              median_s=2 * MS, p99_s=3 * MS),
                 StartupEntry(what="pool", model="processes", start_method="fork", workers=2,
                              median_s=4 * MS, p99_s=5 * MS, uss_bytes=2e6, pss_bytes=5e6),
                 StartupEntry(what="zombie", model="processes", observed=True, detail="x")],
        ipc=[ipc_entry("pipe", 64, 50 * US), ipc_entry("pipe", 2**20, 500 * US),
             ipc_entry("thread_queue", 64, 40 * US, model="threads"),
             IpcEntry(transport="memcpy", model="memory", payload_bytes=2**20, median_s=20 * US,
                      bytes_per_s=5e10, msgs_per_s=5e4, messages=10),
             IpcEntry(transport="manager", payload_bytes=64, status="error",
                      error="partner process 9 exited with code 3")],
        sync=[sync_entry("lock", "threads", 30 * US), sync_entry("lock", "processes", 10 * US)],
        latency=[lat_entry("threads", 0, 0.1 * MS), lat_entry("threads", 1, 9 * MS),
                 lat_entry("processes", 1, 0.1 * MS)])


# ------------------------------------------------------------ gilbench as a user runs it

def run_gilbench(*args: str, env: dict[str, str], cwd: Path, timeout: float = 300):
    return subprocess.run([sys.executable, "-m", "gilbench", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_interruptible(args: list[str], **kw) -> subprocess.Popen:
    """Start a program in its own session (a terminal's foreground group: a SIGINT to the
    group reaches all of it) with SIGINT at its default, however this test session was
    started (a background job of a script inherits SIGINT *ignored*)."""
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=_default_sigint, **kw)


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


def free_threaded_python() -> str | None:
    """The free-threaded CPython that .ci/build-python builds: $GILBENCH_FT_PYTHON (CI sets
    it, and then it must work), else the build cache's, if there is one here."""
    given = os.environ.get("GILBENCH_FT_PYTHON")
    root = Path(os.environ.get("GILBENCH_PYTHONS") or Path.home() / ".cache/gilbench-pythons")
    for c in ([given] if given else [str(root / "3.13t/bin/python3.13t")]):
        ok = Path(c).exists() and subprocess.run(
            [c, "-c", "import sys, sysconfig; sys.exit(not sysconfig.get_config_var("
                      "'Py_GIL_DISABLED'))"], capture_output=True, timeout=60).returncode == 0
        if ok:
            return c
        if given:
            raise RuntimeError(f"GILBENCH_FT_PYTHON={given} is not a working free-threaded "
                               "CPython; build one with .ci/build-python")
    return None


def debian_python(series: str) -> str | None:
    """Python ``series`` (3.14, 3.15) as tools/get-python sets it up: $GILBENCH_PY314 /
    $GILBENCH_PY315 (CI sets them, and then it must work), else the cache's, if there is
    one here."""
    name = "GILBENCH_PY" + series.replace(".", "")
    given = os.environ.get(name)
    root = Path(os.environ.get("GILBENCH_PYTHONS") or Path.home() / ".cache/gilbench-pythons")
    for c in ([given] if given else [str(root / f"{series}-debian/venv/bin/python")]):
        want = tuple(int(x) for x in series.split("."))
        ok = Path(c).exists() and subprocess.run(
            [c, "-c", f"import sys; sys.exit(sys.version_info[:2] != {want})"],
            capture_output=True, timeout=60).returncode == 0
        if ok:
            return c
        if given:
            raise RuntimeError(f"{name}={given} is not a working Python {series}; set one up "
                               f"with tools/get-python {series}")
    return None


PY314, PY315 = debian_python("3.14"), debian_python("3.15")
TODAYS_PYTHONS = [p for p in (PY314, PY315) if p]
needs_py315 = pytest.mark.skipif(
    PY315 is None, reason="no Python 3.15 here: tools/get-python 3.15 sets one up (seconds) "
                          "and .ci/run sets GILBENCH_PY315")


FT_PYTHON = free_threaded_python()
needs_ft_python = pytest.mark.skipif(
    FT_PYTHON is None, reason="no free-threaded CPython here: .ci/build-python builds one "
                              "(about 5 minutes) and .ci/run sets GILBENCH_FT_PYTHON")


# ------------------------------------------------------------ the results schema

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "bench" / "schema"
SCHEMA = SCHEMA_DIR / "results.schema.json"
# The published schemas, by the file each describes (interpreters.json's plan refers to
# results.schema.json's, by its $id).
SCHEMAS = {"results.json": SCHEMA,
           "interpreters.json": SCHEMA_DIR / "interpreters.schema.json",
           "serial-cost.json": SCHEMA_DIR / "serial-cost.schema.json"}


def schema_errors(data: object, file: str = "results.json") -> list[str]:
    """What in a results.json (or interpreters.json, serial-cost.json: ``file``) breaks
    its published schema (empty: nothing)."""
    import json

    import jsonschema
    from referencing import Registry, Resource

    schemas = {name: json.loads(path.read_text(encoding="utf-8"))
               for name, path in SCHEMAS.items()}
    registry = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in schemas.values())
    validator = jsonschema.Draft202012Validator(schemas[file], registry=registry)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
            for e in validator.iter_errors(data)]


def run_watched(args: list[str], *, env: dict[str, str], cwd: Path, fsize: int | None = None,
                signal_when: dict | None = None, linger_s: float = 0.0,
                timeout_s: float = 300) -> dict:
    """Run a command under a child subreaper (``tests/subreaper.py``): its exit code, what
    it said, and ``left``: every descendant it still had the moment it exited (after
    ``linger_s``, for a command killed with SIGKILL). ``fsize``: a file-size limit (a
    full disk without root); ``signal_when``: ``{"name": ..., "when": ...}``."""
    spec = {"args": args, "cwd": str(cwd), "env": env, "fsize": fsize, "signal": signal_when,
            "linger_s": linger_s, "timeout_s": timeout_s}
    r = subprocess.run([sys.executable, "-m", "tests.subreaper", json.dumps(spec)],
                       env={**env, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
                       capture_output=True, text=True, timeout=timeout_s + 120)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout)
    assert "error" not in out, out
    return out

