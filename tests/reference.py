"""The exact reference of the property tests: each schedule kind's documented formula.

`reference` computes ``s(t)`` with exact rationals for every floor, mod and phase
position (the stored float32 hyperparameters taken exactly) and float64 after;
``tests/test_properties.py`` checks every family against it and
``tests/test_completeness.py`` that every registered factory's kind has a formula
here. A kind without one raises `NotImplementedError`.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

import jaxsched as js


def hp(s: js.Schedule, name: str) -> float:
    """The hyperparameter as the schedule stores it (a float32), exactly, as a Python float."""
    return float(np.asarray(getattr(s, name)))


def fr(s: js.Schedule, name: str) -> Fraction:
    return Fraction(hp(s, name))


def powf(a: float, b: float) -> float:
    try:
        return a**b
    except OverflowError:
        return math.inf


def scaled_powf(scale: float, a: float, b: float) -> float:
    """``scale * a ** b``; 0 when ``scale`` is 0, even where the power overflows."""
    return 0.0 if scale == 0 else scale * powf(a, b)


def cos_fall(p: Fraction) -> float:
    """``(1 + cos(pi p)) / 2`` for ``p`` in [0, 1], with full relative precision at both ends."""
    if p <= Fraction(1, 2):
        return math.cos(math.pi * float(p) / 2) ** 2
    return math.sin(math.pi * float(1 - p) / 2) ** 2


def cos_rise(p: Fraction) -> float:
    """``1 - cos_fall(p)`` = ``sin^2(pi p / 2)``, with full relative precision near ``p = 0``."""
    return 1.0 - cos_fall(p) if p > Fraction(1, 2) else math.sin(math.pi * float(p) / 2) ** 2


def one_minus_powf(p: Fraction, exponent: float) -> float:
    """``1 - (1 - p) ** exponent`` for ``p`` in [0, 1], accurate near ``p = 0``."""
    return -math.expm1(exponent * math.log1p(-float(p))) if p < 1 else 1.0


def toward(a: float, b: float, w: float, one_minus_w: float) -> float:
    """``b + (a - b) w``: from ``a`` when it rises (``|b| > |a|``, where that form would
    cancel in float64 too), given ``1 - w`` computed accurately."""
    return a + (b - a) * one_minus_w if abs(b) > abs(a) else b + (a - b) * w


def clip01(x: Fraction) -> Fraction:
    return min(max(x, Fraction(0)), Fraction(1))


def part(tau: Fraction, length: Fraction) -> Fraction:
    """The part of a phase done, ``clip(tau / length, 0, 1)``; a 0-length phase is done at > 0."""
    if length <= 0:
        return Fraction(int(tau > 0))
    return clip01(tau / length)


def interp(a: float, b: float, p: Fraction, shape: str) -> float:
    """``a`` at ``p = 0`` to ``b`` at ``p = 1`` along a named shape, from the nearer end."""
    if shape == "cos":
        return toward(a, b, cos_fall(p), cos_rise(p))
    if shape == "linear":
        return a + (b - a) * float(p) if p <= Fraction(1, 2) else b + (a - b) * float(1 - p)
    if shape == "1-sqrt":  # 1 - sqrt(p) = (1 - p) / (1 + sqrt(p)), no cancellation near p = 1
        return toward(a, b, float(1 - p) / (1 + math.sqrt(p)), math.sqrt(p))
    raise ValueError(shape)


def periods(t: Fraction, period: Fraction) -> tuple[int, Fraction]:
    """``(n, t - n * period)``: whole periods in ``t``, the quotient rounded to float32
    where that makes it whole (a step within half an ulp of the quotient of a multiple
    is at it, as Keras and optax round ``t / period``), while half an ulp is under one
    step and the quotient under ``2**22`` (docs/guides/numerics.md, Periods and boundaries)."""
    n = math.floor(t / period)
    rem = t - n * period
    if n + 1 < 2**22:
        below = Fraction(float(np.spacing(np.nextafter(np.float32(n + 1), 0)))) / 2 * period
        above = Fraction(float(np.spacing(np.float32(n)))) / 2 * period
        if below < 1 and period - rem <= below:
            return n + 1, Fraction(0)
        if above < 1 and rem <= above:
            return n, Fraction(0)
    return n, rem


def restart_period(t: Fraction, first: Fraction, m: Fraction) -> tuple[int, Fraction, Fraction]:
    """(index, position in it, length) of the period holding ``t``; periods ``first * m**i``
    (shrinking ones, ``m < 1``, sum to ``first / (1 - m)``: no period holds a later ``t``)."""
    if m < 1 and t >= first / (1 - m):
        raise ValueError(f"no period of {first} * {m}**i holds step {t}")
    if m == 1:
        n, pos = periods(t, first)
        return n, pos, first

    def start(i: int) -> Fraction:
        return first * (m**i - 1) / (m - 1)

    i = max(int(math.log1p(float(t / first * (m - 1))) / math.log(m)), 0)
    while i > 0 and t < start(i):
        i -= 1
    while t >= start(i + 1):
        i += 1
    return i, t - start(i), first * m**i


def k_decay_parts(p: Fraction, k: float) -> tuple[float, float]:
    """``(p ** k, 1 - p ** k)`` for ``p`` in [0, 1], each with full relative precision."""
    if p == 0:
        return 0.0, 1.0
    log_p = math.log(float(p)) if p <= Fraction(1, 2) else math.log1p(-float(1 - p))
    return math.exp(k * log_p), -math.expm1(k * log_p)


def cos_fall_parts(p: float, q: float) -> float:
    """``(1 + cos(pi p)) / 2`` given ``p`` and ``q = 1 - p``, each accurate."""
    return math.cos(math.pi * p / 2) ** 2 if p <= 0.5 else math.sin(math.pi * q / 2) ** 2


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def reference(s: js.Schedule, t: Fraction) -> float:
    """``s(t)`` from the documented formula: exact rationals for every floor, mod and
    phase position (the stored float32 hyperparameters taken exactly), float64 after."""
    t = max(t, Fraction(0))
    kind = s.kind
    if kind == "torch.cycle_momentum":  # CyclicLR's rate, with its momentum alongside
        return reference(s.schedule, t)
    if kind == "torch.switched":  # what a SequentialLR's step(0) makes of it, alongside
        return reference(s.schedule, t)
    if kind == "constant":
        return hp(s, "value")
    if kind == "step":
        n, _ = periods(t, fr(s, "step_size"))
        return scaled_powf(hp(s, "init_value"), hp(s, "decay_rate"), n)
    if kind == "multistep":
        n = sum(t >= Fraction(float(b)) for b in np.asarray(s.boundaries))
        return scaled_powf(hp(s, "init_value"), hp(s, "decay_rate"), n)
    if kind == "piecewise":
        n = sum(t >= Fraction(float(b)) for b in np.asarray(s.boundaries))
        return float(np.asarray(s.values)[n])
    if kind == "piecewise_interpolate":
        bounds = [Fraction(float(b)) for b in np.asarray(s.boundaries)]
        values = [float(v) for v in np.asarray(s.values)]
        n = sum(t >= b for b in bounds)  # the points reached; of a repeated one, the later
        if n in (0, len(bounds)):
            return values[0] if n == 0 else values[-1]
        a, b = bounds[n - 1], bounds[n]
        return interp(values[n - 1], values[n], part(t - a, b - a), s.shape)
    if kind == "exponential":
        tau, k, rate = (
            max(t - fr(s, "begin"), Fraction(0)),
            fr(s, "decay_steps"),
            hp(s, "decay_rate"),
        )
        p = periods(tau, k)[0] if bool(s.staircase) else float(tau / k)
        value = scaled_powf(hp(s, "init_value"), rate, p)
        end = hp(s, "end_value")
        return max(value, end) if rate < 1 else min(value, end)
    if kind == "inverse_time":
        k = fr(s, "decay_steps")
        p = periods(t, k)[0] if bool(s.staircase) else float(t / k)
        return hp(s, "init_value") / (1 + hp(s, "decay_rate") * p) ** hp(s, "power")
    if kind == "poly":
        tau, k = max(t - fr(s, "begin"), Fraction(0)), fr(s, "decay_steps")
        if not bool(s.cycle):
            q = (k - min(tau, k)) / k
        elif tau == 0:
            q = Fraction(1)
        else:
            n, rem = periods(tau, k)
            c = n + (rem > 0)
            q = (c * k - tau) / (c * k)
        init, end, power = hp(s, "init_value"), hp(s, "end_value"), hp(s, "power")
        return toward(init, end, float(q) ** power, one_minus_powf(1 - q, power))
    if kind == "cosine":
        k = fr(s, "decay_steps")
        init, end, e = hp(s, "init_value"), hp(s, "end_value"), hp(s, "exponent")
        p = min(t, k) / k
        rise = -math.expm1(e * math.log1p(-cos_rise(p))) if p < 1 else 1.0
        return toward(init, end, cos_fall(p) ** e, rise)
    if kind == "rex":
        k = fr(s, "decay_steps")
        q = (k - min(t, k)) / k
        init, end = hp(s, "init_value"), hp(s, "end_value")
        return toward(init, end, float(q / (Fraction(1, 2) + q / 2)), float((1 - q) / (1 + q)))
    if kind == "cosine_restarts":
        n, pos, length = restart_period(t, fr(s, "first_decay_steps"), fr(s, "t_mul"))
        init, end, m = hp(s, "init_value"), hp(s, "end_value"), hp(s, "m_mul")
        height = (init - end) * m**n
        peak = init * m**n - end * math.expm1(n * math.log(m))
        if abs(end) > abs(peak):  # a rise, from the period's peak: no cancelling
            return peak - height * cos_rise(pos / length)
        return end + height * cos_fall(pos / length)
    if kind == "restarts":
        first, m, end = fr(s, "cycle_steps"), fr(s, "cycle_mul"), hp(s, "end_value")
        if m < 1 and t >= first / (1 - m):  # past the end of shrinking cycles
            return end
        i, pos, length = restart_period(t, first, m)
        if i >= hp(s, "cycle_limit"):
            return end
        p, q = k_decay_parts(pos / length, hp(s, "k_decay"))
        if s.shape == "cos":
            weight = cos_fall_parts(p, q)
        elif s.shape == "poly":
            weight = q ** hp(s, "power")
        else:  # (1 - tanh(x)) / 2 = sigmoid(-2x)
            weight = sigmoid(-2 * (hp(s, "lower") * q + hp(s, "upper") * p))
        peak = scaled_powf(hp(s, "init_value"), hp(s, "cycle_decay"), i)
        return end + (peak - end) * weight
    if kind == "torch.CosineAnnealingLR":
        T = fr(s, "T_max")
        _, r = periods(t, 2 * T)
        lr, low = hp(s, "lr"), hp(s, "eta_min")
        p = min(r, 2 * T - r) / T
        return toward(lr, low, cos_fall(p), cos_rise(p))
    if kind == "cyclic":
        up, down = fr(s, "step_size_up"), fr(s, "step_size_down")
        period = up + down
        n, pos = periods(t, period)
        h = float(pos / up if pos <= up else (period - pos) / down)
        scale = {
            "triangular": 1.0,
            "triangular2": 2.0**-n,
            "exp_range": powf(hp(s, "gamma"), float(t)),
        }[s.mode]
        base, peak = hp(s, "base_value"), hp(s, "peak_value")
        if abs(base) > abs(peak):  # inverted: from the peak, 1 - h * scale without cancelling
            unscaled = {
                "triangular": 0.0,
                "triangular2": -math.expm1(-n * math.log(2.0)),
                "exp_range": -math.expm1(float(t) * math.log(hp(s, "gamma"))),
            }[s.mode]
            below = float(1 - pos / up if pos <= up else (pos - up) / down)
            return peak + (base - peak) * (below + h * unscaled)
        return base + (peak - base) * h * scale
    if kind == "one_cycle":
        peak, T = hp(s, "peak_value"), fr(s, "total_steps")
        initial = peak / hp(s, "div_factor")
        final = initial / hp(s, "final_div_factor")
        rise = clip01(fr(s, "pct_start")) * T
        shape = s.anneal
        if t < rise:
            return interp(initial, peak, part(t, rise), shape)
        if not bool(s.three_phase):
            return interp(peak, final, part(t - rise, T - rise), shape)
        if t < 2 * rise:
            return interp(peak, initial, part(t - rise, rise), shape)
        return interp(initial, final, part(t - 2 * rise, T - 2 * rise), shape)
    if kind == "wsd":
        peak, end = hp(s, "peak_value"), hp(s, "end_value")
        w, T, k = fr(s, "warmup_steps"), fr(s, "total_steps"), fr(s, "decay_steps")
        if t < w:
            return peak * float(t / w)
        if t < T - k:
            return peak
        shape = {"1-sqrt": "1-sqrt", "linear": "linear", "cosine": "cos"}[s.decay_shape]
        return interp(peak, end, part(t - (T - k), k), shape)
    if kind == "inverse_sqrt":
        peak, w = hp(s, "peak_value"), fr(s, "warmup_steps")
        if t < w:
            return peak * float(t / w)
        return peak * math.sqrt(max(w, 1) / max(t, w, 1))
    if kind == "warmup":
        w, init = fr(s, "warmup_steps"), hp(s, "init_value")
        if t < w:
            return init + (reference(s.schedule, Fraction(0)) - init) * float(t / w)
        return reference(s.schedule, t - w)
    if kind == "join":
        bounds = [Fraction(float(b)) for b in np.asarray(s.boundaries)]
        n = sum(t >= b for b in bounds)
        return reference(s.schedules[n], t - bounds[n - 1] if n else t)
    if kind == "switch":
        return reference(s.schedules[int(np.asarray(s.index))], t)
    raise NotImplementedError(f"no reference formula for kind {kind!r} (tests/reference.py)")


def reference_values(s: js.Schedule, steps: np.ndarray) -> np.ndarray:
    return np.asarray([reference(s, Fraction(float(x)) if x == x else x) for x in steps.tolist()])
