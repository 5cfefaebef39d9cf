"""What a run shows on the terminal: progress while it runs, a summary at the end."""

from __future__ import annotations

import shutil
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from gilbench.bench.analysis import (
    duel_of,
    entry_counts,
    findings,
    granularity,
    kind_verdicts,
    mixed_sides,
)
from gilbench.bench.entries import Entry
from gilbench.bench.fmt import fmt_minutes
from gilbench.bench.report.speedups import (
    machine_warning,
    precision_line,
    predates_pairs,
    summary_table,
)
from gilbench.bench.report.suites import headlines
from gilbench.bench.report.verdicts import kind_verdict_lines
from gilbench.bench.results import Cell, Results

NARROWEST = 12  # a column is wrapped down to this many characters, never fewer


def columns() -> int:
    """The width to fit: the terminal's, ``$COLUMNS`` where set, 100 otherwise (a pipe,
    a log, CI)."""
    return shutil.get_terminal_size((100, 24)).columns


def _fit(widths: list[int], room: int) -> list[int]:
    """Column widths that fit ``room`` (gaps included): the widest column narrowed first,
    none below ``NARROWEST`` (a table that cannot fit even so stays wider)."""
    widths = list(widths)
    while sum(widths) + 2 * (len(widths) - 1) > room:
        i = max(range(len(widths)), key=lambda k: widths[k])
        over = sum(widths) + 2 * (len(widths) - 1) - room
        second = max((w for k, w in enumerate(widths) if k != i), default=NARROWEST)
        new = max(NARROWEST, widths[i] - over, min(widths[i] - 1, second))
        if new >= widths[i]:
            break
        widths[i] = new
    return widths


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]],
               width: int | None = None) -> str:
    """A plain table that fits ``width`` columns (default: the terminal's): a column too
    wide is wrapped onto more lines within its row, never cut."""
    natural = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    widths = _fit(natural, width or columns())
    out = []
    for k, row in enumerate([headers, ["-" * w for w in widths], *rows]):
        cells = [[str(x)] if k == 1 else textwrap.wrap(str(x), w, break_on_hyphens=False)
                 or [""] for x, w in zip(row, widths, strict=False)]
        for i in range(max(map(len, cells))):
            out.append("  ".join(f"{(c[i] if i < len(c) else ''):<{w}}"
                                 for c, w in zip(cells, widths, strict=False)).rstrip())
    return "\n".join(out)


def wrapped(lines: Sequence[str], width: int | None = None) -> list[str]:
    """Prose lines wrapped to ``width`` (default: the terminal's), a wrapped line's rest
    indented under its text; blank lines and tables' lines (already fitted) kept."""
    room = width or columns()
    out: list[str] = []
    for line in lines:
        for part in line.split("\n"):
            if len(part) <= room:
                out.append(part)
                continue
            lead = len(part) - len(part.lstrip(" -⚠"))
            out += textwrap.wrap(part, room, subsequent_indent=" " * (lead + 2),
                                 break_on_hyphens=False)
    return out


def hanging(lead: str, text: str, width: int | None = None) -> list[str]:
    """``lead`` then ``text`` wrapped to ``width`` (default: the terminal's), its further
    lines indented under the text's start: one entry of a listing."""
    room = width or columns()
    return textwrap.wrap(text, max(room, len(lead) + NARROWEST), initial_indent=lead,
                         subsequent_indent=" " * len(lead), break_on_hyphens=False) or [lead]


def _eta(elapsed: float, done: float, total: float) -> str:
    if done <= 0 or total <= done:
        return ""
    return f", about {fmt_minutes(elapsed * (total - done) / done)} left"


