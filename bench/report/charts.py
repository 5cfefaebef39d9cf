"""Charts of a run: pure functions of a Results object, written as PNG and SVG.

The speedup curve per workload, the overview heat map and the task-size chart
are here, with the style every chart shares (colours per model, ``save_figure``);
each cost suite draws its own chart in ``bench.report.suites``.

matplotlib is used through its object API (``Figure`` + Agg canvas): no
pyplot state, no backend switch and no global style on import, so embedding
gilbench in a program that plots does not disturb it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gilbench.bench.analysis import best_cells, gil_on, granularity, headline_of, size_points
from gilbench.bench.files import write_with
from gilbench.bench.fmt import fmt_s
from gilbench.bench.kinds import CPU_BOUND_KINDS, KINDS, kind_title
from gilbench.bench.report.document import workload_chart
from gilbench.bench.report.palette import (
    AXIS,
    BAND,
    CPUS,
    GUIDE,
    IDEAL,
    OTHER_FAMILY,
    OTHER_MARKERS,
    PROCESS_FAMILY,
    PROCESS_MARKERS,
    THREAD_FAMILY,
    THREAD_MARKERS,
)
from gilbench.bench.results import Results

if TYPE_CHECKING:  # matplotlib is imported when a chart is drawn, not with gilbench's CLI
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

CHART_FORMATS = ("png", "svg")


def new_figure(**kwargs: Any) -> Figure:
    """A matplotlib Figure (object API, no pyplot state); matplotlib is imported here, on
    the first chart, so that `gilbench list`, `compare --help` and spawned workers that
    re-import gilbench's main module do not pay for it (about a second)."""
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def formatter(fn: Any) -> FuncFormatter:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(fn)


def time_axis() -> FuncFormatter:
    """Tick labels in seconds, ms or µs."""
    return formatter(lambda v, _pos: fmt_s(v))


def _log_norm(vmin: float, vmax: float) -> Any:
    from matplotlib.colors import LogNorm

    return LogNorm(vmin=vmin, vmax=vmax)


def rate_axis(v: float, _pos: int) -> str:
    return f"{v / 1e9:g} GB/s" if v >= 1e9 else f"{v / 1e6:g} MB/s"


