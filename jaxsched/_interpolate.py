"""Piecewise interpolation: a schedule through given (step, value) points."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from jaxsched._base import Schedule, data, factory, register, static
from jaxsched._math import (
    interpolate,
    where,
)
from jaxsched._steps import Steps

__all__ = ["PiecewiseInterpolate", "piecewise_interpolate"]

SHAPES = ("linear", "cos")


@register("piecewise_interpolate")
class PiecewiseInterpolate(Schedule):
    """Values at given steps, interpolated between them. Build with
    `jaxsched.piecewise_interpolate`."""

    boundaries: jax.Array = data(float, "non-decreasing", switch=True, event_ndim=1)
    values: jax.Array = data(float, event_ndim=1)
    shape: str = static(choices=SHAPES, default="linear")

    def _validate(self, factory: str) -> None:
        if self.boundaries.shape[-1] == 0:
            raise ValueError(f"{factory}: boundaries must hold at least one step, got none")
        if self.values.shape[-1] != self.boundaries.shape[-1]:
            raise ValueError(
                f"{factory}: values must have one entry per boundary, got "
                f"{self.values.shape[-1]} values for {self.boundaries.shape[-1]} boundaries"
            )

    def _end(self) -> jax.typing.ArrayLike:
        return jnp.maximum(self.boundaries[..., -1], 0.0)  # v_n from the last point on

    def _value(self, steps: Steps) -> jax.Array:
        b, v = self.boundaries, self.values
        value = steps.broadcast(v[..., 0])
        for i in range(b.shape[-1] - 1):
            piece = interpolate(
                v[..., i], v[..., i + 1], steps, b[..., i], b[..., i + 1], self.shape
            )
            value = where(steps.reached(b[..., i]), piece, value)
        return where(steps.reached(b[..., -1]), v[..., -1], value)


@factory(PiecewiseInterpolate)
def piecewise_interpolate(
    boundaries: Any, values: Any, shape: str = "linear"
) -> PiecewiseInterpolate:
    r"""Through the points ``(boundaries[i], values[i])``, interpolated between them.

    .. math::
        \eta(t) = \begin{cases}
        v_0 & t < b_0 \\
        v_i + (v_{i+1} - v_i)\, s\!\left(\frac{t - b_i}{b_{i+1} - b_i}\right)
            & b_i \le t < b_{i+1} \\
        v_n & t \ge b_n \end{cases}

    with :math:`s(p) = p` (``"linear"``) or :math:`s(p) = (1 - \cos \pi p) / 2`
    (``"cos"``). A boundary given twice is a jump: from that step on the
    value starts from the later of its two values. As ``np.interp`` (linear)
    and the pieces of ``optax.piecewise_interpolate_schedule``, which
    `jaxsched.compat.optax` builds on this.

    Args:
      boundaries: ``n + 1`` non-decreasing steps :math:`b_i` (any sign: a point
        before step 0 starts the schedule part-way through its first piece).
      values: ``n + 1`` values :math:`v_i`, one per boundary.
      shape: ``"linear"`` or ``"cos"``.

    Example:
      >>> import jaxsched
      >>> s = jaxsched.piecewise_interpolate(boundaries=[0, 10, 30], values=[0.0, 1.0, 0.5])
      >>> [float(s(t)) for t in (0, 5, 10, 20, 30, 99)]
      [0.0, 0.5, 1.0, 0.75, 0.5, 0.5]
    """
    return PiecewiseInterpolate(boundaries=boundaries, values=values, shape=shape)
