"""pytest-benchmark integration: the same sweep as ``gilbench run``, as benchmarks.

The harness behind ``gilbench.pytest_plugin`` (the ``pytest11`` entry point every session
with gilbench installed loads): that module registers this one only when a test asks for a
gilbench fixture or a ``--gilbench-*`` option is given, so every other project's pytest
sessions stay exactly as they were (their ``pytest``, ``--benchmark-only``,
``--benchmark-autosave``, ``-n`` and benchmark JSON). Once registered, it has the
fixtures' bodies (``parametrize_cells``, ``cell_of``, ``benchmark_fixture``,
``session_fixture``) and these pytest-benchmark hooks:

- ``pytest_benchmark_update_machine_info`` adds a ``gilbench`` block (GIL
  state, free-threaded build, usable CPUs, start method, CPU model);
- ``pytest_benchmark_update_json`` adds each benchmark's speedup over the
  serial run of its workload, measured in the same session.

Timing uses gilbench's own pieces: the strategy is created and warmed outside
the timed region (``startup_s`` goes in ``extra_info``), ``benchmark.pedantic``
times the runs, results are checked equal to serial's. At the end of a
session that timed anything, the charts and report are written like
``gilbench run``'s. Plain ``pytest`` runs each gilbench benchmark once at smoke size,
untimed (its own benchmark disabled), unless ``--benchmark-only`` or
``--benchmark-enable`` asks for timing.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gilbench.bench import meters, phases
from gilbench.bench.analysis.verdicts import in_its_words
from gilbench.bench.errors import UserError
from gilbench.bench.files import FolderLock, WriteFailed, new_folder
from gilbench.bench.machine import collect_machine, free_threaded_build, usable_cpus
from gilbench.bench.plan import Precision
from gilbench.bench.profiles import PROFILES, default_workers
from gilbench.bench.report import render
from gilbench.bench.report.terminal import speedup_lines, wrapped
from gilbench.bench.results import Cell, Results, file_stamp, utc_now, with_speedup
from gilbench.bench.runfolder import reports_root
from gilbench.bench.runner import (
    CellMeter,
    CellSpec,
    blas_limit,
    build_cell,
    cell_fields,
    measure,
    missing_requirement,
    rounds,
    single_thread_blas,
)
from gilbench.bench.runner.confirm import CONFIRM_MIN_PAIRS
from gilbench.bench.session import Session
from gilbench.bench.strategies import STRATEGIES, Deadline, Strategy, ctrl_c_deferred
from gilbench.bench.watchdog import KernelHung, watched
from gilbench.workloads import WORKLOADS, Task, no_resource
from gilbench.workloads.user import WorkloadSourceError, size_and_check

TIMED_PROFILES = ("quick", "standard", "full")
# Readings that change from one run to the next: they go with the run's JSON, not in
# machine_info, which pytest-benchmark compares and warns about when it differs.
VOLATILE = ("load_average", "cpu_freq_mhz")


def _timing(config: pytest.Config) -> bool:
    return bool(config.getoption("benchmark_only", False)
                or config.getoption("benchmark_enable", False))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """The session's gilbench state, once a test uses gilbench (``gilbench.pytest_plugin``
    registers this module then; pytest calls this hook for it at once). It changes no
    benchmark setting of the session's other tests: a gilbench benchmark that is not timed
    is disabled by its own fixture (``benchmark_fixture``), and a timed session keeps each
    round's time in the JSON, for ``gilbench report``."""
    if not config.pluginmanager.hasplugin("benchmark"):
        return
    bs = getattr(config, "_benchmarksession", None)  # pytest-benchmark's own session
    if _timing(config) and bs is not None:
        bs.save_data = True
    profile = config.getoption("gilbench_profile") or ("quick" if _timing(config) else "smoke")
    config.stash[STATE] = BenchmarkSession(
        profile=profile, timed=_timing(config),
        timeout_s=config.getoption("gilbench_timeout") or PROFILES[profile].timeout_s)