class Progress:
    """A tqdm bar on a terminal; one line per workload otherwise (logs, CI).

    Its ETA weighs each cell by what it is expected to take (``weight``: its time
    budget, overhead and worker start-ups), not by count: a Dask cell or a 4-worker
    process cell costs more than a thread cell, and a skipped cell nothing.
    """

    def __init__(self, total: int, weight: Callable[[Cell], float] | None = None,
                 total_weight: float | None = None) -> None:
        from tqdm import tqdm

        self.weight = weight or (lambda _cell: 1.0)
        self.total_weight = total_weight if total_weight is not None else float(total)
        self.tty = sys.stderr.isatty()
        self.bar = tqdm(total=max(self.total_weight, 1e-9), file=sys.stderr,
                        dynamic_ncols=True, disable=not self.tty,
                        bar_format="{l_bar}{bar}| {postfix} [{elapsed}<{remaining}]")
        self.done = 0
        self.done_weight = 0.0
        self.total = total
        self.last_workload: str | None = None
        self.t0 = time.monotonic()

    def update(self, cell: Cell) -> None:
        self.done += 1
        w = min(self.weight(cell), max(0.0, self.total_weight - self.done_weight))
        self.done_weight += w
        if self.tty:
            self.bar.set_postfix_str(f"{self.done}/{self.total} cells, {cell.workload} "
                                     f"{cell.label} ×{cell.workers} {cell.status}",
                                     refresh=False)
            self.bar.update(w)
        elif cell.workload != self.last_workload:
            eta = _eta(time.monotonic() - self.t0, self.done_weight, self.total_weight)
            print(f"[{self.done}/{self.total}] {cell.workload} ...{eta}", file=sys.stderr,
                  flush=True)
        self.last_workload = cell.workload
        if cell.status in ("error", "timeout") and not self.tty:  # skipped: in the report
            print(f"  {cell.workload} {cell.label} ×{cell.workers}: {cell.status}: {cell.error}",
                  file=sys.stderr, flush=True)

    def close(self) -> None:
        self.bar.close()


class SuiteProgress:
    """A cost suite's progress: a bar over its expected time on a terminal, a line per
    measurement in logs (a suite does not know its count of measurements up front, but
    its usual time, measured, is known)."""

    def __init__(self, name: str, expected_s: float) -> None:
        from tqdm import tqdm

        self.name = name
        self.expected_s = max(expected_s, 1.0)
        self.tty = sys.stderr.isatty()
        self.bar = tqdm(total=self.expected_s, file=sys.stderr, dynamic_ncols=True,
                        disable=not self.tty, desc=f"[{name}]",
                        bar_format="{desc} {percentage:3.0f}%|{bar}| {postfix} "
                                   "[{elapsed}, about " + fmt_minutes(self.expected_s) + "]")
        self.count = 0
        self.t0 = time.monotonic()

    def entry(self, entry: Entry) -> None:
        self.count += 1
        elapsed = time.monotonic() - self.t0
        what = f"{entry.describe()}: {entry.status}"
        if self.tty:
            self.bar.n = min(elapsed, 0.99 * self.expected_s)
            self.bar.set_postfix_str(f"{self.count} measured, {what}", refresh=True)
        else:
            print("\n".join(wrapped([f"  [{self.name}] {self.count}. {what} ({elapsed:.0f} s "
                                     f"of about {fmt_minutes(self.expected_s)})"])),
                  file=sys.stderr, flush=True)
        if not entry.ok:
            line = "\n".join(wrapped([f"  {entry.describe()}: {entry.status}: {entry.error}"]))
            (self.bar.write(line, file=sys.stderr) if self.tty
             else print(line, file=sys.stderr, flush=True))

    def close(self) -> None:
        if self.tty:
            self.bar.n = self.bar.total
            self.bar.refresh()
        self.bar.close()


def failures(results: Results) -> int:
    """Failed cells and failed cost measurements (skipped ones are not failures)."""
    return sum(c.status in ("error", "timeout") for c in results.cells) + entry_counts(results)[1]


def skipped_lines(results: Results) -> list[str]:
    """Each strategy that did not run on a workload, with why (one line per reason)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for c in results.cells:
        if c.status == "skipped":
            groups.setdefault((c.label, c.error or "no reason given"), []).append(c.workload)
    return [f"- skipped: {label} on {', '.join(dict.fromkeys(ws))}: {why}"
            for (label, why), ws in groups.items()]


def granularity_lines(results: Results) -> list[str]:
    """The granularity sweep's crossovers, one workload a paragraph."""
    lines = []
    for w in granularity.workloads(results):
        found = granularity.crossovers(results, w)
        lines.append(f"- granularity, {w}: {found[0].claim} {found[0].text()}")
        lines += [f"    {c.claim}: {c.text()}" for c in found[1:]]
    return lines


