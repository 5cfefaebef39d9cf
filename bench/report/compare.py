"""Hardware comparison: several results files, one report a colleague can decide from.

Any mix of gilbench results.json and pytest-benchmark JSON files. The report
has a system table (rows that differ highlighted), each workload's speedup
curves of every machine overlaid, each machine's best strategy, performance
relative to a baseline with a geometric mean, sentences where the
recommendation flips between machines, and the noisy or failed cells.

As a run's report, it is an ordered list of sections (``SECTIONS``): a section is a
function ``(comparison, charts) -> list[Block]`` that returns no blocks when it does not
apply; adding one is one function and one entry in the list.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.analysis import (
    TIE_RATIO,
    best_of_model,
    duel_of,
    headline,
    serial_cell,
    usable_cpus,
)
from bench.analysis.cells import task_s
from bench.analysis.matrix import KindAnswer
from bench.analysis.significance import (
    Change,
    Pair,
    bootstrappable,
    geometric_mean_change,
    speedup_change,
    time_change,
)
from bench.errors import UserError
from bench.files import write_text
from bench.fmt import fmt_machine, fmt_s, fmt_speedup
from bench.report import freethreading, matrix
from bench.report.compare_charts import compare_charts
from bench.report.document import (
    Block,
    Bullets,
    Heading,
    Image,
    Para,
    Table,
    render_html,
    render_markdown,
    workload_chart,
)
from bench.results import Cell, Results, load
from bench.serialcost import SerialRuns

SYSTEM_ROWS = (
    ("CPU model", "cpu_model"), ("usable CPUs", "usable_cpus"),
    ("logical CPUs", "logical_cpus"), ("physical cores", "physical_cores"),
    ("memory", "memory_bytes"), ("OS", "os"), ("Python", "python_version"),
    ("implementation", "python_implementation"), ("free-threaded build", "free_threaded_build"),
    ("GIL enabled", "gil_enabled"), ("start method", "default_start_method"),
)


@dataclass(frozen=True)
class Run:
    label: str
    source: str
    results: Results

    @property
    def machine(self) -> dict:
        return self.results.machine

    def best(self, workload: str) -> Cell | None:
        """The workload's headline over every kind of worker (``headline``: the confirmed
        finalists, or the simultaneous choice), its interval widened for the choice among
        them (no interval where the pairs are too few for that)."""
        found = headline((c for c in self.results.cells_of(workload)
                          if c.strategy != "serial"), usable_cpus(self.results))
        if found is None:
            return None
        return dataclasses.replace(found.cell, speedup_ci95=found.interval())

    def fastest(self, workload: str) -> Cell | None:
        """The ok cell with the lowest median time (serial included)."""
        cells = [c for c in self.results.cells_of(workload) if c.ok and c.median_s]
        return min(cells, key=lambda c: c.median_value, default=None)


def default_label(results: Results) -> str:
    """A --python run's interpreter label; else host, usable CPUs and Python version."""
    if results.run.get("label"):
        return str(results.run["label"])
    m = results.machine
    host = m.get("hostname") or "host"
    return f"{host}-{m.get('usable_cpus', '?')}cpu-py{m.get('python_version', '?')}"


def as_run(label: str, source: str, results: Results) -> Run:
    """One side of a comparison: ``results`` with today's speedups, refused in one line
    when no cell carries the timed runs the intervals are bootstrapped from."""
    results = results.with_speedups()
    if not bootstrappable(results):
        raise UserError(
            f"{source}: no cell carries the timed runs compare bootstraps its intervals "
            "from (a cell's times_s with its paired serial_times_s, or beside a serial "
            "cell's); compare results.json files of gilbench run, or pytest-benchmark "
            "JSON files saved with their data (--benchmark-save-data)")
    return Run(label, source, results)


def load_runs(paths: Sequence[str], labels: Sequence[str] | None) -> list[Run]:
    """The results files given to ``gilbench compare``, each with its label (``--labels``,
    else its own: ``default_label``; a repeat gets ``#2``)."""
    if len(paths) < 2:
        raise UserError("compare needs at least two results files, e.g. "
                        "gilbench compare a/results.json b/results.json")
    if labels is not None and len(labels) != len(paths):
        raise UserError(f"--labels gives {len(labels)} labels for {len(paths)} results files; "
                        "give one label per file")
    runs = []
    seen: dict[str, int] = {}
    for i, path in enumerate(paths):
        res = load(Path(path))
        label = labels[i] if labels is not None else default_label(res)
        if label in seen:
            if labels is not None:
                raise UserError(f"--labels: '{label}' is given twice; labels must differ")
            seen[label] += 1
            label = f"{label}#{seen[label]}"
        else:
            seen[label] = 1
        runs.append(as_run(label, str(path), res))
    return runs


