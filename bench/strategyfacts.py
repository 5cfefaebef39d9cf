"""What a run knew about each of its strategies: a typed record on the data floor.

A strategy declares its facts as class attributes (``bench.strategies.base.Strategy``);
the run writes them into results.json (``run.strategies``, one record per strategy it
planned or measured), and the analysis and the reports read them from there, never from
the strategy modules: a file says what its strategies were when it was measured, and
reading it imports no execution code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

# What kind of executor a strategy is. The engines (loky, Dask, Ray: a library's own
# scheduler over worker processes) are set against process_pool, the standard library's.
FAMILIES = ("serial", "threads", "processes", "pool", "engine", "interpreters", "async")


@dataclass(frozen=True)
class StrategyFacts:
    """One strategy, as the run that measured it described it."""

    model: str  # "serial" | "threads" | "processes" | "interpreters" | "async"
    family: str  # one of FAMILIES
    in_default_sweep: bool = True  # run by the speedup sweep when --strategies names none
    runs_apart: bool = False  # its driver runs in a host process of its own (Ray)
    starts_a_cluster: bool = False  # a cell starts a cluster of its own (seconds)
    per_task_s: float = 0.0  # what a task sent to a worker costs beyond the task (est.)
    extra_start_s: float = 0.0  # what a cell costs to start beyond its workers (est.)

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"family must be one of {', '.join(FAMILIES)}, not {self.family!r}")

    @property
    def is_engine(self) -> bool:
        return self.family == "engine"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StrategyFacts:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


# Files written before runs recorded their strategies' facts (gilbench 0.x, before the
# table): what those strategies were then. Read only for such a file; a strategy added
# since has its facts in every file that measured it, and never goes here.
BEFORE_THE_TABLE = {
    "serial": StrategyFacts("serial", "serial"),
    "threads": StrategyFacts("threads", "threads"),
    "thread_pool": StrategyFacts("threads", "threads"),
    "process_queue": StrategyFacts("processes", "processes", per_task_s=0.0002),
    "process_pipe": StrategyFacts("processes", "processes", per_task_s=0.0002),
    "pool_map": StrategyFacts("processes", "pool", per_task_s=0.0002),
    "pool_imap": StrategyFacts("processes", "pool", per_task_s=0.0002),
    "pool_apply_async": StrategyFacts("processes", "pool", per_task_s=0.0002),
    "process_pool": StrategyFacts("processes", "pool", per_task_s=0.0002),
    "subinterpreters": StrategyFacts("interpreters", "interpreters"),
    "interpreter_pool": StrategyFacts("interpreters", "interpreters"),
    "asyncio": StrategyFacts("async", "async"),
    "loky": StrategyFacts("processes", "engine", per_task_s=0.0002, extra_start_s=1.0),
    "dask": StrategyFacts("processes", "engine", starts_a_cluster=True, per_task_s=0.002,
                          extra_start_s=3.0),
    "ray": StrategyFacts("processes", "engine", in_default_sweep=False, runs_apart=True,
                         starts_a_cluster=True, per_task_s=0.001, extra_start_s=4.0),
}
