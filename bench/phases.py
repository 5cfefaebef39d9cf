"""Named moments of a run, where a test can press Ctrl-C.

With ``GILBENCH_SIGINT_AT=PHASE`` (or ``PHASE:DELAY``, seconds) in the environment,
gilbench sends SIGINT to its own process group — what a terminal's Ctrl-C does — when
it reaches ``PHASE``: at once, or ``DELAY`` seconds later from a timer thread, so that
the signal lands in the *middle* of what the phase starts (a Dask cluster coming up, a
cost suite measuring). It says so on stderr with the time, so a test can tell how long
the exit took. Once per process. Unset (always, outside tests), ``reached`` is one
environment lookup.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

from gilbench.bench.suites import COST_SUITES

ENV = "GILBENCH_SIGINT_AT"
MARK = "gilbench test hook: SIGINT at"

PHASES = {
    "sweep": "the sweep, between two cells",
    "dask-start": "a Dask LocalCluster starting",
    "dask-close": "a Dask LocalCluster closing",
    "ray-start": "a local Ray starting (ray.init)",
    "ray-close": "a local Ray shutting down",
    "loky-start": "a loky executor starting its workers",
    "subinterpreters": "a subinterpreters cell running (Python 3.13+)",
    "interpreter_pool": "an interpreter_pool cell running (Python 3.14+)",
    # Each cost suite's own (CostSuite.phase): a new suite has one without an edit here.
    **{f"suite-{name}": f"the {name} cost suite" for name in COST_SUITES},
    "python-run": "a --python run (the sweep in another interpreter)",
    "single-thread": "a --python run's interleaved serial runs (single-thread cost)",
    "selfcheck": "gilbench selfcheck",
    "pytest": "a benchmark of the pytest path",
    "pytest-report": "the pytest path writing its results and report, after the tests",
}

_fired = False
_terminal_group: int | None = None  # set by a process that leaves gilbench's group


def leaving_group() -> None:
    """Called by a process about to lead a process group of its own (an ``Apart`` host):
    its Ctrl-C still goes where a terminal's would, to the group it leaves."""
    global _terminal_group
    _terminal_group = os.getpgrp()


def reached(phase: str) -> None:
    """Play Ctrl-C here if the environment asks for it at ``phase``."""
    global _fired
    spec = os.environ.get(ENV)
    if not spec or _fired:
        return
    name, _, delay = spec.partition(":")
    if name != phase:
        return
    _fired = True

    def press() -> None:
        print(f"{MARK} {phase} {time.time():.3f}", file=sys.stderr, flush=True)
        group = os.getpgrp() if _terminal_group is None else _terminal_group
        os.killpg(group, signal.SIGINT)

    if delay:
        timer = threading.Timer(float(delay), press)
        timer.daemon = True  # never holds up gilbench's exit
        timer.start()
    else:
        press()
