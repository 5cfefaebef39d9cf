"""Shared fixtures, and the check that the test session itself leaks nothing."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import time
from pathlib import Path

import psutil
import pytest

from tests.helpers import (
    SCHEMAS,
    children,
    private_tmp_dir,
    schema_errors,
    shm_leftovers,
    shm_names,
)

# gilbench's pytest-benchmark integration comes from its pytest11 entry point
# (gilbench.pytest_plugin), as in a user's project: nothing to load here.


# pyproject's addopts run the tests on pytest-xdist workers, one per core (a serial run
# spent about half its time waiting on subprocesses). A timed session (--benchmark-only,
# --benchmark-enable) must time one benchmark at a time, so it runs in this process unless
# -n was typed on the command line (which the plugin then refuses, in one line).
NUMPROCESSES_TYPED = re.compile(r"-n($|=|\d|auto|logical)|--numprocesses($|=)")


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    timed = config.getoption("benchmark_only", False) or config.getoption(
        "benchmark_enable", False)
    typed = any(NUMPROCESSES_TYPED.match(a) for a in config.invocation_params.args)
    if timed and not typed and config.getoption("numprocesses", None):
        config.option.numprocesses = 0


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # Timed benchmarks side by side on xdist workers would time each other: refused in
    # one line, before pytest-benchmark's own refusal.
    if config.getoption("benchmark_only", False) and (
            config.getoption("dist", "no") != "no" or config.getoption("numprocesses", None)):
        raise pytest.UsageError("gilbench: pytest-xdist runs benchmarks side by side "
                                "(their times mean nothing); use -n 0")
    # In an xdist worker: the pytest sessions and commands a test starts must meet the
    # machine a user's do, not "a parallelized environment" (pytest-benchmark reads
    # PYTEST_XDIST_WORKER from the environment and disables itself).
    if hasattr(config, "workerinput"):
        for name in [n for n in os.environ if n.startswith("PYTEST_XDIST_")]:
            del os.environ[name]
    # The Ctrl-C tests send SIGINT to the processes they start. A session launched in
    # the background by a non-interactive shell inherits SIGINT *ignored*, and so would
    # every child (Python leaves an ignored SIGINT ignored): make it deliverable again.
    # Children then start with it at its default (exec resets a caught signal).
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


# Under plain pytest (untimed), the benchmark matrix of tests/test_benchmarks.py proves the
# plugin's path once per strategy and once per workload: test_strategies.py runs every
# workload in every kind of worker, and every strategy's whole cell, already. The rest of
# the matrix (each workload under each strategy) is deselected, and said; with
# --benchmark-only (or --benchmark-enable) every item is timed.
BENCHMARK_MODULE = "tests/test_benchmarks.py"


def _plain_benchmark_items(items: list[pytest.Item]) -> tuple[list[pytest.Item], list[pytest.Item]]:
    """The benchmark items plain pytest runs (one per strategy, one per workload), and the
    rest."""
    keep, drop, strategies, workloads = [], [], set(), set()
    for item in items:
        if not item.nodeid.startswith(BENCHMARK_MODULE + "::"):
            keep.append(item)
            continue
        spec = getattr(item, "callspec", None)
        workload, strategy, _ = spec.params["gilbench_cell"] if spec else (None, None, None)
        if strategy not in strategies or (strategy == "serial" and workload not in workloads):
            keep.append(item)
            strategies.add(strategy)
            workloads.add(workload)
        else:
            drop.append(item)
    return keep, drop


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("benchmark_only", False) or config.getoption("benchmark_enable", False):
        return
    keep, drop = _plain_benchmark_items(items)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _live_children() -> list[psutil.Process]:
    out = []
    for pid in children():
        with contextlib.suppress(psutil.NoSuchProcess):
            out.append(psutil.Process(pid))
    return out


@pytest.fixture(scope="session", autouse=True)
def no_leaks_after_session():
    """After every test: no child process (nor zombie) of this process, and no new
    shared-memory segment that no process uses (a test beside this one, in another
    pytest-xdist worker, may be using its own)."""
    shm_before = shm_names()
    yield
    deadline = time.monotonic() + 10
    while _live_children() and time.monotonic() < deadline:
        time.sleep(0.1)
    left = []
    for c in _live_children():
        with contextlib.suppress(psutil.NoSuchProcess):
            left.append(f"{c.pid} {c.name()} ({c.status()})")
    new_shm = sorted(shm_leftovers(shm_before))
    assert not left, f"the test session left child processes behind: {left}"
    assert not new_shm, f"the test session left shared-memory segments behind: {new_shm}"


@pytest.fixture(autouse=True)
def results_files_match_the_schema(request: pytest.FixtureRequest):
    """Every results.json gilbench wrote under a test's tmp_path (a run, a --python run,
    a pytest session: its ``run`` records the argv), and every interpreters.json and
    serial-cost.json of a --python run, matches its published schema (bench/schema/):
    checked after the test, an error if not. Files a test makes by hand from made-up
    cells, with a two-key machine record, are not gilbench's output and are left out."""
    if "tmp_path" not in request.fixturenames:
        yield
        return
    tmp = request.getfixturevalue("tmp_path")  # set up first, so torn down after this
    yield
    bad = {}
    for name in SCHEMAS:
        for path in tmp.rglob(name):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                continue  # a test that writes a broken file on purpose
            if not isinstance(data, dict):
                continue
            if name == "results.json" and "argv" not in (data.get("run") or {}):
                continue
            if name != "results.json" and data.get("schema_version") != 1:
                continue  # one a test wrote by hand (gilbench writes version 1)
            errors = schema_errors(data, name)
            if errors:
                bad[str(path.relative_to(tmp))] = errors[:3]
    if bad:
        pytest.fail(f"files that break their schema: {bad}")


@pytest.fixture
def private_tmp():
    """A short temporary directory of the test's own (``helpers.private_tmp_dir``)."""
    with private_tmp_dir() as path:
        yield path


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture
def cli_env(repo_root: Path) -> dict[str, str]:
    """Environment for running ``python -m gilbench`` from any folder."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(repo_root) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PYTHON_GIL", None)
    return env
