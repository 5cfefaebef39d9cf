"""The single-thread cost of an interpreter, as data: how much longer one thread takes
for the same pure-Python work in one interpreter than in another (a free-threaded build
pays for its missing GIL with atomic reference counts and per-object locks; that price is
what this holds).

A ``--python`` run measures it (``bench.interpreters.serial``: timed serial runs of every
kernel of the plan — the pure-Python ones give the single-thread cost, all of them put the
interpreters' times per task on one scale, ``bench.analysis.matrix`` —
interleaved round by round across the interpreters, A, B, C, then C, B, A, so a slow
phase of the machine falls on all of them alike) and keeps it in its folder's
``serial-cost.json``; a report reads it from there. Each round gives one paired ratio
(this interpreter's time ÷ the baseline's); the figure is the median ratio with its
distribution-free 95% interval (``stats.median_interval``: none below 6 rounds), as for
a speedup.

The file carries a ``schema_version`` and is covered by the published JSON Schema
(``bench/schema/serial-cost.schema.json``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gilbench.bench import stats
from gilbench.bench.errors import UserError
from gilbench.bench.files import write_text
from gilbench.bench.kinds import PURE_PYTHON, pure_python

SCHEMA_VERSION = 1
ORDER = "interleaved, reversed every other round"


@dataclass(frozen=True)
class SerialRuns:
    """One workload's interleaved serial runs: per interpreter label, one time per round."""

    workload: str
    size: int
    tasks: int
    times_s: dict[str, tuple[float, ...]]
    kind: str = PURE_PYTHON  # files before it was recorded measured pure-Python work only

    def ratio(self, label: str, base: str) -> tuple[float, tuple[float, float] | None, int]:
        """``label``'s time ÷ ``base``'s: the median per-round ratio, its 95% interval
        (None below 6 rounds) and the rounds behind it."""
        r = stats.paired_ratios(self.times_s[label], self.times_s[base])
        return stats.median(r), stats.median_interval(r), len(r)

    def to_dict(self) -> dict[str, Any]:
        return {"workload": self.workload, "kind": self.kind, "size": self.size,
                "tasks": self.tasks, "times_s": {k: list(v) for k, v in self.times_s.items()}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SerialRuns:
        return cls(d["workload"], int(d["size"]), int(d["tasks"]),
                   {k: tuple(float(x) for x in v) for k, v in d["times_s"].items()},
                   str(d.get("kind", PURE_PYTHON)))


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
    """``label``'s single-thread time relative to ``base``'s over the pure-Python workloads
    both ran (the other kinds' serial runs serve the matrix's time per task)."""
    both = [r for r in runs if label in r.times_s and base in r.times_s
            and pure_python(r.kind)]
    if not both:
        return None
    each = [r.ratio(label, base) for r in both]
    cis = [ci for _, ci, _ in each]
    whole = all(ci is not None for ci in cis)
    return Cost(label, base, stats.geometric_mean([p for p, _, _ in each]),
                stats.geometric_mean([ci[0] for ci in cis if ci]) if whole else None,
                stats.geometric_mean([ci[1] for ci in cis if ci]) if whole else None,
                min(n for _, _, n in each), tuple(r.workload for r in both))


# ------------------------------------------------------------ serial-cost.json


def to_dict(runs: Sequence[SerialRuns], left: Sequence[str], rounds: int) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "rounds": rounds, "order": ORDER,
            "runs": [r.to_dict() for r in runs], "left_out": list(left)}


def save(path: Path, runs: Sequence[SerialRuns], left: Sequence[str], rounds: int) -> None:
    write_text(path, json.dumps(to_dict(runs, left, rounds), indent=1) + "\n")


def load(path: Path) -> tuple[list[SerialRuns], list[str]]:
    """The runs and the workloads left out (with why); a file of another version, or one
    that cannot be read, is a UserError that says what to do."""
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        version = d.get("schema_version", SCHEMA_VERSION)  # files before it had one: 1
        if version != SCHEMA_VERSION:
            raise UserError(f"{path} has schema_version {version}; this gilbench reads "
                            f"{SCHEMA_VERSION}: delete it and resume the run to measure it "
                            "again, or use the gilbench that wrote it")
        return [SerialRuns.from_dict(x) for x in d["runs"]], list(d.get("left_out", []))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UserError(f"{path}: not a readable single-thread cost record ({exc}); delete "
                        "it and resume the run to measure it again") from None


def beside(sources: Sequence[str], labels: Sequence[str], name: str
           ) -> tuple[list[SerialRuns], list[str]]:
    """The interleaved serial runs of the ``--python`` run whose interpreters' results
    files ``sources`` are (its folder's ``name``, when it covers every label), else none:
    what ``gilbench compare`` of such a run's files reads beside them."""
    folders = {Path(s).resolve().parent.parent for s in sources}
    if len(folders) != 1:
        return [], []
    path = folders.pop() / name
    if not path.exists():
        return [], []
    serial, left = load(path)
    return ([s for s in serial if set(labels) <= set(s.times_s)], left) if serial else ([], [])