def _style_for(labels: Sequence[str], models: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Each label's colour (its kind of worker's family), marker and line: a pair of
    colour and marker no other label of the chart has (markers change once a family's
    colours are used up)."""
    counters = {"threads": 0, "processes": 0, "other": 0}
    palettes = {"threads": (THREAD_FAMILY, THREAD_MARKERS),
                "processes": (PROCESS_FAMILY, PROCESS_MARKERS),
                "other": (OTHER_FAMILY, OTHER_MARKERS)}
    style = {}
    for label in labels:
        model = models.get(label, "other")
        family = model if model in palettes else "other"
        i = counters[family]
        counters[family] += 1
        colours, markers = palettes[family]
        style[label] = {
            "color": colours[i % len(colours)],
            "marker": markers[(i // len(colours)) % len(markers)],
            "linestyle": "-" if family == "processes" else ("--" if family == "threads" else ":"),
        }
    return style


def save_figure(fig: Figure, stem: Path) -> list[Path]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    paths = []
    for fmt in CHART_FORMATS:
        path = stem.with_suffix(f".{fmt}")
        write_with(path, functools.partial(fig.savefig, format=fmt, dpi=110,
                                           bbox_inches="tight",
                                           metadata={"Date": None} if fmt == "svg" else None))
        paths.append(path)
    return paths


def speedup_chart(results: Results, workload: str, stem: Path) -> list[Path]:
    """Speedup vs workers for one workload: a line per strategy, the ideal line,
    the usable-CPU ceiling, error bars from each speedup's 95% CI."""
    cells = [c for c in results.cells_of(workload) if c.strategy != "serial"]
    usable = max(1, results.usable_cpus)
    fig = new_figure(figsize=(7.5, 4.8))
    ax = fig.add_subplot()
    labels = list(dict.fromkeys(c.label for c in cells))
    style = _style_for(labels, {c.label: c.model for c in cells})
    workers = sorted({c.workers for c in cells} | {1})
    top = max(workers)
    # y = x is a curve on a log-x axis: draw it through many points, not two. For work
    # the CPUs bound, the ideal stops at the usable CPUs: min(workers, CPUs).
    ideal = np.geomspace(1, top, 64)
    bound = cells[0].kind in CPU_BOUND_KINDS if cells else False
    ax.plot(ideal, np.minimum(ideal, usable) if bound else ideal, color=IDEAL, linestyle=":",
            linewidth=1.2, label=f"ideal ({'min(workers, CPUs)' if bound else 'linear'})",
            zorder=1)
    ax.axhline(1.0, color=AXIS, linewidth=0.8, zorder=1)
    ax.axvline(usable, color=CPUS, linestyle="-.", linewidth=1.2, alpha=0.8,
               label=f"usable CPUs = {usable}", zorder=1)
    best = 1.0
    for i, label in enumerate(labels):
        # dodged: each strategy a little to the side at a worker count, so that error bars
        # at one count do not hide one another (the log axis: a constant factor)
        shift = 2 ** (0.04 * (i - (len(labels) - 1) / 2))
        pts = sorted((c for c in cells if c.label == label and c.ok and c.speedup),
                     key=lambda c: c.workers)
        failed = [c for c in cells if c.label == label and c.status in ("error", "timeout")]
        if pts:
            xs = [c.workers * shift for c in pts]
            ys = [c.speedup_value for c in pts]
            lo = [c.speedup_value - c.speedup_ci95[0] if c.speedup_ci95 else 0 for c in pts]
            hi = [c.speedup_ci95[1] - c.speedup_value if c.speedup_ci95 else 0 for c in pts]
            ax.errorbar(xs, ys, yerr=[lo, hi], capsize=3, linewidth=1.6, markersize=5,
                        label=label, zorder=3, **style[label])
            best = max(best, max(ys))
            noisy = [c for c in pts if c.noisy]
            if noisy:  # hollow: flagged noisy (see the report's Noise section)
                ax.plot([c.workers * shift for c in noisy], [c.speedup_value for c in noisy],
                        marker="o",
                        markersize=8, markerfacecolor="white",
                        markeredgecolor=style[label]["color"], linestyle="none", zorder=4)
        for c in failed:
            ax.plot([c.workers * shift], [1.0], marker="x", color=style[label]["color"],
                    markersize=9,
                    linestyle="none", zorder=4)
    ax.set_xscale("log", base=2)
    ax.set_xticks(workers)
    ax.set_xticklabels([str(w) for w in workers])
    ax.set_xlim(min(workers) / 1.35, top * 1.35)
    ax.set_ylim(0, max(best, min(top, usable) + 0.5) * 1.12)
    ax.set_xlabel("workers (threads or processes)")
    ax.set_ylabel("speedup over serial (×)")
    first = results.cells_of(workload)[0]
    ax.set_title(f"{workload} — {kind_title(first.kind, gil_on(results))}\n"
                 f"{first.tasks} tasks, size {first.size}; higher is better; "
                 "bars: 95% CI; hollow: noisy; ×: failed", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return save_figure(fig, stem)


HEADLINE_MODELS = ("threads", "processes")  # the Summary's two headlines per workload


def overview_cells(results: Results) -> dict[tuple[str, str], tuple[Any, bool]]:
    """What the heat map shows for each (workload, strategy label): the Summary's figure —
    a headline's confirmed view where this strategy is a workload's headline, else the
    strategy's best decisive sweep cell — and whether it is that confirmed headline."""
    out: dict[tuple[str, str], tuple[Any, bool]] = {
        key: (c, False) for key, c in best_cells(results).items()}
    for w in results.workloads():
        for model in HEADLINE_MODELS:
            found = headline_of(results, w, model)
            if found is not None and found.confirmed:
                out[(w, found.cell.label)] = (found.cell, True)
    return out


def _missing(results: Results, workload: str, label: str) -> str:
    """Why a heat map square is empty: its cells failed, were skipped, or came out above
    the physics (✗); '' when no such cell was run."""
    cells = [c for c in results.cells_of(workload) if c.label == label]
    if not cells:
        return ""
    if any(c.ok for c in cells):
        return "✗"  # ok cells, none decisive: above what the CPUs allow
    return "skipped" if all(c.status == "skipped" for c in cells) else "failed"


def overview_chart(results: Results, stem: Path) -> list[Path]:
    """Heat map of each strategy's figure on each workload — the Summary's: the confirmed
    headline (✓, with its interval) where the strategy is a workload's headline, else the
    strategy's best sweep cell over worker counts, with its interval and worker count — on
    a colour-blind-safe diverging scale centred on 1×."""
    from matplotlib.patches import Rectangle

    workloads = results.workloads()
    # A strategy skipped on every workload (not available here) has no column: the report's
    # "Failed and skipped cells" says why.
    labels = list(dict.fromkeys(c.label for c in results.main_cells if c.status != "skipped"))
    shown = overview_cells(results)
    grid = [[shown[(w, s)][0].speedup_value if (w, s) in shown else math.nan for s in labels]
            for w in workloads]
    finite = [v for row in grid for v in row if not math.isnan(v)] or [1.0]
    span = max(max(finite), 1 / min(finite), 2.0)
    fig = new_figure(figsize=(1.2 + 0.95 * len(labels), 1.6 + 0.62 * len(workloads)))
    ax = fig.add_subplot()
    im = ax.imshow(grid, cmap="BrBG", norm=_log_norm(1 / span, span), aspect="auto")
    for i, w in enumerate(workloads):
        for j, s in enumerate(labels):
            if (w, s) not in shown:
                ax.text(j, i, _missing(results, w, s) or "not run", ha="center",
                        va="center", fontsize=6.5, color=AXIS)
                continue
            c, confirmed = shown[(w, s)]
            ci = c.speedup_ci95
            text = (f"{c.speedup:.2f}×" + (" ✓" if confirmed else "")
                    + (f"\n[{ci[0]:.2f}–{ci[1]:.2f}]" if ci else "") + f"\n@{c.workers}")
            r, g, b, _ = im.cmap(im.norm(c.speedup_value))
            dark = 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.45  # white text on dark squares
            ax.text(j, i, text, ha="center", va="center", fontsize=6.5,
                    fontweight="bold" if confirmed else "normal",
                    color="white" if dark else "black")
            if confirmed:
                ax.add_patch(Rectangle((j - 0.46, i - 0.46), 0.92, 0.92, fill=False,
                                       linewidth=1.8, edgecolor="#d62728"))
    kinds = {c.workload: c.kind for c in results.cells}
    ax.set_yticks(range(len(workloads)))
    ax.set_yticklabels([f"{w} ({kinds[w]})" for w in workloads], fontsize=8)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=35, ha="right", fontsize=8)
    ax.set_title("Speedup over serial [95% interval] @workers, as in the Summary: ✓ boxed in "
                 "red = the workload's confirmed\nheadline (fresh runs), else the strategy's "
                 "best sweep cell; teal is faster, brown slower; ✗ = above what the CPUs "
                 "allow", fontsize=9)
    bar = fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02)
    ticks = [2.0**k for k in range(-8, 9) if 1 / span <= 2.0**k <= span]
    bar.set_ticks(ticks, labels=[f"{t:g}×" for t in ticks])
    bar.minorticks_off()
    return save_figure(fig, stem)


