"""Thread strategies: ``threads`` (a Thread per worker) and ``thread_pool``
(ThreadPoolExecutor). The GIL serialises their Python code; waiting and native
code that releases the GIL run in parallel.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable, Sequence
from typing import Any

from gilbench.bench.strategies.base import (
    CellTimeout,
    Deadline,
    Strategy,
    TaskFailed,
    ThreadExecutorStrategy,
    chunks,
    describe,
    strategy,
)


@strategy
class Threads(Strategy):
    """A threading.Thread per worker, each given a slice; the GIL serialises Python code.

    The threads are started and joined inside every run, as this pattern does;
    starting a thread costs tens of microseconds. Only one thread runs Python
    bytecode at a time, so CPU-bound Python gets no faster; waiting and native
    code that releases the GIL run in parallel.
    """

    name = "threads"
    model = "threads"
    family = "threads"

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: Deadline) -> list[Any]:
        parts = chunks(items, self.workers)
        results: list[list[Any]] = [[] for _ in parts]
        errors: list[BaseException] = []

        def work(i: int, part: Sequence[Any]) -> None:
            try:
                results[i] = [fn(item) for item in part]
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i, p), daemon=True)
                   for i, p in enumerate(parts)]
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():
                t.join(deadline.slice())
                deadline.check()
        if errors:
            raise TaskFailed(describe(errors[0])) from errors[0]
        return [r for part in results for r in part]


@strategy
class ThreadPool(ThreadExecutorStrategy):
    """concurrent.futures.ThreadPoolExecutor.map; the GIL serialises Python code.

    Same physics as ``threads``, with the pool's threads started once outside
    the timed runs and tasks handed out one at a time.
    """

    name = "thread_pool"
    model = "threads"
    family = "threads"

    def _create(self) -> None:
        self.executor = concurrent.futures.ThreadPoolExecutor(
            self.workers, thread_name_prefix="gilbench")

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: Deadline) -> list[Any]:
        try:
            return list(self.executor.map(fn, items, timeout=deadline.remaining()))
        except concurrent.futures.TimeoutError:
            deadline.check()
            raise CellTimeout("a task ran past the time limit") from None
