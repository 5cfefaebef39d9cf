"""Verdicts: which kind of parallelism to use, per workload and per kind of work.

A verdict is decided from 95% intervals, never from point estimates alone, and
only by decisive cells (``cells.decisive``: an interval, within the physics).
Each side is its model's headline (``cells.headline``): the best cell re-measured
after the sweep with fresh pairs, so its interval is honest after the choice.
"Threads beat processes" needs the two finalists' ratio above the tie band — from
their direct paired ratio where both were confirmed in the same rounds
(``paired_rounds``: the round's noise cancels in it, so it decides where two separate
intervals overlap), else from their intervals divided crosswise — and threads' headline
above every other processes cell that could still be best
(``threads_lo / processes_reach > TIE_RATIO``, ``processes_reach`` the highest upper end
of any decisive processes cell: ``cells.reach``), and the same the other way. A tie is an
answer: the finalists' ratio lies within the band. Otherwise the verdict says it cannot
tell.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gilbench.bench import stats
from gilbench.bench.analysis.cells import (
    GeoSpan,
    gil_on,
    headline,
    headline_of,
    reach,
    tasks_of_about,
)
from gilbench.bench.analysis.once import once
from gilbench.bench.kinds import KINDS
from gilbench.bench.results import Cell, Results

# Speedups closer than this are reported as a tie rather than a win.
TIE_RATIO = 1.05
# How to get more precision, as ``gilbench run`` takes it (--target-ci is a percentage);
# and as a pytest session takes it (``in_its_words``).
MORE_PRECISION = "more pairs: --target-ci 2, or --profile full"
PYTEST_MORE_PRECISION = "more pairs: --gilbench-profile standard, or full"


def in_its_words(results: Results, text: str) -> str:
    """``text`` with the advice a results file's own source takes: a pytest session's
    options (``--gilbench-profile``) where it came from one, not the CLI's it lacks."""
    if results.run.get("source") == "pytest-benchmark":
        return text.replace(MORE_PRECISION, PYTEST_MORE_PRECISION)
    return text
RULE = (f"rule: each side is its best cell measured again after the sweep with fresh "
        "pairs (confirmed), so its 95% interval is honest after the choice; the two were "
        "confirmed in the same rounds, and one side wins when the 95% interval of their "
        "direct paired ratio, and its headline against every other cell of the other side "
        f"that could still be best, clear {TIE_RATIO - 1:.0%}; a tie when that paired "
        f"interval lies within {TIE_RATIO - 1:.0%}; where neither, the two run together "
        "for more rounds within the run's decision budget and are read again (the 5% "
        "split between the two looks); else can't tell. Only cells with an "
        "interval and within what the CPUs (and, for threads on pure Python, the GIL) allow "
        "decide; ⚠ marks a verdict that rests on a cell wider than the target.")


@dataclass(frozen=True)
class Comparison:
    """Threads against processes on one workload."""

    winner: str | None  # "threads", "processes", "tie"; None: can't tell
    ratio: float  # threads' speedup ÷ processes'
    low: float  # the ratio's 95% range: paired, or the two intervals divided crosswise
    high: float
    pairs: int = 0  # rounds the ratio was measured in directly (0: crosswise)
    looks: int = 1  # 2: read again after a follow-up (``bench.runner.decide``)


def paired_rounds(threads: Cell, procs: Cell) -> list[float] | None:
    """Threads' speedup ÷ processes' in each round both ran (``procs_time_i /
    threads_time_i``: the round's serial run cancels), when both are confirmed finalists:
    ``bench.runner.confirm`` measures a workload's finalists in one block, so their
    confirmation's round i is one round, and so is a follow-up's (``bench.runner.decide``:
    their ``duel_times_s``, appended). None otherwise (an unconfirmed headline, a file
    from before)."""
    views, more = [], []
    for c in (threads, procs):
        conf = c.confirmation
        if conf is None or not conf.ok or c.times_s != conf.times_s:
            return None
        views.append(conf.times_s)
        more.append(conf.duel_times_s)
    k, m = min(map(len, views)), min(map(len, more))
    rounds = zip((*views[0][:k], *more[0][:m]), (*views[1][:k], *more[1][:m]), strict=True)
    return [p / t for t, p in rounds] or None


