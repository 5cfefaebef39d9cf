"""Kernels gilbench measures, and the registry that names them.

A kernel is a module-level, deterministic function ``kernel(size, seed)`` (or
``kernel(size, seed, resource)`` when the workload needs a resource such as a
server or a folder) that returns a checkable value and never times itself.
Every task of a workload does the same amount of work; ``seed`` is the task's
index, so tasks differ in their data but not in their cost.

Adding a workload is one decorated function in one of the kernel modules; the
CLI, the runner and the tests pick it up from ``WORKLOADS``. The registry lives in
``gilbench.workloads.registry`` (which the kernel modules import); this package re-exports
it, and ``from gilbench import workload`` is the public spelling. Imported under its old
top-level name ``workloads``, it becomes an alias of ``gilbench.workloads`` with a
deprecation warning (``gilbench._legacy``).
"""

if __name__ == "workloads":  # the old name (the rest then runs again, harmlessly)
    from gilbench._legacy import alias

    alias(__name__)

# The kinds' vocabulary (bench.kinds, on the data floor: the analysis and the report read
# it without importing a kernel), re-exported where kernels are written.
from gilbench.bench.kinds import CPU_BOUND_KINDS, KIND_TITLES, KINDS, kind_title, speedup_ceiling

# Importing the kernel modules fills WORKLOADS.
from gilbench.workloads import cpu, io, mixed, native
from gilbench.workloads.registry import (
    PROFILE_NAMES,
    WORKLOADS,
    Task,
    Workload,
    async_variant,
    call_kernel,
    no_resource,
    workload,
)

# Present them kind by kind (CPU, native, IO, mixed), in registration order within a kind.
for _w in sorted(WORKLOADS.values(), key=lambda w: KINDS.index(w.kind)):
    WORKLOADS[_w.name] = WORKLOADS.pop(_w.name)

__all__ = ["CPU_BOUND_KINDS", "KINDS", "KIND_TITLES", "PROFILE_NAMES", "WORKLOADS", "Task",
           "Workload", "async_variant", "call_kernel", "cpu", "io", "kind_title", "mixed", "native",
           "no_resource", "speedup_ceiling", "workload"]
