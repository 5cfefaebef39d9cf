"""The order of the runs in a round, written once for every place that pairs runs.

A round runs each of its runs once; the direction alternates every round (serial first
then the cells, then the cells then serial; interpreter A then B, then B then A), so that
a drift over time — a CPU warming up, a neighbour arriving — falls on both sides of the
pairs alike. The sweep's blocks (``bench.runner.block``), the pytest path and the
interleaved serial runs of a ``--python`` run all take their order from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def forward(round_index: int) -> bool:
    """Whether the round runs in the forward direction (the serial run first): round 0,
    2, 4 ..."""
    return round_index % 2 == 0


def in_order(runs: Sequence[T], round_index: int) -> list[T]:
    """The round's runs in its direction."""
    return list(runs) if forward(round_index) else list(reversed(runs))
