"""The statistics of the comparison: intervals over seeds, paired tests, Holm, P(best).

Every number here is computed over *seeds*: the confirmation stage of
`jaxsched.experiments.compare` trains each family's selected configuration on
``n`` fresh seeds, and a seed gives every family the same initial weights and
batches, so two families' results on one seed pair.

- `mean_ci`: the mean of ``x_1 .. x_n`` and its two-sided Student-t interval
  ``mean ± t_{(1+c)/2, n-1} * s / sqrt(n)`` (``s`` the sample standard deviation),
  cut to the range the mean can take when one is given (an accuracy's ``[0, 1]``:
  with two seeds the t interval is wide and would pass 100%; the cut interval
  holds the true mean whenever the whole one does, so its confidence is kept).
- `paired`: the mean of paired differences ``d_s = a_s - b_s``, its interval as
  above, and the one-sided p-value of the paired t-test of ``H0: E[d] <= 0``
  against ``H1: E[d] > 0``: ``p = 1 - F_{n-1}(mean(d) / (s_d / sqrt(n)))``.
- `holm`: Holm-Bonferroni adjusted p-values for ``m`` tests at once: sorted
  ascending, ``p~_(k) = max_{j <= k} min(1, (m - j + 1) p_(j))``. Rejecting
  where ``p~ < alpha`` keeps the chance of any false rejection at most ``alpha``.
- `p_best`: by bootstrap over seeds (a fixed-seed NumPy generator), the
  probability that each column has the highest mean.
- `steps_to_target`: the first evaluation step at which a curve reaches a target.

With fewer than two values there is no interval and no test: the bounds and
p-values are NaN.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

__all__ = ["Paired", "holm", "mean_ci", "p_best", "paired", "steps_to_target"]


def _t(q: float, df: int) -> float:
    from scipy.stats import t

    return float(t.ppf(q, df))


def mean_ci(
    x: Sequence[float],
    confidence: float = 0.95,
    within: tuple[float, float] = (-math.inf, math.inf),
) -> tuple[float, float, float]:
    """``(mean, low, high)``: the mean of the finite values of ``x`` and its two-sided
    Student-t confidence interval, cut to ``within`` (the values' range); NaN bounds
    with fewer than two values.

    Example:
      >>> mean, low, high = mean_ci([0.80, 0.82, 0.84])  # s = 0.02, t_{0.975, 2} = 4.303
      >>> round(mean, 4), round(low, 4), round(high, 4)
      (0.82, 0.7703, 0.8697)
      >>> mean_ci([0.9])
      (0.9, nan, nan)
      >>> [round(v, 4) for v in mean_ci([0.95, 1.0], within=(0, 1))]  # t: [0.658, 1.293]
      [0.975, 0.6574, 1.0]
    """
    v = np.asarray(x, np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(v.mean())
    if v.size < 2:
        return mean, math.nan, math.nan
    half = _t((1 + confidence) / 2, v.size - 1) * float(v.std(ddof=1)) / math.sqrt(v.size)
    return mean, float(max(mean - half, within[0])), float(min(mean + half, within[1]))


@dataclasses.dataclass(frozen=True)
class Paired:
    """A paired comparison of ``a`` with ``b`` over ``n`` seeds (see `paired`)."""

    mean: float
    low: float
    high: float
    p: float
    n: int


def paired(
    a: Sequence[float],
    b: Sequence[float],
    confidence: float = 0.95,
    within: tuple[float, float] = (-math.inf, math.inf),
) -> Paired:
    """The per-seed differences ``d = a - b``: their mean, its two-sided interval (cut to
    ``within``, as `mean_ci`), and the one-sided paired t-test's p-value for ``E[d] > 0``.

    Seeds where either value is not finite (a diverged run) are left out; ``n``
    counts the pairs used. Differences that are all equal have no spread: ``p``
    is then 0 if they are positive, 1 if negative and 0.5 if zero.

    Example:
      >>> r = paired([0.62, 0.72, 0.83], [0.60, 0.70, 0.80])  # d = 0.02, 0.02, 0.03
      >>> round(r.mean, 4), round(r.low, 4), r.p < 0.01, r.n
      (0.0233, 0.009, True, 3)
      >>> paired([0.8, 0.6, 0.77], [0.7, 0.7, 0.7]).p > 0.3  # the seeds disagree
      True
    """
    from scipy.stats import t

    x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if x.shape != y.shape:
        raise ValueError(f"paired: a and b must pair, got shapes {x.shape} and {y.shape}")
    d = (x - y)[np.isfinite(x) & np.isfinite(y)]
    mean, low, high = mean_ci(d, confidence, within)
    if d.size < 2:
        return Paired(mean, low, high, math.nan, int(d.size))
    sd = float(d.std(ddof=1))
    if sd <= 1e-12 * max(1.0, abs(mean)):  # no spread: float noise around equal differences
        p = 0.0 if mean > 1e-12 else 1.0 if mean < -1e-12 else 0.5
        return Paired(mean, mean, mean, p, int(d.size))
    stat = mean / (sd / math.sqrt(d.size))
    return Paired(mean, low, high, float(t.sf(stat, d.size - 1)), int(d.size))


def holm(p: Sequence[float]) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values, in the order given; NaN entries (no test) stay
    NaN and do not count among the ``m`` tests.

    Example (``m = 4``; sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 is 0.02, 0.03,
    0.06, 0.04, and each is raised to the largest before it):
      >>> holm([0.01, 0.04, 0.03, 0.005]).round(4).tolist()
      [0.03, 0.06, 0.06, 0.02]
      >>> holm([0.2, float("nan")]).tolist()
      [0.2, nan]
    """
    p = np.asarray(p, np.float64)
    out = np.full(p.shape, np.nan)
    tested = np.flatnonzero(np.isfinite(p))
    m = tested.size
    running = 0.0
    for k, i in enumerate(tested[np.argsort(p[tested], kind="stable")]):
        running = max(running, min(1.0, (m - k) * p[i]))
        out[i] = running
    return out


def p_best(values: np.ndarray, n_boot: int = 10_000, seed: int = 0) -> np.ndarray:
    """``[column]``: the probability that each column of ``values[seed, column]`` has the
    highest mean, by bootstrap over the seeds (rows, resampled with replacement, whole:
    the columns stay paired). Ties share the win; NaN (a diverged run) counts as
    missing; a column with no finite value never wins. NaN everywhere with fewer than
    two seeds. The generator is ``np.random.default_rng(seed)``: the same numbers
    every run.

    Example:
      >>> v = np.array([[0.70, 0.71], [0.80, 0.82], [0.60, 0.61], [0.75, 0.74]])
      >>> p_best(v, n_boot=2000).round(2).tolist()  # column 1 is ahead on 3 of 4 seeds
      [0.11, 0.89]
    """
    v = np.asarray(values, np.float64)
    if v.ndim != 2:
        raise ValueError(f"p_best: values must be [seed, column], got shape {v.shape}")
    n, k = v.shape
    if n < 2 or k == 0:
        return np.full(k, np.nan)
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n, size=(n_boot, n))
    sample = v[rows]  # [boot, seed, column]
    finite = np.isfinite(sample)
    counts = finite.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(finite, sample, 0.0).sum(axis=1) / counts
    means = np.where(counts > 0, means, -np.inf)
    top = means.max(axis=1, keepdims=True)
    winners = (means == top) & np.isfinite(top)
    share = winners / np.maximum(winners.sum(axis=1, keepdims=True), 1)
    return share.mean(axis=0)


def steps_to_target(curve: Sequence[float], steps: Sequence[int], target: float) -> int | None:
    """The first of ``steps`` at which ``curve`` (e.g. validation accuracy averaged over
    seeds, one value per evaluation) is at least ``target``; None if it never is.

    Example:
      >>> steps_to_target([0.2, 0.55, 0.6], [10, 20, 30], 0.55)
      20
      >>> steps_to_target([0.2, 0.5], [10, 20], 0.55) is None
      True
    """
    c = np.asarray(curve, np.float64)
    if c.shape != np.shape(steps):
        raise ValueError(f"steps_to_target: {c.size} values but {len(steps)} steps")
    with np.errstate(invalid="ignore"):
        reached = np.flatnonzero(c >= target)
    return int(steps[reached[0]]) if reached.size else None
