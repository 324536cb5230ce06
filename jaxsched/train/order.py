"""The data order of a run: which training examples each step reads.

Epoch ``e`` of seed ``s`` visits a permutation of the training set drawn by
NumPy from the seed sequence ``[s mod 2**64, e]``, in slices of ``batch_size``
(the last incomplete slice is skipped), so step ``t`` reads slice
``t % per_epoch`` of epoch ``t // per_epoch``, where ``per_epoch =
n_train // batch_size``. The order depends only on the seed, the step, the
training-set size and the batch size: a resumed run reads what an
uninterrupted one would, and every configuration of a seed reads the same
batches.

The indices are drawn on the host and fed to the compiled program as an
input: it has no random permutation to compile (half the compile time of a
training chunk on a CPU), and only the epochs a chunk touches are drawn, one
at a time.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SCHEME", "batch_indices", "epoch_order"]

#: Names the way the order is drawn. A checkpoint's fingerprint holds it and
#: the first batch of every seed, so a checkpoint of a run that read other
#: batches (an older jaxsched, another NumPy generator) is refused.
SCHEME = "numpy default_rng([seed mod 2**64, epoch]).permutation, whole batches"


def epoch_order(seed: int, epoch: int, n_train: int) -> np.ndarray:
    """The order in which epoch ``epoch`` of seed ``seed`` visits ``n_train`` examples.

    >>> order = epoch_order(0, 3, 10)
    >>> sorted(order.tolist()) == list(range(10)), bool((order == epoch_order(0, 3, 10)).all())
    (True, True)
    """
    return np.random.default_rng([int(seed) % 2**64, int(epoch)]).permutation(n_train)


def batch_indices(seed: int, start: int, length: int, n_train: int, batch_size: int) -> np.ndarray:
    """``int32 [length, batch_size]``: the examples of steps ``start .. start + length - 1``.

    Example:
      >>> a = batch_indices(0, 0, 7, n_train=10, batch_size=3)  # 3 steps per epoch
      >>> b = batch_indices(0, 4, 2, n_train=10, batch_size=3)
      >>> bool((a[4:6] == b).all()), len(set(a[:3].ravel().tolist()))
      (True, 9)
    """
    per_epoch = n_train // batch_size
    if per_epoch < 1:
        raise ValueError(f"batch_size={batch_size} is larger than the {n_train} training examples")
    epochs, slots = np.divmod(np.arange(start, start + length), per_epoch)
    out = np.empty((length, batch_size), np.int32)
    for epoch in np.unique(epochs):
        order = epoch_order(seed, epoch, n_train)[: per_epoch * batch_size]
        at = epochs == epoch
        out[at] = order.reshape(per_epoch, batch_size)[slots[at]]
    return out
