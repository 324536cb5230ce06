"""Drop-in use as optax's closures are used: jit, grad, inject_hyperparams; and schedules as
data: repr, to_dict/from_dict, parse, batches and indexing."""

from __future__ import annotations

import functools
import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import SWEEPS

import jaxsched as js
from jaxsched.compat import keras as ks
from jaxsched.compat import optax as ox
from jaxsched.compat import torch as ts

STEPS = jnp.arange(0, 300, 11)

ALL = {name: factory(**shared) for name, (factory, shared, _) in SWEEPS.items()}
ALL.update(
    {
        "torch.CosineAnnealingLR": ts.CosineAnnealingLR(0.1, T_max=50),
        "torch.OneCycleLR": ts.OneCycleLR(max_lr=0.1, total_steps=200, three_phase=True),
        "torch.MultiStepLR": ts.MultiStepLR(0.1, milestones=[30, 30, 10]),
        "keras.PiecewiseConstantDecay": ks.PiecewiseConstantDecay([10, 20], [0.3, 0.2, 0.1]),
        "keras.CosineDecay": ks.CosineDecay(
            0.0, 100, alpha=0.1, warmup_target=0.1, warmup_steps=10
        ),
        "exponential_no_bound": js.exponential(0.1, 10, 0.9),
    }
)


@pytest.mark.parametrize("name", list(ALL))
def test_jit_of_the_schedule_itself(name):
    schedule = ALL[name]
    np.testing.assert_allclose(jax.jit(schedule)(STEPS), schedule(STEPS), rtol=1e-6)
    assert jax.jit(schedule)(jnp.int32(7)).shape == ()


@pytest.mark.parametrize("name", list(ALL))
def test_inject_hyperparams_takes_the_schedule(name):
    schedule = ALL[name]
    opt = optax.inject_hyperparams(optax.sgd)(learning_rate=schedule)
    params = jnp.ones(3)
    state = opt.init(params)
    seen = []
    for _ in range(4):  # the state holds the rate the last update used
        updates, state = opt.update(jnp.ones(3), state, params)
        seen.append(float(state.hyperparams["learning_rate"]))
        np.testing.assert_allclose(updates, -seen[-1] * jnp.ones(3), rtol=1e-6)
    np.testing.assert_allclose(seen, [float(schedule(t)) for t in range(4)], rtol=1e-6)


@pytest.mark.parametrize("name", list(ALL))
def test_to_dict_from_dict_parse_round_trip(name):
    schedule = ALL[name]
    spec = schedule.to_dict()
    again = js.from_dict(json.loads(json.dumps(spec)))
    assert again.to_dict() == spec
    np.testing.assert_array_equal(again(STEPS), schedule(STEPS))
    parsed = js.parse(repr(schedule))
    assert parsed.to_dict() == spec
    np.testing.assert_array_equal(parsed(STEPS), schedule(STEPS))


def test_keras_shrinking_restarts_round_trip():
    """keras.CosineDecayRestarts with t_mul < 1, which cosine_restarts refuses, is a
    keras.cosine_restarts: its dict and repr build it again."""
    for t_mul in (0.5, [0.5, 2.0]):
        schedule = ks.CosineDecayRestarts(0.1, 40, t_mul=t_mul, m_mul=0.9, alpha=0.1)
        spec = schedule.to_dict()
        assert spec["kind"] == "keras.cosine_restarts"
        for again in (js.from_dict(json.loads(json.dumps(spec))), js.parse(repr(schedule))):
            assert again.to_dict() == spec
            np.testing.assert_array_equal(again(STEPS[:, None]), schedule(STEPS[:, None]))
    assert np.isnan(schedule[0](80)) and not np.isnan(schedule[0](79))
    assert ks.CosineDecayRestarts(0.1, 40).to_dict()["kind"] == "cosine_restarts"
    once = js.from_dict({**spec, "t_mul": 0.0})  # Keras's t_mul=0: one period, then NaN
    assert np.isnan(once[0](40)) and not np.isnan(once[0](39))
    with pytest.raises(ValueError, match=r"keras\.cosine_restarts: t_mul must be >= 0, got -1"):
        js.from_dict({**spec, "t_mul": -1.0})


def test_batch_round_trip_through_json():
    batch = js.grid(
        js.exponential,
        init_value=[0.1, 0.2],
        decay_steps=10,
        decay_rate=0.5,
        end_value=[None, 0.01],
    )
    again = js.from_dict(json.loads(json.dumps(batch.to_dict())))
    np.testing.assert_array_equal(again(STEPS[:, None]), batch(STEPS[:, None]))