def followed_up(threads: Cell, procs: Cell) -> bool:
    """Whether the two finalists ran a second look together (``bench.runner.decide``)."""
    return all(c.confirmation is not None and bool(c.confirmation.duel_times_s)
               for c in (threads, procs))


def duel_confidence(threads: Cell, procs: Cell) -> float:
    """The level the duel's paired interval is read at: 1 - the error its look may spend.
    A run that planned a follow-up for undecided duels split its 5% between the looks
    (``Confirmation.alphas``: the confirmation's, then the follow-up's); one look (runs
    before, the pytest path) spends all of it."""
    confs = [c.confirmation for c in (threads, procs)]
    alphas = [conf.alphas for conf in confs if conf is not None and conf.alphas]
    if not alphas:
        return stats.CONFIDENCE
    look = min(int(followed_up(threads, procs)), min(map(len, alphas)) - 1)
    return 1 - min(a[look] for a in alphas)


def compare(threads: Cell, procs: Cell, t_reach: float | None = None,
            p_reach: float | None = None) -> Comparison:
    """Which of two decisive headline cells is faster. Between the two finalists, from
    their direct paired ratio where both ran in the same confirmation rounds (its own 95%
    interval: the noise of the rounds they shared cancels), else from their intervals
    divided crosswise; a side wins only by clearing every other cell of the other side
    that could still be best too (``reach``: the highest upper end among them; default:
    none beyond the headline)."""
    assert threads.speedup_ci95 is not None and procs.speedup_ci95 is not None
    (t_lo, t_hi), (p_lo, p_hi) = threads.speedup_ci95, procs.speedup_ci95
    ratios = paired_rounds(threads, procs)
    direct = None if ratios is None else stats.median_interval(
        ratios, duel_confidence(threads, procs),
        interpolated=not (threads.stopped_on_its_data or procs.stopped_on_its_data))
    looks = 1
    if ratios is not None and direct is not None:
        ratio, (d_lo, d_hi), pairs = stats.median(ratios), direct, len(ratios)
        looks = 1 + followed_up(threads, procs)
    else:
        ratio, (d_lo, d_hi), pairs = (threads.speedup_value / procs.speedup_value,
                                      (t_lo / p_hi, t_hi / p_lo), 0)
    # every other cell of the loser's side must be cleared too (crosswise: no pairs)
    low = min(d_lo, t_lo / p_reach) if p_reach and p_reach > p_hi else d_lo
    high = max(d_hi, t_reach / p_lo) if t_reach and t_reach > t_hi else d_hi
    if low > TIE_RATIO:
        winner: str | None = "threads"
    elif high < 1 / TIE_RATIO:
        winner = "processes"
    elif d_hi <= TIE_RATIO and d_lo >= 1 / TIE_RATIO:
        winner = "tie"
    else:
        winner = None
    return Comparison(winner, ratio, low, high, pairs, looks)


@dataclass(frozen=True)
class Duel:
    """Threads against processes on one workload and size: each side's headline, how
    high each could still reach, and the verdict."""

    threads: Cell | None
    processes: Cell | None
    t_reach: float | None = None
    p_reach: float | None = None

    @property
    def comparison(self) -> Comparison | None:
        if self.threads is None or self.processes is None:
            return None
        return compare(self.threads, self.processes, self.t_reach, self.p_reach)

    @property
    def winner(self) -> str | None:
        c = self.comparison
        return None if c is None else c.winner

    @property
    def text(self) -> str:
        return workload_verdict(self.threads, self.processes, self.t_reach, self.p_reach)


def duel(cells: Iterable[Cell], usable: int) -> Duel:
    """The duel of one workload and size's cells."""
    cells = list(cells)
    t = headline((c for c in cells if c.model == "threads"), usable)
    p = headline((c for c in cells if c.model == "processes"), usable)
    return Duel(t.cell if t else None, p.cell if p else None,
                reach(cells, t.cell, usable) if t else None,
                reach(cells, p.cell, usable) if p else None)


def duel_of(results: Results, workload: str) -> Duel:
    """The duel at the workload's main size (computed once per run)."""
    return once(results, ("duel", workload),
                lambda: duel(results.cells_of(workload), results.usable_cpus))