def pick_baseline(runs: list[Run], baseline: str | None) -> Run:
    if baseline is None:
        return runs[0]
    for r in runs:
        if r.label == baseline:
            return r
    raise UserError(f"--baseline '{baseline}' is not one of the labels: "
                    f"{', '.join(r.label for r in runs)}")


# ------------------------------------------------------------ blocks


def system_table(runs: list[Run]) -> Table:
    rows = []
    differ = set()
    for i, (title, key) in enumerate(SYSTEM_ROWS):
        values = [fmt_machine(key, r.machine.get(key)) for r in runs]
        rows.append((title, *values))
        if len(set(values)) > 1:
            differ.add(i)
    extra = {
        "profile": [str(r.results.run.get("profile") or "—") for r in runs],
        "worker counts": [",".join(str(n) for n in sorted({c.workers for c in r.results.cells}))
                          for r in runs],
    }
    for title, values in extra.items():
        rows.append((title, *values))
        if len(set(values)) > 1:
            differ.add(len(rows) - 1)
    return Table(("", *[r.label for r in runs]), tuple(rows), frozenset(differ))


def all_workloads(runs: list[Run]) -> list[str]:
    return list(dict.fromkeys(w for r in runs for w in r.results.workloads()))


def common_workloads(runs: list[Run]) -> list[str]:
    return [w for w in all_workloads(runs)
            if all(r.fastest(w) is not None for r in runs)]


def best_text(run: Run, workload: str) -> str:
    """A machine's best cell on a workload: '1.83× [1.70–2.32] n=10 process_queue @2'."""
    b = run.best(workload)
    if not run.results.cells_of(workload):
        return "not run"
    if b is None:
        return "no cell precise enough"
    return f"{fmt_speedup(b.speedup, b.speedup_ci95, len(b.times_s))} {b.label} @{b.workers}"


def best_table(runs: list[Run]) -> Table:
    rows = [(w, *[best_text(r, w) for r in runs]) for w in all_workloads(runs)]
    return Table(("workload", *[r.label for r in runs]), tuple(rows))


def same_work(runs: list[Run], workload: str) -> bool:
    """Absolute times compare only when every machine did the same work."""
    shapes = {(c.size, c.tasks) for r in runs for c in r.results.cells_of(workload)}
    return len(shapes) == 1


def task_sizes_text(runs: list[Run], workload: str) -> str:
    """Each run's size of the workload and its serial time per task, in words."""
    out = []
    for r in runs:
        serial = serial_cell(r.results, workload)
        if serial is None:
            continue
        t = task_s(serial)
        out.append(f"{r.label}: size {serial.size}"
                   + (f", tasks of about {fmt_s(t)}" if t is not None else ""))
    return "; ".join(out)


def _pair(a: Cell | None, b: Cell | None, base: Run, run: Run, w: str) -> Pair | None:
    if a is None or b is None:
        return None
    return Pair(a, b, serial_cell(base.results, w), serial_cell(run.results, w))


def relative_changes(runs: list[Run], base: Run
                     ) -> tuple[dict[str, dict[str, dict[str, Change]]],
                                dict[str, dict[str, Change]], list[str]]:
    """Per workload and machine, its time and speedup relative to the baseline, with
    bootstrap intervals; per machine, their geometric means; and notes.

    time: the baseline's fastest cell against this machine's fastest (only where both
    did the same work); speedup: this machine's best cell's speedup ÷ the baseline's.
    """
    notes = []
    per: dict[str, dict[str, dict[str, Change]]] = {}
    pairs: dict[str, dict[str, list[Pair]]] = {r.label: {"time": [], "speedup": []}
                                               for r in runs}
    for w in common_workloads(runs):
        comparable = same_work(runs, w)
        sizes = {r.results.main_size(w) for r in runs if r.results.cells_of(w)}
        if len(sizes) > 1:
            # A speedup depends on the task size (bench.analysis.granularity): a difference
            # between tasks of different sizes is not a change of the machine.
            notes.append(f"{w}: the runs' task sizes differ ({task_sizes_text(runs, w)}), so "
                         "neither times nor speedups are compared: the difference would mix "
                         "the machine with the task size.")
            per[w] = {r.label: {} for r in runs if r is not base}
            continue
        if not comparable:
            notes.append(f"{w}: the runs used different task counts, so only speedups are "
                         "compared, not times.")
        per[w] = {}
        for r in runs:
            if r is base:
                continue
            found: dict[str, Change] = {}
            t = _pair(base.fastest(w), r.fastest(w), base, r, w) if comparable else None
            if t is not None:
                pairs[r.label]["time"].append(t)
                found["time"] = time_change(t)
            s = _pair(base.best(w), r.best(w), base, r, w)
            if s is not None:
                pairs[r.label]["speedup"].append(s)
                found["speedup"] = speedup_change(s)
            per[w][r.label] = found
    geo: dict[str, dict[str, Change]] = {}
    for r in runs:
        if r is base:
            continue
        geo[r.label] = {}
        for key in ("time", "speedup"):
            g = geometric_mean_change(pairs[r.label][key], key)
            if g is not None:
                geo[r.label][key] = g
    return per, geo, notes


