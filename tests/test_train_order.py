"""The data order: every epoch a fresh permutation, read in whole batches, the same from any start."""

from __future__ import annotations

import numpy as np
import pytest

from jaxsched.train.order import batch_indices, epoch_order


def test_each_epoch_visits_distinct_examples_in_whole_batches():
    n, batch = 103, 10  # 10 batches per epoch; 3 examples left out of each epoch
    idx = batch_indices(7, 0, 30, n, batch)
    assert idx.shape == (30, 10) and idx.dtype == np.int32
    for epoch in range(3):
        seen = idx[10 * epoch : 10 * (epoch + 1)].ravel()
        assert len(set(seen.tolist())) == 100
        np.testing.assert_array_equal(seen, epoch_order(7, epoch, n)[:100])
    assert not np.array_equal(idx[:10], idx[10:20])  # epochs are reshuffled


@pytest.mark.parametrize("start, length", [(0, 1), (9, 2), (13, 40), (250, 7)])
def test_any_window_equals_the_same_steps_of_one_long_run(start, length):
    whole = batch_indices(3, 0, 300, 50, 4)
    np.testing.assert_array_equal(
        batch_indices(3, start, length, 50, 4), whole[start : start + length]
    )


def test_seeds_give_different_orders_and_any_integer_is_a_seed():
    orders = [batch_indices(s, 0, 5, 100, 20).tolist() for s in (0, 1, -1, 2**40)]
    assert all(orders[i] != orders[j] for i in range(4) for j in range(i))


def test_one_batch_per_epoch_draws_one_epoch_at_a_time():
    # batch > n/2: every step is its own epoch; a long window stays [length, batch].
    idx = batch_indices(0, 5, 2000, 30, 20)
    assert idx.shape == (2000, 20)
    assert all(len(set(row.tolist())) == 20 for row in idx)
    np.testing.assert_array_equal(idx[3], epoch_order(0, 8, 30)[:20])


def test_batch_larger_than_the_data_is_an_error():
    with pytest.raises(ValueError, match="larger than the 5 training examples"):
        batch_indices(0, 0, 1, 5, 6)
