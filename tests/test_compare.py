"""gilbench compare: machines side by side, from hand-made results files."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gilbench.bench.analysis.comparison import Run, load_runs, undecided
from gilbench.bench.cli import main
from gilbench.bench.report.compare import flips, relative_table, undecided_text
from gilbench.bench.results import Cell, Results, save, with_speedups
from tests.helpers import SPREAD

MODELS = {"serial": "serial", "threads": "threads", "process_pool": "processes"}


def cells(name: str, proc_speed: float, usable: int, size: int = 10,
          workloads=("fib", "sleep"), serial_s: float = 1.0, proc_workers: int | None = None):
    out = []
    for w in workloads:
        kind = "cpu" if w == "fib" else "io"
        thread_speed = 1 if kind == "cpu" else 2
        for strategy, n, t in (("serial", 1, serial_s), ("threads", 2, serial_s / thread_speed),
                               ("process_pool", proc_workers or usable,
                                serial_s / proc_speed)):
            out.append(Cell(workload=w, kind=kind, size=size, tasks=8, strategy=strategy,
                            model=MODELS[strategy],
                            start_method="fork" if strategy == "process_pool" else None,
                            workers=n, status="ok", times_s=tuple(t * f for f in SPREAD),
                            median_s=t, serial_times_s=() if strategy == "serial" else
                            tuple(serial_s * f for f in reversed(SPREAD))))
    return Results(machine={"hostname": name, "usable_cpus": usable, "cpu_model": "X",
                            "python_version": "3.11"},
                   cells=tuple(with_speedups(out)), run={"profile": "quick", "complete": True})


def write(tmp: Path, name: str, res: Results) -> str:
    path = tmp / name / "results.json"
    save(res, path)
    return str(path)


def pytest_benchmark_json(tmp: Path, res: Results) -> str:
    """The same measurements as gilbench's pytest plugin would write them."""
    data = {"machine_info": {"node": "pb", "gilbench": res.machine}, "datetime": "2026-01-01",
            "gilbench": {"profile": "quick"},
            "benchmarks": [{"name": f"test_speedup[{c.workload}-{c.strategy}-{c.workers}]",
                            "group": c.workload, "stats": {"median": c.median_s,
                                                           "data": list(c.times_s)},
                            "extra_info": {"workload": c.workload, "kind": c.kind,
                                           "strategy": c.strategy, "model": c.model,
                                           "start_method": c.start_method,
                                           "workers": c.workers, "size": c.size,
                                           "tasks": c.tasks}}
                           for c in res.cells]}
    path = tmp / "pb.json"
    path.write_text(json.dumps(data))
    return str(path)