@dataclass
class _Held:
    """A cluster kept between benchmarks (``_started``)."""

    key: tuple[Any, ...]
    strategy: Strategy
    startup_s: float
    before: set[int]  # the processes there before it started (for the meter)


@dataclass
class BenchmarkSession:
    """What one pytest session measured, and the resources its cells share."""

    profile: str
    timed: bool
    timeout_s: float = 60.0  # each run's time limit (--gilbench-timeout, else the profile's)
    cells: list[Cell] = field(default_factory=list)
    hung: dict[str, str] = field(default_factory=dict)  # kernel -> why its tests fail at once
    serial_times: dict[str, tuple[float, ...]] = field(default_factory=dict)
    references: dict[str, list[Any]] = field(default_factory=dict)
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    resources: dict[str, Any] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    machine: dict[str, Any] | None = None
    held: _Held | None = None  # the cluster kept for the benchmarks that share it
    report_dir: Path | None = None  # where the charts and report went, when written
    saved_to: Path | None = None  # where results.json was saved (the report may not be)
    failed_write: str = ""  # why they could not be written (said in the summary)
    results: Results | None = None  # what the session measured, speedups computed

    def release(self, failed: bool = False) -> None:
        """Close the cluster kept for the benchmarks that shared it (terminate it after a
        failure); whole, whatever the user presses meanwhile."""
        held, self.held = self.held, None
        if held is not None:
            with ctrl_c_deferred():
                if failed:
                    held.strategy.terminate()
                else:
                    held.strategy.close()

    def close(self) -> None:
        """Everything the session holds: its cluster, then its kernels' resources."""
        try:
            self.release()
        finally:
            self.stack.close()

    def resource(self, workload: str) -> Any:
        if workload not in self.resources:
            setup = WORKLOADS[workload].setup or no_resource
            self.resources[workload] = self.stack.enter_context(setup())
        return self.resources[workload]

    def size(self, workload: str) -> int:
        """The workload's size at this session's profile; a user's kernel without sizes is
        calibrated here, once, and its results checked (equal and picklable)."""
        if workload not in self.sizes:
            try:
                self.sizes[workload], _ = size_and_check(
                    WORKLOADS[workload], self.profile, self.resource(workload),
                    lambda name, phase: watched(name, phase, self.timeout_s))
            except WorkloadSourceError as exc:
                raise pytest.UsageError(f"gilbench: {exc}") from None
        return self.sizes[workload]

    @property
    def rounds(self) -> int:
        """Timed rounds a benchmark: as many pairs as the CLI's confirmed headlines rest on
        (``CONFIRM_MIN_PAIRS``), at least. This path has no confirmation, so its headline is
        the simultaneous choice among the cells; with the profile's 6 rounds (quick) no
        joint interval existed and a clear 1.93× [1.89–1.97] was headlined "can't tell"."""
        repeats = PROFILES[self.profile].repeats
        return max(repeats, CONFIRM_MIN_PAIRS) if self.timed else repeats

    def workers(self) -> list[int]:
        if self.profile == "smoke":
            return [2]  # untimed: one worker count exercises every code path
        return default_workers(usable_cpus(), PROFILES[self.profile].max_workers)


STATE = pytest.StashKey[BenchmarkSession]()  # the pytest session's gilbench state


def _marked(metafunc: pytest.Metafunc) -> dict[str, Any]:
    marker = metafunc.definition.get_closest_marker("gilbench")
    if marker is None:
        return {}
    if marker.args:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: @pytest.mark.gilbench takes "
                                "keywords: workloads=, strategies=, workers=, start_methods=")
    unknown = set(marker.kwargs) - {"workloads", "strategies", "workers", "start_methods"}
    if unknown:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: @pytest.mark.gilbench has no "
                                f"{', '.join(sorted(unknown))}; it takes workloads=, "
                                "strategies=, workers=, start_methods=")
    return dict(marker.kwargs)


