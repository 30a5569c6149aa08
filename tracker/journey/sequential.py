"""Always-valid statistics for A/B tests: the owner may look every day.

A fixed-sample test checked after every batch finds a "winner" in one A/A
test out of three. The asymptotic confidence sequence of Waudby-Smith et al.
(2023, "Time-uniform central limit theory and asymptotic confidence
sequences", eq. 9; the tuning of eq. 161), as GrowthBook's gbstats computes it,
holds its error rate however often it is looked at: an interval for the
difference of two conversion rates that is valid at every look at once, so
the intervals of all looks can be intersected. It is tightest near the
planned sample size. Pure: counts in, numbers out; numpy arrays work too.
"""

from __future__ import annotations

import numpy as np

ALPHA = 0.05
SRM_P = 0.001  # a sample-ratio mismatch below this p-value
SRM_MIN = 8  # exposures every arm needs before a mismatch is called


def rho_squared(alpha: float, planned: float) -> float:
    """The mixture's tuning: the interval is narrowest after `planned` samples."""
    log_term = -2 * np.log(alpha)
    return float((log_term + np.log(log_term + 1)) / planned)


def difference(conv_a, n_a, conv_b, n_b, planned: float, alpha: float = ALPHA):
    """Return (low, high) for rate B minus rate A, valid at every look.

    NaN where there is nothing to estimate yet: an arm without exposures, or
    no variance at all (no conversions, or only conversions, in both arms).
    """
    conv_a, n_a, conv_b, n_b = (
        np.asarray(x, dtype=float) for x in (conv_a, n_a, conv_b, n_b)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        p_a, p_b = conv_a / n_a, conv_b / n_b
        # Per-observation variance of the difference, over all n observations.
        n = n_a + n_b
        variance = (p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b) * n
        r2 = rho_squared(alpha, planned)
        width = np.sqrt(
            variance
            * 2
            * (n * r2 + 1)
            * np.log(np.sqrt(n * r2 + 1) / alpha)
            / (n * n * r2)
        )
    defined = (n_a > 0) & (n_b > 0) & (variance > 0)
    estimate = p_b - p_a
    low = np.where(defined, np.clip(estimate - width, -1, 1), np.nan)
    high = np.where(defined, np.clip(estimate + width, -1, 1), np.nan)
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


def running_intersection(lows, highs) -> tuple[float, float] | None:
    """The intersection of every look's interval (looks without one skipped).

    Every look is valid at once, so their intersection is too, and it never
    widens. An empty intersection (the true value would have to have left an
    earlier interval) falls back to the latest look's interval. None when no
    look has an interval yet.
    """
    lows, highs = np.asarray(lows, dtype=float), np.asarray(highs, dtype=float)
    seen = ~np.isnan(lows) & ~np.isnan(highs)
    if not seen.any():
        return None
    low, high = float(lows[seen].max()), float(highs[seen].min())
    if low > high:
        last = np.flatnonzero(seen)[-1]
        return float(lows[last]), float(highs[last])
    return low, high


def sample_ratio_p(counts, weights) -> float:
    """The chi-square p-value of the exposures against the planned split."""
    counts = np.asarray(counts, dtype=float)
    weights = np.asarray(weights, dtype=float)
    if counts.sum() == 0:
        return 1.0
    expected = counts.sum() * weights / weights.sum()
    # Imported here: scipy.stats takes a second to load, and every `polku`
    # command loads the plugin that reads this module.
    from scipy import stats

    return float(stats.chisquare(counts, expected).pvalue)


def ratio_mismatch(counts, weights) -> bool:
    """True when the split is off: the assignment or the recording is broken."""
    if min(counts) < SRM_MIN:
        return False
    return sample_ratio_p(counts, weights) < SRM_P
