"""How the trainer's programs are compiled on a CPU.

XLA's CPU backend generates the code of its fused loops with "fusion
emitters" by default. Its older elemental emitters compile the trainer's
programs a third faster and run them at least as fast, with the same results
up to float32 rounding (bit for bit for a block of one run, the last bit of a
loss for a block of two; the tests train with both and compare). Every CPU
compiles with the same options, so results stay bit-identical across device
and core counts. Measured on the 2-core
CI machine, 2026-11-25, 16 configurations on MNIST-1D: the MLP's training
chunk compiles in 0.35 s instead of 0.52 s, its initialization in 0.21 s
instead of 0.27 s, the evaluation in 0.08 s instead of 0.12 s; a 1000-step
CNN sweep takes 7.1 s instead of 7.9 s. For a sweep of a few thousand steps
compiling is a large part of the time, so the trainer asks for them on a CPU.
Other backends compile as usual.

A model whose class sets ``xla_cpu_fusion_emitters = True`` is compiled with
the fusion emitters all the same: the built-in `jaxsched.train.models.CNN`,
whose gather of patches (a concatenation) they vectorise where the elemental
emitters copy it element by element. Measured on the 2-core CI machine,
2026-12-07 (`benchmarks/README.md`), a block of 16 CNN configurations on one
core: 0.39-0.42 ms per configuration-step instead of 0.43-0.48, for 0.6 s
more compiling.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import numpy as np

__all__ = ["compiler_options"]

#: What the trainer asks of XLA on a CPU.
CPU_OPTIONS = {"xla_cpu_use_fusion_emitters": False}


def compiler_options(
    optimization_level: int | None = None, fusion_emitters: bool = False
) -> dict[str, Any] | None:
    """``jax.jit(..., compiler_options=...)`` for a trainer program on this backend.

    On a CPU: `CPU_OPTIONS` (when this XLA knows them; with ``fusion_emitters``,
    XLA's default emitters instead), and the LLVM optimization level when one is
    given. Elsewhere None: XLA's defaults.

    >>> compiler_options() == (CPU_OPTIONS if jax.default_backend() == "cpu" else None)
    True
    """
    if jax.default_backend() != "cpu":
        return None
    options = dict(CPU_OPTIONS) if _cpu_options_known() else {}
    if fusion_emitters and options:
        options["xla_cpu_use_fusion_emitters"] = True
    if optimization_level is not None:
        options["xla_backend_optimization_level"] = optimization_level
    return options or None


@functools.cache
def _cpu_options_known() -> bool:
    """Whether this XLA accepts `CPU_OPTIONS` (an XLA without them refuses to compile)."""
    try:
        jax.jit(lambda x: x + 1, compiler_options=CPU_OPTIONS).lower(np.float32(0)).compile()
    except Exception:  # "No such compile option": an older or newer XLA; compile without
        return False
    return True
