"""timm-exact schedules: ``timm.scheduler`` semantics as jaxsched schedules.

Each constructor takes the learning rate ``lr`` (the optimizer's) and then the
arguments of the timm scheduler class of the same name, and returns a schedule
whose value at ``t`` is timm's ``_get_lr(t)``: the rate timm sets after
``scheduler.step(t)`` (or ``step_update(t)``), ``t`` counted in epochs or in
updates as you step it. Each is a core schedule (`jaxsched.restarts`,
`jaxsched.step`, `jaxsched.multistep` or `jaxsched.piecewise`) behind timm's
warmup (`warmup`). ``t_in_epochs`` and ``initialize`` are accepted and ignored.

One difference is kept on purpose: where a cycle (``cycle_mul != 1``) starts exactly on
a whole step, these restart there, at the peak. timm finds the cycle as
``floor(math.log(1 - t / t_initial * (1 - cycle_mul), cycle_mul))`` in float64, which can
round just below the cycle's index exactly at its start (``math.log(1000, 10)`` is
``2.9999999999999996``), and then gives the previous cycle's end for that one step:
``CosineLRScheduler(1.0, t_initial=1, lr_min=0.01, cycle_mul=10, cycle_limit=100)`` at
``t=111`` is 0.01 in timm and 1.0 here (``cycle_mul=3``: ``t=121``; ``t_initial=10,
cycle_mul=0.8``: ``t=18``). Every other step agrees. (Which starts timm misses depends on
its float64 logs alone; the cycles here are exact, those of `jaxsched.restarts`.)

LR noise (``noise_range_t``) is refused: timm draws it from torch's generator
seeded by ``noise_seed + t``, which JAX cannot reproduce; add noise to the
schedule's value yourself if you need it.

Example:
  >>> from jaxsched.compat import timm
  >>> s = timm.CosineLRScheduler(0.1, t_initial=100, lr_min=1e-3, warmup_t=5, warmup_lr_init=1e-4)
  >>> [round(float(s(t)), 5) for t in (0, 5, 50, 99, 100)]
  [0.0001, 0.09939, 0.0505, 0.00102, 0.001]
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxsched import _decay
from jaxsched._base import Schedule, data, factory, register
from jaxsched._check import (
    as_bool,
    as_float,
    concrete,
    host_or_traced,
    require,
    require_nondecreasing,
    require_related,
)
from jaxsched._math import done, scaled_power
from jaxsched._restarts import restarts
from jaxsched._steps import Steps
from jaxsched.compat._names import speaks_as

__all__ = [
    "CosineLRScheduler",
    "MultiStepLRScheduler",
    "PolyLRScheduler",
    "StepLRScheduler",
    "TanhLRScheduler",
    "Warmup",
    "warmup",
]


@register("timm.warmup")
class Warmup(Schedule):
    """timm's warmup in front of a schedule. Build with `warmup`."""

    schedule: Schedule = data(Schedule)
    warmup_t: jax.Array = data(float, ">= 0", switch=True)
    warmup_lr_init: jax.Array = data(float)
    warmup_target: jax.Array = data(float)
    warmup_prefix: jax.Array = data(bool)

    def _end(self) -> jax.typing.ArrayLike:
        return self.schedule._end() + jnp.where(self.warmup_prefix, self.warmup_t, 0.0)

    def _value(self, steps: Steps) -> jax.Array:
        after = steps.since(self.warmup_t)
        prefix = self.warmup_prefix
        main = Steps.select(prefix, after, steps)
        start, target = self.warmup_lr_init, self.warmup_target
        ramp = start + (target - start) * done(steps, self.warmup_t)
        return jnp.where(steps.reached(self.warmup_t), self.schedule._value(main), ramp)


