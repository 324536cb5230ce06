"""PyTorch-exact schedules: ``torch.optim.lr_scheduler`` semantics as jaxsched schedules.

Each constructor takes the keyword arguments of the ``torch.optim.lr_scheduler``
class of the same name, with the optimizer replaced by its learning rate
``lr``, and returns a schedule whose value at step ``t`` is the learning rate
that scheduler gives after ``t`` calls of ``scheduler.step()``. Where PyTorch's
semantics are odd, they are kept (`CosineAnnealingLR` rises again after
``T_max``; `OneCycleLR` ends each phase one step early). With ``cycle_momentum``,
`OneCycleLR` and `CyclicLR` also give the momentum PyTorch sets, as a schedule:
``schedule.momentum``, and so does a `SequentialLR` or `ChainedScheduler` holding one.
`ReduceLROnPlateau`, driven by a metric instead of the
step, is a `jaxsched.Plateau` controller.

Example:
  >>> from jaxsched.compat import torch as lrs
  >>> s = lrs.StepLR(0.1, step_size=30, gamma=0.1)
  >>> [round(float(s(t)), 4) for t in (0, 29, 30)]
  [0.1, 0.1, 0.01]
"""

import functools as _functools
from collections.abc import Iterator as _Iterator
from collections.abc import Set as _AbstractSet
from typing import Any as _Any

import jax as _jax
import jax.numpy as _jnp
import numpy as _np

from jaxsched import _decay
from jaxsched._base import Schedule as _Schedule
from jaxsched._base import data as _data
from jaxsched._base import factory as _factory
from jaxsched._base import register as _register
from jaxsched._base import static as _static
from jaxsched._check import as_bool as _as_bool
from jaxsched._check import as_choice as _as_choice
from jaxsched._check import as_float as _as_float
from jaxsched._check import concrete as _concrete
from jaxsched._check import host_or_traced as _host_or_traced
from jaxsched._check import on_host as _on_host
from jaxsched._check import require as _require
from jaxsched._check import require_increasing as _require_increasing
from jaxsched._cosine import CosineRestarts as _CosineRestarts
from jaxsched._cosine import cosine_restarts as _cosine_restarts
from jaxsched._cycles import Cyclic as _Cyclic
from jaxsched._cycles import cyclic as _cyclic
from jaxsched._math import accurate_rise as _accurate_rise
from jaxsched._math import cosine_fall as _cosine_fall
from jaxsched._math import cosine_parts as _cosine_parts
from jaxsched._math import cosine_rise as _cosine_rise
from jaxsched._math import done as _done
from jaxsched._math import linear_parts as _linear_parts
from jaxsched._math import positive as _positive
from jaxsched._math import safe_power as _safe_power
from jaxsched._math import scaled_power as _scaled_power
from jaxsched._plateau import Plateau as _Plateau
from jaxsched._plateau import plateau as _plateau
from jaxsched._steps import Steps as _Steps
from jaxsched.compat._names import speaks_as as _speaks_as

__all__ = [
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
]


def _fresh(name: str, last_epoch: int) -> None:
    if last_epoch != -1:
        raise ValueError(
            f"torch.{name}: last_epoch={last_epoch} is not supported; evaluate the "
            f"schedule at step + {last_epoch + 1} instead"
        )


def _concrete_int(name: str, param: str, value: _Any) -> int | None:
    """``value`` as a Python int when it is concrete and scalar, else None."""
    c = _concrete(_as_float(f"torch.{name}", param, value))
    if c is None or c.ndim:
        return None
    if not float(c).is_integer():
        raise ValueError(f"torch.{name}: {param} must be a whole number, got {value!r}")
    return int(c)


def _require_whole(name: str, param: str, value: _Any, event_ndim: int = 0) -> None:
    """Concrete entries must be whole numbers: PyTorch's step counts are ints (with a
    fractional one its stepped and closed forms disagree)."""
    c = _concrete(_as_float(f"torch.{name}", param, value, event_ndim=event_ndim))
    if c is not None and not _np.all(c == _np.round(c)):
        raise ValueError(f"torch.{name}: {param} must be whole numbers, got {value!r}")


def _is_zero(value: _Any) -> bool:
    c = _concrete(value)
    return c is not None and c.ndim == 0 and float(c) == 0.0


def _held(name: str, value: _Any, *others: _Any) -> _decay.Constant:
    """``value`` for good, batched as ``value`` and ``others`` (the hyperparameters
    that do not act) broadcast together: a batch stays a batch of its size."""
    xp, (held,) = _host_or_traced(_as_float(f"torch.{name}", "lr", value))
    shape = _np.broadcast_shapes(_np.shape(held), *(_np.shape(v) for v in others))
    return _decay.constant(xp.broadcast_to(held, shape))


def _zero_from(name: str, lr: _Any, step: _Any) -> _decay.Piecewise | _decay.Constant:
    """``lr`` before ``step`` and 0 from it on (``lr`` for good when ``step`` is None):
    PyTorch's decays with ``gamma=0``, which the decay formulas refuse."""
    lr = _as_float(f"torch.{name}", "lr", lr)
    if step is None:
        return _decay.constant(lr)
    xp, (rate,) = _host_or_traced(lr)
    values = xp.stack([rate, xp.zeros_like(rate)], axis=-1)
    return _decay.piecewise(boundaries=[step], values=values)


@_factory(None, name="torch.StepLR")
@_speaks_as("torch.StepLR", init_value="lr", decay_rate="gamma")
def StepLR(
    lr: _Any, step_size: _Any, gamma: _Any = 0.1, last_epoch: int = -1
) -> _decay.StepDecay | _decay.Piecewise:
    """``torch.optim.lr_scheduler.StepLR``: ``lr * gamma ** (t // step_size)``.

    As in `ExponentialLR`, a ``gamma`` that float32 does not hold is stored as
    ``(gamma ** k, k)`` so that its rounding does not compound over the decays.
    """
    _fresh("StepLR", last_epoch)
    _require_whole("StepLR", "step_size", step_size)
    if _is_zero(gamma):
        step_size = _as_float("torch.StepLR", "step_size", step_size)
        _require("torch.StepLR", "step_size", step_size, lambda x: x > 0, "> 0")
        return _zero_from("StepLR", lr, step_size)
    k, rate = _halving_period("torch.StepLR", gamma)
    if k is None:
        return _decay.step(init_value=lr, step_size=step_size, decay_rate=gamma)
    return _StepPerRate(init_value=lr, step_size=step_size, decay_rate=rate, decays_per_rate=k)


@_register("torch.step_per_rate")
class _StepPerRate(_decay.StepDecay):
    r"""`jaxsched.step` with ``decay_rate`` applied once per ``decays_per_rate`` decays:
    `StepLR` stores a ``gamma`` that float32 does not hold as ``(gamma ** k, k)``, so
    that its rounding does not compound. Rebuilt from its fields by the class itself.

    .. math:: \eta(t) = \eta_0 \, \gamma^{\lfloor t / s \rfloor / k}
    """

    decays_per_rate: _jax.Array = _data(float, "> 0")

    def _power(self, decays: _jax.Array) -> _jax.Array:
        return decays / _positive(self.decays_per_rate)


_factory(_StepPerRate, name="torch.step_per_rate")(_StepPerRate)


@_factory(None, name="torch.MultiStepLR", event_ndims={"milestones": 1})
@_speaks_as(
    "torch.MultiStepLR", init_value="lr", boundaries="milestones", decay_rate="gamma", values="lr"
)
def MultiStepLR(
    lr: _Any, milestones: _Any, gamma: _Any = 0.1, last_epoch: int = -1
) -> "_decay.MultiStep | _decay.Piecewise | _Switched":
    """``torch.optim.lr_scheduler.MultiStepLR``: ``lr * gamma ** #{m <= t}``.

    Like PyTorch, milestones may be unsorted and may repeat (a repeated
    milestone applies ``gamma`` once per occurrence); negative ones never fire. Any
    iterable of them is taken (a set, a range), as PyTorch counts them; so is every
    row of a batch ``[config, milestone]``. Switched to
    by a `SequentialLR` at a milestone :math:`m > 0`, the rate starts, as PyTorch's
    ``step(0)`` sets it, at ``lr * gamma ** #{milestones <= 0}``: the negative
    milestones count there, and only there.

    Example:
      >>> s = MultiStepLR(1.0, milestones=[-2, 3], gamma=0.5)
      >>> [float(s(t)) for t in (0, 3)]
      [1.0, 0.5]
      >>> seq = SequentialLR(1.0, schedulers=[ConstantLR(1.0, factor=1.0), s], milestones=[2])
      >>> [float(seq(t)) for t in (1, 2, 5)]
      [1.0, 0.5, 0.25]
    """
    _fresh("MultiStepLR", last_epoch)
    if isinstance(milestones, _AbstractSet | range | _Iterator):
        milestones = list(milestones)
    _require_whole("MultiStepLR", "milestones", milestones, event_ndim=1)
    c = (
        _concrete(milestones)
        if not isinstance(milestones, list | tuple)
        else _np.asarray(milestones)
    )
    schedule = _multistep_fired(lr, milestones, c, gamma)
    if c is not None:
        early = _np.sum(c < 0, axis=-1)
        if not _np.any(early):
            return schedule
    else:
        early = _jnp.sum(_jnp.asarray(milestones) < 0, axis=-1)
    gamma = _as_float("torch.MultiStepLR", "gamma", gamma)
    return _switched(schedule, 0.0, False, False, "torch.MultiStepLR", scale=gamma**early)


def _multistep_fired(
    lr: _Any, milestones: _Any, c: _np.ndarray | None, gamma: _Any
) -> _decay.MultiStep | _decay.Piecewise:
    """`MultiStepLR` on its own: ``gamma`` once per milestone reached, negative ones never
    (``c``: the milestones if concrete, one row per configuration of a batch)."""
    if c is not None and c.ndim == 1:
        c = c[c >= 0]
        if _is_zero(gamma):
            return _zero_from("MultiStepLR", lr, c.min() if c.size else None)
    if c is None or (_np.all(c >= 0) and _np.all(_np.diff(c, axis=-1) > 0)):
        boundaries = milestones if c is None else c
        return _decay.multistep(init_value=lr, boundaries=boundaries, decay_rate=gamma)
    boundaries, passed = _fired_counts(c)
    gamma = _as_float("torch.MultiStepLR", "gamma", gamma)
    _require("torch.MultiStepLR", "gamma", gamma, lambda x: x > 0, "> 0")
    lr = _as_float("torch.MultiStepLR", "lr", lr)
    passed = passed.astype(gamma.dtype)
    xp, (rate, decay) = _host_or_traced(lr, gamma)
    rate, decay = rate[..., None], decay[..., None]  # a batch's axes before the values'
    if xp is _np:  # in float64, far from overflow; rounded once, to lr's dtype, by piecewise
        values = rate.astype(_np.float64) * decay.astype(_np.float64) ** passed
    else:
        values = _scaled_power(rate, decay, passed)
    return _decay.piecewise(boundaries=boundaries, values=values)


def _fired_counts(c: _np.ndarray) -> tuple[_np.ndarray, _np.ndarray]:
    """Per row of milestones ``c[..., n]`` (any order, repeats, negatives): the distinct
    non-negative ones, increasing, and how many milestones have fired from each on
    (``passed[..., 0] = 0``, before the first). Rows with fewer distinct milestones are
    padded past their last with boundaries at which nothing more fires.

    >>> b, p = _fired_counts(_np.array([[5, -1, 3, 5], [2, 9, 7, 8]]))
    >>> b.tolist(), p.tolist()
    ([[3, 5, 6, 7], [2, 7, 8, 9]], [[0, 1, 3, 3, 3], [0, 1, 2, 3, 4]])
    """
    rows = c.reshape(-1, c.shape[-1])
    tables = [_np.unique(row[row >= 0], return_counts=True) for row in rows]
    width = max(1, max(len(u) for u, _ in tables))
    boundaries = _np.empty((len(rows), width), c.dtype)
    passed = _np.empty((len(rows), width + 1), _np.int64)
    for i, (unique, counts) in enumerate(tables):
        start = unique[-1] + 1 if len(unique) else 0
        boundaries[i] = _np.concatenate([unique, start + _np.arange(width - len(unique))])
        fired = _np.cumsum(counts)
        total = fired[-1] if len(fired) else 0
        passed[i] = _np.concatenate([[0], fired, _np.full(width - len(unique), total)])
    return boundaries.reshape(*c.shape[:-1], width), passed.reshape(*c.shape[:-1], width + 1)


