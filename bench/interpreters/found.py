"""The interpreters of a ``--python`` run: each given as ``[NAME=VALUE ...] PATH``,
probed (``bench.remote --probe``: who it is, whether it can run the harness) and labelled.

The label says the implementation and version, and ``t`` for a free-threaded build
(``python3.13t``, ``pypy3.10``: ``InterpreterRecord.label``). An
interpreter can come with environment variables of its own, written before its path as a
shell would: ``--python 'PYTHON_GIL=1 /opt/py313t/bin/python3.13t'``. They are set for
that interpreter's run only (and its workers), recorded with it, and added to its label
(``python3.13t-PYTHON_GIL=1``), so the same binary can be measured with the GIL on and
off in one command. The rest of gilbench's environment passes through unchanged.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gilbench.bench.errors import UserError
from gilbench.bench.interprecord import InterpreterRecord
from gilbench.bench.launch import ROOT, harness_env, module_command

MIN_VERSION = (3, 10)


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class Interpreter:
    path: str
    label: str
    info: dict[str, Any]  # the probe's answer: its InterpreterRecord, and its strategies
    env: dict[str, str] = field(default_factory=dict)  # set for this interpreter only

    @property
    def record(self) -> InterpreterRecord:
        """Who it is, typed."""
        return InterpreterRecord.from_dict(self.info)

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
        r = subprocess.run(module_command(path, "gilbench.bench.remote", "--probe"),
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
        series = InterpreterRecord.from_dict(info).series
    except (IndexError, ValueError, KeyError, TypeError, AttributeError):
        raise UserError(f"--python {path}: it cannot run gilbench's harness (it did not answer "
                        f"as a Python interpreter); give a Python {MIN_VERSION[0]}."
                        f"{MIN_VERSION[1]}+ interpreter") from None
    if series < MIN_VERSION:
        raise UserError(f"--python {path} is Python {info['version']}; "
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
        label = "-".join([InterpreterRecord.from_dict(info).label,
                          *(f"{k}={v}" for k, v in env.items())])
        label = re.sub(r"[^\w.=+-]", "_", label)  # it names a folder
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label += f"-{seen[label]}"
        found.append(Interpreter(path, label, info, env))
    return found
