"""How the cost of one run grows with the sweep: marginal ms per configuration-step.

For each model (the MNIST-1D MLP and CNN) and each sweep size N, `fit` trains N
cosine schedules (one seed) for S1 and for S2 steps, one evaluation at the end;
the marginal cost per configuration-step is ``(t(S2) - t(S1)) / (N (S2 - S1))``,
which leaves out compilation and the other fixed costs. Beside it, the FLOP-bound
floor of this machine: the model's training FLOPs per configuration-step (forward
and backward, about 3x the forward's multiply-adds x 2, at batch 100) over the
float32 matmul throughput measured on all usable cores.

    python benchmarks/scaling.py [--sizes 8,32,128,360,1024] [--models mlp,cnn]
                                 [--steps 100,300] [--block-size 16] [--json out.json]

With blocks of a fixed size (`jaxsched.train.devices`) the marginal cost stays
flat as N grows; without them (``--block-size`` N, one program over every run)
the activations of large sweeps leave the cache.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings

import jax
import jax.numpy as jnp
import numpy as np

import jaxsched
from jaxsched.train import fit
from jaxsched.train.data import load
from jaxsched.train.devices import usable_cores

BATCH = 100


def matmul_gflops(n: int = 1024, repeats: int = 10) -> float:
    """float32 matmul throughput of this machine (all cores XLA uses), GFLOP/s."""
    a = jnp.ones((n, n), jnp.float32)
    f = jax.jit(lambda a: a @ a)
    f(a).block_until_ready()
    start = time.perf_counter()
    for _ in range(repeats):
        f(a).block_until_ready()
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def forward_flops(model: str, features: int, classes: int) -> int:
    """Multiply-add FLOPs (x2) of one example's forward pass through the built-in model."""
    if model == "mlp":
        return 2 * (features * 100 + 100 * 100 + 100 * classes)
    flops, length, channels = 0, features, 1
    for kernel in (5, 3, 3):
        length = (length + 2 - kernel) // 2 + 1
        flops += 2 * length * kernel * channels * 25
        channels = 25
    return flops + 2 * length * 25 * classes


def timed_fit(model: str, n: int, steps: int, data, block_size: int | None) -> float:
    batch = jaxsched.cosine(np.geomspace(1e-3, 0.3, n).astype(np.float32), decay_steps=steps)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit(
            batch,
            data=data,
            model=model,
            steps=steps,
            eval_every=steps,
            batch_size=BATCH,
            keep_weights="none",
            block_size=block_size,
            progress=False,
        )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="8,32,128,360,1024")
    parser.add_argument("--models", default="mlp,cnn")
    parser.add_argument("--steps", default="100,300", help="S1,S2")
    parser.add_argument("--block-size", type=int, default=None)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    s1, s2 = (int(s) for s in args.steps.split(","))
    data = load("mnist1d")
    gflops = matmul_gflops()
    info = {
        "machine": platform.processor() or platform.machine(),
        "cores": usable_cores(),
        "backend": jax.default_backend(),
        "jax": jax.__version__,
        "block_size": args.block_size,
        "steps": [s1, s2],
        "matmul_gflops": gflops,
        "load_average": os.getloadavg()[0],
    }
    print(f"{info['cores']} cores, {gflops:.1f} GFLOP/s float32 matmul; steps {s1} -> {s2}")
    rows = []
    for model in args.models.split(","):
        flops = 3 * forward_flops(model, data.input_shape[0], data.n_classes) * BATCH
        floor = flops / (gflops * 1e9) * 1e3
        for n in sizes:
            t1 = timed_fit(model, n, s1, data, args.block_size)
            t2 = timed_fit(model, n, s2, data, args.block_size)
            marginal = (t2 - t1) / (n * (s2 - s1)) * 1e3
            rows.append(
                {"model": model, "n": n, "t1": t1, "t2": t2, "ms": marginal, "floor_ms": floor}
            )
            print(
                f"{model} N={n:5d}: {marginal:.4f} ms per configuration-step "
                f"(floor {floor:.4f}; {t1:.1f} s / {t2:.1f} s)",
                flush=True,
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"info": info, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
