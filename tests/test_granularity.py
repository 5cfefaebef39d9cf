"""The granularity sweep: its task sizes, its crossovers read from joint intervals (every
branch, on made-up cells), and a real run at smoke."""

from __future__ import annotations

import dataclasses
import json
import sys

import pytest

from gilbench.bench import stats
from gilbench.bench.analysis import granularity as g
from gilbench.bench.plan import Plan
from gilbench.bench.results import Results
from gilbench.bench.runner import granularity as plan_g
from gilbench.workloads import WORKLOADS
from tests.helpers import plan_record, ratios_cell, run_gilbench


def states(*pairs, rising=True):
    return g.Crossover("x", rising, tuple((t, s, m) for t, s, m in pairs))


def test_a_crossing_is_bracketed_by_measured_sizes():
    c = states((1e-4, False, -1.0), (1e-3, None, -0.1), (1e-2, True, 0.3), (1e-1, True, 0.5))
    assert c.status == "crosses"
    assert c.bracket == (1e-4, 1e-2)  # surely not at 0.1 ms, surely from 10 ms on
    assert 1e-3 <= c.estimate <= 1e-2  # where the points cross, between its neighbours
    assert c.text().startswith("from tasks of about") and "between 100 µs and 10 ms" in c.text()


def test_a_crossing_with_nothing_sure_below_says_so():
    c = states((1e-4, None, -0.1), (1e-3, True, 0.2))
    assert c.status == "crosses" and c.bracket == (None, 1e-3)
    assert "at the smaller sizes measured, can't tell" in c.text()


@pytest.mark.parametrize("seq, status", [
    ((True, True), "always"), ((False, False), "never"), ((False, None), "can't tell"),
    ((True, False, True), "unsteady"),
    ((True, True, False), "unsteady"), ((), "not measured")])
def test_every_other_shape_is_said(seq, status):
    c = states(*[(10.0 ** -i, s, 0.0) for i, s in zip(range(4, 0, -1), seq, strict=False)])
    assert c.status == status
    assert c.text()


def test_io_asks_up_to_which_size():
    # Threads beat processes on small tasks only: holds up to 1 ms.
    c = states((1e-4, True, 0.5), (1e-3, True, 0.1), (1e-2, False, -0.2), rising=False)
    assert c.status == "crosses" and c.text().startswith("up to tasks of about")
    assert c.bracket == (1e-2, 1e-3)


@pytest.mark.parametrize("family", [1, 8, 52, 200])
def test_pairs_reach_the_joint_level(family):
    n = plan_g.min_pairs(family)
    level = 1 - 0.05 / family
    assert stats.median_rank(n, level) is not None
    assert n == 6 or stats.median_rank(n - 1, level) is None  # the fewest that do


def test_points_follow_each_kernels_cost_model():
    for name in ("fib", "zlib"):
        w = WORKLOADS[name]
        base = w.sizes["quick"]
        pts = plan_g.points_for(name, base, 0.002, "quick", workers=2)
        sizes = [s for s, _, _ in pts]
        assert sizes == sorted(set(sizes))
        for size, tasks, est in pts:
            assert tasks % 2 == 0 and tasks >= 2  # a whole number of tasks per worker
            assert tasks * est >= plan_g.WORK_S["quick"] * 0.99 or tasks == 2
            assert est == pytest.approx(0.002 * w.cost_ratio(size, base))
    # The speedup sweep's own size keeps its task count (its cells are the same cells).
    pts = plan_g.points_for("zlib", 100, 0.001, "quick", workers=2, main=(100, 8))
    assert (100, 8) in [(s, t) for s, t, _ in pts]


def curve(label, kind, pts):
    """Cells of one strategy at task sizes ``pts``: (serial seconds per task, lo, x, hi)."""
    out = []
    for i, (task_s, lo, x, hi) in enumerate(pts):
        c = ratios_cell("w", kind, label, 2, lo, x, hi, size=i + 1)
        k = task_s * c.tasks / 0.1  # the serial runs scaled to this task time
        out.append(dataclasses.replace(
            c, times_s=tuple(t * k for t in c.times_s),
            serial_times_s=tuple(t * k for t in c.serial_times_s)))
    return out


