"""What a run's own record says about the machine's noise while it ran.

``bench.machine`` reads the machine (``OthersCpu`` measures what other programs took);
judging that reading is the analysis's, so a report reads it without loading the code
that collects it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench import stats
from bench.results import Cell, Results

BUSY_OTHERS = 0.10  # other programs using this share of the machine's CPU time during a run


def others_check(fraction: float | None) -> dict[str, Any] | None:
    """The during-run check: what other programs took of the machine's CPUs."""
    if fraction is None:
        return None
    busy = fraction >= BUSY_OTHERS
    return {"check": "other programs' CPU use during the run",
            "value": f"{fraction:.1%} of the machine's CPU time", "ok": not busy,
            "advice": "other programs competed for the CPUs: close them and run again"
                      if busy else ""}


@dataclass(frozen=True)
class TwoModes:
    """A cell whose runs fell into two groups (``stats.second_mode``), relative to the
    serial runs they were paired with: its slower group's share of the runs and how much
    slower that group ran."""

    cell: Cell
    share: float
    slower: float


def two_modes(results: Results) -> list[TwoModes]:
    """The ok cells (the confirmation's runs where there is one) whose runs, each divided
    by the serial run of its round (so a drift both shared cancels), form two modes: a
    cell that lost a CPU, or the GIL's switch interval, for whole runs. Its median and
    interval still hold for the mixture the machine gave it; the report says so."""
    out = []
    for c in results.cells:
        conf = c.confirmation
        times, serial = ((conf.times_s, conf.serial_times_s) if conf is not None and conf.ok
                         else (c.times_s, c.serial_times_s))
        if not c.ok or c.strategy == "serial" or not times:
            continue
        rel = [t / s for t, s in zip(times, serial, strict=True)] if serial else list(times)
        found = stats.second_mode(rel)
        if found is not None:
            out.append(TwoModes(c, found.share, found.slower))
    return out
