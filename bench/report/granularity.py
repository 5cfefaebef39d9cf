"""The granularity sweep in a report: one chart per kind of work, and per workload the
task sizes where each way starts to pay, with the brackets they were read from
(``bench.analysis.granularity``)."""

from __future__ import annotations

from pathlib import Path

from gilbench.bench.analysis import granularity
from gilbench.bench.fmt import fmt_s, fmt_speedup
from gilbench.bench.kinds import KINDS
from gilbench.bench.report.document import Block, Bullets, Heading, Image, Para, Table
from gilbench.bench.results import Results


def blocks(results: Results, charts: dict[str, list[Path]]) -> list[Block]:
    names = granularity.workloads(results)
    if not names:
        return []
    plan = results.plan
    n = plan.granularity_workers if plan else results.usable_cpus
    out: list[Block] = [Heading("Granularity: from which task size each way pays"), Para(
        f"The same strategies on tasks from about 0.1 ms to about 100 ms (`--suite "
        f"granularity`), each at {n} worker{'s' if n != 1 else ''} (the usable CPUs). A "
        "process pays for every task it is sent (pickling, a trip through a pipe, a "
        "scheduler's bookkeeping) and a thread does not, so below some task size processes "
        "lose even on work the GIL serialises. x: the serial time of one task; y: speedup "
        "over serial on the same tasks, with its 95% interval.")]
    for kind in KINDS:
        key = f"granularity-{kind}"
        if key in charts:
            out.append(Image(charts[key][0], f"{kind}: speedup against task size"))
    for w in names:
        found = granularity.crossovers(results, w)
        main, rest = found[0], found[1:]
        out.append(Para(f"**{w}**: {main.claim} {main.text()}."))
        out.append(Bullets(tuple(f"{c.claim}: {c.text()}" for c in rest)))
        out.append(_table(results, w))
    out.append(Para(granularity.RULE))
    return out


def _table(results: Results, workload: str) -> Table:
    pts = granularity.points(results, workload)
    names = granularity.labels(results, workload)
    rows = []
    for label in names:
        row = [label]
        for p in pts:
            c = p.cells.get(label)
            if c is None or not c.ok:
                row.append("—" if c is None else c.status)
            else:
                row.append(fmt_speedup(c.speedup, c.speedup_ci95, len(c.times_s)))
        rows.append(tuple(row))
    heads = ("strategy", *[f"tasks of {fmt_s(p.task_s)}" for p in pts])
    return Table(heads, tuple(rows))
