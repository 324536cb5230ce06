"""optax-exact schedules: every function of ``optax.schedules``, as jaxsched schedules.

Each constructor takes the arguments of the optax function of the same name and
returns a schedule whose value at every step equals optax's, odd corners
included (a non-positive ``transition_steps`` holds ``init_value``; the later
schedules of a join count their steps from their boundary). Unlike optax's
closures, every numeric argument may be an array or a tracer, step counts
included, so ``jax.vmap`` sweeps ``warmup_steps`` or ``decay_steps`` as it
sweeps a rate. The one exception is the keys of ``boundaries_and_scales``:
a dict's keys cannot be traced (sweep the boundaries of `jaxsched.piecewise`
or `jaxsched.piecewise_interpolate` instead).

Example:
  >>> import jax, jax.numpy as jnp
  >>> from jaxsched.compat import optax as schedules
  >>> s = schedules.warmup_cosine_decay_schedule(0.0, 1.0, warmup_steps=10, decay_steps=110)
  >>> [round(float(s(t)), 4) for t in (0, 5, 10, 60, 110)]
  [0.0, 0.5, 1.0, 0.5, 0.0]
  >>> sweep = jax.vmap(lambda w: schedules.warmup_constant_schedule(0.0, 1.0, w)(5))
  >>> sweep(jnp.array([5.0, 10.0, 20.0])).tolist()
  [1.0, 0.5, 0.25]
"""

from collections.abc import Iterable as _Iterable
from collections.abc import Mapping as _Mapping
from collections.abc import Sequence as _Sequence
from typing import Any as _Any

import jax as _jax
import numpy as _np

from jaxsched._base import Schedule as _Schedule
from jaxsched._base import factory as _factory
from jaxsched._check import as_bool as _as_bool
from jaxsched._check import as_choice as _as_choice
from jaxsched._check import as_float as _as_float
from jaxsched._check import concrete as _concrete
from jaxsched._check import host_or_traced as _host_or_traced
from jaxsched._check import on_host as _on_host
from jaxsched._check import require as _require
from jaxsched._check import require_related as _require_related
from jaxsched._compose import Join as _Join
from jaxsched._compose import Warmup as _Warmup
from jaxsched._compose import join as _join
from jaxsched._compose import warmup as _warmup
from jaxsched._cosine import Cosine as _Cosine
from jaxsched._cosine import cosine as _core_cosine
from jaxsched._decay import Constant as _Constant
from jaxsched._decay import Exponential as _Exponential
from jaxsched._decay import Piecewise as _Piecewise
from jaxsched._decay import Poly as _Poly
from jaxsched._decay import constant as _constant
from jaxsched._decay import exponential as _core_exponential
from jaxsched._decay import piecewise as _piecewise
from jaxsched._decay import poly as _poly
from jaxsched._interpolate import PiecewiseInterpolate as _PiecewiseInterpolate
from jaxsched._interpolate import piecewise_interpolate as _piecewise_interpolate
from jaxsched.compat._names import speaks_as as _speaks_as

__all__ = [
    "constant_schedule",
    "cosine_decay_schedule",
    "cosine_onecycle_schedule",
    "exponential_decay",
    "join_schedules",
    "linear_onecycle_schedule",
    "linear_schedule",
    "piecewise_constant_schedule",
    "piecewise_interpolate_schedule",
    "polynomial_schedule",
    "sgdr_schedule",
    "warmup_constant_schedule",
    "warmup_cosine_decay_schedule",
    "warmup_exponential_decay_schedule",
]

_POLY_NAMES = {"decay_steps": "transition_steps", "begin": "transition_begin"}


def _ge0(x):
    return x >= 0


@_factory(None, name="optax.constant_schedule")
@_speaks_as("optax.constant_schedule")
def constant_schedule(value: _Any) -> _Constant:
    r"""``optax.constant_schedule``: :math:`\eta(t) = v`.

    Example:
      >>> from jaxsched.compat import optax as schedules
      >>> float(schedules.constant_schedule(0.1)(10**6))
      0.1
    """
    return _constant(value)


# ----------------------------------------------------------------- polynomial
def _polynomial(f, init_value, end_value, power, transition_steps, transition_begin) -> _Poly:
    """optax's polynomial transition; a schedule that optax holds at ``init_value``
    (``transition_steps <= 0``, or ``power == 0``: ``frac ** 0`` is 1) is a `poly` from
    ``init_value`` to itself, so that every entry of a batch has the same structure."""
    init = _as_float(f, "init_value", init_value)
    end = _as_float(f, "end_value", end_value)
    power = _as_float(f, "power", power)
    k = _as_float(f, "transition_steps", transition_steps, switch=True)
    begin = _as_float(f, "transition_begin", transition_begin, switch=True)
    _require(f, "power", power, _ge0, ">= 0 (0 holds init_value, as in optax)")
    xp, (init_, end_, power_, k_, begin_) = _host_or_traced(init, end, power, k, begin)
    held = (k_ <= 0) | (power_ == 0)
    return _poly(
        init_value=init,
        end_value=xp.where(held, init_, end_),
        decay_steps=xp.where(held, 1, k_),
        power=xp.where(held, 1, power_),
        begin=xp.maximum(begin_, 0),
    )


