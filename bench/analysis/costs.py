"""Lookups over the cost suites' entries, for findings, sections and summaries."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from gilbench.bench.entries import Entry, IpcEntry
from gilbench.bench.results import Results

E = TypeVar("E", bound=Entry)


def pick(entries: Iterable[E], **fields: Any) -> E | None:
    """The first ok entry whose fields equal these."""
    for e in entries:
        if e.ok and all(getattr(e, k, None) == v for k, v in fields.items()):
            return e
    return None


def nearest_payload(results: Results, target: int) -> int | None:
    """The ipc payload size measured between processes that is closest to ``target``."""
    sizes = {e.payload_bytes for e in results.entries_of(IpcEntry)
             if e.ok and e.model == "processes"}
    return min(sizes, key=lambda s: abs(s - target) / target, default=None)


def failed_entries(results: Results) -> list[tuple[str, Entry]]:
    return [(name, e) for name, entries in results.suites.items() for e in entries
            if e.status in ("error", "timeout")]


def entry_counts(results: Results) -> tuple[int, int, int]:
    """(ok, failed, total) over every cost-suite entry."""
    entries = [e for es in results.suites.values() for e in es]
    bad = sum(e.status in ("error", "timeout") for e in entries)
    return sum(e.ok for e in entries), bad, len(entries)
