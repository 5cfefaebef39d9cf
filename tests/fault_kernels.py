"""Kernels that meet the machine's faults, for ``tests/test_faults.py``: a file of users'
kernels (``--workloads-from``), so each runs through the whole command as a user's would.

Each misbehaves only in a worker *process*, on one task: the serial run (gilbench's own
process) and the thread strategies stay well.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal

from gilbench import workload

SIZES = {"smoke": 1, "quick": 1, "standard": 1, "full": 1}


def _in_a_worker_process() -> bool:
    return multiprocessing.parent_process() is not None


@workload(kind="cpu", sizes=SIZES)
def stops_its_worker(size: int, seed: int) -> int:
    """SIGSTOP the worker process that runs task 1 (a debugger, a Ctrl-Z, a frozen VM)."""
    if seed == 1 and _in_a_worker_process():
        os.kill(os.getpid(), signal.SIGSTOP)
    return seed


@workload(kind="cpu", sizes=SIZES)
def runs_out_of_memory(size: int, seed: int) -> int:
    """In a worker process: an address-space limit of 1 GiB, then a 2 GiB buffer."""
    if seed == 1 and _in_a_worker_process():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        return len(bytearray(2 << 30))
    return seed
