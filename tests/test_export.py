"""gilbench export: pyperf's JSON (read back by pyperf itself) and CSV."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from gilbench.bench.cli import main
from gilbench.bench.results import Cell, Results, save, with_speedups
from tests.helpers import SPREAD

pyperf = pytest.importorskip("pyperf", reason="pyperf is in the test extra: pip install "
                             "-e '.[test]'")


def made_up(host: str = "a", proc_s: float = 0.5) -> Results:
    cells = []
    for strategy, model, workers, t in (("serial", "serial", 1, 1.0),
                                        ("threads", "threads", 2, 1.0),
                                        ("process_pool", "processes", 2, proc_s)):
        cells.append(Cell(workload="fib", kind="cpu", size=20, tasks=8, strategy=strategy,
                          model=model, start_method="fork" if model == "processes" else None,
                          workers=workers, status="ok", times_s=tuple(t * f for f in SPREAD),
                          median_s=t, peak_rss_bytes=40_000_000,
                          serial_times_s=() if model == "serial" else
                          tuple(1.0 * f for f in reversed(SPREAD))))
    cells.append(Cell(workload="fib", kind="cpu", size=20, tasks=8, strategy="pool_map",
                      model="processes", start_method="fork", workers=2, status="error",
                      error="worker process 1 was killed by SIGKILL"))
    return Results(machine={"hostname": host, "usable_cpus": 2, "logical_cpus": 2,
                            "cpu_model": "AMD EPYC", "os": "Linux", "python_version": "3.11.7",
                            "python_implementation": "CPython",
                            "python_executable": "/usr/bin/python3"},
                   cells=tuple(with_speedups(cells)), run={"profile": "quick"})


def gilbench(*args, env, cwd):
    return subprocess.run([sys.executable, "-m", "gilbench", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_pyperf_json_loads_in_pyperf_with_every_ok_cell_and_its_metadata(tmp_path):
    from gilbench.bench.report.export import to_pyperf

    res = made_up()
    path = tmp_path / "run.json"
    path.write_text(json.dumps(to_pyperf(res)))
    suite = pyperf.BenchmarkSuite.load(str(path))
    names = suite.get_benchmark_names()
    assert names == ["fib/serial/1", "fib/threads/2", "fib/process_pool/2"]  # the failed cell: none
    bench = suite.get_benchmark("fib/process_pool/2")
    assert bench.get_values() == pytest.approx([0.5 * f for f in SPREAD])
    assert bench.get_unit() == "second"
    meta = bench.get_metadata()
    assert meta["hostname"] == "a" and meta["cpu_model_name"] == "AMD EPYC"
    assert meta["python_implementation"] == "cpython" and meta["cpu_count"] == 2
    assert meta["gilbench_workers"] == 2 and meta["gilbench_start_method"] == "fork"
    assert meta["gilbench_speedup"] == pytest.approx(2.0)
    assert meta["mem_max_rss"] == 40_000_000


def test_csv_has_one_row_per_cell_failed_ones_included():
    from gilbench.bench.report.export import CSV_COLUMNS, to_csv

    rows = list(csv.DictReader(io.StringIO(to_csv(made_up()))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [(r["strategy"], r["status"]) for r in rows] == [
        ("serial", "ok"), ("threads", "ok"), ("process_pool", "ok"), ("pool_map", "error")]
    proc = rows[2]
    assert float(proc["speedup"]) == pytest.approx(2.0) and proc["runs"] == "7"
    assert float(proc["speedup_ci95_low"]) < 2.0 < float(proc["speedup_ci95_high"])
    assert rows[3]["error"] == "worker process 1 was killed by SIGKILL"
    assert rows[3]["median_s"] == "" and rows[0]["hostname"] == "a"


@pytest.mark.slow
def test_a_real_run_exported_reads_in_pyperf_show_compare_to_and_hist(tmp_path, cli_env):
    out = tmp_path / "run"
    r = gilbench("run", "--profile", "smoke", "--suite", "speedup", "--workloads", "fib,sleep",
                 "--strategies", "threads,process_pool", "--workers", "1,2", "--repeats", "6",
                 "--out", str(out), env=cli_env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    e = gilbench("export", str(out), "--format", "pyperf", "--out", str(tmp_path / "a.json"),
                 env=cli_env, cwd=tmp_path)
    assert e.returncode == 0 and e.stdout == "", e.stderr
    # The same file through stdout, written as a second "machine" for compare_to.
    e2 = gilbench("export", str(out / "results.json"), "--format", "pyperf", env=cli_env,
                  cwd=tmp_path)
    (tmp_path / "b.json").write_text(e2.stdout)
    cells = json.loads((out / "results.json").read_text())["cells"]
    ok = [c for c in cells if c["status"] == "ok"]

    def pyperf_cmd(*args):
        p = subprocess.run([sys.executable, "-m", "pyperf", *args], capture_output=True,
                           text=True, timeout=120, cwd=tmp_path)
        assert p.returncode == 0, p.stderr
        return p.stdout

    shown = pyperf_cmd("show", "a.json")
    assert shown.count("Mean +- std dev") == len(ok)
    assert "\nsleep/threads/2\n" in shown
    compared = pyperf_cmd("compare_to", "a.json", "b.json", "--table")
    assert "fib/process_pool/2" in compared
    assert "fib/threads/1" in pyperf_cmd("hist", "a.json")
    suite = pyperf.BenchmarkSuite.load(str(tmp_path / "a.json"))
    by_name = {b.get_name(): b for b in suite.get_benchmarks()}
    for c in ok:
        got = by_name[f"{c['workload']}/{c['strategy']}/{c['workers']}"].get_values()
        assert list(got) == pytest.approx(c["times_s"])
    table = gilbench("export", str(out), "--format", "csv", env=cli_env, cwd=tmp_path)
    assert len(list(csv.DictReader(io.StringIO(table.stdout)))) == len(cells)


def test_several_start_methods_and_sizes_get_distinct_names():
    from gilbench.bench.report.export import benchmark_name

    c = made_up().cells[2]
    assert benchmark_name(c, methods=1, sizes=1) == "fib/process_pool/2"
    assert benchmark_name(c, methods=2, sizes=1) == "fib/process_pool[fork]/2"
    assert benchmark_name(c, methods=2, sizes=3) == "fib/process_pool[fork]/2@20"


@pytest.mark.parametrize("args, message", [
    (["{run}", "--format", "xml"], "argument --format: unknown choice 'xml'; valid: pyperf, csv"),
    (["{run}", "--format", "pyperff"], "(did you mean 'pyperf'?)"),
    (["{run}"], "the following arguments are required: --format"),
    (["{tmp}/none.json", "--format", "csv"], "no such file"),
    (["{pb}", "--format", "pyperf"], "keeps each benchmark's summary but not its raw times"),
    (["{run}", "--format", "csv", "--out", "{run}/x.csv"], "--out {run}/x.csv: cannot write"),
])
def test_bad_export_input_is_one_line_exit_2(args, message, tmp_path, capsys):
    run = tmp_path / "results.json"
    save(made_up(), run)
    # A pytest-benchmark file of gilbench benchmarks saved without --benchmark-save-data.
    pb = {"machine_info": {"node": "pb"}, "datetime": "2026-01-01", "benchmarks": [
        {"name": "test_speedup[fib-threads-2]", "stats": {"median": 0.1},
         "extra_info": {"workload": "fib", "kind": "cpu", "strategy": "threads",
                        "workers": 2, "size": 20, "tasks": 8}}]}
    (tmp_path / "pb.json").write_text(json.dumps(pb))
    subs = {"{run}": str(run), "{pb}": str(tmp_path / "pb.json"), "{tmp}": str(tmp_path)}

    def sub(x: str) -> str:
        for k, v in subs.items():
            x = x.replace(k, v)
        return x

    code = main(["export", *[sub(a) for a in args]])  # in this process
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and sub(message) in lines[0], err
    assert not Path(sub("{run}/x.csv")).exists()
