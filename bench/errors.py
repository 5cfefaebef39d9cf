"""The one error type for anything the user can fix."""


class UserError(Exception):
    """Bad input: caught in ``cli.main`` and printed as one line, exit 2.

    The message says what was wrong and what is valid (or how to fix it).
    """
