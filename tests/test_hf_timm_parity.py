"""Parity with Hugging Face's ``get_scheduler`` and timm's schedulers through golden values
(tests/golden/hf_timm.json, written by make_hf_timm_golden.py with torch, transformers and
timm installed; this suite imports none of them), and the contract: every numeric
argument vmaps, bad arguments are refused by name, specs round-trip."""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched
from jaxsched.compat import timm, transformers

GOLDEN = json.loads((Path(__file__).parent / "golden" / "hf_timm.json").read_text())
HF, TIMM = GOLDEN["transformers"], GOLDEN["timm"]
STEPS = np.arange(max(len(c["lrs"]) for c in HF + TIMM))


def _hf(case):
    return transformers.get_scheduler(
        case["name"],
        case["lr"],
        case["num_warmup_steps"],
        case["num_training_steps"],
        scheduler_specific_kwargs=case["kwargs"],
    )


def _timm(case):
    return getattr(timm, case["class"])(case["lr"], **case["kwargs"])


def _id(case):
    return f"{case.get('name') or case['class']}-{json.dumps(case.get('kwargs'), sort_keys=True)}"


# Cycles that start exactly where timm's float64 log rounds the cycle index down: pinned
# by test_cycles_restart_exactly_where_timm_rounds_the_index_down, compared there elsewhere.
BOUNDARY = [c for c in TIMM if "boundary" in c["tags"]]
TIMM = [c for c in TIMM if "boundary" not in c["tags"]]
CASES = [(_hf, c) for c in HF] + [(_timm, c) for c in TIMM]
IDS = [_id(c) for _, c in CASES]


def test_every_name_and_class_is_covered():
    names = {c["name"] for c in HF}
    assert names == set(transformers._BY_NAME)
    assert {c["class"] for c in TIMM} == set(timm.__all__) - {"Warmup", "warmup"}
    assert len(BOUNDARY) == len(TIMM_LATE) == 5
    assert all(sum(c["name"] == n for c in HF) >= 2 for n in names - {"constant"})


@pytest.mark.parametrize(("build", "case"), CASES, ids=IDS)
def test_matches_reference_in_float64(build, case, x64):
    ours = build(case)(STEPS)[: len(case["lrs"])]
    assert ours.dtype == jnp.float64
    want = np.asarray(case["lrs"])
    np.testing.assert_allclose(ours, want, rtol=1e-6, atol=1e-12 * np.abs(want).max())


def _fractional_periods(case) -> bool:
    """Periods that float32 does not hold: Hugging Face's cosines with ``num_cycles``
    other than 1/2 (periods of ``L / (2c)`` steps) and timm's cycles that grow or
    shrink by a fraction."""
    kwargs = case["kwargs"]
    if "name" in case:
        return "cosine" in case["name"] and kwargs.get("num_cycles", 0.5) not in (0.5, 1)
    return float(kwargs.get("cycle_mul", 1.0)) not in (1.0, 2.0)


@pytest.mark.parametrize(("build", "case"), CASES, ids=IDS)
def test_matches_reference_in_float32(build, case):
    ours = build(case)(STEPS.astype(np.int32))[: len(case["lrs"])]
    want = np.asarray(case["lrs"])
    # A period float32 rounds moves a cosine's trough by its rounding: near the trough,
    # where the value is a thousandth of the peak or less, only 1e-7 of the peak is kept.
    floor = 1e-7 if _fractional_periods(case) else 1e-9
    np.testing.assert_allclose(ours, want, rtol=1e-5, atol=floor * np.abs(want).max())


