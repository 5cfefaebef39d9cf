"""The runner with a fake clock (exact times), plans, profiles and resume."""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np
import pytest

from gilbench.bench import machine, stats
from gilbench.bench.profiles import PROFILES, default_workers
from gilbench.bench.results import Cell
from gilbench.bench.runner import (
    BlockMeasurement,
    CellSpec,
    Plan,
    Precision,
    StoppingRule,
    measure,
    measure_block,
    points,
    run,
)
from gilbench.bench.runner import specs as runner_specs
from gilbench.bench.runner.placement import FREE, PAIRED, Placement
from gilbench.bench.strategies import STRATEGIES, CellFailure, Strategy
from gilbench.workloads import PROFILE_NAMES as SIZE_PROFILES
from gilbench.workloads import WORKLOADS, Task
from tests import coverage, kernels


class FakeClock:
    """Time that passes only when a fake strategy says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def fake_strategies(clock: FakeClock, durations: dict[str, list[float]], log: list[str],
                    fail_at: dict[str, int] | None = None) -> dict[str, type[Strategy]]:
    """A serial and a 'fake' strategy whose runs take the scripted durations
    (by worker count, or 'S' for serial) on the fake clock."""

    class Fake(Strategy):
        name = "fake"
        # Workers that could use every CPU (fib is pure Python: a GIL-bound threads model
        # would have a 1x ceiling and the scripted 2x cells would be impossible).
        model = "processes"

        def map(self, fn, items, deadline):
            key = "S" if self.name == "serial" else f"c{self.workers}"
            log.append(key)
            n = sum(x == key for x in log)
            if fail_at and fail_at.get(key) == n:
                raise CellFailure(f"{key} failed on run {n}")
            series = durations[key]
            clock.now += series[(n - 1) % len(series)]
            return [fn(i) for i in items]

    class FakeSerial(Fake):
        name = "serial"
        model = "serial"

    return {"fake": Fake, "serial": FakeSerial}


def stepper(durations, precision, workers=(1, 2), fail_at=None, warmup=1):
    """A BlockMeasurement on the fake clock, to drive one step at a time."""
    clock = FakeClock()
    log: list[str] = []
    strategies = fake_strategies(clock, durations, log, fail_at)
    specs = [CellSpec("fib", "fake", None, n, 1, 3) for n in workers]
    m = BlockMeasurement(specs, kernels.square, [0, 1, 4], precision=precision, warmup=warmup,
                         timeout_s=None, serial=strategies["serial"](), clock=clock,
                         usable_cpus=2, strategies=strategies, placement=Placement(FREE))
    return m, log, clock


def block(durations, precision, fail_at=None, workers=(1, 2)):
    """A whole block measured (no warm-up run): its cells, the run log and the clock."""
    m, log, clock = stepper(durations, precision, workers, fail_at, warmup=0)
    return [cell for cell, _ in m.measure()], log, clock


def test_start_warms_every_cell_and_only_then_starts_the_budget_clock():
    m, log, clock = stepper({"S": [1.0], "c1": [2.0], "c2": [3.0]}, Precision(3, 20, 0.03, 1.0))
    m.start()
    assert log == ["c1", "c2"]  # one warm-up run each, no serial run yet
    assert [s.startup_s for s in m.slots] == [0.0, 0.0] and clock.now == 5.0
    assert m.rule.end == pytest.approx(5.0 + 2 * 1.0)  # 1 s of rounds per cell, from now
    assert len(m.active()) == 2 and m.rounds == 0


def test_run_round_alternates_the_order_and_pairs_one_serial_run():
    m, log, _ = stepper({"S": [1.0], "c1": [1.0], "c2": [0.5]}, Precision(3, 20, 0.03, 100))
    m.start()
    log.clear()
    first = m.run_round()
    assert log == ["S", "c1", "c2"] and first is not None and first.serial_s == 1.0
    assert [len(s.times) for s in m.slots] == [1, 1] and m.rounds == 1
    log.clear()
    second = m.run_round()
    assert log == ["c2", "c1", "S"] and second is not None and m.rounds == 2


def test_settle_pairs_each_run_and_finishes_a_cell_only_when_it_converged():
    m, _, _ = stepper({"S": [1.0], "c1": [1.0], "c2": [0.5, 0.6]},
                      Precision(6, 20, 0.03, 100))
    m.start()
    for _ in range(7):
        m.settle(m.run_round())
    assert not any(slot.done for slot in m.slots)  # no 99% interval before 8 pairs
    m.settle(m.run_round())
    c1, c2 = m.slots
    assert c1.serial == pytest.approx([1.0] * 8) and c1.done and c1.cell.speedup == 1.0
    assert not c2.done and len(c2.serial) == len(c2.times) == 8  # still above ±3%
    assert m.active() == [c2]


def test_tear_down_terminates_every_cell_that_is_still_open():
    m, _, _ = stepper({"S": [1.0], "c1": [1.0], "c2": [0.5]}, Precision(3, 20, 0.03, 100))
    m.start()
    m.tear_down()
    assert all(s.closed for s in m.slots)
    m.tear_down()  # twice is harmless: nothing is terminated again


def test_cells_come_back_in_the_order_of_their_specs_with_failures_as_cells():
    m, _, _ = stepper({"S": [1.0], "c1": [1.0], "c2": [0.5]}, Precision.fixed(2),
                      workers=(2, 1), fail_at={"c2": 2})
    m.start()
    while m.active():
        done = m.run_round()
        if done is not None:
            m.settle(done)
    c2, c1 = (cell for cell, _ in m.cells())
    assert (c2.workers, c2.status) == (2, "error") and "c2 failed on run 2" in c2.error
    assert (c1.workers, c1.status, len(c1.times_s)) == (1, "ok", 2)


def test_a_steady_cell_stops_at_the_minimum_with_an_exact_paired_speedup():
    # The minimum for the stopping rule's 99% interval: 8 pairs (1 - 2/2^8 = 0.992).
    cells, log, _ = block({"S": [1.0], "c1": [1.0], "c2": [0.5]},
                          Precision(6, 20, target=0.03, budget_s=100))
    c1, c2 = cells
    assert c2.times_s == (0.5,) * 8 and c2.serial_times_s == (1.0,) * 8
    assert c2.speedup == 2.0 and c2.speedup_ci95 == (2.0, 2.0) and c2.ci_half_width == 0.0
    assert c2.efficiency == 1.0 and not c2.noisy
    assert c1.speedup == 1.0
    # Serial first in even rounds, last in odd ones; cells reversed too.
    assert log[:9] == ["S", "c1", "c2", "c2", "c1", "S", "S", "c1", "c2"]


def test_a_noisy_cell_repeats_until_its_time_budget_is_spent():
    # Each round: serial 1 s + cell 0.5 or 0.8 s (never converges to 3%).
    # Budget 10 s for the one cell: after round k the clock reads about 1.65 k,
    # so the rule stops after round 7 (11.55 s >= 10 s), not before.
    cells, _, clock = block({"S": [1.0], "c1": [0.5, 0.8]},
                            Precision(3, 100, target=0.03, budget_s=10), workers=(1,))
    [c] = cells
    assert len(c.times_s) == 7 and clock.now == pytest.approx(7 * 1.0 + 4 * 0.5 + 3 * 0.8)
    assert c.noisy and "time budget spent" in c.noise and "above the ±3% target" in c.noise
    assert c.speedup_ci95[0] <= c.speedup <= c.speedup_ci95[1]


def test_max_repeats_caps_a_cell_that_never_converges():
    cells, _, _ = block({"S": [1.0], "c1": [0.5, 0.8]},
                        Precision(3, 7, target=0.03, budget_s=1e9), workers=(1,))
    assert len(cells[0].times_s) == 7 and "maximum repeats" in cells[0].noise


def test_a_cell_that_ends_below_six_pairs_has_no_interval_and_says_why():
    cells, _, _ = block({"S": [1.0], "c1": [0.5, 0.8]},
                        Precision(2, 5, target=0.03, budget_s=1e9), workers=(1,))
    [c] = cells
    assert len(c.times_s) == 5 and c.speedup_ci95 is None and c.ci_half_width is None
    assert c.noisy and "5 pairs: too few for a 95% interval" in c.noise


def test_a_converged_cell_leaves_the_rounds_while_a_noisy_one_goes_on():
    cells, log, _ = block({"S": [1.0], "c1": [1.0], "c2": [0.4, 0.7]},
                          Precision(6, 12, target=0.03, budget_s=1e9))
    c1, c2 = cells
    assert len(c1.times_s) == 8 and len(c2.times_s) == 12
    assert log.count("S") == 12 and log.count("c1") == 8


def test_fixed_repeats_run_exactly_that_many():
    cells, log, _ = block({"S": [1.0], "c1": [0.5, 0.8]}, Precision.fixed(4), workers=(1,))
    assert len(cells[0].times_s) == 4 and log.count("S") == 4


def test_a_cell_that_fails_mid_rounds_does_not_stop_the_others():
    cells, _, _ = block({"S": [1.0], "c1": [1.0], "c2": [0.5]},
                        Precision(3, 20, target=0.03, budget_s=100), fail_at={"c1": 2})
    c1, c2 = cells
    assert c1.status == "error" and "c1 failed on run 2" in c1.error and c1.times_s == (1.0,)
    assert c2.ok and len(c2.times_s) == 8


def test_a_failing_serial_run_fails_the_cells_it_pairs_with():
    cells, _, _ = block({"S": [1.0], "c1": [1.0]}, Precision(3, 20, target=0.03, budget_s=100),
                        fail_at={"S": 2}, workers=(1,))
    assert cells[0].status == "error" and "serial run interleaved" in cells[0].error


def test_the_stopping_rule_with_a_fake_clock():
    clock = FakeClock()
    rule = StoppingRule(Precision(3, 10, target=0.05, budget_s=2.0), cells=2, clock=clock)
    assert not rule.converged(2, 0.0)  # below the minimum, however tight
    assert rule.converged(3, 0.05) and not rule.converged(3, 0.051)
    assert not rule.converged(3, None)
    assert rule.converged(10, 0.5)  # the maximum
    assert not rule.out_of_time(3)
    clock.now = 3.99
    assert not rule.out_of_time(3)
    clock.now = 4.0  # 2 cells x 2 s
    assert rule.out_of_time(3) and not rule.out_of_time(2)  # never before the minimum
    assert StoppingRule(Precision.fixed(4), clock=clock).converged(4, None)


def test_measure_times_exactly_what_the_clock_says():
    # A real serial strategy on a fake clock that ticks 1 s per reading.
    ticks = iter(range(100))
    spec = CellSpec("fib", "serial", None, 1, 1, 3)
    cell, out = measure(spec, kernels.square, [0, 1, 4], repeats=3, warmup=1, timeout_s=None,
                        clock=lambda: float(next(ticks)))
    assert cell.status == "ok"
    assert cell.startup_s == 1.0
    assert cell.times_s == (1.0, 1.0, 1.0)
    assert cell.median_s == 1.0 and cell.rel_std == 0.0 and not cell.noisy
    assert out == [0, 1, 4]


def test_measure_reports_cpu_time_utilisation_and_peak_memory():
    spec = CellSpec("fib", "serial", None, 1, 22, 2)
    cell, _ = measure(spec, Task("fib", 22), None, repeats=2, warmup=0, timeout_s=None)
    assert cell.cpu_s > 0
    assert 0 < cell.cpu_utilization <= 1.05
    assert cell.peak_rss_bytes > 10 * 2**20  # a Python process is more than 10 MiB


def test_process_workers_count_in_cpu_time_and_memory():
    # About 0.3 s of CPU per run, far above the 10 ms tick a worker's CPU time is read in.
    task = Task("fib", 25)
    alone, _ = measure(CellSpec("fib", "serial", None, 1, 25, 16), task, None, repeats=2,
                       warmup=0, timeout_s=60)
    cell, _ = measure(CellSpec("fib", "pool_map", "fork", 2, 25, 16), task, None, repeats=2,
                      warmup=0, timeout_s=60)
    assert cell.ok, cell.error
    # The work ran in the workers: the tree's CPU time covers it (the main
    # process alone would show almost none) and two more processes are resident.
    assert cell.cpu_s > 0.5 * alone.cpu_s
    assert cell.peak_rss_bytes > alone.peak_rss_bytes


def test_a_cell_whose_workers_will_not_close_is_an_error_and_is_torn_down():
    clock = FakeClock()
    log: list[str] = []
    strategies = fake_strategies(clock, {"S": [1.0], "c1": [0.5], "c2": [0.5]}, log)
    torn: list[int] = []

    class Stuck(strategies["fake"]):
        def close(self):
            if self.workers == 1:
                raise OSError("join timed out")

        def terminate(self):
            torn.append(self.workers)

    strategies["fake"] = Stuck
    specs = [CellSpec("fib", "fake", None, n, 1, 3) for n in (1, 2)]
    out = measure_block(specs, kernels.square, [0, 1, 4], precision=Precision.fixed(3),
                        warmup=0, timeout_s=None, serial=strategies["serial"](), clock=clock,
                        usable_cpus=2, strategies=strategies)
    (c1, _), (c2, _) = out
    assert c1.status == "error" and "closing its workers failed: OSError" in c1.error
    assert c2.ok and torn == [1]


def plan(**kw) -> Plan:
    base = dict(profile="smoke", workloads=("fib", "sleep"),
                strategies=("serial", "threads", "pool_map"), workers=(1, 2),
                start_methods=("fork", "spawn"), repeats=1, warmup=0, tasks=4, timeout_s=60,
                sizes=(("fib", 5), ("sleep", 1)))
    base.update(kw)
    return Plan(**base)


def test_plan_runs_serial_first_and_start_methods_only_for_processes():
    specs = runner_specs(plan())
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
    # Each model's finalist is seen twice: after the sweep, then with its confirmation;
    # the two of an undecided duel a third time, with its second look.
    last = {c.key: c for c in seen}
    assert cells == list(last.values())
    confirmed = [c for c in cells if c.confirmation is not None]
    looked = [c for c in confirmed if c.confirmation.duel_times_s]
    assert len(looked) in (0, 2, 4)  # two workloads, a duel each at most
    assert len(seen) - len(cells) == len(confirmed) + len(looked)
    assert len(cells) == len(runner_specs(p))
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
    (64, [1, 2, 16, 32, 64, 128]), (24, [1, 2, 8, 16, 24, 48]),
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


def test_a_size_sweep_keeps_the_total_work_and_drops_duplicate_sizes():
    p = Plan(profile="quick", workloads=("sleep", "fib"), strategies=("serial", "threads"),
             workers=(1, 2), start_methods=("fork",), repeats=1, warmup=0, tasks=8,
             timeout_s=60, sizes=(("sleep", 10), ("fib", 24)), size_factors=(0.1, 0.5, 1.0))
    assert points(p, "sleep") == [(1, 80), (5, 16), (10, 8)]
    fib = points(p, "fib")  # sizes 19, 23, 24: costs phi**-5, phi**-1, 1 of the profile's
    assert fib == [(19, round(8 * 1.618034**5)), (23, 13), (24, 8)]
    # sha256 cannot hash less than 1 MiB: its smallest tasks get only the work they do.
    q = dataclasses.replace(p, workloads=("sha256",), sizes=(("sha256", 8),),
                            size_factors=(0.001, 0.125, 1.0))
    assert points(q, "sha256") == [(1, 64), (8, 8)]
    assert len(runner_specs(p)) == 2 * 3 * (1 + 2)
    assert Plan.from_dict(json.loads(json.dumps(p.to_dict()))) == p


def test_the_coverage_simulation_stops_where_the_block_measurement_stops():
    # tests/coverage.py re-enacts the rounds without the machinery; on the same
    # run times, the real BlockMeasurement must stop at the same pair with the
    # same interval, or the published coverage is not the product's.
    rng = np.random.default_rng(5)
    for profile in coverage.PROFILE_NAMES:
        precision = coverage.precision_of(profile)
        for setting in coverage.SETTINGS:
            most = max(precision.max_repeats, precision.min_repeats)
            rounds = coverage.round_times(2.0, setting, setting.draw(rng, most),
                                          setting.draw(rng, most))
            ci, n = coverage.stop(precision, rounds)
            [cell], _, _ = block({"S": [s for s, _ in rounds], "c1": [c for _, c in rounds]},
                                 precision, workers=(1,))
            assert len(cell.times_s) == n, (profile, setting.noise)
            assert cell.speedup_ci95 == pytest.approx(ci), (profile, setting.noise)


def test_a_run_expects_its_budgets_and_its_process_starts():
    from gilbench.bench.runner.expand import CELL_OVERHEAD_S, PROCESS_START_S, expected_s
    from gilbench.bench.suites import cost_suite

    plan = Plan(profile="quick", workloads=("fib",), strategies=("serial", "threads",
                                                                 "pool_map"),
                workers=(1, 4), start_methods=("fork",), repeats=6, warmup=1, tasks=8,
                timeout_s=60, sizes=(("fib", 22),), suites=("speedup", "sync"),
                max_repeats=16, target_ci=0.05, cell_budget_s=0.3)
    specs = runner_specs(plan)
    assert len(specs) == 5  # serial + threads x2 + pool_map x2
    per = 0.3 + CELL_OVERHEAD_S["quick"]
    want = 5 * per + (1 + 4) * PROCESS_START_S + cost_suite("sync").seconds["quick"]
    # and the confirmations: one more cell of each kind of worker, the dearest of its kind,
    # and the decision budget for second looks at undecided duels (bench.runner.decide)
    from gilbench.bench.runner.decide import DECISION_SHARE

    want += (1 + DECISION_SHARE) * (per + (per + 4 * PROCESS_START_S))
    assert expected_s(plan, specs, ["sync"]) == pytest.approx(want)
    assert expected_s(plan, [], []) == 0


def test_worker_counts_past_the_tasks_make_longer_runs_and_the_estimate_says_so():
    # --workers 1000 on 2 CPUs: every run does 1000 tasks (serial runs too), not the
    # profile's 8; the estimate counts each cell's fewest runs that much longer (it said 5 s
    # for a run that took 80 s), and the run says why in one line.
    from gilbench.bench.profiles import SERIAL_RUN_S
    from gilbench.bench.run.local import workers_note
    from gilbench.bench.runner.expand import more_serial_s, more_tasks_s, spec_cost_s
    from gilbench.bench.runner.placement import SPREAD

    def plan_of(workers: tuple[int, ...]) -> Plan:
        return Plan(profile="quick", workloads=("fib",), strategies=("serial", "threads"),
                    workers=workers, start_methods=(), repeats=6, warmup=1,
                    tasks=max(8, *workers), timeout_s=60, sizes=(("fib", 22),),
                    max_repeats=16, target_ci=0.05, cell_budget_s=0.2)

    small, big = plan_of((1, 2)), plan_of((1, 1000))
    assert all(more_tasks_s(small, s) == 0 for s in runner_specs(small))
    assert more_serial_s(small, runner_specs(small)) == 0
    threads = next(s for s in runner_specs(big) if s.strategy == "threads" and s.workers == 1000)
    extra = SERIAL_RUN_S["quick"] * (1000 / 8 - 1)  # each run: 125x the profile's 8 tasks
    cpus = machine.usable_cpus()
    assert more_tasks_s(big, threads) == pytest.approx(7 * extra / min(1000, cpus))
    assert spec_cost_s(big, threads) > 5  # not the 0.3 s of a cell at 8 tasks
    # the rounds' serial runs, once for the workload's block: 6 rounds of one per CPU
    assert more_serial_s(big, runner_specs(big)) == pytest.approx(
        6 * min(SPREAD, cpus) * extra)
    assert workers_note(small, 2) is None and workers_note(plan_of((1, 8)), 2) is None
    note = workers_note(big, 2)
    assert note is not None and note.startswith(
        "note: --workers 1000 is 500× the 2 usable CPUs: every run does 1000 tasks")


def test_a_cell_surely_slower_than_its_strategys_best_leaves_early_and_says_why():
    # c1 is noisy and never reaches ±3%; c2 is steady at 2x. Once c1 has the 8 pairs
    # a 99% interval needs, that interval (0.91-1.11x) ends below c2's (2.0x): c1 can
    # no longer be its strategy's best, so it leaves instead of running to its maximum.
    cells, log, _ = block({"S": [1.0], "c1": [0.9, 1.1], "c2": [0.5]},
                          Precision(6, 20, target=0.03, budget_s=1e9))
    c1, c2 = cells
    assert len(c1.times_s) == 8 and log.count("c1") == 8
    assert c1.left_early and "surely slower than 2 workers" in c1.left_early
    assert not c1.noisy and c1.speedup_ci95 is not None  # its interval is still reported
    assert c2.left_early is None and len(c2.times_s) == 8  # converged on its own


def test_no_cell_leaves_early_on_a_cell_above_the_physics():
    # c2 at 4x with 2 workers on CPU-bound fib is impossible: it dominates nothing.
    cells, _, _ = block({"S": [1.0], "c1": [0.9, 1.1], "c2": [0.25]},
                        Precision(6, 12, target=0.03, budget_s=1e9))
    c1, _ = cells
    assert c1.left_early is None and len(c1.times_s) == 12 and c1.noisy


def test_a_resumed_run_keeps_the_record_of_its_earlier_parts(tmp_path):
    from gilbench.bench.session import Session

    def part(previous, check):
        s = Session(tmp_path, {"usable_cpus": 2}, "2026-11-27T00:00:00Z", profile="quick",
                    previous=previous, check_noise=False)
        s.noise_checks = [{"check": check, "value": "v", "ok": None, "advice": ""}]
        return s.results(complete=False, speedups=False)

    first = part(None, "start-of-run probe")
    assert "parts" not in first.run  # a run in one go keeps its flat record
    first.run.update(duration_s=400.0, cpu_steal_fraction=0.05)
    second = part(first, "load average before the run")
    run = second.run
    assert [p["noise_checks"][0]["check"] for p in run["parts"]] == [
        "start-of-run probe", "load average before the run"]
    assert [c["check"] for c in run["noise_checks"]] == [
        "start-of-run probe (part 1 of 2)", "load average before the run (part 2 of 2)"]
    assert run["duration_s"] >= 400.0
    assert run["cpu_steal_fraction"] == 0.05  # the worst part's, not the last one's
    third = part(second, "load average before the run")
    assert len(third.run["parts"]) == 3
    assert third.run["parts"][0]["noise_checks"][0]["check"] == "start-of-run probe"


# ------------------------------------------------------------ the confirmation phase


def test_the_finalist_is_measured_again_and_its_headline_comes_from_those_runs():
    from gilbench.bench.analysis import headline
    from gilbench.bench.runner.confirm import CONFIRM_MIN_PAIRS, confirm, confirm_precision

    # Two worker counts of one strategy; 2 workers are twice as fast as serial. The
    # confirmation block runs only the finalist (c2), on runs that now take 0.8 s (the
    # machine changed): its headline is that new figure, not the sweep's.
    precision = Precision(6, 20, target=0.03, budget_s=1e9)
    cells, _, _ = block({"S": [1.0], "c1": [1.0], "c2": [0.5]}, precision)
    again_log: list[str] = []

    def again(specs):
        clock = FakeClock()
        strategies = fake_strategies(clock, {"S": [1.0], "c2": [0.8]}, again_log)
        return BlockMeasurement(specs, kernels.square, [0, 1, 4],
                                precision=confirm_precision(precision), warmup=0,
                                timeout_s=None, serial=strategies["serial"](), clock=clock,
                                usable_cpus=2, strategies=strategies).measure()

    specs = {c.key: CellSpec("fib", "fake", None, c.workers, 1, 3) for c in cells}
    [(spec, final)] = confirm(cells, lambda c: specs[c.key], again, 2)
    assert spec.workers == 2 and again_log.count("c2") == CONFIRM_MIN_PAIRS
    assert "c1" not in again_log  # only the finalist
    conf = final.confirmation
    assert conf is not None and conf.ok and len(conf.times_s) == CONFIRM_MIN_PAIRS
    head = headline([cells[0], final], 2)
    assert head is not None and head.confirmed and head.cell.speedup == pytest.approx(1.25)
    assert head.cell.speedup_ci95 == pytest.approx((1.25, 1.25))
    # A failed re-measurement leaves the choice to the simultaneous intervals.
    from gilbench.bench.results import Confirmation

    failed = dataclasses.replace(final, confirmation=Confirmation(error="worker died"))
    assert len(final.times_s) == 8  # the sweep's pairs: enough for 97.5% each
    head = headline([cells[0], failed], 2)
    assert head is not None and not head.confirmed and head.family == 2
    assert head.cell.workers == 2 and "simultaneous over 2 cells" in head.how
    head = headline([failed], 2)  # one candidate: no choice to pay for
    assert head is not None and not head.confirmed and head.family == 1


def test_without_confirmation_the_choice_is_paid_for_by_wider_intervals():
    from gilbench.bench.analysis import headline
    from tests.helpers import ratios_cell

    # Ten pairs each: at 95% between the 2nd and 3rd smallest (and largest) ratios;
    # chosen among four cells, each interval is taken at 1 - 0.05/4 (between the full
    # range of its ten ratios and the 2nd ones).
    def spread(workers, point):
        ratios = [point * f for f in (0.90, 0.95, 0.98, 0.99, 1.0, 1.0, 1.01, 1.02, 1.05,
                                      1.10)]
        c = ratios_cell("sleep", "io", "process_pool", workers, 1, 1, 1)
        return dataclasses.replace(c, serial_times_s=tuple(0.1 * r for r in ratios))

    from gilbench.bench.results import with_speedups

    cells = with_speedups([spread(w, 1.5 + 0.01 * w) for w in (1, 2, 3, 4)])
    head = headline(cells, 2)
    assert head is not None and head.family == 4 and not head.confirmed
    best = head.cell
    assert best.workers == 4
    lo, hi = best.speedup_ci95
    own_lo, own_hi = cells[3].speedup_ci95  # its own 95%: between the 2nd and 3rd ratios
    assert 1.54 * 0.95 < own_lo < 1.54 * 0.98 and 1.54 * 1.02 < own_hi < 1.54 * 1.05
    assert 1.54 * 0.90 < lo < 1.54 * 0.95 and 1.54 * 1.05 < hi < 1.54 * 1.10  # wider
    assert (lo, hi) == pytest.approx(stats.speedup_ci(
        cells[3].serial_times_s, cells[3].times_s, paired=True, confidence=1 - 0.05 / 4))


# ------------------------------------------------------------ paired placement


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2 if hasattr(os, "sched_getaffinity")
                    else True, reason="pinning needs Linux and two usable CPUs")
def test_paired_placement_pins_the_one_worker_pairs_to_one_cpu_in_turn():
    # Real affinities: the serial runs and the cells' work (on a worker thread, as a
    # thread strategy's) record the CPUs the thread that runs them may use, at that moment.
    import concurrent.futures
    import threading

    clock = FakeClock()
    log: list[str] = []
    seen: list[tuple[str, frozenset[int], bool]] = []
    base = fake_strategies(clock, {"S": [1.0], "c1": [1.0], "c2": [0.6]}, log)

    def where() -> tuple[frozenset[int], bool]:
        return (frozenset(os.sched_getaffinity(0)),
                threading.current_thread() is threading.main_thread())

    class Recording(base["fake"]):  # type: ignore[misc,valid-type]
        def start(self, deadline):
            self.pool = concurrent.futures.ThreadPoolExecutor(1)
            self.pool.submit(lambda: None).result()  # its thread exists from the start
            return super().start(deadline)

        def map(self, fn, items, deadline):
            seen.append((f"c{self.workers}", *self.pool.submit(where).result()))
            return super().map(fn, items, deadline)

        def close(self):
            self.pool.shutdown()
            return super().close()

    everything = frozenset(os.sched_getaffinity(0))
    cpus = sorted(everything)

    class RecordingSerial(base["serial"]):  # type: ignore[misc,valid-type]
        def map(self, fn, items, deadline):
            seen.append(("S", *where()))
            if where()[0] == {cpus[1]}:
                clock.now += 2.0  # the second CPU runs the serial kernel 3x slower
            return super().map(fn, items, deadline)

    strategies = {"fake": Recording, "serial": RecordingSerial}
    specs = [CellSpec("fib", "fake", None, n, 1, 3) for n in (1, 2)]
    m = BlockMeasurement(specs, kernels.square, [0, 1, 4], precision=Precision.fixed(4),
                         warmup=0, timeout_s=None, serial=RecordingSerial(), clock=clock,
                         usable_cpus=2, strategies=strategies, placement=Placement(PAIRED))
    cells = [c for c, _ in m.measure()]
    # Round 0: a serial run on a helper thread pinned to the round's CPU, one pinned to the
    # other CPU, then c1's work pinned to the round's CPU and c2's on every CPU.
    pinned = [frozenset({c}) for c in cpus]
    assert seen[:4] == [("S", pinned[0], False), ("S", pinned[1], False),
                        ("c1", pinned[0], False), ("c2", everything, False)]
    # Round 1 runs backwards, on the next CPU first.
    assert seen[4:8] == [("c2", everything, False), ("c1", pinned[1], False),
                         ("S", pinned[1], False), ("S", pinned[0], False)]
    assert frozenset(os.sched_getaffinity(0)) == everything  # the main thread: released
    assert not any(t.name.startswith("gilbench-") for t in threading.enumerate())
    one, two = cells
    assert one.pair_cpus == tuple(cpus[r % len(cpus)] for r in range(4))
    # c1 pairs with the serial run on its own CPU: 1 s on the first, 3 s on the second
    assert one.serial_times_s == pytest.approx((1.0, 3.0, 1.0, 3.0))
    # c2 uses both CPUs: its serial time is the CPUs' mean speed's, 2 / (1/1 + 1/3) = 1.5 s,
    # every round, whichever CPU the round's own is (with 2 CPUs, the first 4 of these 6:
    # a slow CPU no longer makes a 2-worker cell look faster than 2 CPUs allow)
    assert two.pair_cpus == ()
    assert two.serial_times_s == pytest.approx((1.5,) * 4)
    assert log.count("S") == 8  # two serial runs a round, as before: one on each CPU


def test_a_cell_that_runs_one_thing_at_a_time_pairs_with_the_fastest_cpus_serial_run():
    # Another program loads CPU 1 (the serial kernel takes 3x as long pinned there). A
    # 2-worker cell of processes keeps both CPUs busy and pairs with the CPUs' mean speed;
    # 2 threads sharing a GIL on pure Python run one at a time, where the OS puts them: on
    # the free CPU. Against the mean speed (1.5 s) their 1 s would read 1.5x, above their
    # 1x ceiling; they pair with the fastest CPU's run, ranked by the earlier rounds (the
    # first round, which has none, by its own runs).
    import contextlib

    clock = FakeClock()
    log: list[str] = []
    base = fake_strategies(clock, {"S": [1.0], "c2": [1.0]}, log)
    where = {"cpu": None}

    class TwoCpus(Placement):
        def __init__(self) -> None:
            super().__init__(FREE)
            self.cpus, self.active = [0, 1], True

        def run_on(self, cpu, fn):
            where["cpu"] = cpu
            try:
                return fn()
            finally:
                where["cpu"] = None

        @contextlib.contextmanager
        def on(self, cpu, pids=()):
            yield

    class Serial(base["serial"]):  # type: ignore[misc,valid-type]
        def map(self, fn, items, deadline):
            if where["cpu"] == 1:
                clock.now += 2.0
            return super().map(fn, items, deadline)

    class GilThreads(base["fake"]):  # type: ignore[misc,valid-type]
        name, model = "gilthreads", "threads"

    strategies = {"fake": base["fake"], "gilthreads": GilThreads, "serial": Serial}
    specs = [CellSpec("fib", "fake", None, 2, 1, 3), CellSpec("fib", "gilthreads", None, 2, 1, 3),
             CellSpec("sha256", "gilthreads", None, 2, 1, 3)]
    m = BlockMeasurement(specs, kernels.square, [0, 1, 4], precision=Precision.fixed(4),
                         warmup=0, timeout_s=None, serial=Serial(), clock=clock,
                         usable_cpus=2, strategies=strategies, placement=TwoCpus())
    processes, gil_threads, native_threads = [c for c, _ in m.measure()]
    assert processes.serial_times_s == pytest.approx((1.5,) * 4)
    assert gil_threads.serial_times_s == pytest.approx((1.0,) * 4)
    assert gil_threads.speedup <= 1.0  # the physics' 1x holds
    # threads on native code release the GIL and keep both CPUs busy: the mean speed
    assert native_threads.serial_times_s == pytest.approx((1.5,) * 4)
    assert m.serial_by_cpu == {0: [1.0] * 4, 1: [3.0] * 4}


def test_the_baseline_ranks_cpus_on_earlier_rounds_and_takes_the_fastest_it_can_use():
    from gilbench.bench.runner.placement import baseline_time, fastest_first

    assert fastest_first({0: [2.0, 2.2], 1: [1.0, 5.0, 1.1]}, [0, 1]) == [1, 0]
    assert fastest_first({0: [1.0]}, [0, 1]) is None  # CPU 1 has not run yet
    assert fastest_first({0: [1.0], 1: [1.0]}, [1, 0]) == [1, 0]  # a tie keeps the order
    runs = {0: 1.0, 1: 3.0, 2: 1.5}
    # this round's runs, chosen by the earlier rounds' ranking (here CPU 2 first), not by
    # this round's own luck
    assert baseline_time(runs, [2, 0, 1], 1) == 1.5
    assert baseline_time(runs, [2, 0, 1], 2) == pytest.approx(2 / (1 / 1.5 + 1))
    assert baseline_time(runs, [2, 0, 1], 3) == pytest.approx(3 / (1 + 1 / 3 + 1 / 1.5))
    assert baseline_time(runs, [2, 0, 1], None) == baseline_time(runs, None, 1)  # every CPU
    assert baseline_time(runs, [2, 0, 1], 8) == baseline_time(runs, None, None)


def test_mean_speed_time_is_the_serial_time_at_the_cpus_mean_speed():
    from gilbench.bench.runner.placement import mean_speed_time

    assert mean_speed_time([2.0]) == 2.0
    assert mean_speed_time([1.0, 3.0]) == pytest.approx(1.5)
    # a cell of k workers keeping k CPUs of these speeds busy takes 1/sum(speeds) per unit of
    # work: its speedup over this baseline is k exactly, whatever the speeds
    times = [1.0, 1.4, 2.0, 0.9]
    assert mean_speed_time(times) / (1 / sum(1 / t for t in times)) == pytest.approx(4)
    with pytest.raises(ValueError, match="positive"):
        mean_speed_time([1.0, 0.0])
    with pytest.raises(ValueError, match="positive"):
        mean_speed_time([])


def test_the_spread_takes_every_cpu_as_often_and_at_most_spread_per_round():
    from collections import Counter

    from gilbench.bench.runner.placement import SPREAD

    place = Placement(PAIRED)
    place.cpus, place.active = list(range(10)), True  # a 10-CPU machine's CPU list
    spreads = [place.spread_of(r) for r in range(10)]
    assert all(len(s) == SPREAD and s[0] == place.cpu_of(r) and len(set(s)) == SPREAD
               for r, s in enumerate(spreads))
    assert set(Counter(c for s in spreads for c in s).values()) == {SPREAD}
    place.cpus = [3, 5]
    assert [place.spread_of(r) for r in range(2)] == [[3, 5], [5, 3]]
    assert Placement(FREE).spread_of(0) == []


def test_a_round_alternates_its_direction():
    from gilbench.bench.runner.rounds import forward, in_order

    assert [forward(r) for r in range(4)] == [True, False, True, False]
    assert [in_order("ab", r) for r in range(3)] == [["a", "b"], ["b", "a"], ["a", "b"]]
