"""The ipc suite in a report — IPC: moving data between workers: its section, its chart and its
line in the terminal summary (pure functions of a Results)."""

from __future__ import annotations

from pathlib import Path

from gilbench.bench.analysis.costs import nearest_payload
from gilbench.bench.entries import IpcEntry
from gilbench.bench.fmt import fmt_bytes, fmt_rate, fmt_s
from gilbench.bench.report.charts import (
    formatter,
    new_figure,
    rate_axis,
    save_figure,
    time_axis,
)
from gilbench.bench.report.document import Block, Heading, Image, Para, Table
from gilbench.bench.report.palette import TRANSPORT_COLOURS, UNKNOWN
from gilbench.bench.results import Results


def section(results: Results, chart: Path | None) -> list[Block]:
    entries = results.entries_of(IpcEntry)
    out: list[Block] = [Heading("IPC: moving data between workers")]
    out.append(Para("Each transport hands a `bytes` payload from one side to the other. "
                    "Round trip: to an echoing partner and back (median, p99). Throughput: "
                    "a one-way stream of messages. `memcpy` is one numpy copy in this process: "
                    "the ceiling for any transport that copies. `thread_queue` passes a "
                    "reference between threads of one process: nothing is copied."))
    if chart:
        out.append(Image(chart, "IPC bandwidth and round trip vs payload"))
    sizes = sorted({e.payload_bytes for e in entries})
    names = list(dict.fromkeys(e.transport for e in entries))
    rt_rows, bw_rows = [], []
    for name in names:
        rt, bw = [name], [name]
        for size in sizes:
            e = next((x for x in entries if x.transport == name and x.payload_bytes == size),
                     None)
            if e is None:
                rt.append("")
                bw.append("")
            elif not e.ok:
                rt.append(e.status.upper())
                bw.append(e.status.upper())
            else:
                rt.append("—" if e.round_trips == 0 else
                          f"{fmt_s(e.median_s)} (p99 {fmt_s(e.p99_s)})")
                bw.append(fmt_rate(e.bytes_per_s))
        if name != "memcpy":  # a copy has no round trip
            rt_rows.append(tuple(rt))
        bw_rows.append(tuple(bw))
    headers = ("transport", *[fmt_bytes(s) for s in sizes])
    out += [Para("**Round trip** (median, p99):"), Table(headers, tuple(rt_rows)),
            Para("**Throughput** (one way, bytes per second):"), Table(headers, tuple(bw_rows))]
    return out


def chart(results: Results, stem: Path) -> list[Path]:
    entries = [e for e in results.entries_of(IpcEntry) if e.ok]
    fig = new_figure(figsize=(12, 4.6))
    bw, rt = fig.subplots(1, 2)
    for name in dict.fromkeys(e.transport for e in entries):
        pts = sorted((e for e in entries if e.transport == name), key=lambda e: e.payload_bytes)
        xs = [e.payload_bytes for e in pts]
        if name == "memcpy":
            bw.plot(xs, [e.bytes_per_s for e in pts], color="black", linestyle=":",
                    linewidth=2, label="memcpy (numpy copy): the ceiling")
            continue
        colour = TRANSPORT_COLOURS.get(name, UNKNOWN)
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
    bw.yaxis.set_major_formatter(formatter(rate_axis))
    bw.set_title("throughput, one way (higher is better)", fontsize=10)
    rt.yaxis.set_major_formatter(time_axis())
    rt.set_title("round trip: median, dotted p99 (lower is better)", fontsize=10)
    bw.legend(fontsize=7, frameon=False, loc="upper left")
    rt.legend(fontsize=7, frameon=False, loc="upper left")
    fig.suptitle("IPC: moving bytes between two workers", fontsize=11)
    fig.tight_layout()
    return save_figure(fig, stem)


def headline(results: Results) -> str | None:
    """The terminal summary's line for this suite."""
    size = nearest_payload(results, 2**20)
    if not size:
        return None
    ipc = [e for e in results.entries_of(IpcEntry) if e.ok and e.payload_bytes == size]
    return f"throughput at {fmt_bytes(size)}: " + ", ".join(
        f"{e.transport} {fmt_rate(e.bytes_per_s)}" for e in ipc
        if e.model in ("processes", "memory"))
