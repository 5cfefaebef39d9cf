"""The interpreters family: ``subinterpreters`` (one subinterpreter per worker, each with
its own GIL, PEP 684, driven by one thread each; Python 3.13+) and ``interpreter_pool``
(``concurrent.futures.InterpreterPoolExecutor``, PEP 734; Python 3.14+).

From 3.14 both stand on the public ``concurrent.interpreters``; on 3.13, the only release
without it, ``subinterpreters`` uses the private ``_interpreters`` and ``_interpchannels``
it wraps. Only pure-Python modules (and extensions that support it) import inside a
subinterpreter: numpy does not. What runs inside is ``bench.interpworker``, which imports
nothing of the rest of gilbench.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import pickle
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from gilbench.bench import phases
from gilbench.bench.interpworker import ident_after, run_part
from gilbench.bench.strategies.base import (
    CellFailure,
    CellTimeout,
    Deadline,
    Strategy,
    TaskFailed,
    ThreadExecutorStrategy,
    chunks,
    describe,
    strategy,
)


def _prepare_code(path: Sequence[str], *more: str) -> str:
    """What a new interpreter runs first: the main interpreter's ``sys.path`` (it may have
    been changed at run time) and the kernels imported, outside the timed runs."""
    return "\n".join([f"import sys\nsys.path[:] = {list(path)!r}",
                      "import pickle, workloads, bench.interpworker", *more]) + "\n"


class _Public:
    """``concurrent.interpreters`` (3.14+): an interpreter runs a pickled call and hands
    back its pickled result."""

    name = "concurrent.interpreters"

    def __init__(self) -> None:
        from concurrent import interpreters  # type: ignore[attr-defined]

        self.mod = interpreters

    def create(self) -> Any:
        return self.mod.create()

    def prepare(self, interp: Any, path: Sequence[str]) -> None:
        try:
            interp.exec(_prepare_code(path))
        except self.mod.ExecutionFailed as exc:
            raise TaskFailed(failure_text(exc)) from None

    def call(self, interp: Any, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        try:
            return interp.call(run_part, fn, list(items))
        except self.mod.ExecutionFailed as exc:
            raise TaskFailed(failure_text(exc)) from None

    def destroy(self, interp: Any) -> None:
        interp.close()


class _Private:
    """``_interpreters`` and ``_interpchannels`` (3.13): code runs with pickled bytes shared
    in, and the result comes back as pickled bytes through the interpreter's channel."""

    name = "_interpreters (private; 3.13 has no concurrent.interpreters)"
    _TASK = ("_out = bench.interpworker.run_part(pickle.loads(FN), pickle.loads(ITEMS))\n"
             "_interpchannels.send(CHANNEL, pickle.dumps(_out), blocking=False)\n")

    def __init__(self) -> None:
        import _interpchannels  # type: ignore[import-not-found]
        import _interpreters

        self.mod, self.channels = _interpreters, _interpchannels
        self._channel: dict[Any, Any] = {}

    def _exec(self, interp: Any, code: str, shared: dict[str, Any]) -> None:
        err = self.mod.exec(interp, code, shared)  # 3.13.0 also takes None; later want a dict
        if err is not None:
            raise TaskFailed(f"{err.type.__name__}: {err.msg}")

    def create(self) -> Any:
        interp = self.mod.create()
        self._channel[interp] = self.channels.create(1)  # 1: drop what a destroyed sender left
        return interp

    def prepare(self, interp: Any, path: Sequence[str]) -> None:
        self._exec(interp, _prepare_code(path, "import _interpchannels"), {})

    def call(self, interp: Any, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        channel = self._channel[interp]
        self._exec(interp, self._TASK, {"FN": pickle.dumps(fn), "ITEMS": pickle.dumps(list(items)),
                                        "CHANNEL": int(channel)})
        data, _unbound = self.channels.recv(channel)
        return pickle.loads(data)

    def destroy(self, interp: Any) -> None:
        self.mod.destroy(interp)
        channel = self._channel.pop(interp, None)
        if channel is not None:
            with contextlib.suppress(Exception):  # already gone
                self.channels.destroy(channel)


def failure_text(exc: BaseException) -> str:
    """An ``ExecutionFailed``'s line: the exception raised inside, and its message."""
    info = getattr(exc, "excinfo", None)
    kind = getattr(getattr(info, "type", None), "__name__", None)
    return f"{kind}: {getattr(info, 'msg', '')}" if kind else describe(exc)


def interpreters_api() -> _Public | _Private | None:
    """The API subinterpreters with their own GIL run on here: the public one (3.14+), the
    private one where it is the only one (3.13), else None."""
    try:
        return _Public()
    except ImportError:
        pass
    try:
        return _Private()
    except ImportError:
        # 3.12 has them too (_xxsubinterpreters), but driving them from threads hung here
        # (Python 3.12.1); gilbench uses the 3.13+ modules only.
        return None


def _numpy_refused(task: Any) -> str | None:
    workload = getattr(task, "workload", None)
    from gilbench.workloads import WORKLOADS

    if workload in WORKLOADS and "numpy" in WORKLOADS[workload].requires:
        return ("not applicable: numpy cannot be imported in a subinterpreter with its own "
                "GIL (it does not support subinterpreters)")
    return None


@strategy
class Subinterpreters(Strategy):
    """One subinterpreter per worker, each with its own GIL (PEP 684), a thread driving each.

    CPU-bound Python runs in parallel as with processes, inside one process: each
    worker's share of the tasks goes in pickled and its results come back pickled
    (memory only, no files). On 3.14+ through concurrent.interpreters; on 3.13 through the
    private _interpreters. Extensions without subinterpreter support (numpy) cannot be
    imported there, so such kernels are not applicable.
    """

    name = "subinterpreters"
    family = "interpreters"
    # A process that forks while subinterpreters live dies in the child (3.13): its
    # cells run alone, never beside a process strategy's.
    shares_rounds = False
    model = "interpreters"
    runs_on = "Python 3.13 (private _interpreters), 3.14+ (concurrent.interpreters)"

    @classmethod
    def available(cls) -> tuple[bool, str]:
        if interpreters_api() is None:
            return False, (f"needs Python 3.13+ (subinterpreters with their own GIL); this is "
                           f"{sys.version.split()[0]}")
        return True, ""

    @classmethod
    def applies_to(cls, task: Any) -> str | None:
        return _numpy_refused(task)

    def _create(self) -> None:
        api = interpreters_api()
        assert api is not None
        self._api = api
        self._interps = [api.create() for _ in range(self.workers)]
        self._busy: set[int] = set()

    def _warm(self, deadline: Deadline) -> None:
        self._in_each(lambda _i, interp: self._api.prepare(interp, sys.path),
                      len(self._interps), deadline)
        super()._warm(deadline)

    def _in_each(self, job: Callable[[int, Any], Any], n: int, deadline: Deadline
                 ) -> list[Any]:
        """``job(i, interpreter)`` in each of the first ``n`` interpreters at once, one thread
        driving each; their results in order."""
        errors: list[BaseException] = []
        out: list[Any] = [None] * n

        def drive(i: int) -> None:
            try:
                out[i] = job(i, self._interps[i])
            except BaseException as exc:
                errors.append(exc)
            finally:
                self._busy.discard(i)

        threads = []
        for i in range(n):
            self._busy.add(i)
            t = threading.Thread(target=drive, args=(i,), daemon=True,
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
        return out

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: Deadline) -> list[Any]:
        phases.reached("subinterpreters")
        parts = chunks(items, self.workers)
        got = self._in_each(lambda i, interp: self._api.call(interp, fn, parts[i]), len(parts),
                            deadline)
        return [x for part in got for x in part]

    def close(self) -> None:
        for i, interp in enumerate(getattr(self, "_interps", [])):
            if i not in self._busy:  # one still running a hung task cannot be destroyed
                self._api.destroy(interp)
        self._interps = []


@strategy
class InterpreterPool(ThreadExecutorStrategy):
    """concurrent.futures.InterpreterPoolExecutor.map: a pool of subinterpreters (PEP 734).

    Each worker thread runs its own interpreter with its own GIL, so CPU-bound Python
    runs in parallel inside one process; each task and result crosses pickled, as with
    ProcessPoolExecutor, but without a process start or a pipe. The interpreters are
    created and warmed outside the timed runs. Extensions without subinterpreter support
    (numpy) cannot be imported there, so such kernels are not applicable.
    """

    name = "interpreter_pool"
    model = "interpreters"
    family = "interpreters"
    shares_rounds = False  # as subinterpreters: never beside a process strategy's fork
    runs_on = "Python 3.14+ (concurrent.futures.InterpreterPoolExecutor)"

    @classmethod
    def available(cls) -> tuple[bool, str]:
        if not hasattr(concurrent.futures, "InterpreterPoolExecutor"):
            return False, ("needs Python 3.14+ (concurrent.futures.InterpreterPoolExecutor); "
                           f"this is {sys.version.split()[0]}")
        return True, ""

    @classmethod
    def applies_to(cls, task: Any) -> str | None:
        return _numpy_refused(task)

    def _create(self) -> None:
        # The initializer runs in each new interpreter; it is pickled by reference, and
        # bench is not importable there before sys.path is set: the builtin exec, given
        # the code that sets it.
        self.executor = concurrent.futures.InterpreterPoolExecutor(  # type: ignore[attr-defined]
            self.workers, thread_name_prefix="gilbench-interp", initializer=exec,
            initargs=(_prepare_code(sys.path), {}))

    def _warm(self, deadline: Deadline) -> None:
        # The pool creates an interpreter per task until it has `workers` (none is idle
        # yet while each task holds its worker 20 ms): asked until every one answered.
        seen: set[int] = set()
        while len(seen) < self.workers:
            seen |= set(self._run(ident_after, [0.001] * (2 * self.workers), deadline))
            deadline.check("warming the interpreters")
        super()._warm(deadline)

    def _run(self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: Deadline
             ) -> list[Any]:
        try:
            return list(self.executor.map(fn, items, timeout=deadline.remaining()))
        except concurrent.futures.TimeoutError:
            deadline.check()
            raise CellTimeout("a task ran past the time limit") from None
        except concurrent.futures.BrokenExecutor as exc:
            raise TaskFailed(f"the interpreter pool broke: {describe(exc)}") from exc
        except CellFailure:
            raise
        except Exception as exc:  # the kernel's own, re-raised here
            raise TaskFailed(failure_text(exc)) from exc

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: Deadline) -> list[Any]:
        phases.reached("interpreter_pool")
        return self._run(fn, items, deadline)
