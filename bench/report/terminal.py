"""What a run shows on the terminal: progress while it runs, a summary at the end."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from bench.analysis import entry_counts, findings, kind_verdicts, mixed_sides
from bench.report.suites import headlines
from bench.report.sweep import machine_warning, precision_line, summary_table
from bench.results import Cell, Results


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([line.format(*headers), line.format(*("-" * w for w in widths)),
                      *(line.format(*r) for r in rows)])


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


def summary(results: Results, out: Path) -> str:
    """The text printed at the end of a run: table, verdicts, costs, findings, counts."""
    lines: list[str] = []
    warning = machine_warning(results)
    if warning:
        lines.append(f"⚠ {warning}\n")
    if results.cells:
        table = summary_table(results)
        lines.append(text_table(table.headers, table.rows))
        lines += ["- " + line.replace("**", "") for line in kind_verdicts(results)]
        lines += ["- " + line for line in mixed_sides(results)]
        lines += skipped_lines(results)
        line = precision_line(results)
        if line:
            lines.append(f"\nPrecision: {line} (see Noise in the report).")
    costs = headlines(results)
    if costs:
        lines.append("\nCosts:")
        lines += ["- " + line for line in costs]
    measured = [f for f in findings(results) if f.verdict != "not measured"]
    if measured:
        lines.append("\nFindings (the article's claims, measured here):")
        for f in findings(results):
            lines += [f"- [{f.verdict}] {f.claim}", f"    rule: {f.rule}"]
    else:
        lines.append("\nFindings: none of the article's claims is measured by this run (they "
                     "need pure-Python, native or IO kernels, or the cost suites).")
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
    lines.append("\n" + "; ".join(parts) + (" (see report)" if failed or bad_e else "")
                 + f"; report: {out / 'report.html'}")
    return "\n".join(lines)
