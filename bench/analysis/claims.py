"""Findings: each claim of the seed article (and the GIL folklore it repeats),
the measurement of this run that tests it, and the verdict — holds, does not
hold, depends, or not measured (with the suite that would measure it).

Pure functions of a Results object. Each claim carries its rule, printed beside
its verdict; the rules use fixed, physical thresholds, never ones fitted to a
result. Speedup rules decide on 95% intervals of decisive cells (see
``cells.decisive``) and say "can't tell" when an interval straddles the bar. Cost
rules decide on the 95% intervals of the medians (and p99s) they compare
(``order``): one is slower than another only when the two intervals are apart by
more than the tie band (``TIE``), the same when both fit within it, else the rule
says "can't tell". A rule about running in parallel, or one whose control runs
two processes at once, needs two usable CPUs (a file that does not say how many:
"can't tell"); a missing or failed measurement is "not measured"; an explanation
is given only when the numbers agree with it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gilbench.bench.analysis.cells import GeoSpan, best_of_model, gil_on
from gilbench.bench.analysis.costs import nearest_payload, pick
from gilbench.bench.analysis.granularity import main_crossover
from gilbench.bench.analysis.granularity import workloads as granularity_workloads
from gilbench.bench.analysis.once import once
from gilbench.bench.analysis.verdicts import MORE_PRECISION, TIE_RATIO
from gilbench.bench.entries import Entry, IpcEntry, LatencyEntry, StartupEntry, SyncEntry
from gilbench.bench.fmt import fmt_bytes, fmt_s, fmt_speedup, fmt_x
from gilbench.bench.results import Results

HOLDS, FAILS, DEPENDS, UNMEASURED = "holds", "does not hold", "depends", "not measured"
CANT_TELL = "can't tell"
ONE_CPU = "cannot be tested on 1 CPU"
VERDICTS = (HOLDS, FAILS, DEPENDS, CANT_TELL, UNMEASURED, ONE_CPU)

# A speedup below this is "no real gain": less than a quarter of one more CPU's worth.
NO_GAIN = 1.25
ARTICLE = "article"
FOLKLORE = "GIL folklore"
TIE = TIE_RATIO  # two costs within 5% of each other are the same cost
NO_INTERVAL = ("the file has no 95% intervals for these costs (measured before gilbench "
               "kept them, or too few repeats): run the suite again to decide")

SLOWER, FASTER, SAME, UNSURE = "slower", "faster", "the same", "unsure"


Interval = tuple[float, float | None]  # a cost's 95% interval (a p99's may lack its top)


def order(a: Interval | None, b: Interval | None) -> str:
    """How cost ``a`` stands to cost ``b``, from their 95% intervals: SLOWER when a's
    whole interval is above b's by more than the tie band, FASTER when below it by more,
    SAME when both fit within the band of each other, else UNSURE (no interval, or an
    end missing where it is needed: UNSURE)."""
    if a is None or b is None:
        return UNSURE
    a = (a[0], math.inf if a[1] is None else a[1])  # a missing top: it could be anything
    b = (b[0], math.inf if b[1] is None else b[1])
    if a[0] > b[1] * TIE:
        return SLOWER
    if a[1] * TIE < b[0]:
        return FASTER
    if a[1] <= b[0] * TIE and b[1] <= a[0] * TIE:
        return SAME
    return UNSURE


def against_bar(ci: Interval | None, bar: float) -> str:
    """A cost's 95% interval against a fixed bar: SLOWER (wholly at or above it), FASTER
    (wholly below), else UNSURE (a missing upper end cannot show it below)."""
    if ci is None:
        return UNSURE
    return SLOWER if ci[0] >= bar else FASTER if ci[1] is not None and ci[1] < bar \
        else UNSURE


def every(outcomes: Sequence[str], yes: str) -> str:
    """A claim that every comparison comes out ``yes``: HOLDS when each surely does;
    FAILS when each surely does not; DEPENDS when some surely do and some surely do
    not; else CANT_TELL (then no unsure comparison could change "depends" either)."""
    sure_yes = [o == yes for o in outcomes if o != UNSURE]
    if len(sure_yes) == len(outcomes) and all(sure_yes):
        return HOLDS
    if len(sure_yes) == len(outcomes) and not any(sure_yes):
        return FAILS
    if any(sure_yes) and not all(sure_yes):
        return DEPENDS
    return CANT_TELL


def parallel_control(results: Results, what: str) -> tuple[str, str] | None:
    """The precondition of a rule whose control runs two processes at once: a verdict
    that says why it cannot decide, or None when the run had two usable CPUs."""
    usable = results.usable_cpus
    if usable == 1:
        return ONE_CPU, (f"{what}: with one usable CPU the two processes of the control "
                         "take turns on it, so they cannot show the difference.")
    if usable <= 0:
        return CANT_TELL, (f"{what}: the file does not say how many CPUs were usable, and "
                           "the control needs two.")
    return None


def _ci(e: Entry, p99: bool = False) -> Interval | None:
    return e.p99_ci95_s if p99 else e.median_ci95_s


def fmt_cost(e: Entry, p99: bool = False) -> str:
    """A cost with its 95% interval: ``32.1 µs [31.0 µs–33.4 µs]``."""
    value, ci = (e.p99_s, e.p99_ci95_s) if p99 else (e.median_s, e.median_ci95_s)
    if ci is None:
        return fmt_s(value) + " [no interval]"
    return fmt_s(value) + f" [{fmt_s(ci[0])}–{fmt_s(ci[1]) if ci[1] is not None else '?'}]"


@dataclass(frozen=True)
class Finding:
    claim: str
    source: str  # ARTICLE (with its words) or FOLKLORE
    quote: str  # the article's words (Chinese), or "" for folklore
    verdict: str
    evidence: str
    rule: str = ""


def _unmeasured(suite: str) -> tuple[str, str]:
    return UNMEASURED, f"run `gilbench run --suite {suite}` to measure it"


@dataclass(frozen=True)
class _Gains(GeoSpan):
    """The best decisive cell of one model per workload of some kinds."""

    def __bool__(self) -> bool:
        return bool(self.cells)

    def text(self) -> str:
        each = ", ".join(f"{c.workload} {fmt_speedup(c.speedup, c.speedup_ci95, len(c.times_s))}"
                         for c in self.cells)
        if not self.bounded:
            return (f"{each} (geometric mean {fmt_x(self.point)}; too few pairs for a "
                    "joint interval)")
        return (f"{each} (geometric mean {fmt_x(self.point)}, "
                f"[{self.low:.2f}–{self.high:.2f}] jointly)")

    def against(self, bar: float) -> str:
        """HOLDS when the whole range is at or above the bar, FAILS when it is wholly
        below it, CANT_TELL when it straddles it."""
        return HOLDS if self.low >= bar else FAILS if self.high < bar else CANT_TELL


def _gains(results: Results, kinds: Sequence[str], model: str) -> _Gains:
    out = []
    for w in results.workloads():
        cells = results.cells_of(w)
        if cells and cells[0].kind in kinds:
            best = best_of_model(results, w, model)
            if best is not None:
                out.append(best)
    return _Gains(tuple(out))


def _unmeasured_speedup(results: Results, kinds: Sequence[str], model: str) -> tuple[str, str]:
    ran = any(c.kind in kinds and c.model == model for c in results.cells)
    if not ran:
        return _unmeasured("speedup")
    return UNMEASURED, (f"no {model} cell on this work can decide (an ok cell with a 95% "
                        f"interval, within what the CPUs allow); {MORE_PRECISION}")


def threads_on_cpu(results: Results) -> tuple[str, str]:
    threads = _gains(results, ("cpu",), "threads")
    if not threads:
        return _unmeasured_speedup(results, ("cpu",), "threads")
    usable = results.usable_cpus
    text = f"best thread speedup on pure-Python CPU work: {threads.text()}"
    if usable == 1:
        return ONE_CPU, text + "; with one usable CPU no strategy can run it in parallel."
    if usable <= 0:
        return CANT_TELL, text + ("; the file does not say how many CPUs were usable, and "
                                  "the rule needs two.")
    procs = _gains(results, ("cpu",), "processes")
    if not procs:
        return CANT_TELL, text + ("; without a precise process measurement on the same work "
                                  "there is no evidence the CPUs could do better.")
    text += f"; processes on the same work: {procs.text()}"
    gained = threads.against(NO_GAIN)
    gil = gil_on(results)
    if gained == FAILS and procs.against(NO_GAIN) == HOLDS:
        return HOLDS, text + (". Processes gain where threads do not: the GIL lets one "
                              "thread run Python bytecode at a time." if gil else
                              ". Processes gain where threads do not, although this "
                              "interpreter ran without a GIL: something else serialised the "
                              "threads here.")
    if gained == HOLDS:
        return FAILS, text + ("." if gil else ": this interpreter ran without a GIL "
                              "(free-threaded), so its threads ran Python bytecode in "
                              "parallel.")
    if gained == FAILS:
        return CANT_TELL, text + (": processes did not surely gain either, so this machine "
                                  "showed no parallelism for threads to miss.")
    return CANT_TELL, text + "."


def threads_in_general(results: Results) -> tuple[str, str]:
    usable = results.usable_cpus
    # Overlapping waits needs no second CPU; running native code in parallel does.
    kinds = ("io",) if usable == 1 else ("io", "native")
    gains = _gains(results, kinds, "threads")
    if not gains:
        return _unmeasured_speedup(results, kinds, "threads")
    text = f"threads on {' and '.join(kinds)} work: {gains.text()}"
    if usable == 1:
        text += " (native work left out: it needs a second CPU)"
    verdict = gains.against(NO_GAIN)
    if verdict == HOLDS:  # threads gained: the folklore does not hold
        return FAILS, text + (": the GIL is released while waiting and in such native code."
                              if gil_on(results) else ": this interpreter ran without a GIL.")
    if verdict == FAILS:
        return HOLDS, text + "."
    return CANT_TELL, text + "."


def processes_use_cores(results: Results) -> tuple[str, str]:
    procs = _gains(results, ("cpu",), "processes")
    if not procs:
        return _unmeasured_speedup(results, ("cpu",), "processes")
    usable = results.usable_cpus
    text = (f"best process speedup on pure-Python CPU work: {procs.text()} on "
            f"{usable or 'an unknown number of'} usable CPU{'s' if usable != 1 else ''}")
    if usable == 1:
        return ONE_CPU, text + "; with one usable CPU nothing can run in parallel."
    if usable <= 0:
        return CANT_TELL, text + "; the rule needs two usable CPUs, and the file does not say."
    linear = f" ({procs.point / usable:.0%} of linear)" if usable else ""
    return procs.against(NO_GAIN), text + linear + "."


def zombies(results: Results) -> tuple[str, str]:
    entries = results.entries_of(StartupEntry)
    z = pick(entries, what="zombie")
    if z is None:
        return _unmeasured("startup")
    clean = pick(entries, what="no_zombies")
    text = z.detail or ""
    if clean is not None:
        text += (f". gilbench's own strategies: {clean.detail}"
                 if clean.observed else f". gilbench LEFT ZOMBIES: {clean.detail}")
    return (HOLDS if z.observed else FAILS), text + "."


def pipe_queue_vs_primitives(results: Results) -> tuple[str, str]:
    """Holds if every primitive is surely slower than both Pipe and Queue; fails if every
    one is surely not (faster than both, or the same as one); depends when some surely
    are and some surely are not; else can't tell."""
    entries = results.entries_of(SyncEntry)
    found = {n: pick(entries, mechanism=n, model="processes") for n in ("pipe", "queue")}
    carriers = {n: e for n, e in found.items() if e is not None}
    prims = {n: pick(entries, mechanism=n, model="processes")
             for n in ("lock", "event", "semaphore", "condition")}
    if len(carriers) < len(found) or not any(prims.values()):
        return _unmeasured("sync")
    got = {n: e for n, e in prims.items() if e is not None}
    each = {n: [order(_ci(e), _ci(c)) for c in carriers.values()] for n, e in got.items()}
    slower = [n for n, o in each.items() if all(x == SLOWER for x in o)]
    faster = [n for n, o in each.items() if all(x == FASTER for x in o)]
    unsure = [n for n, o in each.items() if UNSURE in o]
    # A primitive is surely "slower than both" or surely not (one comparison surely not).
    per = [SLOWER if n in slower else UNSURE if all(x in (SLOWER, UNSURE) for x in o)
           else FASTER for n, o in each.items()]
    verdict = every(per, SLOWER)
    text = ("round trip between two processes (median, 95% interval): " + ", ".join(
        f"{n} {fmt_cost(e)}" for n, e in got.items()) + " vs " + ", ".join(
        f"{n} {fmt_cost(e)}" for n, e in carriers.items())
        + ". Surely faster than both Pipe and Queue: " + (", ".join(faster) or "none")
        + "; surely slower than both: " + (", ".join(slower) or "none")
        + (f"; not apart at this precision: {', '.join(unsure)}" if unsure else "") + ".")
    if any(_ci(e) is None for e in (*got.values(), *carriers.values())):
        text += " " + NO_INTERVAL + "."
    if faster and any(n in ("lock", "semaphore") for n in faster):
        text += (" On Linux a Lock or Semaphore is a futex-backed POSIX semaphore, not a "
                 "costly kernel object.")
    return verdict, text


