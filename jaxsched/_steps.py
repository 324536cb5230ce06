"""Exact step arithmetic for huge step counts.

A float32 cannot hold every integer above 2**24: `float32(2**31 - 1)` is
`2**31`, and neighbouring steps near there are 256 apart. A periodic schedule
(cyclic, restarts, staircase decay) evaluated on such a float would land up to
a hundred steps away in its cycle. `Steps` keeps the step as two floats,
`hi + lo`, both exactly representable (`hi` a multiple of 2**16, `lo` below
2**16 for integer inputs), so that `step mod period` is computed exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

_SPLIT = 2**16


@dataclass(frozen=True)
class Steps:
    """A non-negative step count held as ``hi + lo`` in a float dtype."""

    hi: jax.Array
    lo: jax.Array

    @classmethod
    def from_step(cls, step: jax.Array, dtype: jnp.dtype) -> Steps:
        """Clamp ``step`` at 0 and split it; a NaN step stays NaN."""
        if jnp.issubdtype(step.dtype, jnp.integer) or step.dtype == jnp.bool_:
            step = jnp.maximum(step.astype(jnp.result_type(step.dtype, jnp.int32)), 0)
            hi = (step // _SPLIT) * _SPLIT
            return cls(hi.astype(dtype), (step - hi).astype(dtype))
        t = jnp.maximum(step.astype(dtype), 0)  # jnp.maximum keeps NaN
        hi = jnp.floor(t / _SPLIT) * _SPLIT
        return cls(hi, jnp.where(jnp.isfinite(t), t - hi, 0))

    @property
    def t(self) -> jax.Array:
        """The step as one float (rounded for huge integers)."""
        return self.hi + self.lo

    def reached(self, boundary: jax.Array) -> jax.Array:
        """``step >= boundary``, exactly for any boundary the dtype holds.

        The rounded `t` is not enough above 2**24: ``float32(19_999_999)`` is
        ``2e7``. ``(hi - boundary) + lo`` has the sign of the exact difference:
        ``hi - boundary`` is exact where the two are close (Sterbenz), and far
        apart its rounding is smaller than its distance from ``-lo``.
        """
        return (self.hi - boundary) + self.lo >= 0

    def passed(self, boundary: jax.Array) -> jax.Array:
        """``step > boundary``, exactly (see `reached`)."""
        return (self.hi - boundary) + self.lo > 0

    def minus(self, start: jax.Array) -> jax.Array:
        """``step - start``: exact where the two are close (see `reached`), else one rounding.

        The rounded `t` minus ``start`` is off by up to 128 steps near ``2**31`` in
        float32: all of a phase's progress when it is long and nearly over.
        """
        return (self.hi - start) + self.lo

    def until(self, end: jax.Array) -> jax.Array:
        """``end - step``, the steps left before ``end``: exact where the two are close."""
        return (end - self.hi) - self.lo

    def since(self, offset: jax.Array) -> Steps:
        """Steps elapsed since ``offset``, clamped at 0: exact, for any ``offset`` the
        dtype holds (split as the step is, each part subtracted from its own)."""
        offset_hi = jnp.floor(offset / _SPLIT) * _SPLIT
        hi, lo = self.hi - offset_hi, self.lo - (offset - offset_hi)
        before = hi + lo <= 0
        return Steps(jnp.where(before, 0, hi), jnp.where(before, 0, lo))

    def divmod(self, period: jax.Array) -> tuple[jax.Array, jax.Array]:
        """``(floor(step / period), step mod period)`` for ``period > 0``.

        Each part is reduced on its own with `fmod`, which is exact in IEEE
        arithmetic, so the remainder is exact up to one rounding of a number
        between ``-period`` and ``2 * period``.
        """
        r_hi = jnp.fmod(self.hi, period)  # in [0, period)
        r_lo = jnp.fmod(self.lo, period)  # in (-period, period): lo < 0 after `since`
        # rem = r_hi + r_lo may round across 0 or period (2**30 - 1 rounds to 2**30 in
        # float32), so the carry is decided on the exact sum, rem + err (Knuth's TwoSum).
        rem = r_hi + r_lo
        back = rem - r_hi
        err = (r_hi - (rem - back)) + (r_lo - back)
        over = (rem - period) + err >= 0
        under = rem + err < 0
        carry = jnp.where(over, 1.0, jnp.where(under, -1.0, 0.0)).astype(rem.dtype)
        rem = (rem - carry * period) + err
        quot = jnp.round((self.hi - r_hi) / period) + jnp.round((self.lo - r_lo) / period) + carry
        return _rounded_quotient(quot, rem, period)


def _rounded_quotient(
    quot: jax.Array, rem: jax.Array, period: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """``(quot, rem)`` of an exact division, moved to the nearest multiple where the
    quotient rounded to the dtype is a whole number, as Keras and optax compute it.

    ``decay_steps=1.1`` is stored as ``1.10000002`` in float32: step 11 is then
    ``9.9999998`` periods, which rounds to 10 (Keras and optax decay 10 times, as
    meant), while the exact floor is 9. So a step within half a unit in the last
    place of the quotient below (or above) a whole number of periods counts as that
    number, with no remainder. This happens only where that half unit is under one
    step and a quarter of a period (quotients below ``2**(digits - 2)``): a whole
    period's multiples, ``1`` apart from any other whole step, stay exact at every
    step up to ``2**31``.
    """
    digits = jnp.finfo(rem.dtype).nmant + 1
    next_up = quot + 1
    half_below = jnp.spacing(jnp.nextafter(next_up, 0)) / 2 * period  # steps
    half_above = jnp.spacing(quot) / 2 * period
    in_range = next_up < 2.0 ** (digits - 2)
    up = in_range & (half_below < 1) & (period - rem <= half_below)
    down = in_range & (half_above < 1) & (rem <= half_above)
    return jnp.where(up, next_up, quot), jnp.where(up | down, 0, rem)
