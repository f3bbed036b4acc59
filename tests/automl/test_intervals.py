"""Bootstrap margins of a test-half figure: one model's RMSE, and two models' paired difference."""

from __future__ import annotations

import numpy as np
import pytest

from tutor.automl.metrics import bootstrap_rmse, paired_rmse_difference


def _sample(n: int = 4000, sigma: float = 2.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.uniform(5, 60, n)
    return y, y + rng.normal(0, sigma, n)


def test_the_rmse_interval_has_the_width_sampling_theory_gives():
    # Normal errors: the RMSE's standard error is about sigma / sqrt(2n), so a 95% interval
    # is about 2 x 1.96 x 2 / sqrt(8000) = 0.088 wide, around the true sigma.
    y, p = _sample()
    interval = bootstrap_rmse(y, p)
    assert interval.estimate == pytest.approx(np.sqrt(np.mean((p - y) ** 2)))
    assert interval.low < interval.estimate < interval.high
    assert 2.0 in interval
    assert 0.07 < interval.high - interval.low < 0.11
    assert bootstrap_rmse(y, p) == interval  # the same seed gives the same interval
    narrower = bootstrap_rmse(y, p, level=0.5)
    assert interval.low < narrower.low < narrower.high < interval.high


def test_wild_values_widen_the_interval():
    y, p = _sample()
    wild = p.copy()
    wild[:20] += 80.0  # 0.5% of the rows far off, as a few wild fares are
    calm, stormy = bootstrap_rmse(y, p), bootstrap_rmse(y, wild)
    assert stormy.high - stormy.low > 5 * (calm.high - calm.low)


def test_a_paired_difference_sees_what_two_separate_intervals_cannot():
    y, a = _sample(seed=1)
    rng = np.random.default_rng(2)
    b = a + rng.normal(0, 0.6, len(y))  # B = A plus extra noise: A is better, by a little
    a[:20] += 60.0
    b[:20] += 60.0  # the same wild rows hurt both models
    separate_a, separate_b = bootstrap_rmse(y, a), bootstrap_rmse(y, b)
    assert separate_a.low < separate_b.estimate < separate_a.high  # overlapping: cannot tell
    paired = paired_rmse_difference(y, a, b)
    assert paired.difference.estimate == pytest.approx(separate_a.estimate - separate_b.estimate)
    # Each model's own interval comes from the same resamples as bootstrap_rmse's (same seed).
    for own, separate in ((paired.a, separate_a), (paired.b, separate_b)):
        assert own.estimate == pytest.approx(separate.estimate)
        assert own.low == pytest.approx(separate.low) and own.high == pytest.approx(separate.high)
    assert paired.difference.high < 0 and paired.clear
    assert paired.share_a_better > 0.95
    assert paired.difference.high - paired.difference.low < (separate_a.high - separate_a.low) / 5


def test_identical_models_differ_by_exactly_nothing():
    y, p = _sample(n=500)
    paired = paired_rmse_difference(y, p, p.copy())
    assert paired.difference.estimate == paired.difference.low == paired.difference.high == 0.0
    assert not paired.clear and paired.share_a_better == 0.0


@pytest.mark.parametrize("call, message", [
    (lambda: bootstrap_rmse(np.ones(3), np.ones(4)), "shape"),
    (lambda: bootstrap_rmse(np.ones(3), np.array([1.0, np.nan, 1.0])), "finite"),
    (lambda: bootstrap_rmse(np.ones(1), np.ones(1)), "at least two rows"),
    (lambda: bootstrap_rmse(np.ones(5), np.ones(5), level=95), "level"),
    (lambda: paired_rmse_difference(np.ones(3), np.ones(3), np.ones(2)), "shape"),
])
def test_bad_input_is_refused_with_a_reason(call, message):
    with pytest.raises(ValueError, match=message):
        call()
