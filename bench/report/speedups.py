"""The speedup sweep in a report (named apart from ``bench.runner.sweep``, which runs it):
tables, verdict lines, scaling laws, task sizes, noise and free-threading (pure functions
of a Results and its charts).
"""

from __future__ import annotations

from pathlib import Path

from gilbench.bench import stats
from gilbench.bench.analysis import (
    artefact,
    best_by_speedup,
    best_of_model,
    ceiling,
    cpu_speeds,
    crossover,
    crossovers,
    curve_laws,
    duel_of,
    entry_counts,
    findings,
    gil_on,
    granularity,
    over_ceiling,
    precision,
    pure_python_workloads,
    serial_cell,
    size_points,
)
from gilbench.bench.analysis.noise import others_check, round_dependence, two_modes
from gilbench.bench.analysis.scaling import AMDAHL_MIN_POINTS
from gilbench.bench.fmt import fmt_machine, fmt_s, fmt_speedup, fmt_x
from gilbench.bench.interprecord import InterpreterRecord
from gilbench.bench.kinds import gil_words, kind_title
from gilbench.bench.report.document import (
    Block,
    Bullets,
    Heading,
    Image,
    Para,
    Table,
    workload_chart,
)
from gilbench.bench.results import Cell, Results, unpaired

Charts = dict[str, list[Path]]


def fmt_cell(c: Cell, usable: int, gil_marks: bool = False) -> str:
    """A table cell: speedup [95% interval] n=pairs, ⚠ when noisy, ✗ when the point
    is above what the usable CPUs allow (a machine artefact, never a result), and
    with ``gil_marks`` (a run whose interpreter had the GIL off) "GIL on" where the
    cell's workers had it on."""
    if c.status != "ok":
        return c.status.upper()
    if c.speedup is None:
        return f"{c.median_s * 1000:.1f} ms" if c.median_s is not None else "—"
    if c.strategy == "serial":
        return fmt_x(c.speedup)
    return (fmt_speedup(c.speedup, c.speedup_ci95, len(c.times_s))
            + (" ⚠" if c.noisy else "") + (" ✗" if over_ceiling(c, usable) else "")
            + (f" {GIL_ON_MARK}" if gil_marks and c.gil_enabled_in_workers else ""))


def fmt_best(c: Cell | None) -> str:
    if c is None:
        return "can't tell (no precise cell)"
    return f"{fmt_speedup(c.speedup, c.speedup_ci95, len(c.times_s))} {c.label} @{c.workers}"


def summary_table(results: Results) -> Table:
    rows = []
    for w in results.workloads():
        base = serial_cell(results, w)
        d = duel_of(results, w)
        kind = next(c.kind for c in results.cells_of(w))
        rows.append((
            w, kind,
            f"{base.median_s * 1000:.1f} ms" if base and base.median_s is not None else "FAILED",
            fmt_best(d.threads),
            fmt_best(d.processes),
            d.text,
        ))
    return Table(("workload", "kind", "serial", "best threads", "best processes", "verdict"),
                 tuple(rows))


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
    usable = results.usable_cpus
    marks = results.machine.get("gil_enabled", True) is False
    best = best_by_speedup(cells, usable)
    rows = []
    best_row = None
    for i, label in enumerate(labels):
        row = [label]
        startups = []
        for n in workers:
            c = by.get((label, n))
            row.append("" if c is None else fmt_cell(c, usable, marks))
            if c is not None and c is best:
                best_row = i
            if c and c.startup_s is not None:
                startups.append(c.startup_s)
        row.append(f"{max(startups) * 1000:.1f}" if startups else "—")
        rows.append(tuple(row))
    return Table(("strategy", *[f"{n} workers" for n in workers], "start-up ms (max)"),
                 tuple(rows), frozenset({best_row}) if best_row is not None else frozenset())