def _changes_text(found: dict[str, Change]) -> str:
    return ", ".join(f"{key} {found[key].text()}" for key in ("time", "speedup")
                     if key in found) or "—"


def relative_table(runs: list[Run], base: Run) -> tuple[Table, list[str]]:
    """Per workload and machine: how much faster than the baseline, by time and by
    speedup, each with its 95% bootstrap interval and whether it is significant."""
    per, geo, notes = relative_changes(runs, base)
    others = [r for r in runs if r is not base]
    rows = [(w, *[_changes_text(per[w].get(r.label, {})) for r in others]) for w in per]
    rows.append(("geometric mean", *[_changes_text(geo[r.label]) for r in others]))
    return (Table(("workload", *[f"{r.label} vs {base.label}" for r in others]), tuple(rows),
                  frozenset({len(rows) - 1})), notes)


def main_table(runs: list[Run], base: Run) -> Table:
    """The table `compare` prints: each machine's best cell per workload, and each
    machine's speedup and time relative to the baseline, marked as pyperf marks them."""
    per, geo, _ = relative_changes(runs, base)
    others = [r for r in runs if r is not base]
    headers = ["workload", *[f"best on {r.label}" for r in runs]]
    for r in others:
        headers += [f"speedup {r.label} ÷ {base.label}", f"time {r.label} vs {base.label}"]
    rows = []
    for w in all_workloads(runs):
        row = [w, *[best_text(r, w) for r in runs]]
        for r in others:
            found = per.get(w, {}).get(r.label, {})
            row += [found["speedup"].text() if "speedup" in found else "—",
                    found["time"].text() if "time" in found else "—"]
        rows.append(tuple(row))
    row = ["geometric mean", *["" for _ in runs]]
    for r in others:
        row += [geo[r.label]["speedup"].text() if "speedup" in geo[r.label] else "—",
                geo[r.label]["time"].text() if "time" in geo[r.label] else "—"]
    rows.append(tuple(row))
    return Table(tuple(headers), tuple(rows), frozenset({len(rows) - 1}))


def answers(runs: list[Run], workload: str) -> dict[str, tuple[str | None, str]]:
    """Per machine that measured the workload: the sure answer ("threads",
    "processes", "tie"; None: can't tell) and the verdict in words."""
    out: dict[str, tuple[str | None, str]] = {}
    for r in runs:
        if not r.results.cells_of(workload):
            continue
        d = duel_of(r.results, workload)
        out[r.label] = (d.winner, d.text)
    return out


def flipped_workloads(runs: list[Run]) -> list[str]:
    """The workloads on which one machine's intervals say threads and another's
    processes."""
    return [w for w in all_workloads(runs)
            if {"threads", "processes"} <= {winner for winner, _ in answers(runs, w).values()}]


def flips(runs: list[Run]) -> list[str]:
    """Sentences for the workloads whose threads-or-processes answer surely differs:
    one machine's intervals say threads, another's processes (significant on both)."""
    out = []
    for w in flipped_workloads(runs):
        found = answers(runs, w)
        parts = [f"on **{label}** {v}" for label, (_, v) in found.items()]
        out.append(f"**{w}**: the answer flips between threads and processes — "
                   + "; ".join(parts) + ".")
    return out


def point_answer(run: Run, workload: str) -> str | None:
    """Threads or processes by the best cells' point estimates alone (the cells the best
    table shows, without their intervals); None when they are within the tie band."""
    t = best_of_model(run.results, workload, "threads")
    p = best_of_model(run.results, workload, "processes")
    if t is None or p is None:
        return None
    ts, ps = t.speedup_value, p.speedup_value
    if max(ts, ps) <= TIE_RATIO * min(ts, ps):
        return None
    return "threads" if ts > ps else "processes"


