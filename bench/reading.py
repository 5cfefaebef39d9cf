"""The commands that read results files and write what they say: ``gilbench report``,
``compare`` (and its CI gate) and ``export``. Nothing here measures: they run on any
machine, from the files alone (the CLI parses their arguments: ``bench.cli``)."""

from __future__ import annotations

import argparse
import errno
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bench import serialcost
from bench.analysis.comparison import Run
from bench.errors import EXIT_FAILED_CELLS, EXIT_OK, UserError
from bench.files import FolderLock, WriteFailed, new_folder, write_text
from bench.results import file_stamp, load, utc_now
from bench.run.endings import render_or_say
from bench.runfolder import SERIAL_COST


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
    from bench.analysis.comparison import load_runs, pick_baseline
    from bench.report.compare import flips, main_table, within_noise_text, write_compare
    from bench.report.document import render_markdown
    from bench.report.terminal import text_table

    labels = None
    if args.labels is not None:
        labels = [x.strip() for x in args.labels.split(",")]
        if not all(labels):
            raise UserError("--labels: a label is empty; give one per file, e.g. --labels a,b")
    if args.fail_on is not None and args.fail_if_slower is None:
        raise UserError(f"--fail-on {args.fail_on} says what --fail-if-slower checks; give "
                        "both, e.g. --fail-if-slower 10 --fail-on speedup")
    gate_on = GATE_ON[args.fail_on or "both"]
    runs = load_runs(args.results, labels)
    base = pick_baseline(runs, args.baseline)
    out = Path(args.out) if args.out else new_folder(
        Path("reports") / ("compare-" + file_stamp(utc_now())))
    serial, left = serialcost.beside([r.source for r in runs], [r.label for r in runs],
                                     SERIAL_COST)
    with FolderLock(out, "compare"):
        try:
            paths = write_compare(runs, base, out, serial, left)
        except WriteFailed as exc:
            raise exc.saying("the results files are unchanged (only read); the comparison "
                             "is not complete", "once there is space: run the same "
                             "gilbench compare again") from None
    table = main_table(runs, base)
    md = args.format == "md"
    print(render_markdown([table], out).rstrip() if md
          else text_table(table.headers, table.rows))
    flipped = flips(runs, bold=False)
    noise = within_noise_text(runs)
    print("\nFlips (threads or processes, significant on both machines): "
          + ("none" if not flipped else ""))
    for line in flipped + noise:
        print(f"- {line}")
    code = EXIT_OK if args.fail_if_slower is None else gate(runs, base, args.fail_if_slower,
                                                              gate_on)
    print(f"wrote {len(paths)} files to {out}; open {out / 'compare.html'}", file=sys.stderr)
    return code


def sensitivity_line(base: Run, run: Run, percent: float, gate_on: tuple[str, ...]) -> str:
    """What the gate could see in ``run`` against ``base``: the smallest slowdown it could
    have failed, over the figures compared (median, 90% of them, the least sensitive)."""
    from bench.analysis.significance import sensitivity

    found = sensitivity(base.results, run.results, percent, gate_on)
    seen = sorted(((f, c) for c, f in found if f is not None), key=lambda x: x[0])
    blind = len(found) - len(seen)
    if not seen:
        return f"\nThe gate could see nothing in {run.label}: no figure has an interval."
    worst_f, worst = seen[-1]
    return (f"\nThe gate could catch, in {run.label}, a slowdown of {seen[len(seen) // 2][0]:.2f}× "
            f"in half of its {len(found)} figures, {seen[int(0.9 * (len(seen) - 1))][0]:.2f}× "
            f"in 90%, and only {worst_f:.2f}× in the least precise ({worst.where} "
            f"{worst.change.what})" + (f"; {blind} without an interval, none" if blind else "")
            + " (a slowdown that size is caught about half the time; larger ones surely).")


def gate(runs: Sequence[Run], base: Run, percent: float, gate_on: tuple[str, ...]) -> int:
    """``--fail-if-slower``: the cells significantly worse than the baseline's by more
    than ``percent``, listed; exit 1 if there are any."""
    from bench.analysis.significance import regressions

    worse, compared = [], 0
    for r in runs:
        if r is not base:
            found, n = regressions(base.results, r.results, percent, gate_on)
            worse += [(r, c) for c in found]
            compared += n
    what = " and ".join(f"{x}s" for x in gate_on)
    for r in runs:
        if r is not base:
            print(sensitivity_line(base, r, percent, gate_on))
    if not worse:
        print(f"\nNo cell got significantly worse than {base.label} by more than "
              f"{percent:g}% ({compared} {what} compared cell by cell).")
        return EXIT_OK
    print(f"\nSignificantly worse than {base.label} by more than {percent:g}% "
          f"({len(worse)} of {compared} {what} compared cell by cell):")
    for r, c in worse:
        print(f"- {r.label}: {c.where}: {c.change.what} {c.change.text()}")
    return EXIT_FAILED_CELLS


def export(args: argparse.Namespace) -> int:
    """``gilbench export``: a results file as CSV or pyperf JSON."""
    from bench.report.export import check_raw_times, to_csv, to_pyperf

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
