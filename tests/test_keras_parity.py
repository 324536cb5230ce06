"""Live parity with Keras 3 (JAX backend): ``jaxsched.compat.keras.<Class>(**kw)(t)`` equals
``keras.optimizers.schedules.<Class>(**kw)(t)``, in float32 and in float64.

Keras is evaluated on a whole array of steps at once (``jax.vmap``, so that the
``ops.cond`` inside ``CosineDecay``'s warmup becomes a select); per-step eager
calls would be far too slow.
"""

from __future__ import annotations

import os
from fractions import Fraction

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest
from conftest import x64_mode

from jaxsched.compat import keras as jk

KS = keras.optimizers.schedules

#: Keras's own JAX backend converts its variables with ``np.array(x)``, which NumPy 2
#: warns about for every read (keras/src/backend/jax/core.py): not ours to fix.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

# float32: Keras computes ``1 + cos(pi p)`` and ``1 - p`` in float32, so where the rate
# approaches 0 (the end of a cosine, of a polynomial decay, of an SGDR period) Keras itself
# keeps only an absolute accuracy of about one float32 ulp of the largest rate, not a
# relative one. So on top of rtol we allow an atol of ATOL32 (a little under one float32
# ulp, 1.19e-7) times the largest rate of the schedule; 5e-8 is the smallest that passes.
RTOL32, ATOL32 = 1e-5, 1e-7
# float64: the same cancellation is 2**29 times smaller; no atol is needed.
RTOL64 = 1e-6


@pytest.fixture(params=["float32", "float64"])
def dtype(request, monkeypatch):
    """The precision of one run: float64 turns on ``jax_enable_x64`` and Keras's floatx.

    Keras 3 on JAX maps every float64 result of its own type promotion to float32
    (``keras.src.backend.common.dtypes.BIT64_TO_BIT32_DTYPE``, "to be aligned with JAX's
    default"), even with ``jax_enable_x64`` on, so ``ops.cos`` and ``ops.log`` of a float64
    array run in float32 and ``CosineDecay`` keeps only float32 accuracy near 0. For the
    float64 comparison that mapping is switched off, so that Keras's own code runs in float64
    as JAX does.
    """
    if request.param == "float32":
        assert keras.config.floatx() == "float32"
        yield np.float32
        return
    from keras.src.backend.common import dtypes as keras_dtypes

    monkeypatch.setitem(keras_dtypes.BIT64_TO_BIT32_DTYPE, "float64", "float64")
    before = keras.config.floatx()
    with x64_mode(True):
        keras.config.set_floatx("float64")
        try:
            yield np.float64
        finally:
            keras.config.set_floatx(before)


def _typed(kwargs: dict, dtype) -> dict:
    """Float hyperparameters as ``dtype`` scalars, for Keras and for us alike.

    Keras computes in the dtype of ``ops.convert_to_tensor(initial_learning_rate)``; a
    Python float there becomes a weakly typed array, and ``CosineDecay`` then returns
    float32 even with floatx float64, so both sides get strongly typed scalars.
    """
    out = {}
    for k, v in kwargs.items():
        if isinstance(v, float):
            out[k] = dtype(v)
        elif isinstance(v, list):
            out[k] = [dtype(x) if k == "values" else x for x in v]
        else:
            out[k] = v
    return out


def _keras_values(name: str, kwargs: dict, steps: np.ndarray) -> np.ndarray:
    dtype = steps.dtype.type
    schedule = getattr(KS, name)(**_typed(kwargs, dtype))
    return np.asarray(jax.vmap(schedule)(jnp.asarray(steps)))


def _ours(name: str, kwargs: dict, dtype):
    return getattr(jk, name)(**_typed(kwargs, dtype))


