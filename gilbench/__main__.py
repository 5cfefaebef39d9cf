"""``python -m gilbench`` is the ``gilbench`` command."""

import sys

from gilbench.bench.cli import main

if __name__ == "__main__":
    sys.exit(main())
