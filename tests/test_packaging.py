"""gilbench installed beside other software: other projects' pytest sessions stay as they
were (gilbench's pytest11 entry point stays inert there), and gilbench's helper programs
import gilbench whatever the working directory holds.

(The wheel itself, installed non-editable into a second environment and used from another
folder, is checked by ``.ci/run``: a missing module cannot land.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # pytest sessions and gilbench runs in subprocesses

FOREIGN_TEST = '''
def work():
    return sum(range(2000))


def test_work(benchmark):
    assert benchmark(work) == 1999000
'''

# What the foreign session saw of gilbench, written where the test can read it.
FOREIGN_CONFTEST = '''
import json
import sys


def pytest_sessionfinish(session):
    config = session.config
    seen = {
        "modules": sorted(m for m in sys.modules if m.split(".")[0] in (
                          "bench", "workloads", "gilbench")),
        "plugins": sorted(name for name, _ in config.pluginmanager.list_name_plugin()
                          if "gilbench" in name),
        "gilbench_options": [o for o in vars(config.option) if o.startswith("gilbench")],
        "benchmark_disable": config.getoption("benchmark_disable"),
    }
    with open("seen.json", "w") as f:
        json.dump(seen, f)
'''


@pytest.fixture
def foreign(tmp_path: Path) -> Path:
    """A tiny project of someone else's: one pytest-benchmark test, its own ini."""
    root = tmp_path / "foreign"
    root.mkdir()
    (root / "pytest.ini").write_text("[pytest]\n")
    (root / "conftest.py").write_text(FOREIGN_CONFTEST)
    (root / "test_work.py").write_text(FOREIGN_TEST)
    return root


def pytest_in(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                          cwd=root, capture_output=True, text=True, timeout=120)


def seen(root: Path) -> dict:
    """What gilbench left in a foreign session that uses none of it: its entry point's
    module alone (options and a marker defined, nothing of the harness imported or
    registered)."""
    data = json.loads((root / "seen.json").read_text())
    assert data["modules"] == ["gilbench", "gilbench.pytest_plugin"], \
        f"gilbench's harness was imported into a foreign session: {data}"
    assert data["plugins"] == ["gilbench"]  # the entry point; not the harness
    assert sorted(data["gilbench_options"]) == sorted(["gilbench_profile", "gilbench_out",
                                               "gilbench_timeout"])
    return data


def test_gilbench_registers_its_pytest_plugin_under_its_own_name():
    # The entry point loads a module whose top-level name no user's project has (a user's
    # own bench/ or workloads/ package on sys.path cannot break their pytest).
    groups = [ep for ep in metadata.entry_points(group="pytest11") if "gilbench" in ep.value]
    assert [(ep.name, ep.value) for ep in groups] == [("gilbench", "gilbench.pytest_plugin")]
    from gilbench import pytest_plugin as entry
    from gilbench.bench import pytest_plugin

    assert entry.PROFILES == pytest_plugin.TIMED_PROFILES


def test_a_foreign_projects_plain_pytest_times_its_benchmarks(foreign):
    r = pytest_in(foreign)
    assert r.returncode == 0, r.stdout[-2000:]
    assert "1 passed" in r.stdout
    # pytest-benchmark times a plain run and prints its table (gilbench turned it off)
    assert "Name (time in" in r.stdout, r.stdout[-2000:]
    assert seen(foreign)["benchmark_disable"] is False


def test_a_foreign_projects_autosave_saves(foreign):
    r = pytest_in(foreign, "--benchmark-autosave")
    assert r.returncode == 0, r.stdout[-2000:]
    assert len(list((foreign / ".benchmarks").rglob("*.json"))) == 1
    seen(foreign)


def test_a_foreign_projects_benchmark_json_is_pytest_benchmarks_own(foreign):
    out = foreign / "out.json"
    r = pytest_in(foreign, "--benchmark-only", f"--benchmark-json={out}")
    assert r.returncode == 0, r.stdout[-2000:]
    data = json.loads(out.read_text())
    assert set(data) == {"machine_info", "commit_info", "benchmarks", "datetime", "version"}
    assert "gilbench" not in data["machine_info"]
    (bench,) = data["benchmarks"]
    assert bench["extra_info"] == {} and "speedup" not in bench
    seen(foreign)


def test_a_foreign_projects_xdist_runs_are_pytest_benchmarks_business(foreign):
    r = pytest_in(foreign, "-n", "2")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "1 passed" in r.stdout
    # With --benchmark-only, pytest-benchmark itself refuses -n; gilbench says nothing.
    r = pytest_in(foreign, "--benchmark-only", "-n", "2")
    assert "Can't have both --benchmark-only and --benchmark-disable" in r.stderr
    assert "gilbench" not in r.stdout + r.stderr


DECOY = 'raise SystemExit("a decoy {name} package from the working directory was imported")\n'


@pytest.fixture
def decoy_cwd(tmp_path: Path) -> Path:
    """A working directory holding packages named like gilbench's own."""
    cwd = tmp_path / "cwd"
    for name in ("bench", "workloads"):
        (cwd / name).mkdir(parents=True)
        (cwd / name / "__init__.py").write_text(DECOY.format(name=name))
    for helper in ("startprobe", "remote"):
        (cwd / "bench" / f"{helper}.py").write_text(DECOY.format(name=f"bench.{helper}"))
    return cwd


def gilbench_script() -> str:
    """The installed ``gilbench`` command (a console script: what a user types)."""
    script = Path(sys.executable).parent / "gilbench"
    assert script.exists(), f"gilbench is not installed beside {sys.executable}"
    return str(script)