def _check(name: str, kwargs: dict, steps: np.ndarray, dtype) -> None:
    """Compare ours with Keras on ``steps`` (as floats and as int32), in ``dtype``."""
    steps = steps.astype(dtype)
    keras_values = _keras_values(name, kwargs, steps)
    assert keras_values.dtype == dtype, keras_values.dtype
    expected = _exact_expected(name, kwargs, steps, dtype)
    if expected is not None:  # exact period ends: see _exact_expected
        keras_values = np.where(np.isnan(expected), keras_values, expected)
    schedule = _ours(name, kwargs, dtype)
    ours = schedule(jnp.asarray(steps))
    assert ours.dtype == dtype, ours.dtype
    if dtype == np.float32:
        tol = {"rtol": RTOL32, "atol": ATOL32 * np.nanmax(np.abs(keras_values))}
    else:
        tol = {"rtol": RTOL64, "atol": 0.0}
    err = f"{name}({kwargs})"
    np.testing.assert_allclose(np.asarray(ours), keras_values, err_msg=err, **tol)
    # Integer steps (optax's int32 count) give the same values.
    whole = steps == np.round(steps)
    ours_int = np.asarray(schedule(jnp.asarray(np.round(steps).astype(np.int32))))
    assert ours_int.dtype == dtype
    np.testing.assert_allclose(ours_int[whole], keras_values[whole], err_msg=err, **tol)


def _around(points) -> np.ndarray:
    """The integers next to each point (and the point itself if it is a whole or half step).

    A fractional period end such as ``3 * 1.729...`` is rounded differently by every
    formula; the steps a training loop sees are integers, so those are what is compared.
    """
    points = np.asarray(points, dtype=np.float64)
    lo, hi = np.floor(points), np.ceil(points)
    exact = points[points * 2 == np.round(points * 2)]
    return np.concatenate([lo - 1, lo, hi, hi + 1, exact])


# ------------------------------------------------------------------------ cases
# Every comparison uses this many steps, so that each eager op compiles once per dtype
# (a new array shape would recompile every op of both libraries).
N_STEPS = 2048


def _steps(length: float, *points) -> np.ndarray:
    """The integers 0 .. 3 * length (evenly thinned out if too many), the given points and
    their neighbours, padded to ``N_STEPS`` entries."""
    extra = [_around(p) for p in points if np.size(p)]
    extra = np.unique(np.concatenate(extra)) if extra else np.zeros(0)
    extra = extra[extra >= 0]
    end = int(np.ceil(3 * length))
    grid = np.arange(0, end + 1, dtype=np.float64)
    room = N_STEPS - len(extra)
    if len(grid) > room:
        grid = np.unique(np.round(np.linspace(0, end, room)))
    steps = np.unique(np.concatenate([grid, extra]))
    assert len(steps) <= N_STEPS
    return np.pad(steps, (0, N_STEPS - len(steps)), mode="edge")


def _restart_starts(first: float, t_mul: float, until: float, most: int = 64) -> list[Fraction]:
    """The exact start of each SGDR period after the first, up to ``until`` (``most`` of them)."""
    starts, start, length, t_mul = [], Fraction(0), Fraction(first), Fraction(t_mul)
    while start + length <= until and len(starts) < most:
        start += length
        length *= t_mul
        if length == 0:  # t_mul = 0: nothing after the first period (Keras: NaN)
            break
        starts.append(start)
    return starts


def _restart_length(first: float, t_mul: float, periods: int = 4) -> float:
    return sum(first * t_mul**i for i in range(periods)) / 3


