"""The speedup suite through pytest-benchmark: ``pytest --benchmark-only``.

One benchmark per (workload, strategy, workers), parametrised by gilbench's
plugin over the registries, ids like ``fib-process_pool-2``. Under plain
``pytest`` each runs once, untimed, at smoke size.
"""

from gilbench.bench.pytest_plugin import run_benchmark


def test_speedup(benchmark, gilbench_cell, gilbench_session):
    workload, strategy, workers = gilbench_cell
    run_benchmark(benchmark, gilbench_session, workload, strategy, workers)
