"""The version matrix in a comparison of interpreters (a ``gilbench run --python A
--python B ...``): the lead section, its chart and its lines at the end of the run.

It answers the user's question first — which interpreter and which way gets each kind of
work done fastest on this machine — on one scale: time per task relative to the baseline
interpreter's serial loop (``bench.analysis.matrix`` says how the figure and its interval
are made). Then the single-thread cost of every interpreter, GIL builds included, from
the interleaved serial runs. A comparison without those runs (results files of separate
machines) has no such section.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gilbench.bench.analysis.comparison import Run
from gilbench.bench.analysis.matrix import MODELS, KindAnswer, answer
from gilbench.bench.interprecord import InterpreterRecord
from gilbench.bench.kinds import kind_title
from gilbench.bench.report.charts import new_figure, save_figure
from gilbench.bench.report.document import Block, Bullets, Heading, Image, Para, Table
from gilbench.bench.report.palette import AXIS, CPUS, MODEL_STYLE, UNKNOWN
from gilbench.bench.serialcost import SerialRuns, cost


def interpreter_words(run: Run) -> str:
    """What an interpreter is, in a few words: version, build, GIL and JIT."""
    return InterpreterRecord.from_machine(run.results.machine).words()


def lead_table(answers: Sequence[KindAnswer], runs: Sequence[Run], base: str) -> Table:
    rows: list[tuple[str, ...]] = []
    marked = set()
    for a in answers:
        top = a.fastest()
        for r in runs:
            best = a.best.get(r.label)
            if best is None:
                rows.append((a.kind, r.label, "not measured", "—", "—", "—"))
                continue
            own = a.serial.get(r.label)
            if best is top:
                marked.add(len(rows))
            rows.append((a.kind, r.label, best.way, best.text(), f"{best.speedup:.2f}×",
                         "baseline" if r.label == base else own.text() if own else "—"))
    return Table(("kind", "interpreter", "fastest way here",
                  f"time per task ÷ {base}'s serial [95%]", "speedup over its own serial",
                  f"its serial loop ÷ {base}'s"), tuple(rows), frozenset(marked))


def cost_table(runs: Sequence[Run], base: str, serial: Sequence[SerialRuns]) -> Table | None:
    rows = []
    for r in runs:
        if r.label == base:
            rows.append((r.label, interpreter_words(r), "baseline", ""))
            continue
        c = cost(serial, r.label, base)
        if c is None:
            rows.append((r.label, interpreter_words(r), "not measured", ""))
            continue
        rows.append((r.label, interpreter_words(r), c.text() + f" n={c.rounds}",
                     {"slower": "surely slower", "faster": "surely faster"}.get(
                         c.sure or "", "not surely different")))
    if not any(row[2] not in ("baseline", "not measured") for row in rows):
        return None
    return Table(("interpreter", "what it is", f"single thread ÷ {base}'s [95%]", "verdict"),
                 tuple(rows))


def chart(answers: Sequence[KindAnswer], runs: Sequence[Run], base: str,
          stem: Path) -> list[Path]:
    """One panel per kind: each interpreter's fastest way of each model, as time per task
    relative to the baseline's serial loop, with its interval (log scale; left is faster)."""
    height = 1.0 + 0.5 * len(runs) * len(answers) + 0.6 * len(answers)
    fig = new_figure(figsize=(10, height))
    axes = fig.subplots(len(answers), 1, squeeze=False, sharex=True)
    labels = [r.label for r in runs]
    offsets = {m: (i - (len(MODELS) - 1) / 2) * 0.14 for i, m in enumerate(MODELS)}
    seen: set[str] = set()
    lo, hi = 1.0, 1.0
    for ax, a in zip((row[0] for row in axes), answers, strict=True):
        for y, label in enumerate(labels):
            for model, way in a.by_model.get(label, {}).items():
                colour, marker = MODEL_STYLE.get(model, (UNKNOWN, "x"))
                err = None
                if way.low is not None and way.high is not None:
                    err = [[way.point - way.low], [way.high - way.point]]
                    lo, hi = min(lo, way.low), max(hi, way.high)
                lo, hi = min(lo, way.point), max(hi, way.point)
                ax.errorbar([way.point], [y + offsets.get(model, 0)], xerr=err, fmt=marker,
                            color=colour, markersize=6, capsize=3, linewidth=1.2,
                            label=None if model in seen else model)
                seen.add(model)
        top = a.fastest()
        if top is not None:
            ax.axvline(top.point, color=CPUS, linestyle=":", linewidth=1)
        ax.axvline(1.0, color=AXIS, linewidth=0.8)
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.set_ylim(len(labels) - 0.5, -0.5)
        ax.set_title(kind_title(a.kind), fontsize=9, loc="left")
        ax.grid(True, axis="x", alpha=0.3)
    last = axes[-1][0]
    last.set_xscale("log")
    last.set_xlim(lo / 1.3, hi * 1.3)
    ticks = [t for t in (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10, 20)
             if lo / 1.3 <= t <= hi * 1.3]
    last.set_xticks(ticks, [f"{t:g}×" for t in ticks])
    last.minorticks_off()
    last.set_xlabel(f"time per task ÷ {base}'s serial loop (log scale; left is faster; "
                    "bars: 95% intervals)", fontsize=9)
    handles, names = axes[0][0].get_legend_handles_labels()
    for row in axes[1:]:
        h, n = row[0].get_legend_handles_labels()
        handles += [x for x, name in zip(h, n, strict=True) if name not in names]
        names += [name for name in n if name not in names]
    fig.subplots_adjust(top=1 - 0.75 / height, hspace=0.35)
    fig.suptitle("The fastest way through each kind of work, per interpreter and model",
                 y=1 - 0.1 / height, fontsize=10)
    fig.legend(handles, names, loc="upper center", ncol=len(names), fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 1 - 0.3 / height))
    return save_figure(fig, stem)