def _names(given: Any, valid: Any, what: str, nodeid: str) -> list[Any]:
    names = [given] if isinstance(given, (str, int)) else list(given)
    bad = [n for n in names if n not in valid]
    if bad or not names:
        raise pytest.UsageError(f"{nodeid}: @pytest.mark.gilbench: unknown {what} "
                                f"{', '.join(map(str, bad)) or '(none given)'}; valid: "
                                f"{', '.join(map(str, valid))}")
    return names


NEEDS_BENCHMARK = ("gilbench: timing a cell needs pytest-benchmark, which this environment "
                   "lacks: pip install 'gilbench[pytest]'")


def parametrize_cells(metafunc: pytest.Metafunc) -> None:
    """A test that asks for ``gilbench_cell`` gets one item per cell (``gilbench_cell``);
    without pytest-benchmark, one item that fails saying so (never a skip: a suite must
    not pass having measured nothing)."""
    session: BenchmarkSession | None = metafunc.config.stash.get(STATE, None)
    if session is None:
        metafunc.parametrize("gilbench_cell", [pytest.param(None, id="needs-pytest-benchmark")])
        return
    nodeid = metafunc.definition.nodeid
    mark = _marked(metafunc)
    # The kernels the test's own module defines (a user's suite), else every kernel.
    here = [w.name for w in WORKLOADS.values()
            if w.origin and w.origin[0] == metafunc.module.__name__]
    workloads = (_names(mark["workloads"], WORKLOADS, "workload", nodeid)
                 if mark.get("workloads") is not None else here or list(WORKLOADS))
    wanted = (_names(mark["strategies"], STRATEGIES, "strategy", nodeid)
              if mark.get("strategies") is not None else list(STRATEGIES))
    counts = session.workers()
    if mark.get("workers") is not None:
        counts = [mark["workers"]] if isinstance(mark["workers"], int) else list(mark["workers"])
        if not counts or not all(isinstance(n, int) and 1 <= n <= 1024 for n in counts):
            raise pytest.UsageError(f"{nodeid}: @pytest.mark.gilbench: workers={mark['workers']!r}"
                                    "; give worker counts from 1 to 1024, e.g. [1, 2, 4]")
    methods = (_names(mark["start_methods"], multiprocessing.get_all_start_methods(),
                      "start method", nodeid)
               if mark.get("start_methods") is not None else [None])
    params = []
    for w in workloads:
        params.append(pytest.param((w, "serial", 1), id=f"{w}-serial-1"))
        for s in wanted:
            cls = STRATEGIES[s]
            # Only what can run here: an unavailable strategy (a module not installed, an
            # older Python) or one that does not apply (asyncio on CPU work) has no benchmark.
            if s == "serial" or not cls.available()[0] or cls.applies_to(Task(w, 0)) is not None:
                continue
            for m in (methods if cls.uses_processes else [None]):
                label = f"{s}[{m}]" if m else s
                params += [pytest.param((w, label, n), id=f"{w}-{label}-{n}") for n in counts]
    metafunc.parametrize("gilbench_cell", params)


def cell_of(request: pytest.FixtureRequest) -> tuple[str, str, int]:
    """The ``gilbench_cell`` fixture's value: its parameter (``parametrize_cells``)."""
    if request.param is None:
        pytest.fail(NEEDS_BENCHMARK, pytrace=False)
    return request.param


CALLED = pytest.StashKey[list[bool]]()  # whether a test called its gilbench_benchmark


def benchmark_fixture(benchmark: Any, cell: tuple[str, str, int], session: BenchmarkSession,
                      node: pytest.Item) -> Iterator[Any]:
    """The ``gilbench_benchmark`` fixture: a callable that times the cell (not timing: runs
    it once, ``run_benchmark``). A test that passes without calling it fails
    (``pytest_runtest_makereport``): it measured nothing."""
    called = node.stash[CALLED] = [False]

    def run() -> Cell | None:
        called[0] = True
        return run_benchmark(benchmark, session, *cell)

    yield run


