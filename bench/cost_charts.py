"""Charts of the cost suites: start-up bars, IPC bandwidth and round trip vs payload
(log-log, with the memory-copy ceiling), hand-over cost per mechanism, and
response latency vs CPU-bound workers. Object-API matplotlib, as in ``plotting``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from bench.costs import fmt_bytes, fmt_s, method_label
from bench.plotting import save_figure
from bench.results import Results
from bench.suites import IpcEntry, LatencyEntry, StartupEntry, SyncEntry

THREADS, PROCESSES = "#1f77b4", "#d62728"
METHOD_COLOURS = {"thread": THREADS, "fork": "#d62728", "forkserver": "#ff7f0e",
                  "spawn": "#8c564b"}
TRANSPORT_COLOURS = {"thread_queue": THREADS, "queue": "#ff7f0e", "simple_queue": "#bcbd22",
                     "pipe": "#d62728", "pipe_bytes": "#e377c2", "shared_memory": "#2ca02c",
                     "manager": "#8c564b"}
_time_axis = FuncFormatter(lambda v, _pos: fmt_s(v))


def _rate_axis(v: float, _pos: int) -> str:
    return f"{v / 1e9:g} GB/s" if v >= 1e9 else f"{v / 1e6:g} MB/s"


def startup_chart(results: Results, stem: Path) -> list[Path]:
    entries = [e for e in results.entries("startup") if e.ok and isinstance(e, StartupEntry)]
    starts = [e for e in entries if e.what == "start_join"]
    pools = [e for e in entries if e.what == "pool"]
    fig = Figure(figsize=(12, 4.2))
    ax1, ax2, ax3 = fig.subplots(1, 3)
    names = [method_label(e) for e in starts]
    ys = np.arange(len(starts))
    med = [e.median_s for e in starts]
    p99 = [max(0.0, (e.p99_s or 0) - (e.median_s or 0)) for e in starts]
    ax1.barh(ys, med, xerr=[[0] * len(starts), p99], capsize=3,
             color=[METHOD_COLOURS.get(n, "#7f7f7f") for n in names])
    for y, e in zip(ys, starts, strict=True):
        ax1.text(max(e.median_s or 0, e.p99_s or 0) * 1.15, y, fmt_s(e.median_s), va="center",
                 fontsize=8)
    if starts:
        ax1.set_xlim(min(e.median_s or 1e-6 for e in starts) / 3,
                     max(e.p99_s or e.median_s or 1e-3 for e in starts) * 6)
    ax1.set_yticks(ys, names)
    ax1.set_xscale("log")
    ax1.xaxis.set_major_formatter(_time_axis)
    ax1.set_title("start + join one worker\n(median; whisker to p99)", fontsize=10)
    ax1.grid(True, axis="x", alpha=0.3)
    for label in dict.fromkeys(method_label(e) for e in pools):
        pts = sorted((e for e in pools if method_label(e) == label), key=lambda e: e.workers)
        ax2.plot([e.workers for e in pts], [e.median_s for e in pts], marker="o",
                 color=METHOD_COLOURS.get(label, "#7f7f7f"), label=label,
                 linestyle="--" if label == "thread" else "-")
    ax2.set_xscale("log", base=2)
    ax2.set_yscale("log")
    counts = sorted({e.workers for e in pools}) or [1]
    ax2.set_xticks(counts, [str(c) for c in counts])
    ax2.yaxis.set_major_formatter(_time_axis)
    ax2.set_xlabel("workers in the pool")
    ax2.set_title("create a pool until every worker runs\n(median)", fontsize=10)
    ax2.grid(True, alpha=0.3)
    ax2.legend(fontsize=8, frameon=False)
    mem = [e for e in pools if e.uss_bytes is not None]
    if mem:
        xs = np.arange(len(mem))
        mib = 2.0**20
        ax3.bar(xs - 0.2, [e.uss_bytes / mib for e in mem], width=0.4,  # type: ignore[operator]
                label="USS (only its own)",
                color=[METHOD_COLOURS.get(method_label(e), "#7f7f7f") for e in mem])
        ax3.bar(xs + 0.2, [(e.pss_bytes or 0) / mib for e in mem], width=0.4, alpha=0.45,
                label="PSS (+ its share of shared pages)",
                color=[METHOD_COLOURS.get(method_label(e), "#7f7f7f") for e in mem])
        ax3.set_xticks(xs, [method_label(e) for e in mem])
        ax3.set_ylabel("MiB per worker")
        ax3.set_title(f"memory per worker (pool of {mem[0].workers})", fontsize=10)
        ax3.legend(fontsize=8, frameon=False, loc="upper left")
        ax3.set_ylim(top=max((e.pss_bytes or e.uss_bytes or 0) / mib for e in mem) * 1.3)
        ax3.grid(True, axis="y", alpha=0.3)
    else:
        ax3.set_visible(False)
    fig.suptitle("What a worker costs before it does any work (lower is better)", fontsize=11)
    fig.tight_layout()
    return save_figure(fig, stem)


def ipc_chart(results: Results, stem: Path) -> list[Path]:
    entries = [e for e in results.entries("ipc") if e.ok and isinstance(e, IpcEntry)]
    fig = Figure(figsize=(12, 4.6))
    bw, rt = fig.subplots(1, 2)
    for name in dict.fromkeys(e.transport for e in entries):
        pts = sorted((e for e in entries if e.transport == name), key=lambda e: e.payload_bytes)
        xs = [e.payload_bytes for e in pts]
        if name == "memcpy":
            bw.plot(xs, [e.bytes_per_s for e in pts], color="black", linestyle=":",
                    linewidth=2, label="memcpy (numpy copy): the ceiling")
            continue
        colour = TRANSPORT_COLOURS.get(name, "#7f7f7f")
        style = "--" if name == "thread_queue" else "-"
        label = name + (" (a reference, no copy)" if name == "thread_queue" else "")
        bw.plot(xs, [e.bytes_per_s for e in pts], marker="o", markersize=4, color=colour,
                linestyle=style, label=label)
        rt.plot(xs, [e.median_s for e in pts], marker="o", markersize=4, color=colour,
                linestyle=style, label=name)
        rt.plot(xs, [e.p99_s for e in pts], color=colour, linestyle=":", linewidth=0.9)
    sizes = sorted({e.payload_bytes for e in entries})
    for ax in (bw, rt):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(sizes, [fmt_bytes(x) for x in sizes])
        ax.minorticks_off()
        ax.set_xlabel("payload")
        ax.grid(True, which="major", alpha=0.3)
    bw.yaxis.set_major_formatter(FuncFormatter(_rate_axis))
    bw.set_title("throughput, one way (higher is better)", fontsize=10)
    rt.yaxis.set_major_formatter(_time_axis)
    rt.set_title("round trip: median, dotted p99 (lower is better)", fontsize=10)
    bw.legend(fontsize=7, frameon=False, loc="upper left")
    rt.legend(fontsize=7, frameon=False, loc="upper left")
    fig.suptitle("IPC: moving bytes between two workers", fontsize=11)
    fig.tight_layout()
    return save_figure(fig, stem)


def sync_chart(results: Results, stem: Path) -> list[Path]:
    entries = [e for e in results.entries("sync") if e.ok and isinstance(e, SyncEntry)]
    names = list(dict.fromkeys(e.mechanism for e in entries))
    fig = Figure(figsize=(8, 0.45 * len(names) + 1.6))
    ax = fig.add_subplot()
    ys = np.arange(len(names))
    for offset, model, colour in ((-0.2, "threads", THREADS), (0.2, "processes", PROCESSES)):
        rows = [(i, e) for i, n in enumerate(names) for e in entries
                if e.mechanism == n and e.model == model]
        if not rows:
            continue
        meds = [e.median_s for _, e in rows]
        ax.barh([i + offset for i, _ in rows], meds, height=0.38, color=colour, label=model,
                xerr=[[0] * len(rows), [max(0.0, (e.p99_s or 0) - (e.median_s or 0))
                                         for _, e in rows]], capsize=2)
        for i, e in rows:
            ax.text(max(e.median_s or 0, e.p99_s or 0) * 1.1, i + offset, fmt_s(e.median_s),
                    va="center", fontsize=7)
    ax.set_yticks(ys, names)
    ax.invert_yaxis()
    ax.set_xscale("log")
    if entries:
        ax.set_xlim(min(e.median_s or 1e-7 for e in entries) / 2,
                    max(e.p99_s or e.median_s or 1e-3 for e in entries) * 5)
    ax.xaxis.set_major_formatter(_time_axis)
    ax.set_xlabel("round trip = two hand-overs (median; whisker to p99); lower is better")
    ax.set_title("Hand-over cost per synchronisation mechanism", fontsize=11, pad=24)
    ax.legend(fontsize=8, frameon=False, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2)
    ax.grid(True, axis="x", alpha=0.3)
    return save_figure(fig, stem)


def latency_chart(results: Results, stem: Path) -> list[Path]:
    entries = [e for e in results.entries("latency") if e.ok and isinstance(e, LatencyEntry)]
    fig = Figure(figsize=(8.5, 4.6))
    ax = fig.add_subplot()
    idle = {e.switch_interval_s: e for e in entries if e.cpu_workers == 0}
    intervals = sorted({e.switch_interval_s for e in entries if e.model == "threads"})
    blues = ["#9ecae1", "#4292c6", "#08519c", "#08306b", "#6baed6"]
    for k, si in enumerate(intervals):
        pts = sorted((e for e in entries if e.model == "threads" and e.switch_interval_s == si),
                     key=lambda e: e.cpu_workers)
        colour = blues[k % len(blues)]
        ax.plot([e.cpu_workers for e in pts], [e.p99_s for e in pts], marker="o",
                color=colour, label=f"threads, switch interval {fmt_s(si)}: p99")
        ax.plot([e.cpu_workers for e in pts], [e.median_s for e in pts], color=colour,
                linestyle=":", linewidth=1)
        ax.axhline(si, color=colour, linestyle="-.", linewidth=0.7, alpha=0.6)
    procs = sorted((e for e in entries if e.model == "processes"), key=lambda e: e.cpu_workers)
    if procs:
        base = idle.get(procs[0].switch_interval_s)
        pts = ([base] if base else []) + procs
        ax.plot([e.cpu_workers for e in pts], [e.p99_s for e in pts], marker="s",
                color=PROCESSES, label="processes: p99")
        ax.plot([e.cpu_workers for e in pts], [e.median_s for e in pts], color=PROCESSES,
                linestyle=":", linewidth=1)
    counts = sorted({e.cpu_workers for e in entries})
    ax.set_xticks(counts, [str(c) for c in counts])
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(_time_axis)
    ax.set_xlabel("CPU-bound workers running (pure-Python loops)")
    ax.set_ylabel("time to answer a ping")
    ax.set_title("GIL latency: a waiting thread's response time under CPU load\n"
                 "solid: p99, dotted: median, dash-dot: the switch interval; lower is better",
                 fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return save_figure(fig, stem)


CHARTS = {"startup": startup_chart, "ipc": ipc_chart, "sync": sync_chart,
          "latency": latency_chart}


def write_cost_charts(results: Results, out: Path) -> dict[str, list[Path]]:
    """One chart per cost suite that has an ok entry, keyed ``suite:<name>``."""
    charts = {}
    for name, chart in CHARTS.items():
        if any(e.ok for e in results.entries(name)):
            charts[f"suite:{name}"] = chart(results, out / f"{name}")
    return charts
