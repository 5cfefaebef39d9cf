"""Execution strategies: the ways a Python program can spread tasks over workers.

Each strategy wraps the standard library's own executor or primitive (the seed
article's Process + Queue, Process + Pipe, Pool.map / imap / apply_async, and
their newer cousins) and does not re-implement it. ``base`` holds the interface
(``Strategy``), the registry (``STRATEGIES``), deadlines and failures; each
other module holds one family and imports only ``base`` (``loky_pool`` also
builds on ``processes``; ``ray_cluster`` on ``apart``, a strategy whose driver runs in a
host process of its own). The leaves: ``serial``, ``threads``, ``processes``,
``subinterpreters`` (with interpreter_pool), ``coroutines`` (asyncio), ``loky_pool``,
``dask_cluster``, ``ray_cluster``. This package imports every leaf when it is imported, in the
order ``gilbench list`` shows them: registering is what fills ``STRATEGIES``. (CPython's
``concurrent.futures`` instead loads its executors on first use, through a module
``__getattr__``; gilbench's CLI needs the whole registry at once, and the optional
libraries — loky, dask — are imported only inside the strategies that use them.)

Adding a strategy (see docs/developing.md): one module here with one class that
subclasses ``Strategy``, sets ``name`` and ``model``, implements ``map`` (and
``_create``/``close``/``terminate`` when it owns workers), declares what a cell of it
costs to start beyond its processes (``extra_start_s``), says in its docstring when the
GIL limits it, and is decorated with ``@strategy``; then its module name in ``LEAVES``
below. The CLI, the runner, the reports and the tests (which
parametrise over ``STRATEGIES``) pick it up with no other edit.
"""

import importlib

from gilbench.bench.signals import (
    children_ignore_ctrl_c,
    ctrl_c_deferred,
    install_stop_handlers,
    on_ctrl_c,
    reraise_ctrl_c,
    stopped_by,
)
from gilbench.bench.strategies.base import (
    JOIN_S,
    POLL_S,
    STRATEGIES,
    CellFailure,
    CellTimeout,
    Deadline,
    Strategy,
    TaskFailed,
    WorkerDied,
    chunks,
    describe,
    exit_reason,
    init_worker,
    strategy,
)

# The leaves register themselves when imported; this order is the registry's (and
# `gilbench list`'s). A new strategy module is one more name here.
# (subinterpreters holds interpreter_pool too: the same family)
LEAVES = ("serial", "threads", "processes", "subinterpreters", "coroutines", "loky_pool",
          "dask_cluster", "ray_cluster")
for _leaf in LEAVES:
    importlib.import_module(f"gilbench.bench.strategies.{_leaf}")

__all__ = [
    "JOIN_S",
    "LEAVES",
    "POLL_S",
    "STRATEGIES",
    "CellFailure",
    "CellTimeout",
    "Deadline",
    "Strategy",
    "TaskFailed",
    "WorkerDied",
    "children_ignore_ctrl_c",
    "chunks",
    "ctrl_c_deferred",
    "describe",
    "exit_reason",
    "init_worker",
    "install_stop_handlers",
    "on_ctrl_c",
    "reraise_ctrl_c",
    "stopped_by",
    "strategy",
]
