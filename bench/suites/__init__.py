"""The cost suites: what parallelism costs before and around the work itself.

The speedup sweep (``bench.runner``) says *whether* threads or processes pay;
these suites say *why* and *when*:

- ``startup``: starting and joining a worker, creating a pool of N, memory per
  worker, and the article's lifecycle claims (zombies, ``get(timeout)``);
- ``ipc``: throughput and round-trip latency of each transport across payloads;
- ``sync``: the cost of one hand-over with each synchronisation primitive;
- ``latency``: how long a waiting thread takes to respond while CPU-bound
  threads (or processes) run — the GIL's latency, as CPython's ccbench measured.

This package is light: importing it (as ``bench.results`` does, for the entry
types) imports no execution code. ``entries`` holds the data model, ``base`` what
the suites share (budgets, partners), and one module per suite its ``run``
(``base.SuiteRun``), imported only when the suite runs (``suite_run``).

Adding a cost suite (see docs/developing.md): its entry class in ``entries``
(``@entry_type``, with ``suite``, ``title``, ``label_fields``), a module here named
after it with ``run``, and its report module in ``bench/report/suites/`` (section,
chart, headline). Nothing else lists the suites.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from bench.suites.entries import (
    ENTRY_STATUSES,
    ENTRY_TYPES,
    Entry,
    IpcEntry,
    LatencyEntry,
    StartupEntry,
    SyncEntry,
    entry_type,
)

if TYPE_CHECKING:
    from bench.suites.base import SuiteRun

SPEEDUP = "speedup"  # the sweep of bench.runner, not a cost suite
COST_SUITES = tuple(ENTRY_TYPES)  # in the order they run
ALL_SUITES = (SPEEDUP, *COST_SUITES)
SUITE_TITLES = {SPEEDUP: "speedup of every strategy on every workload",
                **{name: cls.title for name, cls in ENTRY_TYPES.items()}}


def suite_run(name: str) -> SuiteRun:
    """The ``run`` function of a cost suite (its module is imported only now)."""
    if name not in COST_SUITES:
        raise KeyError(name)
    run: SuiteRun = importlib.import_module(f"bench.suites.{name}").run
    return run


__all__ = ["ALL_SUITES", "COST_SUITES", "ENTRY_STATUSES", "ENTRY_TYPES", "SPEEDUP",
           "SUITE_TITLES", "Entry", "IpcEntry", "LatencyEntry", "StartupEntry", "SyncEntry",
           "entry_type", "suite_run"]
