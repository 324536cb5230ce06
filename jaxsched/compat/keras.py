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

from jaxsched import _decay
from jaxsched._base import Schedule, data, factory, register
from jaxsched._check import (
    as_choice,
    as_float,
    as_piecewise,
    host_or_traced,
    require_nondecreasing,
)
from jaxsched._compose import Warmup, warmup
from jaxsched._cosine import Cosine, CosineRestarts, cosine, cosine_restarts
from jaxsched._plateau import Plateau, plateau
from jaxsched._steps import Steps
from jaxsched.compat._names import speaks_as

__all__ = [
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "ReduceLROnPlateau",
]


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


@speaks_as("keras.CosineDecayRestarts", init_value="initial_learning_rate", end_value="alpha")
def CosineDecayRestarts(
    initial_learning_rate: Any,
    first_decay_steps: Any,
    t_mul: Any = 2.0,
    m_mul: Any = 1.0,
    alpha: Any = 0.0,
    name: str = "SGDRDecay",
) -> CosineRestarts:
    """``keras.optimizers.schedules.CosineDecayRestarts``: SGDR with ``end = alpha * lr``."""
    init = as_float("keras.CosineDecayRestarts", "initial_learning_rate", initial_learning_rate)
    alpha = as_float("keras.CosineDecayRestarts", "alpha", alpha)
    _, (a, i) = host_or_traced(alpha, init)
    return cosine_restarts(
        init_value=init,
        first_decay_steps=first_decay_steps,
        t_mul=t_mul,
        m_mul=m_mul,
        end_value=a * i,
    )


for _fn in (
    ExponentialDecay,
    InverseTimeDecay,
    PolynomialDecay,
    PiecewiseConstantDecay,
    CosineDecay,
    CosineDecayRestarts,
):
    factory(None, name=f"keras.{_fn.__name__}", event_ndims={"boundaries": 1, "values": 1})(_fn)


@speaks_as(
    "keras.ReduceLROnPlateau",
    init_value="initial_learning_rate",
    threshold="min_delta",
    min_value="min_lr",
)
def ReduceLROnPlateau(
    initial_learning_rate: Any,
    monitor: str = "val_loss",
    factor: Any = 0.1,
    patience: Any = 10,
    verbose: int = 0,
    mode: str = "auto",
    min_delta: Any = 1e-4,
    cooldown: Any = 0,
    min_lr: Any = 0.0,
) -> Plateau:
    """``keras.callbacks.ReduceLROnPlateau`` as a `jaxsched.Plateau` controller.

    ``initial_learning_rate`` is the optimizer's rate, which the callback reads;
    ``update(state, metric)`` is one ``on_epoch_end`` with ``metric`` as the
    monitored value, and ``value(state)`` the optimizer's rate after it. Keras's
    rules are kept: an improvement is ``metric - min_delta > best`` (``"max"``) or
    ``metric + min_delta < best`` (``"min"``), the cooldown runs down before
    the epoch counts, the rate is reduced once ``patience`` epochs in a row
    (out of cooldown) did not improve, and only while it is above ``min_lr``.
    ``mode="auto"`` means ``"min"`` for a ``monitor`` that is a loss (``"loss"``,
    ``"val_loss"``); for other metrics give ``mode`` (Keras reads it from the
    model's metrics). ``verbose`` is accepted and ignored.

    Example:
      >>> c = ReduceLROnPlateau(0.1, factor=0.5, patience=2)
      >>> state = c.init()
      >>> for loss in [1.0, 1.0, 1.0]:
      ...     state = c.update(state, loss)
      >>> float(c.value(state))
      0.05
    """
    f = "keras.ReduceLROnPlateau"
    if mode == "auto":
        if monitor.removeprefix("val_") != "loss":
            raise ValueError(
                f"{f}: mode='auto' cannot tell whether {monitor!r} should fall or rise "
                "without a model; give mode='min' or mode='max'"
            )
        mode = "min"
    as_choice(f, "mode", mode, ("min", "max"))
    min_delta = as_float(f, "min_delta", min_delta)
    _, (delta,) = host_or_traced(min_delta)
    return plateau(
        init_value=initial_learning_rate,
        mode=mode,
        factor=factor,
        patience=patience,
        threshold=abs(delta),
        threshold_mode="abs",
        cooldown=cooldown,
        min_value=min_lr,
        eps=0.0,
        rules="keras",
    )