@_factory(None, name="optax.polynomial_schedule")
@_speaks_as("optax.polynomial_schedule", **_POLY_NAMES)
def polynomial_schedule(
    init_value: _Any,
    end_value: _Any,
    power: _Any,
    transition_steps: _Any,
    transition_begin: _Any = 0,
) -> _Poly:
    r"""``optax.polynomial_schedule``: a polynomial from ``init_value`` to ``end_value``.

    .. math::
        \eta(t) = (I - E)\left(1 - \frac{\min(\max(t - B, 0), T)}{T}\right)^{P} + E

    The step is clipped to the transition, so the value is held at :math:`E` after
    it and never extrapolated. As in optax, ``transition_steps <= 0`` holds
    ``init_value`` for good, so does ``power == 0`` (:math:`0^0 = 1`), and a
    negative ``transition_begin`` counts as 0. A negative ``power`` (infinite at
    the end in optax) is refused.

    Example:
      >>> from jaxsched.compat import optax as schedules
      >>> s = schedules.polynomial_schedule(1.0, 0.0, power=2, transition_steps=10)
      >>> [float(s(t)) for t in (0, 5, 10, 20)]
      [1.0, 0.25, 0.0, 0.0]
      >>> float(schedules.polynomial_schedule(1.0, 0.0, 2, transition_steps=0)(5))
      1.0
    """
    return _polynomial(
        "optax.polynomial_schedule",
        init_value,
        end_value,
        power,
        transition_steps,
        transition_begin,
    )


@_factory(None, name="optax.linear_schedule")
@_speaks_as("optax.linear_schedule", **_POLY_NAMES)
def linear_schedule(
    init_value: _Any, end_value: _Any, transition_steps: _Any, transition_begin: _Any = 0
) -> _Poly:
    r"""``optax.linear_schedule``: `polynomial_schedule` with ``power=1``.

    .. math:: \eta(t) = I + (E - I)\, \frac{\min(\max(t - B, 0), T)}{T}

    ``transition_steps <= 0`` holds ``init_value``, as in optax.

    Example:
      >>> from jaxsched.compat import optax as schedules
      >>> s = schedules.linear_schedule(1.0, 0.5, transition_steps=10, transition_begin=5)
      >>> [float(s(t)) for t in (0, 5, 10, 15, 99)]
      [1.0, 1.0, 0.75, 0.5, 0.5]
    """
    return _polynomial(
        "optax.linear_schedule", init_value, end_value, 1.0, transition_steps, transition_begin
    )


@_factory(None, name="optax.warmup_constant_schedule")
@_speaks_as("optax.warmup_constant_schedule", end_value="peak_value", decay_steps="warmup_steps")
def warmup_constant_schedule(init_value: _Any, peak_value: _Any, warmup_steps: _Any) -> _Poly:
    r"""``optax.warmup_constant_schedule``: a linear warmup, then ``peak_value``.

    .. math:: \eta(t) = I + (P - I) \min(t / W, 1)

    optax builds it as ``linear_schedule(init_value, peak_value, warmup_steps)``, so
    ``warmup_steps <= 0`` holds ``init_value`` for good, not ``peak_value``.

    Example:
      >>> from jaxsched.compat import optax as schedules
      >>> [float(schedules.warmup_constant_schedule(0.0, 1.0, w)(5)) for w in (10, 0)]
      [0.5, 0.0]
    """
    f = "optax.warmup_constant_schedule"
    peak = _as_float(f, "peak_value", peak_value)
    w = _as_float(f, "warmup_steps", warmup_steps, switch=True)
    return _polynomial(f, init_value, peak, 1.0, w, 0)


# ---------------------------------------------------------------- exponential
def _exponential(
    f, init_value, transition_steps, decay_rate, transition_begin, staircase, end_value
) -> _Exponential:
    """optax's exponential decay; one that optax holds at ``init_value`` unbounded
    (``transition_steps <= 0`` or ``decay_rate == 0``) is a rate of 1 bounded by itself."""
    staircase = _as_bool(f, "staircase", staircase)
    init = _as_float(f, "init_value", init_value)
    on = _concrete(staircase)
    k = _as_float(f, "transition_steps", transition_steps, switch=on is not None and on.any())
    rate = _as_float(f, "decay_rate", decay_rate)
    begin = _as_float(f, "transition_begin", transition_begin, switch=True)
    _require(f, "decay_rate", rate, _ge0, ">= 0 (0 holds init_value, as in optax)")
    bounds = [] if end_value is None else [_as_float(f, "end_value", end_value)]
    xp, (init_, k_, rate_, begin_, *end_) = _host_or_traced(init, k, rate, begin, *bounds)
    held = (k_ <= 0) | (rate_ == 0)
    return _core_exponential(
        init_value=init,
        decay_steps=xp.where(held, 1, k_),
        decay_rate=xp.where(held, 1, rate_),
        staircase=staircase,
        begin=xp.maximum(begin_, 0),
        end_value=None if end_value is None else xp.where(held, init_, end_[0]),
    )