def workload_verdict(threads: Cell | None, procs: Cell | None, t_reach: float | None = None,
                     p_reach: float | None = None) -> str:
    """Threads or processes for one workload, from each model's headline cell (and how
    high each model's other cells could still reach), and the task size it holds for:
    the answer changes with it (``bench.analysis.granularity``)."""
    said = _verdict(threads, procs, t_reach, p_reach)
    size = tasks_of_about((threads, procs))
    return f"{said}, {size}" if size else said


def _verdict(threads: Cell | None, procs: Cell | None, t_reach: float | None,
             p_reach: float | None) -> str:
    if threads is None and procs is None:
        return "can't tell: no cell precise enough to decide"
    if threads is None or procs is None:
        present = threads or procs
        assert present is not None
        missing = "threads" if threads is None else "processes"
        return f"can't tell: no {missing} cell precise enough to set against {present.label}"
    c = compare(threads, procs, t_reach, p_reach)
    warn = " ⚠" if threads.noisy or procs.noisy else ""
    how = (f", {c.pairs} paired rounds" + (" in two looks" if c.looks > 1 else "")
           if c.pairs else "")
    if c.winner == "threads":
        return (f"threads, {c.ratio:.2f}× faster than processes (at least {c.low:.2f}×"
                f"{how}){warn}")
    if c.winner == "processes":
        return (f"processes, {1 / c.ratio:.2f}× faster than threads "
                f"(at least {1 / c.high:.2f}×{how}){warn}")
    if c.winner == "tie":
        return f"tie within {TIE_RATIO - 1:.0%}: threads are cheaper{warn}"
    return (f"can't tell at this precision (threads ÷ processes {c.low:.2f}–{c.high:.2f}×"
            f"{how}; {MORE_PRECISION})")


@dataclass(frozen=True)
class Score(GeoSpan):
    """A model's headline cells over a kind's workloads, taken together."""

    model: str = ""

    @property
    def label(self) -> str:
        """The strategies behind it: one name, or each workload's."""
        names = dict.fromkeys(c.label for c in self.cells)
        if len(names) == 1:
            return next(iter(names))
        return f"{self.model} (" + ", ".join(f"{c.label} on {c.workload}"
                                               for c in self.cells) + ")"


def _scores(results: Results, names: list[str]) -> list[Score]:
    """Each model with a headline on every workload. The best is then chosen among these
    spans, so each factor's interval pays for that choice as well (``share``), and for
    the choice of its headline where no confirmation paid for it (``families``)."""
    models = dict.fromkeys(c.model for w in names for c in results.cells_of(w)
                           if c.strategy != "serial")
    found = []
    for model in models:
        heads = [h for w in names if (h := headline_of(results, w, model)) is not None]
        if len(heads) == len(names):
            found.append((model, heads))
    return [Score(tuple(h.cell for h in heads), share=len(found),
                  families=tuple(h.family for h in heads), model=model)
            for model, heads in found]


def _with_size(results: Results, workload: str) -> tuple[str, str]:
    """The workload and its task size in words ("tasks of about 2 ms"; "" where nothing
    says): the one the workload's verdict states, from the serial runs its headlines were
    paired with (``duel_of``), so the kind's line and the workload's line agree."""
    d = duel_of(results, workload)
    size = tasks_of_about((d.threads, d.processes))
    if not size:  # no headline: the serial cell's own runs
        serial = next((c for c in results.cells_of(workload)
                       if c.strategy == "serial" and c.ok), None)
        size = tasks_of_about([serial]) if serial is not None else ""
    return workload, size.replace("for tasks", "tasks")


@dataclass(frozen=True)
class KindVerdict:
    """Per kind of work, which kind of worker to use: the answer as data (the report puts
    it in words: ``bench.report.verdicts``).

    ``outcome``: ``"use"`` (``top`` surely beats serial), ``"serial"`` (nothing beats
    serial by more than the tie band), ``"unsure"`` (the best is not surely faster than
    serial: ``top`` is the likeliest), ``"undecided"`` (no kind of worker has a cell
    precise enough on every workload: ``top`` is None). With ``"use"``, ``tie`` says why
    threads were kept or not: ``"threads_cheaper"`` (the best, ``passed_over``, is not
    surely more than the tie band faster than threads, which surely beat serial: threads
    win, costing less), ``"threads_unsure"`` (``top`` is not surely more than the tie
    band faster than threads, ``passed_over``, which are not surely faster than serial),
    or ``""``; ``others``: the best of each other model."""

    kind: str
    gil: bool  # the run's threads held a GIL: the kind's title says so
    workloads: tuple[tuple[str, str], ...]  # (workload, its task size in words, or "")
    outcome: str
    top: Score | None = None
    tie: str = ""
    passed_over: Score | None = None
    others: tuple[Score, ...] = ()


