"""`fit(eval_params=...)`: optimizers evaluated at other weights than they train (schedule-free)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxsched as js
from jaxsched.train import fit, load


def _schedule_free(lr):
    return optax.contrib.schedule_free_sgd(lr)


@pytest.fixture(scope="module")
def runs():
    data = load("digits", 0.1)
    batch = js.stack([js.constant(0.3), js.warmup(js.constant(1.0), warmup_steps=10)])
    common = dict(data=data, optimizer=_schedule_free, steps=60, eval_every=30, seeds=2)
    plain = fit(batch, **common, progress=False, keep_weights="none")
    averaged = fit(
        batch,
        **common,
        progress=False,
        keep_weights="all",
        eval_params=optax.contrib.schedule_free_eval_params,
    )
    return data, plain, averaged


def test_eval_params_changes_what_is_evaluated_not_what_is_trained(runs):
    _, plain, averaged = runs
    np.testing.assert_array_equal(plain.metrics["train_loss"], averaged.metrics["train_loss"])
    np.testing.assert_array_equal(plain.diverged, averaged.diverged)
    assert not np.allclose(plain.metrics["val_loss"], averaged.metrics["val_loss"])
    assert (averaged.metrics["test_acc"][..., -1] > 0.8).all()  # digits; chance is 0.1


def test_kept_weights_are_the_evaluated_ones(runs):
    data, _, averaged = runs
    for config in (0, 1):
        model = averaged.model(config, seed=1)
        acc = float(jnp.mean(jnp.argmax(model(data.x_test), -1) == data.y_test))
        assert acc == pytest.approx(averaged.metrics["test_acc"][1, config, -1], abs=1e-6)


def test_eval_params_must_be_a_function():
    with pytest.raises(ValueError, match="eval_params must be a function"):
        fit(js.stack([js.constant(0.1)]), data="digits", steps=2, eval_params=3, progress=False)
