"""Is a difference between two runs real? Bootstrap intervals from the stored runs.

Two results files (two machines, two interpreters, yesterday and today) are
independent samples. Every relative figure ``compare`` shows — one machine's
speedup ÷ another's, one's time ÷ another's, their geometric mean over workloads —
gets a 95% percentile-bootstrap interval: each file's runs are resampled
independently (a cell's paired rounds stay pairs: the ratio ``serial_i / cell_i`` is
what is resampled), the statistic is recomputed on each resample, and the 2.5th and
97.5th percentiles of its logarithm are the interval. A figure whose interval
contains 1 is *not significant*, in pyperf's and asv's words.

Coverage: at the sample sizes gilbench's cells stop at (6 runs a side and more), the
interval of the ratio of two medians covers the true ratio in at least 95% of
repeated experiments; ``tests/test_significance.py`` simulates it (lognormal, skewed
and outlier-ridden noise). Below ``MIN_RUNS`` runs a side there is no interval (the
range of 3 runs covers a median 75% of the time; docs/methodology.md).

One caution the intervals cannot carry: ``compare`` sets each machine's *best* cell
against the other's, and picking the best of several cells is a selection the
bootstrap does not repeat. The CI gate (``regressions``) therefore compares cell by
cell — the same workload, strategy, start method and worker count on both sides — and
controls the family of those hundreds of tests with Holm's procedure, so that it fails
two runs of the same code at most ``GATE_ALPHA`` of the time (``tests/gate.py``
simulates it). Real runs also differ *between* them more than each run's own rounds
show (a phase of the machine moves one cell in one run); the gate measures that spread
from the comparison itself (``between_run_sd``) and widens every figure by it.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gilbench.bench.analysis.cells import headline_of
from gilbench.bench.analysis.verdicts import TIE_RATIO
from gilbench.bench.results import Cell, Results, serial_by_size

MIN_RUNS = 6  # the fewest runs (or pairs) a side an interval is computed from
RESAMPLES = 4000
SEED = 1729  # fixed: the same files always give the same intervals
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Change:
    """A relative figure, oriented so that above 1 is better for the new side: a time
    ratio is base ÷ new (above 1: faster), a speedup ratio new ÷ base (above 1:
    higher). ``low``/``high``: its 95% interval, None without one."""

    what: str  # "time" or "speedup" (or "geometric mean of ...")
    point: float
    low: float | None = None
    high: float | None = None
    log_sd: float | None = None  # the bootstrap distribution's spread, log scale
    runs: int = 0  # the fewest runs (pairs) either side rests on

    @property
    def p_not_worse(self) -> float:
        """One-sided p-value of "the new side is no worse": the change in bootstrap
        standard errors (log scale), read on Student's t with (fewest runs - 1) degrees
        of freedom. Smooth where the bootstrap's own tail is too coarse for Holm's
        smallest levels (0.025 / hundreds of cells is finer than 1 in 4000 resamples);
        Student's tails, not the normal's, because a bootstrap standard error of a median
        of 6-10 runs is itself uncertain (the normal's tails failed identical runs 2x too
        often at the 0.1% level in tests/gate.py). 1 without an interval."""
        if self.log_sd is None:
            return 1.0
        if self.log_sd == 0:
            return 0.0 if self.point < 1 else 1.0
        return student_cdf(math.log(self.point) / self.log_sd, max(1, self.runs - 1))

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None

    @property
    def significant(self) -> bool:
        """The interval excludes 1 (no interval: not significant)."""
        return self.has_interval and (self.low > 1 or self.high < 1)  # type: ignore[operator]

    @property
    def better(self) -> bool:
        return self.significant and self.point > 1

    @property
    def worse(self) -> bool:
        return self.significant and self.point < 1

    def worse_by_more_than(self, pct: float) -> bool:
        """Surely worse, and by more than ``pct`` percent: new is at least
        (1 + pct/100) times slower (or its speedup that many times lower)."""
        return self.worse and self.point < 1 / (1 + pct / 100)

    def mark(self) -> str:
        """pyperf's and asv's words: 'faster'/'slower' ('higher'/'lower' for a speedup),
        'same within 5%' when the whole interval fits the tie band, 'not significant'
        when it contains 1, 'no interval' with too few runs."""
        if not self.has_interval:
            return "no interval"
        up, down = ("faster", "slower") if "time" in self.what else ("higher", "lower")
        if self.better:
            return up
        if self.worse:
            return down
        assert self.low is not None and self.high is not None
        if self.low >= 1 / TIE_RATIO and self.high <= TIE_RATIO:
            return f"same within {TIE_RATIO - 1:.0%}"
        return "not significant"

    def text(self) -> str:
        """As pyperf words it, the factor always at least 1 and its direction named:
        '1.52× [1.31–1.77] faster', '1.20× [1.10–1.35] slower', '1.02× [0.95–1.10]
        slower, not significant', '1.01× [0.98–1.03] faster, same within 5%'."""
        if not self.has_interval:
            return f"{self.factor()} (no interval: under {MIN_RUNS} runs)"
        assert self.low is not None and self.high is not None
        up, down = ("faster", "slower") if "time" in self.what else ("higher", "lower")
        lo, hi, way = ((self.low, self.high, up) if self.point >= 1
                       else (1 / self.high, 1 / self.low, down))
        said = f"{max(self.point, 1 / self.point):.2f}× [{lo:.2f}–{hi:.2f}] {way}"
        mark = self.mark()
        return said if mark in (up, down) else f"{said}, {mark}"

    def factor(self) -> str:
        """pyperf's way: '1.25× slower', '1.10× lower', '1.05× faster'."""
        up, down = ("faster", "slower") if "time" in self.what else ("higher", "lower")
        return (f"{self.point:.2f}× {up}" if self.point >= 1
                else f"{1 / self.point:.2f}× {down}")


