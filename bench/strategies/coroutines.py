"""``asyncio``: one event loop in one thread, at most ``workers`` coroutines in
flight; it applies to the IO kernels (their coroutine variants) only.

(Named ``coroutines`` so that it never shadows the standard library's ``asyncio``.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from gilbench.bench.strategies.base import (
    CellFailure,
    CellTimeout,
    Deadline,
    Strategy,
    TaskFailed,
    describe,
    strategy,
)


@strategy
class Asyncio(Strategy):
    """asyncio: one event loop in one thread, at most `workers` coroutines in flight.

    Waiting overlaps as with threads, with no thread per task; the loop runs in
    one thread under the GIL, so CPU work is serial (and blocks the loop: CPU
    kernels have no coroutine variant and are reported as not applicable).
    """

    name = "asyncio"
    model = "async"
    family = "async"

    @classmethod
    def applies_to(cls, task: Any) -> str | None:
        if getattr(task, "has_async", False):
            return None
        return ("not applicable: asyncio runs coroutines, and this workload has no coroutine "
                "variant (gilbench.workloads.async_variant registers one; CPU work in a coroutine "
                "would only block the event loop)")

    def _create(self) -> None:
        self.loop = asyncio.new_event_loop()

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: Deadline) -> list[Any]:
        run_async = getattr(fn, "run_async", None)
        if run_async is None:
            raise CellFailure(self.applies_to(fn) or "not applicable")

        async def main() -> list[Any]:
            gate = asyncio.Semaphore(self.workers)

            async def one(item: Any) -> Any:
                async with gate:
                    return await run_async(item)

            return await asyncio.gather(*(one(i) for i in items))

        try:
            return self.loop.run_until_complete(
                asyncio.wait_for(main(), deadline.remaining()))
        except asyncio.TimeoutError:
            raise CellTimeout(f"the cell ran past its {deadline.seconds:g} s time limit") from None
        except CellFailure:
            raise
        except Exception as exc:
            raise TaskFailed(describe(exc)) from exc

    def close(self) -> None:
        if hasattr(self, "loop") and not self.loop.is_closed():
            self.loop.run_until_complete(self.loop.shutdown_default_executor())
            self.loop.close()

