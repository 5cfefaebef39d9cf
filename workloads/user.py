"""Kernels from outside gilbench: a user's file or module (``--workloads-from``), and
installed packages (the ``gilbench.workloads`` entry-point group).

They register with the same ``@workload`` decorator as the built-ins and then run
everywhere the built-ins do. This module loads them (in gilbench's process, and again
in any worker that lacks them: ``Task`` pickles with the kernel's origin), checks
what can be checked before a sweep starts (a function workers can find, a result that
pickles and does not change between two calls) and calibrates a size per profile for
kernels that give none.

Every problem is a ``WorkloadSourceError``: one line saying what is wrong and how to
fix it.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import math
import os
import pickle
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from gilbench.workloads.registry import (
    WORKLOADS,
    DuplicateWorkload,
    Task,
    Workload,
    import_file,
    no_resource,
)

ENTRY_POINT_GROUP = "gilbench.workloads"


class WorkloadSourceError(ValueError):
    """A user's kernel file, module or kernel that gilbench cannot use (one line)."""


# ------------------------------------------------------------------ loading


def module_name_for(path: Path) -> str:
    """The name a kernel file is imported under, as ``python FILE`` would have its folder
    on the path: its stem (``examples/log_parsing.py``: ``log_parsing``), so that processes
    the file starts itself (spawn) and pickles of its classes find it by that name. A stem
    that is not a valid name, or names another module, gets a name unique to the file."""
    stem = path.stem
    here = sys.modules.get(stem)
    if here is not None and _same_file(getattr(here, "__file__", None), path):
        return stem
    if stem.isidentifier() and here is None:
        try:
            found = importlib.util.find_spec(stem)
        except (ImportError, ValueError):
            found = None
        if found is None or _same_file(found.origin, path):
            return stem
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:8]
    safe = "".join(ch if ch.isalnum() else "_" for ch in stem)
    return f"gilbench_user_{safe}_{digest}"


def _same_file(a: str | None, path: Path) -> bool:
    return a is not None and Path(a).resolve() == path


_OURS = (str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent
                                                    / "bench"))


def _last_line(exc: BaseException) -> str:
    """The error in one line, after the file and line of the user's code it came from: a
    syntax error's own, else the innermost frame outside gilbench and the import system."""
    lines = traceback.format_exception_only(type(exc), exc)
    text = " ".join(line.strip() for line in lines[-1:]).strip()
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
        return f"{exc.filename}:{exc.lineno}: {type(exc).__name__}: {exc.msg}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith(("<", *_OURS))]
    return f"{frames[-1].filename}:{frames[-1].lineno}: {text}" if frames else text


def is_file_spec(spec: str) -> bool:
    return spec.endswith(".py") or os.sep in spec or "/" in spec


def load(spec: str) -> list[str]:
    """Import a kernel file (a path ending in .py) or module, and return the names of
    the kernels it registered. Loading the same spec again registers nothing new."""
    before = set(WORKLOADS)
    origin = f"--workloads-from {spec}"
    if is_file_spec(spec):
        path = Path(spec).expanduser().resolve()
        if path.is_dir():
            raise WorkloadSourceError(f"{origin}: is a folder (give a .py file in it that "
                                      "defines kernels with @workload, or an importable "
                                      "module name)")
        if not path.is_file():
            raise WorkloadSourceError(f"{origin}: no such file (give a .py file that defines "
                                      "kernels with @workload, or an importable module name)")
        name = module_name_for(path)
        if name in sys.modules:
            return _registered_by(name, origin)
        run: Callable[[], object] = lambda: import_file(path, name)  # noqa: E731
    else:
        if not all(part.isidentifier() for part in spec.split(".")):
            raise WorkloadSourceError(f"{origin}: not a file nor a module name (give a path "
                                      "to a .py file, or a dotted module name such as "
                                      "mypackage.kernels)")
        name = spec
        if name in sys.modules:
            return _registered_by(name, origin)
        try:
            found = importlib.util.find_spec(spec)
        except (ImportError, ValueError):
            found = None
        if found is None:
            raise WorkloadSourceError(f"{origin}: no module named {spec!r} on this Python's "
                                      "path (give a path to a .py file, or install the "
                                      "package that has it)")
        run = lambda: importlib.import_module(spec)  # noqa: E731
    try:
        run()
    except WorkloadSourceError:
        raise
    except DuplicateWorkload as exc:
        raise WorkloadSourceError(f"{origin}: {exc}") from None
    except BaseException as exc:  # its own code: SystemExit, SyntaxError, anything
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise WorkloadSourceError(f"{origin}: importing it failed: {_last_line(exc)}") from None
    added = [n for n in WORKLOADS if n not in before] or _registered_by(name, origin)
    for n in added:
        check_importable(WORKLOADS[n], origin)
    return added


