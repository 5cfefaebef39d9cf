"""What free-threading changes, where a comparison holds a free-threaded build (PEP 703):
the lead section of a ``--python`` comparison (and of ``gilbench compare``).

It sets each interpreter's threads against its processes on pure-Python work, threads
with the GIL off against threads with it on (a GIL build of the same source, or the
free-threaded build with ``PYTHON_GIL=1``), and the single-thread cost of the free-
threaded build: its serial time over the GIL build's, from runs interleaved across the
interpreters (``bench.serialcost``). Every figure comes with its 95% interval, and a
sentence calls a difference only when the intervals separate.
"""

from __future__ import annotations

from collections.abc import Sequence

from gilbench.bench.analysis import best_of_model, duel_of, gil_on
from gilbench.bench.analysis.cells import GeoSpan, pure_python_workloads
from gilbench.bench.analysis.comparison import Run
from gilbench.bench.kinds import gil_words
from gilbench.bench.report.document import Block, Bullets, Heading, Para, Table
from gilbench.bench.serialcost import Cost, SerialRuns, cost


def free_threaded(run: Run) -> bool:
    return bool(run.results.machine.get("free_threaded_build"))


def gil_state(run: Run) -> str:
    """How the GIL stood while the run's sweep ran, in words."""
    res = run.results
    m = res.machine
    env = m.get("python_gil_env")
    if not gil_on(res):
        return gil_words(False, env)
    if m.get("gil_enabled", True) is False:
        back = sum(bool(c.gil_enabled_in_workers) for c in res.cells if c.strategy != "serial")
        return f"off at start, back on in the workers of {back} cells"
    return gil_words(True, env if m.get("free_threaded_build") else None)


def pure_python(run: Run) -> list[str]:
    return pure_python_workloads(run.results)


def model_span(run: Run, model: str) -> GeoSpan | None:
    """The model's best decisive cell per pure-Python workload, taken together."""
    cells = [best_of_model(run.results, w, model) for w in pure_python(run)]
    found = tuple(c for c in cells if c is not None)
    return GeoSpan(found) if found and len(found) == len(cells) else None


def baseline(runs: Sequence[Run]) -> Run:
    """What the single-thread cost is measured against: the first GIL build of the same
    version as the first free-threaded build (else the first GIL build, else the first)."""
    ft = next((r for r in runs if free_threaded(r)), None)
    version = str(ft.results.machine.get("python_version", "")).rsplit(".", 1)[0] if ft else ""
    gil_builds = [r for r in runs if not free_threaded(r)]
    same = [r for r in gil_builds
            if str(r.results.machine.get("python_version", "")).startswith(version)]
    return (same or gil_builds or list(runs))[0]


def _span_text(span: GeoSpan | None) -> str:
    return span.text() if span else "can't tell (no cell precise enough on every workload)"


def table(runs: Sequence[Run], serial: Sequence[SerialRuns]) -> Table:
    base = baseline(runs)
    rows: list[tuple[str, ...]] = [
        ("build", *["free-threaded" if free_threaded(r) else "with the GIL" for r in runs]),
        ("GIL during the sweep", *[gil_state(r) for r in runs]),
        ("threads on pure Python (best, geometric mean)",
         *[_span_text(model_span(r, "threads")) for r in runs]),
        ("processes on pure Python (best, geometric mean)",
         *[_span_text(model_span(r, "processes")) for r in runs]),
    ]
    for w in dict.fromkeys(w for r in runs for w in pure_python(r)):
        row = [f"{w}: threads or processes"]
        for r in runs:
            if w not in r.results.workloads():
                row.append("not run")
                continue
            row.append(duel_of(r.results, w).text)
        rows.append(tuple(row))
    if serial:
        row = [f"single-thread time ÷ {base.label}'s (interleaved serial runs)"]
        for r in runs:
            c = cost(serial, r.label, base.label)
            row.append("baseline" if r is base else c.text() if c else "not measured")
        rows.append(tuple(row))
    return Table(("", *[str(r.label) for r in runs]), tuple(rows))


