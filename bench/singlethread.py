"""The single-thread cost of an interpreter: how much longer one thread takes for the same
pure-Python work in one interpreter than in another (a free-threaded build pays for its
missing GIL with atomic reference counts and per-object locks; that price is what this
measures).

The interpreters of a ``--python`` run each serve timed serial runs (``bench.remote
--serial``), and the runs are interleaved round by round — A, B, C, then C, B, A — so a
slow phase of the machine (a vCPU slowed by its neighbours for minutes) falls on all of
them alike, and a linear drift cancels. Comparing the serial cells of the interpreters'
separate sweeps would set minutes-apart phases against each other instead.

Each round gives one paired ratio (this interpreter's time ÷ the baseline's); the figure
is the median ratio with its distribution-free 95% interval (``stats.median_interval``:
none below 6 rounds), as for a speedup.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from bench import stats
from bench.errors import UserError
from bench.files import write_text
from bench.launch import module_command
from bench.reaper import stop_helper
from workloads import WORKLOADS

if TYPE_CHECKING:  # reports read SerialRuns without importing the execution layer
    from bench.runner import Plan

SERIAL_COST = "serial-cost.json"  # in a --python run's folder
MIN_ROUNDS = 8


@dataclass(frozen=True)
class SerialRuns:
    """One workload's interleaved serial runs: per interpreter label, one time per round."""

    workload: str
    size: int
    tasks: int
    times_s: dict[str, tuple[float, ...]]

    def ratio(self, label: str, base: str) -> tuple[float, tuple[float, float] | None, int]:
        """``label``'s time ÷ ``base``'s: the median per-round ratio, its 95% interval
        (None below 6 rounds) and the rounds behind it."""
        r = stats.paired_ratios(self.times_s[label], self.times_s[base])
        return stats.median(r), stats.median_interval(r), len(r)

    def to_dict(self) -> dict[str, Any]:
        return {"workload": self.workload, "size": self.size, "tasks": self.tasks,
                "times_s": {k: list(v) for k, v in self.times_s.items()}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SerialRuns:
        return cls(d["workload"], int(d["size"]), int(d["tasks"]),
                   {k: tuple(float(x) for x in v) for k, v in d["times_s"].items()})


@dataclass(frozen=True)
class Cost:
    """The geometric mean over workloads of one interpreter's time ratio to a baseline."""

    label: str
    base: str
    point: float
    low: float | None
    high: float | None
    rounds: int
    workloads: tuple[str, ...]

    def text(self) -> str:
        ci = (f" [{self.low:.2f}–{self.high:.2f}]" if self.low is not None
              and self.high is not None else " (no interval: too few rounds)")
        return f"{self.point:.2f}×{ci}"

    @property
    def sure(self) -> str | None:
        """"slower" / "faster" when the whole interval is on one side of 1; else None."""
        if self.low is None or self.high is None:
            return None
        return "slower" if self.low > 1 else "faster" if self.high < 1 else None


def cost(runs: Sequence[SerialRuns], label: str, base: str) -> Cost | None:
    """``label``'s single-thread time relative to ``base``'s over the workloads both ran."""
    both = [r for r in runs if label in r.times_s and base in r.times_s]
    if not both:
        return None
    each = [r.ratio(label, base) for r in both]
    cis = [ci for _, ci, _ in each]
    whole = all(ci is not None for ci in cis)
    return Cost(label, base, stats.geometric_mean([p for p, _, _ in each]),
                stats.geometric_mean([ci[0] for ci in cis if ci]) if whole else None,
                stats.geometric_mean([ci[1] for ci in cis if ci]) if whole else None,
                min(n for _, _, n in each), tuple(r.workload for r in both))


class _Server:
    """One interpreter's ``bench.remote --serial``, with a time limit per request."""

    def __init__(self, interp: Any, limit_s: float, sources: Sequence[str] = ()) -> None:
        self.label = interp.label
        self.limit_s = limit_s
        self.sources = list(sources)  # users' kernel files and modules, loaded there
        self.proc = subprocess.Popen(module_command(interp.path, "bench.remote", "--serial"),
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
    return [w for w in plan.workloads if w in WORKLOADS and WORKLOADS[w].kind == "cpu"]


def measure(found: Sequence[Any], plan: Plan, rounds: int | None = None,
            log: Any = None) -> tuple[list[SerialRuns], list[str]]:
    """Interleaved serial runs of the plan's pure-Python kernels in every interpreter:
    the runs, and a line for each workload left out (with why). One untimed run each
    first (imports, caches); then ``rounds`` rounds, the order reversed every other."""
    rounds = rounds or max(MIN_ROUNDS, plan.repeats)
    servers: list[_Server] = []
    out: list[SerialRuns] = []
    left: list[str] = []
    try:
        for interp in found:
            servers.append(_Server(interp, plan.timeout_s, plan.workloads_from))
        for w in pure_python_workloads(plan):
            size = plan.size_of(w)
            times: dict[str, list[float]] = {s.label: [] for s in servers}
            why = None
            for r in range(rounds + 1):
                for s in (servers if r % 2 == 0 else servers[::-1]):
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
            out.append(SerialRuns(w, size, plan.tasks, {k: tuple(v) for k, v in times.items()}))
            if log:
                log(f"single-thread cost: {w} done ({rounds} interleaved rounds)")
    finally:
        for s in servers:
            s.close()
    return out, left


def save(path: Path, runs: Sequence[SerialRuns], left: Sequence[str], rounds: int) -> None:
    write_text(path, json.dumps({"rounds": rounds, "order": "interleaved, reversed every "
                                 "other round", "runs": [r.to_dict() for r in runs],
                                 "left_out": list(left)}, indent=1) + "\n")


def load(path: Path) -> tuple[list[SerialRuns], list[str]]:
    try:
        d = json.loads(path.read_text())
        return [SerialRuns.from_dict(x) for x in d["runs"]], list(d.get("left_out", []))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{path}: not a readable single-thread cost record ({exc}); delete "
                        "it and resume the run to measure it again") from None