def answers_of(runs: Sequence[Run], base: str, serial: Sequence[SerialRuns]
               ) -> list[KindAnswer]:
    """The matrix's answers, or none without interleaved serial runs (a comparison of
    separate machines' files)."""
    return answer(runs, base, serial) if serial else []


def charts(answers: Sequence[KindAnswer], runs: Sequence[Run], base: str,
           out: Path) -> list[Path]:
    return chart(answers, runs, base, out / "compare-matrix") if answers else []


def blocks(answers: Sequence[KindAnswer], runs: Sequence[Run], base: str,
           serial: Sequence[SerialRuns], chart_paths: Sequence[Path] = ()) -> list[Block]:
    """The comparison's lead section, or nothing without interleaved serial runs."""
    if not answers:
        return []
    out: list[Block] = [Heading("The fastest way through this work, per interpreter"), Para(
        f"Each interpreter's fastest way through each kind of work, on one scale: its time "
        f"per task ÷ **{base}**'s serial loop for the same work (below 1× is faster than "
        f"{base} in one thread). A speedup over a slow serial loop is no win, so this is the "
        "figure to choose by; the speedup over its own serial loop is beside it. The figure "
        "chains two paired ratios: the interpreters' serial runs, interleaved round by "
        "round, and the way's speedup over its own interpreter's serial runs. [low–high] is "
        "its 95% interval, every interval behind it taken at once (Bonferroni; none when "
        "there are too few rounds); n is the fewest rounds behind it. The fastest way is the "
        "one whose upper end is lowest with each factor's interval at 95% alone (the most it "
        "takes); its interval is widened for that choice: it holds over every way of every "
        "interpreter on the kind at once, so it needs more rounds. "
        "Several workloads of a kind: geometric means. The bold row is the fastest here."),
        lead_table(answers, runs, base),
        Bullets(tuple(a.sentence(base) for a in answers))]
    if chart_paths:
        out.append(Image(chart_paths[0], "time per task by interpreter and model, per kind"))
    costs = cost_table(runs, base, serial)
    if costs is not None:
        out += [Heading("Single-thread cost of each interpreter", 3), Para(
            f"One thread's time for the same pure-Python work ÷ {base}'s, from the serial "
            "runs interleaved across the interpreters (geometric mean over the pure-Python "
            "kernels of the median per-round ratios, with the 95% interval): what a program "
            "that never spreads its work pays or gains by moving."), costs]
    return out


def terminal_lines(runs: Sequence[Run], base: str, serial: Sequence[SerialRuns]) -> list[str]:
    """The lead table for the end of a ``--python`` run (empty without serial runs)."""
    answers = answers_of(runs, base, serial)
    if not answers:
        return []
    lines = [f"The fastest way through this work (time per task ÷ {base}'s serial loop, "
             "95% intervals; below 1× is faster):"]
    table = lead_table(answers, runs, base)
    width = max(len(r.label) for r in runs)
    figure = max(len(row[3]) for row in table.rows) + 2
    way = max(len(row[2]) for row in table.rows) + 2
    for row in table.rows:
        lines.append(f"  {row[0]:<7}{row[1]:<{width + 2}}{row[3]:<{figure}}{row[2]:<{way}}"
                     f"({row[4]} its own serial)")
    lines += ["- " + a.sentence(base) for a in answers]
    costs = cost_table(runs, base, serial)
    if costs is not None:
        lines.append(f"Single-thread cost on pure-Python work (÷ {base}'s):")
        lines += [f"  {row[0]:<{width + 2}}{row[2]:<28}{row[3]}  ({row[1]})"
                  for row in costs.rows]
    return lines
