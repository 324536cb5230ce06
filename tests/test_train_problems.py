"""`fit` on the user's own problem: arrays, regression, custom loss and metrics, BatchNorm
and Dropout, weights back, divergence by loss ratio, callbacks."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

import jaxsched as js
from jaxsched.train import Result, fit, lr_find
from jaxsched.train import plan as plan_module
from jaxsched.train import trainer as trainer_module

RNG = np.random.default_rng(0)
X = RNG.normal(size=(240, 6)).astype(np.float32)
W = RNG.normal(size=(6, 2)).astype(np.float32)
Y = np.tanh(X @ W) + 0.05 * RNG.normal(size=(240, 2)).astype(np.float32)
DATA = (X[:200], Y[:200], X[200:], Y[200:])  # regression: float targets [n, 2]


def mae(outputs, y):
    return jnp.mean(jnp.abs(outputs - y), axis=1)


def huber(outputs, y):
    return jnp.mean(optax.huber_loss(outputs, y), axis=1)


class Net(nnx.Module):
    """A regression net with BatchNorm and Dropout."""

    def __init__(self, input_shape, n_outputs, rngs):
        self.hidden = nnx.Linear(input_shape[0], 16, rngs=rngs)
        self.norm = nnx.BatchNorm(16, rngs=rngs)
        self.drop = nnx.Dropout(0.2, rngs=rngs)
        self.out = nnx.Linear(16, n_outputs, rngs=rngs)

    def __call__(self, x):
        return self.out(self.drop(jax.nn.relu(self.norm(self.hidden(x)))))


RUN = {"data": DATA, "model": Net, "steps": 40, "eval_every": 20, "batch_size": 20}


@pytest.fixture(scope="module")
def regression():
    batch = js.stack([js.constant(0.01), js.cosine(0.05, decay_steps=40), js.constant(0.2)])
    return fit(
        batch,
        loss=huber,
        metrics={"mae": (mae, "min")},
        optimizer=optax.adam,
        seeds=2,
        progress=False,
        **RUN,
    )


def test_a_regression_sweep_reports_its_loss_and_metric_per_split(regression):
    assert set(regression.metrics) == {
        "train_loss",
        "val_loss",
        "test_loss",
        "val_mae",
        "test_mae",
    }
    assert regression.metrics["val_mae"].shape == (2, 3, 2)
    assert regression.goals["val_mae"] == "min" and regression.goals["val_loss"] == "min"
    # It learned: the test error fell between the evaluations for the middle rate.
    assert (
        regression.metrics["test_mae"][:, 1, -1] < regression.metrics["test_mae"][:, 1, 0]
    ).all()
    best = regression.best("val_mae")
    final = regression.metrics["val_mae"][:, :, -1].mean(axis=0)
    assert best["index"] == int(np.nanargmin(final))
    assert best["test_mae_mean"] == pytest.approx(
        float(regression.metrics["test_mae"][:, best["index"], -1].mean())
    )
    assert regression.default_metric == "val_loss"
    assert "3 configs x 2 seeds" in repr(regression) and len(repr(regression)) < 300


def test_the_models_given_back_reproduce_the_reported_test_metrics(regression):
    x_test, y_test = DATA[2], DATA[3]
    for seed in (0, 1):
        for config in range(3):
            model = regression.model(config, seed=seed)
            outputs = model(jnp.asarray(x_test))  # evaluation mode: no dropout, running stats
            np.testing.assert_allclose(
                float(mae(outputs, y_test).mean()),
                regression.metrics["test_mae"][seed, config, -1],
                rtol=1e-5,
            )
            np.testing.assert_allclose(
                float(huber(outputs, y_test).mean()),
                regression.metrics["test_loss"][seed, config, -1],
                rtol=1e-5,
            )
    # Batch statistics were updated in training: the running mean left its zeros.
    assert np.abs(np.asarray(regression.model(1).norm.mean[...])).max() > 1e-3
    # Seeds differ in their weights; evaluation is deterministic.
    a, b = regression.model(1, seed=0), regression.model(1, seed=1)
    assert not np.allclose(a.out.kernel[...], b.out.kernel[...])
    np.testing.assert_array_equal(a(jnp.asarray(x_test)), a(jnp.asarray(x_test)))


def test_save_and_load_keep_the_weights(regression, tmp_path):
    regression.save(tmp_path / "run")
    with pytest.raises(ValueError, match="model function: pass it"):
        Result.load(tmp_path / "run")
    loaded = Result.load(tmp_path / "run", model=Net)
    x = jnp.asarray(DATA[2])
    np.testing.assert_array_equal(loaded.model(2, seed=1)(x), regression.model(2, seed=1)(x))
    np.testing.assert_array_equal(loaded.metrics["test_mae"], regression.metrics["test_mae"])
    assert loaded.goals == regression.goals


def test_keep_weights_best_and_none():
    batch = js.stack([js.constant(0.001), js.constant(0.3)])
    digits = {"data": "digits", "steps": 30, "eval_every": 30, "progress": False}
    best = fit(batch, keep_weights="best", **digits)
    assert best.weights.configs == [best.best()["index"]] == [1]
    with pytest.raises(ValueError, match="configuration 0's weights were not kept"):
        best.model(0)
    assert best.model(1).layers[0].kernel[...].shape == (64, 100)
    none = fit(batch, keep_weights="none", **digits)
    with pytest.raises(ValueError, match="kept no weights"):
        none.model(1)
    np.testing.assert_array_equal(none.metrics["val_acc"], best.metrics["val_acc"])


def test_dropout_draws_new_keys_every_step_and_resume_is_bit_identical(tmp_path):
    batch = js.stack([js.constant(0.03), js.constant(0.1)])
    args = {**RUN, "loss": "mse", "seeds": [3], "progress": False, "eval_every": 10}
    whole = fit(batch, **args)

    calls = []

    def stop_after_two(step, metrics):
        calls.append((step, sorted(metrics), metrics["val_loss"].shape))
        if step == 20:
            raise KeyboardInterrupt("stop")

    with pytest.raises(KeyboardInterrupt):
        fit(batch, checkpoint_dir=tmp_path, callbacks=[stop_after_two], **args)
    assert calls == [(10, sorted(whole.metrics), (1, 2)), (20, sorted(whole.metrics), (1, 2))]
    resumed = fit(batch, checkpoint_dir=tmp_path, **args)
    for m in whole.metrics:
        np.testing.assert_array_equal(resumed.metrics[m], whole.metrics[m])
    x = jnp.asarray(DATA[2])
    np.testing.assert_array_equal(resumed.model(1, seed=3)(x), whole.model(1, seed=3)(x))

    # Without dropout the same run trains otherwise: the masks are really drawn.
    class NoDropout(Net):
        def __init__(self, input_shape, n_outputs, rngs):
            super().__init__(input_shape, n_outputs, rngs)
            self.drop = nnx.Dropout(0.0, rngs=rngs)

    plain = fit(batch, **{**args, "model": NoDropout})
    assert not np.allclose(plain.metrics["train_loss"], whole.metrics["train_loss"])


def test_exploding_runs_are_flagged_by_the_loss_ratio_and_stable_ones_are_not():
    # Adam at rate 5 throws the digits MLP far off (the loss grows by orders of magnitude
    # but may stay finite); rates of 1e-3 and 1e-2 train stably.
    batch = js.stack([js.constant(1e-3), js.constant(1e-2), js.constant(5.0)])
    args = {"data": "digits", "steps": 60, "eval_every": 20, "seeds": 2, "progress": False}
    result = fit(batch, optimizer=optax.adam, **args)
    assert (result.diverged[:, :2] == -1).all()
    assert (result.diverged[:, 2] >= 0).all()
    at = result.diverged[0, 2]
    assert np.isnan(result.metrics["val_acc"][0, 2, result.steps > at]).all()
    assert result.best()["index"] != 2
    only_nonfinite = fit(batch, optimizer=optax.adam, divergence_factor=None, **args)
    # The ratio rule flags at least as early as the non-finite rule alone.
    late = np.where(only_nonfinite.diverged < 0, np.inf, only_nonfinite.diverged)
    assert (result.diverged[:, 2] <= late[:, 2]).all()
    assert (only_nonfinite.diverged[:, :2] == -1).all()


def test_a_classification_sweep_on_arrays_with_a_custom_metric():
    x = RNG.normal(size=(300, 5)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    data = (x[:240], y[:240], x[240:], y[240:])

    def confident(logits, y):  # the probability given to the right class
        return jnp.take_along_axis(jax.nn.softmax(logits), y[:, None], axis=1)[:, 0]

    result = fit(
        js.stack([js.constant(0.1)]),
        data=data,
        metrics={"acc": lambda o, y: (jnp.argmax(o, -1) == y).astype(jnp.float32), "p": confident},
        steps=60,
        eval_every=30,
        batch_size=40,
        progress=False,
    )
    assert {"val_acc", "test_acc", "val_p", "test_p"} <= set(result.metrics)
    assert result.metrics["test_acc"][0, 0, -1] > 0.8
    assert result.metrics["test_p"][0, 0, -1] > 0.5
    assert result.best()["index"] == 0 and "test_acc_mean" in result.best()


def test_lr_find_on_a_regression_problem():
    found = lr_find(
        data=DATA,
        model=Net,
        loss=huber,
        method="sweep",
        min_lr=1e-3,
        max_lr=1.0,
        n_rates=4,
        steps=30,
        batch_size=20,
    )
    assert found.loss.shape == (4,) and np.isfinite(found.loss[:2]).all()


class Narrow(nnx.Module):
    def __init__(self, input_shape, n_outputs, rngs):
        self.out = nnx.Linear(input_shape[0], 3, rngs=rngs)

    def __call__(self, x):
        return self.out(x)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (
            {"loss": lambda o, y: jnp.mean((o - y) ** 2)},
            ["loss must return one real value per example", "shape (20,)"],
        ),
        (
            {"metrics": {"mae": lambda o, y: jnp.abs(o - y)}},
            ["metrics['mae'] must return one", "float32[20, 2]"],
        ),
        ({"metrics": {"mae": (mae, "lowest")}}, ["metrics['mae']", "'min'"]),
        ({"metrics": {"loss": mae}}, ["'loss' is the loss's own name"]),
        ({"metrics": [mae]}, ["metrics must be a dict"]),
        (
            {"loss": "cross_entropy"},
            ["needs integer class labels", "y holds floats", "astype(int)"],
        ),
        ({"loss": "hinge"}, ["loss must be one of 'cross_entropy', 'mse'"]),
        ({"model": Narrow}, ["outputs have shape (3,)", "targets (2,)", "n_outputs"]),
        (
            {"data": (X[:200], Y[:190], X[200:], Y[200:])},
            ["x and y must hold as many examples", "200 and 190"],
        ),
        ({"data": (X, Y, X)}, ["(x, y, x_test, y_test)", "3 items"]),
        ({"data": (X, Y, X, Y.astype(int))}, ["y is float32 but y_test int64"]),
        ({"keep_weights": "some"}, ["keep_weights must be one of 'all', 'best', 'none'"]),
        ({"callbacks": [print, 3]}, ["callbacks[1] must be a function"]),
        ({"callbacks": "print"}, ["callbacks must be a list of functions"]),
        ({"divergence_factor": 0.5}, ["divergence_factor must be a number > 1"]),
    ],
)
def test_bad_input_is_refused_before_anything_compiles(kwargs, words, monkeypatch):
    def no_compile(*a, **k):
        raise AssertionError("compiled before refusing")

    monkeypatch.setattr(trainer_module, "initial_states", no_compile)
    with pytest.raises(ValueError) as e:
        fit(js.stack([js.constant(0.1)]), **{**RUN, "loss": "mse", **kwargs})
    for word in words:
        assert word in str(e.value)


def test_keep_weights_all_that_cannot_fit_is_refused_and_the_default_keeps_the_best(
    monkeypatch, capsys
):
    monkeypatch.setattr(plan_module, "memory_bytes", lambda: 4 * 2000)  # a quarter: 2000 bytes
    batch = js.stack([js.constant(0.01), js.constant(0.05)])
    args = {**RUN, "loss": "mse", "seeds": 2, "steps": 20}
    with pytest.raises(ValueError, match=r"keep_weights='all'.*use keep_weights='best'"):
        fit(batch, keep_weights="all", progress=False, **args)
    result = fit(batch, progress=True, **args)
    assert len(result.weights.configs) == 1
    assert "keeping the best configuration's weights only" in capsys.readouterr().err


def test_a_model_with_dropout_but_no_rngs_is_refused_with_advice():
    class NoKeys(nnx.Module):
        def __init__(self, input_shape, n_outputs, rngs):
            self.out = nnx.Linear(input_shape[0], n_outputs, rngs=rngs)
            self.drop = nnx.Dropout(0.5)

        def __call__(self, x):
            return self.drop(self.out(x))

    with pytest.raises(ValueError, match=r"build nnx\.Dropout with rngs=rngs"):
        fit(js.stack([js.constant(0.1)]), **{**RUN, "model": NoKeys, "progress": False})
