"""What every run says at its ends, the same for a run here and a ``--python`` run: its
progress lines, and its report written or, when the disk is full, what is saved and the
command that finishes it."""

from __future__ import annotations

import sys
from pathlib import Path

from gilbench.bench.files import WriteFailed
from gilbench.bench.report import render
from gilbench.bench.results import Results


def say(line: str) -> None:
    """A line of what the run is doing, on stderr (stdout is for its summary): one line,
    whatever its length (an error, a command to copy)."""
    print(line, file=sys.stderr, flush=True)


def tell(line: str) -> None:
    """What the run will do or noticed (its first line, a note, the noise probe), on
    stderr, wrapped to the terminal's width as the summary is (the rest indented)."""
    from gilbench.bench.report.terminal import wrapped

    print("\n".join(wrapped([line])), file=sys.stderr, flush=True)


def render_or_say(results: Results, out: Path, saved: str, again: str) -> list[Path]:
    """The report and charts into ``out``; a write that fails says what is ``saved``
    and the command that finishes the job (``again``) once there is space."""
    try:
        return render(results, out)
    except WriteFailed as exc:
        raise exc.saying(f"{saved}; the report is not complete",
                         f"once there is space: {again}") from None


def interrupted(where: str, out: Path) -> str:
    """The line a run interrupted by Ctrl-C (or SIGTERM) ends with: ``where`` what
    finished is saved ("in DIR/results.json", "under DIR") and the command that resumes
    it."""
    return (f"\ninterrupted: what finished is saved {where}; resume with: "
            f"gilbench run --resume {out}")
