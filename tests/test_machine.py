"""The machine record and the usable-CPU count (affinity, then cgroup quota)."""

import json
import os
import subprocess
import sys
import sysconfig
import time

import pytest

from gilbench.bench import machine
from gilbench.bench.analysis import noise


@pytest.mark.parametrize("cpu_max, expected", [
    ("max 100000\n", None),
    ("200000 100000\n", 2.0),
    ("150000 100000\n", 1.5),
])
def test_cgroup_v2_quota(tmp_path, cpu_max, expected):
    (tmp_path / "cpu.max").write_text(cpu_max)
    assert machine.cgroup_cpu_limit(tmp_path) == expected


def test_cgroup_v1_quota(tmp_path):
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("50000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert machine.cgroup_cpu_limit(tmp_path) == 0.5
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert machine.cgroup_cpu_limit(tmp_path) is None


def test_no_cgroup_files_means_no_limit(tmp_path):
    assert machine.cgroup_cpu_limit(tmp_path) is None


def test_usable_cpus_takes_the_smaller_of_affinity_and_quota(tmp_path):
    (tmp_path / "cpu.max").write_text("150000 100000\n")  # 1.5 CPUs -> 2 usable
    assert machine.usable_cpus(tmp_path) == min(2, machine.affinity_cpus())
    (tmp_path / "cpu.max").write_text("10000 100000\n")  # 0.1 CPU -> at least 1
    assert machine.usable_cpus(tmp_path) == 1
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert machine.usable_cpus(tmp_path) == machine.affinity_cpus()


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs sched_setaffinity")
def test_usable_cpus_honours_affinity():
    before = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {min(before)})
        assert machine.usable_cpus() == 1
    finally:
        os.sched_setaffinity(0, before)


def test_record_has_the_design_fields_and_is_json():
    record = machine.collect_machine()
    for key in ("hostname", "os", "cpu_model", "logical_cpus", "usable_cpus", "physical_cores",
                "memory_bytes", "python_version", "python_implementation",
                "python_executable", "free_threaded_build", "gil_enabled",
                "switch_interval_s", "default_start_method"):
        assert key in record, key
    assert record["usable_cpus"] >= 1
    json.dumps(record)


def test_gil_detection(monkeypatch):
    # 3.13+ answers through sys._is_gil_enabled; older versions always have the GIL.
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: False, raising=False)
    assert machine.gil_enabled() is False
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: True, raising=False)
    assert machine.gil_enabled() is True
    monkeypatch.delattr(sys, "_is_gil_enabled", raising=False)
    assert machine.gil_enabled() is True


def test_free_threaded_build_detection(monkeypatch):
    monkeypatch.setattr(sysconfig, "get_config_var",
                        lambda name: 1 if name == "Py_GIL_DISABLED" else None)
    assert machine.free_threaded_build() is True
    monkeypatch.setattr(sysconfig, "get_config_var", lambda name: None)
    assert machine.free_threaded_build() is False


def test_noise_checks_say_what_is_wrong(monkeypatch):
    busy = machine.noise_checks({"usable_cpus": 2, "load_average": [1.5, 1.0, 1.0],
                                 "cpu_governor": "powersave"})
    by = {c["check"]: c for c in busy}
    # The minute before a run often holds its own install: information, not a verdict.
    load = by["load average before the run"]
    assert load["ok"] is None and "during the run is what decides" in load["advice"]
    assert by["CPU frequency governor"]["ok"] is False
    assert "performance" in by["CPU frequency governor"]["advice"]
    quiet = machine.noise_checks({"usable_cpus": 2, "load_average": [0.2, 0.1, 0.1],
                                  "cpu_governor": "performance"})
    assert all(c["ok"] for c in quiet if c["check"] not in ("turbo boost",
                                                             "load average before the run"))
    vm = machine.noise_checks({"usable_cpus": 2, "load_average": None, "cpu_governor": None})
    assert [c["ok"] for c in vm if c["check"] == "CPU frequency governor"] == [None]


def test_steal_reading():
    steal = machine.cpu_steal_s()
    assert steal is not None and 0 <= steal[0] <= steal[1]


def test_other_programs_cpu_during_a_run_is_measured_and_judged(tmp_path):
    others = machine.OthersCpu()
    assert others.fraction() is None  # too short a window to say anything
    # A busy process that is not ours (the shell that started it has exited, so it is
    # nobody's child here): its CPU time counts as other programs'; ours does not.
    done = tmp_path / "done"
    spin = f"import time, pathlib\nt = time.time()\nwhile time.time() - t < 4: pass\n" \
           f"pathlib.Path({str(done)!r}).touch()"
    mine = machine.OthersCpu()
    subprocess.run(["sh", "-c", f'"{sys.executable}" -c "$0" &', spin], check=True, timeout=30)
    deadline = time.monotonic() + 60
    while not done.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    share = mine.fraction()
    logical = os.cpu_count() or 1
    assert share is not None and share >= 0.5 / logical  # one CPU of `logical`, busy ~4 s
    assert noise.others_check(share)["ok"] is (share < noise.BUSY_OTHERS)
    assert noise.others_check(0.5)["ok"] is False and noise.others_check(0.01)["ok"]
    assert noise.others_check(None) is None


def test_the_interpreter_record_labels_and_words_and_the_machine_record_holds_it():
    from gilbench.bench.interprecord import InterpreterRecord
    from gilbench.bench.machine import collect_python, this_interpreter

    cpython = InterpreterRecord("3.10.14", "CPython")
    pypy = InterpreterRecord("3.10.14", "PyPy", default_start_method="fork")
    assert (cpython.label, pypy.label) == ("python3.10", "pypy3.10")  # told apart
    ft = InterpreterRecord("3.13.0", free_threaded_build=True, gil_enabled=False)
    assert ft.label == "python3.13t" and ft.words() == "3.13.0, free-threaded, GIL off"
    assert pypy.words() == "PyPy 3.10.14, GIL build, processes start by fork"
    assert InterpreterRecord("3.15.0", jit_enabled=True).short_words() == \
        "Python 3.15.0 (GIL on, JIT on)"
    here = this_interpreter()
    assert InterpreterRecord.from_machine(collect_python()) == here  # the same fields
    assert InterpreterRecord.from_dict(here.to_dict()) == here
    assert InterpreterRecord.from_machine({}).version == "?"  # a file without them
