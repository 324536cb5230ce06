"""Parity with torch for LambdaLR, MultiplicativeLR, SequentialLR, ChainedScheduler (with
CosineAnnealingLR, SequentialLR and nested chains inside, replayed step by step), the
momentum of OneCycleLR and CyclicLR, and ReduceLROnPlateau, through golden values
(tests/golden/torch_more.json, written by make_torch_golden_more.py; no torch here);
Keras's ReduceLROnPlateau live; and the plateau controller's contract (jit, vmap, optax)."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import keras
import numpy as np
import optax
import pytest

import jaxsched as js
from jaxsched.compat import keras as ks
from jaxsched.compat import torch as ts
from jaxsched.train._compiler import compiler_options

GOLDEN = json.loads((Path(__file__).parent / "golden" / "torch_more.json").read_text())

#: The golden file's lambdas, as JAX functions (the same expressions).
LAMBDAS = {
    "pow095": lambda epoch: 0.95**epoch,
    "inverse": lambda epoch: 1 / (1 + 0.1 * epoch),
    "const09": lambda epoch: 0.9 + 0 * epoch,
    "wave": lambda epoch: 0.97 + 0.02 * (epoch % 3),
    "one": lambda epoch: 1 + 0 * epoch,
}


def test_lambdas_are_the_golden_files():
    assert set(LAMBDAS) == set(GOLDEN["lambdas"])


def _build(cls: str, lr: float, kwargs: dict) -> js.Schedule:
    kwargs = dict(kwargs)
    if "lr_lambda" in kwargs:
        kwargs["lr_lambda"] = LAMBDAS[kwargs["lr_lambda"]]
    if "schedulers" in kwargs:
        kwargs["schedulers"] = [_build(s["class"], lr, s["kwargs"]) for s in kwargs["schedulers"]]
    return getattr(ts, cls)(lr, **kwargs)


def _id(case) -> str:
    kw = case["kwargs"]
    if "schedulers" in kw:
        return case["class"] + "-" + "+".join(s["class"] for s in kw["schedulers"])
    return f"{case['class']}-{json.dumps(kw, sort_keys=True)}"


CASES = GOLDEN["cases"]
STEPS = np.arange(max(len(c["lrs"]) for c in CASES))


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_matches_torch(case, x64):
    want = np.asarray(case["lrs"])
    ours = _build(case["class"], case["lr"], case["kwargs"])(STEPS)[: len(want)]
    assert ours.dtype == jnp.float64
    np.testing.assert_allclose(ours, want, rtol=1e-6, atol=1e-12 * want.max())


@pytest.mark.parametrize("case", CASES[::6], ids=_id)
def test_matches_torch_in_float32(case):
    want = np.asarray(case["lrs"])
    ours = _build(case["class"], case["lr"], case["kwargs"])(STEPS.astype(np.int32))
    np.testing.assert_allclose(ours[: len(want)], want, rtol=1e-5, atol=1e-9 * want.max())


def test_every_new_class_is_covered():
    classes = {c["class"] for c in CASES}
    assert classes == {"LambdaLR", "MultiplicativeLR", "SequentialLR", "ChainedScheduler"}
    assert {c["class"] for c in GOLDEN["momentum_cases"]} == {"OneCycleLR", "CyclicLR"}


@pytest.mark.parametrize("case", GOLDEN["momentum_cases"], ids=_id)
def test_momentum_matches_torch(case, x64):
    schedule = getattr(ts, case["class"])(0.1, **case["kwargs"])
    steps = np.arange(len(case["lrs"]))
    np.testing.assert_allclose(schedule(steps), case["lrs"], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(schedule.momentum(steps), case["momentums"], rtol=1e-6)


def test_momentum_drives_optax():
    """The documented use: SGD's momentum (or Adam's b1) follows the schedule."""
    s = ts.OneCycleLR(max_lr=0.1, total_steps=50)
    opt = optax.inject_hyperparams(optax.sgd)(learning_rate=s, momentum=s.momentum)
    params = jnp.ones(2)
    state = opt.init(params)
    for t in range(3):
        _, state = opt.update(jnp.ones(2), state, params)
        assert float(state.hyperparams["momentum"]) == pytest.approx(float(s.momentum(t)))
    assert not hasattr(ts.OneCycleLR(max_lr=0.1, total_steps=50, cycle_momentum=False), "momentum")
    again = js.from_dict(json.loads(json.dumps(s.to_dict())))
    np.testing.assert_array_equal(again.momentum(np.arange(50)), s.momentum(np.arange(50)))


@pytest.mark.parametrize("case", GOLDEN["combined_momentum_cases"], ids=_id)
def test_momentum_of_sequences_and_chains_matches_torch(case, x64):
    """What PyTorch leaves in SGD's momentum (Adam's beta1) after t steps of a SequentialLR
    or ChainedScheduler holding OneCycleLR or CyclicLR (their rates: see the documented
    initial_lr limitation; these cases check the momentum)."""
    schedule = _build(case["class"], case["lr"], case["kwargs"])
    steps = np.arange(len(case["momentums"]))
    np.testing.assert_allclose(schedule.momentum(steps), case["momentums"], rtol=1e-6)


def test_momentum_of_combinations_batched_serialised_and_absent_without_a_cycler():
    one = ts.OneCycleLR(max_lr=0.5, total_steps=40, pct_start=0.3)
    steps = np.arange(40)

    def sequence(m):
        return ts.SequentialLR(0.1, [ts.StepLR(0.1, 5), one], milestones=m)

    batched = jax.jit(jax.vmap(lambda m: sequence(m).momentum(steps)))(jnp.array([[3.0], [9.0]]))
    looped = [sequence([3]).momentum(steps), sequence([9]).momentum(steps)]
    np.testing.assert_allclose(batched, looped, rtol=1e-6)  # float32: XLA rounds each its way
    s = sequence([9])
    want = [float(one.momentum(0))] * 9 + list(np.asarray(one.momentum(np.arange(31))))
    np.testing.assert_allclose(s.momentum(steps), want, rtol=1e-6)
    again = js.from_dict(json.loads(json.dumps(s.momentum.to_dict())))
    np.testing.assert_array_equal(again(steps), s.momentum(steps))
    plain = ts.SequentialLR(0.1, [ts.StepLR(0.1, 5), ts.ExponentialLR(0.1, 0.9)], milestones=[3])
    chain = ts.ChainedScheduler(0.1, [ts.StepLR(0.1, 5), ts.ExponentialLR(0.1, 0.9)])
    for combination in (plain, chain):
        assert not hasattr(combination, "momentum")
        with pytest.raises(AttributeError, match="none of its schedulers cycles"):
            _ = combination.momentum


# ------------------------------------------------- chains replayed step by step
#: ChainedSchedulers holding CosineAnnealingLR, SequentialLR or nested chains.
CHAINS = GOLDEN["chain_cases"]
CHAIN_STEPS = np.arange(max(len(c["lrs"]) for c in CHAINS))


def _is_number(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _is_numbers(x) -> bool:
    return isinstance(x, list) and bool(x) and all(map(_is_number, x))


def _skeleton(x):
    """A case with its numbers left out: its structure, compiled once."""
    if _is_number(x) or _is_numbers(x):
        return "#"
    if isinstance(x, list):
        return [_skeleton(v) for v in x]
    if isinstance(x, dict):
        return {k: _skeleton(v) for k, v in sorted(x.items()) if k != "lrs"}
    return x


def _numbers(x) -> list:
    """A case's numbers (a list of them, milestones, as one), in `_skeleton`'s order."""
    if _is_number(x) or _is_numbers(x):
        return [x]
    if isinstance(x, list):
        return [n for v in x for n in _numbers(v)]
    if isinstance(x, dict):
        return [n for k in sorted(x) if k != "lrs" for n in _numbers(x[k])]
    return []


def _refill(x, numbers):
    """``x`` with its numbers taken, in order, from the iterator ``numbers``."""
    if _is_number(x) or _is_numbers(x):
        return next(numbers)
    if isinstance(x, list):
        return [_refill(v, numbers) for v in x]
    if isinstance(x, dict):
        return {k: x[k] if k == "lrs" else _refill(x[k], numbers) for k in sorted(x)}
    return x


def _chain_groups() -> list[list[dict]]:
    groups: dict[str, list[dict]] = {}
    for case in CHAINS:
        groups.setdefault(json.dumps(_skeleton(case), sort_keys=True), []).append(case)
    return list(groups.values())


def _classes(schedulers: list[dict]) -> str:
    inner = [
        s["class"]
        + (f"({_classes(s['kwargs']['schedulers'])})" if "schedulers" in s["kwargs"] else "")
        for s in schedulers
    ]
    return "+".join(inner)


CHAIN_GROUPS = _chain_groups()
_GROUP_IDS = [_classes(g[0]["kwargs"]["schedulers"]) for g in CHAIN_GROUPS]


#: One compilation per chain structure: XLA's quicker CPU code generation (what the
#: trainer uses) at optimization level 0, a third of the compile time; same values.
_jit = functools.partial(jax.jit, compiler_options=compiler_options(0))


def _traced(cases: list[dict], dtype) -> tuple:
    """``(values, columns)``: ``values(*numbers)``, one case's rates at CHAIN_STEPS built
    from its numbers (traced under jit and vmap), and the cases' numbers as columns."""
    template = cases[0]

    def values(*numbers):
        case = _refill(template, iter(numbers))
        return _build(case["class"], case["lr"], case["kwargs"])(CHAIN_STEPS)

    columns = [np.asarray(column, dtype) for column in zip(*map(_numbers, cases), strict=True)]
    return values, columns


