"""gilbench: threads, processes and the GIL, measured on your own machine.

The harness, one place per extension point, imports running one way
(docs/developing.md has the picture and a recipe for each):

- ``strategies/``: the ways to spread tasks over workers (``STRATEGIES``);
- ``runner/``: plans and the paired, drift-cancelling measurement of blocks of cells;
- ``suites/``: the cost suites (``entries``: their records, on the data floor);
- ``session``: a run's state and the one way a ``Results`` is assembled;
- ``results``: results.json; ``analysis/``: numbers and verdicts from it;
- ``report/``: charts, reports, comparisons and the terminal summary;
- ``cli``, ``options``: the ``gilbench`` command; ``pytest_plugin``: the pytest path.

This module imports nothing: ``gilbench.bench.startprobe`` measures process start-up,
and a spawned child imports this package too. Imported under its old top-level name
``bench`` (a checkout's working folder, or code written before the move), it becomes an
alias of ``gilbench.bench`` with a deprecation warning (``gilbench._legacy``).
"""

if __name__ == "bench":
    from gilbench._legacy import alias

    alias(__name__)

__version__ = "0.1.0"
