"""Property tests (hypothesis) for every schedule family.

Monotone where the formula is, inside its documented bounds, continuous at the
phase joins where the formula is, finite for every valid input, NaN for a NaN
step and clamped for a negative one, equal to an exact float64 reference at
int32 steps up to 2**31 - 1 (docs/design.md, "Steps"), consistent in a
batch, and unchanged by `to_dict` / `from_dict` / `parse` round trips.

Each schedule is evaluated once on an array of steps by one jitted function
that takes the schedule as an argument, so a new draw of hyperparameters
reuses the compiled program of its family.

The draws are the same in every run (``derandomize``), so a green suite stays green
on another machine. To search new cases, run with ``JAXSCHED_EXPLORE=1``: each run
then draws afresh (this found the bugs of one_cycle's and cyclic's huge-step cases);
turn what it finds into a fixed test.
"""

from __future__ import annotations

import json
import math
import os
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import f32, x64_mode
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from reference import fr, hp, reference_values, restart_period

import jaxsched as js
from jaxsched._base import core_factory_names
from jaxsched.compat import torch as ts

PROPS = settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=not os.environ.get("JAXSCHED_EXPLORE"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
#: Batch tests compile a new program for every draw: fewer, larger examples.
BATCH_PROPS = settings(PROPS, max_examples=12)

INT_MAX = 2**31 - 1
#: Below float32's smallest normal (1.2e-38): a true value this small may underflow.
UNDERFLOW = 1e-36
RTOL = 1e-5  # docs/design.md: relative error <= 1e-5 against a float64 reference
F32_MAX = float(np.finfo(np.float32).max)


@pytest.fixture(autouse=True)
def _float32():
    """Every test here runs in the default float32, whatever ran before."""
    with x64_mode(False):
        yield


_call = jax.jit(lambda s, t: s(t))


def evaluate(s: js.Schedule, steps) -> np.ndarray:
    """``s(steps)`` in one jitted call (compiled once per family and step shape), as float64."""
    return np.asarray(_call(s, jnp.asarray(steps)), dtype=np.float64)


def pad(steps, n: int, dtype) -> np.ndarray:
    """``steps`` as an array of exactly ``n`` entries (repeating the last), for one compile."""
    steps = list(steps)[:n]
    steps += [steps[-1]] * (n - len(steps))
    return np.asarray(steps, dtype=dtype)


def assert_close(got: np.ndarray, want: np.ndarray, steps, what: str, rtol: float = RTOL):
    """Relative ``rtol``; an absolute slack only where the true value underflows float32."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    with np.errstate(invalid="ignore"):
        err = np.abs(got - want)
    ok = (err <= rtol * np.abs(want)) | ((np.abs(want) < UNDERFLOW) & (np.abs(got) < UNDERFLOW))
    # A true value beyond float32's range (a growth factor > 1 at a late step) is inf.
    ok |= (np.abs(want) > F32_MAX) & (got == np.copysign(np.inf, want))
    if not ok.all():
        bad = np.flatnonzero(~ok)[:5]
        rows = "\n".join(
            f"  step {np.asarray(steps)[i]!r}: got {got[i]!r}, want {want[i]!r}, "
            f"rel err {err[i] / max(abs(want[i]), 1e-300):.3g}"
            for i in bad
        )
        raise AssertionError(f"{what}: {int((~ok).sum())} of {ok.size} steps off\n{rows}")


# ----------------------------------------------------------------- strategies
def floats32(lo: float, hi: float) -> st.SearchStrategy[float]:
    """float32 values in [lo, hi] (bounds moved inward to the nearest float32)."""
    lo32, hi32 = np.float32(lo), np.float32(hi)
    if lo32 < lo:
        lo32 = np.nextafter(lo32, np.float32(np.inf))
    if hi32 > hi:
        hi32 = np.nextafter(hi32, np.float32(-np.inf))
    return st.floats(float(lo32), float(hi32), width=32)


def quarters(hi: int, lo: int = 1) -> st.SearchStrategy[float]:
    """Multiples of 1/4 in [lo/4, hi]: sums and differences of a few stay exact in float32."""
    return st.integers(lo, 4 * hi).map(lambda n: n / 4)


VALUE = floats32(1e-4, 10.0)
VALUE0 = st.one_of(st.just(0.0), VALUE)
#: A phase or period length, in steps: any float32 (divmod by one float32 length is exact).
LENGTH = st.one_of(st.integers(1, 400), floats32(0.25, 400.0))
RATE = floats32(0.05, 1.0)  # a decay factor <= 1
MODES = st.sampled_from(["triangular", "triangular2", "exp_range"])
ANNEAL = st.sampled_from(["cos", "linear"])
DECAY_SHAPES = st.sampled_from(["1-sqrt", "linear", "cosine"])


def offsets(precise: bool) -> st.SearchStrategy[float]:
    """A ``begin``, ``warmup_steps`` or boundary. Precise: whole or quarter steps, which
    `Steps.since` subtracts exactly (see test_fractional_offset)."""
    if precise:
        return st.one_of(st.just(0), st.integers(0, 200), quarters(200))
    return st.one_of(st.just(0), st.integers(0, 200), floats32(0.0, 200.0))


def sums(precise: bool) -> st.SearchStrategy[float]:
    """Lengths that are added or subtracted in float32 (cyclic up + down, wsd T - k): precise
    draws keep the sum exact (see test_cyclic_fractional_period, test_wsd_fractional_end)."""
    return quarters(400) if precise else LENGTH


def boundaries(precise: bool) -> st.SearchStrategy[list]:
    return st.lists(offsets(precise), max_size=4, unique=True).map(sorted)


def ordered(draw) -> tuple[float, float]:
    """(high, low) with ``high >= low >= 0``, both float32."""
    high = draw(VALUE)
    low = f32(draw(st.one_of(st.just(0.0), floats32(0.0, 1.0))) * high)
    return high, low


def any_order(draw) -> tuple[float, float]:
    high, low = ordered(draw)
    return (high, low) if draw(st.booleans()) else (low, high)


def draw_wsd(draw, lengths: st.SearchStrategy, shapes=DECAY_SHAPES) -> js.WSD:
    """A wsd whose warmup, decay start and total are three draws from ``lengths``, in order."""
    warm, start, total = sorted(draw(st.lists(lengths, min_size=3, max_size=3)))
    warm = draw(st.sampled_from([0, warm]))
    decay = f32(np.float32(total) - np.float32(start))
    assume(decay > 0 and warm < total)
    assume(np.float32(warm) <= np.float32(total) - np.float32(decay))
    peak, end = ordered(draw)
    return js.wsd(peak, total, warm, decay, end, draw(shapes))


def draw_one_cycle(draw, total: st.SearchStrategy = LENGTH, min_div: float = 0.5) -> js.OneCycle:
    three = draw(st.booleans())
    return js.one_cycle(
        peak_value=draw(VALUE),
        total_steps=draw(total),
        pct_start=draw(floats32(0.01, 0.49 if three else 0.99)),
        div_factor=draw(floats32(min_div, 100.0)),
        final_div_factor=draw(floats32(min_div, 1e4)),
        anneal=draw(ANNEAL),
        three_phase=three,
    )


def draw_restarts(draw, precise: bool) -> js.Restarts:
    """Cycles of any shape. Precise: whole growth from a whole first cycle (as for
    cosine_restarts), and an end below every peak (a rise from a peak cancels)."""
    decay = draw(st.one_of(st.just(1.0), floats32(0.5, 1.0)))
    limit = draw(st.one_of(st.integers(0, 5), floats32(0.0, 6.0)))
    lower = draw(floats32(-10.0, 2.0))
    kwargs = {
        "cycle_limit": limit,
        "cycle_decay": decay,
        "k_decay": draw(st.one_of(st.just(1.0), floats32(0.5, 3.0))),
        "power": draw(floats32(0.1, 4.0)),
        "lower": lower,
        "upper": f32(lower + draw(floats32(0.5, 10.0))),
        "shape": draw(st.sampled_from(["cos", "tanh", "poly"])),
    }
    if precise:
        mul = draw(st.sampled_from([1.0, 2.0, 3.0]))
        first = draw(LENGTH if mul == 1 else st.integers(1, 400))
        init = draw(VALUE)
        below = draw(st.one_of(st.just(0.0), floats32(0.0, 0.5)))
        end = f32(init * decay ** math.ceil(limit) * below)
    else:
        mul = draw(st.one_of(st.sampled_from([1.0, 2.0]), floats32(0.5, 4.0)))
        first = draw(LENGTH)
        init, end = any_order(draw)
    return js.restarts(init, first, end, cycle_mul=mul, **kwargs)


def build(family: str, draw, precise: bool = False) -> js.Schedule:
    """A schedule of ``family`` with random valid hyperparameters (no legitimate overflow).

    ``precise=True`` keeps to the inputs the float32 computation is accurate for, as the
    reference test needs: exact offsets and sums, and whole ``first_decay_steps`` and
    ``t_mul`` for growing restarts. Values are drawn in either order: every family
    rises (and falls to a tiny value) accurately; see test_rising_keeps_start_digits.
    """
    if family == "constant":
        return js.constant(draw(VALUE0))
    if family == "step":
        rate = draw(floats32(0.05, 3.0))
        return js.step(draw(VALUE0), draw(LENGTH), rate)
    if family == "multistep":
        rate = draw(floats32(0.05, 3.0))
        return js.multistep(draw(VALUE0), draw(boundaries(precise)), rate)
    if family == "piecewise":
        bounds = draw(boundaries(precise))
        values = draw(st.lists(VALUE0, min_size=len(bounds) + 1, max_size=len(bounds) + 1))
        return js.piecewise(bounds, values)
    if family == "exponential":
        rate = draw(floats32(0.05, 3.0))
        # A growing exponential overflows unless bounded: give it an end_value.
        end = draw(VALUE0) if rate > 1 else draw(st.one_of(st.none(), VALUE0))
        return js.exponential(
            draw(VALUE0),
            draw(LENGTH),
            rate,
            draw(st.booleans()),
            draw(offsets(precise)),
            end,
        )
    if family == "inverse_time":
        return js.inverse_time(
            draw(VALUE0),
            draw(LENGTH),
            draw(floats32(0.0, 10.0)),
            draw(st.booleans()),
            draw(floats32(0.0, 4.0)),
        )
    if family == "poly":
        a, b = any_order(draw)
        power = draw(floats32(0.1, 4.0))
        return js.poly(a, b, draw(LENGTH), power, draw(offsets(precise)), draw(st.booleans()))
    if family == "linear":
        a, b = any_order(draw)
        return js.linear(a, b, draw(LENGTH), draw(offsets(precise)))
    if family == "cosine":
        a, b = any_order(draw)
        return js.cosine(a, draw(LENGTH), b, draw(floats32(0.1, 4.0)))
    if family == "rex":
        a, b = any_order(draw)
        return js.rex(a, draw(LENGTH), b)
    if family == "cosine_restarts":
        a, b = any_order(draw)
        m_mul = draw(floats32(0.1, 1.0))
        if precise:  # non-whole growing periods: see test_restarts_non_whole_growth
            t_mul = draw(st.sampled_from([1.0, 2.0, 3.0]))
            first = draw(LENGTH if t_mul == 1 else st.integers(1, 400))
            return js.cosine_restarts(a, first, t_mul, m_mul, b)
        t_mul = draw(st.one_of(st.sampled_from([1.0, 2.0, 3.0]), floats32(1.0, 4.0)))
        return js.cosine_restarts(a, draw(LENGTH), t_mul, m_mul, b)
    if family == "restarts":
        return draw_restarts(draw, precise)
    if family == "one_cycle":
        return draw_one_cycle(draw)
    if family == "cyclic":
        high, low = any_order(draw)
        up = draw(sums(precise))
        down = draw(st.one_of(st.none(), st.just(0), sums(precise)))
        return js.cyclic(low, high, up, down, draw(MODES), draw(floats32(0.5, 1.0)))
    if family == "wsd":
        # "1-sqrt" cancels near the end of the decay: see test_wsd_one_minus_sqrt.
        shapes = st.sampled_from(["linear", "cosine"]) if precise else DECAY_SHAPES
        return draw_wsd(draw, sums(precise), shapes)
    if family == "inverse_sqrt":
        return js.inverse_sqrt(draw(VALUE0), draw(st.one_of(st.just(0), LENGTH)))
    if family == "warmup":
        inner = draw(st.sampled_from(["cosine", "linear", "exponential", "constant"]))
        return js.warmup(build(inner, draw, precise), draw(offsets(precise)), draw(VALUE0))
    if family == "piecewise_interpolate":
        points = st.one_of(offsets(precise), st.integers(-50, -1))  # repeats: jumps
        bounds = sorted(draw(st.lists(points, min_size=1, max_size=5)))
        values = draw(st.lists(VALUE0, min_size=len(bounds), max_size=len(bounds)))
        return js.piecewise_interpolate(bounds, values, draw(ANNEAL))
    if family in ("join", "switch"):
        kinds = draw(st.lists(st.sampled_from(BASIC), min_size=1, max_size=3))
        parts = [build(f, draw, precise) for f in kinds]
        if family == "switch":
            return js.switch(parts, draw(st.integers(0, len(parts) - 1)))
        n = len(parts) - 1
        bounds = draw(st.lists(offsets(precise), min_size=n, max_size=n, unique=True))
        return js.join(parts, sorted(bounds))
    if family == "torch.StepLR":
        return ts.StepLR(draw(VALUE0), step_size=draw(st.integers(1, 100)), gamma=draw(RATE))
    if family == "torch.MultiStepLR":
        milestones = draw(st.lists(st.integers(-5, 300), max_size=5))  # unsorted, repeats
        return ts.MultiStepLR(draw(VALUE0), milestones=milestones, gamma=draw(RATE))
    if family == "torch.ExponentialLR":
        return ts.ExponentialLR(draw(VALUE0), gamma=draw(RATE))
    if family == "torch.PolynomialLR":
        return ts.PolynomialLR(
            draw(VALUE0), total_iters=draw(st.integers(0, 300)), power=draw(floats32(0.0, 3.0))
        )
    if family == "torch.LinearLR":
        start = draw(floats32(0.01, 1.0))
        end = f32(start * draw(floats32(0.0, 1.0))) if precise else draw(floats32(0.0, 1.0))
        return ts.LinearLR(
            draw(VALUE0), start_factor=start, end_factor=end, total_iters=draw(st.integers(0, 300))
        )
    if family == "torch.ConstantLR":
        return ts.ConstantLR(
            draw(VALUE0), factor=draw(floats32(0.0, 1.0)), total_iters=draw(st.integers(-2, 300))
        )
    if family == "torch.CosineAnnealingLR":
        lr, low = any_order(draw)
        return ts.CosineAnnealingLR(lr, T_max=draw(LENGTH), eta_min=low)
    if family == "torch.CosineAnnealingWarmRestarts":
        lr, low = any_order(draw)
        return ts.CosineAnnealingWarmRestarts(
            lr, T_0=draw(st.integers(1, 300)), T_mult=draw(st.integers(1, 3)), eta_min=low
        )
    if family == "torch.CyclicLR":
        high, low = any_order(draw)
        return ts.CyclicLR(
            base_lr=low,
            max_lr=high,
            step_size_up=draw(st.integers(1, 300)),
            step_size_down=draw(st.one_of(st.none(), st.integers(0, 300))),
            mode=draw(MODES),
            gamma=draw(floats32(0.5, 1.0)),
        )
    if family == "torch.OneCycleLR":
        three = draw(st.booleans())
        total = draw(st.integers(2, 500))
        pct = draw(floats32(0.01, 0.49 if three else 0.99))
        assume(pct * total != 1)  # a 0-step warmup: refused, as PyTorch does
        return ts.OneCycleLR(
            max_lr=draw(VALUE),
            total_steps=total,
            pct_start=pct,
            anneal_strategy=draw(ANNEAL),
            div_factor=draw(floats32(0.5, 100.0)),
            final_div_factor=draw(floats32(0.5, 1e4)),
            three_phase=three,
        )
    raise NotImplementedError(family)


BASIC = ["constant", "step", "poly", "cosine", "exponential", "cyclic", "wsd", "rex"]
#: Every core factory of the registry: `build` draws each (a new one fails here until it does).
CORE = core_factory_names()
TORCH = [
    "torch.StepLR",
    "torch.MultiStepLR",
    "torch.ExponentialLR",
    "torch.PolynomialLR",
    "torch.LinearLR",
    "torch.ConstantLR",
    "torch.CosineAnnealingLR",
    "torch.CosineAnnealingWarmRestarts",
    "torch.CyclicLR",
    "torch.OneCycleLR",
]
ALL = CORE + TORCH


# ------------------------------------------------- exact float64 reference
REFERENCE_FAMILIES = [f for f in ALL if f != "torch.OneCycleLR"]


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


# -------------------------------------------------------- finite, NaN, negative
@pytest.mark.parametrize("family", ALL)
@PROPS
@given(data=st.data())
def test_finite_for_valid_inputs(family, data):
    s = build(family, data.draw)
    ints = [0, 1, 2, INT_MAX, INT_MAX - 1, 2**24 + 1, *data.draw(st.lists(st.integers(0, INT_MAX)))]
    floats = [0.0, 0.5, 1e12, 2.0**31, *data.draw(st.lists(floats32(0.0, 1e12)))]
    for steps in (pad(ints, 32, np.int32), pad(floats, 32, np.float32)):
        values = evaluate(s, steps)
        if grows(s):  # decay_rate > 1 or gamma > 1: the true value may exceed float32
            assert not np.any(np.isnan(values)) and np.all(values >= 0), (repr(s), values)
        else:
            assert np.all(np.isfinite(values)), (repr(s), steps[~np.isfinite(values)])


def grows(s: js.Schedule) -> bool:
    """Whether any factor that multiplies the value step after step exceeds 1."""
    leaves = jax.tree_util.tree_flatten_with_path(s)[0]
    names = {"decay_rate", "gamma", "m_mul"}
    return any(
        getattr(path[-1], "name", None) in names and np.any(np.asarray(leaf) > 1)
        for path, leaf in leaves
    )


@pytest.mark.parametrize("family", ALL)
@PROPS
@given(data=st.data())
def test_nan_and_negative_steps(family, data):
    """A NaN step gives NaN; a negative step (int or float) gives the value at step 0."""
    s = build(family, data.draw)
    neg_floats = data.draw(st.lists(floats32(-1e12, -1e-6), min_size=1, max_size=31))
    neg_ints = data.draw(st.lists(st.integers(-(2**31), -1), min_size=1, max_size=32))
    floats = evaluate(s, pad([math.nan, *neg_floats], 32, np.float32))
    ints = evaluate(s, pad(neg_ints, 32, np.int32))
    zero_f, zero_i = evaluate(s, np.float32(0.0)), evaluate(s, np.int32(0))
    assert np.isnan(floats[0]) and np.isnan(evaluate(s, np.float32(np.nan)))
    np.testing.assert_array_equal(floats[1:], np.broadcast_to(zero_f, floats[1:].shape))
    np.testing.assert_array_equal(ints, np.broadcast_to(zero_i, ints.shape))
    np.testing.assert_array_equal(zero_f, zero_i)


# --------------------------------------------------------------- batches
def batch_steps(data) -> np.ndarray:
    steps = data.draw(st.lists(floats32(0.0, 3000.0), min_size=1, max_size=32))
    return pad([0.0, *steps], 32, np.float32)


def assert_batch_matches(batch: js.Schedule, members: list[js.Schedule], steps) -> None:
    values = evaluate(batch, steps[:, None])
    assert values.shape == (len(steps), len(members))
    for i, s in enumerate(members):
        want = evaluate(s, steps)
        # float32 rounds a batch's vectorised division differently from a scalar one; the
        # exponent of a decay amplifies that ulp: 1e-5 relative, as for float32 parity.
        # Near zero the error is an ulp of the schedule's scale (its largest value, here or
        # at the far end: rex from 0 up to 1 computes 1 - 0.9974 and loses 1e-5 of 0.0026).
        ends = evaluate(s, pad([0.0, 3000.0, float(INT_MAX)], 32, np.float32))
        scale = np.abs(np.concatenate([want, ends]))
        atol = 1e-6 * float(scale[np.isfinite(scale)].max(initial=0.0))
        np.testing.assert_allclose(values[:, i], want, rtol=1e-5, atol=atol, err_msg=repr(s))
        # A switch entry reads back as itself or as the schedule it selects.
        member = s.schedules[int(s.index)] if isinstance(s, js.Switch) else s
        assert batch[i].to_dict() in (s.to_dict(), member.to_dict())
    assert batch.to_dicts() == [entry.to_dict() for entry in batch]


@pytest.mark.parametrize("family", ALL)
@BATCH_PROPS
@given(data=st.data())
def test_stack_equals_members(family, data):
    members = [build(family, data.draw) for _ in range(3)]
    assert_batch_matches(js.stack(members), members, batch_steps(data))


@BATCH_PROPS
@given(data=st.data())
def test_stack_mixing_families(data):
    """Schedules of different families stack into a switch that equals each of them."""
    families = data.draw(st.lists(st.sampled_from(ALL), min_size=2, max_size=4))
    members = [build(f, data.draw) for f in families]
    batch = js.stack(members)
    assert_batch_matches(batch, members, batch_steps(data))
    mapped = jax.vmap(lambda s: s(jnp.float32(17.5)))(batch)
    np.testing.assert_allclose(
        mapped, [evaluate(s, np.float32(17.5)) for s in members], rtol=1e-5, atol=1e-12
    )


# ------------------------------------------------------------ round trips
@pytest.mark.parametrize("family", ALL)
@PROPS
@given(data=st.data())
def test_round_trips(family, data):
    """to_dict -> JSON -> from_dict, and parse(repr(s)), give the same schedule."""
    s = build(family, data.draw)
    spec = s.to_dict()
    text = json.dumps(spec)
    steps = batch_steps(data)
    want = evaluate(s, steps)
    for again in (js.from_dict(json.loads(text)), js.parse(repr(s))):
        assert again.to_dict() == spec
        assert type(again) is type(s)
        np.testing.assert_array_equal(evaluate(again, steps), want)