def test_chain_cases_cover_what_a_chain_replays():
    """Every structure drawn more than once, and each of what the replay handles there."""
    assert len(CHAIN_GROUPS) <= 20  # one compilation each: keep the suite fast
    assert all(len(g) >= 2 for g in CHAIN_GROUPS)
    ids = " ".join(_GROUP_IDS)
    for part in (
        "CosineAnnealingLR",
        "SequentialLR(",
        "ChainedScheduler(",
        "CyclicLR",
        "OneCycleLR",
    ):
        assert part in ids, part
    lrs = [np.asarray(c["lrs"]) for c in CHAINS]
    assert sum(len(set(x.round(12))) > 10 for x in lrs) > len(lrs) // 2  # not vacuous


#: Groups also checked against a loop of the unbatched program: vmap equals a loop.
_LOOPED = {
    next(i for i, name in enumerate(_GROUP_IDS) if "SequentialLR(" in name),
    len(_GROUP_IDS) - 1,
}


@pytest.mark.parametrize("index", range(len(CHAIN_GROUPS)), ids=_GROUP_IDS)
def test_chains_match_torch(index, x64):
    """Each structure compiled once, all its cases vmapped: every argument traced."""
    cases = CHAIN_GROUPS[index]
    values, columns = _traced(cases, np.float64)
    ours = np.asarray(_jit(jax.vmap(values))(*columns))
    assert ours.dtype == np.float64
    for case, row in zip(cases, ours, strict=True):
        want = np.asarray(case["lrs"])
        np.testing.assert_allclose(
            row[: len(want)], want, rtol=1e-6, atol=1e-12 * np.abs(want).max()
        )
    if index in _LOOPED:
        one = _jit(values)
        looped = [one(*(column[i] for column in columns)) for i in range(len(cases))]
        np.testing.assert_allclose(ours, np.stack(looped), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("cases", CHAIN_GROUPS[::3], ids=_GROUP_IDS[::3])
def test_chains_match_torch_in_float32(cases):
    values, columns = _traced(cases, np.float32)
    ours = np.asarray(_jit(jax.vmap(values))(*columns))
    for case, row in zip(cases, ours, strict=True):
        want = np.asarray(case["lrs"])
        # PyTorch's rate may cross 0 (an eta_min above what the others leave): there it is
        # a difference of rates of the size of the largest, and the recursion amplifies
        # float32's roundings near the cosine's bottoms, hence the absolute part.
        np.testing.assert_allclose(
            row[: len(want)], want, rtol=1e-5, atol=1e-6 * np.abs(want).max()
        )


# ------------------------------------------------ far into underflowing closed forms
LONG = GOLDEN["long_cases"]


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("case", LONG, ids=lambda c: _classes(c["kwargs"]["schedulers"]))
def test_chains_match_torch_where_closed_forms_underflow(case, dtype, request):
    """A multiplying scheduler after an overwriting one (or a cosine) multiplies the rate by
    its factor at every step, also once its closed form (gamma ** t) underflows float32."""
    if dtype == np.int64:
        request.getfixturevalue("x64")
    want = np.asarray(case["lrs"])
    ours = _build(case["class"], case["lr"], case["kwargs"])(np.asarray(case["steps"], dtype))
    assert ours.dtype == (jnp.float64 if dtype == np.int64 else jnp.float32)
    np.testing.assert_allclose(ours, want, rtol=1e-5 if dtype == np.int32 else 1e-6)


def test_long_cases_reach_where_the_closed_forms_underflow():
    """Not vacuous: each case's multiplying scheduler has underflowed float32 by its last
    step, while PyTorch's rate has not."""
    tiny = np.finfo(np.float32).tiny
    for case in LONG:
        s = case["kwargs"]["schedulers"]
        last = _build(s[-1]["class"], 1.0, s[-1]["kwargs"])
        decayed = [_build(x["class"], 1.0, x["kwargs"]) for x in s if "gamma" in x["kwargs"]]
        alone = min(float(d(max(case["steps"]))) for d in decayed or [last])
        assert alone < tiny, case["kwargs"]
        assert min(case["lrs"][-1], max(case["lrs"])) > tiny


REFUSED = GOLDEN["refused_cases"]


@pytest.mark.parametrize("case", REFUSED, ids=_id)
def test_what_torch_refuses_is_refused_when_built(case):
    with pytest.raises(ValueError) as info:
        _build(case["class"], 0.1, case["kwargs"])
    message = str(info.value)
    assert f"torch.{case['class']}" in message
    assert any(k in message for k in case["kwargs"] if k != "max_lr"), message


def test_switched_to_with_total_iters_of_zero_is_refused_only_at_a_milestone():
    """PyTorch's step(0) divides by total_iters: fine where they start (first, or at a
    milestone of 0), and on their own."""
    expo = ts.ExponentialLR(1.0, 0.9)
    for x in (ts.LinearLR(1.0, 0.5, total_iters=0), ts.PolynomialLR(1.0, total_iters=0)):
        np.testing.assert_array_equal(x(np.arange(3)), [x(0)] * 3)
        ts.SequentialLR(1.0, [x, expo], milestones=[3])
        ts.SequentialLR(1.0, [expo, x], milestones=[0])
        with pytest.raises(ValueError, match=r"schedulers\[1\] \(torch\.\w+LR\).*step\(0\)"):
            ts.SequentialLR(1.0, [expo, x], milestones=[3])
        # Traced, the rate after such a switch is NaN (PyTorch raises).
        at = jax.jit(lambda m, x=x: ts.SequentialLR(1.0, [expo, x], milestones=m)(5))
        assert np.isnan(at(jnp.array([3.0]))) and float(at(jnp.array([0.0]))) == float(x(5))
    np.testing.assert_array_equal(ts.ConstantLR(0.1, 0.0, total_iters=0)(np.arange(3)), 0.0)


def test_negative_milestones_count_only_at_a_switch_known_or_traced(x64):
    """A MultiStepLR's negative milestones never fire on its own; switched to at m > 0,
    it starts at lr * gamma ** #{milestones <= 0} (PyTorch's closed form), traced too."""
    steps = np.arange(10)
    expo = ts.ExponentialLR(1.0, gamma=0.9)

    def alone(m):
        return ts.MultiStepLR(1.0, m, gamma=0.5)(steps)

    def switched(m):
        return ts.SequentialLR(1.0, [expo, ts.MultiStepLR(1.0, m, gamma=0.5)], milestones=[4])(
            steps
        )

    np.testing.assert_array_equal(alone([-3, 2]), [1, 1] + [0.5] * 8)
    want = [0.9**t for t in range(4)] + [0.25] * 2 + [0.125] * 4  # -3 and -1 count at t = 4
    np.testing.assert_allclose(switched([-3, -1, 2]), want, rtol=1e-15)
    rows = [[-3.0, -1.0, 2.0], [1.0, -2.0, 6.0], [-1.0, -4.0, 0.0], [3.0, 1.0, 5.0]]
    for f in (alone, switched):
        batched = jax.jit(jax.vmap(f))(jnp.asarray(rows))
        np.testing.assert_array_equal(batched, [f(row) for row in rows])


def test_a_known_batch_of_milestones_takes_each_row_as_pytorch_does(x64):
    """Rows of a concrete 2-D batch may be unsorted, repeat or hold negative milestones, as
    one list may: each row equals its own MultiStepLR, alone and switched to at m > 0."""
    rows = [[5, -1, 3, 5], [2, 9, 7, 8], [-2, -4, -1, -3], [4, 4, 4, 0], [1, 2, 3, 4]]
    steps = np.arange(12)

    def by_hand(row, t):  # gamma once per milestone m with 0 <= m <= t, repeats included
        return 0.3 * 0.5 ** sum(0 <= m <= t for m in row)

    batch = ts.MultiStepLR(0.3, milestones=np.array(rows), gamma=0.5)
    np.testing.assert_allclose(
        jax.vmap(lambda s: s(steps))(batch),
        [[by_hand(row, t) for t in steps] for row in rows],
        rtol=1e-15,
    )
    expo = ts.ExponentialLR(0.3, gamma=0.9)
    switched = ts.SequentialLR(0.3, [expo, batch], milestones=[4])
    values = jax.vmap(lambda s: s(steps))(switched)
    for i, row in enumerate(rows):
        one = ts.SequentialLR(0.3, [expo, ts.MultiStepLR(0.3, row, gamma=0.5)], milestones=[4])
        np.testing.assert_array_equal(values[i], one(steps))


def test_a_one_cycle_or_a_cyclic_built_first_moves_the_base_of_the_others(x64):
    """PyTorch's SequentialLR resets the rate to the optimizer's initial_lr, which a
    OneCycleLR sets to max_lr / div_factor (and a CyclicLR built first to its base_lr):
    the scheduler that runs first goes on from there, one built after the OneCycleLR is
    switched to on it. By hand, traced, batched, as data and in a chain."""
    steps = np.arange(8)

    def seq(div_factor):
        warm = ts.LinearLR(0.3, start_factor=0.5, total_iters=2)
        one = ts.OneCycleLR(0.3, max_lr=1.0, total_steps=20, div_factor=div_factor)
        step = ts.StepLR(0.3, step_size=2, gamma=0.5)
        return ts.SequentialLR(0.3, [warm, one, step], milestones=[3, 5])

    r = 1.0 / 10  # initial_lr: the LinearLR runs from it, and the StepLR is built on it
    want = [r * 0.5, r * 0.75, r, 1.0 / 10, 0.0, r, r, r * 0.5]  # 0.0: the one-cycle's own
    ours = np.asarray(seq(10.0)(steps))
    np.testing.assert_allclose(np.delete(ours, 4), np.delete(want, 4), rtol=1e-12)
    one = ts.OneCycleLR(0.3, max_lr=1.0, total_steps=20, div_factor=10.0)
    np.testing.assert_allclose(ours[4], one(1), rtol=1e-12)  # its own rates
    divs = np.array([10.0, 20.0, 4.0])
    batched = jax.jit(jax.vmap(lambda d: seq(d)(steps)))(divs)
    np.testing.assert_allclose(batched, [seq(d)(steps) for d in divs], rtol=1e-12)
    np.testing.assert_allclose(batched[1, :3], [0.025, 0.0375, 0.05], rtol=1e-12)
    again = js.from_dict(json.loads(json.dumps(seq(20.0).to_dict())))
    np.testing.assert_array_equal(again(steps), batched[1])

    cyclic = ts.CyclicLR(0.3, base_lr=0.05, max_lr=0.2, step_size_up=4, cycle_momentum=False)
    lam = ts.LambdaLR(0.3, lr_lambda=lambda e: 0.5 + 0 * e)
    np.testing.assert_allclose(  # the LambdaLR's base_lrs: the CyclicLR's base_lr
        ts.ChainedScheduler(0.3, [cyclic, lam])(steps), [0.025] * 8, rtol=1e-12
    )
    with pytest.raises(ValueError, match="lr is required"):
        ts.SequentialLR(schedulers=[lam, cyclic], milestones=[2])


def _warm_cosine(lr=0.1, T_max=4, eta_min=0.0) -> js.Schedule:
    warm = ts.LinearLR(lr, start_factor=0.5, total_iters=2)
    return ts.ChainedScheduler(lr, [warm, ts.CosineAnnealingLR(lr, T_max, eta_min)])


def test_only_chains_that_need_it_replay():
    """Multiplying and overwriting schedulers keep the closed form (no loop: O(1))."""
    closed = ts.ChainedScheduler(
        0.1,
        [
            ts.ChainedScheduler(0.1, [ts.LinearLR(0.1), ts.LambdaLR(0.1, LAMBDAS["inverse"])]),
            ts.StepLR(0.1, 3),
        ],
    )
    assert "while" not in str(jax.make_jaxpr(closed)(5))
    assert "while" in str(jax.make_jaxpr(_warm_cosine())(5))
    seq = ts.SequentialLR(0.1, [ts.StepLR(0.1, 3), ts.ExponentialLR(0.1, 0.9)], milestones=[4])
    assert "while" in str(jax.make_jaxpr(ts.ChainedScheduler(0.1, [seq]))(5))


def test_replayed_steps_whole_nan_traced_and_past_the_end():
    # Every scheduler ends (by step 10): the replay stops at 11, whatever the step.
    seq = ts.SequentialLR(
        0.1,
        [ts.ConstantLR(0.1, 0.5, total_iters=3), ts.LinearLR(0.1, 0.5, 1.0, total_iters=6)],
        milestones=[4],
    )
    ended = ts.ChainedScheduler(0.1, [ts.LinearLR(0.1, 0.2, total_iters=5), seq])
    assert float(ended.end_step) == 10
    endless = ts.ChainedScheduler(0.1, [*ended.schedulers, ts.ExponentialLR(0.1, 1.0)])

    @_jit
    def run(s, ended, endless):
        steps = jnp.arange(40)
        return (
            s(jnp.array([2.0, 2.7, 3.0, jnp.nan])),
            s(jnp.array([2, 2, 3, 3])),
            jax.vmap(lambda k: s(k))(steps),
            s(steps),
            ended(steps),
            endless(steps),
            ended(jnp.array([11, 2**20, 2**31 - 1])),  # 2**23 iterations without the stop
            ended(jnp.array([1e12, jnp.inf])),
        )

    outputs = run(_warm_cosine(), ended, endless)
    fractional, whole, traced, at_once, ended, endless, far, farther = outputs
    np.testing.assert_array_equal(fractional[:3], whole[:3])
    assert np.isnan(fractional[3])
    np.testing.assert_allclose(traced, at_once, rtol=1e-6)
    np.testing.assert_allclose(ended, endless, rtol=1e-6)
    np.testing.assert_array_equal(far, ended[11])
    np.testing.assert_array_equal(farther, far[:2])


def test_a_batch_of_chains_equals_a_loop():
    """Array arguments (no vmap): cosine and milestones of a chain holding a SequentialLR."""

    def make(T_max, eta_min, milestone):
        cos = ts.CosineAnnealingLR(0.1, T_max=T_max, eta_min=eta_min)
        seq = ts.SequentialLR(0.1, [ts.ConstantLR(0.1, 0.5, 3), cos], milestones=milestone)
        return ts.ChainedScheduler(0.1, [ts.ExponentialLR(0.1, 0.95), seq])

    T_max, eta_min, milestone = [3.0, 5.0, 8.0], [0.0, 0.02, 0.05], [[0.0], [4.0], [9.0]]
    steps = jnp.arange(30)
    batch = _jit(lambda s: s(steps[:, None]))(make(T_max, eta_min, milestone))
    one = _jit(lambda s: s(steps))
    looped = np.stack([one(make(*args)) for args in zip(T_max, eta_min, milestone, strict=True)])
    # In float32 XLA's batched and single programs round differently in the last bits,
    # which PyTorch's recursion amplifies where the rate nears 0: relative to the largest.
    np.testing.assert_allclose(np.asarray(batch).T, looped, rtol=1e-6, atol=1e-7 * looped.max())
    assert len({tuple(row) for row in looped}) == 3


def test_replayed_chain_as_data_and_in_forward_mode():
    seq = ts.SequentialLR(
        0.1, [ts.LinearLR(0.1, 0.1, total_iters=3), ts.CosineAnnealingLR(0.1, 6)], [4]
    )
    s = ts.ChainedScheduler(0.1, [ts.ChainedScheduler(0.1, [ts.ExponentialLR(0.1, 0.95)]), seq])
    again = js.from_dict(json.loads(json.dumps(s.to_dict())))
    steps = jnp.arange(30)
    values = _jit(lambda s: s(steps))
    np.testing.assert_array_equal(values(again), values(s))

    # d/d eta_min of a cosine chain, in forward mode (lax.while_loop has no reverse mode).
    @_jit
    def slope_and_difference(eta_min):
        def at(eta_min):
            return _warm_cosine(eta_min=eta_min)(7)

        return jax.jvp(at, (eta_min,), (1.0,))[1], (at(eta_min + 0.01) - at(eta_min)) / 0.01

    slope, difference = slope_and_difference(0.01)
    assert float(slope) == pytest.approx(float(difference), rel=1e-3)


# ------------------------------------------------------------------ functions
def test_multiplicative_lr_over_many_chunks_jit_vmap_and_grad():
    s = ts.MultiplicativeLR(0.1, lr_lambda=lambda e: 0.999 + 0 * e)
    steps = jnp.array([0, 1, 255, 256, 257, 1000, 3000])
    held = float(np.float32(0.999))  # float32 factors, each product rounded: <= t ulps
    want = 0.1 * held ** np.asarray(steps)
    assert np.all(np.abs(np.asarray(s(steps)) / want - 1) <= 1e-7 + 6e-8 * np.asarray(steps))
    np.testing.assert_allclose(jax.jit(lambda s: s(steps))(s), s(steps), rtol=1e-6)
    lrs = jnp.array([0.1, 0.2])
    batched = jax.jit(jax.vmap(lambda lr, t: ts.MultiplicativeLR(lr, lr_lambda=LAMBDAS["wave"])(t)))
    t = jnp.array([10, 300])
    want = [
        float(ts.MultiplicativeLR(lr, lr_lambda=LAMBDAS["wave"])(k))
        for lr, k in zip(lrs, t, strict=True)
    ]
    np.testing.assert_allclose(batched(lrs, t), want, rtol=1e-6)
    grad = jax.grad(lambda lr: ts.MultiplicativeLR(lr, lr_lambda=LAMBDAS["pow095"])(5))(0.1)
    assert float(grad) == pytest.approx(float(ts.MultiplicativeLR(1.0, LAMBDAS["pow095"])(5)))


@pytest.mark.parametrize("make", [ts.LambdaLR, ts.MultiplicativeLR])
def test_functions_are_refused_as_data(make):
    s = make(0.1, lr_lambda=LAMBDAS["pow095"])
    with pytest.raises(ValueError, match="cannot be written as data"):
        s.to_dict()
    name = make.__name__
    with pytest.raises(ValueError, match="lr_lambda must be a JAX-traceable function"):
        js.parse(f"torch.{name}(0.1, lr_lambda='0.95 ** epoch')")
    with pytest.raises(ValueError, match="function"):
        js.parse(f"torch.{name}(0.1, lr_lambda=lambda e: 0.95 ** e)")
    chained = ts.SequentialLR(0.1, schedulers=[s, ts.ExponentialLR(0.1, 0.9)], milestones=[3])
    with pytest.raises(ValueError, match="cannot be written as data"):
        chained.to_dict()


# ------------------------------------------------------------- sweeps and errors
SWEEPS = [
    (lambda v: ts.LambdaLR(v, lr_lambda=LAMBDAS["inverse"]), [0.1, 0.3]),
    (lambda v: ts.MultiplicativeLR(v, lr_lambda=LAMBDAS["wave"]), [0.1, 0.3]),
    (
        lambda v: ts.SequentialLR(
            0.1,
            schedulers=[ts.LinearLR(0.1, 0.1, total_iters=4), ts.ExponentialLR(0.1, gamma=0.9)],
            milestones=v,
        ),
        [[2], [5], [9]],
    ),
    (
        lambda v: ts.SequentialLR(
            0.1,
            schedulers=[ts.ExponentialLR(0.1, gamma=v), ts.MultiplicativeLR(0.1, LAMBDAS["wave"])],
            milestones=[4],
        ),
        [0.5, 0.9],
    ),
    (
        lambda v: ts.ChainedScheduler(
            v, schedulers=[ts.ConstantLR(v, factor=0.5, total_iters=3), ts.ExponentialLR(v, 0.9)]
        ),
        [0.1, 0.5],
    ),
    (
        lambda v: ts.ChainedScheduler(
            0.1, schedulers=[ts.LambdaLR(0.1, LAMBDAS["inverse"]), ts.StepLR(0.1, 3, gamma=v)]
        ),
        [0.5, 0.2],
    ),
    (lambda v: ts.OneCycleLR(max_lr=0.1, total_steps=20, base_momentum=v).momentum, [0.8, 0.6]),
    (lambda v: ts.OneCycleLR(max_lr=0.1, total_steps=20, max_momentum=v).momentum, [0.9, 0.99]),
    (
        lambda v: ts.CyclicLR(base_lr=0.01, max_lr=0.1, step_size_up=3, base_momentum=v).momentum,
        [0.8, 0.5],
    ),
    (
        lambda v: ts.CyclicLR(base_lr=0.01, max_lr=0.1, step_size_up=3, max_momentum=v).momentum,
        [0.9, 0.95],
    ),
]


SWEEPS += [  # total_iters <= 0 among them: what a switch to them sets, per entry
    (
        lambda v: ts.SequentialLR(
            1.0, [ts.ExponentialLR(1.0, 0.9), ts.ConstantLR(1.0, 0.5, total_iters=v)], [3]
        ),
        [-1.0, 0.0, 2.0],
    ),
    (
        lambda v: ts.SequentialLR(
            1.0, [ts.ExponentialLR(1.0, 0.9), ts.LinearLR(1.0, 0.5, 0.2, total_iters=v)], [3]
        ),
        [-1.0, 4.0],
    ),
    (
        lambda v: ts.SequentialLR(
            1.0, [ts.ExponentialLR(1.0, 0.9), ts.PolynomialLR(1.0, total_iters=v)], [3]
        ),
        [-2.0, 5.0],
    ),
    (
        lambda v: ts.ChainedScheduler(
            1.0,
            [
                ts.ExponentialLR(1.0, 0.9),
                ts.SequentialLR(1.0, [ts.ExponentialLR(1.0, 0.8), ts.ConstantLR(1.0, 0.5, v)], [3]),
            ],
        ),
        [-1.0, 2.0],
    ),
]


@pytest.mark.parametrize(("make", "values"), SWEEPS)
def test_a_batch_equals_a_loop_and_vmap_of_the_constructor(make, values):
    steps = np.arange(12)
    looped = np.stack([np.asarray(make(v)(steps)) for v in values])
    batch = make(np.asarray(values))
    np.testing.assert_allclose(np.asarray(batch(steps[:, None])).T, looped, rtol=1e-6)
    traced = jax.jit(jax.vmap(lambda v: make(v)(steps)))(jnp.asarray(values))
    np.testing.assert_allclose(traced, looped, rtol=1e-6)
    assert len({tuple(row) for row in looped}) > 1


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda: ts.LambdaLR(0.1, lr_lambda=0.95), ["torch.LambdaLR", "lr_lambda"]),
        (lambda: ts.LambdaLR(-np.inf, lr_lambda=abs), ["torch.LambdaLR", "lr", "finite"]),
        (
            lambda: ts.SequentialLR(0.1, schedulers=[ts.StepLR(0.1, 3)], milestones=[2]),
            ["torch.SequentialLR", "milestones", "one entry fewer"],
        ),
        (
            lambda: ts.SequentialLR(0.1, schedulers=[ts.StepLR(0.1, 3)] * 3, milestones=[5, 2]),
            ["torch.SequentialLR", "milestones", "increasing"],
        ),
        (
            lambda: ts.SequentialLR(0.1, schedulers=[], milestones=[]),
            ["SequentialLR", "schedulers"],
        ),
        (
            lambda: ts.ChainedScheduler(0.1, schedulers=[js.cosine(0.1, decay_steps=10)]),
            ["torch.ChainedScheduler", "schedulers[0]", "cosine", "cannot be chained"],
        ),
        (
            lambda: ts.ChainedScheduler(
                0.1,
                schedulers=[
                    ts.StepLR(0.1, 3),
                    ts.SequentialLR(
                        0.1,
                        schedulers=[
                            ts.ExponentialLR(0.1, 0.9),
                            ts.SequentialLR(0.1, [ts.StepLR(0.1, 2)] * 2, milestones=[3]),
                        ],
                        milestones=[5],
                    ),
                ],
            ),
            ["torch.SequentialLR", "schedulers[1]", "does not nest", "NotImplementedError"],
        ),
        (
            lambda: ts.ChainedScheduler(
                0.1,
                schedulers=[
                    ts.SequentialLR(
                        0.1,
                        schedulers=[
                            ts.ChainedScheduler(0.1, [ts.CosineAnnealingLR(0.1, 10)]),
                            js.constant(0.1),
                        ],
                        milestones=[5],
                    ),
                ],
            ),
            ["torch.SequentialLR", "schedulers[0]", "ChainedScheduler", "does not nest"],
        ),
        (
            lambda: ts.ChainedScheduler(
                0.1,
                [ts.SequentialLR(0.1, [ts.StepLR(0.1, 2), js.cosine(0.1, 10)], milestones=[5])],
            ),
            ["torch.ChainedScheduler", "schedulers[0]", "its schedulers[1]", "cosine"],
        ),
        (
            lambda: ts.ChainedScheduler(np.inf, schedulers=[ts.CosineAnnealingLR(0.1, 10)]),
            ["torch.ChainedScheduler", "lr", "finite"],
        ),
        (lambda: ts.ChainedScheduler(0.1, schedulers=[0.1]), ["ChainedScheduler", "schedulers[0]"]),
        (
            lambda: ts.OneCycleLR(max_lr=0.1, total_steps=10, cycle_momentum="yes"),
            ["torch.OneCycleLR", "cycle_momentum"],
        ),
        (
            lambda: ts.CyclicLR(base_lr=0.1, max_lr=0.2, max_momentum=np.nan),
            ["torch.CyclicLR", "max_momentum", "finite"],
        ),
        (lambda: ts.ReduceLROnPlateau(0.1, factor=1.0), ["torch.ReduceLROnPlateau", "factor"]),
        (lambda: ts.ReduceLROnPlateau(0.1, patience=-1), ["torch.ReduceLROnPlateau", "patience"]),
        (lambda: ts.ReduceLROnPlateau(0.1, cooldown=1.5), ["torch.ReduceLROnPlateau", "cooldown"]),
        (lambda: ts.ReduceLROnPlateau(0.1, min_lr=-1), ["torch.ReduceLROnPlateau", "min_lr"]),
        (lambda: ts.ReduceLROnPlateau(0.1, mode="up"), ["torch.ReduceLROnPlateau", "mode"]),
        (lambda: ts.ReduceLROnPlateau(-0.1), ["torch.ReduceLROnPlateau", "lr"]),
        (lambda: ks.ReduceLROnPlateau(0.1, factor=1.5), ["keras.ReduceLROnPlateau", "factor"]),
        (lambda: ks.ReduceLROnPlateau(0.1, monitor="val_acc"), ["keras.ReduceLROnPlateau", "mode"]),
        (
            lambda: ks.ReduceLROnPlateau(0.1, min_delta="x"),
            ["keras.ReduceLROnPlateau", "min_delta"],
        ),
    ],
)
def test_bad_arguments_name_the_constructor_and_parameter(build, words):
    with pytest.raises(ValueError) as info:
        build()
    for word in words:
        assert word in str(info.value)


