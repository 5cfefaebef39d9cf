"""Threads or processes for *your* function, inside your own pytest-benchmark suite.

Copy this file into your project's tests and replace ``checksum_rows`` with your code.
gilbench's pytest plugin comes with the install and wakes only for tests that use its
fixtures (other tests and other projects' sessions are left as they were):

    pip install 'gilbench[pytest]'
    pytest examples/test_user_speedup.py --benchmark-only

Each benchmark is one cell (your kernel x strategy x workers, ids like
``checksum_kernel-process_pool[spawn]-2``), timed by pytest-benchmark in rounds, each
round paired with a serial run of the same work. At the end you get pytest-benchmark's
table, and gilbench's speedup report (speedup, 95% interval, verdict) in
``reports/pytest-<time>/`` (``--gilbench-out DIR`` to choose); each benchmark's
``extra_info`` in ``--benchmark-json`` carries its speedup. Without ``--benchmark-only``
(plain ``pytest``) every cell runs once, untimed, at a tiny size: a smoke test.
"""

from __future__ import annotations

import hashlib
import random

import pytest

from gilbench import workload


def checksum_rows(rows: list[tuple[int, str, float]]) -> str:
    """Stands for your code: here, normalise rows and fingerprint them, in pure Python."""
    digest = 0
    for key, name, value in rows:
        line = f"{key:08d}|{name.strip().lower()}|{value:.3f}"
        for ch in line:
            digest = (digest * 31 + ord(ch)) & 0xFFFFFFFF
    return hashlib.sha256(str(digest).encode()).hexdigest()[:16]


# The kernel: builds one task's input from (size, seed) and calls your code. No sizes:
# gilbench calibrates one for the profile on this machine.
@workload(kind="cpu", size_unit="rows")
def checksum_kernel(size: int, seed: int) -> str:
    """Fingerprint `size` rows in pure Python (the user's own function)."""
    rng = random.Random(seed)
    rows = [(rng.randrange(10**8), f" Name{rng.randrange(1000)} ", rng.uniform(0, 1e4))
            for _ in range(size)]
    return checksum_rows(rows)


# The cells: the kernels this module defines (or workloads=[...]), under these strategies,
# worker counts and start methods (serial always runs: every speedup divides by it).
@pytest.mark.gilbench(strategies=["threads", "process_pool"], workers=[1, 2],
                      start_methods=["fork", "spawn"])
def test_checksum_speedup(gilbench_benchmark):
    gilbench_benchmark()
