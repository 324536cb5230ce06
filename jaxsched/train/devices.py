"""Spreading the configuration axis of a sweep over devices.

With more than one device (``jax.devices()``: several GPUs, TPU cores, or CPU
devices from ``XLA_FLAGS=--xla_force_host_platform_device_count=N``), the
configurations are padded to a multiple of the device count, by repeating the
last one, and sharded along a one-axis `jax.sharding.Mesh`. Every
configuration trains independently, so the compiled program needs no
communication between devices; the padding rows are dropped from the result.

Several hosts: call ``jax.distributed.initialize()`` in every process before
`jaxsched.train.fit`; ``jax.devices()`` then lists the devices of every host
and the same code shards the configurations over all of them.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

__all__ = ["Placement"]

_AXIS = "configs"


class Placement:
    """Where the arrays of a sweep of ``n_configs`` configurations live.

    ``padded`` is the configuration count after padding to a multiple of the
    device count; with one device nothing is padded or sharded.

    >>> Placement(5, devices=jax.devices()[:1]).padded
    5
    """

    def __init__(self, n_configs: int, devices: list[jax.Device] | None = None):
        devices = list(jax.devices() if devices is None else devices)
        self.n_configs = n_configs
        self.n_devices = len(devices)
        self.padded = -(-n_configs // self.n_devices) * self.n_devices
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
        if not extra:
            return tree

        def pad_leaf(x):
            x = np.asarray(x)
            last = np.full(extra, x.shape[axis] - 1)
            return np.concatenate([x, x.take(last, axis=axis)], axis=axis)

        return jax.tree_util.tree_map(pad_leaf, tree)

    def shard(self, tree: Any, axis: int) -> Any:
        """Place every leaf with its ``axis`` split over the devices (no-op on one device)."""
        if self.mesh is None:
            return tree
        # From the host: resharding device arrays would compile a slicing program.
        host = jax.tree_util.tree_map(np.asarray, tree)
        return jax.device_put(host, self.sharding(axis))

    def replicate(self, tree: Any) -> Any:
        """Every leaf as a JAX array, with a full copy on every device.

        ``jax.device_put`` copies NumPy arrays as they are; ``jnp.asarray``
        would compile a small program for every new shape.
        """
        if self.mesh is None:
            return jax.device_put(tree)
        return jax.device_put(tree, NamedSharding(self.mesh, PartitionSpec()))

    def to_host(self, x: jax.Array, axis: int) -> np.ndarray:
        """``x`` as a NumPy array without the padding rows along ``axis``."""
        if jax.process_count() > 1:
            from jax.experimental import multihost_utils

            x = multihost_utils.process_allgather(x, tiled=True)
        return np.asarray(x).take(np.arange(self.n_configs), axis=axis)
