"""`jaxsched.compat.optax` against the installed optax: documented corners and random
arguments, in float32 and float64; vmap over every numeric argument; errors; specs.

Each schedule is built by the same code from either module (``lib`` is ``optax`` or
``jaxsched.compat.optax``). Random arguments are drawn as a batch: ours is one batched
schedule evaluated once, optax's is built per draw (it takes no arrays).
"""

from __future__ import annotations

import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import x64_mode

import jaxsched as js
from jaxsched.compat import optax as ox

# optax computes 1 + cos(pi p) and 1 - p in float32 near the end of a phase, which
# (and init - peak + peak at the start of a warmup) keeps an absolute accuracy of an ulp
# of the largest value only (see test_optax_parity.py): on top of rtol, ATOL32 (a float32
# ulp of 1) times the largest value.
RTOL32, ATOL32, RTOL64 = 1e-5, 2.0**-23, 1e-6
BIG = [400, 1000, 4321, 10**5, 2**24 - 1, 2**24 + 1, 10**9, 2**31 - 2, 2**31 - 1]
STEPS = np.unique(np.concatenate([np.arange(0, 320), BIG])).astype(np.int32)
BATCH = 8


@pytest.fixture(params=["float32", "float64"])
def dtype(request):
    if request.param == "float32":
        yield np.float32
        return
    with x64_mode(True):
        yield np.float64


# optax's piecewise_constant_schedule computes ``boundary - count`` in int32, which wraps
# around for a negative boundary near count 2**31 (the boundary's scale is then undone):
# these cases give optax float steps.
WRAPS = {"piecewise negative steps", "piecewise_constant_schedule"}


# One compiled evaluation per schedule structure: the hyperparameters are its arguments.
_evaluate = jax.jit(lambda schedule, steps: schedule(steps))


def _theirs(schedule, dtype, wraps: bool = False) -> np.ndarray:
    """optax's values on STEPS: its own int32 count in float32 (float32 steps where the
    count ``wraps``); float64 steps in float64 (with an int32 count some of its
    divisions run in float32 even under x64)."""
    steps = STEPS.astype(dtype) if wraps or dtype == np.float64 else STEPS
    values = np.asarray(jax.vmap(lambda t: jnp.asarray(schedule(t), dtype))(jnp.asarray(steps)))
    return np.broadcast_to(values, STEPS.shape)


def _assert_close(got, expected, dtype, what) -> None:
    if dtype == np.float32:
        finite = np.abs(expected[np.isfinite(expected)])
        tol = {"rtol": RTOL32, "atol": ATOL32 * float(finite.max(initial=0.0))}
    else:
        tol = {"rtol": RTOL64, "atol": 0.0}
    np.testing.assert_allclose(got, expected, err_msg=str(what), **tol)


def _check(build, dtype, what) -> None:
    """``build(ox)`` equals ``build(optax)`` on STEPS, given int32 and float steps."""
    ours = build(ox)
    expected = _theirs(build(optax), dtype, what in WRAPS)
    got = _evaluate(ours, jnp.asarray(STEPS))
    assert got.dtype == dtype
    _assert_close(np.asarray(got), expected, dtype, what)
    _assert_close(np.asarray(_evaluate(ours, jnp.asarray(STEPS, dtype))), expected, dtype, what)


# ------------------------------------------------------------------ documented corners
def _nested_join(lib):
    inner = lib.join_schedules(
        [lib.linear_schedule(0.0, 1.0, 10), lib.cosine_decay_schedule(1.0, 90)], [10]
    )
    return lib.join_schedules([inner, lib.exponential_decay(0.5, 7, 0.8, staircase=True)], [70])


