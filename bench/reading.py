"""The commands that read results files and write what they say: ``gilbench report``,
``compare`` (and its CI gate) and ``export``. Nothing here measures: they run on any
machine, from the files alone (the CLI parses their arguments: ``bench.cli``)."""

from __future__ import annotations

import argparse
import errno
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gilbench.bench import serialcost
from gilbench.bench.analysis.comparison import Run
from gilbench.bench.errors import EXIT_FAILED_CELLS, EXIT_OK, UserError
from gilbench.bench.files import FolderLock, WriteFailed, write_text
from gilbench.bench.results import load
from gilbench.bench.run.endings import render_or_say
from gilbench.bench.runfolder import SERIAL_COST

if TYPE_CHECKING:  # numpy's bootstrap is loaded by compare only, not by every command
    from gilbench.bench.analysis.significance import CellChange, Change


def write_stdout(text: str) -> None:
    """Write to stdout and flush: a full disk under a redirected stdout is a
    ``WriteFailed`` here, not a traceback at exit."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise WriteFailed(Path("<stdout>"), exc, "nothing else was written") from None



def report(args: argparse.Namespace) -> int:
    """``gilbench report``: the report of a results file, drawn again."""
    source = Path(args.results)
    results = load(source)
    results = results.with_speedups()
    out = Path(args.out) if args.out else (source if source.is_dir() else source.parent)
    with FolderLock(out, "report"):
        paths = render_or_say(results, out, f"{source} is unchanged (only read)",
                              f"gilbench report {args.results}"
                              + (f" --out {args.out}" if args.out else ""))
    print(f"wrote {len(paths)} files to {out}; open {out / 'report.html'}")
    return EXIT_OK


def compare(args: argparse.Namespace) -> int:
    """``gilbench compare``: runs side by side, and the CI gate."""
    from gilbench.bench.analysis.comparison import load_runs, pick_baseline
    from gilbench.bench.report.compare import flips, main_table, within_noise_text, write_compare
    from gilbench.bench.report.document import render_markdown
    from gilbench.bench.report.terminal import text_table

    labels = None
    if args.labels is not None:
        labels = [x.strip() for x in args.labels.split(",")]
        if not all(labels):
            raise UserError("--labels: a label is empty; give one per file, e.g. --labels a,b")
    if args.fail_on is not None and args.fail_if_slower is None:
        raise UserError(f"--fail-on {args.fail_on} says what --fail-if-slower checks; give "
                        "both, e.g. --fail-if-slower 10 --fail-on speedup")
    gate_on = GATE_ON[args.fail_on or "speedup"]
    runs = load_runs(args.results, labels)
    base = pick_baseline(runs, args.baseline)
    narrow = {"workloads": _names(args.gate_workloads, "--gate-workloads", args,
                                  {c.workload for r in runs for c in r.results.cells}),
              "strategies": _names(args.gate_strategies, "--gate-strategies", args,
                                   {c.strategy for r in runs for c in r.results.cells
                                    if c.strategy != "serial"} | {"serial"})}
    out = Path(args.out) if args.out else None
    if out is not None:  # the report and its charts only when asked for: --out DIR
        serial, left = serialcost.beside([r.source for r in runs], [r.label for r in runs],
                                         SERIAL_COST)
        with FolderLock(out, "compare"):
            try:
                paths = write_compare(runs, base, out, serial, left)
            except WriteFailed as exc:
                raise exc.saying("the results files are unchanged (only read); the "
                                 "comparison is not complete", "once there is space: run "
                                 "the same gilbench compare again") from None
    checked = (None if args.fail_if_slower is None
               else gate_result(runs, base, args.fail_if_slower, gate_on, **narrow))
    if args.format == "json":
        print(json.dumps(comparison_record(runs, base, checked), indent=1))
    else:
        table = main_table(runs, base)
        print(render_markdown([table], out or Path(".")).rstrip() if args.format == "md"
              else text_table(table.headers, table.rows))
        flipped = flips(runs, bold=False)
        noise = within_noise_text(runs)
        _say("\nFlips (threads or processes, significant on both machines): "
             + ("none" if not flipped else ""))
        for line in flipped + noise:
            _say(f"- {line}")
        if checked is not None:
            print_gate(checked, base)
    if out is not None:
        print(f"wrote {len(paths)} files to {out}; open {out / 'compare.html'}",
              file=sys.stderr)
    return EXIT_OK if checked is None or not checked.worse else EXIT_FAILED_CELLS


def _names(text: str | None, option: str, args: argparse.Namespace,
           valid: set[str]) -> tuple[str, ...]:
    """A --gate-* list, checked against what the compared runs measured."""
    if text is None:
        return ()
    if args.fail_if_slower is None:
        raise UserError(f"{option} narrows what --fail-if-slower checks; give both, e.g. "
                        f"--fail-if-slower 10 {option} {sorted(valid)[0]}")
    names = [n.strip() for n in text.split(",")]
    unknown = [n for n in names if n not in valid]
    if not all(names) or unknown:
        raise UserError(f"{option}: {', '.join(unknown) or 'an empty name'} is not in the "
                        f"compared runs; valid: {', '.join(sorted(valid))}")
    return tuple(names)


@dataclass(frozen=True)
class GateResult:
    """What ``--fail-if-slower`` found: the changes surely worse by more than ``percent``,
    how many figures it compared, and, per other run, the smallest slowdown it could have
    caught in each figure (``significance.sensitivity``)."""

    percent: float
    figures: tuple[str, ...]
    worse: list[tuple[Run, CellChange]]
    compared: int
    seen: dict[str, list[tuple[CellChange, float | None]]]
    # per other run: the spread between it and the baseline that their own rounds do not
    # show, per sort of figure (log scale; significance.between_run_sd)
    spread: dict[str, dict[str, float]] = field(default_factory=dict)


def gate_result(runs: Sequence[Run], base: Run, percent: float,
                gate_on: tuple[str, ...], workloads: Sequence[str] = (),
                strategies: Sequence[str] = ()) -> GateResult:
    """``--fail-if-slower``'s answer, for every run against the baseline (narrowed to
    ``workloads`` and ``strategies`` where given)."""
    from gilbench.bench.analysis.significance import gate_changes, regressions, sensitivity

    worse, compared, seen, spread = [], 0, {}, {}
    for r in runs:
        if r is not base:
            changes, spread[r.label] = gate_changes(base.results, r.results, gate_on,
                                                    workloads, strategies)  # bootstrapped once
            found, n = regressions(base.results, r.results, percent, gate_on, changes)
            worse += [(r, c) for c in found]
            compared += n
            seen[r.label] = sensitivity(changes, percent)
    return GateResult(percent, gate_on, worse, compared, seen, spread)


def sensitivity_summary(found: list[tuple[CellChange, float | None]]
                        ) -> dict[str, Any] | None:
    """The median, 90th-percentile and least sensitive figure's detectable slowdown."""
    seen = sorted(((f, c) for c, f in found if f is not None), key=lambda x: x[0])
    if not seen:
        return None
    worst_f, worst = seen[-1]
    return {"figures": len(found), "without_interval": len(found) - len(seen),
            "median": seen[len(seen) // 2][0], "p90": seen[int(0.9 * (len(seen) - 1))][0],
            "least": worst_f, "least_where": f"{worst.where} {worst.change.what}"}


def _say(text: str) -> None:
    """Prose, wrapped to the terminal (tables are fitted by ``text_table``)."""
    from gilbench.bench.report.terminal import wrapped

    print("\n".join(wrapped([text])))


def print_gate(g: GateResult, base: Run) -> None:
    """The gate in words: what it could see in each run, then what got worse."""
    for label, spread in g.spread.items():
        moved = [f"{what}s by ±{math.expm1(sd):.1%}" for what, sd in spread.items() if sd > 0]
        if moved:
            _say(f"\nBetween {base.label} and {label} the figures moved more than their own "
                 f"rounds show (a phase of the machine in one run): the gate widened "
                 f"{' and '.join(moved)} (one standard error) before deciding.")
    for label, found in g.seen.items():
        s = sensitivity_summary(found)
        if s is None:
            _say(f"\nThe gate could see nothing in {label}: no figure has an interval.")
            continue
        _say(f"\nThe gate could catch, in {label}, a slowdown of {s['median']:.2f}× in half "
              f"of its {s['figures']} figures, {s['p90']:.2f}× in 90%, and only "
              f"{s['least']:.2f}× in the least precise ({s['least_where']})"
              + (f"; {s['without_interval']} without an interval, none"
                 if s["without_interval"] else "")
              + " (a slowdown that size is caught about half the time; larger ones surely).")
    from gilbench.bench.analysis.significance import HeadlineChange

    what = " and ".join(f"{x}s" for x in g.figures)
    heads = sum(isinstance(c, HeadlineChange) for found in g.seen.values() for c, _ in found)
    how = "compared cell by cell" + (f", {heads} of them confirmed headlines" if heads else "")
    if not g.worse:
        _say(f"\nNo cell got significantly worse than {base.label} by more than "
              f"{g.percent:g}% ({g.compared} {what} {how}).")
        return
    _say(f"\nSignificantly worse than {base.label} by more than {g.percent:g}% "
          f"({len(g.worse)} of {g.compared} {what} {how}):")
    for r, c in g.worse:
        _say(f"- {r.label}: {c.where}: {c.change.what} {c.change.text()}")


def _change(c: Change) -> dict[str, Any]:
    return {"point": c.point, "low": c.low, "high": c.high, "mark": c.mark(),
            "text": c.text()}


def comparison_record(runs: list[Run], base: Run, g: GateResult | None) -> dict[str, Any]:
    """``compare --format json``: the runs, per workload each run's answer and its changes
    against the baseline (a figure's ``point`` above 1 is better for that run), their
    geometric means, the flipped workloads, and the gate's result."""
    from gilbench.bench.analysis.comparison import answers, flipped_workloads, relative_changes

    rel = relative_changes(runs, base)
    workloads = {}
    for w in dict.fromkeys(w for r in runs for w in r.results.workloads()):
        workloads[w] = {
            "answers": {k: {"winner": v[0], "verdict": v[1]} for k, v in answers(runs, w).items()},
            "changes": {k: {fig: _change(c) for fig, c in v.items()}
                        for k, v in rel.per.get(w, {}).items()}}
    out: dict[str, Any] = {
        "baseline": base.label,
        "runs": [{"label": r.label, "source": r.source} for r in runs],
        "workloads": workloads,
        "geometric_mean": {k: {fig: _change(c) for fig, c in v.items()}
                           for k, v in rel.geo.items()},
        "not_compared": [{"workload": n.workload, "why": n.why} for n in rel.not_compared],
        "flipped": flipped_workloads(runs), "gate": None}
    if g is not None:
        out["gate"] = {
            "fail_if_slower_pct": g.percent, "figures": list(g.figures),
            "compared": g.compared, "failed": bool(g.worse),
            "worse": [{"run": r.label, "where": c.where, "figure": c.change.what,
                       **_change(c.change)} for r, c in g.worse],
            "could_catch": {k: sensitivity_summary(v) for k, v in g.seen.items()},
            "between_runs_log_sd": g.spread}
    return out


def export(args: argparse.Namespace) -> int:
    """``gilbench export``: a results file as CSV or pyperf JSON."""
    from gilbench.bench.report.export import check_raw_times, to_csv, to_pyperf

    results = load(Path(args.results))
    check_raw_times(results, args.results)
    results = results.with_speedups()
    text = (json.dumps(to_pyperf(results), indent=1) + "\n" if args.format == "pyperf"
            else to_csv(results))
    if args.out is None:
        write_stdout(text)
        return EXIT_OK
    target = Path(args.out)
    try:
        write_text(target, text)
    except WriteFailed as exc:
        if exc.exc.errno in (errno.ENOTDIR, errno.EISDIR, errno.ENOENT, errno.EEXIST,
                             errno.ENAMETOOLONG):  # a path that cannot be a file
            raise UserError(f"--out {target}: cannot write it ({exc.exc.strerror or exc}); "
                            "choose another file") from None
        raise exc.saying(f"{args.results} is unchanged (only read)", "once there is space: "
                         "run the same gilbench export again") from None
    print(f"wrote {target} ({args.format})", file=sys.stderr)
    return EXIT_OK


GATE_ON = {"both": ("speedup", "time"), "speedup": ("speedup",), "time": ("time",)}