@_factory(None, name="optax.exponential_decay")
@_speaks_as("optax.exponential_decay", **_POLY_NAMES)
def exponential_decay(
    init_value: _Any,
    transition_steps: _Any,
    decay_rate: _Any,
    transition_begin: _Any = 0,
    staircase: _Any = False,
    end_value: _Any = None,
) -> _Exponential:
    r"""``optax.exponential_decay``.

    .. math::
        \eta(t) = \operatorname{clip}\!\left(I\, r^{p}\right), \qquad
        p = \frac{\max(t - B, 0)}{T} \quad (\lfloor p \rfloor \text{ with staircase})

    ``end_value`` bounds the value below when ``decay_rate < 1`` and above when
    ``decay_rate >= 1`` (a rate of exactly 1 included), from step 0 on: an
    ``end_value`` on the wrong side of ``init_value`` replaces it everywhere. As in
    optax, ``transition_steps <= 0`` or ``decay_rate == 0`` holds ``init_value``
    (unbounded), and a negative ``transition_begin`` counts as 0. A negative
    ``decay_rate`` (NaN at fractional powers in optax) is refused.

    Example:
      >>> from jaxsched.compat import optax as schedules
      >>> s = schedules.exponential_decay(1.0, 10, 0.5, transition_begin=5, end_value=0.3)
      >>> [float(s(t)) for t in (0, 5, 15, 25, 99)]
      [1.0, 1.0, 0.5, 0.3, 0.3]
    """
    return _exponential(
        "optax.exponential_decay",
        init_value,
        transition_steps,
        decay_rate,
        transition_begin,
        staircase,
        end_value,
    )


@_factory(None, name="optax.warmup_exponential_decay_schedule")
@_speaks_as("optax.warmup_exponential_decay_schedule", boundaries="warmup_steps", **_POLY_NAMES)
def warmup_exponential_decay_schedule(
    init_value: _Any,
    peak_value: _Any,
    warmup_steps: _Any,
    transition_steps: _Any,
    decay_rate: _Any,
    transition_begin: _Any = 0,
    staircase: _Any = False,
    end_value: _Any = None,
) -> _Join:
    r"""``optax.warmup_exponential_decay_schedule``: `linear_schedule` from ``init_value``
    to ``peak_value`` over ``warmup_steps``, then `exponential_decay` from ``peak_value``
    counted from ``warmup_steps``:

    .. math::
        \eta(t) = \begin{cases} I + (P - I)\, t / W & t < W \\
        D(t - W) & t \ge W \end{cases}

    The warmup ends at ``peak_value`` even when ``end_value`` bounds the decay below
    it: optax joins the two, and the value jumps to the bound at ``warmup_steps``.
    ``transition_begin`` holds ``peak_value`` after the warmup. A negative
    ``warmup_steps`` (which optax takes as a decay already under way) is refused.

    Example:
      >>> from jaxsched.compat import optax as schedules
      >>> s = schedules.warmup_exponential_decay_schedule(0.0, 1.0, 10, 10, 0.5)
      >>> [float(s(t)) for t in (0, 5, 10, 20, 30)]
      [0.0, 0.5, 1.0, 0.5, 0.25]
    """
    f = "optax.warmup_exponential_decay_schedule"
    peak = _as_float(f, "peak_value", peak_value)
    w = _as_float(f, "warmup_steps", warmup_steps, switch=True)
    _require(f, "warmup_steps", w, _ge0, ">= 0")
    rise = _polynomial(f, init_value, peak, 1.0, w, 0)
    decay = _exponential(
        f, peak, transition_steps, decay_rate, transition_begin, staircase, end_value
    )
    xp, (w_,) = _host_or_traced(w)
    return _join([rise, decay], boundaries=xp.expand_dims(w_, -1))


# --------------------------------------------------------------------- cosine
def _cosine(f: str, init, decay_steps, end, exponent) -> _Cosine:
    """A cosine with ``exponent == 0`` (a weight of 1 at every step in optax) held at
    ``init``; a negative one (infinite at the end in optax) refused."""
    exponent = _as_float(f, "exponent", exponent)
    _require(f, "exponent", exponent, _ge0, ">= 0 (0 holds the initial value, as in optax)")
    xp, (init_, end_, x) = _host_or_traced(init, end, exponent)
    held = x == 0
    return _core_cosine(
        init_value=init,
        decay_steps=decay_steps,
        end_value=xp.where(held, init_, end_),
        exponent=xp.where(held, 1, x),
    )


