"""Cosine decay and cosine decay with warm restarts (SGDR)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

from jaxsched._base import Schedule, data, factory, register
from jaxsched._math import (
    accurate_rise,
    cosine_fall_parts,
    cosine_rise,
    one_minus_power,
    phase,
    positive,
    round_even,
    safe_power,
    scaled_power,
    where,
)
from jaxsched._steps import Steps

__all__ = ["Cosine", "CosineRestarts", "cosine", "cosine_restarts"]


@register("cosine")
class Cosine(Schedule):
    """Cosine decay. Build with `jaxsched.cosine`."""

    init_value: jax.Array = data(float)
    decay_steps: jax.Array = data(float, "> 0", switch=True)
    end_value: jax.Array = data(float)
    exponent: jax.Array = data(float, "> 0")

    def _end(self) -> jax.typing.ArrayLike:
        return self.decay_steps

    def _value(self, steps: Steps) -> jax.Array:
        p, q = phase(steps, self.decay_steps)
        fall = cosine_fall_parts(p, q)
        weight = safe_power(fall, self.exponent)
        # A decay from the nearer end, so that schedule(0) is init_value to the last bit.
        span = self.init_value - self.end_value
        decay = where(
            p <= 0.5, self.init_value - span * (1 - weight), self.end_value + span * weight
        )
        # A rise needs 1 - weight itself accurate: 1 - fall is sin^2(pi p / 2).
        rise = one_minus_power(fall, cosine_rise(p), self.exponent)
        return accurate_rise(self.init_value, self.end_value, decay, rise)


@factory(Cosine)
def cosine(init_value: Any, decay_steps: Any, end_value: Any = 0.0, exponent: Any = 1.0) -> Cosine:
    r"""Cosine decay from ``init_value`` to ``end_value`` over ``decay_steps``, then held.

    .. math::
        \eta(t) = \eta_1 + (\eta_0 - \eta_1)
        \left(\frac{1 + \cos(\pi \min(t, k) / k)}{2}\right)^{e}

    Loshchilov & Hutter, *SGDR* (2017). Equals ``optax.cosine_decay_schedule``
    with ``alpha = end_value / init_value`` and Keras's ``CosineDecay``.

    Args:
      init_value: :math:`\eta_0`.
      decay_steps: :math:`k > 0`.
      end_value: :math:`\eta_1`, absolute.
      exponent: :math:`e > 0`.

    Example:
      >>> import jaxsched
      >>> s = jaxsched.cosine(init_value=1.0, decay_steps=100)
      >>> [round(float(s(t)), 4) for t in (0, 50, 100, 200)]
      [1.0, 0.5, 0.0, 0.0]
    """
    return Cosine(
        init_value=init_value, decay_steps=decay_steps, end_value=end_value, exponent=exponent
    )


@register("cosine_restarts")
class CosineRestarts(Schedule):
    """Cosine decay with warm restarts. Build with `jaxsched.cosine_restarts`."""

    init_value: jax.Array = data(float)
    first_decay_steps: jax.Array = data(float, "> 0", switch=True)
    t_mul: jax.Array = data(float, ">= 1")
    m_mul: jax.Array = data(float, ">= 0")
    end_value: jax.Array = data(float)

    def _value(self, steps: Steps) -> jax.Array:
        first = positive(self.first_decay_steps)
        n, pos = steps.divmod(first)  # periods of equal length
        rest, length = first - pos, first
        # Periods that grow or shrink; a traced t_mul <= 0 acts as 1.
        geometric = (self.t_mul > 0) & (self.t_mul != 1)
        m = where(geometric, self.t_mul, 2.0)
        n_g, pos_g, rest_g, length_g = _geometric_periods(steps, first, m)
        n = where(geometric, n_g, n)
        pos = where(geometric, pos_g, pos)
        rest = where(geometric, rest_g, rest)
        length = where(geometric, length_g, length)
        init, end, m_mul = self.init_value, self.end_value, self.m_mul
        height = scaled_power(init - end, m_mul, n)
        p = pos / length
        value = end + height * cosine_fall_parts(p, rest / length)
        # A rise (to an end above the period's peak) goes from the peak by
        # sin^2(pi p / 2). The peak: init m^n + end (1 - m^n) when peaks do not
        # grow (init_value itself when m_mul is 1: no cancelling), else init_value
        # in the first period and end + height after it.
        shrinking = scaled_power(init, m_mul, n) + end * one_minus_power(m_mul, 1 - m_mul, n)
        peak = where(m_mul <= 1, shrinking, where(n == 0, init, end + height))
        rise = peak - height * cosine_rise(p)
        return where(jnp.abs(end) > jnp.abs(peak), rise, value)


_INT_MAX = 2**31 - 1


def _geometric_periods(steps: Steps, first: jax.Array, m: jax.Array):
    """(period index, position in it, steps left in it, its length) for periods
    ``first * m**i``, ``m > 0``, ``m != 1``.

    Period ``i`` starts at ``first * (m**i - 1) / (m - 1)``. The log of that
    gives ``i`` up to rounding, corrected by one step each way. When ``first``
    and ``m`` are whole (restarts on whole steps) and the step is below 2**31,
    the period is found in saturating int32 arithmetic instead, exactly: a
    float32 step cannot tell 2**31 - 3 from a restart at 2**31 - 1.

    Shrinking periods (``m < 1``) sum to ``first / (1 - m)`` steps; from there
    on no period holds the step and every part is NaN, as in Keras.
    """
    t = steps.t
    whole_m = m == round_even(m)
    power_if_exact = _exact_powers(m)

    def start(i: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Period ``i``'s start, and whether ``m**i`` in it is exact."""
        power, exact = power_if_exact(i)
        # expm1 keeps the digits of an m close to 1 where the power is not exact.
        grown = where(
            exact,
            power - 1,  # exact for m > 1; rounded once at most for m < 1
            where(whole_m, jnp.power(m, i) - 1, jnp.expm1(i * jnp.log(m))),
        )
        return where(i == 1, first, first * grown / (m - 1)), exact

    # The log of the start gives the period up to rounding: i0 - 1, i0 or i0 + 1. The
    # four starts that decide it and bound it are computed at once, one program for all.
    i0 = jnp.floor(jnp.log1p(t / first * (m - 1)) / jnp.log(m))
    near = i0 + jnp.arange(-1.0, 3.0, dtype=i0.dtype).reshape((4,) + (1,) * i0.ndim)
    begin, exact = start(near)
    # An exact start is off by the division's rounding alone (two ulps, as XLA's
    # division on a CPU is not always correctly rounded): within that, but less than
    # half a step, it counts, so that a restart at a whole step is not missed. Any
    # other start is taken as computed, the first (first itself) included: a wider
    # margin moved restarts a step early (at 11333 for one at 11333.0078; at
    # first_decay_steps - 1 for a first period of 10**6).
    margin = jnp.minimum(2 * jnp.finfo(t.dtype).eps * begin, 0.5)
    reached = t >= begin - where(exact & (near != 1), margin, 0)
    # Period i0 reached: i0, or i0 + 1 if that is reached too; else i0 - 1.
    down, up = ~reached[1], reached[1] & reached[2]
    i = where(up, i0 + 1, where(down, i0 - 1, i0))

    def pick(at: jax.Array) -> jax.Array:
        """``at[k]`` for the period found, ``k`` counted from i0 - 1."""
        return where(up, at[2], where(down, at[0], at[1]))

    float_pos = jnp.maximum(t - pick(begin[:3]), 0)
    float_rest = jnp.maximum(pick(begin[1:]) - t, 0)
    float_length = first * jnp.power(m, i)

    s, frac, in_range = steps.whole()
    exact = whole_m & (first == round_even(first)) & in_range
    small = where(exact, 1, 0)  # keeps the int32 path in range where it is not used
    big_m = where(exact, m, 2).astype(jnp.int32)
    limit = lax.div(jnp.int32(_INT_MAX), big_m)  # a longer period overflows when grown
    # A period longer than int32 holds is the last one below 2**31: its length
    # saturates the counter and comes from the float formula instead.
    huge = exact & (first >= 2.0**31)
    length = where(exact & ~huge, first, small).astype(jnp.int32)
    s, limit, big_m, length, huge = jnp.broadcast_arrays(s, limit, big_m, length, huge)

    def period(_, state):
        count, begin, length, huge = state
        later = (s - begin >= length) & ~huge
        overflows = length > limit
        return (
            count + later.astype(count.dtype),
            where(later, begin + length, begin),
            where(later, where(overflows, _INT_MAX, length * big_m), length),
            huge | (later & overflows),
        )

    # With m >= 2 and first >= 1, 31 periods pass 2**31: one loop body, not 31 copies.
    zero = jnp.zeros_like(s)
    count, begin, length, huge = lax.fori_loop(0, 31, period, (zero, zero, length, huge))
    huge_length = first * jnp.power(m, count.astype(t.dtype))
    exact_pos = (s - begin).astype(t.dtype)
    exact_rest = where(
        huge,
        (begin - s).astype(t.dtype) + huge_length,
        (begin + length - s).astype(t.dtype),
    )
    if frac is not None:
        exact_pos, exact_rest = exact_pos + frac, exact_rest - frac
    return (
        where(exact, count.astype(t.dtype), i),
        where(exact, exact_pos, float_pos),
        where(exact, exact_rest, float_rest),
        where(exact, where(huge, huge_length, length.astype(t.dtype)), float_length),
    )


