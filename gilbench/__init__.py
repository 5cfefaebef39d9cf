"""gilbench: threads, processes and the GIL, measured on your own machine.

Every module of gilbench lives under this name, which no user's project shadows: the
harness in ``gilbench.bench``, the kernels and their registry in ``gilbench.workloads``
(the repository's ``bench/`` and ``workloads/`` folders), and what every pytest session
with gilbench installed loads, its ``pytest11`` entry point ``gilbench.pytest_plugin``.
The old top-level names ``bench`` and ``workloads`` still import, with a deprecation
warning, for one release (``gilbench._legacy``). It imports nothing.
"""

from __future__ import annotations

from typing import Any

__all__ = ["__version__", "measure", "workload"]


def __getattr__(name: str) -> Any:
    """``gilbench.workload``: the decorator that registers a kernel
    (``gilbench.workloads.workload``); ``gilbench.measure``: a run of one kernel from Python
    (``gilbench.bench.api.measure``); ``__version__``. Each imported on first use."""
    if name == "__version__":
        from gilbench.bench import __version__

        return __version__
    if name == "workload":
        from gilbench.workloads import workload

        return workload
    if name == "measure":
        from gilbench.bench.api import measure

        return measure
    raise AttributeError(f"module 'gilbench' has no attribute {name!r}")