@_factory(None, name="torch.ExponentialLR")
@_speaks_as("torch.ExponentialLR", init_value="lr", decay_rate="gamma")
def ExponentialLR(
    lr: _Any, gamma: _Any, last_epoch: int = -1
) -> _decay.Exponential | _decay.Piecewise:
    """``torch.optim.lr_scheduler.ExponentialLR``: ``lr * gamma ** t``.

    PyTorch multiplies in float64. A ``gamma`` that float32 does not hold
    (``0.99`` is ``0.9900000095``) would compound its rounding into the rate,
    ``t`` times: a relative error of ``3e-5`` after 3000 steps. Instead the
    decay is stored as ``(gamma ** k) ** (t / k)`` with ``gamma ** k`` near
    ``1/2`` (or 2), computed on the host in float64, so that the rounding of the
    stored rate counts about ``t / k`` times: the rate stays within about
    ``1e-7 * |log(rate / lr)|`` of PyTorch's. A ``gamma`` held exactly (or a
    traced one) is stored as it is, with ``k = 1``.

    >>> import jaxsched
    >>> stored_as_given = jaxsched.exponential(1.0, decay_steps=1, decay_rate=0.99)
    >>> [f"{abs(float(s(3000)) / 0.99**3000 - 1):.0e}" for s in (stored_as_given, ExponentialLR(1.0, 0.99))]
    ['3e-05', '1e-06']
    """
    _fresh("ExponentialLR", last_epoch)
    if _is_zero(gamma):
        return _zero_from("ExponentialLR", lr, 1)
    k, rate = _halving_period("torch.ExponentialLR", gamma)
    return _decay.exponential(init_value=lr, decay_steps=1 if k is None else k, decay_rate=rate)


def _halving_period(label: str, gamma: _Any) -> tuple[_Any, _Any]:
    """``(k, gamma ** k)`` with ``gamma ** k`` about 1/2 or 2, where ``gamma`` is given
    on the host and its dtype does not hold it; ``(None, gamma)`` elsewhere. PyTorch
    computes ``gamma ** t`` in float64: stored so, a float32 rate's rounding counts
    ``t / k`` times instead of ``t`` times."""
    given = _concrete(gamma)
    if given is None or given.dtype.kind not in "iuf":
        return None, gamma
    given = given.astype(_np.float64)
    # On the host (under jit, as_float's array is a tracer): as_float checks, and says the dtype.
    held = given.astype(_as_float(label, "gamma", gamma).dtype)
    with _np.errstate(divide="ignore", invalid="ignore"):
        k = _np.abs(_np.log(2.0) / _np.log(given))
        plain = (held == given) | ~_np.isfinite(k) | ~(given > 0)  # 1, and refusals, as given
        k = _np.where(plain, 1.0, k).astype(held.dtype)
        rate = _np.where(plain, given, given ** k.astype(_np.float64))
    if plain.all():
        return None, gamma
    return k, rate


@_factory(None, name="torch.PolynomialLR")
@_speaks_as("torch.PolynomialLR", init_value="lr", end_value="lr", decay_steps="total_iters")
def PolynomialLR(
    lr: _Any, total_iters: _Any = 5, power: _Any = 1.0, last_epoch: int = -1
) -> _decay.Poly | _decay.Constant:
    """``torch.optim.lr_scheduler.PolynomialLR``: ``lr * (1 - min(t, T) / T) ** power``.

    With ``total_iters <= 0`` or ``power=0`` PyTorch never changes ``lr``; neither does this.
    Switched to by a `SequentialLR` at a milestone, ``total_iters < 0`` gives 0 for good
    (``power > 0``) and ``total_iters=0`` is refused, as in PyTorch (see `SequentialLR`).
    """
    _fresh("PolynomialLR", last_epoch)
    whole = _concrete_int("PolynomialLR", "total_iters", total_iters)
    if (whole is not None and whole <= 0) or _is_zero(power):
        held = _held("PolynomialLR", lr, total_iters, power)
        return (
            held if whole is not None and whole > 0 else _poly_switch(held, lr, total_iters, power)
        )
    # A traced or batched total_iters <= 0 holds lr too: a decay from lr to lr.
    total_iters = _as_float("torch.PolynomialLR", "total_iters", total_iters, switch=True)
    lr = _as_float("torch.PolynomialLR", "lr", lr)
    xp, (total, rate) = _host_or_traced(total_iters, lr)
    held = total <= 0
    decay = _decay.poly(
        init_value=lr,
        end_value=xp.where(held, rate, xp.zeros_like(rate)),
        decay_steps=xp.where(held, xp.ones_like(total), total),
        power=power,
    )
    return decay if whole is not None else _poly_switch(decay, lr, total_iters, power)


def _poly_switch(schedule: _Schedule, lr: _Any, total_iters: _Any, power: _Any) -> "_Switched":
    """`PolynomialLR`'s ``schedule`` with PyTorch's closed form at epoch 0, ``lr * (1 -
    min(T, 0) / T) ** power``: ``lr`` for ``T > 0``, ``lr * 0.0 ** power`` for ``T < 0``
    (0, or ``lr`` for ``power=0``), which raises for ``T = 0`` or a negative power."""
    f = "torch.PolynomialLR"
    xp, (rate, total, p) = _host_or_traced(
        _as_float(f, "lr", lr),
        _as_float(f, "total_iters", total_iters),
        _as_float(f, "power", power),
    )
    switched = xp.where((total < 0) & (p > 0), xp.zeros_like(rate), rate)
    refused = (total == 0) | ((total < 0) & (p < 0))
    return _switched(schedule, switched, total <= 0, refused, "torch.PolynomialLR")


@_factory(None, name="torch.LinearLR")
@_speaks_as("torch.LinearLR", init_value="lr", end_value="lr", decay_steps="total_iters")
def LinearLR(
    lr: _Any,
    start_factor: _Any = 1.0 / 3,
    end_factor: _Any = 1.0,
    total_iters: _Any = 5,
    last_epoch: int = -1,
) -> _decay.Poly | _decay.Constant:
    """``torch.optim.lr_scheduler.LinearLR``: ``lr`` times a factor moving linearly
    from ``start_factor`` to ``end_factor`` over ``total_iters`` steps.

    With ``total_iters <= 0`` PyTorch never leaves ``start_factor``; so does this.
    Switched to by a `SequentialLR` at a milestone, ``total_iters < 0`` gives ``lr *
    end_factor`` for good and ``total_iters=0`` is refused, as in PyTorch (see `SequentialLR`).
    """
    f = "torch.LinearLR"
    _fresh("LinearLR", last_epoch)
    start_factor = _as_float(f, "start_factor", start_factor)
    end_factor = _as_float(f, "end_factor", end_factor)
    _require(f, "start_factor", start_factor, lambda x: (x > 0) & (x <= 1), "in (0, 1]")
    _require(f, "end_factor", end_factor, lambda x: (x >= 0) & (x <= 1), "in [0, 1]")
    lr = _as_float(f, "lr", lr)
    whole = _concrete_int("LinearLR", "total_iters", total_iters)
    total_iters = _as_float(f, "total_iters", total_iters, switch=True)
    xp, (lr, start, end, total) = _host_or_traced(lr, start_factor, end_factor, total_iters)
    # PyTorch's closed form at epoch 0, what SequentialLR's step(0) sets: lr * (start + (end
    # - start) * min(T, 0) / T), lr * end_factor for T < 0 (and a ZeroDivisionError for 0).
    switched = lr * xp.where(total < 0, start + (end - start), start)
    if whole is not None and whole <= 0:
        held = _held("LinearLR", lr * start, end)
        return _switched(held, switched, True, whole == 0, "torch.LinearLR")
    held = total <= 0  # traced or batched: stays at start_factor
    decay = _decay.linear(
        lr * start,
        lr * xp.where(held, start, end),
        decay_steps=xp.where(held, xp.ones_like(total), total),
    )
    return decay if whole is not None else _switched(decay, switched, held, total == 0, f)


@_factory(None, name="torch.ConstantLR")
@_speaks_as("torch.ConstantLR", boundaries="total_iters", values="lr")
def ConstantLR(
    lr: _Any, factor: _Any = 1.0 / 3, total_iters: _Any = 5, last_epoch: int = -1
) -> _decay.Piecewise | _decay.Constant:
    """``torch.optim.lr_scheduler.ConstantLR``: ``lr * factor`` for ``total_iters`` steps, then ``lr``.

    With ``total_iters <= 0`` PyTorch never leaves ``lr * factor``; nor does this
    (switched to by a `SequentialLR` at a milestone, it gives ``lr`` for good: see
    `SequentialLR`). A ``factor`` of 0 with ``total_iters > 0`` is refused: PyTorch divides
    by it at step ``total_iters``.
    """
    f = "torch.ConstantLR"
    _fresh("ConstantLR", last_epoch)
    factor = _as_float(f, "factor", factor)
    _require(f, "factor", factor, lambda x: (x >= 0) & (x <= 1), "in [0, 1]")
    lr = _as_float(f, "lr", lr)
    whole = _concrete_int("ConstantLR", "total_iters", total_iters)
    if whole is not None and whole <= 0:  # switched to: lr * (factor + (1 - factor)), see _Switched
        return _switched(_decay.constant(lr * factor), lr * (factor + (1 - factor)), True, False, f)
    total_iters = _as_float(f, "total_iters", total_iters, switch=True)
    _require_undone_factor(factor, total_iters)
    xp, (lr, factor, total) = _host_or_traced(lr, factor, total_iters)
    after = xp.where(total <= 0, lr * factor, lr)  # traced or batched <= 0: factor for good
    values = xp.stack(xp.broadcast_arrays(lr * factor, after), axis=-1)
    boundaries = xp.expand_dims(xp.maximum(total, 0), -1)
    piecewise = _decay.piecewise(boundaries=boundaries, values=values)
    if whole is not None:
        return piecewise
    switched = lr * (factor + xp.where(total <= 0, 1 - factor, xp.zeros_like(factor)))
    return _switched(piecewise, switched, total <= 0, xp.zeros_like(total, dtype=bool), f)


def _require_undone_factor(factor: _jax.Array, total_iters: _jax.Array) -> None:
    """At step ``total_iters > 0`` PyTorch's ConstantLR divides the rate by ``factor``: it
    raises ZeroDivisionError for a factor of 0. Refused here, where both are concrete."""
    c_factor, c_total = _concrete(factor), _concrete(total_iters)
    if c_factor is None or c_total is None:
        return
    c_factor, c_total = _np.broadcast_arrays(c_factor, c_total)
    if _np.any((c_factor == 0) & (c_total > 0)):
        raise ValueError(
            f"torch.ConstantLR: factor must be > 0 when total_iters > 0, got factor="
            f"{c_factor.tolist()} and total_iters={c_total.tolist()}: at step total_iters "
            "PyTorch divides the rate by factor (ZeroDivisionError)"
        )


@_factory(None, name="torch.CosineAnnealingWarmRestarts")
@_speaks_as(
    "torch.CosineAnnealingWarmRestarts",
    init_value="lr",
    first_decay_steps="T_0",
    t_mul="T_mult",
    end_value="eta_min",
)
def CosineAnnealingWarmRestarts(
    lr: _Any, T_0: _Any, T_mult: _Any = 1, eta_min: _Any = 0.0, last_epoch: int = -1
) -> _CosineRestarts:
    """``torch.optim.lr_scheduler.CosineAnnealingWarmRestarts``: SGDR with periods ``T_0 * T_mult**i``."""
    f = "torch.CosineAnnealingWarmRestarts"
    _fresh("CosineAnnealingWarmRestarts", last_epoch)
    _concrete_int("CosineAnnealingWarmRestarts", "T_0", T_0)
    _concrete_int("CosineAnnealingWarmRestarts", "T_mult", T_mult)
    _require(f, "T_0", T_0, lambda x: x > 0, "> 0")
    _require(f, "T_mult", T_mult, lambda x: x >= 1, ">= 1")
    return _cosine_restarts(
        init_value=lr, first_decay_steps=T_0, t_mul=T_mult, m_mul=1.0, end_value=eta_min
    )


