"""Reports: pure functions of a results file, rendered as files and as text.

Any results file — this machine's, another's, a pytest-benchmark JSON — renders
the same way. ``render`` writes a run's charts and report; ``compare`` writes a
comparison of several runs. Nothing here imports the execution layer or the CLI.

- ``document``: blocks (headings, paragraphs, tables, images) rendered as Markdown
  and as a self-contained HTML page;
- ``sections``: the run report as an ordered, appendable list of sections;
- ``speedups``: the speedup sweep's tables and sections;
- ``verdicts``: the kind verdicts (``analysis.verdicts.KindVerdict``) in words;
- ``granularity``: the granularity sweep's section;
- ``suites/``: one module per cost suite (section, chart, terminal line);
- ``charts`` and ``compare_charts``: matplotlib figures (object API, Agg, no global style),
  every colour of them from ``palette``;
- ``compare``: the hardware comparison report, with ``matrix`` (interpreters' time per
  task) and ``freethreading`` (a free-threaded build against its GIL twin);
- ``terminal``: progress and the summary printed at the end of a run;
- ``export``: a results file as pyperf JSON or CSV.
"""

from __future__ import annotations

from pathlib import Path

from gilbench.bench.files import write_text
from gilbench.bench.report.charts import write_charts
from gilbench.bench.report.document import render_html, render_markdown
from gilbench.bench.report.sections import SECTIONS, Section, build
from gilbench.bench.report.suites import write_cost_charts
from gilbench.bench.results import Results


def write_report(results: Results, out: Path, charts: dict[str, list[Path]]) -> list[Path]:
    """report.md and report.html of a run, with its charts."""
    blocks = build(results, charts)
    md = out / "report.md"
    page = out / "report.html"
    write_text(md, render_markdown(blocks, out))
    write_text(page, render_html(blocks, f"gilbench report: {results.machine.get('hostname')}"))
    return [md, page]


def render(results: Results, out: Path) -> list[Path]:
    """Charts and report for a results object, into ``out``; the paths written."""
    charts = write_charts(results, out) | write_cost_charts(results, out)
    paths = write_report(results, out, charts)
    return paths + [p for ps in charts.values() for p in ps]


__all__ = ["SECTIONS", "Section", "build", "render", "write_report"]
