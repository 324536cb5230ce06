"""Closed-form values at hand-computed points: inside phases, exactly at boundaries, past the end."""

from __future__ import annotations

import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import f32

import jaxsched as js
from jaxsched.compat import keras as ks
from jaxsched.compat import torch as ts

pi, cos, sqrt = math.pi, math.cos, math.sqrt


def cases():
    """(schedule, {step: value computed by hand}); built on call, so x64 gives float64 leaves.

    A case's name is its factory's name in the registry, or that and ``_`` and what it
    shows (``linear_up``): test_completeness.py checks that every core factory has one.
    """
    return {
        "constant": (js.constant(0.3), {0: 0.3, 10**6: 0.3}),
        "step": (
            js.step(0.1, step_size=30, decay_rate=0.5),
            {0: 0.1, 29: 0.1, 30: 0.05, 89: 0.025, 90: 0.0125},
        ),
        "step_fractional_size": (
            js.step(1.0, step_size=2.5, decay_rate=0.5),
            {2: 1.0, 3: 0.5, 5: 0.25},
        ),
        "multistep": (
            js.multistep(1.0, [10, 25], 0.1),
            {0: 1.0, 9: 1.0, 10: 0.1, 24: 0.1, 25: 0.01, 10**5: 0.01},
        ),
        "multistep_at_zero": (js.multistep(1.0, [0, 4], 0.5), {0: 0.5, 3: 0.5, 4: 0.25}),
        "piecewise": (
            js.piecewise([10, 25], [3.0, 2.0, 1.0]),
            {0: 3.0, 9.5: 3.0, 10: 2.0, 25: 1.0, 99: 1.0},
        ),
        "piecewise_empty": (js.piecewise([], [7.0]), {0: 7.0, 100: 7.0}),
        "piecewise_interpolate": (
            js.piecewise_interpolate([0, 10, 30], [0.0, 1.0, 0.5]),
            {0: 0.0, 5: 0.5, 10: 1.0, 20: 0.75, 30: 0.5, 99: 0.5},
        ),
        "piecewise_interpolate_cos_jump": (
            # a point before step 0 starts part-way; the repeated 10 jumps to 2.0
            js.piecewise_interpolate([-10, 10, 10, 20], [0.0, 1.0, 2.0, 4.0], shape="cos"),
            {0: 0.5, 5: (1 + sqrt(0.5)) / 2, 10: 2.0, 15: 3.0, 20: 4.0, 100: 4.0},
        ),
        "exponential": (
            js.exponential(2.0, decay_steps=10, decay_rate=0.5),
            {0: 2.0, 5: 2.0 * 0.5**0.5, 10: 1.0, 25: 2.0 * 0.5**2.5},
        ),
        "exponential_staircase": (
            js.exponential(2.0, decay_steps=10, decay_rate=0.5, staircase=True),
            {9: 2.0, 10: 1.0, 19: 1.0, 20: 0.5},
        ),
        "exponential_begin_end": (
            js.exponential(1.0, decay_steps=10, decay_rate=0.1, begin=5, end_value=0.05),
            {0: 1.0, 5: 1.0, 10: 0.1**0.5, 15: 0.1, 30: 0.05},
        ),
        "exponential_growth_capped": (
            js.exponential(1.0, decay_steps=1, decay_rate=2.0, end_value=5.0),
            {0: 1.0, 2: 4.0, 3: 5.0, 100: 5.0},
        ),
        "inverse_time": (
            js.inverse_time(1.0, decay_steps=10, decay_rate=0.5),
            {0: 1.0, 10: 1 / 1.5, 15: 1 / 1.75, 40: 1 / 3.0},
        ),
        "inverse_time_staircase_power": (
            js.inverse_time(1.0, decay_steps=10, decay_rate=1.0, staircase=True, power=2.0),
            {9: 1.0, 10: 0.25, 29: 1 / 9, 30: 1 / 16},
        ),
        "poly": (
            js.poly(1.0, 0.1, decay_steps=10, power=2),
            {0: 1.0, 5: 0.1 + 0.9 * 0.25, 10: 0.1, 11: 0.1, 10**6: 0.1},
        ),
        "poly_begin": (
            js.poly(1.0, 0.0, decay_steps=10, begin=5),
            {0: 1.0, 5: 1.0, 10: 0.5, 15: 0.0},
        ),
        "poly_cycle": (
            # Keras's cycle: decay_steps * ceil(t / decay_steps)
            js.poly(1.0, 0.0, decay_steps=10, cycle=True),
            {0: 1.0, 5: 0.5, 10: 0.0, 11: 1 - 11 / 20, 20: 0.0, 25: 1 - 25 / 30},
        ),
        "linear_up": (js.linear(0.0, 1.0, decay_steps=4), {0: 0.0, 1: 0.25, 4: 1.0, 9: 1.0}),
        "cosine": (
            js.cosine(1.0, decay_steps=100, end_value=0.2),
            {0: 1.0, 25: 0.2 + 0.8 * (1 + cos(pi / 4)) / 2, 50: 0.6, 100: 0.2, 150: 0.2},
        ),
        "cosine_exponent": (
            js.cosine(1.0, decay_steps=100, exponent=2.0),
            {25: ((1 + cos(pi / 4)) / 2) ** 2, 50: 0.25},
        ),
        "cosine_near_end": (
            # float32 keeps full relative precision near the end (sin^2 form)
            js.cosine(1.0, decay_steps=1000),
            {999: (1 + cos(pi * 999 / 1000)) / 2, 998: (1 + cos(pi * 998 / 1000)) / 2},
        ),
        "one_cycle": (
            js.one_cycle(1.0, total_steps=100, pct_start=0.25, div_factor=10, final_div_factor=100),
            {
                0: 0.1,
                12.5: 0.1 + 0.9 * 0.5,
                25: 1.0,
                62.5: 0.001 + (1.0 - 0.001) * 0.5,
                100: 0.001,
                500: 0.001,
            },
        ),
        "one_cycle_linear_three_phase": (
            js.one_cycle(
                1.0,
                total_steps=100,
                pct_start=0.25,
                div_factor=10,
                final_div_factor=100,
                anneal="linear",
                three_phase=True,
            ),
            {
                0: 0.1,
                10: 0.1 + 0.9 * 0.4,
                25: 1.0,
                40: 1.0 - 0.9 * 0.6,
                50: 0.1,
                75: 0.1 - 0.099 * 0.5,
                100: 0.001,
            },
        ),
        "cyclic_triangular": (
            js.cyclic(0.1, 1.0, step_size_up=10, step_size_down=5),
            {0: 0.1, 5: 0.55, 10: 1.0, 12: 0.1 + 0.9 * 0.6, 15: 0.1, 20: 0.55},
        ),
        "cyclic_triangular2": (
            js.cyclic(0.0, 1.0, step_size_up=10, mode="triangular2"),
            {10: 1.0, 30: 0.5, 50: 0.25, 45: 0.125},
        ),
        "cyclic_exp_range": (
            js.cyclic(0.0, 1.0, step_size_up=10, mode="exp_range", gamma=0.9),
            {5: 0.5 * 0.9**5, 10: 0.9**10, 30: 0.9**30},
        ),
        "cosine_restarts": (
            js.cosine_restarts(1.0, first_decay_steps=10, t_mul=2.0, m_mul=0.5, end_value=0.1),
            {
                0: 1.0,
                5: 0.55,
                9: 0.1 + 0.9 * (1 + cos(0.9 * pi)) / 2,
                10: 0.55,
                20: 0.325,
                30: 0.325,
                70: 0.2125,
            },
        ),
        "cosine_restarts_equal_periods": (
            js.cosine_restarts(1.0, first_decay_steps=10, t_mul=1.0),
            {0: 1.0, 5: 0.5, 10: 1.0, 15: 0.5, 1000: 1.0},
        ),
        "cosine_restarts_fractional_t_mul": (
            # periods 10, 15, 22.5: restarts at 10 and 25
            js.cosine_restarts(1.0, first_decay_steps=10, t_mul=1.5),
            {10: 1.0, 17.5: 0.5, 25: 1.0, 36.25: 0.5},
        ),
        "restarts": (
            js.restarts(1.0, cycle_steps=10, cycle_limit=2, cycle_decay=0.5),
            {
                0: 1.0,
                2.5: (1 + cos(pi / 4)) / 2,
                5: 0.5,
                10: 0.5,
                12.5: 0.5 * (1 + cos(pi / 4)) / 2,
                15: 0.25,
                20: 0.0,
                100: 0.0,
            },
        ),
        "restarts_tanh_growing": (
            # cycles of 10, 20, 40 steps; weight (1 - tanh(-2 q + 2 p)) / 2
            js.restarts(
                1.0,
                10,
                end_value=0.1,
                cycle_limit=3,
                cycle_mul=2.0,
                lower=-2.0,
                upper=2.0,
                shape="tanh",
            ),
            {0: 0.1 + 0.9 / (1 + math.exp(-4)), 5: 0.55, 20: 0.55, 50: 0.55, 70: 0.1, 500: 0.1},
        ),
        "restarts_poly_k_decay": (
            # (1 - p**2)**2 with p = t / 10
            js.restarts(1.0, cycle_steps=10, power=2.0, k_decay=2.0, shape="poly"),
            {0: 1.0, 5: 0.75**2, 8: 0.36**2, 10: 0.0, 30: 0.0},
        ),
        "wsd": (
            js.wsd(1.0, total_steps=100, warmup_steps=10, decay_steps=20, end_value=0.1),
            {
                0: 0.0,
                5: 0.5,
                10: 1.0,
                80: 1.0,
                85: 0.1 + 0.9 * (1 - sqrt(0.25)),
                100: 0.1,
                200: 0.1,
            },
        ),
        "wsd_linear": (
            js.wsd(1.0, 100, warmup_steps=0, decay_steps=50, decay_shape="linear"),
            {0: 1.0, 50: 1.0, 75: 0.5, 100: 0.0},
        ),
        "wsd_cosine": (
            js.wsd(1.0, 100, 0, 50, decay_shape="cosine"),
            {75: 0.5, 60: (1 + cos(pi / 5)) / 2},
        ),
        "inverse_sqrt": (
            js.inverse_sqrt(1.0, warmup_steps=16),
            {0: 0.0, 8: 0.5, 16: 1.0, 64: 0.5, 256: 0.25},
        ),
        "inverse_sqrt_no_warmup": (js.inverse_sqrt(1.0, warmup_steps=0), {0: 1.0, 1: 1.0, 4: 0.5}),
        "rex": (
            js.rex(1.0, decay_steps=100, end_value=0.1),
            {0: 1.0, 50: 0.1 + 0.9 * 0.5 / 0.75, 100: 0.1, 101: 0.1},
        ),
        "warmup": (
            js.warmup(js.cosine(1.0, decay_steps=100), warmup_steps=10, init_value=0.2),
            {0: 0.2, 5: 0.6, 10: 1.0, 60: 0.5, 110: 0.0},
        ),
        "join": (
            js.join([js.constant(0.5), js.linear(1.0, 0.0, 10), js.constant(0.1)], [5, 20]),
            {0: 0.5, 4: 0.5, 5: 1.0, 10: 0.5, 19: 0.0, 20: 0.1},
        ),
        "switch": (
            js.switch([js.constant(0.1), js.cosine(1.0, decay_steps=10)], index=1),
            {0: 1.0, 5: 0.5, 10: 0.0, 20: 0.0},
        ),
        "torch_cosine_annealing_rises_again": (
            ts.CosineAnnealingLR(1.0, T_max=10, eta_min=0.1),
            {0: 1.0, 5: 0.55, 10: 0.1, 15: 0.55, 20: 1.0, 25: 0.55},
        ),
        "torch_one_cycle_phase_ends_early": (
            # phases end at 0.3 * 20 - 1 = 5 and 19; at step 20 the cosine is extrapolated
            ts.OneCycleLR(max_lr=1.0, total_steps=20),
            {
                0: 0.04,
                5: 1.0,
                19: 0.04 / 1e4,
                20: 0.04 / 1e4 + (1 - 0.04 / 1e4) * (1 + cos(pi * 15 / 14)) / 2,
            },
        ),
        "torch_constant_lr": (
            ts.ConstantLR(0.3, factor=0.5, total_iters=4),
            {0: 0.15, 3: 0.15, 4: 0.3},
        ),
        "keras_piecewise_switches_after": (
            ks.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1]),
            {10: 1.0, 10.5: 0.5, 11: 0.5, 20: 0.5, 21: 0.1},
        ),
        "keras_cosine_warmup": (
            ks.CosineDecay(0.0, decay_steps=100, alpha=0.1, warmup_target=1.0, warmup_steps=10),
            {0: 0.0, 5: 0.5, 10: 1.0, 60: 0.1 + 0.9 * 0.5, 110: 0.1},
        ),
    }


