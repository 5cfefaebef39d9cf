"""How often "threads or processes" is decided, and decided wrongly, on the path a verdict
takes: the two finalists measured in one confirmation block by the production
``BlockMeasurement`` (``confirm_precision`` of the profile, the alternating order, the
stopping rule) on a fake clock, made headlines by the production ``confirmed``, looked at
again where undecided by the production ``decide.follow_up`` (its error split between the
looks: ``DUEL_ALPHAS``) and judged by the production ``verdicts.duel`` — from their direct
paired ratio. ``budget_s=0`` gives one look at 5%, the rule before the second look.

The true difference: processes' speedup is threads' times 1 + d. Noise, per run:
log-normal 5%; heavy-tailed (Student t with 2 degrees of freedom, 3% scale, clipped at
±60%); one-sided phases (a Markov chain of 1.4x-slow phases of about five rounds that
hits only the processes cell's runs, on 3% log-normal noise).

What is right: at d = 0 "tie"; at d = 5% (the band's edge) "tie" or "processes"; at 10%
and 25% "processes". "Threads" is always wrong, and so is "tie" from 10% on. Coverage: how
often the paired range holds the true median of the per-round ratio (from two million
draws of the same noise).

``python -m tests.decisions`` prints the table in docs/methodology.md;
``tests/test_stats.py::test_verdicts_decide_and_are_seldom_wrong`` holds it.
"""

from __future__ import annotations

import concurrent.futures
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gilbench.bench.analysis.verdicts import duel
from gilbench.bench.plan import CellSpec, Precision
from gilbench.bench.profiles import DEFAULT_PROFILE, PROFILES
from gilbench.bench.runner.block import measure_block
from gilbench.bench.runner.confirm import confirm_precision, confirmed
from gilbench.bench.runner.decide import DUEL_ALPHAS, Budget, follow_up
from gilbench.bench.runner.placement import FREE, Placement
from gilbench.bench.strategies import Strategy

SERIAL_S = 0.025
THREADS_X = 1.6  # threads' true speedup; processes' is this times 1 + d
DIFFERENCES = (0.0, 0.05, 0.10, 0.25)
TRIALS = 300
WORKLOAD = "sleep"  # io: no CPU ceiling, so any made-up speedup is physical