# Corners whose schedule differs in structure from test_random_arguments' batches (the
# corners that share it are drawn with them, in DOCUMENTED).
CASES = {
    "exp unbounded": lambda lib: lib.exponential_decay(0.1, 100, 0.96),
    "exp grows to inf": lambda lib: lib.exponential_decay(0.01, 20, 2.0, 10, True),
    "warmup exp unbounded": lambda lib: lib.warmup_exponential_decay_schedule(0.0, 1.0, 10, 10, 0.5),
    "piecewise none": lambda lib: lib.piecewise_constant_schedule(0.1),
    "piecewise": lambda lib: lib.piecewise_constant_schedule(1.0, {100: 0.1, 200: 0.01}),
    "interpolate linear": lambda lib: lib.piecewise_interpolate_schedule("linear", 1.0, {4: 0.1, 8: 0.01}),
    "interpolate step 0": lambda lib: lib.piecewise_interpolate_schedule("linear", 1.0, {0: 0.5, 30: 0.1}),
    "interpolate fractional": lambda lib: lib.piecewise_interpolate_schedule("cosine", 1.0, {2.5: 0.5, 9.5: 0.2}),
    "interpolate none": lambda lib: lib.piecewise_interpolate_schedule("linear", 0.3),
    "join nested": _nested_join,
    "sgdr one period": lambda lib: lib.sgdr_schedule(
        [dict(init_value=0.0, peak_value=1.0, warmup_steps=5, decay_steps=20)]
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_documented_cases(name, dtype):
    _check(CASES[name], dtype, name)


# ------------------------------------------------------------------- random arguments
def _lr(rng) -> float:
    return float(10 ** rng.uniform(-4, 0))


def _steps(rng, low, high) -> int:
    return int(rng.integers(low, high))


def _poly(rng):
    return dict(
        init_value=_lr(rng),
        end_value=_lr(rng) if rng.random() < 0.7 else 0.0,
        power=0.0 if rng.random() < 0.1 else float(rng.uniform(0.3, 3.0)),
        transition_steps=_steps(rng, -5, 300),
        transition_begin=_steps(rng, -20, 100),
    )


def _exp(rng):
    kind = rng.integers(0, 5)
    rate = [rng.uniform(0.05, 0.99), rng.uniform(1.01, 2.0), 0.0, 1.0, rng.uniform(0.5, 0.99)][kind]
    return dict(
        init_value=_lr(rng),
        transition_steps=_steps(rng, -3, 200),
        decay_rate=float(rate),
        transition_begin=_steps(rng, -10, 100),
        staircase=bool(rng.random() < 0.5),
        end_value=_lr(rng),
    )


def _warmup_exp(rng):
    kw = _exp(rng)
    kw["peak_value"] = kw.pop("init_value")
    return dict(kw, init_value=_lr(rng) * rng.random(), warmup_steps=_steps(rng, 0, 100))


def _cosine(rng):
    return dict(
        init_value=_lr(rng),
        decay_steps=_steps(rng, 1, 300),
        alpha=float(rng.uniform(0, 0.5)) if rng.random() < 0.7 else 0.0,
        exponent=float(rng.choice([0.0, 1.0, rng.uniform(0.5, 3.0)])),
    )


def _warmup_cosine(rng):
    warmup = _steps(rng, 0, 100)
    return dict(
        init_value=_lr(rng) * rng.random(),
        peak_value=0.0 if rng.random() < 0.1 else _lr(rng),
        warmup_steps=warmup,
        decay_steps=warmup + _steps(rng, 1, 300),
        end_value=_lr(rng) * rng.random(),
        exponent=float(rng.choice([1.0, rng.uniform(0.5, 3.0)])),
    )


def _scales(rng, n):
    return [0.0 if rng.random() < 0.05 else float(rng.uniform(0.05, 2.0)) for _ in range(n)]


def _linear_onecycle(rng):
    pct_start = round(float(rng.uniform(0, 0.6)), 2)
    return dict(
        transition_steps=_steps(rng, 1, 300),
        peak_value=_lr(rng),
        pct_start=pct_start,
        pct_final=round(float(rng.uniform(pct_start, 1.05)), 2),
        div_factor=float(rng.uniform(2, 50)),
        final_div_factor=float(10 ** rng.uniform(1, 4)),
    )


def _cosine_onecycle(rng):
    return dict(
        transition_steps=_steps(rng, 1, 300),
        peak_value=_lr(rng),
        pct_start=round(float(rng.uniform(0, 1.1)), 2),
        div_factor=float(rng.uniform(2, 50)),
        final_div_factor=float(10 ** rng.uniform(1, 4)),
    )


def _join_draw(rng):
    first = _steps(rng, 0, 150)
    return dict(
        a=_lr(rng), b=_lr(rng), k=_steps(rng, -2, 80), c=_lr(rng), d=_steps(rng, 1, 100),
        rate=float(rng.uniform(0.3, 0.99)), b1=first, b2=first + _steps(rng, 1, 100),
    )  # fmt: skip


def _join_build(lib, d):
    pieces = [
        lib.linear_schedule(d["a"], d["b"], d["k"]),
        lib.cosine_decay_schedule(d["c"], d["d"]),
        lib.exponential_decay(d["b"], d["d"], d["rate"], staircase=True),
    ]
    return lib.join_schedules(pieces, [d["b1"], d["b2"]])


def _called(name):
    return lambda lib, d: getattr(lib, name)(**d)


# name: (draw one set of arguments, build a schedule of ``lib`` from them)
RANDOM = {
    "constant_schedule": (lambda rng: dict(value=_lr(rng)), _called("constant_schedule")),
    "polynomial_schedule": (_poly, _called("polynomial_schedule")),
    "linear_schedule": (
        lambda rng: {k: v for k, v in _poly(rng).items() if k != "power"},
        _called("linear_schedule"),
    ),
    "warmup_constant_schedule": (
        lambda rng: dict(init_value=_lr(rng), peak_value=_lr(rng), warmup_steps=_steps(rng, -3, 300)),
        _called("warmup_constant_schedule"),
    ),
    "exponential_decay": (_exp, _called("exponential_decay")),
    "warmup_exponential_decay_schedule": (_warmup_exp, _called("warmup_exponential_decay_schedule")),
    "cosine_decay_schedule": (_cosine, _called("cosine_decay_schedule")),
    "warmup_cosine_decay_schedule": (_warmup_cosine, _called("warmup_cosine_decay_schedule")),
    "sgdr_schedule": (
        lambda rng: {str(i): _warmup_cosine(rng) for i in range(3)},
        lambda lib, d: lib.sgdr_schedule([d[str(i)] for i in range(3)]),
    ),
    "piecewise_constant_schedule": (
        lambda rng: dict(init=_lr(rng), scales=_scales(rng, len(PIECEWISE_STEPS))),
        lambda lib, d: lib.piecewise_constant_schedule(
            d["init"], dict(zip(PIECEWISE_STEPS, d["scales"], strict=True))
        ),
    ),
    "piecewise_interpolate_schedule": (
        lambda rng: dict(init=_lr(rng), scales=_scales(rng, len(INTERPOLATE_STEPS))),
        lambda lib, d: lib.piecewise_interpolate_schedule(
            "cosine", d["init"], dict(zip(INTERPOLATE_STEPS, d["scales"], strict=True))
        ),
    ),
    "linear_onecycle_schedule": (_linear_onecycle, _called("linear_onecycle_schedule")),
    "cosine_onecycle_schedule": (_cosine_onecycle, _called("cosine_onecycle_schedule")),
    "join_schedules": (_join_draw, _join_build),
}  # fmt: skip


def _keys(names, *rows):
    return [dict(zip(names.split(), row, strict=True)) for row in rows]


def _period(*row):
    return dict(
        zip(
            ["init_value", "peak_value", "warmup_steps", "decay_steps", "end_value", "exponent"],
            row,
            strict=True,
        )
    )


# Corners of each function, drawn along with its random arguments. Piecewise steps come
# unsorted, negative and 0; scales 0 and multiplying.
PIECEWISE_STEPS = (50, -3, 20, 0, 121, -1, 7)
INTERPOLATE_STEPS = (90, -10, 11, -4, 10, 200)
POLY = "init_value end_value power transition_steps transition_begin"
EXP = "init_value transition_steps decay_rate transition_begin staircase end_value"
ONECYCLE = "transition_steps peak_value pct_start pct_final div_factor final_div_factor"
DOCUMENTED = {
    "constant_schedule": _keys("value", [0.3]),
    "polynomial_schedule": _keys(
        POLY, [1.0, 0.01, 2.0, 100, 0], [1.0, 0.01, 2.0, 100, 5], [1.0, 0.01, 2.0, 0, 0],
        [1.0, 0.01, 2.0, -7, 0], [1.0, 0.5, 0.5, 30, -10], [1.0, 0.5, 0.0, 30, 0],
        [0.01, 0.1, 0.5, 50, 20], [1.0, 0.0, 1.5, 37.5, 2.5],
    ),
    "linear_schedule": _keys(
        "init_value end_value transition_steps transition_begin", [1.0, 0.01, 100, 0],
        [1.0, 0.01, 0, 10], [0.001, 1.0, 300, 5],
    ),
    "warmup_constant_schedule": _keys(
        "init_value peak_value warmup_steps", [0.0, 0.1, 10], [0.05, 0.1, 0], [0.05, 0.1, -4]
    ),
    "exponential_decay": _keys(
        EXP, [1.0, 7, 0.5, 3, True, 0.1], [0.01, 5, 1.5, 0, False, 0.2],
        [0.01, 5, 1.5, 0, False, 0.005], [1.0, 5, 1.0, 0, False, 0.5],
        [1.0, 5, 0.0, 0, False, 2.0], [1.0, 0, 0.5, 0, False, 2.0], [1.0, 10, 0.5, -5, True, 0.0],
    ),
    "warmup_exponential_decay_schedule": _keys(
        EXP.replace("init_value", "peak_value") + " init_value warmup_steps",
        [1.0, 10, 0.5, 0, False, 2.0, 0.0, 10], [1.0, 7, 0.7, 15, True, 0.2, 0.1, 20],
        [1.0, 10, 0.5, 0, False, 0.0, 0.5, 0],
    ),
    "cosine_decay_schedule": _keys(
        "init_value decay_steps alpha exponent", [0.1, 100, 0.0, 1.0], [1.0, 30, 0.05, 2.0],
        [1.0, 30, 0.05, 0.0], [1.0, 1, 0.5, 0.5],
    ),
    "warmup_cosine_decay_schedule": [
        _period(0.0, 0.1, 10, 100, 0.0, 1.0), _period(0.01, 1.0, 0, 50, 0.1, 1.0),
        _period(0.3, 0.0, 10, 50, 0.2, 1.0), _period(0.0, 0.5, 30, 31, 0.0, 2.0),
    ],
    "sgdr_schedule": [{
        "0": _period(0.0, 1.0, 10, 50, 0.1, 1.0), "1": _period(0.1, 0.5, 0, 30, 0.0, 2.0),
        "2": _period(0.0, 0.2, 5, 40, 0.0, 1.0),
    }],
    "piecewise_constant_schedule": [
        dict(init=1.0, scales=[0.0, 0.5, 0.5, 2.0, 3.0, 0.5, 0.1]),
        dict(init=0.5, scales=[0.5, 2.0, 0.1, 3.0, 1.0, 1.0, 1.0]),
    ],
    "piecewise_interpolate_schedule": [
        dict(init=1.0, scales=[0.1, 0.5, 2.0, 0.0, 0.5, 3.0]),
        dict(init=0.2, scales=[1.0, 1.0, 0.5, 1.0, 1.0, 0.01]),
    ],
    "linear_onecycle_schedule": _keys(
        ONECYCLE, [100, 1.0, 0.3, 0.85, 25.0, 1e4], [100, 0.1, 0.29, 0.57, 10.0, 100.0],
        [50, 1.0, 0.2, 1.0, 25.0, 1e4], [50, 1.0, 0.3, 0.3, 25.0, 1e4],
        [50, 1.0, 0.8, 0.2, 25.0, 1e4], [60.5, 1.0, 0.25, 0.5, 25.0, 1e4],
        [40, 1.0, 0.0, 0.5, 25.0, 1e4],
    ),
    "cosine_onecycle_schedule": _keys(
        ONECYCLE.replace(" pct_final", ""), [150, 0.1, 0.3, 25.0, 1e4], [100, 1.0, 0.29, 10.0, 100.0],
        [99.7, 1.0, 0.25, 25.0, 1e4], [30, 1.0, 1.0, 25.0, 1e4],
    ),
    "join_schedules": _keys("a b k c d rate b1 b2", [0.1, 0.0, 100, 2.0, 30, 0.5, 50, 120],
                            [0.1, 0.2, 0, 1.0, 1, 0.9, 0, 1]),
}  # fmt: skip


def _stacked(draws):
    """The draws as one set of arguments whose leaves are arrays over the draws."""
    return jax.tree.map(lambda *leaves: np.asarray(leaves), *draws)


def test_every_optax_schedule_is_here():
    """Every schedule function of optax.schedules (not its classes or inject_*)."""
    public = [n for n in dir(optax.schedules) if n[0].islower()]
    names = {n for n in public if callable(getattr(optax.schedules, n)) and "inject" not in n}
    assert names == set(ox.__all__) == set(RANDOM)


@pytest.mark.parametrize("name", list(RANDOM))
def test_random_arguments(name, dtype):
    """The documented corners and drawn arguments, batched, are one schedule of ours;
    each equals optax's."""
    draw, build = RANDOM[name]
    rng = np.random.default_rng(sorted(RANDOM).index(name))
    draws = DOCUMENTED[name] + [draw(rng) for _ in range(BATCH)]
    ours = build(ox, _stacked(draws))
    got = np.asarray(_evaluate(ours, jnp.asarray(STEPS)[:, None]))
    assert got.shape == (len(STEPS), len(draws)) and got.dtype == dtype
    for i, d in enumerate(draws):
        _assert_close(got[:, i], _theirs(build(optax, d), dtype, name in WRAPS), dtype, d)


# ------------------------------------------------------------------------- vmap
# name: (arguments, {argument: values to map over}); corners included in the values.
VMAPPED = {
    "polynomial_schedule": (
        dict(init_value=1.0, end_value=0.1, power=2.0, transition_steps=20, transition_begin=5),
        dict(init_value=[1.0, 0.3], end_value=[0.1, 2.0], power=[0.0, 0.5, 2.0],
             transition_steps=[-1, 0, 7, 20.5], transition_begin=[-4, 0, 9]),
    ),
    "exponential_decay": (
        dict(init_value=1.0, transition_steps=5, decay_rate=0.5, transition_begin=3,
             staircase=True, end_value=0.1),
        dict(init_value=[1.0, 0.05], transition_steps=[-1, 0, 5, 7.5], decay_rate=[0.0, 0.5, 1.0, 1.5],
             transition_begin=[-2, 0, 11], staircase=[False, True], end_value=[0.1, 0.7, 3.0]),
    ),
    "cosine_decay_schedule": (
        dict(init_value=1.0, decay_steps=30, alpha=0.1, exponent=1.0),
        dict(init_value=[1.0, 0.2], decay_steps=[1, 30, 45.5], alpha=[0.0, 0.3], exponent=[0.0, 2.0]),
    ),
    "warmup_cosine_decay_schedule": (
        dict(init_value=0.0, peak_value=1.0, warmup_steps=10, decay_steps=50, end_value=0.1, exponent=1.0),
        dict(init_value=[0.0, 0.5], peak_value=[0.0, 1.0], warmup_steps=[0, 10, 25],
             decay_steps=[30, 50], end_value=[0.0, 0.2], exponent=[1.0, 3.0]),
    ),
    "warmup_constant_schedule": (
        dict(init_value=0.0, peak_value=1.0, warmup_steps=10),
        dict(init_value=[0.0, 0.5], peak_value=[1.0, 0.1], warmup_steps=[-1, 0, 10, 33]),
    ),
    "warmup_exponential_decay_schedule": (
        dict(init_value=0.0, peak_value=1.0, warmup_steps=10, transition_steps=5, decay_rate=0.5,
             transition_begin=2, staircase=False, end_value=0.2),
        dict(init_value=[0.0, 0.5], peak_value=[1.0, 0.1], warmup_steps=[0, 10, 25],
             transition_steps=[0, 5], decay_rate=[0.0, 0.5, 2.0], transition_begin=[-1, 6],
             staircase=[False, True], end_value=[0.05, 0.2, 5.0]),
    ),
    "linear_onecycle_schedule": (
        dict(transition_steps=100, peak_value=1.0, pct_start=0.25, pct_final=0.5, div_factor=10.0,
             final_div_factor=100.0),
        dict(transition_steps=[40, 100, 78], peak_value=[1.0, 0.1], pct_start=[0.0, 0.25, 0.5, 0.875],
             pct_final=[0.25, 0.6, 1.0], div_factor=[10.0, 25.0], final_div_factor=[100.0, 1e4]),
    ),
    "cosine_onecycle_schedule": (
        dict(transition_steps=100, peak_value=1.0, pct_start=0.25, div_factor=10.0, final_div_factor=100.0),
        dict(transition_steps=[40, 100, 77.5], peak_value=[1.0, 0.1], pct_start=[0.0, 0.25, 1.0, 1.2],
             div_factor=[10.0, 25.0], final_div_factor=[100.0, 1e4]),
    ),
    "constant_schedule": (dict(value=0.1), dict(value=[0.1, 0.5])),
}  # fmt: skip

SWEEP_STEPS = jnp.asarray(np.concatenate([np.arange(0, 130, 3), [2**31 - 1]]), jnp.int32)


def _vmap_matches_loop(make, values, what):
    """``jax.vmap`` over ``values`` (a dict of equally long lists, or one list) equals a
    Python loop over them, concrete."""
    table = values if isinstance(values, dict) else {"v": values}
    table = {
        k: np.asarray(v, bool if isinstance(v[0], bool) else np.float32) for k, v in table.items()
    }
    call = (lambda kw: make(**kw)) if isinstance(values, dict) else (lambda kw: make(kw["v"]))
    mapped = jax.jit(jax.vmap(lambda kw: call(kw)(SWEEP_STEPS)))(table)
    entries = [
        {k: v[i].item() for k, v in table.items()} for i in range(len(next(iter(table.values()))))
    ]
    looped = np.stack([np.asarray(_evaluate(call(kw), SWEEP_STEPS)) for kw in entries])
    np.testing.assert_allclose(mapped, looped, rtol=2e-6, atol=1e-9, err_msg=str(what))


@pytest.mark.parametrize("name", list(VMAPPED))
def test_vmap_over_every_argument_equals_a_loop(name):
    """Every numeric argument mapped at once, each through its listed values (corners
    included), cycled to the longest list."""
    base, sweeps = VMAPPED[name]
    n = max(len(v) for v in sweeps.values())
    table = {k: [v[i % len(v)] for i in range(n)] for k, v in sweeps.items()}
    assert set(table) == set(base)  # every argument is mapped
    _vmap_matches_loop(getattr(ox, name), table, name)


def test_vmap_over_scales_periods_and_boundaries():
    """What optax keeps in dicts and lists: scales, sgdr's periods, join's boundaries."""
    pieces = [ox.linear_schedule(0.0, 1.0, 10), ox.cosine_decay_schedule(1.0, 40)]
    cases = {
        "join boundaries": (lambda b: ox.join_schedules(pieces, [b]), [0.0, 10.0, 35.0]),
        "piecewise scale": (
            lambda s: ox.piecewise_constant_schedule(1.0, {-2: 0.5, 30: s, 60: 0.1}),
            [0.0, 0.5, 2.0],
        ),
        "interpolate scale": (
            lambda s: ox.piecewise_interpolate_schedule("linear", 1.0, {0: s, 30: s, 60: 0.1}),
            [0.0, 0.5, 2.0],
        ),
        "sgdr decay_steps": (
            lambda k: ox.sgdr_schedule(
                [dict(init_value=0.0, peak_value=1.0, warmup_steps=5, decay_steps=k)] * 3
            ),
            [6.0, 20.0, 41.0],
        ),
        "sgdr warmup_steps": (
            lambda w: ox.sgdr_schedule(
                [
                    dict(
                        init_value=0.0,
                        peak_value=1.0,
                        warmup_steps=w,
                        decay_steps=30,
                        end_value=0.1,
                    )
                ]
                * 2
            ),
            [0.0, 5.0, 29.0],
        ),
    }
    for what, (make, values) in cases.items():
        _vmap_matches_loop(make, values, what)


# ----------------------------------------------------------------------- errors
C = ox.constant_schedule(0.1)
BAD = [
    (lambda: ox.constant_schedule("a"), "optax.constant_schedule: value must be a number"),
    (lambda: ox.polynomial_schedule(1.0, 0.0, -1.0, 10), "optax.polynomial_schedule: power must be >= 0"),
    (lambda: ox.linear_schedule(1.0, 0.0, 10, math.inf), "optax.linear_schedule: transition_begin must be finite"),
    (lambda: ox.linear_schedule(1.0, 0.0, [10, math.nan]), "optax.linear_schedule: transition_steps must be finite, got nan at index 1"),
    (lambda: ox.warmup_constant_schedule(0.0, math.nan, 10), "optax.warmup_constant_schedule: peak_value must be finite"),
    (lambda: ox.exponential_decay(1.0, 10, -0.5), "optax.exponential_decay: decay_rate must be >= 0"),
    (lambda: ox.exponential_decay(1.0, 10, 0.5, staircase="yes"), "optax.exponential_decay: staircase must be True or False"),
    (lambda: ox.warmup_exponential_decay_schedule(0.0, 1.0, -2, 10, 0.5), "optax.warmup_exponential_decay_schedule: warmup_steps must be >= 0"),
    (lambda: ox.cosine_decay_schedule(1.0, 0), "optax.cosine_decay_schedule: decay_steps must be > 0"),
    (lambda: ox.cosine_decay_schedule(1.0, 10, exponent=-1), "optax.cosine_decay_schedule: exponent must be >= 0"),
    (lambda: ox.warmup_cosine_decay_schedule(0.0, 1.0, 10, 10), "optax.warmup_cosine_decay_schedule: decay_steps (which includes the warmup) must be > warmup_steps"),
    (lambda: ox.warmup_cosine_decay_schedule(0.0, 1.0, -1, 10), "optax.warmup_cosine_decay_schedule: warmup_steps must be >= 0"),
    (lambda: ox.piecewise_constant_schedule(1.0, {10: -0.5}), "optax.piecewise_constant_schedule: boundaries_and_scales[10] must be >= 0"),
    (lambda: ox.piecewise_constant_schedule(1.0, [10, 0.5]), "optax.piecewise_constant_schedule: boundaries_and_scales must be a dict"),
    (lambda: ox.piecewise_constant_schedule(1.0, {True: 0.5}), "optax.piecewise_constant_schedule: boundaries_and_scales must be a number"),
    (lambda: ox.piecewise_interpolate_schedule("cubic", 1.0), "optax.piecewise_interpolate_schedule: interpolate_type must be one of 'linear', 'cosine'"),
    (lambda: ox.piecewise_interpolate_schedule("linear", 1.0, {1.5: 0.5, 2.0: 0.1}), "optax.piecewise_interpolate_schedule: steps less than one apart"),
    (lambda: ox.linear_onecycle_schedule(0, 1.0), "optax.linear_onecycle_schedule: transition_steps must be > 0"),
    (lambda: ox.cosine_onecycle_schedule(100, 1.0, div_factor=0), "optax.cosine_onecycle_schedule: div_factor must be nonzero"),
    (lambda: ox.sgdr_schedule([]), "optax.sgdr_schedule: cosine_kwargs must hold at least one dict"),
    (lambda: ox.sgdr_schedule([dict(init_value=0.0, peak_value=1.0, warmup_steps=5, decay_steps=9), dict(init_value=0.0, peak_value=1.0, warmup_steps=5, decay_steps=5)]),
     "optax.sgdr_schedule: cosine_kwargs[1]: decay_steps (which includes the warmup) must be > warmup_steps"),
    (lambda: ox.sgdr_schedule([dict(init_value=math.inf, peak_value=1.0, warmup_steps=5, decay_steps=9)]),
     "optax.sgdr_schedule: cosine_kwargs[0]: init_value must be finite"),
    (lambda: ox.sgdr_schedule([dict(init_value=0.0, peak_value=1.0, warmup_steps=5, decay_steps=9, alpha=0.1)]),
     "optax.sgdr_schedule: cosine_kwargs[0]: takes warmup_cosine_decay_schedule's arguments"),
    (lambda: ox.join_schedules([optax.constant_schedule(0.1), C], [5]), "optax.join_schedules: schedules[0] must be a jaxsched schedule"),
    (lambda: ox.join_schedules([C, C], [5, 6]), "optax.join_schedules: boundaries must have one entry fewer than schedules"),
    (lambda: ox.join_schedules([C, C, C], [6, 5]), "optax.join_schedules: boundaries must be strictly increasing"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("make", "message"), BAD, ids=[m.split(":")[0] + str(i) for i, (_, m) in enumerate(BAD)]
)
def test_bad_arguments_name_the_constructor_and_parameter(make, message):
    with pytest.raises(ValueError) as error:
        make()
    assert str(error.value).startswith(message), str(error.value)


# ------------------------------------------------------------------------ specs
SPECS = {
    "optax.warmup_cosine_decay_schedule(0.0, 1.0, 100, 1000)":
        lambda lib: lib.warmup_cosine_decay_schedule(0.0, 1.0, 100, 1000),
    "optax.cosine_decay_schedule(0.1, 1000)": lambda lib: lib.cosine_decay_schedule(0.1, 1000),
    "optax.polynomial_schedule(1.0, 0.01, 2, transition_steps=0)":
        lambda lib: lib.polynomial_schedule(1.0, 0.01, 2, transition_steps=0),
    "optax.exponential_decay(1.0, 10, 0.5, staircase=True, end_value=0.1)":
        lambda lib: lib.exponential_decay(1.0, 10, 0.5, staircase=True, end_value=0.1),
    "optax.warmup_exponential_decay_schedule(0.0, 1.0, 10, 10, 0.5, end_value=2.0)":
        lambda lib: lib.warmup_exponential_decay_schedule(0.0, 1.0, 10, 10, 0.5, end_value=2.0),
    "optax.piecewise_constant_schedule(1.0, {0: 0.5, 100: 0.1, 200: 0.5})":
        lambda lib: lib.piecewise_constant_schedule(1.0, {0: 0.5, 100: 0.1, 200: 0.5}),
    "optax.piecewise_interpolate_schedule('cosine', 1.0, {4: 0.1, 8: 0.01})":
        lambda lib: lib.piecewise_interpolate_schedule("cosine", 1.0, {4: 0.1, 8: 0.01}),
    "optax.linear_onecycle_schedule(100, 1.0, pct_final=1.0)":
        lambda lib: lib.linear_onecycle_schedule(100, 1.0, pct_final=1.0),
    "optax.cosine_onecycle_schedule(100, 1.0, 0.29)":
        lambda lib: lib.cosine_onecycle_schedule(100, 1.0, 0.29),
    "optax.sgdr_schedule([{'init_value': 0.0, 'peak_value': 1.0, 'warmup_steps': 5,"
    " 'decay_steps': 20}, {'init_value': 0.5, 'peak_value': 0.5, 'warmup_steps': 0,"
    " 'decay_steps': 30}])": lambda lib: lib.sgdr_schedule([
        dict(init_value=0.0, peak_value=1.0, warmup_steps=5, decay_steps=20),
        dict(init_value=0.5, peak_value=0.5, warmup_steps=0, decay_steps=30),
    ]),
    "optax.join_schedules([optax.constant_schedule(0.1), optax.linear_schedule(0.1, 0.0, 10)],"
    " [5])": lambda lib: lib.join_schedules(
        [lib.constant_schedule(0.1), lib.linear_schedule(0.1, 0.0, 10)], [5]
    ),
}  # fmt: skip


@pytest.mark.parametrize("spec", list(SPECS))
def test_parse_and_round_trip(spec):
    """A spec builds what the call builds (optax's values), and to_dict round-trips."""
    parsed = js.parse(spec)
    expected = _theirs(SPECS[spec](optax), np.float32)
    _assert_close(np.asarray(_evaluate(parsed, jnp.asarray(STEPS))), expected, np.float32, spec)
    again = js.from_dict(parsed.to_dict())
    assert again.to_dict() == parsed.to_dict()
    np.testing.assert_array_equal(
        _evaluate(again, jnp.asarray(STEPS)), _evaluate(parsed, jnp.asarray(STEPS))
    )


@pytest.mark.parametrize(
    ("build", "param"),
    [
        (lambda n: ox.linear_schedule(1.0, 0.0, n), "transition_steps"),
        (lambda n: ox.polynomial_schedule(1.0, 0.0, 2, n), "transition_steps"),
        (lambda n: ox.warmup_constant_schedule(0.0, 1.0, n), "warmup_steps"),
        (lambda n: ox.linear_onecycle_schedule(n, 1.0), "transition_steps"),
        (lambda n: ox.cosine_onecycle_schedule(n, 1.0), "transition_steps"),
        (lambda n: ox.cosine_decay_schedule(1.0, n), "decay_steps"),
        (lambda n: ox.exponential_decay(1.0, n, 0.5, staircase=True), "transition_steps"),
    ],
)
def test_a_step_count_float32_cannot_hold_is_rounded_with_a_warning(build, param):
    """2**24 + 1 is stored as 2**24, so the end of the transition moves: said, by name."""
    with pytest.warns(UserWarning, match=rf"optax\.\w+: {param} is 16777217, which float32"):
        build(2**24 + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        build(2**24)