@_factory(None, name="optax.cosine_decay_schedule")
@_speaks_as("optax.cosine_decay_schedule")
def cosine_decay_schedule(
    init_value: _Any, decay_steps: _Any, alpha: _Any = 0.0, exponent: _Any = 1.0
) -> _Cosine:
    r"""``optax.cosine_decay_schedule``: a cosine down to ``alpha * init_value``, then held.

    .. math::
        \eta(t) = I\left(\alpha + (1 - \alpha)
        \left(\frac{1 + \cos(\pi \min(t, T) / T)}{2}\right)^{e}\right)

    ``alpha`` is a fraction of ``init_value``; ``decay_steps`` must be positive, as in
    optax; ``exponent == 0`` holds ``init_value`` (:math:`0^0 = 1`).
    Loshchilov & Hutter, *SGDR* (2017).

    Example:
      >>> from jaxsched.compat import optax as schedules
      >>> s = schedules.cosine_decay_schedule(1.0, decay_steps=100, alpha=0.1)
      >>> [round(float(s(t)), 4) for t in (0, 50, 100, 200)]
      [1.0, 0.55, 0.1, 0.1]
    """
    f = "optax.cosine_decay_schedule"
    init = _as_float(f, "init_value", init_value)
    alpha = _as_float(f, "alpha", alpha)
    _, (i, a) = _host_or_traced(init, alpha)
    return _cosine(f, init, decay_steps, a * i, exponent)


def _warmup_cosine(
    f, init_value, peak_value, warmup_steps, decay_steps, end_value, exponent
) -> _Warmup:
    peak = _as_float(f, "peak_value", peak_value)
    end = _as_float(f, "end_value", end_value)
    w = _as_float(f, "warmup_steps", warmup_steps, switch=True)
    total = _as_float(f, "decay_steps", decay_steps, switch=True)
    _require(f, "warmup_steps", w, _ge0, ">= 0")
    _require_related(
        f,
        ("warmup_steps", "decay_steps"),
        (w, total),
        lambda w, total: total > w,
        "decay_steps (which includes the warmup) must be > warmup_steps",
    )
    xp, (p, e, w_, total_) = _host_or_traced(peak, end, w, total)
    # optax: alpha = end_value / peak_value, and 0 for a peak_value of 0.
    decay = _cosine(f, peak, total_ - w_, xp.where(p == 0, 0, e), exponent)
    return _warmup(decay, warmup_steps=w, init_value=init_value)


@_factory(None, name="optax.warmup_cosine_decay_schedule")
@_speaks_as("optax.warmup_cosine_decay_schedule")
def warmup_cosine_decay_schedule(
    init_value: _Any,
    peak_value: _Any,
    warmup_steps: _Any,
    decay_steps: _Any,
    end_value: _Any = 0.0,
    exponent: _Any = 1.0,
) -> _Warmup:
    r"""``optax.warmup_cosine_decay_schedule``: a linear warmup, then a cosine.

    .. math::
        \eta(t) = \begin{cases} I + (P - I)\, t / W & t < W \\
        E + (P - E)\left(\frac{1 + \cos(\pi \min(t - W, T - W) / (T - W))}{2}\right)^{e}
        & t \ge W \end{cases}

    ``decay_steps`` :math:`T` includes the warmup, so it must exceed ``warmup_steps``
    (optax raises otherwise); ``end_value`` is absolute, but ignored when
    ``peak_value`` is 0 (optax's ``alpha`` is then 0). A negative ``warmup_steps`` is
    refused. This is ``jaxsched.warmup(jaxsched.cosine(...))``.

    Example:
      >>> from jaxsched.compat import optax as schedules
      >>> s = schedules.warmup_cosine_decay_schedule(0.0, 1.0, 10, 110, end_value=0.1)
      >>> [round(float(s(t)), 4) for t in (0, 5, 10, 60, 110, 999)]
      [0.0, 0.5, 1.0, 0.55, 0.1, 0.1]
    """
    return _warmup_cosine(
        "optax.warmup_cosine_decay_schedule",
        init_value,
        peak_value,
        warmup_steps,
        decay_steps,
        end_value,
        exponent,
    )


