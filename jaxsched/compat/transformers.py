"""Hugging Face-exact schedules: ``transformers.get_scheduler`` semantics as jaxsched schedules.

``get_scheduler(name, lr, num_warmup_steps, num_training_steps, scheduler_specific_kwargs)``
takes the arguments of ``transformers.get_scheduler`` with the optimizer replaced by its
learning rate ``lr``, and returns a schedule whose value at ``t`` is the rate after ``t``
calls of ``scheduler.step()``. Each step-driven ``SchedulerType`` is also a function of
this module (``transformers.cosine_with_min_lr(lr, num_warmup_steps=..., ...)``, with the
``scheduler_specific_kwargs`` as keywords), which spec strings name. Hugging Face's
corners are kept: ``cosine`` climbs back up after ``num_training_steps``,
``cosine_warmup_with_min_lr`` runs one step ahead of ``cosine_with_min_lr``. Step counts
must be whole numbers, as Hugging Face's are.

Example:
  >>> from jaxsched.compat import transformers
  >>> s = transformers.get_scheduler("linear", 1.0, num_warmup_steps=10, num_training_steps=110)
  >>> [float(s(t)) for t in (0, 5, 10, 60, 110, 200)]
  [0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
"""

from __future__ import annotations

import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxsched import _decay
from jaxsched._base import Schedule, data, factory, register, static
from jaxsched._check import (
    as_choice,
    as_float,
    concrete,
    host_or_traced,
    outside_stacklevel,
    require,
    require_related,
)
from jaxsched._compose import Join, Warmup, join, warmup
from jaxsched._cosine import cosine_restarts
from jaxsched._decay import inverse_time, poly
from jaxsched._interpolate import PiecewiseInterpolate, piecewise_interpolate
from jaxsched._math import interpolate
from jaxsched._steps import Steps
from jaxsched.compat._names import speaks_as
from jaxsched.compat.torch import CosineAnnealingLR, _CosineAnnealing

__all__ = [
    "constant",
    "constant_with_warmup",
    "cosine",
    "cosine_warmup_with_min_lr",
    "cosine_with_min_lr",
    "cosine_with_restarts",
    "get_scheduler",
    "inverse_sqrt",
    "linear",
    "polynomial",
    "warmup_stable_decay",
]

_SHAPES = ("linear", "cosine", "1-sqrt")


def _steps(label: str, name: str, value: Any, negative: bool = False) -> jax.Array:
    """A step count: a whole number (>= 0 unless ``negative``) where it is concrete."""
    if value is None:
        raise ValueError(f"{label}: {name} is required")
    arr = as_float(label, name, value, switch=True)
    c = concrete(arr)
    if c is not None and not np.all(c == np.round(c)):
        raise ValueError(f"{label}: {name} must be whole numbers, got {value!r}")
    if not negative:
        require(label, name, arr, lambda x: x >= 0, ">= 0")
    return arr


def _cycles(label: str, num_cycles: Any) -> jax.Array:
    c = as_float(label, "num_cycles", num_cycles)
    require(label, "num_cycles", c, lambda x: x > 0, "> 0")
    return c


def _span(w: jax.Array, n: jax.Array) -> Any:
    """``max(1, n - w)``: the decay's length, as Hugging Face divides by it."""
    xp, (w, n) = host_or_traced(w, n)
    return xp.maximum(n - w, 1)


@speaks_as("transformers.constant", value="lr")
def constant(
    lr: Any, num_warmup_steps: Any = None, num_training_steps: Any = None
) -> _decay.Constant:
    r"""``"constant"`` (``get_constant_schedule``): :math:`\eta(t) = \eta`. The step counts
    are ignored, as ``get_scheduler`` ignores them.

    Example:
      >>> from jaxsched.compat import transformers
      >>> float(transformers.constant(0.1)(1000))
      0.1
    """
    return _decay.constant(lr)


@speaks_as("transformers.constant_with_warmup")
def constant_with_warmup(lr: Any, num_warmup_steps: Any, num_training_steps: Any = None) -> Warmup:
    r"""``"constant_with_warmup"``: a line from 0 to ``lr`` over :math:`w` steps, then ``lr``.

    .. math:: \eta(t) = \eta \min(t / w, 1)

    This is `jaxsched.warmup` of `jaxsched.constant`.

    Example:
      >>> from jaxsched.compat import transformers
      >>> s = transformers.constant_with_warmup(1.0, num_warmup_steps=4)
      >>> [float(s(t)) for t in (0, 2, 4, 9)]
      [0.0, 0.5, 1.0, 1.0]
    """
    f = "transformers.constant_with_warmup"
    w = _steps(f, "num_warmup_steps", num_warmup_steps)
    return warmup(_decay.constant(as_float(f, "lr", lr)), warmup_steps=w)


