"""gilbench against pyperf on the same question, alternating in the same minutes.

The question: how much faster is a ``ProcessPoolExecutor`` of 2 workers than a plain loop
on gilbench's ``fib`` kernel (its ``standard`` size, 8 tasks)? pyperf answers it with two
benchmarks of the same calls (the loop and ``pool.map``, in one ``pyperf.Runner`` with its
default 20 processes); its precision for the ratio is that of two independent means,
each a 95% t-interval, combined by the delta method (the relative half-widths in
quadrature). gilbench answers it with one run (``gilbench run --suite speedup --workloads
fib --strategies serial,process_pool --workers 2``), asked for that half-width with
``--target-ci``; its figure is the confirmed headline's 95% interval.

``python -m tests.vs_pyperf [PAIRS]`` runs PAIRS pairs (default 3), pyperf first in odd
pairs and gilbench first in even ones, and prints, per pair, each tool's wall time and
half-width, and gilbench's time as a share of pyperf's. Run ``gilbench selfcheck`` first
and quote its phase with the figures. Needs ``pip install pyperf``.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from gilbench.bench.analysis.cells import headline_of
from gilbench.bench.results import load

WORKLOAD, PROFILE, WORKERS = "fib", "standard", 2

PYPERF_SCRIPT = textwrap.dedent(f"""
    import atexit, concurrent.futures, pyperf
    from gilbench.workloads import WORKLOADS, Task
    from gilbench.bench.profiles import PROFILES

    task = Task({WORKLOAD!r}, WORKLOADS[{WORKLOAD!r}].size_for({PROFILE!r}), None)
    items = range(PROFILES[{PROFILE!r}].tasks)
    pool = None

    def serial():
        return [task(i) for i in items]

    def process_pool():
        global pool
        if pool is None:  # in pyperf's worker process, not its parent
            pool = concurrent.futures.ProcessPoolExecutor({WORKERS})
            atexit.register(pool.shutdown)
        return list(pool.map(task, items))

    runner = pyperf.Runner()
    runner.bench_func("serial", serial)
    runner.bench_func("process_pool", process_pool)
""")


def _t95(df: int) -> float:
    """Student's t at 97.5% (a table is enough: pyperf gives 60 values by default)."""
    table = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 10: 2.23, 20: 2.09, 30: 2.04,
             60: 2.00}
    return table[min((k for k in table if k >= df), default=60)] if df < 60 else 1.96


def pyperf_pair(folder: Path) -> dict[str, float]:
    """pyperf's two benchmarks: its wall time, each mean's relative 95% half-width and
    relative standard deviation (what pyperf prints as "+-"), and the ratio's."""
    import pyperf

    script = folder / "pyperf_fib.py"
    script.write_text(PYPERF_SCRIPT)
    out = folder / "pyperf.json"
    out.unlink(missing_ok=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, str(script), "--quiet", "-o", str(out)], check=True,
                   cwd=folder)
    wall = time.perf_counter() - t0
    suite = pyperf.BenchmarkSuite.load(str(out))
    res: dict[str, float] = {"wall_s": wall}
    for bench in suite.get_benchmarks():
        values = bench.get_values()
        mean, sd = bench.mean(), bench.stdev()
        res[f"{bench.get_name()}_sd"] = sd / mean
        res[f"{bench.get_name()}_hw"] = _t95(len(values) - 1) * sd / math.sqrt(len(values)) / mean
        res[f"{bench.get_name()}_s"] = mean
    res["speedup"] = res["serial_s"] / res["process_pool_s"]
    res["hw"] = math.hypot(res["serial_hw"], res["process_pool_hw"])
    return res


def gilbench_run(folder: Path, target_pct: float) -> dict[str, float]:
    """One gilbench run asked for ``target_pct``: its wall time and its confirmed
    headline's figure and relative half-width."""
    out = folder / "gilbench"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "gilbench", "run", "--profile", PROFILE,
                    "--suite", "speedup", "--workloads", WORKLOAD, "--strategies",
                    "serial,process_pool", "--workers", str(WORKERS), "--target-ci",
                    f"{max(0.1, target_pct):.1f}", "--out", str(out), "-q"],
                   check=True, stdout=subprocess.DEVNULL, cwd=folder)
    wall = time.perf_counter() - t0
    results = load(out / "results.json")
    h = headline_of(results, WORKLOAD, "processes")
    assert h is not None and h.cell.speedup is not None
    ci = h.interval()
    assert ci is not None, "no interval"
    return {"wall_s": wall, "speedup": float(h.cell.speedup),
            "hw": (ci[1] - ci[0]) / 2 / float(h.cell.speedup), "pairs": len(h.cell.times_s),
            "confirmed": float(h.confirmed)}


def main(pairs: int = 3) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env_note = os.environ.get("GILBENCH_PLACEMENT", "paired")
        for p in range(pairs):
            if p % 2 == 0:
                perf = pyperf_pair(folder)
                ours = gilbench_run(folder, 100 * perf["hw"])
            else:  # the target from the last pair's pyperf, so gilbench can go first
                ours = gilbench_run(folder, 100 * rows[-1][0]["hw"])
                perf = pyperf_pair(folder)
            rows.append((perf, ours))
            print(f"pair {p + 1}: pyperf {perf['wall_s']:.1f} s, speedup {perf['speedup']:.3f}"
                  f" ±{100 * perf['hw']:.1f}% (serial ±{100 * perf['serial_hw']:.1f}%, "
                  f"pool ±{100 * perf['process_pool_hw']:.1f}%; its printed +- "
                  f"{100 * perf['serial_sd']:.1f}% and {100 * perf['process_pool_sd']:.1f}%)"
                  f" | gilbench {ours['wall_s']:.1f} s, {ours['speedup']:.3f} "
                  f"±{100 * ours['hw']:.1f}% n={ours['pairs']:.0f}"
                  f"{'' if ours['confirmed'] else ' (not confirmed)'} | gilbench's time "
                  f"{ours['wall_s'] / perf['wall_s']:.2f} of pyperf's; half-width "
                  f"{ours['hw'] / perf['hw']:.2f} of pyperf's (placement {env_note})",
                  flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
