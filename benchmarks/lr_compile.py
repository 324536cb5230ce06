"""How long the comparison's mixed batch of learning rates takes to compile.

`jaxsched compare` trains a batch mixing 15 families (146 configurations in the
default budget). Its learning rates are computed inside `fit`'s program; this
script times that part alone (trace, lower and compile of the rates at 10 steps,
`jax.vmap` over the configurations), two ways:

- **general**: every leaf an argument of the program (what `fit` did before
  `jaxsched.train.shared`);
- **shared**: the leaves every configuration shares closed over as constants, the
  others arguments (what `fit` does).

(Each family's program size beside optax's is capped by `tests/test_jaxpr_size.py`.)

Each way is timed in a fresh process, ``--repeats`` times, so that no compilation
cache is shared.

    python benchmarks/lr_compile.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time


def _time(mode: str) -> float:
    import jax
    import jax.numpy as jnp

    import jaxsched
    from jaxsched.experiments.compare import _space
    from jaxsched.experiments.families import FAMILIES
    from jaxsched.experiments.tasks import base_rates
    from jaxsched.train.shared import SharedLeaves

    space = _space(FAMILIES, "sgd", base_rates("sgd", 5), 2000, 2)
    batch = jaxsched.stack([c.schedule for c in space])
    at = jnp.arange(0, 2000, 200, dtype=jnp.int32)
    start = time.perf_counter()
    if mode == "general":
        jax.jit(jax.vmap(lambda s: s(at))).lower(batch).compile()
    else:
        shared = SharedLeaves.of(batch)
        lower = jax.jit(jax.vmap(lambda v: shared.rebuild(v)(at))).lower(shared.varying(batch))
        lower.compile()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mode", help=argparse.SUPPRESS)  # one timing, in a child process
    args = parser.parse_args()
    if args.mode:
        print(_time(args.mode))
        return
    print("| mixed batch (146 configurations, 15 families) | seconds, each a fresh process |")
    print("|---|---|")
    for mode in ("general", "shared"):
        times = [
            float(
                subprocess.run(
                    [sys.executable, __file__, "--mode", mode],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout.split()[-1]
            )
            for _ in range(args.repeats)
        ]
        print(f"| {mode} | {', '.join(f'{t:.2f}' for t in times)} |")


if __name__ == "__main__":
    main()