@speaks_as("transformers.linear", boundaries="num_warmup_steps", values="lr")
def linear(lr: Any, num_warmup_steps: Any, num_training_steps: Any) -> PiecewiseInterpolate:
    r"""``"linear"`` (``get_linear_schedule_with_warmup``): up from 0 over :math:`w` steps,
    then down to 0 at :math:`N`, then 0.

    .. math::
        \eta(t) = \eta \begin{cases} t / w & t < w \\
        \max\left(0, \frac{N - t}{\max(1, N - w)}\right) & t \ge w \end{cases}

    With :math:`N \le w` the rate is 0 from :math:`w` on, as in Hugging Face. This is
    `jaxsched.piecewise_interpolate` through :math:`(0, 0), (w, \eta), (N, 0)`.

    Example:
      >>> from jaxsched.compat import transformers
      >>> s = transformers.linear(1.0, num_warmup_steps=10, num_training_steps=30)
      >>> [float(s(t)) for t in (5, 10, 20, 30, 40)]
      [0.5, 1.0, 0.5, 0.0, 0.0]
    """
    f = "transformers.linear"
    lr = as_float(f, "lr", lr)
    w = _steps(f, "num_warmup_steps", num_warmup_steps)
    n = _steps(f, "num_training_steps", num_training_steps)
    xp, (rate, w, n) = host_or_traced(lr, w, n)
    zero = xp.zeros_like(rate)
    end = xp.maximum(n, w)
    boundaries = xp.stack(xp.broadcast_arrays(zero, w, w, end), axis=-1)
    values = xp.stack(xp.broadcast_arrays(zero, rate, xp.where(n > w, rate, zero), zero), axis=-1)
    return piecewise_interpolate(boundaries=boundaries, values=values)


@speaks_as("transformers.cosine")
def cosine(
    lr: Any, num_warmup_steps: Any, num_training_steps: Any, num_cycles: Any = 0.5
) -> Warmup:
    r"""``"cosine"`` (``get_cosine_schedule_with_warmup``): up from 0 over :math:`w` steps,
    then :math:`c` cosine waves over the :math:`\max(1, N - w)` steps that follow.

    .. math::
        \eta(t) = \eta\, \frac{1 + \cos(2 \pi c\, (t - w) / \max(1, N - w))}{2}
        \quad (t \ge w)

    for every :math:`t`: after :math:`N` the rate climbs back up, as Hugging Face's
    does. This is `jaxsched.warmup` of ``torch.CosineAnnealingLR`` with
    ``T_max = max(1, N - w) / (2c)``. ``num_cycles`` must be > 0.

    Example:
      >>> from jaxsched.compat import transformers
      >>> s = transformers.cosine(1.0, num_warmup_steps=10, num_training_steps=110)
      >>> [round(float(s(t)), 4) for t in (5, 10, 60, 110, 160)]
      [0.5, 1.0, 0.5, 0.0, 0.5]
    """
    f = "transformers.cosine"
    return _cosine(f, lr, num_warmup_steps, num_training_steps, num_cycles, None, 0.0)


def _one_floor(f: str, min_lr: Any, min_lr_rate: Any) -> None:
    """Refuse both or neither of ``min_lr`` and ``min_lr_rate`` (the cosine's floor)."""
    if min_lr is not None and min_lr_rate is not None:
        raise ValueError(f"{f}: give only one of min_lr or min_lr_rate")
    if min_lr is None and min_lr_rate is None:
        raise ValueError(f"{f}: give one of min_lr or min_lr_rate")


