"""Numeric helpers shared by the schedule formulas (traced-safe, accurate near phase ends)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from jaxsched._steps import Steps, _select

#: ``jnp.where`` as one ``select_n`` (``jnp.where`` wraps it in a call of its own).
where = _select


def round_even(x: jax.Array) -> jax.Array:
    """``jnp.round`` (half to even) as one ``round`` (``jnp.round`` wraps it in a call)."""
    return lax.round(x, lax.RoundingMethod.TO_NEAREST_EVEN)


def clip(x: jax.Array, low: float, high: float) -> jax.Array:
    """``jnp.clip`` as a ``max`` and a ``min`` (``jnp.clip`` wraps them in a call)."""
    return jnp.minimum(jnp.maximum(x, low), high)


def positive(x: jax.Array) -> jax.Array:
    """``x`` clamped to the smallest positive normal number of its dtype.

    Lengths and periods that must be positive go through this, so that an
    invalid traced value (0 or negative) gives the limit of a very short phase
    instead of a division by zero.
    """
    x = jnp.asarray(x)
    return jnp.maximum(x, jnp.asarray(jnp.finfo(x.dtype).tiny, x.dtype))


def scaled_power(scale: jax.Array, base: jax.Array, exponent: jax.Array) -> jax.Array:
    """``scale * base ** exponent``, finite wherever the product itself is.

    The power alone leaves the dtype's range long before the product when
    ``scale`` is far from 1 (``0.5 * 1.875 ** 142`` fits float32, ``1.875 ** 142``
    does not). Where it overflows or is subnormal, the product is taken as
    ``scale * h * h`` with ``h = base ** (exponent / 2)``; elsewhere it is the
    plain product. A ``scale`` of 0 gives 0.

    >>> float(scaled_power(jnp.float32(0.5), jnp.float32(1.875), jnp.float32(142)))
    2.918e+38
    """
    power = safe_power(base, exponent)
    half = safe_power(base, exponent / 2)
    in_range = jnp.isfinite(power) & (power >= jnp.finfo(jnp.result_type(power)).tiny)
    # Each branch sees only values it is selected for: an infinite power in the one not
    # taken would send inf * 0 = NaN into the gradients.
    plain = scale * where(in_range, power, 1.0)
    halves = where(in_range, 1.0, half)
    value = where(in_range, plain, scale * halves * halves)
    return where(scale == 0, scale, value)


def per_length(x: jax.Array, length: jax.Array) -> jax.Array:
    """``x / length``; for a ``length`` of 0 or less (an empty phase, as
    ``warmup_steps=0``), the limit of a very short phase: ``+-inf``, or 0 for ``x = 0``.

    Its gradients stay finite there: dividing by a length clamped to a tiny
    positive number gives the same values, but gradients of ``1 / tiny**2`` that
    overflow, and NaN once a ``clip`` multiplies them by 0.

    >>> float(per_length(jnp.float32(3.0), jnp.float32(0.0)))
    inf
    >>> float(jax.grad(lambda w: clip(per_length(3.0, w), 0.0, 1.0))(0.0))
    0.0
    """
    some = length > 0
    quotient = x / where(some, length, 1.0)
    limit = where(x > 0, jnp.inf, where(x < 0, -jnp.inf, 0.0))
    return where(some, quotient, limit)


def safe_power(base: jax.Array, exponent: jax.Array) -> jax.Array:
    """``base ** exponent`` for ``base >= 0``, whose gradients stay finite where ``base`` is 0.

    A phase's part left or done is clipped to 0 past the phase's end, and
    ``d base**e / d base = e base**(e - 1)`` is infinite there for ``e < 1``
    (``d / de`` is ``base**e log(base)``, NaN): the clip's zero gradient times
    either is NaN. At a base of 0 the value is ``0 ** exponent``, held constant.

    >>> float(jax.grad(lambda t: safe_power(clip(1.0 - t, 0.0, 1.0), 0.5))(2.0))
    0.0
    """
    some = base > 0
    inside = jnp.power(where(some, base, 1.0), exponent)
    return where(some, inside, jax.lax.stop_gradient(jnp.power(base, exponent)))


def safe_sqrt(x: jax.Array) -> jax.Array:
    """``sqrt(x)`` for ``x >= 0``, with a gradient of 0 at ``x = 0`` (where the
    clipped part of a phase is 0) instead of an infinite one."""
    some = x > 0
    return where(some, jnp.sqrt(where(some, x, 1.0)), 0.0)


def part(x: jax.Array, length: jax.Array) -> jax.Array:
    """``clip(x / length, 0, 1)``; for a ``length`` of 0 or less (an empty phase), the
    limit of a very short one: 1 for ``x > 0``, else 0 (`per_length`, clipped)."""
    return _part(x, *_length(length))


def _length(length: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(length > 0, length or 1)``: what `part` divides by, shared between parts."""
    some = length > 0
    return some, where(some, length, 1.0)


