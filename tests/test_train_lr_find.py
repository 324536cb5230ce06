"""`lr_find` on digits: the ramp's rates and smoothing, the suggestion rules on real and
synthetic curves, the sweep against a hand-written training loop and against `fit`,
divergence isolation, exports, and bad input."""

from __future__ import annotations

import functools
import json
import math
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

import jaxsched as js
from jaxsched.train import LRFindResult, fit, load, lr_find, range_test
from jaxsched.train.models import build
from jaxsched.train.range_test import _ramp_curve, _ramp_suggestion

DIGITS = load("digits")


@pytest.fixture(scope="module")
def ramp():
    return lr_find(data=DIGITS, method="ramp", min_lr=1e-5, max_lr=10.0, steps=200)


@pytest.fixture(scope="module")
def sweep():
    return lr_find(data=DIGITS, method="sweep", min_lr=1e-3, max_lr=1e3, n_rates=7, steps=100)


@pytest.fixture(scope="module")
def train_constant():
    """A plain loop: SGD with momentum 0.9 at a constant rate, `fit`'s init and batches."""

    @functools.partial(jax.jit, static_argnames="graphdef")
    def step(params, opt_state, lr, x, y, graphdef):
        def loss_fn(p):
            logits = nnx.merge(graphdef, p)(x)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = optax.sgd(lr, momentum=0.9).update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    def train(lr, steps, batch_size=100, seed=0):
        graphdef, params = nnx.split(build("mlp", DIGITS.input_shape, DIGITS.n_classes, seed))
        opt_state = optax.sgd(lr, momentum=0.9).init(params)
        n = len(DIGITS.x_train)
        per_epoch = n // batch_size
        losses = []
        for t in range(steps):
            epoch, position = divmod(t, per_epoch)
            order = np.random.default_rng([seed, epoch]).permutation(n)
            idx = order[position * batch_size : (position + 1) * batch_size]
            params, opt_state, loss = step(
                params,
                opt_state,
                jnp.float32(lr),
                DIGITS.x_train[idx],
                DIGITS.y_train[idx],
                graphdef,
            )
            if not np.isfinite(loss):
                break
            losses.append(float(loss))
        return np.asarray(losses + [np.nan] * (steps - len(losses)))

    return train


# --------------------------------------------------------------------------- ramp
def test_ramp_rates_are_the_exponential_ramp(ramp):
    t = np.arange(200)
    np.testing.assert_allclose(ramp.lr, 1e-5 * (10.0 / 1e-5) ** (t / 199), rtol=5e-6)
    assert ramp.lr[0] == np.float32(1e-5) and ramp.lr[-1] == pytest.approx(10.0, rel=1e-6)
    for name in ("lr", "loss", "raw_loss", "diverged"):
        assert getattr(ramp, name).shape == (200,)
    assert ramp.method == "ramp"


def test_ramp_curve_is_the_bias_corrected_average_cut_at_divergence(ramp):
    raw = ramp.raw_loss
    n = int(np.sum(~ramp.diverged))
    assert 100 < n < 200  # SGD on digits blows up somewhere between 1e-3 and 10
    np.testing.assert_array_equal(ramp.diverged, np.arange(200) >= n)
    assert np.isnan(ramp.loss[n:]).all() and np.isfinite(ramp.loss[:n]).all()
    # Closed form of the bias-corrected EMA with beta=0.95.
    beta, t = 0.95, np.arange(n)
    weights = np.where(t[None, :] <= t[:, None], beta ** (t[:, None] - t[None, :]), 0.0)
    expected = (1 - beta) * (weights @ raw[:n]) / (1 - beta ** (t + 1))
    np.testing.assert_allclose(ramp.loss[:n], expected, rtol=1e-10)
    # It stopped counting where the average first passed 4x its lowest value so far.
    nxt = beta * expected[-1] * (1 - beta**n) + (1 - beta) * raw[n]
    assert not np.isfinite(raw[n]) or nxt / (1 - beta ** (n + 1)) > 4 * expected.min()
    assert (expected <= 4 * np.minimum.accumulate(expected)).all()


