"""``ray``: a local Ray with ``num_cpus`` set to the workers, started and closed by
gilbench, or an existing cluster (``--ray-address``). Optional (``pip install
'gilbench[ray]'``), and never imported in gilbench's own process: the Ray driver runs in a
host process of its own (``bench.strategies.apart``), because a process that has run a Ray
driver forks workers that crash now and then.

A local Ray is a handful of processes (the GCS server, the raylet, its agents and the
worker processes) that write their sockets and logs under a session folder. gilbench
gives each local Ray a temporary folder of its own (``_temp_dir``), not ``/tmp/ray``,
and removes it once Ray is shut down: after success, failure and Ctrl-C alike nothing is
left, the processes reaped as every other child is (``bench.reaper``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from gilbench.bench import phases
from gilbench.bench.errors import UserError
from gilbench.bench.launch import module_command
from gilbench.bench.reaper import stop_helper
from gilbench.bench.strategies.apart import Apart
from gilbench.bench.strategies.base import (
    CellTimeout,
    Deadline,
    Strategy,
    TaskFailed,
    WorkerDied,
    describe,
    missing_module,
    strategy,
)

CONNECT_S = 60  # Ray: longest wait to start or reach a cluster
# ray.wait returns as soon as the results are there, but a signal is handled only when it
# returns: it waits in slices this long, so a stop (Ctrl-C, a failed cell) is prompt.
WAIT_SLICE_S = 0.2
TEMP_PREFIX = "gilbench-ray-"  # a local Ray's folder: gilbench-ray-<pid of gilbench>-...
# Ray puts its sockets at <folder>/session_<date>_<time>_<µs>_<pid>/sockets/plasma_store,
# and a Unix socket's path holds at most 107 bytes: the folder's own path must stay short.
UNIX_PATH_MAX = 107
RAY_SOCKET_TAIL = len("/session_2026-12-07_04-49-34_790208_4194304/sockets/plasma_store")


def temp_base() -> str:
    """Where a local Ray's folder goes: the temporary directory (TMPDIR), or /tmp when
    TMPDIR's path is too long for Ray's sockets under it (a test's own folder, macOS's
    /var/folders/...): Ray would refuse to start there."""
    base = tempfile.gettempdir()
    longest = os.path.join(base, f"{TEMP_PREFIX}{4194304}-{'x' * 8}")
    return base if len(longest) + RAY_SOCKET_TAIL <= UNIX_PATH_MAX else "/tmp"
_STARTED: list[Callable[[], None]] = []  # each worker process runs its initializer once


def _run(init: Callable[[], None] | None, fn: Callable[[Any], Any], item: Any) -> Any:
    """One task in a Ray worker, the strategy's initializer (BLAS held to one thread)
    run first in each worker process."""
    if init is not None and init not in _STARTED:
        init()
        _STARTED.append(init)
    return fn(item)


@contextlib.contextmanager
def _keeping_signal_handlers() -> Iterator[None]:
    """``ray.init`` installs a SIGTERM handler of its own in the driver; gilbench's
    (which saves what finished and closes every worker) is put back."""
    names = ("SIGINT", "SIGTERM", "SIGHUP")
    kept = {s: signal.getsignal(s) for n in names if (s := getattr(signal, n, None))}
    try:
        yield
    finally:
        for s, handler in kept.items():
            if handler is not None:
                with contextlib.suppress(ValueError):  # not the main thread
                    signal.signal(s, handler)


def _watch_ray() -> subprocess.Popen[bytes]:
    """``bench.raywatch``: the Ray processes started under this one are killed with it
    if it dies without shutting Ray down."""
    return subprocess.Popen(module_command(sys.executable, "gilbench.bench.raywatch"),
                            stdin=subprocess.DEVNULL, start_new_session=True)


class RayDriver(Strategy):
    """The ray strategy's driver, in its host process (``Ray`` below is what gilbench's
    process holds): a local Ray, or the cluster at ``address``."""

    name = "ray"
    model = "processes"
    remote_workers = True
    # Not registered, so it has no facts of its own (``Ray`` carries them); it takes the
    # address so that the base class keeps the one the host hands it.
    takes_address = "--ray-address"

    @staticmethod
    def preload() -> None:
        """Imported when the host starts, outside the timed start (about a second)."""
        import ray  # noqa: F401

    def _create(self) -> None:
        import ray

        phases.reached("ray-start")
        if ray.is_initialized():  # a cell that failed to close: not measured on top of it
            ray.shutdown()
        options: dict[str, Any] = dict(include_dashboard=False, log_to_driver=False,
                                       logging_level=logging.ERROR)
        with _keeping_signal_handlers():
            if self.address:
                ray.init(address=self.address, **options)
            else:
                self.watch = _watch_ray()  # first: Ray's processes start inside ray.init
                # Named by gilbench's process (this host's parent), so that whose folder
                # it is can be told.
                self.temp_dir = tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getppid()}-",
                                                 dir=temp_base())
                # ray.init puts the current directory on its workers' sys.path: from a
                # folder holding a package named bench (or workloads), the workers would
                # import that instead of gilbench's. Started from its own empty folder.
                here = os.getcwd()
                os.chdir(self.temp_dir)
                try:
                    ray.init(num_cpus=self.workers, _temp_dir=self.temp_dir, **options)
                finally:
                    os.chdir(here)
        self.remote = ray.remote(num_cpus=1, max_retries=0)(_run)

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: Deadline) -> list[Any]:
        import ray

        shared = ray.put(fn)  # sent to the object store once, not once per task
        refs = [self.remote.remote(self.initializer, shared, item) for item in items]
        waiting = refs
        while waiting:  # in slices: a stop signal is acted on between them, not after
            _, waiting = ray.wait(waiting, num_returns=len(waiting), fetch_local=True,
                                  timeout=min(WAIT_SLICE_S, deadline.remaining() or WAIT_SLICE_S))
            if waiting and deadline.remaining() == 0.0:
                break
        if waiting:
            for ref in waiting:
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)
            raise CellTimeout(f"the cell ran past its {deadline.seconds:g} s time limit")
        try:
            return list(ray.get(refs))
        except ray.exceptions.WorkerCrashedError as exc:
            raise WorkerDied(f"a Ray worker process died while running a task ({describe(exc)}"
                             "; the cell does not let Ray re-run it)") from exc
        except ray.exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            raise TaskFailed(describe(cause if isinstance(cause, BaseException) else exc)
                             ) from exc

    def close(self) -> None:
        phases.reached("ray-close")
        local = getattr(self, "temp_dir", None) is not None
        ours = _ray_processes() if local else []
        shut = False
        try:
            if "ray" in sys.modules:
                import ray

                if ray.is_initialized():
                    ray.shutdown()
                    shut = True
        finally:
            if local:  # every process of it ended (and reaped, those it left to us)
                # After a shutdown they end by themselves; a ray.init cut short (Ctrl-C)
                # leaves them running with no one to stop them: killed at once.
                _end_all(ours + _ray_processes(), grace_s=10.0 if shut else 0.0)
            watch = getattr(self, "watch", None)
            if watch is not None:
                stop_helper(watch, grace_s=5.0)
            self.after_children_ended()

    def after_children_ended(self) -> None:
        """The local Ray's folder removed (again, by the host, once every process under
        it has ended: a straggler still writing its logs can keep a first try from it)."""
        temp = getattr(self, "temp_dir", None)
        if temp:
            shutil.rmtree(temp, ignore_errors=True)


@strategy
class Ray(Apart):
    """Ray: a local cluster with num_cpus = workers, one task per CPU, on loopback.

    Each task is a Ray remote call: its arguments and result go through Ray's object
    store and its scheduler (the raylet); Ray documents that tasks under about 10 ms
    are unlikely to gain. ``--ray-address`` uses an existing cluster instead. The
    driver runs in a host process of its own (one pipe round trip per timed run).
    """

    name = "ray"
    driver = RayDriver
    extra_start_s = 4.0  # ray.init and ray.shutdown of a local cluster, per cell
    model = "processes"
    family = "engine"
    # A local Ray costs seconds to start and stop in every cell: the speedup sweep runs it
    # only when named (its start-up cost is in the startup suite, its per-task cost in the
    # granularity sweep, which runs every strategy).
    in_default_sweep = False
    per_task_s = 0.001  # the object store and the raylet's scheduling
    runs_on = ("every Python that Ray publishes a wheel for (pip install 'gilbench[ray]'; "
               "none for free-threaded builds or the newest Pythons)")
    remote_workers = True
    shares_rounds = False  # a raylet and its GCS heartbeat while idle
    starts_a_cluster = True
    takes_address = "--ray-address"
    address_example = "host:6379, or ray://host:10001"

    @classmethod
    def available(cls) -> tuple[bool, str]:
        ok, why = missing_module("ray", "ray")
        if ok:
            return ok, why
        wheel = no_wheel_here()
        return False, (f"needs ray, and Ray publishes no wheel for {wheel}" if wheel else why)

    @classmethod
    def describe_cluster(cls, address: str) -> dict[str, Any]:
        return connect_address(address)


def _ray_processes() -> list[Any]:
    """The Ray processes running under this one now."""
    import psutil

    from gilbench.bench.raywatch import is_ray

    found = []
    with contextlib.suppress(psutil.Error):
        for p in psutil.Process().children(recursive=True):
            # Each asked on its own: while Ray starts or stops, one that ends meanwhile
            # raised for the whole list, which then read as no Ray process at all.
            with contextlib.suppress(psutil.Error):
                if is_ray(p):
                    found.append(p)
    return found


def _end_all(procs: list[Any], grace_s: float = 10.0) -> None:
    """Wait until each of these processes has ended (one of this process's children is
    reaped; another's zombie is its parent's to reap), then kill what is left."""
    import psutil

    def alive(p: Any) -> bool:
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                return bool(p.is_running())
            if p.ppid() == os.getpid():
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(p.pid, os.WNOHANG)
            return False
        except psutil.Error:
            return False

    until = time.monotonic() + grace_s
    left = [p for p in procs if alive(p)]
    while left and time.monotonic() < until:
        time.sleep(0.05)
        left = [p for p in left if alive(p)]
    for p in left:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(left, timeout=grace_s)


# The Pythons Ray 2.60 publishes wheels for (GIL builds only).
RAY_WHEELS = ((3, 10), (3, 11), (3, 12), (3, 13), (3, 14))


def no_wheel_here() -> str | None:
    """This interpreter, in words, when Ray has no wheel for it (None: it has one)."""
    import sysconfig

    if sysconfig.get_config_var("Py_GIL_DISABLED"):
        return f"free-threaded builds (this is Python {sys.version.split()[0]} free-threaded)"
    if sys.version_info[:2] not in RAY_WHEELS:
        return f"Python {sys.version_info[0]}.{sys.version_info[1]}"
    return None


def _reachable(address: str) -> None:
    """A UserError at once when nothing answers at the address (``ray.init`` would keep
    retrying for minutes)."""
    import socket

    hostport = address.removeprefix("ray://")
    if hostport == "auto":
        return
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise UserError(f"--ray-address: {address!r} is not an address; give host:port, e.g. "
                        "10.0.0.5:6379 or ray://10.0.0.5:10001")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise UserError(f"--ray-address: cannot reach a Ray cluster at {address} "
                        f"({exc.__class__.__name__}); give its address, e.g. 10.0.0.5:6379 "
                        "or ray://10.0.0.5:10001") from None


def _describe_cluster(address: str) -> dict[str, Any]:
    """In a spawned child (never in gilbench's process): reach the cluster, describe it."""
    import ray

    try:
        with _keeping_signal_handlers():
            ray.init(address=address, include_dashboard=False, log_to_driver=False,
                     logging_level=logging.ERROR)
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        cpus = ray.cluster_resources().get("CPU", 0)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
        raise UserError(f"--ray-address: cannot reach a Ray cluster at {address} "
                        f"({exc.__class__.__name__}); give its address, e.g. "
                        "10.0.0.5:6379 or ray://10.0.0.5:10001") from None
    finally:
        if ray.is_initialized():
            ray.shutdown()
    return {"address": address, "nodes": len(nodes), "cpus": int(cpus),
            "hosts": sorted({n.get("NodeManagerAddress", "?") for n in nodes})}


def connect_address(address: str) -> dict[str, Any]:
    """The existing Ray cluster at ``address`` (``--ray-address``), described for the
    machine record (or a UserError that says why it cannot be used). Asked from a spawned
    child: gilbench's own process never runs a Ray driver."""
    import concurrent.futures
    import multiprocessing

    from gilbench.bench.signals import children_ignore_ctrl_c

    ok, why = Ray.available()
    if not ok:
        raise UserError(f"--ray-address: the ray strategy {why}")
    _reachable(address)
    ctx = multiprocessing.get_context("spawn")
    with children_ignore_ctrl_c(), concurrent.futures.ProcessPoolExecutor(
            max_workers=1, mp_context=ctx) as pool:
        future = pool.submit(_describe_cluster, address)
    return future.result()
