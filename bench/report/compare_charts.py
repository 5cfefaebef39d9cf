"""Charts of a comparison of several runs (machines or interpreters): small
multiples per workload, one line per machine, and best speedups side by side."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from bench.analysis import best_cells
from bench.report.charts import new_figure, save_figure
from bench.report.document import workload_chart
from bench.report.palette import AXIS, IDEAL, MACHINE_COLOURS
from bench.results import Results


def compare_workload_chart(runs: list[tuple[str, Results]], workload: str,
                           stem: Path) -> list[Path]:
    """Small multiples: one panel per strategy, one line per machine."""
    labels = list(dict.fromkeys(c.label for _, res in runs for c in res.cells_of(workload)
                                if c.strategy != "serial"))
    ncols = min(4, max(1, len(labels)))
    nrows = math.ceil(len(labels) / ncols)
    fig = new_figure(figsize=(3.2 * ncols, 2.6 * nrows + 0.6))
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    workers = sorted({c.workers for _, res in runs for c in res.cells_of(workload)} | {1})
    top = max(workers)
    ymax = 1.0
    for k, label in enumerate(labels):
        ax = axes[k // ncols][k % ncols]
        ideal = np.geomspace(1, top, 64)
        ax.plot(ideal, ideal, color=IDEAL, linestyle=":", linewidth=1)
        ax.axhline(1.0, color=AXIS, linewidth=0.6)
        for i, (name, res) in enumerate(runs):
            colour = MACHINE_COLOURS[i % len(MACHINE_COLOURS)]
            pts = sorted((c for c in res.cells_of(workload)
                          if c.label == label and c.ok and c.speedup is not None),
                         key=lambda c: c.workers)
            if pts:
                ax.plot([c.workers for c in pts], [c.speedup_value for c in pts], marker="o",
                        markersize=3.5, color=colour, linewidth=1.5, label=name)
                ymax = max(ymax, *(c.speedup_value for c in pts))
                usable = res.usable_cpus
                if usable:
                    ax.axvline(usable, color=colour, linestyle="--", linewidth=0.8, alpha=0.5)
            for c in res.cells_of(workload):
                if c.label == label and c.status in ("error", "timeout"):
                    ax.plot([c.workers], [1.0], marker="x", color=colour, markersize=8)
        ax.set_title(label, fontsize=9)
        ax.set_xscale("log", base=2)
        ax.set_xticks(workers)
        ax.set_xticklabels([str(w) for w in workers], fontsize=7)
        ax.grid(True, alpha=0.3)
    for k in range(len(labels), nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    axes[0][0].set_ylim(0, ymax * 1.15)
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="upper center", ncol=min(len(runs), 4), fontsize=8,
               frameon=False, bbox_to_anchor=(0.5, 1.0))
    fig.suptitle(f"{workload}: speedup over serial vs workers, per machine", y=1.04, fontsize=10)
    fig.supxlabel("workers", fontsize=9)
    fig.supylabel("speedup (×)", fontsize=9)
    return save_figure(fig, stem)


def compare_overview_chart(runs: list[tuple[str, Results]], stem: Path) -> list[Path]:
    """Grouped bars: each machine's best speedup on each workload."""
    workloads = list(dict.fromkeys(w for _, res in runs for w in res.workloads()))
    best = [best_cells(res) for _, res in runs]
    fig = new_figure(figsize=(max(6.0, 0.9 * len(workloads) * max(1, len(runs)) / 1.6), 4.2))
    ax = fig.add_subplot()
    width = 0.8 / len(runs)
    for i, (name, _) in enumerate(runs):
        ys = []
        for w in workloads:
            vals = [c.speedup_value for (wl, _s), c in best[i].items()
                    if wl == w and c.strategy != "serial"]
            ys.append(max(vals) if vals else 0.0)
        xs = [j + (i - (len(runs) - 1) / 2) * width for j in range(len(workloads))]
        bars = ax.bar(xs, ys, width=width, label=name,
                      color=MACHINE_COLOURS[i % len(MACHINE_COLOURS)])
        ax.bar_label(bars, labels=[f"{y:.1f}" if y else "—" for y in ys], fontsize=7,
                     padding=1)
    ax.axhline(1.0, color=AXIS, linewidth=0.8)
    ax.set_xticks(range(len(workloads)))
    ax.set_xticklabels(workloads, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("best speedup over serial (×)")
    ax.set_title("Best speedup of any strategy, per workload and machine", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    ax.grid(True, axis="y", alpha=0.3)
    return save_figure(fig, stem)


def compare_charts(runs: list[tuple[str, Results]], out: Path) -> dict[str, list[Path]]:
    out.mkdir(parents=True, exist_ok=True)
    charts = {"overview": compare_overview_chart(runs, out / "compare-overview")}
    for w in dict.fromkeys(w for _, res in runs for w in res.workloads()):
        if any(c.speedup is not None and c.strategy != "serial"
               for _, res in runs for c in res.cells_of(w)):
            charts[workload_chart(w)] = compare_workload_chart(runs, w, out / f"compare-{w}")
    return charts
