"""Exact step arithmetic for huge step counts: `Steps`, the one door to the step.

A float32 cannot hold every integer above 2**24: `float32(2**31 - 1)` is
`2**31`, and neighbouring steps near there are 256 apart. A periodic schedule
(cyclic, restarts, staircase decay) evaluated on such a float would land up to
a hundred steps away in its cycle. `Steps` keeps the step exactly: an integer
step as the integer itself, from which it splits off, only when a formula asks,
two floats ``hi + lo``, both exactly representable (``hi`` a multiple of 2**16,
``lo`` below 2**16), so that comparisons and ``step mod period`` are exact. A
float step is split at once. Every view (the rounded `t`, the split) is computed
once per `Steps` and kept, so a schedule that asks for it several times pays once.

Schedules never touch the parts: they ask `Steps` for what they need (`t`,
`reached`, `until`, `since`, `divmod`, ...).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

_SPLIT = 2**16
_NEAREST = lax.RoundingMethod.TO_NEAREST_EVEN


def _select(cond: jax.Array, on_true: jax.Array, on_false: jax.Array) -> jax.Array:
    """``jnp.where`` as one ``select_n``, without the call ``jnp.where`` wraps it in."""
    on_true, on_false = jnp.asarray(on_true), jnp.asarray(on_false)
    dtype = jnp.result_type(on_true, on_false)
    shape = jnp.broadcast_shapes(jnp.shape(cond), on_true.shape, on_false.shape)

    def fit(x: jax.Array) -> jax.Array:
        if x.dtype != dtype:
            x = lax.convert_element_type(x, dtype)
        return x if x.shape == shape else jnp.broadcast_to(x, shape)

    cond = jnp.asarray(cond)
    if cond.shape != shape:
        cond = jnp.broadcast_to(cond, shape)
    return lax.select(cond, fit(on_true), fit(on_false))


class Steps:
    """A non-negative step count, held exactly (see the module's docstring).

    Built by `from_step` (what `Schedule.__call__` does), `position`, or derived
    from another `Steps` (`since`, `plus`, `select`, `expand`).
    """

    __slots__ = ("_hi", "_lo", "_n", "_t", "dtype")

    def __init__(
        self,
        dtype: jnp.dtype,
        *,
        n: jax.Array | None = None,
        hi: jax.Array | None = None,
        lo: jax.Array | None = None,
    ) -> None:
        self.dtype = jnp.dtype(dtype)
        self._n = n  # a non-negative integer step, or None
        self._hi = hi  # hi + lo: the step, both exact; lo None is 0
        self._lo = lo
        self._t = None

    # ---------------------------------------------------------------- building
    @classmethod
    def from_step(cls, step: jax.Array, dtype: jnp.dtype) -> Steps:
        """Clamp ``step`` at 0; a NaN step stays NaN. An integer step stays an integer
        until a formula needs its split; a float one is split now."""
        if jnp.issubdtype(step.dtype, jnp.integer) or step.dtype == jnp.bool_:
            int_type = jnp.result_type(step.dtype, jnp.int32)
            if step.dtype != int_type:
                step = lax.convert_element_type(step, int_type)
            return cls(dtype, n=jnp.maximum(step, 0))
        if step.dtype != dtype:
            step = lax.convert_element_type(step, dtype)
        t = jnp.maximum(step, 0)  # jnp.maximum keeps NaN
        hi = lax.floor(t / _SPLIT) * _SPLIT
        out = cls(dtype, hi=hi, lo=_select(lax.is_finite(t), t - hi, 0))
        out._t = t
        return out

    @classmethod
    def position(cls, x: jax.Array) -> Steps:
        """A position already held exactly by one float ``x`` (a folded position in a
        period, a phase's length), for the helpers that take a `Steps`."""
        x = jnp.asarray(x)
        return cls(x.dtype, hi=x)

    @classmethod
    def zero(cls, like: Steps) -> Steps:
        """Step 0, in ``like``'s dtype."""
        return cls(like.dtype, hi=jnp.zeros((), like.dtype))

    @staticmethod
    def select(cond: jax.Array, on_true: Steps, on_false: Steps) -> Steps:
        """``on_true`` where ``cond``, else ``on_false`` (both exact, as `jnp.where`)."""
        hi_t, lo_t = on_true._parts()
        hi_f, lo_f = on_false._parts()
        lo_t = jnp.zeros_like(hi_t) if lo_t is None else lo_t
        lo_f = jnp.zeros_like(hi_f) if lo_f is None else lo_f
        return Steps(on_true.dtype, hi=_select(cond, hi_t, hi_f), lo=_select(cond, lo_t, lo_f))

    def expand(self) -> Steps:
        """The same steps with a trailing axis of length 1 (to broadcast against a list)."""
        if self._n is not None:
            out = Steps(self.dtype, n=self._n[..., None])
        else:
            hi, lo = self._parts()
            out = Steps(self.dtype, hi=hi[..., None], lo=None if lo is None else lo[..., None])
        if self._t is not None:
            out._t = self._t[..., None]
        return out

    def plus(self, k: int) -> Steps:
        """``step + k`` for a small whole ``k`` (exact: added to the part below 2**16,
        so that an int32 step of ``2**31 - 1`` does not wrap around)."""
        hi, lo = self._parts()
        return Steps(self.dtype, hi=hi, lo=jnp.full_like(hi, k) if lo is None else lo + k)

    # ------------------------------------------------------------------ views
    def _parts(self) -> tuple[jax.Array, jax.Array | None]:
        """``(hi, lo)``: the exact split (``lo`` None for 0), computed once."""
        if self._hi is None:
            n = self._n
            hi = n & jnp.asarray(-_SPLIT, n.dtype)  # (n // 2**16) * 2**16, as n >= 0
            self._hi = lax.convert_element_type(hi, self.dtype)
            self._lo = lax.convert_element_type(n - hi, self.dtype)
        return self._hi, self._lo

    @property
    def t(self) -> jax.Array:
        """The step as one float (rounded for huge integers)."""
        if self._t is None:
            if self._n is not None:
                self._t = lax.convert_element_type(self._n, self.dtype)
            else:
                hi, lo = self._parts()
                self._t = hi if lo is None else hi + lo
        return self._t

    @property
    def shape(self) -> tuple[int, ...]:
        return jnp.shape(self._n if self._n is not None else self._parts()[0])

    def broadcast(self, value: jax.Array) -> jax.Array:
        """``value`` broadcast against the steps' shape (a constant's value at each step)."""
        value = jnp.asarray(value)
        shape = jnp.broadcast_shapes(value.shape, self.shape)
        return value if value.shape == shape else jnp.broadcast_to(value, shape)

    def whole(self) -> tuple[jax.Array, jax.Array | None, jax.Array]:
        """``(s, frac, ok)``: the step as an int32 whole part ``s`` and a fraction
        ``frac`` in ``[0, 1)`` (None for an integer step), where ``ok`` (the step is
        below ``2**31 - 2**16``, or an int32); elsewhere ``s`` is not to be used."""
        if self._n is not None and self._n.dtype == jnp.int32:
            return self._n, None, jnp.asarray(True)
        hi, lo = self._parts()
        lo = jnp.zeros_like(hi) if lo is None else lo
        ok = hi <= 2**31 - 2**16
        whole_lo = lax.floor(lo)
        s = _select(ok, hi, 0).astype(jnp.int32) + whole_lo.astype(jnp.int32)
        return s, lo - whole_lo, ok

    # ------------------------------------------------------------ arithmetic
    def _offset(self, x: jax.Array) -> jax.Array:
        """``(hi - x) + lo``: ``step - x``, exact where the two are close."""
        hi, lo = self._parts()
        return hi - x if lo is None else (hi - x) + lo

    def reached(self, boundary: jax.Array) -> jax.Array:
        """``step >= boundary``, exactly for any boundary the dtype holds.

        The rounded `t` is not enough above 2**24: ``float32(19_999_999)`` is
        ``2e7``. ``(hi - boundary) + lo`` has the sign of the exact difference:
        ``hi - boundary`` is exact where the two are close (Sterbenz), and far
        apart its rounding is smaller than its distance from ``-lo``.
        """
        return self._offset(boundary) >= 0

    def passed(self, boundary: jax.Array) -> jax.Array:
        """``step > boundary``, exactly (see `reached`)."""
        return self._offset(boundary) > 0

    def minus(self, start: jax.Array) -> jax.Array:
        """``step - start``: exact where the two are close (see `reached`), else one rounding.

        The rounded `t` minus ``start`` is off by up to 128 steps near ``2**31`` in
        float32: all of a phase's progress when it is long and nearly over.
        """
        return self._offset(start)

    def until(self, end: jax.Array) -> jax.Array:
        """``end - step``, the steps left before ``end``: exact where the two are close."""
        hi, lo = self._parts()
        return end - hi if lo is None else (end - hi) - lo

    def since(self, offset: jax.Array) -> Steps:
        """Steps elapsed since ``offset``, clamped at 0: exact, for any ``offset`` the
        dtype holds (split as the step is, each part subtracted from its own)."""
        hi, lo = self._parts()
        lo = jnp.zeros_like(hi) if lo is None else lo
        offset_hi = lax.floor(offset / _SPLIT) * _SPLIT
        hi, lo = hi - offset_hi, lo - (offset - offset_hi)
        before = hi + lo <= 0
        return Steps(self.dtype, hi=_select(before, 0, hi), lo=_select(before, 0, lo))

    def divmod(self, period: jax.Array) -> tuple[jax.Array, jax.Array]:
        """``(floor(step / period), step mod period)`` for ``period > 0``.

        Each part is reduced on its own with `fmod`, which is exact in IEEE
        arithmetic, so the remainder is exact up to one rounding of a number
        between ``-period`` and ``2 * period``.
        """
        hi, lo = self._parts()
        lo = jnp.zeros_like(hi) if lo is None else lo
        period = jnp.asarray(period, self.dtype)
        r_hi = lax.rem(hi, jnp.broadcast_to(period, jnp.broadcast_shapes(hi.shape, period.shape)))
        r_lo = lax.rem(lo, jnp.broadcast_to(period, jnp.broadcast_shapes(lo.shape, period.shape)))
        # rem = r_hi + r_lo may round across 0 or period (2**30 - 1 rounds to 2**30 in
        # float32), so the carry is decided on the exact sum, rem + err (Knuth's TwoSum).
        rem = r_hi + r_lo
        back = rem - r_hi
        err = (r_hi - (rem - back)) + (r_lo - back)
        over = (rem - period) + err >= 0
        under = rem + err < 0
        carry = _select(over, 1.0, _select(under, -1.0, 0.0)).astype(rem.dtype)
        rem = (rem - carry * period) + err
        quot = (
            lax.round((hi - r_hi) / period, _NEAREST)
            + lax.round((lo - r_lo) / period, _NEAREST)
            + carry
        )
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
    # Half the spacing of the floats below next_up and above quot (both >= 0), in steps:
    # jnp.spacing(jnp.nextafter(next_up, 0)) and jnp.spacing(quot), from their bits.
    half_below = (next_up - _next_float(next_up, -1)) / 2 * period
    half_above = (_next_float(quot, 1) - quot) / 2 * period
    in_range = next_up < 2.0 ** (digits - 2)
    up = in_range & (half_below < 1) & (period - rem <= half_below)
    down = in_range & (half_above < 1) & (rem <= half_above)
    return _select(up, next_up, quot), _select(up | down, 0, rem)


def _next_float(x: jax.Array, direction: int) -> jax.Array:
    """The float next to a non-negative ``x`` towards ``+inf`` (``direction=1``) or
    0 (``-1``, for ``x > 0``): its bits plus or minus one."""
    bits = {2: jnp.int16, 4: jnp.int32, 8: jnp.int64}[x.dtype.itemsize]
    return lax.bitcast_convert_type(lax.bitcast_convert_type(x, bits) + direction, x.dtype)