@pytest.mark.parametrize(
    ("make", "param"),
    [
        (lambda v: js.poly(v, 0.0, decay_steps=100, power=2.0), 0.1),
        (lambda v: js.poly(0.1, 0.0, decay_steps=v, power=2.0), 100.0),
        (lambda v: js.cosine(0.1, decay_steps=100, end_value=0.01, exponent=v), 1.5),
        (lambda v: js.one_cycle(0.1, total_steps=100, pct_start=v), 0.25),
        (lambda v: js.cosine_restarts(0.1, first_decay_steps=v, t_mul=1.5), 20.0),
        (lambda v: js.warmup(js.cosine(0.1, decay_steps=100), warmup_steps=v), 40.0),
        (lambda v: js.exponential(0.1, decay_steps=v, decay_rate=0.5), 20.0),
    ],
)
def test_grad_with_respect_to_a_hyperparameter(make, param):
    def value(v):
        return make(v)(30)

    grad = jax.grad(value)(param)
    h = 1e-3 * param
    numeric = (value(param + h) - value(param - h)) / (2 * h)
    assert np.isfinite(grad) and grad != 0
    np.testing.assert_allclose(grad, numeric, rtol=2e-2)


@pytest.mark.parametrize(
    "make",
    [
        lambda a, b: js.poly(a, b, decay_steps=10, power=2.0),
        lambda a, b: js.poly(a, b, decay_steps=10, power=2.0, cycle=True),
        lambda a, b: js.linear(a, b, decay_steps=10),
        lambda a, b: js.cosine(a, decay_steps=10, end_value=b, exponent=2.0),
        lambda a, b: js.rex(a, decay_steps=10, end_value=b),
        lambda a, b: js.cosine_restarts(a, 10, t_mul=2.0, m_mul=0.5, end_value=b),
        lambda a, b: ts.CosineAnnealingLR(a, T_max=10, eta_min=b),
        lambda a, b: js.cyclic(a, b, 10, 5, mode="triangular2"),
        lambda a, b: js.cyclic(a, b, 10, 5, mode="exp_range", gamma=0.99),
    ],
)
@pytest.mark.parametrize(("start", "end"), [(1.0, 0.0), (0.001, 1.0)])
def test_grads_are_finite_at_phase_ends(make, start, end):
    """Decaying or rising, the gradients in the step and in the start value are finite
    at the start, inside, at the end and after it: the branch a value does not take
    sends no NaN into them."""
    for t in (0.0, 5.0, 10.0, 15.0):
        by_step = jax.grad(lambda s: make(start, end)(s))(t)
        by_start = jax.grad(lambda a, t=t: make(a, end)(t))(start)
        assert np.isfinite(by_step) and np.isfinite(by_start), (t, by_step, by_start)
    numeric = (make(start, end)(5.0 + 1e-2) - make(start, end)(5.0 - 1e-2)) / 2e-2
    np.testing.assert_allclose(jax.grad(lambda t: make(start, end)(t))(5.0), numeric, rtol=1e-2)


def test_batch_indexing_len_and_iteration():
    batch = js.grid(
        js.poly, init_value=[0.1, 0.01], power=[1, 2, 3], end_value=0.0, decay_steps=100
    )
    assert len(batch) == 6
    assert batch[4].to_dict() == js.poly(0.01, 0.0, 100, power=2).to_dict()
    assert batch[-1].to_dict()["power"] == 3.0
    assert [s.to_dict()["power"] for s in batch] == [1.0, 2.0, 3.0] * 2
    assert batch.to_dicts() == [s.to_dict() for s in batch]
    with pytest.raises(TypeError, match="one batch axis"):
        batch[0].to_dicts()
    assert batch[1:3].batch_shape == (2,)
    with pytest.raises(IndexError):
        batch[6]
    with pytest.raises(TypeError, match="unbatched"):
        len(js.constant(0.1))


