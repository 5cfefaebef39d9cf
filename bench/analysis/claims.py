"""Findings: each claim of the seed article (and the GIL folklore it repeats),
the measurement of this run that tests it, and the verdict — holds, does not
hold, depends, or not measured (with the suite that would measure it).

Pure functions of a Results object. The verdict rules are stated next to
each claim and use fixed, physical thresholds, never ones fitted to a result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench import stats
from bench.analysis.cells import best_of_model
from bench.analysis.costs import nearest_payload, pick
from bench.fmt import fmt_bytes, fmt_s
from bench.results import Results
from bench.suites.entries import IpcEntry, LatencyEntry, StartupEntry, SyncEntry

HOLDS, FAILS, DEPENDS, UNMEASURED = "holds", "does not hold", "depends", "not measured"

# A speedup below this is "no real gain": less than a quarter of one more CPU's worth.
NO_GAIN = 1.25
ARTICLE = "article"
FOLKLORE = "GIL folklore"


@dataclass(frozen=True)
class Finding:
    claim: str
    source: str  # ARTICLE (with its words) or FOLKLORE
    quote: str  # the article's words (Chinese), or "" for folklore
    verdict: str
    evidence: str


def _unmeasured(suite: str) -> tuple[str, str]:
    return UNMEASURED, f"run `gilbench run --suite {suite}` to measure it"


def _best_speedups(results: Results, kinds: Sequence[str], model: str) -> dict[str, float]:
    out = {}
    for w in results.workloads():
        cells = results.cells_of(w)
        if cells and cells[0].kind in kinds:
            best = best_of_model(results, w, model)
            if best is not None and best.speedup is not None:
                out[w] = best.speedup
    return out


def _listing(values: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}×" for k, v in values.items())


def threads_on_cpu(results: Results) -> tuple[str, str]:
    """Holds when the best thread speedup on pure-Python CPU work stays under NO_GAIN."""
    threads = _best_speedups(results, ("cpu",), "threads")
    procs = _best_speedups(results, ("cpu",), "processes")
    if not threads:
        return _unmeasured("speedup")
    g = stats.geometric_mean(list(threads.values()))
    text = (f"best thread speedup on pure-Python CPU work: {_listing(threads)} (geometric "
            f"mean {g:.2f}×)")
    if procs:
        text += f"; processes on the same work: {stats.geometric_mean(list(procs.values())):.2f}×"
    return (HOLDS if g < NO_GAIN else FAILS), text + "."


def threads_in_general(results: Results) -> tuple[str, str]:
    """The general form fails when threads gain on IO or GIL-releasing native code."""
    gains = _best_speedups(results, ("io", "native"), "threads")
    if not gains:
        return _unmeasured("speedup")
    g = stats.geometric_mean(list(gains.values()))
    verdict = FAILS if g >= NO_GAIN else HOLDS
    return verdict, (f"threads on IO and GIL-releasing native work: {_listing(gains)} "
                     f"(geometric mean {g:.2f}×): the GIL is released while waiting and in "
                     "such native code.")


def processes_use_cores(results: Results) -> tuple[str, str]:
    procs = _best_speedups(results, ("cpu",), "processes")
    if not procs:
        return _unmeasured("speedup")
    usable = int(results.machine.get("usable_cpus") or 1)
    g = stats.geometric_mean(list(procs.values()))
    text = (f"best process speedup on pure-Python CPU work: {_listing(procs)} (geometric mean "
            f"{g:.2f}× on {usable} usable CPUs, {g / usable:.0%} of linear)")
    if usable < 2:
        return DEPENDS, text + "; with one usable CPU nothing can run in parallel."
    return (HOLDS if g >= NO_GAIN else FAILS), text + "."


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
    """Holds if every primitive is slower than both Pipe and Queue; fails if every one is
    faster than both; otherwise depends."""
    entries = results.entries_of(SyncEntry)
    found = {n: pick(entries, mechanism=n, model="processes") for n in ("pipe", "queue")}
    carriers = {n: e for n, e in found.items() if e is not None}
    prims = {n: pick(entries, mechanism=n, model="processes")
             for n in ("lock", "event", "semaphore", "condition")}
    if len(carriers) < len(found) or not any(prims.values()):
        return _unmeasured("sync")
    fast = min(e.median_value for e in carriers.values())
    slow = max(e.median_value for e in carriers.values())
    got = {n: e.median_value for n, e in prims.items() if e is not None}
    slower = [n for n, t in got.items() if t > slow]
    faster = [n for n, t in got.items() if t < fast]
    verdict = HOLDS if len(slower) == len(got) else FAILS if len(faster) == len(got) else DEPENDS
    text = ("round trip between two processes: " + ", ".join(
        f"{n} {fmt_s(t)}" for n, t in got.items()) + " vs " + ", ".join(
        f"{n} {fmt_s(e.median_value)}" for n, e in carriers.items())
        + ". Faster than both Pipe and Queue: " + (", ".join(faster) or "none")
        + "; slower than both: " + (", ".join(slower) or "none")
        + ". On Linux a Lock or Semaphore is a futex-backed POSIX semaphore, not a costly "
          "kernel object.")
    return verdict, text


def sharing_costs(results: Results) -> tuple[str, str]:
    """Holds if shared memory and Manager are both slower than a Pipe at every payload
    compared; fails if both are faster at every one; otherwise depends."""
    entries = results.entries_of(IpcEntry)
    sizes = sorted({s for s in (nearest_payload(results, 64), nearest_payload(results, 2**20))
                    if s})
    if not sizes:
        return _unmeasured("ipc")
    parts, ratios = [], []
    for size in sizes:
        pipe = pick(entries, transport="pipe", payload_bytes=size)
        if pipe is None:
            continue
        for name in ("shared_memory", "manager"):
            e = pick(entries, transport=name, payload_bytes=size)
            if e is None:
                continue
            r = e.median_value / pipe.median_value
            ratios.append(r)
            parts.append(f"{name} at {fmt_bytes(size)}: {fmt_s(e.median_s)} per round trip, "
                         + (f"{r:.1f}× slower than a Pipe" if r > 1 else
                            f"{1 / r:.1f}× faster than a Pipe"))
    if not ratios:
        return _unmeasured("ipc")
    verdict = HOLDS if all(r > 1 for r in ratios) else FAILS if all(r < 1 for r in ratios) \
        else DEPENDS
    return verdict, "; ".join(parts) + "."


def apply_async_fast(results: Results) -> tuple[str, str]:
    e = pick(results.entries_of(SyncEntry), mechanism="apply_async", model="processes")
    if e is None:
        return _unmeasured("sync")
    margin = 1.0 / e.p99_value
    return ((HOLDS if e.p99_value < 1.0 else FAILS),
            f"Pool.apply_async(f, (10,)).get(): median {fmt_s(e.median_s)}, p99 "
            f"{fmt_s(e.p99_s)} over {e.round_trips} calls: {margin:,.0f}× inside the 1 s "
            "timeout at the 99th percentile.")


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
    if thr is None or n == 0:
        return _unmeasured("latency")
    text = (f"responder p99 with no CPU load {fmt_s(idle.p99_s if idle else None)}; with {n} "
            f"CPU-bound threads {fmt_s(thr.p99_s)}")
    if prc:
        text += f"; with {n} CPU-bound processes {fmt_s(prc.p99_s)}"
    text += f" (switch interval {fmt_s(si)})"
    others = sorted((e for e in entries if e.model == "threads" and e.cpu_workers == n
                     and e.switch_interval_s != si), key=lambda e: e.switch_interval_s)
    if others:
        text += "; other switch intervals: " + ", ".join(
            f"{fmt_s(e.switch_interval_s)} → p99 {fmt_s(e.p99_s)}" for e in others)
    holds = thr.p99_value >= si and (prc is None or prc.p99_value < si)
    return (HOLDS if holds else FAILS), text + "."


def process_start_cost(results: Results) -> tuple[str, str]:
    entries = results.entries_of(StartupEntry)
    thread = pick(entries, what="start_join", model="threads")
    procs = [e for e in entries if e.ok and isinstance(e, StartupEntry)
             and e.what == "start_join" and e.model == "processes"]
    if thread is None or not procs:
        return _unmeasured("startup")
    text = f"start + join: thread {fmt_s(thread.median_s)}; " + ", ".join(
        f"{e.method} {fmt_s(e.median_value)} ({e.median_value / thread.median_value:,.0f}×)"
        for e in procs)
    pool = [e for e in entries if e.ok and isinstance(e, StartupEntry) and e.what == "pool"
            and e.model == "processes" and e.pss_bytes]
    if pool:
        text += "; memory per process worker (PSS): " + ", ".join(
            f"{e.method} {fmt_bytes(e.pss_bytes)}" for e in pool)
    slower = all(e.median_value > thread.median_value for e in procs)
    return (HOLDS if slower else FAILS), text + "."


def threads_share_cheaply(results: Results) -> tuple[str, str]:
    """Holds if queue.Queue between threads beats every process transport at both a small
    and a large payload; fails if it loses at both; otherwise depends."""
    entries = [e for e in results.entries_of(IpcEntry) if e.ok and isinstance(e, IpcEntry)]
    parts, wins = [], []
    for size in sorted({s for s in (nearest_payload(results, 64),
                                    nearest_payload(results, 2**20)) if s}):
        tq = pick(entries, transport="thread_queue", payload_bytes=size)
        best = min((e for e in entries if e.model == "processes" and e.payload_bytes == size
                    and e.round_trips), key=lambda e: e.median_s or 0.0, default=None)
        if tq is None or best is None:
            continue
        r = best.median_value / tq.median_value
        wins.append(r > 1)
        parts.append(f"at {fmt_bytes(size)} a round trip through queue.Queue between threads "
                     f"takes {fmt_s(tq.median_s)}, through the fastest process transport "
                     f"({best.transport}) {fmt_s(best.median_s)} ({r:.2g}×)")
    if not wins:
        return _unmeasured("ipc")
    verdict = HOLDS if all(wins) else FAILS if not any(wins) else DEPENDS
    return verdict, ("; ".join(parts) + ". A thread hands over a reference, a process a "
                     "copy; for small messages the cost is waking the other side, which a "
                     "thread pays in GIL hand-offs too.")


def busy_wait_handover(results: Results) -> tuple[str, str]:
    e = pick(results.entries_of(SyncEntry), mechanism="raw_value", model="threads")
    p = pick(results.entries_of(SyncEntry), mechanism="raw_value", model="processes")
    if e is None:
        return _unmeasured("sync")
    text = (f"two threads spinning on a shared variable hand over in {fmt_s(e.median_s)} per "
            "round trip")
    if p is not None:
        text += f"; two processes spinning on shared memory: {fmt_s(p.median_s)}"
    text += " — a thread that never blocks keeps the GIL until the interpreter forces a switch."
    return (HOLDS if p is None or e.median_value > p.median_value else FAILS), text


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
]


def findings(results: Results) -> list[Finding]:
    out = []
    for claim, source, quote, test in CLAIMS:
        verdict, evidence = test(results)
        out.append(Finding(claim, source, quote, verdict, evidence))
    return out
