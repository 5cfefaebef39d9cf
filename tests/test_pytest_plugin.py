"""The pytest-benchmark way in, run as a user runs it: pytest in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SELECT = "fib-serial-1 or fib-threads-2 or fib-process_pool-2"


ROOT = Path(__file__).resolve().parent.parent

# Each test starts a pytest session in a subprocess.
pytestmark = pytest.mark.slow


def pytest_run(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           f"--rootdir={ROOT}", str(ROOT / "tests" / "test_benchmarks.py"),
                           "-k", SELECT, *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_benchmark_only_writes_json_with_speedups_and_charts(repo_root, cli_env, tmp_path):
    out_json = tmp_path / "out.json"
    report = tmp_path / "report"
    # test_fmt's tests time nothing: deselected up front, not 'SKIPPED' one line each.
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                        f"--rootdir={ROOT}", str(ROOT / "tests" / "test_benchmarks.py"),
                        str(ROOT / "tests" / "test_fmt.py"), "-k", f"{SELECT} or test_fmt",
                        "--benchmark-only", "--gilbench-profile=quick",
                        f"--benchmark-json={out_json}", f"--gilbench-out={report}"],
                       cwd=repo_root, env={**cli_env, "COLUMNS": "300"}, capture_output=True,
                       text=True, timeout=300)  # wide: a row a line (wrapping: test_report)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "Skipping non-benchmark" not in r.stdout and "SKIPPED" not in r.stdout
    assert " deselected" in r.stdout.splitlines()[-1]
    # The speedups in the terminal summary, as `gilbench run` prints them.
    # After pytest-benchmark's time table (grouped by workload), not before it.
    assert r.stdout.index("benchmark 'fib'") < r.stdout.index("gilbench: speedups")
    summary = r.stdout.split("gilbench: speedups (profile quick")[1]
    assert summary.index("best threads") < summary.index("\nfib ") < summary.index(
        "gilbench: speedup charts and report")
    fib = next(line for line in summary.splitlines() if line.startswith("fib "))
    # 10 rounds (the CLI's confirmed headlines rest on as many), and advice in the
    # session's own options, never the CLI's it lacks
    assert "n=10" in fib and ("processes" in fib or "can't tell" in fib or "threads" in fib)
    assert "--target-ci" not in summary and "--profile full" not in summary
    assert "- CPU-bound pure Python (holds the GIL) (fib tasks of about " in summary
    assert f"gilbench: speedup charts and report in {report}" in r.stdout
    assert "benchmark 'fib'" in r.stdout  # grouped by workload
    data = json.loads(out_json.read_text())
    names = {b["name"] for b in data["benchmarks"]}
    assert names == {"test_speedup[fib-serial-1]", "test_speedup[fib-threads-2]",
                     "test_speedup[fib-process_pool-2]"}
    for b in data["benchmarks"]:
        x = b["extra_info"]
        assert {"workload", "kind", "strategy", "start_method", "workers", "speedup",
                "efficiency", "speedup_ci95"} <= set(x)
        assert x["speedup_ci95"][0] <= x["speedup"] <= x["speedup_ci95"][1]
        assert b["group"] == "fib"
        assert len(b["stats"]["data"]) == 10  # quick: 10 timed rounds (CONFIRM_MIN_PAIRS)
        # each paired with a serial run: 10 pairs, an honest 95% interval
        assert x["pairs"] == (0 if x["strategy"] == "serial" else 10)
        assert len(x["serial_times_s"]) == x["pairs"]  # so compare can bootstrap from them
        assert "median over the rounds" in x["speedup_is"]
    assert data["machine_info"]["gilbench"]["usable_cpus"] >= 1
    assert "gil_enabled" in data["machine_info"]["gilbench"]
    assert (report / "speedup-fib.png").exists() and (report / "report.html").exists()
    # The same charts from the pytest-benchmark JSON alone.
    again = tmp_path / "again"
    r = subprocess.run([sys.executable, "-m", "gilbench", "report", str(out_json), "--out",
                        str(again)], cwd=tmp_path, env=cli_env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (again / "speedup-fib.png").exists()
    assert "fib" in (again / "report.md").read_text()


def test_save_twice_then_compare(repo_root, cli_env, tmp_path):
    storage = "--benchmark-storage=file://./store"  # pytest-benchmark wants it under cwd
    for name in ("first", "second"):
        r = pytest_run("--benchmark-only", f"--benchmark-save={name}", storage,
                       f"--gilbench-out={tmp_path / name}", cwd=tmp_path, env=cli_env)
        assert r.returncode == 0, r.stdout[-2000:]
    saved = sorted((tmp_path / "store").rglob("*.json"))
    assert len(saved) == 2
    r = pytest_run("--benchmark-only", "--benchmark-compare", storage,
                   f"--gilbench-out={tmp_path / 'third'}", cwd=tmp_path, env=cli_env)
    assert r.returncode == 0, r.stdout[-2000:]
    said = r.stdout + r.stderr
    assert "Comparing against benchmarks from" in said and "0002_second" in said
    assert "machine_info is different" not in said  # nothing volatile in gilbench's block
    assert "(NOW)" in r.stdout and "(0002_second)" in r.stdout  # the comparison table


def test_plain_pytest_runs_each_benchmark_once_untimed(repo_root, cli_env):
    r = pytest_run("-q", cwd=repo_root, env=cli_env)
    assert r.returncode == 0, r.stdout[-2000:]
    assert "3 passed" in r.stdout
    assert "benchmark 'fib'" not in r.stdout  # no timing table


def test_xdist_with_benchmark_only_is_refused_in_one_line(repo_root, cli_env):
    r = pytest_run("--benchmark-only", "-n", "2", cwd=repo_root, env=cli_env)
    assert r.returncode == 4, r.stdout[-1000:] + r.stderr  # pytest's usage-error code
    lines = [line for line in r.stderr.splitlines() if "gilbench" in line]
    assert len(lines) == 1 and "pytest-xdist runs benchmarks side by side" in lines[0]
    assert "Traceback" not in r.stderr


def test_benchmarks_on_one_cluster_share_it_and_run_before_the_others(repo_root, cli_env,
                                                                       tmp_path):
    # A Dask cluster takes seconds to start: the session starts one for every benchmark
    # of the same strategy and workers, runs them one after the other (first), and closes
    # it before the pools' benchmarks; nothing is left behind.
    out_json = tmp_path / "out.json"
    select = "fib-dask-2 or sleep-dask-2 or fib-serial-1 or sleep-serial-1 or fib-threads-2"
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                        f"--rootdir={ROOT}", str(ROOT / "tests" / "test_benchmarks.py"),
                        "-k", select, "-v", "--benchmark-only", "--gilbench-profile=quick",
                        f"--benchmark-json={out_json}", f"--gilbench-out={tmp_path / 'r'}"],
                       cwd=repo_root, env=cli_env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    ran = [line.split("::")[1].split(" ")[0] for line in r.stdout.splitlines()
           if "test_benchmarks.py::" in line and "PASSED" in line]
    assert ran == ["test_speedup[fib-dask-2]", "test_speedup[sleep-dask-2]",
                   "test_speedup[fib-serial-1]", "test_speedup[fib-threads-2]",
                   "test_speedup[sleep-serial-1]"], ran
    dask = [b["extra_info"] for b in json.loads(out_json.read_text())["benchmarks"]
            if b["extra_info"]["strategy"] == "dask"]
    assert len(dask) == 2 and dask[0]["startup_s"] == dask[1]["startup_s"]  # started once
    assert all("started once" in x["startup_is"] for x in dask)


def test_a_kept_cluster_is_closed_before_the_next_test_that_is_not_its(tmp_path, cli_env):
    # An idle cluster heartbeats: the next test that does not use it must not run beside it.
    (tmp_path / "test_mine.py").write_text(textwrap.dedent("""
        import psutil, pytest
        from gilbench import workload

        @workload(kind="cpu", sizes={"smoke": 10, "quick": 10, "standard": 10, "full": 10})
        def tiny(size, seed):
            return seed * size

        @pytest.mark.gilbench(strategies=["dask"], workers=[2])
        def test_cells(gilbench_benchmark):
            gilbench_benchmark()

        def test_after_them_no_cluster_is_running():
            alive = [" ".join(p.cmdline()) for p in psutil.Process().children(recursive=True)]
            assert not [c for c in alive if "spawn_main" in c or "distributed" in c], alive
    """))
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "gilbench.bench.pytest_plugin", "-p",
                        "no:cacheprovider", str(tmp_path / "test_mine.py"), "-q",
                        "-k", "dask or after", f"--rootdir={tmp_path}"],  # no serial between
                       cwd=tmp_path, env=cli_env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:]
    assert "2 passed" in r.stdout, r.stdout[-1000:]
