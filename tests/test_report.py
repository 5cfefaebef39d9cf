"""Charts and reports as pure functions of a results object built by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from gilbench.bench.analysis import workload_verdict
from gilbench.bench.report import build, write_report
from gilbench.bench.report.charts import write_charts
from gilbench.bench.report.document import render_markdown
from gilbench.bench.report.speedups import free_threading
from gilbench.bench.report.suites import headlines, write_cost_charts
from gilbench.bench.results import Results, with_speedups
from tests.helpers import cell, full_sample
from tests.helpers import sample_results as sample


def test_workload_verdict_wording():
    a = cell("x", "cpu", "threads", 2, 1.0)
    b = cell("x", "cpu", "pool_map", 2, 0.5)
    serial = cell("x", "cpu", "serial", 1, 1.0)
    a, b = with_speedups([serial, a, b])[1:]
    # The task size it holds for: the paired serial runs' median over the 8 tasks.
    assert workload_verdict(a, b) == ("processes, 2.00× faster than threads (at least 1.94×), "
                                      "for tasks of about 125 ms")
    assert workload_verdict(None, b) == ("can't tell: no threads cell precise enough to set "
                                         "against pool_map[fork], for tasks of about 125 ms")
    assert workload_verdict(None, None) == "can't tell: no cell precise enough to decide"
    close = cell("x", "cpu", "pool_map", 2, 1.0)
    close = with_speedups([serial, close])[1]
    assert workload_verdict(a, close) == ("tie within 5%: threads are cheaper, for tasks of "
                                          "about 125 ms")
    import dataclasses

    wide = dataclasses.replace(close, speedup_ci95=(0.8, 1.3))
    assert workload_verdict(a, wide).startswith("can't tell at this precision (threads ÷ "
                                                "processes 0.76–1.27×")
    # Above what its CPUs allow (2 workers, 3.5x): never the basis of a verdict.
    from gilbench.bench.analysis import best_by_speedup

    fast = dataclasses.replace(b, speedup=3.5, speedup_ci95=(3.4, 3.6))
    assert best_by_speedup([fast, b], usable=2) is b




def test_report_files_charts_and_failed_cells(tmp_path: Path):
    res = sample()
    charts = write_charts(res, tmp_path)
    assert set(charts) == {"overview", "workload:fib", "workload:sleep"}
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


def test_free_threading_section_says_what_changed():
    import dataclasses

    cells = [cell("fib", "cpu", "serial", 1, 1.0), cell("fib", "cpu", "threads", 2, 0.55),
             cell("fib", "cpu", "pool_map", 2, 0.52)]
    from gilbench.bench.results import with_speedups

    free = Results(machine={"free_threaded_build": True, "gil_enabled": False,
                            "python_gil_env": "0"}, cells=tuple(
        dataclasses.replace(c, gil_enabled_in_workers=False) for c in with_speedups(cells)))
    text = free_threading(free)
    assert "free-threaded build" in text and "PYTHON_GIL=0" in text
    assert "1.82×" in text  # threads' best speedup on CPU work: 1 / 0.55
    assert free_threading(Results(machine={"gil_enabled": True}, cells=())) is None

    reenabled = Results(machine=free.machine, cells=tuple(
        dataclasses.replace(c, gil_enabled_in_workers=c.model == "processes")
        for c in free.cells))
    text = free_threading(reenabled)
    assert "turns it back on" in text and "1 of 2 cells" in text and "pool_map" in text
    assert "What changes: threads can run" in text  # threads stayed without it


def test_the_free_threading_section_names_pythongil_1_as_the_cause():
    import dataclasses

    from gilbench.bench.results import with_speedups

    cells = [dataclasses.replace(c, gil_enabled_in_workers=True) for c in with_speedups([
        cell("fib", "cpu", "serial", 1, 1.0), cell("fib", "cpu", "threads", 2, 1.0),
        cell("fib", "cpu", "pool_map", 2, 0.52)])]
    forced = Results(machine={"free_threaded_build": True, "gil_enabled": True,
                              "python_gil_env": "1"}, cells=tuple(cells))
    text = free_threading(forced)
    assert "PYTHON_GIL=1 turns it on at start-up" in text
    assert "inside the workers of every cell" in text and "marked" not in text
    assert "extension module" not in text and "What changes" not in text
    assert "With the GIL on, threads run Python bytecode one at a time" in text
    md = render_markdown(build(forced, {}), Path("."))
    assert "CPU-bound pure Python (holds the GIL)" in md


def test_titles_and_findings_fit_an_interpreter_without_a_gil():
    import dataclasses

    from gilbench.bench.analysis import kind_verdicts

    free = Results(machine={"free_threaded_build": True, "gil_enabled": False,
                            "usable_cpus": 2}, cells=tuple(
        dataclasses.replace(c, gil_enabled_in_workers=False) for c in sample().cells))
    md = render_markdown(build(free, {}), Path("."))
    assert "holds the GIL" not in md and "(no GIL in this interpreter)" in md
    from gilbench.bench.report.verdicts import kind_verdict_lines

    assert all("holds the GIL" not in line
               for line in kind_verdict_lines(kind_verdicts(free)))


def test_report_has_findings_and_every_cost_section(tmp_path):
    r = full_sample()
    charts = write_cost_charts(r, tmp_path)
    assert set(charts) == {"suite:startup", "suite:ipc", "suite:sync", "suite:latency"}
    assert all(p.stat().st_size > 0 for ps in charts.values() for p in ps)
    md = render_markdown(build(r, charts), tmp_path)
    for heading in ("## Findings", "## Start-up", "## IPC", "## Synchronisation",
                    "## GIL latency", "## Failed measurements of the cost suites"):
        assert heading in md
    assert "partner process 9 exited with code 3" in md
    assert "![start-up costs](startup.png)" in md
    write_report(r, tmp_path, charts)
    assert "data:image/png;base64" in (tmp_path / "report.html").read_text()


def test_headlines_quote_the_measured_figures():
    lines = headlines(full_sample())
    assert "start + join one worker: thread 80 µs, fork 2 ms" in lines[0]
    assert any("pipe 2.1 GB/s" in line and "memcpy 50 GB/s" in line for line in lines)


def test_the_sweeps_eta_weighs_cells_by_their_expected_time(monkeypatch, capsys):
    """In a log (no terminal), one line per workload with the time left, extrapolated
    from the expected time done so far, not from the count of cells done."""
    from gilbench.bench.report import terminal

    clock = iter([0.0, 10.0, 20.0, 30.0])  # the start, then each update
    monkeypatch.setattr(terminal.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(terminal.sys.stderr, "isatty", lambda: False)
    cheap, dear = cell("sleep", "io", "threads", 2, 0.1), cell("fib", "cpu", "pool_map", 4, 1.0)
    costs = {"sleep": 1.0, "fib": 9.0}
    p = terminal.Progress(3, lambda c: costs[c.workload], total_weight=19.0)
    p.update(cheap)  # 1 of 19 s of expected time done in 10 s: 18 x 10 s left
    p.update(dear)  # 10 of 19 done in 20 s: 9 x 2 s = 18 s left
    p.close()
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["[1/3] sleep ..., about 3 min left", "[2/3] fib ..., about 20 s left"]


def test_a_cost_suite_prints_a_line_per_measurement_in_a_log(monkeypatch, capsys):
    from gilbench.bench.report import terminal
    from gilbench.bench.suites import SyncEntry

    clock = iter([0.0, 4.0, 9.0])
    monkeypatch.setattr(terminal.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(terminal.sys.stderr, "isatty", lambda: False)
    p = terminal.SuiteProgress("sync", 60.0)
    p.entry(SyncEntry(mechanism="lock", model="threads", median_s=1e-5))
    p.entry(SyncEntry(mechanism="queue", model="processes", start_method="fork",
                      status="error", error="worker died"))
    p.close()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("  [sync] 1. sync lock (") and lines[0].endswith(
        "): ok (4 s of about 60 s)")
    assert lines[1].startswith("  [sync] 2. sync queue (") and ": error (9 s" in lines[1]
    assert lines[2].endswith(": error: worker died")
    # a long line (an error's text) wraps to the terminal, its rest indented
    monkeypatch.setattr(terminal, "columns", lambda: 60)
    clock = iter([0.0, 4.0])
    p = terminal.SuiteProgress("sync", 60.0)
    p.entry(SyncEntry(mechanism="queue", model="processes", start_method="fork",
                      status="error", error="the worker died " * 8))
    p.close()
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) > 3 and all(len(line) <= 60 for line in lines)
    assert lines[-1].startswith("    ") and "died" in lines[-1]


def test_a_file_without_paired_runs_says_it_predates_them():
    import dataclasses

    from gilbench.bench.report.sections import build
    from gilbench.bench.report.terminal import summary

    res = sample()
    old = dataclasses.replace(res, cells=tuple(
        dataclasses.replace(c, serial_times_s=()) for c in res.cells))
    old = old.with_speedups()
    assert all(c.speedup_ci95 is None for c in old.cells if c.strategy != "serial" and c.ok)
    text = " ".join(getattr(b, "text", "") for b in build(old, {}))
    assert "predates paired measurement" in text
    assert "predates paired measurement" not in " ".join(
        getattr(b, "text", "") for b in build(res, {}))
    assert "Findings: none can be decided" in summary(old, Path("out"))


def test_a_kernel_named_like_a_chart_replaces_no_chart(tmp_path):
    # Chart keys of workloads have a namespace of their own: a user kernel called
    # "overview" gets its speedup chart, and the overview chart stays the overview.
    cells = [cell(w, "cpu", s, n, m) for w in ("overview", "fib")
             for s, n, m in (("serial", 1, 1.0), ("threads", 2, 1.0), ("pool_map", 2, 0.52))]
    results = Results(machine={"hostname": "box", "usable_cpus": 2, "python_version": "3.11"},
                      cells=tuple(with_speedups(cells)))
    charts = write_charts(results, tmp_path)
    assert charts["overview"][0].name == "overview.png"
    assert charts["workload:overview"][0].name == "speedup-overview.png"
    md = render_markdown(build(results, charts), tmp_path)
    assert "(overview.png)" in md and "(speedup-overview.png)" in md


def test_a_cell_whose_runs_fall_in_two_modes_says_so(tmp_path):
    import dataclasses

    from gilbench.bench.analysis.noise import two_modes
    from gilbench.bench.report.document import render_markdown
    from gilbench.bench.report.sections import build
    from tests.helpers import box_results as make_results

    serial = tuple(1.0 + 0.01 * (i % 3) for i in range(30))
    steady = dataclasses.replace(cell("x", "cpu", "pool_map", 2, 0.5), times_s=tuple(
        0.5 * s for s in serial), serial_times_s=serial, median_s=0.5)
    split = dataclasses.replace(steady, strategy="process_pool", times_s=tuple(
        s * (0.65 if i % 3 == 0 else 0.5) for i, s in enumerate(serial)))
    r = make_results(with_speedups([cell("x", "cpu", "serial", 1, 1.0), steady, split]))
    found = two_modes(r)
    assert [m.cell.strategy for m in found] == ["process_pool"]
    assert found[0].share == pytest.approx(1 / 3) and found[0].slower == pytest.approx(1.3)
    md = render_markdown(build(r, {}), tmp_path)
    assert "1 cells ran in two modes" in md and "33% of its runs 1.30× slower" in md


def test_the_summary_at_three_levels_of_detail(tmp_path, monkeypatch):
    import dataclasses

    monkeypatch.setenv("COLUMNS", "1000")  # a line per answer (wrapping: the test below)
    from gilbench.bench.analysis import duel_of, findings
    from gilbench.bench.report.terminal import summary

    r = full_sample()
    quiet = summary(r, tmp_path, -1).splitlines()
    # -q: the answer alone, a line per kind of work and one per workload
    workloads = [w for w in r.workloads() if any(c.strategy != "serial"
                                                  for c in r.cells_of(w))]
    assert [line for line in quiet if ": " in line and line.split(":")[0] in workloads] == [
        f"{w}: {duel_of(r, w).text}" for w in workloads]
    assert not any(line.startswith(("workload", "Findings", "Precision")) for line in quiet)
    # the default: the claims as one tally line, the full list with -v
    plain, full = summary(r, tmp_path), summary(r, tmp_path, 1)
    measured = [f for f in findings(r) if f.verdict != "not measured"]
    assert f"Findings: {len(measured)} of the article's {len(findings(r))} claims" in plain
    assert "    rule:" not in plain and plain.count("\n") < full.count("\n")
    flat = " ".join(full.split())  # wrapped to the terminal: compare the words
    assert all(" ".join(f.claim.split()) in flat for f in findings(r))
    # a run of the user's own kernels: no claims unless asked
    from tests.helpers import plan_record

    plan = plan_record(workloads_from=("/home/me/kernels.py",))
    mine = dataclasses.replace(r, run={**r.run, "plan": plan})
    assert "Findings" not in summary(mine, tmp_path)
    assert "Findings (the article's claims" in summary(mine, tmp_path, 1)


def test_the_summary_fits_the_terminal_wrapping_never_cutting(tmp_path, monkeypatch):
    from gilbench.bench.report.terminal import summary, text_table

    r = full_sample()
    for cols in ("100", "80"):
        monkeypatch.setenv("COLUMNS", cols)
        text = summary(r, tmp_path)
        assert max(map(len, text.splitlines())) <= int(cols), text
    # every word of every verdict is still there, only on more lines
    monkeypatch.setenv("COLUMNS", "400")
    wide = summary(r, tmp_path)
    monkeypatch.setenv("COLUMNS", "100")
    narrow = summary(r, tmp_path)
    def words(text):  # the rules under the table's headers are as wide as their columns
        return sorted(w for w in text.split() if set(w) != {"-"})

    assert words(wide) == words(narrow)
    table = text_table(("a", "verdict"), [("x", "word " * 40)], width=40)
    assert max(map(len, table.splitlines())) <= 40 and table.count("word") == 40


def test_every_strategy_of_a_run_has_a_colour_and_marker_of_its_own():
    # Over the whole registry and every start method: the default sweep's 8 process
    # strategies once shared a colour with solid lines and squares (process_queue, dask).
    import multiprocessing

    from gilbench.bench.report.charts import _style_for
    from gilbench.bench.report.palette import CPUS
    from gilbench.bench.strategies import STRATEGIES

    labels, models = [], {}
    for name, cls in STRATEGIES.items():
        for method in (multiprocessing.get_all_start_methods() if cls.uses_processes
                       else [None]):
            label = f"{name}[{method}]" if method else name
            labels.append(label)
            models[label] = cls.model
    style = _style_for(labels, models)
    pairs = [(s["color"], s["marker"]) for s in style.values()]
    assert len(set(pairs)) == len(labels) > 20
    assert CPUS not in {s["color"] for s in style.values()}  # the CPUs line is no strategy


def test_the_speedup_charts_ideal_and_dodged_error_bars(monkeypatch, tmp_path):
    from gilbench.bench.report import charts

    r = full_sample()
    drawn = {}
    monkeypatch.setattr(charts, "save_figure", lambda fig, stem: drawn.setdefault(stem, fig)
                        and [])
    for w in r.workloads():
        charts.speedup_chart(r, w, tmp_path / w)
    usable = r.usable_cpus
    for w in r.workloads():
        ax = drawn[tmp_path / w].axes[0]
        ideal = next(line for line in ax.lines if "ideal" in str(line.get_label()))
        top = max(c.workers for c in r.cells_of(w))
        kind = r.cells_of(w)[0].kind
        if kind in ("cpu", "native"):  # the CPUs bound it: min(workers, CPUs)
            assert max(ideal.get_ydata()) == pytest.approx(min(top, usable))
        else:
            assert max(ideal.get_ydata()) == pytest.approx(top)
        # every strategy's points at one worker count sit apart (dodged)
        xs = [round(float(x), 6) for bars in ax.containers for x in bars.lines[0].get_xdata()]
        assert xs and len(xs) == len(set(xs))


def test_rounds_alike_more_than_chance_are_found_and_said(tmp_path):
    # Bartels' rank test, combined over a group's cells: independent rounds pass (and the
    # one-worker and several-worker cells are judged apart); slow phases of several rounds
    # on one side of the pairs (neighbouring ratios alike) fail, and the report says so.
    import dataclasses

    import numpy as np

    from gilbench.bench.analysis.noise import bartels_z, round_dependence
    from gilbench.bench.report.document import render_markdown
    from gilbench.bench.report.sections import build
    from tests.helpers import box_results as make_results

    rng = np.random.default_rng(3)
    assert bartels_z([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]) < -2.5  # a trend: alike
    assert bartels_z([1.0, 8.0, 2.0, 7.0, 3.0, 6.0, 4.0, 5.0]) > 2.0  # zig-zag: unlike

    def made(workload: str, strategy: str, workers: int, phases: bool):
        n = 20
        serial = tuple(np.exp(rng.normal(0, 0.03, n)))
        slow = np.repeat(rng.random(n // 5) < 0.5, 5) if phases else np.zeros(n, bool)
        times = tuple(0.5 * s * np.exp(rng.normal(0, 0.03)) * (1.4 if p else 1.0)
                      for s, p in zip(serial, slow, strict=True))
        return dataclasses.replace(cell(workload, "cpu", strategy, workers, 0.5), times_s=times,
                                   serial_times_s=serial, median_s=float(np.median(times)))

    names = ("pool_map", "process_pool", "process_pipe", "threads", "thread_pool")
    serials = [cell(w, "cpu", "serial", 1, 1.0) for w in "xy"]
    quiet = [made(x, s, w, False) for x in "xy" for s in names for w in (1, 2)]
    r = make_results(with_speedups(serials + quiet))
    found = {d.group: d for d in round_dependence(r)}
    assert set(found) == {"one worker", "several workers"}
    assert found["several workers"].cells == 10 and not any(d.dependent for d in found.values())
    assert "Consecutive rounds were alike" not in render_markdown(build(r, {}), tmp_path)
    phased = [made(x, s, w, w > 1) for x in "xy" for s in names for w in (1, 2)]
    r = make_results(with_speedups(serials + phased))
    found = {d.group: d for d in round_dependence(r)}
    assert found["several workers"].dependent and found["several workers"].z < 0
    assert not found["one worker"].dependent
    md = render_markdown(build(r, {}), tmp_path)
    assert "Consecutive rounds were alike more than chance allows in the cells of several " \
           "workers (10 cells" in md


def test_the_overview_heat_map_shows_the_summarys_figures(tmp_path):
    # The heat map and the Summary table read the same figures: a workload's confirmed
    # headline where the strategy is one (its fresh runs' figure and interval, not the
    # sweep's), else the strategy's best sweep cell; a strategy skipped everywhere has no
    # column. On the 440-cell reference run, drawn for real.
    from pathlib import Path

    from gilbench.bench.analysis import best_cells, headline_of
    from gilbench.bench.report.charts import overview_cells, overview_chart
    from gilbench.bench.results import load

    r = load(Path(__file__).resolve().parent.parent / "reports" / "reference"
             / "dev-2cpu-standard-2026-12-06.json")
    shown = overview_cells(r)
    confirmed = 0
    for w in r.workloads():
        for model in ("threads", "processes"):
            h = headline_of(r, w, model)
            if h is None or not h.confirmed:
                continue
            cell, is_headline = shown[(w, h.cell.label)]
            assert is_headline and cell.speedup == h.cell.speedup
            assert cell.speedup_ci95 == h.cell.speedup_ci95
            confirmed += 1
    assert confirmed >= 15
    # a confirmed figure differs from the sweep's own for the same strategy: the heat map
    # showed the sweep's before
    sweep = best_cells(r)
    assert any(shown[k][1] and shown[k][0].speedup != sweep[k].speedup for k in sweep
               if k in shown)
    (png,) = [p for p in overview_chart(r, tmp_path / "overview") if p.suffix == ".png"]
    assert png.stat().st_size > 10_000