def _cosine(f, lr, num_warmup_steps, num_training_steps, num_cycles, min_lr, min_lr_rate):
    lr = as_float(f, "lr", lr)
    w = _steps(f, "num_warmup_steps", num_warmup_steps)
    n = _steps(f, "num_training_steps", num_training_steps)
    c = _cycles(f, num_cycles)
    _one_floor(f, min_lr, min_lr_rate)
    if min_lr is not None:
        eta_min = as_float(f, "min_lr", min_lr)
        require(f, "min_lr", eta_min, lambda x: x >= 0, ">= 0")
    else:
        rate = as_float(f, "min_lr_rate", min_lr_rate)
        require(f, "min_lr_rate", rate, lambda x: x >= 0, ">= 0")
        _, (base, rate) = host_or_traced(lr, rate)
        eta_min = base * rate
    _, (span, c) = host_or_traced(_span(w, n), c)
    annealing = CosineAnnealingLR(lr, T_max=span / (2 * c), eta_min=eta_min)
    return warmup(annealing, warmup_steps=w)


@speaks_as("transformers.cosine_with_min_lr")
def cosine_with_min_lr(
    lr: Any,
    num_warmup_steps: Any,
    num_training_steps: Any,
    num_cycles: Any = 0.5,
    min_lr: Any = None,
    min_lr_rate: Any = None,
) -> Warmup:
    r"""``"cosine_with_min_lr"``: `cosine` down to ``min_lr`` (or ``min_lr_rate * lr``)
    instead of 0.

    .. math::
        \eta(t) = \eta_{min} + (\eta - \eta_{min})\,
        \frac{1 + \cos(2 \pi c\, (t - w) / \max(1, N - w))}{2} \quad (t \ge w)

    Exactly one of ``min_lr`` and ``min_lr_rate`` must be given, as in Hugging Face.

    Example:
      >>> from jaxsched.compat import transformers
      >>> s = transformers.cosine_with_min_lr(1.0, 0, num_training_steps=100, min_lr=0.1)
      >>> [round(float(s(t)), 4) for t in (0, 50, 100)]
      [1.0, 0.55, 0.1]
    """
    f = "transformers.cosine_with_min_lr"
    return _cosine(f, lr, num_warmup_steps, num_training_steps, num_cycles, min_lr, min_lr_rate)


@speaks_as("transformers.cosine_with_restarts")
def cosine_with_restarts(
    lr: Any, num_warmup_steps: Any, num_training_steps: Any, num_cycles: Any = 1
) -> Join:
    r"""``"cosine_with_restarts"``: up from 0 over :math:`w` steps, then :math:`c` cosine
    decays with hard restarts over :math:`L = \max(1, N - w)` steps, then 0.

    .. math::
        \eta(t) = \eta\, \frac{1 + \cos(\pi \,((c\, (t - w) / L) \bmod 1))}{2}
        \quad (w \le t < w + L)

    This is `jaxsched.cosine_restarts` (periods of :math:`L / c`) in `jaxsched.warmup`,
    joined to 0 at :math:`w + L`.

    Example:
      >>> from jaxsched.compat import transformers
      >>> s = transformers.cosine_with_restarts(1.0, 0, num_training_steps=100, num_cycles=2)
      >>> [round(float(s(t)), 4) for t in (0, 25, 50, 75, 100)]
      [1.0, 0.5, 1.0, 0.5, 0.0]
    """
    f = "transformers.cosine_with_restarts"
    lr = as_float(f, "lr", lr)
    w = _steps(f, "num_warmup_steps", num_warmup_steps)
    n = _steps(f, "num_training_steps", num_training_steps)
    xp, (span, c, w) = host_or_traced(_span(w, n), _cycles(f, num_cycles), w)
    decays = cosine_restarts(lr, first_decay_steps=span / c, t_mul=1.0)
    end = xp.expand_dims(w + span, -1)
    return join([warmup(decays, warmup_steps=w), _decay.constant(xp.zeros_like(span))], end)


