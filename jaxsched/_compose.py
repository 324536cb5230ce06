"""Composition: a warmup in front of a schedule, schedules one after another, and a
switch that puts schedules of different families into one batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxsched._base import Schedule, data, factory, register
from jaxsched._check import concrete, on_device, plain_array, require
from jaxsched._fields import Declared
from jaxsched._math import (
    done,
    where,
)
from jaxsched._steps import Steps

__all__ = ["Join", "Switch", "Warmup", "join", "switch", "warmup"]


@register("warmup")
class Warmup(Schedule):
    """A linear warmup in front of a schedule. Build with `jaxsched.warmup`."""

    schedule: Schedule = data(Schedule)
    warmup_steps: jax.Array = data(float, ">= 0", switch=True)
    init_value: jax.Array = data(float)

    def _end(self) -> jax.typing.ArrayLike:
        return self.warmup_steps + self.schedule._end()

    def _value(self, steps: Steps) -> jax.Array:
        target = self.schedule._value(Steps.zero(steps))
        ramp = self.init_value + (target - self.init_value) * done(steps, self.warmup_steps)
        after = self.schedule._value(steps.since(self.warmup_steps))
        return where(steps.reached(self.warmup_steps), after, ramp)


@factory(Warmup)
def warmup(schedule: Schedule, warmup_steps: Any, init_value: Any = 0.0) -> Warmup:
    r"""A linear warmup from ``init_value`` to ``schedule(0)``, then ``schedule`` shifted.

    .. math::
        \eta(t) = \begin{cases}
        \eta_s + (S(0) - \eta_s)\, t / w & t < w \\
        S(t - w) & t \ge w \end{cases}

    ``warmup(cosine(...), w)`` is ``optax.warmup_cosine_decay_schedule`` and
    Keras's ``CosineDecay`` with ``warmup_target``.

    Args:
      schedule: the schedule that follows, :math:`S`.
      warmup_steps: :math:`w \ge 0`.
      init_value: :math:`\eta_s`, the rate at step 0.

    Example:
      >>> import jaxsched
      >>> s = jaxsched.warmup(jaxsched.cosine(init_value=1.0, decay_steps=100), warmup_steps=10)
      >>> [round(float(s(t)), 4) for t in (0, 5, 10, 60, 110)]
      [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    return Warmup(schedule=schedule, warmup_steps=warmup_steps, init_value=init_value)


@register("join")
class Join(Schedule):
    """Schedules one after another. Build with `jaxsched.join`."""

    schedules: tuple[Schedule, ...] = data(Schedule, event_ndim=1)
    boundaries: jax.Array = data(float, "increasing", switch=True, event_ndim=1)

    def _validate(self, factory: str) -> None:
        if self.boundaries.shape[-1] != len(self.schedules) - 1:
            raise ValueError(
                f"{factory}: boundaries must have one entry fewer than schedules, got "
                f"{self.boundaries.shape[-1]} boundaries for {len(self.schedules)} schedules"
            )

    def _end(self) -> jax.typing.ArrayLike:
        last = self.schedules[-1]._end()
        return last + self.boundaries[..., -1] if self.boundaries.shape[-1] else last

    def _value(self, steps: Steps) -> jax.Array:
        value = self.schedules[0]._value(steps)
        for i, s in enumerate(self.schedules[1:]):
            b = self.boundaries[..., i]
            value = where(steps.reached(b), s._value(steps.since(b)), value)
        return value


@factory(Join)
def join(schedules: Sequence[Schedule], boundaries: Any) -> Join:
    r"""Run ``schedules[i]`` from ``boundaries[i - 1]``, counting its steps from there.

    .. math:: \eta(t) = S_i(t - b_{i-1}) \quad \text{for } b_{i-1} \le t < b_i

    As ``optax.join_schedules``.

    Args:
      schedules: ``n + 1`` schedules.
      boundaries: ``n`` strictly increasing, non-negative steps.

    Example:
      >>> import jaxsched
      >>> s = jaxsched.join(
      ...     [jaxsched.constant(0.1), jaxsched.linear(0.1, 0.0, decay_steps=100)],
      ...     boundaries=[50],
      ... )
      >>> [round(float(s(t)), 4) for t in (0, 50, 100, 150)]
      [0.1, 0.1, 0.05, 0.0]
    """
    return Join(schedules=schedules, boundaries=boundaries)


def _as_index(
    factory: str, name: str, value: Any, declared: Declared, fields: dict[str, Any]
) -> jax.Array:
    """Integers (int32 unless given as integers): host data checked and converted with NumPy."""
    not_integers = ValueError(f"{factory}: {name} must hold integers, got {value!r}")
    try:
        index = plain_array(value)
    except (TypeError, ValueError, OverflowError):
        raise not_integers from None
    if index.dtype.kind not in "iuf" or 0 in index.shape:  # no booleans, strings, empties
        raise not_integers
    if not jnp.issubdtype(index.dtype, jnp.integer):
        c = concrete(index)
        if c is not None and not np.array_equal(c, np.round(c)):
            raise ValueError(f"{factory}: {name} must hold integers, got {index}")
        index = index.astype(jnp.int32)
    return on_device(index)


@register("switch")
class Switch(Schedule):
    """One of several schedules, chosen by an index leaf. Build with `jaxsched.switch`.

    Each entry of a batch may use a different family: ``index[i]`` names the
    schedule that entry ``i`` follows. Indexing a batch with a concrete integer
    gives that entry's own schedule.
    """

    schedules: tuple[Schedule, ...] = data(Schedule, event_ndim=1)
    index: jax.Array = data(_as_index)

    def _validate(self, factory: str) -> None:
        n = len(self.schedules)
        require(factory, "index", self.index, lambda i: (i >= 0) & (i < n), f"in [0, {n})")

    def _end(self) -> jax.typing.ArrayLike:
        ends = [jnp.asarray(s._end(), float) for s in self.schedules]
        return jnp.select([self.index == k for k in range(len(ends))], ends, jnp.nan)

    def _value(self, steps: Steps) -> jax.Array:
        values = [s._value(steps) for s in self.schedules]
        out = values[0]
        for k, v in enumerate(values[1:], start=1):
            out = where(self.index == k, v, out)
        return out

    def _entry(self) -> Schedule:
        chosen = concrete(self.index)
        if chosen is not None and chosen.ndim == 0:
            return self.schedules[int(chosen)]
        return self


@factory(Switch)
def switch(schedules: Sequence[Schedule], index: Any) -> Switch:
    r"""Follow ``schedules[index]``; with an array ``index``, a batch mixing families.

    .. math:: \eta(t) = S_{\text{index}}(t)

    Every schedule is evaluated and the chosen value kept (a select, as
    ``vmap`` does for ``lax.switch``). `jaxsched.stack` builds a switch for you
    when its schedules are of different families.

    Args:
      schedules: the candidates (each may be a batch matching ``index``'s shape).
      index: integers in ``[0, len(schedules))``.

    Example:
      >>> import jaxsched
      >>> s = jaxsched.switch(
      ...     [jaxsched.constant(0.1), jaxsched.cosine(1.0, decay_steps=10)], index=[1, 0]
      ... )
      >>> [round(float(v), 4) for v in s(5)]
      [0.5, 0.1]
    """
    return Switch(schedules=schedules, index=index)