def sharing_costs(results: Results) -> tuple[str, str]:
    """Holds if shared memory and Manager are both surely slower than a Pipe at every
    payload compared; fails if each surely is not; depends when some surely are and some
    surely are not; else can't tell."""
    entries = results.entries_of(IpcEntry)
    sizes = sorted({s for s in (nearest_payload(results, 64), nearest_payload(results, 2**20))
                    if s})
    if not sizes:
        return _unmeasured("ipc")
    parts, outcomes = [], []
    for size in sizes:
        pipe = pick(entries, transport="pipe", payload_bytes=size)
        if pipe is None:
            continue
        for name in ("shared_memory", "manager"):
            e = pick(entries, transport=name, payload_bytes=size)
            if e is None:
                continue
            o = order(_ci(e), _ci(pipe))
            outcomes.append(SLOWER if o == SLOWER else UNSURE if o == UNSURE else FASTER)
            r = e.median_value / pipe.median_value
            parts.append(f"{name} at {fmt_bytes(size)}: {fmt_cost(e)} per round trip, "
                         + (f"{r:.1f}× slower than a Pipe's {fmt_cost(pipe)}" if r > 1 else
                            f"{1 / r:.1f}× faster than a Pipe's {fmt_cost(pipe)}")
                         + ("" if o != UNSURE else " (not apart at this precision)")
                         + (" (the same within 5%)" if o == SAME else ""))
    if not outcomes:
        return _unmeasured("ipc")
    return every(outcomes, SLOWER), "; ".join(parts) + "."


