"""A run's session: what it has measured so far, saved after every cell and entry.

``Session`` is the one way a ``Results`` is assembled — by ``gilbench run``, by
each interpreter of ``--python`` and by the pytest plugin — so every results file
carries the same run record (profile, plan, argv, completeness, noise checks,
CPU steal) and its speedups computed the same way. It drives the sweep and the
cost suites and tells its caller about each cell and entry; it prints nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gilbench.bench import phases
from gilbench.bench.machine import OthersCpu, cpu_steal_s, noise_checks
from gilbench.bench.results import Cell, Results, save, usable_cpus_of, with_speedups
from gilbench.bench.runner import Plan, run
from gilbench.bench.runner.expand import CellSpec, expected_s, spec_cost_s, specs, suite_cost_s
from gilbench.bench.strategies import STRATEGIES
from gilbench.bench.suites import COST_SUITES, Entry, cost_suite
from gilbench.workloads import WORKLOADS

# What each part of a run (the first, then each --resume) records about itself.
PART_KEYS = ("argv", "duration_s", "noise_checks", "cpu_steal_fraction", "others_cpu_fraction")


def _worst(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


class Session:
    """What a run has measured so far (a resumed run starts from ``previous``)."""

    def __init__(self, out: Path, machine: dict[str, Any], created_at: str, *,
                 plan: Plan | None = None, profile: str | None = None,
                 previous: Results | None = None, check_noise: bool = True,
                 resumable: bool = True, resume_hint: str | None = None,
                 **run_extra: Any) -> None:
        self.plan, self.out, self.machine, self.created_at = plan, out, machine, created_at
        self.profile = plan.profile if plan else profile
        self.run_extra = run_extra  # e.g. the interpreter and label of a --python run
        self.started = time.monotonic()
        self.cells: list[Cell] = list(previous.cells) if previous else []
        done = list(previous.run.get("suites_done", [])) if previous else []
        # A suite interrupted half-way is measured again whole.
        self.suites: dict[str, list[Entry]] = {
            k: list(v) for k, v in (previous.suites if previous else {}).items() if k in done}
        self.suites_done = [k for k in done if k in self.suites]
        # How to finish it, said in the file: its own folder's --resume, or the command
        # that resumes the whole run it is part of (a --python run's interpreter).
        self.resume_hint = resume_hint or (f"gilbench run --resume {out}" if resumable
                                           else None)
        # Taken as the run starts (the report says "checked before the run"); a session
        # assembled after the fact (the pytest plugin's) has none.
        self.noise_checks = noise_checks(machine) if check_noise else []
        self.steal0 = cpu_steal_s() if check_noise else None
        self.others = OthersCpu() if check_noise else None
        # A resumed run keeps the record of its earlier parts: their noise checks (the
        # start-of-run probe is taken in the first part only), times and CPU steal.
        self.earlier: list[dict[str, Any]] = []
        if previous:
            prev = previous.run
            self.earlier = list(prev.get("parts") or [{k: prev.get(k) for k in PART_KEYS}])

    # ------------------------------------------------------------ results

    def results(self, complete: bool, speedups: bool = True) -> Results:
        run_info: dict[str, Any] = {
            "profile": self.profile, "argv": ["gilbench", *sys.argv[1:]], "complete": complete,
            "suites_done": self.suites_done,
            "duration_s": round(time.monotonic() - self.started, 1),
            "noise_checks": self.noise_checks, "cpu_steal_fraction": self.steal(),
            "others_cpu_fraction": self.others.fraction() if self.others else None,
            **self.run_extra}
        if self.earlier:
            parts = [*self.earlier, {k: run_info[k] for k in PART_KEYS}]
            run_info.update(
                parts=parts, argv=parts[0]["argv"],
                duration_s=round(sum(p.get("duration_s") or 0.0 for p in parts), 1),
                noise_checks=[{**c, "check": f"{c['check']} (part {i + 1} of {len(parts)})"}
                              for i, p in enumerate(parts) for c in p.get("noise_checks") or []],
                cpu_steal_fraction=_worst([p.get("cpu_steal_fraction") for p in parts]),
                others_cpu_fraction=_worst([p.get("others_cpu_fraction") for p in parts]))
        if self.resume_hint:
            run_info["resume_hint"] = self.resume_hint
        if self.plan is not None:
            run_info["plan"] = self.plan.to_dict()
        # Speedups (with their bootstrap CIs) once at the end, not after every cell.
        cells = with_speedups(self.cells) if speedups else self.cells
        run_info["workload_descriptions"] = self.descriptions()
        run_info["strategies"] = self.strategy_facts()
        return Results(machine=self.machine, cells=tuple(cells), run=run_info,
                       created_at=self.created_at,
                       suites={k: tuple(v) for k, v in self.suites.items()})

    def descriptions(self) -> dict[str, str]:
        """What each kernel of the run is, in its own words: the report reads them from
        the file, so it says what was measured, whatever is installed when it renders."""
        names = [*(self.plan.workloads if self.plan else ()), *(c.workload for c in self.cells)]
        return {w: WORKLOADS[w].description for w in dict.fromkeys(names) if w in WORKLOADS}

    def strategy_facts(self) -> dict[str, dict[str, Any]]:
        """Each planned or measured strategy's facts (``Strategy.facts``): the analysis
        reads them from the file, not from the strategy modules."""
        names = [*(self.plan.strategies if self.plan else ()),
                 *(self.plan.granularity_strategies or () if self.plan else ()),
                 *(c.strategy for c in self.cells)]
        return {s: STRATEGIES[s].facts().to_dict() for s in dict.fromkeys(names)
                if s in STRATEGIES}

    def steal(self) -> float | None:
        """The share of the machine's CPU time a hypervisor gave away during the run."""
        now = cpu_steal_s()
        if self.steal0 is None or now is None or now[1] <= self.steal0[1]:
            return None
        return round((now[0] - self.steal0[0]) / (now[1] - self.steal0[1]), 4)

    def save(self, complete: bool = False, speedups: bool = False) -> Results:
        """Write results.json (atomically) and return what was written."""
        results = self.results(complete, speedups)
        save(results, self.out / "results.json")
        return results

    # ------------------------------------------------------------ running

    @property
    def planned(self) -> Plan:
        if self.plan is None:
            raise ValueError("this session has no plan to run")
        return self.plan

    def cells_to_do(self) -> int:
        return len(self.specs_to_do())

    def specs_to_do(self) -> list[CellSpec]:
        done = {c.key for c in self.cells}
        return [s for s in specs(self.planned) if s.key not in done]

    def expected_s(self) -> float:
        """About how long what is left takes (``bench.runner.expand.expected_s``)."""
        return expected_s(self.planned, self.specs_to_do(), self.suites_to_do())

    def cell_cost_s(self, cell: Cell) -> float:
        """What a cell was expected to take (the progress bar's weight for it)."""
        return spec_cost_s(self.planned, CellSpec(cell.workload, cell.strategy,
                                                  cell.start_method, cell.workers, cell.size,
                                                  cell.tasks))

    def sweep_cost_s(self) -> float:
        """What the cells left are expected to take."""
        return sum(spec_cost_s(self.planned, spec) for spec in self.specs_to_do())

    def suite_cost_s(self, name: str) -> float:
        return suite_cost_s(self.planned, name)

    def suites_to_do(self) -> list[str]:
        return [s for s in COST_SUITES if s in self.planned.suites and s not in self.suites_done]

    def add_cell(self, cell: Cell) -> bool:
        """Keep a cell (saved at once); a cell of a key already kept replaces it (a
        finalist comes back with its confirmation). Whether it was new."""
        at = next((i for i, c in enumerate(self.cells) if c.key == cell.key), None)
        if at is None:
            self.cells.append(cell)
        else:
            self.cells[at] = cell
        self.save()
        phases.reached("sweep")
        return at is None

    def run_sweep(self, on_cell: Callable[[Cell], None]) -> None:
        """Every cell of the plan not measured yet; saved after each, then put in plan order."""
        plan = self.planned

        def measured(_spec: object, cell: Cell) -> None:
            if self.add_cell(cell):
                on_cell(cell)

        run(plan, on_cell=measured, skip={c.key for c in self.cells})
        self.in_plan_order()

    def in_plan_order(self) -> None:
        """Put the cells in the plan's order (a resumed run's come in two batches)."""
        order = {s.key: i for i, s in enumerate(specs(self.planned))}
        self.cells.sort(key=lambda c: order.get(c.key, len(order)))

    def run_cost_suite(self, name: str, on_entry: Callable[[Entry], None]) -> list[Entry]:
        """One cost suite, measured whole here; saved after every entry."""
        plan = self.planned
        method = plan.start_methods[0] if len(plan.start_methods) == 1 else None
        suite = cost_suite(name)
        phases.reached(suite.phase)
        return self.record_suite(name, lambda measured: suite.run(
            suite.budget(plan.profile), max(1, usable_cpus_of(self.machine)), measured,
            plan.timeout_s, start_method=method, workers=plan.workers), on_entry)

    def record_suite(self, name: str, measure: Callable[[Callable[[Entry], None]], None],
                     on_entry: Callable[[Entry], None] | None = None, *,
                     speedups: bool = False) -> list[Entry]:
        """A cost suite's bookkeeping, the one way: ``measure`` is called with the callback
        that keeps each entry under ``name`` and saves the run after it; the suite is then
        done. (Measured here, ``run_cost_suite``, or in another interpreter, the startup
        probe of a --python run.)"""
        entries: list[Entry] = []
        self.suites[name] = entries

        def measured(entry: Entry) -> None:
            entries.append(entry)
            self.save(speedups=speedups)
            if on_entry is not None:
                on_entry(entry)

        measure(measured)
        self.suites_done.append(name)
        self.save(speedups=speedups)
        return entries

    def add_noise_check(self, check: dict[str, Any]) -> None:
        """A noise check taken as the run starts (the start-of-run probe)."""
        self.noise_checks.append(check)
