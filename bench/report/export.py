"""Results other tools read: pyperf's JSON and a CSV of one row per cell.

pyperf (``python -m pyperf show/compare_to/hist/stats``): one benchmark per ok cell,
named ``workload/strategy/workers`` (``strategy[start method]`` when the run used
several start methods, ``@size`` when it swept task sizes), one run whose values are
the cell's timed runs (``times_s``, seconds), the machine record mapped to pyperf's
metadata keys (``hostname``, ``cpu_model_name``, ``cpu_count``, ``platform``,
``python_version``, ``python_implementation``, ``python_executable``, ``date``,
``mem_max_rss``) and gilbench's own under ``gilbench_*`` keys (the speedup and its
interval among them). The file format is pyperf's version "1.0" (pyperf 1.0 on).

CSV: one row per cell, failed and skipped ones included, with the machine's
hostname, usable CPUs and Python beside each, so files of several machines
concatenate into one table (``pandas.concat(map(pandas.read_csv, files))``).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from gilbench.bench.errors import UserError
from gilbench.bench.results import Cell, Results

FORMATS = ("pyperf", "csv")
PYPERF_FORMAT_VERSION = "1.0"

CSV_COLUMNS = ("hostname", "usable_cpus", "python_version", "workload", "kind", "size", "tasks",
               "strategy", "start_method", "workers", "status", "runs", "median_s",
               "speedup", "speedup_ci95_low", "speedup_ci95_high", "pairs", "efficiency",
               "startup_s", "cpu_s", "rel_std", "noisy", "peak_rss_bytes", "error")


def _clean(meta: dict[str, Any]) -> dict[str, Any]:
    """pyperf's metadata values are str, int or float, never null or bool."""
    out: dict[str, Any] = {}
    for k, v in meta.items():
        if v is None or v == "":
            continue
        out[k] = str(v) if isinstance(v, bool) else v
    return out


def benchmark_name(cell: Cell, methods: int, sizes: int) -> str:
    label = cell.strategy + (f"[{cell.start_method}]" if methods > 1 and cell.start_method
                             else "")
    return f"{cell.workload}/{label}/{cell.workers}" + (f"@{cell.size}" if sizes > 1 else "")


def check_raw_times(results: Results, source: str) -> None:
    if results.run.get("raw_times") is False:
        raise UserError(f"{source}: this pytest-benchmark file keeps each benchmark's summary "
                        "but not its raw times (stats.data), which an export needs; save "
                        "them with pytest --benchmark-only --benchmark-save-data "
                        "--benchmark-json=FILE (gilbench's plugin turns that on when it times)")


def to_pyperf(results: Results) -> dict[str, Any]:
    """pyperf's BenchmarkSuite JSON for the run's ok cells."""
    m = results.machine
    suite_meta = _clean({
        "hostname": m.get("hostname"), "cpu_model_name": m.get("cpu_model"),
        "cpu_count": m.get("logical_cpus"), "platform": m.get("os"),
        "python_version": m.get("python_version"),
        "python_implementation": str(m.get("python_implementation") or "").lower() or None,
        "python_executable": m.get("python_executable"), "date": results.created_at,
        "unit": "second", "loops": 1,
        "gilbench_version": (results.tool or {}).get("version"),
        "gilbench_profile": results.run.get("profile"),
        "gilbench_usable_cpus": m.get("usable_cpus"),
        "gilbench_free_threaded_build": m.get("free_threaded_build"),
        "gilbench_gil_enabled": m.get("gil_enabled"),
    })
    cells = [c for c in results.cells if c.ok and c.times_s]
    if not cells:
        raise UserError("the results hold no cell with timed runs to export (every cell "
                        "failed or was skipped)")
    methods = len({c.start_method for c in results.cells if c.start_method})
    sizes = max(len({c.size for c in results.cells if c.workload == w})
                for w in results.workloads())
    benchmarks = []
    for c in cells:
        ci = c.speedup_ci95
        meta = _clean({
            "name": benchmark_name(c, methods, sizes),
            "description": f"{c.workload} ({c.kind}), {c.label}, {c.workers} workers: "
                           f"{c.tasks} tasks of size {c.size} per run",
            "mem_max_rss": c.peak_rss_bytes,
            "gilbench_workload": c.workload, "gilbench_kind": c.kind,
            "gilbench_strategy": c.strategy, "gilbench_start_method": c.start_method,
            "gilbench_workers": c.workers, "gilbench_size": c.size, "gilbench_tasks": c.tasks,
            "gilbench_speedup": c.speedup,
            "gilbench_speedup_ci95": f"{ci[0]:.4f}-{ci[1]:.4f}" if ci else None,
            "gilbench_pairs": len(c.serial_times_s) or None,
            "gilbench_startup_s": c.startup_s, "gilbench_cpu_s": c.cpu_s,
            "gilbench_noisy": c.noisy,
        })
        benchmarks.append({"metadata": meta,
                           "runs": [{"values": [float(t) for t in c.times_s]}]})
    return {"version": PYPERF_FORMAT_VERSION, "metadata": suite_meta, "benchmarks": benchmarks}


def to_csv(results: Results) -> str:
    m = results.machine
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for c in results.cells:
        ci = c.speedup_ci95 or (None, None)
        row = {"hostname": m.get("hostname"), "usable_cpus": m.get("usable_cpus"),
               "python_version": m.get("python_version"), "workload": c.workload,
               "kind": c.kind, "size": c.size, "tasks": c.tasks, "strategy": c.strategy,
               "start_method": c.start_method, "workers": c.workers, "status": c.status,
               "runs": len(c.times_s), "median_s": c.median_s, "speedup": c.speedup,
               "speedup_ci95_low": ci[0], "speedup_ci95_high": ci[1],
               "pairs": len(c.serial_times_s), "efficiency": c.efficiency,
               "startup_s": c.startup_s, "cpu_s": c.cpu_s, "rel_std": c.rel_std,
               "noisy": c.noisy, "peak_rss_bytes": c.peak_rss_bytes, "error": c.error}
        w.writerow(["" if row[k] is None else row[k] for k in CSV_COLUMNS])
    return buf.getvalue()