NAMES = list(cases())


@pytest.mark.parametrize("name", NAMES)
def test_closed_form_values(name):
    schedule, expected = cases()[name]
    steps = np.array(list(expected), dtype=np.float32)
    want = np.array(list(expected.values()))
    np.testing.assert_allclose(schedule(steps), want, rtol=2e-6, atol=1e-7)
    # Integer steps (optax's count) give the same values.
    whole = steps == np.round(steps)
    ints = jnp.asarray(steps[whole], dtype=jnp.int32)
    np.testing.assert_allclose(schedule(ints), want[whole], rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("name", NAMES)
def test_float64_inputs_give_float64_results(name, x64):
    schedule, expected = cases()[name]
    steps = np.array(list(expected), dtype=np.float64)
    out = schedule(steps)
    assert out.dtype == jnp.float64
    np.testing.assert_allclose(out, np.array(list(expected.values())), rtol=1e-12, atol=1e-15)


def test_factories_take_float64_under_x64(x64):
    s = js.poly(0.1, 0.0, decay_steps=1000, power=2)
    assert s.init_value.dtype == jnp.float64
    assert s(jnp.int32(500)).dtype == jnp.float64
    assert float(s(500)) == 0.025


def test_negative_step_is_step_zero_and_nan_step_is_nan():
    s = js.warmup(js.cosine(1.0, decay_steps=10), warmup_steps=5, init_value=0.3)
    assert float(s(-7)) == float(s(0)) == pytest.approx(0.3)
    assert float(s(-7.5)) == pytest.approx(0.3)
    assert math.isnan(float(s(float("nan"))))


def test_step_shape_broadcasts_against_batch():
    batch = js.grid(js.constant, value=[1.0, 2.0])
    assert batch(3).shape == (2,)
    assert js.constant(1.0)(jnp.arange(6).reshape(2, 3)).shape == (2, 3)


@pytest.mark.parametrize("step", [65535, 65536, 65546, 65636, 131072 + 3, 2**31 - 1])
def test_offsets_across_the_exact_split(step):
    """`begin` and warmups shift the step; periods stay exact where hi/lo parts cross."""
    s = js.exponential(1.0, decay_steps=7, decay_rate=0.999, staircase=True, begin=100)
    want = float(np.float32(0.999)) ** ((step - 100) // 7)  # the rate as stored
    np.testing.assert_allclose(s(jnp.int32(step)), want, rtol=1e-5)
    w = js.warmup(js.cosine_restarts(1.0, first_decay_steps=10, t_mul=1.0), warmup_steps=105)
    position = (step - 105) % 10
    np.testing.assert_allclose(
        w(jnp.int32(step)), (1 + cos(pi * position / 10)) / 2, rtol=1e-5, atol=1e-7
    )


def _restarts_exactly(first: int, t_mul: int, t: int) -> float:
    """(1 + cos(pi position / period)) / 2 for periods first * t_mul**i, in Python ints."""
    begin, length = 0, first
    while t >= begin + length:
        begin, length = begin + length, length * t_mul
    return (1 + cos(pi * (t - begin) / length)) / 2


@pytest.mark.parametrize(
    ("first", "t_mul", "step"),
    [
        (1000, 10, 2_111_111_000),  # in a period of 10**10 steps, longer than int32 holds
        (1000, 10, 1_611_111_000),
        (7, 3, 2**31 - 1),
        (2**31, 2, 2**31 - 1),  # the first period itself is too long
        (3_000_000_000, 2, 1_234_567_890),
        (1000, 10, 1_111_111_000),  # a restart
    ],
)
def test_restart_periods_longer_than_int32_holds(first, t_mul, step):
    want = _restarts_exactly(first, t_mul, step)
    for s in (
        ts.CosineAnnealingWarmRestarts(1.0, T_0=first, T_mult=t_mul),
        ks.CosineDecayRestarts(1.0, first, t_mul=float(t_mul)),
    ):
        np.testing.assert_allclose(float(s(jnp.int32(step))), want, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize("anneal", ["linear", "cos"])
def test_one_cycle_last_steps_at_2_to_the_24(three_phase, anneal):
    # A fractional phase start (pct_start * total) must not round the steps left: at
    # 2**24 the difference (total - start) - (t - start) is off by a whole step in float32.
    total, pct = 2**24, 0.041462526
    s = js.one_cycle(1.0, total, pct_start=pct, div_factor=1.0, final_div_factor=155.0,
                     three_phase=three_phase, anneal=anneal)  # fmt: skip
    steps = np.array([total - 9, total - 7, total - 2, total - 1, total], dtype=np.int32)
    rise = float(np.float32(pct)) * total
    start = 2 * rise if three_phase else rise
    q = (total - steps.astype(np.float64)) / (total - start)
    fall = q if anneal == "linear" else np.sin(0.5 * np.pi * q) ** 2
    want = 1 / 155 + (1 - 1 / 155) * fall  # from peak (= peak / div_factor) to peak / 155
    np.testing.assert_allclose(np.asarray(s(steps), np.float64), want, rtol=1e-6)


LONG = 2**30
FINAL = float(np.float32(1e-4))
NEAR_THE_END = np.array([LONG - 3 * 2**20 + 5, LONG - 65537, LONG - 100, LONG - 1], np.int32)


@pytest.mark.parametrize(
    ("schedule", "want"),
    [
        (js.poly(1.0, 0.0, LONG, power=2.0), lambda q: q**2),
        (js.linear(1.0, 0.0, LONG), lambda q: q),
        (js.rex(1.0, LONG), lambda q: q / (0.5 + 0.5 * q)),
        (js.cosine(1.0, LONG), lambda q: np.sin(0.5 * np.pi * q) ** 2),
        (js.wsd(1.0, LONG, 10, LONG // 2, decay_shape="linear"), lambda q: 2 * q),
        (
            js.one_cycle(1.0, LONG, 0.25, div_factor=1.0, final_div_factor=1e4, anneal="linear"),
            lambda q: FINAL + (1 - FINAL) * q / 0.75,
        ),
        (ts.PolynomialLR(1.0, total_iters=LONG, power=0.5), np.sqrt),
        (ts.LinearLR(1.0, start_factor=1.0, end_factor=0.0, total_iters=LONG), lambda q: q),
        (  # PyTorch's last phase ends at T - 1
            ts.OneCycleLR(
                max_lr=1.0,
                total_steps=LONG,
                pct_start=0.25,
                div_factor=1.0,
                final_div_factor=1e4,
                anneal_strategy="linear",
            ),
            lambda q: FINAL + (1 - FINAL) * (q - 1 / LONG) / 0.75,
        ),
    ],
)
def test_phases_longer_than_float32_holds_keep_their_digits_to_the_end(schedule, want):
    """The steps left, not the step, decide a value near a phase's end: they are
    computed from the step's exact parts (a float32 step near 2**30 is 64 steps off,
    which made a decay of 2**30 steps 28% off 100 steps before its end)."""
    q = (LONG - NEAR_THE_END.astype(np.float64)) / LONG
    np.testing.assert_allclose(np.asarray(schedule(NEAR_THE_END), np.float64), want(q), rtol=1e-5)


@pytest.mark.parametrize(
    ("schedule", "step", "want"),
    [
        (js.join([js.constant(1.0), js.constant(2.0)], boundaries=[2**30]), 2**30 - 1, 1.0),
        (js.join([js.constant(1.0), js.constant(2.0)], boundaries=[2**24 + 4]), 2**24 + 3, 1.0),
        (js.join([js.constant(1.0), js.linear(0.0, 1000.0, 1000)], [2**30]), 2**30 + 10, 10.0),
        (js.exponential(1.0, 1.0, 0.5, begin=2**30), 2**30 + 3, 0.125),
        (js.poly(1.0, 0.0, 1000, begin=2**30), 2**30 + 10, 0.99),
        (js.warmup(js.linear(1.0, 0.0, 1000), 2**30), 2**30 + 10, 0.99),
        (js.warmup(js.linear(1.0, 0.0, 1000), 2**30), 2**30 - 64, 1.0 - 2**-24),
    ],
)
def test_offsets_and_switches_above_2_to_the_24_are_exact(schedule, step, want):
    """`join`'s boundaries, `begin` and `warmup_steps` shift the step and switch at it
    exactly, as periods do (they were compared with, and subtracted from, the step
    rounded to float32: 64 steps apart near 2**30)."""
    np.testing.assert_allclose(float(schedule(jnp.int32(step))), want, rtol=1e-6)


def test_wsd_1_sqrt_cooldown_near_its_end():
    # 1 - sqrt(p) is computed as q / (1 + sqrt(p)), q = steps left / decay_steps, exactly.
    s = js.wsd(1.0, total_steps=2**24, warmup_steps=10, decay_steps=2**23)
    steps = np.array([2**24 - 1000, 2**24 - 5, 2**24 - 1], dtype=np.int32)
    q = (2**24 - steps.astype(np.float64)) / 2**23
    np.testing.assert_allclose(np.asarray(s(steps), np.float64), 1 - np.sqrt(1 - q), rtol=1e-6)


@pytest.mark.parametrize(
    "schedule, step, want",
    [
        # rate ** n alone overflows float32 (5.8e38); the value itself (2.9e38) does not.
        (js.step(0.5, step_size=18, decay_rate=1.875), 2556, 0.5 * f32(1.875) ** 142),
        (
            js.multistep(1e-3, boundaries=list(range(1, 136)), decay_rate=2.0),
            135,
            f32(1e-3) * 2.0**135,
        ),
        (js.exponential(1e-4, decay_steps=2, decay_rate=10.0), 84, f32(1e-4) * 1e42),
        # ... and rate ** n alone underflows (1e-50) where the value (1e-20) does not.
        (js.exponential(1e30, decay_steps=1, decay_rate=0.1), 50, f32(1e30) * f32(0.1) ** 50),
        (js.cosine_restarts(1e30, 10, t_mul=1.0, m_mul=0.1), 500, f32(1e30) * f32(0.1) ** 50),
        (ts.MultiStepLR(0.5, milestones=[1] * 142, gamma=1.875), 1, 0.5 * f32(1.875) ** 142),
    ],
    ids=[
        "step",
        "multistep",
        "exponential",
        "exponential-underflow",
        "restarts",
        "torch-multistep",
    ],
)
def test_growth_and_decay_factors_stay_in_range_where_the_value_does(schedule, step, want):
    got = float(schedule(jnp.int32(step)))
    assert math.isfinite(got) and got > 0
    assert got == pytest.approx(want, rel=1e-5)


def test_zero_rate_times_an_overflowing_factor_is_zero():
    assert float(js.step(0.0, step_size=1, decay_rate=3.0)(10**6)) == 0.0
    assert float(js.exponential(0.0, decay_steps=1, decay_rate=3.0)(10**6)) == 0.0


@pytest.mark.parametrize(
    "make",
    [
        lambda n: ts.LinearLR(0.1, start_factor=0.25, total_iters=n),
        lambda n: ts.ConstantLR(0.1, factor=0.5, total_iters=n),
        lambda n: ts.PolynomialLR(0.1, total_iters=n, power=2.0),
    ],
    ids=["LinearLR", "ConstantLR", "PolynomialLR"],
)
def test_total_iters_of_zero_is_the_same_traced_batched_or_concrete(make):
    # PyTorch holds the starting rate for good when total_iters is 0.
    counts, steps = [0, 5], jnp.arange(8)
    concrete = np.stack([make(n)(steps) for n in counts])
    traced = jax.vmap(lambda n: make(n)(steps))(jnp.asarray(counts, jnp.float32))
    batched = make(np.asarray(counts))(steps[:, None]).T
    listed = make(counts)(steps[:, None]).T
    np.testing.assert_array_equal(traced, concrete)
    np.testing.assert_array_equal(batched, concrete)
    np.testing.assert_array_equal(listed, concrete)
    assert len(set(np.asarray(concrete[0]).tolist())) == 1  # 0: constant


@pytest.mark.parametrize(
    "call",
    [
        lambda: ts.StepLR(0.1, step_size=np.int64(2**32 + 5)),
        lambda: ts.MultiStepLR(0.1, milestones=np.array([2**32 + 5])),
    ],
)
def test_int64_arguments_do_not_wrap_around(call):
    # 2**32 + 5 must not become 5 in int32: not a single decay before step 2**31.
    with warnings.catch_warnings():  # a period or milestone float32 rounds to 2**32 says so
        warnings.filterwarnings("ignore", ".* cannot hold", UserWarning)
        schedule = call()
    np.testing.assert_allclose(schedule(jnp.int32(2**31 - 1)), 0.1, rtol=1e-6)


def test_int64_steps_do_not_wrap_around():
    s = ts.StepLR(0.1, step_size=10, gamma=0.5)
    assert float(s(np.int64(2**31 + 5))) == 0.0  # not step -2**31 + 5, clamped to 0
    assert float(s(2**31 + 5)) == 0.0  # a Python int too


@pytest.mark.parametrize("boundary", [20_000_000, 2**30 + 2**7, 2**31 - 2**7])
def test_boundaries_above_2_to_the_24_switch_at_the_exact_step(boundary):
    # float32(boundary - 1) == boundary: the step must be compared unrounded.
    steps = jnp.asarray([boundary - 1, boundary, boundary + 1], jnp.int32)
    np.testing.assert_allclose(ts.MultiStepLR(0.1, milestones=[boundary])(steps), [0.1, 0.01, 0.01])
    np.testing.assert_allclose(ts.ConstantLR(0.1, 0.5, boundary)(steps), [0.05, 0.1, 0.1])
    keras = ks.PiecewiseConstantDecay([boundary], [1.0, 0.5])  # switches at step > boundary
    np.testing.assert_array_equal(keras(steps), [1.0, 1.0, 0.5])


def test_keras_piecewise_takes_negative_and_repeated_boundaries_like_keras():
    np.testing.assert_allclose(
        ks.PiecewiseConstantDecay([-5, 10], [1.0, 0.5, 0.1])(jnp.array([0, 10, 11])),
        [0.5, 0.5, 0.1],
    )
    np.testing.assert_array_equal(
        ks.PiecewiseConstantDecay([5, 5], [1.0, 2.0, 3.0])(jnp.arange(4, 7)), [1.0, 1.0, 3.0]
    )
    with pytest.raises(ValueError, match="boundaries must be non-decreasing, got 5 after 10"):
        ks.PiecewiseConstantDecay([10, 5], [1.0, 2.0, 3.0])


def test_lists_holding_tracers_are_taken_as_arrays():
    # Host conversion (for int64 arguments) must leave lists of traced values to JAX.
    got = jax.vmap(lambda b: js.multistep(1.0, [b, b + 1], 0.5)(3))(jnp.array([1.0, 5.0]))
    np.testing.assert_array_equal(got, [0.25, 1.0])
    steps = jax.jit(lambda t: js.constant(2.0)([t, t + 1]))(3)
    np.testing.assert_array_equal(steps, [2.0, 2.0])


def test_values_that_only_convert_through_jax_array_are_taken():
    class Rate:
        def __jax_array__(self):
            return jnp.array(0.25)

    assert float(js.constant(Rate())(3)) == 0.25


def test_a_decimal_period_switches_where_its_multiples_are():
    """``decay_steps=1.1`` is ``1.10000002`` in float32: step 11 is 9.9999998 periods,
    which Keras and optax round to 10 (the exact floor is 9). A quotient within half an
    ulp of a whole number counts as it, so decimal periods switch where they are meant."""
    expo = ks.ExponentialDecay(1.0, decay_steps=1.1, decay_rate=0.5, staircase=True)
    assert [float(expo(t)) for t in (10, 11)] == [0.5**9, 0.5**10]
    inv = ks.InverseTimeDecay(1.0, decay_steps=36.04, decay_rate=1.0, staircase=True)
    np.testing.assert_allclose([float(inv(t)) for t in (900, 901)], [1 / 25, 1 / 26])
    assert float(js.step(1.0, step_size=0.1, decay_rate=0.5)(1)) == 0.5**10
    # with cycle, step 11 ends the tenth cycle (the end value) instead of starting an 11th
    assert float(js.poly(1.0, 0.25, decay_steps=1.1, cycle=True)(11)) == 0.25
    cos = js.cosine_restarts(1.0, first_decay_steps=1.1, t_mul=1.0)
    assert float(cos(11)) == 1.0  # a restart, not the end of a period


@pytest.mark.parametrize("first", [10**6, 5_382_428, 2**24 - 3])
@pytest.mark.parametrize("t_mul", [1.5, 1.771897010895114, 0.75])
def test_a_long_first_period_restarts_at_its_end_not_a_step_before(first, t_mul):
    make = js.cosine_restarts if t_mul >= 1 else ks.CosineDecayRestarts  # shrinking: Keras's
    s = make(1.0, first_decay_steps=first, t_mul=t_mul)
    before, at = (float(v) for v in s(jnp.asarray([first - 1, first], jnp.int32)))
    assert before < 1e-9 and at == 1.0
