"""The kind verdicts in words: one sentence per kind of work, from the typed answer
``bench.analysis.verdicts.KindVerdict``. Markdown marks the kind and the answer in bold;
the terminal asks for plain words (``bold=False``)."""

from __future__ import annotations

from gilbench.bench.analysis.verdicts import MORE_PRECISION, TIE_RATIO, KindVerdict
from gilbench.bench.kinds import kind_title


def kind_verdict_text(v: KindVerdict, bold: bool = True) -> str:
    """The verdict as one sentence."""
    def b(text: str) -> str:
        return f"**{text}**" if bold else text

    sizes = ", ".join(f"{w} {size}" if size else w for w, size in v.workloads)
    title = f"{b(kind_title(v.kind, v.gil))} ({sizes})"
    band = f"{TIE_RATIO - 1:.0%}"
    top = v.top
    if v.outcome == "undecided" or top is None:
        return (f"{title}: can't tell — no kind of worker has a cell precise enough to "
                f"decide on every workload ({MORE_PRECISION}).")
    if v.outcome == "serial":
        return (f"{title}: nothing beats serial by more than {band} (best: {top.label} "
                f"{top.text()}): stay serial.")
    if v.outcome == "unsure":
        return (f"{title}: can't tell whether anything beats serial (most likely: "
                f"{top.label} {top.text()}; {MORE_PRECISION}).")
    other = v.passed_over
    tie = ""
    if v.tie == "threads_cheaper" and other is not None:
        tie = (f" ({other.label}, {other.text()}, is not surely more than {band} faster; "
               "threads cost less)")
    elif v.tie == "threads_unsure" and other is not None:
        tie = (f" (surely faster than serial; not surely more than {band} faster than "
               f"{other.label} {other.text()}, which is not surely faster than serial)")
    confirmed = all(c.confirmation is not None and c.confirmation.ok for c in top.cells)
    best = ("confirmed best" if confirmed else
            "best, its interval widened for the choice among the cells (not confirmed)")
    parts = [f"{title}: use {b(top.label)}, {top.text()} over serial{tie} (geometric mean of "
             f"each workload's {best}, its range holding jointly)"]
    named = (other.model, other.label) if tie and other is not None else None
    parts += [f"best {o.model}: {o.label} {o.text()}" for o in v.others
              if (o.model, o.label) != named]  # the tie's words gave its figure already
    return "; ".join(parts) + "."


def kind_verdict_lines(verdicts: list[KindVerdict], bold: bool = True) -> list[str]:
    return [kind_verdict_text(v, bold) for v in verdicts]
