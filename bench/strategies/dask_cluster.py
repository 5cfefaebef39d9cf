"""``dask``: dask.distributed — a LocalCluster of single-threaded worker processes
on loopback, started and closed by gilbench, or an existing cluster
(``--dask-scheduler``). Optional (``pip install 'gilbench[dask]'``), imported
only when used.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

from gilbench.bench import phases
from gilbench.bench.errors import UserError
from gilbench.bench.machine import gil_enabled
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

CONNECT_S = 30  # Dask: longest wait to start, reach or close a cluster


def _whoami() -> tuple[int, bool]:
    return os.getpid(), gil_enabled()


@strategy
class Dask(Strategy):
    """dask.distributed: a LocalCluster of single-threaded worker processes on loopback.

    Tasks and results are pickled and travel over TCP through the scheduler:
    the most overhead per task, and the one answer here that also spans
    machines (``--dask-scheduler ADDRESS`` uses an existing cluster).
    """

    name = "dask"
    family = "engine"
    per_task_s = 0.002  # a scheduler's bookkeeping, over TCP
    extra_start_s = 3.0  # a LocalCluster: scheduler and a nanny per worker, per cell
    model = "processes"
    runs_on = "every Python, with dask.distributed installed (pip install 'gilbench[dask]')"
    remote_workers = True
    shares_rounds = False  # idle Dask workers and schedulers heartbeat
    starts_a_cluster = True
    takes_address = "--dask-scheduler"
    address_example = "tcp://host:8786"

    @classmethod
    def available(cls) -> tuple[bool, str]:
        return missing_module("distributed", "dask")

    def _create(self) -> None:
        from distributed import Client, LocalCluster

        if self.address:
            self.client = Client(self.address, timeout=CONNECT_S)
            return
        import dask

        phases.reached("dask-start")
        # A worker that dies running a task fails the cell at once, like every other
        # process pool here: Dask's default re-runs the task on another worker (up to 3
        # times), and a timed run would then silently include a worker's restart.
        # Its sampling profiler (a thread in every worker and in the scheduler's event
        # loop, waking every 10 ms) is off: it costs CPU inside the timed runs, and on a
        # free-threaded 3.13 it crashes with a traceback (distributed 2026.8).
        # No dashboard; the scheduler's HTTP server (health checks) on a free port, not on
        # 8787, where a user's own Dask dashboard (or another run's) listens. Dask's own
        # logs only at CRITICAL: a worker whose heartbeat meets the scheduler closing logs
        # an ERROR with a traceback (seen in a standard run); a real failure reaches the
        # cell as an exception, and gilbench says it in one line.
        with dask.config.set({"distributed.scheduler.allowed-failures": 0,
                              "distributed.worker.profile.enabled": False}):
            self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                        processes=True, host="127.0.0.1",
                                        dashboard_address=None, silence_logs=logging.CRITICAL,
                                        timeout=CONNECT_S,
                                        scheduler_kwargs={"dashboard_address": ":0"})
        self.client = Client(self.cluster, timeout=CONNECT_S)

    def _warm(self, deadline: Deadline) -> None:
        if not self.address:
            self.client.wait_for_workers(self.workers, timeout=deadline.remaining())
        if self.initializer is not None:
            self.client.run(self.initializer)
        found = self.client.run(_whoami)
        self.pid_at = {address: pid for address, (pid, _) in found.items()}
        self.pids = sorted(pid for pid, _ in found.values())
        self.gil_in_workers = any(gil for _, gil in found.values())

    def gil_now(self, deadline: Deadline) -> bool:
        return any(gil for _, gil in self.client.run(_whoami).values())

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: Deadline) -> list[Any]:
        from distributed import wait

        futures = self.client.map(fn, list(items), pure=False)
        try:
            wait(futures, timeout=deadline.remaining())
        except TimeoutError:
            self.client.cancel(futures)
            raise CellTimeout(f"the cell ran past its {deadline.seconds:g} s time limit"
                              ) from None
        try:
            return self.client.gather(futures)
        except Exception as exc:
            if type(exc).__name__ == "KilledWorker":
                raise WorkerDied(self._killed(exc)) from exc
            raise TaskFailed(describe(exc)) from exc

    def _killed(self, exc: Exception) -> str:
        """Which worker died (Dask's KilledWorker names its address, not its pid)."""
        last = exc.args[1] if len(exc.args) > 1 else None
        address = getattr(last, "address", last)
        pid = getattr(self, "pid_at", {}).get(address)
        if pid is None:
            return describe(exc)
        return (f"worker process {pid} ({address}) died while running a task (Dask's "
                "KilledWorker; the cell does not let Dask re-run it elsewhere)")

    def close(self) -> None:
        phases.reached("dask-close")
        if hasattr(self, "client"):
            self.client.close(timeout=CONNECT_S)
        if hasattr(self, "cluster"):
            self.cluster.close(timeout=CONNECT_S)

    @classmethod
    def describe_cluster(cls, address: str) -> dict[str, Any]:
        return connect_scheduler(address)


def connect_scheduler(address: str) -> dict[str, Any]:
    """The existing Dask scheduler at ``address`` (``--dask-scheduler``), its workers
    described for the machine record (or a UserError that says why it cannot be used)."""
    ok, why = Dask.available()
    if not ok:
        raise UserError(f"--dask-scheduler: the dask strategy {why}")
    from distributed import Client

    try:
        with Client(address, timeout=5) as client:
            info = client.scheduler_info()
    except (OSError, TimeoutError, ValueError) as exc:
        raise UserError(f"--dask-scheduler: cannot reach a Dask scheduler at {address} "
                        f"({exc.__class__.__name__}); give its address, e.g. "
                        "tcp://10.0.0.5:8786") from None
    workers = info.get("workers", {})
    return {"address": address, "workers": len(workers),
            "threads": sum(w.get("nthreads", 0) for w in workers.values()),
            "hosts": sorted({w.get("host", "?") for w in workers.values()})}