def apply_async_fast(results: Results) -> tuple[str, str]:
    e = pick(results.entries_of(SyncEntry), mechanism="apply_async", model="processes")
    if e is None:
        return _unmeasured("sync")
    margin = 1.0 / e.p99_value
    text = (f"Pool.apply_async(f, (10,)).get(): median {fmt_cost(e)}, p99 "
            f"{fmt_cost(e, p99=True)} over {e.round_trips} calls: {margin:,.0f}× inside the "
            "1 s timeout at the 99th percentile")
    ci = _ci(e, p99=True)
    side = against_bar(ci, 1.0)
    if side == UNSURE:
        return CANT_TELL, text + (f" — {NO_INTERVAL}." if ci is None or ci[1] is None else
                                  ", but its interval reaches the timeout.")
    return (HOLDS if side == FASTER else FAILS), text + "."


def get_timeout_raises(results: Results) -> tuple[str, str]:
    e = pick(results.entries_of(StartupEntry), what="get_timeout")
    if e is None:
        return _unmeasured("startup")
    return (HOLDS if e.observed else FAILS), (e.detail or "") + "."


def gil_latency(results: Results) -> tuple[str, str]:
    """Holds if CPU-bound threads push the responder's p99 past the switch interval while
    the same number of CPU-bound processes do not."""
    entries = [e for e in results.entries_of(LatencyEntry) if e.ok and isinstance(e, LatencyEntry)]
    if not entries:
        return _unmeasured("latency")
    procs = [e for e in entries if e.model == "processes"]
    si = procs[0].switch_interval_s if procs else max(e.switch_interval_s for e in entries)
    at = [e for e in entries if e.switch_interval_s == si]
    idle = next((e for e in at if e.cpu_workers == 0), None)
    n = max(e.cpu_workers for e in at)
    thr = next((e for e in at if e.model == "threads" and e.cpu_workers == n), None)
    prc = next((e for e in at if e.model == "processes" and e.cpu_workers == n), None)
    if thr is None or prc is None or n == 0:
        return _unmeasured("latency")
    text = (f"responder p99 (95% interval) with no CPU load "
            f"{fmt_cost(idle, p99=True) if idle else fmt_s(None)}; with {n} "
            f"CPU-bound threads {fmt_cost(thr, p99=True)}")
    text += f"; with {n} CPU-bound processes {fmt_cost(prc, p99=True)}"
    text += f" (switch interval {fmt_s(si)})"
    others = sorted((e for e in entries if e.model == "threads" and e.cpu_workers == n
                     and e.switch_interval_s != si), key=lambda e: e.switch_interval_s)
    if others:
        text += "; other switch intervals: " + ", ".join(
            f"{fmt_s(e.switch_interval_s)} → p99 {fmt_s(e.p99_s)}" for e in others)
    precondition = parallel_control(results, text)
    if precondition:
        return precondition
    t, q = against_bar(_ci(thr, p99=True), si), against_bar(_ci(prc, p99=True), si)
    if t == SLOWER and q == FASTER:
        return HOLDS, text + "."
    if t == FASTER or q == SLOWER:
        return FAILS, text + "."
    p_ci = _ci(prc, p99=True)
    missing = _ci(thr, p99=True) is None or p_ci is None or p_ci[1] is None
    return CANT_TELL, text + (f" — {NO_INTERVAL} (a p99's upper end needs about 370 pings)."
                              if missing else ": an interval reaches the switch interval.")


