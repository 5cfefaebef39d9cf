"""The old top-level name ``workloads``: an alias of ``gilbench.workloads``, with a deprecation
warning, for one release (``gilbench._legacy``). Installed from here; in a checkout the
repository's own workloads/ folder does the same."""

from gilbench._legacy import alias

alias("workloads")
