"""gilbench's name in a user's program: ``import gilbench``.

This package holds what every pytest session with gilbench installed loads (its
``pytest11`` entry point, ``gilbench.pytest_plugin``), under a name no user's project
shadows: the harness itself lives in the ``bench`` and ``workloads`` packages, loaded only
when a session uses gilbench. It imports nothing.
"""

from __future__ import annotations

from typing import Any

__all__ = ["measure", "workload"]


def __getattr__(name: str) -> Any:
    """``gilbench.workload``: the decorator that registers a kernel (``workloads.workload``);
    ``gilbench.measure``: a run of one kernel from Python (``bench.api.measure``). Each
    imported on first use."""
    if name == "workload":
        from workloads import workload

        return workload
    if name == "measure":
        from bench.api import measure

        return measure
    raise AttributeError(f"module 'gilbench' has no attribute {name!r}")