# jaxsched/compat/keras.py turns ``step > b`` into ``step >= nextafter(b, inf)``; for
# b = 0 that is the smallest subnormal, which XLA on CPU flushes to zero, so step 0 already
# has values[1] (Keras: values[0]).
HAND_PICKED = [
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 100, "decay_rate": 0.96}),
    (
        "ExponentialDecay",
        {"initial_learning_rate": 1.0, "decay_steps": 10, "decay_rate": 0.5, "staircase": True},
    ),
    ("ExponentialDecay", {"initial_learning_rate": 0.01, "decay_steps": 7.5, "decay_rate": 1.1}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5}),
    (
        "InverseTimeDecay",
        {"initial_learning_rate": 0.5, "decay_steps": 25, "decay_rate": 2.0, "staircase": True},
    ),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 100}),
    (
        "PolynomialDecay",
        {"initial_learning_rate": 0.1, "decay_steps": 50, "end_learning_rate": 0.0, "power": 2.0},
    ),
    (
        "PolynomialDecay",
        {
            "initial_learning_rate": 0.1,
            "decay_steps": 40,
            "end_learning_rate": 0.01,
            "power": 0.5,
            "cycle": True,
        },
    ),
    (
        "PolynomialDecay",
        {"initial_learning_rate": 0.01, "decay_steps": 30, "end_learning_rate": 0.1, "cycle": True},
    ),
    ("PiecewiseConstantDecay", {"boundaries": [100, 110], "values": [1.0, 0.5, 0.1]}),
    ("PiecewiseConstantDecay", {"boundaries": [0, 1, 2], "values": [4.0, 3.0, 2.0, 1.0]}),
    ("PiecewiseConstantDecay", {"boundaries": [10.5, 20], "values": [0.3, 0.2, 0.1]}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 100}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 1000, "alpha": 0.1}),
    (
        "CosineDecay",
        {
            "initial_learning_rate": 0.0,
            "decay_steps": 100,
            "warmup_target": 0.1,
            "warmup_steps": 20,
        },
    ),
    (
        "CosineDecay",
        {
            "initial_learning_rate": 0.01,
            "decay_steps": 77,
            "alpha": 0.2,
            "warmup_target": 0.5,
            "warmup_steps": 33,
        },
    ),
    (  # warmup_steps without warmup_target is ignored by Keras
        "CosineDecay",
        {"initial_learning_rate": 0.1, "decay_steps": 50, "warmup_steps": 20},
    ),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 10}),
    (
        "CosineDecayRestarts",
        {"initial_learning_rate": 0.1, "first_decay_steps": 20, "t_mul": 1.0, "m_mul": 0.8},
    ),
    (
        "CosineDecayRestarts",
        {
            "initial_learning_rate": 0.1,
            "first_decay_steps": 8,
            "t_mul": 1.5,
            "m_mul": 0.5,
            "alpha": 0.1,
        },
    ),
    (
        "CosineDecayRestarts",
        {"initial_learning_rate": 1.0, "first_decay_steps": 13, "t_mul": 2.0, "alpha": 0.05},
    ),
    (  # m_mul = 0: one cosine, then alpha * lr for good (0 ** 0 = 1)
        "CosineDecayRestarts",
        {"initial_learning_rate": 0.1, "first_decay_steps": 10, "m_mul": 0.0, "alpha": 0.1},
    ),
    (  # ... and rising to an alpha above 1
        "CosineDecayRestarts",
        {"initial_learning_rate": 0.1, "first_decay_steps": 10, "m_mul": 0.0, "alpha": 3.0},
    ),
]


def _points_and_length(name: str, kw: dict) -> tuple[float, list]:
    """The characteristic length of a case and the steps where something happens."""
    if name in ("ExponentialDecay", "InverseTimeDecay"):
        d = kw["decay_steps"]
        return max(d, 10), [d * np.arange(4)]
    if name == "PolynomialDecay":
        d = kw["decay_steps"]
        return d, [d * np.arange(4)]
    if name == "PiecewiseConstantDecay":
        b = np.asarray(kw["boundaries"], dtype=np.float64)
        return max(b[-1], 1) * 0.5 + 2, [b, b + 0.5, b - 0.5]
    if name == "CosineDecay":
        w = kw.get("warmup_steps", 0) if kw.get("warmup_target") is not None else 0
        d = kw["decay_steps"]
        return (w + d) / 2, [[w, w + d]]
    first, t_mul = kw["first_decay_steps"], kw.get("t_mul", 2.0)
    length = _restart_length(first, t_mul)
    return length, [[float(x) for x in _restart_starts(first, t_mul, 3 * length)]]


def _multiples(steps: np.ndarray, period: float, dtype) -> tuple[np.ndarray, np.ndarray]:
    """Where a step is exactly (as rationals) a multiple ``k > 0`` of ``period`` as ``dtype``."""
    period = Fraction(float(dtype(period)))
    k = np.zeros(steps.shape)
    hit = np.zeros(steps.shape, dtype=bool)
    for j, step in enumerate(steps):
        q = Fraction(float(step)) / period
        if q.denominator == 1 and q > 0:
            hit[j], k[j] = True, float(q)
    return hit, k


