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

from typing import Any as _Any

import jax as _jax
import jax.numpy as _jnp
import numpy as _np

from jaxsched import _decay
from jaxsched._base import Schedule as _Schedule
from jaxsched._base import data as _data
from jaxsched._base import factory as _factory
from jaxsched._base import register as _register
from jaxsched._check import as_choice as _as_choice
from jaxsched._check import as_float as _as_float
from jaxsched._check import concrete as _concrete
from jaxsched._check import host_or_traced as _host_or_traced
from jaxsched._check import require as _require
from jaxsched._compose import Warmup as _Warmup
from jaxsched._compose import warmup as _warmup
from jaxsched._cosine import Cosine as _Cosine
from jaxsched._cosine import CosineRestarts as _CosineRestarts
from jaxsched._cosine import cosine as _cosine
from jaxsched._plateau import Plateau as _Plateau
from jaxsched._plateau import plateau as _plateau
from jaxsched._steps import Steps as _Steps
from jaxsched.compat._names import speaks_as as _speaks_as

__all__ = [
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "ReduceLROnPlateau",
]


def _is_zero(value: _Any) -> bool:
    """Whether ``value`` is given on the host as the scalar 0 (a batch or a tracer is not)."""
    c = _concrete(value)
    return c is not None and c.ndim == 0 and c.dtype.kind in "iuf" and float(c) == 0.0


@_factory(None, name="keras.ExponentialDecay")
@_speaks_as("keras.ExponentialDecay", init_value="initial_learning_rate")
def ExponentialDecay(
    initial_learning_rate: _Any,
    decay_steps: _Any,
    decay_rate: _Any,
    staircase: _Any = False,
    name: str = "ExponentialDecay",
) -> "_decay.Exponential | _decay.Piecewise | _PiecewiseConstant":
    """``keras.optimizers.schedules.ExponentialDecay``: ``lr * rate ** (step / decay_steps)``.

    ``decay_rate=0`` is taken as Keras takes it (``0 ** 0 = 1``): the initial rate at
    step 0 and 0 after it, or, with ``staircase``, 0 from step ``decay_steps`` on (a
    piecewise-constant schedule; the formulas refuse a rate of 0).

    >>> s = ExponentialDecay(0.5, decay_steps=2, decay_rate=0.0, staircase=True)
    >>> [float(s(t)) for t in (0, 1, 2)]
    [0.5, 0.5, 0.0]
    """
    stairs = _concrete(staircase)
    if _is_zero(decay_rate) and stairs is not None and stairs.ndim == 0:
        f = "keras.ExponentialDecay"
        lr = _as_float(f, "initial_learning_rate", initial_learning_rate)
        steps = _as_float(f, "decay_steps", decay_steps)
        _require(f, "decay_steps", steps, lambda x: x > 0, "> 0")
        xp, (rate, steps) = _host_or_traced(lr, steps)
        values = xp.stack([rate, xp.zeros_like(rate)], axis=-1)
        if stairs:  # floor(step / decay_steps) >= 1
            return _decay.piecewise(boundaries=xp.expand_dims(steps, -1), values=values)
        return _PiecewiseConstant(boundaries=[0.0], values=values)  # step > 0
    return _decay.exponential(
        init_value=initial_learning_rate,
        decay_steps=decay_steps,
        decay_rate=decay_rate,
        staircase=staircase,
    )


@_factory(None, name="keras.InverseTimeDecay")
@_speaks_as("keras.InverseTimeDecay", init_value="initial_learning_rate")
def InverseTimeDecay(
    initial_learning_rate: _Any,
    decay_steps: _Any,
    decay_rate: _Any,
    staircase: _Any = False,
    name: str = "InverseTimeDecay",
) -> _decay.InverseTime:
    """``keras.optimizers.schedules.InverseTimeDecay``: ``lr / (1 + rate * step / decay_steps)``."""
    return _decay.inverse_time(
        init_value=initial_learning_rate,
        decay_steps=decay_steps,
        decay_rate=decay_rate,
        staircase=staircase,
    )