# --------------------------------------------------------------------- plateau
def _run(controller: js.Plateau, metrics) -> jax.Array:
    """The rate before each metric and after the last: lrs[k] after k updates."""

    def step(state, metric):
        state = controller.update(state, metric)
        return state, controller.value(state)

    state = controller.init()
    _, lrs = jax.lax.scan(step, state, jnp.asarray(metrics))
    return jnp.concatenate([controller.value(state)[None], lrs])


@pytest.mark.parametrize("case", GOLDEN["plateau_cases"], ids=lambda c: json.dumps(c["kwargs"]))
def test_plateau_matches_torch(case, x64):
    controller = ts.ReduceLROnPlateau(case["lr"], **case["kwargs"])
    ours = jax.jit(_run)(controller, case["metrics"])
    np.testing.assert_allclose(ours, case["lrs"], rtol=1e-6, atol=1e-15)


def test_plateau_golden_cases_reduce():
    """The cases are not vacuous: most reduce the rate, several times."""
    cuts = [len(set(c["lrs"])) - 1 for c in GOLDEN["plateau_cases"]]
    assert sum(n >= 2 for n in cuts) >= len(cuts) // 2


def _keras_lrs(kwargs: dict, lr: float, metrics) -> list[float]:
    callback = keras.callbacks.ReduceLROnPlateau(**kwargs)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss="mse")
    callback.set_model(model)
    callback.on_train_begin()
    lrs = [float(model.optimizer.learning_rate)]
    for epoch, metric in enumerate(metrics):
        callback.on_epoch_end(epoch, {kwargs.get("monitor", "val_loss"): float(metric)})
        lrs.append(float(model.optimizer.learning_rate))
    return lrs


