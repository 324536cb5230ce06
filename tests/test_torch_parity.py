"""Parity with torch.optim.lr_scheduler through golden values (tests/golden/, written by
make_torch_golden.py with torch installed; this suite itself needs no torch)."""

from __future__ import annotations

import json
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
from conftest import x64_mode

from jaxsched.compat import torch as lr_scheduler

GOLDEN = Path(__file__).parent / "golden"
SCHEDULERS = json.loads((GOLDEN / "torch_schedulers.json").read_text())
HUGE = json.loads((GOLDEN / "torch_huge_steps.json").read_text())
CASES = SCHEDULERS["cases"]


def _build(case):
    make = getattr(lr_scheduler, case["class"])
    return make(case["lr"], **case["kwargs"], **case.get("ignored_kwargs", {}))


# One step array for every case: eager ops compile once per shape, not once per case.
STEPS = np.arange(max(len(c["lrs"]) for c in CASES))


def _case_id(case):
    return f"{case['class']}-{json.dumps(case['kwargs'], sort_keys=True)}"


#: Covered by test_torch_more.py (golden values in torch_more.json).
ELSEWHERE = {
    "LambdaLR",
    "MultiplicativeLR",
    "SequentialLR",
    "ChainedScheduler",
    "ReduceLROnPlateau",
}


def test_every_class_is_covered():
    classes = {c["class"] for c in CASES}
    assert classes == set(lr_scheduler.__all__) - ELSEWHERE
    assert all(sum(c["class"] == k for c in CASES) >= 10 for k in classes)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_matches_torch_in_float64(case, x64):
    schedule = _build(case)
    ours = schedule(STEPS)[: len(case["lrs"])]
    assert ours.dtype == jnp.float64
    want = np.asarray(case["lrs"])
    np.testing.assert_allclose(ours, want, rtol=1e-6, atol=1e-12 * np.abs(want).max())


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_matches_torch_in_float32(case):
    schedule = _build(case)
    ours = schedule(STEPS.astype(np.int32))[: len(case["lrs"])]
    want = np.asarray(case["lrs"])
    # The float32 rounding of the hyperparameters themselves (lr = 0.1 is stored as
    # 0.10000000149) bounds the agreement at a few float32 ulps: rtol 1e-5.
    np.testing.assert_allclose(ours, want, rtol=1e-5, atol=1e-9 * np.abs(want).max())


def _float32_storage_error(case) -> float:
    """Relative error that storing gamma in float32 causes after all of StepLR's decays."""
    if case["class"] != "StepLR":
        return 0.0
    gamma = case["kwargs"].get("gamma", 0.1)
    decays = max(case["steps"]) // case["kwargs"]["step_size"]
    return abs(float(np.float32(gamma)) - gamma) / gamma * decays


@pytest.mark.parametrize("case", HUGE["cases"], ids=_case_id)
def test_huge_steps_match_torch_in_float64(case, x64):
    schedule = _build(case)
    ours = schedule(jnp.asarray(case["steps"], dtype=jnp.int32))
    # torch's own recursion drifts by up to ~6e-7 from the exact value near 2**31.
    np.testing.assert_allclose(ours, case["lrs"], rtol=1e-6, atol=1e-12 * case["lr"])


@pytest.mark.parametrize(
    "case", [c for c in HUGE["cases"] if _float32_storage_error(c) < 1e-6], ids=_case_id
)
def test_huge_steps_match_torch_in_float32(case):
    """Exact int32 step arithmetic: periods and staircases stay exact up to 2**31 - 1.

    (StepLR with gamma=0.999999 and two million decays is left to the float64 test:
    float32 cannot store that gamma closely enough, which is not the step arithmetic.)
    """
    schedule = _build(case)
    ours = schedule(jnp.asarray(case["steps"], dtype=jnp.int32))
    np.testing.assert_allclose(ours, case["lrs"], rtol=1e-5, atol=1e-9 * case["lr"])


# Torch checks these by Python type, not value: jaxsched takes whole-number floats
# (T_0=2.0) and pct_start=0 (torch's own message says "between 0 and 1").
TYPE_ONLY = [
    {"T_0": 2.0},
    {"max_lr": 0.1, "total_steps": 10, "pct_start": 0},
]


@pytest.mark.parametrize(
    "case",
    [
        c
        for c in SCHEDULERS["raising_cases"]
        # ZeroDivisionError: a zero-length phase torch divides by when built
        if c["at_step"] is None and c["raises"] in ("ValueError", "ZeroDivisionError")
    ],
    ids=_case_id,
)
def test_rejects_what_torch_rejects_at_construction(case):
    if case["kwargs"] in TYPE_ONLY:
        _build(case)  # accepted, on purpose
        return
    with pytest.raises(ValueError, match=case["class"]):
        _build(case)


def test_exponential_lr_float32_does_not_compound_gammas_rounding():
    """PyTorch multiplies by ``gamma`` in float64; a float32 ``gamma`` (``0.99`` is
    ``0.9900000095``) compounds its rounding, ``3e-5`` after 3000 steps. ExponentialLR
    stores the decay as a halving period instead: relative error ~1e-7 per e-fold."""
    rng = np.random.default_rng(7)
    steps = np.arange(0, 5001, 7)
    for _ in range(40):
        lr = float(10 ** rng.uniform(-4, 0))
        gamma = float(rng.choice([rng.uniform(0.9, 1.0), rng.uniform(1.0, 1.001)]))
        ours = np.asarray(lr_scheduler.ExponentialLR(lr, gamma=gamma)(steps.astype(np.int32)))
        want = lr * gamma ** steps.astype(np.float64)
        held = want > np.finfo(np.float32).tiny * 2**10  # away from float32's underflow
        e_folds = np.abs(np.log(want[held] / lr))
        err = np.abs(ours[held] / want[held] - 1)
        assert np.all(err <= 2e-7 * (1 + e_folds)), (lr, gamma, err.max())