def scaling_table(results: Results, workload: str) -> Table | None:
    """Per strategy: Amdahl's serial fraction, Karp–Flatt per core count, where
    more workers stop paying, CPU utilisation and peak memory per worker count."""
    cells = [c for c in results.cells_of(workload) if c.strategy != "serial"]
    if not any(c.ok for c in cells):
        return None
    usable = max(1, results.usable_cpus)
    workers = sorted({c.workers for c in cells})
    rows = []
    for label in dict.fromkeys(c.label for c in cells):
        mine = [c for c in cells if c.label == label]
        if not any(c.ok for c in mine):
            continue
        laws = curve_laws(mine, usable)
        f = laws["amdahl_f"]
        amdahl = (f"needs {AMDAHL_MIN_POINTS}+ worker counts from 2 to {usable}" if f is None
                  else f"{f:.2f} (≤ {1 / f:.0f}×)" if f > 0.005 else f"{f:.3f} (no limit seen)")
        kf = ", ".join(f"{p}: {e:.2f}" for p, e in laws["karp_flatt"]) or "—"
        stop = laws["stops_paying"]
        stop_text = ("never pays" if stop is None else
                     f"still gaining at {stop}" if stop == laws["top"] else f"{stop} workers")
        by = {c.workers: c for c in mine}
        utils = [by[n].cpu_utilization if n in by else None for n in workers]
        peaks = [by[n].peak_rss_bytes if n in by else None for n in workers]
        util = " / ".join("—" if u is None else f"{u:.0%}" for u in utils)
        mem = " / ".join("—" if b is None else f"{b / 2**20:.0f}" for b in peaks)
        rows.append((label, amdahl, kf, stop_text, util, mem))
    per = "/".join(str(n) for n in workers)
    return Table(("strategy", "serial fraction f (Amdahl fit)", "Karp–Flatt e by cores",
                  "more workers stop paying at", f"CPU use @ {per}", f"peak MiB @ {per}"),
                 tuple(rows))


def task_size_blocks(results: Results, charts: dict[str, list[Path]]) -> list[Block]:
    sweeps = [w for w in results.workloads() if len(results.sizes_of(w)) > 1
              and not granularity.is_granularity(results, w)]  # its own section
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
            d = p["duel"]
            rows.append((str(p["size"]), str(p["tasks"]), fmt_s(p["task_s"]),
                         fmt_best(d.threads), fmt_best(d.processes), d.text))
        main = crossover(pts)
        blocks.append(Para(f"**{w}**: {main.claim} {main.text()}."))
        per = crossovers(pts)
        if len(per) > 1:
            blocks.append(Bullets(tuple(f"{label}: {c.text()}" for label, c in per)))
        blocks.append(Table(("size", "tasks", "serial time per task", "best threads",
                             "best processes", "verdict"), tuple(rows)))
    return blocks


def findings_table(results: Results) -> Table:
    rows = []
    for f in findings(results):
        source = f.source + (f": “{f.quote}”" if f.quote else "")
        rows.append((f"{f.claim} ({source})", f"**{f.verdict}**", f.rule, f.evidence))
    return Table(("claim", "verdict", "rule", "measured on this machine"), tuple(rows))


def start_method_words(results: Results) -> str | None:
    """Which start method the process cells used, and whose choice it was."""
    used = sorted({c.start_method for c in results.cells if c.start_method})
    if not used:
        return None
    default = results.machine.get("default_start_method")
    named = results.plan.start_methods if results.plan else ()
    text = f"process cells started by {', '.join(used)}"
    if not named and used == [default]:
        text += " (this interpreter's default"
        text += ("; Python 3.14 made forkserver Linux's default, fork before)"
                 if default == "forkserver" else ")")
    elif named:
        text += " (--start-method)"
    return text


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
    parts.append(f"{m.get('usable_cpus')} usable CPUs · "
                 + InterpreterRecord.from_machine(m).short_words())
    method = start_method_words(results)
    if method:
        parts.append(method)
    if run.get("duration_s"):
        parts.append(f"{run['duration_s']:.0f} s")
    if cells and any(c.noisy for c in cells):
        parts.append(f"{sum(c.noisy for c in cells)} noisy cells (see Noise)")
    return " · ".join(parts)


