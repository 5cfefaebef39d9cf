"""Issue 8's analyses on made-up numbers: noise, scaling laws, task sizes, selfcheck."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest

from bench import machine, meters, selfcheck
from bench.analysis import crossover, curve_laws, precision, size_points
from bench.cli import main
from bench.report import build
from bench.report.sweep import noise_blocks, scaling_table
from bench.results import Cell, Results, with_speedup, with_speedups
from bench.runner import Plan
from workloads import WORKLOADS

MODELS = {"serial": "serial", "threads": "threads", "process_pool": "processes"}


def cell(strategy, workers, median, *, workload="fib", size=10, tasks=8, **kw):
    times = (median * 0.99, median, median * 1.01)
    return Cell(workload=workload, kind="cpu", size=size, tasks=tasks, strategy=strategy,
                start_method="fork" if MODELS[strategy] == "processes" else None,
                workers=workers, status="ok", model=MODELS[strategy], times_s=times,
                median_s=median, **kw)


def results(cells, **run):
    return Results(machine={"hostname": "box", "usable_cpus": 4}, cells=tuple(cells),
                   run={"profile": "quick", "complete": True, **run})


# ------------------------------------------------------------ cells


def test_a_paired_cell_divides_by_its_own_serial_runs():
    c = cell("process_pool", 2, 0.5)
    paired = Cell(**{**c.__dict__, "serial_times_s": (1.2, 1.2, 1.2)})
    done = with_speedup(paired, [1.0, 1.0, 1.0])  # the serial cell's times are not used
    assert done.speedup == pytest.approx(2.4)
    assert done.speedup_ci95[0] <= done.speedup <= done.speedup_ci95[1]
    assert done.ci_half_width == pytest.approx((done.speedup_ci95[1] - done.speedup_ci95[0])
                                               / 2 / done.speedup)


def test_serial_times_must_pair_one_for_one():
    with pytest.raises(ValueError, match="pair"):
        cell("threads", 2, 1.0, serial_times_s=(1.0,))


def test_new_fields_survive_the_json_round_trip():
    c = cell("threads", 2, 1.0, serial_times_s=(1.0, 1.1, 0.9), cpu_s=0.5, cpu_utilization=0.25,
             peak_rss_bytes=123456, ci_half_width=0.02, noise="why", noisy=True)
    assert Cell.from_dict(json.loads(json.dumps(c.to_dict()))) == c


# ------------------------------------------------------------ noise


def test_noise_checks_say_what_is_wrong(monkeypatch):
    busy = machine.noise_checks({"usable_cpus": 2, "load_average": [1.5, 1.0, 1.0],
                                 "cpu_governor": "powersave"})
    by = {c["check"]: c for c in busy}
    assert by["load average"]["ok"] is False and "other programs" in by["load average"]["advice"]
    assert by["CPU frequency governor"]["ok"] is False
    assert "performance" in by["CPU frequency governor"]["advice"]
    quiet = machine.noise_checks({"usable_cpus": 2, "load_average": [0.2, 0.1, 0.1],
                                  "cpu_governor": "performance"})
    assert all(c["ok"] for c in quiet if c["check"] != "turbo boost")
    vm = machine.noise_checks({"usable_cpus": 2, "load_average": None, "cpu_governor": None})
    assert [c["ok"] for c in vm if c["check"] == "CPU frequency governor"] == [None]


def test_steal_reading():
    steal = machine.cpu_steal_s()
    assert steal is not None and 0 <= steal[0] <= steal[1]


def test_the_noise_section_lists_flagged_cells_with_their_reason_and_counts_them():
    serial, threads, procs = with_speedups([
        cell("serial", 1, 1.0), cell("threads", 2, 1.0), cell("process_pool", 2, 0.5)])
    cells = [serial, dataclasses.replace(threads, ci_half_width=0.01),
             dataclasses.replace(procs, noisy=True, ci_half_width=0.12, noise="95% CI ±12.0% "
                                 "after 12 repeats, above the ±5% target (time budget spent)")]
    r = results(cells, plan={"target_ci": 0.05, "repeats": 3, "max_repeats": 12},
                noise_checks=[{"check": "load average", "value": "1.50", "ok": False,
                               "advice": "close them"}], cpu_steal_fraction=0.1)
    p = precision(r)
    assert p["cells"] == 2 and p["within_target"] == 1 and p["within_10"] == 1 and p["noisy"] == 1
    text = str(noise_blocks(r))
    assert "±12.0% after 12 repeats" in text and "close them" in text
    assert "CPU steal" in text and "1 of 2 cells within the ±5% target" in text
    md = build(r, {})
    assert "1 noisy cells (see Noise)" in str(md[1])


# ------------------------------------------------------------ scaling laws


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


# ------------------------------------------------------------ task sizes


def test_scaled_sizes_follow_each_kernels_cost():
    assert WORKLOADS["sleep"].scaled(10, 0.1) == 1
    assert WORKLOADS["sleep"].scaled(10, 0.01) == 1  # never below 1
    assert WORKLOADS["fib"].scaled(25, 1 / 1.618034**2) == 23  # cost ~ phi ** n
    assert WORKLOADS["mandelbrot"].scaled(40, 0.25) == 20  # cost ~ side ** 2
    assert WORKLOADS["numpy_matmul"].scaled(400, 1 / 8) == 200  # cost ~ side ** 3
    assert WORKLOADS["zlib"].scaled(80, 3) == 240


def test_a_size_sweep_keeps_the_total_work_and_drops_duplicate_sizes():
    p = Plan(profile="quick", workloads=("sleep", "fib"), strategies=("serial", "threads"),
             workers=(1, 2), start_methods=("fork",), repeats=1, warmup=0, tasks=8,
             timeout_s=60, sizes=(("sleep", 10), ("fib", 24)), size_factors=(0.1, 0.5, 1.0))
    assert p.points("sleep") == [(1, 80), (5, 16), (10, 8)]
    fib = p.points("fib")  # sizes 19, 23, 24: costs phi**-5, phi**-1, 1 of the profile's
    assert fib == [(19, round(8 * 1.618034**5)), (23, 13), (24, 8)]
    # sha256 cannot hash less than 1 MiB: its smallest tasks get only the work they do.
    q = dataclasses.replace(p, workloads=("sha256",), sizes=(("sha256", 8),),
                            size_factors=(0.001, 0.125, 1.0))
    assert q.points("sha256") == [(1, 64), (8, 8)]
    assert len(p.specs()) == 2 * 3 * (1 + 2)
    assert Plan.from_dict(json.loads(json.dumps(p.__dict__))) == p


def test_crossover_in_words():
    def pt(task_s, threads, procs):  # speedups set by hand
        return {"task_s": task_s, "threads": cell("threads", 2, 1.0, speedup=threads),
                "processes": cell("process_pool", 2, 1.0, speedup=procs)}

    pts = [pt(1e-5, 1.0, 0.2), pt(1e-4, 1.0, 0.9), pt(1e-3, 1.0, 1.6), pt(1e-2, 1.0, 1.9)]
    assert "from tasks of about 1 ms on (at 100 µs per task they did not)" in crossover(pts)
    assert "every task size" in crossover(pts[2:])
    assert "never" in crossover(pts[:2])


def test_main_analyses_use_the_profiles_size_and_the_sweep_keeps_the_rest():
    cells = with_speedups([
        cell("serial", 1, 1.0, size=24), cell("process_pool", 2, 0.5, size=24),
        cell("serial", 1, 0.1, size=20, tasks=80), cell("process_pool", 2, 0.2, size=20,
                                                        tasks=80),
        cell("threads", 2, 0.1, size=20, tasks=80),
    ])
    r = results(cells, plan={"sizes": [["fib", 24]]})
    assert {c.size for c in r.cells_of("fib")} == {24}
    assert list(r.sizes_of("fib")) == [20, 24]
    pts = size_points(r, "fib")
    assert pts[0]["task_s"] == pytest.approx(0.1 / 80)
    assert pts[0]["processes"].speedup == pytest.approx(0.5)
    assert pts[0]["threads"].speedup == pytest.approx(1.0)
    assert pts[1]["threads"] is None  # the profile's size ran no threads here
    assert crossover(pts) == "processes never beat threads here (tasks up to 1.25 ms)"


@pytest.mark.parametrize("sizes, message", [
    ("", "empty list"), ("x", "not a number"), ("0", "out of range"), ("1/0", "not a number"),
    ("1000", "out of range"),
])
def test_bad_sizes_are_one_line(capsys, tmp_path, sizes, message):
    assert main(["run", "--sizes", sizes, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


@pytest.mark.parametrize("args, message", [
    (["--target-ci", "0"], "out of range"), (["--target-ci", "abc"], "not a percentage"),
    (["--target-ci", "3", "--repeats", "5"], "give one of them"),
])
def test_bad_precision_options_are_one_line(capsys, tmp_path, args, message):
    assert main(["run", *args, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


# ------------------------------------------------------------ meters


def test_own_peak_is_reset_per_run_and_sees_a_transient_allocation():
    peak = meters.OwnPeak()
    peak.before_run()
    block = bytearray(64 * 2**20)
    for i in range(0, len(block), 4096):
        block[i] = 1
    del block
    peak.after_run()
    high = peak.peak
    assert high > 64 * 2**20
    later = meters.OwnPeak()
    later.before_run()
    later.after_run()
    if meters.reset_own_peak():  # the kernel can reset the mark: the old peak is gone
        assert later.peak < high


# ------------------------------------------------------------ selfcheck


def test_selfcheck_verdict_follows_the_checks(monkeypatch):
    good = selfcheck.Check("a", 1.0, (0.9, 1.1), "≥ 0.9", True, "")
    bad = selfcheck.Check("b", 0.5, (0.4, 0.6), "≥ 0.9", False, "")
    monkeypatch.setattr(selfcheck, "run_checks", lambda usable: [good, good])
    monkeypatch.setattr(selfcheck, "noise_checks", lambda m: [])
    assert selfcheck.selfcheck(lambda line: None)["ok"]
    monkeypatch.setattr(selfcheck, "run_checks", lambda usable: [good, bad])
    lines: list[str] = []
    out = selfcheck.selfcheck(lines.append)
    assert not out["ok"] and "NOT trustworthy: 1 of 2" in out["verdict"]
    assert any("[ FAIL]  b" in line for line in lines)
    unsure = selfcheck.Check("c", 0.78, (0.7, 0.85), "≥ 0.8", None, "")
    monkeypatch.setattr(selfcheck, "run_checks", lambda usable: [good, unsure])
    out = selfcheck.selfcheck(lines.append)
    assert out["ok"] and out["verdict"].startswith("usable, but noisy: 1 of 2")
    assert any("[   ??]  c" in line for line in lines)


def test_a_check_fails_only_when_its_whole_interval_misses_the_bar():
    assert selfcheck.verdict(True, False) is True
    assert selfcheck.verdict(False, True) is False
    assert selfcheck.verdict(False, False) is None


def test_selfcheck_runs_for_real(cli_env, repo_root):
    r = subprocess.run([sys.executable, "-m", "bench", "selfcheck", "--json"], env=cli_env,
                       cwd=repo_root, capture_output=True, text=True, timeout=240)
    report = json.loads(r.stdout[r.stdout.index("\n{") + 1:])
    assert r.returncode == (0 if report["ok"] else 1)
    assert len(report["checks"]) == 5 and report["verdict"]
    for check in report["checks"]:
        assert check["value"] is not None, check
        lo, hi = check["ci95"]
        assert lo <= check["value"] <= hi
    assert "Verdict:" in r.stdout


def test_without_a_reset_the_lifetime_peak_is_not_taken_for_the_runs(monkeypatch):
    block = bytearray(96 * 2**20)
    for i in range(0, len(block), 4096):
        block[i] = 1
    del block  # the lifetime high-water mark now holds those 96 MiB
    monkeypatch.setattr(meters, "reset_own_peak", lambda: False)
    peak = meters.OwnPeak()
    peak.before_run()
    peak.after_run()
    assert not peak.exact
    assert peak.peak == pytest.approx(meters.rss_bytes(os.getpid()), rel=0.2)
    hwm = meters._hwm_bytes("self")
    if hwm is not None:
        assert peak.peak < hwm
