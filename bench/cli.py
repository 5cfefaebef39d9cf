"""The ``gilbench`` command (also ``python -m bench``).

Exit codes: 0 every cell ok; 1 the run finished but some cell failed
(everything is still written); 2 bad usage or input, said in one line;
74 a file could not be written (said in one line, with what is saved and how to
finish); 130 interrupted (what finished is written, with how to resume), 143 by
SIGTERM, 129 by SIGHUP; 141 the reader of stdout closed it (a pipe into ``head``),
quietly. Before it exits, every child it started has been waited for
(``bench.reaper``).
"""

from __future__ import annotations

import argparse
import errno
import json
import math
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from bench import __version__, phases, serialcost, watchdog
from bench.errors import (
    EXIT_FAILED_CELLS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    EXIT_WRITE_FAILED,
    UserError,
    did_you_mean,
)
from bench.files import FolderLock, WriteFailed, new_folder, write_text
from bench.fmt import fmt_minutes
from bench.machine import collect_machine, gil_enabled
from bench.options import USER_PROFILES, build_plan, check_plan, expected_default_s
from bench.profiles import DEFAULT_PROFILE, PROFILES
from bench.reaper import reap_children
from bench.report import render
from bench.report.terminal import Progress, SuiteProgress, failures, summary
from bench.results import Results, file_stamp, load, utc_now
from bench.runfolder import (
    RESULTS,
    SERIAL_COST,
    how_to_finish,
    is_interpreters_run,
    resume_folder,
    run_folder,
    saved_so_far,
)
from bench.runner import Plan, specs
from bench.session import Session
from bench.strategies import STRATEGIES, install_stop_handlers, stopped_by
from bench.suites import ALL_SUITES, SUITE_TITLES
from bench.watchdog import EXIT_KERNEL_HUNG, KernelHung
from workloads import WORKLOADS

