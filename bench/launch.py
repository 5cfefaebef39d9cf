"""Starting gilbench's own helper programs (``gilbench.bench.startprobe``,
``gilbench.bench.remote``) in a fresh interpreter, so that they import *gilbench's*
modules whatever the user's working directory holds.

``python -m gilbench.bench.remote`` would put the working directory first on
``sys.path``: a ``gilbench/`` folder of the user's own there would be imported instead of
gilbench's (an editable install's import hook hides this; a regular install does not).
``module_command`` runs the module through ``-c`` with gilbench's own folder in that
first place instead, and the working directory off the path. The module still runs as
``__main__`` with its ``__spec__``, so spawned children of it find it again by name.
"""

from __future__ import annotations

import os
from pathlib import Path

import gilbench.bench

# The folder holding the package gilbench/ (a checkout's root, or site-packages): above
# gilbench/bench/__init__.py. Not resolved: in a checkout gilbench/bench links to bench/.
ROOT = str(Path(gilbench.bench.__file__).absolute().parent.parent.parent)

# GILBENCH_PARENT_PID: the helper's parent, so that it can tell it was orphaned even
# before it started watching (bench.reaper.watch_parent).
_BOOT = ("import os, runpy, sys; os.environ['GILBENCH_PARENT_PID'] = '{parent}'; "
         "sys.path[0] = {root!r}; "
         "runpy.run_module({module!r}, run_name='__main__', alter_sys=True)")


def module_command(python: str, module: str, *args: str) -> list[str]:
    """The command line that runs gilbench's ``module`` in ``python`` with ``args``."""
    return [python, "-c", _BOOT.format(parent=os.getpid(), root=ROOT, module=module), *args]


def harness_env() -> dict[str, str]:
    """The environment with gilbench's own folder first on PYTHONPATH (for what the
    helper's own children import before they know better, e.g. a spawned worker)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env