@speaks_as("transformers.polynomial", init_value="lr", end_value="lr_end")
def polynomial(
    lr: Any, num_warmup_steps: Any, num_training_steps: Any, lr_end: Any = 1e-7, power: Any = 1.0
) -> Warmup | Join:
    r"""``"polynomial"`` (``get_polynomial_decay_schedule_with_warmup``): up from 0 over
    :math:`w` steps, then a polynomial from ``lr`` to ``lr_end`` at :math:`N`, then ``lr_end``.

    .. math::
        \eta(t) = \begin{cases} \eta\, t / w & t < w \\
        (\eta - \eta_{end}) \left(1 - \frac{t - w}{N - w}\right)^{p} + \eta_{end}
        & w \le t \le N \\
        \eta_{end} & t \ge \max(w, N) \end{cases}

    ``lr`` must exceed ``lr_end``. With :math:`N < w` there is no decay: the warmup,
    then ``lr_end`` from :math:`w` on, as in Hugging Face; :math:`N = w` is refused
    (Hugging Face divides by zero at :math:`t = w`). This is `jaxsched.warmup` of
    `jaxsched.poly`; where :math:`N < w` may hold (given so, or traced), that joined
    to ``constant(lr_end)`` at :math:`\max(w, N)`.

    Example:
      >>> from jaxsched.compat import transformers
      >>> s = transformers.polynomial(1.0, 0, num_training_steps=10, lr_end=0.0, power=2.0)
      >>> [float(s(t)) for t in (0, 5, 10, 20)]
      [1.0, 0.25, 0.0, 0.0]
      >>> s = transformers.polynomial(1.0, 10, num_training_steps=5, lr_end=0.0)
      >>> [float(s(t)) for t in (0, 5, 9, 10, 20)]
      [0.0, 0.5, 0.9, 0.0, 0.0]
    """
    f = "transformers.polynomial"
    lr = as_float(f, "lr", lr)
    lr_end = as_float(f, "lr_end", lr_end)
    w = _steps(f, "num_warmup_steps", num_warmup_steps)
    n = _steps(f, "num_training_steps", num_training_steps)
    require_related(f, ("lr_end", "lr"), (lr_end, lr), lambda e, r: e < r, "lr_end must be < lr")
    require_related(
        f,
        ("num_warmup_steps", "num_training_steps"),
        (w, n),
        lambda w, n: n != w,
        "num_training_steps must be > num_warmup_steps (or below it: Hugging Face divides "
        "by zero when they are equal)",
    )
    xp, (w_, n_) = host_or_traced(w, n)
    if xp is np and np.all(n_ > w_):
        return warmup(poly(lr, lr_end, decay_steps=n_ - w_, power=power), warmup_steps=w)
    # N < w somewhere (or maybe, traced): HF's lr_end from t > N, so from w on there.
    decay = poly(lr, lr_end, decay_steps=xp.maximum(n_ - w_, 1), power=power)
    end = xp.expand_dims(xp.maximum(n_, w_), -1)
    return join([warmup(decay, warmup_steps=w), _decay.constant(lr_end)], end)


@speaks_as("transformers.inverse_sqrt", decay_steps="timescale", init_value="lr")
def inverse_sqrt(
    lr: Any, num_warmup_steps: Any, num_training_steps: Any = None, timescale: Any = None
) -> Warmup:
    r"""``"inverse_sqrt"`` (``get_inverse_sqrt_schedule``): up from 0 over :math:`w` steps,
    then :math:`\eta \sqrt{s / (t - w + s)}`.

    .. math:: \eta(t) = \frac{\eta}{\sqrt{1 + (t - w) / s}} \quad (t \ge w)

    ``timescale`` :math:`s` defaults to :math:`w`, or to 10000 when :math:`w = 0`.
    ``num_training_steps`` is ignored, as ``get_scheduler`` does not pass it. This is
    `jaxsched.warmup` of `jaxsched.inverse_time` (``decay_rate=1``, ``power=0.5``).

    Example:
      >>> from jaxsched.compat import transformers
      >>> s = transformers.inverse_sqrt(1.0, num_warmup_steps=100)
      >>> [float(s(t)) for t in (50, 100, 400)]
      [0.5, 1.0, 0.5]
    """
    f = "transformers.inverse_sqrt"
    w = _steps(f, "num_warmup_steps", num_warmup_steps)
    if timescale is None:
        xp, (w_,) = host_or_traced(w)
        timescale = xp.where(w_ == 0, 10_000, w_).astype(w_.dtype)
    decay = inverse_time(lr, decay_steps=timescale, decay_rate=1.0, power=0.5)
    return warmup(decay, warmup_steps=w)


