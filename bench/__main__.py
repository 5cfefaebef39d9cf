"""``python -m bench`` is the ``gilbench`` command."""

import sys

from bench.cli import main

if __name__ == "__main__":
    sys.exit(main())