def workload_blocks(results: Results, charts: dict[str, list[Path]]) -> list[Block]:
    blocks: list[Block] = [Heading("Workloads")]
    gil = gil_on(results)
    for w in results.workloads():
        base = serial_cell(results, w)
        first = results.cells_of(w)[0]
        desc = results.description(w)
        blocks.append(Heading(w, 3))
        calibrated = dict(results.plan.calibrated) if results.plan else {}
        how = (f" (calibrated on this machine: a task took {calibrated[w] * 1000:.3g} ms "
               "there)" if first.size_calibrated and w in calibrated else
               " (calibrated on this machine)" if first.size_calibrated else "")
        blocks.append(Para(
            f"{desc} Kind: {kind_title(first.kind, gil)}. {first.tasks} tasks of "
            f"size {first.size}{how}; serial median "
            + (f"{base.median_s * 1000:.1f} ms." if base and base.median_s else "not measured.")))
        if workload_chart(w) in charts:
            blocks.append(Image(charts[workload_chart(w)][0], f"speedup of {w}"))
        blocks.append(workload_table(results, w))
        laws = scaling_table(results, w)
        if laws:
            blocks.append(Para(f"Scaling laws and cost of each curve of {w}:"))
            blocks.append(laws)
    return blocks


def precision_line(results: Results) -> str | None:
    p = precision(results)
    if not p["cells"]:
        return None
    n = p["cells"]
    text = f"95% intervals of the speedups: median ±{p['median_half_width']:.1%}"
    if p["target"]:
        text += f"; {p['within_target']} of {n} cells within the ±{p['target']:.0%} target"
    text += f", {p['within_10']} of {n} within ±10%"
    return text + f"; {p['noisy']} cells flagged noisy (⚠)"


def modes_blocks(results: Results) -> list[Block]:
    """The cells whose runs fell into two modes (``analysis.noise.two_modes``)."""
    found = two_modes(results)
    if not found:
        return []
    return [Para(f"{len(found)} cells ran in two modes: most of their runs at one speed and "
                 "a share of them markedly slower (each run divided by its round's serial "
                 "run, so a drift both shared does not count) — a worker that lost its CPU, "
                 "or waited on the GIL, for whole runs. Their median and interval hold for "
                 "the mix this machine gave them; a quieter machine may give fewer slow "
                 "runs:"),
            Bullets(tuple(f"{m.cell.workload} {m.cell.label} @{m.cell.workers}: "
                          f"{m.share:.0%} of its runs {m.slower:.2f}× slower than the rest"
                          for m in found))]


def order_blocks(results: Results) -> list[Block]:
    """Whether the rounds were independent, as every interval assumes
    (``analysis.noise.round_dependence``): said when they were not."""
    bad = [d for d in round_dependence(results) if d.dependent]
    if not bad:
        return []
    return [Para("Consecutive rounds were alike more than chance allows in "
                 + "; ".join(f"the cells of {d.group} ({d.cells} cells, Bartels' rank test "
                             f"combined, p = {d.p:.2g})" for d in bad)
                 + ": a slow phase hit one side of several pairs in a row, so their "
                   "intervals are narrower than the evidence (a run from before "
                   "2026-12 paired cells of several workers with one serial run the OS "
                   "placed; see docs/methodology.md, Placement). Run again on a quieter "
                   "machine to confirm their figures.")]


