"""Findings, cost-suite report sections and charts, as pure functions of results built
by hand: each verdict rule checked on numbers chosen to hold, to fail and to be mixed."""

from __future__ import annotations

import json

import pytest

from bench.analysis import claims as F
from bench.errors import UserError
from bench.fmt import fmt_bytes, fmt_rate, fmt_s
from bench.report import build, write_report
from bench.report.document import render_markdown
from bench.report.suites import headlines, write_cost_charts
from bench.results import Results, from_json_data, with_speedups
from bench.suites import IpcEntry, LatencyEntry, StartupEntry, SyncEntry
from tests.helpers import cell

US = 1e-6
MS = 1e-3


def sync(name, model, median):
    return SyncEntry(mechanism=name, model=model, median_s=median, p99_s=median * 2,
                     round_trips=100, start_method="fork" if model == "processes" else None)


def ipc(transport, size, median, model="processes"):
    return IpcEntry(transport=transport, model=model, payload_bytes=size, round_trips=50,
                    messages=100, median_s=median, p99_s=median * 1.5, msgs_per_s=1 / median,
                    bytes_per_s=size / median)


def lat(model, n, p99, si=0.005):
    return LatencyEntry(model=model, cpu_workers=n, switch_interval_s=si, pings=100,
                        median_s=p99 / 2, p99_s=p99, max_s=p99 * 1.2)


def results(cells=(), **suites) -> Results:
    return Results(machine={"hostname": "box", "usable_cpus": 2, "python_version": "3.11"},
                   cells=tuple(with_speedups(cells)), run={"profile": "quick"},
                   suites={k: tuple(v) for k, v in suites.items()})


def verdict(rule, r):
    return rule(r)[0]


@pytest.mark.parametrize("lock, expected", [(200 * US, F.HOLDS), (10 * US, F.FAILS)])
def test_pipe_and_queue_against_primitives(lock, expected):
    entries = [sync("pipe", "processes", 30 * US), sync("queue", "processes", 60 * US),
               *(sync(n, "processes", lock) for n in ("lock", "event", "semaphore",
                                                     "condition"))]
    assert verdict(F.pipe_queue_vs_primitives, results(sync=entries)) == expected


def test_pipe_and_queue_mixed_is_depends():
    entries = [sync("pipe", "processes", 30 * US), sync("queue", "processes", 60 * US),
               sync("lock", "processes", 10 * US), sync("event", "processes", 100 * US)]
    v, text = F.pipe_queue_vs_primitives(results(sync=entries))
    assert v == F.DEPENDS
    assert "Faster than both Pipe and Queue: lock" in text and "slower than both: event" in text


def test_sharing_costs_holds_fails_and_depends():
    def run(shm, mgr):
        return verdict(F.sharing_costs, results(ipc=[
            ipc("pipe", 64, 50 * US), ipc("pipe", 2**20, 500 * US),
            ipc("shared_memory", 64, shm[0]), ipc("shared_memory", 2**20, shm[1]),
            ipc("manager", 64, mgr[0]), ipc("manager", 2**20, mgr[1])]))

    assert run((60 * US, 600 * US), (200 * US, 2 * MS)) == F.HOLDS
    assert run((40 * US, 200 * US), (40 * US, 400 * US)) == F.FAILS
    assert run((60 * US, 200 * US), (200 * US, 2 * MS)) == F.DEPENDS


def test_gil_latency_rule():
    holds = [lat("threads", 0, 0.1 * MS), lat("threads", 2, 20 * MS), lat("processes", 2,
                                                                          0.2 * MS)]
    assert verdict(F.gil_latency, results(latency=holds)) == F.HOLDS
    fails = [lat("threads", 0, 0.1 * MS), lat("threads", 2, 1 * MS), lat("processes", 2,
                                                                         0.2 * MS)]
    assert verdict(F.gil_latency, results(latency=fails)) == F.FAILS
    other = [*holds, lat("threads", 2, 3 * MS, si=0.001)]
    assert "1 ms → p99 3 ms" in F.gil_latency(results(latency=other))[1]


def test_threads_on_cpu_and_processes_use_cores():
    no_gain = [cell("fib", "cpu", "serial", 1, 1.0), cell("fib", "cpu", "threads", 2, 1.02),
               cell("fib", "cpu", "pool_map", 2, 0.52)]
    r = results(no_gain)
    assert verdict(F.threads_on_cpu, r) == F.HOLDS
    assert verdict(F.processes_use_cores, r) == F.HOLDS
    assert "1.92×" in F.processes_use_cores(r)[1]  # 1.0 / 0.52, on 2 usable CPUs
    gain = [cell("fib", "cpu", "serial", 1, 1.0), cell("fib", "cpu", "threads", 2, 0.5),
            cell("fib", "cpu", "pool_map", 2, 1.0)]
    assert verdict(F.threads_on_cpu, results(gain)) == F.FAILS
    assert verdict(F.processes_use_cores, results(gain)) == F.FAILS
    io = [cell("sleep", "io", "serial", 1, 1.0), cell("sleep", "io", "threads", 4, 0.26)]
    assert verdict(F.threads_in_general, results(io)) == F.FAILS