def process_start_cost(results: Results) -> tuple[str, str]:
    entries = results.entries_of(StartupEntry)
    thread = pick(entries, what="start_join", model="threads")
    procs = [e for e in entries if e.ok and isinstance(e, StartupEntry)
             and e.what == "start_join" and e.model == "processes"]
    if thread is None or not procs:
        return _unmeasured("startup")
    text = f"start + join (median, 95% interval): thread {fmt_cost(thread)}; " + ", ".join(
        f"{e.method} {fmt_cost(e)} ({e.median_value / thread.median_value:,.0f}×)"
        for e in procs)
    pool = [e for e in entries if e.ok and isinstance(e, StartupEntry) and e.what == "pool"
            and e.model == "processes" and e.pss_bytes]
    if pool:
        text += "; memory per process worker (PSS): " + ", ".join(
            f"{e.method} {fmt_bytes(e.pss_bytes)}" for e in pool)
    verdict = every([order(_ci(e), _ci(thread)) for e in procs], SLOWER)
    if verdict == CANT_TELL and any(_ci(e) is None for e in (thread, *procs)):
        text += " — " + NO_INTERVAL
    return verdict, text + "."


def threads_share_cheaply(results: Results) -> tuple[str, str]:
    """Holds if queue.Queue between threads is surely faster than every process transport
    at both a small and a large payload; fails if at both some process transport is
    surely faster or the same; depends when the two sizes surely differ; else can't
    tell."""
    entries = [e for e in results.entries_of(IpcEntry) if e.ok and isinstance(e, IpcEntry)]
    parts, outcomes = [], []
    for size in sorted({s for s in (nearest_payload(results, 64),
                                    nearest_payload(results, 2**20)) if s}):
        tq = pick(entries, transport="thread_queue", payload_bytes=size)
        procs = [e for e in entries if e.model == "processes" and e.payload_bytes == size
                 and e.round_trips]
        if tq is None or not procs:
            continue
        each = [order(_ci(tq), _ci(e)) for e in procs]
        outcomes.append(FASTER if all(o == FASTER for o in each) else
                        SLOWER if any(o in (SLOWER, SAME) for o in each) else UNSURE)
        best = min(procs, key=lambda e: e.median_value)
        r = best.median_value / tq.median_value
        parts.append(f"at {fmt_bytes(size)} a round trip through queue.Queue between threads "
                     f"takes {fmt_cost(tq)}, through the fastest process transport "
                     f"({best.transport}) {fmt_cost(best)} ({r:.2g}×)")
    if not outcomes:
        return _unmeasured("ipc")
    verdict = every(outcomes, FASTER)
    text = "; ".join(parts) + "."
    if verdict == HOLDS:
        text += " A thread hands over a reference, a process a copy."
    elif verdict == DEPENDS:
        text += (" For small messages the cost is waking the other side, which a thread "
                 "pays in GIL hand-offs too.")
    elif verdict == CANT_TELL:
        text += " Not apart at this precision" + (
            f" ({NO_INTERVAL})." if any(_ci(e) is None for e in entries) else ".")
    return verdict, text