@_factory(None, name="torch.CyclicLR")
@_speaks_as("torch.CyclicLR", base_value="base_lr", peak_value="max_lr")
def CyclicLR(
    lr: _Any = None,
    base_lr: _Any = None,
    max_lr: _Any = None,
    step_size_up: _Any = 2000,
    step_size_down: _Any = None,
    mode: str = "triangular",
    gamma: _Any = 1.0,
    scale_fn: _Any = None,
    scale_mode: str | None = None,
    cycle_momentum: bool = True,
    base_momentum: _Any = 0.8,
    max_momentum: _Any = 0.9,
    last_epoch: int = -1,
) -> "_Cyclic | _WithMomentum":
    """``torch.optim.lr_scheduler.CyclicLR``. PyTorch overwrites the optimizer's ``lr``
    with ``base_lr``, so ``lr`` does not matter; custom ``scale_fn`` is not supported.
    ``scale_mode`` is ignored, as PyTorch ignores it without a ``scale_fn`` (each mode
    sets its own). A fractional step size float32 cannot hold is rounded, as in
    `jaxsched.cyclic`, and the cycles drift from PyTorch's (float64) by that rounding each:
    on random fractional sizes, up to about 1e-5 of the rate by step 100 and 4e-4 by step
    1e5 (``jax_enable_x64`` for long runs).

    With ``cycle_momentum`` (the default) the schedule has a ``.momentum``, the
    momentum PyTorch sets: the same cycle upside down, from ``max_momentum`` down
    to ``base_momentum`` while the rate climbs,
    ``max_momentum - (max_momentum - base_momentum) * height * scale``.

    Example:
      >>> s = CyclicLR(base_lr=0.01, max_lr=0.1, step_size_up=10)
      >>> [round(float(s(t)), 3) for t in (0, 5, 10)], [round(float(s.momentum(t)), 3) for t in (0, 5, 10)]
      ([0.01, 0.055, 0.1], [0.9, 0.85, 0.8])
    """
    _fresh("CyclicLR", last_epoch)
    if base_lr is None or max_lr is None:
        raise ValueError("torch.CyclicLR: base_lr and max_lr are required")
    if scale_fn is not None:
        raise ValueError("torch.CyclicLR: a custom scale_fn is not supported; use mode")
    _as_choice("torch.CyclicLR", "mode", mode, ("triangular", "triangular2", "exp_range"))
    # PyTorch reads gamma in exp_range only, and computes gamma ** t in float64.
    gamma_steps, rate = (
        _halving_period("torch.CyclicLR", gamma) if mode == "exp_range" else (None, 1.0)
    )
    shape = dict(step_size_up=step_size_up, step_size_down=step_size_down, mode=mode, gamma=rate)
    if gamma_steps is not None:
        shape["gamma_steps"] = gamma_steps
    cyclic = _cyclic if gamma_steps is None else _CyclicPerRate
    lrs = cyclic(base_value=base_lr, peak_value=max_lr, **shape)
    if not _cycles_momentum("torch.CyclicLR", cycle_momentum):
        return lrs
    # max_momentum - (max_momentum - base_momentum) * height * scale: a cycle turned over.
    upside_down = _speaks_as(
        "torch.CyclicLR", base_value="max_momentum", peak_value="base_momentum"
    )
    momentum = upside_down(cyclic)(base_value=max_momentum, peak_value=base_momentum, **shape)
    return _cycle_momentum(lrs, momentum)


@_register("torch.cyclic_per_rate")
class _CyclicPerRate(_Cyclic):
    r"""`jaxsched.cyclic` whose ``gamma`` applies once per ``gamma_steps`` steps:
    `CyclicLR` stores a ``gamma`` that float32 does not hold as ``(gamma ** k, k)``, so
    that its rounding does not compound over the steps (``"exp_range"``: the scale is
    :math:`\gamma^{t / k}`). Rebuilt from its fields by the class itself."""

    gamma_steps: _jax.Array = _data(float, "> 0", default=1.0)

    def _gamma_power(self, steps: _Steps) -> _jax.Array:
        return steps.t / _positive(self.gamma_steps)


_factory(_CyclicPerRate, name="torch.cyclic_per_rate")(_CyclicPerRate)


# ------------------------------------------------------------ switched to at 0
@_register("torch.switched")
class _Switched(_Schedule):
    """``schedule``, with what PyTorch's ``step(0)`` makes of its scheduler: a `SequentialLR`
    switches at a milestone ``m > 0`` with ``step(0)``, which sets the scheduler's closed
    form at epoch 0 (``_get_closed_form_lr``), ``switched``, and steps on from there. For
    `ConstantLR`, `LinearLR` and `PolynomialLR` with ``total_iters <= 0`` (``held``) that
    is not the rate the scheduler starts with, and the steps after it keep it: the rate
    is ``switched`` for good. Where ``refused`` PyTorch raises instead
    (ZeroDivisionError: `LinearLR` and `PolynomialLR` with ``total_iters=0``, which they
    divide by; `PolynomialLR` with ``total_iters < 0`` and ``power < 0``). Elsewhere the
    run from the switch is ``scale`` times the schedule's (a `MultiStepLR`'s closed form
    counts its negative milestones, which never fire on its own: ``gamma`` to their
    number). On its own, the schedule is ``schedule``."""

    schedule: _Schedule = _data()
    switched: _jax.Array = _data(float)
    held: _jax.Array = _data(bool)
    refused: _jax.Array = _data(bool)
    name: str = _static(default="torch.ConstantLR")
    scale: _jax.Array = _data(float, default=1.0)

    def _end(self) -> _jax.typing.ArrayLike:
        return self.schedule._end()

    def _value(self, steps: _Steps) -> _jax.Array:
        return self.schedule._value(steps)

    def _at_switch(self) -> _jax.Array:
        """The rate ``step(0)`` sets where ``held`` (NaN where PyTorch raises)."""
        return _jnp.where(self.refused, _jnp.nan, self.switched)

    def _from_switch(self, run: _jax.Array) -> _jax.Array:
        """The rate of a run from the switch whose rate is ``run`` on its own."""
        return _jnp.where(self.held, self._at_switch(), run * self.scale)


@_factory(_Switched, name="torch.switched")
def _switched(
    schedule: _Schedule,
    switched: _Any,
    held: _Any,
    refused: _Any,
    name: str = "torch.ConstantLR",
    scale: _Any = 1.0,
) -> _Switched:
    """`_Switched`, as `ConstantLR`, `LinearLR`, `PolynomialLR` and `MultiStepLR` build it
    (and `from_dict`)."""
    if not isinstance(schedule, _Schedule):
        raise ValueError(f"torch.switched: schedule must be a schedule, got {schedule!r}")
    f = name if isinstance(name, str) else "torch.switched"
    return _Switched(
        schedule=schedule,
        switched=_as_float(f, "lr", switched),
        held=_as_bool(f, "total_iters <= 0", held),
        refused=_as_bool(f, "total_iters", refused),
        name=name,
        scale=_as_float(f, "gamma", scale),
    )


# ------------------------------------------------------------------ own semantics
@_register("torch.CosineAnnealingLR")
class _CosineAnnealing(_Schedule):
    """PyTorch's cosine annealing, which keeps following the cosine after ``T_max``."""

    lr: _jax.Array = _data()
    T_max: _jax.Array = _data()
    eta_min: _jax.Array = _data()

    def _value(self, steps: _Steps) -> _jax.Array:
        half = _positive(self.T_max)
        _, pos = steps.divmod(2 * half)
        # (1 + cos(pi r / T)) / 2 is symmetric about r = T; fold onto [0, T].
        folded = _jnp.minimum(pos, 2 * half - pos)
        folded = _Steps.position(folded)
        value = self.eta_min + (self.lr - self.eta_min) * _cosine_fall(folded, half)
        # An eta_min above lr: a rise from lr by sin^2(pi p / 2), which keeps lr's digits.
        return _accurate_rise(self.lr, self.eta_min, value, _cosine_rise(_done(folded, half)))


@_factory(_CosineAnnealing, name="torch.CosineAnnealingLR")
def CosineAnnealingLR(
    lr: _Any, T_max: _Any, eta_min: _Any = 0.0, last_epoch: int = -1
) -> _CosineAnnealing:
    r"""``torch.optim.lr_scheduler.CosineAnnealingLR``.

    .. math:: \eta(t) = \eta_{min} + (\eta_0 - \eta_{min}) \frac{1 + \cos(\pi t / T)}{2}

    for every :math:`t`: after ``T_max`` the rate climbs back to ``lr`` over
    the next ``T_max`` steps, and so on, as PyTorch's scheduler does.
    """
    f = "torch.CosineAnnealingLR"
    _fresh("CosineAnnealingLR", last_epoch)
    lr = _as_float(f, "lr", lr)
    T_max = _as_float(f, "T_max", T_max, switch=True)
    _require(f, "T_max", T_max, lambda x: x > 0, "> 0")
    return _CosineAnnealing(lr=lr, T_max=T_max, eta_min=_as_float(f, "eta_min", eta_min))


@_register("torch.OneCycleLR")
class _OneCycle(_Schedule):
    """PyTorch's one-cycle policy: phases end at ``p T - 1``, ``2 p T - 2`` and ``T - 1``."""

    max_lr: _jax.Array = _data()
    total_steps: _jax.Array = _data()
    pct_start: _jax.Array = _data()
    div_factor: _jax.Array = _data()
    final_div_factor: _jax.Array = _data()
    three_phase: _jax.Array = _data()
    anneal_strategy: str = _static(default="cos")

    def _end(self) -> _jax.typing.ArrayLike:
        return self.total_steps  # the value at total_steps is held

    def _value(self, steps: _Steps) -> _jax.Array:
        initial = self.max_lr / self.div_factor
        final = initial / self.final_div_factor
        return _one_cycle_value(self, steps, initial, self.max_lr, final)


@_register("torch.OneCycleMomentum")
class _OneCycleMomentum(_Schedule):
    """The momentum of PyTorch's one-cycle policy: down while the rate rises, back up after."""

    base_momentum: _jax.Array = _data()
    max_momentum: _jax.Array = _data()
    total_steps: _jax.Array = _data()
    pct_start: _jax.Array = _data()
    three_phase: _jax.Array = _data()
    anneal_strategy: str = _static(default="cos")

    def _end(self) -> _jax.typing.ArrayLike:
        return self.total_steps

    def _value(self, steps: _Steps) -> _jax.Array:
        top = self.max_momentum
        return _one_cycle_value(self, steps, top, self.base_momentum, top)


@_factory(_OneCycleMomentum, name="torch.OneCycleMomentum")
def _one_cycle_momentum(
    base_momentum: _Any,
    max_momentum: _Any,
    total_steps: _Any,
    pct_start: _Any,
    three_phase: _Any,
    anneal_strategy: str = "cos",
) -> _OneCycleMomentum:
    """`OneCycleLR`'s momentum schedule, as `from_dict` rebuilds it (see `OneCycleLR`)."""
    f = "torch.OneCycleLR"
    return _OneCycleMomentum(
        base_momentum=_as_float(f, "base_momentum", base_momentum),
        max_momentum=_as_float(f, "max_momentum", max_momentum),
        total_steps=_as_float(f, "total_steps", total_steps),
        pct_start=_as_float(f, "pct_start", pct_start),
        three_phase=_as_bool(f, "three_phase", three_phase),
        anneal_strategy=_as_choice(f, "anneal_strategy", anneal_strategy, ("cos", "linear")),
    )


def _one_cycle_value(
    cycle: _OneCycle | _OneCycleMomentum, steps: _Steps, start: _Any, peak: _Any, end: _Any
) -> _jax.Array:
    """PyTorch's one-cycle phases from ``start`` to ``peak`` to ``end`` (three phases:
    ``peak`` back to ``start``, then to ``end``), ending at ``p T - 1``, ``2 p T - 2``
    and ``T - 1``, each annealed by ``cycle.anneal_strategy``."""
    total = cycle.total_steps
    # PyTorch raises past total_steps; the value at total_steps is held.
    past = steps.passed(total)
    t = _Steps.select(past, _Steps.position(total), steps)
    # Phase ends as (a multiple of T, steps before it), subtracted from the step in
    # that order: pT - 1 rounds by up to 64 steps in float32 past 2**30.
    end1 = (cycle.pct_start * total, 1.0)
    end2 = (2 * cycle.pct_start * total, 2.0)
    last = (total, 1.0)
    shape = cycle.anneal_strategy
    rise = _phase(t, (0.0, 0.0), end1, start, peak, shape)
    two = _phase(t, end1, last, peak, end, shape)
    back = _phase(t, end1, end2, peak, start, shape)
    tail = _phase(t, end2, last, start, end, shape)
    three = _jnp.where(_until(t, end2) >= 0, back, tail)
    return _jnp.where(_until(t, end1) >= 0, rise, _jnp.where(cycle.three_phase, three, two))


def _phase(t: _Steps, start_step, end_step, start, end, shape: str) -> _jax.Array:
    """PyTorch's annealing between two steps, unclipped (it extrapolates to T)."""
    length = (end_step[0] - start_step[0]) - (end_step[1] - start_step[1])
    safe = _jnp.where(length == 0, 1.0, length)
    p = _jnp.where(length == 0, 1.0, -_until(t, start_step) / safe)
    q = _jnp.where(length == 0, 0.0, _until(t, end_step) / safe)
    if shape == "linear":
        return _linear_parts(start, end, p, q)
    return _cosine_parts(start, end, p, q)


