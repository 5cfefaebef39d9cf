"""report.md and report.html: pure functions of a Results object (and its charts).

A report is built once as a list of blocks (``bench.document``) and rendered
twice: Markdown that links the chart files, and a self-contained HTML page.
"""

from __future__ import annotations

from pathlib import Path

from bench import stats
from bench.costs import SECTIONS, describe_entry, entry_counts, failed_entries, fmt_s
from bench.document import Block, Bullets, Heading, Image, Para, Table, render_html, render_markdown
from bench.findings import findings
from bench.results import Cell, Results, best_cells, best_of_model
from workloads import KIND_TITLES, KINDS, WORKLOADS

# Speedups closer than this are reported as a tie rather than a win.
TIE_RATIO = 1.05

# ------------------------------------------------------------ analysis


def fmt_x(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}×"


def fmt_cell(c: Cell) -> str:
    if c.status != "ok":
        return c.status.upper()
    if c.speedup is None:
        return f"{c.median_s * 1000:.1f} ms" if c.median_s is not None else "—"
    text = fmt_x(c.speedup)
    if c.speedup_ci95 and c.strategy != "serial":
        text += f" [{c.speedup_ci95[0]:.2f}–{c.speedup_ci95[1]:.2f}]"
    return text + (" ⚠" if c.noisy else "")


def serial_cell(results: Results, workload: str) -> Cell | None:
    for c in results.cells_of(workload):
        if c.strategy == "serial" and c.ok:
            return c
    return None


def workload_verdict(threads: Cell | None, procs: Cell | None) -> str:
    if threads is None and procs is None:
        return "no result"
    if threads is None or procs is None:
        winner = threads or procs
        return f"{winner.model} ({winner.label})"  # type: ignore[union-attr]
    ratio = threads.speedup / procs.speedup  # type: ignore[operator]
    if ratio > TIE_RATIO:
        return f"threads, {ratio:.2f}× faster than processes"
    if ratio < 1 / TIE_RATIO:
        return f"processes, {1 / ratio:.2f}× faster than threads"
    return "tie: threads are cheaper"


def summary_table(results: Results) -> Table:
    rows = []
    for w in results.workloads():
        base = serial_cell(results, w)
        t = best_of_model(results, w, "threads")
        p = best_of_model(results, w, "processes")
        kind = next(c.kind for c in results.cells_of(w))
        rows.append((
            w, kind,
            f"{base.median_s * 1000:.1f} ms" if base and base.median_s is not None else "FAILED",
            f"{fmt_x(t.speedup)} {t.label} @{t.workers}" if t else "—",
            f"{fmt_x(p.speedup)} {p.label} @{p.workers}" if p else "—",
            workload_verdict(t, p),
        ))
    return Table(("workload", "kind", "serial", "best threads", "best processes", "verdict"),
                 tuple(rows))


def kind_verdicts(results: Results) -> list[str]:
    """Per kind of work, the recommended strategy with its measured speedup."""
    best = best_cells(results)
    lines = []
    for kind in KINDS:
        names = [w for w in results.workloads()
                 if any(c.kind == kind for c in results.cells_of(w))]
        if not names:
            continue
        scores: dict[str, float] = {}
        models: dict[str, str] = {}
        for label in dict.fromkeys(c.label for c in results.main_cells if c.strategy != "serial"):
            found = [best[(w, label)] for w in names if (w, label) in best]
            if len(found) == len(names):
                scores[label] = stats.geometric_mean([c.speedup for c in found])  # type: ignore[misc]
                models[label] = found[0].model
        if not scores:
            lines.append(f"**{KIND_TITLES[kind]}**: no strategy finished on every workload.")
            continue
        top = max(scores, key=scores.__getitem__)
        by_model = {}
        for label, score in scores.items():
            m = models[label]
            if m not in by_model or score > scores[by_model[m]]:
                by_model[m] = label
        thread_best = by_model.get("threads")
        tie = ""
        if (thread_best and models[top] != "threads"
                and scores[top] / scores[thread_best] <= TIE_RATIO):
            # Within the tie margin threads win: no start-up, no pickling, shared memory.
            top, tie = thread_best, " (ties with the fastest; threads cost less)"
        if scores[top] < TIE_RATIO:
            lines.append(f"**{KIND_TITLES[kind]}** ({', '.join(names)}): nothing beats serial "
                         f"here (best: {top} {scores[top]:.2f}×): stay serial.")
            continue
        parts = [f"**{KIND_TITLES[kind]}** ({', '.join(names)}): use **{top}**, "
                 f"{scores[top]:.2f}× serial{tie} (geometric mean of its best speedup "
                 "per workload)"]
        for model in ("threads", "processes"):
            label = by_model.get(model)
            if label and label != top:
                parts.append(f"best {model}: {label} {scores[label]:.2f}×")
        lines.append("; ".join(parts) + ".")
    return lines