def test_stack_same_family_and_mixed_families():
    a, b = js.cosine(0.1, 100), js.cosine(0.2, 50, end_value=0.01)
    same = js.stack([a, b])
    assert isinstance(same, js.Cosine) and same.batch_shape == (2,)
    np.testing.assert_allclose(same(STEPS[:, None]), np.stack([a(STEPS), b(STEPS)], 1), rtol=1e-6)
    members = [
        a,
        js.constant(0.05),
        js.piecewise([10], [0.1, 0.2]),
        js.piecewise([5, 9], [1, 2, 3]),
        b,
    ]
    mixed = js.stack(members)
    assert isinstance(mixed, js.Switch) and mixed.batch_shape == (5,)
    want = np.stack([m(STEPS) for m in members], 1)
    np.testing.assert_allclose(jax.jit(mixed)(STEPS[:, None]), want, rtol=1e-6)
    np.testing.assert_allclose(jax.vmap(lambda s: s(STEPS))(mixed).T, want, rtol=1e-6)
    assert mixed[2].to_dict() == members[2].to_dict()


def test_grid_sweeps_lists_and_shares_the_rest():
    batch = js.grid(js.piecewise, boundaries=[[10, 20], [5, 6]], values=[1.0, 0.5, 0.1])
    assert batch.boundaries.shape == (2, 2) and batch.values.shape == (2, 3)
    np.testing.assert_allclose(batch(7), [1.0, 0.1])
    np.testing.assert_allclose(batch(5), [1.0, 0.5])
    with pytest.raises(ValueError, match="as a list of values to sweep"):
        js.grid(js.cosine, init_value=0.1, decay_steps=10)


#: Compat constructors that build a `jaxsched.Plateau` controller, not a schedule.
_CONTROLLERS = {"ReduceLROnPlateau"}


def test_compat_constructors_are_the_factories_parse_calls():
    """Each constructor is registered once, as itself: `parse` and `from_dict` call the
    very function the module exports (keras.PiecewiseConstantDecay was a wrapper around
    it, registered over it)."""
    from jaxsched._base import factory_named, factory_names

    for module, prefix in ((ts, "torch"), (ks, "keras")):
        for name in module.__all__:
            if name in _CONTROLLERS:  # driven by a metric: no schedule, so parse knows none
                assert f"{prefix}.{name}" not in factory_names(), name
                continue
            assert factory_named(f"{prefix}.{name}") is getattr(module, name), name
    piecewise = factory_named("keras.PiecewiseConstantDecay")
    assert piecewise.schedule_class.kind == "keras.PiecewiseConstantDecay"
    assert not hasattr(piecewise.__wrapped__, "schedule_class")  # no factory inside


def test_dir_and_tab_completion_show_only_the_exports():
    """Helper imports are private: dir() of the compat modules lists their constructors
    (it listed Any, np, jnp, require, ...; optax's also annotations and INTERPOLATE_TYPES),
    and jaxsched's lists its __all__ (with the subpackages imported so far)."""
    for module in (ts, ks, ox, js.compat):
        public = {n for n in dir(module) if not n.startswith("_")}
        assert public == set(module.__all__), sorted(public ^ set(module.__all__))
    public = {n for n in dir(js) if not n.startswith("_")} - {"train", "experiments", "cli"}
    assert public == set(js.__all__), sorted(public ^ set(js.__all__))


def test_only_milestones_are_a_sequence_per_schedule_in_torch_constructors():
    from jaxsched._base import event_ndim

    for name in ts.__all__:
        if name in _CONTROLLERS:
            continue
        want = {"milestones": 1} if name in ("MultiStepLR", "SequentialLR") else {}
        assert getattr(ts, name).event_ndims == want, name
    assert event_ndim(ts.MultiStepLR, "milestones") == 1
    assert event_ndim(ts.StepLR, "milestones") == 0
    # so grid takes one list of milestones as one value, as it does boundaries
    batch = js.grid(ts.MultiStepLR, lr=[0.1, 0.2], milestones=[10, 20])
    np.testing.assert_allclose(batch(15), [0.01, 0.02], rtol=1e-6)


def test_repr_is_readable_and_summarises_big_batches():
    assert (
        repr(js.cosine(0.1, 100))
        == "cosine(init_value=0.1, decay_steps=100, end_value=0, exponent=1)"
    )
    big = js.grid(js.constant, value=list(np.linspace(0.1, 1.0, 64)))
    assert repr(big) == "constant(value=<float32[64]>)"


def test_vmapped_sweep_of_64_learning_rates_in_one_compile():
    rates = js.grid(
        js.warmup,
        schedule=js.cosine(1.0, decay_steps=900),
        warmup_steps=100,
        init_value=list(np.geomspace(1e-4, 1e-1, 64)),
    )
    curves = jax.jit(jax.vmap(lambda s: s(jnp.arange(1000))))(rates)
    assert curves.shape == (64, 1000)
    np.testing.assert_allclose(curves[:, 100], 1.0, rtol=1e-6)


