"""Analysis: pure functions from a ``Results`` to numbers and verdicts.

Charts, reports, the terminal summary, ``compare`` and the findings all read a
run through these, so each question (which cell is best, what is the verdict,
where do processes start to pay, how precise is the run) is answered in one
place. Nothing here imports the execution layer (strategies, runner, suites'
measurement code), prints, or writes files.

- ``cells``: the serial baseline, the best cell per strategy or model, precision;
- ``verdicts``: threads or processes, per workload and per kind of work;
- ``scaling``: Amdahl and Karp–Flatt per curve, task-size crossovers;
- ``costs``: lookups over the cost suites' entries;
- ``claims``: the seed article's claims, each with its rule and verdict;
- ``noise``: whether the machine was quiet enough (the noise checks of a run);
- ``significance``: intervals between two runs, and the CI gate's regressions;
- ``matrix``: interpreters' time per task on the baseline's scale (``--python``);
- ``granularity``: from which task size each way pays (the granularity sweep);
- ``comparison``: several runs side by side (what ``compare`` decides: changes against
  the baseline, flips of the answer, the machines that cannot tell);
- ``once``: each typed answer (headlines, duels, kind verdicts, findings, crossovers)
  computed once per run and kept with it, so the report, the terminal and ``compare``
  render one answer.
"""

from gilbench.bench.analysis.cells import (
    Headline,
    PrecisionSummary,
    artefact,
    best_by_speedup,
    best_cells,
    best_of_model,
    ceiling,
    confirmed_view,
    cpu_speeds,
    decisive,
    gil_on,
    headline,
    headline_of,
    over_ceiling,
    precision,
    pure_python_workloads,
    serial_cell,
    with_speedup_only,
)
from gilbench.bench.analysis.claims import Finding, findings
from gilbench.bench.analysis.costs import entry_counts, failed_entries, nearest_payload, pick
from gilbench.bench.analysis.scaling import (
    CurveLaws,
    SizePoint,
    crossover,
    crossovers,
    curve_laws,
    size_points,
)
from gilbench.bench.analysis.verdicts import (
    RULE,
    TIE_RATIO,
    Comparison,
    Duel,
    KindVerdict,
    compare,
    cpu_share,
    duel,
    duel_of,
    kind_verdicts,
    mixed_sides,
    workload_verdict,
)

__all__ = [
    "RULE",
    "TIE_RATIO",
    "Comparison",
    "CurveLaws",
    "Duel",
    "Finding",
    "Headline",
    "KindVerdict",
    "PrecisionSummary",
    "SizePoint",
    "artefact",
    "best_by_speedup",
    "best_cells",
    "best_of_model",
    "ceiling",
    "compare",
    "confirmed_view",
    "cpu_share",
    "cpu_speeds",
    "crossover",
    "crossovers",
    "curve_laws",
    "decisive",
    "duel",
    "duel_of",
    "entry_counts",
    "failed_entries",
    "findings",
    "gil_on",
    "headline",
    "headline_of",
    "kind_verdicts",
    "mixed_sides",
    "nearest_payload",
    "over_ceiling",
    "pick",
    "precision",
    "pure_python_workloads",
    "serial_cell",
    "size_points",
    "with_speedup_only",
    "workload_verdict",
]