def fmt_machine(key: str, value: object) -> str:
    """One value of a machine record, as a report shows it."""
    if value is None:
        return "—"
    if key == "memory_bytes" and isinstance(value, int):
        return f"{value / 2**30:.1f} GiB"
    return str(value)


def machine_table(machine: dict) -> Table:
    keys = ("hostname", "os", "cpu_model", "logical_cpus", "usable_cpus", "physical_cores",
            "memory_bytes", "python_version", "python_implementation", "free_threaded_build",
            "gil_enabled", "switch_interval_s", "default_start_method", "numpy_version",
            "load_average", "cpu_governor")
    return Table(("", "value"), tuple((k, fmt_machine(k, machine.get(k))) for k in keys))


def workload_table(results: Results, workload: str) -> Table:
    cells = results.cells_of(workload)
    workers = sorted({c.workers for c in cells if c.strategy != "serial"})
    labels = list(dict.fromkeys(c.label for c in cells if c.strategy != "serial"))
    by = {(c.label, c.workers): c for c in cells}
    rows = []
    best_row = None
    best_x = 0.0
    for i, label in enumerate(labels):
        row = [label]
        startups = []
        for n in workers:
            c = by.get((label, n))
            row.append("" if c is None else fmt_cell(c))
            if c and c.ok and c.speedup and c.speedup > best_x:
                best_x, best_row = c.speedup, i
            if c and c.startup_s is not None:
                startups.append(c.startup_s)
        row.append(f"{max(startups) * 1000:.1f}" if startups else "—")
        rows.append(tuple(row))
    return Table(("strategy", *[f"{n} workers" for n in workers], "start-up ms (max)"),
                 tuple(rows), frozenset({best_row}) if best_row is not None else frozenset())


def curve_laws(cells: list[Cell], usable: int) -> dict[str, object]:
    """The scaling laws of one strategy's curve (its ok cells with a speedup)."""
    pts = sorted((c for c in cells if c.ok and c.speedup), key=lambda c: c.workers)
    on_cores = [(c.workers, c.speedup) for c in pts if 1 < c.workers <= usable]
    f = stats.amdahl_fit([(c.workers, c.speedup) for c in pts if c.workers <= usable])
    return {"amdahl_f": f,
            "karp_flatt": [(p, stats.karp_flatt(x, p)) for p, x in on_cores],  # type: ignore[arg-type]
            "stops_paying": stats.stops_paying([(c.workers, c.speedup) for c in pts]),  # type: ignore[misc]
            "top": pts[-1].workers if pts else None}


def scaling_table(results: Results, workload: str) -> Table | None:
    """Per strategy: Amdahl's serial fraction, Karp–Flatt per core count, where
    more workers stop paying, CPU utilisation and peak memory per worker count."""
    cells = [c for c in results.cells_of(workload) if c.strategy != "serial"]
    if not any(c.ok for c in cells):
        return None
    usable = int(results.machine.get("usable_cpus") or 1)
    workers = sorted({c.workers for c in cells})
    rows = []
    for label in dict.fromkeys(c.label for c in cells):
        mine = [c for c in cells if c.label == label]
        if not any(c.ok for c in mine):
            continue
        laws = curve_laws(mine, usable)
        f = laws["amdahl_f"]
        amdahl = "—" if f is None else (f"{f:.2f} (≤ {1 / f:.0f}×)" if f > 0.005
                                        else f"{f:.3f} (no limit seen)")
        kf = ", ".join(f"{p}: {e:.2f}" for p, e in laws["karp_flatt"]) or "—"  # type: ignore[attr-defined]
        stop = laws["stops_paying"]
        stop_text = ("never pays" if stop is None else
                     f"still gaining at {stop}" if stop == laws["top"] else f"{stop} workers")
        by = {c.workers: c for c in mine}
        util = " / ".join("—" if by.get(n) is None or by[n].cpu_utilization is None
                          else f"{by[n].cpu_utilization:.0%}" for n in workers)
        mem = " / ".join("—" if by.get(n) is None or by[n].peak_rss_bytes is None
                         else f"{by[n].peak_rss_bytes / 2**20:.0f}" for n in workers)
        rows.append((label, amdahl, kf, stop_text, util, mem))
    per = "/".join(str(n) for n in workers)
    return Table(("strategy", "serial fraction f (Amdahl fit)", "Karp–Flatt e by cores",
                  "more workers stop paying at", f"CPU use @ {per}", f"peak MiB @ {per}"),
                 tuple(rows))