def _exact_expected(name: str, kw: dict, steps: np.ndarray, dtype) -> np.ndarray | None:
    """Closed-form values at the steps where a period ends exactly (NaN elsewhere).

    Keras finds the period of a step by rounding a float quotient down or up, and its
    arithmetic can land one period off exactly at a period's end: XLA's float32 division on
    CPU is not correctly rounded (``90.0 / 30`` gives ``3.0000002``, so
    ``PolynomialDecay(cycle=True)`` is already in the next cycle at step 90), and SGDR's
    ``floor(log(1 - f (1 - t_mul)) / log(t_mul))`` can round just below an integer (float32,
    ``first_decay_steps=16, t_mul=1.25``: step 16; float64, ``first_decay_steps=10,
    t_mul=2``: step 70 is put at the end of the previous period). At those steps the closed
    form is the reference; everywhere else, Keras.
    """
    expected = np.full(steps.shape, np.nan)
    if name in ("ExponentialDecay", "InverseTimeDecay"):
        if not kw.get("staircase", False):
            return None
        hit, k = _multiples(steps, kw["decay_steps"], dtype)
        lr, rate = kw["initial_learning_rate"], kw["decay_rate"]
        value = lr * rate**k if name == "ExponentialDecay" else lr / (1 + rate * k)
        expected[hit] = value[hit]
    elif name == "PolynomialDecay":
        if not kw.get("cycle", False):
            return None
        hit, _ = _multiples(steps, kw["decay_steps"], dtype)
        expected[hit] = kw.get("end_learning_rate", 0.0001)
    elif name == "CosineDecayRestarts":
        first, t_mul = kw["first_decay_steps"], kw.get("t_mul", 2.0)
        m_mul, alpha = kw.get("m_mul", 1.0), kw.get("alpha", 0.0)
        lr = kw["initial_learning_rate"]
        # period i (from 0) starts at lr * (alpha + (1 - alpha) m_mul**i)
        starts = _restart_starts(first, float(dtype(t_mul)), float(np.max(steps)))
        exact = {x: i for i, x in enumerate(starts, start=1) if x.denominator == 1}
        for j, step in enumerate(steps):
            i = exact.get(Fraction(float(step)))
            if i is not None:
                expected[j] = lr * (alpha + (1 - alpha) * m_mul**i)
    else:
        return None
    return expected.astype(dtype)


def _run_case(name: str, kw: dict, dtype) -> None:
    length, points = _points_and_length(name, kw)
    steps = _steps(length, *points)
    _check(name, kw, steps, dtype)


def _case_id(i: int, case) -> str:
    name = case.values[0] if hasattr(case, "values") else case[0]
    return f"{name}-{i}"


@pytest.mark.parametrize(
    ("name", "kwargs"), HAND_PICKED, ids=[_case_id(i, c) for i, c in enumerate(HAND_PICKED)]
)
def test_hand_picked(name, kwargs, dtype):
    _run_case(name, kwargs, dtype)


