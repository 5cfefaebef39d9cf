"""gilbench in every pytest session, inert until a test uses it (the ``pytest11`` entry
point ``gilbench``; docs/usage.md, "Through pytest").

Installing gilbench registers this module with pytest, so a user's suite needs no ``-p``:
a test that asks for ``gilbench_benchmark`` (or ``gilbench_cell``) is parametrised over
the cells and timed, never skipped unmeasured. A session that uses none of it is left as it
was: this module defines the options (so ``--gilbench-profile`` parses anywhere), the
``gilbench`` marker and the fixtures' names, and imports nothing of gilbench; the harness
(``gilbench.bench.pytest_plugin``) is imported and registered only when a test asks for a
gilbench fixture or a ``--gilbench-*`` option is given. Until then no benchmark setting,
no JSON, no summary and no item of the session is touched (a test runs a foreign
project's session with gilbench installed and compares).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

import pytest

HARNESS = "gilbench-harness"  # the name bench.pytest_plugin is registered under
PROFILES = ("quick", "standard", "full")  # bench.pytest_plugin.TIMED_PROFILES (checked)
OPTIONS = ("gilbench_profile", "gilbench_out", "gilbench_timeout")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gilbench", "gilbench: threads vs processes benchmarks")
    group.addoption("--gilbench-profile", choices=PROFILES, default=None,
                    help="sizes, repeats and worker counts of the benchmarks "
                         "(default quick when timing; smoke sizes when not)")
    group.addoption("--gilbench-out", metavar="DIR", default=None,
                    help="where the charts and report go (default reports/pytest-<time>)")
    group.addoption("--gilbench-timeout", metavar="SECONDS", type=_seconds, default=None,
                    help="time limit of each run of a benchmark (default the profile's: "
                         "60 s at quick and standard); a kernel that never returns in "
                         "pytest's own process fails its tests in one line")


def _seconds(text: str) -> float:
    """``--gilbench-timeout``, checked as ``gilbench run --timeout`` is."""
    from gilbench.bench.errors import UserError
    from gilbench.bench.options import parse_timeout

    try:
        return parse_timeout(text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--timeout: ")) from None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "gilbench(workloads=None, strategies=None, workers=None, start_methods=None):"
        " the cells a test that uses gilbench_cell or gilbench_benchmark is parametrised over "
        "(default: the kernels its module defines, else every kernel; every strategy; the "
        "profile's worker counts; the default start method)")
    if any(config.getoption(o, None) is not None for o in OPTIONS):
        harness(config)


def harness(config: pytest.Config) -> Any:
    """``gilbench.bench.pytest_plugin``, registered with this session (once; its
    ``pytest_configure`` runs then, as pytest calls it for a plugin registered late)."""
    pm = config.pluginmanager
    found = pm.get_plugin(HARNESS)
    if found is not None:
        return found
    from gilbench.bench import pytest_plugin

    if not pm.is_registered(pytest_plugin):  # not already given with -p
        pm.register(pytest_plugin, HARNESS)
    return pytest_plugin


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "gilbench_cell" in metafunc.fixturenames:
        harness(metafunc.config).parametrize_cells(metafunc)


@pytest.fixture
def gilbench_cell(request: pytest.FixtureRequest) -> tuple[str, str, int]:
    """(workload, strategy, workers) of this benchmark (parametrised by the plugin; the
    strategy is ``name[start method]`` where ``@pytest.mark.gilbench`` names start methods)."""
    return harness(request.config).cell_of(request)


@pytest.fixture
def gilbench_benchmark(request: pytest.FixtureRequest, benchmark: Any,
                       gilbench_cell: tuple[str, str, int], gilbench_session: Any
                       ) -> Iterator[Any]:
    """Call it to time this test's cell (``gilbench_cell``) with pytest-benchmark, paired
    with serial runs; returns the measured ``Cell`` (None when not timing). A test that
    never calls it fails: nothing would have been measured."""
    yield from harness(request.config).benchmark_fixture(benchmark, gilbench_cell,
                                                         gilbench_session, request.node)


@pytest.fixture(scope="session")
def gilbench_session(pytestconfig: pytest.Config) -> Iterator[Any]:
    """The session's measurements; its resources (echo server, folders) close after it."""
    yield from harness(pytestconfig).session_fixture(pytestconfig)
