"""The schedule families of the comparison and the search space of each.

Every family is swept over a base rate (the initial or peak learning rate, on
a log grid, see `jaxsched.experiments.base_rates`) times up to three values of
one parameter of its own, chosen relative to the run length ``T`` so that the
same space makes sense for 300 steps or 6000:

=================  ==============================================  ==========================
family             schedule (rate ``r``)                            own parameter: values
=================  ==============================================  ==========================
constant           ``constant(r)``                                  --
step               ``step(r, step_size=T/4, decay_rate)``           decay_rate: 0.1, 0.5, 0.3
multistep          ``multistep(r, [T/2, 3T/4], decay_rate)``        decay_rate: 0.1, 0.3, 0.03
exponential        ``exponential(r, decay_steps=T, decay_rate)``    decay_rate: 0.01, 0.1, 0.001
inverse_time       ``inverse_time(r, decay_steps=T, decay_rate)``   decay_rate: 9, 99, 999
poly               ``poly(r, 0, decay_steps=T, power)``             power: 2, 0.5, 3
linear             ``linear(r, 0, decay_steps=T)``                  --
cosine             ``cosine(r, decay_steps=T)``                     --
warmup_cosine      ``warmup(cosine(r, T - w), w)``                  w: T/20, T/5, T/10
one_cycle          ``one_cycle(r, T, pct_start)``                   pct_start: 0.3, 0.1, 0.5
cyclic             ``cyclic(r/10, r, step_size_up)`` (triangular)   step_size_up: T/2, T/8, T/4
cosine_restarts    ``cosine_restarts(r, first_decay_steps, t_mul=2)``  first_decay_steps: T/7, T/3, T/15
wsd                ``wsd(r, T, warmup_steps=T/20, decay_steps)``    decay_steps: T/5, T/10, 2T/5
rex                ``rex(r, decay_steps=T)``                        --
schedule_free      ``warmup(constant(r), w)``, schedule-free (*)    w: T/20, T/5, T/10
=================  ==============================================  ==========================

(*) ``schedule_free`` is a baseline a user would pick instead of a schedule: the
rate is the learning rate of ``optax.contrib.schedule_free_sgd`` (for SGD) or
``schedule_free_adamw`` (for Adam and AdamW), which average the iterates
themselves, and runs are evaluated at the averaged weights
(``optax.contrib.schedule_free_eval_params``). It needs its own optimizer, so the
comparison trains it in a program of its own (`SCHEDULE_FREE`,
`jaxsched.experiments.tasks.schedule_free_optimizer`), at the optimizer's base
rates times `jaxsched.experiments.tasks.SCHEDULE_FREE_RATE_SCALE` (10 for SGD,
whose momentum the schedule-free SGD lacks).

A budget with ``own=n`` takes the first ``n`` values. A family without a parameter
of its own (constant, linear, cosine, REX) is tuned as finely instead: its base
rates are the grid's with ``n - 1`` more between each pair of neighbours, evenly
spaced in log (`finer_rates`), so that every family, the constant baseline
included, gets about the same number of configurations. The decays end at a
fixed fraction of the rate (1/10, 1/100, ...) at ``T``; cyclic schedules end a
whole number of cycles at ``T``.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import jaxsched
from jaxsched._base import Schedule, factory_named
from jaxsched._check import did_you_mean

__all__ = [
    "FAMILIES",
    "LABELS",
    "SCHEDULE_FREE",
    "Candidate",
    "candidates",
    "factory_of",
    "finer_rates",
    "label",
    "search_space",
]


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One configuration of the comparison.

    Attributes:
      family: the family's name (a key of `FAMILIES`).
      base_rate: the initial or peak learning rate.
      params: the family's own parameter, ``{name: value}`` (empty for one-parameter families).
      schedule: the schedule itself.
    """

    family: str
    base_rate: float
    params: dict[str, Any]
    schedule: Schedule


@dataclasses.dataclass(frozen=True)
class _Family:
    """A family: its own parameter, that parameter's values, and how to build a schedule.

    ``build(make, rate, steps, level)`` gets ``make``, the factory of the registry that
    the family's schedules are made by (`factory_of`): ``factory``, by default the
    family's name.
    """

    own: str | None
    levels: tuple[Any, ...]
    build: Callable[[Callable[..., Schedule], float, int, Any], Schedule]
    value: Callable[[Any, int], Any] = lambda level, steps: level
    factory: str | None = None


