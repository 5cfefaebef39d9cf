"""``gilbench run`` in this interpreter: the run's folder, its first line, its steps (the
start-of-run probe, the sweep, the cost suites), its endings (done, interrupted, a kernel
that hung, a write that failed) and its report. A ``--python`` run goes to
``bench.run.matrix``, which shares the endings (``bench.run.endings``)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import gilbench.bench.run.matrix as matrix
from gilbench.bench import __version__, watchdog
from gilbench.bench.errors import EXIT_FAILED_CELLS, EXIT_INTERRUPTED, EXIT_OK, UserError
from gilbench.bench.files import FolderLock, WriteFailed
from gilbench.bench.fmt import fmt_minutes
from gilbench.bench.machine import collect_machine
from gilbench.bench.options import build_plan, check_plan
from gilbench.bench.report.terminal import Progress, SuiteProgress, failures, summary
from gilbench.bench.results import Results, load, usable_cpus_of, utc_now
from gilbench.bench.run.endings import interrupted, render_or_say, say, tell
from gilbench.bench.runfolder import (
    RESULTS,
    how_to_finish,
    is_interpreters_run,
    resume_folder,
    run_folder,
    saved_so_far,
)
from gilbench.bench.runner import Plan, specs
from gilbench.bench.session import Session
from gilbench.bench.strategies import STRATEGIES
from gilbench.bench.suites import SUITE_TITLES
from gilbench.bench.watchdog import EXIT_KERNEL_HUNG, KernelHung


def start(args: argparse.Namespace) -> int:
    """``gilbench run``: a new run, a resumed one, or a --python run (``bench.run.matrix``),
    as the command line says; its exit code."""
    from gilbench.bench.runner.placement import mode

    mode()  # a bad GILBENCH_PLACEMENT is one line, before anything runs
    if args.baseline is not None and not args.python:
        raise UserError("--baseline names one interpreter of a --python run: give the "
                        "interpreters with --python (gilbench compare --baseline LABEL "
                        "compares results files)")
    if args.python:
        if args.resume:
            raise UserError("--resume takes no --python: the run's folder says which "
                            "interpreters it uses (gilbench run --resume DIR)")
        return matrix.start(args.python, build_plan(args, say), args.out, args.baseline)
    detail = int(getattr(args, "verbose", False)) - int(getattr(args, "quiet", False))
    if args.resume:
        out = resume_folder(args.resume)
        if is_interpreters_run(out):
            return matrix.resume(out)
        with FolderLock(out):
            previous = load(out)
            return run_into(out, check_plan(previous.plan, str(out)), previous, detail)
    plan = build_plan(args, say)
    out = run_folder(args.out, utc_now())
    with FolderLock(out):
        if (out / RESULTS).exists():
            raise UserError(f"{out} already holds a {RESULTS}; pass --resume {out} to "
                            "finish it, or choose a new --out")
        return run_into(out, plan, None, detail)


def run_into(out: Path, plan: Plan, previous: Results | None, detail: int = 0) -> int:
    """The run, in a folder this process holds; ``previous``: what --resume found."""
    created_at = previous.created_at if previous else utc_now()
    # The plan's existing clusters, reached (a resumed run's too) and described.
    clusters = {f"{name}_cluster": STRATEGIES[name].describe_cluster(address)
                for name, address in plan.addresses}
    machine = previous.machine if previous else {**collect_machine(), **clusters}
    state = Session(out, machine, created_at, plan=plan, previous=previous)
    todo_suites = state.suites_to_do()
    tell(first_line(state, plan, out, todo_suites))
    note = workers_note(plan, usable_cpus_of(state.machine))
    if note:
        tell(note)
    watchdog.RUN_FOLDER[:] = [str(out)]
    try:
        results = run_steps(state, plan, previous, todo_suites)
    except KernelHung as exc:  # saved in run_steps
        say(f"gilbench: error: {exc}; {watchdog.saved_note()}; {exc.advice()}")
        return EXIT_KERNEL_HUNG
    except WriteFailed as exc:  # the run stopped there: its workers are closed
        raise exc.saying(saved_so_far(out, len(specs(plan))),
                         how_to_finish(out, sys.argv[1:])) from None
    if results is None:
        say(interrupted(f"in {out / RESULTS}", out))
        return EXIT_INTERRUPTED
    render_or_say(results, out, f"{out / RESULTS} is saved whole "
                  f"({len(results.cells)} cells)", f"gilbench report {out}")
    print(summary(results, out, detail))
    return EXIT_FAILED_CELLS if failures(results) else EXIT_OK


def first_line(state: Session, plan: Plan, out: Path, todo_suites: Sequence[str]) -> str:
    """What the run will do, where, and about how long it takes."""
    what = []
    if plan.sweeps:
        parts = []
        if "speedup" in plan.suites:
            parts.append(f"{len(plan.workloads)} workloads × {len(plan.strategies)} strategies "
                         f"× workers {','.join(map(str, plan.workers))}")
        if "granularity" in plan.suites:
            parts.append(f"granularity: {len(plan.granularity)} task sizes × "
                         f"{len(plan.granularity_strategies or plan.strategies)} strategies at "
                         f"{plan.granularity_workers} worker"
                         f"{'s' if plan.granularity_workers != 1 else ''}")
        what.append(f"{state.cells_to_do()} cells ({'; '.join(parts)})")
    if todo_suites:
        what.append(f"cost suites {', '.join(todo_suites)}")
    usable = usable_cpus_of(state.machine)
    return (f"gilbench {__version__}: {' + '.join(what) or 'nothing left to do'}, profile "
            f"{plan.profile}, {usable} usable CPU{'s' if usable != 1 else ''} → {out}; "
            f"expect about {fmt_minutes(state.expected_s())}")


FAR_PAST_CPUS = 4  # worker counts past this many times the usable CPUs get a word


def workers_note(plan: Plan, usable: int) -> str | None:
    """A word on worker counts far past the CPUs (the default goes to twice them): what
    they cost, which the estimate above includes (``more_tasks_s``)."""
    most = max(plan.workers, default=0)
    if not plan.sweeps or most <= FAR_PAST_CPUS * max(1, usable):
        return None
    return (f"note: --workers {most} is {most / max(1, usable):.0f}× the {usable} usable "
            f"CPU{'s' if usable != 1 else ''}: every run does {plan.tasks} tasks (one per "
            f"worker at least, serial runs included) and each cell starts {most} workers, "
            "so the run takes longer than one at the CPU count (the estimate above counts "
            "it); past the CPUs, speedups measure oversubscription")


def run_steps(state: Session, plan: Plan, previous: Results | None,
              suites: Sequence[str]) -> Results | None:
    """The run's steps — the start-of-run probe, the sweep, the cost ``suites`` — and what
    they saved; None after a Ctrl-C (what finished is saved)."""
    try:
        if plan.sweeps and plan.profile != "smoke" and not previous:
            from gilbench.bench.selfcheck import start_probe

            # a few seconds: is this a noisy phase?
            probe = start_probe(usable_cpus_of(state.machine))
            if probe:
                state.add_noise_check(probe)
        for check in state.noise_checks:
            if check["ok"] is False or (check["ok"] is None and "probe" in check["check"]):
                tell(f"noise: {check['check']} {check['value']}: {check['advice']}")
        if plan.sweeps:
            run_sweep(state)
        for name in suites:
            run_cost_suite(state, name)
        return state.save(complete=True, speedups=True)
    except KeyboardInterrupt:
        state.save(complete=False, speedups=True)
        return None
    except KernelHung:  # unwound like a Ctrl-C: the run's workers are closed
        state.save(complete=False, speedups=True)
        raise


def run_sweep(state: Session) -> None:
    """The sweep, with its progress on stderr."""
    progress = Progress(state.cells_to_do(), state.cell_cost_s, state.sweep_cost_s())
    try:
        state.run_sweep(progress.update)
    finally:
        progress.close()


def run_cost_suite(state: Session, name: str) -> None:
    """One cost suite, with a line when it starts and ends, and its progress between."""
    t0 = time.monotonic()
    print(f"[{name}] {SUITE_TITLES[name]} ...", file=sys.stderr, flush=True)
    progress = SuiteProgress(name, state.suite_cost_s(name))
    try:
        entries = state.run_cost_suite(name, progress.entry)
    finally:
        progress.close()
    print(f"[{name}] {len(entries)} measurements in {time.monotonic() - t0:.0f} s",
          file=sys.stderr, flush=True)
