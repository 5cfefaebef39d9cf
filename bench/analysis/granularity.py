"""From which task size each way pays: the granularity sweep's curves and crossovers.

The granularity suite (``bench.runner.granularity``) measures every strategy at the
usable CPU count on tasks from about 0.1 ms to about 100 ms. Each curve is speedup
against the serial time of one task. Three kinds of crossover are read off it:

- **processes against threads**: from which task size the best processes cell beats the
  best threads cell by more than the tie band (``TIE_RATIO``), and for IO work up to
  which size threads beat processes;
- **each strategy against serial**: from which size it beats serial by at least 10%
  (``PAYS``);
- **Dask, Ray and loky against process_pool**: from which size they come within 10% of
  it (``NEAR``).

Every statement is decided from intervals, never from points: at each task size a claim
surely holds, surely does not, or can't be told. All the intervals of a workload's
curves are taken together at 1 - 0.05/m, m the number of its cells (Bonferroni over the
family), since a crossover is read from many cells at once. A crossover is then
bracketed by measured sizes: the first size from which the claim surely holds at every
larger size, and the last size below it where it surely did not. Between them lies the
crossing (assuming the curve is steady there); the estimate inside the bracket is where
the point estimates cross, interpolated on log task size. A curve that holds, fails and
holds again has "no steady crossover"; one that never surely holds says so, with the
range it was measured over.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from gilbench.bench import stats
from gilbench.bench.analysis.cells import at_confidence, decisive, task_s
from gilbench.bench.analysis.once import once
from gilbench.bench.analysis.verdicts import TIE_RATIO
from gilbench.bench.fmt import fmt_s
from gilbench.bench.results import Cell, Results

PAYS = 1.10  # "beats serial": by at least 10%
NEAR = 0.90  # "within 10% of process_pool": at least 0.9 of its speedup

Interval = tuple[float, float]


@dataclass(frozen=True)
class Point:
    """One task size of a workload's granularity sweep."""

    size: int
    task_s: float  # the serial time of one task, measured
    cells: dict[str, Cell]  # strategy label -> its cell at the granularity worker count


def is_granularity(results: Results, workload: str) -> bool:
    plan = results.plan
    return plan is not None and "granularity" in plan.suites and bool(
        plan.granularity_points(workload))


def points(results: Results, workload: str) -> list[Point]:
    """The workload's granularity points with a serial time per task, smallest first
    (computed once per run)."""
    return list(once(results, ("granularity_points", workload),
                     lambda: tuple(_points(results, workload))))


def _points(results: Results, workload: str) -> list[Point]:
    plan = results.plan
    if plan is None or not is_granularity(results, workload):
        return []
    sizes = {size for size, _, _ in plan.granularity_points(workload)}
    n = plan.granularity_workers
    out = []
    for size, cells in results.sizes_of(workload).items():
        if size not in sizes:
            continue
        serial = next((c for c in cells if c.strategy == "serial" and c.ok), None)
        t = task_s(serial) if serial is not None else None
        if t is None:
            continue
        mine = {c.label: c for c in cells if c.strategy != "serial" and c.workers == n}
        out.append(Point(size, t, mine))
    return sorted(out, key=lambda p: p.task_s)


def family(pts: list[Point]) -> int:
    return max(1, sum(len(p.cells) for p in pts))


def level(pts: list[Point]) -> float:
    """The confidence each interval is taken at, so that all hold together at 95%."""
    return 1 - (1 - stats.CONFIDENCE) / family(pts)


def joint(cell: Cell | None, confidence: float, usable: int) -> Interval | None:
    """A decisive cell's interval at ``confidence`` (None: no such cell, or too few pairs)."""
    if cell is None or not decisive(cell, usable):
        return None
    return at_confidence(cell, confidence)


State = bool | None  # surely holds, surely does not, can't tell