@factory(Warmup, name="timm.warmup")
def warmup(
    schedule: Schedule,
    warmup_t: Any,
    warmup_lr_init: Any = 0.0,
    warmup_target: Any = 0.0,
    warmup_prefix: Any = False,
) -> Warmup:
    r"""timm's warmup: a line from ``warmup_lr_init`` towards ``warmup_target``, then
    ``schedule`` at :math:`t - w` (``warmup_prefix``) or at :math:`t` (not shifted).

    .. math::
        \eta(t) = \begin{cases} \eta_w + (\eta_* - \eta_w)\, t / w & t < w \\
        S(t - w) \text{ or } S(t) & t \ge w \end{cases}

    Unlike `jaxsched.warmup`, the target :math:`\eta_*` is given: timm ramps to the
    base rate (or, in ``TanhLRScheduler`` without prefix, to the rate at :math:`w`),
    which need not be where the schedule starts.

    Example:
      >>> import jaxsched
      >>> from jaxsched.compat import timm
      >>> s = timm.warmup(jaxsched.constant(0.5), warmup_t=4, warmup_target=1.0)
      >>> [float(s(t)) for t in (0, 2, 4)]
      [0.0, 0.5, 0.5]
    """
    return Warmup(
        schedule=schedule,
        warmup_t=warmup_t,
        warmup_lr_init=warmup_lr_init,
        warmup_target=warmup_target,
        warmup_prefix=warmup_prefix,
    )


def _no_noise(label: str, noise_range_t: Any) -> None:
    if noise_range_t is not None:
        raise ValueError(
            f"{label}: noise_range_t is not supported: timm draws its LR noise from torch's "
            "generator, which JAX cannot reproduce; add noise to the schedule's value yourself"
        )


def _warmed(label, main, lr, warmup_t, warmup_lr_init, warmup_prefix, target=None) -> Warmup:
    """``main`` behind timm's warmup, whose arguments timm checks: ``warmup_t >= 0`` and
    ``warmup_lr_init >= 0``."""
    warmup_t = as_float(label, "warmup_t", warmup_t, switch=True)
    warmup_lr_init = as_float(label, "warmup_lr_init", warmup_lr_init)
    require(label, "warmup_t", warmup_t, lambda x: x >= 0, ">= 0")
    require(label, "warmup_lr_init", warmup_lr_init, lambda x: x >= 0, ">= 0")
    return warmup(
        main,
        warmup_t=warmup_t,
        warmup_lr_init=warmup_lr_init,
        warmup_target=lr if target is None else target,
        warmup_prefix=warmup_prefix,
    )


_CYCLE_NAMES = {"init_value": "lr", "cycle_steps": "t_initial", "end_value": "lr_min"}


def _cycles(label, shape, lr, t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit, **kw):
    lr_min = as_float(label, "lr_min", lr_min)
    require(label, "lr_min", lr_min, lambda x: x >= 0, ">= 0")
    return restarts(
        init_value=lr,
        cycle_steps=t_initial,
        end_value=lr_min,
        cycle_limit=cycle_limit,
        cycle_mul=cycle_mul,
        cycle_decay=cycle_decay,
        shape=shape,
        **kw,
    )


@speaks_as("timm.CosineLRScheduler", **_CYCLE_NAMES)
def CosineLRScheduler(
    lr: Any,
    t_initial: Any,
    lr_min: Any = 0.0,
    cycle_mul: Any = 1.0,
    cycle_decay: Any = 1.0,
    cycle_limit: Any = 1,
    warmup_t: Any = 0,
    warmup_lr_init: Any = 0.0,
    warmup_prefix: Any = False,
    t_in_epochs: bool = True,
    noise_range_t: Any = None,
    noise_pct: Any = 0.67,
    noise_std: Any = 1.0,
    noise_seed: Any = 42,
    k_decay: Any = 1.0,
    initialize: bool = True,
) -> Warmup:
    r"""``timm.scheduler.CosineLRScheduler``: cosine cycles (SGDR) with k-decay.

    In cycle :math:`i` (length :math:`T m^i`, position :math:`\tau`):

    .. math::
        \eta(t) = \eta_{min} + \frac{\eta\, d^i - \eta_{min}}{2}
        \left(1 + \cos\frac{\pi \tau^k}{(T m^i)^k}\right)

    and :math:`\eta_{min}` after ``cycle_limit`` cycles. Before ``warmup_t``, a line from
    ``warmup_lr_init`` to ``lr``; with ``warmup_prefix`` the cycles start after it,
    without, they start at step 0 (the warmup covers their beginning). This is
    `jaxsched.restarts` (``shape="cos"``) behind `warmup`.

    Example:
      >>> from jaxsched.compat import timm
      >>> s = timm.CosineLRScheduler(1.0, t_initial=10, cycle_limit=2, cycle_decay=0.5)
      >>> [round(float(s(t)), 4) for t in (0, 5, 10, 15, 20)]
      [1.0, 0.5, 0.5, 0.25, 0.0]
    """
    f = "timm.CosineLRScheduler"
    _no_noise(f, noise_range_t)
    main = _cycles(
        f, "cos", lr, t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit, k_decay=k_decay
    )
    return _warmed(f, main, main.init_value, warmup_t, warmup_lr_init, warmup_prefix)


