"""gilbench selfcheck: its verdict logic, and a real run."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gilbench.bench import selfcheck


def test_selfcheck_verdict_and_exit_code_follow_the_checks(monkeypatch):
    good = selfcheck.Check("a", 1.0, (0.95, 1.1), "≥ 0.9", True, "")
    bad = selfcheck.Check("b", 0.5, (0.4, 0.6), "≥ 0.9", False, "")
    unsure = selfcheck.Check("c", 0.82, (0.7, 0.85), "≥ 0.8", None, "")
    monkeypatch.setattr(selfcheck, "noise_checks", lambda m: [])
    monkeypatch.setattr(selfcheck, "others_check", lambda fraction: None)
    # the real machine's steal during the check is not this test's input (a noisy CI
    # runner reported some and turned "trustworthy" into "usable, but noisy")
    monkeypatch.setattr(selfcheck, "cpu_steal_s", lambda: None)
    lines: list[str] = []
    monkeypatch.setattr(selfcheck, "run_checks", lambda usable: [good, good])
    out = selfcheck.selfcheck(lines.append)
    assert out["ok"] and out["exit_code"] == 0 and out["verdict"].startswith("trustworthy")
    monkeypatch.setattr(selfcheck, "run_checks", lambda usable: [good, bad, unsure])
    out = selfcheck.selfcheck(lines.append)
    assert not out["ok"] and out["exit_code"] == 1
    assert "NOT trustworthy: 1 of 3" in out["verdict"]
    assert any("[ FAIL]  b" in line for line in lines)
    monkeypatch.setattr(selfcheck, "run_checks", lambda usable: [good, unsure])
    out = selfcheck.selfcheck(lines.append)
    assert not out["ok"] and out["exit_code"] == 3
    assert out["verdict"].startswith("usable, but noisy: 1 of 2")
    assert any("[   ??]  c" in line for line in lines)


@pytest.mark.parametrize("ci, expected", [
    ((0.80, 0.90), True),    # the whole interval clears the bar
    ((0.787, 0.905), None),  # the old README example: its point 0.863 passed, it straddles
    ((0.70, 0.79), False),   # the whole interval misses
    (None, None),            # too few runs for an interval: can't tell
])
def test_a_check_is_ok_only_when_its_whole_interval_clears_the_bar(ci, expected):
    assert selfcheck.verdict(ci, at_least=0.80) is expected
    flipped = None if ci is None else (2 - ci[1], 2 - ci[0])  # the same, as a "≤ 1.2" bar
    assert selfcheck.verdict(flipped, at_most=1.20) is expected


@pytest.mark.slow
def test_selfcheck_runs_for_real(cli_env, repo_root):
    r = subprocess.run([sys.executable, "-m", "gilbench", "selfcheck", "--json"], env=cli_env,
                       cwd=repo_root, capture_output=True, text=True, timeout=240)
    report = json.loads(r.stdout)  # stdout is the JSON alone (a pipe into jq works)
    assert r.returncode == report["exit_code"] == (0 if report["ok"] else r.returncode)
    assert r.returncode in (0, 1, 3)
    ok = [c["ok"] for c in report["checks"]]
    assert r.returncode == (1 if False in ok else 3 if None in ok else 0)
    # two physics checks and one overhead check per family of strategy (thread pool,
    # threads, every process model, the serial loop; loky where installed, an interpreter
    # pool where this Python has InterpreterPoolExecutor), each with the spreads side by side
    import concurrent.futures
    import importlib.util

    families = (9 + hasattr(concurrent.futures, "InterpreterPoolExecutor")
                + (importlib.util.find_spec("loky") is not None))
    assert len(report["checks"]) == 2 + families and report["verdict"]
    names = " ".join(c["name"] for c in report["checks"])
    for bare in ("ThreadPoolExecutor.map", "threading.Thread", "two Queues", "a Pipe",
                 "multiprocessing.Pool.map", "multiprocessing.Pool.imap",
                 "multiprocessing.Pool.apply_async", "ProcessPoolExecutor.map",
                 "a plain loop"):
        assert bare in names
    assert all("spread (IQR ÷ median)" in c["detail"] or "a second mode" in c["detail"]
               for c in report["checks"] if c["name"].startswith("overhead"))
    for check in report["checks"]:
        assert check["value"] is not None, check
        lo, hi = check["ci95"]
        assert lo <= check["value"] <= hi
    assert "Verdict:" in r.stderr  # the lines it prints as it goes


def test_a_second_mode_in_gilbenchs_runs_fails_the_check_at_an_equal_median():
    from gilbench.bench.selfcheck import spreads

    bare = [1.0 + 0.001 * (i % 7) for i in range(40)]
    ours = [1.0 + 0.001 * (i % 7) if i % 4 else 1.3 for i in range(40)]  # 25% slow
    said = spreads(ours, bare)
    assert said.startswith("a second mode: 25% of gilbench's runs 1.30× slower")
    assert "0% of the bare call's as slow" in said
    assert spreads(bare, bare).startswith("spread (IQR ÷ median)")
    assert spreads(ours, ours).startswith("spread")  # the bare call has the same mode


@pytest.mark.parametrize("make", ["bare_queue", "bare_pipe"])
def test_the_bare_process_models_answer_as_a_user_writes_them_and_leave_nothing(make):
    import multiprocessing

    import psutil

    from gilbench.workloads import Task

    task = Task("fib", 12)
    items = list(range(9))  # not a multiple of the workers: the last slice is short
    before = {c.pid for c in psutil.Process().children()}  # a resource tracker, say
    with getattr(selfcheck, make)(multiprocessing.get_context(), 2) as call:
        children = [c for c in psutil.Process().children() if c.pid not in before]
        assert len(children) >= 2
        assert call(task, items) == [task(i) for i in items]
        assert call(task, items[:1]) == [task(0)]  # fewer items than workers
    from multiprocessing import resource_tracker

    tracker = resource_tracker._resource_tracker._pid  # started for them; it stays, as always
    left = [c for c in children if c.pid != tracker and c.is_running()
            and c.status() != psutil.STATUS_ZOMBIE]
    assert not left
