"""A run's report as an ordered list of sections.

A section is a function ``(results, charts) -> list[Block]`` that returns no
blocks when it does not apply (no cells, no cost suite, a GIL build for the
free-threading section). ``SECTIONS`` is the report's order; adding a section is
one function and one entry in that list (or ``SECTIONS.insert``/``append`` from
a plug-in), and ``build`` renders whatever the list holds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import gilbench.bench.report.granularity as granularity
from gilbench.bench.analysis import RULE, failed_entries, gil_on, kind_verdicts, mixed_sides
from gilbench.bench.analysis.verdicts import in_its_words
from gilbench.bench.report.document import Block, Bullets, Heading, Image, Para, Table, contents
from gilbench.bench.report.speedups import (
    Charts,
    findings_table,
    free_threading,
    machine_table,
    machine_warning,
    noise_blocks,
    predates_pairs,
    run_line,
    summary_table,
    task_size_blocks,
    workload_blocks,
)
from gilbench.bench.report.suites import cost_sections
from gilbench.bench.report.verdicts import kind_verdict_lines
from gilbench.bench.results import Results

Section = Callable[[Results, Charts], list[Block]]


def title(results: Results, charts: Charts) -> list[Block]:
    return [Heading(f"gilbench report: {results.machine.get('hostname', '?')}", 1),
            Para(run_line(results))]


def partial_run(results: Results, charts: Charts) -> list[Block]:
    if results.complete:
        return []
    hint = results.run.get("resume_hint")
    how = f"Resume with `{hint}`." if hint else "Run it again to measure the rest."
    return [Para(f"> **Partial run**: it was interrupted; what is below is what finished. {how}")]


def old_file(results: Results, charts: Charts) -> list[Block]:
    text = predates_pairs(results)
    return [Para(f"> **{text}**")] if text else []


def noisy_machine(results: Results, charts: Charts) -> list[Block]:
    text = machine_warning(results)
    return [Para(f"> ⚠ **{text}**")] if text else []


def free_threading_section(results: Results, charts: Charts) -> list[Block]:
    text = free_threading(results)
    return [Heading("Free-threading"), Para(text)] if text else []


def verdicts(results: Results, charts: Charts) -> list[Block]:
    if not results.cells:
        return []
    lines = kind_verdict_lines(kind_verdicts(results))
    return [Heading("Verdicts"), Bullets(tuple(lines))]


def mixed(results: Results, charts: Charts) -> list[Block]:
    """Where mixed work landed (after the table the verdicts come from)."""
    sides = mixed_sides(results) if results.cells else []
    if not sides:
        return []
    return [Para("Mixed work (waiting, then Python work on what came back): the answer "
                 "depends on the ratio of the two, and this is where it landed:"),
            Bullets(tuple(sides))]


def findings_section(results: Results, charts: Charts) -> list[Block]:
    return [Heading("Findings: the article's claims, measured"), Para(
        "Each claim of the seed article (and of the GIL folklore it repeats), the measurement "
        "of this run that tests it, and the verdict."), findings_table(results)]


def summary(results: Results, charts: Charts) -> list[Block]:
    if not results.cells:
        return []
    blocks: list[Block] = [Heading("Summary"), summary_table(results)]
    if "overview" in charts:
        blocks.append(Image(charts["overview"][0], "overview of best speedups"))
    return blocks


def machine(results: Results, charts: Charts) -> list[Block]:
    return [Heading("Machine"), machine_table(results.machine)]


def workloads(results: Results, charts: Charts) -> list[Block]:
    return workload_blocks(results, charts) if results.cells else []


def noise(results: Results, charts: Charts) -> list[Block]:
    return noise_blocks(results) if results.cells else []


def failed_cells(results: Results, charts: Charts) -> list[Block]:
    failed = [c for c in results.cells if c.status != "ok"]
    if not failed:
        return []
    return [Heading("Failed and skipped cells"), Bullets(tuple(
        f"{c.workload} {c.label} @{c.workers}: {c.status} — {c.error}" for c in failed))]


def failed_measurements(results: Results, charts: Charts) -> list[Block]:
    bad = failed_entries(results)
    if not bad:
        return []
    return [Heading("Failed measurements of the cost suites"),
            Bullets(tuple(f"{e.describe()}: {e.status} — {e.error}" for _, e in bad))]


def how_to_read(results: Results, charts: Charts) -> list[Block]:
    return [Heading("How to read this report"), Bullets((
        f"How a verdict is decided — {RULE}",
        "Speedup = the median over the cell's rounds of (the serial run of that round ÷ the "
        "cell's run), for the same total work (strong scaling): results.json keeps both "
        "lists of times (serial_times_s, times_s) to reproduce it. [lo–hi] is its 95% "
        "interval — the k-th smallest to the k-th largest of those n ratios, which covers "
        "the median ratio 95% of the time whatever the noise (none below n=6); n is the "
        "number of pairs.",
        "Best threads / best processes (the Summary's headlines) = each kind of worker's best "
        "cell (the highest lower end of its interval), then measured again after the sweep "
        "with fresh workers and fresh pairs: the figure, its interval and n are that "
        "confirmation's, so the interval covers 95% after the choice (choosing the best of "
        "many flatters its own runs). A file without confirmations pays for the choice with "
        "wider, simultaneous intervals. A cell marked ✗ came out faster than its CPUs (or, "
        "for threads on pure Python under the GIL, 1×) allow, see Noise, and decides "
        "nothing; a cell without paired serial runs (an older file) shows no interval.",
        "The dotted diagonal is ideal linear scaling; the dash-dot vertical line marks the "
        "usable CPUs, past which more workers can only add waiting, not computing.",
        "Thread strategies are blue/dashed, process strategies red/orange/solid. Worker "
        "start-up is measured separately (last table column) and is not in the speedup.",
        "Bold rows hold the workload's best speedup; ⚠ marks a noisy cell (hollow markers in "
        "the charts): see Noise for why.",
        "Serial fraction f: Amdahl's law S(p) = 1 / (f + (1 − f)/p) fitted by least squares to "
        "the curve's points from 2 workers up to the usable CPUs (at least two of them; one "
        "point fits any f); 1/f is the most that strategy could reach "
        "with unlimited cores. Karp–Flatt e = (1/S − 1/p)/(1 − 1/p) at each core count p: "
        "steady e means a truly serial part, e growing with p means an overhead that grows "
        "with the workers (start-up, pickling, contention). More workers stop paying where "
        "the next count gains less than 5%.",
        "CPU use = CPU time of gilbench's process and the cell's workers ÷ wall time ÷ usable "
        "CPUs" + (": the GIL's signature is threads at 1/usable (one CPU busy) however many "
                  "run" if gil_on(results) else "") + ". "
        "Peak MiB: resident memory of gilbench's process during the cell plus each of its "
        "workers' high-water mark (pages a forked worker shares with its parent count in both).",
        "Cost suites: medians are the headline, p99 the tail (the 99th percentile: one "
        "measurement in a hundred is slower). Times read as ns, µs (10⁻⁶ s), ms and s."))]


# The answer first (what to use, then the table it comes from), then the charts, the costs,
# the article's claims, and the methods: a reader has the answer on the first screen.
SECTIONS: list[Section] = [
    title, partial_run, old_file, verdicts, summary, mixed, noisy_machine, free_threading_section,
    workloads, task_size_blocks, granularity.blocks, cost_sections, findings_section, machine,
    noise, failed_cells, failed_measurements, how_to_read,
]
HEAD = (title, partial_run, old_file)  # what comes before the table of contents


def build(results: Results, charts: Charts) -> list[Block]:
    """The report's blocks: every section of ``SECTIONS``, in order, with a table of
    contents after the title (and any partial-run or old-file note)."""
    head = [block for section in SECTIONS if section in HEAD
            for block in section(results, charts)]
    rest = [block for section in SECTIONS if section not in HEAD
            for block in section(results, charts)]
    toc = contents(rest)
    blocks = head + ([toc] if toc.text.count("](#") > 1 else []) + rest
    return [_worded(results, b) for b in blocks]


def _worded(results: Results, block: Block) -> Block:
    """A block with its advice in the words of the file's source (``in_its_words``)."""
    if isinstance(block, Para):
        return Para(in_its_words(results, block.text))
    if isinstance(block, Bullets):
        return Bullets(tuple(in_its_words(results, i) for i in block.items))
    if isinstance(block, Table):
        return dataclasses.replace(block, rows=tuple(
            tuple(in_its_words(results, c) for c in row) for row in block.rows))
    return block
