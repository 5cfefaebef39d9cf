"""Users' own kernels: ``--workloads-from`` files and modules, installed packages'
entry points, calibrated sizes, the errors that stop a run before it starts, the mixed
kind, and the pytest way in (``examples/``). Real files, real runs, real interpreters."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gilbench.bench.analysis import mixed_sides
from gilbench.bench.results import Results
from gilbench.workloads import WORKLOADS, Task, workload
from gilbench.workloads.user import (
    WorkloadSourceError,
    calibrate,
    check_results,
    load,
    module_name_for,
)
from tests.helpers import FT_PYTHON, fib_cell, python_with_subinterpreters, run_gilbench

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture
def registry():
    """Kernels and modules a test loads are gone after it: the registry is global."""
    before, modules, path = dict(WORKLOADS), set(sys.modules), list(sys.path)
    yield WORKLOADS
    WORKLOADS.clear()
    WORKLOADS.update(before)
    for name in set(sys.modules) - modules:
        del sys.modules[name]
    sys.path[:] = path


def write(folder: Path, name: str, source: str) -> str:
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return str(path)


# ------------------------------------------------------------ loading, in this process


def test_a_kernel_file_registers_its_kernels_under_its_own_module_name(registry):
    names = load(str(EXAMPLES / "log_parsing.py"))
    assert names == ["parse_access_log", "word_frequencies"]
    w = WORKLOADS["parse_access_log"]
    assert w.origin == ("log_parsing", str(EXAMPLES / "log_parsing.py"))
    assert w.calibrated and not WORKLOADS["word_frequencies"].calibrated
    assert w.kind == "cpu" and w.size_unit == "log lines"
    assert w.description.startswith("Parse `size` access-log lines")
    # Loading it again (a second --workloads-from, a resumed run) registers nothing new.
    assert load(str(EXAMPLES / "log_parsing.py")) == names


def test_a_file_whose_name_is_taken_gets_a_name_of_its_own(registry, tmp_path):
    path = Path(write(tmp_path, "json.py", """\
        from gilbench import workload

        @workload(kind="cpu")
        def json_kernel(size, seed):
            return size + seed
        """))
    assert module_name_for(path).startswith("gilbench_user_json_")
    load(str(path))
    assert WORKLOADS["json_kernel"].origin[0].startswith("gilbench_user_json_")


def test_a_task_of_a_user_kernel_runs_in_a_fresh_interpreter_that_never_saw_it(registry,
                                                                                cli_env):
    load(str(EXAMPLES / "log_parsing.py"))
    task = Task("word_frequencies", 300)
    blob = pickle.dumps(task)
    r = subprocess.run([sys.executable, "-c", "import pickle, sys; t = pickle.load("
                        "sys.stdin.buffer); print(repr(t(3)))"], input=blob,
                       capture_output=True, env=cli_env, cwd="/", check=False)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode().strip() == repr(task(3))


def test_calibration_picks_a_size_from_the_cost_model(registry):
    @workload(kind="io", size_unit="sleeps of 0.2 ms")
    def naps(size, seed):
        import time

        time.sleep(size * 0.0002)
        return seed

    cal = calibrate(WORKLOADS["naps"], "quick")
    # A sleep is never shorter than asked: a task of more than 25 naps (5 ms) overshoots
    # quick's 4 ms target by more than the 1.25x calibration accepts.
    assert 1 <= cal.size <= 25
    assert cal.target_s == 0.004 and cal.profile == "quick"
    assert "naps: size" in cal.describe("sleeps")

    @workload(kind="cpu", cost_base=2.0)
    def doubling(size, seed):
        return sum(range(2 ** min(size, 40)))

    cal = calibrate(WORKLOADS["doubling"], "smoke")
    assert 1 <= cal.size <= 40  # grown by steps of one: cost doubles with each


def test_a_kernel_whose_time_does_not_grow_is_refused(registry):
    @workload(kind="cpu")
    def flat(size, seed):
        return seed

    with pytest.raises(WorkloadSourceError, match="does not grow with its size"):
        calibrate(WORKLOADS["flat"], "smoke")


def test_results_must_be_equal_and_picklable(registry):
    import threading

    @workload(kind="cpu", sizes={"smoke": 1, "quick": 1, "standard": 1, "full": 1})
    def lock_maker(size, seed):
        return threading.Lock()

    with pytest.raises(WorkloadSourceError, match="cannot be pickled"):
        check_results(WORKLOADS["lock_maker"], 1)
    counter = iter(range(100))

    @workload(kind="cpu", sizes={"smoke": 1, "quick": 1, "standard": 1, "full": 1})
    def drifting(size, seed):
        return next(counter)

    with pytest.raises(WorkloadSourceError, match="different results for the same size"):
        check_results(WORKLOADS["drifting"], 1)


# ------------------------------------------------------------ bad input: one line, exit 2

KERNEL = """\
from gilbench import workload

