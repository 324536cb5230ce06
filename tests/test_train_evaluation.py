"""Evaluation: both splits in one program, in padded batches, equal to the plain means."""

from __future__ import annotations

from operator import itemgetter

import jax
import numpy as np
import optax
import pytest

from jaxsched.train import load
from jaxsched.train.evaluation import RUN_EXAMPLES, EvalSet, eval_batch_size
from jaxsched.train.loop import build_program, default_optimizer
from jaxsched.train.models import initial_states
from jaxsched.train.objective import Objective

DIGITS = load("digits")


@pytest.mark.parametrize("n_runs", [1, 3, 100, 10**5, 10**7])
@pytest.mark.parametrize("n_examples", [1, 504, 10_000])
def test_batch_size_holds_at_most_the_pair_budget_and_evens_out(n_runs, n_examples):
    size = eval_batch_size(n_runs, n_examples)
    assert 1 <= size <= n_examples
    assert size * n_runs <= RUN_EXAMPLES or size == 1
    n_batches = -(-n_examples // size)
    assert n_batches * size - n_examples < n_batches  # less than one padding row per batch


def test_packing_keeps_every_example_once_with_its_split():
    x = np.arange(14.0).reshape(7, 2)
    y = np.arange(7)
    packed = EvalSet.pack([(x[:3], y[:3]), (x[3:3], y[3:3]), (x[3:], y[3:])], batch_size=3)
    assert packed.x.shape == (3, 3, 2) and packed.member.shape == (3, 3, 3)
    np.testing.assert_array_equal(packed.counts, [3, 0, 4])
    rows = packed.member.reshape(9, 3)
    np.testing.assert_array_equal(rows.sum(axis=0), [3, 0, 4])
    assert rows.sum(axis=1).tolist() == [1] * 7 + [0, 0]  # two padding rows, in no split
    np.testing.assert_array_equal(packed.x.reshape(9, 2)[:7], x)


def test_evaluation_equals_the_plain_mean_of_each_split():
    network, params, state = initial_states("mlp", DIGITS.input_shape, DIGITS.n_classes, [0, 1])
    params = jax.tree_util.tree_map(lambda p: p[:, None], params)  # [seed, config=1, ...]
    state = jax.tree_util.tree_map(lambda p: p[:, None], state)
    splits = [
        (DIGITS.x_val, DIGITS.y_val),
        (DIGITS.x_test, DIGITS.y_test),
        (DIGITS.x_val[:0], DIGITS.y_val[:0]),
    ]
    packed = EvalSet.pack(splits, batch_size=50)  # several batches, the last one padded
    objective = Objective.resolve(None, None, classification=True)
    program = build_program(network, objective, default_optimizer)
    evaluate = jax.vmap(program.evaluate, in_axes=(0, 0, None, None, None))  # over seeds
    totals = np.asarray(evaluate(params, state, packed.x, packed.y, packed.member))
    assert totals.shape == (2, 1, 2, 3)
    loss, acc = np.moveaxis(packed.means(totals), -2, 0)
    for seed in range(2):
        model = network.module(jax.tree_util.tree_map(itemgetter((seed, 0)), params), {})
        for s, (x, y) in enumerate(splits[:2]):
            logits = model(x)
            want = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
            np.testing.assert_allclose(loss[seed, 0, s], want, rtol=1e-5)
            right = np.sum(np.argmax(logits, -1) == y)
            assert acc[seed, 0, s] == np.float32(right) / np.float32(len(y))
        assert np.isnan(loss[seed, 0, 2]) and np.isnan(acc[seed, 0, 2])  # an empty split
