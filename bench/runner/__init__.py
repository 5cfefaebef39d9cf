"""Measurement: how a plan's cells are run and timed.

- ``expand``: the cells a ``Plan`` (``bench.plan``, validated by the CLI) expands to
  (``specs``), and about how long they take (``expected_s``);
- ``precision``: when a cell has been repeated enough (``Precision``, ``StoppingRule``);
- ``block``: ``BlockMeasurement``, the paired, drift-cancelling rounds of a block of
  cells (the clock is a parameter, so tests use a fake one);
- ``cell``: the one way a ``Cell`` is made from timed runs (``build_cell``), which the
  pytest path uses too, and the CPU and memory readings around them (``CellMeter``);
- ``rounds``: the alternating order of a round, for every place that pairs runs;
- ``placement``: which CPU a round's serial run and one-worker cells run on;
- ``sweep``: the whole sweep, block by block (``run``), and ``confirm``: the best cells
  measured again after it, so their intervals hold after the choice; ``decide``: a
  second look at a threads-or-processes duel the confirmation left undecided, within
  the run's decision budget;
- ``granularity``: the task sizes and estimate of the granularity sweep.

Every timed run is also bracketed by a CPU-time and a peak-memory reading
(``bench.meters``).
"""

from gilbench.bench.plan import CellSpec, Plan, Precision
from gilbench.bench.runner.block import (
    BlockMeasurement,
    ResultMismatch,
    Round,
    SerialRunFailed,
    cell_fields,
    measure,
    measure_block,
)
from gilbench.bench.runner.cell import CellMeter, build_cell
from gilbench.bench.runner.expand import (
    MAX_SWEEP_TASKS,
    expected_s,
    points,
    spec_cost_s,
    specs,
    suite_cost_s,
)
from gilbench.bench.runner.precision import Clock, StoppingRule, noise_reason
from gilbench.bench.runner.sweep import (
    MAX_LIVE_WORKERS,
    blas_limit,
    blocks_of,
    missing_requirement,
    run,
    single_thread_blas,
)

__all__ = [
    "MAX_LIVE_WORKERS",
    "MAX_SWEEP_TASKS",
    "BlockMeasurement",
    "CellMeter",
    "CellSpec",
    "Clock",
    "Plan",
    "Precision",
    "ResultMismatch",
    "Round",
    "SerialRunFailed",
    "StoppingRule",
    "blas_limit",
    "blocks_of",
    "build_cell",
    "cell_fields",
    "expected_s",
    "measure",
    "measure_block",
    "missing_requirement",
    "noise_reason",
    "points",
    "run",
    "single_thread_blas",
    "spec_cost_s",
    "specs",
    "suite_cost_s",
]
