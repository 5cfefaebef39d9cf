"""Every workload under every strategy (results equal to serial), start methods,
and the faults a strategy must survive: a task that raises, one that hangs, a
worker killed with SIGKILL. After each, no worker process is left behind."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from gilbench.bench.machine import gil_enabled
from gilbench.bench.plan import Precision
from gilbench.bench.runner import CellSpec, blas_limit, measure, measure_block, single_thread_blas
from gilbench.bench.strategies import (
    STRATEGIES,
    Deadline,
    TaskFailed,
    children_ignore_ctrl_c,
    chunks,
)
from gilbench.bench.strategies.coroutines import Asyncio
from gilbench.bench.strategies.subinterpreters import Subinterpreters, interpreters_api
from gilbench.bench.watchdog import KernelHung
from gilbench.workloads import WORKLOADS, Task, no_resource
from tests import kernels
from tests.helpers import assert_no_new_children, children
from tests.helpers import run_gilbench as gilbench

TASKS = 4
PROCESS_STRATEGIES = [n for n, c in STRATEGIES.items() if c.uses_processes]
# Strategies that run here and take any callable (asyncio takes coroutine kernels only).
PLAIN_STRATEGIES = [n for n, c in STRATEGIES.items()
                    if c.available()[0] and c.applies_to(kernels.square) is None]
# Process pools that fail a cell when a worker dies (Dask reschedules the task instead).
DYING_WORKER_STRATEGIES = [*PROCESS_STRATEGIES, "loky"]
# Hang guards, not timings: a cell that must end on a worker's death (in about a second)
# is given a time limit it must not wait for, and checked to end well below it.
LIMIT_S = 120.0
GUARD_S = 60.0
# Clusters take seconds to start: a module starts each once (the ``cluster`` fixture) for
# every workload and for a raising task.
CLUSTERS = ("dask", "ray")


@pytest.fixture(scope="module")
def resources():
    """Each workload's resource (echo server, temporary folder), opened once."""
    with contextlib.ExitStack() as stack:
        yield {name: stack.enter_context((w.setup or no_resource)())
               for name, w in WORKLOADS.items()}


@pytest.fixture(autouse=True)
def workers_find_the_tests(monkeypatch):
    """A local Ray's workers find this repository's ``tests`` package (its kernels) as a
    user's Ray job finds its code: on PYTHONPATH (gilbench starts Ray from an empty folder,
    so the working directory is not on its workers' path)."""
    root = str(Path(__file__).resolve().parent.parent)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (root, os.environ.get("PYTHONPATH")) if p))


def run_cell(fn, strategy, *, workers=2, method=None, timeout_s=60.0, reference=None,
             workload="fib", initializer=None):
    cls = STRATEGIES[strategy]
    method = method or (multiprocessing.get_start_method() if cls.uses_processes else None)
    spec = CellSpec(workload, strategy, method, workers, 1, TASKS)
    before = children()
    cell, out = measure(spec, fn, reference, repeats=1, warmup=0, timeout_s=timeout_s,
                        initializer=initializer)
    assert_no_new_children(before)
    return cell, out


# A cheap kernel of each kind: what a strategy must run (asyncio takes coroutine kernels).
ONE_KERNEL = {"threads": "fib", "processes": "fib", "serial": "fib", "interpreters": "fib",
              "async": "sleep"}


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_every_strategy_runs_a_cell_whole(strategy, resources):
    # Once per strategy, the whole cell: started and warmed, timed, checked against the
    # serial results, measured (CPU, start-up, the GIL in its workers), closed.
    cls = STRATEGIES[strategy]
    workload = ONE_KERNEL[cls.model]
    w = WORKLOADS[workload]
    task = Task(workload, w.sizes["smoke"], resources[workload])
    reference = [task(i) for i in range(TASKS)]
    cell, out = run_cell(task, strategy, reference=reference, workload=workload)
    if not cls.available()[0]:  # said, with the reason, instead of measured
        assert cell.status == "skipped" and cell.error == cls.available()[1], cell
        return
    assert cell.status == "ok", cell.error
    assert out == reference
    assert cell.workload == workload and cell.kind == w.kind
    assert len(cell.times_s) == 1 and cell.median_s > 0
    assert cell.startup_s is not None and cell.cpu_s is not None
    assert cell.gil_enabled_in_workers is gil_enabled()


