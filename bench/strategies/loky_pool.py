"""``loky``: loky's process executor, the pool joblib uses. Optional
(``pip install 'gilbench[loky]'``), imported only when a cell uses it.
"""

from __future__ import annotations

import contextlib
import os
import signal

from gilbench.bench import phases
from gilbench.bench.strategies.base import JOIN_S, init_worker, missing_module, strategy
from gilbench.bench.strategies.processes import ProcessPool


@strategy
class Loky(ProcessPool):
    """loky's process executor (joblib's pool): fork+exec workers, cloudpickle.

    Own GIL per process; a worker that dies breaks the executor
    (TerminatedWorkerError), which gilbench reports and tears down.
    """

    name = "loky"
    family = "engine"
    extra_start_s = 1.0  # its workers fork+exec, per cell
    model = "processes"
    runs_on = "every Python, with loky installed (pip install 'gilbench[loky]')"
    uses_processes = False  # loky starts its workers its own way, whatever the start method
    remote_workers = True

    @classmethod
    def available(cls) -> tuple[bool, str]:
        return missing_module("loky", "loky")

    def _create(self) -> None:
        from loky import ProcessPoolExecutor

        # A pool of exactly `workers` per cell, not get_reusable_executor's one per
        # process (cells of a block are alive together); a long idle timeout so
        # workers are not recycled between repeats.
        phases.reached("loky-start")
        self.executor = ProcessPoolExecutor(max_workers=self.workers, timeout=3600,
                                            initializer=init_worker, initargs=self._initargs())

    def _kill_all(self) -> None:
        # loky's process objects have no kill(): signal them directly.
        for p in getattr(self, "_procs", []):
            if p.is_alive():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p.pid, signal.SIGKILL)
        for p in getattr(self, "_procs", []):
            p.join(JOIN_S)

    def terminate(self) -> None:
        if hasattr(self, "executor"):
            self._procs = list(getattr(self.executor, "_processes", {}).values()) or getattr(
                self, "_procs", [])
            self._kill_all()
            self.executor.shutdown(wait=True, kill_workers=True)  # type: ignore[call-arg]  # loky's
        self._kill_all()

