"""Verdicts: which kind of parallelism to use, per workload and per kind of work."""

from __future__ import annotations

from bench import stats
from bench.analysis.cells import best_cells
from bench.results import Cell, Results
from workloads import KIND_TITLES, KINDS

# Speedups closer than this are reported as a tie rather than a win.
TIE_RATIO = 1.05


def workload_verdict(threads: Cell | None, procs: Cell | None) -> str:
    """Threads or processes for one workload, from the best cell of each."""
    if threads is None and procs is None:
        return "no result"
    if threads is None or procs is None:
        winner = threads or procs
        assert winner is not None
        return f"{winner.model} ({winner.label})"
    ratio = threads.speedup_value / procs.speedup_value
    if ratio > TIE_RATIO:
        return f"threads, {ratio:.2f}× faster than processes"
    if ratio < 1 / TIE_RATIO:
        return f"processes, {1 / ratio:.2f}× faster than threads"
    return "tie: threads are cheaper"


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
                scores[label] = stats.geometric_mean([c.speedup_value for c in found])
                models[label] = found[0].model
        if not scores:
            lines.append(f"**{KIND_TITLES[kind]}**: no strategy finished on every workload.")
            continue
        top = max(scores, key=scores.__getitem__)
        by_model: dict[str, str] = {}
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
            best_label = by_model.get(model)
            if best_label and best_label != top:
                parts.append(f"best {model}: {best_label} {scores[best_label]:.2f}×")
        lines.append("; ".join(parts) + ".")
    return lines