# ----------------------------------------------------------------------- random
def _draw(name: str, rng: np.random.Generator) -> dict:
    lr = float(10 ** rng.uniform(-4, 0))
    if name in ("ExponentialDecay", "InverseTimeDecay"):
        decay_steps = int(rng.integers(1, 300)) if rng.random() < 0.8 else rng.uniform(0.5, 50)
        if name == "ExponentialDecay":
            rate = rng.uniform(0.05, 0.99) if rng.random() < 0.8 else rng.uniform(1.0, 1.5)
        else:
            rate = rng.uniform(0.0, 5.0)
        return {
            "initial_learning_rate": lr,
            "decay_steps": decay_steps,
            "decay_rate": float(rate),
            "staircase": bool(rng.random() < 0.5),
        }
    if name == "PolynomialDecay":
        end = lr * rng.uniform(0, 0.5) if rng.random() < 0.8 else lr * rng.uniform(1, 3)
        return {
            "initial_learning_rate": lr,
            "decay_steps": int(rng.integers(1, 500)),
            "end_learning_rate": float(end) if rng.random() < 0.8 else 0.0,
            "power": float(rng.uniform(0.3, 3.0)),
            "cycle": bool(rng.random() < 0.5),
        }
    if name == "PiecewiseConstantDecay":
        n = int(rng.integers(1, 6))
        boundaries = np.sort(rng.choice(500, size=n, replace=False)).tolist()
        if rng.random() < 0.3:
            boundaries = [b + 0.5 for b in boundaries]
        values = (10 ** rng.uniform(-4, 0, size=n + 1)).tolist()
        return {"boundaries": boundaries, "values": values}
    if name == "CosineDecay":
        kw = {
            "initial_learning_rate": lr,
            "decay_steps": int(rng.integers(1, 1000)),
            "alpha": float(rng.uniform(0, 0.5)) if rng.random() < 0.7 else 0.0,
        }
        if rng.random() < 0.5:
            kw["warmup_target"] = float(lr * rng.uniform(1, 20))
            kw["warmup_steps"] = int(rng.integers(0, 300))
            kw["initial_learning_rate"] = lr if rng.random() < 0.7 else 0.0
        return kw
    t_mul = rng.choice([1.0, 1.5, 2.0, float(rng.uniform(1.0, 3.0))])
    return {
        "initial_learning_rate": lr,
        "first_decay_steps": int(rng.integers(1, 100)),
        "t_mul": float(t_mul),
        "m_mul": float(rng.uniform(0.3, 1.0)) if rng.random() < 0.7 else 1.0,
        "alpha": float(rng.uniform(0, 0.3)) if rng.random() < 0.7 else 0.0,
    }


CLASSES = [
    "ExponentialDecay",
    "InverseTimeDecay",
    "PolynomialDecay",
    "PiecewiseConstantDecay",
    "CosineDecay",
    "CosineDecayRestarts",
]
N_RANDOM = 20


@pytest.mark.parametrize("name", CLASSES)
def test_random_hyperparameters(name, dtype):
    rng = np.random.default_rng(1234 + CLASSES.index(name))
    for _ in range(N_RANDOM):
        _run_case(name, _draw(name, rng), dtype)


# --------------------------------------------------------------- specific points
@pytest.mark.parametrize("initial", [0.0, 0.01])
def test_cosine_warmup_exact_at_warmup_end(initial, dtype):
    """Keras's warmup reaches ``warmup_target`` at ``step == warmup_steps`` (the decay branch,
    ``ops.cond(step < warmup_steps, ...)``), and so do we, to the last bit or two."""
    kw = {
        "initial_learning_rate": initial,
        "decay_steps": 100,
        "alpha": 0.1,
        "warmup_target": 0.3,
        "warmup_steps": 25,
    }
    steps = np.asarray([0, 1, 24, 25, 26, 124, 125, 126, 1000], dtype=dtype)
    theirs = _keras_values("CosineDecay", kw, steps)
    ours = np.asarray(_ours("CosineDecay", kw, dtype)(jnp.asarray(steps)))
    assert ours.dtype == dtype
    assert theirs[0] == ours[0] == dtype(initial)
    assert theirs[3] == dtype(0.3)
    # ours is alpha * target + (1 - alpha) * target: one rounding from the target
    np.testing.assert_allclose(ours[3], theirs[3], rtol=2 * np.finfo(dtype).eps, atol=0)
    rtol = RTOL32 if dtype == np.float32 else RTOL64
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=0)


@pytest.mark.parametrize(
    "boundaries",
    [
        [5, 10],
        [7.25, 8.0],
        [0, 3],
    ],
)
def test_piecewise_switches_after_boundary(boundaries, dtype):
    """Keras switches at ``step > b``: the boundary itself still has the old value."""
    kw = {"boundaries": boundaries, "values": [3.0, 2.0, 1.0]}
    b = np.asarray(boundaries, dtype=dtype)
    above = np.nextafter(b[b > 0], dtype(np.inf))  # not past 0: a subnormal step is 0 on CPU
    steps = np.concatenate([b, b + 0.25, b - 0.25, above])
    steps = steps[steps >= 0].astype(dtype)
    theirs = _keras_values("PiecewiseConstantDecay", kw, steps)
    ours = np.asarray(_ours("PiecewiseConstantDecay", kw, dtype)(jnp.asarray(steps)))
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(ours[: len(b)], [3.0, 2.0])