@workload(kind="cpu", sizes={{"smoke": 1, "quick": 1, "standard": 1, "full": 1}})
def {name}(size, seed):
    return size + seed
"""

BAD_SOURCES = {
    "no such file": ("missing.py", None, "--workloads-from missing.py: no such file"),
    "no such module": ("no_such_module_xyz", None, "no module named 'no_such_module_xyz'"),
    "import fails": ("broken.py", "import not_a_module_xyz\n",
                     "importing it failed: {tmp}/broken.py:1: ModuleNotFoundError: No module "
                     "named 'not_a_module_xyz'"),
    "syntax error": ("typo.py", "x = 1\ndef kernel(:\n",
                     "importing it failed: {tmp}/typo.py:2: SyntaxError: invalid syntax"),
    "raises at import": ("raising.py", "x = 1\nraise RuntimeError('no config')\n",
                         "importing it failed: {tmp}/raising.py:2: RuntimeError: no config"),
    "a folder": ("kernels/", "", "--workloads-from kernels/: is a folder (give a .py file"),
    "no kernel": ("empty.py", "from gilbench import workload\n", "registers no kernel"),
    "a module without kernels": ("json", None, "--workloads-from json: registers no kernel"),
    "only under __main__": ("main_only.py", "if __name__ == '__main__':\n"
                            + textwrap.indent(KERNEL.format(name="k"), "    "),
                            'Kernels under `if __name__ == "__main__":` are not defined'),
    "built-in name": ("clash.py", KERNEL.format(name="fib"),
                      "kernel 'fib' clashes with gilbench's built-in kernel"),
    "lambda": ("lam.py", "from gilbench import workload\n"
               "workload(kind='cpu')(lambda size, seed: size)\n",
               "kernel '<lambda>' is a lambda; define it with def at the top level"),
    "closure": ("closure.py", "from gilbench import workload\ndef make():\n"
                + textwrap.indent(KERNEL.format(name="inner"), "    ") + "make()\n",
                "kernel 'inner' is defined inside a function (make.<locals>.inner)"),
    "bad kind": ("gpu.py", "from gilbench import workload\n@workload(kind='gpu')\n"
                 "def k(size, seed):\n    return 1\n",
                 "kind must be one of cpu, native, io, mixed, not 'gpu'"),
    "nondeterministic": ("noisy.py", "import random\nfrom gilbench import workload\n"
                         "@workload(kind='cpu', sizes={'smoke': 9, 'quick': 9, "
                         "'standard': 9, 'full': 9})\n"
                         "def noisy(size, seed):\n    return random.random()\n",
                         "kernel 'noisy' returned different results for the same size and "
                         "seed"),
    "setup fails": ("setup.py", "import contextlib\nfrom gilbench import workload\n"
                    "@contextlib.contextmanager\ndef boom():\n    raise OSError('port in use')\n"
                    "    yield\n@workload(kind='io', setup=boom)\n"
                    "def needs_server(size, seed, res):\n    return seed\n",
                    "kernel 'needs_server': its setup failed: {tmp}/setup.py:5: OSError: port "
                    "in use"),
    "raises while calibrated": ("raises.py", "from gilbench import workload\n"
                                "@workload(kind='cpu')\ndef bad(size, seed):\n"
                                "    return 1 / 0\n",
                                "kernel 'bad' failed while gilbench calibrated its size: "
                                "{tmp}/raises.py:4: ZeroDivisionError: division by zero"),
    "unpicklable result": ("lock.py", "import threading\nfrom gilbench import workload\n"
                           "@workload(kind='cpu', sizes={'smoke': 1, 'quick': 1, "
                           "'standard': 1, 'full': 1})\n"
                           "def lock(size, seed):\n    return threading.Lock()\n",
                           "kernel 'lock' returns a value that cannot be pickled"),
}


@pytest.mark.parametrize("case", list(BAD_SOURCES))
def test_a_bad_kernel_source_is_one_line_and_exit_2_before_anything_runs(case, cli_env,
                                                                         tmp_path):
    name, source, message = BAD_SOURCES[case]
    message = message.format(tmp=tmp_path.resolve())
    if name.endswith("/"):
        (tmp_path / name).mkdir()
    elif source is not None:
        write(tmp_path, name, source)
    r = run_gilbench("run", "--profile", "smoke", "--workloads-from", name, env=cli_env,
                     cwd=tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("gilbench: error: ") and message in lines[0], lines[0]
    assert not (tmp_path / "reports").exists()  # nothing ran, nothing written


def test_two_files_with_the_same_kernel_name_are_refused(cli_env, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write(tmp_path / "a", "one.py", KERNEL.format(name="twin"))
    write(tmp_path / "b", "two.py", KERNEL.format(name="twin"))
    r = run_gilbench("list", "--workloads-from", "a/one.py", "--workloads-from", "b/two.py",
                     env=cli_env, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip() == (f"gilbench: error: --workloads-from b/two.py: kernel 'twin' "
                                f"registered twice (already by {tmp_path / 'a' / 'one.py'}); "
                                "rename one of the functions")


# ------------------------------------------------------------ real runs


def cells_of(out: Path) -> list[dict]:
    return json.loads((out / "results.json").read_text())["cells"]


@pytest.mark.slow
def test_user_kernels_run_under_every_strategy_and_start_method_and_resume(cli_env, tmp_path):
    out = tmp_path / "run"
    # One kernel (the calibrated one) under every strategy and start method; the file's
    # other kernel is in the --python test below.
    r = run_gilbench("run", "--profile", "smoke", "--workloads-from",
                     str(EXAMPLES / "log_parsing.py"), "--workloads", "parse_access_log",
                     "--start-method", "fork,spawn,forkserver", "--workers", "2", "--out",
                     str(out), env=cli_env, cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "calibrated parse_access_log: size " in r.stderr
    cells = cells_of(out)
    assert {c["workload"] for c in cells} == {"parse_access_log"}
    methods = {c["start_method"] for c in cells}
    assert {"fork", "spawn", "forkserver"} <= methods
    for c in cells:  # ok, or skipped with its reason: never silently missing
        assert c["status"] == "ok" or (c["status"] == "skipped" and c["error"]), c
    assert {c["strategy"] for c in cells if c["status"] == "ok"} >= {
        "serial", "threads", "process_pool", "pool_map", "loky", "dask"}
    assert all(c["size_calibrated"] for c in cells)
    assert len({c["size"] for c in cells}) == 1
    data = json.loads((out / "results.json").read_text())
    plan = data["run"]["plan"]
    assert plan["workloads_from"] == [str(EXAMPLES / "log_parsing.py")]
    assert [w for w, _ in plan["calibrated"]] == ["parse_access_log"]
    assert "calibrated on this machine" in (out / "report.md").read_text()
    assert "workloads_from" not in data["machine"]

    # Cut the run short as an interruption would, then resume it from another folder.
    kept = data["cells"][:4]
    data["cells"], data["run"]["complete"] = kept, False
    (out / "results.json").write_text(json.dumps(data))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = run_gilbench("run", "--resume", str(out), env=cli_env, cwd=elsewhere, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "calibrated" not in r.stderr  # the sizes come from the run, not measured again
    again = cells_of(out)
    assert len(again) == len(cells)
    assert again[:4] == kept
    assert {(c["workload"], c["size"]) for c in again} == {(c["workload"], c["size"])
                                                           for c in cells}


@pytest.mark.slow
def test_the_mixed_example_and_http_json_with_a_sizes_sweep(cli_env, tmp_path):
    out = tmp_path / "mixed"
    r = run_gilbench("run", "--profile", "smoke", "--workloads-from",
                     str(EXAMPLES / "api_client.py"), "--workloads", "order_totals,http_json",
                     "--strategies", "threads,process_pool,asyncio", "--start-method", "spawn",
                     "--sizes", "0.5,2", "--out", str(out), env=cli_env, cwd=tmp_path,
                     timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    cells = cells_of(out)
    assert {c["kind"] for c in cells} == {"mixed"}
    by = {(c["workload"], c["strategy"]): c for c in cells}
    assert by[("http_json", "asyncio")]["status"] == "ok"  # it has a coroutine variant
    skipped = by[("order_totals", "asyncio")]
    assert skipped["status"] == "skipped" and "async" in skipped["error"]
    assert all(c["status"] == "ok" for c in cells if c["strategy"] != "asyncio")
    assert len({c["size"] for c in cells if c["workload"] == "http_json"}) == 2
    report = (out / "report.md").read_text()
    assert "Mixed work (waiting, then Python work" in report
    assert "Mixed: waiting, then Python work" in report  # the kind's title
    assert "% of its serial time on the CPU" in report
    assert "Task size: where processes start to pay" in report
    assert "- skipped: asyncio on order_totals" in r.stdout  # the printed summary says why
    assert "Findings" not in r.stdout  # the article's claims: not for the user's own kernels


@pytest.mark.slow
def test_user_kernels_in_another_interpreter_with_subinterpreters(cli_env, tmp_path):
    python = python_with_subinterpreters() or FT_PYTHON
    if python is None:
        pytest.skip("no Python 3.13+ here for --python and subinterpreters")
    out = tmp_path / "py"
    r = run_gilbench("run", "--python", python, "--profile", "smoke", "--workloads-from",
                     str(EXAMPLES / "log_parsing.py"), "--strategies",
                     "serial,threads,subinterpreters,process_pool", "--start-method", "spawn",
                     "--workers", "2", "--out", str(out), env=cli_env, cwd=tmp_path,
                     timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    (folder,) = [p for p in out.iterdir() if (p / "results.json").exists()]
    cells = cells_of(folder)
    assert {c["workload"] for c in cells} == {"parse_access_log", "word_frequencies"}
    assert all(c["status"] == "ok" for c in cells), [c["error"] for c in cells]
    assert {c["strategy"] for c in cells} == {"serial", "threads", "subinterpreters",
                                              "process_pool"}
    assert all(c["size_calibrated"] == (c["workload"] == "parse_access_log") for c in cells)
    assert {c["size"] for c in cells if c["workload"] == "word_frequencies"} == {300}
    # The size calibrated in gilbench's process is the one the interpreter ran.
    plan = json.loads((out / "interpreters.json").read_text())["plan"]
    assert dict(plan["sizes"])["parse_access_log"] == next(
        c["size"] for c in cells if c["workload"] == "parse_access_log")


def fake_distribution(folder: Path, module_source: str) -> None:
    """An installed package as importlib.metadata finds it: a module and its dist-info
    with an entry point in gilbench's group (what pip install writes)."""
    (folder / "shipped_kernels.py").write_text(textwrap.dedent(module_source))
    info = folder / "shipped_kernels-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shipped-kernels\n"
                                   "Version: 1.0\n")
    (info / "entry_points.txt").write_text("[gilbench.workloads]\nshipped = shipped_kernels\n")


