"""CPU and peak-memory meters around each timed run."""

from __future__ import annotations

import os

import pytest

from bench import meters


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