def _frac(level: float, steps: int) -> int:
    return max(1, round(level * steps))


def _cycle(level: float, steps: int) -> int:
    """A period that whole cycles stretch to at least ``steps`` (never restarting before the end)."""
    return max(1, math.ceil(level * steps - 1e-9))


def _warmup_cosine(make: Callable[..., Schedule], r: float, t: int, level: float) -> Schedule:
    w = min(_frac(level, t), t - 1)
    return make(jaxsched.cosine(r, decay_steps=t - w), warmup_steps=w)


_FAMILIES: dict[str, _Family] = {
    "constant": _Family(None, (None,), lambda make, r, t, _: make(r)),
    "step": _Family(
        "decay_rate", (0.1, 0.5, 0.3), lambda make, r, t, d: make(r, _frac(0.25, t), d)
    ),
    "multistep": _Family(
        "decay_rate",
        (0.1, 0.3, 0.03),
        lambda make, r, t, d: make(r, sorted({_frac(0.5, t), _frac(0.75, t)}), d),
    ),
    "exponential": _Family("decay_rate", (0.01, 0.1, 0.001), lambda make, r, t, d: make(r, t, d)),
    "inverse_time": _Family("decay_rate", (9.0, 99.0, 999.0), lambda make, r, t, d: make(r, t, d)),
    "poly": _Family("power", (2.0, 0.5, 3.0), lambda make, r, t, p: make(r, 0.0, t, power=p)),
    "linear": _Family(None, (None,), lambda make, r, t, _: make(r, 0.0, t)),
    "cosine": _Family(None, (None,), lambda make, r, t, _: make(r, t)),
    "warmup_cosine": _Family(
        "warmup_steps",
        (0.05, 0.2, 0.1),
        _warmup_cosine,
        lambda w, t: min(_frac(w, t), t - 1),
        factory="warmup",
    ),
    "one_cycle": _Family(
        "pct_start", (0.3, 0.1, 0.5), lambda make, r, t, p: make(r, t, pct_start=p)
    ),
    "cyclic": _Family(
        "step_size_up",
        (0.5, 0.125, 0.25),
        lambda make, r, t, f: make(r / 10, r, step_size_up=_cycle(f, t)),
        _cycle,
    ),
    "cosine_restarts": _Family(
        "first_decay_steps",
        (1 / 7, 1 / 3, 1 / 15),
        lambda make, r, t, f: make(r, _cycle(f, t), t_mul=2.0),
        _cycle,
    ),
    "wsd": _Family(
        "decay_steps",
        (0.2, 0.1, 0.4),
        lambda make, r, t, f: make(r, t, warmup_steps=_frac(0.05, t), decay_steps=_frac(f, t)),
        _frac,
    ),
    "rex": _Family(None, (None,), lambda make, r, t, _: make(r, t)),
    "schedule_free": _Family(
        "warmup_steps",
        (0.05, 0.2, 0.1),
        lambda make, r, t, w: make(jaxsched.constant(r), warmup_steps=_frac(w, t)),
        _frac,
        factory="warmup",
    ),
}

#: Families trained with a schedule-free optimizer (their schedule is its learning rate).
SCHEDULE_FREE: frozenset[str] = frozenset({"schedule_free"})

#: The families, in the order of the tables.
FAMILIES: tuple[str, ...] = tuple(_FAMILIES)

#: Display names.
LABELS: dict[str, str] = {name: name.replace("_", " ") for name in FAMILIES} | {
    "warmup_cosine": "warmup + cosine",
    "wsd": "WSD",
    "rex": "REX",
    "one_cycle": "one-cycle",
    "inverse_time": "inverse time",
    "cosine_restarts": "cosine restarts",
    "schedule_free": "schedule-free",
}


def label(family: str) -> str:
    """The display name of ``family`` in tables and figures (the name itself if unknown).

    Example:
      >>> from jaxsched.experiments.families import label
      >>> label("warmup_cosine"), label("cosine")
      ('warmup + cosine', 'cosine')
    """
    return LABELS.get(family, family)