def size_points(results: Results, workload: str) -> list[dict[str, object]]:
    """Per size of a task-size sweep: task time, best thread and process cells."""
    out = []
    for size, cells in results.sizes_of(workload).items():
        base = next((c for c in cells if c.strategy == "serial" and c.ok and c.median_s), None)
        if base is None:
            continue
        best = {}
        for model in ("threads", "processes"):
            mine = [c for c in cells if c.model == model and c.ok and c.speedup is not None]
            best[model] = max(mine, key=lambda c: c.speedup, default=None)  # type: ignore[arg-type,return-value]
        by_label: dict[str, Cell] = {}
        for c in cells:
            if c.strategy != "serial" and c.ok and c.speedup is not None and (
                    c.label not in by_label or c.speedup > by_label[c.label].speedup):  # type: ignore[operator]
                by_label[c.label] = c
        out.append({"size": size, "tasks": base.tasks,
                    "task_s": base.median_s / base.tasks,  # type: ignore[operator]
                    "threads": best["threads"], "processes": best["processes"],
                    "by_label": by_label})
    return out


def crossovers(points: list[dict[str, object]]) -> list[str]:
    """Per process strategy, where it starts to beat the best thread strategy."""
    labels = dict.fromkeys(label for p in points for label, c in p["by_label"].items()  # type: ignore[attr-defined]
                           if c.model == "processes")
    out = []
    for label in labels:
        mine = [{**p, "processes": p["by_label"].get(label)} for p in points]  # type: ignore[attr-defined]
        out.append(f"{label}: {crossover(mine)}")
    return out


def crossover(points: list[dict[str, object]]) -> str:
    """Where processes start to beat threads as tasks grow, in words."""
    wins = []
    for p in points:
        t, q = p["threads"], p["processes"]
        if t is None or q is None:
            continue
        wins.append((p["task_s"], q.speedup / t.speedup > TIE_RATIO))  # type: ignore[attr-defined]
    if not wins:
        return "not measured (threads and processes both needed)"
    if not any(w for _, w in wins):
        return "processes never beat threads here (tasks up to " + fmt_s(wins[-1][0]) + ")"
    i = len(wins)
    while i > 0 and wins[i - 1][1]:
        i -= 1
    if i == len(wins):
        return "no steady crossover: processes win at some task sizes but not at the largest"
    if i == 0:
        return f"processes beat threads at every task size measured, down to {fmt_s(wins[0][0])}"
    return (f"processes beat threads from tasks of about {fmt_s(wins[i][0])} on (at "
            f"{fmt_s(wins[i - 1][0])} per task they did not): below that, what a process "
            "pays per task (pickling, a trip through a pipe) outweighs the other cores")


