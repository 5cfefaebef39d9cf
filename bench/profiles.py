"""Run profiles: how much work, how many repeats, which worker counts.

Sizes per profile live with each kernel (``Workload.sizes``); a profile sets
the rest. Total work per workload is fixed within a profile (strong
scaling): ``tasks`` tasks of the same size, whatever the worker count.

Adding a profile (docs/developing.md): a ``Profile`` here (``workloads.PROFILE_NAMES``
is read from ``PROFILES``), a size in every kernel's ``sizes`` (registration refuses a
kernel without one); a cost suite that does not name it measures with its ``standard``
budget and estimate (``CostSuite.budget``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    tasks: int  # tasks per run; raised to the largest worker count if that is higher
    # Timed runs per cell, at least. 6 is the fewest pairs a distribution-free 95%
    # interval exists for (bench.stats.median_rank); smoke stays below: no intervals.
    repeats: int
    warmup: int  # untimed runs per cell, after the workers are started
    timeout_s: float  # default time limit per run of a cell
    max_workers: int | None = None  # cap on the default worker counts
    # Adaptive repeats: more runs, up to max_repeats and cell_budget_s seconds
    # per cell, until the speedup's 95% CI is within target_ci of it.
    max_repeats: int = 0
    target_ci: float = 0.0
    cell_budget_s: float = 0.0


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        # For the test suite: every code path at tiny sizes, in seconds.
        Profile("smoke", "tiny sizes for tests; numbers mean nothing", tasks=4, repeats=2,
                warmup=0, timeout_s=60, max_workers=2, max_repeats=4, target_ci=0.05,
                cell_budget_s=0.05),
        # How long each takes is not written here: bench.options.expected_default_s
        # estimates it (the run's first line, --help and the README quote it).
        Profile("quick", "about 25 ms of serial work per run, CI target ±5%", tasks=8,
                repeats=6, warmup=1, timeout_s=60, max_repeats=16, target_ci=0.05,
                cell_budget_s=0.2),
        Profile("standard", "the default: about 60 ms of serial work per run, CI target ±3%",
                tasks=16, repeats=6, warmup=1, timeout_s=300, max_repeats=20, target_ci=0.03,
                cell_budget_s=0.8),
        Profile("full", "large sizes, CI target ±2%: tight error bars, long run", tasks=64,
                repeats=6, warmup=2, timeout_s=900, max_repeats=40, target_ci=0.02,
                cell_budget_s=10.0),
    )
}
DEFAULT_PROFILE = "standard"
# About how long one serial run of a kernel (the profile's tasks) takes at each profile, for
# the estimates: the standard matrix on the 2-CPU VM (six interpreters from 3.11 to 3.15,
# 13 rounds of 11 kernels: 858 runs) took about 60 s, 0.07 s a run; the other profiles'
# are that scaled by their task cost, not measured.
SERIAL_RUN_S = {"smoke": 0.005, "quick": 0.03, "standard": 0.07, "full": 0.6}


MAX_WORKER_COUNTS = 6  # so that a big machine's default run stays within its time


def default_workers(usable_cpus: int, cap: int | None = None) -> list[int]:
    """1, 2, 4 ... up to twice the usable CPUs (so oversubscription shows),
    plus the usable count itself when it is not a power of two. On a big machine,
    at most ``MAX_WORKER_COUNTS``: 1, 2, the usable CPUs, twice them, and the
    powers of two just below the usable CPUs (64 CPUs: 1, 2, 16, 32, 64, 128)."""
    top = 2 * max(1, usable_cpus)
    counts = {1, usable_cpus, top}
    n = 2
    while n <= top:
        counts.add(n)
        n *= 2
    if len(counts) > MAX_WORKER_COUNTS:
        keep = {1, 2, usable_cpus, top}
        below = sorted((c for c in counts if 2 < c < usable_cpus), reverse=True)
        counts = keep | set(below[:MAX_WORKER_COUNTS - len(keep)])
    if cap is not None:
        counts = {c for c in counts if c <= cap} or {1}
    return sorted(counts)
