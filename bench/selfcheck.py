"""``gilbench selfcheck``: can this machine, and gilbench itself, be trusted?

About a minute of measurements whose right answer is known from the physics:

- threads that sleep overlap perfectly: N sleeping threads are N times faster
  than one after another (efficiency near 1);
- processes on pure-Python CPU work use every usable CPU: their speedup is
  near the usable CPU count (efficiency near 1). Measured with ``process_pipe``
  (one Process per CPU, its share of tasks sent down a Pipe at once): it asks
  least of the parent, whose handler threads would otherwise compete with the
  workers for the CPUs (on 2 CPUs ProcessPoolExecutor loses 10-20% that way,
  which says something about the executor, not the machine);
- gilbench's timed region costs nothing over the standard-library call it
  wraps, for every family of strategy: its strategies against the bare
  ``ThreadPoolExecutor.map``, a ``threading.Thread`` per slice, ``Process``
  workers with two ``Queue``s, a ``Process`` and a ``Pipe`` per worker,
  ``multiprocessing.Pool``'s ``map``, ``imap`` and ``apply_async``,
  ``ProcessPoolExecutor.map``, loky's executor (where installed),
  ``InterpreterPoolExecutor.map`` (where the interpreter has it) and a plain loop,
  interleaved in the same run (median of the paired ratios, target at most 1.05),
  and their spreads side by side: a second mode in gilbench's runs that the bare
  call's lack (``stats.second_mode``) fails the check even at an equal median;

plus the noise checks of a run (load average, frequency governor, turbo) and
the hypervisor's CPU steal during the check. Each result carries its 95%
interval (distribution-free, as a run's): a check is ok only when its whole
interval clears the bar, FAIL when its whole interval misses it, and "??" when
the interval straddles it (the machine was too noisy to tell). Exit codes: 0
every check ok, 1 a check failed, 3 none failed but one could not tell.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import multiprocessing.connection
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from gilbench.bench import stats
from gilbench.bench.analysis.noise import others_check
from gilbench.bench.machine import OthersCpu, collect_machine, cpu_steal_s, noise_checks
from gilbench.bench.results import usable_cpus_of
from gilbench.bench.runner import CellSpec, Precision, StoppingRule, measure_block
from gilbench.bench.runner.precision import stopping_half_width
from gilbench.bench.strategies import STRATEGIES, Deadline, children_ignore_ctrl_c
from gilbench.bench.strategies.base import JOIN_S
from gilbench.workloads import Task

EXIT_FAILED, EXIT_CANT_TELL = 1, 3
MIN_EFFICIENCY_SLEEP = 0.90
MIN_EFFICIENCY_CPU = 0.80
MAX_OVERHEAD = 1.05
SLEEP_MS = 20
CPU_SIZE = 24  # fib(24): about 5 ms of pure Python per task on a 2020s CPU
PRECISION = Precision(min_repeats=6, max_repeats=100, target=0.01, budget_s=6.0)


@dataclass(frozen=True)
class Check:
    name: str
    value: float | None
    ci95: tuple[float, float] | None
    want: str
    ok: bool | None  # None: too noisy to tell (its interval straddles the bar)
    detail: str

    def line(self) -> str:
        mark = {True: "ok", False: "FAIL", None: "??"}[self.ok]
        value = "" if self.value is None else f"{self.value:.3f}"
        if self.ci95:
            value += f" [{self.ci95[0]:.3f}–{self.ci95[1]:.3f}]"
        return f"  [{mark:>5}]  {self.name}: {value} {self.detail}".rstrip() + (
            f" (want {self.want})" if self.want else "")


def efficiency_check(name: str, workload: str, size: int, strategy: str, workers: int,
                     divide_by: int, bar: float, what: str, tasks: int,
                     precision: Precision = PRECISION) -> Check:
    """Speedup over serial (paired, adaptive) ÷ ``divide_by`` against ``bar``."""
    method = multiprocessing.get_start_method() if STRATEGIES[strategy].uses_processes else None
    spec = CellSpec(workload, strategy, method, workers, size, tasks)
    task = Task(workload, size)
    reference = [task(i) for i in range(tasks)]
    [(cell, _)] = measure_block([spec], task, reference, precision=precision, warmup=1,
                                timeout_s=120, serial=STRATEGIES["serial"]())
    if not cell.ok or cell.speedup is None:
        return Check(name, None, None, f"≥ {bar:.2f}", False, f"{cell.status}: {cell.error}")
    eff = cell.speedup / divide_by
    ci = (None if cell.speedup_ci95 is None else
          (cell.speedup_ci95[0] / divide_by, cell.speedup_ci95[1] / divide_by))
    return Check(name, eff, ci, f"≥ {bar:.2f}", verdict(ci, at_least=bar),
                 f"— speedup {cell.speedup:.2f}× {what}, n={len(cell.times_s)} pairs")


PROBE_PRECISION = Precision(min_repeats=6, max_repeats=40, target=0.02, budget_s=2.5)


def start_probe(usable: int) -> dict[str, Any] | None:
    """A few seconds of selfcheck's processes check, as a run starts: is this a noisy
    phase in which processes cannot use the CPUs? A noise check (None on 1 CPU)."""
    if usable < 2:
        return None
    c = efficiency_check("start-of-run probe: processes on pure-Python fib", "fib", CPU_SIZE,
                         "process_pipe", usable, usable, MIN_EFFICIENCY_CPU,
                         f"on {usable} usable CPUs", tasks=8 * usable,
                         precision=PROBE_PRECISION)
    value = "failed" if c.value is None else (
        f"{c.value:.2f}" + (f" [{c.ci95[0]:.2f}–{c.ci95[1]:.2f}]" if c.ci95 else "")
        + " of the CPUs")
    advice = {True: "", None: "processes could not be shown to use the CPUs: a noisy "
              "phase? `gilbench selfcheck` says more",
              False: "processes did not use the CPUs: the machine is in a noisy phase, or "
              "busy; its speedups will read low"}[c.ok]
    return {"check": c.name, "value": value, "ok": c.ok, "advice": advice}


def verdict(ci: tuple[float, float] | None, *, at_least: float | None = None,
            at_most: float | None = None) -> bool | None:
    """True when the whole 95% interval clears the bar, False when the whole
    interval misses it, None (can't tell) when it straddles the bar or there
    is no interval."""
    if ci is None:
        return None
    lo, hi = ci
    if at_least is not None:
        return True if lo >= at_least else (False if hi < at_least else None)
    if at_most is not None:
        return True if hi <= at_most else (False if lo > at_most else None)
    raise ValueError("verdict needs a bar")


def exit_code(checks: list[Check]) -> int:
    """0 every check ok, 1 a check failed, 3 none failed but one could not tell."""
    if any(c.ok is False for c in checks):
        return EXIT_FAILED
    if any(c.ok is None for c in checks):
        return EXIT_CANT_TELL
    return 0


def overhead_check(name: str, strategy: str, workers: int,
                   bare: Callable[[Task, list[int]], list[Any]]) -> Check:
    """gilbench's timed call against the bare standard-library one, interleaved."""
    task = Task("fib", CPU_SIZE)
    items = list(range(4 * workers))
    method = multiprocessing.get_start_method() if STRATEGIES[strategy].uses_processes else None
    ours: list[float] = []
    theirs: list[float] = []
    with STRATEGIES[strategy](workers, method) as strat:
        strat.start(Deadline(60))
        expected = [task(i) for i in items]
        # at least MODE_MIN_RUNS pairs, so that a second mode can be seen
        rule = StoppingRule(Precision(stats.MODE_MIN_RUNS, 400, target=0.005, budget_s=5.0))
        for _ in range(2):  # warm both
            strat.map(task, items, Deadline(60))
            bare(task, items)
        while True:
            pair = [("ours", lambda: strat.map(task, items, Deadline(60))),
                    ("bare", lambda: bare(task, items))]
            if len(ours) % 2:
                pair.reverse()
            for who, call in pair:
                t0 = time.perf_counter()
                out = call()
                (ours if who == "ours" else theirs).append(time.perf_counter() - t0)
                if out != expected:
                    return Check(name, None, None, f"≤ {MAX_OVERHEAD}", False,
                                 f"{who} returned wrong results")
            hw = stopping_half_width(ours, theirs)
            if rule.converged(len(ours), hw) or rule.out_of_time(len(ours)):
                early = rule.early(len(ours), hw)  # stopped on its data: not interpolated
                break
    ratio = stats.speedup(ours, theirs, paired=True)  # median of ours_i / bare_i
    ci = stats.speedup_ci(ours, theirs, paired=True, interpolated=not early)
    ok = verdict(ci, at_most=MAX_OVERHEAD)
    spread = spreads(ours, theirs)
    if spread.startswith("a second mode"):
        ok = False  # a second mode the bare call lacks is a failure even at an equal median
    return Check(name, ratio, ci, f"≤ {MAX_OVERHEAD}", ok,
                 f"— gilbench's time ÷ the bare call's (median of n={len(ours)} pairs); "
                 + spread)


def spreads(ours: list[float], theirs: list[float]) -> str:
    """The two sets of runs' spreads side by side (interquartile range ÷ median), and a
    second mode in gilbench's runs that the bare call's lack, which fails the check."""
    def iqr(xs: list[float]) -> float:
        return (stats.percentile(xs, 75) - stats.percentile(xs, 25)) / stats.median(xs)

    mine = stats.second_mode(ours)
    if mine is not None and stats.more_in_slow_mode(ours, theirs, mine):
        bare = sum(t > mine.cut for t in theirs) / len(theirs)
        return (f"a second mode: {mine.share:.0%} of gilbench's runs {mine.slower:.2f}× "
                f"slower than the rest, {bare:.0%} of the bare call's as slow")
    return f"spread (IQR ÷ median) {iqr(ours):.1%} against the bare call's {iqr(theirs):.1%}"


def bare_threads(task: Task, items: list[int], workers: int) -> list[Any]:
    """A threading.Thread per slice of the items, started and joined, as a user writes it."""
    size = -(-len(items) // workers)
    parts = [items[i:i + size] for i in range(0, len(items), size)]
    out: list[list[Any]] = [[] for _ in parts]

    def work(i: int) -> None:
        out[i] = [task(x) for x in parts[i]]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(parts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [x for part in out for x in part]


BARE_WAIT_S = 60.0  # a bare call's longest wait for a result: a dead worker fails, not hangs

Bare = Callable[[Task, list[int]], list[Any]]


def _bare_queue_worker(tasks: Any, results: Any) -> None:
    """A user's Process + Queue worker: (seq, fn, item) in, (seq, result) out, until None."""
    for seq, fn, item in iter(tasks.get, None):
        results.put((seq, fn(item)))


def _bare_pipe_worker(conn: Any) -> None:
    """A user's Process + Pipe worker: a slice in, its results out, until None."""
    for fn, items in iter(conn.recv, None):
        conn.send([fn(x) for x in items])


def _end(procs: list[Any]) -> None:
    for p in procs:
        p.join(JOIN_S)
    for p in procs:
        if p.is_alive():
            p.kill()
            p.join()


@contextlib.contextmanager
def bare_queue(ctx: Any, workers: int) -> Iterator[Bare]:
    """multiprocessing.Process workers fed and drained through two Queues, as a user
    writes it: every task put, every result got and put back in order."""
    tasks, results = ctx.Queue(), ctx.Queue()
    with children_ignore_ctrl_c():
        procs = [ctx.Process(target=_bare_queue_worker, args=(tasks, results), daemon=True)
                 for _ in range(workers)]
        for p in procs:
            p.start()

    def call(task: Task, items: list[int]) -> list[Any]:
        for seq, item in enumerate(items):
            tasks.put((seq, task, item))
        out: list[Any] = [None] * len(items)
        for _ in items:
            seq, value = results.get(timeout=BARE_WAIT_S)
            out[seq] = value
        return out

    try:
        yield call
    finally:
        for _ in procs:
            tasks.put(None)
        _end(procs)
        for q in (tasks, results):
            q.close()
            q.join_thread()


@contextlib.contextmanager
def bare_pipe(ctx: Any, workers: int) -> Iterator[Bare]:
    """A multiprocessing.Process per worker, each sent its slice over its own Pipe, as a
    user writes it: every slice sent, then every answer received in turn."""
    conns, procs = [], []
    with children_ignore_ctrl_c():
        for _ in range(workers):
            mine, theirs = ctx.Pipe()
            procs.append(ctx.Process(target=_bare_pipe_worker, args=(theirs,), daemon=True))
            procs[-1].start()
            theirs.close()
            conns.append(mine)

    def call(task: Task, items: list[int]) -> list[Any]:
        size = -(-len(items) // workers)
        parts = [items[i:i + size] for i in range(0, len(items), size)]
        for conn, part in zip(conns, parts, strict=False):
            conn.send((task, part))
        out: list[Any] = []
        for conn in conns[:len(parts)]:
            if not conn.poll(BARE_WAIT_S):
                raise TimeoutError(f"a bare Pipe worker sent nothing in {BARE_WAIT_S:g} s")
            out.extend(conn.recv())
        return out

    try:
        yield call
    finally:
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.send(None)
        _end(procs)
        for conn in conns:
            conn.close()


def interpreter_pool_check(usable: int) -> Check | None:
    """gilbench's interpreter_pool against InterpreterPoolExecutor.map, where this
    Python has one (3.14 on); None elsewhere."""
    if "interpreter_pool" not in STRATEGIES or not STRATEGIES["interpreter_pool"].available()[0]:
        return None
    executor = getattr(concurrent.futures, "InterpreterPoolExecutor", None)
    if executor is None:
        return None
    with executor(usable) as ipe:
        return overhead_check(
            "overhead of gilbench's interpreter_pool over InterpreterPoolExecutor.map",
            "interpreter_pool", usable, lambda t, xs: list(ipe.map(t, xs)))


def loky_check(usable: int) -> Check | None:
    """gilbench's loky against loky's own ProcessPoolExecutor.map, where loky is
    installed; None elsewhere."""
    if "loky" not in STRATEGIES or not STRATEGIES["loky"].available()[0]:
        return None
    import loky

    with children_ignore_ctrl_c():
        executor = loky.ProcessPoolExecutor(max_workers=usable, timeout=3600)
    try:
        return overhead_check("overhead of gilbench's loky over loky's ProcessPoolExecutor.map",
                              "loky", usable, lambda t, xs: list(executor.map(t, xs)))
    finally:
        executor.shutdown(wait=True)


def run_checks(usable: int) -> list[Check]:
    """Two physics checks, then gilbench's cell against the bare call for every family
    of strategy: the thread pool, threads, every process model (Process + Queue, Process
    + Pipe, Pool's map, imap and apply_async, ProcessPoolExecutor), loky and an
    interpreter pool where present, and the serial loop."""
    checks = []
    n = 4 * usable
    checks.append(efficiency_check(
        f"threads on sleep, {n} threads: efficiency", "sleep", SLEEP_MS, "threads", n, n,
        MIN_EFFICIENCY_SLEEP, f"with {n} threads", tasks=n))
    checks.append(efficiency_check(
        f"processes on pure-Python fib, {usable} workers: speedup ÷ usable CPUs", "fib",
        CPU_SIZE, "process_pipe", usable, usable, MIN_EFFICIENCY_CPU,
        f"on {usable} usable CPUs", tasks=8 * usable))  # 8 tasks each: the pool's own cost small
    ctx = multiprocessing.get_context()

    def over(strategy: str, bare_name: str, bare: Bare, workers: int = usable) -> None:
        checks.append(overhead_check(f"overhead of gilbench's {strategy} over {bare_name}",
                                     strategy, workers, bare))

    with concurrent.futures.ThreadPoolExecutor(usable) as tpe:
        over("thread_pool", "ThreadPoolExecutor.map", lambda t, xs: list(tpe.map(t, xs)))
    over("threads", "a threading.Thread per slice", lambda t, xs: bare_threads(t, xs, usable))
    with bare_queue(ctx, usable) as call:
        over("process_queue", "Process workers and two Queues", call)
    with bare_pipe(ctx, usable) as call:
        over("process_pipe", "a Process and a Pipe per worker", call)
    with children_ignore_ctrl_c():  # a plain Pool, as a user writes it, quiet on Ctrl-C
        plain_pool = ctx.Pool(usable)
    with plain_pool as pool:
        over("pool_map", "multiprocessing.Pool.map", lambda t, xs: pool.map(t, xs))
        over("pool_imap", "multiprocessing.Pool.imap", lambda t, xs: list(pool.imap(t, xs)))
        over("pool_apply_async", "multiprocessing.Pool.apply_async",
             lambda t, xs: [r.get(BARE_WAIT_S) for r in [pool.apply_async(t, (x,)) for x in xs]])
        pool.close()
        pool.join()
    with children_ignore_ctrl_c():
        ppe = concurrent.futures.ProcessPoolExecutor(usable, mp_context=ctx)
    with ppe:
        over("process_pool", "ProcessPoolExecutor.map", lambda t, xs: list(ppe.map(t, xs)))
    for extra in (loky_check(usable), interpreter_pool_check(usable)):
        if extra is not None:
            checks.append(extra)
    over("serial", "a plain loop", lambda t, xs: [t(x) for x in xs], workers=1)
    return checks


def selfcheck(print_line: Callable[[str], None] = print) -> dict[str, Any]:
    machine = collect_machine()
    usable = usable_cpus_of(machine)
    print_line(f"gilbench selfcheck: {usable} usable CPUs, {machine['cpu_model']}, Python "
               f"{machine['python_version']} (about a minute)")
    steal0 = cpu_steal_s()
    others = OthersCpu()
    checks = []
    for check in run_checks(usable):
        print_line(check.line())
        checks.append(check)
    noise = noise_checks(machine)
    steal1 = cpu_steal_s()
    if steal0 and steal1 and steal1[1] > steal0[1]:
        share = (steal1[0] - steal0[0]) / (steal1[1] - steal0[1])
        noise.append({"check": "CPU steal during the check", "value": f"{share:.1%}",
                      "ok": share < 0.02, "advice": "" if share < 0.02 else
                      "the hypervisor gave this VM's CPUs to other guests"})
    during = others_check(others.fraction())
    if during:
        noise.append({**during, "check": "other programs' CPU use during the check"})
    for n in noise:
        mark = {True: "ok", False: "noisy", None: "--"}[n["ok"]]
        print_line(f"  [{mark:>5}]  {n['check']}: {n['value']}"
                   + (f" — {n['advice']}" if n["advice"] else ""))
    failed = [c.name for c in checks if c.ok is False]
    unsure = [c.name for c in checks if c.ok is None]
    noisy = unsure + [n["check"] for n in noise if n["ok"] is False]
    if not failed and not noisy:
        text = (f"trustworthy: all {len(checks)} measurements agree with the physics and "
                   "nothing makes this machine noisy")
    elif not failed:
        text = (f"usable, but noisy: {len(checks) - len(unsure)} of {len(checks)} "
                   "measurements agree with the physics and none clearly disagrees; expect "
                   f"wider intervals and re-run this on a quieter machine ({'; '.join(noisy)})")
    else:
        text = (f"NOT trustworthy: {len(failed)} of {len(checks)} measurements disagree "
                   f"with the physics ({'; '.join(failed)})"
                   + (f"; noisy: {', '.join(noisy)}" if noisy else ""))
    print_line(f"Verdict: {text}.")
    return {"machine": machine, "checks": [asdict(c) for c in checks], "noise": noise,
            "verdict": text, "ok": not failed and not unsure,
            "exit_code": exit_code(checks)}