def within_noise(runs: list[Run]) -> list[str]:
    """The workloads whose point estimates say threads on one machine and processes on
    another, while the intervals do not call it a flip on both: within noise."""
    flipped = set(flipped_workloads(runs))
    out = []
    for w in all_workloads(runs):
        if w in flipped:
            continue
        said = {r.label: point_answer(r, w) for r in runs if r.results.cells_of(w)}
        if {"threads", "processes"} <= set(said.values()):
            out.append(f"{w}: " + ", ".join(f"{a} on {label}" for label, a in said.items() if a)
                       + " by the point estimates — within noise (not significant on both)")
    return out


def undecided(runs: list[Run]) -> list[str]:
    """The workloads on which some machine cannot tell threads from processes."""
    out = []
    for w in all_workloads(runs):
        unsure = [label for label, (winner, _) in answers(runs, w).items() if winner is None]
        if unsure:
            out.append(f"{w} (on {', '.join(unsure)})")
    return out


def missing(runs: list[Run]) -> list[str]:
    every = all_workloads(runs)
    out = []
    for r in runs:
        lacks = [w for w in every if r.fastest(w) is None]
        if lacks:
            out.append(f"{r.label} has no result for: {', '.join(lacks)} "
                       "(left out of the geometric mean).")
    return out


def quality(runs: list[Run]) -> list[str]:
    out = []
    for r in runs:
        cells = r.results.cells
        noisy = [c for c in cells if c.noisy]
        failed = [c for c in cells if c.status in ("error", "timeout")]
        line = (f"{r.label}: {len(cells)} cells, {len(noisy)} noisy (⚠), {len(failed)} failed"
                + ("" if r.results.complete else ", partial run"))
        if failed:
            line += " — failed: " + "; ".join(f"{c.workload} {c.label} @{c.workers}: {c.status}"
                                              for c in failed[:8])
        if noisy:
            line += " — noisy: " + ", ".join(f"{c.workload} {c.label} @{c.workers}"
                                             for c in noisy[:8])
            line += f" and {len(noisy) - 8} more" if len(noisy) > 8 else ""
        out.append(line)
    return out


@dataclass(frozen=True)
class Comparison:
    """What a comparison report is built from: the runs, the baseline, and a --python
    run's interleaved serial runs (with the workloads left out of them, and why)."""

    runs: list[Run]
    base: Run
    serial: Sequence[SerialRuns] = ()
    left_out: Sequence[str] = ()

    @functools.cached_property
    def matrix(self) -> list[KindAnswer]:
        """The version matrix's answers (none without interleaved serial runs), made once
        for the chart and the section."""
        return matrix.answers_of(self.runs, self.base.label, self.serial)


# A section of the comparison report: a function of the comparison and its charts that
# returns no blocks when it does not apply (as a run report's sections do).
CompareSection = Callable[[Comparison, dict[str, list[Path]]], list[Block]]


def title(c: Comparison, charts: dict[str, list[Path]]) -> list[Block]:
    return [Heading("gilbench comparison: " + " vs ".join(r.label for r in c.runs), 1),
            Para(f"Baseline: **{c.base.label}**. Sources: "
                 + "; ".join(f"{r.label} = `{r.source}`" for r in c.runs) + ".")]


def fastest_way(c: Comparison, charts: dict[str, list[Path]]) -> list[Block]:
    return matrix.blocks(c.matrix, c.runs, c.base.label, c.serial, charts.get("matrix", ()))


def free_threading(c: Comparison, charts: dict[str, list[Path]]) -> list[Block]:
    return freethreading.blocks(c.runs, c.serial, c.left_out)


def systems(c: Comparison, charts: dict[str, list[Path]]) -> list[Block]:
    return [Heading("Systems"), Para("Rows that differ between the machines are bold."),
            system_table(c.runs)]


def answer_changes(c: Comparison, charts: dict[str, list[Path]]) -> list[Block]:
    runs = c.runs
    flipped, unsure, noise = flips(runs), undecided(runs), within_noise(runs)
    blocks: list[Block] = [Heading("Where the answer changes"), Para(
        "An answer changes only when one machine's 95% intervals say threads and another's "
        "say processes; a machine whose intervals cannot separate them counts as neither.")]
    if flipped:
        blocks.append(Bullets(tuple(flipped)))
    if noise:
        blocks += [Para("Within noise (the best cells' point estimates disagree, the "
                        "intervals do not):"), Bullets(tuple(noise))]
    if not flipped and unsure:
        blocks.append(Para("No workload's answer surely flips; the threads-or-processes "
                           "answer could not be told at these runs' precision for: "
                           + "; ".join(unsure) + "."))
    elif not flipped and not noise:
        blocks.append(Para("The threads-or-processes answer is the same on every machine "
                           "for every workload."))
    return blocks