def candidates(family: str, rates: Sequence[float], steps: int, own: int = 2) -> list[Candidate]:
    """The configurations of one family: every base rate x the first ``own`` values of
    its parameter; for a family without one, every rate of ``finer_rates(rates, own)``.

    Example:
      >>> from jaxsched.experiments import families
      >>> [(c.base_rate, c.params) for c in families.candidates("one_cycle", [0.1, 1.0], 1000)]
      [(0.1, {'pct_start': 0.3}), (0.1, {'pct_start': 0.1}), (1.0, {'pct_start': 0.3}), (1.0, {'pct_start': 0.1})]
      >>> [(c.base_rate, c.params) for c in families.candidates("cosine", [0.1, 1.0], 1000)]
      [(0.1, {}), (0.316, {}), (1.0, {})]
      >>> families.candidates("wsd", [0.1], 1000, own=1)[0].params
      {'decay_steps': 200}
    """
    spec = _family(family)
    if not 1 <= own <= 3:
        raise ValueError(f"own must be 1, 2 or 3 (values of a family's own parameter), got {own}")
    if steps < 2:
        raise ValueError(f"steps must be >= 2 to compare schedules, got {steps}")
    for rate in rates:
        if not rate > 0:
            raise ValueError(f"base rates must be > 0, got {rate!r}")
    make = factory_named(factory_of(family))
    out = []
    for rate in rates if spec.own is not None else finer_rates(rates, own):
        for level in spec.levels[:own]:
            params = {} if spec.own is None else {spec.own: spec.value(level, steps)}
            out.append(
                Candidate(family, float(rate), params, spec.build(make, float(rate), steps, level))
            )
    return out


def finer_rates(rates: Sequence[float], n: int) -> list[float]:
    """``rates`` (sorted, each once) with ``n - 1`` rates between each pair of neighbours,
    evenly spaced in log and rounded to 3 significant digits: the grid of a family that
    has no parameter of its own, about as many configurations as ``n`` values of one.

    Example:
      >>> from jaxsched.experiments import base_rates
      >>> from jaxsched.experiments.families import finer_rates
      >>> finer_rates(base_rates("sgd", 3), 2)
      [0.0316, 0.0562, 0.1, 0.178, 0.316]
      >>> finer_rates([1.0, 0.001], 3), finer_rates([0.5], 3)
      ([0.001, 0.01, 0.1, 1.0], [0.5])
    """
    grid = sorted({float(r) for r in rates})
    out = []
    for low, high in itertools.pairwise(grid):
        out += [low] + [float(f"{low * (high / low) ** (k / n):.3g}") for k in range(1, n)]
    return out + grid[-1:]


def factory_of(family: str) -> str:
    """The factory of the registry (a name `jaxsched.parse` knows) that builds ``family``'s
    schedules: the family's own name, or the composition's (``warmup`` for
    ``warmup_cosine`` and ``schedule_free``).

    Example:
      >>> from jaxsched.experiments import families
      >>> families.factory_of("cosine"), families.factory_of("warmup_cosine")
      ('cosine', 'warmup')
    """
    return _family(family).factory or family


def _family(family: str) -> _Family:
    if family not in _FAMILIES:
        close = did_you_mean(family, FAMILIES)
        raise ValueError(f"unknown family {family!r}{close}: use any of {', '.join(FAMILIES)}")
    return _FAMILIES[family]


def search_space(
    families: Sequence[str], rates: Sequence[float], steps: int, own: int = 2
) -> list[Candidate]:
    """Every family's configurations, concatenated in the order of ``families``.

    ``jaxsched.stack([c.schedule for c in space])`` is one batch for `jaxsched.train.fit`.

    Example:
      >>> from jaxsched.experiments import search_space
      >>> len(search_space(["constant", "cosine", "step"], [0.01, 0.1], 500))  # 3 + 3 + 2 x 2
      10
    """
    if not families:
        raise ValueError("give at least one family")
    seen = set()
    for f in families:
        if f in seen:
            raise ValueError(f"family {f!r} is given twice")
        seen.add(f)
    return [c for f in families for c in candidates(f, rates, steps, own)]
