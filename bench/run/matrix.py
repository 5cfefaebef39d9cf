"""``gilbench run --python A --python B ...``: one plan in several interpreters, and the
comparison of what they measured.

``start`` probes the interpreters, takes a folder (``bench.runfolder`` says what lies in
it) and writes its ``interpreters.json`` before the first cell; ``resume`` reads that
record back. Both then hold the folder (``bench.files.FolderLock``) and run ``Matrix``:

1. each interpreter's sweep, in the order given (``bench.interpreters.sweep``), saved
   after every cell into ``DIR/<label>/`` with its report; one that finished before an
   interruption is kept, not run again;
2. the single-thread cost: the pure-Python kernels' serial runs interleaved across the
   interpreters (``bench.interpreters.serial``), kept in ``serial-cost.json``;
3. the comparison of the ``Results`` it holds (decided in ``bench.analysis.comparison``,
   written by ``bench.report.compare``) to DIR.

A Ctrl-C at any step saves what finished and prints the resume line; a write that fails
says what is saved and how to finish.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gilbench.bench import __version__, phases
from gilbench.bench.errors import EXIT_FAILED_CELLS, EXIT_INTERRUPTED, EXIT_OK, UserError
from gilbench.bench.files import FolderLock, WriteFailed
from gilbench.bench.fmt import fmt_minutes
from gilbench.bench.interpreters.found import Interpreter, find_interpreters
from gilbench.bench.interpreters.serial import MIN_ROUNDS, measure, measured_workloads
from gilbench.bench.interpreters.serial import expected_s as serial_expected_s
from gilbench.bench.interpreters.sweep import run_in
from gilbench.bench.machine import collect_machine
from gilbench.bench.options import PYTHON_SUITES, check_plan
from gilbench.bench.plan import Plan
from gilbench.bench.report import render
from gilbench.bench.report.terminal import Progress
from gilbench.bench.results import Results, load, utc_now
from gilbench.bench.run.endings import interrupted, say, tell
from gilbench.bench.runfolder import (
    RESULTS,
    SERIAL_COST,
    InterpreterEntry,
    InterpretersRecord,
    how_to_finish,
    interpreter_folder,
    run_folder,
    saved_so_far,
)
from gilbench.bench.runner import specs
from gilbench.bench.runner.expand import expected_s as plan_expected_s
from gilbench.bench.serialcost import SerialRuns
from gilbench.bench.serialcost import load as load_serial_cost
from gilbench.bench.serialcost import save as save_serial_cost
from gilbench.bench.watchdog import EXIT_KERNEL_HUNG, KernelHungThere


def start(given: Sequence[str], plan: Plan, out_given: str | None,
          baseline: str | None = None) -> int:
    """A new --python run of ``plan`` in the interpreters ``given`` (``[NAME=VALUE ...]
    PATH`` each), into ``out_given`` or a new folder; the comparison measures against the
    interpreter labelled ``baseline`` (None: the first)."""
    found = find_interpreters(given)  # before any folder is made: a bad one is one line
    labels = [i.label for i in found]
    if baseline is not None and baseline not in labels:
        raise UserError(f"--baseline {baseline!r} is not one of the interpreters' labels: "
                        f"{', '.join(labels)}")
    out = run_folder(out_given, utc_now())
    with FolderLock(out):
        for interp in found:
            if (interpreter_folder(out, interp.label) / RESULTS).exists():
                raise UserError(f"{interpreter_folder(out, interp.label)} already holds a "
                                f"{RESULTS}; choose a new --out")
        return Matrix(out, plan, found, baseline=baseline).run_here(write_record=True)


def resume(out: Path) -> int:
    """Finish the --python run in ``out`` (its ``interpreters.json`` says what it is)."""
    with FolderLock(out):
        record = InterpretersRecord.read(out)
        plan = check_plan(record.plan, str(out))
        found = find_interpreters([i.spec for i in record.interpreters])
        if [i.label for i in found] != [i.label for i in record.interpreters]:
            raise UserError(f"--resume {out}: its interpreters are not the ones that "
                            "started it any more (a different version at the same path); "
                            "start a new run")
        return Matrix(out, plan, found, resumed=True,
                      baseline=record.baseline).run_here()


@dataclass
class Matrix:
    """A --python run in a folder this process holds: the plan, the interpreters, and the
    ``Results`` each one gave (in memory: the comparison reads these, not the files)."""

    out: Path
    plan: Plan
    found: list[Interpreter]
    resumed: bool = False
    baseline: str | None = None  # its label (None: the first interpreter)
    runs: list[tuple[str, Results]] = field(default_factory=list)

    def record(self) -> InterpretersRecord:
        return InterpretersRecord(
            argv=("gilbench", *sys.argv[1:]), plan=self.plan, baseline=self.baseline,
            interpreters=tuple(InterpreterEntry(i.path, i.label, i.spec, dict(i.env))
                               for i in self.found))

    def run_here(self, write_record: bool = False) -> int:
        """Run it (a new run writes its record first); a write that fails is one line
        with what each interpreter saved and how to finish."""
        try:
            if write_record:
                self.record().write(self.out)
            return self.run()
        except WriteFailed as exc:
            cells = len(specs(self.plan))
            saved = "; ".join(saved_so_far(interpreter_folder(self.out, i.label), cells)
                              for i in self.found)
            raise exc.saying(saved, how_to_finish(self.out, sys.argv[1:])) from None

    def folder(self, interp: Interpreter) -> Path:
        return interpreter_folder(self.out, interp.label)

    def run(self) -> int:
        previous = {i.label: load(self.folder(i)) if (self.folder(i) / RESULTS).exists()
                    else None for i in self.found}
        cells = len(specs(self.plan))
        todo = {label: cells - (len(p.cells) if p else 0) for label, p in previous.items()}
        tell(f"gilbench {__version__}: {cells} cells in each of "
            f"{', '.join(f'{i.label} ({i.spec})' for i in self.found)} → {self.out}"
            + (f"; {sum(todo.values())} cells left" if self.resumed else "")
            + f"; expect about {fmt_minutes(self.expected_s(previous))}")
        try:
            ours = collect_machine()
            for interp in self.found:
                self.sweep(interp, previous[interp.label], todo[interp.label], ours)
            serial, left_out = self.single_thread_cost() if len(self.runs) > 1 else ([], [])
        except KeyboardInterrupt:
            say(interrupted(f"under {self.out}", self.out))
            return EXIT_INTERRUPTED
        except KernelHungThere as exc:
            say(f"gilbench: error: the run in {exc.interpreter} stopped on a kernel that did "
                f"not return (above); what finished is saved under {self.out}; once it "
                f"returns, finish with: gilbench run --resume {self.out}")
            return EXIT_KERNEL_HUNG
        self.summarise(serial, left_out)
        failed = sum(c.status in ("error", "timeout") for _, r in self.runs for c in r.cells)
        print(f"{failed} failed cells" if failed else "every cell ok (or skipped with its reason)")
        return EXIT_FAILED_CELLS if failed else EXIT_OK

    def expected_s(self, previous: dict[str, Results | None]) -> float:
        """About how long what is left takes: each interpreter's cells (those of the
        strategies it has) and start-up probe, and the interleaved serial runs."""
        total = 0.0
        for interp in self.found:
            done = previous[interp.label]
            if done is not None and done.complete:
                continue
            have = {c.key for c in done.cells} if done else set()
            left = [s for s in specs(self.plan) if s.key not in have]
            suites = [s for s in PYTHON_SUITES if s != "speedup" and s in self.plan.suites
                      and not (done and s in done.run.get("suites_done", []))]
            total += plan_expected_s(self.plan, left, suites, interp.info.get("strategies"))
        if len(self.found) > 1 and not (self.out / SERIAL_COST).exists():
            total += serial_expected_s(self.plan, len(self.found))
        return total

    def sweep(self, interp: Interpreter, done: Results | None, todo: int,
              ours: dict) -> None:
        """One interpreter's sweep and report; a finished one is kept as it is."""
        folder = self.folder(interp)
        if done is not None and done.complete:
            self.runs.append((interp.label, done))  # finished before the interruption
            if not (folder / "report.html").exists():  # a write failed after it
                render(done, folder)
            return
        say(f"[{interp.label}] {interp.spec}")
        progress = Progress(todo)
        try:
            results = run_in(interp, self.plan, folder, ours, progress.update,
                             previous=done, resume_hint=f"gilbench run --resume {self.out}")
        finally:
            progress.close()
        render(results, folder)
        self.runs.append((interp.label, results))

    def single_thread_cost(self) -> tuple[list[SerialRuns], list[str]]:
        """The interpreters' interleaved serial runs of the pure-Python kernels (measured
        once; a resumed run reads them back)."""
        path = self.out / SERIAL_COST
        if path.exists():
            return load_serial_cost(path)
        workloads = measured_workloads(self.plan)
        if not workloads:
            return [], []
        rounds = max(MIN_ROUNDS, self.plan.repeats)
        tell(f"single-thread cost and time per task: interleaved serial runs of "
            f"{', '.join(workloads)} in every interpreter ({rounds} rounds)")
        phases.reached("single-thread")
        runs, left = measure(self.found, self.plan, rounds, log=say)
        save_serial_cost(path, runs, left, rounds)
        return runs, left

    def summarise(self, serial: Sequence[SerialRuns], left_out: Sequence[str]) -> None:
        """Each interpreter's verdicts, then the comparison of what they measured."""
        from gilbench.bench.analysis import kind_verdicts
        from gilbench.bench.analysis.comparison import as_run, pick_baseline
        from gilbench.bench.report import freethreading, matrix
        from gilbench.bench.report.compare import write_compare
        from gilbench.bench.report.terminal import wrapped
        from gilbench.bench.report.verdicts import kind_verdict_lines

        for label, results in self.runs:
            print(f"\n{label}:")
            lines = ["- " + line for line in kind_verdict_lines(kind_verdicts(results),
                                                               bold=False)]
            print("\n".join(wrapped(lines)))
        if len(self.runs) < 2:
            return
        runs = [as_run(label, str(interpreter_folder(self.out, label) / RESULTS), results)
                for label, results in self.runs]
        base = pick_baseline(runs, self.baseline)
        write_compare(runs, base, self.out, serial, left_out)
        lines = matrix.terminal_lines(runs, base.label, serial)
        if lines:
            print("\n" + "\n".join(lines))
        lines = freethreading.terminal_lines(runs, serial)
        if lines:
            print("\n" + "\n".join(lines))
        print(f"\ncomparison: {self.out / 'compare.html'}")