def _part(x: jax.Array, some: jax.Array, safe: jax.Array) -> jax.Array:
    return where(some, clip(x / safe, 0.0, 1.0), where(x > 0, 1.0, 0.0))


def phase(steps: Steps, length: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(done, left)`` of a phase of ``length`` steps from step 0: the part done,
    ``clip(t / length, 0, 1)``, and the part still to go, ``clip((length - t) / length,
    0, 1)``, each computed directly.

    ``1 - done`` loses every digit of a small remainder in float32; ``length - t``
    from the step's exact parts is exact for any step below ``2**31`` (the rounded
    step is not: a phase of ``2**30`` steps would be 28% off 100 steps before its
    end). At ``t <= 0`` the part left is exactly 1: XLA's vectorised CPU division
    can round ``length / length`` one ulp below 1. A length of 0 or less acts as the
    limit of a very short phase: nothing is done at ``t = 0`` and everything from
    any ``t > 0``.
    """
    t, (some, safe) = steps.t, _length(length)
    return _part(t, some, safe), where(t <= 0, 1.0, _part(steps.until(length), some, safe))


def done(steps: Steps, length: jax.Array) -> jax.Array:
    """The part of a phase of ``length`` steps done at the step (see `phase`)."""
    return part(steps.t, length)


def left(steps: Steps, length: jax.Array) -> jax.Array:
    """The part of a phase of ``length`` steps still to go at the step (see `phase`)."""
    return phase(steps, length)[1]


def cosine_fall(steps: Steps, length: jax.Array) -> jax.Array:
    r"""``(1 + cos(pi p)) / 2`` with ``p = clip(t / length, 0, 1)``: 1 down to 0 over a phase."""
    return cosine_fall_parts(*phase(steps, length))


def cosine_fall_parts(p: jax.Array, q: jax.Array) -> jax.Array:
    r"""``(1 + cos(pi p)) / 2`` given both ``p`` and ``q = 1 - p`` (any real ``p``).

    Evaluated as :math:`\cos^2(\pi p / 2)` where :math:`p \le 1/2` and as
    :math:`\sin^2(\pi q / 2)` elsewhere, so that values near the end of a
    phase keep full relative precision when ``q`` is computed directly.
    """
    first = jnp.square(jnp.cos(0.5 * jnp.pi * p))
    return where(p <= 0.5, first, cosine_rise(q))


def cosine_rise(p: jax.Array) -> jax.Array:
    r"""``(1 - cos(pi p)) / 2`` as :math:`\sin^2(\pi p / 2)`: 0 up to 1 over a phase, with
    full relative precision near ``p = 0`` (the subtraction would cancel there).

    >>> p = jnp.float32(1e-4)  # exactly (pi p / 2)**2 = 2.4674e-08 to 5 digits
    >>> f"{float(cosine_rise(p)):.4e}", f"{float((1 - jnp.cos(jnp.pi * p)) / 2):.4e}"
    ('2.4674e-08', '2.9802e-08')
    """
    return jnp.square(jnp.sin(0.5 * jnp.pi * p))


def cosine_parts(start: jax.Array, end: jax.Array, p: jax.Array, q: jax.Array) -> jax.Array:
    """``end + (start - end) (1 + cos(pi p)) / 2`` given ``p`` and ``q = 1 - p``, from the
    nearer end: ``start + (end - start) sin^2(pi p / 2)`` in the first half and
    ``end + (start - end) sin^2(pi q / 2)`` in the second, exact at both ends."""
    rise, fall = cosine_rise(p), cosine_rise(q)
    return where(p <= 0.5, start + (end - start) * rise, end + (start - end) * fall)


def linear_parts(start: jax.Array, end: jax.Array, p: jax.Array, q: jax.Array) -> jax.Array:
    """``start + (end - start) p`` given ``p`` and ``q = 1 - p`` (any real ``p``).

    Computed from the nearer end, so that a value near ``end`` keeps its
    digits when ``end`` is far smaller than ``start`` (one-cycle's last phase).
    """
    return where(p <= 0.5, start + (end - start) * p, end + (start - end) * q)


def accurate_rise(
    start: jax.Array, end: jax.Array, value: jax.Array, complement: jax.Array
) -> jax.Array:
    """``value`` (``end + (start - end) w``, ``w`` going from 1 to 0), made accurate for a rise.

    A growing schedule (``|end| > |start|``) computed as ``end + (start - end) w``
    cancels near its start: ``end + (start - end) * 1`` loses every digit of a
    ``start`` far smaller than ``end``. There the value is taken as
    ``start + (end - start) complement`` instead, from ``complement = 1 - w``
    computed directly by the caller (not by the subtraction). A decaying schedule
    keeps ``value``, which its caller computes from the nearer end.

    >>> start, end = jnp.float32(1e-8), jnp.float32(1.0)
    >>> float(end + (start - end) * 1.0), float(accurate_rise(start, end, end + (start - end), 0.0))
    (0.0, 1e-08)
    """
    rise = start + (end - start) * complement
    return where(jnp.abs(end) > jnp.abs(start), rise, value)


def one_minus_power(base: jax.Array, complement: jax.Array, exponent: jax.Array) -> jax.Array:
    """``1 - base ** exponent`` for ``base >= 0``, given ``complement = 1 - base``.

    Computed as ``-expm1(exponent * log(base))`` with ``log(base)`` as
    ``log1p(-complement)`` while ``complement <= 1/2``, so that it keeps its
    digits when ``base`` is near 1; exactly ``complement`` for ``exponent = 1``.

    >>> float(one_minus_power(jnp.float32(1 - 2**-20), jnp.float32(2**-20), 2.0)) * 2**20
    2.0
    """
    # Both logarithms get arguments they are finite at, so that no branch left
    # unselected sends a NaN into a gradient.
    near_one = complement <= 0.5
    log_base = where(
        near_one,
        jnp.log1p(-where(near_one, complement, 0.5)),
        jnp.log(where(near_one | (base <= 0), 1.0, base)),
    )
    # A base of 0: 1 - 0 ** exponent, with 0 ** 0 = 1.
    value = where(base > 0, -jnp.expm1(exponent * log_base), where(exponent == 0, 0.0, 1.0))
    return where(exponent == 1, complement, value)


def interpolate(
    start: jax.Array,
    end: jax.Array,
    steps: Steps,
    begin: jax.Array,
    stop: jax.Array,
    shape: str,
) -> jax.Array:
    r"""Go from ``start`` at step ``begin`` to ``end`` at step ``stop`` along a named shape.

    ``"linear"``: :math:`a + (b - a) p`; ``"cos"``: :math:`b + (a - b)(1 + \cos \pi p)/2`;
    ``"1-sqrt"``: :math:`b + (a - b)(1 - \sqrt{p})`, where
    :math:`p = (t - \mathit{begin}) / (\mathit{stop} - \mathit{begin})`, clipped to [0, 1].

    The part done, ``t - begin``, and the part left, ``stop - t``, are each
    computed from their own end: with integer steps the one near ``stop`` is
    exact even when ``begin`` is fractional (one-cycle's ``pct_start * total``),
    where ``(stop - begin) - (t - begin)`` would round twice, a whole step at 2**24.
    Both are exact for every step below ``2**31`` (see `phase`).
    A traced phase of length 0 or less acts as the limit of a very short phase.
    """
    length = stop - begin
    elapsed, (some, safe) = steps.minus(begin), _length(length)
    p = _part(elapsed, some, safe)
    q = where(elapsed <= 0, 1.0, _part(steps.until(stop), some, safe))
    if shape == "linear":
        return linear_parts(start, end, p, q)
    if shape == "cos":
        return cosine_parts(start, end, p, q)
    if shape == "1-sqrt":  # 1 - sqrt(p) = q / (1 + sqrt(p)): no cancellation near the end
        root = safe_sqrt(p)
        value = end + (start - end) * (q / (1.0 + root))
        return accurate_rise(start, end, value, root)
    raise ValueError(f"unknown shape {shape!r}")