def busy_wait_handover(results: Results) -> tuple[str, str]:
    e = pick(results.entries_of(SyncEntry), mechanism="raw_value", model="threads")
    p = pick(results.entries_of(SyncEntry), mechanism="raw_value", model="processes")
    if e is None or p is None:
        return _unmeasured("sync")
    text = (f"two threads spinning on a shared variable hand over in {fmt_cost(e)} per "
            f"round trip; two processes spinning on shared memory: {fmt_cost(p)}")
    precondition = parallel_control(results, text)
    if precondition:
        return precondition
    o = order(_ci(e), _ci(p))
    if o == SLOWER:
        return HOLDS, text + (" — a thread that never blocks keeps the GIL until the "
                              "interpreter forces a switch." if gil_on(results) else ".")
    if o in (FASTER, SAME):
        return FAILS, text + "."
    return CANT_TELL, text + (f" — {NO_INTERVAL}." if _ci(e) is None or _ci(p) is None
                              else ": not apart at this precision.")


def processes_pay_from(results: Results) -> tuple[str, str]:
    """From which task size processes beat threads on pure-Python work (the granularity
    sweep's crossovers, decided from its joint intervals)."""
    names = [w for w in granularity_workloads(results)
             if next(c.kind for c in results.cells if c.workload == w) == "cpu"]
    if not names:
        return _unmeasured("granularity --workloads fib")
    usable = results.usable_cpus
    if usable == 1:
        return ONE_CPU, "with one usable CPU processes cannot beat threads at any task size."
    found = [(w, main_crossover(results, w)) for w in names]
    said = "; ".join(f"{w}: {c.claim} {c.text()}" for w, c in found)
    statuses = {c.status for _, c in found}
    if statuses == {"crosses"}:
        ests = [c.estimate for _, c in found if c.estimate is not None]
        mean = math.exp(sum(map(math.log, ests)) / len(ests))
        return HOLDS, (f"Processes pay from tasks of about {fmt_s(mean)} on this machine "
                       f"({said}).")
    if statuses <= {"always", "never"}:
        return FAILS, (f"no crossover within the sizes measured: {said}.")
    return CANT_TELL, f"{said}."


