"""What every configuration of a sweep shares becomes a constant of the training program.

A sweep's batch of schedules is an argument of the compiled program, so every
leaf is traced and each schedule compiles to its general formula, with every
branch a hyperparameter could pick. Most leaves, though, are the same for every
configuration (a comparison's decay lengths, ``cycle=False``, an end value of 0,
a cosine's exponent of 1). `SharedLeaves` splits the batch: the leaves that
differ stay arguments, the shared ones are closed over as known values, and
`jaxsched.Schedule` specialises on them (`jaxsched._specialise`: selects on
known values pick their side, what depends on them alone is folded). The
comparison's batch of 15 families compiles its learning rate about twice as
fast. The split depends only on the whole batch, so every block, device, core
and process compiles the same program.

Example:
  >>> import jaxsched
  >>> batch = jaxsched.grid(jaxsched.cosine, init_value=[0.1, 0.3], decay_steps=1000)
  >>> shared = SharedLeaves.of(batch)
  >>> len(shared.varying(batch)), sum(s is not None for s in shared.shared)  # init_value varies
  (1, 3)
  >>> second = shared.rebuild([x[1] for x in shared.varying(batch)])  # in the program
  >>> float(second(500)) == float(batch[1](500))
  True
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import numpy as np

from jaxsched._base import Schedule

__all__ = ["SharedLeaves"]


@dataclasses.dataclass(frozen=True)
class SharedLeaves:
    """A batch's leaves split into those its configurations share and those that vary.

    Attributes:
      treedef: the batch's tree structure.
      shared: per leaf, the value every configuration has (one configuration's slice),
        or None where they differ.
    """

    treedef: Any
    shared: tuple[np.ndarray | None, ...]

    @classmethod
    def of(cls, batch: Schedule) -> SharedLeaves:
        """Split ``batch`` (one leading axis: the configurations). Its first leaf varies
        when all are the same (one configuration), so the program has an axis to map."""
        leaves, treedef = jax.tree_util.tree_flatten(batch)
        shared = [_common(np.asarray(leaf)) for leaf in leaves]
        if all(s is not None for s in shared):  # the program still maps over configurations
            shared[0] = None
        return cls(treedef, tuple(shared))

    def varying(self, batch: Any) -> list[jax.Array]:
        """The leaves of ``batch`` that differ between configurations (the program's
        argument)."""
        leaves = jax.tree_util.tree_leaves(batch)
        return [x for x, s in zip(leaves, self.shared, strict=True) if s is None]

    def rebuild(self, varying: list[jax.Array]) -> Any:
        """The schedule whose varying leaves are ``varying`` (one configuration's, as the
        program sees them under `jax.vmap`) and whose shared leaves are their known value."""
        it = iter(varying)
        leaves = [next(it) if s is None else s for s in self.shared]
        return jax.tree_util.tree_unflatten(self.treedef, leaves)


def _common(leaf: np.ndarray) -> np.ndarray | None:
    """``leaf[0]`` where every configuration's slice equals it (NaN equal to NaN)."""
    if leaf.ndim == 0 or leaf.shape[0] == 0:
        return None
    first = leaf[0]
    nan_equal = leaf.dtype.kind == "f"
    same = np.array_equal(leaf, np.broadcast_to(first, leaf.shape), equal_nan=nan_equal)
    return first if same else None
