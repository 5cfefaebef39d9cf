"""The one error type for anything the user can fix, and the exit codes commands end with."""

from __future__ import annotations

from collections.abc import Sequence

# How a command ends (docs/usage.md): the CLI and the --python run end the same way.
EXIT_OK = 0  # every cell ok (or skipped with its reason)
EXIT_FAILED_CELLS = 1  # the run finished, some cell failed; everything is written
EXIT_USAGE = 2  # bad usage or input, said in one line
EXIT_WRITE_FAILED = 74  # a file could not be written (sysexits.h's EX_IOERR)
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT); SIGTERM and SIGHUP end as 128 + theirs


class UserError(Exception):
    """Bad input: caught in ``cli.main`` and printed as one line, exit 2.

    The message says what was wrong and what is valid (or how to fix it).
    """


def did_you_mean(name: str, valid: Sequence[str]) -> str:
    """' (did you mean 'fib'?)' for the closest valid name, '' when none is close."""
    import difflib

    close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