def test_ramp_suggestion_is_the_steepest_descent_before_the_minimum(ramp):
    n = int(np.sum(~ramp.diverged))
    curve, lr = ramp.loss[:n], ramp.lr[:n]
    i = int(np.flatnonzero(ramp.lr == ramp.suggested)[0])
    lowest = int(np.argmin(curve))
    assert 19 <= i < lowest
    slope = np.gradient(curve, np.log(lr))
    assert slope[i] == slope[19 : lowest + 1].min() < 0
    # Observed 0.078 (seed 0); the divergence starts near 1.1, the loss falls from 1e-3.
    assert 0.02 < ramp.suggested < 0.3
    assert ramp.suggested < lr[-1] / 5


def test_ramp_suggestion_trains_and_max_lr_does_not(ramp, train_constant):
    final = {}
    for name, lr in (("min", 1e-5), ("suggested", ramp.suggested), ("max", 10.0)):
        final[name] = np.mean(train_constant(lr, 200)[-20:])
    start = train_constant(1e-5, 1)[0]
    assert final["min"] > 0.98 * start  # 1e-5 barely moves
    assert final["suggested"] < 0.1 * start  # observed 0.05 from 2.3
    assert not final["max"] < 0.9 * start  # NaN or no better than chance


def test_ramp_on_mnist1d():
    found = lr_find(data="mnist1d", steps=100, batch_size=100)
    assert np.isfinite(found.loss[:50]).all()
    assert 0.01 < found.suggested < 0.5  # observed 0.13 (0.05 with 200 steps)


# -------------------------------------------------------------------------- sweep
def test_sweep_rates_curve_and_suggestion(sweep):
    np.testing.assert_allclose(sweep.lr, np.geomspace(1e-3, 1e3, 7), rtol=1e-7)
    assert sweep.loss.shape == (7,) and sweep.raw_loss.shape == (7, 100)
    assert sweep.method == "sweep"
    # Mean over the last 10 steps, NaN where diverged.
    ok = ~sweep.diverged
    np.testing.assert_allclose(sweep.loss[ok], sweep.raw_loss[ok, -10:].mean(1), rtol=1e-12)
    assert np.isnan(sweep.loss[~ok]).all()
    # 100 and 1000 blow up to 1e30 and fall back to finite losses; 1 and 10 spike above 4x
    # the start (2.3) and end near ln(10): all diverged. 1e-3 .. 0.1 end at 2.1, 0.60, 0.073.
    np.testing.assert_array_equal(sweep.diverged, [False] * 3 + [True] * 4)
    rose = sweep.raw_loss.max(axis=1) > 4 * sweep.raw_loss[:, 0]
    np.testing.assert_array_equal(sweep.diverged, rose | ~np.isfinite(sweep.raw_loss).all(axis=1))
    assert np.isfinite(sweep.raw_loss[5:, -1]).all()  # finite again, yet diverged
    assert sweep.suggested == sweep.lr[np.nanargmin(sweep.loss)]
    assert sweep.suggested == pytest.approx(0.1)
    assert (sweep.raw_loss[:, 0] == sweep.raw_loss[0, 0]).all()  # same weights, same batch


def test_sweep_run_equals_training_that_rate_alone(sweep, train_constant):
    for i in (0, 1, 2):  # 0.001, 0.01, 0.1 (the runs that blow up are chaotic)
        alone = train_constant(float(sweep.lr[i]), 100)
        np.testing.assert_allclose(sweep.raw_loss[i], alone, rtol=2e-4, atol=1e-5)


def test_sweep_run_equals_fit(sweep):
    # Same init, same batches: the sweep's final loss is fit's train_loss over the last 10 steps.
    result = fit(
        js.stack([js.constant(float(sweep.lr[2]))]),
        data=DIGITS,
        steps=100,
        eval_every=10,
        batch_size=100,
        progress=False,
    )
    np.testing.assert_allclose(result.metrics["train_loss"][0, 0, -1], sweep.loss[2], rtol=2e-4)


def test_diverged_rates_do_not_touch_the_others(sweep):
    # Rates 1e-3 .. 1e6, one per decade: 1e5 and 1e6 reach inf/NaN within a few steps.
    wild = lr_find(data=DIGITS, method="sweep", min_lr=1e-3, max_lr=1e6, n_rates=10, steps=100)
    np.testing.assert_allclose(wild.lr[:4], sweep.lr[:4], rtol=1e-7)
    assert np.isnan(wild.raw_loss[-2:, -1]).all() and wild.diverged[-2:].all()
    assert np.isnan(wild.loss[-2:]).all()
    np.testing.assert_allclose(wild.raw_loss[:3], sweep.raw_loss[:3], rtol=1e-5, atol=1e-6)
    assert wild.suggested == sweep.suggested


