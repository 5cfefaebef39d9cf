"""``gilbench run --python PATH [--python PATH ...]``: the sweep in several interpreters.

Each interpreter runs the cells itself (``bench.remote``, with gilbench's folder
on its PYTHONPATH, so it needs no installation), and its results land in
``DIR/<label>/results.json`` with their report; a ``gilbench compare`` of them
is written to DIR. The label says the version, and ``t`` for a free-threaded
build (``python3.13t``).

An interpreter can come with environment variables of its own, written before its
path as a shell would: ``--python 'PYTHON_GIL=1 /opt/py313t/bin/python3.13t'``. They
are set for that interpreter's run only (and its workers), recorded with it, and
added to its label (``python3.13t-PYTHON_GIL=1``), so the same binary can be measured
with the GIL on and off in one command. The rest of gilbench's environment passes
through unchanged.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import phases
from bench.errors import UserError
from bench.launch import ROOT, harness_env, module_command
from bench.reaper import stop_helper
from bench.remote import plan_json
from bench.results import Cell, Results, utc_now
from bench.runner import Plan
from bench.session import Session

MIN_VERSION = (3, 10)


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class Interpreter:
    path: str
    label: str
    info: dict[str, Any]
    env: dict[str, str] = field(default_factory=dict)  # set for this interpreter only

    @property
    def spec(self) -> str:
        """How it was given to --python (what a resumed run probes again)."""
        return " ".join([*(f"{k}={shlex.quote(v)}" for k, v in self.env.items()),
                         shlex.quote(self.path)])

    def environ(self) -> dict[str, str]:
        return with_env(self.env)


def with_env(env: dict[str, str]) -> dict[str, str]:
    """The harness's environment with ``env`` set; a PYTHONPATH of it comes after
    gilbench's own folder, which the harness needs first."""
    out = {**harness_env(), **env}
    if "PYTHONPATH" in env:
        out["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env["PYTHONPATH"]) if p)
    return out


def parse_spec(spec: str) -> tuple[str, dict[str, str]]:
    """``'[NAME=VALUE ...] PATH'`` → (PATH, {NAME: VALUE}); a UserError says what is wrong."""
    try:
        words = shlex.split(spec)
    except ValueError as exc:
        raise UserError(f"--python {spec!r}: {exc}; give [NAME=VALUE ...] PATH, e.g. "
                        "--python 'PYTHON_GIL=1 /path/to/python3.13t'") from None
    env: dict[str, str] = {}
    while len(words) > 1 and "=" in words[0]:
        name, value = words.pop(0).split("=", 1)
        if not _ENV_NAME.match(name):
            raise UserError(f"--python {spec!r}: {name!r} is not an environment variable "
                            "name; give [NAME=VALUE ...] PATH, e.g. --python "
                            "'PYTHON_GIL=1 /path/to/python3.13t'")
        env[name] = value
    if len(words) == 1 and "=" in words[0] and _ENV_NAME.match(words[0].split("=")[0]) \
            and not os.path.exists(words[0]):
        raise UserError(f"--python {spec!r}: no interpreter path after the settings; give "
                        "[NAME=VALUE ...] PATH, e.g. --python 'PYTHON_GIL=1 "
                        "/path/to/python3.13t'")
    if len(words) != 1:
        raise UserError(f"--python {spec!r}: give one interpreter path, after any NAME=VALUE "
                        "settings, e.g. --python 'PYTHON_GIL=1 /path/to/python3.13t'")
    return words[0], env


def probe(path: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Ask the interpreter at ``path`` who it is; a UserError says why it cannot serve."""
    try:
        r = subprocess.run(module_command(path, "bench.remote", "--probe"),
                           env=with_env(env or {}),
                           capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UserError(f"--python {path}: cannot run it ({exc.__class__.__name__}: "
                        f"{getattr(exc, 'strerror', None) or exc}); give a Python "
                        f"{MIN_VERSION[0]}.{MIN_VERSION[1]}+ interpreter") from None
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or [f"exit code {r.returncode}"])[-1]
        raise UserError(f"--python {path}: it cannot run gilbench's harness ({last}); give a "
                        f"Python {MIN_VERSION[0]}.{MIN_VERSION[1]}+ interpreter")
    try:
        info = json.loads(r.stdout.strip().splitlines()[-1])
        info["version"], info["free_threaded_build"]
    except (IndexError, ValueError, KeyError, TypeError):
        raise UserError(f"--python {path}: it cannot run gilbench's harness (it did not answer "
                        f"as a Python interpreter); give a Python {MIN_VERSION[0]}."
                        f"{MIN_VERSION[1]}+ interpreter") from None
    if tuple(info["version"][:2]) < MIN_VERSION:
        raise UserError(f"--python {path} is Python {'.'.join(map(str, info['version']))}; "
                        f"the harness needs {MIN_VERSION[0]}.{MIN_VERSION[1]} or newer")
    return info


def find_interpreters(specs: Sequence[str]) -> list[Interpreter]:
    """Probe each ``[NAME=VALUE ...] PATH`` and label it (``python3.13``, ``python3.13t``,
    ``python3.13t-PYTHON_GIL=1``, ``-2`` for a repeat)."""
    found: list[Interpreter] = []
    seen: dict[str, int] = {}
    for spec in specs:
        path, env = parse_spec(spec)
        info = probe(path, env)
        major, minor = info["version"][:2]
        label = "-".join([f"python{major}.{minor}{'t' if info['free_threaded_build'] else ''}",
                          *(f"{k}={v}" for k, v in env.items())])
        label = re.sub(r"[^\w.=+-]", "_", label)  # it names a folder
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label += f"-{seen[label]}"
        found.append(Interpreter(path, label, info, env))
    return found


def merged_machine(theirs: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    """Their record, with the hardware facts they could not read (no psutil there)
    taken from ours: it is the same machine."""
    out = dict(theirs)
    for key in ("memory_bytes", "physical_cores", "cpu_freq_mhz"):
        if out.get(key) is None and ours.get(key) is not None:
            out[key] = ours[key]
    return out


def run_in(interp: Interpreter, plan: Plan, out: Path, ours: dict[str, Any],
           on_cell: Callable[[Cell], None], *, previous: Results | None = None,
           resume_hint: str | None = None) -> Results:
    """Run the plan in one interpreter; save its results (after every cell) into ``out``.
    ``previous``: what an interrupted run of it saved (its cells are not run again)."""
    session = Session(out, previous.machine if previous else dict(ours),
                      previous.created_at if previous else utc_now(), plan=plan,
                      previous=previous, resumable=False, interpreter=interp.path,
                      label=interp.label)
    if interp.env:
        session.run_extra["interpreter_env"] = dict(interp.env)
    session.resume_hint = resume_hint
    # A session of its own: a Ctrl-C reaches it from gilbench, once (stop_helper), so
    # that none lands in a worker it is starting.
    proc = subprocess.Popen(module_command(interp.path, "bench.remote"), env=interp.environ(),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
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
                session.add_cell(Cell.from_dict(record["cell"]))
                on_cell(session.cells[-1])
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
    done = session.save(complete=code == 0 and len(session.cells) == len(plan.specs()),
                        speedups=True)
    if code == 130 and not silent:  # interrupted there (a SIGINT sent to that process)
        raise KeyboardInterrupt
    if code != 0:
        print(f"gilbench: the run in {interp.path} ended with exit code {code}"
              + (f" (stopped after {quiet_s:g} s without a result)" if silent else ""),
              file=sys.stderr)
    return done