# One constructor call per family, and values to sweep for each numeric argument.
SWEEPS = {
    "transformers.linear": (
        transformers.linear,
        {"lr": 0.1, "num_warmup_steps": 10, "num_training_steps": 100},
        {"lr": [0.1, 0.3], "num_warmup_steps": [0, 10, 120], "num_training_steps": [50, 100]},
    ),
    "transformers.cosine": (
        transformers.cosine,
        {"lr": 0.1, "num_warmup_steps": 10, "num_training_steps": 100},
        {"num_warmup_steps": [0, 10], "num_training_steps": [50, 100], "num_cycles": [0.5, 2]},
    ),
    "transformers.cosine_with_restarts": (
        transformers.cosine_with_restarts,
        {"lr": 0.1, "num_warmup_steps": 10, "num_training_steps": 100},
        {"num_warmup_steps": [0, 10], "num_training_steps": [5, 100], "num_cycles": [1, 3]},
    ),
    "transformers.polynomial": (
        transformers.polynomial,
        {"lr": 0.1, "num_warmup_steps": 10, "num_training_steps": 100},
        # 5 < num_warmup_steps: the warmup, then lr_end (traced, a join at max(w, N))
        {"lr_end": [0.0, 0.01], "power": [0.5, 2.0], "num_training_steps": [50, 100, 5]},
    ),
    "transformers.inverse_sqrt": (
        transformers.inverse_sqrt,
        {"lr": 0.1, "num_warmup_steps": 10},
        {"num_warmup_steps": [0, 10, 40], "timescale": [5, 50]},
    ),
    "transformers.cosine_with_min_lr": (
        transformers.cosine_with_min_lr,
        {"lr": 0.1, "num_warmup_steps": 10, "num_training_steps": 100, "min_lr": 0.01},
        {"min_lr": [0.0, 0.01], "num_warmup_steps": [0, 20]},
    ),
    "transformers.cosine_warmup_with_min_lr": (
        transformers.cosine_warmup_with_min_lr,
        {"lr": 0.1, "num_warmup_steps": 10, "num_training_steps": 100, "min_lr_rate": 0.1},
        {
            "lr": [0.1, 1.0],
            "num_warmup_steps": [0, 1, 10],
            "num_training_steps": [50, 100],
            "num_cycles": [0.5, 1.0],
            "min_lr_rate": [0.0, 0.2],
            "warmup_lr_rate": [0.0, 0.5],
        },
    ),
    "transformers.warmup_stable_decay": (
        transformers.warmup_stable_decay,
        {"lr": 0.1, "num_warmup_steps": 10, "num_decay_steps": 20, "num_stable_steps": 50},
        {
            "num_warmup_steps": [0, 10],
            "num_decay_steps": [0, 20],
            "num_stable_steps": [0, 50, -15],  # negative: the decay under way at w
            "min_lr_ratio": [0.0, 0.1],
            "num_cycles": [0.5, 1.0],
        },
    ),
    "timm.CosineLRScheduler": (
        timm.CosineLRScheduler,
        {"lr": 0.1, "t_initial": 30, "cycle_limit": 3, "warmup_t": 5},
        {
            "lr": [0.1, 1.0],
            "t_initial": [10, 30],
            "lr_min": [0.0, 0.01],
            "cycle_mul": [1.0, 2.0, 0.7],
            "cycle_decay": [1.0, 0.5],
            "cycle_limit": [0, 1, 3],
            "warmup_t": [0, 5],
            "warmup_lr_init": [0.0, 0.01],
            "warmup_prefix": [False, True],
            "k_decay": [0.5, 1.0, 2.0],
        },
    ),
    "timm.TanhLRScheduler": (
        timm.TanhLRScheduler,
        {"lr": 0.1, "t_initial": 30, "cycle_limit": 3, "warmup_t": 5},
        {"lb": [-7.0, -2.0], "ub": [3.0, 5.0], "warmup_prefix": [False, True]},
    ),
    "timm.PolyLRScheduler": (
        timm.PolyLRScheduler,
        {"lr": 0.1, "t_initial": 30, "cycle_limit": 3},
        {"power": [0.5, 2.0], "k_decay": [1.0, 2.0]},
    ),
    "timm.StepLRScheduler": (
        timm.StepLRScheduler,
        {"lr": 0.1, "decay_t": 10, "decay_rate": 0.5, "warmup_t": 5},
        {"decay_t": [3, 10], "decay_rate": [0.5, 0.9], "warmup_t": [0, 5]},
    ),
    "timm.MultiStepLRScheduler": (
        timm.MultiStepLRScheduler,
        {"lr": 0.1, "decay_t": [10, 20], "decay_rate": 0.5},
        {"decay_t": [[10, 20], [2, 30]], "decay_rate": [0.5, 0.9], "warmup_t": [0, 5]},
    ),
    "restarts": (
        jaxsched.restarts,
        {"init_value": 0.1, "cycle_steps": 20, "cycle_limit": 4},
        {
            "init_value": [0.1, 1.0],
            "cycle_steps": [7, 20],
            "end_value": [0.0, 0.01],
            "cycle_limit": [1, 4],
            "cycle_mul": [0.6, 1.0, 2.0],
            "cycle_decay": [1.0, 0.5],
            "k_decay": [1.0, 3.0],
            "power": [1.0, 2.0],
            "lower": [-7.0, 0.0],
            "upper": [3.0, 6.0],
        },
    ),
}
VMAP_STEPS = jnp.arange(0, 150, 2)
FAMILIES = [(n, None) for n in SWEEPS if n != "restarts"]
FAMILIES += [("restarts", shape) for shape in ("cos", "tanh", "poly")]