EXIT_PIPE_CLOSED = 128 + 13  # the reader of stdout went away (gilbench list | head): SIGPIPE's


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one UserError line, not usage + error,
    naming the closest valid choice to a mistyped one."""

    def error(self, message: str) -> NoReturn:
        found = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if found:
            valid = [v.strip(" '") for v in found[2].split(",")]
            message = (f"{message[:found.start()]}unknown choice '{found[1]}'"
                       f"{did_you_mean(found[1], valid)}; valid: {', '.join(valid)}")
        raise UserError(message)


def profile_name(text: str) -> str:
    """--profile: quick, standard or full (smoke, the tests' own, is accepted, not offered)."""
    if text in PROFILES:
        return text
    raise UserError(f"--profile: unknown profile '{text}'{did_you_mean(text, USER_PROFILES)}; "
                    f"valid: {', '.join(USER_PROFILES)}")


def percent(text: str) -> float:
    """--fail-if-slower: a positive percentage, '10' or '10%'."""
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        value = float("nan")
    if not (math.isfinite(value) and value > 0):
        raise UserError(f"--fail-if-slower: '{text}' is not a positive number; give the "
                        "percentage a cell may get worse by, e.g. --fail-if-slower 10")
    return value


# ------------------------------------------------------------ commands


def cmd_list(args: argparse.Namespace) -> int:
    from bench.options import user_workloads

    user_workloads(args.workloads_from)
    workloads: list[dict[str, Any]] = [
        {"name": w.name, "kind": w.kind, "releases_gil": w.releases_gil,
         "description": w.description,
         "source": (w.origin[1] or w.origin[0]) if w.origin else "gilbench",
         "sizes": w.sizes or "calibrated"} for w in WORKLOADS.values()]
    strategies = []
    for cls in STRATEGIES.values():
        ok, why = cls.available()
        strategies.append({"name": cls.name, "model": cls.model,
                           "description": cls.description(), "runs_on": cls.runs_on,
                           "available": ok, "unavailable_reason": why or None})
    suites = [{"name": name, "description": SUITE_TITLES[name]} for name in ALL_SUITES]
    if args.json:
        print(json.dumps({"workloads": workloads, "strategies": strategies, "suites": suites},
                         indent=1))
        return EXIT_OK
    print("Workloads:")
    no_gil = not gil_enabled()  # a free-threaded interpreter: nothing holds or releases it
    width = max(14, *(len(w["name"]) + 2 for w in workloads))  # users' names run longer
    for w in workloads:
        gil = ("no GIL here" if no_gil else "releases GIL" if w["releases_gil"] else
               "holds for work" if w["kind"] == "mixed" else "holds GIL")  # mixed: waits first
        print(f"  {w['name']:<{width}}{w['kind']:<8}{gil:<16}{w['description']}")
    for source in dict.fromkeys(w["source"] for w in workloads if w["source"] != "gilbench"):
        mine = [w for w in workloads if w["source"] == source]
        calibrated = [w["name"] for w in mine if w["sizes"] == "calibrated"]
        print(f"  (from {source}: {', '.join(w['name'] for w in mine)}"
              + (f"; sizes calibrated at run time: {', '.join(calibrated)}" if calibrated
                 else "") + ")")
    print("Strategies:")
    for s in strategies:
        avail = "" if s["available"] else f"  [unavailable here: {s['unavailable_reason']}]"
        print(f"  {s['name']:<18}{s['model']:<13}{s['description']}{avail}")
        if s["runs_on"] != "every Python":
            print(f"  {'':<31}runs on {s['runs_on']}")
    print("Suites (gilbench run --suite ...):")
    for suite in suites:
        print(f"  {suite['name']:<18}{suite['description']}")
    return EXIT_OK


def cmd_info(args: argparse.Namespace) -> int:
    record = collect_machine()
    if args.json:
        print(json.dumps(record, indent=1))
    else:
        for k, v in record.items():
            print(f"{k:<24}{v}")
    return EXIT_OK


def say(line: str) -> None:
    """A line of what the run is doing, on stderr (stdout is for its summary)."""
    print(line, file=sys.stderr, flush=True)


def cmd_run(args: argparse.Namespace) -> int:
    from bench import interpreters
    from bench.runner.placement import mode

    mode()  # a bad GILBENCH_PLACEMENT is one line, before anything runs
    if args.baseline is not None and not args.python:
        raise UserError("--baseline names one interpreter of a --python run: give the "
                        "interpreters with --python (gilbench compare --baseline LABEL "
                        "compares results files)")
    if args.python:
        if args.resume:
            raise UserError("--resume takes no --python: the run's folder says which "
                            "interpreters it uses (gilbench run --resume DIR)")
        return interpreters.start(args.python, build_plan(args, say), args.out, args.baseline)
    if args.resume:
        out = resume_folder(args.resume)
        if is_interpreters_run(out):
            return interpreters.resume(out)
        with FolderLock(out):
            previous = load(out)
            return run_into(args, out, check_plan(previous.plan, str(out)), previous)
    plan = build_plan(args, say)
    out = run_folder(args.out, utc_now())
    with FolderLock(out):
        if (out / RESULTS).exists():
            raise UserError(f"{out} already holds a {RESULTS}; pass --resume {out} to "
                            "finish it, or choose a new --out")
        return run_into(args, out, plan, None)


def run_into(args: argparse.Namespace, out: Path, plan: Plan,
             previous: Results | None) -> int:
    """The run, in a folder this process holds; ``previous``: what --resume found."""
    created_at = previous.created_at if previous else utc_now()
    cluster = None
    if args.dask_scheduler:
        from bench.strategies.dask_cluster import connect_scheduler

        cluster = connect_scheduler(args.dask_scheduler)
    ray_cluster = None
    if getattr(args, "ray_address", None):
        from bench.strategies.ray_cluster import connect_address

        ray_cluster = connect_address(args.ray_address)
    machine = previous.machine if previous else collect_machine()
    if cluster and not previous:
        machine = {**machine, "dask_cluster": cluster}
    if ray_cluster and not previous:
        machine = {**machine, "ray_cluster": ray_cluster}
    state = Session(out, machine, created_at, plan=plan, previous=previous)
    todo_cells = state.cells_to_do()
    todo_suites = state.suites_to_do()
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
        what.append(f"{todo_cells} cells ({'; '.join(parts)})")
    if todo_suites:
        what.append(f"cost suites {', '.join(todo_suites)}")
    usable = machine["usable_cpus"]
    print(f"gilbench {__version__}: {' + '.join(what) or 'nothing left to do'}, profile "
          f"{plan.profile}, {usable} usable CPU{'s' if usable != 1 else ''} → {out}; "
          f"expect about "
          f"{fmt_minutes(state.expected_s())}", file=sys.stderr, flush=True)
    watchdog.RUN_FOLDER[:] = [str(out)]
    try:
        results = run_steps(state, plan, previous, todo_suites)
    except KernelHung as exc:  # saved in run_steps
        print(f"gilbench: error: {exc}; {watchdog.saved_note()}; {exc.advice()}",
              file=sys.stderr)
        return EXIT_KERNEL_HUNG
    except WriteFailed as exc:  # the run stopped there: its workers are closed
        raise exc.saying(saved_so_far(out, len(specs(plan))),
                         how_to_finish(out, sys.argv[1:])) from None
    if results is None:
        print(f"\ninterrupted: what finished is saved in {out / 'results.json'}; resume "
              f"with: gilbench run --resume {out}", file=sys.stderr)
        return EXIT_INTERRUPTED
    render_or_say(results, out, f"{out / 'results.json'} is saved whole "
                  f"({len(results.cells)} cells)", f"gilbench report {out}")
    print(summary(results, out))
    return EXIT_FAILED_CELLS if failures(results) else EXIT_OK


def run_steps(state: Session, plan: Plan, previous: Results | None,
              suites: Sequence[str]) -> Results | None:
    """The run's steps — the start-of-run probe, the sweep, the cost ``suites`` — and what
    they saved; None after a Ctrl-C (what finished is saved)."""
    try:
        if plan.sweeps and plan.profile != "smoke" and not previous:
            from bench.selfcheck import start_probe

            # a few seconds: is this a noisy phase?
            probe = start_probe(int(state.machine["usable_cpus"]))
            if probe:
                state.noise_checks.append(probe)
        for check in state.noise_checks:
            if check["ok"] is False or (check["ok"] is None and "probe" in check["check"]):
                print(f"noise: {check['check']} {check['value']}: {check['advice']}",
                      file=sys.stderr, flush=True)
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


def render_or_say(results: Results, out: Path, saved: str, again: str) -> list[Path]:
    """The report and charts into ``out``; a write that fails says what is ``saved``
    and the command that finishes the job (``again``) once there is space."""
    try:
        return render(results, out)
    except WriteFailed as exc:
        raise exc.saying(f"{saved}; the report is not complete",
                         f"once there is space: {again}") from None


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


def cmd_selfcheck(args: argparse.Namespace) -> int:
    from bench.selfcheck import selfcheck

    phases.reached("selfcheck")
    # With --json, stdout carries the JSON alone (a pipe into jq); the progress goes to stderr.
    stream = sys.stderr if args.json else sys.stdout
    result = selfcheck(lambda line: print(line, file=stream, flush=True))
    if args.json:
        print(json.dumps(result, indent=1))
    return int(result["exit_code"])


def cmd_report(args: argparse.Namespace) -> int:
    source = Path(args.results)
    results = load(source)
    results = results.with_speedups()
    out = Path(args.out) if args.out else (source if source.is_dir() else source.parent)
    with FolderLock(out, "report"):
        paths = render_or_say(results, out, f"{source} is unchanged (only read)",
                              f"gilbench report {args.results}"
                              + (f" --out {args.out}" if args.out else ""))
    print(f"wrote {len(paths)} files to {out}; open {out / 'report.html'}")
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    from bench.analysis.significance import regressions
    from bench.report.compare import (
        flips,
        load_runs,
        main_table,
        pick_baseline,
        within_noise,
        write_compare,
    )
    from bench.report.document import render_markdown
    from bench.report.terminal import text_table

    labels = None
    if args.labels is not None:
        labels = [x.strip() for x in args.labels.split(",")]
        if not all(labels):
            raise UserError("--labels: a label is empty; give one per file, e.g. --labels a,b")
    if args.fail_on is not None and args.fail_if_slower is None:
        raise UserError(f"--fail-on {args.fail_on} says what --fail-if-slower checks; give "
                        "both, e.g. --fail-if-slower 10 --fail-on speedup")
    gate_on = GATE_ON[args.fail_on or "both"]
    runs = load_runs(args.results, labels)
    base = pick_baseline(runs, args.baseline)
    out = Path(args.out) if args.out else new_folder(
        Path("reports") / ("compare-" + file_stamp(utc_now())))
    serial, left = serialcost.beside([r.source for r in runs], [r.label for r in runs],
                                     SERIAL_COST)
    with FolderLock(out, "compare"):
        try:
            paths = write_compare(runs, base, out, serial, left)
        except WriteFailed as exc:
            raise exc.saying("the results files are unchanged (only read); the comparison "
                             "is not complete", "once there is space: run the same "
                             "gilbench compare again") from None
    table = main_table(runs, base)
    md = args.format == "md"
    print(render_markdown([table], out).rstrip() if md
          else text_table(table.headers, table.rows))
    flipped = [line.replace("**", "") for line in flips(runs)]
    noise = within_noise(runs)
    print("\nFlips (threads or processes, significant on both machines): "
          + ("none" if not flipped else ""))
    for line in flipped + noise:
        print(f"- {line}")
    code = EXIT_OK
    if args.fail_if_slower is not None:
        worse, compared = [], 0
        for r in runs:
            if r is not base:
                found, n = regressions(base.results, r.results, args.fail_if_slower, gate_on)
                worse += [(r, c) for c in found]
                compared += n
        what = " and ".join(f"{x}s" for x in gate_on)
        if worse:
            print(f"\nSignificantly worse than {base.label} by more than "
                  f"{args.fail_if_slower:g}% ({len(worse)} of {compared} {what} compared "
                  "cell by cell):")
            for r, c in worse:
                print(f"- {r.label}: {c.where}: {c.change.what} {c.change.text()} "
                      f"({c.change.factor()})")
            code = EXIT_FAILED_CELLS
        else:
            print(f"\nNo cell got significantly worse than {base.label} by more than "
                  f"{args.fail_if_slower:g}% ({compared} {what} compared cell by cell).")
    print(f"wrote {len(paths)} files to {out}; open {out / 'compare.html'}", file=sys.stderr)
    return code


def cmd_export(args: argparse.Namespace) -> int:
    from bench.report.export import check_raw_times, to_csv, to_pyperf

    results = load(Path(args.results))
    check_raw_times(results, args.results)
    results = results.with_speedups()
    text = (json.dumps(to_pyperf(results), indent=1) + "\n" if args.format == "pyperf"
            else to_csv(results))
    if args.out is None:
        write_stdout(text)
        return EXIT_OK
    target = Path(args.out)
    try:
        write_text(target, text)
    except WriteFailed as exc:
        if exc.exc.errno in (errno.ENOTDIR, errno.EISDIR, errno.ENOENT, errno.EEXIST,
                             errno.ENAMETOOLONG):  # a path that cannot be a file
            raise UserError(f"--out {target}: cannot write it ({exc.exc.strerror or exc}); "
                            "choose another file") from None
        raise exc.saying(f"{args.results} is unchanged (only read)", "once there is space: "
                         "run the same gilbench export again") from None
    print(f"wrote {target} ({args.format})", file=sys.stderr)
    return EXIT_OK


GATE_ON = {"both": ("speedup", "time"), "speedup": ("speedup",), "time": ("time",)}

EXIT_CODES = """exit codes:
  0    every cell and measurement ok, or skipped with its reason (compare: no regression)
  1    the run finished but a cell or measurement failed, everything still written
       (compare --fail-if-slower: a cell got significantly worse)
  2    bad usage or input, said in one line; nothing run, nothing written
  3    selfcheck: usable, but noisy (a check could not tell)
  74   a file could not be written (disk full, quota, read-only): one line says what
       is saved and the command that finishes the job once there is space
  124  a kernel did not return within --timeout in gilbench's own process (its serial
       run, result check or calibration): one line names it and the phase; what
       finished is written
  129  the terminal was closed (SIGHUP), as 130 otherwise
  130  interrupted by Ctrl-C (what finished is written; gilbench run --resume DIR)
  141  the reader of stdout closed it (gilbench list | head), quietly
  143  stopped by SIGTERM, as 130 otherwise"""

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


def profile_help() -> str:
    """Each profile's expected duration here, from the estimate the run's first line
    gives (bench.options.expected_default_s)."""
    from bench.machine import usable_cpus

    n = usable_cpus()
    times = ", ".join(f"{p} {fmt_minutes(expected_default_s(p, n))}" for p in USER_PROFILES)
    return (f"how much work and how precise: quick, standard (the default), full; "
            f"the default suites on this machine's {n} usable CPU{'s' if n != 1 else ''} "
            f"take about: {times}")


def make_parser() -> Parser:
    p = Parser(prog="gilbench", description="Threads, processes and the GIL, measured on "
               "this machine: speedup of every strategy on every kind of work.",
               epilog="gilbench COMMAND --help says more about each command.\n\n"
               + EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"gilbench {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    raw = argparse.RawDescriptionHelpFormatter

    s = sub.add_parser("list", help="workloads, strategies and suites")
    s.add_argument("--json", action="store_true", help="print only JSON on stdout")
    s.add_argument("--workloads-from", metavar="FILE_OR_MODULE", action="append",
                   help="list the kernels of this file or module too (repeatable)")
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("info", help="the machine and interpreter record")
    s.add_argument("--json", action="store_true", help="print only JSON on stdout")
    s.set_defaults(func=cmd_info)

    s = sub.add_parser("run", help="run the sweep and write results, charts and report",
                       description="Run workloads x strategies x worker counts (the speedup "
                       "sweep) and the cost suites; write results.json, report.md, "
                       "report.html and charts; print a summary.",
                       epilog=RUN_EXAMPLES + "\n" + EXIT_CODES, formatter_class=raw)
    g = s.add_argument_group("what to run")
    g.add_argument("--profile", type=profile_name, default=DEFAULT_PROFILE,
                   metavar="{" + ",".join(USER_PROFILES) + "}", help=profile_help())
    g.add_argument("--suite", metavar="S,T",
                   help=f"what to run: {', '.join(ALL_SUITES)} (a comma list), or all. "
                        "Default: speedup (the sweep of workloads x strategies) and the cost "
                        "suites (start-up, IPC, synchronisation, GIL latency), in the times "
                        "--profile gives. granularity (speedup against task size, 0.1 to 100 "
                        "ms, every strategy at the usable CPUs, and the sizes where each way "
                        "starts to pay; a minute or more per workload at quick, estimated "
                        "before it starts) runs when named, or with all")
    g.add_argument("--workloads", metavar="A,B",
                   help="workloads to run (default: all; with --workloads-from, its kernels)")
    g.add_argument("--workloads-from", metavar="FILE_OR_MODULE", action="append",
                   help="your own kernels: a .py file or an importable module whose "
                        "functions use @workload (from workloads import workload); "
                        "repeatable (docs/user-workloads.md)")
    g.add_argument("--strategies", metavar="X,Y",
                   help="strategies to run (default: all but ray, whose local cluster takes "
                        "seconds to start in every cell: name it to sweep it; the granularity "
                        "suite runs it by default, the startup suite measures its start; "
                        "serial always runs)")
    g.add_argument("--workers", metavar="1,2,4",
                   help="worker counts (default: 1, 2, 4 ... up to 2x the usable CPUs)")
    g.add_argument("--start-method", metavar="M",
                   help="process start method(s): "
                        f"{', '.join(multiprocessing.get_all_start_methods())}, a comma list, "
                        "or all (default: each interpreter's own: forkserver on Linux from "
                        "Python 3.14, fork before it)")
    g.add_argument("--sizes", metavar="F,G",
                   help="task-size sweep: run each workload with tasks F, G ... times the "
                        "profile's task cost (e.g. 0.01,0.1,1), the total work kept the same "
                        "(more, smaller tasks); the report shows where processes start to "
                        "beat threads")
    g = s.add_argument_group("precision")
    g.add_argument("--target-ci", metavar="PCT",
                   help="repeat each cell until its speedup's 95%% confidence interval is "
                        "within ±PCT%% (default: the profile's, 3 for standard, 5 for quick), "
                        "or its time budget is spent")
    g.add_argument("--repeats", metavar="N",
                   help="exactly N timed runs per cell instead (at least 6 for an interval)")
    g = s.add_argument_group("output")
    g.add_argument("--out", metavar="DIR",
                   help="output folder (default: reports/<UTC time>-<host>/)")
    g.add_argument("--resume", metavar="DIR",
                   help="finish an interrupted run in DIR without redoing finished cells")
    g = s.add_argument_group("advanced")
    g.add_argument("--timeout", metavar="S",
                   help="time limit per run of a cell in seconds (default: the profile's)")
    g.add_argument("--python", metavar="'[NAME=VALUE ...] PATH'", action="append",
                   help="run the sweep inside this interpreter (repeatable), with these "
                        "environment variables if given, e.g. 'PYTHON_GIL=1 "
                        "/path/python3.13t': results per interpreter in DIR/<label>/ and a "
                        "comparison of them in DIR")
    g.add_argument("--baseline", metavar="LABEL",
                   help="with --python: the interpreter the comparison measures every other "
                        "against, by its label (python3.11, python3.13t, "
                        "python3.15-PYTHON_JIT=1; default: the first --python)")
    g.add_argument("--dask-scheduler", metavar="ADDRESS",
                   help="the dask strategy uses this existing cluster (tcp://host:8786) "
                        "instead of starting a LocalCluster")
    g.add_argument("--ray-address", metavar="ADDRESS",
                   help="the ray strategy uses this existing Ray cluster (host:6379, or "
                        "ray://host:10001) instead of starting a local Ray")
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("selfcheck", help="under a minute: can this machine and gilbench be "
                       "trusted? (known answers: sleeping threads, CPU-bound processes, "
                       "gilbench's overhead over the bare standard-library call)",
                       epilog=EXIT_CODES, formatter_class=raw)
    s.add_argument("--json", action="store_true",
                   help="print only the result as JSON on stdout (progress goes to stderr)")
    s.set_defaults(func=cmd_selfcheck)

    s = sub.add_parser("report", help="re-render charts and report from a results file")
    s.add_argument("results", metavar="RESULTS",
                   help="a results.json (or its folder), or a pytest-benchmark JSON")
    s.add_argument("--out", metavar="DIR", help="output folder (default: beside RESULTS)")
    s.set_defaults(func=cmd_report)

    s = sub.add_parser(
        "compare", help="compare machines or runs: which differences are significant",
        description="Several results files side by side: each machine's best strategy, "
        "speedups and times relative to the baseline with 95%% bootstrap intervals (marked "
        "'not significant' where they contain 1), the workloads whose threads-or-processes "
        "answer flips. Prints its main table; writes compare.md, compare.html and charts.",
        epilog="examples:\n"
        "  gilbench compare a/results.json b/results.json --labels laptop,server\n"
        "  gilbench compare main.json pr.json --fail-if-slower 10   # a CI gate: exit 1\n"
        "  gilbench compare a b --format md > comparison.md\n\n" + EXIT_CODES,
        formatter_class=raw)
    s.add_argument("results", metavar="RESULTS", nargs="+",
                   help="results.json files (or folders), pytest-benchmark JSON files")
    s.add_argument("--labels", metavar="A,B", help="one label per file (default: host, "
                   "usable CPUs and Python)")
    s.add_argument("--baseline", metavar="LABEL", help="the machine others are compared "
                   "to (default: the first)")
    s.add_argument("--format", choices=("text", "md"), default="text",
                   help="the table on stdout: aligned text (default) or Markdown to paste")
    s.add_argument("--fail-if-slower", metavar="PCT", type=percent,
                   help="exit 1 when a cell's speedup (or, for the same work, time) got "
                        "significantly worse than the baseline's by more than PCT%%, "
                        "listing those cells")
    s.add_argument("--fail-on", choices=tuple(GATE_ON), default=None,
                   help="what --fail-if-slower checks: speedup (ratios measured inside each "
                        "run: the robust choice on a shared or noisy CI machine), time, or "
                        "both (default)")
    s.add_argument("--out", metavar="DIR", help="output folder (default: reports/compare-<time>/)")
    s.set_defaults(func=cmd_compare)

    s = sub.add_parser(
        "export", help="a results file in another tool's format: pyperf JSON or CSV",
        description="pyperf: one benchmark per cell (workload/strategy/workers), its timed "
        "runs as values, for python -m pyperf show/compare_to/hist. csv: one row per cell.",
        epilog="examples:\n"
        "  gilbench export reports/RUN/results.json --format pyperf --out run.json\n"
        "  python -m pyperf show run.json\n"
        "  gilbench export reports/RUN --format csv > cells.csv\n\n" + EXIT_CODES,
        formatter_class=raw)
    s.add_argument("results", metavar="RESULTS",
                   help="a results.json (or its folder), or a pytest-benchmark JSON")
    s.add_argument("--format", choices=("pyperf", "csv"), required=True,
                   help="pyperf (JSON, pyperf's file format 1.0) or csv")
    s.add_argument("--out", metavar="FILE", help="write here (default: stdout)")
    s.set_defaults(func=cmd_export)
    return p


def write_stdout(text: str) -> None:
    """Write to stdout and flush: a full disk under a redirected stdout is a
    ``WriteFailed`` here, not a traceback at exit."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise WriteFailed(Path("<stdout>"), exc, "nothing else was written") from None


def stuck_threads() -> list[threading.Thread]:
    """Non-daemon threads still running a task after their cell timed out.

    A thread cannot be killed, and the interpreter joins such threads at exit
    (ThreadPoolExecutor's are), so one hung task would hang gilbench forever.
    """
    return [t for t in threading.enumerate()
            if t is not threading.main_thread() and t.is_alive() and not t.daemon]


def main(argv: Sequence[str] | None = None) -> int:
    install_stop_handlers()  # Ctrl-C and SIGTERM: what finished is saved, nothing left
    try:
        args = make_parser().parse_args(argv)
        code = args.func(args)
    except UserError as exc:
        print(f"gilbench: error: {exc}", file=sys.stderr)
        return leave(EXIT_USAGE, reap=argv is None)
    except WriteFailed as exc:
        if exc.path == Path("<stdout>"):  # and not again, at the interpreter's exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(f"gilbench: error: {exc}", file=sys.stderr)
        code = EXIT_WRITE_FAILED
    except KernelHung as exc:  # before the run had a folder: its kernels' check
        print(f"gilbench: error: {exc}; {exc.advice()}", file=sys.stderr)
        code = EXIT_KERNEL_HUNG
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        code = EXIT_INTERRUPTED
    except BrokenPipeError:
        # Whoever read our output stopped reading: nothing to report. Point stdout at
        # /dev/null so the interpreter's last flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_PIPE_CLOSED
    signum = stopped_by()
    if code == EXIT_INTERRUPTED and signum not in (None, signal.SIGINT):
        code = 128 + int(signum)  # 143 for SIGTERM, 129 for a closed terminal (SIGHUP)
    return leave(code, reap=argv is None)


def leave(code: int, reap: bool = True) -> int:
    """Return the exit code, or exit now if stuck threads would hang the exit. As the
    program (not a call from a test), every child is waited for first."""
    if reap:
        reap_children()
    stuck = stuck_threads()
    if stuck:
        print(f"gilbench: {len(stuck)} worker thread(s) are still stuck in a task that timed "
              "out; exiting without waiting for them", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