def session_fixture(config: pytest.Config) -> Iterator[BenchmarkSession]:
    """The ``gilbench_session`` fixture; its resources close after the session."""
    session: BenchmarkSession | None = config.stash.get(STATE, None)
    if session is None:
        pytest.fail(NEEDS_BENCHMARK, pytrace=False)
    yield session
    session.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Iterator[Any]:
    outcome: Any = yield
    report = outcome.get_result()
    called = item.stash.get(CALLED, None)
    if report.when == "call" and report.passed and called is not None and not called[0]:
        report.outcome = "failed"
        report.longrepr = (f"gilbench: {item.nodeid} asks for gilbench_benchmark but never "
                           "calls it: nothing was measured (call gilbench_benchmark() in the "
                           "test)")


def _serial_times(session: BenchmarkSession, workload: str, task: Any, items: list[int]) -> tuple:
    """The serial baseline: this session's serial benchmark, or measured now."""
    if workload not in session.serial_times:
        profile = PROFILES[session.profile]
        spec = CellSpec(workload, "serial", None, 1, session.size(workload), len(items))
        cell, _ = measure(spec, task, session.references.get(workload), repeats=session.rounds,
                          warmup=profile.warmup, timeout_s=session.timeout_s)
        if not cell.ok:
            raise RuntimeError(f"the serial baseline of {workload} failed: {cell.error}")
        session.serial_times[workload] = cell.times_s
        session.cells.append(cell)  # the report needs its baseline too
    return session.serial_times[workload]


def run_benchmark(benchmark: Any, session: BenchmarkSession, workload: str, strategy: str,
                  workers: int) -> Cell | None:
    """Time one (workload, strategy, workers) cell with pytest-benchmark (``_benchmark``).
    A kernel that never returns in this process fails the test in one line, as it stops
    ``gilbench run`` (``bench.watchdog``); the next test goes on. Not timing, this
    benchmark alone is disabled (it runs once): the session's other benchmarks keep their
    settings."""
    if not session.timed:
        benchmark.disabled = True
    if workload in session.hung:  # an earlier test of it found it hung: not again
        pytest.fail(session.hung[workload], pytrace=False)
    try:
        return _benchmark(benchmark, session, workload, strategy, workers)
    except KernelHung as exc:
        session.hung[workload] = (f"gilbench: {exc}; "
                                  f"{exc.advice('--gilbench-timeout')}")
    pytest.fail(session.hung[workload], pytrace=False)