def _keras_cases():
    rng = np.random.default_rng(11)
    cases = [
        ({"patience": 2, "factor": 0.5}, [1.0] * 12),
        ({"patience": 0, "factor": 0.5, "min_lr": 0.02}, [1.0] * 8),
        ({"patience": 1, "cooldown": 2, "factor": 0.5}, [1.0, 0.9] + [0.95] * 12),
    ]
    for i in range(8):
        drift = np.where(np.arange(50) < 15, -0.05, -0.002)
        walk = np.cumsum(drift + rng.normal(0, 0.01, 50)) + 2.0
        mode = "max" if i % 2 else "min"
        kw = {
            "monitor": "val_acc" if mode == "max" else "val_loss",
            "mode": mode,
            "factor": float(rng.uniform(0.1, 0.9)),
            "patience": int(rng.integers(0, 5)),
            "min_delta": float(rng.choice([0.0, 1e-3, 1e-2])),
            "cooldown": int(rng.integers(0, 3)),
            "min_lr": float(rng.choice([0.0, 1e-3])),
        }
        cases.append((kw, (-walk if mode == "max" else walk).tolist()))
    return cases


@pytest.mark.parametrize(("kwargs", "metrics"), _keras_cases())
def test_keras_plateau_matches_the_live_callback(kwargs, metrics):
    lr = 0.1
    want = _keras_lrs(kwargs, lr, metrics)
    ours = _run(ks.ReduceLROnPlateau(lr, **kwargs), metrics)
    np.testing.assert_allclose(ours, want, rtol=1e-6)  # Keras holds the rate in float32