def test_lifecycle_checks():
    seen = StartupEntry(what="zombie", model="processes", observed=True, detail="was zombie")
    clean = StartupEntry(what="no_zombies", model="processes", observed=True, detail="none")
    assert verdict(F.zombies, results(startup=[seen, clean])) == F.HOLDS
    unseen = StartupEntry(what="zombie", model="processes", observed=False, detail="gone")
    assert verdict(F.zombies, results(startup=[unseen])) == F.FAILS
    left = StartupEntry(what="no_zombies", model="processes", observed=False, detail="pid 7")
    assert "LEFT ZOMBIES" in F.zombies(results(startup=[seen, left]))[1]


def test_start_cost_and_apply_async():
    starts = [StartupEntry(what="start_join", model="threads", median_s=80 * US),
              StartupEntry(what="start_join", model="processes", start_method="fork",
                           median_s=2 * MS)]
    v, text = F.process_start_cost(results(startup=starts))
    assert v == F.HOLDS and "(25×)" in text
    fast = [sync("apply_async", "processes", 100 * US)]
    v, text = F.apply_async_fast(results(sync=fast))
    assert v == F.HOLDS and "5,000× inside" in text  # p99 200 µs against 1 s


def test_every_claim_says_how_to_measure_it_when_its_suite_did_not_run():
    got = F.findings(results())
    assert len(got) == len(F.CLAIMS)
    assert all(f.verdict == F.UNMEASURED and "gilbench run --suite" in f.evidence for f in got)


def full_sample() -> Results:
    return results(
        [cell("fib", "cpu", "serial", 1, 1.0), cell("fib", "cpu", "threads", 2, 1.0),
         cell("fib", "cpu", "pool_map", 2, 0.52)],
        startup=[StartupEntry(what="start_join", model="threads", median_s=80 * US,
                              p99_s=100 * US),
                 StartupEntry(what="start_join", model="processes", start_method="fork",
                              median_s=2 * MS, p99_s=3 * MS),
                 StartupEntry(what="pool", model="processes", start_method="fork", workers=2,
                              median_s=4 * MS, p99_s=5 * MS, uss_bytes=2e6, pss_bytes=5e6),
                 StartupEntry(what="zombie", model="processes", observed=True, detail="x")],
        ipc=[ipc("pipe", 64, 50 * US), ipc("pipe", 2**20, 500 * US),
             ipc("thread_queue", 64, 40 * US, model="threads"),
             IpcEntry(transport="memcpy", model="memory", payload_bytes=2**20, median_s=20 * US,
                      bytes_per_s=5e10, msgs_per_s=5e4, messages=10),
             IpcEntry(transport="manager", payload_bytes=64, status="error",
                      error="partner process 9 exited with code 3")],
        sync=[sync("lock", "threads", 30 * US), sync("lock", "processes", 10 * US)],
        latency=[lat("threads", 0, 0.1 * MS), lat("threads", 1, 9 * MS),
                 lat("processes", 1, 0.1 * MS)])


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


def test_suites_survive_the_results_file_and_bad_ones_are_refused():
    r = full_sample()
    data = json.loads(json.dumps(r.to_dict()))
    assert set(data) >= {"startup", "ipc", "sync", "latency", "cells"}
    assert from_json_data(data, "x.json") == r
    data["ipc"][0]["median_s"] = -3
    with pytest.raises(UserError, match="median_s must be a non-negative number"):
        from_json_data(data, "x.json")
    del data["ipc"]
    data["sync"][0] = {"model": "threads"}  # no mechanism
    with pytest.raises(UserError, match="not a valid gilbench results file"):
        from_json_data(data, "x.json")
    with pytest.raises(ValueError, match="entry of another suite"):
        Results(machine={}, cells=(), suites={"ipc": (sync("lock", "threads", 1e-5),)})


@pytest.mark.parametrize("value, text", [(1.5e-6, "1.5 µs"), (0.0123, "12.3 ms"), (250e-9,
                                         "250 ns"), (2.0, "2 s"), (150e-6, "150 µs")])
def test_fmt_s(value, text):
    assert fmt_s(value) == text


def test_fmt_bytes_and_rate():
    assert fmt_bytes(64) == "64 B" and fmt_bytes(2**20) == "1 MiB"
    assert fmt_bytes(1536) == "1.5 KiB"
    assert fmt_rate(4.57e9) == "4.57 GB/s" and fmt_rate(8.5e5) == "850 kB/s"