def noise_blocks(results: Results) -> list[Block]:
    blocks: list[Block] = [Heading("Noise")]
    run = results.run
    plan = results.plan
    if plan and plan.target_ci:
        blocks.append(Para(
            f"Each cell was repeated until the 99% interval of its speedup was within "
            f"±{plan.target_ci:.0%} of it (then its 95% interval, the one shown, keeps its "
            f"coverage), at least {plan.repeats} and at most "
            f"{plan.max_repeats} times, in rounds that also re-ran the serial kernel "
            "(first in one round, last in the next, so a slow drift of the machine cancels) "
            "with its time budget shared among the cells of the round."))
    line = precision_line(results)
    if line:
        blocks.append(Para(line + "."))
    checks = run.get("noise_checks") or []
    if checks:
        rows = tuple((c["check"], str(c["value"]),
                      {True: "ok", False: "**noisy**", None: "—"}[c["ok"]], c["advice"] or "")
                     for c in checks)
        others = others_check(run.get("others_cpu_fraction"))
        if others:
            rows += ((others["check"], others["value"],
                      "ok" if others["ok"] else "**noisy**", others["advice"]),)
        steal = run.get("cpu_steal_fraction")
        if steal is not None:
            rows += (("CPU steal during the run", f"{steal:.1%} of the machine's CPU time",
                      "ok" if steal < 0.02 else "**noisy**",
                      "" if steal < 0.02 else "the hypervisor gave this VM's CPUs to other "
                      "guests: its neighbours are busy"),)
        blocks.append(Para("Checked before the run, and during it (other programs' CPU use, "
                           "the hypervisor's steal):"))
        blocks.append(Table(("check", "value", "verdict", "what to do"), rows))
    speeds = cpu_speeds(results)
    if speeds:
        slowest = max(speeds.values())[0] / min(speeds.values())[0]
        blocks.append(Para(
            "Placement: in each round the serial run and every one-worker cell ran pinned to "
            "the same CPU, each CPU in turn, so a CPU slower than the others slows both runs "
            "of a pair alike. The serial kernel's runs by CPU (each cell's median on that CPU "
            "÷ its median over all, geometric mean): " + ", ".join(
                f"CPU {cpu} {x:.3f}× ({n} runs)" for cpu, (x, n) in speeds.items())
            + (f" — the slowest CPU ran {slowest:.2f}× slower than the fastest: a noisy "
               "phase, which the paired placement keeps out of the one-worker cells' ratios."
               if slowest >= 1.05 else ".")))
    blocks += physics_blocks(results) + modes_blocks(results) + order_blocks(results)
    early = [c for c in results.cells if c.left_early]
    if early:
        blocks.append(Para(f"{len(early)} cells left their rounds before their target on "
                           "purpose: each was surely slower than another worker count of its "
                           "strategy, so more pairs could not change which is best or any "
                           "verdict; their time went to the other cells."))
        blocks.append(Bullets(tuple(f"{c.workload} {c.label} @{c.workers}: "
                                    f"{fmt_speedup(c.speedup, c.speedup_ci95, len(c.times_s))}"
                                    for c in early)))
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


def machine_warning(results: Results) -> str | None:
    """Why this run's numbers are shakier than their intervals alone say, or None:
    shown before any verdict, in the report and the printed summary."""
    run = results.run
    reasons = [f"{c['check']} {c['value']}" for c in run.get("noise_checks") or []
               if c.get("ok") is False or (c.get("ok") is None and "probe" in c["check"])]
    others = others_check(run.get("others_cpu_fraction"))
    if others and others["ok"] is False:
        reasons.append(f"other programs used {others['value']}")
    steal = run.get("cpu_steal_fraction")
    if steal is not None and steal >= 0.02:
        reasons.append(f"the hypervisor stole {steal:.1%} of the CPU time")
    # Cells flagged noisy are not evidence here: at 6-8 pairs an interval is wide by
    # construction on any machine. A whole interval above what the CPUs allow is.
    usable = results.usable_cpus
    sure = [c for c in results.cells if c.ok and artefact(c, usable)]
    if sure:
        reasons.append(f"{len(sure)} cells faster than the CPUs allow with their whole 95% "
                       "interval (✗: the machine's speed changed during the run)")
    if not reasons:
        return None
    return ("This machine was noisy during the run: " + "; ".join(reasons) + ". The "
            "verdicts below rest on 95% intervals, which are wider for it, so more of them "
            "say \"can't tell\"; `gilbench selfcheck` shows whether this is a noisy phase "
            "(see Noise).")


def physics_blocks(results: Results) -> list[Block]:
    """Cells faster than the usable CPUs allow on CPU-bound work: named, with the cause."""
    usable = results.usable_cpus
    over = [c for c in results.cells if c.ok and over_ceiling(c, usable)]
    if not over:
        return []
    sure = [c for c in over if artefact(c, usable)]
    text = (f"{len(over)} cells on CPU-bound work came out faster than their workers and "
            f"the {usable or 'unknown number of'} usable CPUs can make them (✗). No "
            "strategy does that, so these cells decide no verdict and are never called "
            "best. A point just above the ceiling with an interval reaching below it is "
            f"noise; {len(sure)} of them have their whole 95% interval above it: a machine "
            "artefact — the machine's speed changed between a cell's runs and the serial "
            "runs paired with them (a vCPU slowed by its neighbours while the serial run "
            "was on it, or CPUs that run at different speeds).")
    return [Para(text), Bullets(tuple(
        f"{c.workload} {c.label} @{c.workers}: "
        f"{fmt_speedup(c.speedup, c.speedup_ci95, len(c.times_s))} > "
        f"{ceiling(c, usable):.0f}× possible"
        + (" (whole interval above: a machine artefact)" if artefact(c, usable) else "")
        for c in over))]


