"""Numbers as a report prints them: pure functions of a number, no layout.

The lowest layer of the reports: analysis (verdict sentences) and rendering both
use it, and it imports nothing of gilbench's.
"""

from __future__ import annotations

import io
import sys


def fmt_x(x: float | None) -> str:
    """A speedup or a ratio: ``1.95×``."""
    return "—" if x is None else f"{x:.2f}×"


def fmt_interval(ci: tuple[float, float] | None, n: int | None = None) -> str:
    """``[1.91–1.97] n=12``; ``(no 95% interval, n=3)`` where there is none."""
    if ci is None:
        return "(no 95% interval" + (f", n={n})" if n is not None else ")")
    return f"[{ci[0]:.2f}–{ci[1]:.2f}]" + (f" n={n}" if n is not None else "")


def fmt_speedup(x: float | None, ci: tuple[float, float] | None, n: int | None) -> str:
    """A speedup with its 95% interval and the pairs behind it: ``1.95× [1.91–1.97] n=12``."""
    return f"{fmt_x(x)} {fmt_interval(ci, n)}"


def fmt_minutes(seconds: float) -> str:
    """A run's length as a person plans with it: ``40 s``, ``3 min``, ``1 h 05 min``."""
    if seconds < 90:
        return f"{max(5, round(seconds / 5) * 5):.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


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



def fmt_machine(key: str, value: object) -> str:
    """One value of a machine record, as a report shows it."""
    if value is None:
        return "—"
    if key == "memory_bytes" and isinstance(value, int):
        return f"{value / 2**30:.1f} GiB"
    return str(value)


def tolerant_output() -> None:
    """stdout and stderr replace what their encoding cannot show (``PYTHONIOENCODING=ascii``,
    an old console) with ``?`` rather than raise in the middle of a report."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="replace")
