"""Significance between two runs: the bootstrap intervals cover, the marks and the CI
gate follow them."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from gilbench.bench.analysis.significance import (
    MIN_RUNS,
    Change,
    Pair,
    geometric_mean_change,
    regressions,
    speedup_change,
    time_change,
)
from gilbench.bench.results import Cell, Results, with_speedups


def paired_cell(strategy: str, cell_times, serial_times, workers: int = 2,
                workload: str = "fib", size: int = 10) -> Cell:
    model = "serial" if strategy == "serial" else (
        "threads" if strategy == "threads" else "processes")
    return Cell(workload=workload, kind="cpu", size=size, tasks=8, strategy=strategy,
                model=model, start_method="fork" if model == "processes" else None,
                workers=1 if strategy == "serial" else workers, status="ok",
                times_s=tuple(cell_times), median_s=float(np.median(cell_times)),
                serial_times_s=tuple(serial_times) if strategy != "serial" else ())


NOISE = {
    "lognormal": lambda rng, n: np.exp(rng.normal(0, 0.05, n)),
    "skewed": lambda rng, n: 1 + 0.1 * rng.exponential(1, n),
    "outliers": lambda rng, n: np.exp(rng.normal(0, 0.03, n)) * np.where(
        rng.random(n) < 0.1, 1.5, 1.0),
}


def population_median_ratio(noise, rng) -> float:
    """The median of serial_i / cell_i for the noise (both sides drawn independently)."""
    big = 400_000
    return float(np.median(noise(rng, big) / noise(rng, big)))


@pytest.mark.slow
@pytest.mark.parametrize("shape", sorted(NOISE))
@pytest.mark.parametrize("n_base, n_new", [(6, 6), (6, 20), (12, 9), (20, 20)])
def test_the_speedup_ratio_interval_covers_95_percent(shape, n_base, n_new):
    """Two independent runs of a cell whose true speedups are 1.8 and 1.2: the interval
    of new ÷ base must cover the true ratio in at least 95% of repeated experiments (at
    400 experiments the simulation's own error is about ±1.1%, so at least 93% here)."""
    rng = np.random.default_rng(7)
    noise = NOISE[shape]
    true_base, true_new = 1.8, 1.2
    med = population_median_ratio(noise, rng)  # the noise's own median ratio, both sides
    truth = (true_new * med) / (true_base * med)
    trials, covered = 400, 0
    for _ in range(trials):
        def one(true_speedup: float, n: int) -> Cell:
            serial = noise(rng, n)
            return paired_cell("process_pool", noise(rng, n) / true_speedup, serial)

        base, new = with_speedups([one(true_base, n_base)]), with_speedups([one(true_new, n_new)])
        c = speedup_change(Pair(base[0], new[0]))
        assert c.low is not None and c.high is not None
        covered += c.low <= truth <= c.high
    assert covered / trials >= 0.93, f"coverage {covered / trials:.3f}"


@pytest.mark.slow
def test_the_geometric_mean_interval_covers_95_percent():
    """Three workloads' time ratios, each with its own truth: the geometric mean's
    interval covers the true geometric mean in at least 95% of experiments."""
    rng = np.random.default_rng(11)
    noise = NOISE["lognormal"]
    truths = (1.0, 1.3, 0.8)  # base time ÷ new time per workload
    truth = math.exp(sum(math.log(t) for t in truths) / 3)
    trials, covered = 300, 0
    for _ in range(trials):
        pairs = []
        for i, t in enumerate(truths):
            b = paired_cell("serial", noise(rng, 8), (), workload=f"w{i}")
            n = paired_cell("serial", noise(rng, 8) / t, (), workload=f"w{i}")
            pairs.append(Pair(b, n))
        g = geometric_mean_change(pairs, "time")
        assert g is not None and g.low is not None and g.high is not None
        covered += g.low <= truth <= g.high
    assert covered / trials >= 0.93, f"coverage {covered / trials:.3f}"


def test_marks_follow_the_interval():
    assert Change("time", 1.5, 1.3, 1.7).mark() == "faster"
    assert Change("time", 0.7, 0.6, 0.8).mark() == "slower"
    assert Change("speedup", 1.5, 1.3, 1.7).mark() == "higher"
    assert Change("speedup", 1.02, 0.9, 1.1).mark() == "not significant"
    assert Change("time", 1.01, 0.98, 1.03).mark() == "same within 5%"
    assert Change("time", 1.5).mark() == "no interval" and not Change("time", 1.5).significant
    assert Change("time", 0.5, 0.45, 0.55).factor() == "2.00× slower"
    assert Change("speedup", 0.8, 0.7, 0.9).text() == "1.25× [1.11–1.43] lower"
    assert Change("time", 1.25, 1.1, 1.4).text() == "1.25× [1.10–1.40] faster"
    assert Change("time", 0.98, 0.9, 1.05).text() == "1.02× [0.95–1.11] slower, not significant"
    assert Change("time", 1.01, 0.98, 1.03).text() == "1.01× [0.98–1.03] faster, same within 5%"
    # Worse by more than a threshold needs significance *and* the size.
    assert Change("time", 0.85, 0.8, 0.9).worse_by_more_than(10)  # 1.18× slower
    assert not Change("time", 0.95, 0.93, 0.97).worse_by_more_than(10)  # sure, but small
    assert not Change("time", 0.5, 0.3, 1.2).worse_by_more_than(10)  # big, but unsure


def _run(speedup: float, spread: float, n: int, seed: int, serial_s: float = 1.0) -> Results:
    rng = np.random.default_rng(seed)
    serial_times = serial_s * np.exp(rng.normal(0, spread, n))
    cells = [paired_cell("serial", serial_times, ()),
             paired_cell("process_pool", serial_s / speedup * np.exp(rng.normal(0, spread, n)),
                         serial_s * np.exp(rng.normal(0, spread, n)))]
    return Results(machine={"hostname": "h", "usable_cpus": 2}, cells=tuple(with_speedups(cells)))


def test_regressions_are_cell_by_cell_significant_and_past_the_threshold():
    base = _run(1.9, 0.01, 10, 1)
    slower = _run(1.0, 0.01, 10, 2)  # processes stopped paying: speedup about halved
    found, compared = regressions(base, slower, 10)
    assert compared == 3  # the serial cell's time, the process cell's speedup and time
    # Its speedup about halved, and (the same work on both sides) so did its time.
    assert [(c.where, c.change.what) for c in found] == [
        ("fib process_pool[fork] @2", "speedup"), ("fib process_pool[fork] @2", "time")]
    assert all(c.change.high < 1 / 1.1 for c in found)
    assert regressions(slower, base, 10)[0] == []  # the other way round it got better
    # The same speedup measured twice: nothing is flagged.
    assert regressions(base, _run(1.9, 0.01, 10, 3), 10)[0] == []
    # A 2x slower serial time with the same work is a time regression of the serial cell.
    slow_machine = _run(1.9, 0.01, 10, 4, serial_s=2.0)
    where = {(c.where, c.change.what) for c in regressions(base, slow_machine, 10)[0]}
    assert ("fib serial @1", "time") in where and ("fib process_pool[fork] @2", "time") in where
    assert not any(what == "speedup" for _, what in where)
    # Too few runs for an interval: nothing can be called significant.
    few = _run(1.0, 0.01, MIN_RUNS - 1, 5)
    assert regressions(base, few, 10)[0] == []


def test_time_change_is_base_over_new():
    b = paired_cell("serial", [1.0] * 6 + [1.01], ())
    n = paired_cell("serial", [0.5] * 6 + [0.51], ())
    c = time_change(Pair(b, n))
    assert c.point == pytest.approx(2.0) and c.mark() == "faster"


# ------------------------------------------------------------ the gate as a family


def test_student_cdf_against_tabled_values():
    from gilbench.bench.analysis.significance import student_cdf

    # t tables: the 97.5th percentile at 1, 2, 5, 7 and 30 degrees of freedom
    for df, t in ((1, 12.706), (2, 4.303), (5, 2.571), (7, 2.365), (30, 2.042)):
        assert student_cdf(t, df) == pytest.approx(0.975, abs=2e-4)
        assert student_cdf(-t, df) == pytest.approx(0.025, abs=2e-4)
    assert student_cdf(0.0, 7) == 0.5
    assert student_cdf(1.96, 100_000) == pytest.approx(0.975, abs=1e-4)  # the normal


def test_holm_steps_down_and_stops_at_the_first_keep():
    from gilbench.bench.analysis.significance import holm

    # m = 4 at 0.05: 0.01 <= 0.0125 rejected, 0.02 <= 0.0167 no -> stop there
    assert holm([0.02, 0.01, 0.04, 0.5], 0.05) == [False, True, False, False]
    assert holm([0.001, 0.012, 0.02, 0.03], 0.05) == [True, True, True, True]
    assert holm([], 0.05) == []


@pytest.mark.slow
def test_the_gate_passes_identical_runs_and_the_old_rule_did_not():
    # 1,000 comparisons of two runs drawn from one machine (tests/gate.py): the gate at
    # its strictest (--fail-if-slower 0) fails at most 5% of them; the old rule, each
    # cell's change on its own, failed about a third.
    from tests import gate

    row = gate.simulate(0)
    assert row.changes == 36
    assert row.new <= 0.05, row
    assert row.old > 0.2, row


@pytest.mark.slow
def test_the_gate_with_confirmed_headlines_passes_identical_runs():
    # The same A/A simulation with each workload's confirmed headline compared too (up to
    # 12 more figures: a headline whose whole interval lies above the 2 CPUs' physics
    # decides nothing and is left out): Holm over all of them still fails at most 5% of
    # identical comparisons.
    from tests import gate

    row = gate.simulate(0, comparisons=400, confirmed=True)
    assert 36 < row.changes <= 48
    assert row.new <= 0.05, row


def test_a_lost_cpu_fails_the_gate_through_the_confirmed_headline():
    # Processes on one workload lost a CPU (2x -> 1.05x) in the headline's fresh pairs
    # only, while the sweep's 6 pairs a cell are too few to see it among 36 changes: the
    # confirmed headline (10 pairs) is compared too, and names it — "best processes".
    from gilbench.bench.analysis.cells import headline_of
    from gilbench.bench.results import Confirmation
    from tests import gate

    rng = np.random.default_rng(5)
    base = gate._results(rng, 12, 6, 0.05, confirmed=True)
    new = gate._results(rng, 12, 6, 0.05, confirmed=True)
    # a workload whose headline may decide on both sides (at a true 2x on 2 CPUs, some
    # come out wholly above the physics and decide nothing)
    w = next(w for w in base.workloads() if headline_of(base, w, "processes")
             and headline_of(new, w, "processes"))
    slowed = []
    for c in new.cells:
        if c.key[0] == w and c.strategy != "serial":
            conf = c.confirmation
            assert conf is not None
            c = dataclasses.replace(c, confirmation=Confirmation(
                tuple(1.9 * t for t in conf.times_s), conf.serial_times_s))
        slowed.append(c)
    new = Results(machine=new.machine, cells=tuple(with_speedups(slowed)))
    found, compared = regressions(base, new, 10)
    assert 36 < compared <= 48
    assert [c.where for c in found] == [f"{w} best processes (process_pool[fork] @2, confirmed)"]
    # narrowed to the figures a team cares about: the same regression, fewer figures
    from gilbench.bench.analysis.significance import compared_changes
    narrow = compared_changes(base, new, ("speedup", "time"), workloads=(w,))
    assert len(narrow) == 4 and [c.where for c in regressions(
        base, new, 10, changes=narrow)[0]] == [c.where for c in found]


def test_the_gate_still_fails_a_real_regression_among_many_cells():
    # 12 workloads; on one, processes stopped paying (1.9x -> 1.0x). Holm over all 36
    # changes still names that cell, and only that one's speedup and time.
    from tests import gate

    rng = np.random.default_rng(3)
    base = gate._results(rng, 12, 10, 0.02)
    new = gate._results(rng, 12, 10, 0.02)
    worse = [dataclasses.replace(c, times_s=tuple(2 * t for t in c.times_s),
                                 median_s=2 * c.median_s) if c.key[0] == "w5"
             and c.strategy != "serial" else c for c in new.cells]
    new = Results(machine=new.machine, cells=tuple(with_speedups(worse)))
    found, compared = regressions(base, new, 10)
    assert compared == 36
    assert {(c.where, c.change.what) for c in found} == {
        ("w5 process_pool[fork] @2", "speedup"), ("w5 process_pool[fork] @2", "time")}


def test_the_gate_says_the_smallest_slowdown_it_could_have_seen():
    from gilbench.bench.analysis.significance import Change, detectable, t_quantile

    assert t_quantile(0.975, 5) == pytest.approx(2.5706, abs=1e-3)  # the t table's
    assert t_quantile(0.5, 9) == pytest.approx(0.0, abs=1e-9)
    tight = Change("speedup", 1.0, 0.98, 1.02, log_sd=0.01, runs=20)
    loose = Change("speedup", 1.0, 0.8, 1.25, log_sd=0.10, runs=6)
    # more figures compared: Holm's strictest level is stricter, so less is seen
    assert detectable(tight, 10, 0) < detectable(tight, 300, 0) < detectable(loose, 300, 0)
    assert detectable(tight, 1, 10) == pytest.approx(1.10)  # the minimum effect bounds it
    assert detectable(Change("speedup", 1.0), 10, 10) is None  # no interval: blind
    # a slowdown of exactly the detectable size is just significant at that level
    f = detectable(loose, 50, 0)
    at = Change("speedup", 1 / f, log_sd=0.10, runs=6)
    assert at.p_not_worse == pytest.approx(0.025 / 50, rel=1e-3)


def _moved(rng, sd, own_sd, n, what="speedup"):
    """``n`` compared figures whose points scatter by ``sd`` on the log scale, each with
    its own bootstrap standard error ``own_sd``."""
    from gilbench.bench.analysis.significance import CellChange, Change

    out = []
    for _ in range(n):
        point = math.exp(rng.normal(0, sd))
        out.append(CellChange(None, Change(what, point, point * 0.9, point * 1.1,  # type: ignore[arg-type]
                                           log_sd=own_sd, runs=8)))
    return out


def test_the_between_run_spread_is_what_the_scatter_has_beyond_the_figures_own():
    from gilbench.bench.analysis.significance import CellChange, between_run_sd, widened

    rng = np.random.default_rng(11)
    # scattered by 0.10 where each figure's own error is 0.03: about sqrt(0.10² - 0.03²)
    assert between_run_sd(_moved(rng, 0.10, 0.03, 400))["speedup"] == pytest.approx(
        math.sqrt(0.10 ** 2 - 0.03 ** 2), rel=0.15)
    # within their own errors: nothing added; too few figures: nothing read
    assert between_run_sd(_moved(rng, 0.02, 0.03, 400))["speedup"] == 0
    assert between_run_sd(_moved(rng, 0.10, 0.03, 7))["speedup"] == 0
    # one sort of figure does not lend its spread to the other
    mixed = _moved(rng, 0.10, 0.03, 50) + _moved(rng, 0.01, 0.03, 50, "time")
    assert between_run_sd(mixed)["time"] == 0 < between_run_sd(mixed)["speedup"]
    # a few figures that really changed do not make the spread
    few = _moved(rng, 0.01, 0.03, 30) + _moved(rng, 1.0, 0.03, 3)
    assert between_run_sd(few)["speedup"] == 0
    # nor does a large minority that moved together: a lost CPU halves every speedup of
    # several workers on CPU-bound work, 45% of a default run's figures (the median
    # absolute deviation about the median read 23% from such a pair of real runs, and the
    # gate passed it)
    lost = _moved(rng, 0.02, 0.03, 140) + [
        CellChange(None, dataclasses.replace(c.change, point=c.change.point / 2))  # type: ignore[arg-type]
        for c in _moved(rng, 0.02, 0.03, 110)]
    assert between_run_sd(lost)["speedup"] < 0.02
    logs = np.log([c.change.point for c in lost])
    mad = 1.4826 * np.median(np.abs(logs - np.median(logs)))
    assert math.sqrt(mad ** 2 - 0.03 ** 2) > 0.06  # what the old estimator read
    # widening: the standard error in quadrature, the interval's ends out in proportion
    c = _moved(rng, 0.0, 0.03, 1)[0].change
    w = widened(c, 0.04)
    assert w.log_sd == pytest.approx(0.05) and w.point == c.point
    assert math.log(w.high / w.point) == pytest.approx(math.log(c.high / c.point) * 5 / 3)
    assert widened(c, 0.0) is c


@pytest.mark.slow
def test_the_gate_passes_runs_whose_cells_moved_between_them():
    # Each cell of each run slower or faster by exp(N(0, 5%)) — a phase of the machine
    # moving one cell in one run, which the run's own rounds cannot show: read on each
    # run's rounds alone the gate fails about half such A/A comparisons; with the spread
    # between the runs read from the comparison itself, at most 5%.
    from tests import gate

    row = gate.simulate(0, comparisons=200, confirmed=True, phase=0.05)
    assert row.own > 0.2, row
    assert row.new <= 0.05, row


def test_the_gate_still_fails_a_lost_cpu_among_cells_that_moved_between_runs():
    from tests import gate

    rng = np.random.default_rng(4)
    base = gate._results(rng, 12, 8, 0.05, phase=0.05)
    new = gate._results(rng, 12, 8, 0.05, phase=0.05)
    lost = [dataclasses.replace(c, times_s=tuple(1.9 * t for t in c.times_s),
                                median_s=1.9 * c.median_s) if c.key[0] == "w7"
            and c.strategy != "serial" else c for c in new.cells]
    new = Results(machine=new.machine, cells=tuple(with_speedups(lost)))
    found, compared = regressions(base, new, 10)
    assert compared == 36
    assert {c.where for c in found} == {"w7 process_pool[fork] @2"}
