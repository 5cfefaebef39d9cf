"""The cost suites in a report: tables, charts and headline lines (pure functions of Results)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from bench.document import Block, Bullets, Heading, Image, Para, Table
from bench.results import Results
from bench.suites import Entry, IpcEntry, LatencyEntry, StartupEntry, SyncEntry

# ------------------------------------------------------------ formatting


def fmt_s(seconds: float | None) -> str:
    """A duration in the unit that reads best: ns, µs, ms or s."""
    if seconds is None:
        return "—"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            value = seconds / scale
            return f"{value:.3g} {unit}" if value < 100 else f"{value:.0f} {unit}"
    return f"{seconds * 1e9:.0f} ns"


def fmt_bytes(n: float | None) -> str:
    if n is None:
        return "—"
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            value = n / scale
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n:.0f} B"


def fmt_rate(bytes_per_s: float | None) -> str:
    """Bytes per second in decimal units (GB/s = 10⁹ bytes per second)."""
    if bytes_per_s is None:
        return "—"
    for unit, scale in (("GB/s", 1e9), ("MB/s", 1e6), ("kB/s", 1e3)):
        if bytes_per_s >= scale:
            return f"{bytes_per_s / scale:.3g} {unit}"
    return f"{bytes_per_s:.0f} B/s"


def method_label(e: Entry) -> str:
    return "thread" if e.model == "threads" else (e.start_method or e.model)


# ------------------------------------------------------------ lookups


def pick(entries: Iterable[Entry], **fields: Any) -> Entry | None:
    """The first ok entry whose fields equal these."""
    for e in entries:
        if e.ok and all(getattr(e, k, None) == v for k, v in fields.items()):
            return e
    return None


def nearest_payload(results: Results, target: int) -> int | None:
    sizes = {e.payload_bytes for e in results.entries("ipc")  # type: ignore[attr-defined]
             if e.ok and e.model == "processes"}
    return min(sizes, key=lambda s: abs(s - target) / target, default=None)


def failed_entries(results: Results) -> list[tuple[str, Entry]]:
    return [(name, e) for name, entries in results.suites.items() for e in entries
            if e.status in ("error", "timeout")]


def describe_entry(suite: str, e: Entry) -> str:
    keys = ("what", "transport", "mechanism", "payload_bytes", "cpu_workers", "workers")
    parts = [str(getattr(e, k)) for k in keys if getattr(e, k, None) is not None]
    return f"{suite} {' '.join(parts)} ({method_label(e)})"


# ------------------------------------------------------------ report sections


def startup_blocks(results: Results, chart: Path | None) -> list[Block]:
    entries = [e for e in results.entries("startup") if isinstance(e, StartupEntry)]
    out: list[Block] = [Heading("Start-up: what a worker costs before it works")]
    out.append(Para("Measured in a fresh interpreter whose main module imports only the "
                    "standard library (spawn and forkserver children re-import the main "
                    "module, so a program that imports more pays more). Pool: created until "
                    "every worker runs a task, then closed and joined. Memory per worker, "
                    "with the largest pool alive: USS counts pages only that worker uses, "
                    "PSS adds its share of pages it shares (fork shares the parent's)."))
    if chart:
        out.append(Image(chart, "start-up costs"))
    starts = [e for e in entries if e.what == "start_join" and e.ok]
    pools = [e for e in entries if e.what == "pool" and e.ok]
    counts = sorted({e.workers for e in pools})
    rows = []
    for e in starts:
        row = [method_label(e), fmt_s(e.median_s), fmt_s(e.p99_s)]
        for n in counts:
            p = pick(pools, model=e.model, start_method=e.start_method, workers=n)
            row.append(fmt_s(p.median_s) if p else "—")
        biggest = pick(pools, model=e.model, start_method=e.start_method,
                       workers=max(counts)) if counts else None
        row.append(fmt_bytes(biggest.uss_bytes) if biggest else "—")  # type: ignore[attr-defined]
        row.append(fmt_bytes(biggest.pss_bytes) if biggest else "—")  # type: ignore[attr-defined]
        rows.append(tuple(row))
    if rows:
        out.append(Table(("worker", "start + join (median)", "p99",
                          *[f"pool of {n}" for n in counts], "USS / worker",
                          "PSS / worker"), tuple(rows)))
    checks = [e for e in entries if e.what in ("zombie", "no_zombies", "get_timeout")]
    if checks:
        out.append(Bullets(tuple(
            f"**{e.what}**: {'yes' if e.observed else 'no'} — {e.detail}" if e.ok
            else f"**{e.what}**: {e.status} — {e.error}" for e in checks)))
    return out


def ipc_blocks(results: Results, chart: Path | None) -> list[Block]:
    entries = [e for e in results.entries("ipc") if isinstance(e, IpcEntry)]
    out: list[Block] = [Heading("IPC: moving data between workers")]
    out.append(Para("Each transport hands a `bytes` payload from one side to the other. "
                    "Round trip: to an echoing partner and back (median, p99). Throughput: "
                    "a one-way stream of messages. `memcpy` is one numpy copy in this process: "
                    "the ceiling for any transport that copies. `thread_queue` passes a "
                    "reference between threads of one process: nothing is copied."))
    if chart:
        out.append(Image(chart, "IPC bandwidth and round trip vs payload"))
    sizes = sorted({e.payload_bytes for e in entries})
    names = list(dict.fromkeys(e.transport for e in entries))
    rt_rows, bw_rows = [], []
    for name in names:
        rt, bw = [name], [name]
        for size in sizes:
            e = next((x for x in entries if x.transport == name and x.payload_bytes == size),
                     None)
            if e is None:
                rt.append("")
                bw.append("")
            elif not e.ok:
                rt.append(e.status.upper())
                bw.append(e.status.upper())
            else:
                rt.append("—" if e.round_trips == 0 else
                          f"{fmt_s(e.median_s)} (p99 {fmt_s(e.p99_s)})")
                bw.append(fmt_rate(e.bytes_per_s))
        if name != "memcpy":  # a copy has no round trip
            rt_rows.append(tuple(rt))
        bw_rows.append(tuple(bw))
    headers = ("transport", *[fmt_bytes(s) for s in sizes])
    out += [Para("**Round trip** (median, p99):"), Table(headers, tuple(rt_rows)),
            Para("**Throughput** (one way, bytes per second):"), Table(headers, tuple(bw_rows))]
    return out


def sync_blocks(results: Results, chart: Path | None) -> list[Block]:
    entries = [e for e in results.entries("sync") if isinstance(e, SyncEntry)]
    out: list[Block] = [Heading("Synchronisation: the cost of one hand-over")]
    out.append(Para("Ping-pong between two threads, or two processes, through each "
                    "mechanism: one round trip is two hand-overs. `value`/`array`/`raw_value` "
                    "cannot sleep until the other side writes, so the waiting side spins (a "
                    "CPU each)."))
    if chart:
        out.append(Image(chart, "hand-over cost per mechanism"))
    rows = []
    for name in dict.fromkeys(e.mechanism for e in entries):
        row = [name]
        for model in ("threads", "processes"):
            e = next((x for x in entries if x.mechanism == name and x.model == model), None)
            row.append("—" if e is None else (e.status.upper() if not e.ok else
                       f"{fmt_s(e.median_s)} (p99 {fmt_s(e.p99_s)})"))
        rows.append(tuple(row))
    out.append(Table(("mechanism", "threads: round trip (p99)", "processes: round trip (p99)"),
                     tuple(rows)))
    return out


def latency_blocks(results: Results, chart: Path | None) -> list[Block]:
    entries = [e for e in results.entries("latency") if isinstance(e, LatencyEntry)]
    out: list[Block] = [Heading("GIL latency: responding while CPU work runs")]
    out.append(Para("A thread blocked on a loopback UDP socket answers pings while N "
                    "pure-Python CPU loops run as threads of its process (sharing its GIL) "
                    "or as separate processes (sharing only the CPUs). The switch interval "
                    "(`sys.setswitchinterval`) is how long a thread waiting for the GIL "
                    "waits before it forces a switch."))
    if chart:
        out.append(Image(chart, "response latency vs CPU-bound workers"))
    rows = []
    for e in sorted(entries, key=lambda e: (e.model != "threads" or e.cpu_workers == 0,
                                            e.model, e.switch_interval_s, e.cpu_workers)):
        load = ("no CPU load" if e.cpu_workers == 0 else f"{e.cpu_workers} CPU {e.model}")
        if not e.ok:
            rows.append((load, fmt_s(e.switch_interval_s), e.status.upper(), "", "", ""))
            continue
        rows.append((load, fmt_s(e.switch_interval_s), fmt_s(e.median_s), fmt_s(e.p99_s),
                     fmt_s(e.max_s), f"{e.pings} ({e.lost} lost)"))
    out.append(Table(("load", "switch interval", "median", "p99", "max", "pings"), tuple(rows)))
    return out


SECTIONS: dict[str, Callable[[Results, Path | None], list[Block]]] = {
    "startup": startup_blocks, "ipc": ipc_blocks, "sync": sync_blocks,
    "latency": latency_blocks}


# ------------------------------------------------------------ headline lines


def headlines(results: Results) -> list[str]:
    """A few lines per suite for the terminal summary."""
    lines = []
    starts = [e for e in results.entries("startup") if getattr(e, "what", "") == "start_join"
              and e.ok]
    if starts:
        lines.append("start + join one worker: " + ", ".join(
            f"{method_label(e)} {fmt_s(e.median_s)}" for e in starts))
    size = nearest_payload(results, 2**20)
    if size:
        ipc = [e for e in results.entries("ipc") if e.ok and e.payload_bytes == size]  # type: ignore[attr-defined]
        lines.append(f"throughput at {fmt_bytes(size)}: " + ", ".join(
            f"{e.transport} {fmt_rate(e.bytes_per_s)}" for e in ipc  # type: ignore[attr-defined]
            if e.model in ("processes", "memory")))
    sync = [e for e in results.entries("sync") if e.ok and e.model == "processes"]
    if sync:
        lines.append("hand-over round trip between processes: " + ", ".join(
            f"{e.mechanism} {fmt_s(e.median_s)}" for e in sync))  # type: ignore[attr-defined]
    lat = [e for e in results.entries("latency") if e.ok]
    if lat:
        default = max((e.switch_interval_s for e in lat),  # type: ignore[attr-defined]
                      key=lambda si: sum(x.switch_interval_s == si for x in lat))  # type: ignore[attr-defined]
        parts = [f"{'none' if e.cpu_workers == 0 else f'{e.cpu_workers} {e.model}'} "  # type: ignore[attr-defined]
                 f"{fmt_s(e.p99_s)}" for e in lat
                 if e.switch_interval_s == default]  # type: ignore[attr-defined]
        lines.append(f"response p99 under CPU load (switch interval {fmt_s(default)}): "
                     + ", ".join(parts))
    return lines


def entry_counts(results: Results) -> Sequence[int]:
    """(ok, failed, total) over every cost-suite entry."""
    entries = [e for es in results.suites.values() for e in es]
    bad = sum(e.status in ("error", "timeout") for e in entries)
    return sum(e.ok for e in entries), bad, len(entries)