def task_size_blocks(results: Results, charts: dict[str, list[Path]]) -> list[Block]:
    sweeps = [w for w in results.workloads() if len(results.sizes_of(w)) > 1]
    if not sweeps:
        return []
    blocks: list[Block] = [Heading("Task size: where processes start to pay"), Para(
        "The same total work split into tasks of different sizes (`--sizes`): a process pays "
        "for every task it is sent (pickling, a trip through a pipe) and threads do not, so "
        "below some task size processes lose to threads even on work the GIL serialises. "
        "Each row is the best thread and the best process strategy at that size; below it, "
        "each process strategy on its own (Pool.map sends tasks in chunks, so it pays per "
        "chunk; ProcessPoolExecutor.map and apply_async pay per task).")]
    if "task-size" in charts:
        blocks.append(Image(charts["task-size"][0], "speedup against task size"))
    for w in sweeps:
        pts = size_points(results, w)
        rows = []
        for p in pts:
            t, q = p["threads"], p["processes"]
            rows.append((str(p["size"]), str(p["tasks"]), fmt_s(p["task_s"]),  # type: ignore[arg-type]
                         f"{fmt_x(t.speedup)} {t.label} @{t.workers}" if t else "—",  # type: ignore[attr-defined]
                         f"{fmt_x(q.speedup)} {q.label} @{q.workers}" if q else "—",  # type: ignore[attr-defined]
                         workload_verdict(t, q)))  # type: ignore[arg-type]
        blocks.append(Para(f"**{w}**: {crossover(pts)}."))
        per = crossovers(pts)
        if len(per) > 1:
            blocks.append(Bullets(tuple(per)))
        blocks.append(Table(("size", "tasks", "serial time per task", "best threads",
                             "best processes", "verdict"), tuple(rows)))
    return blocks


def findings_table(results: Results) -> Table:
    rows = []
    for f in findings(results):
        source = f.source + (f": “{f.quote}”" if f.quote else "")
        rows.append((f"{f.claim} ({source})", f"**{f.verdict}**", f.evidence))
    return Table(("claim", "verdict", "measured on this machine"), tuple(rows))


def run_line(results: Results) -> str:
    m, run, cells = results.machine, results.run, results.cells
    parts = [f"Run {results.created_at}", f"profile `{run.get('profile', '?')}`"]
    if cells:
        counts = {s: sum(c.status == s for c in cells)
                  for s in ("ok", "error", "timeout", "skipped")}
        parts.append(f"{len(cells)} cells: {counts['ok']} ok, {counts['error']} error, "
                     f"{counts['timeout']} timeout, {counts['skipped']} skipped")
    if results.suites:
        ok, bad, total = entry_counts(results)
        parts.append(f"cost suites {', '.join(results.suites)}: {total} measurements, "
                     f"{ok} ok, {bad} failed")
    parts.append(f"{m.get('usable_cpus')} usable CPUs · Python {m.get('python_version')} "
                 f"({'GIL on' if m.get('gil_enabled', True) else 'GIL off'})")
    if run.get("duration_s"):
        parts.append(f"{run['duration_s']:.0f} s")
    if cells and any(c.noisy for c in cells):
        parts.append(f"{sum(c.noisy for c in cells)} noisy cells (see Noise)")
    return " · ".join(parts)


def workload_blocks(results: Results, charts: dict[str, list[Path]]) -> list[Block]:
    blocks: list[Block] = [Heading("Workloads")]
    for w in results.workloads():
        base = serial_cell(results, w)
        first = results.cells_of(w)[0]
        desc = WORKLOADS[w].description if w in WORKLOADS else ""
        blocks.append(Heading(w, 3))
        blocks.append(Para(
            f"{desc} Kind: {KIND_TITLES.get(first.kind, first.kind)}. {first.tasks} tasks of "
            f"size {first.size}; serial median "
            + (f"{base.median_s * 1000:.1f} ms." if base and base.median_s else "not measured.")))
        if w in charts:
            blocks.append(Image(charts[w][0], f"speedup of {w}"))
        blocks.append(workload_table(results, w))
        laws = scaling_table(results, w)
        if laws:
            blocks.append(Para(f"Scaling laws and cost of each curve of {w}:"))
            blocks.append(laws)
    return blocks


def precision(results: Results) -> dict[str, float | int | None]:
    """How tight the run's speedups are: over its ok non-serial cells with an interval."""
    hws = [c.ci_half_width for c in results.cells if c.ok and c.strategy != "serial"
           and c.ci_half_width is not None]
    target = (results.run.get("plan") or {}).get("target_ci") or None
    return {"cells": len(hws), "target": target,
            "median_half_width": stats.median(hws) if hws else None,
            "within_target": sum(h <= target for h in hws) if target else None,
            "within_10": sum(h <= 0.10 for h in hws),
            "noisy": sum(c.noisy for c in results.cells)}


