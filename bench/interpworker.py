"""What runs inside a subinterpreter of the ``subinterpreters`` and ``interpreter_pool``
strategies: functions pickled by reference (``bench.interpworker.run_part``), so the
interpreter imports this module alone. It imports nothing (nor does ``bench/__init__``):
psutil and numpy, which the rest of gilbench imports, cannot be imported in a
subinterpreter with its own GIL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def setup(path: Sequence[str]) -> None:
    """A worker interpreter's start: the main interpreter's ``sys.path`` (it may have been
    changed at run time) and the kernels imported, outside the timed runs."""
    import sys

    sys.path[:] = list(path)
    import gilbench.workloads  # noqa: F401


def run_part(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """One worker's share of a run."""
    return [fn(x) for x in items]


def ident_after(delay_s: float) -> int:
    """The OS thread this interpreter runs on, after holding it ``delay_s``: a pool's
    warm-up asks until every worker has answered."""
    import threading
    import time

    time.sleep(delay_s)
    return threading.get_ident()
