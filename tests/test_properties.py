"""Property tests (hypothesis) for every schedule family, one value at a time.

Equal to an exact float64 reference at int32 steps up to 2**31 - 1 (docs/design.md,
"Steps"), monotone where the formula is, inside its documented bounds, and
continuous at the phase joins where the formula is. The schedules are drawn by
tests/draws.py; tests/test_properties_batches.py holds the rest (finite values,
NaN and negative steps, batches, round trips).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from conftest import f32
from draws import (
    INT_MAX,
    LENGTH,
    MODES,
    PROPS,
    RATE,
    REFERENCE_FAMILIES,
    VALUE,
    VALUE0,
    any_order,
    assert_close,
    boundaries,
    build,
    draw_one_cycle,
    draw_wsd,
    evaluate,
    floats32,
    offsets,
    ordered,
    pad,
    quarters,
)
from hypothesis import assume, given
from hypothesis import strategies as st
from reference import fr, hp, reference_values, restart_period

import jaxsched as js
from jaxsched.compat import torch as ts

#: Every test here runs in the default float32, whatever ran before.
pytestmark = pytest.mark.usefixtures("float32")

# ------------------------------------------------- exact float64 reference


@pytest.mark.parametrize("family", REFERENCE_FAMILIES)
@PROPS
@given(data=st.data())
def test_matches_reference(family, data):
    """float32 values equal the exact float64 formula to 1e-5 at int and float steps."""
    s = build(family, data.draw, precise=True)
    ints = pad(data.draw(st.lists(st.integers(0, 3000), min_size=1, max_size=32)), 32, np.int32)
    floats = pad(
        data.draw(st.lists(floats32(0.0, 3000.0), min_size=1, max_size=32)), 32, np.float32
    )
    for steps in (ints, floats):
        assert_close(evaluate(s, steps), reference_values(s, steps), steps, repr(s))


# ------------------------------------------------------------ huge steps
# Phase lengths, periods and offsets up to 2**24 (a float32 holds every whole step below):
# longer ones lose the last steps of a phase (see test_long_phases).
HUGE_LENGTH = st.one_of(st.integers(1, 2**16), floats32(0.5, 1e4), st.integers(2**16, 2**24))
WHOLE_LENGTH = st.one_of(st.integers(1, 2**16), st.integers(2**16, 2**24))
#: Whole offsets only: a fractional one makes the position in a period longer than 2**22
#: unrepresentable (see test_fractional_offset).
OFFSET = st.one_of(st.just(0), st.integers(0, 2**24))
QUARTERS = st.integers(2, 4 * 10**4).map(lambda n: n / 4)  # fractional steps
HUGE_STEPS = [INT_MAX, INT_MAX - 1, INT_MAX - 999, 2**30 + 7]


def near_one(draw, period: float) -> float:
    """A float32 factor whose power over the ~2**31 / period decays near 2**31 stays in range."""
    j = draw(st.integers(0, min(2**23, int(0.3 * period))))
    return f32(1 - j * 2.0**-24)


def around(*points) -> list[int]:
    """Whole steps at and next to each point, kept in [0, 2**31 - 1]."""
    out = []
    for p in points:
        p = Fraction(p)
        for x in (math.floor(p) - 1, math.floor(p), math.ceil(p), math.floor(p) + 1):
            if 0 <= x <= INT_MAX:
                out.append(x)
    return out


def last_multiple(period: Fraction, offset: Fraction = Fraction(0)) -> Fraction:
    """The last ``offset + n * period`` at or below 2**31 - 1."""
    return offset + math.floor((INT_MAX - offset) / period) * period


def last_restart(s: js.Schedule) -> Fraction:
    first, m = fr(s, "first_decay_steps"), fr(s, "t_mul")
    _, pos, _ = restart_period(Fraction(INT_MAX), first, m)
    return Fraction(INT_MAX) - pos


def build_huge(family: str, draw) -> tuple[js.Schedule, list[int]]:
    """A schedule whose shape still matters near 2**31, and the steps most at risk there."""
    if family == "step":
        k = draw(HUGE_LENGTH)
        s = js.step(draw(VALUE), k, near_one(draw, f32(k)))
        return s, around(last_multiple(fr(s, "step_size")))
    if family in ("exponential", "exponential_staircase"):
        k = draw(HUGE_LENGTH)
        begin = draw(OFFSET)
        s = js.exponential(
            draw(VALUE), k, near_one(draw, f32(k)), family == "exponential_staircase", begin
        )
        return s, around(last_multiple(fr(s, "decay_steps"), fr(s, "begin")))
    if family == "inverse_time":
        s = js.inverse_time(
            draw(VALUE),
            draw(HUGE_LENGTH),
            draw(floats32(0.0, 10.0)),
            draw(st.booleans()),
            draw(floats32(0.0, 3.0)),
        )
        return s, around(last_multiple(fr(s, "decay_steps")))
    if family == "poly_cycle":
        a, b = any_order(draw)
        s = js.poly(a, b, draw(HUGE_LENGTH), draw(floats32(0.5, 3.0)), draw(OFFSET), cycle=True)
        return s, around(last_multiple(fr(s, "decay_steps"), fr(s, "begin")))
    if family in ("poly", "linear", "cosine", "rex"):
        a, b = ordered(draw)
        k = draw(HUGE_LENGTH)
        s = {
            "poly": lambda: js.poly(a, b, k, draw(floats32(0.5, 3.0))),
            "linear": lambda: js.linear(a, b, k),
            "cosine": lambda: js.cosine(a, k, b, draw(floats32(0.5, 3.0))),
            "rex": lambda: js.rex(a, k, b),
        }[family]()
        k = fr(s, "decay_steps")
        return s, around(k, k - 7, k - 1000, k / 2)
    if family == "cyclic":
        a, b = ordered(draw)
        lengths = st.one_of(st.integers(1, 2**16), st.integers(2**16, 2**23), QUARTERS)
        up = draw(lengths)
        down = draw(st.one_of(st.none(), st.just(0), lengths))
        mode = draw(MODES)
        gamma = draw(st.sampled_from([1.0, f32(1 - 2.0**-24), f32(1 - 2.0**-23)]))
        s = js.cyclic(b, a, up, down, mode, gamma)
        period = fr(s, "step_size_up") + fr(s, "step_size_down")
        # The documented domain: a period float32 holds (a quarter step above 2**22 does not;
        # the position in the cycle then drifts by the period's rounding each cycle).
        assume(Fraction(float(np.float32(period))) == period)
        top = last_multiple(period, fr(s, "step_size_up"))
        return s, around(last_multiple(period), top if top >= 0 else 0)
    if family == "cosine_restarts_t1":
        a, b = ordered(draw)
        first = draw(HUGE_LENGTH)
        s = js.cosine_restarts(a, first, 1.0, near_one(draw, f32(first)), b)
        return s, around(last_restart(s))
    if family == "cosine_restarts_t2":
        a, b = ordered(draw)
        s = js.cosine_restarts(a, draw(WHOLE_LENGTH), 2.0, draw(floats32(0.5, 1.0)), b)
        return s, around(last_restart(s))
    if family == "torch.CosineAnnealingLR":
        lr, low = ordered(draw)
        T_max = draw(st.one_of(st.integers(1, 2**23), floats32(0.5, 1e4)))  # period 2 T <= 2**24
        s = ts.CosineAnnealingLR(lr, T_max=T_max, eta_min=low)
        T = fr(s, "T_max")
        return s, around(last_multiple(2 * T), last_multiple(2 * T, T))
    if family == "torch.CosineAnnealingWarmRestarts":
        lr, low = ordered(draw)
        s = ts.CosineAnnealingWarmRestarts(
            lr, T_0=draw(WHOLE_LENGTH), T_mult=draw(st.sampled_from([1, 2])), eta_min=low
        )
        return s, around(last_restart(s))
    if family == "inverse_sqrt":
        s = js.inverse_sqrt(draw(VALUE), draw(st.one_of(HUGE_LENGTH, st.integers(0, INT_MAX))))
        return s, around(fr(s, "warmup_steps"))
    if family == "wsd":
        s = draw_wsd(draw, st.integers(1, 2**24), st.sampled_from(["linear", "cosine"]))
        T, k = fr(s, "total_steps"), fr(s, "decay_steps")
        return s, around(T, T - 7, T - k, T - k / 2, fr(s, "warmup_steps"))
    if family == "one_cycle":
        s = draw_one_cycle(draw, total=HUGE_LENGTH, min_div=1.0)
        T, rise = fr(s, "total_steps"), fr(s, "pct_start") * fr(s, "total_steps")
        return s, around(T, T - 7, rise, 2 * rise)
    raise NotImplementedError(family)


HUGE = [
    "step",
    "exponential_staircase",
    "exponential",
    "inverse_time",
    "poly_cycle",
    "cyclic",
    "cosine_restarts_t1",
    "cosine_restarts_t2",
    "torch.CosineAnnealingLR",
    "torch.CosineAnnealingWarmRestarts",
    "poly",
    "linear",
    "cosine",
    "rex",
    "inverse_sqrt",
    "wsd",
    "one_cycle",
]


@pytest.mark.parametrize("family", HUGE)
@PROPS
@given(data=st.data())
def test_huge_int32_steps(family, data):
    """At int32 steps near 2**31 - 1, float32 values equal the exact float64 formula to 1e-5."""
    s, extra = build_huge(family, data.draw)
    randoms = data.draw(st.lists(st.integers(2**24, INT_MAX), min_size=4, max_size=4))
    steps = pad(HUGE_STEPS + randoms + extra[:8], 16, np.int32)
    assert_close(evaluate(s, steps), reference_values(s, steps), steps, repr(s))


@PROPS
@given(data=st.data())
def test_wsd_one_minus_sqrt_absolute(data):
    """The default "1-sqrt" decay is within 3e-7 of (peak - end) of the exact value everywhere
    (not 1e-5 relative near its end: see test_wsd_one_minus_sqrt)."""
    s = draw_wsd(data.draw, quarters(400), st.just("1-sqrt"))
    steps = pad(data.draw(st.lists(floats32(0.0, 500.0), min_size=1, max_size=32)), 32, np.float32)
    want = reference_values(s, steps)
    slack = 1e-5 * np.abs(want) + 3e-7 * abs(hp(s, "peak_value") - hp(s, "end_value"))
    np.testing.assert_array_less(np.abs(evaluate(s, steps) - want), slack + 1e-300)


# ---------------------------------------------- rising from a tiny value
RISING = {
    "poly": lambda a, b: js.poly(a, b, 37, power=2.5),
    "poly_sqrt": lambda a, b: js.poly(a, b, 37, power=0.5),
    "poly_cycle": lambda a, b: js.poly(a, b, 37, power=1.5, cycle=True),
    "linear": lambda a, b: js.linear(a, b, 37, begin=3),
    "cosine": lambda a, b: js.cosine(a, 37, b),
    "cosine_exponent": lambda a, b: js.cosine(a, 37, b, exponent=3.0),
    "rex": lambda a, b: js.rex(a, 37, b),
    "wsd_1-sqrt": lambda a, b: js.wsd(a, 37, 0, 37, end_value=b),
    "cosine_restarts": lambda a, b: js.cosine_restarts(a, 37, t_mul=1.0, end_value=b),
    "cosine_restarts_growing": lambda a, b: js.cosine_restarts(a, 11, t_mul=2.0, end_value=b),
    "torch_cosine_annealing": lambda a, b: ts.CosineAnnealingLR(a, 37, eta_min=b),
    "torch_warm_restarts": lambda a, b: ts.CosineAnnealingWarmRestarts(a, 11, 2, eta_min=b),
}


@pytest.mark.parametrize("start", [1e-8, 1e-4, 0.3])
@pytest.mark.parametrize("family", sorted(RISING))
def test_rising_keeps_start_digits(family, start):
    """A schedule growing from a value far below its end is accurate relative to its own
    value, not to the end: ``end + (start - end) * 1`` would round ``linear(1e-8, 1, k)(0)``
    to 0, and lose digits of every early value."""
    s = RISING[family](start, 1.0)
    steps = np.append(np.arange(80), [0.25, 0.5, 18.5, 36.75]).astype(np.float32)
    assert_close(evaluate(s, steps), reference_values(s, steps), steps, repr(s), rtol=1e-6)
    assert float(s(0)) == np.float32(start)


@pytest.mark.parametrize("t_mul", [1.0, 2.0])
def test_growing_peaks_below_a_higher_end(t_mul):
    """Restarts whose peaks grow (m_mul > 1) away from an end above the start: each period
    rises from its peak while the end is the larger, and falls to the end once the peak
    has grown past it, each time from the nearer end (Keras's CosineDecayRestarts with
    alpha > 1 and m_mul > 1 cancelled by 6% near period ends)."""
    s = js.cosine_restarts(1e-3, 10, t_mul, 1.5, 2e-3)
    # The first period, and the last steps of the next ones, which end near the end
    # value (inside them the value crosses 0, where no relative accuracy is possible).
    ends = 10 * (np.arange(1, 12) if t_mul == 1 else 2.0 ** np.arange(1, 12) - 1)
    near_ends = (ends[:, None] - [0.01, 0.1, 0.5, 1.0]).ravel()
    steps = np.concatenate([np.arange(0, 10, 0.25), near_ends]).astype(np.float32)
    assert_close(evaluate(s, steps), reference_values(s, steps), steps, repr(s))


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
@pytest.mark.parametrize("peak", [1e-8, 1e-4, 0.3])
def test_inverted_cycles_keep_the_peak_digits(mode, peak):
    """A cycle whose base is above its peak (PyTorch allows it) reaches a far smaller peak
    with the peak's own digits: ``base + (peak - base) * 1`` would cancel."""
    s = js.cyclic(1.0, peak, 11, 7, mode=mode, gamma=0.999)
    steps = np.append(np.arange(80), [10.75, 11.0, 11.25, 28.5]).astype(np.float32)
    assert_close(evaluate(s, steps), reference_values(s, steps), steps, repr(s), rtol=1e-6)
    if mode != "exp_range":  # exp_range scales the first peak by gamma**11
        assert float(s(11)) == np.float32(peak)


