"""``serial``: the baseline every speedup divides."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from gilbench.bench.strategies.base import Deadline, Strategy, strategy


@strategy
class Serial(Strategy):
    """One task after another in the main thread: the baseline every speedup divides."""

    name = "serial"
    model = "serial"
    family = "serial"
    in_this_thread = True

    def __init__(self, workers: int = 1, start_method: str | None = None,
                 initializer: Callable[[], None] | None = None,
                 address: str | None = None) -> None:
        super().__init__(1, start_method, initializer)

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: Deadline) -> list[Any]:
        out = []
        for item in items:
            deadline.check()
            out.append(fn(item))
        deadline.check()  # a task cannot be interrupted in this thread: judge it when it returns
        return out