@_factory(None, name="keras.PolynomialDecay")
@_speaks_as(
    "keras.PolynomialDecay", init_value="initial_learning_rate", end_value="end_learning_rate"
)
def PolynomialDecay(
    initial_learning_rate: _Any,
    decay_steps: _Any,
    end_learning_rate: _Any = 0.0001,
    power: _Any = 1.0,
    cycle: _Any = False,
    name: str = "PolynomialDecay",
) -> _decay.Poly | _decay.Constant:
    """``keras.optimizers.schedules.PolynomialDecay`` (note the default end of 0.0001).

    ``power=0`` is taken as Keras takes it (``0 ** 0 = 1``): the initial rate at every
    step (a constant schedule; the formula refuses a power of 0).
    """
    if _is_zero(power):
        f = "keras.PolynomialDecay"
        _require(f, "decay_steps", _as_float(f, "decay_steps", decay_steps), lambda x: x > 0, "> 0")
        return _decay.constant(_as_float(f, "initial_learning_rate", initial_learning_rate))
    return _decay.poly(
        init_value=initial_learning_rate,
        end_value=end_learning_rate,
        decay_steps=decay_steps,
        power=power,
        cycle=cycle,
    )


@_register("keras.PiecewiseConstantDecay")
class _PiecewiseConstant(_Schedule):
    """Keras's piecewise constant, which switches at ``step > boundary``."""

    boundaries: _jax.Array = _data(float, "non-decreasing", switch=True, event_ndim=1)
    values: _jax.Array = _data(float, event_ndim=1)

    def _validate(self, factory: str) -> None:
        _decay.require_one_more_value(factory, self.boundaries, self.values)

    def _end(self) -> _jax.typing.ArrayLike:
        return _jnp.floor(_jnp.max(self.boundaries, axis=-1, initial=-1.0)) + 1  # step > b

    def _value(self, steps: _Steps) -> _jax.Array:
        return _decay.piecewise_value(steps, self.boundaries, self.values, steps.passed)


