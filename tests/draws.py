"""Shared by the property tests (tests/test_properties.py, tests/test_properties_batches.py):
hypothesis settings, the strategies that draw a schedule of every family (`build`),
and `evaluate`, which evaluates a schedule once on an array of steps by one jitted
function that takes the schedule as an argument, so that a new draw of hyperparameters
reuses the compiled program of its family.

The draws are the same in every run (``derandomize``), so a green suite stays green
on another machine. To search new cases, run with ``JAXSCHED_EXPLORE=1``: each run
then draws afresh (this found the bugs of one_cycle's and cyclic's huge-step cases);
turn what it finds into a fixed test.
"""

from __future__ import annotations

import math
import os

import jax
import jax.numpy as jnp
import numpy as np
from conftest import f32
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st

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
        total_iters = draw(st.integers(-2, 300))  # a factor of 0 ends: PyTorch divides by it
        factor = draw(floats32(0.0 if total_iters <= 0 else 1e-6, 1.0))
        return ts.ConstantLR(draw(VALUE0), factor=factor, total_iters=total_iters)
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
#: The families `tests.reference` computes exactly.
REFERENCE_FAMILIES = [f for f in ALL if f != "torch.OneCycleLR"]
