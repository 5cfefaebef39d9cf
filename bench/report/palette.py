"""Every colour of gilbench's charts, in one place.

One colour family per kind of worker, so that a reader sees threads against processes
before reading a legend: threads blue, processes red and its warm neighbours, the rest
green and grey. The cost suites colour each start method and each transport; the
comparison one colour per machine; the interpreter matrix one style per model.
"""

from __future__ import annotations

THREADS, PROCESSES = "#1f77b4", "#d62728"

# The speedup charts: a strategy's colour from its kind of worker's family.
THREAD_FAMILY = [THREADS, "#17becf", "#4c72b0", "#2ca0d0"]
# Nine: every process strategy of the registry (ray included) a colour of its own.
PROCESS_FAMILY = [PROCESSES, "#ff7f0e", "#8c564b", "#e377c2", "#bcbd22", "#9467bd", "#393b79",
                  "#e7969c", "#7b4173"]
OTHER_FAMILY = ["#2ca02c", "#7f7f7f", "#17a768", "#6b8e23"]
# A family's markers, in turn once its colours are used up: every label of a chart has a
# colour and marker pair of its own (4 thread, 9 x 4 process and 4 x 4 other labels).
THREAD_MARKERS = ["o", "h", "p", "8"]
PROCESS_MARKERS = ["s", "D", "P", "X"]
OTHER_MARKERS = ["^", "v", "<", ">"]

# Lines and marks that are not data.
AXIS = "#444444"  # the 1x line, axes drawn over the data
IDEAL = "#999999"  # linear scaling
GUIDE = "#888888"  # a secondary guide (the usable CPUs on a speedup axis)
CPUS = "#000000"  # the usable CPUs, as a vertical line (no strategy's colour)
BAND = "#f2c14e"  # a highlighted span (a crossover's interval)
UNKNOWN = "#7f7f7f"  # something this palette has no colour for

# The cost suites: a colour per start method and per transport (threads' in blue).
METHOD_COLOURS = {"thread": THREADS, "fork": PROCESSES, "forkserver": "#ff7f0e",
                  "spawn": "#8c564b", "subinterpreter": "#9467bd"}
TRANSPORT_COLOURS = {"thread_queue": THREADS, "queue": "#ff7f0e", "simple_queue": "#bcbd22",
                     "pipe": PROCESSES, "pipe_bytes": "#e377c2", "shared_memory": "#2ca02c",
                     "manager": "#8c564b"}
SWITCH_INTERVAL_BLUES = ["#9ecae1", "#4292c6", "#08519c", "#08306b", "#6baed6"]

# The comparison: one colour per machine (or interpreter), in the order given.
MACHINE_COLOURS = [THREADS, PROCESSES, "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
                   "#17becf"]

# The interpreter matrix: a colour and a marker per model.
MODEL_STYLE = {"serial": (AXIS, "D"), "threads": (THREADS, "o"), "processes": (PROCESSES, "s"),
               "interpreters": ("#9467bd", "^"), "async": ("#2ca02c", "v")}