@_factory(None, name="optax.sgdr_schedule")
@_speaks_as("optax.sgdr_schedule")
def sgdr_schedule(cosine_kwargs: _Iterable[_Mapping[str, _Any]]) -> _Warmup | _Join:
    r"""``optax.sgdr_schedule``: `warmup_cosine_decay_schedule` periods one after another.

    ``cosine_kwargs`` is a list of dicts of `warmup_cosine_decay_schedule`'s
    arguments; period :math:`i` lasts its ``decay_steps`` :math:`T_i` (warmup
    included) and starts at :math:`S_i = T_0 + \dots + T_{i-1}`:

    .. math:: \eta(t) = C_i(t - S_i) \quad \text{for } S_i \le t < S_{i+1}

    After the last period its end value is held (no further restart). Loshchilov &
    Hutter, *SGDR* (2017). Every value in the dicts may be an array or a tracer.

    Example:
      >>> from jaxsched.compat import optax as schedules
      >>> period = dict(init_value=1.0, peak_value=1.0, warmup_steps=0, decay_steps=10)
      >>> s = schedules.sgdr_schedule([period, period])
      >>> [round(float(s(t)), 4) for t in (0, 5, 10, 15, 20, 99)]
      [1.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    """
    f = "optax.sgdr_schedule"
    if isinstance(cosine_kwargs, _Mapping) or not isinstance(cosine_kwargs, _Iterable):
        raise ValueError(f"{f}: cosine_kwargs must be a list of dicts, got {cosine_kwargs!r}")
    periods = list(cosine_kwargs)
    if not periods:
        raise ValueError(f"{f}: cosine_kwargs must hold at least one dict, got none")
    pieces, lengths = [], []
    for i, kwargs in enumerate(periods):
        if not isinstance(kwargs, _Mapping):
            raise ValueError(f"{f}: cosine_kwargs[{i}] must be a dict, got {kwargs!r}")
        label = f"{f}: cosine_kwargs[{i}]"
        pieces.append(_sgdr_period(label, kwargs))
        lengths.append(_as_float(label, "decay_steps", kwargs["decay_steps"]))
    if len(pieces) == 1:
        return pieces[0]
    xp, lengths = _host_or_traced(*lengths)
    lengths = xp.stack(xp.broadcast_arrays(*lengths), axis=-1)
    return _join(pieces, boundaries=xp.cumsum(lengths, axis=-1)[..., :-1])


_PERIOD = ("init_value", "peak_value", "warmup_steps", "decay_steps", "end_value", "exponent")


def _sgdr_period(label: str, kwargs: _Mapping[str, _Any]) -> _Warmup:
    """One period: a core factory's error inside names the period as well."""
    unknown = [k for k in kwargs if k not in _PERIOD]
    missing = [k for k in _PERIOD[:4] if k not in kwargs]
    if unknown or missing:
        raise ValueError(
            f"{label}: takes warmup_cosine_decay_schedule's arguments {', '.join(_PERIOD)}"
            f"; {'unknown: ' + repr(unknown) if unknown else 'missing: ' + repr(missing)}"
        )
    try:
        return _warmup_cosine(label, **{"end_value": 0.0, "exponent": 1.0, **kwargs})
    except ValueError as e:
        message = str(e)
        if message.startswith(label):
            raise
        raise ValueError(f"{label}: {message.split(': ', 1)[-1]}") from None


# -------------------------------------------------------------- piecewise
def _table(f: str, boundaries_and_scales: _Any) -> tuple[list[_Any], list[_jax.Array]]:
    """The sorted steps of optax's ``{step: scale}`` (as floats) and their scales."""
    if boundaries_and_scales is None:
        return [], []
    if not isinstance(boundaries_and_scales, _Mapping):
        raise ValueError(
            f"{f}: boundaries_and_scales must be a dict of {{step: scale}}, got "
            f"{boundaries_and_scales!r}"
        )
    keys = list(boundaries_and_scales)
    if keys:  # checked as numbers; sorted on the host (a dict's keys are never traced)
        _as_float(f, "boundaries_and_scales", keys, switch=True)
    steps = _np.asarray(keys, dtype=_np.float64)
    order = _np.argsort(steps, kind="stable")
    scales = []
    for i in order:
        name = f"boundaries_and_scales[{keys[i]!r}]"
        scale = _as_float(f, name, boundaries_and_scales[keys[i]])
        _require(f, name, scale, _ge0, ">= 0 (optax refuses negative scales)")
        scales.append(scale)
    return [float(steps[i]) for i in order], scales


def _values(init: _jax.Array, scales: _Sequence[_Any]):
    """``(xp, values)``: optax's running products ``init, init * s_1, ...`` on the last axis."""
    xp, (init_, *scales_) = _host_or_traced(init, *scales)
    column = xp.broadcast_arrays(init_, *scales_)
    return xp, xp.cumprod(xp.stack(column, axis=-1), axis=-1)


