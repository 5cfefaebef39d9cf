"""The one error type for anything the user can fix."""

from __future__ import annotations

from collections.abc import Sequence


class UserError(Exception):
    """Bad input: caught in ``cli.main`` and printed as one line, exit 2.

    The message says what was wrong and what is valid (or how to fix it).
    """


def did_you_mean(name: str, valid: Sequence[str]) -> str:
    """' (did you mean 'fib'?)' for the closest valid name, '' when none is close."""
    import difflib

    close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
