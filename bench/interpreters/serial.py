"""Measuring the single-thread cost of interpreters (``bench.serialcost`` holds what it
gives): how much longer one thread takes for the same work in each — the pure-Python
kernels give the single-thread cost, and every kernel's serial runs put the interpreters'
times per task on one scale (``bench.analysis.matrix``).

The interpreters of a ``--python`` run each serve timed serial runs (``bench.remote
--serial``), and the runs are interleaved round by round — A, B, C, then C, B, A — so a
slow phase of the machine (a vCPU slowed by its neighbours for minutes) falls on all of
them alike, and a linear drift cancels. Comparing the serial cells of the interpreters'
separate sweeps would set minutes-apart phases against each other instead.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable, Sequence
from typing import IO

from gilbench.bench.interpreters.found import Interpreter
from gilbench.bench.kinds import pure_python
from gilbench.bench.launch import module_command
from gilbench.bench.plan import Plan
from gilbench.bench.profiles import SERIAL_RUN_S
from gilbench.bench.reaper import stop_helper
from gilbench.bench.runner.rounds import in_order
from gilbench.bench.serialcost import SerialRuns
from gilbench.workloads import WORKLOADS

# 12 rounds: the matrix's intervals hold for a kind of four workloads at once (each taken
# at 1 - 0.05/8, which needs 9 rounds; bench.analysis.matrix).
MIN_ROUNDS = 12


class _Server:
    """One interpreter's ``bench.remote --serial``, with a time limit per request."""

    def __init__(self, interp: Interpreter, limit_s: float, sources: Sequence[str] = ()) -> None:
        self.label = interp.label
        self.limit_s = limit_s
        self.sources = list(sources)  # users' kernel files and modules, loaded there
        self.proc = subprocess.Popen(module_command(interp.path, "gilbench.bench.remote",
                                                    "--serial"),
                                     env=interp.environ(), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True,
                                     start_new_session=True)  # stopped by us, not Ctrl-C

    def run(self, workload: str, size: int, tasks: int) -> float | str:
        """The time of one serial run, or why it failed."""
        stdin: IO[str] | None = self.proc.stdin
        stdout: IO[str] | None = self.proc.stdout
        assert stdin is not None and stdout is not None
        watchdog = threading.Timer(self.limit_s, stop_helper, (self.proc,))
        watchdog.start()
        try:
            stdin.write(json.dumps({"workload": workload, "size": size, "tasks": tasks,
                                    "workloads_from": self.sources}) + "\n")
            stdin.flush()
            line = stdout.readline()
        except OSError as exc:
            return f"its server stopped ({exc.strerror or exc})"
        finally:
            watchdog.cancel()
        if not line:
            return f"its server stopped (no answer within {self.limit_s:g} s, or it died)"
        answer = json.loads(line)
        return float(answer["time_s"]) if "time_s" in answer else str(answer["error"])

    def close(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:  # its input closed: it ends after the run it is doing
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            stop_helper(self.proc)


def pure_python_workloads(plan: Plan) -> list[str]:
    """The plan's kernels of pure-Python work: what the single-thread cost is taken on."""
    return [w for w in plan.workloads if w in WORKLOADS and pure_python(WORKLOADS[w].kind)]


def measured_workloads(plan: Plan) -> list[str]:
    """The plan's kernels whose serial runs are interleaved: all of them."""
    return [w for w in plan.workloads if w in WORKLOADS]


def expected_s(plan: Plan, interpreters: int) -> float:
    """About how long the interleaved serial runs of ``interpreters`` take."""
    rounds = max(MIN_ROUNDS, plan.repeats) + 1  # and the untimed first
    per_run = SERIAL_RUN_S.get(plan.profile, SERIAL_RUN_S["standard"])
    return rounds * interpreters * len(measured_workloads(plan)) * per_run


def measure(found: Sequence[Interpreter], plan: Plan, rounds: int | None = None,
            log: Callable[[str], None] | None = None) -> tuple[list[SerialRuns], list[str]]:
    """Interleaved serial runs of the plan's kernels in every interpreter: the runs, and
    a line for each workload left out (with why). One untimed run each
    first (imports, caches); then ``rounds`` rounds, the order reversed every other."""
    rounds = rounds or max(MIN_ROUNDS, plan.repeats)
    servers: list[_Server] = []
    out: list[SerialRuns] = []
    left: list[str] = []
    try:
        for interp in found:
            servers.append(_Server(interp, plan.timeout_s, plan.workloads_from))
        for w in measured_workloads(plan):
            size = plan.size_of(w)
            times: dict[str, list[float]] = {s.label: [] for s in servers}
            why = None
            for r in range(rounds + 1):
                for s in in_order(servers, r):
                    got = s.run(w, size, plan.tasks)
                    if isinstance(got, str):
                        why = f"{w}: left out, it failed in {s.label}: {got}"
                        break
                    if r > 0:
                        times[s.label].append(got)
                if why:
                    break
            if why:
                left.append(why)
                continue
            out.append(SerialRuns(w, size, plan.tasks, {k: tuple(v) for k, v in times.items()},
                                  WORKLOADS[w].kind))
            if log:
                log(f"single-thread cost: {w} done ({rounds} interleaved rounds)")
    finally:
        for s in servers:
            s.close()
    return out, left
