"""Schedules from recent large-model training: warmup-stable-decay, inverse square root, REX."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from jaxsched._base import Schedule, data, factory, register, static
from jaxsched._check import require_related
from jaxsched._math import (
    accurate_rise,
    done,
    interpolate,
    phase,
    where,
)
from jaxsched._steps import Steps

__all__ = ["WSD", "InverseSqrt", "Rex", "inverse_sqrt", "rex", "wsd"]

DECAY_SHAPES = {"1-sqrt": "1-sqrt", "linear": "linear", "cosine": "cos"}


@register("wsd")
class WSD(Schedule):
    """Warmup-stable-decay. Build with `jaxsched.wsd`."""

    peak_value: jax.Array = data(float)
    total_steps: jax.Array = data(float, "> 0", switch=True)
    warmup_steps: jax.Array = data(float, ">= 0", switch=True)
    decay_steps: jax.Array = data(float, "> 0", switch=True)
    end_value: jax.Array = data(float)
    decay_shape: str = static(choices=tuple(DECAY_SHAPES), default="1-sqrt")

    def _validate(self, factory: str) -> None:
        require_related(
            factory,
            ("warmup_steps", "total_steps"),
            (self.warmup_steps, self.total_steps),
            lambda w, total: w < total,
            "warmup_steps must be < total_steps",
        )
        require_related(
            factory,
            ("warmup_steps", "decay_steps", "total_steps"),
            (self.warmup_steps, self.decay_steps, self.total_steps),
            lambda w, decay, total: w <= total - decay,
            "warmup_steps + decay_steps must be <= total_steps",
        )

    def _end(self) -> jax.typing.ArrayLike:
        return self.total_steps

    def _value(self, steps: Steps) -> jax.Array:
        t = steps.t
        decay_start = self.total_steps - self.decay_steps
        warm = self.peak_value * done(steps, self.warmup_steps)
        decay = interpolate(
            self.peak_value,
            self.end_value,
            steps,
            decay_start,
            self.total_steps,
            DECAY_SHAPES[self.decay_shape],
        )
        stable = jnp.broadcast_to(self.peak_value, decay.shape)
        return where(t < self.warmup_steps, warm, where(t < decay_start, stable, decay))


@factory(WSD)
def wsd(
    peak_value: Any,
    total_steps: Any,
    warmup_steps: Any,
    decay_steps: Any,
    end_value: Any = 0.0,
    decay_shape: str = "1-sqrt",
) -> WSD:
    r"""Warmup-stable-decay: linear warmup from 0, a long plateau, a short final decay.

    With :math:`w` warmup steps and the decay over the last :math:`k` of
    :math:`T` steps, :math:`\tau = (t - (T - k)) / k`:

    .. math::
        \eta(t) = \begin{cases}
        \eta_{max}\, t / w & t < w \\
        \eta_{max} & w \le t < T - k \\
        \eta_1 + (\eta_{max} - \eta_1)\, f(\min(\tau, 1)) & t \ge T - k
        \end{cases}

    with :math:`f(\tau) = 1 - \sqrt{\tau}` ("1-sqrt"), :math:`1 - \tau`
    ("linear") or :math:`(1 + \cos \pi\tau)/2` ("cosine"). Hu et al., *MiniCPM*
    (2024); Hägele et al., *Scaling Laws and Compute-Optimal Training Beyond
    Fixed Training Durations* (2024), which recommends "1-sqrt".

    Args:
      peak_value: :math:`\eta_{max}`.
      total_steps: :math:`T > 0`.
      warmup_steps: :math:`0 \le w < T`.
      decay_steps: :math:`k > 0`, with :math:`w + k \le T`.
      end_value: :math:`\eta_1`, absolute.
      decay_shape: ``"1-sqrt"``, ``"linear"`` or ``"cosine"``.

    Example:
      >>> import jaxsched
      >>> s = jaxsched.wsd(peak_value=1.0, total_steps=100, warmup_steps=10, decay_steps=20)
      >>> [round(float(s(t)), 4) for t in (0, 5, 50, 85, 100)]
      [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    return WSD(
        peak_value=peak_value,
        total_steps=total_steps,
        warmup_steps=warmup_steps,
        decay_steps=decay_steps,
        end_value=end_value,
        decay_shape=decay_shape,
    )


@register("inverse_sqrt")
class InverseSqrt(Schedule):
    """Inverse square root decay after a linear warmup. Build with `jaxsched.inverse_sqrt`."""

    peak_value: jax.Array = data(float)
    warmup_steps: jax.Array = data(float, ">= 0", switch=True)

    def _value(self, steps: Steps) -> jax.Array:
        t, w = steps.t, self.warmup_steps
        scale = jnp.maximum(w, 1.0)
        warm = self.peak_value * done(steps, w)
        decay = self.peak_value * jnp.sqrt(scale / jnp.maximum(t, scale))
        return where(t < w, warm, decay)


@factory(InverseSqrt)
def inverse_sqrt(peak_value: Any, warmup_steps: Any) -> InverseSqrt:
    r"""Linear warmup to ``peak_value``, then decay as the inverse square root of the step.

    .. math::
        \eta(t) = \begin{cases} \eta_{max}\, t / w & t < w \\
        \eta_{max} \sqrt{\max(w, 1) / \max(t, w, 1)} & t \ge w \end{cases}

    Vaswani et al., *Attention Is All You Need* (2017). With ``warmup_steps=0``
    the rate is ``peak_value`` at steps 0 and 1 and falls as :math:`t^{-1/2}`.

    Args:
      peak_value: :math:`\eta_{max}`.
      warmup_steps: :math:`w \ge 0`.

    Example:
      >>> import jaxsched
      >>> s = jaxsched.inverse_sqrt(peak_value=1.0, warmup_steps=100)
      >>> [round(float(s(t)), 4) for t in (0, 50, 100, 400)]
      [0.0, 0.5, 1.0, 0.5]
    """
    return InverseSqrt(peak_value=peak_value, warmup_steps=warmup_steps)


@register("rex")
class Rex(Schedule):
    """REX decay. Build with `jaxsched.rex`."""

    init_value: jax.Array = data(float)
    decay_steps: jax.Array = data(float, "> 0", switch=True)
    end_value: jax.Array = data(float)

    def _end(self) -> jax.typing.ArrayLike:
        return self.decay_steps

    def _value(self, steps: Steps) -> jax.Array:
        p, q = phase(steps, self.decay_steps)
        value = self.end_value + (self.init_value - self.end_value) * q / (0.5 + 0.5 * q)
        # 1 - q / (1/2 + q/2) = p / (1 + q), with p = 1 - q computed directly.
        rise = p / (1.0 + q)
        return accurate_rise(self.init_value, self.end_value, value, rise)


@factory(Rex)
def rex(init_value: Any, decay_steps: Any, end_value: Any = 0.0) -> Rex:
    r"""REX: the reflected-exponential profile, between linear and step-like decay.

    With :math:`z = \min(t, k) / k`,

    .. math::
        \eta(t) = \eta_1 + (\eta_0 - \eta_1) \frac{1 - z}{1/2 + (1 - z)/2}

    Chen, Wolfe & Kyrillidis, *REX: Revisiting Budgeted Training with an
    Improved Schedule* (2022).

    Args:
      init_value: :math:`\eta_0`.
      decay_steps: :math:`k > 0`.
      end_value: :math:`\eta_1`, absolute.

    Example:
      >>> import jaxsched
      >>> s = jaxsched.rex(init_value=1.0, decay_steps=100)
      >>> [round(float(s(t)), 4) for t in (0, 50, 100)]
      [1.0, 0.6667, 0.0]
    """
    return Rex(init_value=init_value, decay_steps=decay_steps, end_value=end_value)
