"""The old top-level names ``bench`` and ``workloads``, kept for one release.

gilbench's modules live under ``gilbench`` (``gilbench.bench``, ``gilbench.workloads``), a
name no user's project shadows. ``import bench`` or ``from workloads import workload``,
written before, still work: the old name becomes an *alias* of the new package, and each
of its submodules (``bench.runner.block``) the very module object of the new name, never a
second copy (a second ``workloads.registry`` would be a second registry of kernels, and a
kernel registered in one invisible to the other). Each old name warns once, with a
``DeprecationWarning`` that names the new spelling.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from types import ModuleType


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``old.x.y`` → the module ``new.x.y`` itself (``__main__`` aside: ``python -m
    bench`` runs gilbench's own ``__main__`` under the old name)."""

    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def _target(self, fullname: str) -> str | None:
        if fullname.startswith(self.old + "."):
            return self.new + fullname[len(self.old):]
        return None

    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        new = self._target(fullname)
        if new is None:
            return None
        if fullname.rpartition(".")[2] == "__main__":  # run as a script: a code object
            real = importlib.util.find_spec(new)
            if real is None or real.origin is None:
                return None
            return importlib.util.spec_from_file_location(fullname, real.origin)
        return importlib.machinery.ModuleSpec(fullname, self, is_package=None)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        new = self._target(spec.name)
        assert new is not None
        return importlib.import_module(new)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing: the module ran under its new name."""


def alias(old: str) -> ModuleType:
    """Make ``old`` (and each of its submodules, when imported) the package
    ``gilbench.<old>``, warning that the old name is deprecated. Returns the package."""
    new = f"gilbench.{old}"
    warnings.warn(f"'{old}' is gilbench's old name for '{new}' (and 'from {old} import …' "
                  f"for 'from {new} import …'; kernels: 'from gilbench import workload'); "
                  "the old name goes in the next release", DeprecationWarning, stacklevel=3)
    if not any(isinstance(f, _Alias) and f.old == old for f in sys.meta_path):
        sys.meta_path.insert(0, _Alias(old, new))
    package = importlib.import_module(new)
    sys.modules[old] = package
    return package
