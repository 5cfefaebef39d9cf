"""Statistics against numbers worked out by hand."""

import math

import pytest

from bench import stats


def test_median_odd_and_even():
    assert stats.median([3.0, 1.0, 2.0]) == 2.0
    assert stats.median([4.0, 1.0, 3.0, 2.0]) == 2.5


def test_median_of_nothing_is_an_error():
    with pytest.raises(ValueError):
        stats.median([])


def test_speedup_and_efficiency():
    # serial median 10, cell median 4 -> 2.5x; on 4 workers 0.625 efficiency
    assert stats.speedup([9.0, 10.0, 11.0], [4.0, 4.0, 5.0]) == 2.5
    assert stats.efficiency(2.5, 4) == 0.625


def test_rel_std():
    # [1, 2, 3]: mean 2, sample std 1 -> 0.5
    assert stats.rel_std([1.0, 2.0, 3.0]) == pytest.approx(0.5)
    assert stats.rel_std([5.0]) == 0.0


def test_geometric_mean():
    assert stats.geometric_mean([1.0, 4.0]) == pytest.approx(2.0)
    assert stats.geometric_mean([2.0, 8.0, 4.0]) == pytest.approx(4.0)
    with pytest.raises(ValueError):
        stats.geometric_mean([1.0, 0.0])


def test_ci_of_constant_samples_is_the_point():
    assert stats.speedup_ci([10.0, 10.0, 10.0], [5.0, 5.0]) == (2.0, 2.0)


def test_ci_matches_the_hand_computed_bootstrap_distribution():
    # Resampling [10, 12] twice gives medians 10, 11, 12 with probability
    # 1/4, 1/2, 1/4; the cell side is always 5. Ratios: 2.0, 2.2, 2.4, so the
    # 2.5th and 97.5th percentiles are 2.0 and 2.4.
    lo, hi = stats.speedup_ci([10.0, 12.0], [5.0], resamples=4000, seed=1)
    assert lo == pytest.approx(2.0)
    assert hi == pytest.approx(2.4)


def test_ci_is_reproducible_and_brackets_the_point():
    serial = [1.00, 1.02, 0.98, 1.05, 0.99]
    cell = [0.51, 0.55, 0.50, 0.52, 0.60]
    a = stats.speedup_ci(serial, cell, seed=7)
    b = stats.speedup_ci(serial, cell, seed=7)
    assert a == b
    point = stats.speedup(serial, cell)
    assert a[0] <= point <= a[1]
    assert a[0] < a[1]


def test_ci_half_width():
    assert stats.ci_half_width(2.0, (1.8, 2.2)) == pytest.approx(0.1)
    assert math.isinf(stats.ci_half_width(0.0, (0.0, 1.0)))
