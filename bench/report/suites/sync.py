"""The sync suite in a report — synchronisation: the cost of one hand-over: its section, its
chart and its line in the terminal summary (pure functions of a Results)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gilbench.bench.entries import SyncEntry
from gilbench.bench.fmt import fmt_s
from gilbench.bench.report.charts import (
    new_figure,
    save_figure,
    time_axis,
)
from gilbench.bench.report.document import Block, Heading, Image, Para, Table
from gilbench.bench.report.palette import PROCESSES, THREADS
from gilbench.bench.results import Results


def section(results: Results, chart: Path | None) -> list[Block]:
    entries = results.entries_of(SyncEntry)
    out: list[Block] = [Heading("Synchronisation: the cost of one hand-over")]
    out.append(Para("Ping-pong between two threads, or two processes, through each "
                    "mechanism: one round trip is two hand-overs. `value`/`array`/`raw_value` "
                    "cannot sleep until the other side writes, so the waiting side spins (a "
                    "CPU each)."))
    if chart:
        out.append(Image(chart, "hand-over cost per mechanism"))
    rows = []
    for name in dict.fromkeys(e.mechanism for e in entries):
        row = [name]
        for model in ("threads", "processes"):
            e = next((x for x in entries if x.mechanism == name and x.model == model), None)
            row.append("—" if e is None else (e.status.upper() if not e.ok else
                       f"{fmt_s(e.median_s)} (p99 {fmt_s(e.p99_s)})"))
        rows.append(tuple(row))
    out.append(Table(("mechanism", "threads: round trip (p99)", "processes: round trip (p99)"),
                     tuple(rows)))
    return out


def chart(results: Results, stem: Path) -> list[Path]:
    entries = [e for e in results.entries_of(SyncEntry) if e.ok]
    names = list(dict.fromkeys(e.mechanism for e in entries))
    fig = new_figure(figsize=(8, 0.45 * len(names) + 1.6))
    ax = fig.add_subplot()
    ys = np.arange(len(names))
    for offset, model, colour in ((-0.2, "threads", THREADS), (0.2, "processes", PROCESSES)):
        rows = [(i, e) for i, n in enumerate(names) for e in entries
                if e.mechanism == n and e.model == model]
        if not rows:
            continue
        meds = [e.median_value for _, e in rows]
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
    ax.xaxis.set_major_formatter(time_axis())
    ax.set_xlabel("round trip = two hand-overs (median; whisker to p99); lower is better")
    ax.set_title("Hand-over cost per synchronisation mechanism", fontsize=11, pad=24)
    ax.legend(fontsize=8, frameon=False, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2)
    ax.grid(True, axis="x", alpha=0.3)
    return save_figure(fig, stem)


def headline(results: Results) -> str | None:
    """The terminal summary's line for this suite."""
    sync = [e for e in results.entries_of(SyncEntry) if e.ok and e.model == "processes"]
    if not sync:
        return None
    return "hand-over round trip between processes: " + ", ".join(
        f"{e.mechanism} {fmt_s(e.median_s)}" for e in sync)
