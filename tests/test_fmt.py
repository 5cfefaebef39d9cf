"""Numbers as reports print them."""

from __future__ import annotations

import pytest

from gilbench.bench.fmt import fmt_bytes, fmt_minutes, fmt_rate, fmt_s, fmt_speedup


@pytest.mark.parametrize("value, text", [(1.5e-6, "1.5 µs"), (0.0123, "12.3 ms"), (250e-9,
                                         "250 ns"), (2.0, "2 s"), (150e-6, "150 µs")])
def test_fmt_s(value, text):
    assert fmt_s(value) == text


def test_fmt_bytes_and_rate():
    assert fmt_bytes(64) == "64 B" and fmt_bytes(2**20) == "1 MiB"
    assert fmt_bytes(1536) == "1.5 KiB"
    assert fmt_rate(4.57e9) == "4.57 GB/s" and fmt_rate(8.5e5) == "850 kB/s"


def test_fmt_minutes():
    assert fmt_minutes(2) == "5 s" and fmt_minutes(42) == "40 s"
    assert fmt_minutes(95) == "2 min" and fmt_minutes(600) == "10 min"
    assert fmt_minutes(3900) == "1 h 05 min"


def test_fmt_speedup_says_n_and_when_there_is_no_interval():
    assert fmt_speedup(1.951, (1.912, 1.968), 12) == "1.95× [1.91–1.97] n=12"
    assert fmt_speedup(1.5, None, 3) == "1.50× (no 95% interval, n=3)"
