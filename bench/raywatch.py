"""The watch over a local Ray: if gilbench dies without shutting Ray down (SIGKILL, the
out-of-memory killer), the Ray processes it started are killed too.

A local Ray's GCS server, raylet and agents outlive a killed driver: its two agents were
still running a minute after gilbench was SIGKILLed. The ray strategy starts this
helper just before ``ray.init``. Every half second the helper notes the Ray processes
running under gilbench and what they have started (the agents, the workers), and checks
its parent; when the parent is gone it SIGKILLs each of them that is still the same
process, and exits. After a normal ``ray.shutdown`` the
strategy stops it with one SIGINT, as every helper program is stopped.

    python -m gilbench.bench.raywatch

Standard library and psutil only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading

import psutil

from gilbench.bench.reaper import PARENT_ENV, WATCH_S, _parent_gone_check


def _same(pid: int, started: float) -> psutil.Process | None:
    """The process, if it is still the one that started then (not a reused pid)."""
    with contextlib.suppress(psutil.Error):
        p = psutil.Process(pid)
        if abs(p.create_time() - started) < 0.01:
            return p
    return None


def _grow(known: dict[int, float]) -> None:
    """Add every descendant the known processes have now: the raylet starts its agents
    and workers after ray.init returned, and they outlive it when it dies first."""
    for pid, started in list(known.items()):
        p = _same(pid, started)
        if p is None:
            continue
        with contextlib.suppress(psutil.Error):
            for c in p.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    known.setdefault(c.pid, c.create_time())


def is_ray(p: psutil.Process) -> bool:
    """One of a local Ray's processes: its GCS server, raylet, agents, monitors, workers."""
    with contextlib.suppress(psutil.Error):
        args = p.cmdline()
        # A script of Ray's own package (a worker, the monitors, the agents); not any
        # command line that merely names a path under it (Ray puts its thirdparty_files
        # on sys.path, which a fork server's command line carries).
        return (p.name() in ("gcs_server", "raylet") or (bool(args) and args[0].startswith(
            "ray::")) or any(a.endswith(".py") and f"{os.sep}ray{os.sep}" in a for a in args))
    return False


def _ray_under(parent: int, known: dict[int, float]) -> None:
    """Add the Ray processes now running under gilbench."""
    with contextlib.suppress(psutil.Error):
        for c in psutil.Process(parent).children(recursive=True):
            if c.pid not in known and is_ray(c):
                with contextlib.suppress(psutil.Error):
                    known[c.pid] = c.create_time()


def main(args: list[str]) -> int:
    parent = int(os.environ.get(PARENT_ENV) or os.getppid())
    known: dict[int, float] = {}
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())  # gilbench shut Ray down itself
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    # Started while its starter held Ctrl-C back (bench.signals.children_ignore_ctrl_c),
    # this process inherits SIGINT blocked: the one SIGINT that asks it to stop would
    # never arrive, and every close of Ray waited out the 5 s grace before a kill.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    gone = _parent_gone_check()
    while not done.is_set():
        _ray_under(parent, known)
        _grow(known)
        if gone():
            for pid, started in known.items():
                p = _same(pid, started)
                if p is not None:
                    with contextlib.suppress(psutil.Error):
                        p.kill()
            return 0
        done.wait(WATCH_S)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
