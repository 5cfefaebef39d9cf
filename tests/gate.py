"""The CI gate on identical machines: how often does ``compare --fail-if-slower`` fail
two runs of the same code? A deterministic simulation.

Each comparison makes two results files of ``CELLS`` paired cells (and their serial
cells), every run drawn from the same distributions on both sides: log-normal noise of
``NOISE`` on the serial and the cell runs, ``PAIRS`` rounds a cell (the quick profile's
usual stop). The production ``regressions`` decides (Holm over every change compared,
plus the minimum effect); the old rule (each change alone: its 95% interval below 1
and its point past the threshold) is counted beside it. A comparison fails when the
gate names any cell.

``python -m tests.gate`` prints the table quoted in docs/methodology.md;
``tests/test_significance.py::test_the_gate_passes_identical_runs`` holds the failure
rate to at most 5%.
"""

from __future__ import annotations

import concurrent.futures
import os
from dataclasses import dataclass

import numpy as np

from gilbench.bench.analysis import significance
from gilbench.bench.analysis.significance import cell_changes, regressions
from gilbench.bench.results import Cell, Confirmation, Results, with_speedups

COMPARISONS = 1000
CELLS = 12  # parallel cells a side (each gives a speedup and a time change)
PAIRS = 8
NOISE = 0.05


def _results(rng: np.random.Generator, cells: int, pairs: int, noise: float,
             confirmed: bool = False) -> Results:
    """``confirmed``: each parallel cell is its workload's confirmed headline too (10
    fresh pairs, as the sweep's confirmation measures), which the gate compares as well."""
    out = []
    for w in range(cells):
        serial = np.exp(rng.normal(0, noise, pairs))
        name = f"w{w}"
        out.append(Cell(workload=name, kind="cpu", size=1, tasks=4, strategy="serial",
                        start_method=None, workers=1, status="ok", model="serial",
                        times_s=tuple(np.exp(rng.normal(0, noise, pairs))),
                        median_s=1.0))
        times = 0.5 * np.exp(rng.normal(0, noise, pairs))
        again = (Confirmation(tuple(0.5 * np.exp(rng.normal(0, noise, 10))),
                              tuple(np.exp(rng.normal(0, noise, 10)))) if confirmed else None)
        out.append(Cell(workload=name, kind="cpu", size=1, tasks=4, strategy="process_pool",
                        start_method="fork", workers=2, status="ok", model="processes",
                        times_s=tuple(times), serial_times_s=tuple(serial),
                        median_s=float(np.median(times)), confirmation=again))
    return Results(machine={"usable_cpus": 2}, cells=tuple(with_speedups(out)))


@dataclass(frozen=True)
class Row:
    pct: float
    old: float  # share of comparisons the old rule fails
    new: float  # and the gate
    changes: int  # changes compared per comparison


def _judge(job: tuple[Results, Results, float, int]) -> tuple[int, bool, bool]:
    """One comparison, in a worker: changes compared, and whether the old rule and the
    gate fail it. The bootstrap is seeded per call, so the order of the work does not
    change any answer."""
    a, b, pct, resamples = job
    significance.RESAMPLES = resamples
    changes = cell_changes(a, b)
    found, compared = regressions(a, b, pct)
    return (compared, any(c.change.worse_by_more_than(pct) for c in changes), bool(found))


def simulate(pct: float, comparisons: int = COMPARISONS, seed: int = 0,
             resamples: int = 1000, confirmed: bool = False) -> Row:
    """``resamples``: the bootstrap's, fewer than a real compare's 4000 for speed (the
    gate reads the bootstrap's spread, which 1000 resamples give to about 2%). The runs
    are drawn here, from one stream, and judged on every CPU."""
    rng = np.random.default_rng(seed)
    jobs = [(*(_results(rng, CELLS, PAIRS, NOISE, confirmed) for _ in range(2)), pct,
             resamples) for _ in range(comparisons)]
    with concurrent.futures.ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        judged = list(pool.map(_judge, jobs, chunksize=25))
    old = sum(o for _, o, _ in judged)
    new = sum(n for _, _, n in judged)
    return Row(pct, old / comparisons, new / comparisons, judged[-1][0])


def markdown(rows: list[Row]) -> str:
    lines = ["| --fail-if-slower | changes compared | old rule fails | gate fails |",
             "|---|---|---|---|"]
    lines += [f"| {r.pct:g}% | {r.changes} | {r.old:.1%} | {r.new:.1%} |" for r in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown([simulate(p) for p in (0, 2, 5)]))
    print("with a confirmed headline per workload:")
    print(markdown([simulate(p, confirmed=True) for p in (0, 2, 5)]))