@_factory(None, name="optax.piecewise_constant_schedule")
@_speaks_as("optax.piecewise_constant_schedule", boundaries="boundaries_and_scales")
def piecewise_constant_schedule(
    init_value: _Any, boundaries_and_scales: _Mapping[_Any, _Any] | None = None
) -> _Piecewise:
    r"""``optax.piecewise_constant_schedule``: scales multiplied in at their steps.

    .. math:: \eta(t) = I \prod_{i\,:\, t \ge b_i} s_i

    The scales multiply: ``{100: 0.1, 200: 0.1}`` gives ``0.01 * init_value`` from
    step 200. A step of 0 or less applies from the start (it is folded into
    ``init_value``); scales must be >= 0, as in optax. The keys are steps (Python
    numbers); the scales and ``init_value`` may be arrays or tracers. This is
    `jaxsched.piecewise` of the running products.

    Example:
      >>> from jaxsched.compat import optax as schedules
      >>> s = schedules.piecewise_constant_schedule(1.0, {100: 0.1, 200: 0.5})
      >>> [round(float(s(t)), 4) for t in (0, 99, 100, 200)]
      [1.0, 1.0, 0.1, 0.05]
    """
    f = "optax.piecewise_constant_schedule"
    steps, scales = _table(f, boundaries_and_scales)
    _, values = _values(_as_float(f, "init_value", init_value), scales)
    start = sum(b <= 0 for b in steps)  # applied before the first step
    values = values[..., start:]
    return _piecewise(boundaries=_np.asarray(steps[start:], values.dtype), values=values)


_INTERPOLATE_TYPES = {"linear": "linear", "cosine": "cos"}


@_factory(None, name="optax.piecewise_interpolate_schedule")
@_speaks_as("optax.piecewise_interpolate_schedule", boundaries="boundaries_and_scales")
def piecewise_interpolate_schedule(
    interpolate_type: str,
    init_value: _Any,
    boundaries_and_scales: _Mapping[_Any, _Any] | None = None,
) -> _PiecewiseInterpolate:
    r"""``optax.piecewise_interpolate_schedule``: the running products of the scales,
    interpolated between their steps.

    With :math:`b_0 = 0`, :math:`v_0 = I` and :math:`v_i = I\, s_1 \cdots s_i`:

    .. math::
        \eta(t) = v_i + (v_{i+1} - v_i)\, w\!\left(\frac{t - b_i}{b_{i+1} - b_i}\right)
        \quad (b_i \le t < b_{i+1}), \qquad \eta(t) = v_n \quad (t \ge b_n)

    with :math:`w(p) = p` (``"linear"``) or :math:`(1 - \cos \pi p)/2` (``"cosine"``).
    The values interpolated are the products, not the scales. A step of 0 or less
    makes the schedule start part-way through the piece that follows it. optax
    stretches a piece shorter than one step to one step; steps less than one apart
    (only fractional ones can be) are refused rather than followed. This is
    `jaxsched.piecewise_interpolate`.

    Example:
      >>> from jaxsched.compat import optax as schedules
      >>> s = schedules.piecewise_interpolate_schedule("linear", 1.0, {4: 0.1, 8: 0.01})
      >>> [round(float(s(t)), 6) for t in (0, 2, 4, 6, 8, 10)]
      [1.0, 0.55, 0.1, 0.0505, 0.001, 0.001]
    """
    f = "optax.piecewise_interpolate_schedule"
    shape = _INTERPOLATE_TYPES[
        _as_choice(f, "interpolate_type", interpolate_type, tuple(_INTERPOLATE_TYPES))
    ]
    steps, scales = _table(f, boundaries_and_scales)
    _, values = _values(_as_float(f, "init_value", init_value), scales)
    return _interpolated(f, shape, _np.asarray(steps, values.dtype), values)


def _interpolated(f: str, shape: str, steps: _Any, values: _Any) -> _PiecewiseInterpolate:
    """optax's interpolation through ``(0, values[0])`` and ``(steps[i], values[i + 1])``,
    ``steps`` sorted along the last axis: the first point moves back to ``steps[0]`` when
    that is 0 or less (its piece is empty in optax)."""
    xp, (steps, values) = _host_or_traced(steps, values)
    batch = _np.broadcast_shapes(steps.shape[:-1], values.shape[:-1])
    steps = xp.broadcast_to(steps, (*batch, steps.shape[-1]))
    first = xp.minimum(0, steps[..., :1]) if steps.shape[-1] else xp.zeros((*batch, 1))
    knots = xp.concatenate([first.astype(values.dtype), steps.astype(values.dtype)], axis=-1)
    if xp is _np:
        gaps = _np.diff(knots, axis=-1)
        short = (gaps > 0) & (gaps < 1)
        if short.any():
            i = tuple(_np.argwhere(short)[0])
            a, b = knots[i], knots[(*i[:-1], i[-1] + 1)]
            raise ValueError(
                f"{f}: steps less than one apart are not supported, got {a:g} and {b:g} "
                "(optax stretches the piece between them to one step)"
            )
    return _piecewise_interpolate(boundaries=knots, values=values, shape=shape)


# ------------------------------------------------------------------ one-cycle
def _host64(x: _Any) -> _np.ndarray | None:
    """``x`` in float64 when it is a number (or numbers) on the host, else None."""
    host = _on_host(x)
    return host.astype(_np.float64) if host is not None and host.dtype.kind in "iuf" else None


