"""results.json: frozen dataclasses, validated when built, saved atomically.

The file is data: it is parsed as JSON, never unpickled or executed. An
unknown ``schema_version`` or a file of the wrong shape is a ``UserError``
that says what is wrong.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from gilbench.bench import stats
from gilbench.bench.entries import ENTRY_STATUSES, ENTRY_TYPES, Entry
from gilbench.bench.errors import UserError
from gilbench.bench.files import writing
from gilbench.bench.plan import CellKey, Plan
from gilbench.bench.strategyfacts import BEFORE_THE_TABLE, StrategyFacts

SCHEMA_VERSION = 1
STATUSES = ENTRY_STATUSES  # a cell has the same four outcomes as a cost measurement
E = TypeVar("E", bound=Entry)


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Confirmation:
    """A finalist re-measured after the sweep with fresh workers and fresh pairs
    (``bench.runner.confirm``): the cell was chosen as its model's best from the sweep's
    runs, and these runs, which played no part in the choice, are what its headline
    figure and interval come from. ``error``: why the re-measurement failed (then there
    are no times)."""

    times_s: tuple[float, ...] = ()
    serial_times_s: tuple[float, ...] = ()
    noise: str | None = None
    error: str | None = None
    reached_target: bool = False  # as ``Cell.reached_target``, of these rounds
    # The threads-or-processes duel this finalist is in (``bench.runner.decide``): the
    # error its verdict may spend at each look the run planned (the confirmation's rounds,
    # then the follow-up's; empty: one look at 5%, as runs before and the pytest path),
    # and this cell's times in the follow-up rounds it ran with the other finalist
    # (no serial runs: the duel reads their direct ratio; empty: no follow-up).
    alphas: tuple[float, ...] = ()
    duel_times_s: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if len(self.times_s) != len(self.serial_times_s):
            raise ValueError("a confirmation's serial_times_s must pair with its times_s")
        if any(not isinstance(t, (int, float)) or t <= 0 or math.isnan(t)
               for t in (*self.times_s, *self.serial_times_s, *self.duel_times_s)):
            raise ValueError("a confirmation's times must be positive numbers")
        if (any(not 0 < a < 1 for a in self.alphas)
                or sum(self.alphas) > 1 - stats.CONFIDENCE + 1e-12):
            raise ValueError("a confirmation's alphas must be errors that add up to "
                             f"{1 - stats.CONFIDENCE:.0%} at most")

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.times_s)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Confirmation:
        return cls(tuple(d.get("times_s") or ()), tuple(d.get("serial_times_s") or ()),
                   d.get("noise"), d.get("error"), bool(d.get("reached_target")),
                   tuple(d.get("alphas") or ()), tuple(d.get("duel_times_s") or ()))


@dataclass(frozen=True)
class Cell:
    """One (workload, size, strategy, start method, workers) measurement."""

    workload: str
    kind: str
    size: int
    tasks: int
    strategy: str
    start_method: str | None
    workers: int
    status: str
    model: str = ""
    error: str | None = None
    times_s: tuple[float, ...] = ()
    median_s: float | None = None
    startup_s: float | None = None
    cpu_s: float | None = None
    speedup: float | None = None
    speedup_ci95: tuple[float, float] | None = None
    efficiency: float | None = None
    rel_std: float | None = None
    noisy: bool = False
    gil_enabled_in_workers: bool | None = None
    # The serial runs interleaved with this cell's (serial_times_s[i] ran next
    # to times_s[i]): its speedup is paired with them (empty: the serial cell's).
    serial_times_s: tuple[float, ...] = ()
    ci_half_width: float | None = None  # of the speedup (serial: of the median), relative
    noise: str | None = None  # why the cell is flagged noisy
    cpu_utilization: float | None = None  # cpu_s / wall / usable CPUs
    peak_rss_bytes: int | None = None  # gilbench's process + the cell's workers
    # Why the cell left its rounds before reaching its target, on purpose: it was surely
    # slower than another cell of its strategy, so more pairs could not change a verdict.
    left_early: str | None = None
    # The size was calibrated on this machine (a user's kernel without sizes): the size
    # whose task took the profile's target time here (run.plan.calibrated has it).
    size_calibrated: bool = False
    # Its model's finalist, re-measured after the sweep (None: not a finalist, or a file
    # from before gilbench confirmed its headlines).
    confirmation: Confirmation | None = None
    # The CPU each pair's round was pinned to (``bench.runner.placement``): its serial run
    # and, for one worker, the cell's run too. Empty: placement was free (or an older file).
    pair_cpus: tuple[int, ...] = ()
    # The cell left the rounds before its maximum because its interval reached the target
    # (``bench.runner.precision``): a stop its own data decided, so its interval is the
    # order statistics' (not interpolated), whose margin keeps 95% after such a stop.
    # Otherwise, and in a file from before, the interpolated one.
    reached_target: bool = False

    @property
    def stopped_on_its_data(self) -> bool:
        """Its rounds ended on what its runs showed: on target, or surely slower than
        another cell of its strategy (``left_early``)."""
        return self.reached_target or self.left_early is not None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {self.status!r}")
        if not isinstance(self.workers, int) or self.workers < 1:
            raise ValueError(f"workers must be a positive integer, not {self.workers!r}")
        if not isinstance(self.size, int) or not isinstance(self.tasks, int):
            raise ValueError("size and tasks must be integers")
        if self.status == "ok" and not self.times_s:
            raise ValueError("an ok cell needs its times")
        if any(not isinstance(t, (int, float)) or t < 0 or math.isnan(t) for t in self.times_s):
            raise ValueError("times_s must be non-negative numbers")
        if self.speedup_ci95 is not None and len(self.speedup_ci95) != 2:
            raise ValueError("speedup_ci95 must be [lo, hi]")
        if self.serial_times_s and len(self.serial_times_s) != len(self.times_s):
            raise ValueError("serial_times_s must pair with times_s, one for one")

    @property
    def key(self) -> CellKey:
        return (self.workload, self.size, self.strategy, self.start_method, self.workers)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def speedup_value(self) -> float:
        """The speedup of a cell that has one (analysis filters on ``speedup`` first)."""
        if self.speedup is None:
            raise ValueError(f"{self.key} has no speedup")
        return self.speedup

    @property
    def median_value(self) -> float:
        """The median time of a cell that has one."""
        if self.median_s is None:
            raise ValueError(f"{self.key} has no median time")
        return self.median_s

    @property
    def label(self) -> str:
        """Strategy name, with the start method when there is one."""
        return f"{self.strategy}[{self.start_method}]" if self.start_method else self.strategy

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["times_s"] = list(self.times_s)
        d["serial_times_s"] = list(self.serial_times_s)
        d["pair_cpus"] = list(self.pair_cpus)
        d["speedup_ci95"] = list(self.speedup_ci95) if self.speedup_ci95 else None
        if self.confirmation is not None:
            d["confirmation"]["times_s"] = list(self.confirmation.times_s)
            d["confirmation"]["serial_times_s"] = list(self.confirmation.serial_times_s)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Cell:
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in names}
        kwargs["times_s"] = tuple(kwargs.get("times_s") or ())
        kwargs["serial_times_s"] = tuple(kwargs.get("serial_times_s") or ())
        kwargs["pair_cpus"] = tuple(kwargs.get("pair_cpus") or ())
        ci = kwargs.get("speedup_ci95")
        kwargs["speedup_ci95"] = tuple(ci) if ci else None
        if isinstance(kwargs.get("confirmation"), dict):
            kwargs["confirmation"] = Confirmation.from_dict(kwargs["confirmation"])
        return cls(**kwargs)


def usable_cpus_of(machine: dict[str, Any]) -> int:
    """A machine record's usable CPUs (the smaller of its affinity and its cgroup quota):
    the one reading of that key; 0 where the record does not say (a pytest-benchmark
    file's)."""
    value = machine.get("usable_cpus")
    return int(value) if isinstance(value, (int, float)) and value > 0 else 0


@dataclass(frozen=True)
class Results:
    machine: dict[str, Any]
    cells: tuple[Cell, ...]
    run: dict[str, Any] = field(default_factory=dict)
    created_at: str = field(default_factory=utc_now)
    tool: dict[str, Any] = field(
        default_factory=lambda: {"name": "gilbench", "version": _version()})
    schema_version: int = SCHEMA_VERSION
    # The cost suites' entries, each list under its suite's own key in the file.
    suites: dict[str, tuple[Entry, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.schema_version != SCHEMA_VERSION:
            raise ValueError(f"schema_version must be {SCHEMA_VERSION}")
        seen = set()
        for c in self.cells:
            if c.key in seen:
                raise ValueError(f"duplicate cell {c.key}")
            seen.add(c.key)
        for name, entries in self.suites.items():
            if name not in ENTRY_TYPES:
                raise ValueError(f"unknown suite {name!r}")
            if not all(isinstance(e, ENTRY_TYPES[name]) for e in entries):
                raise ValueError(f"suite {name!r} holds an entry of another suite")

    def entries(self, suite: str) -> tuple[Entry, ...]:
        return self.suites.get(suite, ())

    def entries_of(self, kind: type[E]) -> list[E]:
        """The entries of the suite whose entry class is ``kind``, typed as such."""
        return [e for e in self.suites.get(kind.suite, ()) if isinstance(e, kind)]

    @property
    def complete(self) -> bool:
        return bool(self.run.get("complete", True))

    def workloads(self) -> list[str]:
        return list(dict.fromkeys(c.workload for c in self.cells))

    def description(self, workload: str) -> str:
        """The kernel's description as the run recorded it ("" in files that predate it):
        a report says what the file says, not what the installed kernels say now."""
        return str((self.run.get("workload_descriptions") or {}).get(workload) or "")

    def strategy_facts(self, strategy: str) -> StrategyFacts | None:
        """The strategy's facts as the run recorded them (``run.strategies``); for a file
        written before runs recorded them, what that strategy was then; None for a
        strategy the file does not describe."""
        table = self.run.get("strategies")
        if isinstance(table, dict):
            d = table.get(strategy)
            return StrategyFacts.from_dict(d) if isinstance(d, dict) else None
        return BEFORE_THE_TABLE.get(strategy)

    @property
    def usable_cpus(self) -> int:
        """The run's usable CPUs; 0 where the file does not say (``usable_cpus_of``)."""
        return usable_cpus_of(self.machine)

    def with_speedups(self) -> Results:
        """The same results with every cell's speedup computed as today's gilbench
        computes it (``with_speedups``): what a reader of a file works from."""
        return dataclasses.replace(self, cells=tuple(with_speedups(self.cells)))

    def main_size(self, workload: str) -> int | None:
        """The workload's size in the plan (the profile's), or its largest measured one;
        other sizes are a task-size sweep (``--sizes``), kept out of the main analyses."""
        sizes = {c.size for c in self.cells if c.workload == workload}
        planned = dict(self.plan.sizes).get(workload) if self.plan else None
        if planned in sizes:
            return planned
        return max(sizes) if sizes else None

    @functools.cached_property
    def plan(self) -> Plan | None:
        """The run's plan, typed: None in a file without one (a pytest-benchmark file, a
        pytest session's) or whose plan this gilbench cannot read."""
        d = self.run.get("plan")
        if not isinstance(d, dict):
            return None
        try:
            return Plan.from_dict(d)
        except (TypeError, ValueError):
            return None

    @functools.cached_property
    def main_cells(self) -> tuple[Cell, ...]:
        """The cells at each workload's main size (all of them without a size sweep)."""
        main = {w: self.main_size(w) for w in self.workloads()}
        return tuple(c for c in self.cells if c.size == main[c.workload])

    def cells_of(self, workload: str) -> list[Cell]:
        """The workload's cells at its main size."""
        return [c for c in self.main_cells if c.workload == workload]

    def sizes_of(self, workload: str) -> dict[int, list[Cell]]:
        """Every size the workload ran at (a task-size sweep), smallest first."""
        out: dict[int, list[Cell]] = {}
        for c in sorted((c for c in self.cells if c.workload == workload), key=lambda c: c.size):
            out.setdefault(c.size, []).append(c)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "created_at": self.created_at,
            "tool": self.tool,
            "machine": self.machine,
            "run": self.run,
            "cells": [c.to_dict() for c in self.cells],
            **{name: [e.to_dict() for e in self.suites[name]]
               for name in ENTRY_TYPES if name in self.suites},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Results:
        return cls(
            schema_version=d["schema_version"],
            created_at=d["created_at"],
            tool=dict(d["tool"]),
            machine=dict(d["machine"]),
            run=dict(d.get("run") or {}),
            cells=tuple(Cell.from_dict(c) for c in d["cells"]),
            suites={name: tuple(cls.from_dict(e) for e in d[name])
                    for name, cls in ENTRY_TYPES.items() if name in d},
        )


def _version() -> str:
    from gilbench.bench import __version__

    return __version__


def with_speedup(cell: Cell, serial_times_s: Sequence[float]) -> Cell:
    """The cell with its speedup, its 95% interval and efficiency: over the serial
    runs interleaved with it when it has them (paired: the median per-round
    ratio), else over these serial times (unpaired: ratio of medians). The interval is
    the interpolated one unless the cell's rounds stopped on its own data
    (``Cell.stopped_on_its_data``)."""
    paired = bool(cell.serial_times_s)
    base = cell.serial_times_s if paired else serial_times_s
    s = stats.speedup(base, cell.times_s, paired=paired)
    if cell.strategy == "serial":
        ci: tuple[float, float] | None = (s, s)
        hw = cell.ci_half_width
    else:
        ci = stats.speedup_ci(base, cell.times_s, paired=paired,
                              interpolated=not cell.stopped_on_its_data)
        hw = stats.relative_half_width(s, ci)
    return dataclasses.replace(cell, speedup=s, speedup_ci95=ci, ci_half_width=hw,
                               efficiency=stats.efficiency(s, cell.workers))


def serial_by_size(cells: Iterable[Cell]) -> dict[tuple[str, int], Cell]:
    """Each (workload, size)'s ok serial cell: the baseline of its unpaired cells."""
    return {(c.workload, c.size): c for c in cells if c.strategy == "serial" and c.ok}


def with_speedups(cells: Iterable[Cell]) -> list[Cell]:
    """Fill speedup, its interval and efficiency: a paired cell from its own serial
    runs, always (so a file written by an older gilbench reads with today's
    definition). A cell without paired runs keeps (or gets, from its workload's serial
    cell) a point estimate but no interval, whatever interval its file stored: runs
    not interleaved with serial ones carry the machine's drift between them, so no
    interval of theirs is honest, and the cell decides nothing (``unpaired``)."""
    cells = list(cells)
    serial = serial_by_size(cells)
    out = []
    for c in cells:
        base = serial.get((c.workload, c.size))
        if c.ok and c.serial_times_s:
            c = with_speedup(c, c.serial_times_s)
        elif c.ok and c.strategy == "serial":
            if c.speedup is None and base is not None:
                c = with_speedup(c, base.times_s)
        elif c.ok:
            if c.speedup is None and base is not None:
                c = with_speedup(c, base.times_s)
            c = dataclasses.replace(c, speedup_ci95=None, ci_half_width=None)
        out.append(c)
    return out


def unpaired(cells: Iterable[Cell]) -> list[Cell]:
    """The ok non-serial cells with a speedup but no serial runs paired with theirs (a
    file from before gilbench paired its runs, or a run without a serial reference)."""
    return [c for c in cells if c.ok and c.strategy != "serial" and c.speedup is not None
            and not c.serial_times_s]


def file_stamp(created_at: str) -> str:
    """An ISO 8601 UTC time as a folder-name stamp: 20261126T150210Z."""
    return created_at.replace("+00:00", "Z").replace(":", "").replace("-", "")


# ------------------------------------------------------------ files


def save(results: Results, path: Path) -> None:
    """Write atomically: a reader sees the old file or the new one, never half of one
    (``bench.files.writing``; a failure is a ``WriteFailed``)."""
    with writing(path) as f:
        json.dump(results.to_dict(), f, indent=1, allow_nan=False)
        f.write("\n")


def read_json(path: Path) -> Any:
    """Parse a JSON file given by the user; any problem is one clear UserError."""
    path = Path(path)
    if path.is_dir():
        candidate = path / "results.json"
        if not candidate.exists():
            raise UserError(f"{path} is a folder without a results.json in it")
        path = candidate
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file (expected a gilbench results.json)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read it ({exc.__class__.__name__})") from None
    if not text.strip():
        raise UserError(f"{path} is empty (expected a gilbench results.json)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}): "
                        "expected a gilbench results.json") from None


def from_json_data(data: Any, source: str) -> Results:
    """Build Results from parsed JSON, or say in one line what is wrong with it."""
    if not isinstance(data, dict):
        raise UserError(f"{source} is not a results file: expected a JSON object at the top")
    if "schema_version" not in data:
        raise UserError(f"{source} is not a gilbench results file (no schema_version)")
    version = data["schema_version"]
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise UserError(f"{source} has schema_version {version!r}; this gilbench reads "
                        f"version {SCHEMA_VERSION}: upgrade gilbench to read it")
    if version < 1:
        raise UserError(f"{source} has an unknown schema_version {version!r}")
    try:
        return Results.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise UserError(f"{source} is not a valid gilbench results file: {detail}") from None


def from_pytest_benchmark(data: dict[str, Any], source: str) -> Results:
    """Results from a pytest-benchmark JSON written by gilbench's pytest plugin."""
    info = data.get("machine_info") or {}
    machine = dict(info.get("gilbench") or {})
    if not machine:  # a plain pytest-benchmark file: keep what it knows
        machine = {"hostname": info.get("node"), "cpu_model": (info.get("cpu") or {}).get(
            "brand_raw"), "python_version": info.get("python_version"),
            "python_implementation": info.get("python_implementation"), "usable_cpus": 1}
    cells = []
    raw_times = True
    for b in data.get("benchmarks") or []:
        x = b.get("extra_info") or {}
        if "workload" not in x or "strategy" not in x:
            continue
        st = b.get("stats") or {}
        times = tuple(st.get("data") or ([st["median"]] if "median" in st else []))
        raw_times = raw_times and bool(st.get("data"))
        pairs = tuple(x.get("serial_times_s") or ())  # gilbench's plugin keeps them
        ci = x.get("speedup_ci95")
        try:
            cells.append(Cell(
                workload=x["workload"], kind=x.get("kind", "?"), size=int(x.get("size", 0)),
                tasks=int(x.get("tasks", 0)), strategy=x["strategy"], model=x.get("model", ""),
                start_method=x.get("start_method"), workers=int(x.get("workers", 1)),
                status="ok", times_s=times, median_s=st.get("median"),
                startup_s=x.get("startup_s"), speedup=x.get("speedup"),
                speedup_ci95=tuple(ci) if ci else None, efficiency=x.get("efficiency"),
                rel_std=stats.rel_std(times), noisy=stats.rel_std(times) >= stats.NOISY_REL_STD,
                gil_enabled_in_workers=x.get("gil_enabled_in_workers"),
                serial_times_s=pairs if len(pairs) == len(times) else ()))
        except (TypeError, ValueError) as exc:
            raise UserError(f"{source}: benchmark {b.get('name')!r} is not a gilbench "
                            f"benchmark ({exc})") from None
    if not cells:
        raise UserError(f"{source} is a pytest-benchmark file without gilbench benchmarks "
                        "(run them with: pytest --benchmark-only --benchmark-json=FILE)")
    return Results(machine=machine, cells=tuple(cells),
                   run={"profile": (data.get("gilbench") or {}).get("profile"),
                        "complete": True, "source": "pytest-benchmark",
                        "raw_times": raw_times},
                   created_at=data.get("datetime") or utc_now())


def load(path: Path) -> Results:
    """A gilbench results.json, or a pytest-benchmark JSON of gilbench benchmarks."""
    data = read_json(path)
    if isinstance(data, dict) and "benchmarks" in data and "machine_info" in data:
        return from_pytest_benchmark(data, str(path))
    return from_json_data(data, str(path))