@speaks_as("timm.PolyLRScheduler", **_CYCLE_NAMES)
def PolyLRScheduler(
    lr: Any,
    t_initial: Any,
    power: Any = 0.5,
    lr_min: Any = 0.0,
    cycle_mul: Any = 1.0,
    cycle_decay: Any = 1.0,
    cycle_limit: Any = 1,
    warmup_t: Any = 0,
    warmup_lr_init: Any = 0.0,
    warmup_prefix: Any = False,
    t_in_epochs: bool = True,
    noise_range_t: Any = None,
    noise_pct: Any = 0.67,
    noise_std: Any = 1.0,
    noise_seed: Any = 42,
    k_decay: Any = 1.0,
    initialize: bool = True,
) -> Warmup:
    r"""``timm.scheduler.PolyLRScheduler``: polynomial cycles with k-decay.

    .. math::
        \eta(t) = \eta_{min} + (\eta\, d^i - \eta_{min})
        \left(1 - \frac{\tau^k}{(T m^i)^k}\right)^{q}

    in cycle :math:`i`, with the cycles and the warmup of `CosineLRScheduler`. This is
    `jaxsched.restarts` (``shape="poly"``) behind `warmup`.

    Example:
      >>> from jaxsched.compat import timm
      >>> s = timm.PolyLRScheduler(1.0, t_initial=100, power=2.0)
      >>> [round(float(s(t)), 4) for t in (0, 50, 100)]
      [1.0, 0.25, 0.0]
    """
    f = "timm.PolyLRScheduler"
    _no_noise(f, noise_range_t)
    main = _cycles(
        f,
        "poly",
        lr,
        t_initial,
        lr_min,
        cycle_mul,
        cycle_decay,
        cycle_limit,
        k_decay=k_decay,
        power=power,
    )
    return _warmed(f, main, main.init_value, warmup_t, warmup_lr_init, warmup_prefix)


@speaks_as("timm.TanhLRScheduler", lower="lb", upper="ub", **_CYCLE_NAMES)
def TanhLRScheduler(
    lr: Any,
    t_initial: Any,
    lb: Any = -7.0,
    ub: Any = 3.0,
    lr_min: Any = 0.0,
    cycle_mul: Any = 1.0,
    cycle_decay: Any = 1.0,
    cycle_limit: Any = 1,
    warmup_t: Any = 0,
    warmup_lr_init: Any = 0.0,
    warmup_prefix: Any = False,
    t_in_epochs: bool = True,
    noise_range_t: Any = None,
    noise_pct: Any = 0.67,
    noise_std: Any = 1.0,
    noise_seed: Any = 42,
    initialize: bool = True,
) -> Warmup:
    r"""``timm.scheduler.TanhLRScheduler``: hyperbolic-tangent cycles.

    .. math::
        \eta(t) = \eta_{min} + \frac{\eta\, d^i - \eta_{min}}{2}
        \left(1 - \tanh\left(l\,(1 - r) + u\, r\right)\right), \qquad r = \tau / (T m^i)

    in cycle :math:`i`, with the cycles of `CosineLRScheduler`. The warmup ramps to
    ``lr`` with ``warmup_prefix``, and without it to the rate the cycles have at
    ``warmup_t`` (timm's choice), so that it joins them there. This is
    `jaxsched.restarts` (``shape="tanh"``) behind `warmup`.

    Example:
      >>> from jaxsched.compat import timm
      >>> s = timm.TanhLRScheduler(1.0, t_initial=100, lb=-6.0, ub=4.0)
      >>> [round(float(s(t)), 4) for t in (0, 60, 100)]
      [1.0, 0.5, 0.0]
    """
    f = "timm.TanhLRScheduler"
    _no_noise(f, noise_range_t)
    lb, ub = as_float(f, "lb", lb), as_float(f, "ub", ub)
    require_related(f, ("lb", "ub"), (lb, ub), lambda lo, up: lo < up, "lb must be < ub")
    main = _cycles(
        f, "tanh", lr, t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit, lower=lb, upper=ub
    )
    prefix = as_bool(f, "warmup_prefix", warmup_prefix)
    w = as_float(f, "warmup_t", warmup_t, switch=True)
    target = jnp.where(prefix, main.init_value, main(w))
    return _warmed(f, main, main.init_value, w, warmup_lr_init, prefix, target=target)


