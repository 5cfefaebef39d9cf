"""What an interpreter is, as one typed record on the data floor: version,
implementation, free-threaded build, GIL, JIT, default start method, executable.

The machine record writes its fields (``python_version``, ``python_implementation`` ...:
results.json's contract), the ``--python`` probe answers with it, and the interpreter
matrix and every report read it back (``from_machine``): its label (``python3.13t``,
``pypy3.10``) and its words are said here, once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

# The machine record's key for each field (results.json's names, kept as they were).
MACHINE_KEYS = {"version": "python_version", "implementation": "python_implementation",
                "free_threaded_build": "free_threaded_build", "gil_enabled": "gil_enabled",
                "jit_enabled": "jit_enabled", "default_start_method": "default_start_method",
                "executable": "python_executable"}


@dataclass(frozen=True)
class InterpreterRecord:
    version: str  # "3.13.0"
    implementation: str = "CPython"  # platform.python_implementation(): CPython, PyPy ...
    free_threaded_build: bool = False
    gil_enabled: bool = True
    jit_enabled: bool | None = None  # None: no JIT in this build
    default_start_method: str | None = None  # multiprocessing's, on this platform
    executable: str | None = None

    @property
    def series(self) -> tuple[int, int]:
        """(major, minor)."""
        major, minor = [*self.version.split("."), "0", "0"][:2]
        return int(major), int(minor)

    @property
    def label(self) -> str:
        """``python3.13``, ``python3.13t`` (free-threaded), ``pypy3.10``: the command's
        name as such an interpreter installs it, so a PyPy and a CPython of one version
        are told apart."""
        name = "python" if self.implementation == "CPython" else self.implementation.lower()
        major, minor = self.series
        return f"{name}{major}.{minor}{'t' if self.free_threaded_build else ''}"

    def words(self) -> str:
        """What it is, in a few words: version, build, GIL and JIT, its start method."""
        parts = [self.version if self.implementation == "CPython"
                 else f"{self.implementation} {self.version}"]
        parts.append("free-threaded" if self.free_threaded_build else "GIL build")
        if self.free_threaded_build:
            parts.append("GIL " + ("on" if self.gil_enabled else "off"))
        if self.jit_enabled:
            parts.append("JIT on")
        if self.default_start_method:
            parts.append(f"processes start by {self.default_start_method}")
        return ", ".join(parts)

    def short_words(self) -> str:
        """``Python 3.13.0 (GIL off, JIT on)``: a run's one-line description."""
        name = "Python" if self.implementation == "CPython" else self.implementation
        return (f"{name} {self.version} ({'GIL on' if self.gil_enabled else 'GIL off'}"
                + (", JIT on" if self.jit_enabled else "") + ")")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> InterpreterRecord:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def machine_fields(self) -> dict[str, Any]:
        """Its fields under the machine record's keys (a field ``MACHINE_KEYS`` does not
        rename keeps its own name)."""
        return {MACHINE_KEYS.get(k, k): v for k, v in asdict(self).items()}

    @classmethod
    def from_machine(cls, machine: dict[str, Any]) -> InterpreterRecord:
        """The record a machine record holds (a file's: a missing or null key reads as
        the field's default, unknown)."""
        d = {f.name: machine[key] for f in fields(cls)
             if machine.get(key := MACHINE_KEYS.get(f.name, f.name)) is not None}
        return cls.from_dict({"version": "?", **d})
