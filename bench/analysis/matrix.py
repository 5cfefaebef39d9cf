"""The version matrix's question: on this machine, which interpreter and which way of
spreading the work gets a kind of work done fastest — time per task, relative to one
baseline interpreter's serial loop, not each interpreter's speedup over its own.

A speedup over a slow serial loop is no win: a free-threaded build's threads can scale
and still lose to a GIL build's plain loop. So every way is put on one scale, the
baseline interpreter's serial time for the same work, by a chain of two paired ratios,
each measured where its pairs are honest:

    time(way on R) / serial(base) = [serial(R) / serial(base)] / [serial(R) / time(way on R)]

- ``serial(R) / serial(base)``: the interleaved serial runs of a ``--python`` run
  (``bench.serialcost``: the interpreters take turns round by round, so a slow phase of
  the machine falls on all of them);
- ``serial(R) / time(way on R)``: the way's speedup, paired round by round with R's own
  serial runs in R's sweep.

Each factor's median has its distribution-free interval (``stats.median_interval``);
the product's ends are the products of the ends. A kind with several workloads takes
the geometric mean over them. For the whole to cover 95%, every interval behind it must
hold at once: each is taken at 1 − 0.05 / m for the m intervals involved (Bonferroni),
so more rounds are needed than for one cell (9 for a kind of four workloads), and below
that the figure has no interval. Each interpreter's fastest way is the one whose upper end
is lowest with each factor's interval at 95% alone (the most it takes), as the run's best
cell is the one whose lower end is highest; ways with fewer than 6 rounds behind a factor
only where none has more. The fastest interpreter is then the one whose fastest way has
the lowest point estimate (the baseline's figures rest on one interval fewer, so upper ends
would prefer it by construction), and the sentence names every other interpreter's way it
cannot surely be told from.

The fastest ways are *chosen*, among every way of every interpreter on the kind, and the
interval of a chosen figure reads optimistic unless it holds for all of them at once (the
way's own interval covered 0.74-0.87 in the issue's simulation, 0.91 among ten ways alike
in ``test_the_fastest_ways_interval_survives_the_choice``, widened 0.99). So the intervals
of the fastest ways are widened for the choice: every interval behind them at 1 − 0.05 /
(m · W), W the ways the kind's answer chose among (``family``; Bonferroni again):
whichever way is chosen, its interval holds, and so does the claim that one interpreter's
fastest way is surely faster than another's. That needs more rounds (10 a cell for one
workload among ten ways, 13 for four workloads among twenty: ``rounds_for``); below them
the fastest way has no interval, and the sentence says how many rounds would give it one.
The per-workload confirmation (``bench.runner.confirm``) re-measures one cell per kind of
worker, not a way across a kind's workloads, so it cannot stand in for the widening.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gilbench.bench import stats
from gilbench.bench.analysis.cells import artefact, at_confidence
from gilbench.bench.analysis.comparison import Run
from gilbench.bench.kinds import KINDS
from gilbench.bench.results import Cell, Results
from gilbench.bench.serialcost import SerialRuns

CONFIDENCE = 0.95
MODELS = ("serial", "threads", "processes", "interpreters", "async")


@dataclass(frozen=True)
class WayTime:
    """One way through a kind's work on one interpreter, on the baseline's scale."""

    label: str  # the interpreter
    kind: str
    strategy: str
    cell_label: str  # the strategy and its start method, as its cells say it (Cell.label)
    workers: int
    model: str
    point: float  # time per task ÷ the baseline interpreter's serial time (geometric mean)
    low: float | None  # the interval (None: too few rounds for it at this level)
    high: float | None
    n: int  # the fewest rounds behind any of its factors
    speedup: float  # over this interpreter's own serial loop (geometric mean)
    workloads: tuple[str, ...]
    # The upper end with each factor's interval at 95% alone (at least 6 rounds): what the
    # fastest way is chosen by (None: a factor has fewer rounds).
    rank_high: float | None = None
    family: int = 1  # the ways its interval holds jointly over (the choice it survives)
    factors: int = 0  # the intervals behind it (m)

    @property
    def way(self) -> str:
        return "serial" if self.strategy == "serial" else f"{self.cell_label} @{self.workers}"

    def text(self) -> str:
        if self.n == 0:  # the baseline's own serial loop: the scale itself, exact
            return f"{self.point:.2f}× (the scale)"
        ci = (f" [{self.low:.2f}–{self.high:.2f}]" if self.low is not None
              and self.high is not None else " (no interval at this precision)")
        return f"{self.point:.2f}×{ci} n={self.n}"


def rounds_for(factors: int, family: int) -> int:
    """The fewest rounds a factor needs for its interval at 1 − 0.05 / (factors · family)
    (the full range of n ratios covers the median with 1 − 2 / 2ⁿ)."""
    level = 1 - (1 - CONFIDENCE) / max(1, factors * family)
    n = 1
    while stats.median_rank(n, level) is None:
        n += 1
    return n


def _config(c: Cell) -> tuple[str, str | None, int]:
    return (c.strategy, c.start_method, c.workers)


def _usable(c: Cell, usable: int) -> bool:
    """A cell that can stand for its way: ok, timed, paired with serial runs, and not
    faster than the physics allows (such a cell shows the machine's drift)."""
    if c.strategy == "serial":
        return c.ok
    return (c.ok and c.speedup is not None and len(c.times_s) > 0
            and len(c.serial_times_s) == len(c.times_s) and not artefact(c, usable))


def serial_ratio_runs(serial: Sequence[SerialRuns], workload: str, label: str, base: str
                      ) -> SerialRuns | None:
    return next((s for s in serial if s.workload == workload and label in s.times_s
                 and base in s.times_s), None)


def _ways(results: Results, label: str, base_label: str, kind: str,
          serial: Sequence[SerialRuns], family: int = 1) -> list[WayTime]:
    """Every way the interpreter ran on every workload of the kind, on the baseline's
    scale (ways without a cell on one of those workloads are left out), each interval
    holding over ``family`` ways at once."""
    usable = results.usable_cpus
    is_base = label == base_label
    workloads = [w for w in results.workloads()
                 if any(c.kind == kind for c in results.cells_of(w))
                 and (is_base or serial_ratio_runs(serial, w, label, base_label) is not None)]
    if not workloads:
        return []
    by_config: dict[tuple[str, str | None, int], dict[str, Cell]] = {}
    for w in workloads:
        for c in results.cells_of(w):
            if _usable(c, usable):
                by_config.setdefault(_config(c), {})[w] = c
    out = []
    for config, cells in by_config.items():
        if len(cells) != len(workloads):
            continue
        way = _way_time(label, base_label, kind, config, [cells[w] for w in workloads],
                        serial, is_base, family)
        if way is not None:
            out.append(way)
    return out


def _way_time(label: str, base: str, kind: str, config: tuple[str, str | None, int],
              cells: list[Cell], serial: Sequence[SerialRuns], is_base: bool,
              family: int = 1) -> WayTime | None:
    strategy = config[0]
    parallel = strategy != "serial"
    m = len(cells) * ((0 if is_base else 1) + (1 if parallel else 0))  # the intervals
    level = 1 - (1 - CONFIDENCE) / (max(1, m) * max(1, family))
    points, lows, highs, ns, speedups, ranks = [], [], [], [], [], []
    whole = ranked = True
    for c in cells:
        ratio_ci: tuple[float, float] | None
        sp_ci: tuple[float, float] | None
        ratio_95: tuple[float, float] | None
        sp_95: tuple[float, float] | None
        if is_base:
            ratio, ratio_ci, n_ratio = 1.0, (1.0, 1.0), None
            ratio_95 = ratio_ci
        else:
            runs = serial_ratio_runs(serial, c.workload, label, base)
            if runs is None:
                return None
            r = stats.paired_ratios(runs.times_s[label], runs.times_s[base])
            ratio, ratio_ci, n_ratio = stats.median(r), stats.median_interval(r, level), len(r)
            ratio_95 = stats.median_interval(r)
        if parallel:
            sp = float(c.speedup) if c.speedup is not None else 0.0
            if sp <= 0:
                return None
            sp_ci, sp_95 = at_confidence(c, level), at_confidence(c, stats.CONFIDENCE)
            n_sp: int | None = len(c.times_s)
        else:
            sp, sp_ci, n_sp = 1.0, (1.0, 1.0), None
            sp_95 = sp_ci
        points.append(ratio / sp)
        speedups.append(sp)
        ns += [n for n in (n_ratio, n_sp) if n is not None]
        if ratio_ci is None or sp_ci is None:
            whole = False
        else:
            lows.append(ratio_ci[0] / sp_ci[1])
            highs.append(ratio_ci[1] / sp_ci[0])
        if ratio_95 is None or sp_95 is None:
            ranked = False
        else:
            ranks.append(ratio_95[1] / sp_95[0])
    model = cells[0].model or ("serial" if not parallel else "")
    return WayTime(label, kind, strategy, cells[0].label, config[2], model,
                   stats.geometric_mean(points),
                   stats.geometric_mean(lows) if whole else None,
                   stats.geometric_mean(highs) if whole else None,
                   min(ns) if ns else 0, stats.geometric_mean(speedups),
                   tuple(c.workload for c in cells),
                   stats.geometric_mean(ranks) if ranked else None, max(1, family), m)


def surely_takes(way: WayTime) -> tuple[bool, float]:
    """What the fastest way is chosen by: the upper end of its interval with each factor
    at 95% alone (the most it takes, as a cell's lower end ranks cells); a way with fewer
    than 6 rounds behind a factor ranks after every other, by its point. (The interval
    shown, every factor at once, needs more rounds: ranking by it would put a plain
    serial loop, exact by definition, ahead of every way that is a few rounds short.)"""
    return (way.rank_high is None, way.rank_high if way.rank_high is not None else way.point)


def kinds_of(runs: Sequence[Run]) -> list[str]:
    """The kinds of work the runs measured, in the project's order."""
    seen = {c.kind for r in runs for c in r.results.cells}
    return [k for k in KINDS if k in seen] + sorted(seen - set(KINDS))


@dataclass(frozen=True)
class KindAnswer:
    """One kind of work: each interpreter's fastest way and its serial loop, and which
    interpreter and way is fastest here (or which it cannot be told from)."""

    kind: str
    best: dict[str, WayTime]  # per interpreter label: its fastest way
    serial: dict[str, WayTime]  # per interpreter label: its serial loop
    by_model: dict[str, dict[str, WayTime]]  # per label, per model: that model's fastest
    ways: dict[str, int] | None = None  # per label: how many ways its fastest was chosen among

    def fastest(self) -> WayTime | None:
        """The interpreter whose best way has the lowest point estimate (among those with
        an interval for each factor, ``surely_takes``'s first key). Not the lowest upper
        end, as within one interpreter: the baseline's figures rest on one interval fewer
        (its serial ratio is the scale itself), so upper ends named it fastest 73-92% of
        the time when another interpreter was truly 3% faster; ``rivals`` says when the
        choice is not sure."""
        return min(self.best.values(), key=lambda w: (surely_takes(w)[0], w.point),
                   default=None)

    def rivals(self) -> list[WayTime]:
        """The other interpreters' best ways the fastest cannot surely be told from (their
        intervals overlap, or one has none)."""
        top = self.fastest()
        if top is None:
            return []
        out = []
        for w in self.best.values():
            if w is top:
                continue
            if top.high is None or w.low is None or top.high >= w.low:
                out.append(w)
        return out

    def sentence(self, base: str) -> str:
        top = self.fastest()
        if top is None:
            return f"{self.kind}: no interpreter has a way with every workload measured."
        if top.low is None:
            need = rounds_for(top.factors, top.family)
            return (f"{self.kind}: by the point estimates {top.way} on {top.label} is fastest "
                    f"({top.point:.2f}× the time per task of {base}'s serial loop), but its "
                    f"figure has no interval that holds over the {top.family} ways it was "
                    f"chosen among at this precision (n={top.n}; that needs {need} rounds a "
                    f"cell: --repeats {need}): can't tell.")
        rivals = self.rivals()
        head = (f"{self.kind}: fastest here is {top.way} on {top.label}, {top.text()} the time "
                f"per task of {base}'s serial loop"
                + (f" (its interval holds over the {top.family} ways it was chosen among)"
                   if top.family > 1 else ""))
        if not rivals:
            return head + " — surely faster than every other interpreter's best way."
        return (head + " — can't tell it from "
                + ", ".join(f"{w.way} on {w.label} ({w.point:.2f}×)" for w in rivals)
                + " at this precision.")


def answer(runs: Sequence[Run], base_label: str, serial: Sequence[SerialRuns]
           ) -> list[KindAnswer]:
    """For each kind the runs measured: every interpreter's fastest way on the baseline's
    scale. ``runs``: the comparison's (label, results) runs."""
    out = []
    for kind in kinds_of(runs):
        best: dict[str, WayTime] = {}
        own_serial: dict[str, WayTime] = {}
        by_model: dict[str, dict[str, WayTime]] = {}
        each = {r.label: _ways(r.results, r.label, base_label, kind, serial) for r in runs}
        counts = {label: len(ways) for label, ways in each.items()}
        family = sum(counts.values())  # every way the answer chooses among
        for r in runs:
            ways = each[r.label]
            if not ways:
                continue
            # the same way, its interval widened for the choice among all of them
            chosen = min(ways, key=surely_takes)
            best[r.label] = next(w for w in _ways(r.results, r.label, base_label, kind,
                                                  serial, family) if w.way == chosen.way)
            s = next((w for w in ways if w.strategy == "serial"), None)
            if s is not None:
                own_serial[r.label] = s
            models: dict[str, WayTime] = {}
            for w in ways:
                key = "serial" if w.strategy == "serial" else w.model
                if key not in models or surely_takes(w) < surely_takes(models[key]):
                    models[key] = w
            by_model[r.label] = models
        if best:
            out.append(KindAnswer(kind, best, own_serial, by_model,
                                  {k: v for k, v in counts.items() if v}))
    return out
