"""Honest after the choice: how often the headline's "95%" interval covers the true
speedup of the cell it headlines, on the whole path a run takes.

Each trial measures a block of cells of one strategy (worker counts 1..M) with the
production ``BlockMeasurement`` on a fake clock: the shared budget, the alternating
order, the production stopping rule and the early exit of dominated cells
(``_dominated``) all run as in a sweep. The fake strategy's runs take ``SERIAL_S /
speedup`` times noise, the fake serial runs ``SERIAL_S`` times noise of its own size.
Slow phases are autocorrelated: a Markov chain enters a 1.4x-slow phase with
probability 0.05 per run and stays with 0.8 (about five runs), hitting serial and cell
runs alike, as one slow vCPU does.

Then the real selection (``best_by_speedup``) picks the best cell, and:

- **before**: its own sweep interval is the headline (what gilbench did before
  confirmation);
- **after**: the real ``bench.runner.confirm.confirm`` re-measures the finalist in a
  fresh block (fresh noise), and ``headline`` gives the confirmed interval.

What is covered: the median of the finalist's paired-ratio distribution, which for
these multiplicative noises is its true speedup times the median of the noise ratio
(computed from two million draws without drift, as ``tests/coverage.py`` does).

``python -m tests.selection`` prints the table published in docs/methodology.md;
``tests/test_stats.py::test_the_headline_covers_after_the_choice`` holds "after" to at
least ``FLOOR`` in every setting and shows "before" falling below it.
"""

from __future__ import annotations

import concurrent.futures
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gilbench.bench.analysis.cells import best_by_speedup, headline
from gilbench.bench.plan import CellSpec, Precision
from gilbench.bench.profiles import PROFILES
from gilbench.bench.runner.block import measure_block
from gilbench.bench.runner.confirm import confirm, confirm_precision
from gilbench.bench.runner.placement import FREE, Placement
from gilbench.bench.strategies import Strategy

SERIAL_S = 0.025  # one serial run on the fake clock: the quick profile's size
FLOOR = 0.93
TRIALS = 400
WORKLOAD = "sleep"  # its kind (io) has no CPU ceiling: any made-up speedup is physical


@dataclass(frozen=True)
class Setting:
    name: str
    speedups: tuple[float, ...]  # the true speedup of each cell (workers 1..M)
    serial_noise: float = 0.05  # log-normal sigma of a serial run
    cell_noise: float = 0.05  # and of a cell run
    slow_phases: bool = False
    profile: str = "quick"


def _equal(m: int, s: float = 1.9) -> tuple[float, ...]:
    return (s,) * m


SETTINGS = (
    Setting("24 equal cells, 5% noise", _equal(24)),
    Setting("24 equal cells, serial 2% / cell 8%", _equal(24), 0.02, 0.08),
    Setting("24 equal cells, slow phases", _equal(24), 0.03, 0.03, True),
    Setting("8 equal cells, 5% noise, standard", _equal(8), profile="standard"),
    Setting("8 cells 1.0-1.9x, 5% noise", tuple(np.linspace(1.0, 1.9, 8))),
    Setting("8 cells, two at the top, slow phases",
            (1.0, 1.2, 1.4, 1.6, 1.8, 1.85, 1.9, 1.9), 0.03, 0.05, True),
)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Machine:
    """The run times of one trial: every run draws its noise here, in the order run."""

    def __init__(self, rng: np.random.Generator, setting: Setting) -> None:
        self.rng = rng
        self.s = setting
        self.slow = False

    def factor(self, sigma: float) -> float:
        if self.s.slow_phases:
            stay = 0.8 if self.slow else 0.05
            self.slow = bool(self.rng.random() < stay)
        return float(np.exp(self.rng.normal(0, sigma))) * (1.4 if self.slow else 1.0)


def strategies(clock: _Clock, machine: _Machine, setting: Setting
               ) -> dict[str, type[Strategy]]:
    class Fake(Strategy):
        name = "fake"
        model = "processes"

        def map(self, fn: Callable[[Any], Any], items: list[Any], deadline: Any) -> list[Any]:
            speed = setting.speedups[self.workers - 1]
            clock.now += SERIAL_S / speed * machine.factor(setting.cell_noise)
            return list(items)

    class Serial(Fake):
        name = "serial"
        model = "serial"

        def map(self, fn: Callable[[Any], Any], items: list[Any], deadline: Any) -> list[Any]:
            clock.now += SERIAL_S * machine.factor(setting.serial_noise)
            return list(items)

    return {"fake": Fake, "serial": Serial}


def _precision(profile: str) -> Precision:
    p = PROFILES[profile]
    return Precision(p.repeats, p.max_repeats, p.target_ci, p.cell_budget_s)