CLAIMS: list[tuple[str, str, str, Callable[[Results], tuple[str, str]]]] = [
    ("Threads do not make CPU-bound pure Python faster: the GIL lets one thread run "
     "Python bytecode at a time.", ARTICLE,
     "python的multithreading效率并不高。据说是受制于GIL…该锁只能工作于单个cpu core",
     threads_on_cpu),
    ("Multithreading is inefficient in Python, whatever the work.", FOLKLORE, "",
     threads_in_general),
    ("multiprocessing uses several CPU cores: it is built for multi-core CPUs.", ARTICLE,
     "支持多个cpu core,简直就是为了多核cpu打造的", processes_use_cores),
    ("A child process that ended must be waited for (join), or it stays a zombie; threads "
     "need no such care.", ARTICLE,
     "当某个进程终结之后,该进程需要被其父进程调用wait,否则进程成为僵尸进程", zombies),
    ("Pipe and Queue are the efficient way to communicate; avoid Lock/Event/Semaphore/"
     "Condition.", ARTICLE,
     "应优先考虑Pipe和Queue,避免使用Lock/Event/Semaphore/Condition等同步方式",
     pipe_queue_vs_primitives),
    ("Shared memory and Manager make a program slower (synchronisation).", ARTICLE,
     "共享内存和Manager…因为同步的需要而降低了程序的效率", sharing_costs),
    ("Threads share data easily; processes must copy it.", ARTICLE,
     "在多线程中,我们可以比较容易地共享资源", threads_share_cheaply),
    ("apply_async(f, (10,)).get(timeout=1) returns unless the computer is very slow.", ARTICLE,
     'print result.get(timeout=1)  # prints "100" unless your computer is *very* slow',
     apply_async_fast),
    ("apply_async(time.sleep, (10,)).get(timeout=1) raises TimeoutError.", ARTICLE,
     "result.get(timeout=1)  # raises TimeoutError", get_timeout_raises),
    ("Starting a process costs far more than starting a thread.", FOLKLORE, "",
     process_start_cost),
    ("A CPU-bound thread makes the other threads of its process slow to respond.", FOLKLORE,
     "", gil_latency),
    ("Busy-waiting threads hand over slowly: the GIL only switches on a timer.", FOLKLORE, "",
     busy_wait_handover),
    ("Processes pay only for tasks big enough: below some task size, what a process pays "
     "per task (pickling, a pipe) outweighs the other cores.", FOLKLORE, "",
     processes_pay_from),
]


