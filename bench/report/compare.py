"""Hardware comparison: several results files, one report a colleague can decide from.

Any mix of gilbench results.json and pytest-benchmark JSON files. The report
has a system table (rows that differ highlighted), each workload's speedup
curves of every machine overlaid, each machine's best strategy, performance
relative to a baseline with a geometric mean, sentences where the
recommendation flips between machines, and the noisy or failed cells.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import stats
from bench.analysis import (
    best_by_speedup,
    best_of_model,
    compare,
    serial_cell,
    usable_cpus,
    workload_verdict,
)
from bench.errors import UserError
from bench.fmt import fmt_machine, fmt_speedup, fmt_x
from bench.report import freethreading
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
)
from bench.results import Cell, Results, load, with_speedups
from bench.singlethread import SerialRuns

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
        """The best decisive cell (the surely highest speedup, within the physics)."""
        return best_by_speedup((c for c in self.results.cells_of(workload)
                                if c.strategy != "serial"), usable_cpus(self.results))

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


def load_runs(paths: Sequence[str], labels: Sequence[str] | None) -> list[Run]:
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
        res = dataclasses.replace(res, cells=tuple(with_speedups(res.cells)))
        label = labels[i] if labels is not None else default_label(res)
        if label in seen:
            if labels is not None:
                raise UserError(f"--labels: '{label}' is given twice; labels must differ")
            seen[label] += 1
            label = f"{label}#{seen[label]}"
        else:
            seen[label] = 1
        runs.append(Run(label, str(path), res))
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


def best_table(runs: list[Run]) -> Table:
    rows = []
    for w in all_workloads(runs):
        row = [w]
        for r in runs:
            b = r.best(w)
            row.append("not run" if not r.results.cells_of(w)
                       else "no cell precise enough" if b is None
                       else f"{fmt_speedup(b.speedup, b.speedup_ci95, len(b.times_s))} "
                            f"{b.label} @{b.workers}")
        rows.append(tuple(row))
    return Table(("workload", *[r.label for r in runs]), tuple(rows))


def same_work(runs: list[Run], workload: str) -> bool:
    """Absolute times compare only when every machine did the same work."""
    shapes = {(c.size, c.tasks) for r in runs for c in r.results.cells_of(workload)}
    return len(shapes) == 1


def relative_table(runs: list[Run], base: Run) -> tuple[Table, list[str]]:
    """Per workload and machine: how much faster than the baseline, by time and by speedup."""
    notes = []
    rows = []
    ratios: dict[str, dict[str, list[float]]] = {r.label: {"time": [], "speedup": []}
                                                  for r in runs}
    for w in common_workloads(runs):
        comparable = same_work(runs, w)
        if not comparable:
            notes.append(f"{w}: the runs used different sizes or task counts, so only "
                         "speedups are compared, not times.")
        row = [w]
        for r in runs:
            fb, fr = base.fastest(w), r.fastest(w)
            bb, br = base.best(w), r.best(w)
            parts = []
            if comparable and fb and fr:
                t = fb.median_value / fr.median_value
                ratios[r.label]["time"].append(t)
                parts.append(f"time {fmt_x(t)}")
            if bb and br:
                s = br.speedup_value / bb.speedup_value
                ratios[r.label]["speedup"].append(s)
                parts.append(f"speedup {fmt_x(s)}")
            row.append(", ".join(parts) or "—")
        rows.append(tuple(row))
    geo = ["geometric mean"]
    for r in runs:
        parts = []
        for key in ("time", "speedup"):
            if ratios[r.label][key]:
                parts.append(f"{key} {fmt_x(stats.geometric_mean(ratios[r.label][key]))}")
        geo.append(", ".join(parts) or "—")
    rows.append(tuple(geo))
    return (Table(("workload", *[r.label for r in runs]), tuple(rows),
                  frozenset({len(rows) - 1})), notes)


def answers(runs: list[Run], workload: str) -> dict[str, tuple[str | None, str]]:
    """Per machine that measured the workload: the sure answer ("threads",
    "processes", "tie"; None: can't tell) and the verdict in words."""
    out: dict[str, tuple[str | None, str]] = {}
    for r in runs:
        if not r.results.cells_of(workload):
            continue
        t = best_of_model(r.results, workload, "threads")
        p = best_of_model(r.results, workload, "processes")
        winner = compare(t, p).winner if t and p else None
        out[r.label] = (winner, workload_verdict(t, p))
    return out


def flips(runs: list[Run]) -> list[str]:
    """Sentences for the workloads whose threads-or-processes answer surely differs:
    one machine's intervals say threads, another's processes."""
    out = []
    for w in all_workloads(runs):
        found = answers(runs, w)
        if {"threads", "processes"} <= {winner for winner, _ in found.values()}:
            parts = [f"on **{label}** {v}" for label, (_, v) in found.items()]
            out.append(f"**{w}**: the answer flips between threads and processes — "
                       + "; ".join(parts) + ".")
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


def build(runs: list[Run], base: Run, charts: dict[str, list[Path]],
          serial: Sequence[SerialRuns] = (), left_out: Sequence[str] = ()) -> list[Block]:
    blocks: list[Block] = [Heading("gilbench comparison: " + " vs ".join(r.label for r in runs), 1)]
    blocks.append(Para(f"Baseline: **{base.label}**. Sources: "
                       + "; ".join(f"{r.label} = `{r.source}`" for r in runs) + "."))
    blocks += freethreading.blocks(runs, serial, left_out)
    blocks += [Heading("Systems"), Para("Rows that differ between the machines are bold."),
               system_table(runs)]
    flipped = flips(runs)
    unsure = undecided(runs)
    blocks += [Heading("Where the answer changes"), Para(
        "An answer changes only when one machine's 95% intervals say threads and another's "
        "say processes; a machine whose intervals cannot separate them counts as neither.")]
    if flipped:
        blocks.append(Bullets(tuple(flipped)))
    elif unsure:
        blocks.append(Para("No workload's answer surely flips; the threads-or-processes "
                           "answer could not be told at these runs' precision for: "
                           + "; ".join(unsure) + "."))
    else:
        blocks.append(Para("The threads-or-processes answer is the same on every machine "
                           "for every workload."))
    rel, notes = relative_table(runs, base)
    blocks += [Heading(f"Relative to {base.label}"), Para(
        "time: the baseline's fastest median ÷ this machine's fastest median (above 1× is "
        "faster); speedup: this machine's best speedup ÷ the baseline's."), rel]
    extra = notes + missing(runs)
    if extra:
        blocks.append(Bullets(tuple(extra)))
    blocks += [Heading("Best strategy per machine"), best_table(runs)]
    if "overview" in charts:
        blocks.append(Image(charts["overview"][0], "best speedup per workload and machine"))
    blocks.append(Heading("Speedup curves, overlaid"))
    blocks.append(Para("One panel per strategy, one colour per machine; the dotted line is "
                       "linear scaling; a dashed vertical line in each machine's colour marks "
                       "its usable CPUs; × marks a failed cell."))
    for w in all_workloads(runs):
        if w in charts:
            blocks += [Heading(w, 3), Image(charts[w][0], f"{w} on every machine")]
    blocks += [Heading("Noise and failures"), Bullets(tuple(quality(runs)))]
    serials = []
    for w in common_workloads(runs):
        found = [serial_cell(r.results, w) for r in runs]
        s = [c for c in found if c is not None]
        if len(s) == len(runs) and same_work(runs, w):
            serials.append((w, *[f"{c.median_value * 1000:.1f} ms" for c in s]))
    if serials:
        blocks += [Heading("Serial times (single-core speed)"),
                   Table(("workload", *[r.label for r in runs]), tuple(serials))]
    return blocks


def write_compare(runs: list[Run], base: Run, out: Path, serial: Sequence[SerialRuns] = (),
                  left_out: Sequence[str] = ()) -> list[Path]:
    """compare.md and compare.html (and their charts) in ``out``; ``serial``: the
    interpreters' interleaved serial runs, where a --python run measured them."""
    out.mkdir(parents=True, exist_ok=True)
    charts = compare_charts([(r.label, r.results) for r in runs], out)
    blocks = build(runs, base, charts, serial, left_out)
    md, page = out / "compare.md", out / "compare.html"
    md.write_text(render_markdown(blocks, out), encoding="utf-8")
    page.write_text(render_html(blocks, "gilbench comparison"), encoding="utf-8")
    return [md, page] + [p for ps in charts.values() for p in ps]