def test_plateau_sweep_of_factor_by_patience_in_one_program():
    metrics = np.r_[np.linspace(1.0, 0.5, 10), np.full(30, 0.5)]
    factors, patiences = jnp.array([0.1, 0.5, 0.8]), jnp.array([0, 2, 5, 9])

    def run(factor, patience):
        return _run(ts.ReduceLROnPlateau(0.1, factor=factor, patience=patience), metrics)

    grid = jax.jit(jax.vmap(jax.vmap(run, (None, 0)), (0, None)))(factors, patiences)
    assert grid.shape == (3, 4, 41)
    for i, f in enumerate([0.1, 0.5, 0.8]):
        for j, p in enumerate([0, 2, 5, 9]):
            one = _run(ts.ReduceLROnPlateau(0.1, factor=f, patience=p), metrics)
            np.testing.assert_allclose(grid[i, j], one, rtol=1e-6)
    # A batched controller (array arguments) runs the same sweep without vmap.
    batch = ts.ReduceLROnPlateau(0.1, factor=factors[:, None], patience=patiences[None, :])
    assert batch.batch_shape == (3, 4)
    np.testing.assert_allclose(jnp.moveaxis(_run(batch, metrics), 0, -1), grid, rtol=1e-6)
    # Every leaf has the batch shape, so the batch also maps as a pytree, like a schedule.
    assert {jnp.shape(x) for x in jax.tree_util.tree_leaves(batch)} == {(3, 4)}
    mapped = jax.vmap(jax.vmap(lambda c: _run(c, metrics)))(batch)
    np.testing.assert_allclose(mapped, grid, rtol=1e-6)


