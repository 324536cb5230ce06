"""Keras-exact schedules: ``keras.optimizers.schedules`` semantics as jaxsched schedules.

Each constructor takes the keyword arguments of the Keras class of the same
name (``name`` is accepted and ignored) and returns a schedule equal to
``keras.optimizers.schedules.<Class>(**kwargs)(step)``. Keras's oddities are
kept: `PiecewiseConstantDecay` switches at ``step > boundary``, ``alpha`` is a
fraction of the initial rate, and `PolynomialDecay` ends at ``0.0001`` by default.

Example:
  >>> from jaxsched.compat import keras as schedules
  >>> s = schedules.PiecewiseConstantDecay(boundaries=[100], values=[0.1, 0.01])
  >>> [float(s(t)) for t in (100, 101)]
  [0.1, 0.01]
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxsched import _decay
from jaxsched._base import Schedule, data, factory, register
from jaxsched._check import (
    as_float,
    as_piecewise,
    concrete,
    host_or_traced,
    require_nondecreasing,
)
from jaxsched._compose import Warmup, warmup
from jaxsched._cosine import Cosine, CosineRestarts, cosine, restarts_fields
from jaxsched._steps import Steps
from jaxsched.compat._names import speaks_as

__all__ = [
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
]


@factory(None, name="keras.ExponentialDecay")
@speaks_as("keras.ExponentialDecay", init_value="initial_learning_rate")
def ExponentialDecay(
    initial_learning_rate: Any,
    decay_steps: Any,
    decay_rate: Any,
    staircase: Any = False,
    name: str = "ExponentialDecay",
) -> _decay.Exponential:
    """``keras.optimizers.schedules.ExponentialDecay``: ``lr * rate ** (step / decay_steps)``."""
    return _decay.exponential(
        init_value=initial_learning_rate,
        decay_steps=decay_steps,
        decay_rate=decay_rate,
        staircase=staircase,
    )


@factory(None, name="keras.InverseTimeDecay")
@speaks_as("keras.InverseTimeDecay", init_value="initial_learning_rate")
def InverseTimeDecay(
    initial_learning_rate: Any,
    decay_steps: Any,
    decay_rate: Any,
    staircase: Any = False,
    name: str = "InverseTimeDecay",
) -> _decay.InverseTime:
    """``keras.optimizers.schedules.InverseTimeDecay``: ``lr / (1 + rate * step / decay_steps)``."""
    return _decay.inverse_time(
        init_value=initial_learning_rate,
        decay_steps=decay_steps,
        decay_rate=decay_rate,
        staircase=staircase,
    )


@factory(None, name="keras.PolynomialDecay")
@speaks_as(
    "keras.PolynomialDecay", init_value="initial_learning_rate", end_value="end_learning_rate"
)
def PolynomialDecay(
    initial_learning_rate: Any,
    decay_steps: Any,
    end_learning_rate: Any = 0.0001,
    power: Any = 1.0,
    cycle: Any = False,
    name: str = "PolynomialDecay",
) -> _decay.Poly:
    """``keras.optimizers.schedules.PolynomialDecay`` (note the default end of 0.0001)."""
    return _decay.poly(
        init_value=initial_learning_rate,
        end_value=end_learning_rate,
        decay_steps=decay_steps,
        power=power,
        cycle=cycle,
    )


@register("keras.PiecewiseConstantDecay")
class _PiecewiseConstant(Schedule):
    """Keras's piecewise constant, which switches at ``step > boundary``."""

    boundaries: jax.Array = data(event_ndim=1)
    values: jax.Array = data(event_ndim=1)

    def _end(self) -> jax.typing.ArrayLike:
        return jnp.floor(jnp.max(self.boundaries, axis=-1, initial=-1.0)) + 1  # step > b

    def _value(self, steps: Steps) -> jax.Array:
        return _decay.piecewise_value(steps, self.boundaries, self.values, steps.passed)


@factory(_PiecewiseConstant, name="keras.PiecewiseConstantDecay")
def PiecewiseConstantDecay(
    boundaries: Any, values: Any, name: str = "PiecewiseConstantDecay"
) -> _PiecewiseConstant:
    r"""``keras.optimizers.schedules.PiecewiseConstantDecay``: ``values[i + 1]`` once
    ``step > boundaries[i]``.

    .. math:: \eta(t) = v_{\#\{i : t > b_i\}}

    Unlike `jaxsched.piecewise` (``step >= boundary``), the boundary step
    itself keeps the earlier value, as in Keras, exactly at any int32 step for
    a boundary the dtype holds (in float32, every whole step up to 2**24; a
    boundary it cannot hold is rounded, with a warning).
    As in Keras, boundaries may be negative (passed from the start) or
    repeated (the value between them is never used); they must not decrease.
    """
    boundaries, values = as_piecewise(
        "keras.PiecewiseConstantDecay", boundaries, values, require_nondecreasing
    )
    return _PiecewiseConstant(boundaries=boundaries, values=values)