def _until(t: _Steps, end: tuple[_jax.Array, _jax.Array]) -> _jax.Array:
    """The steps from ``t`` to ``end[0] - end[1]``, exact where the two are close."""
    return t.until(end[0]) - end[1]


@_factory(_OneCycle, name="torch.OneCycleLR")
def OneCycleLR(
    lr: _Any = None,
    max_lr: _Any = None,
    total_steps: _Any = None,
    epochs: _Any = None,
    steps_per_epoch: _Any = None,
    pct_start: _Any = 0.3,
    anneal_strategy: str = "cos",
    cycle_momentum: bool = True,
    base_momentum: _Any = 0.85,
    max_momentum: _Any = 0.95,
    div_factor: _Any = 25.0,
    final_div_factor: _Any = 1e4,
    three_phase: _Any = False,
    last_epoch: int = -1,
) -> "_OneCycle | _WithMomentum":
    r"""``torch.optim.lr_scheduler.OneCycleLR`` (PyTorch overwrites ``lr``, so it does not matter).

    With :math:`\eta_s = \eta_{max}/d` and :math:`\eta_f = \eta_s/d_f`, the
    phases end at steps :math:`pT - 1` (:math:`\eta_s \to \eta_{max}`) and
    :math:`T - 1` (:math:`\to \eta_f`); with ``three_phase``, at :math:`pT - 1`,
    :math:`2pT - 2` (:math:`\to \eta_s`) and :math:`T - 1`. At step :math:`T` the
    last phase is extrapolated, as PyTorch does; later steps hold that value
    (PyTorch raises there). ``total_steps``, or ``epochs`` and ``steps_per_epoch``, must be
    whole numbers.

    With ``cycle_momentum`` (the default) the schedule has a ``.momentum``: the
    momentum PyTorch sets (SGD's ``momentum``, Adam's ``betas[0]``), annealed in
    the same phases the other way, ``max_momentum`` to ``base_momentum`` and back
    (three phases: back to ``max_momentum`` and held there).

    Example:
      >>> import optax
      >>> s = OneCycleLR(max_lr=0.1, total_steps=100, pct_start=0.25)
      >>> [round(float(s(t)), 3) for t in (0, 24, 99)], [round(float(s.momentum(t)), 3) for t in (0, 24, 99)]
      ([0.004, 0.1, 0.0], [0.95, 0.85, 0.95])
      >>> opt = optax.inject_hyperparams(optax.sgd)(learning_rate=s, momentum=s.momentum)
    """
    f = "torch.OneCycleLR"
    _fresh("OneCycleLR", last_epoch)
    if max_lr is None:
        raise ValueError(f"{f}: max_lr is required")
    if total_steps is None:
        if epochs is None or steps_per_epoch is None:
            raise ValueError(f"{f}: give total_steps, or epochs and steps_per_epoch")
        _require_whole("OneCycleLR", "epochs", epochs)  # PyTorch: positive integers
        _require_whole("OneCycleLR", "steps_per_epoch", steps_per_epoch)
        given = (epochs, steps_per_epoch)
        epochs = _as_float(f, "epochs", epochs)
        steps_per_epoch = _as_float(f, "steps_per_epoch", steps_per_epoch)
        _require(f, "epochs", epochs, lambda x: x > 0, "> 0")
        _require(f, "steps_per_epoch", steps_per_epoch, lambda x: x > 0, "> 0")
        total_steps = _product_on_host(*given)
        if total_steps is None:  # traced or arrays: their float product
            total_steps = epochs * steps_per_epoch
    else:
        _require_whole("OneCycleLR", "total_steps", total_steps)
    _require_a_first_phase(pct_start, total_steps)
    total_steps = _as_float(f, "total_steps", total_steps, switch=True)
    pct_start = _as_float(f, "pct_start", pct_start)
    _require(f, "total_steps", total_steps, lambda x: x > 0, "> 0")
    _require(f, "pct_start", pct_start, lambda x: (x >= 0) & (x <= 1), "in [0, 1]")
    div_factor = _as_float(f, "div_factor", div_factor)
    final_div_factor = _as_float(f, "final_div_factor", final_div_factor)
    _require(f, "div_factor", div_factor, lambda x: x > 0, "> 0")
    _require(f, "final_div_factor", final_div_factor, lambda x: x > 0, "> 0")
    three_phase = _as_bool(f, "three_phase", three_phase)
    anneal_strategy = _as_choice(f, "anneal_strategy", anneal_strategy, ("cos", "linear"))
    rate = _OneCycle(
        max_lr=_as_float(f, "max_lr", max_lr),
        total_steps=total_steps,
        pct_start=pct_start,
        div_factor=div_factor,
        final_div_factor=final_div_factor,
        three_phase=three_phase,
        anneal_strategy=anneal_strategy,
    )
    if not _cycles_momentum(f, cycle_momentum):
        return rate
    momentum = _one_cycle_momentum(
        base_momentum, max_momentum, total_steps, pct_start, three_phase, anneal_strategy
    )
    return _cycle_momentum(rate, momentum)


def _product_on_host(epochs: _Any, steps_per_epoch: _Any) -> _Any:
    """``epochs * steps_per_epoch`` in float64 where both are numbers on the host (None
    otherwise), so that a product float32 cannot hold is rounded once, with `as_float`'s
    warning, from the exact product."""
    host = [_on_host(v) for v in (epochs, steps_per_epoch)]
    if any(h is None or h.dtype.kind not in "iuf" for h in host):
        return None
    return host[0].astype(_np.float64) * host[1].astype(_np.float64)


def _require_a_first_phase(pct_start: _Any, total_steps: _Any) -> None:
    """PyTorch's first phase lasts ``pct_start * total_steps - 1`` steps, which it
    divides by: it refuses (ZeroDivisionError) a product of exactly 1, as computed
    in float64 from the arguments as given; so does this, with a ValueError."""
    p, total = _on_host(pct_start), _on_host(total_steps)
    if p is None or total is None or p.dtype.kind not in "biuf" or total.dtype.kind not in "biuf":
        return
    if _np.any(p.astype(_np.float64) * total.astype(_np.float64) == 1):
        raise ValueError(
            f"torch.OneCycleLR: pct_start * total_steps must not be 1, got pct_start="
            f"{p.tolist()} and total_steps={total.tolist()}: the warmup would last 0 steps, "
            "which PyTorch refuses (it divides by that length)"
        )


# ---------------------------------------------------------------- momentum
@_register("torch.cycle_momentum")
class _WithMomentum(_Schedule):
    """A learning-rate schedule with the momentum PyTorch cycles along with it:
    the value is ``schedule``'s, and ``momentum`` is a schedule of its own."""

    schedule: _Schedule = _data()
    momentum: _Schedule = _data()

    def _end(self) -> _jax.typing.ArrayLike:
        return self.schedule._end()

    def _value(self, steps: _Steps) -> _jax.Array:
        return self.schedule._value(steps)


@_factory(_WithMomentum, name="torch.cycle_momentum")
def _cycle_momentum(schedule: _Schedule, momentum: _Schedule) -> _WithMomentum:
    """``schedule`` with ``momentum`` as its ``.momentum`` (what `OneCycleLR` and
    `CyclicLR` return with ``cycle_momentum``, and `from_dict` rebuilds)."""
    for name, value in (("schedule", schedule), ("momentum", momentum)):
        if not isinstance(value, _Schedule):
            raise ValueError(f"torch.cycle_momentum: {name} must be a schedule, got {value!r}")
    # Rebuilt from a dict, OneCycleLR's own part comes with a (default) momentum: drop it.
    return _WithMomentum(schedule=_rate(schedule), momentum=momentum)


def _cycles_momentum(label: str, cycle_momentum: _Any) -> bool:
    """``cycle_momentum`` as a Python bool: it decides whether there is a momentum schedule."""
    if not isinstance(cycle_momentum, bool | _np.bool_):
        raise ValueError(f"{label}: cycle_momentum must be True or False, got {cycle_momentum!r}")
    return bool(cycle_momentum)


@_register("torch.combined_momentum")
class _CombinedMomentum(_Schedule):
    """The momentum of a `SequentialLR` or `ChainedScheduler` whose schedulers cycle one:
    at each step, what the scheduler that set it last set (see `_last_set`)."""

    combination: _Schedule = _data()

    def _value(self, steps: _Steps) -> _jax.Array:
        c = self.combination
        return _last_set(c._replace(schedulers=_shared_param_group(c.schedulers)), steps)[1]


_factory(_CombinedMomentum, name="torch.combined_momentum")(_CombinedMomentum)


def _cycles(s: _Schedule) -> bool:
    """Whether a scheduler of ``s`` (``s`` itself, or one of a combination) cycles the momentum."""
    if isinstance(s, _Sequential | _Chained):
        return any(map(_cycles, s.schedulers))
    return isinstance(s, _WithMomentum)


def _combined_momentum(combination: _Schedule) -> _CombinedMomentum:
    """The ``.momentum`` of a `SequentialLR` or `ChainedScheduler`: only where one of its
    schedulers cycles it."""
    if not _cycles(combination):
        raise AttributeError(
            f"{combination.kind} has no momentum: none of its schedulers cycles one"
        )
    return _CombinedMomentum(combination=combination)


#: ``_last_set``'s "when" of a momentum set at the step asked for (after every other).
_NOW = float("inf")


def _last_set(s: _Schedule, steps: _Steps) -> tuple[_jax.Array, _jax.Array]:
    """``(when, value)``: when the cycling schedulers of ``s`` last set the momentum, at or
    before each step, and to what. PyTorch's schedulers write the optimizer's momentum:
    `OneCycleLR` and `CyclicLR` when built and at every step; a `SequentialLR` only
    while its current scheduler is one of those (switched to with ``step(0)``: from its
    value at 0), so after one it keeps the last value set; a `ChainedScheduler` steps
    each in turn, so the last one to set it wins. ``when`` is ``_NOW`` (set at this
    step), an earlier step, or -1: when built, which is also where PyTorch takes step 0,
    every scheduler in the order built (among equal ``when``, the later member wins)."""
    if isinstance(s, _WithMomentum):
        return _jnp.where(steps.reached(1), _NOW, -1.0), s.momentum._value(steps)
    if isinstance(s, _Chained):
        first, *rest = filter(_cycles, s.schedulers)
        when, value = _last_set(first, steps)
        for member in rest:
            w, v = _last_set(member, steps)
            when, value = _jnp.where(w >= when, w, when), _jnp.where(w >= when, v, value)
        return when, value
    # A SequentialLR: built, the last cycling scheduler built set its value at 0; then
    # each cycling one sets it while it runs, and its last value stays after it.
    subs = s.schedulers
    cycling = [j for j, x in enumerate(subs) if isinstance(x, _WithMomentum)]
    zero = _Steps.position(_jnp.zeros((), steps.dtype))
    when, value = _jnp.asarray(-1.0), subs[cycling[-1]].momentum._value(zero)
    for j in cycling:
        start = s.milestones[..., j - 1] if j > 0 else _jnp.zeros((), s.milestones.dtype)
        run = subs[j].momentum._value(steps.since(start) if j > 0 else steps)
        began = steps.reached(start)
        if j < len(subs) - 1:
            end = s.milestones[..., j]
            last = _jnp.maximum(end - 1, start)
            final = subs[j].momentum._value(_Steps.position(last - start))
            done = steps.reached(end) & (end > start)
            when = _jnp.where(done, _jnp.where(last >= 1, last, -1.0), when)
            value = _jnp.where(done, final, value)
            began = began & _jnp.logical_not(steps.reached(end))
        when = _jnp.where(began, _jnp.where(steps.reached(1), _NOW, -1.0), when)
        value = _jnp.where(began, run, value)
    return when, value


# ------------------------------------------------------- functions of the step
def _function(label: str, lr_lambda: _Any) -> _Any:
    if not callable(lr_lambda):
        raise ValueError(
            f"{label}: lr_lambda must be a JAX-traceable function of the step, got "
            f"{lr_lambda!r} (a spec string or a dict cannot hold a function: build "
            f"{label} in Python)"
        )
    return lr_lambda


class _WithFunction(_Schedule):
    """A schedule holding a Python function, which no dict or spec string can hold."""

    def to_dict(self) -> dict[str, _Any]:
        raise ValueError(
            f"{self.kind}: a schedule built on a Python function (lr_lambda) cannot be "
            "written as data (to_dict, JSON, spec strings); keep it in Python"
        )


@_register("torch.LambdaLR")
class _Lambda(_WithFunction):
    """PyTorch's ``LambdaLR``: ``lr * lr_lambda(t)``."""

    lr: _jax.Array = _data()
    lr_lambda: _Any = _static()

    def _value(self, steps: _Steps) -> _jax.Array:
        return self.lr * _jnp.asarray(self.lr_lambda(steps.t), steps.t.dtype)


