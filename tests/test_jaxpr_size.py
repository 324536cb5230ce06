"""Each family's compiled size is capped, so that it cannot creep back.

The size is the number of equations of ``jax.make_jaxpr(schedule)(jnp.int32(5))``
(optax's ``count`` is an int32), counted through every sub-jaxpr (calls, loops,
branches). optax's own schedules, where they have a counterpart, are counted the
same way (their hyperparameters are Python constants, not traced data); the goal
of issue 19 is each family within 4x of optax's.

When a change makes a family smaller, lower its cap here.
"""

from __future__ import annotations

import jax
import jax.extend as jex
import jax.numpy as jnp
import optax
import pytest
from conftest import x64_mode

import jaxsched as js


def equations(jaxpr: jex.core.Jaxpr) -> int:
    """The equations of ``jaxpr``, those of its sub-jaxprs included (each counted once)."""
    n = 0
    for eqn in jaxpr.eqns:
        n += 1
        for param in eqn.params.values():
            for sub in param if isinstance(param, list | tuple) else [param]:
                if isinstance(sub, jex.core.ClosedJaxpr):
                    n += equations(sub.jaxpr)
                elif isinstance(sub, jex.core.Jaxpr):
                    n += equations(sub)
    return n


def size(schedule) -> int:
    return equations(jax.make_jaxpr(schedule)(jnp.int32(5)).jaxpr)


# family: (schedule, cap). Issue 19 measured before: cosine 148, poly 258,
# exponential 182, warmup + cosine 321, cosine_restarts 1755.
CAPS = {
    "constant": (lambda: js.constant(0.1), 1),
    "step": (lambda: js.step(0.1, 30, 0.5), 85),
    "multistep": (lambda: js.multistep(0.1, [20, 50], 0.5), 38),
    "piecewise": (lambda: js.piecewise([20, 50], [1.0, 0.5, 0.1]), 23),
    "piecewise_interpolate": (lambda: js.piecewise_interpolate([0, 20, 50], [0.0, 1.0, 0.1]), 101),
    "exponential": (lambda: js.exponential(0.1, 20, 0.5), 100),
    "inverse_time": (lambda: js.inverse_time(0.1, 20, 0.5), 66),
    "poly": (lambda: js.poly(0.1, 0.001, 100, 2.0), 140),
    "linear": (lambda: js.linear(0.1, 0.0, 100), 140),
    "cosine": (lambda: js.cosine(0.1, 100), 74),
    "one_cycle": (lambda: js.one_cycle(0.1, 150), 159),
    "cyclic": (lambda: js.cyclic(0.01, 0.1, 20), 100),
    "cosine_restarts": (lambda: js.cosine_restarts(0.1, 10), 462),
    "restarts": (lambda: js.restarts(0.1, 10), 451),
    "wsd": (lambda: js.wsd(0.1, 150, 10, 30), 57),
    "inverse_sqrt": (lambda: js.inverse_sqrt(0.1, 20), 18),
    "rex": (lambda: js.rex(0.1, 100), 39),
    "warmup_cosine": (lambda: js.warmup(js.cosine(0.1, 100), 20), 167),
    "join": (lambda: js.join([js.constant(0.1), js.linear(0.1, 0.0, 50)], [30]), 155),
}

OPTAX = {
    "constant": lambda: optax.constant_schedule(0.1),
    "exponential": lambda: optax.exponential_decay(0.1, 20, 0.5),
    "poly": lambda: optax.polynomial_schedule(0.1, 0.001, 2.0, 100),
    "linear": lambda: optax.linear_schedule(0.1, 0.0, 100),
    "cosine": lambda: optax.cosine_decay_schedule(0.1, 100),
    "warmup_cosine": lambda: optax.warmup_cosine_decay_schedule(0.0, 0.1, 20, 120),
    "piecewise": lambda: optax.piecewise_constant_schedule(1.0, {20: 0.5, 50: 0.2}),
    "one_cycle": lambda: optax.cosine_onecycle_schedule(150, 0.1),
    "join": lambda: optax.join_schedules(
        [optax.constant_schedule(0.1), optax.linear_schedule(0.1, 0.0, 50)], [30]
    ),
}


@pytest.fixture(autouse=True)
def _float32():
    with x64_mode(False):
        yield


@pytest.mark.parametrize("family", list(CAPS))
def test_jaxpr_size_is_capped(family):
    make, cap = CAPS[family]
    got = size(make())
    theirs = f" (optax: {size(OPTAX[family]())})" if family in OPTAX else ""
    assert got <= cap, f"{family}: {got} equations, capped at {cap}{theirs}"


def test_every_family_is_capped():
    """A new family gets a cap too."""
    kinds = {cls.kind for cls in _schedule_classes()}
    capped = {make().kind for make, _ in CAPS.values()}
    missing = kinds - capped - {"switch", "piecewise_interpolate"} - _compat_kinds(kinds)
    assert not missing, f"no jaxpr-size cap for {sorted(missing)}"


def _schedule_classes():
    from jaxsched._base import _FACTORIES

    return {getattr(f, "schedule_class", None) for f in _FACTORIES.values()} - {None}


def _compat_kinds(kinds: set[str]) -> set[str]:
    return {k for k in kinds if "." in k}
