"""The leaves every configuration shares are constants of fit's program."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from test_jaxpr_size import equations

import jaxsched as js
from jaxsched.experiments.compare import _space
from jaxsched.experiments.families import FAMILIES
from jaxsched.experiments.tasks import base_rates
from jaxsched.train.shared import SharedLeaves


def _comparison_batch():
    return js.stack([c.schedule for c in _space(FAMILIES, "sgd", base_rates("sgd", 5), 2000, 2)])


def test_only_the_leaves_that_differ_stay_arguments():
    batch = js.stack(
        [js.poly(0.1, 0.0, 1000, 2.0), js.poly(0.3, 0.0, 1000, 2.0), js.poly(0.3, 0.0, 1000, 0.5)]
    )
    shared = SharedLeaves.of(batch)
    varying = shared.varying(batch)
    np.testing.assert_array_equal(varying[0], np.float32([0.1, 0.3, 0.3]))  # init_value
    np.testing.assert_array_equal(varying[1], [2.0, 2.0, 0.5])  # power
    assert len(varying) == 2
    known = {
        k: v
        for k, v in zip(
            ("init_value", "end_value", "decay_steps", "power", "begin", "cycle"),
            shared.shared,
            strict=True,
        )
    }
    assert known["decay_steps"] == 1000 and not known["cycle"]


def test_every_configuration_is_rebuilt_as_it_was():
    batch = _comparison_batch()
    shared = SharedLeaves.of(batch)
    steps = jnp.asarray([0, 1, 99, 500, 1999, 2000, 5000])
    rebuilt = jax.jit(jax.vmap(lambda v: shared.rebuild(v)(steps)))(shared.varying(batch))
    general = jax.jit(jax.vmap(lambda s: s(steps)))(batch)
    np.testing.assert_allclose(rebuilt, general, rtol=2e-6, atol=1e-12)


def test_a_batch_of_one_configuration_keeps_an_axis_to_map():
    batch = js.grid(js.cosine, init_value=[0.1], decay_steps=100)
    shared = SharedLeaves.of(batch)
    (varying,) = shared.varying(batch)
    assert varying.shape == (1,)
    np.testing.assert_allclose(jax.vmap(lambda v: shared.rebuild(v)(50))([varying]), batch(50))


def test_the_comparisons_learning_rate_program_is_smaller_with_shared_leaves():
    batch = _comparison_batch()
    shared = SharedLeaves.of(batch)
    at = jnp.arange(0, 2000, 200, dtype=jnp.int32)
    general = jax.make_jaxpr(jax.vmap(lambda s: s(at)))(batch)
    small = jax.make_jaxpr(jax.vmap(lambda v: shared.rebuild(v)(at)))(shared.varying(batch))
    assert equations(small.jaxpr) < 0.6 * equations(general.jaxpr)
