"""CPU and peak-memory meters around each timed run."""

from __future__ import annotations

import os

import pytest

from gilbench.bench import meters


def test_own_peak_is_reset_per_run_and_sees_a_transient_allocation():
    peak = meters.OwnPeak()
    peak.before_run()
    block = bytearray(64 * 2**20)
    for i in range(0, len(block), 4096):
        block[i] = 1
    del block
    peak.after_run()
    high = peak.peak
    assert high > 64 * 2**20
    later = meters.OwnPeak()
    later.before_run()
    later.after_run()
    if meters.reset_own_peak():  # the kernel can reset the mark: the old peak is gone
        assert later.peak < high


def test_without_a_reset_the_lifetime_peak_is_not_taken_for_the_runs(monkeypatch):
    block = bytearray(96 * 2**20)
    for i in range(0, len(block), 4096):
        block[i] = 1
    del block  # the lifetime high-water mark now holds those 96 MiB
    monkeypatch.setattr(meters, "reset_own_peak", lambda: False)
    peak = meters.OwnPeak()
    peak.before_run()
    peak.after_run()
    assert not peak.exact
    assert peak.peak == pytest.approx(meters.rss_bytes(os.getpid()), rel=0.2)
    hwm = meters._hwm_bytes("self")
    if hwm is not None:
        assert peak.peak < hwm


def test_children_lists_the_whole_tree_as_psutil_does_and_falls_back_without_proc(
        monkeypatch):
    # Children started from two threads (each thread's children are listed in its own
    # /proc file) and a grandchild: the cheap /proc walk finds what psutil's full scan
    # finds; where the kernel has no children file, psutil's scan is used.
    import subprocess
    import sys
    import threading

    psutil = pytest.importorskip("psutil")
    grand = ("import subprocess, sys; p = subprocess.Popen([sys.executable, '-c', "
             "'import sys; sys.stdin.read()'], stdin=subprocess.PIPE); sys.stdin.read(); "
             "p.stdin.close(); p.wait()")
    procs: list[subprocess.Popen] = []
    me = psutil.Process()
    before = {c.pid for c in me.children(recursive=True)}  # an xdist worker has its own

    def start() -> None:
        procs.append(subprocess.Popen([sys.executable, "-c", grand], stdin=subprocess.PIPE))

    start()
    t = threading.Thread(target=start)
    t.start()
    t.join()
    try:
        for _ in range(200):  # the grandchildren are started by the children
            want = {c.pid for c in me.children(recursive=True)}
            if len(want - before) == 4:
                break
            __import__("time").sleep(0.05)
        assert len(want - before) == 4
        assert meters.children() == want
        monkeypatch.setattr(meters, "_proc_children", lambda pid: None)
        assert meters.children() == want
    finally:
        for p in procs:
            p.communicate(b"")  # the child closes its own child's stdin, then exits
