"""The old top-level name ``bench``: an alias of ``gilbench.bench``, with a deprecation
warning, for one release (``gilbench._legacy``). Installed from here; in a checkout the
repository's own bench/ folder does the same."""

from gilbench._legacy import alias

alias("bench")