@pytest.mark.slow
def test_an_installed_package_ships_kernels_through_an_entry_point(cli_env, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    fake_distribution(site, """\
        from gilbench import workload

        @workload(kind="cpu", size_unit="numbers")
        def shipped_sum(size, seed):
            '''Sum of cubes, shipped by a package.'''
            return sum(i ** 3 for i in range(seed, seed + size))
        """)
    env = {**cli_env, "PYTHONPATH": f"{site}:{cli_env['PYTHONPATH']}"}
    r = run_gilbench("list", "--json", env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    listed = {w["name"]: w for w in json.loads(r.stdout)["workloads"]}
    assert listed["shipped_sum"]["source"] == str(site / "shipped_kernels.py")
    assert listed["shipped_sum"]["sizes"] == "calibrated"
    out = tmp_path / "run"
    r = run_gilbench("run", "--profile", "smoke", "--suite", "speedup", "--workloads",
                     "shipped_sum", "--strategies", "serial,process_pool", "--start-method",
                     "spawn", "--out", str(out), env=env, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert all(c["status"] == "ok" for c in cells_of(out))

    broken = tmp_path / "broken"
    broken.mkdir()
    fake_distribution(broken, "raise RuntimeError('half-installed')\n")
    env = {**cli_env, "PYTHONPATH": f"{broken}:{cli_env['PYTHONPATH']}"}
    r = run_gilbench("list", env=env, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip() == (
        "gilbench: error: entry point shipped = shipped_kernels (group gilbench.workloads, "
        f"from shipped-kernels): importing it failed: {broken}/shipped_kernels.py:1: "
        "RuntimeError: half-installed; fix or uninstall shipped-kernels")


@pytest.mark.slow
def test_the_pytest_example_gives_a_speedup_per_benchmark(cli_env, tmp_path):
    # As a user has it: the example copied into their project, nothing asked for (the
    # pytest11 entry point registers gilbench's plugin; no -p).
    shutil.copy(EXAMPLES / "test_user_speedup.py", tmp_path)
    base = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_user_speedup.py",
            "-q"]
    r = subprocess.run(base, env=cli_env, cwd=tmp_path, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout[-3000:]  # plain pytest: each cell once, untimed
    assert "7 passed" in r.stdout
    out, data = tmp_path / "report", tmp_path / "bench.json"
    r = subprocess.run([*base, "--benchmark-only", "--gilbench-out", str(out),
                        f"--benchmark-json={data}"], env=cli_env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:]
    benchmarks = json.loads(data.read_text())["benchmarks"]
    ids = sorted(b["param"] for b in benchmarks)
    assert ids == sorted(["checksum_kernel-serial-1", "checksum_kernel-threads-1",
                          "checksum_kernel-threads-2", "checksum_kernel-process_pool[fork]-1",
                          "checksum_kernel-process_pool[fork]-2",
                          "checksum_kernel-process_pool[spawn]-1",
                          "checksum_kernel-process_pool[spawn]-2"])
    for b in benchmarks:
        info = b["extra_info"]
        assert info["workload"] == "checksum_kernel" and info["kind"] == "cpu"
        assert info["speedup"] > 0, info
        assert info["pairs"] >= 6 or info["strategy"] == "serial", info  # serial: the base
        assert info["start_method"] == ("spawn" if "spawn" in b["param"] else
                                        "fork" if "fork" in b["param"] else None)
    assert "checksum_kernel" in (out / "report.md").read_text()


@pytest.mark.parametrize("marker, message", [
    ('strategies=["warp"]', "@pytest.mark.gilbench: unknown strategy warp; valid: serial"),
    ("workers=[0, 2]", "workers=[0, 2]; give worker counts from 1 to 1024"),
    ('start_methods=["teleport"]', "unknown start method teleport; valid: fork"),
    ('strategy="threads"', "@pytest.mark.gilbench has no strategy; it takes workloads="),
])
def test_the_marker_refuses_bad_values_in_one_line(marker, message, cli_env, tmp_path):
    (tmp_path / "test_bad_marker.py").write_text(textwrap.dedent(f"""\
        import pytest

        @pytest.mark.gilbench({marker})
        def test_x(gilbench_benchmark):
            gilbench_benchmark()
        """))
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                        "test_bad_marker.py", "-q"], env=cli_env,
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert message in r.stdout + r.stderr


@pytest.mark.slow
def test_a_gilbench_test_that_measures_nothing_fails(cli_env, tmp_path):
    # A test that asks for gilbench_benchmark and never calls it must not pass: a green
    # suite that measured nothing is a lie. One that calls it passes, in the same session.
    (tmp_path / "test_forgot.py").write_text(textwrap.dedent("""\
        import pytest

        @pytest.mark.gilbench(workloads=["fib"], strategies=["threads"], workers=[2])
        def test_forgot(gilbench_benchmark):
            pass

        @pytest.mark.gilbench(workloads=["fib"], strategies=["threads"], workers=[2])
        def test_called(gilbench_benchmark):
            gilbench_benchmark()
        """))
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                        "test_forgot.py", "-q", "-n", "0"], env=cli_env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stdout[-3000:]
    assert "test_forgot[fib-threads-2] asks for gilbench_benchmark but never calls it: " \
           "nothing was measured" in r.stdout, r.stdout[-3000:]
    assert "2 failed, 2 passed" in r.stdout  # each test has its cell and a serial one


# ------------------------------------------------------------ the mixed kind's words


def _mixed(strategy, workers, median, cpu_share):
    from dataclasses import replace

    from tests.helpers import SPREAD

    pairs = () if strategy == "serial" else tuple(1.0 * f for f in reversed(SPREAD))
    return replace(fib_cell(strategy, workers, median, workload="http_json"), kind="mixed",
                   cpu_s=median * cpu_share, serial_times_s=pairs)


def sides(cells) -> str:
    from gilbench.bench.results import with_speedups

    machine = {"usable_cpus": 2, "gil_enabled": True}
    (line,) = mixed_sides(Results(machine=machine, cells=tuple(with_speedups(cells))))
    return line


def test_mixed_work_says_which_side_the_measurement_landed_on():
    waiting = sides([_mixed("serial", 1, 1.0, 0.3), _mixed("threads", 2, 0.5, 0.3),
                     _mixed("process_pool", 2, 0.8, 0.3)])
    assert waiting.startswith("http_json (30% of its serial time on the CPU, 70% waiting) "
                              "landed on the waiting side")
    working = sides([_mixed("serial", 1, 1.0, 0.9), _mixed("threads", 2, 0.95, 0.9),
                     _mixed("process_pool", 2, 0.55, 0.9)])
    assert "landed on the Python-work side: the work after each wait runs one thread at a " \
           "time under the GIL" in working
    close = sides([_mixed("serial", 1, 1.0, 0.5), _mixed("threads", 2, 0.6, 0.5),
                   _mixed("process_pool", 2, 0.6, 0.5)])
    assert "tie" in close or "can't tell" in close
    assert "--sizes shows where the answer flips" in close


def test_the_kind_sets_the_gil_default_and_a_kernel_can_say_otherwise(registry):
    from gilbench import workload
    from gilbench.bench.kinds import KINDS, RELEASES_GIL_BY_KIND

    assert set(RELEASES_GIL_BY_KIND) == set(KINDS)
    for kind in KINDS:
        def kernel(size, seed):
            return seed
        kernel.__name__ = f"k_{kind}"
        workload(kind=kind, sizes={p: 1 for p in ("smoke", "quick", "standard", "full")})(
            kernel)
    assert {k: WORKLOADS[f"k_{k}"].releases_gil for k in KINDS} == {
        "cpu": False, "native": True, "io": True, "mixed": False}

    def parses(size, seed):
        return seed
    workload(kind="io", releases_gil=False,
             sizes={p: 1 for p in ("smoke", "quick", "standard", "full")})(parses)
    assert WORKLOADS["parses"].releases_gil is False


@pytest.mark.slow
def test_measure_from_python_returns_the_runs_results(cli_env, tmp_path):
    # gilbench.measure: a user's kernel from a script (or notebook), the run's Results back,
    # the verdicts from bench.analysis; a function that is not a kernel is refused in one
    # line naming what to do.
    (tmp_path / "mykern.py").write_text(textwrap.dedent("""\
        from gilbench import workload

        @workload(kind="cpu")
        def squares(size, seed):
            return sum(i * i for i in range(seed, seed + size))
        """))
    script = textwrap.dedent("""\
        import sys
        import gilbench, mykern
        from gilbench.bench.analysis import kind_verdicts
        from gilbench.bench.errors import UserError

        r = gilbench.measure(mykern.squares, strategies=["threads", "process_pool"],
                             workers=[2], profile="smoke", out=sys.argv[1])
        print("cells", sorted(c.strategy for c in r.cells))
        print("kinds", [v.kind for v in kind_verdicts(r)])
        try:
            gilbench.measure(lambda size, seed: 1)
        except UserError as exc:
            print("refused", exc)
        """)
    r = subprocess.run([sys.executable, "-c", script, str(tmp_path / "run")], env=cli_env,
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "cells ['process_pool', 'serial', 'threads']" in r.stdout
    assert "kinds ['cpu']" in r.stdout
    assert "refused '<lambda>' is not a registered kernel: decorate" in r.stdout
    assert (tmp_path / "run" / "results.json").exists()


TIMEIT_MODULE = '''
def squares():
    return sum(i * i for i in range(3000))


def needs(x):
    return x
'''


@pytest.mark.slow
def test_timeit_measures_a_function_by_import_path(cli_env, tmp_path):
    """`gilbench timeit mod:func`: the function, called with no arguments, measured
    serially, with threads and with processes in this folder (as python -m timeit has it
    on the path), with a verdict; the kernel file and the report in the run's folder."""
    import json

    write(tmp_path, "mymod.py", TIMEIT_MODULE)
    out = tmp_path / "run"
    r = run_gilbench("timeit", "mymod:squares", "--kind", "cpu", "--profile", "smoke",
                     "--workers", "2", "--out", str(out), env=cli_env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "squares" in r.stdout and "Traceback" not in r.stderr
    assert (out / "timeit_kernel.py").is_file() and (out / "report.html").is_file()
    data = json.loads((out / "results.json").read_text())
    cells = [c for c in data["cells"] if c["workload"] == "squares"]
    assert {c["strategy"] for c in cells} == {"serial", "threads", "thread_pool", "pool_map",
                                               "process_pool"}
    assert all(c["status"] == "ok" for c in cells), [c.get("error") for c in cells]
    assert {c["kind"] for c in cells} == {"cpu"}


@pytest.mark.parametrize("target, says", [
    ("mymod", "not a target"),
    ("mymod:", "not a target"),
    ("nosuch:f", "importing nosuch failed: ModuleNotFoundError"),
    ("mymod:missing", "mymod has no function 'missing'"),
    ("mymod:needs", "needs() needs arguments"),
    ("no/such.py:f", "no such file no/such.py"),
    ("1x:f", "'1x' is not a module name"),
])
def test_a_bad_timeit_target_is_one_line_and_exit_2(cli_env, tmp_path, target, says):
    write(tmp_path, "mymod.py", TIMEIT_MODULE)
    r = run_gilbench("timeit", target, env=cli_env, cwd=tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gilbench: error: timeit"), r.stderr
    assert says in lines[0], lines[0]
    assert not (tmp_path / "reports").exists()  # nothing ran, nothing written
