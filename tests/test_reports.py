"""Charts and reports as pure functions of a results object built by hand."""

from __future__ import annotations

from pathlib import Path

from bench.analysis import kind_verdicts, workload_verdict
from bench.report import build, write_report
from bench.report.charts import write_charts
from bench.report.sweep import summary_table
from bench.results import Results, with_speedups
from tests.helpers import cell


def sample() -> Results:
    cells = [
        cell("fib", "cpu", "serial", 1, 1.0),
        cell("fib", "cpu", "threads", 2, 1.0),
        cell("fib", "cpu", "pool_map", 2, 0.52),
        cell("fib", "cpu", "process_pipe", 2, 0.5),
        cell("fib", "cpu", "process_pipe", 4, 0.5, status="error"),
        cell("sleep", "io", "serial", 1, 1.0),
        cell("sleep", "io", "threads", 4, 0.26),
        cell("sleep", "io", "pool_map", 4, 0.255),
        cell("sleep", "io", "process_pipe", 4, 0.3),
    ]
    return Results(machine={"hostname": "box", "usable_cpus": 2, "python_version": "3.11"},
                   cells=tuple(with_speedups(cells)), run={"profile": "quick", "complete": True})


def test_verdicts_follow_the_numbers():
    lines = kind_verdicts(sample())
    cpu = next(line for line in lines if line.startswith("**CPU-bound pure Python"))
    io = next(line for line in lines if line.startswith("**IO-bound"))
    assert "use **process_pipe[fork]**, 2.00×" in cpu
    assert "best threads: threads 1.00×" in cpu
    # pool_map is 2% faster than threads on sleep: a tie, and threads cost less
    assert "use **threads**" in io and "ties" in io


def test_workload_verdict_wording():
    a = cell("x", "cpu", "threads", 2, 1.0)
    b = cell("x", "cpu", "pool_map", 2, 0.5)
    serial = cell("x", "cpu", "serial", 1, 1.0)
    a, b = with_speedups([serial, a, b])[1:]
    assert workload_verdict(a, b) == "processes, 2.00× faster than threads"
    assert workload_verdict(b, None) == "processes (pool_map[fork])"


def test_summary_table_lists_best_of_each_model():
    table = summary_table(sample())
    fib = table.rows[0]
    assert fib[0] == "fib" and fib[2] == "1000.0 ms"
    assert fib[3].startswith("1.00× threads @2")
    assert fib[4].startswith("2.00× process_pipe[fork] @2")


def test_report_files_charts_and_failed_cells(tmp_path: Path):
    res = sample()
    charts = write_charts(res, tmp_path)
    assert set(charts) == {"overview", "fib", "sleep"}
    for paths in charts.values():
        for p in paths:
            assert p.stat().st_size > 1000
    assert (tmp_path / "speedup-fib.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "speedup-fib.svg").read_text().lstrip().startswith("<?xml")
    md, page = write_report(res, tmp_path, charts)
    text = md.read_text()
    assert "## Verdicts" in text and "## Machine" in text and "## Summary" in text
    assert "![speedup of fib](speedup-fib.png)" in text
    assert "ERROR" in text and "killed by SIGKILL" in text  # failed cells are shown
    html = page.read_text()
    assert html.count("data:image/png;base64,") == 3  # overview + 2 workloads, embedded
    assert "src=\"http" not in html and "<link" not in html  # self-contained


def test_partial_results_say_so():
    res = sample()
    res = Results(machine=res.machine, cells=res.cells,
                  run={"profile": "quick", "complete": False,
                       "resume_hint": "gilbench run --resume X"})
    blocks = build(res, {})
    assert any("Partial run" in getattr(b, "text", "") for b in blocks)
