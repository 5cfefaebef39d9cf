"""A run is analysed once: each typed answer (a workload's headline per model, its duel,
the kind verdicts, the findings, the crossovers) is computed the first time a reader asks
for it and kept with the results object for every later reader — the report's sections,
its charts, the terminal summary, ``compare`` and the interpreter matrix — so they all
render one answer, computed one way.

A ``Results`` is immutable (frozen, its cells a tuple), so an answer kept for it stays
true; the answers leave with it (a weak reference: nothing is kept alive by being
analysed).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from gilbench.bench.results import Results

T = TypeVar("T")

_ANSWERS: dict[int, dict[Hashable, Any]] = {}
COUNTS: dict[str, int] = {}  # how many times each question was computed (for the tests)


def once(results: Results, question: Hashable, answer: Callable[[], T]) -> T:
    """``answer()`` for this results object and question, computed the first time only."""
    kept = _ANSWERS.get(id(results))
    if kept is None:
        kept = _ANSWERS[id(results)] = {}
        weakref.finalize(results, _ANSWERS.pop, id(results), None)
    if question not in kept:
        name = question[0] if isinstance(question, tuple) else question
        COUNTS[str(name)] = COUNTS.get(str(name), 0) + 1
        kept[question] = answer()
    return kept[question]
