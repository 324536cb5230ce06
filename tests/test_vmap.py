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


def test_reshape_keeps_each_schedule_and_its_boundaries():
    batch = js.grid(
        js.multistep, init_value=[0.1, 0.2, 0.3], boundaries=[[10, 20], [30, 40]], decay_rate=0.5
    )
    square = batch.reshape(3, 2)
    assert square.batch_shape == (3, 2) and square.boundaries.shape == (3, 2, 2)
    assert batch.reshape((3, -1)).batch_shape == (3, 2)  # a tuple and -1, as in NumPy
    values = jax.jit(jax.vmap(jax.vmap(lambda s: s(STEPS))))(square)
    np.testing.assert_array_equal(values.reshape(6, -1), jax.vmap(lambda s: s(STEPS))(batch))
    assert square[2][1].to_dict() == batch[5].to_dict()
    assert square.flatten().to_dicts() == batch.to_dicts()


def test_flatten_a_broadcast_batch_and_a_mixed_family_batch():
    broadcast = js.cosine(init_value=jnp.array([[0.1], [0.3]]), decay_steps=jnp.array([10, 20]))
    flat = broadcast.flatten()
    assert broadcast.batch_shape == (2, 2) and flat.batch_shape == (4,)
    assert [(d["init_value"], d["decay_steps"]) for d in flat.to_dicts()] == [
        (0.1, 10.0),
        (0.1, 20.0),
        (0.3, 10.0),
        (0.3, 20.0),
    ]
    mixed = js.stack([js.constant(0.1), js.cosine(1.0, 10), js.rex(1.0, 10), js.constant(0.2)])
    assert [d["kind"] for d in mixed.reshape(2, 2).flatten().to_dicts()] == [
        "constant",
        "cosine",
        "rex",
        "constant",
    ]
    np.testing.assert_array_equal(mixed.reshape(2, 2)(5), np.reshape(mixed(5), (2, 2)))
    assert js.constant(0.1).flatten().batch_shape == (1,)


def test_reshape_to_a_shape_of_another_size_is_one_line():
    with pytest.raises(
        ValueError,
        match=r"cosine: cannot reshape a batch of shape \(4,\) "
        r"\(4 schedules\) into \(3, -1\)",
    ):
        js.grid(js.cosine, init_value=[0.1, 0.2, 0.3, 0.4], decay_steps=10).reshape(3, -1)
