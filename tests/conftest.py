"""Shared fixtures: float64 mode, and a table of every factory with values for each hyperparameter."""

from __future__ import annotations

import contextlib
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

#: XLA options of every program the tests compile (set before JAX starts its CPU
#: client, inherited by the tests' subprocesses). The suite compiles a few
#: thousand small programs and runs each a few times, so it compiles them fast:
#: XLA's elemental loop emitters (as the trainer does on a CPU) and without
#: LLVM's expensive passes. They change no value (LLVM's -O0 would: a last bit
#: of poly and cosine, and training from there): ``tests/test_compile_options.py``
#: evaluates every schedule of the table and trains a small sweep under XLA's
#: defaults in a fresh process and compares bit for bit.
#: ``JAXSCHED_TEST_XLA_DEFAULTS=1`` runs the suite with XLA's defaults instead.
FAST_COMPILE_FLAGS = "--xla_cpu_use_fusion_emitters=false --xla_llvm_disable_expensive_passes=true"
if not os.environ.get("JAXSCHED_TEST_XLA_DEFAULTS"):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {FAST_COMPILE_FLAGS}".strip()

import atexit  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import jaxsched as js  # noqa: E402

# Tests build the same programs again and again (each test its own jit of the same
# schedule structures): a compilation cache of this process, emptied when it ends,
# compiles each once. Per process, so no test ever reads another's half-written entry.
_CACHE = tempfile.mkdtemp(prefix="jaxsched-tests-xla-")
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)
jax.config.update("jax_compilation_cache_dir", _CACHE)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)


@contextlib.contextmanager
def x64_mode(enabled: bool):
    """Run with ``jax_enable_x64`` set to ``enabled``, restoring the previous setting.

    ``jax.enable_x64`` (JAX >= 0.8) scopes the setting to the block and is part of
    every jit cache key; changing the global flag at run time is not supported by JAX.
    """
    if hasattr(jax, "enable_x64"):
        with jax.enable_x64(enabled):
            yield
        return
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", enabled)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", before)


def f32(x: float) -> float:
    """``x`` rounded to float32, as a Python float (what a schedule stores)."""
    return float(np.float32(x))


@pytest.fixture
def x64():
    with x64_mode(True):
        yield


@pytest.fixture
def float32():
    """The default float32, whatever a test before set."""
    with x64_mode(False):
        yield


