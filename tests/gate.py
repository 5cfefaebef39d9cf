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
             confirmed: bool = False, phase: float = 0.0) -> Results:
    """``confirmed``: each parallel cell is its workload's confirmed headline too (10
    fresh pairs, as the sweep's confirmation measures), which the gate compares as well.
    ``phase``: the spread between runs that a run's own rounds do not show — each cell
    (and each confirmation, measured at another time) of this run slower or faster by a
    factor exp(N(0, phase)), as a phase of the machine moves one cell in one run."""
    out = []
    for w in range(cells):
        serial = np.exp(rng.normal(0, noise, pairs))
        name = f"w{w}"
        own = np.exp(rng.normal(0, noise, pairs) + rng.normal(0, phase))
        out.append(Cell(workload=name, kind="cpu", size=1, tasks=4, strategy="serial",
                        start_method=None, workers=1, status="ok", model="serial",
                        times_s=tuple(own), median_s=float(np.median(own))))
        times = 0.5 * np.exp(rng.normal(0, noise, pairs) + rng.normal(0, phase))
        again = (Confirmation(tuple(0.5 * np.exp(rng.normal(0, noise, 10)
                                                 + rng.normal(0, phase))),
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
    phase: float = 0.0  # the spread between runs (log scale)
    own: float = 0.0  # the gate on each run's own rounds only (no between-run spread)


def _judge(job: tuple[Results, Results, float, int]) -> tuple[int, bool, bool, bool]:
    """One comparison, in a worker: changes compared, and whether the old rule, the
    gate and the gate on each run's own rounds alone fail it. The bootstrap is seeded per
    call, so the order of the work does not change any answer."""
    a, b, pct, resamples = job
    significance.RESAMPLES = resamples
    changes = cell_changes(a, b)
    found, compared = regressions(a, b, pct)
    own = significance.compared_changes(a, b, between_runs=False)
    return (compared, any(c.change.worse_by_more_than(pct) for c in changes), bool(found),
            bool(regressions(a, b, pct, changes=own)[0]))


def simulate(pct: float, comparisons: int = COMPARISONS, seed: int = 0,
             resamples: int = 1000, confirmed: bool = False, phase: float = 0.0) -> Row:
    """``resamples``: the bootstrap's, fewer than a real compare's 4000 for speed (the
    gate reads the bootstrap's spread, which 1000 resamples give to about 2%). The runs
    are drawn here, from one stream, and judged on every CPU."""
    rng = np.random.default_rng(seed)
    jobs = [(*(_results(rng, CELLS, PAIRS, NOISE, confirmed, phase) for _ in range(2)), pct,
             resamples) for _ in range(comparisons)]
    with concurrent.futures.ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        judged = list(pool.map(_judge, jobs, chunksize=25))
    old = sum(o for _, o, _, _ in judged)
    new = sum(n for _, _, n, _ in judged)
    own = sum(w for _, _, _, w in judged)
    return Row(pct, old / comparisons, new / comparisons, judged[-1][0], phase,
               own / comparisons)


def markdown(rows: list[Row]) -> str:
    lines = ["| --fail-if-slower | between runs | changes compared | old rule fails | "
             "gate, own rounds only | gate fails |", "|---|---|---|---|---|---|"]
    lines += [f"| {r.pct:g}% | {r.phase:.0%} | {r.changes} | {r.old:.1%} | {r.own:.1%} | "
              f"{r.new:.1%} |" for r in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown([simulate(p) for p in (0, 2, 5)]))
    print("with a confirmed headline per workload:")
    print(markdown([simulate(p, confirmed=True) for p in (0, 2, 5)]))
    print("cells moved between the runs (a phase), with confirmed headlines:")
    print(markdown([simulate(p, confirmed=True, phase=f) for f in (0.03, 0.05, 0.10)
                    for p in (0, 10)]))