def gilbench(*args, env, cwd):
    return subprocess.run([sys.executable, "-m", "gilbench", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_compare_two_machines_end_to_end(tmp_path, cli_env):
    a = write(tmp_path, "a", cells("big", 1.95, 2))
    b = write(tmp_path, "b", cells("small", 0.8, 1))  # one CPU: processes only pay
    out = tmp_path / "cmp"
    r = gilbench("compare", a, b, "--labels", "two-cpu,one-cpu", "--out", str(out),
                 env=cli_env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    md = (out / "compare.md").read_text()
    assert "| **usable CPUs** | **2** | **1** |" in md  # the difference is highlighted
    assert "| CPU model | X | X |" in md  # the same value is not
    assert "**fib**: the answer flips" in md
    assert "**sleep**" not in md.split("## Where the answer changes")[1].split("##")[0]
    assert "geometric mean" in md
    charts = sorted(p.name for p in out.glob("compare-*.png"))
    assert charts == ["compare-fib.png", "compare-overview.png", "compare-sleep.png"]
    html = (out / "compare.html").read_text()
    assert html.count("data:image/png;base64,") == 3 and "two-cpu" in html


@pytest.mark.slow
def test_mixed_inputs_results_json_and_pytest_benchmark_json(tmp_path, cli_env):
    a = write(tmp_path, "a", cells("big", 1.95, 2))
    b = pytest_benchmark_json(tmp_path, cells("pb", 1.5, 2))
    out = tmp_path / "cmp"
    r = gilbench("compare", a, b, "--out", str(out), env=cli_env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    md = (out / "compare.md").read_text()
    assert "big-2cpu-py3.11" in md and "pb-2cpu-py3.11" in md  # readable default labels


def test_relative_performance_and_geometric_mean():

    base = Run("base", "-", cells("a", 2.0, 2))
    fast = Run("fast", "-", cells("b", 4.0, 4, serial_s=0.5))
    table, notes = relative_table([base, fast], base)
    assert table.headers == ("workload", "fast vs base")
    rows = {r[0]: r[1] for r in table.rows}
    # fib: base fastest 0.5 s, fast fastest 0.125 s -> 4x; best speedups 4/2 -> 2x; each
    # with its bootstrap interval (7 runs a side, 1% spread) and its mark.
    assert re.fullmatch(r"time 4\.00× \[3\.9\d–4\.0\d\] faster, "
                        r"speedup 2\.00× \[1\.9\d–2\.0\d\] higher", rows["fib"]), rows["fib"]
    assert rows["geometric mean"].startswith("time 4.00× [")
    assert notes == []


def test_different_task_sizes_are_said_not_compared_and_missing_workloads_are_listed(tmp_path):
    from gilbench.bench.report.compare import build

    base = Run("base", "-", cells("a", 2.0, 2, size=10))
    other = Run("other", "-", cells("b", 2.0, 2, size=20, workloads=("fib",)))
    table, notes = relative_table([base, other], base)
    # A speedup depends on the task size: a difference between sizes is not a change.
    said = next(n for n in notes if n.startswith("fib: the runs' task sizes differ"))
    assert "base: size 10, tasks of about" in said and "other: size 20, tasks of about" in said
    assert dict((r[0], r) for r in table.rows)["fib"][1] == "—"
    # The same size with another task count: the speedups still compare, the times not.
    more = Run("more", "-", Results(machine=base.results.machine, run=base.results.run,
                                    cells=tuple(dataclasses.replace(c, tasks=c.tasks * 2)
                                                for c in base.results.cells)))
    table, notes = relative_table([base, more], base)
    assert any("different task counts" in n for n in notes)
    assert dict((r[0], r) for r in table.rows)["fib"][1].startswith("speedup 1.00× [")
    text = "\n".join(getattr(b, "text", "") + " ".join(getattr(b, "items", ()))
                     for b in build([base, other], base, {}))
    assert "other has no result for: sleep" in text


def test_flip_needs_a_real_change_of_answer():

    two = Run("two", "-", cells("a", 1.95, 2))
    one = Run("one", "-", cells("b", 0.8, 1))  # one CPU: processes only pay
    said = flips([two, one])
    assert len(said) == 1 and said[0].startswith("**fib**")
    assert flips([two, one], bold=False) == [said[0].replace("**", "")]
    # Threads and processes both 1.0x on one CPU: a tie (an answer, threads), no flip.
    unsure = Run("unsure", "-", cells("c", 1.0, 1))
    assert flips([two, unsure]) == []
    assert not any(w == "fib" for w, _ in undecided([two, unsure]))
    # With a wide interval neither surely wins: no flip, and no claim that the answer
    # is the same everywhere.
    wide = Run("wide", "-", Results(machine=unsure.results.machine, cells=tuple(
        dataclasses.replace(c, speedup_ci95=(0.7, 1.4)) if c.model == "processes" else c
        for c in unsure.results.cells), run=unsure.results.run))
    assert flips([two, wide]) == [] and ("fib", ["wide"]) in undecided([two, wide])
    assert "fib (on wide)" in undecided_text([two, wide])


@pytest.mark.slow
def test_compare_prints_its_table_and_gates_ci_both_ways(tmp_path, cli_env):
    """The table on stdout (text and Markdown), the flips it calls significant, and
    --fail-if-slower: exit 1 with the cells that got worse, exit 0 the other way round."""
    two = write(tmp_path, "two", cells("big", 1.95, 2))
    # The same cells on one CPU (2 processes there too), where processes only cost.
    one = write(tmp_path, "one", cells("small", 0.8, 1, proc_workers=2))
    # a wide terminal: one line per row (test_report checks the wrapping to fit)
    r = gilbench("compare", two, one, "--labels", "two,one", "--out", str(tmp_path / "c1"),
                 env={**cli_env, "COLUMNS": "300"}, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    head = r.stdout.splitlines()[:2]
    assert head[0].split() == ["workload", "best", "on", "two", "best", "on", "one", "speedup",
                               "one", "vs", "two", "time", "one", "vs", "two"]
    assert set(head[1]) <= {"-", " "}
    lines = r.stdout.splitlines()  # fib's row, with the lines its wrapped cells go on to
    at = next(i for i, line in enumerate(lines) if line.startswith("fib "))
    end = next((j for j in range(at + 1, len(lines)) if not lines[j].startswith(" ")),
               len(lines))
    fib = " ".join(lines[at:end])
    # best 1.00 (threads) against 1.95: 1.95 times lower, surely; pyperf's words
    assert "1.95× [" in fib and "] lower" in fib and "] slower" in fib
    assert "- fib: the answer flips between threads and processes" in r.stdout
    assert "wrote" in r.stderr and "wrote" not in r.stdout
    md = gilbench("compare", two, one, "--labels", "two,one", "--format", "md", "--out",
                  str(tmp_path / "c2"), env=cli_env, cwd=tmp_path)
    assert md.stdout.startswith("| workload | best on two | best on one |")
    assert md.stdout.splitlines()[1].startswith("| --- |")

    worse = gilbench("compare", two, one, "--labels", "two,one", "--fail-if-slower", "10",
                     "--fail-on", "both", "--out", str(tmp_path / "c3"), env=cli_env,
                     cwd=tmp_path)
    assert worse.returncode == 1, worse.stderr
    # (the prose wraps to the terminal: read it with its whitespace flattened)
    seen = " ".join(worse.stdout.split())
    listed = seen.split("Significantly worse than two by more than 10% (")[1]
    assert listed.startswith("4 of 10 speedups and times compared cell by cell):")
    assert "- one: fib process_pool[fork] @2: speedup 2.44× [2.39–2.49] lower" in listed
    assert "sleep threads @2" not in listed  # threads sped up sleep on both machines
    # and how small a slowdown it could have caught, over its 10 figures
    assert "The gate could catch, in one, a slowdown of " in seen and "of its 10 figures" in seen
    better = gilbench("compare", one, two, "--labels", "one,two", "--fail-if-slower", "10%",
                      "--fail-on", "both", "--out", str(tmp_path / "c4"), env=cli_env,
                      cwd=tmp_path)
    assert better.returncode == 0, better.stdout
    assert "No cell got significantly worse than one by more than 10% (10 speedups" in " ".join(
        better.stdout.split())
    # the default: speedups only (ratios inside each run, which a phase of the machine
    # between the runs does not move), as --fail-on speedup
    for extra in ([], ["--fail-on", "speedup"]):
        only = gilbench("compare", two, one, "--labels", "two,one", "--fail-if-slower", "10",
                        *extra, "--out", str(tmp_path / "c5"), env=cli_env, cwd=tmp_path)
        assert only.returncode == 1
        flat = " ".join(only.stdout.split())
        assert "(2 of 4 speedups compared cell by cell):" in flat
        assert ": time " not in flat.split("Significantly worse")[1]


def test_a_file_without_runs_to_bootstrap_is_refused(tmp_path):
    from gilbench.bench.errors import UserError

    res = cells("few", 1.95, 2)
    # One number per cell (a summary, as a pytest-benchmark file without its data).
    summary = Results(machine=res.machine, run=res.run, cells=tuple(
        dataclasses.replace(c, times_s=c.times_s[:1], serial_times_s=c.serial_times_s[:1],
                            speedup=None, speedup_ci95=None)
        for c in res.cells))
    with pytest.raises(UserError, match="no cell carries the timed runs compare bootstraps"):
        load_runs([write(tmp_path, "a", res), write(tmp_path, "b", summary)], None)
    # Three runs a cell (a smoke run): compared, each figure without an interval.
    few = Results(machine=res.machine, run=res.run, cells=tuple(
        dataclasses.replace(c, times_s=c.times_s[:3], serial_times_s=c.serial_times_s[:3],
                            speedup=None, speedup_ci95=None)
        for c in res.cells))
    runs = load_runs([write(tmp_path, "a", res), write(tmp_path, "c", few)], None)
    table, _ = relative_table(runs, runs[0])
    assert "(no interval: under 6 runs)" in table.rows[0][1]


@pytest.mark.parametrize("args, message", [
    (["{a}", "{a}", "--format", "xml"], "argument --format: unknown choice 'xml'; valid: text, md"),
    (["{a}", "{a}", "--format", "mdd"], "(did you mean 'md'?)"),
    (["{a}", "{a}", "--fail-if-slower", "0"], "--fail-if-slower: '0' is not a positive number"),
    (["{a}", "{a}", "--fail-if-slower", "ten"], "give the percentage a cell may get worse by"),
    (["{a}", "{a}", "--fail-on", "time"], "--fail-on time says what --fail-if-slower checks"),
    (["{a}", "{a}", "--fail-if-slower", "5", "--fail-on", "times"],
     "unknown choice 'times' (did you mean 'time'?); valid: both, speedup, time"),
    (["{a}"], "at least two results files"),
    (["{a}", "{tmp}/none.json"], "no such file"),
    (["{a}", "{bad}"], "not valid JSON"),
    (["{a}", "{v9}"], "schema_version 9"),
    (["{a}", "{a}", "--labels", "x"], "1 labels for 2 results files"),
    (["{a}", "{a}", "--labels", "x,x"], "'x' is given twice"),
    (["{a}", "{a}", "--baseline", "nope"], "--baseline 'nope' is not one of the labels"),
])
def test_bad_compare_input_is_one_line_exit_2(args, message, tmp_path, capsys):
    a = write(tmp_path, "a", cells("big", 1.95, 2))
    (tmp_path / "bad.json").write_text('{"schema_version": 1, "ce')
    (tmp_path / "v9.json").write_text('{"schema_version": 9}')
    subs = {"{a}": a, "{bad}": str(tmp_path / "bad.json"), "{v9}": str(tmp_path / "v9.json")}
    args = [subs.get(x, x.replace("{tmp}", str(tmp_path))) for x in args]
    code = main(["compare", *args, "--out", str(tmp_path / "o")])  # in this process
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], err


def test_compare_prints_by_default_writes_files_only_with_out_and_speaks_json(tmp_path,
                                                                              cli_env):
    two = write(tmp_path, "two", cells("big", 1.95, 2))
    one = write(tmp_path, "one", cells("small", 0.8, 1, proc_workers=2))
    r = gilbench("compare", two, one, "--labels", "two,one", env=cli_env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "workload" in r.stdout and "wrote" not in r.stderr
    assert not (tmp_path / "reports").exists()  # nothing written without --out
    # the table and the prose under it (flips, the gate's words) fit 100 columns
    gated = gilbench("compare", two, one, "--fail-if-slower", "10",
                     env={**cli_env, "COLUMNS": "100"}, cwd=tmp_path)
    lines = gated.stdout.splitlines()
    assert "The gate could catch" in gated.stdout and max(map(len, lines)) <= 100, \
        max(lines, key=len)
    js = gilbench("compare", two, one, "--labels", "two,one", "--format", "json",
                  "--fail-if-slower", "10", "--fail-on", "both", env=cli_env, cwd=tmp_path)
    assert js.returncode == 1, js.stderr  # the gate still decides the exit code
    data = json.loads(js.stdout)  # stdout is the JSON alone
    assert data["baseline"] == "two" and [r["label"] for r in data["runs"]] == ["two", "one"]
    fib = data["workloads"]["fib"]
    assert fib["answers"]["two"]["winner"] == "processes"
    change = fib["changes"]["one"]["speedup"]
    assert change["point"] < 1 and change["mark"] == "lower" and "lower" in change["text"]
    assert data["flipped"] == ["fib"]
    gate = data["gate"]
    assert gate["failed"] and gate["compared"] == 10 and gate["fail_if_slower_pct"] == 10
    assert any(w["where"] == "fib process_pool[fork] @2" for w in gate["worse"])
    assert gate["could_catch"]["one"]["figures"] == 10
    # under 8 figures of a sort: no between-run spread read, none added
    assert gate["between_runs_log_sd"] == {"one": {"speedup": 0.0, "time": 0.0}}
    assert not (tmp_path / "reports").exists()


def test_the_gate_says_how_much_it_widened_for_the_spread_between_runs(capsys, monkeypatch):
    from gilbench.bench.reading import GateResult, print_gate

    monkeypatch.setenv("COLUMNS", "100")
    base = Run("two", "two.json", cells("big", 1.95, 2))
    g = GateResult(10, ("speedup", "time"), [], 10, {"one": []},
                   {"one": {"speedup": 0.0488, "time": 0.0}})
    print_gate(g, base)
    out = " ".join(capsys.readouterr().out.split())
    assert ("Between two and one the figures moved more than their own rounds show (a phase "
            "of the machine in one run): the gate widened speedups by ±5.0% (one standard "
            "error) before deciding.") in out
    assert "times by" not in out  # nothing added to them
    print_gate(dataclasses.replace(g, spread={"one": {"speedup": 0.0, "time": 0.0}}), base)
    assert "Between" not in capsys.readouterr().out
