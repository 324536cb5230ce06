"""The cost of training alone, per configuration-step, against the sweep size.

`scaling.py` takes the marginal cost between two runs of different lengths, which
are two programs (their scans differ in length) and carry the noise of both runs.
This script times what the blocks cost directly: `fit` trains N cosine schedules
(one seed, one chunk of ``--steps`` steps, blocks of ``--block-size``), and the
wall time of the training chunk over every block is taken, the chunk program
compiled before the clock starts (it wraps `jaxsched.train.devices.Blocks.run`).

    python benchmarks/block_cost.py [--sizes 32,128,360] [--model cnn] [--steps 400]
"""

from __future__ import annotations

import argparse
import time
import warnings

import jax
import numpy as np

import jaxsched
from jaxsched.train import devices, fit
from jaxsched.train.data import load

_run = devices.Blocks.run
_chunk_seconds: list[float] = []


def _timed_run(self, fn, *args):
    """`Blocks.run`, the training chunk compiled first and timed until every block is done."""
    if getattr(fn, "__name__", "") != "chunk_one":
        return _run(self, fn, *args)
    first = self.mine[0]
    fn.lower(*[a[first] if isinstance(a, devices.PerBlock) else a for a in args]).compile()
    start = time.perf_counter()
    out = _run(self, fn, *args)
    jax.block_until_ready(list(out.values()))
    _chunk_seconds.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="32,128,360")
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--block-size", type=int, default=None)
    args = parser.parse_args()
    devices.Blocks.run = _timed_run
    data = load("mnist1d")
    for n in (int(s) for s in args.sizes.split(",")):
        _chunk_seconds.clear()
        batch = jaxsched.cosine(np.geomspace(1e-3, 0.3, n).astype(np.float32), args.steps)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit(batch, data=data, model=args.model, steps=args.steps, eval_every=args.steps,
                batch_size=100, keep_weights="none", block_size=args.block_size,
                progress=False)  # fmt: skip
        seconds = sum(_chunk_seconds)
        ms = seconds / (n * args.steps) * 1e3
        print(f"{args.model} N={n}: training {seconds:.2f} s, {ms:.3f} ms per configuration-step")


if __name__ == "__main__":
    main()
