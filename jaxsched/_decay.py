"""The classic decays: constant, step, multistep, piecewise, exponential, inverse-time, polynomial.

Formulas follow optax and Keras operation by operation where their meanings
coincide, so that the values agree to the last bit; the integer parts
(``floor``, ``ceil``) go through `Steps.divmod`, which stays exact for
huge step counts.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxsched._base import Schedule, data, factory, register
from jaxsched._check import as_float, host_or_traced, on_device
from jaxsched._fields import Declared
from jaxsched._math import (
    accurate_rise,
    one_minus_power,
    phase,
    positive,
    safe_power,
    scaled_power,
    where,
)
from jaxsched._steps import Steps

__all__ = [
    "Constant",
    "Exponential",
    "InverseTime",
    "MultiStep",
    "Piecewise",
    "Poly",
    "StepDecay",
    "constant",
    "exponential",
    "inverse_time",
    "linear",
    "multistep",
    "piecewise",
    "poly",
    "step",
]


def _boundary_count(steps: Steps, boundaries: jax.Array) -> jax.Array:
    """How many boundaries the step has reached (``0 <= b <= t``), along the last axis.

    A negative boundary never counts: the factories refuse one they are given, so
    only a traced one gets here, and it is what PyTorch's ``MultiStepLR`` does with
    a negative milestone (a known boundary's test is folded away when traced: see
    `jaxsched._specialise`)."""
    reached = steps.expand().reached(boundaries)
    counts = jnp.broadcast_to(boundaries >= 0, reached.shape)
    return jnp.sum(lax.select(counts, reached, jnp.zeros_like(reached)), axis=-1)


# ----------------------------------------------------------------------- constant
@register("constant")
class Constant(Schedule):
    """``value`` at every step. Build with `jaxsched.constant`."""

    value: jax.Array = data(float)

    def _end(self) -> jax.typing.ArrayLike:
        return 0.0

    def _value(self, steps: Steps) -> jax.Array:
        return steps.broadcast(self.value)


@factory(Constant)
def constant(value: Any) -> Constant:
    r"""A constant learning rate.

    .. math:: \eta(t) = v

    Args:
      value: the learning rate.

    Example:
      >>> import jaxsched
      >>> float(jaxsched.constant(0.1)(1000))
      0.1
    """
    return Constant(value=value)


# --------------------------------------------------------------------------- step
@register("step")
class StepDecay(Schedule):
    """Multiply by ``decay_rate`` every ``step_size`` steps. Build with `jaxsched.step`."""

    init_value: jax.Array = data(float)
    step_size: jax.Array = data(float, "> 0", switch=True)
    decay_rate: jax.Array = data(float, "> 0")

    def _value(self, steps: Steps) -> jax.Array:
        n, _ = steps.divmod(positive(self.step_size))
        return scaled_power(self.init_value, self.decay_rate, self._power(n))

    def _power(self, decays: jax.Array) -> jax.Array:
        """The power of ``decay_rate`` after ``decays`` decays."""
        return decays


@factory(StepDecay)
def step(init_value: Any, step_size: Any, decay_rate: Any) -> StepDecay:
    r"""Step decay: the rate is multiplied by ``decay_rate`` every ``step_size`` steps.

    .. math:: \eta(t) = \eta_0 \, \gamma^{\lfloor t / s \rfloor}

    PyTorch's ``StepLR`` (``gamma`` is ``decay_rate``).

    Args:
      init_value: :math:`\eta_0`, the rate for the first ``step_size`` steps.
      step_size: :math:`s > 0`, steps between decays.
      decay_rate: :math:`\gamma > 0`, the factor applied at each decay.

    Example:
      >>> import jaxsched
      >>> s = jaxsched.step(init_value=0.1, step_size=30, decay_rate=0.5)
      >>> [round(float(s(t)), 4) for t in (0, 29, 30, 60)]
      [0.1, 0.1, 0.05, 0.025]
    """
    return StepDecay(init_value=init_value, step_size=step_size, decay_rate=decay_rate)


# ---------------------------------------------------------------------- multistep
@register("multistep")
class MultiStep(Schedule):
    """Multiply by ``decay_rate`` at each boundary. Build with `jaxsched.multistep`."""

    init_value: jax.Array = data(float)
    boundaries: jax.Array = data(float, "increasing", switch=True, event_ndim=1)
    decay_rate: jax.Array = data(float, "> 0")

    def _end(self) -> jax.typing.ArrayLike:
        return jnp.max(self.boundaries, axis=-1, initial=0.0)

    def _value(self, steps: Steps) -> jax.Array:
        n = _boundary_count(steps, self.boundaries)
        return scaled_power(self.init_value, self.decay_rate, n)


@factory(MultiStep)
def multistep(init_value: Any, boundaries: Any, decay_rate: Any) -> MultiStep:
    r"""Multistep decay: the rate is multiplied by ``decay_rate`` at each boundary.

    .. math:: \eta(t) = \eta_0 \, \gamma^{\#\{i : t \ge b_i\}}

    PyTorch's ``MultiStepLR`` (``milestones`` are the boundaries).

    Args:
      init_value: :math:`\eta_0`, the rate before the first boundary.
      boundaries: strictly increasing, non-negative steps :math:`b_i` (traced
        negative ones never count).
      decay_rate: :math:`\gamma > 0`.

    Example:
      >>> import jaxsched
      >>> s = jaxsched.multistep(init_value=1.0, boundaries=[10, 20], decay_rate=0.1)
      >>> [round(float(s(t)), 4) for t in (9, 10, 19, 20)]
      [1.0, 0.1, 0.1, 0.01]
    """
    return MultiStep(init_value=init_value, boundaries=boundaries, decay_rate=decay_rate)


# ---------------------------------------------------------------------- piecewise
@register("piecewise")
class Piecewise(Schedule):
    """Piecewise constant ``values`` between ``boundaries``. Build with `jaxsched.piecewise`."""

    boundaries: jax.Array = data(float, "increasing", switch=True, event_ndim=1)
    values: jax.Array = data(float, event_ndim=1)

    def _validate(self, factory: str) -> None:
        require_one_more_value(factory, self.boundaries, self.values)

    def _end(self) -> jax.typing.ArrayLike:
        return jnp.max(self.boundaries, axis=-1, initial=0.0)

    def _value(self, steps: Steps) -> jax.Array:
        return piecewise_value(steps, self.boundaries, self.values, steps.reached)


def require_one_more_value(factory: str, boundaries: jax.Array, values: jax.Array) -> None:
    """A piecewise-constant schedule has one more value than boundaries."""
    if values.shape[-1] != boundaries.shape[-1] + 1:
        raise ValueError(
            f"{factory}: values must have one more entry than boundaries, got "
            f"{values.shape[-1]} values for {boundaries.shape[-1]} boundaries"
        )


def piecewise_value(steps: Steps, boundaries, values, past) -> jax.Array:
    """``values[i + 1]`` where ``past(boundaries[i])``, for the last such ``i``; else ``values[0]``."""
    value = steps.broadcast(values[..., 0])
    for i in range(boundaries.shape[-1]):
        value = where(past(boundaries[..., i]), values[..., i + 1], value)
    return value


@factory(Piecewise)
def piecewise(boundaries: Any, values: Any) -> Piecewise:
    r"""Piecewise constant: ``values[i]`` from ``boundaries[i - 1]`` up to ``boundaries[i]``.

    .. math:: \eta(t) = v_{\#\{i : t \ge b_i\}}

    The switch to ``values[i + 1]`` happens at ``step >= boundaries[i]``.
    (Keras's ``PiecewiseConstantDecay`` switches at ``step > b``:
    `jaxsched.compat.keras.PiecewiseConstantDecay` keeps that.)

    Args:
      boundaries: strictly increasing, non-negative steps, ``n`` of them.
      values: ``n + 1`` values.

    Example:
      >>> import jaxsched
      >>> s = jaxsched.piecewise(boundaries=[100, 200], values=[0.1, 0.01, 0.001])
      >>> [float(s(t)) for t in (99, 100, 200)]
      [0.1, 0.01, 0.001]
    """
    return Piecewise(boundaries=boundaries, values=values)


# -------------------------------------------------------------------- exponential
def _optional_bound(
    factory: str, name: str, end_value: Any, declared: Declared, fields: dict[str, Any]
) -> jax.Array:
    """``end_value`` with None (or None entries) replaced by the bound that never binds
    (which depends on ``decay_rate``, converted before it)."""
    # On the host when concrete: nothing compiles.
    xp, (rate,) = host_or_traced(fields["decay_rate"])
    no_bound = xp.where(rate < 1, -xp.inf, xp.inf).astype(rate.dtype)
    if end_value is None:
        return on_device(no_bound)
    if isinstance(end_value, list | tuple) and any(v is None for v in end_value):
        mask = np.asarray([v is None for v in end_value])
        filled = as_float(factory, name, [0.0 if v is None else v for v in end_value])
        xp, (no_bound, filled) = host_or_traced(no_bound, filled)
        return on_device(xp.where(mask, no_bound, filled))
    return as_float(factory, name, end_value)


@register("exponential")
class Exponential(Schedule):
    """Exponential decay. Build with `jaxsched.exponential`."""

    init_value: jax.Array = data(float)
    decay_steps: jax.Array = data(float, "> 0", switch="staircase")
    decay_rate: jax.Array = data(float, "> 0")
    staircase: jax.Array = data(bool)
    begin: jax.Array = data(float, ">= 0", switch=True)
    end_value: jax.Array = data(_optional_bound)

    def _value(self, steps: Steps) -> jax.Array:
        s = steps.since(self.begin)
        decay_steps = positive(self.decay_steps)
        n, _ = s.divmod(decay_steps)
        p = where(self.staircase, n, s.t / decay_steps)
        value = scaled_power(self.init_value, self.decay_rate, p)
        return where(
            self.decay_rate < 1,
            jnp.maximum(value, self.end_value),
            jnp.minimum(value, self.end_value),
        )


@factory(Exponential)
def exponential(
    init_value: Any,
    decay_steps: Any,
    decay_rate: Any,
    staircase: Any = False,
    begin: Any = 0,
    end_value: Any = None,
) -> Exponential:
    r"""Exponential decay: a factor ``decay_rate`` every ``decay_steps`` steps.

    .. math::
        \eta(t) = \eta_0 \, \gamma^{p}, \qquad p = \frac{\max(t - t_0, 0)}{k}
        \quad (\lfloor p \rfloor \text{ with staircase})

    then bounded below by ``end_value`` when :math:`\gamma < 1` (above when
    :math:`\gamma \ge 1`), as in ``optax.exponential_decay``; Keras's
    ``ExponentialDecay``; PyTorch's ``ExponentialLR`` is ``decay_steps=1``.

    Args:
      init_value: :math:`\eta_0`.
      decay_steps: :math:`k > 0`, steps per factor ``decay_rate``.
      decay_rate: :math:`\gamma > 0`.
      staircase: decay in discrete jumps every ``decay_steps``.
      begin: :math:`t_0 \ge 0`, steps held at ``init_value`` first.
      end_value: the bound; None for none. In a batch, None entries mean none.

    Example:
      >>> import jaxsched
      >>> s = jaxsched.exponential(init_value=1.0, decay_steps=10, decay_rate=0.5)
      >>> [float(s(t)) for t in (0, 10, 20)]
      [1.0, 0.5, 0.25]
    """
    return Exponential(
        init_value=init_value,
        decay_steps=decay_steps,
        decay_rate=decay_rate,
        staircase=staircase,
        begin=begin,
        end_value=end_value,
    )


# ------------------------------------------------------------------- inverse time
@register("inverse_time")
class InverseTime(Schedule):
    """Inverse-time decay. Build with `jaxsched.inverse_time`."""

    init_value: jax.Array = data(float)
    decay_steps: jax.Array = data(float, "> 0", switch="staircase")
    decay_rate: jax.Array = data(float, ">= 0")
    staircase: jax.Array = data(bool)
    power: jax.Array = data(float, ">= 0")

    def _value(self, steps: Steps) -> jax.Array:
        decay_steps = positive(self.decay_steps)
        n, _ = steps.divmod(decay_steps)
        p = where(self.staircase, n, steps.t / decay_steps)
        return self.init_value / jnp.power(1 + self.decay_rate * p, self.power)


@factory(InverseTime)
def inverse_time(
    init_value: Any, decay_steps: Any, decay_rate: Any, staircase: Any = False, power: Any = 1.0
) -> InverseTime:
    r"""Inverse-time decay.

    .. math::
        \eta(t) = \frac{\eta_0}{(1 + \gamma\, p)^{q}}, \qquad p = t / k
        \quad (\lfloor p \rfloor \text{ with staircase})

    With ``power`` :math:`q = 1` this is Keras's ``InverseTimeDecay``.

    Args:
      init_value: :math:`\eta_0`.
      decay_steps: :math:`k > 0`.
      decay_rate: :math:`\gamma \ge 0`.
      staircase: decay in discrete jumps every ``decay_steps``.
      power: :math:`q \ge 0`.

    Example:
      >>> import jaxsched
      >>> s = jaxsched.inverse_time(init_value=1.0, decay_steps=10, decay_rate=1.0)
      >>> [float(s(t)) for t in (0, 10, 30)]
      [1.0, 0.5, 0.25]
    """
    return InverseTime(
        init_value=init_value,
        decay_steps=decay_steps,
        decay_rate=decay_rate,
        staircase=staircase,
        power=power,
    )


# --------------------------------------------------------------------- polynomial
@register("poly")
class Poly(Schedule):
    """Polynomial decay. Build with `jaxsched.poly` or `jaxsched.linear`."""

    init_value: jax.Array = data(float)
    end_value: jax.Array = data(float)
    decay_steps: jax.Array = data(float, "> 0", switch=True)
    power: jax.Array = data(float, "> 0")
    begin: jax.Array = data(float, ">= 0", switch=True)
    cycle: jax.Array = data(bool)

    def _end(self) -> jax.typing.ArrayLike:
        return where(self.cycle, jnp.nan, self.begin + self.decay_steps)  # cycle: restarts

    def _value(self, steps: Steps) -> jax.Array:
        s = steps.since(self.begin)
        decay_steps = positive(self.decay_steps)
        n, rem = s.divmod(decay_steps)
        # With cycle, the current cycle ends at k * ceil(tau / k): the parts left and
        # done are (k - rem) / (k * cycles) and tau / (k * cycles); at a cycle's end
        # 0 and 1, at tau = 0 1 and 0.
        cycles = jnp.maximum(n + (rem > 0), 1)
        at_start = s.t <= 0
        cycle_left = where(
            rem > 0, (decay_steps - rem) / (decay_steps * cycles), where(at_start, 1.0, 0.0)
        )
        cycle_done = where(rem > 0, s.t / (decay_steps * cycles), where(at_start, 0.0, 1.0))
        once_done, once_left = phase(s, decay_steps)
        q = where(self.cycle, cycle_left, once_left)
        p = where(self.cycle, cycle_done, once_done)
        value = (self.init_value - self.end_value) * safe_power(q, self.power) + self.end_value
        return accurate_rise(
            self.init_value, self.end_value, value, one_minus_power(q, p, self.power)
        )


@factory(Poly)
def poly(
    init_value: Any,
    end_value: Any,
    decay_steps: Any,
    power: Any = 1.0,
    begin: Any = 0,
    cycle: Any = False,
) -> Poly:
    r"""Polynomial decay from ``init_value`` to ``end_value`` over ``decay_steps``.

    .. math::
        \eta(t) = (\eta_0 - \eta_1) \left(1 - \frac{\min(\tau, k)}{k}\right)^{q} + \eta_1,
        \qquad \tau = \max(t - t_0, 0)

    then held at :math:`\eta_1`. With ``cycle`` the decay restarts: :math:`k` is
    replaced by :math:`k \lceil \tau / k \rceil` (at least :math:`k`) and
    :math:`\tau` is not clipped, as in Keras's ``PolynomialDecay``. Equals
    ``optax.polynomial_schedule`` and PyTorch's ``PolynomialLR`` (``end_value=0``).

    Args:
      init_value: :math:`\eta_0`.
      end_value: :math:`\eta_1`, absolute.
      decay_steps: :math:`k > 0`.
      power: :math:`q > 0`.
      begin: :math:`t_0 \ge 0`, steps held at ``init_value`` first.
      cycle: restart the decay every ``decay_steps``.

    Example:
      >>> import jaxsched
      >>> s = jaxsched.poly(init_value=1.0, end_value=0.0, decay_steps=10, power=2)
      >>> [float(s(t)) for t in (0, 5, 10, 20)]
      [1.0, 0.25, 0.0, 0.0]
    """
    return Poly(
        init_value=init_value,
        end_value=end_value,
        decay_steps=decay_steps,
        power=power,
        begin=begin,
        cycle=cycle,
    )


@factory(Poly)
def linear(init_value: Any, end_value: Any, decay_steps: Any, begin: Any = 0) -> Poly:
    r"""Linear decay (or growth) from ``init_value`` to ``end_value``: `poly` with ``power=1``.

    .. math::
        \eta(t) = \eta_0 + (\eta_1 - \eta_0)\, \frac{\min(\max(t - t_0, 0), k)}{k}

    Equals ``optax.linear_schedule``; PyTorch's ``LinearLR`` scales ``lr``
    by ``start_factor`` to ``end_factor``.

    Example:
      >>> import jaxsched
      >>> s = jaxsched.linear(init_value=1.0, end_value=0.5, decay_steps=10)
      >>> [float(s(t)) for t in (0, 5, 10, 11)]
      [1.0, 0.75, 0.5, 0.5]
    """
    return Poly(
        init_value=init_value,
        end_value=end_value,
        decay_steps=decay_steps,
        power=1.0,
        begin=begin,
        cycle=False,
    )
