"""Charts of a comparison of several runs (machines or interpreters): small
multiples per workload, one line per machine, and best speedups side by side."""

from __future__ import annotations

import math
from pathlib import Path

from gilbench.bench.report.charts import new_figure, save_figure
from gilbench.bench.report.document import workload_chart
from gilbench.bench.report.palette import AXIS, MACHINE_COLOURS
from gilbench.bench.results import Results


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
        ax.axhline(1.0, color=AXIS, linewidth=0.6)
        for i, (name, res) in enumerate(runs):
            colour = MACHINE_COLOURS[i % len(MACHINE_COLOURS)]
            # ideal scaling on this machine: min(workers, its usable CPUs), straight
            # segments between the worker counts (not y = x, which bends on a log axis
            # and climbs past the CPUs)
            cap = res.usable_cpus or top
            ax.plot(workers, [min(w, cap) for w in workers], color=colour, linestyle=":",
                    linewidth=1, alpha=0.6)
            pts = sorted((c for c in res.cells_of(workload)
                          if c.label == label and c.ok and c.speedup is not None),
                         key=lambda c: c.workers)
            if pts:
                # dodged a little per machine, so their bars at one worker count do not
                # sit on one another (log x: a factor)
                shift = 1.0 + 0.04 * (i - (len(runs) - 1) / 2)
                xs = [c.workers * shift for c in pts]
                ys = [c.speedup_value for c in pts]
                err = [[y - c.speedup_ci95[0] if c.speedup_ci95 else 0.0 for c, y in
                        zip(pts, ys, strict=True)],
                       [c.speedup_ci95[1] - y if c.speedup_ci95 else 0.0 for c, y in
                        zip(pts, ys, strict=True)]]
                ax.errorbar(xs, ys, yerr=err, marker="o", markersize=3.5, color=colour,
                            linewidth=1.5, capsize=2, elinewidth=0.8, label=name)
                ymax = max(ymax, *(y + e for y, e in zip(ys, err[1], strict=True)))
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
    # to the right of the panels: it overlapped their titles above them
    fig.legend(handles, names, loc="center left", fontsize=8, frameon=False,
               bbox_to_anchor=(1.0, 0.5))
    fig.suptitle(f"{workload}: speedup over serial [95% interval] vs workers, per machine "
                 "(dotted: ideal on each)", fontsize=10, y=1.02)
    fig.supxlabel("workers", fontsize=9)
    fig.supylabel("speedup (×)", fontsize=9)
    return save_figure(fig, stem)


def compare_overview_chart(runs: list[tuple[str, Results]], stem: Path) -> list[Path]:
    """Grouped bars: each machine's best on each workload — the figure and 95% interval
    of the table above it (``Run.best``: the confirmed headline over every kind of
    worker), the interval as an error bar; no bar where no cell may decide."""
    from gilbench.bench.analysis.comparison import Run

    workloads = list(dict.fromkeys(w for _, res in runs for w in res.workloads()))
    sides = [Run(name, "", res) for name, res in runs]
    fig = new_figure(figsize=(max(6.0, 0.9 * len(workloads) * max(1, len(runs)) / 1.6), 4.4))
    ax = fig.add_subplot()
    width = 0.8 / len(runs)
    for i, run in enumerate(sides):
        ys, lo, hi, texts = [], [], [], []
        for w in workloads:
            b = run.best(w)
            y = b.speedup_value if b is not None else 0.0
            ci = b.speedup_ci95 if b is not None else None
            ys.append(y)
            lo.append(y - ci[0] if ci else 0.0)
            hi.append(ci[1] - y if ci else 0.0)
            texts.append(f"{y:.2f}" if b is not None else "—")
        xs = [j + (i - (len(runs) - 1) / 2) * width for j in range(len(workloads))]
        colour = MACHINE_COLOURS[i % len(MACHINE_COLOURS)]
        bars = ax.bar(xs, ys, width=width, label=run.label, color=colour, alpha=0.85)
        ax.errorbar(xs, ys, yerr=[lo, hi], fmt="none", ecolor="black", elinewidth=0.9,
                    capsize=2.5)
        ax.bar_label(bars, labels=texts, fontsize=7, padding=1)
    ax.axhline(1.0, color=AXIS, linewidth=0.8)
    ax.set_xticks(range(len(workloads)))
    ax.set_xticklabels(workloads, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("best speedup over serial (×)")
    ax.set_title("Best speedup per workload and machine, as in the table (confirmed "
                 "headline; bars: 95% interval)", fontsize=10)
    # beside the axes, never over the bars
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
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
