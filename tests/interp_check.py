"""Run inside Python 3.14+ (``python -m tests.interp_check``, gilbench's folder on the path)
by ``tests/test_todays_pythons.py``: the interpreters family driven directly, as the
runner drives it, and what it gave printed as one JSON line."""

from __future__ import annotations

import json
import threading

from gilbench.bench.strategies import STRATEGIES, Deadline, TaskFailed
from gilbench.bench.strategies.subinterpreters import interpreters_api
from gilbench.workloads import Task
from tests import kernels


def main() -> None:
    out: dict[str, object] = {"api": getattr(interpreters_api(), "name", None)}
    task = Task("fib", 15)
    serial = [task(i) for i in range(8)]
    threads_before = threading.active_count()
    for name in ("interpreter_pool", "subinterpreters"):
        cls = STRATEGIES[name]
        got: dict[str, object] = {"available": cls.available()[0],
                                  "numpy": cls.applies_to(Task("numpy_matmul", 1))}
        out[name] = got
        if not got["available"]:
            got["why"] = cls.available()[1]
            continue
        with cls(2) as s:
            s.start(Deadline(60))
            got["same_as_serial"] = s.map(task, list(range(8)), Deadline(60)) == serial
            got["pids"] = s.pids
            try:
                s.map(kernels.raises, list(range(4)), Deadline(60))
                got["failure"] = None
            except TaskFailed as exc:
                got["failure"] = str(exc)
        got["threads_left"] = threading.active_count() - threads_before
    print(json.dumps(out))


if __name__ == "__main__":
    main()