def _benchmark(benchmark: Any, session: BenchmarkSession, workload: str, strategy: str,
               workers: int) -> Cell | None:
    """Time one (workload, strategy, workers) cell with pytest-benchmark.

    pytest-benchmark times each round; gilbench's own bookkeeping runs between the rounds,
    in its ``setup`` (untimed): the serial run paired with each round, in the sweep's
    alternating order (before the cell's run in even rounds, after it in odd ones), and
    the CPU and memory readings around each run. The cell is then built as the sweep
    builds it (``bench.runner.build_cell``)."""
    w = WORKLOADS[workload]
    missing = missing_requirement(w)
    if missing:
        pytest.skip(f"{workload} {missing}")
    strategy, _, named = strategy.partition("[")  # "process_pool[spawn]": a start method
    profile = PROFILES[session.profile]
    size = session.size(workload)
    tasks = max(profile.tasks, *session.workers())
    items = list(range(tasks))
    cls = STRATEGIES[strategy]
    method = (named.rstrip("]") or multiprocessing.get_start_method()) if cls.uses_processes \
        else None
    spec = CellSpec(workload, strategy, method, workers, size, tasks)
    task = Task(workload, size, session.resource(workload))
    deadline = Deadline(session.timeout_s)
    paired = strategy != "serial"
    meter = CellMeter()
    serial_s: list[float] = []
    outs: list[list[Any]] = []

    def serial_run() -> None:
        t = time.perf_counter()
        task_map_serial(task, items)
        serial_s.append(time.perf_counter() - t)

    calls = [0]

    def between_rounds() -> tuple[tuple[Any, ...], dict[str, Any]]:
        # Untimed by pytest-benchmark: the previous round's readings end, its serial run
        # follows it if it was an odd round; this round's serial run comes first if it is
        # an even one; this round's readings begin.
        k = calls[0] - profile.warmup  # the timed round about to run (negative: warm-up)
        calls[0] += 1
        if k > 0:
            meter.after_run()
            if paired and not rounds.forward(k - 1):  # the serial run last in that round
                serial_run()
        if k >= 0:
            if paired and rounds.forward(k):  # the serial run first in this one
                serial_run()
            meter.before_run()
        return (task, items, deadline), {}

    def timed(*args: Any) -> list[Any]:
        out = s.map(*args)
        outs.append(out)  # every round's result is checked, after the timing
        return out

    with blas_limit(w):
        if workload not in session.references:
            with watched(workload, "its serial results, the reference", session.timeout_s):
                session.references[workload] = [task(i) for i in items]
        reference = session.references[workload]
        phases.reached("pytest")
        initializer = single_thread_blas if w.single_thread_blas else None
        with _started(session, cls, workers, method, initializer, deadline) as (
                s, startup_s, before):
            meter.started(before, s.pids)
            benchmark.group = workload
            benchmark.extra_info.update(workload=workload, kind=w.kind, strategy=strategy,
                                        model=cls.model, start_method=method, workers=workers,
                                        size=size, tasks=tasks, startup_s=startup_s,
                                        gil_enabled_in_workers=s.gil_in_workers)
            if cls.starts_a_cluster:
                benchmark.extra_info["startup_is"] = (
                    "the start of the cluster this benchmark shares with the others of the "
                    "same strategy and workers (started once)")
            # The serial runs between the rounds, and the rounds themselves when the cell
            # runs in this thread, bounded together: each run has the profile's time limit.
            runs = (session.rounds + profile.warmup) * (2 if paired else 1)
            with watched(workload, f"the rounds of its {strategy} benchmark and their "
                         f"serial runs ({runs} runs)", session.timeout_s * runs):
                benchmark.pedantic(timed, setup=between_rounds, rounds=session.rounds,
                                   warmup_rounds=profile.warmup, iterations=1)
            if calls[0] > profile.warmup:  # the last round's readings, and its serial run
                meter.after_run()
                if paired and not rounds.forward(session.rounds - 1):
                    serial_run()
            if free_threaded_build() and s.gil_in_workers is False:
                # An import during the runs can turn the GIL back on (see BlockMeasurement).
                s.gil_in_workers = s.gil_now(deadline)
                benchmark.extra_info["gil_enabled_in_workers"] = s.gil_in_workers
            readings = meter.readings(session.rounds)
    for i, out in enumerate(outs):
        assert out == reference, f"{strategy} results differ from the serial run's (run {i})"
    if not session.timed or not benchmark.enabled:
        return None
    times = tuple(benchmark.stats.stats.data)
    if strategy == "serial":
        session.serial_times[workload] = times
    cell = build_cell(cell_fields(spec), times, serial_s, paired=paired,
                      precision=Precision.fixed(session.rounds), usable_cpus=usable_cpus(),
                      startup_s=startup_s, readings=readings, gil=s.gil_in_workers)
    if not paired:
        cell = with_speedup(cell, _serial_times(session, workload, task, items))
    session.cells.append(cell)
    return cell


@contextlib.contextmanager
def _started(session: BenchmarkSession, cls: type[Strategy], workers: int,
             method: str | None, initializer: Callable[[], None] | None,
             deadline: Deadline) -> Iterator[tuple[Strategy, float, set[int]]]:
    """The benchmark's workers, started, with their start-up time and the processes that
    were there before them (for the meter).

    A pool is the benchmark's own, closed after it. A cluster (``Strategy.starts_a_cluster``: Dask,
    Ray) takes seconds to start, so the session keeps one for every benchmark of the same
    strategy, start method, workers and initializer (the plugin runs those one after the
    other, first among the benchmarks: ``pytest_collection_modifyitems``); its start is
    measured once and recorded for each. It is closed as soon as the next test is not one
    of them (``pytest_runtest_teardown``), when one fails (terminated), and at the end."""
    if not cls.starts_a_cluster:
        session.release()  # an idle cluster's heartbeats must not run beside this one
        with cls(workers, method, initializer) as strat:
            before = meters.children()
            t0 = time.perf_counter()
            strat.start(deadline)
            yield strat, time.perf_counter() - t0, before
        return
    key = (cls.name, method, workers, initializer)
    if session.held is None or session.held.key != key:
        session.release()
        before = meters.children()
        held = _Held(key, cls(workers, method, initializer), 0.0, before)
        session.held = held  # held before it starts: a failure or Ctrl-C tears it down
        try:
            t0 = time.perf_counter()
            held.strategy.start(deadline)
            held.startup_s = time.perf_counter() - t0
        except BaseException:
            session.release(failed=True)
            raise
    held = session.held
    try:
        yield held.strategy, held.startup_s, held.before
    except BaseException:
        session.release(failed=True)
        raise


