"""gilbench: threads, processes and the GIL, measured on your own machine."""

__version__ = "0.1.0"
