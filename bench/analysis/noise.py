"""What a run's own record says about the machine's noise while it ran.

``bench.machine`` reads the machine (``OthersCpu`` measures what other programs took);
judging that reading is the analysis's, so a report reads it without loading the code
that collects it.
"""

from __future__ import annotations

from typing import Any

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