@_factory(_Lambda, name="torch.LambdaLR")
def LambdaLR(lr: _Any, lr_lambda: _Any, last_epoch: int = -1) -> _Lambda:
    r"""``torch.optim.lr_scheduler.LambdaLR``: ``lr * lr_lambda(t)``.

    .. math:: \eta(t) = \eta_0 \, \lambda(t)

    ``lr_lambda`` must be JAX-traceable and elementwise: it is called on an
    array of steps (floats of the schedule's dtype) under ``jit`` and ``vmap``,
    so use ``jnp.where`` instead of ``if``. It is a static part of the schedule:
    ``lr`` sweeps, the function does not, and `to_dict` and `jaxsched.parse`
    refuse a schedule holding one.

    Example:
      >>> s = LambdaLR(0.1, lr_lambda=lambda epoch: 0.95**epoch)
      >>> [round(float(s(t)), 5) for t in (0, 1, 10)]
      [0.1, 0.095, 0.05987]
    """
    f = "torch.LambdaLR"
    _fresh("LambdaLR", last_epoch)
    return _Lambda(lr=_as_float(f, "lr", lr), lr_lambda=_function(f, lr_lambda))


#: Steps of `_product`'s loop evaluated at once.
_CHUNK = 256


def _product(fn: _Any, count: _jax.Array) -> _jax.Array:
    """``prod(fn(k) for k in 1..count)`` for each entry of ``count`` (whole, >= 0; an
    infinite one gives NaN): a ``lax.while_loop`` over chunks of `_CHUNK` steps, each
    evaluated at once, so ``count / 256`` iterations."""
    finite = _jnp.isfinite(count)
    count = _jnp.where(finite, count, 0)
    ks = _jnp.arange(1, _CHUNK + 1, dtype=count.dtype).reshape((_CHUNK,) + (1,) * count.ndim)

    def more(carry):
        start, _ = carry
        return start < _jnp.max(count, initial=0)

    def chunk(carry):
        start, acc = carry
        k = start + ks
        factors = _jnp.where(k <= count, _jnp.asarray(fn(k), count.dtype), 1)
        return start + _CHUNK, acc * _jnp.prod(factors, axis=0)

    start = _jnp.zeros((), count.dtype)
    _, acc = _jax.lax.while_loop(more, chunk, (start, _jnp.ones_like(count)))
    return _jnp.where(finite, acc, _jnp.nan)


@_register("torch.MultiplicativeLR")
class _Multiplicative(_WithFunction):
    """PyTorch's ``MultiplicativeLR``: ``lr`` times ``lr_lambda(k)`` for ``k = 1..t``."""

    lr: _jax.Array = _data()
    lr_lambda: _Any = _static()

    def _value(self, steps: _Steps) -> _jax.Array:
        return self.lr * _product(self.lr_lambda, _jnp.floor(steps.t))


@_factory(_Multiplicative, name="torch.MultiplicativeLR")
def MultiplicativeLR(lr: _Any, lr_lambda: _Any, last_epoch: int = -1) -> _Multiplicative:
    r"""``torch.optim.lr_scheduler.MultiplicativeLR``: each step multiplies the rate by
    ``lr_lambda(step)``.

    .. math:: \eta(t) = \eta_0 \prod_{k=1}^{\lfloor t \rfloor} \lambda(k)

    No closed form exists for an arbitrary ``lr_lambda``, so the value at ``t``
    costs ``t`` evaluations of it: a ``lax.while_loop`` (jittable, vmappable,
    differentiable in ``lr``) that evaluates 256 steps at once per iteration.
    For a factor that does not depend on the step, `ExponentialLR` is the closed
    form. ``lr_lambda`` is as in `LambdaLR`: traceable, elementwise, static. The
    product rounds once per factor: in float32 it may drift from PyTorch's
    float64 product by up to about ``t * 6e-8``, relatively (``jax_enable_x64``
    for long runs).

    Example:
      >>> s = MultiplicativeLR(0.1, lr_lambda=lambda epoch: 0.95)
      >>> [round(float(s(t)), 5) for t in (0, 1, 10)]
      [0.1, 0.095, 0.05987]
    """
    f = "torch.MultiplicativeLR"
    _fresh("MultiplicativeLR", last_epoch)
    return _Multiplicative(lr=_as_float(f, "lr", lr), lr_lambda=_function(f, lr_lambda))


# ---------------------------------------------------------------- combinations
#: What each compat schedule's ``step()`` does to the rate it finds: multiply it
#: (by the ratio of its closed form from one step to the next) or overwrite it.
_MULTIPLIES = (
    _decay.Constant,
    _decay.StepDecay,
    _decay.MultiStep,
    _decay.Piecewise,
    _decay.Exponential,
    _decay.Poly,
    _Multiplicative,
)
_OVERWRITES = (_Lambda, _Cyclic, _OneCycle, _CosineRestarts)


def _sub_schedules(label: str, schedulers: _Any) -> tuple[_Schedule, ...]:
    if (
        isinstance(schedulers, _Schedule)
        or not isinstance(schedulers, list | tuple)
        or not schedulers
    ):
        raise ValueError(f"{label}: schedulers must be a non-empty list of schedules")
    for i, s in enumerate(schedulers):
        if not isinstance(s, _Schedule):
            raise ValueError(f"{label}: schedulers[{i}] must be a schedule, got {s!r}")
    return tuple(schedulers)


def _rate(schedule: _Schedule) -> _Schedule:
    """The learning-rate schedule itself (without the momentum cycled along, or what a
    switch to it does: see `_Switched`)."""
    return schedule.schedule if isinstance(schedule, _WithMomentum | _Switched) else schedule


@_register("torch.SequentialLR")
class _Sequential(_Schedule):
    """PyTorch's ``SequentialLR``: ``schedulers[i]`` from ``milestones[i - 1]``, on an
    optimizer whose rate is ``lr``."""

    lr: _jax.Array = _data(float)
    schedulers: tuple[_Schedule, ...] = _data(event_ndim=1)
    milestones: _jax.Array = _data(event_ndim=1)

    @property
    def momentum(self) -> _CombinedMomentum:
        """The momentum its cycling schedulers set, as PyTorch leaves it (`_last_set`)."""
        return _combined_momentum(self)

    def _end(self) -> _jax.typing.ArrayLike:
        last = self.schedulers[-1]._end()
        return last + self.milestones[..., -1] if self.milestones.shape[-1] else last

    def _value(self, steps: _Steps) -> _jax.Array:
        shared = _shared_param_group(self.schedulers)
        return self._segment(len(self.schedulers) - 1, steps, shared)

    def _segment(self, i: int, steps: _Steps, shared: tuple[_Schedule, ...]) -> _jax.Array:
        """The value at ``steps`` of schedulers ``0..i``, as switched by the milestones
        (``shared``: the schedulers reading what PyTorch keeps in the param group)."""
        if i == 0:
            return self._from_construction(0, _rate(shared[0])._value(steps), steps)
        m = self.milestones[..., i - 1]
        child = _rate(shared[i])
        local = steps.since(m)
        own = after = child._value(local)
        if isinstance(shared[i], _Switched):  # step(0)'s closed form
            after = _jnp.where(m > 0, shared[i]._from_switch(after), after)
        if isinstance(child, _Multiplicative):
            # Switched to with step(0), MultiplicativeLR multiplies the rate it finds,
            # the one of step m - 1, by lr_lambda(0): it continues from there.
            last = _jnp.maximum(m - 1, 0)
            before = self._segment(i - 1, _Steps.position(last), shared)
            go_on = before * _jnp.asarray(child.lr_lambda(_jnp.zeros_like(m)), m.dtype)
            after = _jnp.where(m > 0, go_on * (after / child.lr), after)
        if _resets(self.schedulers):
            if not isinstance(child, _Multiplicative):
                base = _built_on(self.lr, (self,), i, steps.dtype)
                after = _on_base(child, after, base, self.lr, local)
            if i == 1:  # a first milestone of 0: this one runs from the construction
                after = _jnp.where(m > 0, after, self._from_construction(i, own, local))
        return _jnp.where(steps.reached(m), after, self._segment(i - 1, steps, shared))

    def _from_construction(self, i: int, value: _jax.Array, steps: _Steps) -> _jax.Array:
        """``schedulers[i]``, the one the milestones pick at 0, run from the construction,
        where its own rate is ``value``. There PyTorch's ``SequentialLR`` resets the rate to
        the optimizer's ``initial_lr`` and takes that scheduler's first step: where a
        `OneCycleLR` or a `CyclicLR` has replaced it, the rate differs (`_from_reset`)."""
        if not _resets(self.schedulers):
            return value
        reset = _initial_lr(self.lr, self.schedulers, steps.dtype)
        base = _built_on(self.lr, (self,), i, steps.dtype)
        child = _rate(self.schedulers[i])
        return _from_reset(child, value, reset, base, self.lr, steps)


def _built_on(lr: _jax.Array, built: _Any, j: int, dtype: _Any) -> _jax.Array:
    """The optimizer's ``initial_lr`` when ``schedulers[j]`` of the `SequentialLR` last in
    ``built`` was built (``built``: the schedulers built before it, then it, as built)."""
    return _initial_lr(lr, (*built[:-1], *built[-1].schedulers[:j]), dtype)


def _resets(schedulers: tuple[_Schedule, ...]) -> bool:
    """Whether a scheduler in the list replaces the optimizer's ``initial_lr`` (see
    `_initial_lr`): a `OneCycleLR`, or a `CyclicLR` built first."""
    built = [_rate(s) for s in _in_build_order(schedulers)]
    cyclic_first = bool(built) and isinstance(built[0], _Cyclic)
    return cyclic_first or any(isinstance(s, _OneCycle) for s in built)


def _rebuilt(s: _Schedule, base: _jax.Array) -> _Schedule:
    """``s`` built on an optimizer whose ``initial_lr`` is ``base``, where ``s`` reads it
    itself (its ``base_lrs``): `LambdaLR`, `CosineAnnealingWarmRestarts`, and the restarts
    of `CosineAnnealingLR`; any other is returned as it is."""
    if isinstance(s, _CosineAnnealing | _Lambda):
        return s._replace(lr=base)
    if isinstance(s, _CosineRestarts):
        return s._replace(init_value=base)
    return s


def _on_base(
    s: _Schedule, value: _jax.Array, base: _jax.Array, lr: _jax.Array, steps: _Steps
) -> _jax.Array:
    """The rate of PyTorch's scheduler ``s``, built with ``lr``, whose ``value`` it is at
    ``steps``, had the optimizer's ``initial_lr`` been ``base`` when it was built (its
    ``base_lrs``, on which its closed form and the rates of a switch to it are built).
    `OneCycleLR` and `CyclicLR` keep their own rates; the cosines start from ``base``
    towards their ``eta_min``; every other scheduler's rate is proportional to it."""
    if isinstance(s, _OneCycle | _Cyclic):
        return value
    if isinstance(s, _CosineAnnealing | _Lambda | _CosineRestarts):
        return _rebuilt(s, base)._value(steps)
    return value * (base / _jnp.where(lr == 0, 1.0, lr))


def _from_reset(
    s: _Schedule,
    value: _jax.Array,
    reset: _jax.Array,
    base: _jax.Array,
    lr: _jax.Array,
    steps: _Steps,
) -> _jax.Array:
    """The rate of PyTorch's scheduler ``s`` (built with ``lr`` on an optimizer whose
    ``initial_lr`` was then ``base``), whose ``value`` it is at ``steps``, run by a
    ``SequentialLR`` from its construction, which reset the rate to ``reset``: the
    recursive forms go on from ``reset``; `LambdaLR` and `CosineAnnealingWarmRestarts`
    read their ``base_lrs``; `CosineAnnealingLR` falls from ``reset`` to ``eta_min`` and
    climbs back from there towards ``base`` (its restarts add its ``base_lrs``)."""
    if isinstance(s, _OneCycle | _Cyclic | _Lambda | _CosineRestarts):
        return _on_base(s, value, base, lr, steps)
    if isinstance(s, _CosineAnnealing):
        fall = s._replace(lr=reset)._value(steps)
        return _jnp.where(steps.reached(s.T_max), _on_base(s, value, base, lr, steps), fall)
    return _on_base(s, value, reset, lr, steps)  # proportional: from the reset rate


