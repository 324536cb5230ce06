"""The comparison's statistics on synthetic numbers: intervals, the paired test, Holm, P(best)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from jaxsched.experiments.stats import holm, mean_ci, p_best, paired, steps_to_target


def test_mean_ci_is_the_student_t_interval():
    x = np.array([0.71, 0.74, 0.69, 0.73, 0.70])
    mean, low, high = mean_ci(x)
    half = sps.t.ppf(0.975, 4) * x.std(ddof=1) / math.sqrt(5)
    assert mean == pytest.approx(x.mean())
    assert (low, high) == pytest.approx((x.mean() - half, x.mean() + half))
    assert math.isnan(mean_ci([0.7])[1]) and math.isnan(mean_ci([0.7])[2])
    assert mean_ci([0.7, np.nan, 0.8])[0] == pytest.approx(0.75)  # a diverged run is left out


def test_the_interval_is_cut_to_the_range_of_the_values():
    # Two seeds at 95.6% and 100%: the t interval is 97.8 +- 27.9 points.
    mean, low, high = mean_ci([0.956, 1.0], within=(0.0, 1.0))
    half = sps.t.ppf(0.975, 1) * np.std([0.956, 1.0], ddof=1) / math.sqrt(2)
    assert mean == pytest.approx(0.978)
    assert low == pytest.approx(0.978 - half) and high == 1.0
    assert mean_ci([0.0, 0.05], within=(0.0, 1.0))[1] == 0.0
    r = paired([1.0, 0.2], [0.0, 0.1], within=(-1.0, 1.0))  # d = 1.0, 0.1: +- 5.7
    assert (r.low, r.high) == (-1.0, 1.0)


def test_the_interval_covers_the_true_mean_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    draws = rng.normal(0.8, 0.02, size=(4000, 5))
    covered = [low <= 0.8 <= high for _, low, high in map(mean_ci, draws)]
    assert np.mean(covered) == pytest.approx(0.95, abs=0.015)


def test_paired_matches_scipy_one_sided_paired_t_test():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.8, 0.05, 10), rng.normal(0.79, 0.05, 10)
    r = paired(a, b)
    want = sps.ttest_rel(a, b, alternative="greater")
    assert r.p == pytest.approx(want.pvalue) and r.n == 10
    assert r.mean == pytest.approx((a - b).mean())
    assert (r.low, r.high) == pytest.approx(mean_ci(a - b)[1:])


def test_a_known_difference_is_detected():
    # 10 seeds, seed-to-seed spread 5 points, every seed 1 point better (+ small noise):
    # paired, it stands out although unpaired it would drown in the spread.
    rng = np.random.default_rng(2)
    base = rng.normal(0.8, 0.05, 10)
    better = base + 0.01 + rng.normal(0, 0.003, 10)
    r = paired(better, base)
    assert r.p < 0.001 and r.low > 0
    assert sps.ttest_ind(better, base, alternative="greater").pvalue > 0.3


def test_a_null_difference_is_rejected_at_about_alpha():
    rng = np.random.default_rng(3)
    base = rng.normal(0.8, 0.05, size=(4000, 10))
    same = base + rng.normal(0, 0.01, size=(4000, 10))  # no true difference
    p = np.array([paired(s, b).p for s, b in zip(same, base, strict=True)])
    assert np.mean(p < 0.05) == pytest.approx(0.05, abs=0.012)
    worse = base - 0.01 + rng.normal(0, 0.01, size=(4000, 10))  # one-sided: never "better"
    p = np.array([paired(w, b).p for w, b in zip(worse[:500], base[:500], strict=True)])
    assert np.mean(p < 0.05) < 0.01


def test_paired_edge_cases():
    one = paired([0.9], [0.7])
    assert one.mean == pytest.approx(0.2) and math.isnan(one.p) and math.isnan(one.low)
    assert paired([0.62, 0.72, 0.82], [0.60, 0.70, 0.80]).p == 0.0  # equal gains, no spread
    assert paired([0.7, 0.7], [0.7, 0.7]).p == 0.5
    assert paired([0.8, np.nan, 0.9], [0.7, 0.7, 0.8]).n == 2  # a diverged seed drops the pair
    with pytest.raises(ValueError, match="must pair"):
        paired([0.1, 0.2], [0.1])


def test_holm_matches_a_hand_computation():
    # m = 4: sorted 0.005, 0.01, 0.03, 0.04; times 4, 3, 2, 1: 0.02, 0.03, 0.06, 0.04;
    # running maximum: 0.02, 0.03, 0.06, 0.06.
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(holm([0.5, 0.4]), [0.8, 0.8])
    np.testing.assert_allclose(holm([0.9, 0.01]), [0.9, 0.02])  # capped at 1 only above it
    out = holm([0.01, np.nan, 0.02])  # NaN: no test, not counted in m
    assert math.isnan(out[1]) and out[[0, 2]].tolist() == pytest.approx([0.02, 0.02])


def test_holm_keeps_the_familywise_error_rate_under_alpha():
    rng = np.random.default_rng(4)
    p = rng.uniform(size=(4000, 13))  # 13 true null hypotheses
    any_rejected = (np.array([holm(row) for row in p]) < 0.05).any(axis=1)
    assert any_rejected.mean() <= 0.05 + 0.01
    assert (p < 0.05).any(axis=1).mean() > 0.4  # uncorrected: about 1 - 0.95**13


def test_p_best():
    rng = np.random.default_rng(5)
    base = rng.normal(0.8, 0.05, size=(10, 1))
    v = np.hstack([base, base + 0.02, base + 0.02 + rng.normal(0, 1e-3, (10, 1))])
    p = p_best(v)
    assert p.sum() == pytest.approx(1.0) and p[0] == 0.0
    assert p[1] > 0.05 and p[2] > 0.05  # two near-equal columns share it
    np.testing.assert_array_equal(p, p_best(v))  # the same numbers every run
    clear = p_best(np.hstack([base, base + 0.05]))
    assert clear.tolist() == [0.0, 1.0]
    tie = p_best(np.hstack([base, base]))
    assert tie.tolist() == [0.5, 0.5]
    dead = p_best(np.hstack([base, np.full((10, 1), np.nan)]))
    assert dead.tolist() == [1.0, 0.0]
    assert np.isnan(p_best(base[:1])).all()


def test_steps_to_target():
    assert steps_to_target([0.2, 0.55, 0.6], [10, 20, 30], 0.55) == 20
    assert steps_to_target([0.2, np.nan, 0.6], [10, 20, 30], 0.55) == 30
    assert steps_to_target([0.2, 0.5], [10, 20], 0.55) is None
