"""The cost suites: what parallelism costs before and around the work itself.

The speedup sweep (``bench.runner``) says *whether* threads or processes pay;
these suites say *why* and *when*:

- ``startup``: starting and joining a worker, creating a pool of N, memory per
  worker, and the article's lifecycle claims (zombies, ``get(timeout)``);
- ``ipc``: throughput and round-trip latency of each transport across payloads;
- ``sync``: the cost of one hand-over with each synchronisation primitive;
- ``latency``: how long a waiting thread takes to respond while CPU-bound
  threads (or processes) run — the GIL's latency, as CPython's ccbench measured.

This package is light: importing it imports no execution code. The records the
suites write are on the data floor (``bench.entries``, which ``bench.results`` reads);
here are ``base``, what the suites share (budgets, partners), and one module per suite
with its ``run`` (``base.SuiteRun``), imported only when the suite runs (``suite_run``).

Adding a cost suite (see docs/developing.md): its entry class in ``bench.entries``
(``@entry_type``, with ``suite``, ``title``, ``label_fields``), a module here named
after it with ``run`` and its declaration ``SUITE = CostSuite(...)`` (budget and
expected seconds per profile; its phase follows from its name), and its report module in
``bench/report/suites/`` (section, chart, headline, its own colours). Nothing else lists
the suites.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, overload

from gilbench.bench.entries import (
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
    from gilbench.bench.suites.base import CostSuite, SuiteRun

SPEEDUP = "speedup"  # the sweep of bench.runner, not a cost suite
SPEEDUP_TITLE = "speedup of every strategy on every workload"
# The task-size sweep (bench.runner.granularity): cells too, not a cost suite.
GRANULARITY = "granularity"
GRANULARITY_TITLE = ("speedup against per-task time, 0.1 to 100 ms, every strategy at the "
                     "usable CPUs; the task sizes where each way starts to pay")


class _Names(Sequence[str]):
    """Suite names read from the registry (``ENTRY_TYPES``) at each use, so a suite
    registered after this import (a plug-in's, a test's) is a suite like the others."""

    def __init__(self, *first: str) -> None:
        self.first = first

    def _names(self) -> tuple[str, ...]:
        return (*self.first, *ENTRY_TYPES)

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> tuple[str, ...]: ...
    def __getitem__(self, i: int | slice) -> str | tuple[str, ...]:
        return self._names()[i]

    def __len__(self) -> int:
        return len(self._names())

    def __repr__(self) -> str:
        return repr(self._names())


class _Titles(Mapping[str, str]):
    """Each suite's title, from the registry at each use."""

    def __getitem__(self, name: str) -> str:
        if name == GRANULARITY:
            return GRANULARITY_TITLE
        return SPEEDUP_TITLE if name == SPEEDUP else ENTRY_TYPES[name].title

    def __iter__(self) -> Iterator[str]:
        return iter(ALL_SUITES)

    def __len__(self) -> int:
        return len(ALL_SUITES)


COST_SUITES: Sequence[str] = _Names()  # in the order they run
ALL_SUITES: Sequence[str] = _Names(SPEEDUP, GRANULARITY)
# What `gilbench run` runs when no --suite is given: all but the granularity sweep, which
# alone takes minutes per kind of work (--suite granularity, or all, asks for it).
DEFAULT_SUITES: Sequence[str] = _Names(SPEEDUP)
SUITE_TITLES: Mapping[str, str] = _Titles()


def cost_suite(name: str) -> CostSuite:
    """What a cost suite declares about itself (``SUITE`` in its module, imported only
    now): its run, its budget and expected seconds per profile, its phase."""
    if name not in COST_SUITES:
        raise KeyError(name)
    suite: CostSuite = importlib.import_module(f"gilbench.bench.suites.{name}").SUITE
    return suite


def suite_run(name: str) -> SuiteRun:
    """The ``run`` function of a cost suite."""
    return cost_suite(name).run


__all__ = [
    "ALL_SUITES",
    "COST_SUITES",
    "DEFAULT_SUITES",
    "ENTRY_STATUSES",
    "ENTRY_TYPES",
    "GRANULARITY",
    "SPEEDUP",
    "SPEEDUP_TITLE",
    "SUITE_TITLES",
    "Entry",
    "IpcEntry",
    "LatencyEntry",
    "StartupEntry",
    "SyncEntry",
    "cost_suite",
    "entry_type",
    "suite_run",
]