def _lognormal(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.exp(rng.normal(0, 0.05, n))


def _heavy(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.exp(np.clip(0.03 * rng.standard_t(2, n), -0.6, 0.6))


@dataclass(frozen=True)
class Noise:
    name: str
    draw: Callable[[np.random.Generator, int], np.ndarray]
    one_sided_phases: bool = False
    breaks: str | None = None  # why it is shown and not held (as in tests/coverage.py)


NOISES = (Noise("log-normal 5%", _lognormal), Noise("heavy tails (t2, 3%)", _heavy),
          Noise("slow phases on one side (3%)",
                lambda rng, n: np.exp(rng.normal(0, 0.03, n)), True,
                breaks="rounds not independent: phases of about five rounds on one side make "
                       "20 rounds carry the evidence of a few; the interval, which assumes "
                       "independent rounds, is too narrow (what the measurement must "
                       "remove: the issue 'The harness out of the measurement')"))


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Machine:
    def __init__(self, rng: np.random.Generator, noise: Noise) -> None:
        self.rng, self.noise, self.slow = rng, noise, False

    def factor(self, phased: bool) -> float:
        f = float(self.noise.draw(self.rng, 1)[0])
        if phased and self.noise.one_sided_phases:
            self.slow = bool(self.rng.random() < (0.8 if self.slow else 0.1))
            f *= 1.4 if self.slow else 1.0
        return f


def _strategies(clock: _Clock, machine: _Machine, d: float) -> dict[str, type[Strategy]]:
    class Threads(Strategy):
        name = "fake_threads"
        model = "threads"

        def map(self, fn: Callable[[Any], Any], items: list[Any], deadline: Any) -> list[Any]:
            clock.now += SERIAL_S / THREADS_X * machine.factor(False)
            return list(items)

    class Processes(Threads):
        name = "fake_processes"
        model = "processes"

        def map(self, fn: Callable[[Any], Any], items: list[Any], deadline: Any) -> list[Any]:
            clock.now += SERIAL_S / (THREADS_X * (1 + d)) * machine.factor(True)
            return list(items)

    class Serial(Threads):
        name = "serial"
        model = "serial"

        def map(self, fn: Callable[[Any], Any], items: list[Any], deadline: Any) -> list[Any]:
            clock.now += SERIAL_S * machine.factor(False)
            return list(items)

    return {"fake_threads": Threads, "fake_processes": Processes, "serial": Serial}


def truth(noise: Noise, d: float, seed: int) -> float:
    """The median of the per-round ratio threads' speedup ÷ processes' (processes' time ÷
    threads'), from two million rounds of the noise (the phases' own chain included)."""
    rng = np.random.default_rng(seed)
    n = 2_000_000
    p = noise.draw(rng, n)
    if noise.one_sided_phases:
        u = rng.random(n)
        slow = np.zeros(n, dtype=bool)
        for i in range(1, n):  # the chain as _Machine runs it
            slow[i] = u[i] < (0.8 if slow[i - 1] else 0.1)
        p = p * np.where(slow, 1.4, 1.0)
    return float(np.median(p / (1 + d) / noise.draw(rng, n)))


@dataclass(frozen=True)
class Row:
    noise: str
    d: float
    decided: float  # a winner or a tie
    wrong: float
    coverage: float
    pairs: float  # median paired rounds
    one_look: float = math.nan  # decided with one look at 5% (no second look), same draws


def _right(winner: str | None, d: float) -> bool | None:
    """Whether a decided answer is right (None: not decided)."""
    if winner is None:
        return None
    if winner == "threads":
        return False
    if winner == "tie":
        return d <= 0.05
    return d >= 0.05


def one_trial(rng: np.random.Generator, noise: Noise, d: float, precision: Precision,
              budget_s: float = math.inf) -> tuple[str | None, tuple[float, float], int]:
    """One run's verdict: the confirmation block, then, where it left the duel undecided
    and ``budget_s`` allows, the production second look (``bench.runner.decide``)."""
    clock, machine = _Clock(), _Machine(rng, noise)
    strats = _strategies(clock, machine, d)
    specs = [CellSpec(WORKLOAD, name, None, 2, 1, 2) for name in ("fake_threads",
                                                                  "fake_processes")]
    options: dict[str, Any] = dict(warmup=0, timeout_s=None, clock=clock, usable_cpus=64,
                                   strategies=strats, placement=Placement(FREE))
    measured = measure_block(specs, lambda i: i, None, precision=confirm_precision(precision),
                             serial=strats["serial"](1), **options)
    alphas = DUEL_ALPHAS if budget_s > 0 else ()
    cells = [confirmed(c, c, alphas) for c, _ in measured]
    by_name = {s.strategy: s for s in specs}
    again = follow_up(
        cells, lambda c: by_name[c.strategy],
        lambda chosen, p: measure_block(chosen, lambda i: i, None, precision=p, serial=None,
                                        **options),
        64, precision.budget_s, Budget(budget_s), clock)
    if again:
        cells = [c for _, c in again]
    c = duel(cells, 64).comparison
    assert c is not None
    return c.winner, (c.low, c.high), c.pairs


def simulate(noise: Noise, d: float, trials: int = TRIALS, seed: int = 0,
             profile: str = DEFAULT_PROFILE, budget_s: float = math.inf,
             against_one_look: bool = False) -> Row:
    p = PROFILES[profile]
    precision = Precision(p.repeats, p.max_repeats, p.target_ci, p.cell_budget_s)
    true = truth(noise, d, seed + 1)
    rng = np.random.default_rng(seed)
    decided = wrong = covered = 0
    pairs = []
    for _ in range(trials):
        winner, (lo, hi), n = one_trial(rng, noise, d, precision, budget_s)
        right = _right(winner, d)
        decided += right is not None
        wrong += right is False
        covered += lo <= true <= hi
        pairs.append(n)
    one = (simulate(noise, d, trials, seed, profile, budget_s=0).decided
           if against_one_look else math.nan)
    return Row(noise.name, d, decided / trials, wrong / trials, covered / trials,
               float(np.median(pairs)), one)


def _row(key: tuple[int, int, int]) -> Row:
    n, i, trials = key
    return simulate(NOISES[n], DIFFERENCES[i], trials, seed=10 * n + i, against_one_look=True)


def table(trials: int = TRIALS) -> list[Row]:
    keys = [(n, i, trials) for n in range(len(NOISES)) for i in range(len(DIFFERENCES))]
    with concurrent.futures.ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(_row, keys))


def markdown(rows: list[Row]) -> str:
    lines = ["| noise | true difference | decided | wrong | coverage | paired rounds (median) "
             "| decided with one look |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r.noise} | {r.d:.0%} | {r.decided:.0%} | {r.wrong:.1%} | "
              f"{r.coverage:.3f} | {r.pairs:g} | {r.one_look:.0%} |" for r in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    import time

    t0 = time.perf_counter()
    print(markdown(table()))
    print(f"\n{TRIALS} trials a row, profile {DEFAULT_PROFILE}, "
          f"{time.perf_counter() - t0:.0f} s")