G = f"{NO_GAIN:.2f}×"
RULES: dict[Callable[[Results], tuple[str, str]], str] = {
    threads_on_cpu: (f"needs 2+ usable CPUs; holds when the best threads' interval is wholly "
                     f"below {G} while processes' is wholly at or above it on the same work; "
                     f"does not hold when threads' is wholly at or above {G}"),
    threads_in_general: (f"does not hold when threads' interval on IO (and, with 2+ CPUs, "
                         f"native) work is wholly at or above {G}; holds when wholly below"),
    processes_use_cores: (f"needs 2+ usable CPUs; holds when the best processes' interval "
                          f"on pure-Python CPU work is wholly at or above {G}; does not hold "
                          "when wholly below"),
    zombies: "holds when an exited, unjoined child is seen as a zombie and join() reaps it",
    pipe_queue_vs_primitives: ("holds when every primitive's round trip is surely slower "
                               "than both Pipe's and Queue's; does not hold when every one "
                               "surely is not; depends when some surely are and some surely "
                               "are not; else can't tell"),
    sharing_costs: ("holds when shared memory and Manager are surely slower than a Pipe at "
                    "every payload compared; does not hold when surely not at every one; "
                    "depends when they surely differ; else can't tell"),
    threads_share_cheaply: ("holds when queue.Queue between threads surely beats every "
                            "process transport at a small and a large payload; does not hold "
                            "when some transport surely matches or beats it at both; depends "
                            "when the sizes surely differ; else can't tell"),
    apply_async_fast: ("holds when the 95% interval of the 99th percentile of "
                       "apply_async().get() is wholly under 1 s; does not hold when wholly "
                       "above; else can't tell"),
    get_timeout_raises: "holds when get(timeout) on a longer task raised TimeoutError",
    process_start_cost: ("holds when starting and joining a process is surely slower than "
                         "a thread under every start method; does not hold when surely not "
                         "under any; else depends or can't tell"),
    gil_latency: ("needs 2+ usable CPUs; holds when the p99 interval of the responder under "
                  "CPU-bound threads is wholly past the switch interval while under as many "
                  "CPU-bound processes it is wholly below it; does not hold when either is "
                  "wholly on the other side; else can't tell"),
    processes_pay_from: ("needs the granularity suite on pure-Python work and 2+ usable CPUs; "
                         "holds when, on every such workload, processes surely beat threads "
                         "from some task size on and not surely at the smallest (its "
                         "crossover: joint intervals over the curves, see Granularity); "
                         "does not hold when they surely win at every size or at none; else "
                         "can't tell"),
    busy_wait_handover: ("needs 2+ usable CPUs; holds when spinning threads surely hand over "
                         "more slowly than spinning processes; does not hold when surely as "
                         "fast or faster; else can't tell"),
}
# Every cost rule compares 95% intervals, with this band for "the same".
COST_RULE_NOTE = (f"intervals are distribution-free 95% intervals of the medians (and "
                  f"p99s); two costs within {TIE - 1:.0%} of each other are the same")


def findings(results: Results) -> list[Finding]:
    """The article's claims, each decided on this run (computed once per run)."""
    return list(once(results, "findings", lambda: tuple(_findings(results))))


def _findings(results: Results) -> list[Finding]:
    out = []
    for claim, source, quote, test in CLAIMS:
        verdict, evidence = test(results)
        out.append(Finding(claim, source, quote, verdict, evidence, RULES[test]))
    return out
