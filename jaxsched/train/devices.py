"""Spreading the configuration axis of a sweep over devices, or over CPU cores.

With more than one device (``jax.devices()``: several GPUs, TPU cores, or CPU
devices from ``jax_num_cpu_devices``), the configurations are padded to a
multiple of the device count, by repeating the last one, and sharded along a
one-axis `jax.sharding.Mesh`. Every configuration trains independently, so the
compiled program needs no communication between devices; the padding rows are
dropped from the result.

With one CPU device, the configurations are split likewise into groups, one
per CPU core this process may use (``os.sched_getaffinity``; at most one per
configuration), and each group's calls of the same compiled program are made
from its own thread. XLA runs a sweep's small batched matmuls on about one
core, but programs called from different threads run at the same time: on 2
cores, 16 MLP configurations train in about half the time. Limit the cores
(``taskset -c 0 python ...``) to train in one group.

Several hosts: call ``jax.distributed.initialize()`` in every process before
`jaxsched.train.fit`; ``jax.devices()`` then lists the devices of every host
and the same code shards the configurations over all of them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

__all__ = ["Groups", "Placement", "usable_cores"]

_AXIS = "configs"


class Groups(list):
    """One entry per group of configurations (arrays or pytrees of arrays)."""

    def map(self, fn: Callable[[Any], Any]) -> Groups:
        """``fn`` applied to every group's entry."""
        return Groups(fn(entry) for entry in self)


class Placement:
    """Where the arrays of a sweep of ``n_configs`` configurations live.

    ``padded`` is the configuration count after padding to a multiple of the
    device count times the group count (``groups``; by default one per usable
    core on a lone CPU device, else one).

    >>> placement = Placement(5, devices=jax.devices()[:1], groups=2)
    >>> placement.padded, placement.group_size
    (6, 3)
    >>> placed = placement.place(np.arange(10).reshape(2, 5), axis=1)
    >>> [np.asarray(g).tolist() for g in placed]
    [[[0, 1, 2], [5, 6, 7]], [[3, 4, 4], [8, 9, 9]]]
    >>> placement.to_host(placed, axis=1).tolist()
    [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    """

    def __init__(
        self, n_configs: int, devices: list[jax.Device] | None = None, groups: int | None = None
    ):
        devices = list(jax.devices() if devices is None else devices)
        self.n_configs = n_configs
        self.n_devices = len(devices)
        if groups is None:
            groups = _default_groups(devices, n_configs)
        if groups > 1 and self.n_devices > 1:
            raise ValueError("Placement: groups of configurations are for one device")
        self.groups = groups
        lanes = self.n_devices * groups
        self.padded = -(-n_configs // lanes) * lanes
        self.group_size = self.padded // groups
        self.mesh = Mesh(np.asarray(devices), (_AXIS,)) if self.n_devices > 1 else None

    def sharding(self, axis: int) -> NamedSharding | None:
        """Where arrays whose ``axis`` runs over the configurations go: split along
        it over the devices; None on one device (the default placement)."""
        if self.mesh is None:
            return None
        return NamedSharding(self.mesh, PartitionSpec(*([None] * axis), _AXIS))

    def pad(self, tree: Any, axis: int) -> Any:
        """Repeat the last entry along ``axis`` of every leaf up to ``padded`` entries
        (on the host: the padded leaves are NumPy arrays)."""
        extra = self.padded - self.n_configs

        def pad_leaf(x):
            x = np.asarray(x)
            if not extra:
                return x
            last = np.full(extra, x.shape[axis] - 1)
            return np.concatenate([x, x.take(last, axis=axis)], axis=axis)

        return jax.tree_util.tree_map(pad_leaf, tree)

    def place(self, tree: Any, axis: int) -> Groups:
        """Every leaf padded, split along ``axis`` into the groups, and each group
        placed on the device(s), its ``axis`` sharded over them."""
        padded = self.pad(tree, axis)

        def group(g):
            rows = np.arange(g * self.group_size, (g + 1) * self.group_size)
            part = jax.tree_util.tree_map(lambda x: x.take(rows, axis=axis), padded)
            # From the host: slicing or resharding device arrays would compile programs.
            return jax.device_put(part, self.sharding(axis))

        return Groups(group(g) for g in range(self.groups))

    def replicate(self, tree: Any) -> Any:
        """Every leaf as a JAX array, with a full copy on every device.

        ``jax.device_put`` copies NumPy arrays as they are; ``jnp.asarray``
        would compile a small program for every new shape.
        """
        if self.mesh is None:
            return jax.device_put(tree)
        return jax.device_put(tree, NamedSharding(self.mesh, PartitionSpec()))

    def run(self, fn: Callable[..., Any], *args: Any) -> Groups:
        """``fn(*args)`` for every group: an argument that is `Groups` gives each call
        its group's entry, any other is passed to all. ``fn`` is a `jax.jit` function.

        Several groups: ``fn`` is compiled here, in the calling thread, under its
        JAX settings (``jax.enable_x64`` and the like hold per thread), and the
        executable is called from a thread per group, so that the device runs the
        groups at the same time.
        """

        def group_args(g):
            return [a[g] if isinstance(a, Groups) else a for a in args]

        if self.groups == 1:
            return Groups([fn(*group_args(0))])
        compiled = fn.lower(*group_args(0)).compile()  # cached: once per argument shapes
        with ThreadPoolExecutor(self.groups, thread_name_prefix="jaxsched-group") as pool:
            return Groups(pool.map(lambda g: compiled(*group_args(g)), range(self.groups)))

    def to_host(self, x: Groups, axis: int) -> np.ndarray:
        """The groups' arrays ``x`` joined along ``axis`` into one NumPy array,
        without the padding rows."""
        parts = []
        for part in x:
            if jax.process_count() > 1:
                from jax.experimental import multihost_utils

                part = multihost_utils.process_allgather(part, tiled=True)
            parts.append(np.asarray(part))
        return np.concatenate(parts, axis=axis).take(np.arange(self.n_configs), axis=axis)

    def gather(self, tree: Groups, axis: int) -> Any:
        """`to_host` for every leaf of the groups' pytrees."""
        return jax.tree_util.tree_map(lambda *parts: self.to_host(Groups(parts), axis), *tree)


def usable_cores() -> int:
    """How many CPU cores this process may run on.

    >>> usable_cores() >= 1
    True
    """
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _default_groups(devices: list[jax.Device], n_configs: int) -> int:
    """One group per usable core on a lone CPU device (at most one per configuration);
    one group anywhere else."""
    if len(devices) != 1 or devices[0].platform != "cpu":
        return 1
    return max(1, min(n_configs, usable_cores()))
