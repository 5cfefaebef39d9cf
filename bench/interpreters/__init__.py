"""``gilbench run --python PATH [--python PATH ...]``: the sweep in several interpreters.

Each interpreter runs the cells itself (``bench.remote``, with gilbench's folder on its
PYTHONPATH, so it needs no installation), and its results land in
``DIR/<label>/results.json`` with their report; the single-thread cost (serial runs
interleaved across the interpreters) and a comparison of them are written to DIR
(``bench.runfolder`` has the layout).

- ``found``: the interpreters given (``[NAME=VALUE ...] PATH``), probed and labelled;
- ``sweep``: one interpreter's sweep (``run_in``);
- ``serial``: the interleaved serial runs of the single-thread cost (``measure``).

The whole run, new or resumed, and its comparison are ``bench.run.matrix``'s, beside the
run in this interpreter (``bench.run.local``).
"""

from gilbench.bench.interpreters.found import (
    MIN_VERSION,
    Interpreter,
    find_interpreters,
    parse_spec,
    probe,
    with_env,
)
from gilbench.bench.interpreters.serial import MIN_ROUNDS, measure, pure_python_workloads
from gilbench.bench.interpreters.sweep import merged_machine, run_in

__all__ = ["MIN_ROUNDS", "MIN_VERSION", "Interpreter", "find_interpreters", "measure",
           "merged_machine", "parse_spec", "probe", "pure_python_workloads", "run_in",
           "with_env"]