def task_size_chart(results: Results, stem: Path) -> list[Path] | None:
    """Best thread and best process speedup against the time of one task, per
    workload of a ``--sizes`` sweep (log x: the crossover is where they cross)."""
    sweeps = [w for w in results.workloads() if len(results.sizes_of(w)) > 1
              and not granularity.is_granularity(results, w)]
    if not sweeps:
        return None
    cols = min(3, len(sweeps))
    rows = math.ceil(len(sweeps) / cols)
    fig = new_figure(figsize=(4.2 * cols, 3.3 * rows))
    for i, w in enumerate(sweeps):
        ax = fig.add_subplot(rows, cols, i + 1)
        pts = size_points(results, w)
        labels = list(dict.fromkeys(label for p in pts for label in p["by_label"]))
        models = {label: p["by_label"][label].model for p in pts for label in p["by_label"]}
        style = _style_for(labels, models)
        for label in labels:
            xy = [(p["task_s"] * 1000, p["by_label"][label].speedup) for p in pts
                  if label in p["by_label"]]
            ax.plot(*zip(*xy, strict=True), label=label, linewidth=1.4, markersize=4,
                    **style[label])
        ax.axhline(1.0, color=AXIS, linewidth=0.8)
        ax.set_xscale("log")
        ax.set_title(w, fontsize=10)
        ax.set_xlabel("serial time per task (ms)", fontsize=8)
        ax.set_ylabel("speedup (×)", fontsize=8)
        ax.grid(True, alpha=0.3)
        if i == 0:
            ax.legend(fontsize=7)
    fig.suptitle("Best speedup of each strategy against task size, same total work",
                 fontsize=10)
    fig.tight_layout()
    return save_figure(fig, stem)


