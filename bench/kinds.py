"""The kinds of work, in words and in physics: what the analysis and the report know of a
kernel without importing one.

A kernel (``workloads``) declares its kind; a results file records it on every cell.
Everything that reads a results file — the analysis, the report, a comparison — needs the
kinds' titles and limits, and nothing of the kernels themselves (which import asyncio,
sockets and servers). So the vocabulary lives here, on the data floor, and
``workloads.registry`` takes it from here.
"""

from __future__ import annotations

KINDS = ("cpu", "native", "io", "mixed")
KIND_TITLES = {
    "cpu": "CPU-bound pure Python (holds the GIL)",
    "native": "CPU-bound native code (releases the GIL)",
    "io": "IO-bound (waits with the GIL released)",
    "mixed": "Mixed: waiting, then Python work (holds the GIL for the work)",
}
# The same kinds where the interpreter runs without a GIL (a free-threaded build, PEP 703):
# nothing holds or releases a GIL there, and threads can run Python code in parallel.
KIND_TITLES_NO_GIL = {
    "cpu": "CPU-bound pure Python (no GIL in this interpreter)",
    "native": "CPU-bound native code (no GIL in this interpreter)",
    "io": "IO-bound (waits; no GIL in this interpreter)",
    "mixed": "Mixed: waiting, then Python work (no GIL in this interpreter)",
}
# What a kernel of each kind does with the GIL unless it says otherwise (the titles above):
# native code and waiting release it; pure Python, and a mix whose Python part decides,
# hold it.
RELEASES_GIL_BY_KIND = {"cpu": False, "native": True, "io": True, "mixed": False}
PURE_PYTHON = "cpu"  # the kind whose work is Python bytecode alone: what the GIL serialises

# Work that only CPUs do: no strategy can beat serial by more than the CPUs it runs
# on (io waits, and overlaps beyond the CPU count).
CPU_BOUND_KINDS = ("cpu", "native")


def kind_title(kind: str, gil: bool = True) -> str:
    """A kind's title as it holds for an interpreter with (or without) the GIL."""
    return (KIND_TITLES if gil else KIND_TITLES_NO_GIL).get(kind, kind)


def pure_python(kind: str) -> bool:
    """Whether work of this kind is Python bytecode alone (what threads cannot spread
    on a GIL build, and what a free-threaded build's single-thread cost is paid on)."""
    return kind == PURE_PYTHON


# A point estimate this far above its ceiling is still read as the ceiling: paired ratios
# scatter by a few per cent (the profiles aim at ±2-5%), and threads on pure Python under
# the GIL sit *at* their 1x ceiling, so half their honest estimates land just above it.
# Beyond this a point is impossible (✗); an interval wholly above the bare ceiling is a
# machine artefact. See docs/methodology.md, "The physics' ceiling".
CEILING_SLACK = 0.02


def speedup_ceiling(kind: str, workers: int, usable_cpus: int,
                    gil_threads: bool = False) -> float | None:
    """The most speedup the physics allows ``workers`` on this kind of work (None: no
    such limit): the workers, and the usable CPUs where known (0: unknown). Threads
    that share a GIL (``gil_threads``) run pure Python one at a time: 1x, whatever
    their count."""
    if kind not in CPU_BOUND_KINDS:
        return None
    if gil_threads and pure_python(kind):
        return 1.0
    return float(min(workers, usable_cpus) if usable_cpus > 0 else workers)


def gil_bound(model: str, gil_in_workers: bool | None) -> bool:
    """Whether a cell's workers are threads that share one GIL: threads of a GIL build
    (or of a free-threaded one whose GIL came back on); a cell that does not say (an
    older file) is read as a GIL build's."""
    return model == "threads" and gil_in_workers is not False


def gil_words(gil_enabled: bool | None, env: str | None = None) -> str:
    """How the GIL stood, in the report's words: "on" or "off", with the PYTHON_GIL
    setting that asked for it (None: the interpreter does not say)."""
    if gil_enabled is None:
        return "unknown"
    return ("on" if gil_enabled else "off") + (f" (PYTHON_GIL={env})" if env is not None else "")
