"""``subinterpreters``: one subinterpreter per worker, each with its own GIL
(PEP 684; Python 3.13+), driven by one thread each. Only pure-Python modules
(and extensions that support it) import inside them: numpy does not.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from bench import phases
from bench.machine import gil_enabled
from bench.strategies.base import (
    CellFailure,
    Deadline,
    Strategy,
    TaskFailed,
    chunks,
    describe,
    strategy,
)

Run = Callable[[Any, str, "dict[str, Any] | None"], None]


def interpreters_api() -> tuple[Callable[[], Any], Run, Callable[[Any], None]] | None:
    """(create, run, destroy) for subinterpreters with their own GIL, or None."""
    try:
        import _interpchannels  # type: ignore[import-not-found]  # noqa: F401
        import _interpreters as mod  # 3.13+ (concurrent.interpreters in 3.14 wraps it)

        def run(interp: Any, code: str, shared: dict[str, Any] | None = None) -> None:
            # 3.13.0 takes None for "nothing shared"; later 3.13 releases want a dict.
            err = mod.exec(interp, code, shared if shared is not None else {})
            if err is not None:
                raise TaskFailed(f"{err.type.__name__}: {err.msg}")

        return mod.create, run, mod.destroy
    except ImportError:
        pass
    # 3.12 has them too (_xxsubinterpreters), but driving them from threads hung here
    # (Python 3.12.1); gilbench uses the 3.13+ module only.
    return None


@strategy
class Subinterpreters(Strategy):
    """One subinterpreter per worker, each with its own GIL (PEP 684), a thread driving each.

    CPU-bound Python runs in parallel as with processes, inside one process:
    tasks go in as pickled bytes shared with the interpreter, results come back
    as pickled bytes through a cross-interpreter channel (memory only, no files).
    Extensions without subinterpreter support (numpy) cannot be imported there,
    so such kernels fail.
    """

    name = "subinterpreters"
    # A process that forks while subinterpreters live dies in the child (3.13): its
    # cells run alone, never beside a process strategy's.
    shares_rounds = False
    model = "interpreters"

    @classmethod
    def available(cls) -> tuple[bool, str]:
        if interpreters_api() is None:
            return False, (f"needs Python 3.13+ (its _interpreters module: subinterpreters "
                           f"with their own GIL); this is {sys.version.split()[0]}")
        return True, ""

    @classmethod
    def applies_to(cls, task: Any) -> str | None:
        workload = getattr(task, "workload", None)
        from workloads import WORKLOADS

        if workload in WORKLOADS and "numpy" in WORKLOADS[workload].requires:
            return ("not applicable: numpy cannot be imported in a subinterpreter with its own "
                    "GIL (it does not support subinterpreters)")
        return None

    def _create(self) -> None:
        api = interpreters_api()
        assert api is not None
        self._new, self._run, self._destroy = api
        import _interpchannels

        self._channels = _interpchannels
        self._channel = _interpchannels.create(1)  # 1: drop what a destroyed sender left
        self._interps = [self._new() for _ in range(self.workers)]
        self._busy: set[int] = set()

    def _warm(self, deadline: Deadline) -> None:
        # Their own sys.path (the main one may have been changed at run time), and
        # the kernels imported, outside the timed runs.
        code = (f"import sys\nsys.path[:] = {sys.path!r}\n"
                "import pickle, workloads, _interpchannels\n")
        self._in_each([code] * len(self._interps), deadline)
        self.pids, self.gil_in_workers = [os.getpid()], gil_enabled()

    def _in_each(self, codes: Sequence[str], deadline: Deadline,
                 shared: Sequence[dict[str, Any] | None] | None = None) -> None:
        errors: list[BaseException] = []
        shared = shared or [None] * len(codes)

        def drive(i: int, code: str) -> None:
            try:
                self._run(self._interps[i], code, shared[i])
            except BaseException as exc:
                errors.append(exc)
            finally:
                self._busy.discard(i)

        threads = []
        for i, code in enumerate(codes):
            self._busy.add(i)
            t = threading.Thread(target=drive, args=(i, code), daemon=True,
                                 name=f"gilbench-interp-{i}")
            t.start()
            threads.append(t)
        for t in threads:
            while t.is_alive():
                t.join(deadline.slice())
                deadline.check()
        if errors:
            exc = errors[0]
            raise exc if isinstance(exc, CellFailure) else TaskFailed(describe(exc))

    # Runs in each subinterpreter: FN, ITEMS (pickled bytes), PART and CHANNEL are shared in.
    _TASK = ("_fn = pickle.loads(FN)\n"
             "_out = [_fn(x) for x in pickle.loads(ITEMS)]\n"
             "_interpchannels.send(CHANNEL, pickle.dumps((PART, _out)), blocking=False)\n")

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: Deadline) -> list[Any]:
        phases.reached("subinterpreters")
        blob = pickle.dumps(fn)
        parts = chunks(items, self.workers)
        shared: list[dict[str, Any] | None] = [
            {"FN": blob, "ITEMS": pickle.dumps(list(part)), "PART": i,
             "CHANNEL": int(self._channel)} for i, part in enumerate(parts)]
        self._in_each([self._TASK] * len(parts), deadline, shared)
        got: dict[int, list[Any]] = {}
        for _ in parts:
            data, _unbound = self._channels.recv(self._channel)
            i, out = pickle.loads(data)
            got[i] = out
        return [x for i in range(len(parts)) for x in got[i]]

    def close(self) -> None:
        for i, interp in enumerate(getattr(self, "_interps", [])):
            if i not in self._busy:  # one still running a hung task cannot be destroyed
                self._destroy(interp)
        if hasattr(self, "_channel"):
            with contextlib.suppress(Exception):  # already gone
                self._channels.destroy(self._channel)
            del self._channel

