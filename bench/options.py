"""The user's words, checked: option values parsed, and the run's ``Plan`` built from them
(or read back from a results file to resume it).

Every problem is one ``UserError`` line that says what was wrong and what is valid.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import math
import multiprocessing
from collections.abc import Sequence
from typing import Any

from gilbench.bench.errors import UserError, did_you_mean
from gilbench.bench.machine import usable_cpus
from gilbench.bench.profiles import PROFILES, default_workers
from gilbench.bench.runner import Plan, granularity
from gilbench.bench.runner.expand import expected_s, specs
from gilbench.bench.runner.sweep import one_task_s
from gilbench.bench.strategies import STRATEGIES
from gilbench.bench.suites import ALL_SUITES, COST_SUITES, DEFAULT_SUITES, GRANULARITY
from gilbench.bench.watchdog import watched
from gilbench.workloads import WORKLOADS
from gilbench.workloads.user import WorkloadSourceError, load_all, load_entry_points, prepare

# The run command's examples, as its --help ends.
RUN_EXAMPLES = """examples:
  gilbench run                                   everything, standard profile
  gilbench run --profile quick --suite speedup --workloads fib,sha256,sleep \\
      --strategies threads,process_pool          one question, in seconds
  gilbench run --workloads-from mykernels.py --start-method fork,spawn
  gilbench run --python 3.13t/bin/python --python 3.13/bin/python
  gilbench run --python python3.11 --python python3.15 --python 'PYTHON_JIT=1 python3.15'
  gilbench run --resume reports/20261127T101500Z-host
  gilbench run --profile quick --suite granularity --workloads fib,zlib
"""

MAX_WORKERS = 1024
MAX_REPEATS = 1000


def parse_names(text: str, valid: Sequence[str], option: str, noun: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UserError(f"{option}: empty list; valid: {', '.join(valid)}")
    for n in names:
        if n not in valid:
            raise UserError(f"unknown {noun} '{n}'{did_you_mean(n, valid)}; valid: "
                            f"{', '.join(valid)}")
    return list(dict.fromkeys(names))


def positive_int(text: str, option: str, limit: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise UserError(f"{option}: '{text}' is not a whole number; give one from 1 to "
                        f"{limit}") from None
    if not 1 <= value <= limit:
        raise UserError(f"{option}: {value} is out of range; give a number from 1 to {limit}")
    return value


def parse_workers(text: str) -> list[int]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise UserError("--workers: empty list; give worker counts such as 1,2,4")
    return sorted({positive_int(p, "--workers", MAX_WORKERS) for p in parts})


def parse_timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"--timeout: '{text}' is not a number of seconds; give e.g. 60") from None
    if not math.isfinite(value) or value <= 0:
        raise UserError(f"--timeout: {text} must be a positive number of seconds, e.g. 60")
    return value


def parse_sizes(text: str) -> list[float]:
    """Task-cost factors such as 0.01,0.1,1 (fractions like 1/16 too)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise UserError("--sizes: empty list; give task-cost factors such as 0.01,0.1,1")
    out = []
    for p in parts:
        try:
            num, _, den = p.partition("/")
            value = float(num) / (float(den) if den else 1.0)
        except (ValueError, ZeroDivisionError):
            raise UserError(f"--sizes: '{p}' is not a number; give task-cost factors such as "
                            "0.01,0.1,1 (1 = the profile's task size)") from None
        if not math.isfinite(value) or not 1e-4 <= value <= 100:
            raise UserError(f"--sizes: {p} is out of range; give factors from 0.0001 to 100 "
                            "(1 = the profile's task size)")
        out.append(value)
    return sorted(set(out))


def parse_target_ci(text: str) -> float:
    """A percentage (3, 3%, 0.5) as a fraction; 0.1% to 50% are accepted."""
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        raise UserError(f"--target-ci: '{text}' is not a percentage; give e.g. 3 for ±3%") from None
    if not math.isfinite(value) or not 0.1 <= value <= 50:
        raise UserError(f"--target-ci: {text} is out of range; give a percentage from 0.1 to 50")
    return value / 100


# What a --python run measures in each interpreter: the sweep, and the start-up probe.
PYTHON_SUITES = ("speedup", "startup")


def parse_start_methods(text: str) -> list[str]:
    valid = multiprocessing.get_all_start_methods()
    if text.strip() == "all":
        return list(valid)
    return parse_names(text, valid, "--start-method", "start method")


def parse_suites(text: str) -> list[str]:
    names = parse_names(text, [*ALL_SUITES, "all"], "--suite", "suite")
    if "all" in names:
        return list(ALL_SUITES)
    return [s for s in ALL_SUITES if s in names]


def address_dest(option: str) -> str:
    """The argparse name of a strategy's address option (--dask-scheduler: dask_scheduler)."""
    return option.lstrip("-").replace("-", "_")


