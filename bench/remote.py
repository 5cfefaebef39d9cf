"""The sweep inside another interpreter, for ``gilbench run --python PATH``.

The parent runs it through ``bench.launch.module_command``: gilbench's folder first on
``sys.path``, whatever the working directory holds, so the interpreter need not have
gilbench installed, nor numpy or psutil (the harness imports only the standard library
there; kernels whose modules are missing are skipped with the reason). The plan comes
on stdin as JSON; the interpreter's machine record and then one cell per line go to
stdout as JSON. Anything else the run prints goes to stderr.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from gilbench.bench.machine import collect_machine
from gilbench.bench.reaper import reap_children, stop_myself, watch_parent
from gilbench.bench.runner import Plan, run
from gilbench.bench.signals import install_stop_handlers
from gilbench.bench.watchdog import EXIT_KERNEL_HUNG, KernelHung


def probe() -> dict[str, Any]:
    """What the parent needs to know before it sends a plan."""
    from gilbench.bench.machine import this_interpreter
    from gilbench.bench.strategies import STRATEGIES

    # Who it is: the typed record (bench.interprecord) every report reads, and
    return {**this_interpreter().to_dict(),
            # the strategies this interpreter can run (the run's estimate counts them)
            "strategies": [name for name, cls in STRATEGIES.items() if cls.available()[0]]}


def serve_serial_runs(out: Any) -> int:
    """``--serial``: one timed serial run per request line ``{"workload", "size",
    "tasks"}``, answered ``{"time_s": ...}`` (or ``{"error": ...}``); the parent
    interleaves these runs across interpreters (``bench.interpreters.serial``)."""
    import contextlib
    import time

    from gilbench.bench.runner.sweep import blas_limit
    from gilbench.workloads import WORKLOADS, Task, no_resource
    from gilbench.workloads.user import load_all

    resources: dict[str, Any] = {}  # a kernel's server or folder, opened on first use
    with contextlib.ExitStack() as stack:
        for line in sys.stdin:
            ask = json.loads(line)
            try:
                load_all(ask.get("workloads_from", ()))  # once: a file loaded is kept
                name = ask["workload"]
                if name not in resources:  # BLAS held to one thread, as in the sweep
                    stack.enter_context(blas_limit(WORKLOADS[name]))
                    resources[name] = stack.enter_context(
                        (WORKLOADS[name].setup or no_resource)())
                task = Task(name, int(ask["size"]), resources[name])
                t0 = time.perf_counter()
                for seed in range(int(ask["tasks"])):
                    task(seed)
                answer: dict[str, Any] = {"time_s": time.perf_counter() - t0}
            except Exception as exc:
                answer = {"error": f"{exc.__class__.__name__}: {exc}"}
            try:
                out.write(json.dumps(answer) + "\n")
                out.flush()
            except BrokenPipeError:  # gilbench stopped asking (Ctrl-C): nothing to say,
                # and nothing left to flush at exit (Python's documented recipe)
                os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
                break
    return 0


def main() -> int:
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    sys.stdout = sys.stderr  # only JSON lines on the real stdout
    if sys.argv[1:] == ["--probe"]:
        out.write(json.dumps(probe()) + "\n")
        out.flush()
        return 0
    # gilbench stops this run with a SIGINT (bench.reaper.stop_helper); if gilbench is
    # killed, it stops itself the same way. Either way its workers are closed and every
    # child waited for before it exits.
    install_stop_handlers()
    watch_parent(stop_myself)
    try:
        return serve(out)
    except KernelHung as exc:  # its workers are closed; the cells before it were sent
        print(f"gilbench: error: {exc} [{sys.executable}]; {exc.advice()}", file=sys.stderr)
        return EXIT_KERNEL_HUNG
    except KeyboardInterrupt:
        return 130
    finally:
        reap_children()


def serve(out: Any) -> int:
    """The serial runs (``--serial``), or the sweep of the plan given on stdin."""
    if sys.argv[1:] == ["--serial"]:
        return serve_serial_runs(out)
    given = json.load(sys.stdin)
    skip = {tuple(key) for key in given.pop("skip", [])}  # cells a resumed run has
    plan = Plan.from_dict(given)
    from gilbench.workloads.user import WorkloadSourceError, load_all

    try:
        load_all(plan.workloads_from)  # the user's kernels, as in gilbench's process
    except WorkloadSourceError as exc:
        print(f"gilbench: error: {exc}", file=sys.stderr)
        return 2

    def emit(record: dict[str, Any]) -> None:
        out.write(json.dumps(record) + "\n")
        out.flush()

    emit({"machine": collect_machine()})
    run(plan, on_cell=lambda _spec, cell: emit({"cell": cell.to_dict()}), skip=skip)
    return 0


def plan_json(plan: Plan, skip: list[Any] | None = None) -> str:
    """What the parent sends: the plan, and the keys of the cells not to run again."""
    return json.dumps({**plan.to_dict(), "skip": list(skip or [])})


if __name__ == "__main__":
    sys.exit(main())