@speaks_as("timm.StepLRScheduler", init_value="lr", step_size="decay_t", decay_rate="decay_rate")
def StepLRScheduler(
    lr: Any,
    decay_t: Any,
    decay_rate: Any = 1.0,
    warmup_t: Any = 0,
    warmup_lr_init: Any = 0.0,
    warmup_prefix: Any = True,
    t_in_epochs: bool = True,
    noise_range_t: Any = None,
    noise_pct: Any = 0.67,
    noise_std: Any = 1.0,
    noise_seed: Any = 42,
    initialize: bool = True,
) -> Warmup:
    r"""``timm.scheduler.StepLRScheduler``: ``lr * decay_rate ** (t // decay_t)``.

    .. math:: \eta(t) = \eta\, \gamma^{\lfloor \tau / s \rfloor}

    with :math:`\tau = t - w` (``warmup_prefix``, the default here) or :math:`t`, after
    timm's warmup. This is `jaxsched.step` behind `warmup`. ``decay_rate=0`` is taken
    as timm takes it (``0 ** 0 = 1``): ``lr`` until :math:`\tau = s`, 0 from there
    (`jaxsched.piecewise`; the step formula refuses a rate of 0), behind the same warmup.

    Example:
      >>> from jaxsched.compat import timm
      >>> s = timm.StepLRScheduler(0.1, decay_t=30, decay_rate=0.1, warmup_t=3)
      >>> [round(float(s(t)), 4) for t in (0, 3, 32, 33)]
      [0.0, 0.1, 0.1, 0.01]
      >>> s = timm.StepLRScheduler(0.1, decay_t=30, decay_rate=0.0, warmup_t=3)
      >>> [round(float(s(t)), 4) for t in (0, 3, 32, 33)]
      [0.0, 0.1, 0.1, 0.0]
    """
    f = "timm.StepLRScheduler"
    _no_noise(f, noise_range_t)
    if _is_zero(decay_rate):
        step = as_float(f, "decay_t", decay_t, switch=True)
        require(f, "decay_t", step, lambda x: x > 0, "> 0")
        lr = as_float(f, "lr", lr)
        return _warmed(f, _zero_from(lr, step), lr, warmup_t, warmup_lr_init, warmup_prefix)
    main = _decay.step(init_value=lr, step_size=decay_t, decay_rate=decay_rate)
    return _warmed(f, main, main.init_value, warmup_t, warmup_lr_init, warmup_prefix)


def _is_zero(value: Any) -> bool:
    """Whether ``value`` is given on the host as the scalar 0 (a batch or a tracer is not)."""
    c = concrete(value)
    return c is not None and c.ndim == 0 and c.dtype.kind in "iuf" and float(c) == 0.0


def _zero_from(lr: jax.Array, step: Any) -> _decay.Piecewise | _decay.Constant:
    """``lr`` before ``step`` and 0 from it on (``lr`` for good when ``step`` is None): a
    decay with ``decay_rate=0``, which the decay formulas refuse."""
    if step is None:
        return _decay.constant(lr)
    xp, (rate, step) = host_or_traced(lr, step)
    rate, step = xp.broadcast_arrays(rate, step)
    values = xp.stack([rate, xp.zeros_like(rate)], axis=-1)
    return _decay.piecewise(boundaries=xp.expand_dims(step, -1), values=values)