# One strategy of each kind of worker: threads of this process, processes started by spawn
# (the kernel found again by name, its resource pickled: the strictest start method),
# coroutines and subinterpreters, where the kernel and the interpreter allow them.
EVERY_KIND_OF_WORKER = ("thread_pool", "process_pool", "asyncio", "subinterpreters")


@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_every_workload_runs_in_every_kind_of_worker(workload, resources):
    # Once per workload, in one block: deterministic, and equal to serial's results in
    # each kind of worker that applies; one that does not says why, as a cell.
    w = WORKLOADS[workload]
    task = Task(workload, w.sizes["smoke"], resources[workload])
    initializer = single_thread_blas if w.single_thread_blas else None
    with blas_limit(w):
        reference = [task(i) for i in range(TASKS)]
        assert [task(i) for i in range(TASKS)] == reference, "kernel is not deterministic"
        specs = [CellSpec(workload, name, "spawn" if STRATEGIES[name].uses_processes else None,
                          2, w.sizes["smoke"], TASKS) for name in EVERY_KIND_OF_WORKER]
        before = children()
        measured = measure_block(specs, task, reference, precision=Precision.fixed(1),
                                 warmup=0, timeout_s=60.0, initializer=initializer)
        assert_no_new_children(before)
    for name, (cell, out) in zip(EVERY_KIND_OF_WORKER, measured, strict=True):
        cls = STRATEGIES[name]
        why = cls.available()[1] if not cls.available()[0] else cls.applies_to(task)
        if why:  # asyncio on CPU work, subinterpreters before 3.13 or with numpy
            assert cell.status == "skipped" and cell.error == why, cell
        else:
            assert cell.status == "ok", (name, cell.error)
            assert out == reference, name


@pytest.fixture(scope="module")
def cluster(request, resources):
    """A cluster strategy (Dask, Ray) started once for every workload of the module's
    test (a cluster takes seconds to start and stop). After ``resources``: their servers
    are not the cluster's to stop."""
    cls = STRATEGIES[request.param]
    if not cls.available()[0]:
        pytest.skip(cls.available()[1])
    before = children()
    with pytest.MonkeyPatch.context() as patch:  # its workers find the tests, as above
        patch.setenv("PYTHONPATH", os.pathsep.join(
            p for p in (str(Path(__file__).resolve().parent.parent),
                        os.environ.get("PYTHONPATH")) if p))
        with cls(2, None, single_thread_blas) as strategy:
            strategy.start(Deadline(120))
            yield strategy
    assert_no_new_children(before)


# The tests that share a ``cluster`` stay on one pytest-xdist worker, which starts it once.
SHARES_A_CLUSTER = pytest.mark.xdist_group("test_strategies-cluster")


@SHARES_A_CLUSTER
@pytest.mark.parametrize("cluster", CLUSTERS, indirect=True)
def test_a_task_that_raises_on_a_cluster_fails_the_run_and_the_cluster_goes_on(cluster):
    with pytest.raises(TaskFailed, match="ValueError: task 1 failed on purpose"):
        cluster.map(kernels.raises, list(range(TASKS)), Deadline(60))
    assert cluster.map(kernels.square, [1, 2, 3], Deadline(60)) == [1, 4, 9]


@SHARES_A_CLUSTER
@pytest.mark.parametrize("cluster", CLUSTERS, indirect=True)
def test_every_workload_runs_on_a_cluster(cluster, resources):
    # Every kernel's task, with its resource, reaches a cluster's workers and comes back
    # equal to serial's (one cluster for all of them).
    for workload, w in WORKLOADS.items():
        if cluster.applies_to(Task(workload, 0)) is not None:
            continue
        task = Task(workload, w.sizes["smoke"], resources[workload])
        with blas_limit(w):
            reference = [task(i) for i in range(TASKS)]
            assert cluster.map(task, list(range(TASKS)), Deadline(60)) == reference, workload


@pytest.mark.parametrize("method", [m for m in ("spawn", "forkserver")
                                    if m in multiprocessing.get_all_start_methods()])
@pytest.mark.parametrize("strategy", PROCESS_STRATEGIES)
def test_process_strategies_under_each_start_method(strategy, method):
    reference = [kernels.square(i) for i in range(TASKS)]
    cell, out = run_cell(kernels.square, strategy, method=method, reference=reference)
    assert cell.status == "ok", cell.error
    assert cell.start_method == method
    assert out == reference