def _grads_in_every_float_leaf_and_the_step(batch: js.Schedule, steps: jax.Array):
    """``[config, step]`` gradients of ``batch[config](step)`` in each float leaf and in the step."""
    leaves, tree = jax.tree_util.tree_flatten(batch)
    is_float = [jnp.issubdtype(leaf.dtype, jnp.floating) for leaf in leaves]

    def value(floats, others, t):
        floats, others = iter(floats), iter(others)
        rebuilt = [next(floats) if f else next(others) for f in is_float]
        return jax.tree_util.tree_unflatten(tree, rebuilt)(t)

    one = jax.vmap(jax.grad(value, argnums=(0, 2)), in_axes=(None, None, 0))  # over steps
    floats = [leaf for leaf, f in zip(leaves, is_float, strict=True) if f]
    others = [leaf for leaf, f in zip(leaves, is_float, strict=True) if not f]
    return jax.jit(jax.vmap(one, in_axes=(0, 0, None)))(floats, others, steps)


ZEROS = [  # valid zeros, whose formulas divide by or raise to them: still differentiable
    js.warmup(js.cosine(0.1, decay_steps=100), warmup_steps=0),
    js.cyclic(0.1, 1.0, 10, step_size_down=0),  # a sawtooth
    js.cosine_restarts(1.0, 10, m_mul=0.0),  # one cosine, then the end value
    js.wsd(0.1, 150, 0, 30),
    js.inverse_sqrt(0.1, 0),
    ks.CosineDecay(0.1, 50, alpha=0.1, warmup_target=0.5, warmup_steps=0),
    ts.LinearLR(0.1, start_factor=0.1, total_iters=0),
    ts.PolynomialLR(0.1, total_iters=0, power=0.5),
]


@pytest.mark.parametrize("name", [n for n in SWEEPS if n != "switch"])
def test_gradients_in_every_hyperparameter_and_the_step_are_finite_in_every_phase(name):
    """Before, inside and after every phase, at its ends and between integer steps, for
    every value the table sweeps (powers below 1 and 1-sqrt decays included, whose
    derivative is infinite where a clipped part is 0): the branch or clip a value
    does not take sends no NaN into any gradient."""
    fn, base, sweeps = SWEEPS[name]
    batch = js.stack([fn(**{**base, p: v}) for p, values in sweeps.items() for v in values])
    steps = jnp.concatenate([jnp.arange(0.0, 260.0), jnp.arange(0.25, 60.0, 0.5)])
    by_leaf, by_step = _grads_in_every_float_leaf_and_the_step(batch, steps)
    for grads in [*by_leaf, by_step]:
        bad = np.argwhere(~np.isfinite(np.asarray(grads)))
        assert bad.size == 0, f"{name}: {bad[:3]} (config, step index)"


def test_gradients_are_finite_with_a_phase_of_length_zero_or_a_factor_of_zero():
    steps = jnp.arange(0.0, 160.0, 0.5)
    for schedule in ZEROS:
        by_leaf, by_step = _grads_in_every_float_leaf_and_the_step(js.stack([schedule]), steps)
        for grads in [*by_leaf, by_step]:
            assert np.isfinite(np.asarray(grads)).all(), schedule


@pytest.mark.parametrize("shape", ["cos", "tanh", "poly"])
def test_gradients_are_finite_past_the_end_of_shrinking_cycles(shape):
    """Cycles of 40, 24, 14.4, ... steps sum to 100: from there the cycle cannot be
    found (a log of a negative number) and the value is the end value, with finite
    gradients in every hyperparameter and the step; before, the schedule is unchanged."""
    make = functools.partial(
        js.restarts, 1.0, 40, end_value=0.01, cycle_limit=50, cycle_mul=0.6, shape=shape
    )
    steps = jnp.concatenate([jnp.arange(0.0, 160.0), jnp.asarray([2.0**31 - 1])])
    by_leaf, by_step = _grads_in_every_float_leaf_and_the_step(js.stack([make()]), steps)
    for grads in [*by_leaf, by_step]:
        assert np.isfinite(np.asarray(grads)).all()
    values = np.asarray(make()(steps))
    np.testing.assert_array_equal(values[101:], np.float32(0.01))  # 40 / (1 - m) > 100 in float32
    assert values[39] < 0.05 < 0.99 < values[40]  # the second cycle starts at step 40
