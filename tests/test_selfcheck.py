"""gilbench selfcheck: its verdict logic, and a real run."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench import selfcheck


def test_selfcheck_verdict_follows_the_checks(monkeypatch):
    good = selfcheck.Check("a", 1.0, (0.9, 1.1), "≥ 0.9", True, "")
    bad = selfcheck.Check("b", 0.5, (0.4, 0.6), "≥ 0.9", False, "")
    monkeypatch.setattr(selfcheck, "run_checks", lambda usable: [good, good])
    monkeypatch.setattr(selfcheck, "noise_checks", lambda m: [])
    assert selfcheck.selfcheck(lambda line: None)["ok"]
    monkeypatch.setattr(selfcheck, "run_checks", lambda usable: [good, bad])
    lines: list[str] = []
    out = selfcheck.selfcheck(lines.append)
    assert not out["ok"] and "NOT trustworthy: 1 of 2" in out["verdict"]
    assert any("[ FAIL]  b" in line for line in lines)
    unsure = selfcheck.Check("c", 0.78, (0.7, 0.85), "≥ 0.8", None, "")
    monkeypatch.setattr(selfcheck, "run_checks", lambda usable: [good, unsure])
    out = selfcheck.selfcheck(lines.append)
    assert out["ok"] and out["verdict"].startswith("usable, but noisy: 1 of 2")
    assert any("[   ??]  c" in line for line in lines)


def test_a_check_fails_only_when_its_whole_interval_misses_the_bar():
    assert selfcheck.verdict(True, False) is True
    assert selfcheck.verdict(False, True) is False
    assert selfcheck.verdict(False, False) is None


@pytest.mark.slow
def test_selfcheck_runs_for_real(cli_env, repo_root):
    r = subprocess.run([sys.executable, "-m", "bench", "selfcheck", "--json"], env=cli_env,
                       cwd=repo_root, capture_output=True, text=True, timeout=240)
    report = json.loads(r.stdout[r.stdout.index("\n{") + 1:])
    assert r.returncode == (0 if report["ok"] else 1)
    assert len(report["checks"]) == 5 and report["verdict"]
    for check in report["checks"]:
        assert check["value"] is not None, check
        lo, hi = check["ci95"]
        assert lo <= check["value"] <= hi
    assert "Verdict:" in r.stdout