# ------------------------------------------------------------------- suggestion rules
def test_steepest_descent_rule_on_a_synthetic_curve():
    lr = np.geomspace(1e-4, 10.0, 101)  # 20 points per decade; lr[40] = 1e-2
    x = np.log10(lr / 1e-2)
    loss = 2.0 - np.tanh(x)  # falls fastest at 1e-2
    loss[:3] = [9.0, 5.0, 3.0]  # a steep, noisy start inside the skipped steps
    loss[80:] = 4.0 - np.tanh(8 * (x[80:] - 1.5))  # past the minimum: up, then a steeper fall
    assert np.argmin(loss) == 79
    assert _ramp_suggestion(lr, loss, skip=5) == pytest.approx(1e-2)
    assert _ramp_suggestion(lr, np.where(np.arange(101) < 60, loss, np.nan), skip=5) == (
        pytest.approx(1e-2)
    )
    with pytest.warns(RuntimeWarning, match="never fell"):
        assert math.isnan(_ramp_suggestion(lr, np.full(101, 2.3), skip=5))
    with pytest.warns(RuntimeWarning, match="never fell"):  # only rises: min_lr is already too high
        assert math.isnan(_ramp_suggestion(lr, 2.0 + np.tanh(x), skip=5))
    with pytest.raises(ValueError, match="not finite from the first step"):
        _ramp_suggestion(lr, np.full(101, np.nan), skip=5)
    with pytest.warns(RuntimeWarning, match="Lower min_lr: the loss diverged within a few steps"):
        assert math.isnan(_ramp_suggestion(lr, np.where(np.arange(101) < 2, 2.3, np.nan), skip=5))


def test_ramp_curve_stops_at_non_finite_and_at_the_factor():
    loss, diverged = _ramp_curve(np.array([2.0, 1.0, 1.0, np.nan, 1.0]), beta=0.0, factor=4.0)
    np.testing.assert_array_equal(loss, [2.0, 1.0, 1.0, np.nan, np.nan])
    np.testing.assert_array_equal(diverged, [False, False, False, True, True])
    loss, _ = _ramp_curve(np.array([2.0, 1.0, 4.0, 4.5, 1.0]), beta=0.0, factor=4.0)
    np.testing.assert_array_equal(loss, [2.0, 1.0, 4.0, np.nan, np.nan])
    loss, _ = _ramp_curve(np.array([2.0, 4.0]), beta=0.5, factor=4.0)
    np.testing.assert_allclose(loss, [2.0, (0.25 * 2.0 + 0.5 * 4.0) / 0.75])


class _Flat(nnx.Module):
    """Logits that do not depend on the weights: the loss never moves."""

    def __init__(self, input_shape, n_classes, rngs):
        self.linear = nnx.Linear(int(np.prod(input_shape)), n_classes, rngs=rngs)

    def __call__(self, x):
        return 0.0 * jax.lax.stop_gradient(self.linear(x.reshape(x.shape[0], -1)))


class _Broken(_Flat):
    def __call__(self, x):
        return self.linear(x.reshape(x.shape[0], -1)) * jnp.nan


@pytest.mark.parametrize("method", ["ramp", "sweep"])
def test_flat_and_broken_models(method):
    args = {"data": DIGITS, "method": method, "steps": 20, "n_rates": 3}
    with pytest.warns(RuntimeWarning, match="never fell"):
        found = lr_find(model=_Flat, **args)
    assert math.isnan(found.suggested)
    np.testing.assert_allclose(found.loss, math.log(10), rtol=1e-5)
    with pytest.raises(ValueError, match=r"lr_find: (the training loss was not finite|every rate)"):
        lr_find(model=_Broken, **args)


# ------------------------------------------------------------------------- exports
def test_to_dict_is_strict_json_and_round_trips(ramp, sweep):
    for found in (ramp, sweep):
        text = json.dumps(found.to_dict(), allow_nan=False)
        again = LRFindResult.from_dict(json.loads(text))
        for name in ("lr", "loss", "raw_loss"):
            np.testing.assert_array_equal(getattr(again, name), getattr(found, name))
        np.testing.assert_array_equal(again.diverged, found.diverged)
        assert again.suggested == found.suggested and again.method == found.method
    assert repr(ramp).startswith(f"LRFindResult(method='ramp', suggested={ramp.suggested:.4g}, ")


