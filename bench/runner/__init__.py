"""Measurement: how a plan's cells are run and timed.

- ``plan``: the ``Plan`` (validated by the CLI) and the ``CellSpec`` it expands to;
- ``precision``: when a cell has been repeated enough (``Precision``, ``StoppingRule``);
- ``block``: ``BlockMeasurement``, the paired, drift-cancelling rounds of a block of
  cells (the clock is a parameter, so tests use a fake one);
- ``sweep``: the whole sweep, block by block (``run``).

Every timed run is also bracketed by a CPU-time and a peak-memory reading
(``bench.meters``).
"""

from bench.runner.block import (
    BlockMeasurement,
    ResultMismatch,
    Round,
    SerialRunFailed,
    cell_fields,
    measure,
    measure_block,
)
from bench.runner.plan import MAX_SWEEP_TASKS, CellSpec, Plan
from bench.runner.precision import Clock, Precision, StoppingRule, noise_reason
from bench.runner.sweep import (
    MAX_LIVE_WORKERS,
    blas_limit,
    blocks_of,
    missing_requirement,
    run,
    single_thread_blas,
)

__all__ = ["MAX_LIVE_WORKERS", "MAX_SWEEP_TASKS", "BlockMeasurement", "CellSpec", "Clock",
           "Plan", "Precision", "ResultMismatch", "Round", "SerialRunFailed", "StoppingRule",
           "blas_limit", "blocks_of", "cell_fields", "measure", "measure_block",
           "missing_requirement", "noise_reason", "run", "single_thread_blas"]