def precision_line(results: Results) -> str | None:
    p = precision(results)
    if not p["cells"]:
        return None
    n = p["cells"]
    text = f"95% CI of the speedups: median ±{p['median_half_width']:.1%}"
    if p["target"]:
        text += f"; {p['within_target']} of {n} cells within the ±{p['target']:.0%} target"
    text += f", {p['within_10']} of {n} within ±10%"
    return text + f"; {p['noisy']} cells flagged noisy (⚠)"


def noise_blocks(results: Results) -> list[Block]:
    blocks: list[Block] = [Heading("Noise")]
    run = results.run
    plan = run.get("plan") or {}
    if plan.get("target_ci"):
        blocks.append(Para(
            f"Each cell was repeated until the 95% confidence interval of its speedup was "
            f"within ±{plan['target_ci']:.0%} of it, at least {plan.get('repeats')} and at "
            f"most {plan.get('max_repeats')} times, in rounds that also re-ran the serial "
            "kernel (first in one round, last in the next, so a slow drift of the machine "
            "cancels) with its time budget shared among the cells of the round."))
    line = precision_line(results)
    if line:
        blocks.append(Para(line + "."))
    checks = run.get("noise_checks") or []
    if checks:
        rows = tuple((c["check"], str(c["value"]),
                      {True: "ok", False: "**noisy**", None: "—"}[c["ok"]], c["advice"] or "")
                     for c in checks)
        steal = run.get("cpu_steal_fraction")
        if steal is not None:
            rows += (("CPU steal during the run", f"{steal:.1%} of the machine's CPU time",
                      "ok" if steal < 0.02 else "**noisy**",
                      "" if steal < 0.02 else "the hypervisor gave this VM's CPUs to other "
                      "guests: its neighbours are busy"),)
        blocks.append(Para("Checked before the run (and the hypervisor's steal during it):"))
        blocks.append(Table(("check", "value", "verdict", "what to do"), rows))
    noisy = [c for c in results.cells if c.noisy]
    if noisy:
        blocks.append(Para(f"{len(noisy)} cells are flagged (⚠): the interval of their speedup "
                           "stayed wider than the target when their repeats or time ran out "
                           "(with fixed --repeats: their standard deviation reached "
                           f"{stats.NOISY_REL_STD:.0%} of the mean). Re-run them on a quieter "
                           "machine, or with --profile full (more repeats and time per cell), "
                           "before trusting them."))
        blocks.append(Bullets(tuple(
            f"{c.workload} {c.label} @{c.workers}: "
            + (c.noise or f"std dev {c.rel_std or 0:.0%} of the mean") for c in noisy)))
    else:
        blocks.append(Para("No cell was flagged noisy."))
    return blocks


def free_threading(results: Results) -> str | None:
    """What a free-threaded interpreter (or PYTHON_GIL=0) changed, or None on a GIL build."""
    m = results.machine
    if not m.get("free_threaded_build") and m.get("gil_enabled", True):
        return None
    env = m.get("python_gil_env")
    text = ("This interpreter is a free-threaded build (PEP 703)" if m.get("free_threaded_build")
            else "The GIL was off in this interpreter")
    text += (f"; the GIL was {'on' if m.get('gil_enabled') else 'off'} in gilbench's process"
             + (f" (PYTHON_GIL={env})" if env is not None else "") + ".")
    on = sorted({c.label for c in results.cells if c.gil_enabled_in_workers})
    off = [c for c in results.cells if c.gil_enabled_in_workers is False]
    if on:
        text += (" The GIL was **on** inside the workers of " + ", ".join(on) + ": an extension "
                 "module without free-threading support turns it back on when imported.")
    elif off:
        text += " It stayed off inside every worker."
    threads = [best_of_model(results, w, "threads") for w in results.workloads()
               if results.cells_of(w)[0].kind == "cpu"]
    procs = [best_of_model(results, w, "processes") for w in results.workloads()
             if results.cells_of(w)[0].kind == "cpu"]
    t = [c.speedup for c in threads if c and c.speedup]
    p = [c.speedup for c in procs if c and c.speedup]
    if t:
        text += (f" What changes: threads can run pure-Python CPU work in parallel — their best "
                 f"speedup on it here is {stats.geometric_mean(t):.2f}× (geometric mean)"
                 + (f", processes {stats.geometric_mean(p):.2f}×" if p else "") + "; on a "
                 "GIL build threads stay near 1×.")
    return text