def _registered_by(module: str, origin: str) -> list[str]:
    """The kernels a module (already imported) registered; none is an error."""
    names = [w.name for w in WORKLOADS.values() if w.origin and w.origin[0] == module]
    if not names:
        raise WorkloadSourceError(
            f"{origin}: registers no kernel; decorate module-level functions with "
            "@workload(kind=...) (from gilbench import workload). Kernels under "
            "`if __name__ == \"__main__\":` are not defined when gilbench imports the file")
    return names


def check_importable(w: Workload, origin: str) -> None:
    """Workers find a kernel again by module and name: refuse one they cannot."""
    func = w.func
    qualname = getattr(func, "__qualname__", w.name)
    how = "define it with def at the top level of the module, so worker processes can import it"
    problem = None
    if not w.name.isidentifier():
        problem = f"kernel {w.name!r} is a lambda"
    elif "<locals>" in qualname:
        problem = f"kernel {w.name!r} is defined inside a function ({qualname})"
    elif qualname != w.name:
        problem = f"kernel {w.name!r} is not a module-level function ({qualname})"
    else:
        try:
            back = pickle.loads(pickle.dumps(func))
        except Exception as exc:
            problem = f"kernel {w.name!r} cannot be pickled ({_last_line(exc)})"
        else:
            if back is not func:
                problem = f"kernel {w.name!r} is not the module's {w.name} (another object " \
                          "has that name there)"
    if problem:
        WORKLOADS.pop(w.name, None)
        raise WorkloadSourceError(f"{origin}: {problem}; {how}")


def load_all(specs: Sequence[str]) -> list[str]:
    """Every ``--workloads-from`` spec, in order; the kernels they registered."""
    out: list[str] = []
    for spec in dict.fromkeys(specs):
        out += [n for n in load(spec) if n not in out]
    return out


_ENTRY_POINTS_LOADED = False


def load_entry_points() -> list[str]:
    """Kernels that installed packages ship (entry-point group ``gilbench.workloads``,
    each naming a module that registers kernels when imported). Loaded once."""
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED:
        return []
    _ENTRY_POINTS_LOADED = True
    before = set(WORKLOADS)
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(getattr(ep, "dist", None), "name", None) or "an installed package"
        origin = f"entry point {ep.name} = {ep.value} (group {ENTRY_POINT_GROUP}, from {dist})"
        start = set(WORKLOADS)
        try:
            ep.load()
        except DuplicateWorkload as exc:
            raise WorkloadSourceError(f"{origin}: {exc}") from None
        except Exception as exc:
            raise WorkloadSourceError(f"{origin}: importing it failed: {_last_line(exc)}; "
                                      f"fix or uninstall {dist}") from None
        for n in set(WORKLOADS) - start:
            check_importable(WORKLOADS[n], origin)
    return [n for n in WORKLOADS if n not in before]


def is_builtin(name: str) -> bool:
    return name in WORKLOADS and WORKLOADS[name].origin is None


# ------------------------------------------------------------------ checks and sizes

# What a task of a calibrated kernel takes, per profile: about what a built-in kernel's
# task takes at that profile's size (measured on the 2-CPU development VM).
TASK_TARGET_S = {"smoke": 0.0005, "quick": 0.004, "standard": 0.007, "full": 0.07}
MAX_SIZE = 2 ** 40
CALIBRATION_BUDGET_S = 20.0


@dataclass(frozen=True)
class Calibration:
    workload: str
    profile: str
    size: int
    task_s: float  # one task's time at ``size`` (the fastest of a few)
    target_s: float

    def describe(self, unit: str) -> str:
        note = ""
        if self.size == 1 and self.task_s > 1.5 * self.target_s:
            note = " (its smallest size already takes longer)"
        return (f"{self.workload}: size {self.size}{' ' + unit if unit else ''} (a task takes "
                f"{self.task_s * 1000:.3g} ms; the {self.profile} profile aims at "
                f"{self.target_s * 1000:.3g} ms){note}")


# What bounds each call of a kernel here (``guard(kernel, phase)``, a context manager):
# gilbench passes its watchdog, so a kernel that never returns stops the command in one
# line (``bench.watchdog``); this package imports nothing of gilbench's harness.
Guard = Callable[[str, str], contextlib.AbstractContextManager[None]]


def _unguarded(_workload: str, _phase: str) -> contextlib.AbstractContextManager[None]:
    return contextlib.nullcontext()


