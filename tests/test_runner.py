"""The runner with a fake clock (exact times), plans, profiles and resume."""

from __future__ import annotations

import dataclasses

import pytest

from bench.profiles import PROFILES, default_workers
from bench.results import Cell
from bench.runner import CellSpec, Plan, measure, run
from bench.strategies import STRATEGIES
from tests import kernels
from workloads import PROFILES as SIZE_PROFILES
from workloads import WORKLOADS


class FakeClock:
    def __init__(self, readings):
        self.readings = list(readings)

    def __call__(self) -> float:
        return self.readings.pop(0)


def test_measure_times_exactly_what_the_clock_says():
    # start-up 0.5 s; three repeats of 2, 3 and 1 s (one warm-up is untimed)
    clock = FakeClock([0.0, 0.5, 10.0, 12.0, 20.0, 23.0, 30.0, 31.0])
    spec = CellSpec("fib", "serial", None, 1, 1, 3)
    cell, out = measure(spec, kernels.square, [0, 1, 4], repeats=3, warmup=1, timeout_s=None,
                        clock=clock, cpu_meter=lambda: 0.0)
    assert cell.status == "ok"
    assert cell.startup_s == 0.5
    assert cell.times_s == (2.0, 3.0, 1.0)
    assert cell.median_s == 2.0
    assert cell.rel_std == pytest.approx(0.5)  # std 1 / mean 2
    assert cell.noisy
    assert out == [0, 1, 4]
    assert clock.readings == []


def test_measure_reports_cpu_time_per_repeat():
    readings = iter([0.0, 1.0])
    spec = CellSpec("fib", "serial", None, 1, 1, 2)
    cell, _ = measure(spec, kernels.square, None, repeats=2, warmup=0, timeout_s=None,
                      cpu_meter=lambda: next(readings))
    assert cell.cpu_s == 0.5


def plan(**kw) -> Plan:
    base = dict(profile="smoke", workloads=("fib", "sleep"),
                strategies=("serial", "threads", "pool_map"), workers=(1, 2),
                start_methods=("fork", "spawn"), repeats=1, warmup=0, tasks=4, timeout_s=60,
                sizes=(("fib", 5), ("sleep", 1)))
    base.update(kw)
    return Plan(**base)


def test_plan_runs_serial_first_and_start_methods_only_for_processes():
    specs = plan().specs()
    fib = [s for s in specs if s.workload == "fib"]
    assert fib[0] == CellSpec("fib", "serial", None, 1, 5, 4)
    threads = [s for s in fib if s.strategy == "threads"]
    assert [(s.start_method, s.workers) for s in threads] == [(None, 1), (None, 2)]
    pools = [(s.start_method, s.workers) for s in fib if s.strategy == "pool_map"]
    assert pools == [("fork", 1), ("fork", 2), ("spawn", 1), ("spawn", 2)]
    assert len(specs) == 2 * (1 + 2 + 4)


def test_run_measures_every_cell_and_resume_skips_finished_ones():
    p = plan(start_methods=("fork",))
    seen: list[Cell] = []
    cells = run(p, on_cell=lambda spec, cell: seen.append(cell))
    assert cells == seen
    assert len(cells) == len(p.specs())
    assert all(c.ok for c in cells), [c.error for c in cells if not c.ok]
    # Resume: everything but the last two cells is done already.
    done = {c.key for c in cells[:-2]}
    again = run(p, skip=done)
    assert [c.key for c in again] == [c.key for c in cells[-2:]]
    assert all(c.ok for c in again)


def test_a_workload_whose_requirement_is_missing_is_skipped(monkeypatch):
    fib = WORKLOADS["fib"]
    monkeypatch.setitem(WORKLOADS, "fib", dataclasses.replace(fib, requires=("no_such_mod",)))
    cells = run(plan(workloads=("fib",), start_methods=("fork",)))
    assert {c.status for c in cells} == {"skipped"}
    assert "no_such_mod" in cells[0].error


@pytest.mark.parametrize("usable, expected", [
    (1, [1, 2]), (2, [1, 2, 4]), (3, [1, 2, 3, 4, 6]), (16, [1, 2, 4, 8, 16, 32]),
])
def test_default_workers_go_to_twice_the_usable_cpus(usable, expected):
    assert default_workers(usable) == expected


def test_default_workers_cap():
    assert default_workers(16, cap=2) == [1, 2]


def test_every_workload_has_a_size_for_every_profile():
    for w in WORKLOADS.values():
        assert set(w.sizes) == set(SIZE_PROFILES) >= set(PROFILES)
        assert all(isinstance(v, int) and v > 0 for v in w.sizes.values())


def test_registries_have_the_design_names():
    assert {"fib", "nbody", "primes", "mandelbrot", "sha256", "zlib", "numpy_matmul",
            "sleep", "file_rw", "socket_echo"} <= set(WORKLOADS)
    assert {"serial", "threads", "thread_pool", "process_queue", "process_pipe", "pool_map",
            "pool_imap", "pool_apply_async", "process_pool"} <= set(STRATEGIES)
    kinds = {w.name: (w.kind, w.releases_gil) for w in WORKLOADS.values()}
    assert kinds["fib"] == ("cpu", False)
    assert kinds["sha256"] == ("native", True)
    assert kinds["sleep"] == ("io", True)
