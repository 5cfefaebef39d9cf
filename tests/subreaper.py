"""Run a command under a child subreaper and say what of it is left the moment it exits.

    python -m tests.subreaper SPEC_JSON

This process makes itself a child subreaper (``prctl(PR_SET_CHILD_SUBREAPER)``, Linux):
every descendant of the command that is orphaned — because the command exited without
waiting for it, or because a child of the command did — becomes *this* process's child,
instead of init's. It starts the command in a session of its own, waits for that one pid,
and at once lists every descendant it still has, alive or zombie. That is the test of
"nothing of gilbench outlives it": with gilbench's own exit, nothing is left at all.

SPEC (JSON): ``args``, ``cwd``, ``env``; optionally ``fsize`` (RLIMIT_FSIZE in bytes for
the command, with SIGXFSZ ignored, so writes past it fail with EFBIG: a full disk without
root), ``signal`` (``{"name": "SIGTERM" | "SIGKILL", "when": {...}}``, sent to the command
alone once ``when`` holds: ``{"cells": N, "results": PATH}`` — that many cells saved — or
``{"child": REGEX}`` — a descendant whose command line matches — and ``delay_s`` after
that), ``linger_s`` (how long
to wait for descendants to go by themselves before listing them: 0, the default, for the
moment of exit; a few seconds after a SIGKILL, which gives gilbench no chance to clean
up), and ``timeout_s``.

Prints one JSON object: ``returncode``, ``stdout``, ``stderr``, ``signalled`` (whether the
signal was sent), ``left`` (the descendants still there after ``linger_s``) and
``orphaned``: every process that outlived its parent and so was re-parented here — after
the command exited, or at any time before — alive or already ended, one "PID CMDLINE"
each. That last list is exact, not a race with a helper that exits a moment after the
command did: a process re-parented here must be reaped here. Everything left is then
killed and reaped, so nothing outlives this process either.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import resource
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import psutil

PR_SET_CHILD_SUBREAPER = 36


def _child_setup(fsize: int | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # a Ctrl-C test's SIGINT is deliverable
    if fsize is not None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))


def _cells_saved(path: str) -> int:
    try:
        with open(path, encoding="utf-8") as f:
            return len(json.load(f)["cells"])
    except (OSError, ValueError, KeyError):
        return 0


def _holds(when: dict[str, Any], proc: subprocess.Popen[str]) -> bool:
    if "cells" in when:
        return _cells_saved(when["results"]) >= when["cells"]
    pattern = re.compile(when["child"])
    with contextlib.suppress(psutil.Error):
        for p in psutil.Process(proc.pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if pattern.search(" ".join(p.cmdline())):
                    return True
    return False


def _reap_exited() -> list[int]:
    """Reap the zombies among this process's children (orphans that have ended)."""
    reaped = []
    with contextlib.suppress(ChildProcessError):
        while True:
            pid, _ = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            reaped.append(pid)
    return reaped


def _descendants(seen: dict[int, str]) -> list[int]:
    """The descendants alive (or zombie) now; their command lines go into ``seen``."""
    out = []
    with contextlib.suppress(psutil.Error):
        for p in psutil.Process().children(recursive=True):
            out.append(p.pid)
            with contextlib.suppress(psutil.Error):
                seen.setdefault(p.pid, " ".join(p.cmdline())[:200])
    return out


def _describe(pids: list[int], seen: dict[int, str]) -> list[str]:
    return [f"{pid} {seen.get(pid) or '(command line not seen)'}" for pid in sorted(pids)]


def main(spec: dict[str, Any]) -> dict[str, Any]:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        return {"error": f"prctl(PR_SET_CHILD_SUBREAPER) failed: errno {ctypes.get_errno()}"}
    proc = subprocess.Popen(spec["args"], cwd=spec.get("cwd"), env=spec.get("env"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            preexec_fn=lambda: _child_setup(spec.get("fsize")))
    said: dict[str, list[str]] = {"stdout": [], "stderr": []}

    def drain(name: str, stream: Any) -> None:
        said[name].append(stream.read())

    readers = [threading.Thread(target=drain, args=(n, s), daemon=True)
               for n, s in (("stdout", proc.stdout), ("stderr", proc.stderr))]
    for r in readers:
        r.start()
    ask = spec.get("signal")
    signalled = False
    seen: dict[int, str] = {}
    deadline = time.monotonic() + float(spec.get("timeout_s", 300))
    while proc.poll() is None and time.monotonic() < deadline:
        _descendants(seen)
        if ask and not signalled and _holds(ask["when"], proc):
            time.sleep(float(ask.get("delay_s", 0)))  # into the middle of what it started
            if proc.poll() is None:
                proc.send_signal(getattr(signal, ask["name"]))
                signalled = True
        time.sleep(0.02)
    if proc.poll() is None:
        proc.kill()
    code = proc.wait()
    # Every process reaped here from now on outlived its parent: it was re-parented to
    # this subreaper because whoever started it exited without waiting for it.
    linger_until = time.monotonic() + float(spec.get("linger_s", 0))
    orphaned = _reap_exited()
    alive = _descendants(seen)
    while alive and time.monotonic() < linger_until:
        time.sleep(0.1)
        orphaned += _reap_exited()
        alive = _descendants(seen)
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        while True:
            orphaned.append(os.waitpid(-1, 0)[0])
    for r in readers:
        r.join(10)
    return {"returncode": code, "stdout": "".join(said["stdout"]),
            "stderr": "".join(said["stderr"]), "signalled": signalled,
            "left": _describe(alive, seen), "orphaned": _describe(orphaned, seen)}


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