@_factory(_PiecewiseConstant, name="keras.PiecewiseConstantDecay")
def PiecewiseConstantDecay(
    boundaries: _Any, values: _Any, name: str = "PiecewiseConstantDecay"
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
    return _PiecewiseConstant(boundaries=boundaries, values=values)


@_factory(None, name="keras.CosineDecay")
@_speaks_as("keras.CosineDecay", init_value="initial_learning_rate", end_value="alpha")
def CosineDecay(
    initial_learning_rate: _Any,
    decay_steps: _Any,
    alpha: _Any = 0.0,
    name: str = "CosineDecay",
    warmup_target: _Any = None,
    warmup_steps: _Any = 0,
) -> _Cosine | _Warmup:
    """``keras.optimizers.schedules.CosineDecay``, with its optional linear warmup.

    Without ``warmup_target``: a cosine from ``initial_learning_rate`` down to
    ``alpha * initial_learning_rate``. With it: a linear warmup from
    ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps``, then
    a cosine from ``warmup_target`` down to ``alpha * warmup_target``.
    """
    f = "keras.CosineDecay"
    alpha = _as_float(f, "alpha", alpha)
    if warmup_target is None:
        init = _as_float(f, "initial_learning_rate", initial_learning_rate)
        _, (a, i) = _host_or_traced(alpha, init)
        return _cosine(init_value=init, decay_steps=decay_steps, end_value=a * i)
    target = _as_float(f, "warmup_target", warmup_target)
    _, (a, t) = _host_or_traced(alpha, target)
    decay = _cosine(init_value=target, decay_steps=decay_steps, end_value=a * t)
    return _warmup(decay, warmup_steps=warmup_steps, init_value=initial_learning_rate)


@_factory(None, name="keras.CosineDecayRestarts")
@_speaks_as("keras.CosineDecayRestarts", init_value="initial_learning_rate", end_value="alpha")
def CosineDecayRestarts(
    initial_learning_rate: _Any,
    first_decay_steps: _Any,
    t_mul: _Any = 2.0,
    m_mul: _Any = 1.0,
    alpha: _Any = 0.0,
    name: str = "SGDRDecay",
) -> _CosineRestarts:
    """``keras.optimizers.schedules.CosineDecayRestarts``: SGDR with ``end = alpha * lr``.

    Every period starts exactly at its first step here. Keras finds the period of a step
    as ``floor(log(1 - t / first_decay_steps * (1 - t_mul)) / log(t_mul))``, which can
    round just below a whole number exactly where a period starts; Keras then gives the
    previous period's end for that step: ``CosineDecayRestarts(1.0, 10, t_mul=2.0)`` at
    ``t=81910`` is 0.0 in Keras (float32) and 1.0 here (in float64, Keras misses 70, 630
    and 1270). Every other step agrees.

    As in Keras, ``t_mul`` may be below 1, down to 0 (`jaxsched.cosine_restarts` refuses
    that): the periods shrink, ``first_decay_steps * t_mul**i``, and sum to
    ``first_decay_steps / (1 - t_mul)`` steps; from there on the schedule is NaN,
    as Keras's is (for ``t_mul=0``, from the end of the first period). Such a schedule is a ``keras.cosine_restarts``, which is what
    its `to_dict` and `repr` name, for `from_dict` and `parse`.

    >>> s = CosineDecayRestarts(1.0, first_decay_steps=10, t_mul=0.5)
    >>> [round(float(s(t)), 4) for t in (0, 5, 10, 15, 20)]  # periods of 10, 5, 2.5, ...
    [1.0, 0.5, 1.0, 1.0, nan]
    """
    f = "keras.CosineDecayRestarts"
    init = _as_float(f, "initial_learning_rate", initial_learning_rate)
    alpha = _as_float(f, "alpha", alpha)
    _, (a, i) = _host_or_traced(alpha, init)
    t_mul = _as_float(f, "t_mul", t_mul)
    shrinking = _concrete(t_mul)
    cls = (
        _ShrinkingRestarts if shrinking is not None and _np.any(shrinking < 1) else _CosineRestarts
    )
    return cls(
        init_value=init,
        first_decay_steps=first_decay_steps,
        t_mul=t_mul,
        m_mul=m_mul,
        end_value=a * i,
    )


@_register("keras.cosine_restarts")
class _ShrinkingRestarts(_CosineRestarts):
    """`CosineRestarts` whose ``t_mul`` may be below 1, as Keras's: periods that shrink
    and end at ``first_decay_steps / (1 - t_mul)``, NaN from there (for ``t_mul=0``,
    after the first period). Rebuilt from its fields (`to_dict`, `repr`) by the class
    itself: `jaxsched.cosine_restarts` with ``t_mul >= 0`` allowed."""

    t_mul: _jax.Array = _data(float, ">= 0")

    def _value(self, steps: _Steps) -> _jax.Array:
        # t_mul = 0: the general formula treats it as 1 (equal periods); only the first
        # period is Keras's, whose log(1 - t / first_decay_steps) / log(0) has no value
        # from its end on.
        value = super()._value(steps)
        over = (self.t_mul == 0) & steps.reached(self.first_decay_steps)
        return _jnp.where(over, _jnp.nan, value)


_factory(_ShrinkingRestarts, name="keras.cosine_restarts")(_ShrinkingRestarts)


@_speaks_as(
    "keras.ReduceLROnPlateau",
    init_value="initial_learning_rate",
    threshold="min_delta",
    min_value="min_lr",
)
def ReduceLROnPlateau(
    initial_learning_rate: _Any,
    monitor: str = "val_loss",
    factor: _Any = 0.1,
    patience: _Any = 10,
    verbose: int = 0,
    mode: str = "auto",
    min_delta: _Any = 1e-4,
    cooldown: _Any = 0,
    min_lr: _Any = 0.0,
) -> _Plateau:
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
    _as_choice(f, "mode", mode, ("min", "max"))
    min_delta = _as_float(f, "min_delta", min_delta)
    _, (delta,) = _host_or_traced(min_delta)
    return _plateau(
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