def results_of(kind, threads, processes, serial_task=(1e-4, 1e-3, 1e-2, 1e-1)):
    cells = []
    for i, t in enumerate(serial_task):
        s = ratios_cell("w", kind, "serial", 1, 1.0, 1.0, 1.0, size=i + 1)
        k = t * s.tasks / 0.1
        cells.append(dataclasses.replace(s, times_s=tuple(x * k for x in s.serial_times_s),
                                         serial_times_s=()))
    cells += curve("threads", kind, [(t, *v) for t, v in zip(serial_task, threads, strict=True)])
    cells += curve("process_pool", kind, [(t, *v) for t, v in zip(serial_task, processes,
                                                                     strict=True)])
    plan = plan_record(suites=("granularity",), granularity=tuple(
        ("w", i + 1, 8, t) for i, t in enumerate(serial_task)), granularity_workers=2,
        sizes=(("w", 4),), workloads=("w",), strategies=("serial", "threads", "process_pool"))
    return Results(machine={"usable_cpus": 2}, cells=tuple(cells),
                   run={"profile": "quick", "complete": True, "plan": plan})


FLAT = [(0.97, 0.99, 1.01)] * 4


def test_processes_pay_from_a_size_read_off_the_curves():
    r = results_of("cpu", FLAT, [(0.5, 0.6, 0.7), (0.9, 1.0, 1.1), (1.5, 1.6, 1.7),
                                 (1.8, 1.9, 1.95)])
    c = g.main_crossover(r, "w")
    assert c.claim == "processes beat threads" and c.status == "crosses"
    # Surely not at 0.1 ms; at 1 ms processes' [0.9, 1.1] could still be more than 5%
    # above threads' [0.97, 1.01]: can't tell; surely from 10 ms on.
    assert c.bracket == (pytest.approx(1e-4), pytest.approx(1e-2))
    pays = g.pays_crossover(r, "w", "process_pool[fork]")
    assert pays.status == "crosses"
    assert g.pays_crossover(r, "w", "threads").status == "never"
    from gilbench.bench.analysis.claims import processes_pay_from

    verdict, said = processes_pay_from(r)
    assert verdict == "holds" and said.startswith("Processes pay from tasks of about")


def test_processes_that_never_pay_say_so():
    r = results_of("cpu", FLAT, [(0.5, 0.6, 0.7)] * 4)
    assert g.main_crossover(r, "w").status == "never"
    from gilbench.bench.analysis.claims import processes_pay_from

    assert processes_pay_from(r)[0] == "does not hold"


def test_a_plan_with_granularity_reads_back():
    plan = Plan.from_dict(json.loads(json.dumps(plan_record(
        suites=("granularity",), granularity=(("fib", 16, 352, 0.0001),),
        granularity_workers=2, granularity_strategies=("serial", "ray")))))
    assert plan.granularity_points("fib") == [(16, 352, 0.0001)]
    assert plan_g.strategies(plan) == ("serial", "ray")


@pytest.mark.slow
def test_a_real_granularity_run(cli_env, tmp_path):
    out = tmp_path / "run"
    r = run_gilbench("run", "--profile", "smoke", "--suite", "granularity", "--workloads",
                     "fib", "--strategies", "threads,process_pool", "--out", str(out),
                     env=cli_env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "granularity: fib at tasks of about" in r.stderr
    assert "granularity: 2 task sizes × 3 strategies at" in " ".join(r.stderr.split())
    data = json.loads((out / "results.json").read_text())
    points = data["run"]["plan"]["granularity"]
    assert len(points) == 2 and all(p[0] == "fib" for p in points)
    sizes = {p[1] for p in points}
    cells = [c for c in data["cells"] if c["size"] in sizes]
    assert {c["strategy"] for c in cells} == {"serial", "threads", "process_pool"}
    assert all(c["workers"] == data["run"]["plan"]["granularity_workers"] for c in cells
               if c["strategy"] != "serial")
    report = (out / "report.md").read_text()
    assert "## Granularity: from which task size each way pays" in report
    assert (out / "granularity-cpu.png").exists()
    assert "granularity, fib: processes beat threads" in r.stdout
    assert sys.executable  # the run used this interpreter's gilbench
