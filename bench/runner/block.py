"""The product's core: a block of cells measured together in paired, drift-cancelling
rounds.

``BlockMeasurement`` reads as its steps: ``start`` every cell's workers (timed as
``startup_s``) and warm them; then ``run_round`` — each unfinished cell once and
the serial kernel once, serial first in even rounds and last in odd ones (serial,
A, B, C, then C, B, A, serial: a linear drift cancels) — and ``settle`` (pair each
run with the round's serial run; a cell whose interval is tight enough, or whose
budget is spent, leaves the rounds and its workers close); ``tear_down`` on
Ctrl-C or a bug; ``cells`` at the end. Each step is testable with a fake clock.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gilbench.bench import machine, meters
from gilbench.bench.kinds import CEILING_SLACK, gil_bound, speedup_ceiling
from gilbench.bench.results import Cell
from gilbench.bench.runner.cell import CellMeter, build_cell
from gilbench.bench.runner.expand import CellSpec
from gilbench.bench.runner.placement import Placement, baseline_time, rank_cpus
from gilbench.bench.runner.precision import (
    STOP_CONFIDENCE,
    Clock,
    Interval,
    Precision,
    StoppingRule,
    cell_interval,
)
from gilbench.bench.runner.rounds import forward, in_order
from gilbench.bench.stats import CONFIDENCE
from gilbench.bench.strategies import (
    STRATEGIES,
    CellFailure,
    Deadline,
    Strategy,
    ctrl_c_deferred,
    describe,
    reraise_ctrl_c,
)
from gilbench.bench.watchdog import watched
from gilbench.workloads import WORKLOADS

Outcome = tuple[Cell, list[Any] | None]  # a cell, and its task results (the reference)


class ResultMismatch(CellFailure):
    pass


class SerialRunFailed(CellFailure):
    pass


def cell_fields(spec: CellSpec,
                strategies: dict[str, type[Strategy]] = STRATEGIES) -> dict[str, Any]:
    """The identifying fields of a spec's Cell (a thread strategy has no start method)."""
    cls = strategies[spec.strategy]
    return dict(workload=spec.workload, kind=WORKLOADS[spec.workload].kind, size=spec.size,
                tasks=spec.tasks, strategy=spec.strategy, model=cls.model,
                start_method=spec.start_method if cls.uses_processes else None,
                workers=spec.workers, size_calibrated=WORKLOADS[spec.workload].calibrated)


class _Slot:
    """One cell of a block while it is measured."""

    def __init__(self, spec: CellSpec, strat: Strategy) -> None:
        self.spec = spec
        self.strat = strat
        self.startup_s: float | None = None
        self.times: list[float] = []
        self.serial: list[float] = []
        self.cpus: list[int] = []  # the CPU of each pair's round (pinned placement)
        self.meter = CellMeter()
        self.failure: BaseException | None = None
        self.done = False
        self.closed = False
        self.left_early: str | None = None
        self.out: list[Any] | None = None
        self.cell: Cell | None = None
        self.reached_target = False  # left the rounds early, its interval on target
        self._intervals: dict[tuple[int, int, float], Interval] = {}

    def interval(self, confidence: float = CONFIDENCE) -> Interval:
        """``cell_interval`` of the pairs so far, as the rounds' decisions read it (the
        order statistics, not interpolated), computed once per count of pairs (the block
        asks for every cell's interval each round, to find dominated cells)."""
        key = (len(self.times), len(self.serial), confidence)
        if key not in self._intervals:
            self._intervals[key] = cell_interval(self.serial, self.times, confidence,
                                                 interpolated=False)
        return self._intervals[key]

    def busy_cpus(self, usable: int) -> int | None:
        """How many CPUs the cell can keep busy (None: no limit the physics sets): its
        ceiling (``speedup_ceiling``), 1 for threads that share a GIL on pure Python."""
        kind = WORKLOADS[self.spec.workload].kind if self.spec.workload in WORKLOADS else ""
        ceiling = speedup_ceiling(kind, self.spec.workers, usable,
                                  gil_bound(self.strat.model, self.strat.gil_in_workers))
        return None if ceiling is None else max(1, int(ceiling))

    def half_width(self) -> float | None:
        """What the stopping rule looks at (None: too few runs for an interval)."""
        return self.interval(STOP_CONFIDENCE)[2]

    def fail(self, exc: BaseException) -> None:
        """Record why the cell failed and tear its workers down at once."""
        self.failure = exc
        self.done = True
        self.terminate()

    def terminate(self) -> None:
        if not self.closed:
            self.closed = True
            self.strat.terminate()


