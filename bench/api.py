"""gilbench from Python, for notebooks and scripts: ``gilbench.measure``.

The same run as ``gilbench run --suite speedup --workloads KERNEL``, from a call: it
writes its folder (a temporary one unless ``out`` is given), prints what the command prints
(``quiet``: the answer lines only), and returns the ``Results``, whose verdicts
``bench.analysis`` computes (``kind_verdicts``, ``duel_of``). Bad input raises
``bench.errors.UserError`` with the command's one-line message.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gilbench.bench.errors import UserError
from gilbench.bench.results import Results


def measure(kernel: str | Callable[..., Any], *, strategies: Sequence[str] | None = None,
            workers: Sequence[int] | None = None, profile: str = "quick",
            out: str | Path | None = None, quiet: bool = True) -> Results:
    """Measure one kernel (a registered kernel's name, or the function decorated with
    ``@gilbench.workload``) under ``strategies`` (default: the run's) at ``workers`` (default:
    the profile's counts), paired with serial runs; the run's ``Results``."""
    from gilbench.bench.cli import make_parser
    from gilbench.bench.results import load
    from gilbench.bench.run.local import start
    from gilbench.workloads import WORKLOADS

    name = kernel if isinstance(kernel, str) else getattr(kernel, "__name__", repr(kernel))
    found = WORKLOADS.get(name)
    if found is None or (not isinstance(kernel, str) and found.func is not kernel):
        raise UserError(f"{name!r} is not a registered kernel: decorate a module-level "
                        "function with @gilbench.workload(kind=...) (in a module worker "
                        "processes can import), or give a built-in kernel's name: "
                        f"{', '.join(n for n, w in WORKLOADS.items() if w.origin is None)}")
    argv = ["run", "--profile", profile, "--suite", "speedup", "--workloads", name]
    if found.origin is not None:  # a user's kernel: its module, as --workloads-from takes it
        module, path = found.origin
        argv += ["--workloads-from", path or module]
    if strategies:
        argv += ["--strategies", ",".join(strategies)]
    if workers:
        argv += ["--workers", ",".join(str(n) for n in workers)]
    folder = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="gilbench-")) / "run"
    argv += ["--out", str(folder)] + (["-q"] if quiet else [])
    try:
        args = make_parser().parse_args(argv)
    except SystemExit:  # argparse said what was wrong on stderr
        raise UserError(f"gilbench.measure: bad arguments ({' '.join(argv[1:])})") from None
    start(args)
    return load(folder / "results.json")
