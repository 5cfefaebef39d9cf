"""The kernels' registry: sizes and how a task's cost grows with its size."""

from __future__ import annotations

from gilbench.workloads import WORKLOADS


def test_scaled_sizes_follow_each_kernels_cost():
    assert WORKLOADS["sleep"].scaled(10, 0.1) == 1
    assert WORKLOADS["sleep"].scaled(10, 0.01) == 1  # never below 1
    assert WORKLOADS["fib"].scaled(25, 1 / 1.618034**2) == 23  # cost ~ phi ** n
    assert WORKLOADS["mandelbrot"].scaled(40, 0.25) == 20  # cost ~ side ** 2
    assert WORKLOADS["numpy_matmul"].scaled(400, 1 / 8) == 200  # cost ~ side ** 3
    assert WORKLOADS["zlib"].scaled(80, 3) == 240