# factory, shared arguments, {hyperparameter: values to sweep}, keyed by the factory's
# name in the registry, or by its name and a variant (``cyclic_exp_range``) for
# hyperparameters that act only with other shared arguments. Every core factory has an
# entry, and every numeric hyperparameter of every factory appears, step counts and
# boundaries included: test_completeness.py checks both.
SWEEPS = {
    "constant": (js.constant, {"value": 0.1}, {"value": [0.1, 0.3, 0.02]}),
    "step": (
        js.step,
        {"init_value": 0.1, "step_size": 30, "decay_rate": 0.5},
        {
            "init_value": [0.1, 1.0],
            "step_size": [7, 30, 45.5],
            "decay_rate": [0.1, 0.5, 0.9],
        },
    ),
    "multistep": (
        js.multistep,
        {"init_value": 0.1, "boundaries": [20, 50], "decay_rate": 0.5},
        {
            "init_value": [0.1, 1.0],
            "boundaries": [[20, 50], [5, 100], [0, 1]],
            "decay_rate": [0.1, 0.7],
        },
    ),
    "piecewise": (
        js.piecewise,
        {"boundaries": [20, 50], "values": [1.0, 0.5, 0.1]},
        {"boundaries": [[20, 50], [3, 4], [60, 61]], "values": [[1.0, 0.5, 0.1], [0.2, 0.3, 0.4]]},
    ),
    "piecewise_interpolate": (
        js.piecewise_interpolate,
        {"boundaries": [0, 20, 50], "values": [0.0, 1.0, 0.1]},
        {
            "boundaries": [[0, 20, 50], [-5, 3, 4], [10, 10, 61]],
            "values": [[0.0, 1.0, 0.1], [0.2, 0.3, 0.4]],
        },
    ),
    "exponential": (
        js.exponential,
        {"init_value": 0.1, "decay_steps": 20, "decay_rate": 0.5, "end_value": 0.01},
        {
            "init_value": [0.1, 1.0],
            "decay_steps": [5, 20, 33.3],
            "decay_rate": [0.5, 0.9, 1.1],
            "staircase": [False, True],
            "begin": [0, 10, 25.5],
            "end_value": [0.001, 0.05],
        },
    ),
    "inverse_time": (
        js.inverse_time,
        {"init_value": 0.1, "decay_steps": 20, "decay_rate": 0.5},
        {
            "init_value": [0.1, 1.0],
            "decay_steps": [5, 20],
            "decay_rate": [0.0, 0.5, 2.0],
            "staircase": [False, True],
            "power": [0.5, 1.0, 2.0],
        },
    ),
    "poly": (
        js.poly,
        {"init_value": 0.1, "end_value": 0.001, "decay_steps": 100, "power": 2.0},
        {
            "init_value": [0.1, 1.0],
            "end_value": [0.0, 0.01],
            "decay_steps": [10, 100, 150.5],
            "power": [0.5, 1.0, 3.0],
            "begin": [0, 30],
            "cycle": [False, True],
        },
    ),
    "linear": (
        js.linear,
        {"init_value": 0.1, "end_value": 0.0, "decay_steps": 100},
        {
            "init_value": [0.1, 1.0],
            "end_value": [0.0, 0.5],
            "decay_steps": [10, 100],
            "begin": [0, 30],
        },
    ),
    "cosine": (
        js.cosine,
        {"init_value": 0.1, "decay_steps": 100},
        {
            "init_value": [0.1, 1.0],
            "decay_steps": [10, 100, 150.5],
            "end_value": [0.0, 0.01],
            "exponent": [0.5, 1.0, 2.0],
        },
    ),
    "one_cycle": (
        js.one_cycle,
        {"peak_value": 0.1, "total_steps": 150},
        {
            "peak_value": [0.1, 1.0],
            "total_steps": [50, 150, 201],
            "pct_start": [0.1, 0.3, 0.45],
            "div_factor": [10.0, 25.0],
            "final_div_factor": [100.0, 1e4],
            "three_phase": [False, True],
        },
    ),
    "cyclic": (
        js.cyclic,
        {"base_value": 0.01, "peak_value": 0.1, "step_size_up": 20, "mode": "exp_range"},
        {
            "base_value": [0.01, 0.001],
            "peak_value": [0.1, 1.0],
            "step_size_up": [5, 20, 33],
            "step_size_down": [10, 40],
            "gamma": [0.9, 0.99, 1.0],
        },
    ),
    "cyclic_exp_range": (  # gamma acts in exp_range alone
        js.cyclic,
        {
            "base_value": 0.01,
            "peak_value": 0.1,
            "step_size_up": 20,
            "mode": "exp_range",
            "gamma": 0.99,
        },
        {"gamma": [0.99, 0.9, 0.999]},
    ),
    "cosine_restarts": (
        js.cosine_restarts,
        {"init_value": 0.1, "first_decay_steps": 10},
        {
            "init_value": [0.1, 1.0],
            "first_decay_steps": [5, 10, 17.5],
            "t_mul": [1.0, 1.5, 2.0],
            "m_mul": [0.5, 1.0],
            "end_value": [0.0, 0.01],
        },
    ),
    "restarts": (
        js.restarts,
        {"init_value": 0.1, "cycle_steps": 20, "cycle_limit": 4},
        {
            "init_value": [0.1, 1.0],
            "cycle_steps": [7, 20],
            "end_value": [0.0, 0.01],
            "cycle_limit": [1, 4],
            "cycle_mul": [1.0, 2.0, 1.5],  # shrinking cycles (< 1): test_hf_timm_parity.py
            "cycle_decay": [1.0, 0.5],
            "k_decay": [1.0, 3.0],
        },
    ),
    "restarts_tanh": (
        js.restarts,
        {"init_value": 0.1, "cycle_steps": 20, "cycle_limit": 4, "shape": "tanh"},
        {"lower": [-7.0, 0.0], "upper": [3.0, 6.0]},
    ),
    "restarts_poly": (
        js.restarts,
        {"init_value": 0.1, "cycle_steps": 20, "cycle_limit": 4, "shape": "poly"},
        {"power": [1.0, 2.0, 0.5]},
    ),
    "wsd": (
        js.wsd,
        {"peak_value": 0.1, "total_steps": 150, "warmup_steps": 10, "decay_steps": 30},
        {
            "peak_value": [0.1, 1.0],
            "total_steps": [100, 150, 200],
            "warmup_steps": [0, 10, 25],
            "decay_steps": [10, 30, 60],
            "end_value": [0.0, 0.01],
        },
    ),
    "inverse_sqrt": (
        js.inverse_sqrt,
        {"peak_value": 0.1, "warmup_steps": 20},
        {"peak_value": [0.1, 1.0], "warmup_steps": [0, 1, 20, 55]},
    ),
    "rex": (
        js.rex,
        {"init_value": 0.1, "decay_steps": 100},
        {"init_value": [0.1, 1.0], "decay_steps": [10, 100], "end_value": [0.0, 0.01]},
    ),
    "warmup": (
        js.warmup,
        {"schedule": js.cosine(0.1, decay_steps=100), "warmup_steps": 20},
        {
            "schedule": [js.cosine(0.1, decay_steps=100), js.cosine(0.5, decay_steps=30)],
            "warmup_steps": [0, 20, 45],
            "init_value": [0.0, 0.01],
        },
    ),
    "join": (
        js.join,
        {"schedules": [js.constant(0.1), js.linear(0.1, 0.0, decay_steps=50)], "boundaries": [30]},
        {"boundaries": [[0], [30], [77]]},
    ),
    "switch": (
        js.switch,
        {"schedules": [js.constant(0.1), js.cosine(0.5, decay_steps=50)], "index": 0},
        {"index": [0, 1]},
    ),
}

SWEPT = [(name, param) for name, (_, _, sweeps) in SWEEPS.items() for param in sweeps]


def factory_name(entry: str) -> str:
    """The registry's name of ``SWEEPS[entry]``'s factory: ``cyclic`` for ``cyclic_exp_range``."""
    from jaxsched._base import core_factory_names, factory_named

    fn = SWEEPS[entry][0]
    return next(name for name in core_factory_names() if factory_named(name) is fn)