@factory(None, name="keras.CosineDecay")
@speaks_as("keras.CosineDecay", init_value="initial_learning_rate", end_value="alpha")
def CosineDecay(
    initial_learning_rate: Any,
    decay_steps: Any,
    alpha: Any = 0.0,
    name: str = "CosineDecay",
    warmup_target: Any = None,
    warmup_steps: Any = 0,
) -> Cosine | Warmup:
    """``keras.optimizers.schedules.CosineDecay``, with its optional linear warmup.

    Without ``warmup_target``: a cosine from ``initial_learning_rate`` down to
    ``alpha * initial_learning_rate``. With it: a linear warmup from
    ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps``, then
    a cosine from ``warmup_target`` down to ``alpha * warmup_target``.
    """
    f = "keras.CosineDecay"
    alpha = as_float(f, "alpha", alpha)
    if warmup_target is None:
        init = as_float(f, "initial_learning_rate", initial_learning_rate)
        _, (a, i) = host_or_traced(alpha, init)
        return cosine(init_value=init, decay_steps=decay_steps, end_value=a * i)
    target = as_float(f, "warmup_target", warmup_target)
    _, (a, t) = host_or_traced(alpha, target)
    decay = cosine(init_value=target, decay_steps=decay_steps, end_value=a * t)
    return warmup(decay, warmup_steps=warmup_steps, init_value=initial_learning_rate)


@factory(None, name="keras.CosineDecayRestarts")
@speaks_as("keras.CosineDecayRestarts", init_value="initial_learning_rate", end_value="alpha")
def CosineDecayRestarts(
    initial_learning_rate: Any,
    first_decay_steps: Any,
    t_mul: Any = 2.0,
    m_mul: Any = 1.0,
    alpha: Any = 0.0,
    name: str = "SGDRDecay",
) -> CosineRestarts:
    """``keras.optimizers.schedules.CosineDecayRestarts``: SGDR with ``end = alpha * lr``.

    As in Keras, ``t_mul`` may be below 1 (`jaxsched.cosine_restarts` refuses that):
    the periods shrink, ``first_decay_steps * t_mul**i``, and sum to
    ``first_decay_steps / (1 - t_mul)`` steps; from there on the schedule is NaN,
    as Keras's is. Such a schedule is a ``keras.cosine_restarts``, which is what
    its `to_dict` and `repr` name, for `from_dict` and `parse`.

    >>> s = CosineDecayRestarts(1.0, first_decay_steps=10, t_mul=0.5)
    >>> [round(float(s(t)), 4) for t in (0, 5, 10, 15, 20)]  # periods of 10, 5, 2.5, ...
    [1.0, 0.5, 1.0, 1.0, nan]
    """
    init = as_float("keras.CosineDecayRestarts", "initial_learning_rate", initial_learning_rate)
    alpha = as_float("keras.CosineDecayRestarts", "alpha", alpha)
    _, (a, i) = host_or_traced(alpha, init)
    # Checked as cosine_restarts' fields, whose messages speaks_as puts in Keras's words.
    fields = restarts_fields(
        "cosine_restarts", init, first_decay_steps, t_mul, m_mul, a * i, shrink=True
    )
    shrinking = concrete(fields["t_mul"])
    if shrinking is not None and np.any(shrinking < 1):
        return _ShrinkingRestarts(**fields)
    return CosineRestarts(**fields)


@register("keras.cosine_restarts")
class _ShrinkingRestarts(CosineRestarts):
    """`CosineRestarts` whose ``t_mul`` may be below 1, as Keras's: periods that shrink
    and end at ``first_decay_steps / (1 - t_mul)``, NaN from there."""


@factory(_ShrinkingRestarts, name="keras.cosine_restarts")
def _shrinking_restarts(
    init_value: Any,
    first_decay_steps: Any,
    t_mul: Any = 2.0,
    m_mul: Any = 1.0,
    end_value: Any = 0.0,
) -> _ShrinkingRestarts:
    """A `CosineDecayRestarts` with ``t_mul < 1`` rebuilt from its fields (`to_dict`,
    `repr`): `jaxsched.cosine_restarts` with ``t_mul > 0`` allowed."""
    fields = restarts_fields(
        "keras.cosine_restarts", init_value, first_decay_steps, t_mul, m_mul, end_value, True
    )
    return _ShrinkingRestarts(**fields)