def _power_if_exact(m: jax.Array, i: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(m**i, exact)`` for a whole ``i``: the power by repeated squaring, which is
    exact (every product held by the dtype) where ``0 <= i < 32`` and the odd part of
    ``m``'s mantissa, to the power ``i``, fits the mantissa: for ``m = 1.5 = 3 / 2``
    up to ``i = 15`` in float32; for a power of two always. Elsewhere ``exact`` is
    False and the power is not to be used.

    >>> power, exact = _power_if_exact(jnp.float32(1.5), jnp.float32(10))
    >>> float(power), bool(exact)  # 3**10 / 2**10
    (57.6650390625, True)
    """
    return _exact_powers(m)(i)


def _exact_powers(m: jax.Array):
    """`_power_if_exact` for one ``m`` and any number of exponents: what depends on
    ``m`` alone (its odd part, its squares) is computed once."""
    digits = jnp.finfo(m.dtype).nmant + 1
    integer = jnp.int64 if digits > 32 else jnp.int32
    mantissa = (jnp.frexp(m)[0] * 2.0**digits).astype(integer)  # m's digits, as an integer
    odd = lax.div(mantissa, mantissa & -mantissa)  # without its factors of 2 (m > 0)
    odd_bits = jnp.log2(odd.astype(m.dtype))
    small = m < 2**7  # m**16, the last square, stays finite
    squares = [where(small, m, 1.0)]
    for _ in range(4):
        squares.append(squares[-1] * squares[-1])

    def power_of(i: jax.Array) -> tuple[jax.Array, jax.Array]:
        exact = small & (i >= 0) & (i < 32) & (i * odd_bits < digits)
        bits = where(exact, i, 0).astype(jnp.int32)
        power = jnp.ones_like(squares[0])
        for b, base in enumerate(squares):
            power = where((bits >> b) & 1, power * base, power)
        return power, exact

    return power_of


@factory(CosineRestarts)
def cosine_restarts(
    init_value: Any,
    first_decay_steps: Any,
    t_mul: Any = 2.0,
    m_mul: Any = 1.0,
    end_value: Any = 0.0,
) -> CosineRestarts:
    r"""Cosine decay with warm restarts (SGDR): each period restarts at a scaled peak.

    Period :math:`i` lasts :math:`k\, m_t^{i}` steps and starts at
    :math:`\eta_1 + (\eta_0 - \eta_1)\, m_m^{i}`; within it, at position :math:`\tau`,

    .. math::
        \eta(t) = \eta_1 + (\eta_0 - \eta_1)\, m_m^{i}\,
        \frac{1 + \cos(\pi \tau / (k\, m_t^{i}))}{2}

    Loshchilov & Hutter, *SGDR* (2017). Keras's ``CosineDecayRestarts``
    (``end_value = alpha * init_value``); PyTorch's
    ``CosineAnnealingWarmRestarts`` (``m_mul = 1``).

    Args:
      init_value: :math:`\eta_0`, the first peak.
      first_decay_steps: :math:`k > 0`, the first period's length.
      t_mul: :math:`m_t \ge 1`, how much longer each period is than the last. (Periods
        that shrink, :math:`0 < m_t < 1`, are Keras's: see
        `jaxsched.compat.keras.CosineDecayRestarts`.)
      m_mul: :math:`m_m \ge 0`, how much lower each peak is than the last (0: one
        cosine, then ``end_value`` for good, as Keras computes it).
      end_value: :math:`\eta_1`, absolute.

    Example:
      >>> import jaxsched
      >>> s = jaxsched.cosine_restarts(init_value=1.0, first_decay_steps=10, t_mul=2.0)
      >>> [round(float(s(t)), 4) for t in (0, 5, 10, 20, 30)]
      [1.0, 0.5, 1.0, 0.5, 1.0]
    """
    return CosineRestarts(
        init_value=init_value,
        first_decay_steps=first_decay_steps,
        t_mul=t_mul,
        m_mul=m_mul,
        end_value=end_value,
    )