@_factory(_Sequential, name="torch.SequentialLR", event_ndims={"milestones": 1})
def SequentialLR(
    lr: _Any = None, schedulers: _Any = None, milestones: _Any = None, last_epoch: int = -1
) -> _Sequential:
    r"""``torch.optim.lr_scheduler.SequentialLR``: ``schedulers[i]`` from ``milestones[i - 1]``
    on, counting its steps from there.

    .. math:: \eta(t) = S_i(t - m_{i-1}) \quad \text{for } m_{i-1} \le t < m_i

    ``lr`` is the optimizer's rate, which every scheduler is built with (in PyTorch they
    share the optimizer). PyTorch switches with ``scheduler.step(0)``: the closed form
    at 0, so each scheduler starts afresh from its base rate. The exceptions are kept:
    a `MultiplicativeLR` switched to multiplies the rate it finds, the one of step
    :math:`m - 1`, by ``lr_lambda(0)`` and goes on from there; a `MultiStepLR`
    switched to at a milestone :math:`m > 0` starts with ``gamma`` to the number of
    its milestones :math:`\le 0`, negative ones included, which never fire otherwise;
    a `ConstantLR`, `LinearLR` or `PolynomialLR` with ``total_iters <= 0`` switched to
    at a milestone :math:`m > 0` takes its closed form at 0 (``lr``, ``lr *
    end_factor``, 0), not its starting rate, and keeps it; a `LinearLR` or
    `PolynomialLR` with ``total_iters=0`` (whose closed form divides by it) is refused
    there. ``milestones`` must be strictly increasing and non-negative (PyTorch
    bisects them as given). A `SequentialLR` or `ChainedScheduler` among the schedulers
    is refused: PyTorch raises when it switches to one, and steps one that runs first
    otherwise than alone.

    The base rate is the optimizer's ``initial_lr`` when the scheduler was built
    (built in the list's order): ``lr``, unless a `OneCycleLR` built before it replaced
    it with ``max_lr / div_factor``, or a `CyclicLR` built first with its ``base_lr``.
    The scheduler that runs from step 0 goes on from the rate the ``SequentialLR``
    resets to when built, the ``initial_lr`` once all are built (a `LambdaLR` or
    `CosineAnnealingWarmRestarts` reads its base rate instead, and a
    `CosineAnnealingLR` falls from it to ``eta_min`` and climbs back towards its base
    rate). Two `OneCycleLR` share the optimizer's ``max_lr``, ``initial_lr`` and
    ``min_lr``, the last one's, as in PyTorch (its ``max_lr``, ``div_factor`` and
    ``final_div_factor``; each keeps its own phases), while a scheduler built between
    them is built on the first one's ``initial_lr``.

    Where a scheduler in it cycles the momentum (`OneCycleLR`, `CyclicLR`), the result
    has a ``.momentum``: what PyTorch leaves in the optimizer. Each of those sets it
    when built and while it runs (from its value at 0 at its milestone); after it the
    last value set stays; before any has run, it is the value at 0 of the last one
    built. A `OneCycleLR` reads ``max_momentum`` and ``base_momentum`` from the param
    group, where the last of them built (a `CyclicLR` too) wrote its own.

    Example:
      >>> warm = LinearLR(0.1, start_factor=0.1, total_iters=5)
      >>> s = SequentialLR(0.1, schedulers=[warm, ExponentialLR(0.1, gamma=0.9)], milestones=[5])
      >>> [round(float(s(t)), 4) for t in (0, 4, 5, 6)]
      [0.01, 0.082, 0.1, 0.09]
    """
    f = "torch.SequentialLR"
    _fresh("SequentialLR", last_epoch)
    if lr is None:
        raise ValueError(
            f"{f}: lr is required: the optimizer's rate, which its schedulers are built with "
            "and PyTorch's SequentialLR resets the rate to"
        )
    lr = _as_float(f, "lr", lr)
    schedulers = _sub_schedules(f, schedulers)
    for i, s in enumerate(schedulers):
        if isinstance(_rate(s), _Sequential | _Chained):
            raise ValueError(
                f"{f}: schedulers[{i}] is a {s.kind[len('torch.') :]}, which PyTorch's "
                "SequentialLR does not nest: switching to it raises NotImplementedError, and "
                "run first it does not step as it does alone; give PyTorch's schedulers"
            )
    if milestones is None:
        raise ValueError(f"{f}: milestones are required")
    milestones = _as_float(f, "milestones", milestones, event_ndim=1, switch=True)
    _require_increasing(f, "milestones", milestones)
    _require_whole("SequentialLR", "milestones", milestones, event_ndim=1)
    if milestones.shape[-1] != len(schedulers) - 1:
        raise ValueError(
            f"{f}: milestones must have one entry fewer than schedulers, got "
            f"{milestones.shape[-1]} milestones for {len(schedulers)} schedulers"
        )
    _require_switchable(schedulers, milestones)
    return _Sequential(lr=lr, schedulers=schedulers, milestones=milestones)


def _require_switchable(schedulers: tuple[_Schedule, ...], milestones: _jax.Array) -> None:
    """PyTorch's ``step(0)`` at a milestone ``m > 0`` raises for some schedulers (see
    `_Switched`): refused where the milestone and the scheduler's arguments are concrete."""
    at = _concrete(milestones)
    for j, sub in enumerate(schedulers[1:], start=1):
        refused = _concrete(sub.refused) if isinstance(sub, _Switched) else None
        if at is None or refused is None:
            continue
        try:
            bad = _np.any(refused & (at[..., j - 1] > 0))
        except ValueError:  # batch shapes that do not broadcast: said when it is built
            continue
        if bad:
            raise ValueError(
                f"torch.SequentialLR: schedulers[{j}] ({sub.name}) cannot be switched to at "
                f"milestone {at[..., j - 1].tolist()}: PyTorch switches with step(0), whose "
                "closed form raises ZeroDivisionError for it (LinearLR and PolynomialLR "
                "with total_iters=0 divide by it; PolynomialLR with total_iters < 0 raises "
                "0.0 to its negative power); give total_iters > 0 (or < 0), or a milestone of 0"
            )


