"""``gilbench timeit MODULE:FUNCTION``: is this function thread-friendly? A one-liner.

The function, called with no arguments, is the work: gilbench writes a small kernel file
into the run's folder that registers it (``@workload``; a task calls it ``size`` times,
the size calibrated to the profile's task time, as for any kernel that gives none) and
runs the speedup sweep on it alone (``gilbench run --suite speedup --workloads-from``):
serial, threads and processes (or the strategies asked for), paired rounds, the
confirmed headlines and the verdict. Its results are dropped: the calls are timed, not
the transfer of what they return (and a function need not return the same thing twice).

As ``python -m timeit`` does, the current folder is on the path, so ``mymod:myfunc``
finds ``./mymod.py``; ``path/to/file.py:myfunc`` names a file. Bad targets get one line.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import sys
from pathlib import Path

from gilbench.bench.errors import UserError
from gilbench.workloads.user import is_file_spec

KERNEL_FILE = "timeit_kernel.py"
DEFAULT_KIND = "mixed"  # no physics bound assumed for threads or processes
# The ways most programs reach for: both thread APIs and both process pools (the whole
# sweep with --strategies all, or any list).
DEFAULT_STRATEGIES = "threads,thread_pool,pool_map,process_pool"
VALID = ("give MODULE:FUNCTION (mymod:myfunc, a module on the path or in this folder) or "
         "FILE.py:FUNCTION, a module-level function that takes no arguments")


def parse_target(target: str) -> tuple[str, str | None, str]:
    """(module name, its file or None, function name) of ``MODULE:FUNCTION`` or
    ``FILE.py:FUNCTION``; a UserError saying what is valid otherwise."""
    where, sep, func = target.rpartition(":")
    if not sep or not where or not func.isidentifier():
        raise UserError(f"timeit {target!r}: not a target: {VALID}")
    if is_file_spec(where):  # as --workloads-from tells a file from a module
        path = Path(where).expanduser().resolve()
        if not path.is_file():
            raise UserError(f"timeit {target!r}: no such file {where}: {VALID}")
        if not path.stem.isidentifier():
            raise UserError(f"timeit {target!r}: {path.name} is not importable as a module "
                            "(rename it to a valid Python name)")
        return path.stem, str(path), func
    if not all(part.isidentifier() for part in where.split(".")):
        raise UserError(f"timeit {target!r}: {where!r} is not a module name: {VALID}")
    return where, None, func


def folder_of(file: str | None) -> str:
    """The folder the target is imported from: its file's, or the current one."""
    return str(Path(file).parent) if file else os.getcwd()


def check_target(module: str, file: str | None, func: str, target: str) -> None:
    """Import the target here, first: a missing module or function, or one that needs
    arguments, is one line before anything runs."""
    folder = folder_of(file)
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    try:
        try:
            mod = importlib.import_module(module)
        except Exception as exc:  # its own code, or no such module
            raise UserError(f"timeit {target!r}: importing {module} failed: "
                            f"{type(exc).__name__}: {exc}") from None
        fn = getattr(mod, func, None)
        if fn is None or not callable(fn):
            raise UserError(f"timeit {target!r}: {module} has no function {func!r}")
        try:
            inspect.signature(fn).bind()
        except TypeError:
            raise UserError(f"timeit {target!r}: {func}() needs arguments; give a "
                            "function that takes none (wrap the call: def job(): "
                            f"return {func}(...))") from None
        except ValueError:
            pass  # a builtin without a signature: called as it is
    finally:
        if added:
            sys.path.remove(folder)


def kernel_source(module: str, file: str | None, func: str, kind: str, target: str) -> str:
    """The kernel file that registers the target as a kernel named after it."""
    folder = folder_of(file)
    return f'''"""Made by `gilbench timeit {target}`: {func}() called `size` times a task."""

import sys

if {folder!r} not in sys.path:  # the target's folder, as python -m timeit has it
    sys.path.insert(0, {folder!r})

from {module} import {func} as _target  # noqa: E402

from gilbench import workload  # noqa: E402


@workload(kind={kind!r})
def {func}(size, seed):
    """{target}, called `size` times a task (its results dropped)."""
    for _ in range(size):
        _target()
'''


def run_argv(args: argparse.Namespace, kernel: Path, name: str, out: Path) -> list[str]:
    """The ``gilbench run`` a timeit is."""
    argv = ["run", "--suite", "speedup", "--profile", args.profile,
            "--workloads-from", str(kernel), "--workloads", name, "--out", str(out)]
    strategies = "" if args.strategies == "all" else args.strategies or DEFAULT_STRATEGIES
    for option, value in (("--strategies", strategies), ("--workers", args.workers)):
        if value:
            argv += [option, value]
    return argv + (["-q"] if args.quiet else [])


def start(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """The timeit ``args`` as the run it is, parsed by gilbench's ``parser`` (the CLI's:
    every run option's default and check)."""
    from gilbench.bench.results import utc_now
    from gilbench.bench.run.local import start as run
    from gilbench.bench.runfolder import run_folder

    module, file, func = parse_target(args.target)
    check_target(module, file, func, args.target)
    out = run_folder(args.out, utc_now())
    out.mkdir(parents=True, exist_ok=True)
    kernel = out / KERNEL_FILE
    kernel.write_text(kernel_source(module, file, func, args.kind, args.target),
                      encoding="utf-8")
    return run(parser.parse_args(run_argv(args, kernel, func, out)))