@pytest.mark.parametrize(
    "param", ["lr", "factor", "patience", "threshold", "cooldown", "min_lr", "eps"]
)
def test_plateau_vmaps_over_every_numeric_argument(param):
    values = {
        "lr": [0.1, 0.5],
        "factor": [0.2, 0.7],
        "patience": [0, 3],
        "threshold": [0.0, 0.05],
        "cooldown": [0, 4],
        "min_lr": [0.0, 0.02],
        "eps": [1e-8, 0.01],
    }[param]
    base = {"lr": 0.1, "factor": 0.5, "patience": 1, "threshold_mode": "abs"}
    metrics = np.r_[np.linspace(1.0, 0.9, 5), np.full(20, 0.89), np.linspace(0.89, 0.87, 5)]
    looped = np.stack([_run(ts.ReduceLROnPlateau(**{**base, param: v}), metrics) for v in values])
    traced = jax.jit(jax.vmap(lambda v: _run(ts.ReduceLROnPlateau(**{**base, param: v}), metrics)))
    np.testing.assert_allclose(traced(jnp.asarray(values)), looped, rtol=1e-6)
    assert len({tuple(row) for row in looped}) > 1


def test_plateau_transform_in_an_optax_chain():
    controller = ts.ReduceLROnPlateau(0.1, factor=0.5, patience=0)
    tx = optax.chain(optax.sgd(1.0, momentum=0.9), js.plateau_transform(controller))
    plain = optax.sgd(0.1, momentum=0.9)
    params = jnp.array([1.0, -2.0])
    state, plain_state = tx.init(params), plain.init(params)

    @jax.jit
    def step(params, state, metric):
        updates, state = tx.update(params, state, params, metric=metric)
        return optax.apply_updates(params, updates), state

    ours = params
    for _ in range(3):  # improving: the rate stays, as plain SGD at 0.1
        ours, state = step(ours, state, jnp.sum(ours**2))
        updates, plain_state = plain.update(params, plain_state, params)
        params = optax.apply_updates(params, updates)
    np.testing.assert_allclose(ours, params, rtol=1e-6)
    ours, state = step(ours, state, 1e9)  # worse: halved before this update
    assert float(state[1].plateau.lr) == pytest.approx(0.05)
    updates, state = jax.jit(tx.update)(jnp.ones(2), state, ours)  # no metric: unchanged
    assert float(state[1].plateau.lr) == pytest.approx(0.05)