def _task_time(task: Task, runs: int = 3, guard: Guard = _unguarded) -> float:
    best = math.inf
    for seed in range(runs):
        with guard(task.workload, "calibration of its size"):
            t0 = time.perf_counter()
            task(seed)
            best = min(best, time.perf_counter() - t0)
    return best


def calibrate(w: Workload, profile: str, resource: Any = None,
              guard: Guard = _unguarded) -> Calibration:
    """The size whose task takes ``TASK_TARGET_S[profile]`` here, from the kernel's cost
    model: grow the size until a task is measurable, scale to the target, check once."""
    target = TASK_TARGET_S[profile]
    started = time.perf_counter()
    size = 1
    t = _task_time(Task(w.name, size, resource), guard=guard)
    while t < target / 4:
        if size >= MAX_SIZE or time.perf_counter() - started > CALIBRATION_BUDGET_S:
            raise WorkloadSourceError(
                f"kernel {w.name!r}: a task's time does not grow with its size (size "
                f"{size} takes {t * 1e6:.3g} µs); make the work depend on size, or give "
                "sizes=... for each profile")
        factor = min(1024.0, max(2.0, target / 4 / max(t, 1e-7)))
        bigger = w.scaled(size, factor)
        size = min(MAX_SIZE, bigger if bigger > size else size + 1)
        t = _task_time(Task(w.name, size, resource), guard=guard)
    for _ in range(2):  # scale to the target and check it, once more if far off
        if t <= 0 or 0.8 <= target / t <= 1.25:
            break
        new = w.scaled(size, target / t)
        if new == size:
            break
        size = new
        t = _task_time(Task(w.name, size, resource), guard=guard)
    return Calibration(w.name, profile, size, t, target)


def check_results(w: Workload, size: int, resource: Any = None,
                  guard: Guard = _unguarded) -> None:
    """Two calls on the same input return equal, picklable values (before a sweep)."""
    task = Task(w.name, size, resource)
    try:
        with guard(w.name, "result check: two calls with seed 0"):
            first, second = task(0), task(0)
    except Exception as exc:
        raise WorkloadSourceError(f"kernel {w.name!r} failed at size {size}: "
                                  f"{_last_line(exc)}") from None
    try:
        pickle.loads(pickle.dumps(first))
    except Exception as exc:
        raise WorkloadSourceError(
            f"kernel {w.name!r} returns a value that cannot be pickled ({_last_line(exc)}); "
            "worker processes send results back by pickle: return numbers, strings, "
            "tuples, lists, dicts or other picklable values") from None
    if first != second:
        raise WorkloadSourceError(
            f"kernel {w.name!r} returned different results for the same size and seed "
            f"({_short(first)} then {_short(second)}); gilbench checks every strategy's "
            "results against serial's, so make it deterministic: draw random numbers from "
            "random.Random(seed), not from the global generator or the clock")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def size_and_check(w: Workload, profile: str, resource: Any = None,
                   guard: Guard = _unguarded) -> tuple[int, Calibration | None]:
    """The kernel's size at ``profile`` -- calibrated here when it gives none -- with a
    user kernel's results checked (equal and picklable) at that size."""
    cal = None
    if w.calibrated:
        try:
            cal = calibrate(w, profile, resource, guard)
        except WorkloadSourceError:
            raise
        except Exception as exc:
            raise WorkloadSourceError(f"kernel {w.name!r} failed while gilbench calibrated "
                                      f"its size: {_last_line(exc)}") from None
        size = cal.size
    else:
        size = w.size_for(profile)
    if w.origin is not None:
        check_results(w, size, resource, guard)
    return size, cal


def prepare(names: Sequence[str], profile: str, say: Callable[[str], None] | None = None,
            guard: Guard = _unguarded) -> dict[str, Calibration]:
    """Check each user kernel of ``names`` and calibrate those without sizes, in
    gilbench's process (with each kernel's setup around it). Built-ins are skipped."""
    out: dict[str, Calibration] = {}
    for name in names:
        w = WORKLOADS[name]
        if w.origin is None or any(importlib.util.find_spec(m) is None for m in w.requires):
            continue  # a built-in; or its cells are skipped for the missing module
        try:
            with (w.setup or no_resource)() as resource:
                _, cal = size_and_check(w, profile, resource, guard)
            if cal is not None:
                out[name] = cal
                if say:
                    say(f"calibrated {cal.describe(w.size_unit)}")
        except WorkloadSourceError:
            raise
        except Exception as exc:  # its setup (a server, a folder) failed
            raise WorkloadSourceError(f"kernel {name!r}: its setup failed: "
                                      f"{_last_line(exc)}") from None
    return out