@pytest.mark.parametrize("t_mul", [1.0, 1.5, 2.0, 3.0, 4.0, 10.0])
def test_restart_points_exact(t_mul, dtype):
    """Each of the first 12 whole-number restart points below 2**24 starts its period at the
    scaled peak ``m_mul**i``. The closed form is the reference: Keras's log-based period index
    misplaces some of these itself (float64, ``t_mul=2``: steps 70, 630 and 1270 for
    ``first_decay_steps=10``), see `_exact_expected`."""
    bad = []
    for first in (1, 3, 7, 10, 16, 33):
        kw = {"initial_learning_rate": 1.0, "first_decay_steps": first, "t_mul": t_mul}
        kw["m_mul"] = 0.9
        starts = [
            (float(x), i)
            for i, x in enumerate(_restart_starts(first, t_mul, 2**24), start=1)
            if x.denominator == 1
        ][:12]
        starts += starts[-1:] * (12 - len(starts))  # one shape: no recompiles
        steps = np.asarray([x for x, _ in starts], dtype=dtype)
        expected = 0.9 ** np.asarray([i for _, i in starts], dtype=np.float64)
        ours = np.asarray(_ours("CosineDecayRestarts", kw, dtype)(jnp.asarray(steps)))
        assert ours.dtype == dtype
        wrong = ~np.isclose(ours, expected, rtol=RTOL32, atol=0)
        for step, o, e in zip(steps[wrong], ours[wrong], expected[wrong], strict=True):
            if (first, float(step), float(o), e) not in bad:
                bad.append((first, float(step), float(o), e))
    assert not bad, f"(first_decay_steps, step, ours, expected): {bad}"


@pytest.mark.parametrize(
    ("first", "t_mul", "m_mul", "alpha"),
    [
        (40, 0.5, 1.0, 0.0),
        (64, 0.75, 0.7, 0.1),
        (37, 0.625, 1.0, 0.05),
        (30, 0.9375, 1.2, 0.0),
        (40, 0.0, 1.0, 0.0),  # t_mul = 0: one period, then NaN
        (25, 0.0, 0.5, 0.1),
    ],
)
def test_shrinking_restarts_match_keras_and_end_in_nan(first, t_mul, m_mul, alpha, dtype):
    """``t_mul < 1``: periods ``first * t_mul**i`` that sum to ``first / (1 - t_mul)``
    steps. Compared up to the first period shorter than 8 steps (after it, the periods'
    starts, sums of many rounded terms, move both float32 results ~1e-5 from the exact
    values, and then a step holds several periods), then past the end, where Keras and
    ours give NaN."""
    kw = {"initial_learning_rate": 0.1, "first_decay_steps": first, "t_mul": t_mul}
    kw.update(m_mul=m_mul, alpha=alpha)
    start, length = 0.0, float(first)
    while length >= 8:
        start, length = start + length, length * t_mul
    end = first / (1 - t_mul)
    steps = np.concatenate([np.arange(int(start)), np.ceil(end) + np.arange(10)])
    steps = np.pad(steps, (0, N_STEPS - len(steps)), mode="edge").astype(dtype)
    ours = np.asarray(_ours("CosineDecayRestarts", kw, dtype)(jnp.asarray(steps)))
    assert np.isnan(ours[steps >= end]).all() and np.isfinite(ours[steps < end]).all()
    if dtype == np.float64:
        _check("CosineDecayRestarts", kw, steps, dtype)
    else:
        keras_values = _keras_values("CosineDecayRestarts", kw, steps)
        expected = _exact_expected("CosineDecayRestarts", kw, steps, dtype)  # Keras misplaces
        keras_values = np.where(np.isnan(expected), keras_values, expected)  # some restarts
        np.testing.assert_allclose(ours, keras_values, rtol=1e-4, atol=1e-7 * kw["m_mul"] ** 20)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("ExponentialDecay", {"initial_learning_rate": 0.5, "decay_steps": 2.0, "decay_rate": 0.0}),
        ("ExponentialDecay", {"initial_learning_rate": 0.5, "decay_steps": 2.0, "decay_rate": 0.0,
                              "staircase": True}),
        ("ExponentialDecay", {"initial_learning_rate": 0.5, "decay_steps": 2.5, "decay_rate": 0.0,
                              "staircase": True}),
        ("InverseTimeDecay", {"initial_learning_rate": 0.5, "decay_steps": 2.0, "decay_rate": 0.0}),
        ("PolynomialDecay", {"initial_learning_rate": 0.5, "decay_steps": 4.0, "power": 0.0}),
        ("PolynomialDecay", {"initial_learning_rate": 0.5, "decay_steps": 4.0, "power": 0.0,
                             "cycle": True}),
    ],
)  # fmt: skip
def test_zero_rate_and_power_are_taken_as_keras_takes_them(name, kwargs, dtype):
    """``decay_rate=0`` (``0 ** 0 = 1``: the initial rate at step 0, then 0; with staircase,
    0 from ``decay_steps``) and ``power=0`` (the initial rate throughout), which Keras takes
    and the decay formulas refuse."""
    steps = np.concatenate([np.arange(8), [0.5, 2.4, 2.5, 100.0, 2.0**20]])
    steps = np.pad(steps, (0, N_STEPS - len(steps)), mode="edge").astype(dtype)
    theirs = _keras_values(name, kwargs, steps)
    assert (theirs == 0).any() or name != "ExponentialDecay"
    ours = np.asarray(_ours(name, kwargs, dtype)(jnp.asarray(steps)))
    assert ours.dtype == dtype
    np.testing.assert_array_equal(ours, theirs)
    whole = steps == np.round(steps)
    as_int = np.asarray(_ours(name, kwargs, dtype)(jnp.asarray(steps.astype(np.int32))))
    np.testing.assert_array_equal(as_int[whole], theirs[whole])


