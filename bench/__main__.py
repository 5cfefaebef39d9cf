"""``python -m bench`` is the ``gilbench`` command."""

import sys

from bench.cli import main

sys.exit(main())