def truth(setting: Setting, speedup: float, seed: int) -> float:
    """The median of the paired ratio's distribution for a cell of this true speedup
    (noise ratio only; the slow phases hit both runs of a pair alike most of the time,
    and the alternating order cancels the rest's drift to first order)."""
    rng = np.random.default_rng(seed)
    n = 2_000_000
    return float(np.median(speedup * np.exp(rng.normal(0, setting.serial_noise, n))
                           / np.exp(rng.normal(0, setting.cell_noise, n))))


@dataclass(frozen=True)
class Row:
    setting: str
    each: float  # every swept cell's own interval covers its truth (no choice made)
    before: float  # the chosen cell's own sweep interval covers its truth
    after: float  # the confirmed headline's interval covers it
    before_high: float  # share of trials whose chosen point is above its truth
    no_headline: int  # trials with no headline after confirmation
    median_pairs: float  # of the confirmation


def one_trial(rng: np.random.Generator, setting: Setting, truths: dict[float, float]
              ) -> tuple[bool | None, bool | None, bool, int, list[bool]]:
    clock, machine = _Clock(), _Machine(rng, setting)
    strats = strategies(clock, machine, setting)
    specs = [CellSpec(WORKLOAD, "fake", None, w, 1, 2)
             for w in range(1, len(setting.speedups) + 1)]
    precision = _precision(setting.profile)
    options: dict[str, Any] = dict(warmup=0, timeout_s=None, serial=strats["serial"](1),
                                   clock=clock, usable_cpus=64, strategies=strats,
                                   placement=Placement(FREE))  # the same on every machine
    swept = [c for c, _ in measure_block(specs, lambda i: i, None, precision=precision,
                                         **options)]
    each = [c.speedup_ci95[0] <= truths[setting.speedups[c.workers - 1]]
            <= c.speedup_ci95[1] for c in swept if c.speedup_ci95 is not None]
    chosen = best_by_speedup(swept, 64)
    before = None
    high = False
    if chosen is not None and chosen.speedup_ci95 is not None:
        t = truths[setting.speedups[chosen.workers - 1]]
        before = chosen.speedup_ci95[0] <= t <= chosen.speedup_ci95[1]
        high = chosen.speedup_value > t

    def again(chosen_specs: list[CellSpec]) -> list[Any]:
        return measure_block(chosen_specs, lambda i: i, None,
                             precision=confirm_precision(precision), **options)

    by_key = {s.key: s for s in specs}
    done = confirm(swept, lambda c: by_key[c.key], again, 64)
    head = headline([c for _, c in done], 64)
    after = None
    pairs = 0
    if head is not None and head.cell.speedup_ci95 is not None:
        t = truths[setting.speedups[head.cell.workers - 1]]
        after = head.cell.speedup_ci95[0] <= t <= head.cell.speedup_ci95[1]
        pairs = len(head.cell.times_s)
    return before, after, high, pairs, each


def simulate(setting: Setting, trials: int = TRIALS, seed: int = 0) -> Row:
    truths = {s: truth(setting, s, seed + 1) for s in set(setting.speedups)}
    rng = np.random.default_rng(seed)
    before, after, high, pairs, missing, each = [], [], [], [], 0, []
    for _ in range(trials):
        b, a, h, n, e = one_trial(rng, setting, truths)
        each += e
        if b is not None:
            before.append(b)
            high.append(h)
        if a is None:
            missing += 1
        else:
            after.append(a)
            pairs.append(n)
    return Row(setting.name, float(np.mean(each)),
               float(np.mean(before)) if before else float("nan"),
               float(np.mean(after)) if after else float("nan"),
               float(np.mean(high)) if high else float("nan"), missing,
               float(np.median(pairs)) if pairs else 0.0)


def _row(key: tuple[int, int]) -> Row:
    i, trials = key
    return simulate(SETTINGS[i], trials, seed=100 * i)


def table(trials: int = TRIALS) -> list[Row]:
    keys = [(i, trials) for i in range(len(SETTINGS))]
    with concurrent.futures.ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(_row, keys))


def markdown(rows: list[Row]) -> str:
    lines = ["| setting | every cell, no choice | before: the chosen cell's own interval "
             "| its point above the truth | after: confirmed headline | confirmation pairs "
             "(median) |", "|---|---|---|---|---|---|"]
    lines += [f"| {r.setting} | {r.each:.3f} | {r.before:.3f} | {r.before_high:.0%} | "
              f"{r.after:.3f} | {r.median_pairs:g} |" for r in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    import time

    t0 = time.perf_counter()
    rows = table()
    print(markdown(rows))
    print(f"\n{TRIALS} trials a setting, {time.perf_counter() - t0:.0f} s")
