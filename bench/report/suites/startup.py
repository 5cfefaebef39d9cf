"""The startup suite in a report — start-up: what a worker costs before it works: its section,
its chart and its line in the terminal summary (pure functions of a Results)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gilbench.bench.analysis.costs import pick
from gilbench.bench.entries import StartupEntry
from gilbench.bench.fmt import fmt_bytes, fmt_s
from gilbench.bench.report.charts import (
    new_figure,
    save_figure,
    time_axis,
)
from gilbench.bench.report.document import Block, Bullets, Heading, Image, Para, Table
from gilbench.bench.report.palette import METHOD_COLOURS, UNKNOWN
from gilbench.bench.results import Results


def section(results: Results, chart: Path | None) -> list[Block]:
    entries = results.entries_of(StartupEntry)
    out: list[Block] = [Heading("Start-up: what a worker costs before it works")]
    out.append(Para("Measured in a fresh interpreter whose main module imports only the "
                    "standard library (spawn and forkserver children re-import the main "
                    "module, so a program that imports more pays more). Pool: created until "
                    "every worker runs a task, then closed and joined. Memory per worker, "
                    "with the largest pool alive: USS counts pages only that worker uses, "
                    "PSS adds its share of pages it shares (fork shares the parent's)."))
    if chart:
        out.append(Image(chart, "start-up costs"))
    starts = [e for e in entries if e.what == "start_join" and e.ok]
    pools = [e for e in entries if e.what == "pool" and e.ok]
    counts = sorted({e.workers for e in pools})
    rows = []
    for e in starts:
        row = [e.method, fmt_s(e.median_s), fmt_s(e.p99_s)]
        for n in counts:
            p = pick(pools, model=e.model, start_method=e.start_method, workers=n)
            row.append(fmt_s(p.median_s) if p else "—")
        biggest = pick(pools, model=e.model, start_method=e.start_method,
                       workers=max(counts)) if counts else None
        row.append(fmt_bytes(biggest.uss_bytes) if biggest else "—")
        row.append(fmt_bytes(biggest.pss_bytes) if biggest else "—")
        rows.append(tuple(row))
    if rows:
        out.append(Table(("worker", "start + join (median)", "p99",
                          *[f"pool of {n}" for n in counts], "USS / worker",
                          "PSS / worker"), tuple(rows)))
    clusters = [e for e in pools if e.start_method == "ray"]
    if clusters:
        out.append(Bullets(tuple(_cluster_words(e) for e in clusters)))
    checks = [e for e in entries if e.what in ("zombie", "no_zombies", "get_timeout")]
    if checks:
        out.append(Bullets(tuple(
            f"**{e.what}**: {'yes' if e.observed else 'no'} — {e.detail}" if e.ok
            else f"**{e.what}**: {e.status} — {e.error}" for e in checks)))
    return out


def chart(results: Results, stem: Path) -> list[Path]:
    entries = [e for e in results.entries_of(StartupEntry) if e.ok]
    starts = [e for e in entries if e.what == "start_join"]
    pools = [e for e in entries if e.what == "pool"]
    fig = new_figure(figsize=(12, 4.2))
    ax1, ax2, ax3 = fig.subplots(1, 3)
    names = [e.method for e in starts]
    ys = np.arange(len(starts))
    med = [e.median_s for e in starts]
    p99 = [max(0.0, (e.p99_s or 0) - (e.median_s or 0)) for e in starts]
    ax1.barh(ys, med, xerr=[[0] * len(starts), p99], capsize=3,
             color=[METHOD_COLOURS.get(n, UNKNOWN) for n in names])
    for y, e in zip(ys, starts, strict=True):
        ax1.text(max(e.median_s or 0, e.p99_s or 0) * 1.15, y, fmt_s(e.median_s), va="center",
                 fontsize=8)
    if starts:
        ax1.set_xlim(min(e.median_s or 1e-6 for e in starts) / 3,
                     max(e.p99_s or e.median_s or 1e-3 for e in starts) * 6)
    ax1.set_yticks(ys, names)
    ax1.set_xscale("log")
    ax1.xaxis.set_major_formatter(time_axis())
    ax1.set_title("start + join one worker\n(median; whisker to p99)", fontsize=10)
    ax1.grid(True, axis="x", alpha=0.3)
    for label in dict.fromkeys(e.method for e in pools):
        pts = sorted((e for e in pools if e.method == label), key=lambda e: e.workers)
        ax2.plot([e.workers for e in pts], [e.median_s for e in pts], marker="o",
                 color=METHOD_COLOURS.get(label, UNKNOWN), label=label,
                 linestyle="--" if label == "thread" else "-")
    ax2.set_xscale("log", base=2)
    ax2.set_yscale("log")
    counts = sorted({e.workers for e in pools}) or [1]
    ax2.set_xticks(counts, [str(c) for c in counts])
    ax2.yaxis.set_major_formatter(time_axis())
    ax2.set_xlabel("workers in the pool")
    ax2.set_title("create a pool until every worker runs\n(median)", fontsize=10)
    ax2.grid(True, alpha=0.3)
    ax2.legend(fontsize=8, frameon=False)
    mem = [e for e in pools if e.uss_bytes is not None]
    if mem:
        xs = np.arange(len(mem))
        mib = 2.0**20
        ax3.bar(xs - 0.2, [(e.uss_bytes or 0) / mib for e in mem], width=0.4,
                label="USS (only its own)",
                color=[METHOD_COLOURS.get(e.method, UNKNOWN) for e in mem])
        ax3.bar(xs + 0.2, [(e.pss_bytes or 0) / mib for e in mem], width=0.4, alpha=0.45,
                label="PSS (+ its share of shared pages)",
                color=[METHOD_COLOURS.get(e.method, UNKNOWN) for e in mem])
        ax3.set_xticks(xs, [e.method for e in mem])
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


def _cluster_words(e: StartupEntry) -> str:
    return (f"**{e.method}**, {e.workers} workers: starts in {fmt_s(e.median_s)} and stops in "
            f"{fmt_s(e.stop_s)} (median of {e.repeats}): {e.detail}")


def headline(results: Results) -> str | None:
    """The terminal summary's line for this suite."""
    entries = [e for e in results.entries_of(StartupEntry) if e.ok]
    starts = [e for e in entries if e.what == "start_join"]
    if not starts:
        return None
    clusters = [e for e in entries if e.what == "pool" and e.start_method == "ray"]
    return "start + join one worker: " + ", ".join(
        f"{e.method} {fmt_s(e.median_s)}" for e in starts) + "".join(
        f"; a local {e.method} of {e.workers}: {fmt_s(e.median_s)} to start, "
        f"{fmt_s(e.stop_s)} to stop" for e in clusters)