def build(results: Results, charts: dict[str, list[Path]]) -> list[Block]:
    m = results.machine
    cells = results.cells
    run = results.run
    blocks: list[Block] = [Heading(f"gilbench report: {m.get('hostname', '?')}", 1),
                           Para(run_line(results))]
    if not results.complete:
        hint = run.get("resume_hint", "gilbench run --resume DIR")
        blocks.append(Para("> **Partial run**: it was interrupted; what is below is what "
                           f"finished. Resume with `{hint}`."))
    ft = free_threading(results)
    if ft:
        blocks += [Heading("Free-threading"), Para(ft)]
    if cells:
        blocks += [Heading("Verdicts"), Bullets(tuple(kind_verdicts(results)))]
    blocks += [Heading("Findings: the article's claims, measured"), Para(
        "Each claim of the seed article (and of the GIL folklore it repeats), the measurement "
        "of this run that tests it, and the verdict."), findings_table(results)]
    if cells:
        blocks += [Heading("Summary"), summary_table(results)]
        if "overview" in charts:
            blocks.append(Image(charts["overview"][0], "overview of best speedups"))
    blocks += [Heading("Machine"), machine_table(m)]
    if cells:
        blocks += workload_blocks(results, charts)
    blocks += task_size_blocks(results, charts)
    for name, section in SECTIONS.items():
        if results.entries(name):
            chart = charts.get(f"suite:{name}")
            blocks += section(results, chart[0] if chart else None)
    if cells:
        blocks += noise_blocks(results)
    failed = [c for c in cells if c.status != "ok"]
    if failed:
        blocks.append(Heading("Failed and skipped cells"))
        blocks.append(Bullets(tuple(f"{c.workload} {c.label} @{c.workers}: {c.status} — "
                                    f"{c.error}" for c in failed)))
    bad = failed_entries(results)
    if bad:
        blocks.append(Heading("Failed measurements of the cost suites"))
        blocks.append(Bullets(tuple(f"{describe_entry(s, e)}: {e.status} — {e.error}"
                                    for s, e in bad)))
    blocks += [Heading("How to read this report"), Bullets((
        "Speedup = serial median time ÷ the cell's median time, for the same total work "
        "(strong scaling); [lo–hi] is its 95% bootstrap confidence interval.",
        "The dotted diagonal is ideal linear scaling; the dash-dot vertical line marks the "
        "usable CPUs, past which more workers can only add waiting, not computing.",
        "Thread strategies are blue/dashed, process strategies red/orange/solid. Worker "
        "start-up is measured separately (last table column) and is not in the speedup.",
        "Bold rows hold the workload's best speedup; ⚠ marks a noisy cell (hollow markers in "
        "the charts): see Noise for why.",
        "Serial fraction f: Amdahl's law S(p) = 1 / (f + (1 − f)/p) fitted by least squares to "
        "the curve's points up to the usable CPUs; 1/f is the most that strategy could reach "
        "with unlimited cores. Karp–Flatt e = (1/S − 1/p)/(1 − 1/p) at each core count p: "
        "steady e means a truly serial part, e growing with p means an overhead that grows "
        "with the workers (start-up, pickling, contention). More workers stop paying where "
        "the next count gains less than 5%.",
        "CPU use = CPU time of gilbench's process and the cell's workers ÷ wall time ÷ usable "
        "CPUs: the GIL's signature is threads at 1/usable (one CPU busy) however many run. "
        "Peak MiB: resident memory of gilbench's process during the cell plus each of its "
        "workers' high-water mark (pages a forked worker shares with its parent count in both).",
        "Cost suites: medians are the headline, p99 the tail (the 99th percentile: one "
        "measurement in a hundred is slower). Times read as ns, µs (10⁻⁶ s), ms and s."))]
    return blocks


def write_report(results: Results, out: Path, charts: dict[str, list[Path]]) -> list[Path]:
    blocks = build(results, charts)
    md = out / "report.md"
    page = out / "report.html"
    md.write_text(render_markdown(blocks, out), encoding="utf-8")
    page.write_text(render_html(blocks, f"gilbench report: {results.machine.get('hostname')}"),
                    encoding="utf-8")
    return [md, page]
