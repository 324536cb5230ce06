"""Cyclical schedules: one-cycle and cyclic (triangular) learning rates."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from jaxsched._base import Schedule, data, factory, register, static
from jaxsched._check import require_related
from jaxsched._fields import Declared, as_float_field
from jaxsched._math import (
    accurate_rise,
    clip,
    interpolate,
    one_minus_power,
    per_length,
    positive,
    scaled_power,
    where,
)
from jaxsched._steps import Steps

__all__ = ["Cyclic", "OneCycle", "cyclic", "one_cycle"]

ANNEAL_SHAPES = ("cos", "linear")
CYCLIC_MODES = ("triangular", "triangular2", "exp_range")


@register("one_cycle")
class OneCycle(Schedule):
    """The one-cycle policy. Build with `jaxsched.one_cycle`."""

    peak_value: jax.Array = data(float)
    total_steps: jax.Array = data(float, "> 0", switch=True)
    pct_start: jax.Array = data(float, "in (0, 1)")
    div_factor: jax.Array = data(float, "> 0")
    final_div_factor: jax.Array = data(float, "> 0")
    three_phase: jax.Array = data(bool)
    anneal: str = static(choices=ANNEAL_SHAPES, default="cos")

    def _validate(self, factory: str) -> None:
        require_related(
            factory,
            ("pct_start", "three_phase"),
            (self.pct_start, self.three_phase),
            lambda p, three: ~three | (p <= 0.5),
            "pct_start must be <= 0.5 with three phases",
        )

    def _end(self) -> jax.typing.ArrayLike:
        return self.total_steps

    def _value(self, steps: Steps) -> jax.Array:
        t, total = steps.t, self.total_steps
        initial = self.peak_value / self.div_factor
        final = initial / self.final_div_factor
        rise = clip(self.pct_start, 0.0, 1.0) * total
        shape = self.anneal
        up = interpolate(initial, self.peak_value, steps, 0.0, rise, shape)
        # Two phases: peak -> final over [rise, total].
        two = interpolate(self.peak_value, final, steps, rise, total, shape)
        # Three phases: peak -> initial over [rise, 2 rise], then initial -> final.
        back = interpolate(self.peak_value, initial, steps, rise, 2 * rise, shape)
        tail = interpolate(initial, final, steps, 2 * rise, total, shape)
        three = where(t < 2 * rise, back, tail)
        return where(t < rise, up, where(self.three_phase, three, two))


@factory(OneCycle)
def one_cycle(
    peak_value: Any,
    total_steps: Any,
    pct_start: Any = 0.3,
    div_factor: Any = 25.0,
    final_div_factor: Any = 1e4,
    anneal: str = "cos",
    three_phase: Any = False,
) -> OneCycle:
    r"""The one-cycle policy: up to ``peak_value``, then down far below the start.

    With :math:`\eta_s = \eta_{max} / d` and :math:`\eta_f = \eta_s / d_f`, the
    rate goes :math:`\eta_s \to \eta_{max}` over :math:`[0, pT]`, then
    :math:`\eta_{max} \to \eta_f` over :math:`[pT, T]` and is held; with
    ``three_phase``, :math:`\eta_{max} \to \eta_s` over :math:`[pT, 2pT]` and
    :math:`\eta_s \to \eta_f` over :math:`[2pT, T]`. Each phase follows ``anneal``:

    .. math::
        \text{cos}: \; b + (a - b)\frac{1 + \cos(\pi \tau)}{2}, \qquad
        \text{linear}: \; a + (b - a)\tau

    Smith & Topin, *Super-Convergence* (2018). Equals
    ``optax.cosine_onecycle_schedule`` when :math:`pT` is a whole number.
    PyTorch's ``OneCycleLR`` ends its phases one step earlier:
    `jaxsched.compat.torch.OneCycleLR` keeps that.

    Args:
      peak_value: :math:`\eta_{max}`.
      total_steps: :math:`T > 0`.
      pct_start: :math:`p \in (0, 1)`, the rising part (at most 0.5 with three phases).
      div_factor: :math:`d > 0`.
      final_div_factor: :math:`d_f > 0`.
      anneal: ``"cos"`` or ``"linear"``.
      three_phase: add the phase back down to :math:`\eta_s` before the final decay.

    Example:
      >>> import jaxsched
      >>> s = jaxsched.one_cycle(peak_value=1.0, total_steps=100, pct_start=0.25)
      >>> [round(float(s(t)), 4) for t in (0, 25, 100)]
      [0.04, 1.0, 0.0]
    """
    return OneCycle(
        peak_value=peak_value,
        total_steps=total_steps,
        pct_start=pct_start,
        div_factor=div_factor,
        final_div_factor=final_div_factor,
        three_phase=three_phase,
        anneal=anneal,
    )


def _down_or_up(
    factory: str, name: str, value: Any, declared: Declared, fields: dict[str, Any]
) -> jax.Array:
    """``step_size_down``, or ``step_size_up`` (converted before it) for None."""
    if value is None:
        return fields["step_size_up"]
    return as_float_field(factory, name, value, declared, fields)


@register("cyclic")
class Cyclic(Schedule):
    """Cyclical learning rates. Build with `jaxsched.cyclic`."""

    base_value: jax.Array = data(float)
    peak_value: jax.Array = data(float)
    step_size_up: jax.Array = data(float, "> 0", switch=True)
    step_size_down: jax.Array = data(_down_or_up, ">= 0", switch=True)
    gamma: jax.Array = data(float, "> 0")
    mode: str = static(choices=CYCLIC_MODES, default="triangular")

    def _value(self, steps: Steps) -> jax.Array:
        up, down = positive(self.step_size_up), jnp.maximum(self.step_size_down, 0.0)
        n, pos = steps.divmod(up + down)
        rising = pos <= up
        height = where(rising, pos / up, per_length(up + down - pos, down))
        # 1 - height and 1 - scale, computed directly: an inverted cycle (the
        # base above the peak) goes from the peak, where base + (peak - base)
        # would cancel.
        below = where(rising, (up - pos) / up, per_length(pos - up, down))
        if self.mode == "triangular":
            weight, unscaled = height, jnp.zeros_like(height)
        elif self.mode == "triangular2":
            weight, unscaled = height / jnp.power(2.0, n), -jnp.expm1(-n * jnp.log(2.0))
        else:  # exp_range
            p = self._gamma_power(steps)
            weight = scaled_power(height, self.gamma, p)
            unscaled = one_minus_power(self.gamma, 1 - self.gamma, p)
        # 1 - height * scale = (1 - height) + height * (1 - scale); 0 where height is.
        complement = below + where(height > 0, height * unscaled, 0.0)
        value = self.base_value + (self.peak_value - self.base_value) * weight
        return accurate_rise(self.peak_value, self.base_value, value, complement)

    def _gamma_power(self, steps: Steps) -> jax.Array:
        """The power of ``gamma`` at the step, in ``"exp_range"``: the step itself."""
        return steps.t


@factory(Cyclic)
def cyclic(
    base_value: Any,
    peak_value: Any,
    step_size_up: Any,
    step_size_down: Any = None,
    mode: str = "triangular",
    gamma: Any = 1.0,
) -> Cyclic:
    r"""Cyclical learning rate: triangles between ``base_value`` and ``peak_value``.

    A cycle rises for :math:`u` steps and falls for :math:`d`. At position
    :math:`\tau` of cycle :math:`n` (from 0), with height
    :math:`h = \tau / u` rising and :math:`(u + d - \tau) / d` falling,

    .. math::
        \eta(t) = \eta_b + (\eta_{max} - \eta_b)\, h \, s, \quad
        s = \begin{cases} 1 & \text{triangular} \\ 2^{-n} & \text{triangular2} \\
        \gamma^{t} & \text{exp\_range} \end{cases}

    Smith, *Cyclical Learning Rates for Training Neural Networks* (2017);
    PyTorch's ``CyclicLR``.

    The position in the cycle is exact at every step up to ``2**31 - 1`` when
    the period :math:`u + d` is a number of the schedule's dtype (in float32,
    every integer up to ``2**24``, and quarter steps up to ``2**22``); a period
    it cannot hold is rounded, and the cycles drift by that rounding each.

    Args:
      base_value: :math:`\eta_b`, the bottom of each cycle.
      peak_value: :math:`\eta_{max}`, the top of the first cycle.
      step_size_up: :math:`u > 0`.
      step_size_down: :math:`d \ge 0`; None means ``step_size_up``; 0 gives a sawtooth.
      mode: ``"triangular"``, ``"triangular2"`` or ``"exp_range"``.
      gamma: :math:`\gamma > 0`, for ``"exp_range"``.

    Example:
      >>> import jaxsched
      >>> s = jaxsched.cyclic(base_value=0.1, peak_value=1.0, step_size_up=10)
      >>> [round(float(s(t)), 4) for t in (0, 5, 10, 20)]
      [0.1, 0.55, 1.0, 0.1]
    """
    return Cyclic(
        base_value=base_value,
        peak_value=peak_value,
        step_size_up=step_size_up,
        step_size_down=step_size_down,
        gamma=gamma,
        mode=mode,
    )
