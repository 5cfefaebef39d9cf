"""The ``gilbench`` command (also ``python -m bench``).

Exit codes: 0 every cell ok; 1 the run finished but some cell failed
(everything is still written); 2 bad usage or input, said in one line;
130 interrupted (what finished is written, with how to resume).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import multiprocessing
import os
import socket
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from bench import __version__
from bench.errors import UserError
from bench.machine import collect_machine, cpu_steal_s, noise_checks, usable_cpus
from bench.profiles import DEFAULT_PROFILE, PROFILES, default_workers
from bench.results import Cell, Results, file_stamp, load, save, utc_now, with_speedups
from bench.runner import Plan, run
from bench.strategies import STRATEGIES
from bench.suites import ALL_SUITES, BUDGETS, COST_SUITES, SUITE_TITLES, Entry
from bench.suites import runner as suite_runner
from workloads import WORKLOADS

EXIT_OK, EXIT_FAILED_CELLS, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
MAX_WORKERS = 1024
MAX_REPEATS = 1000


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one UserError line, not usage + error."""

    def error(self, message: str) -> NoReturn:
        raise UserError(message)


# ------------------------------------------------------------ input checking


def parse_names(text: str, valid: Sequence[str], option: str, noun: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UserError(f"{option}: empty list; valid: {', '.join(valid)}")
    for n in names:
        if n not in valid:
            raise UserError(f"unknown {noun} '{n}'; valid: {', '.join(valid)}")
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


def parse_start_methods(text: str) -> list[str]:
    valid = multiprocessing.get_all_start_methods()
    if text.strip() == "all":
        return list(valid)
    return parse_names(text, valid, "--start-method", "start method")


# ------------------------------------------------------------ commands


def cmd_list(args: argparse.Namespace) -> int:
    workloads = [{"name": w.name, "kind": w.kind, "releases_gil": w.releases_gil,
                  "description": w.description} for w in WORKLOADS.values()]
    strategies = []
    for cls in STRATEGIES.values():
        ok, why = cls.available()
        strategies.append({"name": cls.name, "model": cls.model,
                           "description": cls.description(), "available": ok,
                           "unavailable_reason": why or None})
    suites = [{"name": name, "description": SUITE_TITLES[name]} for name in ALL_SUITES]
    if args.json:
        print(json.dumps({"workloads": workloads, "strategies": strategies, "suites": suites},
                         indent=1))
        return EXIT_OK
    print("Workloads:")
    for w in workloads:
        gil = "releases GIL" if w["releases_gil"] else "holds GIL"
        print(f"  {w['name']:<14}{w['kind']:<8}{gil:<14}{w['description']}")
    print("Strategies:")
    for s in strategies:
        avail = "" if s["available"] else f"  [unavailable: {s['unavailable_reason']}]"
        print(f"  {s['name']:<18}{s['model']:<11}{s['description']}{avail}")
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


def default_out_dir(created_at: str) -> Path:
    return Path("reports") / f"{file_stamp(created_at)}-{socket.gethostname()}"


def check_writable(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".gilbench-write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UserError(f"cannot write to output folder {out}: {exc.strerror or exc}; "
                        "choose another with --out") from None


def parse_suites(text: str) -> list[str]:
    names = parse_names(text, [*ALL_SUITES, "all"], "--suite", "suite")
    if "all" in names:
        return list(ALL_SUITES)
    return [s for s in ALL_SUITES if s in names]


def build_plan(args: argparse.Namespace) -> Plan:
    profile = PROFILES[args.profile]
    if args.python and args.suite and any(x in parse_suites(args.suite) for x in COST_SUITES):
        raise UserError("--python runs the speedup suite in each interpreter; the cost suites "
                        "run in gilbench's own: drop --python or give --suite speedup")
    suites = parse_suites(args.suite or ("speedup" if args.python else "all"))
    workloads = (parse_names(args.workloads, list(WORKLOADS), "--workloads", "workload")
                 if args.workloads else list(WORKLOADS))
    strategies = (parse_names(args.strategies, list(STRATEGIES), "--strategies", "strategy")
                  if args.strategies else list(STRATEGIES))
    if "serial" not in strategies:  # every speedup divides by it
        strategies.insert(0, "serial")
    workers = (parse_workers(args.workers) if args.workers
               else default_workers(usable_cpus(), profile.max_workers))
    methods = (parse_start_methods(args.start_method) if args.start_method
               else [multiprocessing.get_start_method()])
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
    timeout = parse_timeout(args.timeout) if args.timeout else profile.timeout_s
    return Plan(profile=profile.name, workloads=tuple(workloads), strategies=tuple(strategies),
                workers=tuple(workers), start_methods=tuple(methods), repeats=repeats,
                warmup=profile.warmup, tasks=max(profile.tasks, max(workers)),
                timeout_s=timeout,
                sizes=tuple((w, WORKLOADS[w].size_for(profile.name)) for w in workloads),
                suites=tuple(suites), max_repeats=max_repeats, target_ci=target,
                cell_budget_s=profile.cell_budget_s,
                size_factors=tuple(parse_sizes(args.sizes)) if args.sizes is not None else ())


def plan_from_dict(d: dict[str, Any], source: str) -> Plan:
    try:
        plan = Plan.from_dict(d)
    except (KeyError, TypeError) as exc:
        raise UserError(f"{source} holds no run plan to resume ({exc})") from None
    unknown = [w for w in plan.workloads if w not in WORKLOADS]
    unknown += [s for s in plan.strategies if s not in STRATEGIES]
    unknown += [s for s in plan.suites if s not in ALL_SUITES]
    if unknown:
        raise UserError(f"{source} names {', '.join(unknown)}, unknown to this gilbench")
    return plan


class Progress:
    """A tqdm bar on a terminal; one line per workload otherwise (logs, CI)."""

    def __init__(self, total: int) -> None:
        from tqdm import tqdm

        self.tty = sys.stderr.isatty()
        self.bar = tqdm(total=total, unit="cell", file=sys.stderr, dynamic_ncols=True,
                        disable=not self.tty)
        self.done = 0
        self.total = total
        self.last_workload: str | None = None

    def update(self, cell: Cell) -> None:
        self.done += 1
        if self.tty:
            self.bar.set_postfix_str(f"{cell.workload} {cell.label} ×{cell.workers} "
                                     f"{cell.status}", refresh=False)
            self.bar.update(1)
        elif cell.workload != self.last_workload:
            print(f"[{self.done}/{self.total}] {cell.workload} ...", file=sys.stderr, flush=True)
        self.last_workload = cell.workload
        if cell.status in ("error", "timeout") and not self.tty:  # skipped: in the report
            print(f"  {cell.workload} {cell.label} ×{cell.workers}: {cell.status}: {cell.error}",
                  file=sys.stderr, flush=True)

    def close(self) -> None:
        self.bar.close()


def render(results: Results, out: Path) -> list[Path]:
    """Charts and report for a results object, into ``out``."""
    from bench.cost_charts import write_cost_charts
    from bench.plotting import write_charts
    from bench.reports import write_report

    charts = write_charts(results, out) | write_cost_charts(results, out)
    paths = write_report(results, out, charts)
    return paths + [p for ps in charts.values() for p in ps]


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([line.format(*headers), line.format(*("-" * w for w in widths)),
                      *(line.format(*r) for r in rows)])


class RunState:
    """What a run has measured so far, saved after every cell and entry."""

    def __init__(self, plan: Plan, out: Path, machine: dict[str, Any], created_at: str,
                 previous: Results | None) -> None:
        self.plan, self.out, self.machine, self.created_at = plan, out, machine, created_at
        self.started = time.monotonic()
        self.cells: list[Cell] = list(previous.cells) if previous else []
        done = list(previous.run.get("suites_done", [])) if previous else []
        # A suite interrupted half-way is measured again whole.
        self.suites: dict[str, list[Entry]] = {
            k: list(v) for k, v in (previous.suites if previous else {}).items() if k in done}
        self.suites_done = [k for k in done if k in self.suites]
        self.resume_hint = f"gilbench run --resume {out}"
        self.noise_checks = noise_checks(machine)
        self.steal0 = cpu_steal_s()

    def results(self, complete: bool, speedups: bool = True) -> Results:
        run_info = {"profile": self.plan.profile, "plan": dataclasses.asdict(self.plan),
                    "argv": ["gilbench", *sys.argv[1:]], "complete": complete,
                    "resume_hint": self.resume_hint, "suites_done": self.suites_done,
                    "duration_s": round(time.monotonic() - self.started, 1),
                    "noise_checks": self.noise_checks, "cpu_steal_fraction": self.steal()}
        # Speedups (with their bootstrap CIs) once at the end, not after every cell.
        cells = with_speedups(self.cells) if speedups else self.cells
        return Results(machine=self.machine, cells=tuple(cells),
                       run=run_info, created_at=self.created_at,
                       suites={k: tuple(v) for k, v in self.suites.items()})

    def steal(self) -> float | None:
        """The share of the machine's CPU time a hypervisor gave away during the run."""
        now = cpu_steal_s()
        if self.steal0 is None or now is None or now[1] <= self.steal0[1]:
            return None
        return round((now[0] - self.steal0[0]) / (now[1] - self.steal0[1]), 4)

    def save(self, complete: bool = False, speedups: bool = False) -> Results:
        results = self.results(complete, speedups)
        save(results, self.out / "results.json")
        return results


def run_sweep(state: RunState) -> None:
    plan = state.plan
    specs = plan.specs()
    skip = {c.key for c in state.cells}
    progress = Progress(len(specs) - len(skip))

    def on_cell(_spec: object, cell: Cell) -> None:
        state.cells.append(cell)
        state.save()
        progress.update(cell)

    try:
        run(plan, on_cell=on_cell, skip=skip)
    finally:
        progress.close()
    order = {s: i for i, s in enumerate(
        (s.workload, s.size, s.strategy, s.start_method, s.workers) for s in specs)}
    state.cells.sort(key=lambda c: order.get(c.key, len(order)))


def run_cost_suite(state: RunState, name: str) -> None:
    from bench.costs import describe_entry

    plan = state.plan
    t0 = time.monotonic()
    entries = state.suites[name] = []
    print(f"[{name}] {SUITE_TITLES[name]} ...", file=sys.stderr, flush=True)

    def on_entry(entry: Entry) -> None:
        entries.append(entry)
        state.save()
        if not entry.ok:
            print(f"  {describe_entry(name, entry)}: {entry.status}: {entry.error}",
                  file=sys.stderr, flush=True)

    options: dict[str, Any] = {}
    if name == "startup":
        options["workers"] = plan.workers
    elif len(plan.start_methods) == 1:
        options["start_method"] = plan.start_methods[0]
    suite_runner(name)(BUDGETS[plan.profile], int(state.machine.get("usable_cpus") or 1),
                       on_entry, plan.timeout_s, **options)
    state.suites_done.append(name)
    state.save()
    print(f"[{name}] {len(entries)} measurements in {time.monotonic() - t0:.0f} s",
          file=sys.stderr, flush=True)


def print_summary(results: Results, out: Path) -> int:
    from bench.costs import entry_counts, headlines
    from bench.findings import findings
    from bench.reports import kind_verdicts, precision_line, summary_table

    if results.cells:
        table = summary_table(results)
        print(text_table(table.headers, table.rows))
        for line in kind_verdicts(results):
            print("- " + line.replace("**", ""))
        line = precision_line(results)
        if line:
            print(f"\nPrecision: {line} (see Noise in the report).")
    lines = headlines(results)
    if lines:
        print("\nCosts:")
        for line in lines:
            print("- " + line)
    print("\nFindings (the article's claims, measured here):")
    for f in findings(results):
        print(f"- [{f.verdict}] {f.claim}")
    failed = [c for c in results.cells if c.status in ("error", "timeout")]
    ok = sum(c.ok for c in results.cells)
    ok_e, bad_e, total_e = entry_counts(results)
    parts = []
    if results.cells:
        parts.append(f"{ok} of {len(results.cells)} cells ok"
                     + (f", {len(failed)} failed" if failed else ""))
    if total_e:
        parts.append(f"{ok_e} of {total_e} cost measurements ok"
                     + (f", {bad_e} failed" if bad_e else ""))
    print("\n" + "; ".join(parts) + (" (see report)" if failed or bad_e else "")
          + f"; report: {out / 'report.html'}")
    return EXIT_FAILED_CELLS if failed or bad_e else EXIT_OK


def dask_cluster(address: str) -> dict[str, Any]:
    """Connect to an existing Dask scheduler and describe its workers (or say why not)."""
    from bench.modern import Dask

    ok, why = Dask.available()
    if not ok:
        raise UserError(f"--dask-scheduler: the dask strategy {why}")
    from distributed import Client

    try:
        with Client(address, timeout=5) as client:
            info = client.scheduler_info()
    except (OSError, TimeoutError, ValueError) as exc:
        raise UserError(f"--dask-scheduler: cannot reach a Dask scheduler at {address} "
                        f"({exc.__class__.__name__}); give its address, e.g. "
                        "tcp://10.0.0.5:8786") from None
    Dask.scheduler = address
    workers = info.get("workers", {})
    return {"address": address, "workers": len(workers),
            "threads": sum(w.get("nthreads", 0) for w in workers.values()),
            "hosts": sorted({w.get("host", "?") for w in workers.values()})}


def cmd_run_interpreters(args: argparse.Namespace) -> int:
    from bench.compare import load_runs, pick_baseline, write_compare
    from bench.interpreters import interpreters, run_in
    from bench.reports import kind_verdicts

    if args.resume:
        raise UserError("--resume cannot be combined with --python: start a new run")
    plan = build_plan(args)
    found = interpreters(args.python)
    created_at = utc_now()
    out = Path(args.out) if args.out else default_out_dir(created_at)
    for interp in found:
        if (out / interp.label / "results.json").exists():
            raise UserError(f"{out / interp.label} already holds a results.json; choose a new "
                            "--out")
    check_writable(out)
    ours = collect_machine()
    argv = ["gilbench", *sys.argv[1:]]
    print(f"gilbench {__version__}: {len(plan.specs())} cells in each of "
          f"{', '.join(f'{i.label} ({i.path})' for i in found)} → {out}",
          file=sys.stderr, flush=True)
    runs: list[tuple[str, Results]] = []
    try:
        for interp in found:
            print(f"[{interp.label}] {interp.path}", file=sys.stderr, flush=True)
            progress = Progress(len(plan.specs()))
            try:
                results = run_in(interp, plan, out / interp.label, ours, progress.update, argv)
            finally:
                progress.close()
            render(results, out / interp.label)
            runs.append((interp.label, results))
    except KeyboardInterrupt:
        print(f"\ninterrupted: what finished is saved under {out}", file=sys.stderr)
        return EXIT_INTERRUPTED
    for label, results in runs:
        print(f"\n{label}:")
        for line in kind_verdicts(results):
            print("- " + line.replace("**", ""))
    if len(runs) > 1:
        loaded = load_runs([str(out / label / "results.json") for label, _ in runs],
                           [label for label, _ in runs])
        write_compare(loaded, pick_baseline(loaded, None), out)
        print(f"\ncomparison: {out / 'compare.html'}")
    failed = sum(c.status in ("error", "timeout") for _, r in runs for c in r.cells)
    print(f"{failed} failed cells" if failed else "every cell ok (or skipped with its reason)")
    return EXIT_FAILED_CELLS if failed else EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    if args.python:
        return cmd_run_interpreters(args)
    previous = None
    if args.resume:
        out = Path(args.resume)
        previous = load(out)
        plan = plan_from_dict(previous.run.get("plan", {}), str(out))
        machine, created_at = previous.machine, previous.created_at
    else:
        plan = build_plan(args)
        created_at = utc_now()
        out = Path(args.out) if args.out else default_out_dir(created_at)
        if (out / "results.json").exists():
            raise UserError(f"{out} already holds a results.json; pass --resume {out} to "
                            "finish it, or choose a new --out")
        machine = None
    check_writable(out)
    cluster = dask_cluster(args.dask_scheduler) if args.dask_scheduler else None
    if machine is None:
        machine = collect_machine()
        if cluster:
            machine = {**machine, "dask_cluster": cluster}
    state = RunState(plan, out, machine, created_at, previous)
    todo_cells = len(plan.specs()) - len({c.key for c in state.cells})
    todo_suites = [s for s in COST_SUITES if s in plan.suites and s not in state.suites_done]
    what = []
    if plan.sweeps:
        what.append(f"{todo_cells} cells ({len(plan.workloads)} workloads × "
                    f"{len(plan.strategies)} strategies × workers "
                    f"{','.join(map(str, plan.workers))})")
    if todo_suites:
        what.append(f"cost suites {', '.join(todo_suites)}")
    print(f"gilbench {__version__}: {' + '.join(what) or 'nothing left to do'}, profile "
          f"{plan.profile}, {machine['usable_cpus']} usable CPUs → {out}",
          file=sys.stderr, flush=True)
    for check in state.noise_checks:
        if check["ok"] is False:
            print(f"noise: {check['check']} {check['value']}: {check['advice']}",
                  file=sys.stderr, flush=True)
    try:
        if plan.sweeps:
            run_sweep(state)
        for name in todo_suites:
            run_cost_suite(state, name)
    except KeyboardInterrupt:
        state.save(complete=False, speedups=True)
        print(f"\ninterrupted: what finished is saved in {out / 'results.json'}; resume "
              f"with: {state.resume_hint}", file=sys.stderr)
        return EXIT_INTERRUPTED
    results = state.save(complete=True, speedups=True)
    render(results, out)
    return print_summary(results, out)


def cmd_selfcheck(args: argparse.Namespace) -> int:
    from bench.selfcheck import selfcheck

    result = selfcheck(lambda line: print(line, flush=True))
    if args.json:
        print(json.dumps(result, indent=1))
    return EXIT_OK if result["ok"] else EXIT_FAILED_CELLS


def cmd_report(args: argparse.Namespace) -> int:
    source = Path(args.results)
    results = load(source)
    results = dataclasses.replace(results, cells=tuple(with_speedups(results.cells)))
    out = Path(args.out) if args.out else (source if source.is_dir() else source.parent)
    check_writable(out)
    paths = render(results, out)
    print(f"wrote {len(paths)} files to {out}; open {out / 'report.html'}")
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    from bench.compare import load_runs, pick_baseline, write_compare

    labels = None
    if args.labels is not None:
        labels = [x.strip() for x in args.labels.split(",")]
        if not all(labels):
            raise UserError("--labels: a label is empty; give one per file, e.g. --labels a,b")
    runs = load_runs(args.results, labels)
    base = pick_baseline(runs, args.baseline)
    out = Path(args.out) if args.out else Path("reports") / (
        "compare-" + file_stamp(utc_now()))
    check_writable(out)
    paths = write_compare(runs, base, out)
    print(f"wrote {len(paths)} files to {out}; open {out / 'compare.html'}")
    return EXIT_OK


def make_parser() -> Parser:
    p = Parser(prog="gilbench", description="Threads, processes and the GIL, measured on "
               "this machine: speedup of every strategy on every kind of work.")
    p.add_argument("--version", action="version", version=f"gilbench {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True

    s = sub.add_parser("list", help="workloads, strategies and suites")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("info", help="the machine and interpreter record")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_info)

    s = sub.add_parser("run", help="run the sweep and write results, charts and report")
    s.add_argument("--profile", choices=list(PROFILES), default=DEFAULT_PROFILE,
                   help="quick (1-2 min on 2 CPUs), standard (default), full; smoke is for tests")
    s.add_argument("--suite", metavar="S,T",
                   help=f"what to run: {', '.join(ALL_SUITES)} (a comma list), or all "
                        "(default): speedup is the sweep of workloads x strategies, the "
                        "others measure costs (start-up, IPC, synchronisation, GIL latency)")
    s.add_argument("--workloads", metavar="A,B", help="workloads to run (default: all)")
    s.add_argument("--strategies", metavar="X,Y",
                   help="strategies to run (default: all; serial always runs)")
    s.add_argument("--workers", metavar="1,2,4",
                   help="worker counts (default: 1, 2, 4 ... up to 2x the usable CPUs)")
    s.add_argument("--repeats", metavar="N",
                   help="exactly N timed runs per cell (default: adaptive, see --target-ci)")
    s.add_argument("--target-ci", metavar="PCT",
                   help="repeat each cell until its speedup's 95%% confidence interval is "
                        "within ±PCT%% (default: the profile's, 3 for standard, 5 for quick), "
                        "or its time budget is spent")
    s.add_argument("--sizes", metavar="F,G",
                   help="task-size sweep: run each workload with tasks F, G ... times the "
                        "profile's task cost (e.g. 0.01,0.1,1), the total work kept the same "
                        "(more, smaller tasks); the report shows where processes start to "
                        "beat threads")
    s.add_argument("--start-method", metavar="M",
                   help="process start method(s): "
                        f"{', '.join(multiprocessing.get_all_start_methods())}, a comma list, "
                        "or all (default: this platform's default)")
    s.add_argument("--out", metavar="DIR",
                   help="output folder (default: reports/<UTC time>-<host>/)")
    s.add_argument("--timeout", metavar="S",
                   help="time limit per run of a cell in seconds (default: the profile's)")
    s.add_argument("--resume", metavar="DIR",
                   help="finish an interrupted run in DIR without redoing finished cells")
    s.add_argument("--python", metavar="PATH", action="append",
                   help="run the sweep inside this interpreter (repeatable): results per "
                        "interpreter in DIR/<label>/ and a comparison of them in DIR")
    s.add_argument("--dask-scheduler", metavar="ADDRESS",
                   help="the dask strategy uses this existing cluster (tcp://host:8786) "
                        "instead of starting a LocalCluster")
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("selfcheck", help="under a minute: can this machine and gilbench be "
                       "trusted? (known answers: sleeping threads, CPU-bound processes, "
                       "gilbench's overhead over the bare standard-library call)")
    s.add_argument("--json", action="store_true", help="also print the result as JSON")
    s.set_defaults(func=cmd_selfcheck)

    s = sub.add_parser("report", help="re-render charts and report from a results file")
    s.add_argument("results", metavar="RESULTS",
                   help="a results.json (or its folder), or a pytest-benchmark JSON")
    s.add_argument("--out", metavar="DIR", help="output folder (default: beside RESULTS)")
    s.set_defaults(func=cmd_report)

    s = sub.add_parser("compare", help="compare machines: several results files, one report")
    s.add_argument("results", metavar="RESULTS", nargs="+",
                   help="results.json files (or folders), pytest-benchmark JSON files")
    s.add_argument("--labels", metavar="A,B", help="one label per file (default: host, "
                   "usable CPUs and Python)")
    s.add_argument("--baseline", metavar="LABEL", help="the machine others are compared "
                   "to (default: the first)")
    s.add_argument("--out", metavar="DIR", help="output folder (default: reports/compare-<time>/)")
    s.set_defaults(func=cmd_compare)
    return p


def stuck_threads() -> list[threading.Thread]:
    """Non-daemon threads still running a task after their cell timed out.

    A thread cannot be killed, and the interpreter joins such threads at exit
    (ThreadPoolExecutor's are), so one hung task would hang gilbench forever.
    """
    return [t for t in threading.enumerate()
            if t is not threading.main_thread() and t.is_alive() and not t.daemon]


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = make_parser().parse_args(argv)
        code = args.func(args)
    except UserError as exc:
        print(f"gilbench: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        code = EXIT_INTERRUPTED
    return leave(code)


def leave(code: int) -> int:
    """Return the exit code, or exit now if stuck threads would hang the exit."""
    stuck = stuck_threads()
    if stuck:
        print(f"gilbench: {len(stuck)} worker thread(s) are still stuck in a task that timed "
              "out; exiting without waiting for them", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
