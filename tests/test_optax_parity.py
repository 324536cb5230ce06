"""Parity with optax's own schedules where the meanings coincide, in float32 and float64,
and the contract that a constant schedule is a float learning rate in every optimizer.

Each optax schedule is evaluated on optax's own step type, an int32 count, on a whole
array of steps at once; so is ours (and on the same steps as floats).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import x64_mode

import jaxsched as js

# float32: optax computes ``1 + cos(pi p)`` and ``1 - p`` in float32, so near the end of a
# cosine or polynomial phase it keeps only an absolute accuracy of a fraction of a float32
# ulp of the largest value, not a relative one. On top of rtol we allow ATOL32 times the
# largest value of the schedule: 2e-8 is the smallest that passes (a float32 ulp is 1.19e-7).
RTOL32, ATOL32 = 1e-5, 5e-8
# float64: the same cancellation is 2**29 times smaller; no atol is needed.
RTOL64 = 1e-6
N_RANDOM = 10
N_STEPS = 1024  # one array shape for every comparison, so each eager op compiles once


@pytest.fixture(params=["float32", "float64"])
def dtype(request):
    if request.param == "float32":
        yield np.float32
        return
    with x64_mode(True):
        yield np.float64


def _steps(length: float, *points) -> np.ndarray:
    """Integers 0 .. 3 * length (thinned out evenly if too many) and the integers next to
    the given points, padded to ``N_STEPS``."""
    extra = np.asarray([q for p in points for q in np.ravel(p)], dtype=np.float64)
    extra = np.concatenate([np.floor(extra) + d for d in (-1, 0, 1)] + [np.ceil(extra)])
    extra = np.unique(extra[extra >= 0])
    end = int(np.ceil(3 * length))
    grid = np.arange(0, end + 1, dtype=np.float64)
    room = N_STEPS - len(extra)
    if len(grid) > room:
        grid = np.unique(np.round(np.linspace(0, end, room)))
    steps = np.unique(np.concatenate([grid, extra]))
    return np.pad(steps, (0, N_STEPS - len(steps)), mode="edge").astype(np.int32)


def _check(ours: js.Schedule, theirs, steps: np.ndarray, dtype, what: str = "") -> None:
    """``ours`` equals optax's ``theirs`` on ``steps``, given to ours as int32 and as floats.

    optax gets its own count type, int32, in float32; in float64 it gets float64 steps,
    since with an int32 count some of its formulas (``count / transition_steps``) run in
    float32 even under x64. optax's schedules take a scalar count: they are vmapped.
    """
    their_steps = steps if dtype == np.float32 else steps.astype(dtype)
    expected = np.asarray(jax.vmap(theirs)(jnp.asarray(their_steps)))
    assert expected.shape == steps.shape
    assert expected.dtype == dtype, expected.dtype  # optax really computed in ``dtype``
    got = ours(jnp.asarray(steps))
    assert got.dtype == dtype, got.dtype
    got_float = ours(jnp.asarray(steps.astype(dtype)))
    if dtype == np.float32:
        tol = {"rtol": RTOL32, "atol": ATOL32 * float(np.max(np.abs(expected)))}
    else:
        tol = {"rtol": RTOL64, "atol": 0.0}
    np.testing.assert_allclose(np.asarray(got), expected, err_msg=what, **tol)
    np.testing.assert_allclose(np.asarray(got_float), expected, err_msg=what, **tol)


def _f(dtype, *values):
    """Floats as ``dtype`` scalars: our schedules compute in the dtype of their inputs."""
    return [dtype(v) for v in values]


def _lr(rng: np.random.Generator) -> float:
    return float(10 ** rng.uniform(-4, 0))


# ----------------------------------------------------------------------- constant
def test_constant(dtype):
    for value in (0.0, 1e-3, 0.1, 3.0):
        theirs = optax.constant_schedule(jnp.asarray(value, dtype))
        _check(js.constant(dtype(value)), theirs, _steps(100), dtype, f"constant({value})")


# -------------------------------------------------------------------- exponential
def _exponential_cases(rng):
    cases = [
        dict(init_value=0.1, transition_steps=100, decay_rate=0.96),
        dict(init_value=1.0, transition_steps=10, decay_rate=0.5, staircase=True),
        dict(init_value=1.0, transition_steps=10, decay_rate=0.5, transition_begin=25),
        dict(
            init_value=1.0,
            transition_steps=7,
            decay_rate=0.5,
            transition_begin=3,
            staircase=True,
            end_value=0.1,
        ),
        dict(init_value=0.01, transition_steps=5, decay_rate=1.5, end_value=0.2),
        dict(
            init_value=0.01,
            transition_steps=20,
            decay_rate=2.0,
            staircase=True,
            transition_begin=10,
            end_value=0.05,
        ),
    ]
    for _ in range(N_RANDOM):
        init = _lr(rng)
        growth = rng.random() < 0.3
        rate = rng.uniform(1.01, 2.0) if growth else rng.uniform(0.05, 0.99)
        end = None
        if rng.random() < 0.6:
            end = init * (rng.uniform(1.5, 10) if growth else rng.uniform(0.001, 0.5))
        cases.append(
            dict(
                init_value=init,
                transition_steps=int(rng.integers(1, 200)),
                decay_rate=float(rate),
                transition_begin=int(rng.integers(0, 100)) if rng.random() < 0.5 else 0,
                staircase=bool(rng.random() < 0.5),
                end_value=end,
            )
        )
    return cases


def test_exponential_decay(dtype):
    for kw in _exponential_cases(np.random.default_rng(1)):
        end = kw.get("end_value")
        init, rate = _f(dtype, kw["init_value"], kw["decay_rate"])
        ours = js.exponential(
            init_value=init,
            decay_steps=kw["transition_steps"],
            decay_rate=rate,
            staircase=kw.get("staircase", False),
            begin=kw.get("transition_begin", 0),
            end_value=None if end is None else dtype(end),
        )
        k, b = kw["transition_steps"], kw.get("transition_begin", 0)
        steps = _steps(b + 4 * k, b + k * np.arange(5))
        _check(ours, optax.exponential_decay(**kw), steps, dtype, str(kw))


# --------------------------------------------------------------------- polynomial
def _poly_cases(rng, linear: bool):
    cases = [
        dict(init_value=1.0, end_value=0.01, transition_steps=100, power=2.0),
        dict(init_value=1.0, end_value=0.01, transition_steps=100, power=2.0, transition_begin=5),
        dict(init_value=0.1, end_value=0.0, transition_steps=1, power=1.0),
        dict(init_value=0.01, end_value=0.1, transition_steps=50, power=0.5, transition_begin=20),
    ]
    for _ in range(N_RANDOM):
        init = _lr(rng)
        end = init * rng.uniform(0, 0.5) if rng.random() < 0.8 else init * rng.uniform(1, 5)
        cases.append(
            dict(
                init_value=init,
                end_value=float(end) if rng.random() < 0.8 else 0.0,
                transition_steps=int(rng.integers(1, 300)),
                power=float(rng.uniform(0.3, 3.0)),
                transition_begin=int(rng.integers(0, 100)) if rng.random() < 0.5 else 0,
            )
        )
    if linear:
        for kw in cases:
            kw.pop("power")
    return cases


@pytest.mark.parametrize("linear", [False, True], ids=["polynomial_schedule", "linear_schedule"])
def test_polynomial_and_linear(linear, dtype):
    for kw in _poly_cases(np.random.default_rng(2 + linear), linear):
        init, end = _f(dtype, kw["init_value"], kw["end_value"])
        k, b = kw["transition_steps"], kw.get("transition_begin", 0)
        if linear:
            ours = js.linear(init, end, decay_steps=k, begin=b)
            theirs = optax.linear_schedule(**kw)
        else:
            ours = js.poly(init, end, decay_steps=k, power=dtype(kw["power"]), begin=b)
            theirs = optax.polynomial_schedule(**kw)
        _check(ours, theirs, _steps((b + k) / 2, [b, b + k]), dtype, str(kw))


# ------------------------------------------------------------------------- cosine
def _cosine_cases(rng):
    cases = [
        dict(init_value=0.1, decay_steps=100),
        dict(init_value=0.1, decay_steps=1000, alpha=0.1),
        dict(init_value=1.0, decay_steps=30, alpha=0.05, exponent=2.0),
        dict(init_value=1.0, decay_steps=1, alpha=0.5, exponent=0.5),
    ]
    for _ in range(N_RANDOM):
        cases.append(
            dict(
                init_value=_lr(rng),
                decay_steps=int(rng.integers(1, 1000)),
                alpha=float(rng.uniform(0, 0.5)) if rng.random() < 0.7 else 0.0,
                exponent=float(rng.uniform(0.5, 3.0)) if rng.random() < 0.5 else 1.0,
            )
        )
    return cases


def test_cosine_decay_schedule(dtype):
    """``alpha`` is a fraction of ``init_value``: ``end_value = alpha * init_value``."""
    for kw in _cosine_cases(np.random.default_rng(3)):
        init, alpha = _f(dtype, kw["init_value"], kw.get("alpha", 0.0))
        ours = js.cosine(
            init,
            decay_steps=kw["decay_steps"],
            end_value=alpha * init,
            exponent=dtype(kw.get("exponent", 1.0)),
        )
        steps = _steps(kw["decay_steps"] / 2, [kw["decay_steps"]])
        _check(ours, optax.cosine_decay_schedule(**kw), steps, dtype, str(kw))


def _warmup_cosine_cases(rng):
    cases = [
        dict(init_value=0.0, peak_value=0.1, warmup_steps=10, decay_steps=100),
        dict(init_value=0.01, peak_value=1.0, warmup_steps=0, decay_steps=50, end_value=0.1),
        dict(init_value=0.0, peak_value=0.5, warmup_steps=30, decay_steps=31, exponent=2.0),
    ]
    for _ in range(N_RANDOM):
        peak = _lr(rng)
        warmup = int(rng.integers(0, 200))
        cases.append(
            dict(
                init_value=peak * rng.uniform(0, 0.5) if rng.random() < 0.5 else 0.0,
                peak_value=peak,
                warmup_steps=warmup,
                decay_steps=warmup + int(rng.integers(1, 800)),
                end_value=peak * rng.uniform(0, 0.3) if rng.random() < 0.7 else 0.0,
                exponent=float(rng.uniform(0.5, 3.0)) if rng.random() < 0.3 else 1.0,
            )
        )
    return cases


def test_warmup_cosine_decay_schedule(dtype):
    """optax's ``decay_steps`` includes the warmup: the cosine lasts
    ``decay_steps - warmup_steps``, and ``end_value`` is absolute."""
    for kw in _warmup_cosine_cases(np.random.default_rng(4)):
        init, peak, end = _f(dtype, kw["init_value"], kw["peak_value"], kw.get("end_value", 0.0))
        w, total = kw["warmup_steps"], kw["decay_steps"]
        cos = js.cosine(peak, total - w, end_value=end, exponent=dtype(kw.get("exponent", 1.0)))
        ours = js.warmup(cos, warmup_steps=w, init_value=init)
        steps = _steps(total / 2, [w, total])
        _check(ours, optax.warmup_cosine_decay_schedule(**kw), steps, dtype, str(kw))


# ------------------------------------------------------------- warmup + something
def test_warmup_constant_schedule(dtype):
    rng = np.random.default_rng(5)
    cases = [(0.0, 0.1, 10), (0.01, 1.0, 1), (0.5, 0.1, 20)]
    cases += [(_lr(rng) * rng.random(), _lr(rng), int(rng.integers(1, 300))) for _ in range(5)]
    for init, peak, w in cases:
        theirs = optax.warmup_constant_schedule(init, peak, w)
        init_, peak_ = _f(dtype, init, peak)
        steps = _steps(w, [w])
        _check(js.linear(init_, peak_, decay_steps=w), theirs, steps, dtype)
        ours = js.warmup(js.constant(peak_), warmup_steps=w, init_value=init_)
        _check(ours, theirs, steps, dtype, str((init, peak, w)))


def test_warmup_exponential_decay_schedule(dtype):
    rng = np.random.default_rng(6)
    for kw in _exponential_cases(rng)[: 3 + N_RANDOM // 2]:
        kw = dict(kw)
        kw["peak_value"] = kw.pop("init_value")
        kw["init_value"] = kw["peak_value"] * float(rng.uniform(0, 0.5))
        kw["warmup_steps"] = int(rng.integers(0, 100))
        init, peak, rate = _f(dtype, kw["init_value"], kw["peak_value"], kw["decay_rate"])
        end = kw.get("end_value")
        decay = js.exponential(
            init_value=peak,
            decay_steps=kw["transition_steps"],
            decay_rate=rate,
            staircase=kw.get("staircase", False),
            begin=kw.get("transition_begin", 0),
            end_value=None if end is None else dtype(end),
        )
        ours = js.warmup(decay, warmup_steps=kw["warmup_steps"], init_value=init)
        w, b, k = kw["warmup_steps"], kw.get("transition_begin", 0), kw["transition_steps"]
        steps = _steps(w + b + 4 * k, [w], w + b + k * np.arange(5))
        _check(ours, optax.warmup_exponential_decay_schedule(**kw), steps, dtype, str(kw))


# ---------------------------------------------------------------------- piecewise
def _piecewise_cases(rng):
    cases = [
        (1.0, {100: 0.1, 200: 0.01}),
        (0.5, {0: 0.5, 1: 2.0, 2: 0.1}),  # a boundary at 0 applies at step 0
        (0.1, {}),
    ]
    for _ in range(N_RANDOM):
        n = int(rng.integers(1, 6))
        bounds = np.sort(rng.choice(400, size=n, replace=False))
        scales = rng.uniform(0.05, 2.0, size=n)
        cases.append((_lr(rng), {int(b): float(s) for b, s in zip(bounds, scales, strict=True)}))
    return cases


def test_piecewise_constant_schedule(dtype):
    """optax scales at ``step >= boundary`` (``sign(b - step)`` is 0 there), as `piecewise`:
    ``values`` are the running products of the scales."""
    for init, table in _piecewise_cases(np.random.default_rng(7)):
        bounds = sorted(table)
        values = np.cumprod([init] + [table[b] for b in bounds])
        ours = js.piecewise(np.asarray(bounds, dtype), values.astype(dtype))
        theirs = optax.piecewise_constant_schedule(jnp.asarray(init, dtype), table)
        steps = _steps(max(bounds, default=10) / 2 + 2, bounds)
        _check(ours, theirs, steps, dtype, str((init, table)))


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_piecewise_interpolate_schedule(kind, dtype):
    """optax interpolates between the running products of the scales: a join of linear
    (or cosine) pieces, held at the last value after the last boundary."""
    rng = np.random.default_rng(8)
    cases = [(1.0, {4: 0.1, 8: 0.01}), (0.1, {1: 3.0}), (0.2, {10: 1.0, 11: 0.5, 40: 0.0})]
    for _ in range(N_RANDOM // 2):
        n = int(rng.integers(1, 5))
        bounds = np.sort(rng.choice(np.arange(1, 400), size=n, replace=False))
        scales = rng.uniform(0.05, 3.0, size=n)
        cases.append((_lr(rng), {int(b): float(s) for b, s in zip(bounds, scales, strict=True)}))
    for init, table in cases:
        bounds = sorted(table)
        values = np.cumprod([init] + [table[b] for b in bounds]).astype(dtype)
        starts = [0, *bounds]
        pieces = []
        for i in range(len(bounds)):
            a, b, length = values[i], values[i + 1], starts[i + 1] - starts[i]
            if kind == "linear":
                pieces.append(js.linear(a, b, decay_steps=length))
            else:
                pieces.append(js.cosine(a, decay_steps=length, end_value=b))
        ours = js.join([*pieces, js.constant(values[-1])], boundaries=bounds)
        theirs = optax.piecewise_interpolate_schedule(kind, jnp.asarray(init, dtype), table)
        _check(ours, theirs, _steps(bounds[-1] / 2 + 2, bounds), dtype, str((init, table)))


# --------------------------------------------------------------------------- join
def _random_piece(rng, dtype):
    """A random (optax schedule, our schedule) pair of one family."""
    init = _lr(rng)
    family = rng.integers(0, 5)
    if family == 0:
        return optax.constant_schedule(jnp.asarray(init, dtype)), js.constant(dtype(init))
    if family == 1:
        end, k = init * float(rng.uniform(0, 2)), int(rng.integers(1, 100))
        theirs = optax.linear_schedule(init, end, k)
        return theirs, js.linear(*_f(dtype, init, end), decay_steps=k)
    if family == 2:
        k, alpha = int(rng.integers(1, 100)), float(rng.uniform(0, 0.5))
        theirs = optax.cosine_decay_schedule(init, k, alpha)
        init_, alpha_ = _f(dtype, init, alpha)
        return theirs, js.cosine(init_, decay_steps=k, end_value=alpha_ * init_)
    if family == 3:
        k, rate = int(rng.integers(1, 50)), float(rng.uniform(0.1, 0.99))
        theirs = optax.exponential_decay(init, k, rate, staircase=bool(k % 2))
        return theirs, js.exponential(*_f(dtype, init), k, dtype(rate), staircase=bool(k % 2))
    w, k = int(rng.integers(0, 30)), int(rng.integers(1, 100))
    theirs = optax.warmup_cosine_decay_schedule(0.0, init, w, w + k)
    return theirs, js.warmup(js.cosine(dtype(init), k), warmup_steps=w)


def test_join_schedules(dtype):
    rng = np.random.default_rng(9)
    for _ in range(N_RANDOM):
        n = int(rng.integers(1, 5))
        pairs = [_random_piece(rng, dtype) for _ in range(n + 1)]
        bounds = np.cumsum(rng.integers(0, 120, size=n)).tolist()
        if len(set(bounds)) < n or (n and bounds[0] == 0):  # strictly increasing, after 0
            bounds = (np.arange(1, n + 1) * 37).tolist()
        theirs = optax.join_schedules([p[0] for p in pairs], bounds)
        ours = js.join([p[1] for p in pairs], boundaries=bounds)
        _check(ours, theirs, _steps(bounds[-1] / 2 + 40, bounds), dtype, str(bounds))


def test_sgdr_schedule(dtype):
    """``optax.sgdr_schedule`` with equal ``end_value``s, no warmup, and peaks and lengths
    growing geometrically is `cosine_restarts`, for as many periods as optax is given."""
    rng = np.random.default_rng(10)
    # first_decay_steps * t_mul**i stays whole for the 5 periods (16 * 1.5**4 = 81)
    cases = [(0.1, 10, 1.0, 1.0, 0.0), (1.0, 16, 1.5, 0.5, 0.01), (0.3, 13, 2.0, 0.8, 0.0)]
    cases += [
        (_lr(rng), 16 * int(rng.integers(1, 10)), float(rng.choice([1.0, 1.5, 2.0])),
         float(rng.uniform(0.3, 1.0)), 0.0)
        for _ in range(N_RANDOM // 2)
    ]  # fmt: skip
    for init, first, t_mul, m_mul, end in cases:
        end = end * init
        periods = 5
        kwargs = [
            dict(
                init_value=end + (init - end) * m_mul**i,
                peak_value=end + (init - end) * m_mul**i,
                warmup_steps=0,
                decay_steps=int(first * t_mul**i),
                end_value=end,
            )
            for i in range(periods)
        ]
        total = sum(kw["decay_steps"] for kw in kwargs)
        ours = js.cosine_restarts(*_f(dtype, init), first, *_f(dtype, t_mul, m_mul, end))
        theirs = optax.sgdr_schedule(kwargs)
        # After the last period optax holds end_value; ours restarts. Compare before it.
        steps = _steps(total / 3, np.cumsum([kw["decay_steps"] for kw in kwargs]))
        steps = np.where(steps < total, steps, total - 1).astype(np.int32)
        _check(ours, theirs, steps, dtype, str((init, first, t_mul, m_mul, end)))


# ---------------------------------------------------------------------- one-cycle
def _onecycle_cases(rng):
    """(total_steps, peak, pct_start, div, final_div) with ``pct_start * total`` whole."""
    cases = [(100, 1.0, 0.25, 25.0, 1e4), (150, 0.1, 0.3, 25.0, 1e4), (10, 0.5, 0.1, 10.0, 100.0)]
    while len(cases) < 3 + N_RANDOM:
        total = int(rng.integers(4, 800))
        rise = int(rng.integers(1, total // 2))
        pct = rise / total
        if int(pct * total) != rise or float(np.float32(pct) * np.float32(total)) != rise:
            continue  # optax uses int(pct * total); we use pct * total: keep them equal
        cases.append(
            (total, _lr(rng), pct, float(rng.uniform(2, 50)), float(10 ** rng.uniform(1, 4)))
        )
    return cases


def test_cosine_onecycle_schedule(dtype):
    for total, peak, pct, div, final_div in _onecycle_cases(np.random.default_rng(11)):
        theirs = optax.cosine_onecycle_schedule(total, peak, pct, div, final_div)
        ours = js.one_cycle(*_f(dtype, peak), total, *_f(dtype, pct, div, final_div))
        steps = _steps(total / 2, [pct * total, total])
        _check(ours, theirs, steps, dtype, str((total, peak, pct, div, final_div)))


def test_linear_onecycle_schedule(dtype):
    """optax's three linear phases with ``pct_final = 2 pct_start`` are our three-phase
    one-cycle with linear annealing."""
    for total, peak, pct, div, final_div in _onecycle_cases(np.random.default_rng(12)):
        theirs = optax.linear_onecycle_schedule(total, peak, pct, 2 * pct, div, final_div)
        ours = js.one_cycle(
            *_f(dtype, peak),
            total,
            *_f(dtype, pct, div, final_div),
            anneal="linear",
            three_phase=True,
        )
        steps = _steps(total / 2, [pct * total, 2 * pct * total, total])
        _check(ours, theirs, steps, dtype, str((total, peak, pct, div, final_div)))


# ----------------------------------------------------------------------- contract
def _quadratic_run(optimizer: optax.GradientTransformation, steps: int = 5) -> jax.Array:
    a = jnp.asarray([1.0, 0.5, 2.0, 0.1])
    params = {"w": jnp.asarray([1.0, -2.0, 3.0, 0.5]), "b": jnp.asarray(0.7)}

    def loss(p):
        return jnp.sum(a * p["w"] ** 2) + (p["b"] - 1.0) ** 2

    state = optimizer.init(params)
    for _ in range(steps):
        grads = jax.grad(loss)(params)
        updates, state = optimizer.update(grads, state, params)
        params = optax.apply_updates(params, updates)
    return params


@pytest.mark.parametrize(
    "make",
    [
        lambda lr: optax.sgd(lr),
        lambda lr: optax.sgd(lr, momentum=0.9, nesterov=True),
        lambda lr: optax.adam(lr),
        lambda lr: optax.adamw(lr, weight_decay=0.1),
    ],
    ids=["sgd", "sgd_nesterov", "adam", "adamw"],
)
@pytest.mark.parametrize("lr", [0.1, 3e-3])
def test_constant_schedule_equals_float_learning_rate(make, lr):
    got = _quadratic_run(make(js.constant(lr)))
    want = _quadratic_run(make(lr))
    jax.tree.map(lambda g, w: np.testing.assert_allclose(g, w, rtol=1e-6), got, want)
    moved = _quadratic_run(make(lr), steps=0)
    assert not np.allclose(got["w"], moved["w"])  # the run is not vacuous


@pytest.mark.parametrize("make", [optax.sgd, optax.adam], ids=["sgd", "adam"])
def test_schedule_in_optimizer_equals_optax_schedule(make):
    """Inside an optimizer (which counts with int32), ours drives updates like optax's own."""
    ours = js.warmup(js.cosine(0.1, decay_steps=6, end_value=0.01), warmup_steps=2)
    theirs = optax.warmup_cosine_decay_schedule(0.0, 0.1, 2, 8, end_value=0.01)
    got = _quadratic_run(make(ours), steps=10)
    want = _quadratic_run(make(theirs), steps=10)
    jax.tree.map(lambda g, w: np.testing.assert_allclose(g, w, rtol=1e-6), got, want)