def _truncated(exact: _np.ndarray | None, converted: _jax.Array) -> _Any:
    """``int(...)`` as optax takes it: of ``exact``, computed in float64 from the
    arguments as given (``int(0.29 * 100)`` is 28), when there is one; else of
    ``converted``, in the schedule's dtype (traced arguments)."""
    if exact is not None:
        return _np.trunc(exact)
    xp, (c,) = _host_or_traced(converted)
    return xp.trunc(c)


def _times(a: _Any, b: _Any) -> _np.ndarray | None:
    """``a * b`` in float64 when both are on the host, as optax's Python arithmetic."""
    ha, hb = _host64(a), _host64(b)
    return None if ha is None or hb is None else ha * hb


def _as_dict(xp, steps, scales):
    """optax's dict literal ``{steps[0]: scales[0], ...}``, sorted by step: a step given
    again keeps only its last scale (the earlier ones become 1 and sort after it)."""
    steps, scales = xp.broadcast_arrays(steps, scales)
    n = steps.shape[-1]
    later = _np.triu(_np.ones((n, n), dtype=bool), k=1)
    dropped = ((steps[..., :, None] == steps[..., None, :]) & later).any(axis=-1)
    scales = xp.where(dropped, 1, scales)
    order = xp.lexsort((dropped, steps), axis=-1)
    return xp.take_along_axis(steps, order, -1), xp.take_along_axis(scales, order, -1)


def _onecycle(f, shape, peak_value, steps, scales) -> _PiecewiseInterpolate:
    """optax's one-cycle: `piecewise_interpolate_schedule` from ``peak / div_factor``
    with the dict ``{steps[i]: scales[i]}``; ``scales[0]`` is ``div_factor``."""
    peak = _as_float(f, "peak_value", peak_value)
    xp, (peak_, *steps) = _host_or_traced(peak, *steps)
    _, scales = _host_or_traced(*scales)
    dtype = peak_.dtype
    steps = xp.stack(xp.broadcast_arrays(*steps), axis=-1).astype(dtype)
    scales = xp.stack(xp.broadcast_arrays(*scales), axis=-1).astype(dtype)
    init = peak_ / scales[..., 0]
    steps, scales = _as_dict(xp, steps, scales)
    _, values = _values(init, [scales[..., i] for i in range(scales.shape[-1])])
    return _interpolated(f, shape, steps, values)


def _onecycle_arguments(f: str, transition_steps: _Any, **kwargs: _Any):
    """``(transition_steps, {name: value})``, converted and checked (NumPy arrays when
    all are concrete)."""
    total = _as_float(f, "transition_steps", transition_steps, switch=True)
    _require(f, "transition_steps", total, lambda x: x > 0, "> 0 (optax raises otherwise)")
    names = list(kwargs)
    converted = [_as_float(f, n, kwargs[n]) for n in names]
    for name, value in zip(names, converted, strict=True):
        if name.endswith("div_factor"):
            _require(f, name, value, lambda x: x != 0, "nonzero")
    _, (total, *converted) = _host_or_traced(total, *converted)
    return total, dict(zip(names, converted, strict=True))


@_factory(None, name="optax.linear_onecycle_schedule")
@_speaks_as("optax.linear_onecycle_schedule")
def linear_onecycle_schedule(
    transition_steps: _Any,
    peak_value: _Any,
    pct_start: _Any = 0.3,
    pct_final: _Any = 0.85,
    div_factor: _Any = 25.0,
    final_div_factor: _Any = 1e4,
) -> _PiecewiseInterpolate:
    r"""``optax.linear_onecycle_schedule``: three linear phases through
    :math:`P/d` (step 0), :math:`P` (step :math:`\lfloor p_s T \rfloor`), :math:`P/d`
    (step :math:`\lfloor p_f T \rfloor`) and :math:`P/(d\, d_f)` (step :math:`T`), then held.

    .. math:: \eta(t) = a + (b - a)\, \tau

    over each phase from :math:`a` to :math:`b`, :math:`\tau` the part of it done.
    As optax builds it, `piecewise_interpolate_schedule` with
    ``{int(pct_start*T): d, int(pct_final*T): 1/d, T: 1/d_f}``: the steps are
    truncated (in float64 from the arguments as given, as Python does; a traced
    ``pct_start`` or ``transition_steps`` is truncated in the schedule's dtype), a
    step that falls on a later one loses its scale to it (``pct_final=1`` ends at
    :math:`P/d_f`, not :math:`P/(d\,d_f)`), and the last step is :math:`T` itself,
    fractional or not. ``transition_steps`` must be positive.
    Smith & Topin, *Super-Convergence* (2018).

    Example:
      >>> from jaxsched.compat import optax as schedules
      >>> s = schedules.linear_onecycle_schedule(100, 1.0, 0.25, 0.5, 10.0, 100.0)
      >>> [round(float(s(t)), 4) for t in (0, 25, 50, 100)]
      [0.1, 1.0, 0.1, 0.001]
    """
    f = "optax.linear_onecycle_schedule"
    total, c = _onecycle_arguments(
        f,
        transition_steps,
        pct_start=pct_start,
        pct_final=pct_final,
        div_factor=div_factor,
        final_div_factor=final_div_factor,
    )
    start = _truncated(_times(pct_start, transition_steps), c["pct_start"] * total)
    final = _truncated(_times(pct_final, transition_steps), c["pct_final"] * total)
    div, final_div = c["div_factor"], c["final_div_factor"]
    return _onecycle(f, "linear", peak_value, [start, final, total], [div, 1 / div, 1 / final_div])