@dataclass
class Round:
    """The cells one round ran, and the serial run paired with them (None: unpaired)."""

    cells: list[_Slot]
    serial_s: float | None  # the serial time the cells of several workers pair with
    cpu: int | None = None  # the CPU the one-worker cells and their serial run were pinned to
    pinned_s: float | None = None  # that pinned serial run (None: none this round)
    spread: tuple[int, ...] = ()  # the CPUs of the serial runs behind ``serial_s`` (empty:
    # one run the OS placed)
    runs: dict[int, float] = field(default_factory=dict)  # the spread's runs, by CPU
    ranked: list[int] | None = None  # the spread, fastest first by the earlier rounds (the
    # first round: by its own runs)

    def serial_for(self, slot: _Slot, usable: int) -> float | None:
        """The serial run this cell's run pairs with: the pinned one for a one-worker cell;
        for one of several workers, the serial time at the mean speed of the CPUs it can
        keep busy, the fastest of the round's (``placement.baseline_time``)."""
        if slot.spec.workers == 1 and self.pinned_s is not None:
            return self.pinned_s
        if self.runs and self.spread:
            return baseline_time(self.runs, self.ranked, slot.busy_cpus(usable))
        return self.serial_s


class BlockMeasurement:
    """Measure a block of cells of one workload and size together.

    A cell leaves the rounds when ``precision`` says it is done (its workers
    are closed then, and the time it did not use is left to the others); a
    cell that fails is torn down at once and the others go on. Without
    ``serial`` nothing is paired and a cell's precision is that of its median.
    """

    def __init__(self, specs: Sequence[CellSpec], task: Callable[[Any], Any],
                 reference: list[Any] | None, *, precision: Precision, warmup: int,
                 timeout_s: float | None, serial: Strategy | None = None,
                 initializer: Callable[[], None] | None = None,
                 clock: Clock = time.perf_counter, usable_cpus: int | None = None,
                 strategies: dict[str, type[Strategy]] = STRATEGIES,
                 placement: Placement | None = None,
                 addresses: dict[str, str] | None = None) -> None:
        self.specs = list(specs)
        self.addresses = addresses or {}  # the existing clusters of the plan (Plan.addresses)
        self.task = task
        self.reference = reference
        self.precision = precision
        self.warmup = warmup
        self.timeout_s = timeout_s
        self.serial = serial
        self.initializer = initializer
        self.clock = clock
        self.usable = usable_cpus or machine.usable_cpus()
        self.strategies = strategies
        self.items = list(range(self.specs[0].tasks))
        self.slots: list[_Slot] = []
        self.rounds = 0
        self.rule = StoppingRule(precision, 1, clock)  # replaced when the cells have started
        self.placement = placement or Placement()
        self.serial_by_cpu: dict[int, list[float]] = {}  # each CPU's pinned serial runs
        self.skipped: dict[CellSpec, Cell] = {}
        for spec in self.specs:
            why = self._cannot_run(spec)
            if why:
                self.skipped[spec] = Cell(status="skipped", error=why, **self._fields(spec))

    @property
    def paired(self) -> bool:
        return self.serial is not None

    def measure(self) -> list[Outcome]:
        """Every step in order; whatever happens, no worker is left running."""
        try:
            self.start()
            while self.active():
                done = self.run_round()
                if done is not None:
                    self.settle(done)
        except BaseException:
            self.tear_down()
            raise
        finally:
            self.placement.close()
        return self.cells()

    # ------------------------------------------------------------ the steps

    def start(self) -> None:
        """Start and warm every runnable cell's workers, then start the budget clock."""
        for spec in self.specs:
            if spec in self.skipped:
                continue
            cls = self.strategies[spec.strategy]
            slot = _Slot(spec, cls(spec.workers, spec.start_method, self.initializer,
                                   self.addresses.get(spec.strategy)))
            self.slots.append(slot)  # before it starts: a Ctrl-C now still tears it down
            self._start_cell(slot)
        self.rule = StoppingRule(self.precision, len(self.slots), self.clock)

    def active(self) -> list[_Slot]:
        """The cells still in the rounds."""
        return [s for s in self.slots if not s.done and s.failure is None]

    def run_round(self) -> Round | None:
        """Each active cell once and the serial kernel once per CPU it pairs on, in the
        order that alternates every round; the serial run and every one-worker cell on the
        round's CPU, and for the cells of several workers a serial run on each CPU of the
        round's spread (``placement``). None when a serial run failed (and with it the
        round's cells)."""
        active = self.active()
        ahead = forward(self.rounds)
        cpu = self.placement.cpu_of(self.rounds) if self.paired else None
        ones = cpu is not None and any(s.spec.workers == 1 for s in active)
        several = any(s.spec.workers > 1 for s in active) or not ones
        spread = self.placement.spread_of(self.rounds) if self.paired and several else []
        done = Round(active, None, cpu if ones else None, spread=tuple(spread))
        if self.paired and ahead and not self._serial_runs(done, ones, several):
            return None
        for slot in in_order(active, self.rounds):
            with self.placement.on(cpu if ones and slot.spec.workers == 1 else None,
                                   slot.strat.pids):
                self._run_cell(slot)
        if self.paired and not ahead and not self._serial_runs(done, ones, several):
            return None
        self.rounds += 1
        return done

    def settle(self, done: Round) -> None:
        """Pair the round's runs; finish the cells that converged or can decide nothing
        more (``_dominated``), or all when time is up."""
        for slot in done.cells:
            if slot.failure is not None:
                continue
            serial_s = done.serial_for(slot, self.usable)
            if serial_s is not None:
                slot.serial.append(serial_s)
                if done.cpu is not None and slot.spec.workers == 1:
                    slot.cpus.append(done.cpu)
            if self.rule.converged(len(slot.times), slot.half_width()):
                slot.reached_target = self.rule.early(len(slot.times), slot.half_width())
                self._finish(slot)
        for slot in done.cells:
            if not slot.done and slot.failure is None:
                slot.left_early = self._dominated(slot)
                if slot.left_early:
                    self._finish(slot)
        if self.rule.out_of_time(self.rounds):
            for slot in self.active():
                self._finish(slot)

    def tear_down(self) -> None:
        """Kill every cell's workers that are not closed yet (Ctrl-C, a bug): all of
        them, whatever the user presses meanwhile (a second Ctrl-C insists)."""
        with ctrl_c_deferred():
            for slot in self.slots:
                slot.terminate()

    def cells(self) -> list[Outcome]:
        """Every cell of the block, in the order of its specs."""
        out: dict[CellSpec, Outcome] = {s: (c, None) for s, c in self.skipped.items()}
        for slot in self.slots:
            if slot.failure is not None:
                exc = slot.failure
                status = exc.status if isinstance(exc, CellFailure) else "error"
                text = str(exc) if isinstance(exc, CellFailure) else describe(exc)
                cell = Cell(status=status, error=text, times_s=tuple(slot.times),
                            startup_s=slot.startup_s, **self._fields(slot.spec))
                out[slot.spec] = (cell, None)
            else:
                assert slot.cell is not None, "a cell left the rounds without finishing"
                out[slot.spec] = (slot.cell, slot.out)
        return [out[s] for s in self.specs]

    # ------------------------------------------------------------ helpers

    def _fields(self, spec: CellSpec) -> dict[str, Any]:
        return cell_fields(spec, self.strategies)

    def _cannot_run(self, spec: CellSpec) -> str | None:
        cls = self.strategies[spec.strategy]
        available, why = cls.available()
        if not available:
            return why
        return cls.applies_to(self.task)

    def _deadline(self) -> Deadline:
        return Deadline(self.timeout_s)

    def _watch(self, phase: str, strat: Strategy | None = None
               ) -> contextlib.AbstractContextManager[None]:
        """A run in this process's own thread (the serial strategy, ``strat`` None: the
        paired serial run) bounded by the time limit: a kernel that never returns there
        stops the run in one line (``bench.watchdog``), where a worker's is killed."""
        if strat is not None and not strat.in_this_thread:
            return contextlib.nullcontext()
        return watched(getattr(self.task, "workload", repr(self.task)), phase, self.timeout_s)

    def _checked(self, result: list[Any]) -> list[Any]:
        if self.reference is not None and result != self.reference:
            raise ResultMismatch("results differ from the serial run's")
        return result

    def _start_cell(self, slot: _Slot) -> None:
        before = meters.children()
        try:
            t0 = self.clock()
            slot.strat.start(self._deadline())
            slot.startup_s = self.clock() - t0
            for _ in range(self.warmup):
                with self._watch(f"the {slot.spec.strategy} cell's warm-up run", slot.strat):
                    out = slot.strat.map(self.task, self.items, self._deadline())
                slot.out = self._checked(out)
        except Exception as exc:
            reraise_ctrl_c()
            slot.fail(exc)
            return
        slot.meter.started(before, slot.strat.pids)

    def _run_cell(self, slot: _Slot) -> None:
        """One timed run of a cell, bracketed by its CPU and peak-memory readings."""
        try:
            slot.meter.before_run()
            with self._watch(f"the {slot.spec.strategy} cell's timed run", slot.strat):
                t0 = self.clock()
                result = slot.strat.map(self.task, self.items, self._deadline())
                slot.times.append(self.clock() - t0)
            slot.meter.after_run()
            slot.out = self._checked(result)
        except Exception as exc:
            reraise_ctrl_c()
            slot.fail(exc)

    def _serial_runs(self, done: Round, ones: bool, several: bool) -> bool:
        """The round's serial runs: one pinned to its CPU for the one-worker cells; for the
        cells of several workers (which use every CPU) one pinned to each CPU of the round's
        spread, the run on the round's CPU included, combined at the mean speed of the
        CPUs each cell can keep busy (``Round.serial_for``, ``placement.baseline_time``),
        or one the OS placed where placement is free. False when one failed (and with it
        the round's cells)."""
        runs: dict[int, float] = {}
        for cpu in ([done.cpu] if ones and done.cpu is not None else []) + list(done.spread):
            if cpu in runs:
                continue
            pinned = self.placement.run_on(cpu, lambda: self._serial_run(done.cells))
            if pinned is None:
                return False
            runs[cpu] = pinned
        if ones and done.cpu is not None:
            done.pinned_s = runs[done.cpu]
        if several and done.spread:
            done.runs = {c: runs[c] for c in done.spread}
            done.ranked = rank_cpus(self.serial_by_cpu, done.runs)
            done.serial_s = baseline_time(done.runs, None, None)
        elif several:
            free = self.placement.run_on(None, lambda: self._serial_run(done.cells))
            if free is None:
                return False
            done.serial_s = free
        for cpu, t in runs.items():
            self.serial_by_cpu.setdefault(cpu, []).append(t)
        return True

    def _serial_run(self, active: list[_Slot]) -> float | None:
        """One timed serial run; if it fails, so do the cells it is paired with (None)."""
        assert self.serial is not None
        try:
            with self._watch("the serial run paired with the "
                             f"{', '.join(sorted({s.spec.strategy for s in active}))} cells"):
                t0 = self.clock()
                result = self.serial.map(self.task, self.items, self._deadline())
                elapsed = self.clock() - t0
            self._checked(result)
        except Exception as exc:
            reraise_ctrl_c()
            text = str(exc) if isinstance(exc, CellFailure) else describe(exc)
            for slot in active:
                if slot.failure is None:
                    slot.fail(SerialRunFailed(
                        f"the serial run interleaved with it failed: {text}"))
            return None
        return elapsed

    def _dominated(self, slot: _Slot) -> str | None:
        """Why more pairs for this cell would decide nothing, or None: even its 99%
        interval's upper end is below the 95% lower end of another cell of the same
        strategy (and start method) within the physics, so it cannot be that
        strategy's best, which is all a verdict or a chart's best marker reads. The
        time it leaves goes to the other cells of the block."""
        if not self.paired or len(slot.times) < self.precision.min_repeats:
            return None
        mine = slot.interval(STOP_CONFIDENCE)[1]
        if mine is None:
            return None
        kind = WORKLOADS[slot.spec.workload].kind if slot.spec.workload in WORKLOADS else ""
        for other in self.slots:
            same = (other.spec.strategy, other.spec.start_method) == (
                slot.spec.strategy, slot.spec.start_method)
            if other is slot or not same or other.failure is not None or len(other.times) < 2:
                continue
            point, theirs, _ = other.interval()
            ceiling = speedup_ceiling(kind, other.spec.workers, self.usable,
                                      gil_bound(other.strat.model, other.strat.gil_in_workers))
            if theirs is None or (ceiling is not None and (
                    point > ceiling * (1 + CEILING_SLACK) or theirs[0] > ceiling)):
                continue
            if theirs[0] > mine[1]:
                return (f"left after {len(slot.times)} pairs on purpose: surely slower than "
                        f"{other.spec.workers} workers of the same strategy (its 99% interval "
                        f"ends at {mine[1]:.2f}×, below their {theirs[0]:.2f}×), so more "
                        "pairs could not change a verdict")
        return None

    def _gil_at_end(self, slot: _Slot) -> bool | None:
        """Whether the GIL was on in the cell's workers, when they started or after its
        runs (on a free-threaded build a kernel's import can turn it on in between; on
        a GIL build it is on throughout, and the workers are not asked again)."""
        if not machine.free_threaded_build() or slot.strat.gil_in_workers is None:
            return slot.strat.gil_in_workers
        return slot.strat.gil_in_workers or slot.strat.gil_now(self._deadline())

    def _finish(self, slot: _Slot) -> None:
        """The slot's cell from its runs (``build_cell``); its workers measured, then
        closed."""
        slot.done = True
        readings = slot.meter.readings(len(slot.times))
        try:
            gil = self._gil_at_end(slot)
            with ctrl_c_deferred():  # closed whole (a Dask cluster half-closed lives on)
                slot.strat.close()
                slot.closed = True
        except Exception as exc:  # its runs were fine, but its workers would not stop
            reraise_ctrl_c()
            slot.terminate()
            slot.failure = CellFailure(f"closing its workers failed: {describe(exc)}")
            return
        slot.cell = build_cell(self._fields(slot.spec), slot.times, slot.serial,
                               precision=self.precision, paired=self.paired,
                               usable_cpus=self.usable, startup_s=slot.startup_s,
                               readings=readings, gil=gil, left_early=slot.left_early,
                               reached_target=slot.reached_target,
                               pair_cpus=slot.cpus if len(slot.cpus) == len(slot.serial) else ())


def measure_block(specs: Sequence[CellSpec], task: Callable[[Any], Any],
                  reference: list[Any] | None, **options: Any) -> list[Outcome]:
    """Measure a block of cells together (``BlockMeasurement``'s options)."""
    return BlockMeasurement(specs, task, reference, **options).measure()


def measure(spec: CellSpec, task: Callable[[Any], Any], reference: list[Any] | None, *,
            repeats: int, warmup: int, timeout_s: float | None,
            initializer: Callable[[], None] | None = None, clock: Clock = time.perf_counter,
            strategies: dict[str, type[Strategy]] = STRATEGIES) -> Outcome:
    """Measure one cell on its own (no interleaved serial runs); return it and the
    task results of its last run."""
    [(cell, out)] = measure_block([spec], task, reference,
                                  precision=Precision.fixed(repeats),
                                  warmup=warmup, timeout_s=timeout_s, initializer=initializer,
                                  clock=clock, strategies=strategies)
    return cell, out
