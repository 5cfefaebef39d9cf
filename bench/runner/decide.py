"""The decision budget: a duel still undecided after the confirmation gets a second look.

The confirmation (``bench.runner.confirm``) measures a workload's finalists in one block,
and the verdict reads threads against processes from their direct paired ratio
(``bench.analysis.verdicts.compare``). Where that ratio's interval straddles a bound (a
10% difference, or a tie near the 5% band), ten rounds were not enough, and the time a
run has left is best spent there: the two finalists run again, together, for
``FOLLOW_UP_ROUNDS`` more rounds (the direction alternating every round, so a carry-over
from one to the other falls on both alike; no serial runs: the ratio does not read them),
and the verdict is read again from all their shared rounds.

Looking twice spends the error twice, so a run that plans a second look splits the
verdict's 5% between the looks (``DUEL_ALPHAS``: the first at 1 - 0.02, the second at
1 - 0.03): by the union bound, the chance that either look's interval misses the true
ratio is at most 5%, whatever the first look's outcome did to the choice to look again
(``tests/decisions.py`` simulates it through the production code). The headlines'
figures and intervals stay the confirmation's own; the follow-up feeds only the duel.

A run's follow-ups share one budget (``decision_budget_s``: half its confirmations'
estimated cost, counted in its estimate; ``Budget.confirmed`` raises it to half their
measured cost where they took longer); a duel is followed up only while enough is left
for ``MIN_FOLLOW_UP_ROUNDS`` rounds at the confirmation's own pace (a look that buys two
rounds would spend its 3% of the error for nothing), and each takes at most the per-cell
budget or its ``FOLLOW_UP_ROUNDS`` rounds' time, whichever is more.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from gilbench.bench.analysis.verdicts import Duel, duel
from gilbench.bench.plan import CellSpec, Precision
from gilbench.bench.results import Cell
from gilbench.bench.runner.expand import DECISION_SHARE, decision_budget_s

__all__ = ["DECISION_SHARE", "DUEL_ALPHAS", "FOLLOW_UP_ROUNDS", "MIN_FOLLOW_UP_ROUNDS", "Budget",
           "decision_budget_s", "follow_up", "undecided"]

DUEL_ALPHAS = (0.02, 0.03)  # the error at the confirmation's look, then at the follow-up's
FOLLOW_UP_ROUNDS = 20
# A second look starts only if the time left buys this many rounds: as many as the
# confirmation's own, so that it at least doubles the duel's pairs
MIN_FOLLOW_UP_ROUNDS = 10


@dataclasses.dataclass
class Budget:
    """What is left of a run's decision budget."""

    total_s: float
    spent_s: float = 0.0

    @property
    def left_s(self) -> float:
        return max(0.0, self.total_s - self.spent_s)

    def confirmed(self, estimated_s: float, measured_s: float) -> None:
        """A confirmation that was estimated at ``estimated_s`` took ``measured_s``: the
        budget, ``DECISION_SHARE`` of the confirmations' cost, grows by its share of the
        difference where the estimate was short (a kernel whose runs outlast the profile's
        per-cell budget: a user's calibrated one, 36 ms a run at quick, whose confirmation
        took seconds where 0.6 s was priced), and never shrinks below what was planned."""
        if self.total_s > 0:
            self.total_s += DECISION_SHARE * max(0.0, measured_s - estimated_s)


def undecided(cells: Sequence[Cell], usable: int) -> Duel | None:
    """The duel of one workload and size's cells when a second look could decide it: both
    headlines confirmed, read from their paired rounds, neither a winner nor a tie, and no
    follow-up yet. None otherwise."""
    d = duel(cells, usable)
    c = d.comparison
    if c is None or c.winner is not None or c.pairs == 0:
        return None
    assert d.threads is not None and d.processes is not None
    confs = (d.threads.confirmation, d.processes.confirmation)
    if any(conf is None or not conf.alphas or conf.duel_times_s for conf in confs):
        return None  # a run that planned one look, or already looked twice
    return d


def follow_up(cells: Sequence[Cell], spec_of: Callable[[Cell], CellSpec],
              measure: Callable[[list[CellSpec], Precision], list[tuple[Cell, Any]]],
              usable: int, per_cell_s: float, budget: Budget,
              clock: Callable[[], float] = time.perf_counter) -> list[tuple[CellSpec, Cell]]:
    """The second look at one workload and size's undecided duel, if any and while the
    budget lasts: its two finalists measured together (``measure``: ``measure_block`` with
    the sweep's options but no serial runs), each returned with ``duel_times_s``. Empty
    when there is nothing to decide, too little budget left for ``MIN_FOLLOW_UP_ROUNDS``
    rounds of either finalist at its confirmation's median run time, or either re-run
    failed (the first look's verdict stands)."""
    d = undecided(cells, usable)
    if d is None or budget.left_s <= 0:
        return []
    assert d.threads is not None and d.processes is not None
    finalists = (d.threads, d.processes)
    specs = [spec_of(c) for c in finalists]
    pace = max((statistics.median(c.confirmation.times_s) for c in finalists
                if c.confirmation is not None and c.confirmation.times_s), default=0.0)
    # each finalist's time: what its FOLLOW_UP_ROUNDS rounds take (at least the per-cell
    # budget: at quick that is 0.2 s, ten rounds of a 20 ms run), as far as the run's
    # budget lasts
    cap = max(per_cell_s, FOLLOW_UP_ROUNDS * pace) if per_cell_s else math.inf
    seconds = min(cap, budget.left_s / len(specs))
    if seconds < MIN_FOLLOW_UP_ROUNDS * pace:
        return []
    # all FOLLOW_UP_ROUNDS rounds unless the time runs out first (a target no interval
    # reaches: the rounds stop on the count or the clock, never on the data)
    precision = Precision(2, FOLLOW_UP_ROUNDS, target=1e-9, budget_s=seconds)
    t0 = clock()
    again = measure(specs, precision)
    budget.spent_s += clock() - t0
    if not all(a.ok and a.times_s for a, _ in again):
        return []
    out = []
    for spec, cell, (a, _) in zip(specs, finalists, again, strict=True):
        assert cell.confirmation is not None
        conf = dataclasses.replace(cell.confirmation, duel_times_s=a.times_s)
        out.append((spec, dataclasses.replace(cell, confirmation=conf)))
    return out