def test_the_startup_probe_ignores_a_bench_package_in_the_working_directory(decoy_cwd,
                                                                            cli_env):
    out = decoy_cwd / "out"
    r = subprocess.run([gilbench_script(), "run", "--profile", "smoke", "--suite", "startup",
                        "--out", str(out)], cwd=decoy_cwd, env=cli_env, capture_output=True,
                       text=True, timeout=180)
    assert "decoy" not in r.stdout + r.stderr
    assert r.returncode == 0, r.stderr[-2000:]
    entries = json.loads((out / "results.json").read_text())["startup"]
    # ok, or (subinterpreters and their pool on an older Python) skipped with the reason
    assert entries and all(e.get("error") is None or (
        e["status"] == "skipped" and "needs Python 3.1" in e["error"]) for e in entries), entries
    assert any(e["what"] == "start_join" and e["status"] == "ok" for e in entries)


def test_a_python_run_ignores_a_bench_package_in_the_working_directory(decoy_cwd, cli_env):
    out = decoy_cwd / "out"
    r = subprocess.run([gilbench_script(), "run", "--profile", "smoke", "--suite", "speedup",
                        "--workloads", "fib", "--strategies", "serial,threads,process_pool",
                        "--workers", "2", "--python", sys.executable, "--out", str(out)],
                       cwd=decoy_cwd, env=cli_env, capture_output=True, text=True, timeout=180)
    assert "decoy" not in r.stdout + r.stderr
    assert r.returncode == 0, r.stderr[-2000:]
    (results,) = out.glob("*/results.json")
    cells = json.loads(results.read_text())["cells"]
    assert len(cells) == 3 and all(c["status"] == "ok" for c in cells), cells


# A user's project with packages of its own named like gilbench's folders: gilbench's
# modules live under ``gilbench``, so neither shadows the other.
OWN_KERNEL = '''
from gilbench import workload


@workload(kind="cpu")
def own_work(size, seed):
    return sum(i * i for i in range(size + seed))
'''

OWN_TEST = '''
import pytest

import bench
import workloads
from kern import own_work  # noqa: F401  (registers the kernel)


def test_the_projects_own_packages_are_its_own():
    assert bench.NAME == "mine" and workloads.WORKLOADS == ("mine",)


@pytest.mark.gilbench(workloads=["own_work"], strategies=["threads"], workers=[2])
def test_own_speedup(gilbench_benchmark):
    gilbench_benchmark()
'''


@pytest.fixture
def own_project(tmp_path: Path) -> Path:
    root = tmp_path / "mine"
    for name, text in (("bench", 'NAME = "mine"\n'), ("workloads", 'WORKLOADS = ("mine",)\n')):
        (root / name).mkdir(parents=True)
        (root / name / "__init__.py").write_text(text)
    (root / "pytest.ini").write_text("[pytest]\n")
    (root / "kern.py").write_text(OWN_KERNEL)
    (root / "test_mine.py").write_text(OWN_TEST)
    return root


@pytest.mark.slow
def test_a_project_with_its_own_bench_and_workloads_runs_gilbench_both_ways(own_project):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHON_GIL")}
    # The CLI as `python -m gilbench`: the project's folder first on sys.path.
    out = own_project / "run"
    r = subprocess.run([sys.executable, "-m", "gilbench", "run", "--profile", "smoke",
                        "--workloads-from", "kern.py", "--strategies", "serial,threads",
                        "--workers", "2", "--out", str(out)], cwd=own_project, env=env,
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    cells = json.loads((out / "results.json").read_text())["cells"]
    assert {(c["workload"], c["strategy"], c["status"]) for c in cells} == {
        ("own_work", "serial", "ok"), ("own_work", "threads", "ok")}
    # The pytest path, no -p: the project's packages are its own, the cells run (smoke)
    # and, with --benchmark-only, are timed and reported.
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                        "test_mine.py"], cwd=own_project, env=env, capture_output=True,
                       text=True, timeout=180)
    assert r.returncode == 0 and "3 passed" in r.stdout, r.stdout[-3000:] + r.stderr[-2000:]
    report = own_project / "report"
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                        "test_mine.py", "--benchmark-only", "--gilbench-out", str(report)],
                       cwd=own_project, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "2 passed" in r.stdout, r.stdout[-3000:] + r.stderr[-2000:]
    assert "1 deselected" in r.stdout  # the plain test: --benchmark-only leaves it out
    assert (report / "report.html").exists()
    assert "DeprecationWarning" not in r.stdout + r.stderr


OLD_NAMES = """
import warnings
warnings.simplefilter("error", DeprecationWarning)
try:
    import workloads
except DeprecationWarning as w:
    print("warned:", w)
warnings.simplefilter("ignore", DeprecationWarning)
import bench.runner.decide as old
import gilbench.bench.runner.decide as new
import gilbench.workloads as g
from workloads import WORKLOADS, workload
print(old is new, WORKLOADS is g.WORKLOADS, workload is g.workload)
"""


@pytest.mark.parametrize("where", ["elsewhere", "checkout"])
def test_the_old_names_are_the_same_modules_with_a_warning(where, tmp_path, repo_root):
    # from another folder the installed aliases answer; in the checkout its own bench/
    # and workloads/ folders, imported under the old names, make themselves aliases
    cwd = repo_root if where == "checkout" else tmp_path
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run([sys.executable, "-c", OLD_NAMES], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    warned, same = r.stdout.strip().splitlines()
    assert "'workloads' is gilbench's old name for 'gilbench.workloads'" in warned
    assert "from gilbench import workload" in warned
    assert same == "True True True"  # one registry of kernels, not two
    r = subprocess.run([sys.executable, "-W", "ignore::DeprecationWarning", "-m", "bench",
                        "list", "--json"], cwd=cwd, env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and "fib" in json.loads(r.stdout)["workloads"][0]["name"], \
        r.stderr[-2000:]
