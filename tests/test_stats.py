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


def test_hand_computed_bootstrap_of_a_median():
    # Cell [1, 1, 2]: a resample's median is 1 when at least two of its three
    # draws are 1: 3 (2/3)^2 (1/3) + (2/3)^3 = 20/27, else 2 (7/27 > 2.5%).
    # Serial is always 2, so the ratio is 2 (p = 20/27) or 1 (p = 7/27): both
    # tails land on a value of real mass and the interval is exactly [1, 2].
    assert stats.speedup_ci([2.0, 2.0, 2.0], [1.0, 1.0, 2.0], seed=3) == (1.0, 2.0)
    # The same by enumeration of all 27 resamples, against the estimate's mass.
    import itertools
    medians = [sorted(r)[1] for r in itertools.product([1.0, 1.0, 2.0], repeat=3)]
    assert medians.count(1.0) == 20


def test_bootstrap_with_a_fixed_seed_is_reproducible_and_seed_dependent():
    serial = [1.00, 1.03, 0.97, 1.08, 0.99, 1.01]
    cell = [0.51, 0.56, 0.50, 0.52, 0.61, 0.49]
    a = stats.speedup_ci(serial, cell, seed=11)
    assert a == stats.speedup_ci(serial, cell, seed=11)
    assert a != stats.speedup_ci(serial, cell, seed=12)


def test_a_paired_ratio_cancels_a_common_drift():
    # Each cell run took exactly half its neighbouring serial run while the
    # machine drifted 2x: paired, every resample's ratio is exactly 2; the
    # unpaired interval is wide, the drift counted as noise.
    serial = [2.0, 3.0, 4.0, 5.0]
    cell = [1.0, 1.5, 2.0, 2.5]
    assert stats.speedup_ci(serial, cell, paired=True) == (2.0, 2.0)
    lo, hi = stats.speedup_ci(serial, cell)
    assert lo < 1.7 and hi > 2.5


def test_paired_samples_must_pair():
    with pytest.raises(ValueError):
        stats.speedup_ci([1.0, 2.0], [1.0], paired=True)


def test_the_bootstrap_without_numpy_agrees(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "numpy", None)  # import numpy -> ImportError
    assert stats.speedup_ci([2.0, 2.0, 2.0], [1.0, 1.0, 2.0], seed=3) == (1.0, 2.0)
    assert stats.speedup_ci([2.0, 3.0, 4.0], [1.0, 1.5, 2.0], paired=True) == (2.0, 2.0)


def test_median_ci():
    assert stats.median_ci([3.0, 3.0, 3.0]) == (3.0, 3.0)
    lo, hi = stats.median_ci([1.0, 2.0, 3.0, 4.0, 5.0], seed=0)
    assert lo <= 3.0 <= hi and lo >= 1.0 and hi <= 5.0


def test_karp_flatt_on_a_made_up_curve():
    # S(2) = 1.6: e = (1/1.6 - 1/2) / (1 - 1/2) = (0.625 - 0.5) / 0.5 = 0.25
    assert stats.karp_flatt(1.6, 2) == pytest.approx(0.25)
    # S(4) = 2.5: e = (0.4 - 0.25) / 0.75 = 0.2
    assert stats.karp_flatt(2.5, 4) == pytest.approx(0.2)
    assert stats.karp_flatt(4.0, 4) == pytest.approx(0.0)  # perfect
    assert stats.karp_flatt(1.0, 4) == pytest.approx(1.0)  # no gain
    with pytest.raises(ValueError):
        stats.karp_flatt(1.5, 1)


def test_amdahl_fit_recovers_the_serial_fraction_of_an_exact_curve():
    f = 0.1
    curve = [(p, stats.amdahl_speedup(f, p)) for p in (1, 2, 4, 8)]
    assert curve[1][1] == pytest.approx(1 / (0.1 + 0.45))  # 1.818...
    assert stats.amdahl_fit(curve) == pytest.approx(0.1)
    # By hand for two points, S(2) = 1.6 and S(4) = 2.5:
    # x = (0.5, 0.75), y = (0.125, 0.15): f = (0.0625 + 0.1125) / (0.25 + 0.5625)
    assert stats.amdahl_fit([(2, 1.6), (4, 2.5)]) == pytest.approx(0.175 / 0.8125)
    assert stats.amdahl_fit([(1, 1.0)]) is None
    assert stats.amdahl_fit([(2, 0.5)]) == 1.0  # slower than serial: clipped


def test_stops_paying():
    assert stats.stops_paying([(1, 1.0), (2, 1.9), (4, 1.95)]) == 2
    assert stats.stops_paying([(1, 1.0), (2, 1.9), (4, 3.6), (8, 3.7)]) == 4
    assert stats.stops_paying([(1, 1.0), (2, 1.02), (4, 0.9)]) is None  # never pays
    assert stats.stops_paying([(4, 2.0), (1, 1.0), (2, 1.5)]) == 4  # order does not matter
