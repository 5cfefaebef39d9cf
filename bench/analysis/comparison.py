"""Several runs side by side: what ``gilbench compare`` and the interpreter matrix decide.

Typed answers, no words: each machine's best and fastest cell per workload, its time
and speedup relative to the baseline (``relative_changes``, bootstrap intervals from
``significance``), the workloads whose threads-or-processes answer surely flips
between machines (``flipped_workloads``), flips by the point estimates alone
(``within_noise``), the machines that cannot tell (``undecided``) and the workloads a
machine lacks (``missing``). ``bench.report.compare`` renders them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from gilbench.bench.analysis.cells import best_of_model, headline, serial_cell
from gilbench.bench.analysis.significance import (
    Change,
    Pair,
    bootstrappable,
    geometric_mean_change,
    speedup_change,
    time_change,
)
from gilbench.bench.analysis.verdicts import TIE_RATIO, duel_of
from gilbench.bench.errors import UserError
from gilbench.bench.results import Cell, Results, load

FIGURES = ("time", "speedup")  # what relative_changes compares, in this order


@dataclass(frozen=True)
class Run:
    """One side of a comparison: a results file under its label."""

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
                          if c.strategy != "serial"), self.results.usable_cpus)
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
    """The results files given to ``gilbench compare`` (read, never written), each with
    its label (``--labels``, else its own: ``default_label``; a repeat gets ``#2``)."""
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
    """The run labelled ``baseline`` (the first run without one), or a one-line refusal."""
    if baseline is None:
        return runs[0]
    for r in runs:
        if r.label == baseline:
            return r
    raise UserError(f"--baseline '{baseline}' is not one of the labels: "
                    f"{', '.join(r.label for r in runs)}")


def all_workloads(runs: list[Run]) -> list[str]:
    return list(dict.fromkeys(w for r in runs for w in r.results.workloads()))


def common_workloads(runs: list[Run]) -> list[str]:
    return [w for w in all_workloads(runs)
            if all(r.fastest(w) is not None for r in runs)]


def same_work(runs: list[Run], workload: str) -> bool:
    """Absolute times compare only when every machine did the same work."""
    shapes = {(c.size, c.tasks) for r in runs for c in r.results.cells_of(workload)}
    return len(shapes) == 1


@dataclass(frozen=True)
class NotCompared:
    """A workload whose figures are (partly) left uncompared, and why: ``sizes``, the
    runs' task sizes differ, so nothing is compared (a speedup depends on the task size);
    ``counts``, their task counts differ, so only speedups are."""

    workload: str
    why: Literal["sizes", "counts"]


@dataclass
class RelativeChanges:
    """Per workload, machine (label) and figure (``FIGURES``): the change against the
    baseline; per machine and figure, their geometric mean; the workloads left out."""

    per: dict[str, dict[str, dict[str, Change]]] = field(default_factory=dict)
    geo: dict[str, dict[str, Change]] = field(default_factory=dict)
    not_compared: list[NotCompared] = field(default_factory=list)


def _pair(a: Cell | None, b: Cell | None, base: Run, run: Run, w: str) -> Pair | None:
    if a is None or b is None:
        return None
    return Pair(a, b, serial_cell(base.results, w), serial_cell(run.results, w))


def relative_changes(runs: list[Run], base: Run) -> RelativeChanges:
    """Per workload and machine, its time and speedup relative to the baseline, with
    bootstrap intervals; per machine, their geometric means.

    time: the baseline's fastest cell against this machine's fastest (only where both
    did the same work); speedup: this machine's best cell's speedup ÷ the baseline's.
    """
    out = RelativeChanges()
    pairs: dict[str, dict[str, list[Pair]]] = {r.label: {k: [] for k in FIGURES}
                                               for r in runs}
    for w in common_workloads(runs):
        comparable = same_work(runs, w)
        if len({r.results.main_size(w) for r in runs if r.results.cells_of(w)}) > 1:
            # A speedup depends on the task size (bench.analysis.granularity): a difference
            # between tasks of different sizes is not a change of the machine.
            out.not_compared.append(NotCompared(w, "sizes"))
            out.per[w] = {r.label: {} for r in runs if r is not base}
            continue
        if not comparable:
            out.not_compared.append(NotCompared(w, "counts"))
        out.per[w] = {}
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
            out.per[w][r.label] = found
    for r in runs:
        if r is not base:
            out.geo[r.label] = {}
            for key in FIGURES:
                g = geometric_mean_change(pairs[r.label][key], key)
                if g is not None:
                    out.geo[r.label][key] = g
    return out


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
    processes (significant on both)."""
    return [w for w in all_workloads(runs)
            if {"threads", "processes"} <= {winner for winner, _ in answers(runs, w).values()}]


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


def within_noise(runs: list[Run]) -> list[tuple[str, dict[str, str]]]:
    """The workloads whose point estimates say threads on one machine and processes on
    another, while the intervals do not call it a flip on both, each with the point
    answer per machine that gives one."""
    flipped = set(flipped_workloads(runs))
    out = []
    for w in all_workloads(runs):
        if w in flipped:
            continue
        said = {r.label: point_answer(r, w) for r in runs if r.results.cells_of(w)}
        if {"threads", "processes"} <= set(said.values()):
            out.append((w, {label: a for label, a in said.items() if a}))
    return out


def undecided(runs: list[Run]) -> list[tuple[str, list[str]]]:
    """The workloads on which some machine cannot tell threads from processes, each with
    the labels of those machines."""
    out = []
    for w in all_workloads(runs):
        unsure = [label for label, (winner, _) in answers(runs, w).items() if winner is None]
        if unsure:
            out.append((w, unsure))
    return out


def missing(runs: list[Run]) -> dict[str, list[str]]:
    """Per machine (label), the workloads another machine measured and it has no result
    for (left out of its geometric mean); machines that lack none are not listed."""
    every = all_workloads(runs)
    out = {}
    for r in runs:
        lacks = [w for w in every if r.fastest(w) is None]
        if lacks:
            out[r.label] = lacks
    return out
