"""Hardware comparison: several results files, one report a colleague can decide from.

Any mix of gilbench results.json and pytest-benchmark JSON files. The report
has a system table (rows that differ highlighted), each workload's speedup
curves of every machine overlaid, each machine's best strategy, performance
relative to a baseline with a geometric mean, sentences where the
recommendation flips between machines, and the noisy or failed cells.

As a run's report, it is an ordered list of sections (``SECTIONS``): a section is a
function ``(comparison, charts) -> list[Block]`` that returns no blocks when it does not
apply; adding one is one function and one entry in the list. What the report says is
decided in ``bench.analysis.comparison``; this module puts it in words and charts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gilbench.bench.analysis import TIE_RATIO, serial_cell
from gilbench.bench.analysis.cells import task_s
from gilbench.bench.analysis.comparison import (
    NotCompared,
    Run,
    all_workloads,
    answers,
    common_workloads,
    flipped_workloads,
    missing,
    relative_changes,
    same_work,
    undecided,
    within_noise,
)
from gilbench.bench.analysis.matrix import KindAnswer
from gilbench.bench.analysis.significance import Change
from gilbench.bench.files import write_text
from gilbench.bench.fmt import fmt_machine, fmt_s, fmt_speedup
from gilbench.bench.report import freethreading, matrix
from gilbench.bench.report.compare_charts import compare_charts
from gilbench.bench.report.document import (
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
from gilbench.bench.serialcost import SerialRuns

SYSTEM_ROWS = (
    ("CPU model", "cpu_model"), ("usable CPUs", "usable_cpus"),
    ("logical CPUs", "logical_cpus"), ("physical cores", "physical_cores"),
    ("memory", "memory_bytes"), ("OS", "os"), ("Python", "python_version"),
    ("implementation", "python_implementation"), ("free-threaded build", "free_threaded_build"),
    ("GIL enabled", "gil_enabled"), ("start method", "default_start_method"),
)


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


def _changes_text(found: dict[str, Change]) -> str:
    return ", ".join(f"{key} {found[key].text()}" for key in ("time", "speedup")
                     if key in found) or "—"


def not_compared_text(runs: list[Run], n: NotCompared) -> str:
    if n.why == "sizes":
        return (f"{n.workload}: the runs' task sizes differ ({task_sizes_text(runs, n.workload)}), "
                "so neither times nor speedups are compared: the difference would mix the "
                "machine with the task size.")
    return (f"{n.workload}: the runs used different task counts, so only speedups are "
            "compared, not times.")


def relative_table(runs: list[Run], base: Run) -> tuple[Table, list[str]]:
    """Per workload and machine: how much faster than the baseline, by time and by
    speedup, each with its 95% bootstrap interval and whether it is significant; and
    the notes on the workloads left uncompared."""
    rel = relative_changes(runs, base)
    others = [r for r in runs if r is not base]
    rows = [(w, *[_changes_text(rel.per[w].get(r.label, {})) for r in others])
            for w in rel.per]
    rows.append(("geometric mean", *[_changes_text(rel.geo[r.label]) for r in others]))
    return (Table(("workload", *[f"{r.label} vs {base.label}" for r in others]), tuple(rows),
                  frozenset({len(rows) - 1})),
            [not_compared_text(runs, n) for n in rel.not_compared])


def main_table(runs: list[Run], base: Run) -> Table:
    """The table `compare` prints: each machine's best cell per workload, and each
    machine's speedup and time relative to the baseline, marked as pyperf marks them."""
    rel = relative_changes(runs, base)
    per, geo = rel.per, rel.geo
    others = [r for r in runs if r is not base]
    headers = ["workload", *[f"best on {r.label}" for r in runs]]
    for r in others:
        headers += [f"speedup {r.label} vs {base.label}", f"time {r.label} vs {base.label}"]
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


def flips(runs: list[Run], bold: bool = True) -> list[str]:
    """Sentences for the workloads whose threads-or-processes answer surely differs:
    one machine's intervals say threads, another's processes (significant on both).
    Markdown marks the workload and the machines in bold; ``bold=False``: plain words."""
    def b(text: str) -> str:
        return f"**{text}**" if bold else text

    out = []
    for w in flipped_workloads(runs):
        found = answers(runs, w)
        parts = [f"on {b(label)} {v}" for label, (_, v) in found.items()]
        out.append(f"{b(w)}: the answer flips between threads and processes — "
                   + "; ".join(parts) + ".")
    return out


def within_noise_text(runs: list[Run]) -> list[str]:
    """``within_noise`` in words, a line per workload."""
    return [f"{w}: " + ", ".join(f"{a} on {label}" for label, a in said.items())
            + " by the point estimates — within noise (not significant on both)"
            for w, said in within_noise(runs)]


def undecided_text(runs: list[Run]) -> list[str]:
    """The workloads on which some machine cannot tell threads from processes."""
    return [f"{w} (on {', '.join(unsure)})" for w, unsure in undecided(runs)]


def missing_text(runs: list[Run]) -> list[str]:
    return [f"{label} has no result for: {', '.join(lacks)} (left out of the geometric mean)."
            for label, lacks in missing(runs).items()]


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
    flipped, unsure, noise = flips(runs), undecided_text(runs), within_noise_text(runs)
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
        "As pyperf says it, each change is a factor of at least 1× with its direction: time "
        "*1.20× slower* (this machine's fastest median is 1.20 times the baseline's), "
        "speedup *1.10× lower* (this machine's best speedup is the baseline's ÷ 1.10). "
        "[low–high] is a 95% interval of that factor, bootstrapped from both runs' stored "
        "times "
        "(each cell's rounds resampled as pairs); *not significant* where it contains 1, "
        f"*same within {TIE_RATIO - 1:.0%}* where it fits inside ±{TIE_RATIO - 1:.0%}. "
        "Each machine's best cell is its own pick, which the interval does not account "
        "for; `--fail-if-slower` compares cell by cell."), rel]
    extra = notes + missing_text(c.runs)
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