def test_inputs_pytorch_takes_as_it_does():
    """Milestones as any iterable (PyTorch counts them), and a ``scale_mode`` that PyTorch
    ignores without a ``scale_fn`` (each mode sets its own)."""
    steps = np.arange(100)
    listed = lr_scheduler.MultiStepLR(1.0, milestones=[30, 80], gamma=0.5)(steps)
    for milestones in ({80, 30}, frozenset([30, 80]), range(30, 81, 50), iter([80, 30])):
        got = lr_scheduler.MultiStepLR(1.0, milestones=milestones, gamma=0.5)(steps)
        np.testing.assert_array_equal(got, listed)
    for mode in ("triangular", "triangular2", "exp_range"):
        kw = {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 7, "mode": mode, "gamma": 0.99}
        plain = lr_scheduler.CyclicLR(**kw)(steps)
        for scale_mode in ("cycle", "iterations"):
            got = lr_scheduler.CyclicLR(**kw, scale_mode=scale_mode)(steps)
            np.testing.assert_array_equal(got, plain)


def test_cyclic_lr_exp_range_float32_does_not_compound_gammas_rounding():
    """As ExponentialLR: ``gamma ** t`` with a float32 ``gamma`` drifts (5e-5 after 3000
    steps); CyclicLR stores ``gamma`` as ``(gamma ** k, k)`` computed in float64."""
    rng = np.random.default_rng(8)
    steps = np.arange(0, 5001, 7)
    for _ in range(20):
        kw = {
            "base_lr": float(10 ** rng.uniform(-4, -2)),
            "max_lr": float(10 ** rng.uniform(-2, 0)),
            "step_size_up": int(rng.integers(1, 500)),
            "mode": "exp_range",
            "gamma": float(rng.uniform(0.9995, 1.0)),
        }
        ours = np.asarray(lr_scheduler.CyclicLR(**kw)(steps.astype(np.int32)))
        with x64_mode(True):
            want = np.asarray(lr_scheduler.CyclicLR(**kw)(steps))  # float64 throughout
        np.testing.assert_allclose(ours, want, rtol=2e-6, err_msg=str(kw))
        schedule = lr_scheduler.CyclicLR(**kw)
        assert schedule.to_dict()["schedule"]["gamma_steps"] > 1  # a halving period


def test_step_lr_float32_does_not_compound_gammas_rounding():
    """As ExponentialLR: ``gamma ** (t // step_size)`` with a float32 ``gamma`` drifts
    (``StepLR(step_size=1, gamma=0.99)`` was 2.9e-5 off at step 3000)."""
    rng = np.random.default_rng(9)
    steps = np.arange(0, 5001, 7)
    for _ in range(30):
        lr, step_size = float(10 ** rng.uniform(-4, 0)), int(rng.integers(1, 5))
        gamma = float(rng.uniform(0.9, 1.0))
        ours = np.asarray(lr_scheduler.StepLR(lr, step_size, gamma)(steps.astype(np.int32)))
        want = lr * gamma ** (steps // step_size).astype(np.float64)
        held = want > np.finfo(np.float32).tiny * 2**10
        e_folds = np.abs(np.log(want[held] / lr))
        err = np.abs(ours[held] / want[held] - 1)
        assert np.all(err <= 2e-7 * (1 + e_folds)), (lr, step_size, gamma, err.max())


@pytest.mark.parametrize(
    ("make", "values"),
    [  # the constructors' own paths: unsorted, repeated or no milestones, zero lengths
        (lambda v: lr_scheduler.MultiStepLR(v, milestones=[5, 2, 2], gamma=0.5), [0.1, 0.2, 0.3]),
        (lambda v: lr_scheduler.MultiStepLR(0.1, [7, 2, 2, -1], gamma=v), [0.5, 0.25, 0.1, 0.9]),
        (lambda v: lr_scheduler.MultiStepLR(v, milestones=[], gamma=0.5), [0.1, 0.2]),
        (lambda v: lr_scheduler.StepLR(0.1, step_size=3, gamma=v), [0.5, 0.99, 0.3]),
        (lambda v: lr_scheduler.PolynomialLR(0.1, total_iters=0, power=v), [1.0, 2.0]),
        (lambda v: lr_scheduler.PolynomialLR(0.1, total_iters=v, power=0.0), [3, 5]),
        (lambda v: lr_scheduler.PolynomialLR(v, total_iters=-2), [0.1, 0.3]),
        (
            lambda v: lr_scheduler.LinearLR(0.1, start_factor=0.5, end_factor=v, total_iters=0),
            [0.5, 1.0, 0.1],
        ),
        (lambda v: lr_scheduler.ConstantLR(0.1, factor=0.5, total_iters=v), [2, -1, 0, 5]),
    ],
)
def test_a_batch_of_one_hyperparameter_equals_a_loop_over_it(make, values):
    steps = np.arange(12)
    batch = make(np.asarray(values))
    assert batch.batch_shape == (len(values),)
    want = np.stack([np.asarray(make(v)(steps)) for v in values])
    np.testing.assert_allclose(np.asarray(batch(steps[:, None])).T, want, rtol=1e-6)
