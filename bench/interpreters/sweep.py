"""One interpreter's sweep: the plan run inside it (``bench.remote``, with gilbench's folder
on its PYTHONPATH, so it needs no installation), its cells streamed back one JSON line
each and saved by a ``Session`` here as they come, into ``DIR/<label>/results.json``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gilbench.bench import phases
from gilbench.bench.interpreters.found import Interpreter
from gilbench.bench.launch import module_command
from gilbench.bench.reaper import stop_helper
from gilbench.bench.remote import plan_json
from gilbench.bench.results import Cell, Results, utc_now
from gilbench.bench.runner import Plan, specs
from gilbench.bench.session import Session
from gilbench.bench.watchdog import EXIT_KERNEL_HUNG, KernelHungThere


def merged_machine(theirs: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    """Their record, with the hardware facts they could not read (no psutil there)
    taken from ours: it is the same machine."""
    out = dict(theirs)
    for key in ("memory_bytes", "physical_cores", "cpu_freq_mhz"):
        if out.get(key) is None and ours.get(key) is not None:
            out[key] = ours[key]
    return out


def start_costs(interp: Interpreter, plan: Plan, session: Session) -> None:
    """The startup suite's probe in the interpreter, saved after every entry."""
    from gilbench.bench.suites.startup import SUITE
    from gilbench.bench.suites.startup import run_in as probe_in

    phases.reached("suite-startup")
    session.record_suite("startup", lambda measured: probe_in(
        interp.path, interp.environ(), SUITE.budget(plan.profile), plan.timeout_s,
        plan.workers, measured), speedups=True)


def run_in(interp: Interpreter, plan: Plan, out: Path, ours: dict[str, Any],
           on_cell: Callable[[Cell], None], *, previous: Results | None = None,
           resume_hint: str | None = None) -> Results:
    """Run the plan in one interpreter; save its results (after every cell) into ``out``.
    ``previous``: what an interrupted run of it saved (its cells are not run again)."""
    said: dict[str, Any] = {"interpreter": interp.path, "label": interp.label}
    if interp.env:
        said["interpreter_env"] = dict(interp.env)
    session = Session(out, previous.machine if previous else dict(ours),
                      previous.created_at if previous else utc_now(), plan=plan,
                      previous=previous, resumable=False, resume_hint=resume_hint, **said)
    # A session of its own: a Ctrl-C reaches it from gilbench, once (stop_helper), so
    # that none lands in a worker it is starting.
    proc = subprocess.Popen(module_command(interp.path, "gilbench.bench.remote"),
                            env=interp.environ(), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    # Each cell has its own time limit inside; this catches a hang outside any cell
    # (a whole cell's worth of silence, and a minute more): the run there is stopped.
    quiet_s = plan.timeout_s * 2 + 60
    silent: list[bool] = []

    def stop_silent() -> None:
        silent.append(True)
        stop_helper(proc)

    phases.reached("python-run")
    watchdog = threading.Timer(quiet_s, stop_silent)
    watchdog.start()
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(plan_json(plan, skip=[c.key for c in session.cells]))
        proc.stdin.close()
        for line in proc.stdout:
            watchdog.cancel()
            watchdog = threading.Timer(quiet_s, stop_silent)
            watchdog.start()
            record = json.loads(line)
            if "machine" in record:
                session.machine = merged_machine(record["machine"], ours)
            elif "cell" in record:
                cell = Cell.from_dict(record["cell"])
                if session.add_cell(cell):
                    on_cell(cell)
        code = proc.wait()
    except BaseException:
        stop_helper(proc)
        session.save(complete=False, speedups=True)
        raise
    finally:
        watchdog.cancel()
        if proc.stdout is not None:
            proc.stdout.close()
    session.in_plan_order()
    if code == 130 and not silent:  # interrupted there (a SIGINT sent to that process)
        session.save(complete=False, speedups=True)
        raise KeyboardInterrupt
    if code == EXIT_KERNEL_HUNG:  # a kernel did not return there; it said so in one line
        session.save(complete=False, speedups=True)
        raise KernelHungThere(interp.path)
    if "startup" in plan.suites and "startup" not in session.suites_done:
        start_costs(interp, plan, session)
    done = session.save(complete=code == 0 and len(session.cells) == len(specs(plan)),
                        speedups=True)
    if code != 0:
        print(f"gilbench: the run in {interp.path} ended with exit code {code}"
              + (f" (stopped after {quiet_s:g} s without a result)" if silent else ""),
              file=sys.stderr)
    return done
