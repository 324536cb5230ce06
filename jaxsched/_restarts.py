"""Decay cycles with restarts of any shape (cosine, hyperbolic tangent, polynomial), with
growing cycles, decaying peaks, a cycle limit and k-decay: timm's schedulers' core."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from jaxsched._base import Schedule, data, factory, register, static
from jaxsched._check import require_related
from jaxsched._cosine import _geometric_periods
from jaxsched._math import (
    cosine_fall_parts,
    one_minus_power,
    positive,
    safe_power,
    scaled_power,
    where,
)
from jaxsched._steps import Steps

__all__ = ["Restarts", "restarts"]

SHAPES = ("cos", "tanh", "poly")


@register("restarts")
class Restarts(Schedule):
    """Decay cycles that restart at a (decaying) peak. Build with `jaxsched.restarts`."""

    init_value: jax.Array = data(float)
    cycle_steps: jax.Array = data(float, "> 0", switch=True)
    end_value: jax.Array = data(float)
    cycle_limit: jax.Array = data(float, ">= 0")
    cycle_mul: jax.Array = data(float, "> 0")
    cycle_decay: jax.Array = data(float, ">= 0")
    k_decay: jax.Array = data(float, "> 0")
    power: jax.Array = data(float, "> 0")
    lower: jax.Array = data(float)
    upper: jax.Array = data(float)
    shape: str = static(choices=SHAPES, default="cos")

    def _validate(self, factory: str) -> None:
        require_related(
            factory,
            ("lower", "upper"),
            (self.lower, self.upper),
            lambda lo, up: lo < up,
            "lower must be < upper",
        )

    def _end(self) -> jax.typing.ArrayLike:
        n, m, first = self.cycle_limit, self.cycle_mul, self.cycle_steps
        grown = where(m == 1, n, jnp.expm1(n * jnp.log(m)) / where(m == 1, 1.0, m - 1))
        return where(m < 1, jnp.nan, first * grown)  # shrinking cycles: NaN at their end

    def _value(self, steps: Steps) -> jax.Array:
        first = positive(self.cycle_steps)
        i, pos = steps.divmod(first)  # cycles of equal length
        rest, length = first - pos, first
        # Growing or shrinking cycles; a traced cycle_mul <= 0 acts as 1.
        geometric = (self.cycle_mul > 0) & (self.cycle_mul != 1)
        m = where(geometric, self.cycle_mul, 2.0)
        # Shrinking cycles all passed (the log that finds the cycle has no value from
        # there): the cycles are found for step 0 instead and not used, so that no NaN
        # enters the gradient through the branch left unselected below.
        ended = (m < 1) & (steps.t / first * (m - 1) <= -1)
        i_g, pos_g, rest_g, length_g = _geometric_periods(
            Steps.select(ended, Steps.zero(steps), steps), first, m
        )
        i = where(geometric, i_g, i)
        pos = where(geometric, pos_g, pos)
        rest = where(geometric, rest_g, rest)
        length = where(geometric, length_g, length)
        p, q = pos / length, rest / length  # each from its own end: exact near both
        # k-decay: the part done is p ** k, and 1 - p ** k is computed from q directly.
        k = self.k_decay
        p, q = where(k == 1, p, safe_power(p, k)), one_minus_power(p, q, k)
        if self.shape == "cos":
            weight = cosine_fall_parts(p, q)
        elif self.shape == "poly":
            weight = safe_power(q, self.power)
        else:  # (1 - tanh(x)) / 2 = sigmoid(-2x), exact in both tails
            weight = jax.nn.sigmoid(-2.0 * (self.lower * q + self.upper * p))
        peak = scaled_power(self.init_value, self.cycle_decay, i)
        value = self.end_value + (peak - self.end_value) * weight
        # Past the last cycle, or past the end of shrinking ones: the end.
        return where((i < self.cycle_limit) & ~ended, value, self.end_value)


@factory(Restarts)
def restarts(
    init_value: Any,
    cycle_steps: Any,
    end_value: Any = 0.0,
    cycle_limit: Any = 1,
    cycle_mul: Any = 1.0,
    cycle_decay: Any = 1.0,
    k_decay: Any = 1.0,
    power: Any = 1.0,
    lower: Any = -7.0,
    upper: Any = 3.0,
    shape: str = "cos",
) -> Restarts:
    r"""Decay cycles from a peak to ``end_value``, restarting at a lower peak, ``cycle_limit`` times.

    Cycle :math:`i` lasts :math:`L_i = T m^i` steps and peaks at :math:`\eta_0 d^i`; at
    position :math:`\tau` in it, with :math:`p = (\tau / L_i)^k` (k-decay),

    .. math::
        \eta(t) = \eta_1 + (\eta_0 d^i - \eta_1)\, w(p), \qquad
        w(p) = \begin{cases}
        (1 + \cos \pi p) / 2 & \text{"cos"} \\
        (1 - \tanh(l (1 - p) + u p)) / 2 & \text{"tanh"} \\
        (1 - p)^{q} & \text{"poly"} \end{cases}

    and :math:`\eta_1` from the end of cycle ``cycle_limit`` on. Loshchilov & Hutter,
    *SGDR* (2017) for the restarts; Hsueh et al., *Stochastic Gradient Descent with
    Hyperbolic-Tangent Decay on Classification* (2019) for "tanh"; Zhang & Li, *k-decay:
    A New Method For Learning Rate Schedule* (2020) for :math:`k`. timm's
    ``CosineLRScheduler``, ``TanhLRScheduler`` and ``PolyLRScheduler`` are this with a
    warmup (`jaxsched.compat.timm`). Unlike `cosine_restarts`, whose peaks decay
    towards ``end_value``, the peaks here are :math:`\eta_0 d^i` themselves.

    Args:
      init_value: :math:`\eta_0`, the first peak.
      cycle_steps: :math:`T > 0`, the first cycle's length.
      end_value: :math:`\eta_1`, absolute.
      cycle_limit: :math:`\ge 0`, the number of cycles; then ``end_value`` for good.
      cycle_mul: :math:`m > 0`, each cycle's length over the last's. Below 1 the
        cycles shrink and sum to :math:`T / (1 - m)` steps, from where the value is
        ``end_value``.
      cycle_decay: :math:`d \ge 0`, each peak over the last's.
      k_decay: :math:`k > 0`: above 1 the decay starts later and ends faster.
      power: :math:`q > 0`, the exponent of "poly".
      lower: :math:`l`, where "tanh" starts (``tanh(l)`` near -1: near the peak).
      upper: :math:`u > l`, where "tanh" ends.
      shape: ``"cos"``, ``"tanh"`` or ``"poly"``.

    Example:
      >>> import jaxsched
      >>> s = jaxsched.restarts(1.0, cycle_steps=10, cycle_limit=2, cycle_decay=0.5)
      >>> [round(float(s(t)), 4) for t in (0, 5, 10, 15, 20)]
      [1.0, 0.5, 0.5, 0.25, 0.0]
      >>> t = jaxsched.restarts(1.0, cycle_steps=100, shape="tanh")
      >>> [round(float(t(s)), 4) for s in (0, 70, 99)]
      [1.0, 0.5, 0.003]
    """
    return Restarts(
        init_value=init_value,
        cycle_steps=cycle_steps,
        end_value=end_value,
        cycle_limit=cycle_limit,
        cycle_mul=cycle_mul,
        cycle_decay=cycle_decay,
        k_decay=k_decay,
        power=power,
        lower=lower,
        upper=upper,
        shape=shape,
    )
