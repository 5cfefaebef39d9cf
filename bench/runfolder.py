"""A run's folder: what lies in it, where, and what it says when a write fails.

``gilbench run`` writes into one folder (``--out DIR``, else ``reports/<UTC time>-<host>/``)::

    DIR/results.json            the run (``bench.results``)
    DIR/report.md, report.html  and its charts (``bench.report``)
    DIR/.gilbench-lock          only while a run holds the folder (``bench.files``)

A ``--python`` run (``bench.interpreters``) adds a level::

    DIR/interpreters.json       the plan and interpreters, what --resume needs
    DIR/<label>/results.json    each interpreter's run, with its report
    DIR/serial-cost.json        the interleaved serial runs (``bench.serialcost``)
    DIR/compare.md, compare.html

This module is that layout, in one place, and the typed record of ``interpreters.json``
(versioned, covered by ``bench/schema/interpreters.schema.json``). It is data: it reads
and writes files, and starts nothing.
"""

from __future__ import annotations

import json
import platform
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gilbench.bench.errors import UserError
from gilbench.bench.files import new_folder, write_text
from gilbench.bench.plan import Plan
from gilbench.bench.results import file_stamp, load

RESULTS = "results.json"
INTERPRETERS_RECORD = "interpreters.json"  # what --resume needs of a --python run
SERIAL_COST = "serial-cost.json"  # a --python run's interleaved serial runs
RECORD_VERSION = 1


REPORTS = Path("reports")
# What a reports/ folder gilbench makes holds, so that runs made inside a user's project
# stay out of its `git status` (as pytest's own cache folder does): one line to delete.
REPORTS_GITIGNORE = ("# made by gilbench: its runs are output, not source; delete this file "
                     "to commit them\n*\n")


def reports_root() -> Path:
    """``reports/`` in the current folder, where runs go without --out. Where gilbench makes
    it, it writes a ``.gitignore`` into it; a ``reports/`` that exists is left as it is."""
    try:
        REPORTS.mkdir()
    except FileExistsError:
        return REPORTS
    except OSError as exc:
        raise UserError(f"cannot make {REPORTS.resolve()}: {exc.strerror or exc}; choose a "
                        "folder with --out") from None
    write_text(REPORTS / ".gitignore", REPORTS_GITIGNORE)
    return REPORTS


def default_out_dir(created_at: str) -> Path:
    """``reports/<UTC time>-<host>``: where a run goes without --out."""
    return REPORTS / f"{file_stamp(created_at)}-{platform.node() or 'host'}"


def run_folder(given: str | None, created_at: str) -> Path:
    """--out DIR, or a new reports/<UTC time>-<host>/ (-2, -3 ... if that is taken)."""
    if given:
        return Path(given)
    reports_root()
    return new_folder(default_out_dir(created_at))


def resume_folder(given: str) -> Path:
    """--resume DIR: a folder that exists (a run's), never one made for the occasion."""
    out = Path(given)
    if not out.is_dir():
        raise UserError(f"--resume {out}: no such folder; give the folder an interrupted "
                        "run printed (gilbench run --resume DIR)")
    return out


def is_interpreters_run(out: Path) -> bool:
    """A --python run's folder (its record, and no results.json of its own)."""
    return not (out / RESULTS).exists() and (out / INTERPRETERS_RECORD).exists()


def interpreter_folder(out: Path, label: str) -> Path:
    """Where one interpreter of a --python run keeps its results and report."""
    return out / label


def saved_so_far(out: Path, planned: int | None = None) -> str:
    """What a run's folder holds now, for the line of a write that failed."""
    path = out / RESULTS
    try:
        results = load(path)
    except UserError:
        return f"nothing is saved in {out} yet"
    of = f" of {planned}" if planned else ""
    suites = f" and {len(results.suites)} cost suites" if results.suites else ""
    return f"{path} is saved whole as last written ({len(results.cells)}{of} cells{suites})"


def how_to_finish(out: Path, argv: Sequence[str]) -> str:
    """The command that finishes a run whose write failed: --resume once something is
    saved, else the same command (``argv``, without the program) again."""
    if (out / RESULTS).exists() or (out / INTERPRETERS_RECORD).exists():
        return f"once there is space: gilbench run --resume {out}"
    return "once there is space: " + shlex.join(["gilbench", *argv])


# ------------------------------------------------------------ interpreters.json


@dataclass(frozen=True)
class InterpreterEntry:
    """One interpreter of a --python run as its record keeps it: how it was given
    (``spec``, what a resumed run probes again), its path, settings and label."""

    path: str
    label: str
    spec: str
    env: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "env": dict(self.env), "spec": self.spec,
                "label": self.label}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> InterpreterEntry:
        return cls(path=str(d["path"]), label=str(d["label"]),
                   spec=str(d.get("spec") or d["path"]), env=dict(d.get("env") or {}))


@dataclass(frozen=True)
class InterpretersRecord:
    """``interpreters.json``: the command, the plan and the interpreters of a --python
    run, written before its first cell, so that --resume can finish it."""

    argv: tuple[str, ...]
    plan: Plan
    interpreters: tuple[InterpreterEntry, ...]
    baseline: str | None = None  # the label the comparison measures against (None: first)

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": RECORD_VERSION, "argv": list(self.argv),
                "plan": self.plan.to_dict(), "baseline": self.baseline,
                "interpreters": [i.to_dict() for i in self.interpreters]}

    def write(self, out: Path) -> None:
        write_text(out / INTERPRETERS_RECORD, json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def read(cls, out: Path) -> InterpretersRecord:
        """The record of the run in ``out``; one UserError line when it cannot be read."""
        path = out / INTERPRETERS_RECORD
        bad = UserError(f"--resume {out}: not a gilbench run folder (no {RESULTS}, no "
                        f"readable {INTERPRETERS_RECORD}); give the folder an interrupted run "
                        "printed")
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise bad from None
        if not isinstance(d, dict):
            raise bad
        version = d.get("schema_version", RECORD_VERSION)  # files before it had one: 1
        if version != RECORD_VERSION:
            raise UserError(f"--resume {out}: its {INTERPRETERS_RECORD} has schema_version "
                            f"{version}; this gilbench reads {RECORD_VERSION}: finish it with "
                            "the gilbench that started it, or start a new run")
        try:
            return cls(argv=tuple(d["argv"]), plan=Plan.from_dict(d["plan"]),
                       interpreters=tuple(InterpreterEntry.from_dict(i)
                                          for i in d["interpreters"]),
                       baseline=d.get("baseline"))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise bad from None
