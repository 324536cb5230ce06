"""Bad input raises ValueError naming the factory, the parameter and the value (and the
index in a batch) before anything is traced; traced values are clamped instead."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import x64_mode

import jaxsched as js
from jaxsched.compat import keras as ks
from jaxsched.compat import torch as ts

cos = js.cosine(0.1, decay_steps=10)

# (call, words the message must contain)
BAD = [
    # lengths that must be positive
    (lambda: js.poly(0.1, 0.0, decay_steps=0), ["poly", "decay_steps", "> 0", "0"]),
    (
        lambda: js.exponential(0.1, decay_steps=-5, decay_rate=0.5),
        ["exponential", "decay_steps", "-5"],
    ),
    (lambda: js.inverse_time(0.1, decay_steps=0, decay_rate=0.5), ["inverse_time", "decay_steps"]),
    (lambda: js.cosine(0.1, decay_steps=0), ["cosine", "decay_steps"]),
    (lambda: js.rex(0.1, decay_steps=-1), ["rex", "decay_steps", "-1"]),
    (lambda: js.linear(0.1, 0.0, decay_steps=0), ["linear", "decay_steps"]),
    (lambda: js.step(0.1, step_size=0, decay_rate=0.5), ["step", "step_size", "0"]),
    (lambda: js.one_cycle(0.1, total_steps=0), ["one_cycle", "total_steps"]),
    (lambda: js.wsd(0.1, total_steps=0, warmup_steps=0, decay_steps=1), ["wsd", "total_steps"]),
    (lambda: js.wsd(0.1, total_steps=10, warmup_steps=0, decay_steps=0), ["wsd", "decay_steps"]),
    (
        lambda: js.cosine_restarts(0.1, first_decay_steps=0),
        ["cosine_restarts", "first_decay_steps"],
    ),
    (lambda: js.cyclic(0.0, 0.1, step_size_up=0), ["cyclic", "step_size_up"]),
    (lambda: js.cyclic(0.0, 0.1, step_size_up=5, step_size_down=-2), ["cyclic", "step_size_down"]),
    # warmups
    (lambda: js.warmup(cos, warmup_steps=-1), ["warmup", "warmup_steps", "-1"]),
    (lambda: js.inverse_sqrt(0.1, warmup_steps=-3), ["inverse_sqrt", "warmup_steps", "-3"]),
    (lambda: js.wsd(0.1, 100, warmup_steps=-1, decay_steps=10), ["wsd", "warmup_steps", "-1"]),
    (
        lambda: js.wsd(0.1, 100, warmup_steps=100, decay_steps=10),
        ["wsd", "warmup_steps", "total_steps", "100"],
    ),
    (
        lambda: js.wsd(0.1, 100, warmup_steps=95, decay_steps=10),
        [
            "wsd: warmup_steps + decay_steps must be <= total_steps, got warmup_steps=95, "
            "decay_steps=10 and total_steps=100"
        ],
    ),
    (lambda: js.wsd(0.1, [200, 60], 5, 100), ["decay_steps=100 and total_steps=60 at index 1"]),
    # boundaries and values
    (
        lambda: js.piecewise([10, 5], [1.0, 2.0, 3.0]),
        ["piecewise", "boundaries", "strictly increasing", "5"],
    ),
    (
        lambda: js.piecewise([10, 10], [1.0, 2.0, 3.0]),
        ["piecewise", "boundaries", "strictly increasing"],
    ),
    (
        lambda: js.piecewise([-1, 5], [1.0, 2.0, 3.0]),
        ["piecewise", "boundaries", "non-negative", "-1"],
    ),
    (lambda: js.piecewise([10], [1.0, 2.0, 3.0]), ["piecewise", "values", "one more", "3", "1"]),
    (lambda: js.piecewise([10, 20], [1.0]), ["piecewise", "values", "one more"]),
    (
        lambda: js.multistep(0.1, [30, 20], 0.5),
        ["multistep", "boundaries", "strictly increasing", "20"],
    ),
    (lambda: js.join([cos, cos], [5, 6]), ["join", "boundaries", "one entry fewer"]),
    (lambda: js.join([cos, cos], [-5]), ["join", "boundaries", "non-negative"]),
    # rates and powers
    (lambda: js.exponential(0.1, 10, decay_rate=0.0), ["exponential", "decay_rate", "> 0", "0"]),
    (lambda: js.step(0.1, 10, decay_rate=-0.5), ["step", "decay_rate", "-0.5"]),
    (lambda: js.multistep(0.1, [10], decay_rate=0.0), ["multistep", "decay_rate"]),
    (lambda: js.inverse_time(0.1, 10, decay_rate=-0.1), ["inverse_time", "decay_rate", "-0.1"]),
    (lambda: js.poly(0.1, 0.0, 10, power=0.0), ["poly", "power", "> 0"]),
    (lambda: js.poly(0.1, 0.0, 10, power=-1.0), ["poly", "power", "-1"]),
    (lambda: js.one_cycle(0.1, 100, pct_start=0.0), ["one_cycle", "pct_start", "(0, 1)"]),
    (lambda: js.one_cycle(0.1, 100, pct_start=1.0), ["one_cycle", "pct_start", "1"]),
    (lambda: js.one_cycle(0.1, 100, pct_start=1.5), ["one_cycle", "pct_start", "1.5"]),
    (lambda: js.cosine_restarts(0.1, 10, t_mul=0.0), ["cosine_restarts", "t_mul", ">= 1", "0"]),
    (  # periods that shrink are Keras's (keras.CosineDecayRestarts), not cosine_restarts'
        lambda: js.cosine_restarts(0.1, 10, t_mul=0.5),
        ["cosine_restarts: t_mul must be >= 1, got 0.5"],
    ),
    (
        lambda: js.cosine_restarts(0.1, 10, t_mul=[2.0, 0.75]),
        ["cosine_restarts: t_mul must be >= 1, got 0.75 at index 1"],
    ),
    (
        lambda: js.parse("cosine_restarts(0.1, 10, t_mul=0.5)"),
        ["cosine_restarts: t_mul must be >= 1, got 0.5"],
    ),
    (
        lambda: ks.CosineDecayRestarts(0.1, 10, t_mul=-0.5),
        ["keras.CosineDecayRestarts: t_mul must be >= 0, got -0.5"],
    ),
    # non-finite values
    (lambda: js.poly(float("nan"), 0.0, 10), ["poly", "init_value", "finite", "nan"]),
    (lambda: js.cosine(0.1, decay_steps=math.inf), ["cosine", "decay_steps", "finite", "inf"]),
    (lambda: js.constant(-math.inf), ["constant", "value", "finite"]),
    (lambda: js.piecewise([1.0], [0.1, math.nan]), ["piecewise", "values", "finite"]),
    # unknown names
    (
        lambda: js.cyclic(0.0, 0.1, 10, mode="sawtooth"),
        ["cyclic", "mode", "sawtooth", "triangular"],
    ),
    (lambda: js.one_cycle(0.1, 100, anneal="cosine"), ["one_cycle", "anneal", "'cosine'", "'cos'"]),
    (lambda: js.wsd(0.1, 100, 10, 10, decay_shape="exp"), ["wsd", "decay_shape", "exp", "1-sqrt"]),
    # wrong types
    (lambda: js.poly("a lot", 0.0, 10), ["poly", "init_value", "a lot"]),
    (
        lambda: js.exponential(0.1, 10, 0.5, staircase=2),
        ["exponential", "staircase", "True or False"],
    ),
    (lambda: js.warmup(0.1, warmup_steps=10), ["warmup", "schedule"]),
    (lambda: js.switch([cos], index=3), ["switch", "index", "3"]),
    # compat constructors check what their references check
    (lambda: ts.LinearLR(0.1, start_factor=0.0), ["LinearLR", "start_factor"]),
    (lambda: ts.LinearLR(0.1, total_iters=10.5), ["LinearLR: total_iters", "whole", "got 10.5"]),
    (lambda: ts.ConstantLR(0.1, factor=1.5), ["ConstantLR", "factor", "1.5"]),
    (lambda: ts.CosineAnnealingWarmRestarts(0.1, T_0=0), ["CosineAnnealingWarmRestarts", "T_0"]),
    (lambda: ts.CosineAnnealingWarmRestarts(0.1, T_0=10, T_mult=0), ["T_mult"]),
    (lambda: ts.CosineAnnealingLR(0.1, T_max=0), ["CosineAnnealingLR", "T_max"]),
    (lambda: ts.OneCycleLR(max_lr=0.1), ["OneCycleLR", "total_steps"]),
    (  # PyTorch divides by the warmup's length, pct_start * total_steps - 1
        lambda: ts.OneCycleLR(max_lr=0.1, total_steps=10, pct_start=0.1),
        ["OneCycleLR", "pct_start=0.1", "total_steps=10", "0 steps"],
    ),
    (
        lambda: ts.OneCycleLR(max_lr=0.1, epochs=2, steps_per_epoch=5, pct_start=0.1),
        ["OneCycleLR", "pct_start * total_steps must not be 1"],
    ),
    (
        lambda: ts.OneCycleLR(max_lr=0.1, total_steps=100, anneal_strategy="exp"),
        ["anneal_strategy"],
    ),
    (lambda: ts.CyclicLR(0.1, base_lr=0.01, max_lr=0.1, scale_fn=abs), ["CyclicLR", "scale_fn"]),
    (lambda: ts.StepLR(0.1, step_size=10, last_epoch=5), ["StepLR", "last_epoch"]),
    (lambda: ts.StepLR(0.1, step_size=2.5), ["StepLR", "step_size", "whole", "2.5"]),
    (lambda: ts.MultiStepLR(0.1, milestones=[3, 7.5]), ["MultiStepLR", "milestones", "7.5"]),
    (lambda: ts.CosineAnnealingWarmRestarts(0.1, T_0="3"), ["T_0", "number", "'3'"]),
    (lambda: js.exponential(0.1, "3", 0.5), ["exponential", "decay_steps", "number"]),
    # a boolean is no number: True where a count or a rate goes is a mistake, not 1
    (lambda: js.cosine(0.1, decay_steps=True), ["cosine", "decay_steps", "number", "True"]),
    (lambda: js.piecewise([10], np.array([True, False])), ["piecewise", "values", "number"]),
    (lambda: js.constant(jnp.array(False)), ["constant", "value", "number"]),
    (lambda: js.constant(1 + 1j), ["constant", "value", "number"]),  # not a real number
    (lambda: js.cosine(0.1, 2**200), ["cosine", "decay_steps", "finite"]),  # beyond float32
    (lambda: js.cosine([], 10), ["cosine", "init_value", "empty batch"]),
    (lambda: js.parse("cosine(0.1, decay_steps=[])"), ["decay_steps", "empty batch"]),
    (lambda: js.exponential(0.1, 10, 0.5, staircase=None), ["staircase", "True or False"]),
    (lambda: js.wsd(1.0, [100, 200], [1, 2, 3], 10), ["wsd", "batch shapes do not broadcast"]),
    (lambda: js.one_cycle(0.1, 100, anneal=np.array(["cos"])), ["one_cycle", "anneal"]),
    (lambda: js.switch([cos, cos], index=True), ["switch", "index", "integers", "True"]),
    (lambda: js.switch([cos, cos], index=[]), ["switch", "index", "integers"]),
    (lambda: js.switch([cos, cos], index=10**30), ["switch", "index", "integers"]),
    (
        lambda: ks.CosineDecay([1.0, 2.0, 3.0], 10, alpha=[0.1, 0.2]),
        ["keras.CosineDecay: the hyperparameters' batch shapes do not broadcast"],
    ),
    (
        lambda: ts.PolynomialLR(np.array([0.1, 0.2]), total_iters=0, power=np.ones(3)),
        ["torch.PolynomialLR: the hyperparameters' batch shapes do not broadcast"],
    ),
    # ... in their own names, not those of the jaxsched factory they build on
    (lambda: ts.ExponentialLR(0.1, gamma=-1), ["torch.ExponentialLR: gamma must be > 0"]),
    (  # a negative total_iters is PyTorch's too: lr * start_factor for good
        lambda: ts.LinearLR(0.1, total_iters=math.inf),
        ["torch.LinearLR: total_iters", "finite", "inf"],
    ),
    (lambda: ts.MultiStepLR(0.1, [5, 3], gamma=-1), ["torch.MultiStepLR: gamma must be > 0"]),
    (lambda: ts.MultiStepLR(0.1, [3, 5], gamma=-1), ["torch.MultiStepLR: gamma must be > 0"]),
    (
        lambda: ts.CyclicLR(base_lr=0.1, max_lr=0.2, step_size_up=0),
        ["torch.CyclicLR: step_size_up"],
    ),
    (
        lambda: ks.ExponentialDecay(math.nan, 10, 0.5),
        ["keras.ExponentialDecay: initial_learning_rate must be finite"],
    ),
    (lambda: ks.PolynomialDecay(0.1, 10, math.inf), ["keras.PolynomialDecay: end_learning_rate"]),
    (lambda: ks.PolynomialDecay(0.1, decay_steps=0), ["decay_steps"]),
]


@pytest.mark.parametrize(("call", "words"), BAD, ids=[":".join(w[:2]) for _, w in BAD])
def test_bad_input_names_factory_parameter_and_value(call, words):
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"


def test_batch_error_names_the_index():
    with pytest.raises(ValueError, match=r"poly: decay_steps must be > 0, got -3 at index 2"):
        js.poly(0.1, 0.0, decay_steps=jnp.array([10.0, 20.0, -3.0, 5.0]))


def test_batched_boundaries_error_names_row_and_position():
    with pytest.raises(ValueError, match=r"got 5 after 10 at index \(1, 1\)"):
        js.piecewise(boundaries=[[1, 2], [10, 5]], values=[[1.0, 2.0, 3.0]] * 2)


def test_grid_error_names_the_grid_point():
    with pytest.raises(ValueError, match=r"decay_steps.*grid point 2: .*decay_steps=0"):
        js.grid(js.cosine, init_value=0.1, decay_steps=[10, 20, 0])


def test_pair_errors_name_both_values():
    with pytest.raises(ValueError, match=r"pct_start=0.6 and three_phase=True"):
        js.one_cycle(0.1, 100, pct_start=0.6, three_phase=True)


@pytest.mark.parametrize(
    "spec",
    [
        "polynomial(init_value=0.1)",  # unknown factory
        "poly(init_value=0.1, end_value=0.0, decay_steps=1000, exponent=2)",  # unknown argument
        "poly(init_value=0.1, end_value=0.0)",  # missing argument
        "poly(init_value=__import__('os'), end_value=0.0, decay_steps=10)",  # not a literal
        "poly(init_value=0.1 * 2, end_value=0.0, decay_steps=10)",  # an expression
        "poly(**{'init_value': 0.1})",
        "0.1",  # not a call
        "poly(",  # not valid syntax
        "os.system('true')",
        "poly(init_value=0.1, end_value=0.0, decay_steps=-10)",  # a bad value
        "cosine(init_value=0.1, decay_steps=100, init_value=0.2)",  # given twice
    ],
)
def test_bad_spec_strings(spec):
    with pytest.raises(ValueError, match=r"parse|poly"):
        js.parse(spec)


def test_unknown_kind_in_from_dict():
    with pytest.raises(ValueError, match="unknown schedule 'nope'; known: constant, cosine"):
        js.from_dict({"kind": "nope"})  # nothing close: no suggestion
    with pytest.raises(ValueError, match="kind"):
        js.from_dict({"init_value": 0.1})


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: js.parse("cosin(0.1, 100)"), "unknown schedule 'cosin' (did you mean 'cosine'?)"),
        (
            lambda: js.from_dict({"kind": "cosin", "init_value": 0.1, "decay_steps": 100}),
            "unknown schedule 'cosin' (did you mean 'cosine'?); known: constant",
        ),
        (
            lambda: js.parse("torch.StepLr(0.1, step_size=10)"),
            "unknown schedule 'torch.StepLr' (did you mean 'torch.StepLR'?)",
        ),
        (
            lambda: js.parse("warmup(cosine_restart(0.1, 10), 5)"),
            "unknown schedule 'cosine_restart' (did you mean 'cosine_restarts'?)",
        ),
        (  # a compat name without its library, in any case: that one, not 'step'
            lambda: js.parse("stepLR(0.1, step_size=10)"),
            "unknown schedule 'stepLR' (did you mean 'torch.StepLR'?)",
        ),
        (
            lambda: js.parse("Cosine(0.1, 100)"),
            "unknown schedule 'Cosine' (did you mean 'cosine'?)",
        ),
    ],
)
def test_a_misspelled_schedule_name_gets_a_suggestion(call, message):
    with pytest.raises(ValueError) as e:
        call()
    assert message in str(e.value)


# Boundaries a float32 cannot hold: 2**24 + 1 and 2**25 + 1 round to 2**24 and 2**25
# (float32 steps are 2 and 4 apart there).
UNHELD = [  # (make a schedule with boundary b, the warning's words, fractional b accepted)
    (lambda b: js.piecewise([10, b], [1.0, 2.0, 3.0]), "piecewise: boundaries at index 1", True),
    (lambda b: ks.PiecewiseConstantDecay([b], [1.0, 2.0]), "keras.PiecewiseConstantDecay", True),
    (lambda b: js.multistep(1.0, [b], 0.5), "multistep: boundaries at index 0", True),
    (lambda b: ts.MultiStepLR(1.0, milestones=[b], gamma=0.5), "MultiStepLR: milestones", False),
    (lambda b: ts.MultiStepLR(1.0, [9, b, 9], 0.5), "torch.MultiStepLR: milestones is", False),
    (lambda b: js.join([cos, cos], boundaries=[b]), "join: boundaries at index 0", True),
    # offsets, where a schedule starts
    (lambda b: js.warmup(cos, warmup_steps=b), "warmup: warmup_steps is", True),
    (lambda b: js.exponential(1.0, 10, 0.5, begin=b), "exponential: begin is", True),
    (lambda b: js.poly(1.0, 0.0, 10, begin=b), "poly: begin is", True),
    # periods, whose multiples are switches
    (lambda b: js.step(1.0, step_size=b, decay_rate=0.5), "step: step_size is", True),
    (lambda b: js.exponential(1.0, b, 0.5, staircase=True), "exponential: decay_steps", True),
    (lambda b: js.inverse_time(1.0, [10, b], 0.5, staircase=True), "decay_steps at index 1", True),
    (lambda b: js.poly(1.0, 0.0, b, cycle=True), "poly: decay_steps", True),
    (lambda b: js.cosine_restarts(1.0, b), "cosine_restarts: first_decay_steps", True),
    (lambda b: ts.StepLR(1.0, step_size=b), "torch.StepLR: step_size is", False),
    (lambda b: ts.ConstantLR(1.0, total_iters=b), "torch.ConstantLR: total_iters is", False),
    (lambda b: ts.CosineAnnealingWarmRestarts(1.0, b), "CosineAnnealingWarmRestarts: T_0", False),
    (lambda b: ks.ExponentialDecay(1.0, b, 0.5, staircase=True), "keras.ExponentialDecay", True),
    # every other step count, where a warmup or a decay ends
    (lambda b: js.wsd(1.0, 2**26, warmup_steps=b, decay_steps=10), "wsd: warmup_steps is", True),
    (lambda b: js.wsd(1.0, b, warmup_steps=0, decay_steps=10), "wsd: total_steps is", True),
    (lambda b: js.inverse_sqrt(1.0, b), "inverse_sqrt: warmup_steps is", True),
    (lambda b: js.cosine(1.0, b), "cosine: decay_steps is", True),
    (lambda b: js.rex(1.0, b), "rex: decay_steps is", True),
    (lambda b: js.poly(1.0, 0.0, b), "poly: decay_steps is", True),
    (lambda b: js.one_cycle(1.0, b), "one_cycle: total_steps is", True),
    (lambda b: js.cyclic(0.0, 1.0, step_size_up=b), "cyclic: step_size_up is", True),
    (lambda b: js.restarts(1.0, b), "restarts: cycle_steps is", True),
    (lambda b: ts.CosineAnnealingLR(1.0, T_max=b), "torch.CosineAnnealingLR: T_max is", False),
    (lambda b: ts.PolynomialLR(1.0, total_iters=b), "torch.PolynomialLR: total_iters is", False),
    (lambda b: ts.LinearLR(1.0, total_iters=b), "torch.LinearLR: total_iters is", False),
    (lambda b: ts.OneCycleLR(max_lr=1.0, total_steps=b), "torch.OneCycleLR: total_steps", False),
    (lambda b: ts.OneCycleLR(max_lr=1.0, epochs=b, steps_per_epoch=1), "OneCycleLR: total", False),
    # a class built directly warns as its factory does
    (lambda b: js.Cosine(1.0, b, 0.0, 1.0), "cosine: decay_steps is", True),
]


@pytest.mark.parametrize(("make", "words", "fractional"), UNHELD)
def test_a_boundary_the_dtype_cannot_hold_is_rounded_with_a_warning(make, words, fractional):
    held = [2**24, 2**25 + 4, 1e6]
    unheld = [(2**24 + 1, "16777216"), (2**25 + 1, "33554432")]
    if fractional:  # rounded in place: the switch stays between the same whole steps
        held += [12.5, 158.17674123]
        unheld += [(2**24 + 0.5, "16777216")]
    for b in held:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            make(b)
    for b, rounded in unheld:
        with pytest.warns(UserWarning, match="cannot hold") as caught:
            make(b)
        (warning,) = caught
        assert words in str(warning.message) and f"rounded to {rounded}" in str(warning.message)
        assert warning.filename == __file__  # points at the caller, not at jaxsched


def test_an_unheld_boundary_switches_where_it_says_in_float64():
    with pytest.warns(UserWarning, match="16777217, which float32 cannot hold"):
        rounded = js.piecewise([2**24 + 1], [1.0, 2.0])
    assert float(rounded(2**24)) == 2.0  # float32: the switch moved a step earlier
    with x64_mode(True), warnings.catch_warnings():
        warnings.simplefilter("error")
        exact = js.piecewise([2**24 + 1], [1.0, 2.0])
        assert float(exact(2**24)) == 1.0 and float(exact(2**24 + 1)) == 2.0


def test_traced_invalid_values_are_clamped_not_checked():
    """Under jit nothing is checked. A zero-length decay is the limit of a short one (the
    initial value at step 0, the end from step 1); a negative warmup is none; no NaN."""

    @jax.jit
    def values(decay_steps, warmup_steps, step_size):
        steps = jnp.arange(0, 5)
        return (
            js.poly(1.0, 0.25, decay_steps=decay_steps)(steps),
            js.cosine(1.0, decay_steps=decay_steps, end_value=0.25)(steps),
            js.warmup(js.constant(1.0), warmup_steps=warmup_steps)(steps),
            js.step(1.0, step_size=step_size, decay_rate=0.5)(steps),
            js.cyclic(0.0, 1.0, step_size_up=step_size)(steps),
        )

    poly, cosine, warm, step, cyc = values(0.0, -3.0, 0.0)
    np.testing.assert_array_equal(poly, [1.0, 0.25, 0.25, 0.25, 0.25])
    np.testing.assert_array_equal(cosine, [1.0, 0.25, 0.25, 0.25, 0.25])
    np.testing.assert_array_equal(warm, [1.0] * 5)
    assert step[0] == 1.0 and np.all(step[1:] == 0.0)  # decays at every (tiny) step
    assert np.all(np.isfinite(cyc))


def test_traced_t_mul_is_not_checked():
    """Under jit a t_mul below 1 is not refused: its periods shrink, NaN past their end
    (Keras's, which CosineDecayRestarts builds), and t_mul <= 0 acts as 1."""

    @jax.jit
    def values(t_mul):
        return js.cosine_restarts(1.0, 10, t_mul=t_mul)(jnp.array([5, 10, 15, 25]))

    shrinking, none, ones = values(0.5), values(0.0), values(1.0)
    np.testing.assert_allclose(shrinking[:3], [0.5, 1.0, 1.0], rtol=1e-6)
    assert np.isnan(shrinking[3])  # past 10 / (1 - 0.5) = 20 steps
    np.testing.assert_array_equal(none, ones)
    assert np.all(np.isfinite(ones))


# Every factory once, with concrete arguments (the ways their arguments are converted).
CONSTRUCTIONS = """
import logging, sys
import jax
import jaxsched as js
from jaxsched.compat import keras as ks, optax as ox, torch as ts

jax.numpy.zeros(()).block_until_ready()  # the backend itself may compile
compiled = []
class Compiles(logging.Handler):
    def emit(self, record):
        if record.getMessage().startswith("Finished XLA compilation"):
            compiled.append(record.getMessage())
logging.getLogger("jax").addHandler(Compiles())
jax.config.update("jax_log_compiles", True)

cos = js.cosine(0.1, 100)
built = {
    "constant": js.constant(0.1),
    "cosine": js.cosine([0.1, 0.2], 100, exponent=2),
    "cosine_restarts": js.cosine_restarts(0.1, 100, 1.5, 0.5, 0.01),
    "cyclic": js.cyclic(0.01, 0.1, 10, mode="exp_range", gamma=0.99),
    "exponential": js.exponential(0.1, 100, 0.5, staircase=True, end_value=[None, 0.01]),
    "inverse_sqrt": js.inverse_sqrt(0.1, 10),
    "inverse_time": js.inverse_time(0.1, 10, 0.5, power=2),
    "linear": js.linear(0.0, 0.1, 10),
    "multistep": js.multistep(0.1, [10, 20], 0.5),
    "one_cycle": js.one_cycle(0.1, 100),
    "piecewise": js.piecewise([10, 20], [0.1, 0.01, 0.001]),
    "piecewise_interpolate": js.piecewise_interpolate([0, 10, 20], [0.0, 0.1, 0.001], "cos"),
    "poly": js.poly(0.1, 0.0, 100, power=2, cycle=True),
    "restarts": js.restarts(0.1, 10, 0.01, cycle_limit=3, cycle_mul=2.0, cycle_decay=0.5),
    "rex": js.rex(0.1, 100),
    "step": js.step(0.1, 10, 0.5),
    "warmup": js.warmup(cos, 10),
    "wsd": js.wsd(0.1, 100, 10, 20),
    "join": js.join([js.linear(0.0, 0.1, 10), cos], [10]),
    "switch": js.switch([cos, js.constant(0.1)], [1, 0]),
    "grid": js.grid(js.cosine, init_value=[0.1, 0.2], decay_steps=[10, 20]),
    "stack": js.stack([cos, js.constant(0.1)]),
    "from_dict": js.from_dict(cos.to_dict()),
    "parse": js.parse("cosine(init_value=0.1, decay_steps=100)"),
    "torch.StepLR": ts.StepLR(0.1, 10),
    "torch.MultiStepLR": ts.MultiStepLR(0.1, [20, 10, 10]),
    "torch.ConstantLR": ts.ConstantLR(0.1),
    "torch.LinearLR": ts.LinearLR(0.1),
    "torch.ExponentialLR": ts.ExponentialLR(0.1, 0.9),
    "torch.PolynomialLR": ts.PolynomialLR(0.1, power=2),
    "torch.CosineAnnealingLR": ts.CosineAnnealingLR(0.1, 10),
    "torch.CosineAnnealingWarmRestarts": ts.CosineAnnealingWarmRestarts(0.1, 10, 2),
    "torch.CyclicLR": ts.CyclicLR(base_lr=0.01, max_lr=0.1, mode="triangular2"),
    "torch.OneCycleLR": ts.OneCycleLR(max_lr=1.0, epochs=3, steps_per_epoch=10),
    "torch.LambdaLR": ts.LambdaLR(0.1, lambda e: 0.9**e),
    "torch.MultiplicativeLR": ts.MultiplicativeLR(0.1, lambda e: 0.9),
    "torch.SequentialLR": ts.SequentialLR(0.1, [ts.StepLR(0.1, 10), ts.LinearLR(0.1)], [5]),
    "torch.ChainedScheduler": ts.ChainedScheduler(0.1, [ts.StepLR(0.1, 10), ts.LinearLR(0.1)]),
    "torch.ReduceLROnPlateau": ts.ReduceLROnPlateau(0.1, factor=[0.1, 0.5]),
    "keras.ReduceLROnPlateau": ks.ReduceLROnPlateau(0.1, min_delta=-0.01),
    "plateau": js.plateau(0.1, patience=[1, 2]),
    "keras.ExponentialDecay": ks.ExponentialDecay(0.1, 100, 0.5),
    "keras.InverseTimeDecay": ks.InverseTimeDecay(0.1, 100, 0.5),
    "keras.PolynomialDecay": ks.PolynomialDecay(0.1, 100, cycle=True),
    "keras.PiecewiseConstantDecay": ks.PiecewiseConstantDecay([10, 20], [0.1, 0.01, 0.001]),
    "keras.CosineDecay": ks.CosineDecay(0.1, 100, warmup_target=0.2, warmup_steps=10),
    "keras.CosineDecayRestarts": ks.CosineDecayRestarts(0.1, 100, alpha=0.1),
    "optax.constant_schedule": ox.constant_schedule(0.1),
    "optax.polynomial_schedule": ox.polynomial_schedule(0.1, 0.0, 2, [0, 100]),
    "optax.linear_schedule": ox.linear_schedule(0.1, 0.0, 100, -5),
    "optax.warmup_constant_schedule": ox.warmup_constant_schedule(0.0, 0.1, 10),
    "optax.exponential_decay": ox.exponential_decay(0.1, 100, [0.0, 0.5], 3, True, 0.01),
    "optax.warmup_exponential_decay_schedule": ox.warmup_exponential_decay_schedule(
        0.0, 0.1, 10, 100, 0.5
    ),
    "optax.cosine_decay_schedule": ox.cosine_decay_schedule(0.1, 100, 0.1, [0.0, 2.0]),
    "optax.warmup_cosine_decay_schedule": ox.warmup_cosine_decay_schedule(0.0, 0.1, 10, 100),
    "optax.sgdr_schedule": ox.sgdr_schedule(
        [dict(init_value=0.0, peak_value=0.1, warmup_steps=5, decay_steps=50)] * 2
    ),
    "optax.piecewise_constant_schedule": ox.piecewise_constant_schedule(0.1, {-1: 2, 10: 0.5}),
    "optax.piecewise_interpolate_schedule": ox.piecewise_interpolate_schedule(
        "cosine", 0.1, {-1: 2, 10: 0.5}
    ),
    "optax.linear_onecycle_schedule": ox.linear_onecycle_schedule(100, 0.1),
    "optax.cosine_onecycle_schedule": ox.cosine_onecycle_schedule(100, [0.1, 0.2]),
    "optax.join_schedules": ox.join_schedules([cos, cos], [[10, 20]]),
}
factories = {n for n in js.__all__ if n[0].islower() and n not in ("compat", "plateau_transform")}
factories |= {f"torch.{n}" for n in ts.__all__} | {f"keras.{n}" for n in ks.__all__}
factories |= {f"optax.{n}" for n in ox.__all__}
assert factories <= set(built), sorted(factories - set(built))
assert not compiled, compiled
leaves = jax.tree_util.tree_leaves(list(built.values()))
assert all(isinstance(x, jax.Array) for x in leaves), {type(x) for x in leaves}
"""


def test_building_schedules_compiles_nothing():
    """Factories check and derive their arguments with NumPy: a jnp operation on a new
    shape compiles a small program (5-20 ms each, 0.1 s for some factories)."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    done = subprocess.run(
        [sys.executable, "-c", CONSTRUCTIONS], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_python_ints_beyond_64_bits_are_numbers():
    # numpy holds 10**30 as an object; it is a number of steps all the same
    assert float(js.cosine(0.1, 10**30).decay_steps) == np.float32(1e30)


# The exported classes check their fields as their factories do, with the same messages.
CLASS_BAD = [
    (
        lambda: js.Cosine(init_value=1.0, decay_steps=-10.0, end_value=0.0, exponent=1.0),
        "cosine: decay_steps must be > 0, got -10",
    ),
    (
        lambda: js.WSD(1.0, total_steps=100, warmup_steps=100, decay_steps=10, end_value=0.0),
        "wsd: warmup_steps must be < total_steps, got warmup_steps=100 and total_steps=100",
    ),
    (
        lambda: js.Piecewise(boundaries=[10, 5], values=[1.0, 2.0, 3.0]),
        "piecewise: boundaries must be strictly increasing, got 5 after 10 at index 1",
    ),
    (
        lambda: js.OneCycle(1.0, 100, 0.3, 25.0, 1e4, three_phase=False, anneal="cubic"),
        "one_cycle: anneal must be one of 'cos', 'linear', got 'cubic'",
    ),
    (lambda: js.Warmup(0.1, 10, 0.0), "warmup: schedule must be a schedule, got 0.1"),
    (lambda: js.Switch(schedules=(cos,), index=3), "switch: index must be in [0, 1), got 3"),
    (
        lambda: js.StepDecay(init_value=True, step_size=10, decay_rate=0.5),
        "step: init_value must be a number or an array of numbers, got True",
    ),
]


@pytest.mark.parametrize(("make", "message"), CLASS_BAD)
def test_a_class_built_directly_checks_its_fields_as_its_factory(make, message):
    with pytest.raises(ValueError) as e:
        make()
    assert str(e.value) == message


def test_a_class_built_directly_equals_its_factorys_schedule():
    direct = js.Cosine(init_value=[0.1, 0.2], decay_steps=100, end_value=0.0, exponent=1.0)
    built = js.cosine([0.1, 0.2], decay_steps=100)
    assert repr(direct) == repr(built)
    assert direct.decay_steps.shape == (2,) and direct.decay_steps.dtype == built.decay_steps.dtype
    np.testing.assert_array_equal(direct(50), built(50))
    bounded = js.Exponential(1.0, 10, 0.5, staircase=False, begin=0, end_value=None)
    assert repr(bounded) == repr(js.exponential(1.0, 10, 0.5))


def test_a_schedule_rebuilt_from_its_leaves_is_not_checked():
    """Inside jit and vmap, and in tree_map, leaves are tracers or placeholders: a pytree
    rebuilt from them takes them as they are."""
    batch = js.grid(js.cosine, init_value=[0.1, 0.2], decay_steps=100)
    leaves = [batch.init_value, jnp.array([100.0, -5.0]), batch.end_value, batch.exponent]
    rebuilt = jax.tree.unflatten(jax.tree.structure(batch), leaves)
    assert float(rebuilt.decay_steps[1]) == -5.0
    assert jax.tree.map(lambda x: None, batch).decay_steps is None
    np.testing.assert_array_equal(jax.jit(jax.vmap(lambda s: s(50)))(batch), batch(50))


def test_torch_only_parameters_are_not_the_core_factories():
    with pytest.raises(TypeError):
        js.step(0.1, step_size=10, decay_rate=0.5, decays_per_rate=2.0)
    with pytest.raises(TypeError):
        js.cyclic(0.0, 1.0, step_size_up=10, mode="exp_range", gamma=0.9, gamma_steps=2.0)
    stored = ts.StepLR(0.1, step_size=10, gamma=0.9)  # float32 does not hold 0.9
    assert stored.kind == "torch.step_per_rate" and stored.to_dict()["decays_per_rate"] > 1
    assert repr(js.from_dict(stored.to_dict())) == repr(stored)
    assert ts.StepLR(0.1, step_size=10, gamma=0.5).kind == "step"  # held exactly: the core's
    with pytest.raises(ValueError, match=r"^torch.StepLR: gamma must be > 0, got -1 at index 1$"):
        ts.StepLR(0.1, step_size=10, gamma=[0.9, -1.0])


def test_dicts_saved_with_the_torch_only_fields_on_core_kinds_still_load():
    """Before the fields moved, every step and cyclic dict held them (1 unless torch's
    gamma needed them): such a dict loads as the core kind, or as the torch one."""
    plain = js.step(0.1, step_size=10, decay_rate=0.5).to_dict()
    assert js.from_dict({**plain, "decays_per_rate": 1.0}).to_dict() == plain
    stored = ts.StepLR(0.1, step_size=10, gamma=0.9)
    old = {**stored.to_dict(), "kind": "step"}
    assert js.from_dict(old).kind == "torch.step_per_rate"
    np.testing.assert_array_equal(js.from_dict(old)(jnp.arange(100)), stored(jnp.arange(100)))
    cyclic = ts.CyclicLR(0.1, 0.1, 1.0, step_size_up=3, mode="exp_range", gamma=0.9)
    old = {**cyclic.schedule.to_dict(), "kind": "cyclic"}
    assert js.from_dict(old).to_dict() == cyclic.schedule.to_dict()