def test_torch_linear_lr_warmup_from_a_tiny_factor():
    """PyTorch computes in float64; LinearLR's warmup from a tiny start_factor matches it."""
    s = ts.LinearLR(0.1, start_factor=1e-3, end_factor=1.0, total_iters=10)
    want = 0.1 * (1e-3 + (1.0 - 1e-3) * np.minimum(np.arange(12), 10) / 10)
    np.testing.assert_allclose(evaluate(s, np.arange(12)), want, rtol=1e-6)


# ------------------------------------------------------------- monotone
GRID = 512


def grid(lo: float, hi: float) -> np.ndarray:
    """Sorted float32 steps over [lo, hi]: an even grid plus the whole steps from lo."""
    lo, hi = float(lo), float(max(hi, lo))
    whole = lo + np.arange(GRID // 4)
    steps = np.concatenate([np.linspace(lo, hi, GRID - GRID // 4), whole[whole <= hi]])
    return pad(np.sort(steps.astype(np.float32)), GRID, np.float32)


def restart_window(s: js.Schedule, i: int) -> tuple[float, float]:
    """The inside of period ``i`` of a cosine_restarts schedule (away from both ends)."""
    first, m = fr(s, "first_decay_steps"), fr(s, "t_mul")
    start = i * first if m == 1 else first * (m**i - 1) / (m - 1)
    length = first * m**i
    return float(start + length / 1000), float(start + length * 999 / 1000)


def decreasing_case(family: str, draw) -> tuple[js.Schedule, float, float]:
    """A schedule that must be non-increasing on the step range [lo, hi] returned with it."""
    high, low = ordered(draw)
    k = draw(LENGTH)
    begin = draw(offsets(False))
    if family == "step":
        return js.step(high, k, draw(RATE)), 0, 4 * k
    if family == "multistep":
        return js.multistep(high, draw(boundaries(False)), draw(RATE)), 0, 250
    if family == "exponential":
        end = draw(st.one_of(st.none(), st.just(low)))
        s = js.exponential(high, k, draw(RATE), draw(st.booleans()), begin, end)
        return s, 0, begin + 4 * k
    if family == "inverse_time":
        s = js.inverse_time(
            high, k, draw(floats32(0.0, 10.0)), draw(st.booleans()), draw(floats32(0.0, 4.0))
        )
        return s, 0, 4 * k
    if family == "poly":
        return js.poly(high, low, k, draw(floats32(0.1, 4.0)), begin), 0, begin + 1.5 * k
    if family == "linear":
        return js.linear(high, low, k, begin), 0, begin + 1.5 * k
    if family == "cosine":
        return js.cosine(high, k, low, draw(floats32(0.1, 4.0))), 0, 1.5 * k
    if family == "rex":
        return js.rex(high, k, low), 0, 1.5 * k
    if family == "cosine_restarts":
        t_mul = draw(st.one_of(st.sampled_from([1.0, 2.0]), floats32(1.0, 3.0)))
        s = js.cosine_restarts(high, k, t_mul, draw(floats32(0.1, 1.0)), low)
        return s, *restart_window(s, draw(st.integers(0, 3)))
    if family == "wsd":
        s = draw_wsd(draw, LENGTH)
        return s, hp(s, "warmup_steps"), 1.2 * hp(s, "total_steps")
    if family == "inverse_sqrt":
        s = js.inverse_sqrt(high, draw(st.one_of(st.just(0), LENGTH)))
        return s, hp(s, "warmup_steps"), hp(s, "warmup_steps") + 2000
    if family == "torch.CosineAnnealingLR":
        s = ts.CosineAnnealingLR(high, T_max=k, eta_min=low)
        return s, 0, hp(s, "T_max")
    raise NotImplementedError(family)


DECREASING = [
    "step",
    "multistep",
    "exponential",
    "inverse_time",
    "poly",
    "linear",
    "cosine",
    "rex",
    "cosine_restarts",
    "wsd",
    "inverse_sqrt",
    "torch.CosineAnnealingLR",
]


def assert_monotone(values: np.ndarray, sign: int, what: str) -> None:
    slack = 1e-6 * np.max(np.abs(values)) + 1e-30
    steps = sign * np.diff(values)
    assert np.all(steps >= -slack), f"{what}: not monotone, worst step {steps.min()!r}"


@pytest.mark.parametrize("family", DECREASING)
@PROPS
@given(data=st.data())
def test_non_increasing(family, data):
    s, lo, hi = decreasing_case(family, data.draw)
    assert_monotone(evaluate(s, grid(lo, hi)), -1, f"{s!r} on [{lo}, {hi}]")


@pytest.mark.parametrize("family", ["warmup", "one_cycle"])
@PROPS
@given(data=st.data())
def test_non_decreasing_first_phase(family, data):
    """A warmup ramp up to schedule(0), and one_cycle's first phase up to its peak."""
    if family == "warmup":
        high, low = ordered(data.draw)
        inner = data.draw(
            st.sampled_from([js.cosine(high, 100.0), js.linear(high, 0.0, 50.0), js.constant(high)])
        )
        s = js.warmup(inner, data.draw(LENGTH), low)
        hi = hp(s, "warmup_steps")
    else:
        s = draw_one_cycle(data.draw, min_div=1.0)
        hi = hp(s, "pct_start") * hp(s, "total_steps")
    assert_monotone(evaluate(s, grid(0, hi)), 1, f"{s!r} on [0, {hi}]")


# ---------------------------------------------------------------- bounds
def bounded_case(family: str, draw) -> tuple[js.Schedule, float, float, float]:
    """(schedule, lower, upper, horizon): the documented range of its values."""
    a, b = any_order(draw)
    k = draw(LENGTH)
    if family == "poly":
        s = js.poly(a, b, k, draw(floats32(0.1, 4.0)), draw(offsets(False)), draw(st.booleans()))
        return s, min(a, b), max(a, b), 3 * k
    if family == "linear":
        return js.linear(a, b, k, draw(offsets(False))), min(a, b), max(a, b), 3 * k
    if family == "cosine":
        return js.cosine(a, k, b, draw(floats32(0.1, 4.0))), min(a, b), max(a, b), 3 * k
    if family == "rex":
        return js.rex(a, k, b), min(a, b), max(a, b), 3 * k
    if family == "cosine_restarts":
        t_mul = draw(st.one_of(st.sampled_from([1.0, 2.0]), floats32(1.0, 4.0)))
        s = js.cosine_restarts(a, k, t_mul, draw(floats32(0.1, 1.0)), b)
        return s, min(a, b), max(a, b), 20 * k
    if family == "torch.CosineAnnealingLR":
        return ts.CosineAnnealingLR(a, T_max=k, eta_min=b), min(a, b), max(a, b), 5 * k
    if family == "one_cycle":
        s = draw_one_cycle(draw, min_div=1.0)
        peak = hp(s, "peak_value")
        low = peak / hp(s, "div_factor") / hp(s, "final_div_factor")
        return s, low, peak, 1.5 * hp(s, "total_steps")
    if family == "cyclic":
        down = draw(st.one_of(st.none(), st.just(0), LENGTH))
        s = js.cyclic(a, b, k, down, draw(MODES), draw(floats32(0.5, 1.0)))
        return s, min(a, b), max(a, b), 4 * (k + (k if down is None else down))
    if family == "wsd":
        s = draw_wsd(draw, LENGTH)
        peak, end = hp(s, "peak_value"), hp(s, "end_value")
        return s, min(0.0, end), peak, 1.2 * hp(s, "total_steps")
    if family == "exponential":
        rate = draw(floats32(0.05, 3.0))
        init, end = draw(VALUE), draw(VALUE0)
        s = js.exponential(init, k, rate, draw(st.booleans()), draw(offsets(False)), end)
        # Never past end_value, from either side; otherwise between it and init_value.
        lower, upper = (end, max(init, end)) if rate < 1 else (min(init, end), end)
        return s, lower, upper, 50 * k
    if family == "inverse_sqrt":
        s = js.inverse_sqrt(a, draw(st.one_of(st.just(0), LENGTH)))
        return s, 0.0, a, 3 * hp(s, "warmup_steps") + 100
    raise NotImplementedError(family)


BOUNDED = [
    "poly",
    "linear",
    "cosine",
    "rex",
    "cosine_restarts",
    "torch.CosineAnnealingLR",
    "one_cycle",
    "cyclic",
    "wsd",
    "exponential",
    "inverse_sqrt",
]
FAR = [1e4, 1e6, 1e9, 2.0**31, 1e12]


@pytest.mark.parametrize("family", BOUNDED)
@PROPS
@given(data=st.data())
def test_within_bounds(family, data):
    s, lower, upper, horizon = bounded_case(family, data.draw)
    steps = grid(0, horizon)
    steps[-len(FAR) :] = FAR
    values = evaluate(s, steps)
    slack = 1e-6 * max(abs(lower), abs(upper))
    assert np.all(values >= lower - slack), (repr(s), lower, values.min())
    assert np.all(values <= upper + slack), (repr(s), upper, values.max())


# ------------------------------------------------------------ continuity
EPS = 1e-3


def near(join: float) -> np.ndarray:
    """float32 steps just below, at and just above ``join``."""
    return np.asarray([join - EPS, join, join + EPS], dtype=np.float32)


def assert_continuous(s: js.Schedule, join: float, slope: float, what: str) -> None:
    """``s`` changes by no more than ``slope`` times the distance across ``join`` (+ rounding)."""
    steps = near(join)
    below, at, above = evaluate(s, steps)
    gap = float(steps[2]) - float(steps[0])
    slack = 2 * slope * gap + 1e-6 * max(abs(below), abs(above), abs(at))
    assert abs(above - below) <= slack, f"{what} at {join}: {below!r} -> {at!r} -> {above!r}"
    assert min(below, above) - slack <= at <= max(below, above) + slack, what


def slope_cases(family: str, draw) -> list[tuple[js.Schedule, float, float]]:
    """(schedule, join, bound on |slope| near the join) for each phase join of ``family``."""
    high, low = ordered(draw)
    if family == "warmup":
        k = draw(floats32(1.0, 400.0))
        inner = draw(
            st.sampled_from(
                [
                    js.cosine(high, k, low),
                    js.linear(high, low, k),
                    js.poly(high, low, k, power=2.0),
                    js.constant(high),
                ]
            )
        )
        s = js.warmup(inner, draw(floats32(0.25, 1000.0)), draw(VALUE0))
        w, start = hp(s, "warmup_steps"), float(evaluate(inner, np.float32([0.0]))[0])
        at = float(evaluate(s, np.float32([w]))[0])
        assert at == pytest.approx(start, rel=1e-6), "the ramp must reach schedule(0) at w"
        ramp = abs(start - hp(s, "init_value")) / w
        return [(s, w, ramp + 2 * abs(high - low) / k)]
    if family == "wsd":
        s = draw_wsd(draw, st.integers(1, 1000))
        peak, end = hp(s, "peak_value"), hp(s, "end_value")
        w, k = hp(s, "warmup_steps"), hp(s, "decay_steps")
        start = hp(s, "total_steps") - k
        if s.decay_shape == "1-sqrt":  # (1 - sqrt(tau)) has infinite slope at 0
            slope = abs(peak - end) * math.sqrt(4 * EPS / k) / (2 * EPS)
        else:
            slope = 2 * abs(peak - end) / k
        if w < 1:
            return [(s, start, slope)]
        if start - w < 2 * EPS:  # the decay starts where the warmup ends: both slopes meet
            return [(s, w, peak / w + slope)]
        return [(s, w, peak / w), (s, start, slope)]
    if family == "one_cycle":
        s = draw_one_cycle(draw, total=st.integers(10, 1000))
        peak, T = hp(s, "peak_value"), hp(s, "total_steps")
        initial = peak / hp(s, "div_factor")
        rise = hp(s, "pct_start") * T
        slope = 2 * max(abs(peak - initial), abs(peak)) / min(rise, T - rise if rise < T else 1)
        cases = [(s, rise, slope)]
        if bool(s.three_phase):
            slope = 2 * max(abs(peak - initial), abs(initial)) / min(rise, T - 2 * rise)
            cases.append((s, 2 * rise, slope))
        return cases
    if family == "inverse_sqrt":
        s = js.inverse_sqrt(high, draw(floats32(0.25, 1000.0)))
        return [(s, hp(s, "warmup_steps"), 2 * high / hp(s, "warmup_steps"))]
    if family == "cyclic":
        up, down = draw(LENGTH), draw(LENGTH)
        s = js.cyclic(low, high, up, down, draw(MODES), draw(floats32(0.9, 1.0)))
        up, down = hp(s, "step_size_up"), hp(s, "step_size_down")
        top = draw(st.integers(0, 3)) * (up + down) + up
        return [(s, top, 2 * (high - low) * (1 / up + 1 / down) + high * 0.2)]
    raise NotImplementedError(family)


@pytest.mark.parametrize("family", ["warmup", "wsd", "one_cycle", "inverse_sqrt", "cyclic"])
@PROPS
@given(data=st.data())
def test_continuous_at_joins(family, data):
    for s, join, slope in slope_cases(family, data.draw):
        assert_continuous(s, join, slope, repr(s))


@PROPS
@given(data=st.data())
def test_restarts_jump_to_peak(data):
    """cosine_restarts (whole periods) is back at its scaled peak exactly at each restart,
    and was at its floor just before."""
    high, low = ordered(data.draw)
    t_mul = data.draw(st.sampled_from([1.0, 2.0, 3.0]))
    m_mul = data.draw(floats32(0.1, 1.0))
    s = js.cosine_restarts(high, data.draw(st.integers(1, 300)), t_mul, m_mul, low)
    first, i = int(hp(s, "first_decay_steps")), data.draw(st.integers(1, 4))
    start = i * first if t_mul == 1 else first * (int(t_mul) ** i - 1) // (int(t_mul) - 1)
    before, at, after = evaluate(s, np.asarray([start - EPS, start, start + 1], np.float32))
    scale = abs(high - low) * hp(s, "m_mul") ** (i - 1)
    assert at == pytest.approx(low + (high - low) * hp(s, "m_mul") ** i, rel=1e-5)
    assert abs(before - low) <= scale * 1e-4 + 1e-6 * abs(low)
    assert after <= at + 1e-6 * abs(at)