# ---------------------------------------------------------------- ReduceLROnPlateau
def _keras_plateau(lr: float, kwargs: dict, metrics: list[float]) -> np.ndarray:
    """The optimizer's rate after each ``on_epoch_end`` of Keras's callback (float32)."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss="mse")
    callback = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", **kwargs)
    callback.set_model(model)
    callback.on_train_begin()
    rates = []
    for epoch, metric in enumerate(metrics):
        callback.on_epoch_end(epoch, {"val_loss": metric})
        rates.append(float(model.optimizer.learning_rate))
    return np.asarray(rates)


def _our_plateau(lr: float, kwargs: dict, metrics: list[float]) -> np.ndarray:
    controller = jk.ReduceLROnPlateau(lr, monitor="val_loss", **kwargs)
    state, rates = controller.init(), []
    for metric in metrics:
        state = controller.update(state, metric)
        rates.append(float(controller.value(state)))
    return np.asarray(rates)


def _plateau_case(rng: np.random.Generator) -> tuple[float, dict, list[float]]:
    kwargs = {
        "mode": str(rng.choice(["min", "max"])),
        "factor": float(rng.choice([0.1, 0.5, 0.0, rng.uniform(0, 0.99)])),
        "patience": int(rng.choice([0, 1, 2, 5])),
        "min_delta": float(rng.choice([1e-4, 0.0, 0.1, -0.05])),
        "cooldown": int(rng.choice([0, 0, 1, 3])),
        "min_lr": float(rng.choice([0.0, 1e-3, 0.05])),
    }
    n = 25
    kind = rng.integers(4)
    if kind == 0:  # noisy descent
        metrics = 1.0 / (1 + 0.05 * np.arange(n)) + rng.normal(0, 0.02, n)
    elif kind == 1:  # a coarse grid: ties
        metrics = rng.choice([0.1, 0.2, 0.3, 0.4, 0.5], n)
    else:  # uniform
        metrics = rng.uniform(-1, 2, n)
    metrics = metrics.tolist()
    special = [np.nan, np.inf, -np.inf]
    if kind >= 2:  # a non-finite first metric, and some later ones
        metrics[0] = float(rng.choice(special))
    for i in rng.choice(n, size=int(rng.integers(0, 3)), replace=False):
        metrics[i] = float(rng.choice(special))
    return float(rng.choice([0.1, 1.0, 0.01])), kwargs, metrics


@pytest.mark.parametrize(
    ("lr", "kwargs", "metrics"),
    [
        # Keras's first metric is an improvement whatever it is: a first NaN becomes a best
        # that nothing beats (reduced at epoch 2), a first inf is not a bad epoch.
        (1.0, {"mode": "max", "factor": 0.5, "patience": 2, "min_delta": 0.1},
         [np.nan, 0.349, 1.545]),
        (1.0, {"mode": "min", "factor": 0.5, "patience": 1}, [np.inf, 0.5, 0.4]),
        (1.0, {"mode": "max", "factor": 0.5, "patience": 1}, [-np.inf, 0.5, 0.4, 0.3]),
        (1.0, {"mode": "min", "factor": 0.5, "patience": 1}, [np.inf, np.inf, 1.0, np.nan]),
        (1.0, {"mode": "min", "factor": 0.5, "patience": 0}, [np.nan, np.nan, -np.inf, 0.0]),
        (0.1, {"mode": "min", "factor": 0.5, "patience": 1, "cooldown": 1},
         [np.nan, 1.0, 0.5, 0.2, 0.1]),
    ],
)  # fmt: skip
def test_plateau_first_metric_is_an_improvement(lr, kwargs, metrics, float32):
    np.testing.assert_allclose(
        _our_plateau(lr, kwargs, metrics), _keras_plateau(lr, kwargs, metrics), rtol=1e-6
    )


def test_plateau_matches_keras_on_random_metrics_with_nan_and_inf(float32):
    """Keras's callback, live, on random sequences (a third with a NaN or infinite first
    metric, many with later ones): the rate after every epoch, in float32 (Keras compares
    ``metric - min_delta`` with the best in float32 too)."""
    rng = np.random.default_rng(20260521)
    bad = []
    for _ in range(60):
        lr, kwargs, metrics = _plateau_case(rng)
        ours, theirs = _our_plateau(lr, kwargs, metrics), _keras_plateau(lr, kwargs, metrics)
        if not np.allclose(ours, theirs, rtol=1e-5, atol=0):
            k = int(np.argmin(np.isclose(ours, theirs, rtol=1e-5, atol=0)))
            bad.append((lr, kwargs, metrics[: k + 1], float(ours[k]), float(theirs[k])))
    assert not bad, bad


def test_plateau_stays_jittable_and_batched(float32):
    """A batch of Keras controllers, jitted, equals each run on its own (a NaN first)."""
    metrics = [np.nan, 0.9, 0.95, 0.97, np.inf, 0.85, 0.86]
    batch = jk.ReduceLROnPlateau(1.0, factor=np.array([0.5, 0.1]), patience=1, mode="min")
    step = jax.jit(lambda state, m: batch.update(state, m))
    state = batch.init()
    rates = []
    for m in metrics:
        state = step(state, m)
        rates.append(np.asarray(batch.value(state)))
    for i, factor in enumerate([0.5, 0.1]):
        kwargs = {"factor": factor, "patience": 1, "mode": "min"}
        theirs = _keras_plateau(1.0, kwargs, metrics)
        np.testing.assert_allclose(np.asarray(rates)[:, i], theirs, rtol=1e-5)


def test_sgdr_restarts_exactly_where_keras_rounds_the_period_down(float32):
    """The documented difference (``CosineDecayRestarts``' docstring, porting guide): at
    step 81910 = 10 * (2**13 - 1) a period starts; Keras's float32 log puts it at the end
    of the one before (0.0), ours restarts (1.0). The steps around it agree."""
    steps = np.pad([81909.0, 81910.0, 81911.0], (0, N_STEPS - 3), mode="edge")
    steps = steps.astype(np.float32)
    kw = {"initial_learning_rate": 1.0, "first_decay_steps": 10, "t_mul": 2.0}
    theirs = _keras_values("CosineDecayRestarts", kw, steps)[:3]
    ours = np.asarray(_ours("CosineDecayRestarts", kw, np.float32)(jnp.asarray(steps)))[:3]
    assert theirs[1] == 0.0 and ours[1] == 1.0
    np.testing.assert_allclose(ours[[0, 2]], theirs[[0, 2]], rtol=1e-5, atol=1e-7)