@register("transformers.cosine_warmup_with_min_lr")
class _CosineWarmupMinLR(Schedule):
    """Hugging Face's ``cosine_warmup_with_min_lr``: a warmup from ``warmup_lr_rate * lr``
    that ends a step early, then the cosine of ``cosine_with_min_lr`` a step ahead."""

    lr: jax.Array = data()
    num_warmup_steps: jax.Array = data()
    num_training_steps: jax.Array = data()
    num_cycles: jax.Array = data()
    min_lr_rate: jax.Array = data()
    warmup_lr_rate: jax.Array = data()

    def _value(self, steps: Steps) -> jax.Array:
        w, r = self.num_warmup_steps, self.warmup_lr_rate
        ramp = self.lr * (r + (1 - r) * steps.t / jnp.maximum(1.0, w - 1))
        span = jnp.maximum(self.num_training_steps - w, 1.0)
        annealing = _CosineAnnealing(
            lr=self.lr, T_max=span / (2 * self.num_cycles), eta_min=self.lr * self.min_lr_rate
        )
        ahead = steps.plus(1).since(w)  # (t + 1) - w
        return jnp.where(steps.reached(w), annealing._value(ahead), ramp)


@factory(_CosineWarmupMinLR, name="transformers.cosine_warmup_with_min_lr")
def cosine_warmup_with_min_lr(
    lr: Any,
    num_warmup_steps: Any,
    num_training_steps: Any,
    num_cycles: Any = 0.5,
    min_lr: Any = None,
    min_lr_rate: Any = None,
    warmup_lr_rate: Any = None,
) -> _CosineWarmupMinLR:
    r"""``"cosine_warmup_with_min_lr"`` (``get_cosine_with_min_lr_schedule_with_warmup_lr_rate``).

    With :math:`L = \max(1, N - w)` and :math:`\eta_{min}` = ``min_lr`` (or
    ``min_lr_rate * lr``):

    .. math::
        \eta(t) = \begin{cases}
        \eta \left(r_w + (1 - r_w)\, \frac{t}{\max(1, w - 1)}\right) & t < w \\
        \eta_{min} + (\eta - \eta_{min})\, \frac{1 + \cos(2\pi c\,(t + 1 - w) / L)}{2}
        & t \ge w \end{cases}

    ``warmup_lr_rate`` :math:`r_w` defaults to :math:`1 / \max(1, w)`, which makes the
    warmup :math:`(t + 1) / w`: the whole schedule is then `cosine_with_min_lr` one step
    ahead, as Hugging Face computes it.

    Example:
      >>> from jaxsched.compat import transformers
      >>> s = transformers.cosine_warmup_with_min_lr(1.0, 4, 104, min_lr_rate=0.0)
      >>> [round(float(s(t)), 4) for t in (0, 3, 4, 53, 103)]
      [0.25, 1.0, 0.9998, 0.5, 0.0]
    """
    f = "transformers.cosine_warmup_with_min_lr"
    lr = as_float(f, "lr", lr)
    w = _steps(f, "num_warmup_steps", num_warmup_steps)
    n = _steps(f, "num_training_steps", num_training_steps)
    c = _cycles(f, num_cycles)
    _one_floor(f, min_lr, min_lr_rate)
    if min_lr is not None:
        min_lr = as_float(f, "min_lr", min_lr)
        _, (base, low) = host_or_traced(lr, min_lr)
        min_lr_rate = low / base
    rate = as_float(f, "min_lr_rate", min_lr_rate)
    require(f, "min_lr_rate", rate, lambda x: x >= 0, ">= 0")
    if warmup_lr_rate is None:
        xp, (w_,) = host_or_traced(w)
        warmup_lr_rate = 1 / xp.maximum(w_, 1)
    return _CosineWarmupMinLR(
        lr=lr,
        num_warmup_steps=w,
        num_training_steps=n,
        num_cycles=c,
        min_lr_rate=rate,
        warmup_lr_rate=as_float(f, "warmup_lr_rate", warmup_lr_rate),
    )