@pytest.mark.parametrize(("name", "shape"), FAMILIES)
def test_vmap_over_every_argument_at_once_equals_a_loop(name, shape):
    """Configurations that vary every swept argument, traced through the constructor
    itself and built as one batch on the host, against a loop over single schedules."""
    make, shared, sweeps = SWEEPS[name]
    if shape is not None:
        shared = {**shared, "shape": shape}
    n = max(len(v) for v in sweeps.values())
    configs = [{p: v[i % len(v)] for p, v in sweeps.items()} for i in range(n)]
    looped = np.stack([make(**{**shared, **c})(VMAP_STEPS) for c in configs])
    columns = {p: np.asarray([c[p] for c in configs]) for p in sweeps}
    traced = jax.jit(jax.vmap(lambda cols: make(**{**shared, **cols})(VMAP_STEPS)))(columns)
    # Compiled and eager float32 differ in the last bits (a shrinking cycle's fractional
    # length): an absolute floor of 1e-7 against rates of 0.1 to 1.
    np.testing.assert_allclose(traced, looped, rtol=2e-6, atol=1e-7)
    batch = make(**{**shared, **columns})
    np.testing.assert_allclose(batch(VMAP_STEPS[:, None]).T, looped, rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("name", list(SWEEPS))
def test_specs_and_dicts_round_trip(name):
    make, shared, _ = SWEEPS[name]
    schedule = make(**shared)
    args = ", ".join(f"{k}={v!r}" for k, v in shared.items())
    parsed = jaxsched.parse(f"{name}({args})")
    assert parsed.to_dict() == schedule.to_dict()
    again = jaxsched.from_dict(json.loads(json.dumps(schedule.to_dict())))
    np.testing.assert_array_equal(again(VMAP_STEPS), schedule(VMAP_STEPS))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: timm.CosineLRScheduler(0.1, t_initial=0), r"timm.CosineLRScheduler: t_initial must be > 0"),
        (lambda: timm.CosineLRScheduler(0.1, 10, lr_min=-1.0), r"timm.CosineLRScheduler: lr_min must be >= 0"),
        (lambda: timm.TanhLRScheduler(0.1, 10, lb=3.0, ub=1.0), r"timm.TanhLRScheduler: lb must be < ub"),
        (lambda: timm.PolyLRScheduler(0.1, 10, warmup_t=-1), r"timm.PolyLRScheduler: warmup_t must be >= 0"),
        (lambda: timm.StepLRScheduler(0.1, decay_t=0), r"timm.StepLRScheduler: decay_t must be > 0"),
        (lambda: timm.MultiStepLRScheduler(0.1, [20, 10]), r"timm.MultiStepLRScheduler: decay_t must be non-decreasing"),
        (lambda: timm.CosineLRScheduler(0.1, 10, noise_range_t=5), r"noise_range_t is not supported"),
        (lambda: timm.CosineLRScheduler(0.1, 10, cycle_limit=-1), r"cycle_limit must be >= 0"),
        (lambda: transformers.linear(0.1, -1, 10), r"transformers.linear: num_warmup_steps must be >= 0"),
        (lambda: transformers.cosine(0.1, 2.5, 10), r"transformers.cosine: num_warmup_steps must be whole"),
        (lambda: transformers.cosine(0.1, 0, 10, num_cycles=0), r"transformers.cosine: num_cycles must be > 0"),
        (lambda: transformers.polynomial(0.1, 0, 10, lr_end=0.2), r"transformers.polynomial: lr_end must be < lr"),
        (lambda: transformers.polynomial(0.1, 10, 10), r"num_training_steps must be > num_warmup_steps"),
        (lambda: transformers.inverse_sqrt(0.1, 0, timescale=0), r"transformers.inverse_sqrt: timescale must be > 0"),
        (lambda: transformers.cosine_with_min_lr(0.1, 0, 10), r"give one of min_lr or min_lr_rate"),
        (lambda: transformers.cosine_with_min_lr(0.1, 0, 10, min_lr=0.0, min_lr_rate=0.0), r"only one"),
        (lambda: transformers.warmup_stable_decay(0.1, 0, 10), r"num_training_steps or num_stable_steps"),
        (lambda: transformers.warmup_stable_decay(0.1, 0, 10, 50, decay_type="exp"), r"decay_type must be one of"),
        (lambda: transformers.get_scheduler("cosine", 0.1, 10), r"cosine requires num_training_steps"),
        (lambda: transformers.get_scheduler("linear", 0.1), r"linear requires num_warmup_steps"),
        (lambda: transformers.get_scheduler("nope", 0.1), r"unknown name 'nope'"),
        (lambda: jaxsched.restarts(0.1, 10, k_decay=0.0), r"restarts: k_decay must be > 0"),
    ],
)  # fmt: skip
def test_bad_arguments_are_refused_by_name(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_wsd_warns_when_both_lengths_are_given_and_uses_the_stable_one():
    with pytest.warns(UserWarning, match="num_stable_steps is used"):
        s = transformers.warmup_stable_decay(1.0, 0, 10, num_training_steps=100, num_stable_steps=5)
    assert float(s(5)) == 1.0 and float(s(15)) == 0.0


def test_end_step_of_the_new_families():
    assert float(jaxsched.restarts(0.1, 10, cycle_limit=3, cycle_mul=2.0).end_step) == 70.0
    assert (
        float(
            timm.CosineLRScheduler(0.1, 10, cycle_limit=2, warmup_t=5, warmup_prefix=True).end_step
        )
        == 25.0
    )
    assert (
        float(transformers.warmup_stable_decay(0.1, 10, 20, num_training_steps=100).end_step)
        == 100.0
    )


def test_reduce_lr_on_plateau_is_the_torch_plateau_controller():
    from jaxsched.compat import torch as lr_scheduler

    hf = transformers.get_scheduler(
        "reduce_lr_on_plateau", 0.1, scheduler_specific_kwargs={"factor": 0.5, "patience": 1}
    )
    ref = lr_scheduler.ReduceLROnPlateau(0.1, factor=0.5, patience=1)
    a, b = hf.init(), ref.init()
    for loss in [1.0, 1.0, 1.0, 0.5, 0.6, 0.7]:
        a, b = hf.update(a, loss), ref.update(b, loss)
        assert float(hf.value(a)) == float(ref.value(b))
    assert float(hf.value(a)) == float(np.float32(0.025))  # halved twice


#: Per boundary case (in the golden file's order), the whole steps where a cycle starts
#: exactly and timm, whose ``floor(log(1 - t / T * (1 - m), m))`` in float64 rounds
#: ``log(1000, 10) = 2.9999999999999996`` down, is still at the end of the cycle before.
TIMM_LATE = [[111], [121], [121], [111], [18]]


def _cycle_starts(case) -> list[tuple[int, int]]:
    """``(step, cycle)`` for every cycle after the first that starts on a whole step."""
    from fractions import Fraction

    kw = case["kwargs"]
    first, m = Fraction(str(kw["t_initial"])), Fraction(str(kw["cycle_mul"]))
    out, i = [], 1
    while i < 200:
        start = first * (m**i - 1) / (m - 1)
        if start >= len(case["lrs"]):
            break
        if start.denominator == 1:
            out.append((int(start), i))
        i += 1
    return out


@pytest.mark.parametrize("case", BOUNDARY, ids=_id)
@pytest.mark.parametrize("precision", ["float32", "float64"])
def test_cycles_restart_exactly_where_timm_rounds_the_index_down(case, precision):
    """The documented difference (jaxsched/compat/timm.py, docs/guides/porting.md): where
    a cycle starts exactly on a whole step, jaxsched restarts there (the peak, as at every
    other cycle start); timm, at the steps of TIMM_LATE, gives the previous cycle's end for
    that one step. Everywhere else the two agree."""
    from conftest import x64_mode

    late = TIMM_LATE[BOUNDARY.index(case)]
    kw = case["kwargs"]
    want = np.asarray(case["lrs"])
    starts = _cycle_starts(case)
    lr, lr_min, decay = case["lr"], kw.get("lr_min", 0.0), kw.get("cycle_decay", 1.0)
    with x64_mode(precision == "float64"):
        ours = np.asarray(_timm(case)(np.arange(len(want))))
    rtol, atol = (1e-6, 1e-12) if precision == "float64" else (1e-5, 1e-7)
    others = np.ones(len(want), bool)
    others[[t for t, _ in starts]] = False
    np.testing.assert_allclose(ours[others], want[others], rtol=rtol, atol=atol)
    tanh_peak = (1 - np.tanh(-7.0)) / 2  # the weight at a tanh cycle's start (lb = -7)
    tanh_end = (1 - np.tanh(3.0)) / 2  # and at its end (ub = 3)
    peak, end = (tanh_peak, tanh_end) if case["class"] == "TanhLRScheduler" else (1.0, 0.0)
    assert [t for t, _ in starts if t in late] == late  # they are cycle starts
    for t, i in starts:
        start = lr_min + (lr * decay**i - lr_min) * peak
        np.testing.assert_allclose(ours[t], start, rtol=rtol)  # ours restarts exactly
        if t in late:  # timm: the end of cycle i - 1
            np.testing.assert_allclose(want[t], lr_min + (lr * decay ** (i - 1) - lr_min) * end)
            assert not np.isclose(want[t], start, rtol=1e-3)
        else:
            np.testing.assert_allclose(want[t], start, rtol=1e-12)
