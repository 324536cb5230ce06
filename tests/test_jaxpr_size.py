"""Each family's compiled size is capped, so that it cannot creep back.

The size is the number of equations of ``jax.make_jaxpr(schedule)(jnp.int32(5))``
(optax's ``count`` is an int32), counted through every sub-jaxpr (calls, loops,
branches): the program ``optax.sgd(schedule)`` compiles, its hyperparameters known
(`jaxsched._specialise`). optax's own schedules, where they have a counterpart, are
counted the same way; each family stays within 4x of optax's.

When a change makes a family smaller, lower its cap here.
"""

from __future__ import annotations

import jax
import jax.extend as jex
import jax.numpy as jnp
import numpy as np
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


# family: (schedule, cap). Issue 19 measured, before the schedules were specialised on
# known hyperparameters: cosine 148, poly 258, exponential 182, warmup + cosine 321,
# cosine_restarts 1755; then 74, 140, 100, 167, 462 with the general program alone.
CAPS = {
    "constant": (lambda: js.constant(0.1), 0),
    "step": (lambda: js.step(0.1, 30, 0.5), 58),
    "multistep": (lambda: js.multistep(0.1, [20, 50], 0.5), 24),
    "piecewise": (lambda: js.piecewise([20, 50], [1.0, 0.5, 0.1]), 13),
    "piecewise_interpolate": (lambda: js.piecewise_interpolate([0, 20, 50], [0.0, 1.0, 0.1]), 53),
    "exponential": (lambda: js.exponential(0.1, 20, 0.5), 26),
    "inverse_time": (lambda: js.inverse_time(0.1, 20, 0.5), 7),
    "poly": (lambda: js.poly(0.1, 0.001, 100, 2.0), 27),
    "linear": (lambda: js.linear(0.1, 0.0, 100), 27),
    "cosine": (lambda: js.cosine(0.1, 100), 37),
    "one_cycle": (lambda: js.one_cycle(0.1, 150), 56),
    "cyclic": (lambda: js.cyclic(0.01, 0.1, 20), 64),
    "cosine_restarts": (lambda: js.cosine_restarts(0.1, 10), 86),
    "restarts": (lambda: js.restarts(0.1, 10), 93),
    "wsd": (lambda: js.wsd(0.1, 150, 10, 30), 34),
    "inverse_sqrt": (lambda: js.inverse_sqrt(0.1, 20), 12),
    "rex": (lambda: js.rex(0.1, 100), 18),
    "warmup_cosine": (lambda: js.warmup(js.cosine(0.1, 100), 20), 65),
    "join": (lambda: js.join([js.constant(0.1), js.linear(0.1, 0.0, 50)], [30]), 37),
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


@pytest.mark.parametrize("family", list(OPTAX))
def test_within_four_times_optax(family):
    ours, theirs = size(CAPS[family][0]()), size(OPTAX[family]())
    assert ours <= max(4 * theirs, 1), f"{family}: {ours} equations, optax {theirs}"


@pytest.mark.parametrize("family", list(CAPS))
def test_the_specialised_program_equals_the_general_one(family):
    """Known hyperparameters (closed over) compile to the small program; traced ones (an
    argument) to the general one. Both give the same values, up to the float32 rounding
    that XLA's fusion already varies by, at small and huge steps, and the same gradient."""
    schedule = CAPS[family][0]()
    ints = jnp.asarray([0, 1, 19, 20, 21, 49, 50, 99, 100, 101, 150, 2**24 + 1, 2**31 - 1])
    for steps in (ints, ints.astype(jnp.float32) + 0.25):
        small = jax.jit(jax.vmap(schedule))(steps)
        general = jax.jit(lambda s, t: jax.vmap(s)(t))(schedule, steps)
        np.testing.assert_allclose(small, general, rtol=2e-6, atol=1e-12)
    slope = jax.jit(jax.grad(lambda t: schedule(t)))(jnp.float32(25.5))
    traced = jax.jit(jax.grad(lambda t, s: s(t)))(jnp.float32(25.5), schedule)
    np.testing.assert_allclose(slope, traced, rtol=1e-6, atol=1e-12)


def test_a_partly_known_batch_is_specialised_on_what_is_known():
    """Within one program, the known hyperparameters of a schedule whose others are
    traced still pick their branches: poly's ``cycle``, its power."""
    base = js.poly(0.1, 0.0, 100, 2.0)

    def rate(init_value, t):
        return base._replace(init_value=init_value)(t)

    partly = equations(jax.make_jaxpr(rate)(jnp.float32(0.1), jnp.int32(5)).jaxpr)
    general = equations(jax.make_jaxpr(lambda s, t: s(t))(base, jnp.int32(5)).jaxpr)
    assert partly < general / 2, (partly, general)
    np.testing.assert_allclose(jax.jit(rate)(0.2, 30), 2 * base(30), rtol=1e-6)


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


def test_growing_restarts_with_a_traced_length_are_capped():
    """The comparison's case: ``t_mul`` known (periods that double), the first period's
    length traced (a sweep over it). Both ways of finding the period stay in the
    program (the length may not be whole); the four starts around the log's guess are
    computed at once (319 equations when each was its own, 232 now)."""
    base = js.cosine_restarts(0.1, 10, t_mul=2.0)

    def rate(first_decay_steps, t):
        return base._replace(first_decay_steps=first_decay_steps)(t)

    got = equations(jax.make_jaxpr(rate)(jnp.float32(10.0), jnp.int32(5)).jaxpr)
    assert got <= 240, got
    steps = jnp.asarray([0, 9, 10, 29, 30, 70, 2**20 + 7])
    np.testing.assert_allclose(
        jax.vmap(lambda t: rate(jnp.float32(10.0), t))(steps), base(steps), rtol=2e-6
    )
