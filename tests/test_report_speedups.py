"""The speedup sections of a report on made-up curves: summary, Noise, scaling laws."""

from __future__ import annotations

import dataclasses

import pytest

from gilbench.bench.analysis import (
    curve_laws,
    precision,
)
from gilbench.bench.report import build
from gilbench.bench.report.speedups import noise_blocks, scaling_table, summary_table
from gilbench.bench.results import with_speedups
from tests.helpers import box_results as results
from tests.helpers import fib_cell as cell
from tests.helpers import plan_record
from tests.helpers import sample_results as sample


def test_summary_table_lists_best_of_each_model():
    table = summary_table(sample())
    fib = table.rows[0]
    assert fib[0] == "fib" and fib[2] == "1000.0 ms"
    assert fib[3].startswith("1.00× [0.98–1.02] n=10 threads @2")
    assert fib[4].startswith("2.00× [1.96–2.04] n=10 process_pipe[fork] @2")


def test_the_noise_section_lists_flagged_cells_with_their_reason_and_counts_them():
    serial, threads, procs = with_speedups([
        cell("serial", 1, 1.0), cell("threads", 2, 1.0), cell("process_pool", 2, 0.5)])
    cells = [serial, dataclasses.replace(threads, ci_half_width=0.01),
             dataclasses.replace(procs, noisy=True, ci_half_width=0.12, noise="95% CI ±12.0% "
                                 "after 12 repeats, above the ±5% target (time budget spent)")]
    r = results(cells, plan=plan_record(target_ci=0.05, repeats=3, max_repeats=12),
                noise_checks=[{"check": "load average", "value": "1.50", "ok": False,
                               "advice": "close them"}], cpu_steal_fraction=0.1)
    p = precision(r)
    assert p["cells"] == 2 and p["within_target"] == 1 and p["within_10"] == 1 and p["noisy"] == 1
    text = str(noise_blocks(r))
    assert "±12.0% after 12 repeats" in text and "close them" in text
    assert "CPU steal" in text and "1 of 2 cells within the ±5% target" in text
    md = build(r, {})
    assert "1 noisy cells (see Noise)" in str(md[1])


def test_scaling_table_on_a_made_up_curve():
    # Amdahl with f = 0.1 on 4 usable CPUs: S(2) = 1.818, S(4) = 3.077; 8 workers
    # gain nothing more (oversubscribed), so more workers stop paying at 4.
    cells = with_speedups([
        cell("serial", 1, 1.0),
        cell("process_pool", 1, 1.0, cpu_utilization=0.25, peak_rss_bytes=50 * 2**20),
        cell("process_pool", 2, 0.1 + 0.9 / 2),  # times: S(p) = 1 / (f + (1 - f) / p)
        cell("process_pool", 4, 0.1 + 0.9 / 4),
        cell("process_pool", 8, 0.1 + 0.9 / 4),
        cell("threads", 1, 1.0), cell("threads", 2, 1.0), cell("threads", 4, 1.02),
    ])
    r = results(cells)
    laws = curve_laws([c for c in r.cells if c.strategy == "process_pool"], 4)
    assert laws["amdahl_f"] == pytest.approx(0.1, abs=1e-3)
    assert [p for p, _ in laws["karp_flatt"]] == [2, 4]
    assert all(e == pytest.approx(0.1, abs=1e-3) for _, e in laws["karp_flatt"])
    assert laws["stops_paying"] == 4
    table = scaling_table(r, "fib")
    rows = {row[0]: row for row in table.rows}
    assert rows["process_pool[fork]"][1] == "0.10 (≤ 10×)"
    assert rows["process_pool[fork]"][3] == "4 workers"
    assert rows["process_pool[fork]"][4].startswith("25% / ")
    assert rows["process_pool[fork]"][5].startswith("50 / ")
    assert rows["threads"][3] == "never pays"


def test_the_noisy_machine_warning_comes_from_the_machine_not_from_wide_intervals():
    from gilbench.bench.report.speedups import machine_warning

    quiet = sample()
    assert machine_warning(quiet) is None
    probe = {"check": "start-of-run probe: processes on pure-Python fib",
             "value": "0.68 [0.62–0.96] of the CPUs", "ok": None, "advice": "a noisy phase?"}
    load = {"check": "load average before the run", "value": "1.5", "ok": None, "advice": "x"}
    for checks, others, warned in (([probe], None, "start-of-run probe"),
                                   ([load], None, None),  # information only
                                   ([], 0.3, "other programs used 30.0%")):
        r = dataclasses.replace(quiet, run={**quiet.run, "noise_checks": checks,
                                            "others_cpu_fraction": others})
        text = machine_warning(r)
        assert (text is None) if warned is None else (warned in text)


def test_the_start_probe_needs_two_cpus():
    from gilbench.bench.selfcheck import start_probe

    assert start_probe(1) is None