def addresses_given(args: argparse.Namespace) -> tuple[tuple[str, str], ...]:
    """(strategy, address) for each strategy whose address option was given."""
    out = []
    for name, cls in STRATEGIES.items():
        address = getattr(args, address_dest(cls.takes_address), None) if cls.takes_address \
            else None
        if address:
            out.append((name, address))
    return tuple(out)


def default_strategies() -> list[str]:
    """The speedup sweep's strategies when --strategies gives none: those whose class says
    so (``Strategy.in_default_sweep``: Ray runs only when named)."""
    return [name for name, cls in STRATEGIES.items() if cls.in_default_sweep]


def user_workloads(specs: Sequence[str] | None) -> list[str]:
    """Load installed packages' kernels and the ``--workloads-from`` files and modules;
    the kernels the latter registered (or refuse in one line)."""
    try:
        load_entry_points()
        return load_all(specs or ())
    except WorkloadSourceError as exc:
        raise UserError(str(exc)) from None


def calibrate_plan(plan: Plan, say: Any = None) -> Plan:
    """Check the plan's user kernels (a function workers can import, equal picklable
    results from two calls) and calibrate the sizes of those that give none."""
    def guard(workload: str, phase: str) -> contextlib.AbstractContextManager[None]:
        return watched(workload, phase, plan.timeout_s)

    try:
        found = prepare(plan.workloads, plan.profile, say, guard)
    except WorkloadSourceError as exc:
        raise UserError(str(exc)) from None
    if not found:
        return plan
    sizes = tuple((w, found[w].size if w in found else s) for w, s in plan.sizes)
    return dataclasses.replace(plan, sizes=sizes, calibrated=tuple(
        (w, c.task_s) for w, c in found.items()))


def refuse_unrunnable(strategies: list[str]) -> None:
    """--strategies where none of the asked-for ways can run on this interpreter (say,
    subinterpreters on 3.11): a run of serial alone would answer nothing, and exit 0."""
    wanted = [s for s in strategies if s != "serial"]
    why = {s: STRATEGIES[s].available() for s in wanted}
    if not wanted or any(ok for ok, _ in why.values()):
        return
    here = [n for n, c in STRATEGIES.items() if n != "serial" and c.available()[0]]
    raise UserError(f"--strategies: none of {', '.join(wanted)} can run on this interpreter "
                    f"({'; '.join(f'{s}: {reason}' for s, (_, reason) in why.items())}); "
                    f"here: {', '.join(here)}; or run them in another with --python PATH")


def build_plan(args: argparse.Namespace, say: Any = None) -> Plan:
    """The run's plan from the options: user kernels loaded, checked and, without sizes
    of their own, calibrated here (``say`` hears what was chosen)."""
    profile = PROFILES[args.profile]
    from_user = user_workloads(getattr(args, "workloads_from", None))
    if args.python and args.suite and any(x in parse_suites(args.suite)
                                          for x in (*COST_SUITES, GRANULARITY)
                                          if x not in PYTHON_SUITES):
        raise UserError("--python runs the speedup suite and the startup suite in each "
                        "interpreter; the granularity sweep and the other cost suites run "
                        "in gilbench's own: drop "
                        "--python or give --suite speedup,startup")
    # Other interpreters: their sweeps and what their workers cost to start (fork,
    # forkserver and spawn, subinterpreters). The user's own kernels: the sweep (the cost
    # suites measure gilbench's own primitives, not a kernel). Unless --suite asks otherwise.
    suites = parse_suites(args.suite if args.suite is not None else (
        ",".join(PYTHON_SUITES) if args.python else "speedup"
                                         if getattr(args, "workloads_from", None)
                                         else ",".join(DEFAULT_SUITES)))
    # An option given empty ("") is refused by its parser, never read as not given.
    workloads = (parse_names(args.workloads, list(WORKLOADS), "--workloads", "workload")
                 if args.workloads is not None else from_user or list(WORKLOADS))
    strategies = (parse_names(args.strategies, list(STRATEGIES), "--strategies", "strategy")
                  if args.strategies is not None else default_strategies())
    if args.strategies is not None and not args.python and (
            "speedup" in suites or GRANULARITY in suites):
        refuse_unrunnable(strategies)
    if "serial" not in strategies:  # every speedup divides by it
        strategies.insert(0, "serial")
    workers = (parse_workers(args.workers) if args.workers is not None
               else default_workers(usable_cpus(), profile.max_workers))
    # None given: each interpreter's own default (bench.runner.expand.methods_here).
    methods = parse_start_methods(args.start_method) if args.start_method is not None else []
    if args.repeats is not None and args.target_ci is not None:
        raise UserError("--repeats fixes the number of repeats and --target-ci makes it "
                        "adaptive: give one of them")
    if args.repeats is not None:  # exactly this many
        repeats = positive_int(args.repeats, "--repeats", MAX_REPEATS)
        max_repeats, target = repeats, 0.0
    else:
        repeats, max_repeats = profile.repeats, profile.max_repeats
        target = (parse_target_ci(args.target_ci) if args.target_ci is not None
                  else profile.target_ci)
    timeout = parse_timeout(args.timeout) if args.timeout is not None else profile.timeout_s
    plan = Plan(profile=profile.name, workloads=tuple(workloads), strategies=tuple(strategies),
                workers=tuple(workers), start_methods=tuple(methods), repeats=repeats,
                warmup=profile.warmup, tasks=max(profile.tasks, max(workers)),
                timeout_s=timeout,
                sizes=tuple((w, 0 if WORKLOADS[w].calibrated else WORKLOADS[w].size_for(
                    profile.name)) for w in workloads),
                suites=tuple(suites), max_repeats=max_repeats, target_ci=target,
                cell_budget_s=profile.cell_budget_s,
                size_factors=tuple(parse_sizes(args.sizes)) if args.sizes is not None else (),
                workloads_from=tuple(_spec_for_plan(s) for s in dict.fromkeys(
                    getattr(args, "workloads_from", None) or ())),
                addresses=addresses_given(args))
    plan = calibrate_plan(plan, say)
    if GRANULARITY in plan.suites:  # its sizes from one task timed here per kernel
        plan = granularity.with_points(
            plan, usable_cpus(), lambda w, size: one_task_s(w, size, plan.timeout_s), say)
        if not args.strategies:  # every strategy, Ray included
            plan = dataclasses.replace(plan, granularity_strategies=tuple(STRATEGIES))
    if args.python:
        uncalibrated = [w for w, size in plan.sizes if size == 0]
        if uncalibrated:
            raise UserError(f"{', '.join(uncalibrated)} has no sizes and needs "
                            f"{', '.join(WORKLOADS[uncalibrated[0]].requires)}, missing in "
                            "gilbench's own interpreter, where sizes are calibrated for every "
                            "--python: install it here too, or give the kernel sizes=...")
    return plan