def speedup_lines(results: Results) -> list[str]:
    """The sweep's part of the summary: the table (serial time, best threads and
    processes with their intervals, the verdict per workload), the verdict per kind of
    work, the mixed kernels' sides, what was skipped and why, the precision. The pytest
    plugin prints the same at the end of `pytest --benchmark-only`."""
    lines: list[str] = []
    warning = machine_warning(results)
    if warning:
        lines.append(f"⚠ {warning}\n")
    if results.cells:
        table = summary_table(results)
        lines.append(text_table(table.headers, table.rows))
        lines += ["- " + line for line in kind_verdict_lines(kind_verdicts(results), bold=False)]
        lines += ["- " + line for line in mixed_sides(results)]
        lines += granularity_lines(results)
        lines += skipped_lines(results)
        line = precision_line(results)
        if line:
            lines.append(f"\nPrecision: {line} (see Noise in the report).")
    return lines


def answer_lines(results: Results) -> list[str]:
    """The answer alone (``gilbench run -q``): the verdict per kind of work, then one line
    per workload with its verdict, figure and task size."""
    lines = kind_verdict_lines(kind_verdicts(results), bold=False)
    lines += [f"{w}: {duel_of(results, w).text}" for w in results.workloads()
              if any(c.strategy != "serial" for c in results.cells_of(w))]
    return lines


def findings_lines(results: Results, detail: int) -> list[str]:
    """The article's claims: a one-line tally (the claims with their rules in the report,
    or here with ``-v``); nothing for a run of the user's own kernels unless asked."""
    found = findings(results)
    measured = [f for f in found if f.verdict != "not measured"]
    plan = results.plan
    if detail > 0 and measured:
        lines = ["\nFindings (the article's claims, measured here):"]
        for f in found:
            lines += [f"- [{f.verdict}] {f.claim}", f"    rule: {f.rule}"]
        return lines
    if plan is not None and plan.workloads_from and detail <= 0:
        return []
    if measured:
        tally = Counter(f.verdict for f in measured)
        return [f"\nFindings: {len(measured)} of the article's {len(found)} claims measured "
                "here: " + ", ".join(f"{n} {v}" for v, n in tally.most_common())
                + " (each with its rule: the report's Findings, or -v)."]
    if predates_pairs(results):
        return [f"\nFindings: none can be decided. {predates_pairs(results)}"]
    return ["\nFindings: none of the article's claims is measured by this run (they need "
            "pure-Python, native or IO kernels, or the cost suites)."]


def summary(results: Results, out: Path, detail: int = 0) -> str:
    """The text printed at the end of a run: table, verdicts, costs, findings, counts
    (``detail`` -1: the answer lines alone; 1: the claims in full too)."""
    if detail < 0:
        return "\n".join(wrapped(answer_lines(results)))
    lines = speedup_lines(results)
    costs = headlines(results)
    if costs:
        lines.append("\nCosts:")
        lines += ["- " + line for line in costs]
    lines += findings_lines(results, detail)
    failed = [c for c in results.cells if c.status in ("error", "timeout")]
    ok = sum(c.ok for c in results.cells)
    ok_e, bad_e, total_e = entry_counts(results)
    parts = []
    if results.cells:
        parts.append(f"{ok} of {len(results.cells)} cells ok"
                     + (f", {len(failed)} failed" if failed else ""))
    if total_e:
        skipped_e = total_e - ok_e - bad_e  # not possible here, each with its reason
        parts.append(f"{ok_e} of {total_e} cost measurements ok"
                     + (f", {bad_e} failed" if bad_e else "")
                     + (f", {skipped_e} skipped with their reason" if skipped_e else ""))
    lines.append("\n" + "; ".join(parts) + (" (see report)" if failed or bad_e else "")
                 + f"; report: {out / 'report.html'}")
    return "\n".join(wrapped(lines))
