"""One way to build a cell: ``gilbench run``'s sweep and the pytest path make their cells
through ``bench.runner.build_cell``, from runs timed in the same alternating order."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

import pytest

from gilbench.bench import pytest_plugin
from gilbench.bench.pytest_plugin import BenchmarkSession, run_benchmark
from gilbench.bench.runner import CellSpec, Plan, cell_fields
from gilbench.bench.runner.sweep import run as run_sweep
from gilbench.workloads import WORKLOADS

# What may differ between two cells of the same spec by how the measurement went, not
# by which path built it.
# Outcomes, not fields every cell has; "confirmation": the sweep re-measures its finalists
# after all cells, which pytest-benchmark, one test per cell, has no place for.
OUTCOME = {"noise", "left_early", "error", "confirmation"}


class FakeBenchmark:
    """pytest-benchmark's ``benchmark`` as ``run_benchmark`` uses it: ``pedantic`` calls
    ``setup`` before every round, warm-up rounds first, and times ``target`` alone
    (here: a counter, so the order of calls can be read back)."""

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.extra_info: dict[str, Any] = {}
        self.group = None
        self.enabled = True
        self.stats = SimpleNamespace(stats=SimpleNamespace(data=[]))

    def pedantic(self, target, setup, rounds, warmup_rounds, iterations):
        assert iterations == 1
        for i in range(warmup_rounds + rounds):
            args, kwargs = setup()
            self.log.append("warm-up" if i < warmup_rounds else "cell")
            target(*args, **kwargs)
            if i >= warmup_rounds:
                self.stats.stats.data.append(0.01 * (1 + i % 3))


@pytest.fixture
def order(monkeypatch) -> list[str]:
    log: list[str] = []
    real = pytest_plugin.task_map_serial

    def serial(task, items):
        log.append("serial")
        return real(task, items)

    monkeypatch.setattr(pytest_plugin, "task_map_serial", serial)
    return log


def pytest_cell(strategy: str, log: list[str]):
    session = BenchmarkSession(profile="quick", timed=True)
    try:
        return run_benchmark(FakeBenchmark(log), session, "sleep", strategy, 2)
    finally:
        session.stack.close()


def test_the_pytest_path_pairs_its_rounds_in_the_sweeps_alternating_order(order):
    cell = pytest_cell("threads", order)
    timed = [x for x in order if x != "warm-up"]
    # serial, A, then A, serial: a linear drift of the machine cancels in the pairs.
    assert timed == ["serial", "cell", "cell", "serial"] * 5
    # as many pairs as the CLI's confirmed headlines (quick's 6 gave no joint interval)
    assert len(cell.serial_times_s) == len(cell.times_s) == 10


def test_the_pytest_paths_cell_has_every_field_the_sweeps_has(order):
    from gilbench.bench.profiles import PROFILES

    quick = PROFILES["quick"]
    plan = Plan(profile="quick", workloads=("sleep",), strategies=("serial", "threads"),
                workers=(2,), start_methods=("fork",), repeats=quick.repeats,
                warmup=quick.warmup, tasks=8, timeout_s=60,
                sizes=(("sleep", WORKLOADS["sleep"].size_for("quick")),))
    sweep = {c.strategy: c for c in run_sweep(plan)}
    ours = pytest_cell("threads", order)
    mine, theirs = sweep["threads"], ours
    for f in dataclasses.fields(mine):
        if f.name in OUTCOME:
            continue
        if getattr(mine, f.name) is not None:
            assert getattr(theirs, f.name) is not None, f"the pytest path leaves {f.name} unset"
    # The same identity, from the same function.
    spec = CellSpec("sleep", "threads", None, 2, theirs.size, theirs.tasks)
    assert {k: getattr(theirs, k) for k in cell_fields(spec)} == cell_fields(spec)
