"""Analysis on made-up results: verdicts, task-size crossovers, main size vs sweep."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gilbench.bench.analysis import (
    crossover,
    kind_verdicts,
    size_points,
)
from gilbench.bench.report.verdicts import kind_verdict_lines, kind_verdict_text
from gilbench.bench.results import with_speedups
from tests.helpers import SPREAD, plan_record, ratios_cell
from tests.helpers import box_results as results
from tests.helpers import fib_cell as cell
from tests.helpers import sample_results as sample


def test_verdicts_follow_the_numbers():
    verdicts = {v.kind: v for v in kind_verdicts(sample())}
    # The answer as data: processes for pure Python; threads for IO, where the best (a
    # pool_map) is not surely more than the tie band faster and threads cost less.
    assert verdicts["cpu"].outcome == "use" and verdicts["cpu"].top.model == "processes"
    assert verdicts["io"].top.model == "threads" and verdicts["io"].tie == "threads_cheaper"
    assert verdicts["io"].passed_over.model == "processes"
    lines = kind_verdict_lines(list(verdicts.values()))
    plain = kind_verdict_lines(list(verdicts.values()), bold=False)
    assert [line.replace("**", "") for line in lines] == plain
    cpu = next(line for line in lines if line.startswith("**CPU-bound pure Python"))
    io = next(line for line in lines if line.startswith("**IO-bound"))
    assert "use **process_pipe[fork]**, 2.00× [" in cpu and "n=10" in cpu
    assert "best threads: threads 1.00× [" in cpu
    # pool_map is 2% faster than threads on sleep: not surely more than the tie band,
    # and threads cost less
    assert "use **threads**" in io and "not surely more than 5% faster" in io


def test_crossover_in_words():
    def pt(task_s, threads, procs):  # speedups set by hand, intervals ±2%
        return {"task_s": task_s,
                "threads": ratios_cell("fib", "cpu", "threads", 2, threads * 0.98, threads,
                                       threads * 1.02),
                "processes": ratios_cell("fib", "cpu", "process_pool", 2, procs * 0.98, procs,
                                         procs * 1.02)}

    pts = [pt(1e-5, 1.0, 0.2), pt(1e-4, 1.0, 0.9), pt(1e-3, 1.0, 1.6), pt(1e-2, 1.0, 1.9)]
    # One crossover analysis: the granularity sweep's, fed one state per size.
    c = crossover(pts)
    assert c.status == "crosses" and c.bracket == (1e-4, 1e-3)
    assert c.text().startswith("from tasks of about ") and "between 100 µs and 1 ms" in c.text()
    assert crossover(pts[2:]).status == "always" and "every task size" in crossover(pts[2:]).text()
    assert crossover(pts[:2]).status == "never"
    # A size that can't be told is not a "no": nothing sure anywhere is "can't tell".
    wide = {"task_s": 1e-3,  # processes ahead on their points, but the intervals overlap
            "threads": ratios_cell("fib", "cpu", "threads", 2, 0.7, 1.0, 1.4),
            "processes": ratios_cell("fib", "cpu", "process_pool", 2, 0.9, 1.3, 1.7)}
    unsure = [pt(1e-4, 1.0, 0.9), wide]
    assert crossover(unsure).status == "can't tell"
    assert "can't be told at 1 of 2 sizes" in crossover(unsure).text()


def test_main_analyses_use_the_profiles_size_and_the_sweep_keeps_the_rest():
    def pairs(serial):  # serial runs paired with a cell's seven runs
        return tuple(serial * f for f in SPREAD)

    cells = with_speedups([
        cell("serial", 1, 1.0, size=24),
        cell("process_pool", 2, 0.5, size=24, serial_times_s=pairs(1.0)),
        cell("serial", 1, 0.1, size=20, tasks=80),
        cell("process_pool", 2, 0.2, size=20, tasks=80, serial_times_s=pairs(0.1)),
        cell("threads", 2, 0.1, size=20, tasks=80, serial_times_s=pairs(0.1)),
    ])
    r = results(cells, plan=plan_record(sizes=(("fib", 24),)))
    assert {c.size for c in r.cells_of("fib")} == {24}
    assert list(r.sizes_of("fib")) == [20, 24]
    pts = size_points(r, "fib")
    assert pts[0]["task_s"] == pytest.approx(0.1 / 80)
    assert pts[0]["processes"].speedup == pytest.approx(0.5)
    assert pts[0]["threads"].speedup == pytest.approx(1.0)
    assert pts[1]["threads"] is None  # the profile's size ran no threads here
    assert crossover(pts).status == "never"  # threads surely win at 20, the one size with both


def test_threads_are_recommended_on_a_tie_only_if_they_surely_beat_serial():

    def kind_line(threads_ci, procs_ci, gil=False):  # threads above 1x: no GIL
        serial = cell("serial", 1, 1.0)
        t = ratios_cell("fib", "cpu", "threads", 2, threads_ci[0], sum(threads_ci) / 2,
                        threads_ci[1], size=10, gil_enabled_in_workers=gil)
        p = ratios_cell("fib", "cpu", "process_pipe", 2, procs_ci[0], sum(procs_ci) / 2,
                        procs_ci[1], size=10)
        return kind_verdict_text(kind_verdicts(results([serial, t, p]))[0])

    # Processes surely beat serial, threads may not: processes, with the doubt said.
    line = kind_line((0.83, 1.23), (1.17, 2.08))
    assert "use **process_pipe[fork]**" in line and "not surely faster than serial" in line
    # Both surely beat serial and are not surely 5% apart: threads, they cost less.
    line = kind_line((1.5, 1.8), (1.55, 1.9))
    assert "use **threads**" in line and "threads cost less" in line


def test_stay_serial_only_when_no_way_could_beat_serial():
    serial = cell("serial", 1, 1.0)
    threads = ratios_cell("fib", "cpu", "threads", 1, 0.98, 0.99, 1.01, size=10)
    # Processes' point is 1.55x but their interval reaches down to 0.94x: not "stay serial".
    wide = ratios_cell("fib", "cpu", "process_pool", 2, 0.94, 1.55, 1.74, size=10)
    verdict = kind_verdicts(results([serial, threads, wide]))[0]
    assert verdict.outcome == "unsure" and verdict.top.label.startswith("process_pool")
    line = kind_verdict_text(verdict)
    assert "can't tell whether anything beats serial" in line and "process_pool" in line
    narrow = ratios_cell("fib", "cpu", "process_pool", 2, 0.95, 0.99, 1.03, size=10)
    verdict = kind_verdicts(results([serial, threads, narrow]))[0]
    assert verdict.outcome == "serial" and "stay serial" in kind_verdict_text(verdict)


def test_the_advice_for_more_precision_is_an_option_value_gilbench_run_takes():
    # "can't tell" says how to get more pairs; the --target-ci it names must parse (it is
    # a percentage: 0.02 was refused as out of range), and be tighter than quick's.
    import re

    from gilbench.bench.analysis.verdicts import MORE_PRECISION
    from gilbench.bench.options import parse_target_ci
    from gilbench.bench.profiles import PROFILES

    value = re.search(r"--target-ci (\S+?),", MORE_PRECISION).group(1)
    assert 0 < parse_target_ci(value) < PROFILES["quick"].target_ci


def test_a_run_is_analysed_once_for_the_report_and_the_terminal(tmp_path):
    from gilbench.bench.analysis import once
    from gilbench.bench.analysis.cells import headline_of
    from gilbench.bench.report import render
    from gilbench.bench.report.terminal import summary
    from tests.helpers import full_sample

    r = full_sample()
    before = dict(once.COUNTS)
    render(r, tmp_path)
    summary(r, tmp_path)
    summary(r, tmp_path)
    asked = {k: v - before.get(k, 0) for k, v in once.COUNTS.items() if v != before.get(k, 0)}
    # Every question computed at most once per workload (and model) for all the readers
    models = {c.model for c in r.cells} - {"serial"}
    assert asked["kind_verdicts"] == 1 and asked["findings"] == 1
    assert asked["headline"] <= len(r.workloads()) * len(models)
    assert asked["duel"] <= len(r.workloads())
    # ... and the kept answer is the one computed fresh
    w = r.workloads()[0]
    fresh = load_again(r)
    assert headline_of(r, w, "processes") == headline_of(fresh, w, "processes")
    assert headline_of(r, w, "processes") is headline_of(r, w, "processes")


def load_again(r):
    from gilbench.bench.results import Results

    return Results.from_dict(r.to_dict())


def _confirmed(strategy, times, serial, sweep_point):
    """A confirmed finalist: its sweep cell (a ratios_cell around ``sweep_point``) with a
    confirmation of these rounds."""
    from gilbench.bench.results import Confirmation

    c = ratios_cell("x", "cpu", strategy, 2, sweep_point * 0.9, sweep_point,
                    sweep_point * 1.1)
    return dataclasses.replace(c, confirmation=Confirmation(tuple(times), tuple(serial)))


def test_a_verdict_is_decided_from_the_finalists_paired_rounds():
    from gilbench.bench.analysis.cells import confirmed_view
    from gilbench.bench.analysis.verdicts import compare, paired_rounds

    rng = np.random.default_rng(3)
    n = 12
    shared = np.exp(rng.normal(0, 0.10, n))  # a round's noise both cells' runs share
    serial = np.exp(rng.normal(0, 0.10, n))  # ... and the serial run's own
    t_times = 0.5 * shared * np.exp(rng.normal(0, 0.005, n))
    p_times = 0.45 * shared * np.exp(rng.normal(0, 0.005, n))  # processes 1.11x faster
    t = confirmed_view(_confirmed("threads", t_times, serial, 2.0))
    p = confirmed_view(_confirmed("process_pool", p_times, serial, 2.2))
    # Each side's own interval is wide (the serial run's noise): crosswise, can't tell
    (t_lo, t_hi), (p_lo, p_hi) = t.speedup_ci95, p.speedup_ci95
    assert t_lo / p_hi < 1 / 1.05 < t_hi / p_lo
    ratios = paired_rounds(t, p)
    assert ratios == pytest.approx(list(p_times / t_times))
    c = compare(t, p)
    assert c.pairs == n and c.winner == "processes" and c.high < 1 / 1.05
    assert c.ratio == pytest.approx(np.median(p_times / t_times))
    # Without the confirmation's rounds (a sweep headline, an older file): crosswise
    crosswise = compare(dataclasses.replace(t, confirmation=None), p)
    assert crosswise.pairs == 0 and crosswise.winner is None
    # A tie is an answer: the paired ratio inside the band
    same = confirmed_view(_confirmed("process_pool", t_times * np.exp(
        rng.normal(0, 0.005, n)), serial, 2.0))
    tie = compare(t, same)
    assert tie.winner == "tie" and tie.pairs == n
    # Another processes cell that could still be higher than threads blocks "threads"
    slow = confirmed_view(_confirmed("process_pool", t_times * 1.3, serial, 1.6))
    assert compare(t, slow).winner == "threads"
    assert compare(t, slow, p_reach=t_hi * 1.2).winner is None


def test_paired_rounds_need_two_confirmed_views():
    from gilbench.bench.analysis.cells import confirmed_view
    from gilbench.bench.analysis.verdicts import paired_rounds

    t = _confirmed("threads", [0.5] * 10, [1.0] * 10, 2.0)
    p = _confirmed("process_pool", [0.4] * 7, [1.0] * 7, 2.5)  # left its rounds at 7
    assert paired_rounds(t, p) is None  # the sweep's cells, not the confirmed views
    assert paired_rounds(confirmed_view(t), confirmed_view(p)) == [0.8] * 7


def test_the_kind_line_and_the_workload_line_say_one_task_size():
    from gilbench.bench.analysis import duel_of
    from gilbench.bench.analysis.verdicts import _with_size

    # The serial cell's own runs: 1 s (125 ms a task); the serial runs paired with the
    # headlines: about 0.14 s (17 ms a task). Both lines say the headlines' own.
    serial = cell("serial", 1, 1.0)
    t = ratios_cell("fib", "cpu", "threads", 2, 0.95, 1.0, 1.05, size=10)
    p = ratios_cell("fib", "cpu", "process_pool", 2, 1.8, 1.9, 2.0, size=10)
    r = results([serial, t, p])
    said = duel_of(r, "fib").text
    assert said.endswith("for tasks of about 17.2 ms") and "125 ms" not in said
    assert _with_size(r, "fib") == ("fib", "tasks of about 17.2 ms")


def test_the_kind_line_says_what_its_workloads_paired_verdicts_say():
    # Processes surely more than 5% faster than threads on the workload, by its paired
    # rounds, while the two headlines' own intervals overlap: the kind line must not call
    # threads "not surely slower, and cheaper" (one screen, one answer).
    from gilbench.bench.analysis import duel_of

    rng = np.random.default_rng(4)
    n = 12
    shared, serial = np.exp(rng.normal(0, 0.10, n)), np.exp(rng.normal(0, 0.10, n))
    t = _confirmed("threads", 0.5 * shared, serial, 2.0)
    p = _confirmed("process_pool", 0.42 * shared, serial, 2.3)
    t, p = (dataclasses.replace(c, workload="x", kind="io") for c in (t, p))
    base = dataclasses.replace(cell("serial", 1, 1.0), workload="x", kind="io", size=1)
    r = results([base, t, p])
    assert duel_of(r, "x").winner == "processes"
    v = kind_verdicts(r)[0]
    assert v.outcome == "use" and v.top.model == "processes" and v.tie == ""


def test_a_kind_range_without_confirmation_pays_for_each_headlines_choice():
    # The fallback path (no confirmation: an older file, the pytest path): each workload's
    # headline is the best of 24 equal cells (20 pairs each). Taken together over two
    # workloads, the range must also pay for those choices (GeoSpan.families): without
    # it the kind's range covered the true speedup 0.86 of the time.
    from gilbench.bench.analysis.cells import GeoSpan, headline
    from gilbench.bench.results import Cell

    rng = np.random.default_rng(1)

    def cells(w):
        out = []
        for k in range(24):
            serial = tuple(float(x) for x in np.exp(rng.normal(0, 0.05, 20)))
            times = tuple(float(x) for x in np.exp(rng.normal(0, 0.05, 20)) / 1.5)
            c = Cell(workload=w, kind="io", size=1, tasks=8, strategy="threads",
                     start_method=None, workers=k + 1, status="ok", model="threads",
                     times_s=times, serial_times_s=serial, median_s=float(np.median(times)))
            out.append(with_speedups([c])[0])
        return out

    paid = bare = 0
    trials = 150
    for _ in range(trials):
        heads = [headline(cells(w), 64) for w in ("a", "b")]
        assert all(not h.confirmed and h.family == 24 for h in heads)
        both = tuple(h.cell for h in heads)
        span = GeoSpan(both, families=tuple(h.family for h in heads))
        paid += span.low <= 1.5 <= span.high
        old = GeoSpan(both)
        bare += old.low <= 1.5 <= old.high
    assert paid / trials >= 0.95 and bare / trials < 0.93
