"""The latency suite in a report — GIL latency: responding while CPU work runs: its section,
its chart and its line in the terminal summary (pure functions of a Results)."""

from __future__ import annotations

from pathlib import Path

from gilbench.bench.entries import LatencyEntry
from gilbench.bench.fmt import fmt_s
from gilbench.bench.report.charts import (
    new_figure,
    save_figure,
    time_axis,
)
from gilbench.bench.report.document import Block, Heading, Image, Para, Table
from gilbench.bench.report.palette import PROCESSES, SWITCH_INTERVAL_BLUES
from gilbench.bench.results import Results


def section(results: Results, chart: Path | None) -> list[Block]:
    entries = results.entries_of(LatencyEntry)
    out: list[Block] = [Heading("GIL latency: responding while CPU work runs")]
    out.append(Para("A thread blocked on a loopback UDP socket answers pings while N "
                    "pure-Python CPU loops run as threads of its process (sharing its GIL) "
                    "or as separate processes (sharing only the CPUs). The switch interval "
                    "(`sys.setswitchinterval`) is how long a thread waiting for the GIL "
                    "waits before it forces a switch."))
    if chart:
        out.append(Image(chart, "response latency vs CPU-bound workers"))
    rows = []
    for e in sorted(entries, key=lambda e: (e.model != "threads" or e.cpu_workers == 0,
                                            e.model, e.switch_interval_s, e.cpu_workers)):
        load = ("no CPU load" if e.cpu_workers == 0 else f"{e.cpu_workers} CPU {e.model}")
        if not e.ok:
            rows.append((load, fmt_s(e.switch_interval_s), e.status.upper(), "", "", ""))
            continue
        rows.append((load, fmt_s(e.switch_interval_s), fmt_s(e.median_s), fmt_s(e.p99_s),
                     fmt_s(e.max_s), f"{e.pings} ({e.lost} lost)"))
    out.append(Table(("load", "switch interval", "median", "p99", "max", "pings"), tuple(rows)))
    return out


def chart(results: Results, stem: Path) -> list[Path]:
    entries = [e for e in results.entries_of(LatencyEntry) if e.ok]
    fig = new_figure(figsize=(8.5, 4.6))
    ax = fig.add_subplot()
    idle = {e.switch_interval_s: e for e in entries if e.cpu_workers == 0}
    intervals = sorted({e.switch_interval_s for e in entries if e.model == "threads"})
    blues = SWITCH_INTERVAL_BLUES
    for k, si in enumerate(intervals):
        pts = sorted((e for e in entries if e.model == "threads" and e.switch_interval_s == si),
                     key=lambda e: e.cpu_workers)
        colour = blues[k % len(blues)]
        ax.plot([e.cpu_workers for e in pts], [e.p99_value for e in pts], marker="o",
                color=colour, label=f"threads, switch interval {fmt_s(si)}: p99")
        ax.plot([e.cpu_workers for e in pts], [e.median_value for e in pts], color=colour,
                linestyle=":", linewidth=1)
        ax.axhline(si, color=colour, linestyle="-.", linewidth=0.7, alpha=0.6)
    procs = sorted((e for e in entries if e.model == "processes"), key=lambda e: e.cpu_workers)
    if procs:
        base = idle.get(procs[0].switch_interval_s)
        pts = ([base] if base else []) + procs
        ax.plot([e.cpu_workers for e in pts], [e.p99_value for e in pts], marker="s",
                color=PROCESSES, label="processes: p99")
        ax.plot([e.cpu_workers for e in pts], [e.median_value for e in pts], color=PROCESSES,
                linestyle=":", linewidth=1)
    counts = sorted({e.cpu_workers for e in entries})
    ax.set_xticks(counts, [str(c) for c in counts])
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(time_axis())
    ax.set_xlabel("CPU-bound workers running (pure-Python loops)")
    ax.set_ylabel("time to answer a ping")
    ax.set_title("GIL latency: a waiting thread's response time under CPU load\n"
                 "solid: p99, dotted: median, dash-dot: the switch interval; lower is better",
                 fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return save_figure(fig, stem)


def headline(results: Results) -> str | None:
    """The terminal summary's line for this suite."""
    lat = [e for e in results.entries_of(LatencyEntry) if e.ok]
    if not lat:
        return None
    default = max((e.switch_interval_s for e in lat),
                  key=lambda si: sum(x.switch_interval_s == si for x in lat))
    parts = [f"{'none' if e.cpu_workers == 0 else f'{e.cpu_workers} {e.model}'} "
             f"{fmt_s(e.p99_s)}" for e in lat if e.switch_interval_s == default]
    return (f"response p99 under CPU load (switch interval {fmt_s(default)}): "
            + ", ".join(parts))