def relative(c: Comparison, charts: dict[str, list[Path]]) -> list[Block]:
    rel, notes = relative_table(c.runs, c.base)
    blocks: list[Block] = [Heading(f"Relative to {c.base.label}"), Para(
        "time: the baseline's fastest median ÷ this machine's fastest median (above 1× is "
        "faster); speedup: this machine's best speedup ÷ the baseline's (above 1× is "
        "higher). [low–high] is a 95% interval bootstrapped from both runs' stored times "
        "(each cell's rounds resampled as pairs); *not significant* where it contains 1, "
        f"*same within {TIE_RATIO - 1:.0%}* where it fits inside ±{TIE_RATIO - 1:.0%}. "
        "Each machine's best cell is its own pick, which the interval does not account "
        "for; `--fail-if-slower` compares cell by cell."), rel]
    extra = notes + missing(c.runs)
    if extra:
        blocks.append(Bullets(tuple(extra)))
    return blocks


def best(c: Comparison, charts: dict[str, list[Path]]) -> list[Block]:
    blocks: list[Block] = [Heading("Best strategy per machine"), best_table(c.runs)]
    if "overview" in charts:
        blocks.append(Image(charts["overview"][0], "best speedup per workload and machine"))
    return blocks


def curves(c: Comparison, charts: dict[str, list[Path]]) -> list[Block]:
    blocks: list[Block] = [Heading("Speedup curves, overlaid"), Para(
        "One panel per strategy, one colour per machine; the dotted line is linear scaling; "
        "a dashed vertical line in each machine's colour marks its usable CPUs; × marks a "
        "failed cell.")]
    for w in all_workloads(c.runs):
        if workload_chart(w) in charts:
            blocks += [Heading(w, 3), Image(charts[workload_chart(w)][0],
                                            f"{w} on every machine")]
    return blocks


def noise_and_failures(c: Comparison, charts: dict[str, list[Path]]) -> list[Block]:
    return [Heading("Noise and failures"), Bullets(tuple(quality(c.runs)))]


def serial_times(c: Comparison, charts: dict[str, list[Path]]) -> list[Block]:
    rows = []
    for w in common_workloads(c.runs):
        found = [serial_cell(r.results, w) for r in c.runs]
        s = [x for x in found if x is not None]
        if len(s) == len(c.runs) and same_work(c.runs, w):
            rows.append((w, *[f"{x.median_value * 1000:.1f} ms" for x in s]))
    if not rows:
        return []
    return [Heading("Serial times (single-core speed)"),
            Table(("workload", *[r.label for r in c.runs]), tuple(rows))]


SECTIONS: list[CompareSection] = [
    title, fastest_way, free_threading, systems, answer_changes, relative, best, curves,
    noise_and_failures, serial_times,
]


def build(runs: list[Run], base: Run, charts: dict[str, list[Path]],
          serial: Sequence[SerialRuns] = (), left_out: Sequence[str] = ()) -> list[Block]:
    """The comparison's blocks: every section of ``SECTIONS``, in order."""
    return sections(Comparison(runs, base, serial, left_out), charts)


def sections(c: Comparison, charts: dict[str, list[Path]]) -> list[Block]:
    return [block for section in SECTIONS for block in section(c, charts)]


def write_compare(runs: list[Run], base: Run, out: Path, serial: Sequence[SerialRuns] = (),
                  left_out: Sequence[str] = ()) -> list[Path]:
    """compare.md and compare.html (and their charts) in ``out``; ``serial``: the
    interpreters' interleaved serial runs, where a --python run measured them."""
    out.mkdir(parents=True, exist_ok=True)
    c = Comparison(runs, base, serial, left_out)
    charts = compare_charts([(r.label, r.results) for r in runs], out)
    lead = matrix.charts(c.matrix, runs, base.label, out)
    if lead:
        charts["matrix"] = lead
    blocks = sections(c, charts)
    md, page = out / "compare.md", out / "compare.html"
    write_text(md, render_markdown(blocks, out))
    write_text(page, render_html(blocks, "gilbench comparison"))
    return [md, page] + [p for ps in charts.values() for p in ps]