@pytest.mark.parametrize("method", multiprocessing.get_all_start_methods())
def test_workers_are_not_mistaken_for_orphans(method):
    # Regression: under forkserver a worker's parent is the fork server, and the
    # orphan watchdog used to kill every worker half a second into a task.
    cell, out = run_cell(kernels.outlasts_the_watchdog, "pool_map", method=method)
    assert cell.status == "ok", cell.error
    assert out == list(range(TASKS))


ORPHAN_SCRIPT = """
import sys, time
from gilbench.bench.strategies import STRATEGIES, Deadline
s = STRATEGIES["pool_map"](2, sys.argv[1])
s.start(Deadline(30))
print(" ".join(map(str, s.pids)), flush=True)
time.sleep(60)
"""


SIGTERM_AT_ONCE = """
import os, signal, sys, time
from gilbench.bench.signals import install_stop_handlers
install_stop_handlers()
lived = 0
for _ in range(int(sys.argv[1])):
    pid = os.fork()
    if pid == 0:  # the child of a pool that is terminated the moment it starts a worker
        time.sleep(0.3)
        os._exit(0)
    os.kill(pid, signal.SIGTERM)
    _, status = os.waitpid(pid, 0)
    lived += not (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM)
print(lived)
"""


def test_a_sigterm_right_after_a_fork_ends_the_child(cli_env):
    # Regression: a forked worker inherits gilbench's SIGTERM handler, and CPython drops
    # a signal that arrives before its after-fork work is done; Pool.terminate() right
    # after the pool replaced a dead worker then waited for that worker for ever. (Without
    # the fix, nearly every one of these children lived on.)
    r = subprocess.run([sys.executable, "-c", SIGTERM_AT_ONCE, "100"], env=cli_env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "0", f"children that outlived a SIGTERM: {r.stdout}"


@pytest.mark.parametrize("method", multiprocessing.get_all_start_methods())
def test_workers_exit_when_gilbench_is_killed(method, cli_env):

    import psutil

    proc = subprocess.Popen([sys.executable, "-c", ORPHAN_SCRIPT, method], env=cli_env,
                            stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert len(pids) == 2
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    deadline = time.monotonic() + 10
    alive = pids
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [p for p in pids if psutil.pid_exists(p)
                 and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"orphaned workers still running: {alive}"


def test_thread_strategies_record_no_start_method():
    cell, _ = run_cell(kernels.square, "threads", method="spawn")
    assert cell.start_method is None


@pytest.mark.parametrize("strategy", [s for s in PLAIN_STRATEGIES if s not in CLUSTERS])
def test_a_task_that_raises_fails_the_cell(strategy):
    cell, _ = run_cell(kernels.raises, strategy)
    assert cell.status == "error"
    assert "ValueError" in cell.error or "failed on purpose" in cell.error


@pytest.mark.parametrize("strategy", PLAIN_STRATEGIES)
def test_a_task_that_hangs_times_out(strategy):
    started = time.monotonic()
    if STRATEGIES[strategy].in_this_thread:
        # serial runs the task in this thread: no deadline can stop it, the watchdog does
        # (tests/test_watchdog.py), and the run stops instead of recording a cell.
        with pytest.raises(KernelHung, match="did not return within 1 s"):
            run_cell(kernels.hangs, strategy, timeout_s=1.0)
        return
    cell, _ = run_cell(kernels.hangs, strategy, timeout_s=1.0)
    assert cell.status == "timeout", cell.error
    assert "time limit" in cell.error
    # A hang guard: in-process strategies wait out the 3 s task, processes are killed at
    # the 1 s limit, a cluster takes seconds to start and stop; none may hang.
    assert time.monotonic() - started < GUARD_S + 4 * STRATEGIES[strategy].extra_start_s


@pytest.mark.parametrize("strategy", DYING_WORKER_STRATEGIES)
def test_a_worker_killed_with_sigkill_fails_the_cell_quickly(strategy):
    started = time.monotonic()
    cell, _ = run_cell(kernels.kills_its_worker, strategy, timeout_s=LIMIT_S)
    assert cell.status == "error", cell.error
    assert "was killed by SIGKILL" in cell.error, cell.error
    assert time.monotonic() - started < GUARD_S, "a dead worker must not wait for the limit"


@pytest.mark.slow
def test_a_dask_worker_killed_with_sigkill_fails_the_cell_naming_it():
    # Dask would re-run the task on another worker; gilbench's cluster does not let it,
    # so the cell fails like every other pool's, naming the worker that died.
    before = children()
    cell, _ = run_cell(kernels.kills_its_worker, "dask", timeout_s=60.0)
    assert cell.status == "error", cell.error
    assert re.search(r"worker process \d+ \(tcp://127\.0\.0\.1:\d+\) died while running a "
                     r"task", cell.error), cell.error
    assert_no_new_children(before)


def free_port() -> int:
    """A loopback port no one listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_a_ray_worker_killed_with_sigkill_fails_the_cell_and_leaves_nothing(monkeypatch):
    # Ray would retry the task; gilbench's remote calls do not let it (max_retries=0).
    monkeypatch.setenv("GILBENCH_TEST_PID", str(os.getpid()))
    before, mine = children(), f"gilbench-ray-{os.getpid()}-*"
    others = set(Path(tempfile.gettempdir()).glob(mine))  # this module's cluster, if alive
    cell, _ = run_cell(kernels.kills_a_worker_outside, "ray", timeout_s=60.0)
    assert cell.status == "error", cell.error
    assert "a Ray worker process died while running a task" in cell.error, cell.error
    assert_no_new_children(before)
    assert not set(Path(tempfile.gettempdir()).glob(mine)) - others  # its folder is gone


@pytest.mark.slow
def test_ray_on_an_existing_cluster(cli_env, tmp_path):
    # A head node started the way a user starts one (ray start --head), in a session of
    # its own so that every process of it is stopped at the end, and nothing else's.
    temp = Path(tempfile.mkdtemp(prefix="gilbench-test-ray-", dir="/tmp"))
    tree: list[psutil.Process] = []
    port = free_port()
    # Ray's token authentication: the cluster's token, given to its clients as Ray reads it.
    cli_env = {**cli_env, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": os.urandom(16).hex()}
    ray_cli = Path(sys.executable).with_name("ray")
    head = subprocess.Popen([str(ray_cli), "start", "--head", "--block", f"--port={port}",
                             "--num-cpus=2", "--include-dashboard=false", f"--temp-dir={temp}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, env=cli_env)
    try:
        up_by = time.monotonic() + 120  # a hang guard: a head node starts in seconds
        while time.monotonic() < up_by and head.poll() is None:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.5)
        out = tmp_path / "run"
        r = gilbench("run", "--suite", "speedup", "--profile", "smoke", "--workloads", "sleep",
                     "--strategies", "ray", "--workers", "2", "--ray-address",
                     f"127.0.0.1:{port}", "--out", str(out), env=cli_env, cwd=tmp_path,
                     timeout=240)
        assert r.returncode == 0, r.stderr[-2000:]
        data = json.loads((out / "results.json").read_text())
        assert data["machine"]["ray_cluster"]["cpus"] == 2
        assert all(c["status"] == "ok" for c in data["cells"]), data["cells"]
    finally:
        # Its processes, waited for: one that this process adopted (it became a child
        # subreaper when a ray cell ran in it) is reaped here.
        with contextlib.suppress(psutil.Error):
            tree = psutil.Process(head.pid).children(recursive=True)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(head.pid, signal.SIGKILL)
        head.wait(60)
        psutil.wait_procs(tree, timeout=30)
        shutil.rmtree(temp, ignore_errors=True)


@pytest.mark.slow
def test_an_unreachable_ray_address_is_one_line(cli_env, tmp_path):
    r = gilbench("run", "--suite", "speedup", "--strategies", "ray", "--ray-address",
                 f"127.0.0.1:{free_port()}", "--out", str(tmp_path / "x"), env=cli_env,
                 cwd=tmp_path, timeout=240)
    assert r.returncode == 2, r.stderr[-2000:]
    assert r.stderr.count("\n") == 1 and "cannot reach a Ray cluster" in r.stderr, r.stderr


def test_ray_says_which_pythons_it_has_no_wheel_for():
    from gilbench.bench.strategies.ray_cluster import RAY_WHEELS, no_wheel_here

    here = no_wheel_here()
    ft = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    assert (here is None) is (sys.version_info[:2] in RAY_WHEELS and not ft)


@pytest.mark.parametrize("strategy", ["pool_map", "pool_imap", "pool_apply_async"])
def test_an_idle_worker_killed_does_not_hang_the_teardown(strategy):
    # An idle Pool worker waits for a task holding the task queue's read lock;
    # killed there, it used to leave Pool.terminate() waiting for that lock forever.
    started = time.monotonic()
    cell, _ = run_cell(kernels.kills_an_idle_sibling, strategy, method="fork",
                       timeout_s=LIMIT_S)
    assert cell.status == "error", cell.error
    assert "was killed by SIGKILL" in cell.error, cell.error
    assert time.monotonic() - started < GUARD_S, "the teardown must not wait for the limit"


@pytest.mark.parametrize("strategy", DYING_WORKER_STRATEGIES)
def test_a_worker_that_segfaults_fails_the_cell(strategy):
    cell, _ = run_cell(kernels.crashes_its_worker, strategy, timeout_s=30.0)
    assert cell.status == "error", cell.error
    assert "was killed by SIGSEGV" in cell.error, cell.error


def test_a_wrong_result_is_an_error():
    cell, _ = run_cell(kernels.square, "thread_pool", reference=[0, 1, 2, 99])
    assert cell.status == "error"
    assert "differ" in cell.error


@pytest.mark.parametrize("n, parts, sizes", [
    (8, 2, [4, 4]), (7, 3, [3, 2, 2]), (2, 4, [1, 1]), (0, 2, []),
])
def test_chunks(n, parts, sizes):
    got = chunks(list(range(n)), parts)
    assert [len(c) for c in got if len(c)] == sizes
    assert [x for c in got for x in c] == list(range(n))


def test_list_says_which_strategies_run_here_and_why_not(cli_env, tmp_path):
    r = gilbench("list", "--json", env=cli_env, cwd=tmp_path)
    strategies = {s["name"]: s for s in json.loads(r.stdout)["strategies"]}
    assert {"subinterpreters", "asyncio", "loky", "dask"} <= set(strategies)
    sub = strategies["subinterpreters"]
    assert sub["available"] is (interpreters_api() is not None)
    if not sub["available"]:
        assert "needs Python 3.13+" in sub["unavailable_reason"]
    assert strategies["loky"]["available"] and strategies["dask"]["available"]


def test_asyncio_overlaps_waits_and_refuses_cpu_work():
    w = WORKLOADS["sleep"]
    task = Task("sleep", w.sizes["smoke"])
    cell_, out = measure(CellSpec("sleep", "asyncio", None, 4, task.size, 8), task,
                         [task(i) for i in range(8)], repeats=1, warmup=0, timeout_s=30)
    assert cell_.status == "ok" and out == list(range(8))
    assert cell_.model == "async" and cell_.start_method is None
    assert "not applicable" in Asyncio.applies_to(Task("fib", 1))
    slow = Task("sleep", 3000)  # 3 s per task against a 0.5 s limit
    cell_, _ = measure(CellSpec("sleep", "asyncio", None, 2, 3000, 2), slow, None, repeats=1,
                       warmup=0, timeout_s=0.5)
    assert cell_.status == "timeout"


def test_subinterpreters_refuse_numpy():
    assert "numpy cannot be imported" in Subinterpreters.applies_to(Task("numpy_matmul", 1))
    assert Subinterpreters.applies_to(Task("fib", 1)) is None


@pytest.mark.slow
def test_dask_against_an_existing_scheduler(cli_env, tmp_path):
    from distributed import LocalCluster

    before = children()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        out = tmp_path / "run"
        r = gilbench("run", "--suite", "speedup", "--profile", "smoke", "--workloads", "sleep",
                     "--strategies", "dask", "--dask-scheduler", cluster.scheduler_address,
                     "--out", str(out), env=cli_env, cwd=tmp_path)
        assert r.returncode == 0, r.stderr[-2000:]
    data = json.loads((out / "results.json").read_text())
    assert data["machine"]["dask_cluster"]["workers"] == 2
    assert data["machine"]["dask_cluster"]["address"] == cluster.scheduler_address
    assert all(c["status"] == "ok" for c in data["cells"])
    assert_no_new_children(before)
    # The address is part of the plan, so a resumed run uses it too: with the cluster
    # gone, the resume says so in one line (it does not start a LocalCluster instead).
    assert data["run"]["plan"]["addresses"] == [["dask", cluster.scheduler_address]]
    data["run"]["complete"], data["cells"] = False, data["cells"][:-1]
    (out / "results.json").write_text(json.dumps(data))
    r = gilbench("run", "--resume", str(out), env=cli_env, cwd=tmp_path)
    assert r.returncode == 2, r.stderr[-2000:]
    assert r.stderr.count("\n") == 1, r.stderr
    assert f"cannot reach a Dask scheduler at {cluster.scheduler_address}" in r.stderr


@pytest.mark.slow
def test_an_unreachable_dask_scheduler_is_one_line(cli_env, tmp_path):
    r = gilbench("run", "--suite", "speedup", "--strategies", "dask", "--dask-scheduler",
                 "tcp://127.0.0.1:9", "--out", str(tmp_path / "x"), env=cli_env, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "cannot reach a Dask scheduler" in r.stderr


@pytest.mark.parametrize("method", multiprocessing.get_all_start_methods())
def test_a_child_started_under_the_guard_never_sees_ctrl_c(method):
    # Ctrl-C reaches the whole process group; a child that got it between its
    # fork and init_worker printed a KeyboardInterrupt traceback (CI, once).
    # Started under the guard, even a child that never ignores SIGINT itself
    # sits through one; this process's own mask comes back unchanged.
    ctx = multiprocessing.get_context(method)
    ready, go_on = ctx.Queue(), ctx.Event()
    child = ctx.Process(target=kernels.sits_through_a_ctrl_c, args=(ready, go_on))
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    with children_ignore_ctrl_c():
        child.start()
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == mask
    try:
        assert ready.get(timeout=60) is True
        os.kill(child.pid, signal.SIGINT)
        go_on.set()
        child.join(60)
        assert child.exitcode == 0
    finally:
        if child.is_alive():
            child.kill()
            child.join()
        ready.close()


def test_a_ctrl_c_during_the_guard_is_raised_after_it_not_lost():
    script = textwrap.dedent("""
        import os, signal, time
        from gilbench.bench.strategies import children_ignore_ctrl_c
        try:
            with children_ignore_ctrl_c():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.2)
                print("held", flush=True)
            time.sleep(5)
            print("lost", flush=True)
        except KeyboardInterrupt:
            print("raised", flush=True)
        """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60, check=True).stdout.split()
    assert out == ["held", "raised"]


DEFERRED_SCRIPT = """
import os, signal, time
from gilbench.bench.strategies import ctrl_c_deferred
ran_on = False
try:
    with ctrl_c_deferred():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.1)
        ran_on = True
except KeyboardInterrupt:
    print("first: raised after the block" if ran_on else "first: raised inside")
try:
    with ctrl_c_deferred():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.1)
        print("second: ignored")
except KeyboardInterrupt:
    print("second: raised at once")
"""


SIGTERM_DEFERRED_SCRIPT = """
import os, signal, time
from gilbench.bench.signals import install_stop_handlers, stopped_by
from gilbench.bench.strategies import ctrl_c_deferred
install_stop_handlers()
ran_on = False
try:
    with ctrl_c_deferred():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.1)
        ran_on = True
except KeyboardInterrupt:
    print("raised after the block" if ran_on else "raised inside", stopped_by())
"""


def test_a_sigterm_is_deferred_like_ctrl_c(cli_env):
    # A pool half-built when a SIGTERM arrives is a pool no one closes.
    r = subprocess.run([sys.executable, "-c", SIGTERM_DEFERRED_SCRIPT], env=cli_env,
                       capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == f"raised after the block {int(signal.SIGTERM)}", \
        r.stdout + r.stderr


def test_ctrl_c_deferred_raises_after_the_block_and_a_second_press_at_once(cli_env):
    r = subprocess.run([sys.executable, "-c", DEFERRED_SCRIPT], env=cli_env,
                       capture_output=True, text=True, timeout=60)
    assert r.stdout.split("\n")[:2] == ["first: raised after the block",
                                        "second: raised at once"], r.stdout + r.stderr
