"""Always-valid statistics: the owner may look every day and still be right."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from tracker.journey import sequential as seq


@pytest.mark.parametrize(
    "control, variant, expected",
    [
        ((100, 2500), (100, 2500), (-0.01682, 0.01682)),
        ((100, 2500), (140, 2500), (-0.00234, 0.03434)),
    ],
)
def test_the_interval_matches_the_known_vectors(control, variant, expected):
    low, high = seq.difference(*control, *variant, planned=5000, alpha=0.05)
    assert (round(float(low), 5), round(float(high), 5)) == expected


def test_the_interval_is_wider_than_a_fixed_sample_one_and_narrows_with_data():
    low, high = seq.difference(100, 2500, 140, 2500, planned=5000)
    p_a, p_b = 100 / 2500, 140 / 2500
    fixed = 1.96 * np.sqrt(p_a * (1 - p_a) / 2500 + p_b * (1 - p_b) / 2500)
    assert high - low > 2 * fixed
    more = seq.difference(400, 10000, 560, 10000, planned=5000)
    assert more[1] - more[0] < high - low


def test_an_arm_without_exposures_or_any_variance_gives_no_interval():
    for args in ((0, 0, 3, 50), (0, 50, 0, 50), (50, 50, 50, 50)):
        low, high = seq.difference(*args, planned=1000)
        assert np.isnan(low) and np.isnan(high), args


def test_the_running_intersection_keeps_the_tightest_bounds_and_skips_gaps():
    lows = [np.nan, -0.05, -0.02, -0.04]
    highs = [np.nan, 0.06, 0.05, 0.03]
    assert seq.running_intersection(lows, highs) == (-0.02, 0.03)
    assert seq.running_intersection([np.nan], [np.nan]) is None


def test_an_empty_intersection_falls_back_to_the_latest_interval():
    assert seq.running_intersection([0.01, -0.05], [0.02, -0.03]) == (-0.05, -0.03)


def test_a_sample_ratio_mismatch_is_flagged_only_when_it_is_one():
    assert seq.ratio_mismatch([5000, 5400], [1, 1])
    assert not seq.ratio_mismatch([5000, 5200], [1, 1])
    assert seq.sample_ratio_p([5000, 5400], [1, 1]) < 0.001
    # Unequal weights: 1:3 is what was asked for, so it is no mismatch.
    assert not seq.ratio_mismatch([2500, 7500], [1, 3])
    assert seq.ratio_mismatch([5000, 5000], [1, 3])
    # Too few in an arm to say anything.
    assert not seq.ratio_mismatch([7, 30], [1, 1])


def simulate_aa(experiments=4000, batches=60, per_batch=50, rate=0.05, seed=19):
    """Cumulative exposures and conversions of A/A tests, per experiment and look."""
    rng = np.random.default_rng(seed)
    shape = (experiments, batches)
    conv_a = rng.binomial(per_batch, rate, shape).cumsum(axis=1)
    conv_b = rng.binomial(per_batch, rate, shape).cumsum(axis=1)
    n = np.broadcast_to(np.arange(1, batches + 1) * per_batch, shape)
    return conv_a, n, conv_b, n


def naive_rejects(conv_a, n_a, conv_b, n_b, alpha=0.05):
    """A fixed-sample two-proportion z-test, as if each look were the only one."""
    p_a, p_b = conv_a / n_a, conv_b / n_b
    se = np.sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(p_b - p_a) / se
    return np.nan_to_num(z) > stats.norm.ppf(1 - alpha / 2)


def test_checking_an_aa_test_after_every_batch_rarely_finds_a_difference():
    looks = simulate_aa()
    low, high = seq.difference(*looks, planned=5000)
    sequential = np.mean(np.any((low > 0) | (high < 0), axis=1))
    naive = np.mean(np.any(naive_rejects(*looks), axis=1))
    assert sequential <= 0.06
    assert naive > 0.15


def test_a_real_difference_is_found_with_daily_looks():
    rng = np.random.default_rng(7)
    shape = (500, 60)
    conv_a = rng.binomial(100, 0.05, shape).cumsum(axis=1)
    conv_b = rng.binomial(100, 0.08, shape).cumsum(axis=1)
    n = np.broadcast_to(np.arange(1, 61) * 100, shape)
    low, _ = seq.difference(conv_a, n, conv_b, n, planned=5000)
    assert np.mean(np.any(low > 0, axis=1)) > 0.8