def granularity_chart(results: Results, kind: str, stem: Path) -> list[Path] | None:
    """Speedup of every strategy against the serial time of one task, one panel per
    workload of this kind of work, each point with its 95% interval; the band is where
    processes start to beat threads (or, for IO, stop losing to them)."""
    names = [w for w in granularity.workloads(results)
             if next(c.kind for c in results.cells if c.workload == w) == kind]
    if not names:
        return None
    usable = results.usable_cpus
    cols = min(2, len(names))
    rows = math.ceil(len(names) / cols)
    fig = new_figure(figsize=(5.4 * cols, 3.8 * rows))
    for i, w in enumerate(names):
        ax = fig.add_subplot(rows, cols, i + 1)
        pts = granularity.points(results, w)
        labels = granularity.labels(results, w)
        models = {label: p.cells[label].model for p in pts for label in p.cells}
        style = _style_for(labels, models)
        for label in labels:
            mine = [(p.task_s * 1000, p.cells[label]) for p in pts
                    if label in p.cells and p.cells[label].speedup is not None]
            if not mine:
                continue
            xs = [x for x, _ in mine]
            ys = [c.speedup_value for _, c in mine]
            err = [[max(0.0, c.speedup_value - c.speedup_ci95[0]) if c.speedup_ci95 else 0.0
                    for _, c in mine],
                   [max(0.0, c.speedup_ci95[1] - c.speedup_value) if c.speedup_ci95 else 0.0
                    for _, c in mine]]
            ax.errorbar(xs, ys, yerr=err, label=label, linewidth=1.3, markersize=4,
                        capsize=2, elinewidth=0.8, **style[label])
        ax.axhline(1.0, color=AXIS, linewidth=0.8)
        if usable > 1:
            ax.axhline(usable, color=GUIDE, linewidth=0.8, linestyle=":")
        cross = granularity.main_crossover(results, w)
        low, high = cross.bracket
        if cross.status == "crosses" and high is not None:
            a = (low if low is not None else pts[0].task_s) * 1000
            b = high * 1000
            ax.axvspan(min(a, b), max(a, b), color=BAND, alpha=0.25, linewidth=0,
                       label=f"{cross.claim}: crossover")
        ax.set_xscale("log")
        ax.set_yscale("log", base=2)
        ax.yaxis.set_major_formatter(formatter(lambda v, _: f"{v:g}×"))
        ax.set_title(w, fontsize=10)
        ax.set_xlabel("serial time per task (ms)", fontsize=8)
        ax.set_ylabel(f"speedup at {results.plan.granularity_workers if results.plan else '?'}"
                      " workers (×)", fontsize=8)
        ax.grid(True, alpha=0.3, which="both")
        if i == 0:
            ax.legend(fontsize=6, ncol=2)
    fig.suptitle(f"{kind}: speedup against task size, every strategy at the usable CPUs "
                 "(95% intervals; dotted: the CPUs)", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, stem)


def _task_size_charts(results: Results, out: Path) -> dict[str, list[Path]]:
    found = task_size_chart(results, out / "task-size")
    return {"task-size": found} if found else {}


def _granularity_charts(results: Results, out: Path) -> dict[str, list[Path]]:
    charts = {}
    for kind in KINDS:
        found = granularity_chart(results, kind, out / f"granularity-{kind}")
        if found:
            charts[f"granularity-{kind}"] = found
    return charts


def _overview_charts(results: Results, out: Path) -> dict[str, list[Path]]:
    ok = any(c.ok for c in results.cells)
    return {"overview": overview_chart(results, out / "overview")} if ok else {}


def _workload_charts(results: Results, out: Path) -> dict[str, list[Path]]:
    return {workload_chart(w): speedup_chart(results, w, out / f"speedup-{w}")
            for w in results.workloads()
            if any(c.speedup is not None and c.strategy != "serial"
                   for c in results.cells_of(w))}


ChartMaker = Callable[[Results, Path], dict[str, list[Path]]]

# The run's charts, in order: each maker draws the charts it applies to and returns them
# by key (a section finds its chart in ``charts`` by that key); a plug-in appends one.
CHARTS: list[ChartMaker] = [_task_size_charts, _granularity_charts, _overview_charts,
                            _workload_charts]


def write_charts(results: Results, out: Path) -> dict[str, list[Path]]:
    """Every chart of a run (``CHARTS``): ``speedup-<workload>``, ``overview`` and, with a
    task-size or granularity sweep, ``task-size`` and ``granularity-<kind>``."""
    out.mkdir(parents=True, exist_ok=True)
    charts: dict[str, list[Path]] = {}
    for maker in CHARTS:
        for key, paths in maker(results, out).items():
            if key in charts:
                raise ValueError(f"two charts under one key: {key!r}")
            charts[key] = paths
    return charts