GIL_ON_MARK = "GIL on"  # a cell whose workers had the GIL on, in a run without it


def free_threading(results: Results) -> str | None:
    """What a free-threaded interpreter (or PYTHON_GIL=0) changed, or None on a GIL build:
    where the GIL was on, why, and what threads gained on pure-Python work."""
    m = results.machine
    if not m.get("free_threaded_build") and m.get("gil_enabled", True):
        return None
    env = m.get("python_gil_env")
    main_on = bool(m.get("gil_enabled"))
    text = ("This interpreter is a free-threaded build (PEP 703)" if m.get("free_threaded_build")
            else "The GIL was off in this interpreter")
    text += f"; the GIL was {gil_words(main_on, env)} in gilbench's process."
    asked = [c for c in results.cells if c.gil_enabled_in_workers is not None
             and c.strategy != "serial"]
    on = [c for c in asked if c.gil_enabled_in_workers]
    if main_on and env == "1":
        cause = ("PYTHON_GIL=1 turns it on at start-up in every process of the run, so this "
                 "run measures the free-threaded build's code with a GIL")
    elif main_on:
        cause = ("it was on from the start: PYTHON_GIL or -X gil asked for it, or a module "
                 "imported at start-up lacks free-threading support")
    else:
        cause = ("an extension module without free-threading support turns it back on, for "
                 "good, in the process that imports it (Python warns: \"The global interpreter "
                 "lock (GIL) has been enabled to load module …\"); threads of gilbench's own "
                 "process share its GIL, so every later thread cell has it too")
    if on and len(on) == len(asked):
        text += f" The GIL was **on** inside the workers of every cell: {cause}."
    elif on:
        shown = ", ".join(f"{c.workload} {c.label} @{c.workers}" for c in on[:8])
        more = f" and {len(on) - 8} more" if len(on) > 8 else ""
        where = f"marked \"{GIL_ON_MARK}\" in the tables: " if not main_on else ""
        text += (f" The GIL was **on** inside the workers of {len(on)} of {len(asked)} cells "
                 f"({where}{shown}{more}): {cause}.")
    elif asked:
        text += " It stayed off inside the workers of every cell."
    cpu = pure_python_workloads(results)
    t = [c.speedup for c in (best_of_model(results, w, "threads") for w in cpu)
         if c and c.speedup]
    p = [c.speedup for c in (best_of_model(results, w, "processes") for w in cpu)
         if c and c.speedup]
    if not t:
        return text
    gains = (f"their best speedup on it here is {stats.geometric_mean(t):.2f}× (geometric "
             "mean)" + (f", processes {stats.geometric_mean(p):.2f}×" if p else ""))
    if gil_on(results):
        text += (" With the GIL on, threads run Python bytecode one at a time, as on a GIL "
                 f"build: {gains}.")
    else:
        text += (" What changes: threads can run pure-Python CPU work in parallel — "
                 f"{gains}; on a GIL build threads stay near 1×.")
    return text


def predates_pairs(results: Results) -> str | None:
    """What a reader must know first about a file whose cells have no paired runs, or
    None: those cells show a point without an interval and decide nothing."""
    old = unpaired(results.cells)
    if not old:
        return None
    share = "all its" if len(old) == sum(c.ok and c.strategy != "serial"
                                         for c in results.cells) else f"{len(old)} of its"
    return (f"This file predates paired measurement: {share} parallel cells have no serial "
            "runs interleaved with theirs, so each shows its speedup as a point without an "
            "interval (whatever interval the file stored) and decides no verdict, headline or "
            "finding. Measure again with today's gilbench to decide.")
