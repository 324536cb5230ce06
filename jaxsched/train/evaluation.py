"""Evaluation splits packed for one compiled evaluation of every run.

The validation and test examples are concatenated and cut into equal batches
(the last one padded), each example marked with the split it belongs to. One
program then evaluates both splits, whatever their sizes, and scans over the
batches, so its memory is bounded by the batch, not by the data set: a
batch holds at most `RUN_EXAMPLES` (example, run) pairs, whatever the devices
(so the sums, and their rounding, do not depend on how many there are).

    loss(split)   = sum of the split's per-example losses / its size
    metric(split) = sum of the split's per-example metric values / its size
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

__all__ = ["RUN_EXAMPLES", "EvalSet", "eval_batch_size"]

#: The most (example, run) pairs one evaluation batch holds.
RUN_EXAMPLES = 2**17


def eval_batch_size(n_runs: int, n_examples: int) -> int:
    """Examples per batch for ``n_runs`` runs: at most `RUN_EXAMPLES` pairs.

    The batches of ``n_examples`` are made as even as possible.

    >>> eval_batch_size(1, 1400), eval_batch_size(192, 1400), eval_batch_size(10**6, 5)
    (1400, 467, 1)
    """
    most = max(1, min(n_examples, RUN_EXAMPLES // max(n_runs, 1)))
    n_batches = -(-n_examples // most)
    return max(1, -(-n_examples // max(n_batches, 1)))


@dataclasses.dataclass(frozen=True)
class EvalSet:
    """Splits packed into ``[batch, example]`` arrays.

    ``member[b, i, s]`` is whether example ``i`` of batch ``b`` belongs to
    split ``s`` (padding belongs to none); ``counts[s]`` is the size of split ``s``.

    Example:
      >>> x, y = np.arange(10.0).reshape(5, 2), np.arange(5)
      >>> packed = EvalSet.pack([(x[:2], y[:2]), (x[2:], y[2:])], batch_size=2)
      >>> packed.x.shape, packed.member.sum(axis=(0, 1)).tolist(), packed.counts.tolist()
      ((3, 2, 2), [2, 3], [2, 3])
    """

    x: np.ndarray
    y: np.ndarray
    member: np.ndarray
    counts: np.ndarray

    @classmethod
    def pack(cls, splits: Sequence[tuple[np.ndarray, np.ndarray]], batch_size: int) -> EvalSet:
        """Concatenate ``[(x, y), ...]`` and cut them into batches of ``batch_size``."""
        counts = np.asarray([len(y) for _, y in splits])
        x = np.concatenate([np.asarray(x) for x, _ in splits])
        y = np.concatenate([np.asarray(y) for _, y in splits])
        split = np.repeat(np.arange(len(splits)), counts)
        n_batches = -(-len(y) // batch_size)
        pad = n_batches * batch_size - len(y)
        x = np.concatenate([x, np.zeros((pad, *x.shape[1:]), x.dtype)])
        y = np.concatenate([y, np.zeros((pad, *y.shape[1:]), y.dtype)])
        member = np.concatenate([split, np.full(pad, -1)])[:, None] == np.arange(len(splits))
        return cls(
            x=x.reshape(n_batches, batch_size, *x.shape[1:]),
            y=y.reshape(n_batches, batch_size, *y.shape[1:]),
            member=member.reshape(n_batches, batch_size, len(splits)),
            counts=counts,
        )

    def means(self, totals: np.ndarray) -> np.ndarray:
        """The means ``[..., measure, split]`` of the evaluation's sums ``[..., measure,
        split]`` (the loss and each metric). A split without examples gets NaN.

        >>> packed = EvalSet.pack([(np.zeros((2, 1)), np.zeros(2)), (np.zeros((4, 1)), np.zeros(4))], 3)
        >>> packed.means(np.array([[1.0, 2.0], [2.0, 4.0]])).tolist()
        [[0.5, 0.5], [1.0, 1.0]]
        """
        counts = np.where(self.counts > 0, self.counts, np.nan).astype(np.float32)
        return totals / counts