def _spec_for_plan(spec: str) -> str:
    """A file as an absolute path (a resumed run, a worker, another interpreter may run
    in another folder); a module name as given."""
    from pathlib import Path

    from gilbench.workloads.user import is_file_spec

    return str(Path(spec).expanduser().resolve()) if is_file_spec(spec) else spec


def check_plan(plan: Plan | None, source: str) -> Plan:
    """A plan read back from a run's folder (``Results.plan``, ``interpreters.json``), with
    its users' kernels loaded, refused in one line if this gilbench cannot run it."""
    if plan is None:
        raise UserError(f"{source} holds no run plan to resume (a results file of gilbench "
                        "run has one)")
    user_workloads(plan.workloads_from)
    unknown = [w for w in plan.workloads if w not in WORKLOADS]
    unknown += [s for s in plan.strategies if s not in STRATEGIES]
    unknown += [s for s in plan.suites if s not in ALL_SUITES]
    if unknown:
        raise UserError(f"{source} names {', '.join(unknown)}, unknown to this gilbench")
    return plan


# ------------------------------------------------------------ how long a profile takes

USER_PROFILES = tuple(p for p in PROFILES if p != "smoke")  # smoke is the tests' own


def default_plan(profile_name: str, usable: int) -> Plan:
    """What `gilbench run --profile P` runs on ``usable`` CPUs: gilbench's own kernels
    (not users' or entry points'), every strategy and suite, the default worker counts
    and the interpreter's own start method."""
    profile = PROFILES[profile_name]
    builtin = [w for w in WORKLOADS.values() if w.origin is None]
    workers = default_workers(usable, profile.max_workers)
    return Plan(profile=profile.name, workloads=tuple(w.name for w in builtin),
                strategies=tuple(default_strategies()), workers=tuple(workers),
                start_methods=(), repeats=profile.repeats,
                warmup=profile.warmup, tasks=max(profile.tasks, max(workers)),
                timeout_s=profile.timeout_s,
                sizes=tuple((w.name, w.size_for(profile.name)) for w in builtin),
                suites=tuple(DEFAULT_SUITES), max_repeats=profile.max_repeats,
                target_ci=profile.target_ci, cell_budget_s=profile.cell_budget_s)


def expected_default_s(profile_name: str, usable: int) -> float:
    """How long `gilbench run --profile P` takes on ``usable`` CPUs, from the same
    estimate (``bench.runner.expand.expected_s``, its costs measured on the 2-CPU VM) as
    the run's first line: the one source of the durations in --help and the README."""
    plan = default_plan(profile_name, usable)
    return expected_s(plan, specs(plan), list(COST_SUITES), usable=usable)
