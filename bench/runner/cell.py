"""One way to make a ``Cell`` from its timed runs, whoever ran them.

``gilbench run`` (``BlockMeasurement``) and the pytest path (``bench.pytest_plugin``)
time the same cells in the same paired, alternating order — the serial run before the
cell's in even rounds, after it in odd ones, so a linear drift of the machine cancels —
and hand their runs here:

- ``CellMeter`` brackets each timed run with gilbench's CPU-time and peak-memory readings
  (outside the timed region) and reads the workers' CPU time from their start to the end;
- ``build_cell`` turns the runs into the cell: median, spread, the paired speedup with its
  95% interval (``results.with_speedup``, the one place a speedup is computed, for a run's
  cells and a file's alike), the noise rule, CPU use and peak memory. Every field a
  sweep's cell has, the pytest path's has too.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gilbench.bench import meters, stats
from gilbench.bench.plan import Precision
from gilbench.bench.results import Cell, with_speedup
from gilbench.bench.runner.precision import cell_interval, noise_reason


@dataclass
class CellMeter:
    """gilbench's own CPU time and peak memory over a cell's timed runs, and its workers'
    CPU time from their start to the cell's end."""

    own_cpu_s: float = 0.0
    own_peak: meters.OwnPeak = field(default_factory=meters.OwnPeak)
    worker_pids: set[int] = field(default_factory=set)
    worker_cpu0: float | None = None
    _cpu0: float | None = None

    def started(self, before: set[int], pids: Iterable[int]) -> None:
        """The workers have started: the children that are new since ``before``, and the
        pids the strategy names."""
        self.worker_pids = (meters.children() - before) | set(pids)
        self.worker_pids.discard(os.getpid())
        self.worker_cpu0 = meters.cpu_s_of(self.worker_pids)

    def before_run(self) -> None:
        self.own_peak.before_run()
        self._cpu0 = meters.main_cpu_s()

    def after_run(self) -> None:
        if self._cpu0 is not None:
            self.own_cpu_s += meters.main_cpu_s() - self._cpu0
            self._cpu0 = None
        self.own_peak.after_run()

    def readings(self, runs: int) -> tuple[float | None, int | None]:
        """CPU seconds per run (gilbench's and its workers'; None where psutil cannot
        read the workers) and the peak resident memory of the tree; read before the
        workers close."""
        peak = meters.tree_peak_bytes(self.own_peak.peak, self.worker_pids)
        cpu_s: float | None = self.own_cpu_s
        if self.worker_pids:
            worker_cpu1 = meters.cpu_s_of(self.worker_pids)
            if self.worker_cpu0 is None or worker_cpu1 is None:
                cpu_s = None  # no psutil: the workers' share is unknown
            else:
                cpu_s = self.own_cpu_s + worker_cpu1 - self.worker_cpu0
        return (None if cpu_s is None else cpu_s / max(1, runs)), peak


def build_cell(fields: dict[str, Any], times: Sequence[float], serial: Sequence[float], *,
               precision: Precision, paired: bool, usable_cpus: int,
               startup_s: float | None, readings: tuple[float | None, int | None],
               gil: bool | None, left_early: str | None = None,
               pair_cpus: Sequence[int] = (), reached_target: bool = False) -> Cell:
    """The ok cell of these timed runs (``serial``: the serial runs paired with them, one
    per round, when ``paired``). ``fields``: the cell's identity (``cell_fields``)."""
    cpu_s, peak = readings
    wall = statistics.fmean(times)
    util = None if cpu_s is None or wall <= 0 else cpu_s / wall / usable_cpus
    rs = stats.rel_std(times)
    cell = Cell(status="ok", times_s=tuple(times), median_s=stats.median(times),
                startup_s=startup_s, cpu_s=cpu_s, rel_std=rs, cpu_utilization=util,
                peak_rss_bytes=peak, gil_enabled_in_workers=gil, left_early=left_early,
                reached_target=reached_target, **fields)
    if paired:  # the speedup, its interval and efficiency: computed where a file's are
        cell = with_speedup(dataclasses.replace(cell, serial_times_s=tuple(serial),
                                                pair_cpus=tuple(pair_cpus)), serial)
    else:  # the serial cell: the spread of its median
        cell = dataclasses.replace(cell, ci_half_width=cell_interval(
            (), times, interpolated=not reached_target)[2])
    reason = None if left_early else noise_reason(cell.ci_half_width, rs, len(times),
                                                  precision)
    return dataclasses.replace(cell, noisy=reason is not None, noise=reason)