@register("transformers.warmup_stable_decay")
class _WarmupStableDecay(Schedule):
    """Hugging Face's warmup-stable-decay, its warmup and decay of three shapes each."""

    lr: jax.Array = data()
    num_warmup_steps: jax.Array = data()
    num_decay_steps: jax.Array = data()
    num_stable_steps: jax.Array = data()
    min_lr_ratio: jax.Array = data()
    num_cycles: jax.Array = data()
    warmup_type: str = static(default="linear")
    decay_type: str = static(default="cosine")

    def _end(self) -> jax.typing.ArrayLike:
        w = self.num_warmup_steps
        return jnp.maximum(w, w + self.num_stable_steps + self.num_decay_steps)

    def _value(self, steps: Steps) -> jax.Array:
        w, d = self.num_warmup_steps, self.num_decay_steps
        top, low = self.lr, self.lr * self.min_lr_ratio
        t = steps.t
        if self.warmup_type == "1-sqrt":  # 1 - sqrt(1 - p): "1-sqrt" run backwards
            warm = interpolate(top, low, Steps.position(w - t), 0.0, w, "1-sqrt")
        else:
            warm = interpolate(low, top, Steps.position(t), 0.0, w, _MATH_SHAPES[self.warmup_type])
        begin = w + self.num_stable_steps
        if self.decay_type == "cosine":
            span = jnp.maximum(d, 1.0) / (2 * self.num_cycles)
            cos = _CosineAnnealing(lr=top, T_max=span, eta_min=low)
            decay = cos._value(steps.since(begin))
        else:
            decay = interpolate(top, low, steps, begin, begin + d, _MATH_SHAPES[self.decay_type])
        value = jnp.where(steps.reached(begin + d), low, decay)
        value = jnp.where(steps.reached(begin), value, top)
        return jnp.where(steps.reached(w), value, warm)


_MATH_SHAPES = {"linear": "linear", "cosine": "cos", "1-sqrt": "1-sqrt"}


@factory(_WarmupStableDecay, name="transformers.warmup_stable_decay")
def warmup_stable_decay(
    lr: Any,
    num_warmup_steps: Any,
    num_decay_steps: Any,
    num_training_steps: Any = None,
    num_stable_steps: Any = None,
    warmup_type: str = "linear",
    decay_type: str = "cosine",
    min_lr_ratio: Any = 0.0,
    num_cycles: Any = 0.5,
) -> _WarmupStableDecay:
    r"""``"warmup_stable_decay"`` (``get_wsd_schedule``): warmup, plateau, decay, floor.

    With :math:`m` = ``min_lr_ratio``, :math:`S` stable steps (by default
    :math:`N - w - D`) and :math:`D` decay steps:

    .. math::
        \eta(t) = \eta \begin{cases}
        m + (1 - m)\, f_w(t / w) & t < w \\
        1 & w \le t < w + S \\
        m + (1 - m)\, f_d((t - w - S) / \max(1, D)) & w + S \le t < w + S + D \\
        m & t \ge w + S + D \end{cases}

    with :math:`f_w(p)` = :math:`p` ("linear"), :math:`(1 - \cos \pi p)/2` ("cosine") or
    :math:`1 - \sqrt{1 - p}` ("1-sqrt"), and :math:`f_d(p)` = :math:`1 - p`,
    :math:`(1 + \cos 2\pi c p)/2` or :math:`1 - \sqrt p`. Hu et al., *MiniCPM* (2024).
    As in Hugging Face, ``num_stable_steps`` wins when both it and
    ``num_training_steps`` are given (with a warning), and it may be negative
    (:math:`N < w + D`): the decay is then under way at :math:`w`, as the formula
    says, or over (``min_lr_ratio * lr`` from :math:`w` on).

    Example:
      >>> from jaxsched.compat import transformers
      >>> s = transformers.warmup_stable_decay(1.0, 10, num_decay_steps=20, num_training_steps=100)
      >>> [round(float(s(t)), 4) for t in (5, 10, 79, 80, 90, 100)]
      [0.5, 1.0, 1.0, 1.0, 0.5, 0.0]
    """
    f = "transformers.warmup_stable_decay"
    lr = as_float(f, "lr", lr)
    w = _steps(f, "num_warmup_steps", num_warmup_steps)
    d = _steps(f, "num_decay_steps", num_decay_steps)
    if num_stable_steps is None:
        if num_training_steps is None:
            raise ValueError(f"{f}: give num_training_steps or num_stable_steps")
        n = _steps(f, "num_training_steps", num_training_steps)
        _, (w_, d_, n_) = host_or_traced(w, d, n)
        num_stable_steps = n_ - w_ - d_
    elif num_training_steps is not None:
        warnings.warn(
            f"{f}: both num_training_steps and num_stable_steps are given; "
            "num_stable_steps is used (as Hugging Face does)",
            UserWarning,
            stacklevel=outside_stacklevel(),
        )
    s = _steps(f, "num_stable_steps", num_stable_steps, negative=True)
    m = as_float(f, "min_lr_ratio", min_lr_ratio)
    require(f, "min_lr_ratio", m, lambda x: x >= 0, ">= 0")
    return _WarmupStableDecay(
        lr=lr,
        num_warmup_steps=w,
        num_decay_steps=d,
        num_stable_steps=s,
        min_lr_ratio=m,
        num_cycles=_cycles(f, num_cycles),
        warmup_type=as_choice(f, "warmup_type", warmup_type, _SHAPES),
        decay_type=as_choice(f, "decay_type", decay_type, _SHAPES),
    )