@dataclass(frozen=True)
class Crossover:
    """Where one claim starts (``rising``) or stops holding as tasks grow."""

    claim: str
    rising: bool  # True: holds from some size on; False: holds up to some size
    states: tuple[tuple[float, State, float | None], ...]  # (task s, state, point margin)

    @property
    def measured(self) -> bool:
        return bool(self.states)

    def _ordered(self) -> list[tuple[float, State, float | None]]:
        return list(self.states) if self.rising else list(reversed(self.states))

    @property
    def status(self) -> str:
        """"crosses", "always", "never", "can't tell", "unsteady" or "not measured".
        "never" is a claim too: it surely fails at every size measured; where it surely
        holds nowhere but some sizes can't be told, it is "can't tell"."""
        seq = self._ordered()
        if not seq:
            return "not measured"
        held = [s is True for _, s, _ in seq]
        if all(held):
            return "always"
        if not any(held):
            return "never" if all(s is False for _, s, _ in seq) else "can't tell"
        k = self._start()
        if k is None or any(held[:k]):
            return "unsteady"
        return "crosses"

    def _start(self) -> int | None:
        """The first index (in growing order of the claim) from which it surely holds
        at every later point; None when the last point does not surely hold."""
        seq = self._ordered()
        k = len(seq)
        while k > 0 and seq[k - 1][1] is True:
            k -= 1
        return None if k == len(seq) else k

    @property
    def bracket(self) -> tuple[float | None, float | None]:
        """(the last size where it surely did not hold, the first from which it surely
        does): the crossing lies between them. None: beyond what was measured."""
        k = self._start()
        seq = self._ordered()
        if k is None:
            return None, None
        sure = seq[k][0]
        before = [t for t, s, _ in seq[:k] if s is False]
        return (before[-1] if before else None), sure

    @property
    def estimate(self) -> float | None:
        """Where the point estimates cross, on log task size, inside the bracket."""
        k = self._start()
        if k is None or k == 0 or self.status != "crosses":
            return None
        seq = self._ordered()
        (t0, _, m0), (t1, _, m1) = seq[k - 1], seq[k]
        if m0 is not None and m1 is not None and m0 < 0 <= m1:
            f = -m0 / (m1 - m0)
            guess = math.exp(math.log(t0) + f * (math.log(t1) - math.log(t0)))
        else:
            guess = math.sqrt(t0 * t1)
        # Between the two neighbours the claim turns at (both inside the bracket).
        return min(max(guess, min(t0, t1)), max(t0, t1))

    def text(self) -> str:
        status = self.status
        seq = [t for t, _, _ in self.states]
        if status == "not measured":
            return "not measured (no cells with intervals at these task sizes)"
        span = f"{fmt_s(seq[0])} to {fmt_s(seq[-1])}"
        unsure = sum(1 for _, s, _ in self.states if s is None)
        if status == "always":
            return f"at every task size measured ({span})"
        if status == "never":
            return f"at no task size measured ({span})"
        if status == "can't tell":
            return (f"at no size surely ({span}): it surely fails at "
                    f"{len(seq) - unsure} and can't be told at {unsure} of {len(seq)} sizes")
        if status == "unsteady":
            return (f"no steady crossover: it holds at some task sizes and not at others "
                    f"({span})")
        low, high = self.bracket
        word = "from" if self.rising else "up to"
        est = self.estimate
        assert high is not None and est is not None
        if low is None:
            below = "smaller" if self.rising else "larger"
            return (f"{word} tasks of about {fmt_s(est)} (surely at {fmt_s(high)}; at the "
                    f"{below} sizes measured, can't tell)")
        a, b = sorted((low, high))
        return f"{word} tasks of about {fmt_s(est)} (between {fmt_s(a)} and {fmt_s(b)})"


def _crossover(claim: str, pts: list[Point], rising: bool,
               state_at: Callable[[Point], tuple[State, float | None] | None]) -> Crossover:
    states = []
    for p in pts:
        found = state_at(p)
        if found is not None:
            states.append((p.task_s, found[0], found[1]))
    return Crossover(claim, rising, tuple(states))


def _side(p: Point, model: str, confidence: float, usable: int
          ) -> tuple[Interval, float] | None:
    """The best of a model's cells at this point: its highest lower end and highest upper
    end over the decisive cells (each could be the best), and the highest point."""
    found = [(ci, c.speedup_value) for c in p.cells.values() if c.model == model
             if (ci := joint(c, confidence, usable)) is not None]
    if not found:
        return None
    return ((max(ci[0] for ci, _ in found), max(ci[1] for ci, _ in found)),
            max(x for _, x in found))


