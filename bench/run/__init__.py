"""A run of ``gilbench run``, from its first line to its last: ``local`` (the run in this
interpreter, new or resumed) and ``matrix`` (``--python``: one plan in several
interpreters, and their comparison), side by side, sharing ``endings``. The CLI only
parses and dispatches (``bench.cli``); the measuring is ``bench.session`` and
``bench.runner``'s, in whichever interpreter runs the cells."""