_NEEDS_TRAINING = {"linear", "cosine", "cosine_with_restarts", "polynomial"}
_NEEDS_TRAINING |= {"cosine_with_min_lr", "cosine_warmup_with_min_lr"}
_BY_NAME = {
    "linear": linear,
    "cosine": cosine,
    "cosine_with_restarts": cosine_with_restarts,
    "polynomial": polynomial,
    "constant": constant,
    "constant_with_warmup": constant_with_warmup,
    "inverse_sqrt": inverse_sqrt,
    "cosine_with_min_lr": cosine_with_min_lr,
    "cosine_warmup_with_min_lr": cosine_warmup_with_min_lr,
    "warmup_stable_decay": warmup_stable_decay,
}
_METRIC_DRIVEN = {"greedy": "a controller of your own (GreedyLR adapts to a metric)"}


def get_scheduler(
    name: str,
    lr: Any,
    num_warmup_steps: Any = None,
    num_training_steps: Any = None,
    scheduler_specific_kwargs: dict[str, Any] | None = None,
) -> Schedule:
    r"""``transformers.get_scheduler`` with the optimizer replaced by its learning rate ``lr``.

    ``name`` is a ``SchedulerType`` value (or the enum itself); the schedule's value at
    ``t`` is the rate after ``t`` calls of ``scheduler.step()``. ``constant`` ignores
    every other argument, ``constant_with_warmup`` and ``inverse_sqrt`` need
    ``num_warmup_steps``, ``warmup_stable_decay`` needs ``num_warmup_steps`` and
    ``num_decay_steps`` (in ``scheduler_specific_kwargs``), the others both step counts.
    ``reduce_lr_on_plateau`` is the plateau controller Hugging Face builds,
    `jaxsched.compat.torch.ReduceLROnPlateau` ``(lr, **scheduler_specific_kwargs)``
    (its rate follows a metric: ``fit`` takes a batch of them); the metric-driven
    ``greedy`` is refused.

    Example:
      >>> from jaxsched.compat import transformers
      >>> s = transformers.get_scheduler("cosine_with_min_lr", 1.0, 0, 100,
      ...                                scheduler_specific_kwargs={"min_lr": 0.1})
      >>> round(float(s(50)), 4)
      0.55
    """
    name = getattr(name, "value", name)
    if name == "reduce_lr_on_plateau":
        from jaxsched.compat.torch import ReduceLROnPlateau

        return ReduceLROnPlateau(lr, **(scheduler_specific_kwargs or {}))
    if name in _METRIC_DRIVEN:
        raise ValueError(
            f"transformers.get_scheduler: {name!r} follows a metric, not the step: use "
            f"{_METRIC_DRIVEN[name]} instead"
        )
    if name not in _BY_NAME:
        known = ", ".join(sorted(_BY_NAME))
        raise ValueError(f"transformers.get_scheduler: unknown name {name!r}; known: {known}")
    if name == "constant":
        return constant(lr)
    kwargs = dict(scheduler_specific_kwargs or {})
    if num_warmup_steps is None:
        raise ValueError(f"transformers.get_scheduler: {name} requires num_warmup_steps")
    if name in ("constant_with_warmup", "inverse_sqrt"):
        kwargs.pop("num_training_steps", None)
        return _BY_NAME[name](lr, num_warmup_steps, **kwargs)
    if name in _NEEDS_TRAINING and num_training_steps is None:
        raise ValueError(f"transformers.get_scheduler: {name} requires num_training_steps")
    return _BY_NAME[name](
        lr, num_warmup_steps=num_warmup_steps, num_training_steps=num_training_steps, **kwargs
    )


for _name, _fn in _BY_NAME.items():
    if not hasattr(_fn, "schedule_class"):
        factory(None, name=f"transformers.{_name}")(_fn)