def _machine(config: pytest.Config) -> dict[str, Any]:
    session = config.stash[STATE]
    if session.machine is None:
        session.machine = collect_machine()
    return session.machine


def pytest_benchmark_update_machine_info(config: pytest.Config,
                                         machine_info: dict[str, Any]) -> None:
    if STATE not in config.stash:
        return
    record = _machine(config)
    machine_info["gilbench"] = {
        **{k: v for k, v in record.items() if k not in VOLATILE},
        "start_method": multiprocessing.get_start_method(),
        "profile": config.stash[STATE].profile,
    }


SPEEDUP_IS = ("the median over the rounds of (a serial run timed just before the round ÷ the "
              "round's time); speedup_ci95 its distribution-free 95% interval (null below 6 "
              "pairs)")


def task_map_serial(task: Any, items: list[int]) -> list[Any]:
    return [task(i) for i in items]


def pytest_benchmark_update_json(config: pytest.Config, benchmarks: list[Any],
                                 output_json: dict[str, Any]) -> None:
    """Each benchmark's speedup over its workload's serial run, from the session's cells."""
    if STATE not in config.stash:
        return
    session = config.stash[STATE]
    by_key = {(c.workload, c.strategy, c.start_method, c.workers): c for c in session.cells}
    for b in output_json.get("benchmarks", []):
        info = b.get("extra_info", {})
        cell = by_key.get((info.get("workload"), info.get("strategy"), info.get("start_method"),
                           info.get("workers")))
        if cell is not None and cell.speedup is not None:
            info.update(speedup=cell.speedup,
                        speedup_ci95=list(cell.speedup_ci95) if cell.speedup_ci95 else None,
                        pairs=len(cell.serial_times_s), efficiency=cell.efficiency,
                        serial_times_s=list(cell.serial_times_s),
                        speedup_is=SPEEDUP_IS)
    output_json["gilbench"] = {
        "profile": session.profile, "schema_version": 1,
        "conditions": {k: _machine(config).get(k) for k in VOLATILE}}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The session's results.json, charts and report, as ``gilbench run`` writes them. A
    Ctrl-C while they are written (matplotlib's import and the charts take seconds)
    ends the session as pytest ends an interrupted one (exit 2), saying what was saved
    and how to draw the rest: no traceback."""
    gs: BenchmarkSession | None = session.config.stash.get(STATE, None)
    if gs is None:
        return
    try:
        gs.close()  # normally closed already, with the gilbench_session fixture
        if gs.cells:
            _write_report(session, gs)
    except KeyboardInterrupt:
        saved = gs.saved_to / "results.json" if gs.saved_to else None
        gs.failed_write = ("!!! KeyboardInterrupt: gilbench's report was not written; "
                           + (f"the session's results are saved in {saved}: gilbench report "
                              f"{gs.saved_to} draws it" if saved else "nothing was saved")
                           + " !!!")
        gs.report_dir = None
        session.exitstatus = pytest.ExitCode.INTERRUPTED


def _write_report(session: pytest.Session, gs: BenchmarkSession) -> None:
    created = utc_now()
    out_opt = session.config.getoption("gilbench_out")
    out = (Path(out_opt) if out_opt
           else new_folder(reports_root() / f"pytest-{file_stamp(created)}"))
    run = Session(out, _machine(session.config), created, profile=gs.profile,
                  check_noise=False, resumable=False, source="pytest-benchmark")
    run.cells = list(gs.cells)
    phases.reached("pytest-report")
    try:
        with FolderLock(out, "pytest session"):
            gs.results = run.save(complete=True, speedups=True)
            gs.saved_to = out
            render(gs.results, out)
    except (UserError, WriteFailed) as exc:  # a folder in use, a full disk: one line
        gs.failed_write = f"gilbench: error: {exc}"
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED  # what was asked for is not there
        return
    gs.report_dir = out


@pytest.hookimpl(trylast=True)  # after pytest-benchmark's time tables
def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """The speedups, as `gilbench run` prints them, after pytest-benchmark's time tables."""
    gs: BenchmarkSession | None = config.stash.get(STATE, None)
    if gs is not None and gs.failed_write:
        terminalreporter.write_line(gs.failed_write, red=True)
    if gs is None or gs.report_dir is None:
        return
    if gs.results is not None:
        terminalreporter.write_sep("-", f"gilbench: speedups (profile {gs.profile}; speedup "
                                   "[95% interval] n=pairs, over serial runs paired round "
                                   "by round)")
        results = gs.results
        for line in wrapped([in_its_words(results, x) for x in speedup_lines(results)]):
            terminalreporter.write_line(line)
    out = gs.report_dir
    terminalreporter.write_line(f"gilbench: speedup charts and report in {out} "
                                f"(open {out / 'report.html'})")


def _is_benchmark(item: pytest.Item) -> bool:
    spec = getattr(item, "callspec", None)
    return spec is not None and "gilbench_cell" in spec.params


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """A cluster kept for the benchmarks that share it is closed as soon as the next test
    is not one of them: idle, it would heartbeat beside every other test."""
    gs: BenchmarkSession | None = item.config.stash.get(STATE, None)
    if gs is None or gs.held is None:
        return
    if nextitem is None or _cluster_key(nextitem) != _cluster_key(item):
        gs.release()


def _cluster_key(item: pytest.Item) -> tuple[Any, ...] | None:
    """The cluster a benchmark runs on (strategy with start method, workers, and whether
    its workers hold BLAS to one thread: the initializer), or None."""
    spec = getattr(item, "callspec", None)
    cell = spec.params.get("gilbench_cell") if spec is not None else None
    if not cell:
        return None
    workload, strategy, workers = cell
    cls = STRATEGIES.get(strategy.partition("[")[0])
    if cls is None or not cls.starts_a_cluster:
        return None
    w = WORKLOADS.get(workload)
    return strategy, workers, bool(w and w.single_thread_blas)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Benchmarks on a cluster (Dask, Ray) run first, those of one cluster one after the
    other, so that each cluster starts once (``_started``); the pools' benchmarks follow
    (workers forked after a Ray cell are clean: its driver ran in a process of its own,
    ``bench.strategies.apart``). With
    --benchmark-only, tests that time nothing are deselected up front rather than each
    skipped ("Skipping non-benchmark"), which -ra would list one line each."""
    if STATE not in config.stash:
        return
    keys = {id(i): _cluster_key(i) for i in items}
    order = {key: n for n, key in enumerate(dict.fromkeys(k for k in keys.values() if k))}

    def rank(item: pytest.Item) -> int:  # stable: the others keep their order
        key = keys[id(item)]
        return len(order) if key is None else order[key]

    # Only the benchmarks move, among their own places: every other test stays where it was.
    slots = [n for n, i in enumerate(items) if _is_benchmark(i)]
    for n, item in zip(slots, sorted((items[n] for n in slots), key=rank), strict=True):
        items[n] = item
    if not config.getoption("benchmark_only", False):
        return
    keep = [i for i in items if "benchmark" in getattr(i, "fixturenames", ())]
    if len(keep) < len(items):
        timed = {id(i) for i in keep}
        config.hook.pytest_deselected(items=[i for i in items if id(i) not in timed])
        items[:] = keep
