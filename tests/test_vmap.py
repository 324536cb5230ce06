"""Every factory jits and vmaps over every numeric hyperparameter (step counts and
boundaries included), equal to a Python loop over unbatched schedules, in optax too."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import SWEEPS, SWEPT

import jaxsched as js

STEPS = jnp.arange(0, 260, 3)


def _one_by_one(name: str, param: str) -> list[js.Schedule]:
    factory, shared, sweeps = SWEEPS[name]
    return [factory(**{**shared, param: v}) for v in sweeps[param]]


@pytest.mark.parametrize(("name", "param"), SWEPT)
def test_jit_vmap_over_hyperparameter_equals_loop(name, param):
    factory, shared, sweeps = SWEEPS[name]
    batch = js.grid(factory, **{**shared, param: sweeps[param]})
    assert batch.batch_shape == (len(sweeps[param]),)
    batched = jax.jit(jax.vmap(lambda s: s(STEPS)))(batch)
    looped = np.stack([s(STEPS) for s in _one_by_one(name, param)])
    # Compiled and eager transcendentals differ in the last bits: an absolute floor of
    # 1e-8 (rates here are 0.001 to 1) covers values close to zero.
    np.testing.assert_allclose(batched, looped, rtol=1e-6, atol=1e-8)
    # The hyperparameter really changes the schedule (the sweep is not vacuous).
    assert len({tuple(np.asarray(row)) for row in looped}) > 1


TRACEABLE = [(n, p) for n, p in SWEPT if not isinstance(SWEEPS[n][2][p][0], js.Schedule)]


@pytest.mark.parametrize(("name", "param"), TRACEABLE)
def test_vmap_over_traced_factory_argument(name, param):
    """The factory itself runs under vmap: nothing is checked in Python, values agree."""
    factory, shared, sweeps = SWEEPS[name]
    values = sweeps[param]
    stacked = jnp.asarray(values, dtype=jnp.int32 if param == "index" else None)
    traced = jax.jit(jax.vmap(lambda v: factory(**{**shared, param: v})(STEPS)))(stacked)
    looped = np.stack([s(STEPS) for s in _one_by_one(name, param)])
    np.testing.assert_allclose(traced, looped, rtol=1e-6, atol=1e-8)


UPDATES = 60


def _sgd_trajectory(schedule: js.Schedule) -> jax.Array:
    """Parameters before each of 60 optax SGD-with-momentum updates on |p|^2 / 2."""
    opt = optax.sgd(schedule, momentum=0.9)
    params = jnp.array([1.0, -2.0])

    def update(carry, _):
        params, state = carry
        updates, state = opt.update(params, state, params)  # the gradient is params
        return (optax.apply_updates(params, updates), state), params

    _, path = jax.lax.scan(update, (params, opt.init(params)), None, length=UPDATES)
    return path


def _reference_trajectory(rates: np.ndarray) -> np.ndarray:
    """The same run written out: trace = g + 0.9 trace; p -= rate(t) * trace."""
    params, trace, path = np.array([1.0, -2.0]), np.zeros(2), []
    for rate in rates:
        path.append(params.copy())
        trace = params + 0.9 * trace
        params = params - rate * trace
    return np.stack(path)


@pytest.mark.parametrize(("name", "param"), SWEPT)
def test_optax_sgd_under_vmap_equals_loop(name, param):
    factory, shared, sweeps = SWEEPS[name]
    batch = js.grid(factory, **{**shared, param: sweeps[param]})
    batched = jax.jit(jax.vmap(_sgd_trajectory))(batch)
    steps = np.arange(UPDATES)
    looped = [
        _reference_trajectory(np.asarray(s(steps), np.float64)) for s in _one_by_one(name, param)
    ]
    np.testing.assert_allclose(batched, np.stack(looped), rtol=2e-5, atol=1e-6)


def test_grid_of_mixed_static_options_becomes_a_switch():
    batch = js.grid(
        js.cyclic,
        base_value=0.0,
        peak_value=1.0,
        step_size_up=10,
        mode=["triangular", "triangular2"],
    )
    assert isinstance(batch, js.Switch)
    values = jax.jit(jax.vmap(lambda s: s(30)))(batch)
    np.testing.assert_allclose(values, [1.0, 0.5])


def test_one_compile_for_any_hyperparameter_values():
    """Changing a hyperparameter (a step count) does not retrace."""
    traces = []

    @jax.jit
    def value(schedule, step):
        traces.append(None)
        return schedule(step)

    value(js.poly(0.1, 0.0, decay_steps=100), 50)
    value(js.poly(0.2, 0.0, decay_steps=1000, power=3), 50)
    assert len(traces) == 1
