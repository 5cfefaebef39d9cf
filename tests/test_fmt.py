"""Numbers as reports print them."""

from __future__ import annotations

import pytest

from bench.fmt import fmt_bytes, fmt_rate, fmt_s


@pytest.mark.parametrize("value, text", [(1.5e-6, "1.5 µs"), (0.0123, "12.3 ms"), (250e-9,
                                         "250 ns"), (2.0, "2 s"), (150e-6, "150 µs")])
def test_fmt_s(value, text):
    assert fmt_s(value) == text


def test_fmt_bytes_and_rate():
    assert fmt_bytes(64) == "64 B" and fmt_bytes(2**20) == "1 MiB"
    assert fmt_bytes(1536) == "1.5 KiB"
    assert fmt_rate(4.57e9) == "4.57 GB/s" and fmt_rate(8.5e5) == "850 kB/s"