@_register("torch.ChainedScheduler")
class _Chained(_Schedule):
    """PyTorch's ``ChainedScheduler``: every scheduler steps the one rate, in order."""

    lr: _jax.Array = _data()
    schedulers: tuple[_Schedule, ...] = _data(event_ndim=1)

    @property
    def momentum(self) -> _CombinedMomentum:
        """The momentum its cycling schedulers set, as PyTorch leaves it (`_last_set`)."""
        return _combined_momentum(self)

    def _end(self) -> _jax.typing.ArrayLike:
        ends = [_jnp.asarray(s._end(), float) for s in self.schedulers]
        return _jnp.max(_jnp.stack(_jnp.broadcast_arrays(*ends)), axis=0)

    def _value(self, steps: _Steps) -> _jax.Array:
        built = _members(self.schedulers)
        rates = [
            _rebuilt(s, _initial_lr(self.lr, built[:i], steps.dtype)) if _resets(built[:i]) else s
            for i, s in enumerate(_members(_shared_param_group(self.schedulers)))
        ]
        if any(isinstance(s, _HISTORY) for s in rates):
            return self._replayed(rates, built, steps)
        last = max((i for i, s in enumerate(rates) if isinstance(s, _OVERWRITES)), default=None)
        safe = _jnp.where(self.lr == 0, 1.0, self.lr)
        if last is None:  # every factor, each from lr's own: lr * prod(S_i(t) / lr)
            value = self.lr
            for s in rates:
                value = value * (s._value(steps) / safe)
            return value
        # The last to overwrite sets the rate at each step; the ones after it multiply
        # that by their factor's step from t - 1 to t.
        value = rates[last]._value(steps)
        before = steps.since(1)
        first = _jnp.logical_not(steps.reached(1))
        if isinstance(rates[last], _Cyclic) and last > 0:  # see _initial_lr
            value = _jnp.where(first, _initial_lr(self.lr, built[:last], steps.dtype), value)
        for s in rates[last + 1 :]:
            now = s._value(steps)
            if isinstance(s, _Multiplicative):
                step = _jnp.asarray(s.lr_lambda(_jnp.floor(steps.t)), now.dtype)
            else:
                step = _step_factor(s, lambda f: (f(steps), f(before)))
            value = value * _jnp.where(first, now / safe, step)
        return value

    def _replayed(
        self, members: list[_Schedule], built: list[_Schedule], steps: _Steps
    ) -> _jax.Array:
        """PyTorch's steps of ``members`` replayed from the construction to the whole step
        (see `ChainedScheduler`), stopped at the chain's end where every scheduler has
        one (``built``: the members as built, before they share the param group)."""
        whole, _, ok = steps.whole()  # not ok: a step from 2**31 - 2**16 on, or NaN
        shape = _np.broadcast_shapes(steps.shape, self.batch_shape)
        # From one step after every scheduler's end, each step leaves the rate as it is.
        quiet = _jnp.asarray(self._end(), float) + 1
        early = _jnp.isfinite(quiet) & (~ok | (quiet < whole))
        count = _jnp.where(early, _jnp.where(early, quiet, 0).astype(whole.dtype), whole)
        ok = ok | early
        count = _jnp.broadcast_to(_jnp.where(ok, count, 0), shape)
        batch = self.batch_shape
        chains = int(_np.prod(batch, dtype=int))
        chunk = _replay_chunk(count.size // chains, chains)
        rate = _replay(self.lr, tuple(members), tuple(built), count, batch, chunk, steps.dtype)
        return _jnp.where(ok, rate, _jnp.nan)


#: Schedulers whose step in a chain depends on the rate the others leave: a chain
#: holding one replays PyTorch's steps.
_HISTORY = (_CosineAnnealing, _Sequential)
#: What a chain, or a SequentialLR inside one, steps: PyTorch's own schedulers.
_STEPPERS = (*_MULTIPLIES, *_OVERWRITES, _CosineAnnealing)


def _members(schedulers: tuple[_Schedule, ...]) -> list[_Schedule]:
    """The schedulers a chain steps, in order: a nested chain's in its place (PyTorch's
    ``ChainedScheduler.step`` steps each of them, and building one leaves the rate)."""
    out: list[_Schedule] = []
    for s in map(_rate, schedulers):
        out.extend(_members(s.schedulers) if isinstance(s, _Chained) else [s])
    return out


def _replay_chunk(entries: int, chains: int) -> int:
    """Steps replayed per iteration for ``entries`` steps asked of each of ``chains``
    chains: 256, or more, up to the number of entries (each iteration looks at every
    entry), as long as the chunk's maps stay within ``2**20`` numbers and a chunk within
    ``2**16`` steps."""
    chunk = _CHUNK
    while chunk < min(entries, 2**16) and 2 * chunk * chains <= 2**20:
        chunk *= 2
    return chunk


@_functools.partial(_jax.jit, static_argnums=(4, 5, 6))
def _replay(
    lr: _jax.Array,
    members: tuple[_Schedule, ...],
    built: tuple[_Schedule, ...],
    count: _jax.Array,
    batch: tuple[int, ...],
    chunk_steps: int,
    dtype: _Any,
) -> _jax.Array:
    """The rate after the construction (step 0) and steps ``1..count`` of a chain of
    ``members`` (a batch of shape ``batch``, ``built``: as built, before they share the
    param group) on an optimizer whose rate is ``lr``, for every entry of ``count``
    (shape: ``batch``'s broadcast with the steps').

    Each PyTorch step maps the rate affinely, ``r -> a_k r + b_k``, with ``a_k`` and
    ``b_k`` depending on the step only: ``chunk_steps`` steps' maps are computed at
    once and composed pairwise, one ``lax.while_loop`` iteration per chunk. With one
    step per chain, each replays up to its own step. With more, the batch of chains
    replays once, up to the largest, composing every prefix of a chunk, and each step
    picks its rate on the way: an array of steps costs its largest once (and its size
    per chunk). Compiled once per structure of the chain (its classes and
    functions), shapes and dtype.
    """
    lr = _jnp.asarray(lr, dtype)
    rate = _built(lr, members, built, dtype)
    size = int(_np.prod(batch, dtype=int))
    last = _jnp.max(count, initial=0)
    each = count.size <= size  # one step per chain: each replays its own
    shape = count.shape if each else batch
    C = chunk_steps
    ks = _jnp.arange(1, C + 1, dtype=count.dtype).reshape((C,) + (1,) * len(shape))
    # Each entry's chain in the flattened batch: the entry's trailing (batch) indices.
    which = _jnp.broadcast_to(_jnp.arange(size, dtype=count.dtype).reshape(batch), count.shape)

    def more(carry):
        return carry[0] < last

    def chunk(carry):
        start, rate, out = carry
        k = _jnp.broadcast_to(start + ks, (C, *shape))
        a, b = _chain_step(lr, members, built, k, dtype)
        if each:
            live = k <= count
            a, b = _compose(_jnp.where(live, a, 1.0), _jnp.where(live, b, 0.0))
            return start + C, (a * rate + b).astype(dtype), out
        a, b = _prefixes(a, b)
        rates = (a * rate + b).astype(dtype)  # at steps start + 1 .. start + C
        at = count - start - 1
        picked = rates.reshape(C, size)[_jnp.clip(at, 0, C - 1), which]
        out = _jnp.where((at >= 0) & (at < C), picked, out)
        return start + C, rates[-1], out

    rate = _jnp.broadcast_to(rate, shape).astype(dtype)
    out = _jnp.broadcast_to(rate, count.shape)  # step 0's, until a chunk holds the entry's
    start = _jnp.zeros((), count.dtype)
    _, rate, out = _jax.lax.while_loop(more, chunk, (start, rate, out))
    return rate if each else out


def _compose(a: _jax.Array, b: _jax.Array) -> tuple[_jax.Array, _jax.Array]:
    """The maps ``r -> a[i] r + b[i]``, applied in order along the first axis (of a
    power-of-2 length), as one map: composed pairwise, ``log2`` rounds."""
    while a.shape[0] > 1:
        a, b = a[1::2] * a[0::2], a[1::2] * b[0::2] + b[1::2]
    return a[0], b[0]


def _prefixes(a: _jax.Array, b: _jax.Array) -> tuple[_jax.Array, _jax.Array]:
    """The maps ``r -> a[i] r + b[i]`` along the first axis, each composed with all the
    ones before it (in ``log2`` rounds of pairwise compositions, Hillis and Steele)."""
    n, shift = a.shape[0], 1
    while shift < n:
        pad = [(shift, 0)] + [(0, 0)] * (a.ndim - 1)
        a_before = _jnp.pad(a[:-shift], pad, constant_values=1)
        b_before = _jnp.pad(b[:-shift], pad)
        a, b = a * a_before, a * b_before + b
        shift *= 2
    return a, b


def _built(lr: _jax.Array, members: _Any, built: _Any, dtype: _Any) -> _jax.Array:
    """The rate once ``members`` (``built``: before they share the param group) are
    built, in order, on an optimizer whose rate is ``lr``: each takes its first step, on
    the rate the ones before it left."""
    safe = _jnp.where(lr == 0, 1.0, lr)
    rate = lr
    for i, s in enumerate(members):
        if isinstance(s, _Sequential):
            rate = _sequential_start(s, dtype, lr, built[: i + 1])
        elif isinstance(s, _Cyclic):
            rate = _initial_lr(lr, built[: i + 1], dtype)
        elif isinstance(s, _OVERWRITES):
            rate = _started(s, dtype)
        elif not isinstance(s, _CosineAnnealing):  # which leaves the rate it finds
            rate = rate * (_started(s, dtype) / safe)  # ConstantLR's, LinearLR's factor at 0
    return rate


def _initial_lr(lr: _jax.Array, members: _Any, dtype: _Any) -> _jax.Array:
    """The optimizer's ``initial_lr`` once ``members`` are built: ``lr``, unless a
    `OneCycleLR` set its own (``max_lr / div_factor``), or a `CyclicLR` built first (its
    ``base_lr``). A `CyclicLR` takes its first step before it sets its ``base_lr``: at
    ``initial_lr``, which it sets itself only when built first. A `SequentialLR`'s
    schedulers are built before it, in their order."""
    initial = lr
    for i, s in enumerate(map(_rate, _in_build_order(members))):
        if isinstance(s, _OneCycle):
            initial = _jnp.asarray(s.max_lr / s.div_factor, dtype)
        elif i == 0 and isinstance(s, _Cyclic):
            initial = _started(s, dtype)
    return initial


def _in_build_order(members: _Any) -> _Iterator[_Schedule]:
    """The schedulers of ``members`` in the order PyTorch builds them: those of a
    `SequentialLR` (or of a nested chain) before it, and in its place (as given: a
    scheduler with its cycled momentum keeps it)."""
    for s in members:
        if isinstance(_rate(s), _Sequential | _Chained):
            yield from _in_build_order(_rate(s).schedulers)
        else:
            yield s


def _shared_param_group(members: tuple[_Schedule, ...]) -> tuple[_Schedule, ...]:
    """``members`` with every `OneCycleLR` reading what PyTorch keeps in the optimizer's
    param group, where each scheduler built overwrites it and a `OneCycleLR` reads it at
    every step: the last `OneCycleLR`'s ``max_lr``, ``div_factor`` and
    ``final_div_factor`` (its ``max_lr``, ``initial_lr`` and ``min_lr``), and the last
    momentum cycler's ``max_momentum`` and ``base_momentum`` (a `CyclicLR` writes them
    too, but reads its own). Applied when a combination is evaluated: the combination
    keeps its schedulers as built, whose ``initial_lr`` each sets in turn (`_initial_lr`)."""
    built = list(_in_build_order(members))
    cycles = [_rate(s) for s in built if isinstance(_rate(s), _OneCycle)]
    rates = {}
    if len(cycles) > 1:
        last = cycles[-1]
        rates = {
            "max_lr": last.max_lr,
            "div_factor": last.div_factor,
            "final_div_factor": last.final_div_factor,
        }
    writers = [s.momentum for s in built if isinstance(s, _WithMomentum)]
    bounds = {}
    if len(writers) > 1:
        last = writers[-1]
        if isinstance(last, _OneCycleMomentum):
            bounds = {"max_momentum": last.max_momentum, "base_momentum": last.base_momentum}
        else:  # CyclicLR's: the rate's cycle upside down, from max_momentum to base_momentum
            bounds = {"max_momentum": last.base_value, "base_momentum": last.peak_value}
    if not rates and not bounds:
        return members

    def share(s: _Schedule) -> _Schedule:
        if isinstance(s, _OneCycle):
            return s._replace(**rates)
        if isinstance(s, _OneCycleMomentum):
            return s._replace(**bounds)
        if isinstance(s, _WithMomentum):
            return s._replace(schedule=share(s.schedule), momentum=share(s.momentum))
        if isinstance(s, _Switched):
            return s._replace(schedule=share(s.schedule))
        if isinstance(s, _Sequential | _Chained):
            return s._replace(schedulers=tuple(map(share, s.schedulers)))
        return s

    return tuple(map(share, members))


def _chain_step(
    lr: _jax.Array, members: tuple[_Schedule, ...], built: _Any, k: _jax.Array, dtype: _Any
) -> tuple[_jax.Array, _jax.Array]:
    """``(a, b)``: the chain's step ``k >= 1`` as a map ``r -> a r + b`` of the rate,
    every member's map in turn (on an optimizer whose rate is ``lr``; ``built``: the
    members before they share the param group)."""
    a, b = _jnp.ones(k.shape, dtype), _jnp.zeros(k.shape, dtype)
    for i, s in enumerate(members):
        if isinstance(s, _Sequential):
            ai, bi = _sequential_step(s, k, dtype, lr, built[: i + 1])
        else:
            ai, bi = _step(s, k, dtype)
        a, b = ai * a, ai * b + bi
    return a.astype(dtype), b.astype(dtype)


def _started(s: _Schedule, dtype: _Any) -> _jax.Array:
    """``s``'s closed form at step 0: the rate it sets when built, or switched to."""
    if isinstance(s, _Multiplicative):
        return s.lr
    return s._value(_Steps(dtype, n=_jnp.zeros((), _jnp.int32)))


def _step(s: _Schedule, e: _jax.Array, dtype: _Any) -> tuple[_Any, _Any]:
    """The map of PyTorch's ``s.step()`` to epoch ``e >= 1`` (``get_lr``'s recursive form),
    for epochs consecutive along the first axis, or held at 0 (entries with ``e = 0``
    are finite and not to be used)."""
    if isinstance(s, _Multiplicative):
        return _jnp.asarray(s.lr_lambda(e.astype(dtype)), dtype), 0.0
    if isinstance(s, _CosineAnnealing):
        return _cosine_step(s, e, dtype)
    if isinstance(s, _OVERWRITES):
        return 0.0, s._value(_Steps(dtype, n=e))
    both = _Steps(dtype, n=_and_before(e))

    def at(f: _Any) -> tuple[_jax.Array, _jax.Array]:
        values = f(both)
        return values[1:], values[:-1]

    return _step_factor(s, at), 0.0


def _step_factor(s: _Schedule, at: _Any) -> _jax.Array:
    """What a multiplying scheduler's step from ``t - 1`` to ``t`` (``t >= 1``) multiplies
    the rate by, where ``at(f)`` is ``(f(t), f(t - 1))`` for a function ``f`` of `Steps`.

    Its closed forms' ratio (`_factor`), except where the closed form is ``lr * rate **
    power(t)`` (`StepLR`, `MultiStepLR`, `ExponentialLR`, and `PolynomialLR`'s ``lr *
    left(t) ** power``): there it is ``rate ** (power(t) - power(t - 1))`` from the decays
    counted between the two steps (``left(t) / left(t - 1)`` to the power), which does
    not underflow where the closed form does. After an overwriting scheduler PyTorch
    multiplies the rate it sets by ``gamma`` at every step, at any ``t``: the ratio of
    ``gamma ** t`` gone to 0 would be 1 (or 0) from there on.
    """
    if isinstance(s, _decay.StepDecay):  # and _StepPerRate: _power of the decays' count
        n_now, n_then = at(lambda st: st.divmod(_positive(s.step_size))[0])
        return _power_of(s.decay_rate, s._power(n_now - n_then))
    if isinstance(s, _decay.MultiStep):
        count = at(lambda st: _jnp.sum(st.expand().reached(s.boundaries), axis=-1))
        return _power_of(s.decay_rate, count[0] - count[1])
    now, then = at(s._value)
    ratio = _factor(now, then)
    if isinstance(s, _decay.Exponential):
        k = _positive(s.decay_steps)
        n_now, n_then = at(lambda st: st.since(s.begin).divmod(k)[0])
        # Not staircase: the part of the step from t - 1 to t after begin, exact at any t.
        part = _jnp.clip(at(lambda st: st.minus(s.begin))[0], 0, 1)
        powered = _power_of(s.decay_rate, _jnp.where(s.staircase, n_now - n_then, part / k))
        bound = (now == s.end_value) & (s.end_value != 0)  # held at end_value: the ratio
        return _jnp.where(bound, ratio, powered)
    if isinstance(s, _decay.Poly):  # lr * left(t) ** power where end_value is 0
        k = _positive(s.decay_steps)
        left = at(lambda st: _jnp.maximum(st.since(s.begin).until(k), 0))
        some = left[1] > 0
        base = _jnp.where(some, left[0] / _jnp.where(some, left[1], 1.0), 1.0)
        powered = _safe_power(base, s.power)
        return _jnp.where((s.end_value == 0) & _jnp.logical_not(s.cycle), powered, ratio)
    return ratio


def _power_of(rate: _jax.Array, power: _jax.Array) -> _jax.Array:
    """``rate ** power``: exactly 1 for a power of 0, and ``rate`` for a power of 1."""
    safe = _jnp.where((power == 0) | (power == 1), 1.0, power)
    return _jnp.where(power == 0, 1.0, _jnp.where(power == 1, rate, _jnp.power(rate, safe)))


def _factor(now: _jax.Array, then: _jax.Array) -> _jax.Array:
    """What a multiplying scheduler's step multiplies the rate by: ``now / then``, its
    closed forms' ratio, and 1 where ``then`` is 0 (a rate held at 0 stays)."""
    return _jnp.where(then == 0, 1.0, now / _jnp.where(then == 0, 1.0, then))


def _and_before(e: _jax.Array) -> _jax.Array:
    """``e[0] - 1`` (at least 0), then ``e``: for epochs consecutive along the first axis,
    a formula evaluated once on these gives its values at ``e - 1`` (``[:-1]``) and at
    ``e`` (``[1:]``), half the program of two evaluations."""
    return _jnp.concatenate([_jnp.maximum(e[:1] - 1, 0), e])


def _cosine_step(s: _CosineAnnealing, e: _jax.Array, dtype: _Any) -> tuple[_jax.Array, _jax.Array]:
    """PyTorch's recursive cosine step to epoch ``e``: ``eta_min + (r - eta_min) f(e) /
    f(e - 1)`` with ``f(x) = (1 + cos(pi x / T)) / 2``; the step after a bottom
    (``e - 1 = T mod 2 T``), where ``f(e - 1) = 0``, adds ``(lr - eta_min) (1 - cos(pi /
    T)) / 2`` instead. ``f(x) = sin^2(pi (T - y) / (2 T))`` with ``y`` the position in the
    period folded onto ``[0, T]``: full relative precision near the bottom."""
    half = _jnp.asarray(_positive(s.T_max), dtype)
    pos = _remainder(_and_before(e), 2 * half, dtype)
    folded = _jnp.minimum(pos, 2 * half - pos)
    f = _jnp.square(_jnp.sin((0.5 * _jnp.pi) * ((half - folded) / half)))
    then, now = f[:-1], f[1:]
    restart = pos[:-1] == half
    ratio = _factor(now, then)
    climb = (s.lr - s.eta_min) * _cosine_rise(1 / half)
    return _jnp.where(restart, 1.0, ratio), _jnp.where(restart, climb, s.eta_min * (1 - ratio))


def _remainder(n: _jax.Array, period: _jax.Array, dtype: _Any) -> _jax.Array:
    """``n mod period`` for whole ``n >= 0`` (int32) and ``period > 0``: exact for a whole
    period, at any ``n`` (its parts above and below ``2**16``, each exact in ``dtype``,
    reduced on their own)."""
    hi = n & _jnp.asarray(-(2**16), n.dtype)
    rem = _jnp.fmod(hi.astype(dtype), period) + _jnp.fmod((n - hi).astype(dtype), period)
    return _jnp.where(rem >= period, rem - period, rem)


def _sequential_start(seq: _Sequential, dtype: _Any, lr: _jax.Array, built: _Any) -> _jax.Array:
    """A SequentialLR, built on an optimizer whose rate is ``lr`` after the chain's
    schedulers before it (``built``: those and itself, as built, before they share the
    param group), resets the rate to ``initial_lr`` and builds the scheduler the
    milestones pick at 0: the rate is that one's value at 0 from there (`_from_reset`)."""
    subs = [_rate(x) for x in seq.schedulers]
    resets = _resets(built)
    at_zero = _Steps(dtype, n=_jnp.zeros((), _jnp.int32))

    def started(j: int) -> _jax.Array:
        value = _started(subs[j], dtype)
        if not resets:
            return value
        reset = _initial_lr(lr, built, dtype)
        return _from_reset(subs[j], value, reset, _built_on(lr, built, j, dtype), lr, at_zero)

    rate = started(0)
    for j in range(1, len(subs)):
        rate = _jnp.where(seq.milestones[..., j - 1] <= 0, started(j), rate)
    return rate


def _sequential_step(
    seq: _Sequential, k: _jax.Array, dtype: _Any, lr: _jax.Array, built: _Any
) -> tuple[_jax.Array, _jax.Array]:
    """The map of a SequentialLR's step ``k >= 1`` inside a chain: it steps the
    scheduler of the segment, ``k - m`` steps into it, on the rate it finds; at a
    milestone, ``step(0)`` sets the next one's value at 0 (a `MultiplicativeLR`
    multiplies the rate by ``lr_lambda(0)`` instead). Each of its schedulers is on the
    ``initial_lr`` of its build (`_on_base`; ``built``: the chain's schedulers before it
    and itself, as built, before they share the param group)."""
    subs = [_rate(x) for x in seq.schedulers]
    resets = _resets(built)
    at_zero = _Steps(dtype, n=_jnp.zeros((), _jnp.int32))

    def base(j: int) -> _jax.Array:
        return _built_on(lr, built, j, dtype)

    a, b = _step(_rebuilt(subs[0], base(0)) if resets else subs[0], k, dtype)
    for j, sub in enumerate(subs[1:], start=1):
        m = seq.milestones[..., j - 1].astype(k.dtype)
        local = _jnp.maximum(k - m, 0)
        aj, bj = _step(_rebuilt(sub, base(j)) if resets else sub, local, dtype)
        if isinstance(sub, _Multiplicative):
            switch = (_jnp.asarray(sub.lr_lambda(_jnp.zeros((), dtype)), dtype), 0.0)
        else:
            started = _started(sub, dtype)
            if isinstance(seq.schedulers[j], _Switched):  # step(0)'s closed form
                started = seq.schedulers[j]._from_switch(started)
            if resets:
                started = _on_base(sub, started, base(j), lr, at_zero)
            switch = (0.0, started)
        at = local == 0
        aj, bj = _jnp.where(at, switch[0], aj), _jnp.where(at, switch[1], bj)
        active = k >= m
        a, b = _jnp.where(active, aj, a), _jnp.where(active, bj, b)
    return a, b


def _not_chainable(s: _Schedule) -> str | None:
    """Why ``s`` cannot be a member of a chain, or None."""
    s = _rate(s)
    if isinstance(s, (*_STEPPERS, _Chained)):
        return None
    if not isinstance(s, _Sequential):
        return "give PyTorch schedulers (those of jaxsched.compat.torch)"
    for j, sub in enumerate(s.schedulers):
        if not isinstance(_rate(sub), _STEPPERS):
            return (
                f"its schedulers[{j}] ({sub.kind}) must be a PyTorch scheduler (of "
                "jaxsched.compat.torch), whose steps a chain replays"
            )
    return None


@_factory(_Chained, name="torch.ChainedScheduler")
def ChainedScheduler(lr: _Any, schedulers: _Any = None, optimizer: _Any = None) -> _Chained:
    r"""``torch.optim.lr_scheduler.ChainedScheduler``: each ``step()`` steps every
    scheduler, in order, on the optimizer's one rate.

    Schedulers that multiply the rate they find (`StepLR`, `MultiStepLR`,
    `ExponentialLR`, `LinearLR`, `ConstantLR`, `PolynomialLR`, `MultiplicativeLR`)
    compound, each by its factor :math:`S_i(t) / \eta_0`:

    .. math:: \eta(t) = \eta_0 \prod_i \frac{S_i(t)}{\eta_0}

    Schedulers that compute the rate afresh (`LambdaLR`, `CyclicLR`, `OneCycleLR`,
    `CosineAnnealingWarmRestarts`) overwrite it at every step: the last of them
    sets it, and the multiplying ones after it scale it by one step of their
    factor, :math:`S_i(t) / S_i(t - 1)`, as PyTorch does (for `StepLR`, `MultiStepLR`,
    `ExponentialLR` and `PolynomialLR` computed from the decays between the two steps,
    ``gamma`` for one: it holds where :math:`\gamma^t` underflows). Such chains are closed
    forms: a step costs the same at any ``t``.

    `CosineAnnealingLR` and `SequentialLR` act on the rate the others leave.
    PyTorch's cosine steps recursively,

    .. math:: \eta_t = \eta_{min} + (\eta_{t-1} - \eta_{min})
              \frac{1 + \cos(\pi t / T)}{1 + \cos(\pi (t - 1) / T)}

    and, the step after each bottom (:math:`t - 1 \equiv T \bmod 2T`), adds
    :math:`(\eta_0 - \eta_{min}) (1 - \cos(\pi / T)) / 2` instead; a `SequentialLR`
    steps its current scheduler on the chain's rate and, at a milestone, sets the
    next one's value at 0 (``step(0)``; a `MultiplicativeLR` multiplies the rate by
    ``lr_lambda(0)``). A chain holding either (directly or in a nested chain) is
    evaluated by replaying PyTorch's steps: each step maps the rate affinely,
    :math:`\eta_k = a_k \eta_{k-1} + b_k`, and the maps of 256 steps are computed at
    once and composed, in a ``lax.while_loop``. **This costs O(t)**: ``t / 256``
    sequential iterations, each evaluating every scheduler at 256 steps. An array of
    steps costs its largest once (in bigger chunks, up to ``2**16`` steps): to follow
    such a chain in a training loop, tabulate it once, ``table = s(jnp.arange(n))``,
    rather than evaluating ``s(step)`` at every step. Where every scheduler has an end
    (`end_step`), the replay stops one step after the last. It is jittable and
    vmappable over every argument and the step (compiled once per structure), and
    differentiable in forward mode only (``jax.jvp``), as ``lax.while_loop`` is. A
    fractional step counts as its whole part; a step from ``2**31 - 2**16`` on gives
    NaN, unless the chain has ended. In float32 the replay rounds at every
    step, and PyTorch's recursion amplifies any difference in the rate near a bottom
    of the cosine by up to about :math:`(2T / \pi)^2` once other schedulers move the
    rate there: over 30 periods of ``T_max=1000`` followed by an `ExponentialLR`,
    float32 ends 1e-4 off PyTorch's float64, relatively (``jax_enable_x64`` for long
    runs).

    Step 0 is PyTorch's construction: each scheduler, built in order on the one
    optimizer, takes its first step on the rate the ones before it left
    (`ConstantLR`, `LinearLR` and `MultiStepLR` multiply it by their factor at 0,
    the ones that compute the rate afresh set it, `CosineAnnealingLR` and the other
    multiplying ones leave it, a `SequentialLR` sets its first scheduler's value at
    0; a `CyclicLR` built after another takes its first step at the optimizer's
    rate, before PyTorch sets its ``base_lr``). A nested `ChainedScheduler` steps
    its schedulers where it stands. Every scheduler is built with ``lr``, the
    optimizer's rate, as in PyTorch, where a `OneCycleLR` (``max_lr / div_factor``) and
    a `CyclicLR` built first (``base_lr``) replace the optimizer's ``initial_lr``, the
    base rate of the schedulers built after them that read it (`LambdaLR`,
    `CosineAnnealingWarmRestarts`, the restarts of `CosineAnnealingLR`, and those of a
    `SequentialLR`, which resets the rate to it: see `SequentialLR`). Every `OneCycleLR`
    of a chain, nested ones included, reads the last one's ``max_lr``, ``div_factor``
    and ``final_div_factor``, which PyTorch keeps in the param group. Where a scheduler in
    it cycles the momentum, the chain has a ``.momentum``: at each step, the value set by
    the last of them to set it (a `SequentialLR` sets it only while such a scheduler of
    its runs; see `SequentialLR`). A `SequentialLR` inside a chain must hold
    PyTorch's schedulers, not another `SequentialLR` or `ChainedScheduler`.
    ``optimizer`` is accepted and ignored, as PyTorch's is optional.

    Example:
      >>> parts = [ConstantLR(1.0, factor=0.1, total_iters=2), ExponentialLR(1.0, gamma=0.9)]
      >>> s = ChainedScheduler(1.0, schedulers=parts)
      >>> [round(float(s(t)), 4) for t in (0, 1, 2, 3)]
      [0.1, 0.09, 0.81, 0.729]
      >>> warm = LinearLR(1.0, start_factor=0.5, total_iters=2)
      >>> s = ChainedScheduler(1.0, schedulers=[warm, CosineAnnealingLR(1.0, T_max=4)])
      >>> [round(float(s(t)), 4) for t in range(10)]
      [0.5, 0.6402, 0.5, 0.1464, 0.0, 0.1464, 0.5, 0.8536, 1.0, 0.8536]
    """
    f = "torch.ChainedScheduler"
    schedulers = _sub_schedules(f, schedulers)
    for i, s in enumerate(schedulers):
        why = _not_chainable(s)
        if why is not None:
            raise ValueError(f"{f}: schedulers[{i}] ({s.kind}) cannot be chained: {why}")
    return _Chained(lr=_as_float(f, "lr", lr), schedulers=schedulers)


# ------------------------------------------------------------------- plateau
@_speaks_as("torch.ReduceLROnPlateau", init_value="lr", min_value="min_lr")
def ReduceLROnPlateau(
    lr: _Any,
    mode: str = "min",
    factor: _Any = 0.1,
    patience: _Any = 10,
    threshold: _Any = 1e-4,
    threshold_mode: str = "rel",
    cooldown: _Any = 0,
    min_lr: _Any = 0.0,
    eps: _Any = 1e-8,
) -> _Plateau:
    """``torch.optim.lr_scheduler.ReduceLROnPlateau`` as a `jaxsched.Plateau` controller.

    Not a schedule: the rate follows a metric, not the step. ``init()`` gives the
    state, ``update(state, metric)`` is ``scheduler.step(metric)`` and
    ``value(state)`` is the optimizer's ``lr`` after it, with PyTorch's rules:
    ``threshold_mode`` ``"rel"`` or ``"abs"``, the cooldown holding the bad count
    at 0, a reduction once the count exceeds ``patience``, made only if it
    lowers the rate by more than ``eps``. Every numeric argument may be an array
    (a batch of controllers) or a tracer.

    Example:
      >>> c = ReduceLROnPlateau(0.1, factor=0.5, patience=2)
      >>> state = c.init()
      >>> for loss in [1.0, 1.0, 1.0, 1.0]:
      ...     state = c.update(state, loss)
      >>> float(c.value(state))
      0.05
    """
    return _plateau(
        init_value=lr,
        mode=mode,
        factor=factor,
        patience=patience,
        threshold=threshold,
        threshold_mode=threshold_mode,
        cooldown=cooldown,
        min_value=min_lr,
        eps=eps,
        rules="torch",
    )
