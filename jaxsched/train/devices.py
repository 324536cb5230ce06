"""Blocks: every run of a sweep is trained by one program of a fixed shape.

A sweep's runs are ``[seed, config]`` pairs. The configurations of each seed are
cut into blocks of ``size`` runs (the last configuration repeated where a block
is not full), and every block, whatever the machine, is trained by the same
compiled program over ``size`` runs of one seed. So a block's arithmetic, and
with it every metric, divergence step and checkpoint, is the same on one device,
on several devices, on one core or many, in one process or several: only the
order in which blocks run changes. (Across hardware platforms, CPU against GPU,
results may still differ.)

The size follows the sweep and a maximum, never the machine::

    per_seed = ceil(n_configs / block_size)      # blocks per seed,
    per_seed += per_seed % 2 if per_seed > 1     #   an even number when several
    size     = ceil(n_configs / per_seed)        # runs per block, <= block_size

An even number of blocks keeps two cores (or devices) busy to the end of a
one-seed sweep: 136 configurations make 10 blocks of 14, not 9 of 16 with one
core idle for the ninth.

``block_size`` defaults to `DEFAULT_BLOCK_SIZE` of the platform: 16 on a CPU
(the activations of a block of the MNIST-1D CNN stay in cache, so the cost per
run does not grow with the sweep), 256 elsewhere. Blocks are spread over the
processes (block ``b`` to process ``b mod process_count``), over each process's
devices (in turn), and run from a pool of threads: on a CPU, XLA runs a small
program on about one core, but programs called from different threads run at
once, so a pool of one thread per usable core trains that many blocks at a
time. Limit the cores (``taskset -c 0 python ...``) to train one block at a time.

Several hosts: call ``jax.distributed.initialize()`` in every process before
`jaxsched.train.fit` (on CPUs, with ``jax_cpu_collectives_implementation``
``"gloo"``); each process trains its share of the blocks and the results are
gathered in every process.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jax
import numpy as np

__all__ = ["DEFAULT_BLOCK_SIZE", "Blocks", "PerBlock", "block_layout", "usable_cores"]

#: The largest block by platform (``jax.default_backend()``); 256 on others.
DEFAULT_BLOCK_SIZE = {"cpu": 16}


def block_layout(n_configs: int, block_size: int) -> tuple[int, int]:
    """``(per_seed, size)``: the blocks per seed and the runs per block for ``n_configs``
    configurations and blocks of at most ``block_size`` runs, as even as possible, and
    an even number of blocks where there are several.

    >>> block_layout(16, 16), block_layout(17, 16), block_layout(360, 16), block_layout(3, 16)
    ((1, 16), (2, 9), (24, 15), (1, 3))
    >>> block_layout(136, 16)  # 10 blocks of 14, not 9 of 16
    (10, 14)
    """
    per_seed = -(-n_configs // block_size)
    if per_seed > 1:
        per_seed += per_seed % 2
    return per_seed, -(-n_configs // per_seed)


class PerBlock(dict):
    """``{block: value}`` for the blocks this process trains."""

    def map(self, fn: Callable[[Any], Any]) -> PerBlock:
        """``fn`` applied to every block's value."""
        return PerBlock((b, fn(v)) for b, v in self.items())