@_factory(None, name="optax.cosine_onecycle_schedule")
@_speaks_as("optax.cosine_onecycle_schedule")
def cosine_onecycle_schedule(
    transition_steps: _Any,
    peak_value: _Any,
    pct_start: _Any = 0.3,
    div_factor: _Any = 25.0,
    final_div_factor: _Any = 1e4,
) -> _PiecewiseInterpolate:
    r"""``optax.cosine_onecycle_schedule``: cosine from :math:`P/d` up to :math:`P` at
    step :math:`\lfloor p_s T \rfloor`, then down to :math:`P/(d\, d_f)` at
    :math:`\lfloor T \rfloor`, then held.

    .. math:: \eta(t) = b + (a - b)\,\frac{1 + \cos(\pi \tau)}{2}

    over each phase from :math:`a` to :math:`b`, :math:`\tau` the part of it done.
    As optax builds it, `piecewise_interpolate_schedule` with
    ``{int(pct_start*T): d, int(T): 1/(d*d_f)}``: both steps are truncated (see
    `linear_onecycle_schedule`), so this is `jaxsched.one_cycle` only when
    :math:`p_s T` is whole. Smith & Topin, *Super-Convergence* (2018).

    Example:
      >>> from jaxsched.compat import optax as schedules
      >>> s = schedules.cosine_onecycle_schedule(100, 1.0, pct_start=0.25, div_factor=10.0)
      >>> [round(float(s(t)), 4) for t in (0, 25, 100)]
      [0.1, 1.0, 0.0]
    """
    f = "optax.cosine_onecycle_schedule"
    total, c = _onecycle_arguments(
        f,
        transition_steps,
        pct_start=pct_start,
        div_factor=div_factor,
        final_div_factor=final_div_factor,
    )
    start = _truncated(_times(pct_start, transition_steps), c["pct_start"] * total)
    end = _truncated(_host64(transition_steps), total)
    div = c["div_factor"]
    return _onecycle(f, "cos", peak_value, [start, end], [div, 1 / (div * c["final_div_factor"])])


# ----------------------------------------------------------------------- join
@_factory(None, name="optax.join_schedules", event_ndims={"boundaries": 1})
@_speaks_as("optax.join_schedules")
def join_schedules(schedules: _Sequence[_Schedule], boundaries: _Any) -> _Join:
    r"""``optax.join_schedules``: ``schedules[i]`` from ``boundaries[i - 1]`` on, given
    the steps since that boundary.

    .. math:: \eta(t) = S_i(t - b_{i-1}) \quad \text{for } b_{i-1} \le t < b_i

    The schedules must be jaxsched schedules (build them with this module); each
    boundary may be an array (a batch) or a tracer. optax
    takes any boundaries and silently ignores schedules or boundaries that ``zip``
    does not pair; here there must be one boundary fewer than schedules, strictly
    increasing and non-negative. This is `jaxsched.join`.

    Example:
      >>> from jaxsched.compat import optax as schedules
      >>> s = schedules.join_schedules(
      ...     [schedules.constant_schedule(0.1), schedules.linear_schedule(0.1, 0.0, 100)],
      ...     boundaries=[50],
      ... )
      >>> [round(float(s(t)), 4) for t in (0, 50, 100, 150)]
      [0.1, 0.1, 0.05, 0.0]
    """
    f = "optax.join_schedules"
    if isinstance(schedules, _Sequence):
        for i, s in enumerate(schedules):
            if not isinstance(s, _Schedule):
                raise ValueError(
                    f"{f}: schedules[{i}] must be a jaxsched schedule (build it with "
                    f"jaxsched.compat.optax), got {s!r}"
                )
    if isinstance(boundaries, list | tuple) and boundaries:
        # optax's list of boundaries: each entry may be a batch (an array or a tracer).
        steps = [_as_float(f, "boundaries", b, switch=True) for b in boundaries]
        xp, steps = _host_or_traced(*steps)
        boundaries = xp.stack(xp.broadcast_arrays(*steps), axis=-1)
    return _join(schedules, boundaries)
