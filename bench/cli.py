"""The ``gilbench`` command (also ``python -m gilbench``).

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
import json
import math
import multiprocessing
import os
import re
import signal
import sys
import textwrap
import threading
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from gilbench.bench import __version__, phases, reading
from gilbench.bench.errors import (
    EXIT_CODES,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    EXIT_WRITE_FAILED,
    UserError,
    did_you_mean,
)
from gilbench.bench.files import WriteFailed
from gilbench.bench.fmt import fmt_minutes, tolerant_output
from gilbench.bench.kinds import KINDS
from gilbench.bench.machine import collect_machine, gil_enabled
from gilbench.bench.options import (
    RUN_EXAMPLES,
    USER_PROFILES,
    address_dest,
    expected_default_s,
)
from gilbench.bench.profiles import DEFAULT_PROFILE, PROFILES
from gilbench.bench.reaper import reap_children
from gilbench.bench.strategies import STRATEGIES, describe, install_stop_handlers, stopped_by
from gilbench.bench.suites import ALL_SUITES, SUITE_TITLES
from gilbench.bench.timeit import DEFAULT_KIND as TIMEIT_KIND
from gilbench.bench.watchdog import EXIT_KERNEL_HUNG, KernelHung
from gilbench.workloads import WORKLOADS

EXIT_PIPE_CLOSED = 128 + 13  # the reader of stdout went away (gilbench list | head): SIGPIPE's


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """A command's description wrapped to the terminal; its epilog's examples and lists,
    indented lines, kept as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        out: list[str] = []
        for line in text.splitlines():
            if len(indent + line) > width and not line.startswith(" "):
                out += textwrap.wrap(line, width, initial_indent=indent,
                                     subsequent_indent=indent, break_on_hyphens=False)
            else:
                out.append(indent + line)
        return "\n".join(out)


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one UserError line, not usage + error,
    naming the closest valid choice to a mistyped one. No option may be abbreviated
    (``--profil quick`` is refused, not read as ``--profile``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        found = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if found:
            valid = [v.strip(" '") for v in found[2].split(",")]
            message = (f"{message[:found.start()]}unknown choice '{found[1]}'"
                       f"{did_you_mean(found[1], valid)}; valid: {', '.join(valid)}")
        unknown = re.match(r"unrecognized arguments: (--?[\w-]+)", message)
        if unknown:  # a mistyped option (abbreviations are refused): name the closest one
            message += did_you_mean(unknown[1], self.option_names())
        raise UserError(message)

    def option_names(self) -> list[str]:
        """Every option string of this parser and of its commands'."""
        names = list(self._option_string_actions)
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    names += list(sub._option_string_actions)
        return sorted(set(names))


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
    from gilbench.bench.options import user_workloads

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
    from gilbench.bench.report.terminal import hanging

    def entry(lead: str, text: str) -> None:
        print("\n".join(hanging(lead, text)))

    print("Workloads:")
    no_gil = not gil_enabled()  # a free-threaded interpreter: nothing holds or releases it
    width = max(14, *(len(w["name"]) + 2 for w in workloads))  # users' names run longer
    for w in workloads:
        gil = ("no GIL here" if no_gil else "releases GIL" if w["releases_gil"] else
               "holds for work" if w["kind"] == "mixed" else "holds GIL")  # mixed: waits first
        entry(f"  {w['name']:<{width}}{w['kind']:<8}{gil:<16}", w["description"])
    for source in dict.fromkeys(w["source"] for w in workloads if w["source"] != "gilbench"):
        mine = [w for w in workloads if w["source"] == source]
        calibrated = [w["name"] for w in mine if w["sizes"] == "calibrated"]
        entry("  ", f"(from {source}: {', '.join(w['name'] for w in mine)}"
              + (f"; sizes calibrated at run time: {', '.join(calibrated)}" if calibrated
                 else "") + ")")
    print("Strategies:")
    for s in strategies:
        avail = "" if s["available"] else f"  [unavailable here: {s['unavailable_reason']}]"
        entry(f"  {s['name']:<18}{s['model']:<13}", f"{s['description']}{avail}")
        if s["runs_on"] != "every Python":
            entry(f"  {'':<31}", f"runs on {s['runs_on']}")
    print("Suites (gilbench run --suite ...):")
    for suite in suites:
        entry(f"  {suite['name']:<18}", suite["description"])
    return EXIT_OK


def cmd_info(args: argparse.Namespace) -> int:
    record = collect_machine()
    if args.json:
        print(json.dumps(record, indent=1))
    else:
        from gilbench.bench.report.terminal import hanging

        for k, v in record.items():
            print("\n".join(hanging(f"{k:<24}", str(v))))
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    return reading.report(args)


def cmd_compare(args: argparse.Namespace) -> int:
    return reading.compare(args)


def cmd_export(args: argparse.Namespace) -> int:
    return reading.export(args)


def cmd_run(args: argparse.Namespace) -> int:
    from gilbench.bench.run.local import start

    return start(args)


def cmd_timeit(args: argparse.Namespace) -> int:
    from gilbench.bench import timeit

    return timeit.start(args, make_parser())


def cmd_selfcheck(args: argparse.Namespace) -> int:
    from gilbench.bench.report.terminal import wrapped
    from gilbench.bench.selfcheck import selfcheck

    phases.reached("selfcheck")
    # With --json, stdout carries the JSON alone (a pipe into jq); the progress goes to stderr.
    stream = sys.stderr if args.json else sys.stdout
    result = selfcheck(lambda line: print("\n".join(wrapped([line])), file=stream, flush=True))
    if args.json:
        print(json.dumps(result, indent=1))
    return int(result["exit_code"])


def profile_help() -> str:
    """Each profile's expected duration here, from the estimate the run's first line
    gives (bench.options.expected_default_s)."""
    from gilbench.bench.machine import usable_cpus

    n = usable_cpus()
    times = ", ".join(f"{p} {fmt_minutes(expected_default_s(p, n))}" for p in USER_PROFILES)
    return (f"how much work and how precise: quick, standard (the default), full; "
            f"the default suites on this machine's {n} usable CPU{'s' if n != 1 else ''} "
            f"take about: {times}")


def make_parser() -> Parser:
    p = Parser(prog="gilbench", description="Threads, processes and the GIL, measured on "
               "this machine: speedup of every strategy on every kind of work.",
               epilog="gilbench COMMAND --help says more about each command.\n\n"
               + EXIT_CODES, formatter_class=HelpFormatter)
    p.add_argument("--version", action="version", version=f"gilbench {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for add in (add_list, add_info, add_run, add_timeit, add_selfcheck, add_report, add_compare,
                add_export):
        add(sub)
    return p


def add_list(sub: Any) -> None:
    """The ``list`` command's arguments."""
    s = sub.add_parser("list", help="workloads, strategies and suites")
    s.add_argument("--json", action="store_true", help="print only JSON on stdout")
    s.add_argument("--workloads-from", metavar="FILE_OR_MODULE", action="append",
                   help="list the kernels of this file or module too (repeatable)")
    s.set_defaults(func=cmd_list)


def add_info(sub: Any) -> None:
    """The ``info`` command's arguments."""
    s = sub.add_parser("info", help="the machine and interpreter record")
    s.add_argument("--json", action="store_true", help="print only JSON on stdout")
    s.set_defaults(func=cmd_info)


def add_run(sub: Any) -> None:
    """The ``run`` command's arguments."""
    raw = HelpFormatter
    s = sub.add_parser("run", help="run the sweep and write results, charts and report",
                       description="Run workloads x strategies x worker counts (the speedup "
                       "sweep) and the cost suites; write results.json, report.md, "
                       "report.html and charts; print a summary.",
                       epilog=RUN_EXAMPLES + "\n" + EXIT_CODES, formatter_class=raw)
    add_run_selection(s.add_argument_group("what to run"))

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
    say = g.add_mutually_exclusive_group()
    say.add_argument("-q", "--quiet", action="store_true",
                     help="print only the answer: a line per kind of work and per workload")
    say.add_argument("-v", "--verbose", action="store_true",
                     help="print everything: the article's claims with their rules too")
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
    for name, cls in STRATEGIES.items():  # each strategy that can use an existing cluster
        if cls.takes_address:
            g.add_argument(cls.takes_address, metavar="ADDRESS", dest=address_dest(
                cls.takes_address), help=f"the {name} strategy uses this existing cluster "
                f"({cls.address_example}) instead of starting its own")
    s.set_defaults(func=cmd_run)


def add_run_selection(g: Any) -> None:
    """``gilbench run``'s "what to run": workloads, strategies, workers, suites."""
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
                        "functions use @workload (from gilbench import workload); "
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


def add_timeit(sub: Any) -> None:
    """The ``timeit`` command's arguments."""
    s = sub.add_parser(
        "timeit", help="is this function thread-friendly? MODULE:FUNCTION against serial, "
        "threads and processes",
        description="Measure one function, called with no arguments, serially, with threads "
        "and with processes (gilbench run --suite speedup on a kernel that calls it), and "
        "say which way is faster for it. The current folder is on the path, as for python "
        "-m timeit.",
        epilog="examples:\n  gilbench timeit mymod:parse_logs\n"
        "  gilbench timeit tools/resize.py:resize_all --kind native --workers 2,4\n",
        formatter_class=HelpFormatter)
    s.add_argument("target", metavar="MODULE:FUNCTION",
                   help="mymod:myfunc, or path/to/file.py:myfunc: a module-level function "
                        "that takes no arguments")
    s.add_argument("--kind", choices=KINDS, default=TIMEIT_KIND,
                   help="what its work is: cpu (pure Python), native (releases the GIL), io "
                        "(waits), mixed (default: nothing assumed); a kind lets the physics "
                        "check the cells (threads on pure Python cannot pass 1x)")
    s.add_argument("--profile", type=profile_name, default="quick",
                   metavar="{" + ",".join(USER_PROFILES) + "}",
                   help="how long and how precise (default quick: seconds to a minute)")
    s.add_argument("--strategies", metavar="LIST",
                   help="comma-separated, or all (default: threads, thread_pool, pool_map, "
                        "process_pool; `gilbench list` names them)")
    s.add_argument("--workers", metavar="LIST",
                   help="comma-separated worker counts (default: the profile's)")
    s.add_argument("--out", metavar="DIR",
                   help="output folder (default: reports/<UTC time>-<host>/)")
    s.add_argument("-q", "--quiet", action="store_true", help="print only the answer lines")
    s.set_defaults(func=cmd_timeit)


def add_selfcheck(sub: Any) -> None:
    """The ``selfcheck`` command's arguments."""
    raw = HelpFormatter
    s = sub.add_parser("selfcheck", help="about a minute: can this machine and gilbench be "
                       "trusted? (known answers: sleeping threads, CPU-bound processes, "
                       "gilbench's overhead over the bare standard-library call)",
                       epilog=EXIT_CODES, formatter_class=raw)
    s.add_argument("--json", action="store_true",
                   help="print only the result as JSON on stdout (progress goes to stderr)")
    s.set_defaults(func=cmd_selfcheck)


def add_report(sub: Any) -> None:
    """The ``report`` command's arguments."""
    s = sub.add_parser("report", help="re-render charts and report from a results file")
    s.add_argument("results", metavar="RESULTS",
                   help="a results.json (or its folder), or a pytest-benchmark JSON")
    s.add_argument("--out", metavar="DIR", help="output folder (default: beside RESULTS)")
    s.set_defaults(func=cmd_report)


def add_compare(sub: Any) -> None:
    """The ``compare`` command's arguments."""
    raw = HelpFormatter
    s = sub.add_parser(
        "compare", help="compare machines or runs: which differences are significant",
        description="Several results files side by side: each machine's best strategy, "
        "speedups and times relative to the baseline with 95% bootstrap intervals (marked "
        "'not significant' where they contain 1), the workloads whose threads-or-processes "
        "answer flips. Prints its main table (--format text, md or json); with --out DIR it "
        "also writes compare.md, compare.html and charts there.",
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
    s.add_argument("--format", choices=("text", "md", "json"), default="text",
                   help="stdout: an aligned table (default), Markdown to paste, or JSON for "
                        "a program (the changes, flips and the gate's result)")
    s.add_argument("--fail-if-slower", metavar="PCT", type=percent,
                   help="exit 1 when a cell's speedup (or, for the same work, time) got "
                        "significantly worse than the baseline's by more than PCT%%, "
                        "listing those cells")
    s.add_argument("--fail-on", choices=tuple(reading.GATE_ON), default=None,
                   help="what --fail-if-slower checks: speedup (the default: ratios "
                        "measured inside each run, which a machine's slow phase between "
                        "the runs does not move), time (raw times: worth it on a dedicated "
                        "machine), or both")
    s.add_argument("--gate-workloads", metavar="LIST",
                   help="what --fail-if-slower checks: only these workloads' cells and "
                        "headlines (comma-separated; default: every workload)")
    s.add_argument("--gate-strategies", metavar="LIST",
                   help="what --fail-if-slower checks: only these strategies' cells "
                        "(comma-separated; default: every strategy)")
    s.add_argument("--out", metavar="DIR", help="also write the comparison report and its "
                   "charts into DIR (default: print only)")
    s.set_defaults(func=cmd_compare)


def add_export(sub: Any) -> None:
    """The ``export`` command's arguments."""
    raw = HelpFormatter
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


def stuck_threads() -> list[threading.Thread]:
    """Non-daemon threads still running a task after their cell timed out.

    A thread cannot be killed, and the interpreter joins such threads at exit
    (ThreadPoolExecutor's are), so one hung task would hang gilbench forever.
    """
    return [t for t in threading.enumerate()
            if t is not threading.main_thread() and t.is_alive() and not t.daemon]


def main(argv: Sequence[str] | None = None) -> int:
    install_stop_handlers()  # Ctrl-C and SIGTERM: what finished is saved, nothing left
    tolerant_output()  # a terminal that cannot show ÷ or × gets ?, not a traceback
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
    except Exception as exc:  # a bug: one line (its own exit code), the traceback on asking
        if os.environ.get("GILBENCH_TRACEBACK"):
            traceback.print_exc()
        print(f"gilbench: internal error: {describe(exc)} (a bug in gilbench; "
              "GILBENCH_TRACEBACK=1 shows where)", file=sys.stderr)
        code = EXIT_INTERNAL
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