def models_crossover(results: Results, workload: str, winner: str, loser: str,
                     rising: bool) -> Crossover:
    """Where ``winner``'s best beats ``loser``'s best by more than the tie band."""
    pts = points(results, workload)
    conf, usable = level(pts), results.usable_cpus

    def at(p: Point) -> tuple[State, float | None] | None:
        w, lo = _side(p, winner, conf, usable), _side(p, loser, conf, usable)
        if w is None or lo is None:
            return None
        (w_lo, w_hi), w_x = w
        (l_lo, l_hi), l_x = lo
        state: State = (True if w_lo / l_hi > TIE_RATIO else
                        False if w_hi / l_lo <= TIE_RATIO else None)
        return state, math.log(w_x / l_x / TIE_RATIO)

    return _crossover(f"{winner} beat {loser}", pts, rising, at)


def pays_crossover(results: Results, workload: str, label: str) -> Crossover:
    """From which task size ``label`` beats serial by at least ``PAYS``."""
    pts = points(results, workload)
    conf, usable = level(pts), results.usable_cpus

    def at(p: Point) -> tuple[State, float | None] | None:
        ci = joint(p.cells.get(label), conf, usable)
        if ci is None:
            return None
        state: State = True if ci[0] > PAYS else False if ci[1] <= PAYS else None
        return state, math.log(p.cells[label].speedup_value / PAYS)

    return _crossover(f"{label} beats serial by {PAYS - 1:.0%}", pts, True, at)


def near_crossover(results: Results, workload: str, label: str,
                   reference: str = "process_pool") -> Crossover:
    """From which task size ``label`` comes within 10% of ``reference``'s speedup."""
    pts = points(results, workload)
    conf, usable = level(pts), results.usable_cpus

    def at(p: Point) -> tuple[State, float | None] | None:
        mine = joint(p.cells.get(label), conf, usable)
        ref = joint(p.cells.get(reference), conf, usable)
        if mine is None or ref is None:
            return None
        state: State = (True if mine[0] >= NEAR * ref[1] else
                        False if mine[1] < NEAR * ref[0] else None)
        ratio = p.cells[label].speedup_value / p.cells[reference].speedup_value
        return state, math.log(ratio / NEAR)

    return _crossover(f"{label} within {1 - NEAR:.0%} of {reference}", pts, True, at)


def labels(results: Results, workload: str) -> list[str]:
    """The strategy labels of the workload's granularity curves, in run order."""
    return list(dict.fromkeys(label for p in points(results, workload) for label in p.cells))


def main_crossover(results: Results, workload: str) -> Crossover:
    """Processes against threads, the way round the kind of work makes the question:
    from which size processes pay (CPU, native, mixed), up to which threads win (IO)."""
    return once(results, ("main_crossover", workload), lambda: _main(results, workload))


def _main(results: Results, workload: str) -> Crossover:
    kind = next((c.kind for c in results.cells if c.workload == workload), "cpu")
    if kind == "io":
        return models_crossover(results, workload, "threads", "processes", rising=False)
    return models_crossover(results, workload, "processes", "threads", rising=True)


def crossovers(results: Results, workload: str) -> list[Crossover]:
    """Every crossover of the workload: processes against threads, each strategy against
    serial, and Dask, Ray and loky against process_pool (computed once per run)."""
    return list(once(results, ("crossovers", workload),
                     lambda: tuple(_crossovers(results, workload))))


def _crossovers(results: Results, workload: str) -> list[Crossover]:
    out = [main_crossover(results, workload)]
    names = labels(results, workload)
    out += [pays_crossover(results, workload, label) for label in names]
    ref = next((n for n in names if n.startswith("process_pool")), None)
    if ref is not None:
        out += [near_crossover(results, workload, n, ref) for n in names
                if (facts := results.strategy_facts(n.split("[")[0])) and facts.is_engine]
    return out


def workloads(results: Results) -> list[str]:
    return [w for w in results.workloads() if len(points(results, w)) > 1]


RULE = (f"rule: each point is a task size; a claim surely holds there when the intervals "
        f"say so with every interval of the workload's curves taken together at 95% "
        f"(Bonferroni: each at 1 - 0.05/m, m its cells); processes beat threads when the "
        f"best processes cell's lower end clears every threads cell's upper end by more "
        f"than {TIE_RATIO - 1:.0%}; a strategy pays when its lower end is above "
        f"{PAYS:.2f}×; Dask, Ray or loky are within {1 - NEAR:.0%} of process_pool when "
        f"their lower end is at least {NEAR:.1f}× its upper end. The crossover lies "
        "between the last size where the claim surely failed and the first from which it "
        "surely holds at every larger size; the estimate is where the point estimates "
        "cross on log task size.")
