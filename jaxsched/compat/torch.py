"""PyTorch-exact schedules: ``torch.optim.lr_scheduler`` semantics as jaxsched schedules.

Each constructor takes the keyword arguments of the ``torch.optim.lr_scheduler``
class of the same name, with the optimizer replaced by its learning rate
``lr``, and returns a schedule whose value at step ``t`` is the learning rate
that scheduler gives after ``t`` calls of ``scheduler.step()``. Where PyTorch's
semantics are odd, they are kept (`CosineAnnealingLR` rises again after
``T_max``; `OneCycleLR` ends each phase one step early). Arguments that act
only on momentum (``cycle_momentum`` and the like) are accepted and ignored.

Example:
  >>> from jaxsched.compat import torch as lrs
  >>> s = lrs.StepLR(0.1, step_size=30, gamma=0.1)
  >>> [round(float(s(t)), 4) for t in (0, 29, 30)]
  [0.1, 0.1, 0.01]
"""

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
from jaxsched._math import scaled_power as _scaled_power
from jaxsched._steps import Steps as _Steps
from jaxsched.compat._names import speaks_as as _speaks_as

__all__ = [
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LinearLR",
    "MultiStepLR",
    "OneCycleLR",
    "PolynomialLR",
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
    return _decay.step(init_value=lr, step_size=step_size, decay_rate=rate, decays_per_rate=k)


@_factory(None, name="torch.MultiStepLR", event_ndims={"milestones": 1})
@_speaks_as(
    "torch.MultiStepLR", init_value="lr", boundaries="milestones", decay_rate="gamma", values="lr"
)
def MultiStepLR(
    lr: _Any, milestones: _Any, gamma: _Any = 0.1, last_epoch: int = -1
) -> _decay.MultiStep | _decay.Piecewise:
    """``torch.optim.lr_scheduler.MultiStepLR``: ``lr * gamma ** #{m <= t}``.

    Like PyTorch, milestones may be unsorted and may repeat (a repeated
    milestone applies ``gamma`` once per occurrence); negative ones never fire. Any
    iterable of them is taken (a set, a range), as PyTorch counts them.
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
    if c is not None and c.ndim == 1:
        c = c[c >= 0]
        if _is_zero(gamma):
            return _zero_from("MultiStepLR", lr, c.min() if c.size else None)
    if c is None or c.ndim != 1 or _np.all(_np.diff(c) > 0):
        boundaries = milestones if c is None or c.ndim != 1 else c
        return _decay.multistep(init_value=lr, boundaries=boundaries, decay_rate=gamma)
    unique, counts = _np.unique(c, return_counts=True)
    gamma = _as_float("torch.MultiStepLR", "gamma", gamma)
    _require("torch.MultiStepLR", "gamma", gamma, lambda x: x > 0, "> 0")
    lr = _as_float("torch.MultiStepLR", "lr", lr)
    passed = _np.concatenate([[0], _np.cumsum(counts)]).astype(gamma.dtype)
    xp, (rate, decay) = _host_or_traced(lr, gamma)
    rate, decay = rate[..., None], decay[..., None]  # a batch's axes before the values'
    if xp is _np:  # in float64, far from overflow; rounded once, to lr's dtype, by piecewise
        values = rate.astype(_np.float64) * decay.astype(_np.float64) ** passed
    else:
        values = _scaled_power(rate, decay, passed)
    return _decay.piecewise(boundaries=unique, values=values)


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
    decay_steps, decay_rate = _halving_period("torch.ExponentialLR", gamma)
    return _decay.exponential(init_value=lr, decay_steps=decay_steps, decay_rate=decay_rate)


def _halving_period(label: str, gamma: _Any) -> tuple[_Any, _Any]:
    """``(k, gamma ** k)`` with ``gamma ** k`` about 1/2 or 2, where ``gamma`` is given
    on the host and its dtype does not hold it; ``(1, gamma)`` elsewhere. PyTorch
    computes ``gamma ** t`` in float64: stored so, a float32 rate's rounding counts
    ``t / k`` times instead of ``t`` times."""
    given = _concrete(gamma)
    if given is None or given.dtype.kind not in "iuf":
        return 1, gamma
    given = given.astype(_np.float64)
    held = _np.asarray(_as_float(label, "gamma", gamma))
    with _np.errstate(divide="ignore", invalid="ignore"):
        k = _np.abs(_np.log(2.0) / _np.log(given))
        plain = (held == given) | ~_np.isfinite(k) | ~(given > 0)  # 1, and refusals, as given
        k = _np.where(plain, 1.0, k).astype(held.dtype)
        rate = _np.where(plain, given, given ** k.astype(_np.float64))
    if plain.all():
        return 1, gamma
    return k, rate


@_factory(None, name="torch.PolynomialLR")
@_speaks_as("torch.PolynomialLR", init_value="lr", end_value="lr", decay_steps="total_iters")
def PolynomialLR(
    lr: _Any, total_iters: _Any = 5, power: _Any = 1.0, last_epoch: int = -1
) -> _decay.Poly | _decay.Constant:
    """``torch.optim.lr_scheduler.PolynomialLR``: ``lr * (1 - min(t, T) / T) ** power``.

    With ``total_iters <= 0`` or ``power=0`` PyTorch never changes ``lr``; neither does this.
    """
    _fresh("PolynomialLR", last_epoch)
    whole = _concrete_int("PolynomialLR", "total_iters", total_iters)
    if (whole is not None and whole <= 0) or _is_zero(power):
        return _held("PolynomialLR", lr, total_iters, power)
    # A traced or batched total_iters <= 0 holds lr too: a decay from lr to lr.
    total_iters = _as_float("torch.PolynomialLR", "total_iters", total_iters)
    lr = _as_float("torch.PolynomialLR", "lr", lr)
    xp, (total, rate) = _host_or_traced(total_iters, lr)
    held = total <= 0
    return _decay.poly(
        init_value=lr,
        end_value=xp.where(held, rate, xp.zeros_like(rate)),
        decay_steps=xp.where(held, xp.ones_like(total), total),
        power=power,
    )


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
    """
    f = "torch.LinearLR"
    _fresh("LinearLR", last_epoch)
    start_factor = _as_float(f, "start_factor", start_factor)
    end_factor = _as_float(f, "end_factor", end_factor)
    _require(f, "start_factor", start_factor, lambda x: (x > 0) & (x <= 1), "in (0, 1]")
    _require(f, "end_factor", end_factor, lambda x: (x >= 0) & (x <= 1), "in [0, 1]")
    lr = _as_float(f, "lr", lr)
    whole = _concrete_int("LinearLR", "total_iters", total_iters)
    total_iters = _as_float(f, "total_iters", total_iters)
    xp, (lr, start, end, total) = _host_or_traced(lr, start_factor, end_factor, total_iters)
    if whole is not None and whole <= 0:
        return _held("LinearLR", lr * start, end)
    held = total <= 0  # traced or batched: stays at start_factor
    return _decay.linear(
        lr * start,
        lr * xp.where(held, start, end),
        decay_steps=xp.where(held, xp.ones_like(total), total),
    )


@_factory(None, name="torch.ConstantLR")
@_speaks_as("torch.ConstantLR", boundaries="total_iters", values="lr")
def ConstantLR(
    lr: _Any, factor: _Any = 1.0 / 3, total_iters: _Any = 5, last_epoch: int = -1
) -> _decay.Piecewise | _decay.Constant:
    """``torch.optim.lr_scheduler.ConstantLR``: ``lr * factor`` for ``total_iters`` steps, then ``lr``.

    With ``total_iters <= 0`` PyTorch never leaves ``lr * factor``; nor does this.
    """
    f = "torch.ConstantLR"
    _fresh("ConstantLR", last_epoch)
    factor = _as_float(f, "factor", factor)
    _require(f, "factor", factor, lambda x: (x >= 0) & (x <= 1), "in [0, 1]")
    lr = _as_float(f, "lr", lr)
    whole = _concrete_int("ConstantLR", "total_iters", total_iters)
    if whole is not None and whole <= 0:
        return _decay.constant(lr * factor)
    total_iters = _as_float(f, "total_iters", total_iters, switch=True)
    xp, (lr, factor, total) = _host_or_traced(lr, factor, total_iters)
    after = xp.where(total <= 0, lr * factor, lr)  # traced or batched <= 0: factor for good
    values = xp.stack(xp.broadcast_arrays(lr * factor, after), axis=-1)
    boundaries = xp.expand_dims(xp.maximum(total, 0), -1)
    return _decay.piecewise(boundaries=boundaries, values=values)


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
) -> _Cyclic:
    """``torch.optim.lr_scheduler.CyclicLR``. PyTorch overwrites the optimizer's ``lr``
    with ``base_lr``, so ``lr`` does not matter; custom ``scale_fn`` is not supported.
    ``scale_mode`` is ignored, as PyTorch ignores it without a ``scale_fn`` (each mode
    sets its own)."""
    _fresh("CyclicLR", last_epoch)
    if base_lr is None or max_lr is None:
        raise ValueError("torch.CyclicLR: base_lr and max_lr are required")
    if scale_fn is not None:
        raise ValueError("torch.CyclicLR: a custom scale_fn is not supported; use mode")
    _as_choice("torch.CyclicLR", "mode", mode, ("triangular", "triangular2", "exp_range"))
    # PyTorch reads gamma in exp_range only, and computes gamma ** t in float64.
    gamma_steps, rate = (
        _halving_period("torch.CyclicLR", gamma) if mode == "exp_range" else (1, 1.0)
    )
    return _cyclic(
        base_value=base_lr,
        peak_value=max_lr,
        step_size_up=step_size_up,
        step_size_down=step_size_down,
        mode=mode,
        gamma=rate,
        gamma_steps=gamma_steps,
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
    T_max = _as_float(f, "T_max", T_max)
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
        # PyTorch raises past total_steps; the value at total_steps is held.
        past = steps.passed(self.total_steps)
        t = _Steps.select(past, _Steps.position(self.total_steps), steps)
        initial = self.max_lr / self.div_factor
        final = initial / self.final_div_factor
        # Phase ends as (a multiple of T, steps before it), subtracted from the step in
        # that order: pT - 1 rounds by up to 64 steps in float32 past 2**30.
        end1 = (self.pct_start * self.total_steps, 1.0)
        end2 = (2 * self.pct_start * self.total_steps, 2.0)
        last = (self.total_steps, 1.0)
        rise = self._phase(t, (0.0, 0.0), end1, initial, self.max_lr)
        two = self._phase(t, end1, last, self.max_lr, final)
        back = self._phase(t, end1, end2, self.max_lr, initial)
        tail = self._phase(t, end2, last, initial, final)
        three = _jnp.where(_until(t, end2) >= 0, back, tail)
        return _jnp.where(_until(t, end1) >= 0, rise, _jnp.where(self.three_phase, three, two))

    def _phase(self, t: _Steps, start_step, end_step, start, end) -> _jax.Array:
        """PyTorch's annealing between two steps, unclipped (it extrapolates to T)."""
        length = (end_step[0] - start_step[0]) - (end_step[1] - start_step[1])
        safe = _jnp.where(length == 0, 1.0, length)
        p = _jnp.where(length == 0, 1.0, -_until(t, start_step) / safe)
        q = _jnp.where(length == 0, 0.0, _until(t, end_step) / safe)
        if self.anneal_strategy == "linear":
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
) -> _OneCycle:
    r"""``torch.optim.lr_scheduler.OneCycleLR`` (PyTorch overwrites ``lr``, so it does not matter).

    With :math:`\eta_s = \eta_{max}/d` and :math:`\eta_f = \eta_s/d_f`, the
    phases end at steps :math:`pT - 1` (:math:`\eta_s \to \eta_{max}`) and
    :math:`T - 1` (:math:`\to \eta_f`); with ``three_phase``, at :math:`pT - 1`,
    :math:`2pT - 2` (:math:`\to \eta_s`) and :math:`T - 1`. At step :math:`T` the
    last phase is extrapolated, as PyTorch does; later steps hold that value
    (PyTorch raises there).
    """
    f = "torch.OneCycleLR"
    _fresh("OneCycleLR", last_epoch)
    if max_lr is None:
        raise ValueError(f"{f}: max_lr is required")
    if total_steps is None:
        if epochs is None or steps_per_epoch is None:
            raise ValueError(f"{f}: give total_steps, or epochs and steps_per_epoch")
        epochs = _as_float(f, "epochs", epochs)
        steps_per_epoch = _as_float(f, "steps_per_epoch", steps_per_epoch)
        _require(f, "epochs", epochs, lambda x: x > 0, "> 0")
        _require(f, "steps_per_epoch", steps_per_epoch, lambda x: x > 0, "> 0")
        _, (epochs, steps_per_epoch) = _host_or_traced(epochs, steps_per_epoch)
        total_steps = epochs * steps_per_epoch
    _require_a_first_phase(pct_start, total_steps)
    total_steps = _as_float(f, "total_steps", total_steps)
    pct_start = _as_float(f, "pct_start", pct_start)
    _require(f, "total_steps", total_steps, lambda x: x > 0, "> 0")
    _require(f, "pct_start", pct_start, lambda x: (x >= 0) & (x <= 1), "in [0, 1]")
    div_factor = _as_float(f, "div_factor", div_factor)
    final_div_factor = _as_float(f, "final_div_factor", final_div_factor)
    _require(f, "div_factor", div_factor, lambda x: x > 0, "> 0")
    _require(f, "final_div_factor", final_div_factor, lambda x: x > 0, "> 0")
    return _OneCycle(
        max_lr=_as_float(f, "max_lr", max_lr),
        total_steps=total_steps,
        pct_start=pct_start,
        div_factor=div_factor,
        final_div_factor=final_div_factor,
        three_phase=_as_bool(f, "three_phase", three_phase),
        anneal_strategy=_as_choice(f, "anneal_strategy", anneal_strategy, ("cos", "linear")),
    )


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