def student_cdf(t: float, df: int) -> float:
    """P(T <= t) for Student's t with an integer number of degrees of freedom: the exact
    finite sums of Abramowitz and Stegun 26.7.3-26.7.4 for A(t|df) = P(|T| <= |t|)."""
    theta = math.atan(abs(t) / math.sqrt(df))
    c2 = math.cos(theta) ** 2
    if df % 2:
        term, total = math.cos(theta), 0.0  # cos θ (1 + 2/3 cos²θ + 2·4/(3·5) cos⁴θ ...)
        for k in range(1, (df - 1) // 2 + 1):
            total += term
            term *= c2 * (2 * k) / (2 * k + 1)
        a = 2 / math.pi * (theta + (math.sin(theta) * total if df > 1 else 0.0))
    else:
        term, total = 1.0, 0.0  # 1 + 1/2 cos²θ + 1·3/(2·4) cos⁴θ ...
        for k in range(1, df // 2 + 1):
            total += term
            term *= c2 * (2 * k - 1) / (2 * k)
        a = math.sin(theta) * total
    a = min(1.0, max(0.0, a))
    return (1 - a) / 2 if t < 0 else (1 + a) / 2


def _rng() -> np.random.Generator:
    return np.random.default_rng(SEED)


def _median_replicates(samples: Sequence[float], rng: np.random.Generator) -> np.ndarray:
    """The median of each of RESAMPLES resamples (with replacement) of ``samples``."""
    x = np.asarray(samples, dtype=float)
    idx = rng.integers(0, len(x), size=(RESAMPLES, len(x)))
    return np.asarray(np.median(x[idx], axis=1))


def runs_of(cell: Cell) -> int:
    """How many runs (pairs, for a paired cell) a cell's figures rest on."""
    return len(cell.times_s)


def _paired(cell: Cell) -> bool:
    return bool(cell.serial_times_s) and len(cell.serial_times_s) == len(cell.times_s)


def speedup_replicates(cell: Cell, serial: Cell | None, rng: np.random.Generator
                       ) -> np.ndarray | None:
    """Log-speedup of each resample: the median paired ratio for a paired cell (the
    rounds resampled as pairs); else the serial cell's median ÷ this cell's, each
    resampled on its own. None below MIN_RUNS or without the serial runs."""
    if cell.strategy == "serial" or not cell.ok or runs_of(cell) < MIN_RUNS:
        return None
    if _paired(cell):
        ratios = np.asarray(cell.serial_times_s, float) / np.asarray(cell.times_s, float)
        return np.log(_median_replicates(ratios, rng))
    if serial is None or len(serial.times_s) < MIN_RUNS:
        return None
    return (np.log(_median_replicates(serial.times_s, rng))
            - np.log(_median_replicates(cell.times_s, rng)))


def time_replicates(cell: Cell, rng: np.random.Generator) -> np.ndarray | None:
    """Log of each resample's median time; None below MIN_RUNS."""
    if not cell.ok or runs_of(cell) < MIN_RUNS:
        return None
    return np.log(_median_replicates(cell.times_s, rng))


def _interval(log_reps: np.ndarray) -> tuple[float, float]:
    tail = (1 - CONFIDENCE) / 2 * 100
    lo, hi = np.percentile(log_reps, [tail, 100 - tail])
    return math.exp(float(lo)), math.exp(float(hi))


def change_from(what: str, point: float, log_reps: np.ndarray | None, runs: int = 0
                ) -> Change:
    if log_reps is None:
        return Change(what, point)
    return Change(what, point, *_interval(log_reps), float(np.std(log_reps)), runs)


@dataclass(frozen=True)
class Pair:
    """The same measurement on both sides, with what its bootstrap needs."""

    base: Cell
    new: Cell
    base_serial: Cell | None = None
    new_serial: Cell | None = None

    @property
    def same_work(self) -> bool:
        return (self.base.size, self.base.tasks) == (self.new.size, self.new.tasks)


def _speedup_reps(p: Pair, rng: np.random.Generator) -> np.ndarray | None:
    b = speedup_replicates(p.base, p.base_serial, rng)
    n = speedup_replicates(p.new, p.new_serial, rng)
    return None if b is None or n is None else n - b


def _time_reps(p: Pair, rng: np.random.Generator) -> np.ndarray | None:
    b, n = time_replicates(p.base, rng), time_replicates(p.new, rng)
    return None if b is None or n is None else b - n


def speedup_change(p: Pair) -> Change:
    """new speedup ÷ base speedup, with its interval."""
    assert p.base.speedup and p.new.speedup
    return change_from("speedup", p.new.speedup / p.base.speedup, _speedup_reps(p, _rng()),
                       min(runs_of(p.base), runs_of(p.new)))


def time_change(p: Pair) -> Change:
    """base median ÷ new median (above 1: new is faster), with its interval."""
    assert p.base.median_s and p.new.median_s
    return change_from("time", p.base.median_s / p.new.median_s, _time_reps(p, _rng()),
                       min(runs_of(p.base), runs_of(p.new)))


def geometric_mean_change(pairs: Sequence[Pair], what: str) -> Change | None:
    """The geometric mean of the pairs' time or speedup ratios, with an interval from
    resampling every cell of both sides at once (None without pairs). Without an
    interval for every pair, the mean carries none."""
    if not pairs:
        return None
    rng = _rng()
    one = _time_reps if what == "time" else _speedup_reps
    points = [(p.base.median_s / p.new.median_s) if what == "time"  # type: ignore[operator]
              else (p.new.speedup / p.base.speedup) for p in pairs]  # type: ignore[operator]
    point = math.exp(sum(math.log(x) for x in points) / len(points))
    reps = [one(p, rng) for p in pairs]
    if any(r is None for r in reps):
        return Change(f"geometric mean of {what}", point)
    mean = np.mean(np.vstack(reps), axis=0)  # type: ignore[arg-type]
    return change_from(f"geometric mean of {what}", point, mean)


# ------------------------------------------------------------ cell by cell


def matched_pairs(base: Results, new: Results) -> list[Pair]:
    """Every ok cell measured on both sides: the same workload, strategy, start method
    and worker count, at each side's main size."""
    bs, ns = serial_by_size(base.cells), serial_by_size(new.cells)
    theirs = {(c.workload, c.strategy, c.start_method, c.workers): c
              for c in new.main_cells if c.ok and c.median_s}
    out = []
    for c in base.main_cells:
        other = theirs.get((c.workload, c.strategy, c.start_method, c.workers))
        if c.ok and c.median_s and other is not None:
            out.append(Pair(c, other, bs.get((c.workload, c.size)),
                            ns.get((other.workload, other.size))))
    return out


@dataclass(frozen=True)
class CellChange:
    pair: Pair
    change: Change

    @property
    def where(self) -> str:
        c = self.pair.base
        return f"{c.workload} {c.label} @{c.workers}"


@dataclass(frozen=True)
class HeadlineChange(CellChange):
    """A workload's headline of one kind of worker (its confirmed best cell, re-measured
    after the sweep with fresh pairs: the figure the answer rests on) on both sides. Its
    cell may differ between the runs (process_pool @2 on one, pool_map @2 on the other):
    what is compared is the answer's figure. Confirmed on both sides only, so neither
    figure is flattered by the choice."""

    model: str = ""

    @property
    def where(self) -> str:
        b, n = self.pair.base, self.pair.new
        cells = (f"{b.label} @{b.workers}" if (b.label, b.workers) == (n.label, n.workers)
                 else f"{b.label} @{b.workers} → {n.label} @{n.workers}")
        return f"{b.workload} best {self.model} ({cells}, confirmed)"


HEADLINE_MODELS = ("threads", "processes")


def headline_changes(base: Results, new: Results) -> list[CellChange]:
    """Each workload's confirmed headline of each kind of worker, measured on both sides
    for the same work: the new figure ÷ the base one (``HeadlineChange``). A lost CPU shows
    here first: the headlines rest on 10 or more fresh pairs where a quick sweep's cells
    have 6."""
    out: list[CellChange] = []
    for w in (w for w in base.workloads() if w in set(new.workloads())):
        for model in HEADLINE_MODELS:
            b, n = headline_of(base, w, model), headline_of(new, w, model)
            if b is None or n is None or not (b.confirmed and n.confirmed):
                continue
            pair = Pair(b.cell, n.cell)
            if pair.same_work and b.cell.speedup and n.cell.speedup:
                out.append(HeadlineChange(pair, speedup_change(pair), model))
    return out


def cell_changes(base: Results, new: Results) -> list[CellChange]:
    """Each matched cell's speedup change (parallel cells), and its time change where
    both sides did the same work (serial cells: only time, a speedup of 1 is 1)."""
    out = []
    for p in matched_pairs(base, new):
        if p.base.strategy != "serial" and p.base.speedup and p.new.speedup:
            out.append(CellChange(p, speedup_change(p)))
        if p.same_work:
            out.append(CellChange(p, time_change(p)))
    return out


# The gate's family-wise error: the chance that it fails a comparison in which nothing
# got worse, over all the cells it compares at once (one-sided: only "worse" fails it).
GATE_ALPHA = 0.025


def holm(pvalues: Sequence[float], alpha: float = GATE_ALPHA) -> list[bool]:
    """Holm's step-down rejections: the i-th smallest p-value (from 0) is rejected while
    every smaller one was and it is at most alpha / (m - i). Controls the chance of any
    false rejection at alpha, whatever the dependence between the tests."""
    m = len(pvalues)
    out = [False] * m
    for i, k in enumerate(sorted(range(m), key=lambda j: pvalues[j])):
        if pvalues[k] > alpha / (m - i):
            break
        out[k] = True
    return out


MIN_FOR_SPREAD = 8  # the fewest figures of a sort the between-run spread is read from
# More than this share of the figures far from the densest half: a block of them moved
# together (a lost CPU), and the spread is read from the rest; at most this share, from all
# of them, as before (what tests/gate.py's A/A table measures).
MOVED_TOGETHER = 0.20


def _unchanged(logs: np.ndarray) -> np.ndarray:
    """The figures that did not really change, as a mask: those within 3 scales of the
    densest half of them (the shortest interval holding half the figures, its length as a
    scale with Rousseeuw and Leroy's small-sample factor), so that a large minority that
    moved together (every processes cell when a CPU is lost: 45% of a default run's
    figures) is left out where the median absolute deviation about the median took it in
    (it read a 23% spread from a lost CPU, and the gate then passed it)."""
    x = np.sort(logs)
    n = len(x)
    h = n // 2 + 1
    widths = x[h - 1:] - x[:n - h + 1]
    i = int(np.argmin(widths))
    centre = (x[i] + x[i + h - 1]) / 2
    scale = 1.4826 * (1 + 5 / (n - 1)) * float(widths[i]) / 2
    return np.abs(logs - centre) <= 3 * scale


def between_run_sd(changes: Sequence[CellChange]) -> dict[str, float]:
    """Per sort of figure (speedup, time): the spread between the two runs that their own
    rounds do not show, on the log scale. Read from the figures that did not really
    change where more than ``MOVED_TOGETHER`` of them lie beyond 3 scales of their
    densest half (``_unchanged``: a large minority that moved together is not noise),
    else from all: their scatter about their median (1.4826 × the median absolute
    deviation), less what their own bootstrap standard errors explain (the median of
    their squares); 0 where the scatter is within them, or with fewer than
    ``MIN_FOR_SPREAD`` figures with an interval to read it from. About the figures' own
    centre, not 1: a change of every figure alike (a slower interpreter) stays a change,
    not noise."""
    out: dict[str, float] = {}
    for what in sorted({c.change.what for c in changes}):
        found = [c.change for c in changes if c.change.what == what
                 and c.change.log_sd is not None and c.change.point > 0]
        if len(found) < MIN_FOR_SPREAD:
            out[what] = 0.0
            continue
        logs = np.log([c.point for c in found])
        keep = _unchanged(logs)
        if keep.sum() < MIN_FOR_SPREAD or (~keep).sum() <= MOVED_TOGETHER * len(logs):
            keep = np.ones(len(logs), dtype=bool)  # no block moved: every figure
        kept = logs[keep]
        scatter = 1.4826 * float(np.median(np.abs(kept - np.median(kept))))
        own = float(np.median([c.log_sd ** 2 for c, k in zip(found, keep, strict=True)  # type: ignore[operator]
                               if k]))
        out[what] = math.sqrt(max(0.0, scatter ** 2 - own))
    return out


def widened(change: Change, sd: float) -> Change:
    """The change with ``sd`` of between-run spread added to its own (log scale, in
    quadrature): its standard error, and its interval's ends moved out in proportion."""
    if sd <= 0 or change.log_sd is None or change.low is None or change.high is None:
        return change
    total = math.hypot(change.log_sd, sd)
    if change.log_sd > 0:
        k = total / change.log_sd
        low = change.point * (change.low / change.point) ** k
        high = change.point * (change.high / change.point) ** k
    else:
        z = statistics.NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)
        low, high = change.point * math.exp(-z * sd), change.point * math.exp(z * sd)
    return dataclasses.replace(change, low=low, high=high, log_sd=total)


def compared_changes(base: Results, new: Results,
                     on: tuple[str, ...] = ("speedup", "time"),
                     workloads: Sequence[str] = (), strategies: Sequence[str] = (),
                     between_runs: bool = True) -> list[CellChange]:
    """``gate_changes``' figures (without the spread it read)."""
    return gate_changes(base, new, on, workloads, strategies, between_runs)[0]


def gate_changes(base: Results, new: Results,
                 on: tuple[str, ...] = ("speedup", "time"),
                 workloads: Sequence[str] = (), strategies: Sequence[str] = (),
                 between_runs: bool = True) -> tuple[list[CellChange], dict[str, float]]:
    """The changes the gate compares: ``cell_changes`` of the figures ``on`` names, and
    with speedups the workloads' confirmed headlines (``headline_changes``), narrowed to
    these ``workloads`` and ``strategies`` where given (each one bootstrapped; compute them
    once and hand them to ``regressions`` and ``sensitivity``), each widened by the
    between-run spread read from all of them, before narrowing (``between_run_sd``;
    ``between_runs=False``: each run's own rounds only); and that spread, per sort of
    figure."""
    found = [c for c in cell_changes(base, new) if c.change.what in on]
    if "speedup" in on:
        found += headline_changes(base, new)
    # the spread is read from every figure, so a gate narrowed to a few sees it too
    spread = between_run_sd(found) if between_runs else {}
    if workloads:
        found = [c for c in found if c.pair.base.workload in workloads]
    if strategies:
        found = [c for c in found if c.pair.base.strategy in strategies
                 or c.pair.new.strategy in strategies]
    return [dataclasses.replace(c, change=widened(c.change, spread[c.change.what]))
            if spread.get(c.change.what) else c for c in found], spread


def regressions(base: Results, new: Results, pct: float,
                on: tuple[str, ...] = ("speedup", "time"),
                changes: list[CellChange] | None = None) -> tuple[list[CellChange], int]:
    """The cells whose speedup (or, with the same work, time) got surely worse by more
    than ``pct`` percent, and how many changes were compared; ``on``: which figures
    count. Surely worse: rejected by Holm's procedure over *every* change compared
    (``holm``, one-sided at ``GATE_ALPHA``), so that two runs of identical code on one
    machine fail the gate at most that often however many cells they have; by more
    than ``pct``: the change itself is beyond it (the minimum effect, asv's factor)."""
    if changes is None:
        changes = compared_changes(base, new, on)
    surely = holm([c.change.p_not_worse for c in changes])
    return [c for c, s in zip(changes, surely, strict=True)
            if s and c.change.point < 1 / (1 + pct / 100)], len(changes)


def t_quantile(p: float, df: int) -> float:
    """Student's t quantile (``student_cdf`` inverted by bisection), for 0.5 <= p < 1."""
    lo, hi = 0.0, 1.0
    while student_cdf(hi, df) < p:
        hi *= 2
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if student_cdf(mid, df) < p else (lo, mid)
    return (lo + hi) / 2


def detectable(change: Change, compared: int, pct: float) -> float | None:
    """The smallest slowdown factor (time ×, or speedup ÷) of this figure the gate could
    have failed: where its point estimate alone would clear Holm's strictest level,
    GATE_ALPHA / compared (about even odds of being caught; a larger one more surely),
    and the minimum effect ``pct``. None: no interval, nothing could be caught."""
    if change.log_sd is None:
        return None
    t = t_quantile(1 - GATE_ALPHA / max(1, compared), max(1, change.runs - 1))
    return max(1 + pct / 100, math.exp(t * change.log_sd))


def sensitivity(changes: list[CellChange], pct: float) -> list[tuple[CellChange, float | None]]:
    """Each compared figure (``compared_changes``) with the smallest slowdown the gate
    could have seen in it."""
    return [(c, detectable(c.change, len(changes), pct)) for c in changes]


def bootstrappable(results: Results) -> bool:
    """Does any parallel cell carry timed runs to resample — at least 2 of its own, with
    their paired serial runs or beside a serial cell's? (A summary of one number per
    cell cannot be resampled; fewer than MIN_RUNS give a figure without an interval.)"""
    serial = serial_by_size(results.cells)
    for c in results.cells:
        if c.strategy == "serial" or not c.ok or len(c.times_s) < 2:
            continue
        base = serial.get((c.workload, c.size))
        if _paired(c) or (base is not None and len(base.times_s) >= 2):
            return True
    return False