class Blocks:
    """The blocks of a sweep of ``n_seeds`` x ``n_configs`` runs, and where they run.

    Block ``b`` trains seed ``b // per_seed`` and the configurations
    ``(b % per_seed) * size ...`` (`configs_of`), padded by repeating the last.

    Example:
      >>> blocks = Blocks(5, 2, block_size=3)
      >>> blocks.size, blocks.per_seed, blocks.n_blocks, blocks.configs_of(1).tolist()
      (3, 2, 4, [3, 4, 4])
      >>> placed = blocks.place_configs(np.arange(5.0))
      >>> [np.asarray(placed[b]).tolist() for b in range(4)]
      [[0.0, 1.0, 2.0], [3.0, 4.0, 4.0], [0.0, 1.0, 2.0], [3.0, 4.0, 4.0]]
      >>> runs = blocks.place_runs(np.arange(10.0).reshape(2, 5))
      >>> blocks.gather(runs).tolist()
      [[0.0, 1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0, 9.0]]
    """

    def __init__(
        self,
        n_configs: int,
        n_seeds: int,
        block_size: int | None = None,
        devices: Sequence[jax.Device] | None = None,
        workers: int | None = None,
    ):
        devices = list(jax.local_devices() if devices is None else devices)
        if block_size is None:
            block_size = DEFAULT_BLOCK_SIZE.get(devices[0].platform, 256)
        self.n_configs, self.n_seeds = n_configs, n_seeds
        self.per_seed, self.size = block_layout(n_configs, block_size)
        self.padded = self.per_seed * self.size
        self.n_blocks = n_seeds * self.per_seed
        self.n_processes, self.process = jax.process_count(), jax.process_index()
        # Fewer blocks than processes: every process trains them all (nothing to gather).
        step = self.n_processes if self.n_blocks >= self.n_processes else 1
        self.mine = list(range(self.process % step, self.n_blocks, step))
        self.device_of = {b: devices[i % len(devices)] for i, b in enumerate(self.mine)}
        if workers is None:
            cores = usable_cores() if devices[0].platform == "cpu" else 1
            workers = max(len(devices), cores)
        self.workers = max(1, min(workers, len(self.mine)))

    def seed_of(self, block: int) -> int:
        """The index (on the seed axis) of the seed block ``block`` trains."""
        return block // self.per_seed

    def configs_of(self, block: int) -> np.ndarray:
        """The configurations block ``block`` trains, the padding repeating the last."""
        start = (block % self.per_seed) * self.size
        return np.minimum(np.arange(start, start + self.size), self.n_configs - 1)

    # ------------------------------------------------------------------ placing
    def place_configs(self, tree: Any) -> PerBlock:
        """Every block's configurations of ``tree`` (leaves ``[config, ...]``), on its device."""
        host = jax.tree_util.tree_map(np.asarray, tree)
        return PerBlock((b, self._put(_take(host, self.configs_of(b)), b)) for b in self.mine)

    def place_seeds(self, tree: Any) -> PerBlock:
        """Every block's seed of ``tree`` (leaves ``[seed, ...]``), on its device."""
        host = jax.tree_util.tree_map(np.asarray, tree)
        return PerBlock((b, self._put(_take(host, self.seed_of(b)), b)) for b in self.mine)

    def place_runs(self, tree: Any) -> PerBlock:
        """Every block's runs of ``tree`` (leaves ``[seed, config, ...]``), on its device."""
        host = jax.tree_util.tree_map(np.asarray, tree)

        return PerBlock(
            (b, self._put(_take(host, (self.seed_of(b), self.configs_of(b))), b)) for b in self.mine
        )

    def replicate(self, tree: Any) -> PerBlock:
        """``tree`` on every block's device (one copy per device, shared by its blocks).
        ``jax.device_put`` copies NumPy arrays as they are; ``jnp.asarray`` would
        compile a small program for every new shape."""
        copies = {d: jax.device_put(tree, d) for d in set(self.device_of.values())}
        return PerBlock((b, copies[d]) for b, d in self.device_of.items())

    def _put(self, tree: Any, block: int) -> Any:
        return jax.device_put(tree, self.device_of[block])

    # ------------------------------------------------------------------ running
    def run(self, fn: Callable[..., Any], *args: Any) -> PerBlock:
        """``fn(*args)`` for every block: an argument that is `PerBlock` gives each call
        its block's value, any other is passed to all. ``fn`` is a `jax.jit` function.

        ``fn`` is compiled here, in the calling thread, under its JAX settings
        (``jax.enable_x64`` and the like hold per thread), once per device; the
        executables are called from the pool's threads.
        """

        def block_args(b):
            return [a[b] if isinstance(a, PerBlock) else a for a in args]

        compiled = {}
        for b, device in self.device_of.items():
            if device not in compiled:
                compiled[device] = fn.lower(*block_args(b)).compile()
        if self.workers == 1:
            return PerBlock((b, compiled[self.device_of[b]](*block_args(b))) for b in self.mine)
        with ThreadPoolExecutor(self.workers, thread_name_prefix="jaxsched-block") as pool:
            out = pool.map(lambda b: compiled[self.device_of[b]](*block_args(b)), self.mine)
            return PerBlock(zip(self.mine, out, strict=True))

    # ---------------------------------------------------------------- gathering
    def gather(self, values: PerBlock) -> Any:
        """The blocks' values (leaves ``[size, ...]``) joined into host arrays
        ``[seed, config, ...]`` without the padding, from every process."""
        blocks = self._all_blocks(values)

        def join(*parts):
            rows = [
                np.concatenate(parts[s * self.per_seed : (s + 1) * self.per_seed])
                for s in range(self.n_seeds)
            ]
            return np.stack(rows)[:, : self.n_configs]

        return jax.tree_util.tree_map(join, *blocks)

    def gather_configs(self, values: PerBlock) -> Any:
        """Like `gather`, for values that do not depend on the seed: ``[config, ...]``."""
        return jax.tree_util.tree_map(lambda x: x[0], self.gather(values))

    def _all_blocks(self, values: PerBlock) -> list[Any]:
        """Every block's value on the host, in block order (all-gathered across processes)."""
        host = {b: jax.tree_util.tree_map(np.asarray, values[b]) for b in self.mine}
        if len(self.mine) == self.n_blocks:
            return [host[b] for b in range(self.n_blocks)]
        from jax.experimental import multihost_utils

        # Each process sends its blocks, padded to one count; block b is the
        # (b // n_processes)-th of process b % n_processes.
        count = math.ceil(self.n_blocks / self.n_processes)
        like = host[self.mine[0]]
        padded = [
            host.get(b, like)
            for b in range(self.process, count * self.n_processes, self.n_processes)
        ]
        stacked = jax.tree_util.tree_map(lambda *x: np.stack(x), *padded)
        every = multihost_utils.process_allgather(stacked, tiled=False)
        every = jax.tree_util.tree_map(np.asarray, every)
        where = [(b % self.n_processes, b // self.n_processes) for b in range(self.n_blocks)]
        return [_take(every, at) for at in where]


def _take(tree: Any, index: Any) -> Any:
    """``x[index]`` for every leaf ``x`` of ``tree``."""
    return jax.tree_util.tree_map(lambda x: x[index], tree)


def usable_cores() -> int:
    """How many CPU cores this process may run on.

    >>> usable_cores() >= 1
    True
    """
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