def test_plot_writes_a_png(ramp, sweep, tmp_path, monkeypatch):
    for found in (ramp, sweep):
        path = tmp_path / f"{found.method}.png"
        fig = found.plot(path)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
        assert fig.axes[0].get_xscale() == "log"
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ValueError, match="matplotlib"):
        ramp.plot()


# ----------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"min_lr": 0.0}, ["min_lr", "> 0"]),
        ({"min_lr": -1e-3}, ["min_lr", "> 0"]),
        ({"min_lr": float("inf")}, ["min_lr", "finite"]),
        ({"min_lr": "0.1"}, ["min_lr", "number"]),
        ({"max_lr": 1e-6}, ["max_lr", "> min_lr"]),
        ({"max_lr": 1e-5}, ["max_lr", "> min_lr"]),
        ({"max_lr": float("nan")}, ["max_lr", "finite"]),
        ({"min_lr": 1e-30, "max_lr": 1e30}, ["max_lr / min_lr", "float32"]),
        ({"steps": 1}, ["steps", ">= 2", "got 1"]),
        ({"steps": 20.0}, ["steps", "integer"]),
        ({"steps": True}, ["steps", "integer"]),
        ({"steps": 2**31}, ["steps", "2**31 - 1"]),
        ({"seed": 2**63}, ["seed", "64-bit"]),
        ({"steps": 2**31 - 1}, ["batch order", "GiB", "fewer steps"]),
        ({"method": "sweep", "n_rates": 1}, ["n_rates", ">= 2"]),
        ({"method": "sweep", "n_rates": 10**8}, ["n_rates=100000000", "GiB", "fewer n_rates"]),
        ({"method": "linear"}, ["method", "'ramp'", "'linear'"]),
        ({"batch_size": 0}, ["batch_size", ">= 1"]),
        ({"batch_size": 5000}, ["batch_size=5000", "training split"]),
        ({"seed": 0.5}, ["seed", "integer"]),
        ({"smoothing": 1.0}, ["smoothing", "[0, 1)"]),
        ({"diverge_factor": 1.0}, ["diverge_factor", "> 1"]),
        ({"optimizer": 0.1}, ["optimizer", "function"]),
        ({"optimizer": lambda lr: "adam"}, ["optimizer", "GradientTransformation", "a str"]),
        ({"optimizer": lambda lr: optax.adam(1e-3)}, ["optimizer ignores the learning rate"]),
        ({"min_lr": jnp.float32(1e-4), "max_lr": jnp.inf}, ["max_lr must be finite"]),
        ({"data": "imagenet"}, ["unknown data"]),
        ({"model": "resnet"}, ["unknown model"]),
    ],
)
def test_bad_input_is_refused_before_compiling(kwargs, words, monkeypatch):
    def never(*args, **kw):
        raise AssertionError("compiled before validating")

    monkeypatch.setattr(range_test, "_train_run", never)
    args = {"data": DIGITS, "steps": 20, **kwargs}
    with pytest.raises(ValueError) as info:
        lr_find(**args)
    for word in words:
        assert word in str(info.value)
    if "data" not in kwargs and "model" not in kwargs:
        assert str(info.value).startswith("lr_find: ")


@pytest.mark.parametrize("method", ["ramp", "sweep"])
def test_cpu_compiler_options_change_no_number(monkeypatch, method):
    # As for fit: XLA's default compilation gives lr_find's curve bit for bit.
    args = {"data": DIGITS, "method": method, "steps": 40, "n_rates": 3}
    tuned = lr_find(**args)
    asked = []
    monkeypatch.setattr(range_test, "compiler_options", lambda **_: asked.append(1))
    default = lr_find(**args)
    assert asked
    np.testing.assert_array_equal(default.raw_loss, tuned.raw_loss)


def test_an_optimizer_whose_update_needs_the_loss_is_refused_in_plain_words():
    def plateau(lr):
        return optax.chain(optax.sgd(lr), optax.contrib.reduce_on_plateau())

    with pytest.raises(ValueError, match=r"^optimizer: its update needs more .*'value'"):
        lr_find(data=DIGITS, steps=20, optimizer=plateau)