@speaks_as(
    "timm.MultiStepLRScheduler",
    init_value="lr",
    boundaries="decay_t",
    decay_rate="decay_rate",
    values="lr",
)
def MultiStepLRScheduler(
    lr: Any,
    decay_t: Any,
    decay_rate: Any = 1.0,
    warmup_t: Any = 0,
    warmup_lr_init: Any = 0.0,
    warmup_prefix: Any = True,
    t_in_epochs: bool = True,
    noise_range_t: Any = None,
    noise_pct: Any = 0.67,
    noise_std: Any = 1.0,
    noise_seed: Any = 42,
    initialize: bool = True,
) -> Warmup:
    r"""``timm.scheduler.MultiStepLRScheduler``: ``lr * decay_rate ** #{m <= t + 1}``.

    .. math:: \eta(t) = \eta\, \gamma^{\#\{m \in \text{decay\_t} \,:\, m \le \tau + 1\}}

    timm compares each milestone with :math:`\tau + 1`, so milestone :math:`m` applies
    from :math:`\tau = m - 1`, a step before PyTorch's ``MultiStepLR`` would (kept, as
    timm keeps it). Milestones must be sorted, as timm assumes; repeated ones apply
    once each, and those up to 1 apply from the start. This is `jaxsched.piecewise` (or
    `jaxsched.multistep` for traced milestones) behind `warmup`. ``decay_rate=0`` is
    taken as timm takes it (``0 ** 0 = 1``): ``lr`` until the first milestone applies,
    0 from there.

    Example:
      >>> from jaxsched.compat import timm
      >>> s = timm.MultiStepLRScheduler(1.0, decay_t=[10, 20], decay_rate=0.5)
      >>> [float(s(t)) for t in (8, 9, 19)]
      [1.0, 0.5, 0.25]
    """
    f = "timm.MultiStepLRScheduler"
    _no_noise(f, noise_range_t)
    milestones = as_float(f, "decay_t", decay_t, event_ndim=1)
    require_nondecreasing(f, "decay_t", milestones)
    lr = as_float(f, "lr", lr)
    c = concrete(milestones)
    if _is_zero(decay_rate) and (c is None or c.ndim == 1):
        if c is not None and c.size == 0:
            main = _zero_from(lr, None)
        else:  # the first milestone applies from tau = max(m - 1, 0)
            xp, (first,) = host_or_traced(milestones[..., 0])
            main = _zero_from(lr, xp.maximum(first - 1, 0))
        return _warmed(f, main, lr, warmup_t, warmup_lr_init, warmup_prefix)
    rate = as_float(f, "decay_rate", decay_rate)
    require(f, "decay_rate", rate, lambda x: x > 0, "> 0")
    if c is None or c.ndim != 1:  # traced or a batch: counted as they are
        main = _decay.multistep(init_value=lr, boundaries=milestones - 1, decay_rate=rate)
    else:  # sorted: a milestone up to 1 applies from the start, repeats once each
        steps, counts = np.unique(np.maximum(c - 1, 0), return_counts=True)
        passed = np.concatenate([[0], np.cumsum(counts)]).astype(c.dtype)
        values = scaled_power(lr[..., None], rate[..., None], passed)
        if steps.size and steps[0] == 0:  # applied from the first step: folded in
            steps, values = steps[1:], values[..., 1:]
        main = _decay.piecewise(boundaries=steps, values=values)
    return _warmed(f, main, lr, warmup_t, warmup_lr_init, warmup_prefix)


for _fn in (CosineLRScheduler, PolyLRScheduler, TanhLRScheduler, StepLRScheduler):
    factory(None, name=f"timm.{_fn.__name__}")(_fn)
factory(None, name="timm.MultiStepLRScheduler", event_ndims={"decay_t": 1})(MultiStepLRScheduler)