def kind_verdicts(results: Results) -> list[KindVerdict]:
    """Per kind of work, the recommended model (and its strategies) with its speedup: the
    geometric mean of each workload's headline, its range holding jointly after the
    choice of model (computed once per run)."""
    return list(once(results, "kind_verdicts", lambda: tuple(_kind_verdicts(results))))


def _kind_verdicts(results: Results) -> list[KindVerdict]:
    out = []
    gil = gil_on(results)
    for kind in KINDS:
        names = [w for w in results.workloads()
                 if any(c.kind == kind for c in results.cells_of(w))]
        if names:
            out.append(_kind_verdict(results, kind, gil, names))
    return out


def _kind_verdict(results: Results, kind: str, gil: bool, names: list[str]) -> KindVerdict:
    workloads = tuple(_with_size(results, w) for w in names)
    scores = _scores(results, names)
    if not scores:
        return KindVerdict(kind, gil, workloads, "undecided")
    top = max(scores, key=lambda s: (s.low, s.point))
    if all(s.high < TIE_RATIO for s in scores):
        return KindVerdict(kind, gil, workloads, "serial", top)
    if top.low <= 1.0:
        return KindVerdict(kind, gil, workloads, "unsure", max(scores, key=lambda s: s.point))
    by_model = {s.model: s for s in scores}
    thread_best = by_model.get("threads")
    tie, passed_over = "", None
    # Surely more than the tie band faster than threads on every workload of the kind, by
    # the workloads' own verdicts (their paired rounds): the kind says what they say.
    apart = all(duel_of(results, w).winner == top.model for w in names)
    if (thread_best and top.model != "threads" and not apart
            and top.low / thread_best.high <= TIE_RATIO):
        if thread_best.low > 1.0:
            # Not surely more than the tie band apart, and threads surely beat serial
            # too: threads win (no start-up, no pickling, shared memory).
            tie, passed_over, top = "threads_cheaper", top, thread_best
        else:
            tie, passed_over = "threads_unsure", thread_best
    others = tuple(o for m in ("threads", "processes")
                   if (o := by_model.get(m)) is not None and o is not top)
    return KindVerdict(kind, gil, workloads, "use", top, tie, passed_over, others)


def cpu_share(serial: Cell) -> float | None:
    """The part of a serial run's time this process spent on the CPU (the rest: waiting)."""
    if serial.cpu_s is None or not serial.median_s:
        return None
    return max(0.0, min(1.0, serial.cpu_s / serial.median_s))


def mixed_sides(results: Results) -> list[str]:
    """For each mixed workload (and task size), which side of the waiting-versus-Python-
    work balance the measurement landed on, from the serial run's CPU share and the
    threads-or-processes verdict."""
    usable = results.usable_cpus
    gil = gil_on(results)
    lines = []
    for w in results.workloads():
        for size, cells in results.sizes_of(w).items():
            if not cells or cells[0].kind != "mixed":
                continue
            serial = next((c for c in cells if c.strategy == "serial" and c.ok), None)
            share = cpu_share(serial) if serial else None
            winner = duel(cells, usable).winner
            where = f"{w} at size {size}" if len(results.sizes_of(w)) > 1 else w
            split = (f"{share:.0%} of its serial time on the CPU, {1 - share:.0%} waiting"
                     if share is not None else "its CPU share was not measured")
            if winner == "threads":
                side = ("landed on the waiting side: threads overlap the waits, and the "
                        "Python work between them is too little for other cores to pay")
            elif winner == "processes":
                side = ("landed on the Python-work side: the work after each wait "
                        + ("runs one thread at a time under the GIL, and " if gil else "")
                        + "outweighs what processes pay to start and to send results back")
            elif winner == "tie":
                side = ("landed near the balance: threads and processes tie, so threads "
                        "(cheaper) will do")
            else:
                side = ("can't tell which side it landed on: threads and processes are not "
                        "apart at this precision")
            lines.append(f"{where} ({split}) {side}. Longer waits or less Python work per "
                         "task favour threads; more work favours processes (--sizes shows "
                         "where the answer flips).")
    return lines
