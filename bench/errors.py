"""The one error type for anything the user can fix, and the exit codes commands end with."""

from __future__ import annotations

from collections.abc import Sequence

# How a command ends (docs/usage.md): the CLI and the --python run end the same way.
EXIT_OK = 0  # every cell ok (or skipped with its reason)
EXIT_FAILED_CELLS = 1  # the run finished, some cell failed; everything is written
EXIT_USAGE = 2  # bad usage or input, said in one line
EXIT_WRITE_FAILED = 74  # a file could not be written (sysexits.h's EX_IOERR)
EXIT_INTERNAL = 70  # a bug in gilbench (sysexits.h's EX_SOFTWARE): never 1, a CI gate's "slower"
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

# The exit codes in words, as every command's --help ends.
EXIT_CODES = """exit codes:
  0    every cell and measurement ok, or skipped with its reason (compare: no regression)
  1    the run finished but a cell or measurement failed, everything still written
       (compare --fail-if-slower: a cell got significantly worse)
  2    bad usage or input, said in one line; nothing run, nothing written
  3    selfcheck: usable, but noisy (a check could not tell)
  70   an internal error (a bug in gilbench): one line, the traceback with
       GILBENCH_TRACEBACK=1; never 1, which a CI gate reads as "slower"
  74   a file could not be written (disk full, quota, read-only): one line says what
       is saved and the command that finishes the job once there is space
  124  a kernel did not return within --timeout in gilbench's own process (its serial
       run, result check or calibration): one line names it and the phase; what
       finished is written
  129  the terminal was closed (SIGHUP), as 130 otherwise
  130  interrupted by Ctrl-C (what finished is written; gilbench run --resume DIR)
  141  the reader of stdout closed it (gilbench list | head), quietly
  143  stopped by SIGTERM, as 130 otherwise"""
