"""Today's Pythons, for real: 3.14 and 3.15 (GIL builds from Debian's binaries, set up by
tools/get-python; .ci/run sets GILBENCH_PY314 and GILBENCH_PY315), their JIT, the
interpreters family on the public concurrent.interpreters, forkserver as 3.14's default
start method, and the version matrix's lead table on the baseline's scale."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gilbench.bench import stats
from gilbench.bench.analysis.matrix import answer, surely_takes
from gilbench.bench.analysis.matrix import rounds_for as matrix_rounds_for
from gilbench.bench.errors import EXIT_USAGE
from gilbench.bench.plan import Plan
from gilbench.bench.results import Cell, Results
from gilbench.bench.runner.expand import methods_here, specs
from gilbench.bench.serialcost import SerialRuns
from tests.helpers import PY315, TODAYS_PYTHONS, needs_py315
from tests.helpers import run_gilbench as gilbench

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------ start methods


def _plan(**kw) -> Plan:
    base = dict(profile="smoke", workloads=("fib",), strategies=("serial", "process_pool"),
                workers=(2,), start_methods=(), repeats=1, warmup=0, tasks=2, timeout_s=30,
                sizes=(("fib", 10),))
    return Plan(**{**base, **kw})


def test_no_start_method_given_means_the_interpreters_own():
    plan = _plan()
    assert methods_here(plan) == (multiprocessing.get_start_method(),)
    assert {s.start_method for s in specs(plan) if s.strategy == "process_pool"} == {
        multiprocessing.get_start_method()}
    chosen = _plan(start_methods=("spawn", "forkserver"))
    assert methods_here(chosen) == ("spawn", "forkserver")


def test_the_cli_leaves_the_start_method_to_the_interpreter_unless_asked(cli_env, tmp_path):
    from gilbench.bench.cli import make_parser
    from gilbench.bench.options import build_plan

    args = make_parser().parse_args(["run", "--profile", "smoke", "--workloads", "fib",
                                      "--strategies", "process_pool"])
    assert build_plan(args, lambda _line: None).start_methods == ()
    args = make_parser().parse_args(["run", "--profile", "smoke", "--workloads", "fib",
                                      "--strategies", "process_pool", "--start-method", "spawn"])
    assert build_plan(args, lambda _line: None).start_methods == ("spawn",)


def test_a_baseline_that_is_not_an_interpreter_is_one_line(cli_env, tmp_path):
    r = gilbench("run", "--python", sys.executable, "--baseline", "python2.7", "--out",
                 str(tmp_path / "x"), env=cli_env, cwd=tmp_path)
    assert r.returncode == EXIT_USAGE and r.stderr.count("\n") == 1, r.stderr
    assert "--baseline 'python2.7' is not one of the interpreters' labels" in r.stderr
    r = gilbench("run", "--baseline", "python3.11", env=cli_env, cwd=tmp_path)
    assert r.returncode == EXIT_USAGE and "give the interpreters with --python" in r.stderr
    assert not (tmp_path / "x").exists()


# ------------------------------------------------------------ the interpreters family


@pytest.mark.parametrize("python", TODAYS_PYTHONS or [pytest.param(None, marks=pytest.mark.skip(
    reason="no Python 3.14 or 3.15 here: tools/get-python 3.15 sets one up"))])
def test_the_interpreters_family_on_concurrent_interpreters(python):
    """interpreter_pool and subinterpreters, driven as the runner drives them, inside the
    real interpreter: serial's results, a kernel's error as one line, nothing left."""
    r = subprocess.run([python, "-m", "tests.interp_check"], cwd=ROOT, capture_output=True,
                       text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin"})
    assert r.returncode == 0, r.stderr[-2000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["api"] == "concurrent.interpreters"
    for name in ("interpreter_pool", "subinterpreters"):
        s = got[name]
        assert s["available"] and s["same_as_serial"], s
        assert s["failure"] == "ValueError: task 1 failed on purpose"
        assert "numpy cannot be imported" in s["numpy"]
        assert s["threads_left"] == 0 and len(s["pids"]) == 1  # one process, its threads joined


# ------------------------------------------------------------ the matrix's arithmetic


def _cell(workload: str, kind: str, strategy: str, workers: int, serial: list[float],
          times: list[float], model: str = "processes") -> Cell:
    r = stats.paired_ratios(serial, times)
    # Threads here gain on pure Python: a free-threaded build's (the GIL off in them).
    return Cell(workload=workload, kind=kind, size=1, tasks=4, strategy=strategy,
                start_method=None, workers=workers, status="ok", model=model,
                gil_enabled_in_workers=False if model == "threads" else None,
                times_s=tuple(times), serial_times_s=tuple(serial), median_s=stats.median(times),
                speedup=stats.median(r), speedup_ci95=stats.median_interval(r))


def _results(cells: list[Cell]) -> Results:
    return Results(machine={"usable_cpus": 2}, cells=tuple(cells))


class _Run:
    def __init__(self, label: str, results: Results) -> None:
        self.label, self.results = label, results


def test_time_per_task_chains_the_serial_ratio_and_the_speedup():
    n = 12
    base_serial = [1.0 + 0.001 * i for i in range(n)]
    a = _results([_cell("fib", "cpu", "serial", 1, base_serial, base_serial, "serial"),
                  _cell("fib", "cpu", "process_pool", 2, base_serial,
                        [x / 1.5 for x in base_serial])])
    # b's serial loop takes 0.8x a's; its threads 1.9x its own serial.
    b_serial = [0.8 * x for x in base_serial]
    b = _results([_cell("fib", "cpu", "serial", 1, b_serial, b_serial, "serial"),
                  _cell("fib", "cpu", "threads", 2, b_serial, [x / 1.9 for x in b_serial],
                        "threads")])
    serial = [SerialRuns("fib", 1, 4, {"a": tuple(base_serial), "b": tuple(b_serial)}, "cpu")]
    [cpu] = answer([_Run("a", a), _Run("b", b)], "a", serial)
    best_a, best_b = cpu.best["a"], cpu.best["b"]
    assert best_a.way == "process_pool @2" and best_a.point == pytest.approx(1 / 1.5)
    assert best_b.way == "threads @2" and best_b.point == pytest.approx(0.8 / 1.9)
    assert best_b.speedup == pytest.approx(1.9) and cpu.serial["b"].point == pytest.approx(0.8)
    assert best_b.low <= best_b.point <= best_b.high and best_b.n == n
    assert cpu.fastest() is best_b and cpu.rivals() == []  # identical rounds: no noise
    assert "surely faster than every other interpreter's best way" in cpu.sentence("a")


def test_a_way_a_few_rounds_short_has_no_interval_yet_still_ranks():
    """6 pairs: a 95% interval for each factor alone (what the fastest way is chosen by),
    but not both at 97.5% at once (what is shown): the threads stay the fastest way, with
    no interval and a "can't tell"; 5 pairs rank after the exact serial loop."""
    def run_with(pairs: int, cell_s: float = 0.6) -> Results:
        serial = [1.0] * pairs
        return _results([_cell("fib", "cpu", "serial", 1, serial, serial, "serial"),
                         _cell("fib", "cpu", "threads", 2, serial, [cell_s] * pairs, "threads")])

    runs = [SerialRuns("fib", 1, 4, {"a": (1.0,) * 12, "b": (1.0,) * 12}, "cpu")]
    [cpu] = answer([_Run("a", run_with(12)), _Run("b", run_with(6, 0.55))], "a", runs)
    short = cpu.best["b"]
    assert short.strategy == "threads" and short.point == pytest.approx(0.55)
    assert short.low is None and "no interval" in short.text()
    assert short.rank_high == pytest.approx(0.55)
    assert cpu.fastest() is short and "can't tell" in cpu.sentence("a")
    [cpu] = answer([_Run("a", run_with(5)), _Run("b", run_with(12))], "a", runs)
    assert cpu.best["a"].strategy == "serial"  # 5 pairs: no interval even alone
    assert surely_takes(cpu.best["b"]) < surely_takes(cpu.best["a"])


def _coverage(workloads: int, rounds: int, sims: int, rng: np.random.Generator) -> float:
    """How often the chained interval covers the true time per task on the baseline's
    scale, with independent log-normal noise on every run (the pairs' shared drift is
    what pairing cancels; left out here, it can only help)."""
    hit = 0
    for _ in range(sims):
        truth, cells_a, cells_b, serial = [], [], [], []
        for w in range(workloads):
            name = f"w{w}"
            ratio, speedup = rng.uniform(0.6, 1.8), rng.uniform(1.1, 1.7)
            truth.append(ratio / speedup)

            def noisy(x: float) -> list[float]:
                return list(x * np.exp(rng.normal(0, 0.05, rounds)))

            a_s, b_s = noisy(1.0), noisy(ratio)
            serial.append(SerialRuns(name, 1, 4, {"a": tuple(a_s), "b": tuple(b_s)}, "cpu"))
            own = noisy(ratio)
            cells_a.append(_cell(name, "cpu", "serial", 1, a_s, a_s, "serial"))
            cells_b += [_cell(name, "cpu", "serial", 1, own, own, "serial"),
                        _cell(name, "cpu", "process_pool", 2, own, noisy(ratio / speedup))]
        [cpu] = answer([_Run("a", _results(cells_a)), _Run("b", _results(cells_b))], "a",
                       serial)
        way = cpu.by_model["b"]["processes"]
        assert way.low is not None, "enough rounds for an interval"
        true = float(np.exp(np.mean(np.log(truth))))
        hit += way.low <= true <= way.high
    return hit / sims


@pytest.mark.parametrize("workloads, rounds", [(1, 7), (1, 12), (4, 9), (4, 12)])
def test_the_chained_interval_covers_95_percent(workloads, rounds):
    """The simulation the docs promise: every interval behind the figure at 1 − 0.05/m,
    so the product (and the geometric mean over a kind's workloads) covers ≥ 95%."""
    coverage = _coverage(workloads, rounds, 400, np.random.default_rng(1000 * workloads + rounds))
    assert coverage >= 0.95, coverage


def _chosen_coverage(rounds: int, sims: int, rng: np.random.Generator
                     ) -> tuple[float, float, float]:
    """Two interpreters, five ways each, all truly alike (3% log-normal noise on every
    run): where the choice of the fastest favours luck most. How often the fastest way's
    interval covers its true time per task, widened for the choice (what the matrix
    shows) and as the way's own (what it showed before); and how often it has one."""
    from gilbench.bench.analysis.matrix import _ways

    widened = own = shown = 0
    for _ in range(sims):
        def noisy(x: float) -> list[float]:
            return list(x * np.exp(rng.normal(0, 0.03, rounds)))

        a_s, b_s = noisy(1.0), noisy(1.0)
        serial = [SerialRuns("fib", 1, 4, {"a": tuple(a_s), "b": tuple(b_s)}, "cpu")]
        runs = []
        for label in ("a", "b"):
            own_s = noisy(1.0)
            cells = [_cell("fib", "cpu", "serial", 1, own_s, own_s, "serial")]
            cells += [_cell("fib", "cpu", "process_pool", w, own_s, noisy(1 / 1.6))
                      for w in (2, 3, 4, 5)]
            runs.append(_Run(label, _results(cells)))
        [cpu] = answer(runs, "a", serial)
        top = cpu.fastest()
        assert top is not None and top.family == 10
        truth = 1.0 if top.strategy == "serial" else 1 / 1.6  # the baseline's serial scale
        if top.low is not None:
            shown += 1
            widened += top.low <= truth <= top.high
        run = next(r for r in runs if r.label == top.label)
        mine = next(w for w in _ways(run.results, top.label, "a", "cpu", serial)
                    if w.way == top.way)
        own += mine.low <= truth <= mine.high
    return widened / max(1, shown), own / sims, shown / sims


def test_the_fastest_ways_interval_survives_the_choice():
    # Ten ways, all alike: the chosen one is the luckiest. Its own interval misses the
    # truth often; widened for the choice among the ten it covers at least 95%.
    widened, own, shown = _chosen_coverage(14, 300, np.random.default_rng(5))
    assert shown == 1.0  # 14 rounds: enough for the widened interval (10 needed)
    assert widened >= 0.95, widened
    assert own < 0.93, own  # the simulation can tell the difference


def test_a_fastest_way_short_of_the_rounds_for_the_choice_says_how_many():
    # 8 rounds: each way's own interval, but none that holds over the ten ways (the
    # baseline's ways rest on one factor and need 9 rounds, the others' on two and 10)
    assert _chosen_coverage(8, 20, np.random.default_rng(6))[2] == 0
    serial = [SerialRuns("fib", 1, 4, {"a": (1.0,) * 8, "b": (1.0,) * 8}, "cpu")]
    same = [1.0] * 8
    runs = [_Run(x, _results([_cell("fib", "cpu", "serial", 1, same, same, "serial"),
                              _cell("fib", "cpu", "process_pool", 2, same, [t] * 8)]))
            for x, t in (("a", 0.6), ("b", 0.55))]
    [cpu] = answer(runs, "a", serial)
    top = cpu.fastest()
    assert top is not None and top.label == "b" and top.low is None and top.family == 4
    text = cpu.sentence("a")
    need = matrix_rounds_for(2, 4)  # two factors, four ways: 9
    assert need == 9 and "can't tell" in text and "the 4 ways it was chosen among" in text
    assert f"needs {need} rounds a cell: --repeats {need}" in text


def test_the_coverage_simulation_can_fail():
    """The same simulation catches an interval that is too narrow: each factor taken at
    50% instead covers well under 95%."""
    import gilbench.bench.analysis.matrix as matrix

    old = matrix.CONFIDENCE
    matrix.CONFIDENCE = 0.0  # each of two factors at 1 - 1/2
    try:
        coverage = _coverage(1, 12, 400, np.random.default_rng(7))
    finally:
        matrix.CONFIDENCE = old
    assert coverage < 0.9, coverage


# ------------------------------------------------------------ real runs


@pytest.mark.slow
@needs_py315
def test_every_kernel_and_strategy_on_3_15_ok_or_skipped_with_its_reason(cli_env, tmp_path):
    out = tmp_path / "run"
    r = gilbench("run", "--python", PY315, "--profile", "smoke", "--workers", "2",
                 "--out", str(out), env=cli_env, cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    [folder] = [p for p in out.iterdir() if p.is_dir()]
    data = json.loads((folder / "results.json").read_text())
    assert data["machine"]["python_version"].startswith("3.15")
    assert data["machine"]["default_start_method"] == "forkserver"  # 3.14 changed it
    assert data["run"]["plan"]["start_methods"] == []  # none given: the interpreter's own
    reasons = ("not applicable", "needs distributed", "numpy cannot be imported")
    for c in data["cells"]:
        assert c["status"] == "ok" or (c["status"] == "skipped" and any(
            x in c["error"] for x in reasons)), c
    processes = [c for c in data["cells"] if c["model"] == "processes"
                 and c["strategy"] not in ("loky", "dask")]
    assert processes and {c["start_method"] for c in processes} == {"forkserver"}
    ran = {c["strategy"] for c in data["cells"] if c["status"] == "ok"}
    assert {"interpreter_pool", "subinterpreters", "process_pool", "threads"} <= ran
    pure = [c for c in data["cells"] if c["kind"] == "cpu" and c["model"] == "interpreters"]
    assert pure and all(c["status"] == "ok" for c in pure)  # the results were serial's
    startup = data["startup"]
    starts = {(e["model"], e.get("start_method")) for e in startup
              if e["what"] == "start_join" and e["status"] == "ok"}
    assert {("processes", m) for m in ("fork", "forkserver", "spawn")} <= starts
    assert ("interpreters", None) in starts
    assert any(e["what"] == "pool" and e["model"] == "interpreters" and e["status"] == "ok"
               for e in startup)
    report = (folder / "report.md").read_text()
    assert "subinterpreter" in report and "process_pool[forkserver]" in report


@pytest.mark.slow
@needs_py315
def test_the_matrix_leads_with_time_per_task_on_the_baselines_scale(cli_env, tmp_path):
    out = tmp_path / "matrix"
    pythons = [sys.executable, PY315, f"PYTHON_JIT=1 {PY315}"]
    args = [a for p in pythons for a in ("--python", p)]
    r = gilbench("run", *args, "--profile", "smoke", "--workloads", "fib,sleep",
                 "--strategies", "serial,threads,process_pool,interpreter_pool",
                 "--workers", "2", "--repeats", "10", "--suite", "speedup",
                 "--baseline", "python3.11", "--out", str(out),
                 env=cli_env, cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = r.stderr.splitlines()  # the first line, wrapped: its rest indented under it
    first = lines[0] + " ".join(x for x in itertools.takewhile(lambda x: x.startswith(" "),
                                                               lines[1:]))
    assert "expect about" in first
    labels = ["python3.11", "python3.15", "python3.15-PYTHON_JIT=1"]
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == labels
    jit = json.loads((out / labels[2] / "results.json").read_text())
    assert jit["machine"]["jit_enabled"] is True
    assert jit["run"]["interpreter_env"] == {"PYTHON_JIT": "1"}
    plain = json.loads((out / labels[1] / "results.json").read_text())
    assert plain["machine"]["jit_enabled"] is False
    assert {c["start_method"] for c in plain["cells"] if c["strategy"] == "process_pool"} == {
        "forkserver"}
    ours = json.loads((out / labels[0] / "results.json").read_text())
    assert {c["start_method"] for c in ours["cells"] if c["strategy"] == "process_pool"} == {
        multiprocessing.get_start_method()}
    cost = json.loads((out / "serial-cost.json").read_text())
    assert {(x["workload"], x["kind"]) for x in cost["runs"]} == {("fib", "cpu"), ("sleep", "io")}
    md = (out / "compare.md").read_text()
    lead = md.split("## The fastest way through this work, per interpreter", 1)[1]
    lead = lead.split("\n## ", 1)[0]
    table = lead.split("### Single-thread cost", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ")][2:]
    assert {(row.split("|")[1].strip().strip("*"), row.split("|")[2].strip().strip("*"))
            for row in rows if row.split("|")[1].strip().strip("*") in ("cpu", "io")} == {
        (k, label) for k in ("cpu", "io") for label in labels}
    # 10 rounds: every fastest way has its interval, widened for the choice among the
    # kind's 11 ways (rounds_for(2, 11) == 10); the baseline's serial loop is the scale
    assert all("[" in row.split("|")[4] or "(the scale)" in row.split("|")[4]
               for row in rows), rows
    assert "Single-thread cost of each interpreter" in lead
    costs = lead.split("Single-thread cost of each interpreter", 1)[1]
    assert all(label in costs for label in labels) and "JIT on" in costs
    verdicts = [row.split("|")[4].strip() for row in costs.splitlines()
                if row.startswith("| python")]
    assert sorted(verdicts) == ["", *sorted(verdicts[1:])]  # the baseline has none
    assert all(v in ("surely slower", "surely faster", "not surely different")
               for v in verdicts[1:]) and len(verdicts) == 3  # GIL builds too
    assert (out / "compare-matrix.png").stat().st_size > 0
    assert "The fastest way through this work" in r.stdout
    assert md.index("The fastest way through this work") < md.index("## Systems")


def _named_fastest(rounds: int, sims: int, rng: np.random.Generator) -> tuple[float, float]:
    """Interpreter b is truly 3% faster than the baseline a (its serial loop, the same
    process-pool speedup, 5% log-normal noise on every run): how often the matrix names
    a fastest, and how often it wrongly says a is *surely* faster than b."""
    named_a = wrong = 0
    for _ in range(sims):
        def noisy(x: float) -> list[float]:
            return list(x * np.exp(rng.normal(0, 0.05, rounds)))

        a_s, b_s = noisy(1.0), noisy(0.97)
        serial = [SerialRuns("fib", 1, 4, {"a": tuple(a_s), "b": tuple(b_s)}, "cpu")]
        own_a, own_b = noisy(1.0), noisy(0.97)
        a = _results([_cell("fib", "cpu", "serial", 1, own_a, own_a, "serial"),
                      _cell("fib", "cpu", "process_pool", 2, own_a, noisy(1 / 1.6))])
        b = _results([_cell("fib", "cpu", "serial", 1, own_b, own_b, "serial"),
                      _cell("fib", "cpu", "process_pool", 2, own_b, noisy(0.97 / 1.6))])
        [cpu] = answer([_Run("a", a), _Run("b", b)], "a", serial)
        top = cpu.fastest()
        assert top is not None
        named_a += top.label == "a"
        wrong += top.label == "a" and not cpu.rivals()
    return named_a / sims, wrong / sims


def test_the_fastest_interpreter_is_not_the_baseline_by_construction():
    # The baseline's own figures need one interval fewer (its serial ratio is the scale,
    # exact), so ranking by upper ends named it fastest 73-92% of the time when another
    # interpreter was truly 3% faster. Ranked by the point estimate it is named less than
    # half the time, and never said to be surely faster.
    named_a, wrong = _named_fastest(12, 300, np.random.default_rng(11))
    assert named_a < 0.5, named_a
    assert wrong == 0