def _cost_sentence(c: Cost) -> str:
    how = {"slower": "slower", "faster": "faster"}.get(c.sure or "", "")
    verdict = (f"surely {how}" if how else "not surely different (its interval contains 1×)")
    return (f"{c.label}'s single thread takes {c.text()} the time of {c.base}'s on the same "
            f"pure-Python work ({', '.join(c.workloads)}; geometric mean of the median "
            f"ratios of {c.rounds} interleaved rounds): {verdict}.")


def sentences(runs: Sequence[Run], serial: Sequence[SerialRuns]) -> list[str]:
    """What free-threading changes on this machine, each claim decided by intervals."""
    out = []
    one = [r.label for r in runs if r.results.usable_cpus == 1]
    if one:
        out.append(f"{', '.join(one)} had one usable CPU: nothing runs in parallel there, so "
                   "its runs cannot show what free-threading changes (only the single-thread "
                   "cost).")
    free = [r for r in runs if free_threaded(r) and not gil_on(r.results)]
    with_gil = [r for r in runs if gil_on(r.results)]
    for f in free:
        ft = model_span(f, "threads")
        for g in with_gil:
            gt = model_span(g, "threads")
            if ft is None or gt is None:
                which = f.label if ft is None else g.label
                out.append(f"Threads on pure-Python work, {f.label} (GIL off) against "
                           f"{g.label} (GIL on): can't tell — no thread cell precise enough "
                           f"on every workload on {which}.")
                continue
            if ft.low > gt.high:
                word = (f"threads gain {ft.point / gt.point:.2f}× more with the GIL off (the "
                        "intervals separate)")
            elif ft.high < gt.low:
                word = "threads gain less with the GIL off (the intervals separate)"
            else:
                word = "the intervals overlap: no sure difference"
            out.append(f"Threads on pure-Python work: {ft.text()} on {f.label} (GIL off) vs "
                       f"{gt.text()} on {g.label} (GIL on) — {word}.")
    for r in runs:
        t, p = model_span(r, "threads"), model_span(r, "processes")
        if t is None or p is None:
            continue
        if t.low > p.high:
            word = "threads beat processes"
        elif p.low > t.high:
            word = "processes beat threads"
        else:
            word = "neither surely beats the other"
        out.append(f"On {r.label} (GIL {gil_state(r)}): threads {t.text()}, processes {p.text()} "
                   f"on pure-Python work — {word}.")
    base = baseline(runs)
    for r in runs:
        if r is base:
            continue
        c = cost(serial, r.label, base.label)
        if c is not None:
            out.append(_cost_sentence(c))
    if not serial:
        out.append("The single-thread cost was not measured (it needs the interpreters' "
                   "interleaved serial runs of a `gilbench run --python …`); the serial "
                   "times below come from separate sweeps.")
    return out


def blocks(runs: Sequence[Run], serial: Sequence[SerialRuns],
           left_out: Sequence[str] = ()) -> list[Block]:
    """The comparison's Free-threading section, or nothing without a free-threaded build."""
    if not any(free_threaded(r) for r in runs):
        return []
    out: list[Block] = [Heading("What free-threading changes"), Para(
        "The same question on each interpreter: threads or processes for pure-Python CPU "
        "work, with the GIL off and on. Figures are speedups over each interpreter's own "
        "serial runs with their 95% intervals; \"can't tell\" where the intervals do not "
        "decide."), table(runs, serial), Bullets(tuple(sentences(runs, serial)))]
    if left_out:
        out.append(Bullets(tuple(left_out)))
    return out


def terminal_lines(runs: Sequence[Run], serial: Sequence[SerialRuns]) -> list[str]:
    """The section for the end of a ``--python`` run: one block per interpreter, then
    what changes (empty without a free-threaded build)."""
    if not any(free_threaded(r) for r in runs):
        return []
    t = table(runs, serial)
    lines = ["What free-threading changes (pure-Python work; speedups over each "
             "interpreter's own serial runs, 95% intervals):"]
    for i, r in enumerate(runs):
        lines.append(f"  {r.label} ({t.rows[0][i + 1]}, GIL {t.rows[1][i + 1]}):")
        lines += [f"    {row[0]}: {row[i + 1]}" for row in t.rows[2:]]
    lines += ["- " + s for s in sentences(runs, serial)]
    return lines
