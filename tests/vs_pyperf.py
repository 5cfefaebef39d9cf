"""gilbench against pyperf on the same question, alternating in the same minutes.

The question: how much faster is a ``ProcessPoolExecutor`` of 2 workers than a plain loop
on gilbench's ``fib`` kernel (its ``standard`` size, 8 tasks)? pyperf answers it with two
benchmarks of the same calls (the loop and ``pool.map``, in one ``pyperf.Runner`` with its
default 20 processes). Its precision for the ratio is given two ways, both printed: what
pyperf prints ("Mean +- std dev": the spread of single values, the yardstick the issue
quoted, "pyperf reached ±2.2-3.7%"), and the 95% interval of the ratio of its two means
(each a t-interval, the relative half-widths in quadrature), the stricter one. gilbench
answers it with one run of its defaults (``gilbench run --profile standard --suite
speedup --workloads fib --strategies serial,process_pool --workers 2``); its figure is
the confirmed headline's 95% interval. Both wall times count everything the user waits
for (gilbench's start-of-run probe and report included).

``python -m tests.vs_pyperf [PAIRS]`` runs PAIRS pairs (default 3), pyperf first in odd
pairs and gilbench first in even ones, and prints, per pair, each tool's wall time and
half-widths, and gilbench's as shares of pyperf's. Run ``gilbench selfcheck`` first and
quote its phase with the figures. Needs ``pip install pyperf``.
"""

from __future__ import annotations

import math
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from gilbench.bench.analysis.cells import headline_of
from gilbench.bench.analysis.significance import t_quantile
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
                   cwd=folder, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    suite = pyperf.BenchmarkSuite.load(str(out))
    res: dict[str, float] = {"wall_s": wall}
    for bench in suite.get_benchmarks():
        values = bench.get_values()
        mean, sd = bench.mean(), bench.stdev()
        res[f"{bench.get_name()}_sd"] = sd / mean
        t = t_quantile(0.975, len(values) - 1)
        res[f"{bench.get_name()}_hw"] = t * sd / math.sqrt(len(values)) / mean
        res[f"{bench.get_name()}_s"] = mean
    res["speedup"] = res["serial_s"] / res["process_pool_s"]
    res["hw"] = math.hypot(res["serial_hw"], res["process_pool_hw"])  # the means' ratio
    res["printed"] = math.hypot(res["serial_sd"], res["process_pool_sd"])  # its "+-"
    return res


def gilbench_run(folder: Path, pair: int) -> dict[str, float]:
    """One gilbench run of its defaults: its wall time and its confirmed headline's figure
    and relative half-width."""
    out = folder / f"gilbench-{pair}"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "gilbench", "run", "--profile", PROFILE,
                    "--suite", "speedup", "--workloads", WORKLOAD, "--strategies",
                    "serial,process_pool", "--workers", str(WORKERS), "--out", str(out), "-q"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   cwd=folder)
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
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for p in range(pairs):
            if p % 2 == 0:
                perf, ours = pyperf_pair(folder), gilbench_run(folder, p)
            else:
                ours, perf = gilbench_run(folder, p), pyperf_pair(folder)
            print(f"pair {p + 1}: pyperf {perf['wall_s']:.1f} s, speedup {perf['speedup']:.3f}"
                  f", its printed +- {100 * perf['printed']:.1f}% (serial "
                  f"{100 * perf['serial_sd']:.1f}%, pool {100 * perf['process_pool_sd']:.1f}%)"
                  f", 95% interval of the means' ratio ±{100 * perf['hw']:.1f}% | gilbench "
                  f"{ours['wall_s']:.1f} s, {ours['speedup']:.3f} ±{100 * ours['hw']:.1f}% "
                  f"n={ours['pairs']:.0f}{'' if ours['confirmed'] else ' (not confirmed)'} | "
                  f"gilbench's time {ours['wall_s'] / perf['wall_s']:.2f} of pyperf's, its "
                  f"half-width {ours['hw'] / perf['printed']:.2f} of pyperf's printed +- and "
                  f"{ours['hw'] / perf['hw']:.2f} of its interval", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
