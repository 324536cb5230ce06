"""Batches of schedules: a cartesian `grid` of hyperparameters, and `stack`."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxsched._base import Schedule, event_ndim
from jaxsched._compose import switch

__all__ = ["grid", "stack"]


def grid(factory: Callable[..., Schedule], **params: Any) -> Schedule:
    """The cartesian product of hyperparameter values, as one batch of schedules.

    A parameter given as a list (a list of lists for a parameter that is
    itself a sequence, such as ``boundaries``) is swept; anything else is
    shared. The batch has one leading axis, in ``itertools.product`` order
    (the last swept parameter varies fastest). Values a factory rejects are
    reported with the grid point.

    Example:
      >>> import jaxsched
      >>> batch = jaxsched.grid(
      ...     jaxsched.poly, init_value=[0.1, 0.01], power=[1, 2, 3],
      ...     end_value=0.0, decay_steps=1000,
      ... )
      >>> batch.batch_shape
      (6,)
      >>> batch[5].to_dict()["init_value"], batch[5].to_dict()["power"]
      (0.01, 3.0)
    """
    name = getattr(factory, "__name__", repr(factory))
    swept = {k: list(v) for k, v in params.items() if _depth(v) > event_ndim(factory, k)}
    if not swept:
        raise ValueError(
            f"grid: give at least one parameter of {name} as a list of values to sweep"
        )
    for k, values in swept.items():
        if not values:
            raise ValueError(f"grid: {name} parameter {k} has an empty list of values")
    fixed = {k: v for k, v in params.items() if k not in swept}
    schedules = []
    for point in itertools.product(*swept.values()):
        chosen = dict(zip(swept, point, strict=True))
        try:
            schedules.append(factory(**fixed, **chosen))
        except (ValueError, TypeError) as e:
            at = ", ".join(f"{k}={v!r}" for k, v in chosen.items())
            raise type(e)(f"{e} (grid point {len(schedules)}: {at})") from None
    return stack(schedules)


def stack(schedules: Sequence[Schedule]) -> Schedule:
    """Stack schedules into one batch with a new leading axis.

    Schedules of one family and structure stack leaf by leaf. Schedules of
    different families (or structures, such as a different number of
    boundaries) become a `jaxsched.switch` batch: each family is stacked on
    its own and an index leaf picks, per entry, the family it follows.

    Example:
      >>> import jaxsched
      >>> batch = jaxsched.stack([jaxsched.constant(0.1), jaxsched.cosine(1.0, decay_steps=10)])
      >>> [round(float(v), 4) for v in batch(5)]
      [0.1, 0.5]
      >>> batch[1]
      cosine(init_value=1, decay_steps=10, end_value=0, exponent=1)
    """
    schedules = list(schedules)
    if not schedules:
        raise ValueError("stack: give at least one schedule")
    for i, s in enumerate(schedules):
        if not isinstance(s, Schedule):
            raise ValueError(f"stack: entry {i} is not a schedule: {s!r}")
    shapes = {s.batch_shape for s in schedules}
    if len(shapes) > 1:
        raise ValueError(f"stack: schedules have different batch shapes {sorted(shapes)}")
    schedules = [s.broadcast() for s in schedules]
    groups: dict[Any, list[int]] = defaultdict(list)
    for i, s in enumerate(schedules):
        groups[_structure(s)].append(i)
    if len(groups) == 1:
        return _stack_same(schedules)
    if shapes != {()}:
        raise ValueError("stack: schedules of different families must each be unbatched")
    branches, index = [], np.zeros(len(schedules), dtype=np.int32)
    for k, members in enumerate(groups.values()):
        index[members] = k
        # Every branch holds an entry per position; positions of other
        # families hold a copy of this family's first member (never selected).
        filler = schedules[members[0]]
        mine = set(members)
        branches.append(_stack_same([s if i in mine else filler for i, s in enumerate(schedules)]))
    return switch(branches, index)


def _stack_same(schedules: list[Schedule]) -> Schedule:
    def stack_leaves(*leaves: jax.Array) -> jax.Array:
        # On the host and copied over: jnp.asarray would compile a program per shape.
        return jax.device_put(np.stack([np.asarray(x) for x in leaves]))

    return jax.tree_util.tree_map(stack_leaves, *schedules)


def _structure(s: Schedule) -> tuple[Any, ...]:
    leaves, treedef = jax.tree_util.tree_flatten(s)
    return (treedef, tuple((x.shape, jnp.result_type(x)) for x in leaves))


def _depth(value: Any) -> int:
    """Nesting depth of lists and arrays: 0 for a scalar, a string or a schedule."""
    if isinstance(value, Schedule | str | bytes) or value is None:
        return 0
    if isinstance(value, list | tuple):
        return 1 + (_depth(value[0]) if value else 0)
    return np.ndim(value)
