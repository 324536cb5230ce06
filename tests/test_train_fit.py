"""`fit` on tiny sweeps: vmapped equals per-config runs, divergence isolation, seeds,
custom optimizers and models, Result exports, and bad input."""

from __future__ import annotations

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import x64_mode
from flax import nnx

import jaxsched as js
from jaxsched.train import MLP, Result, devices, fit, load, loop, lr_find

DIGITS = load("digits")
RUN = {"data": DIGITS, "steps": 60, "eval_every": 20, "batch_size": 32, "progress": False}


def _small_mlp(shape, n_classes, rngs):
    return MLP(shape, n_classes, rngs, hidden=16)


@pytest.fixture(scope="module")
def sweep():
    batch = js.stack([js.constant(0.05), js.cosine(0.2, decay_steps=60), js.step(0.1, 20, 0.5)])
    return batch, fit(batch, model=_small_mlp, seeds=2, **RUN)


def test_shapes_and_learning(sweep):
    batch, result = sweep
    assert set(result.metrics) == {"train_loss", "val_loss", "val_acc", "test_loss", "test_acc"}
    for values in result.metrics.values():
        assert values.shape == (2, 3, 3)
    np.testing.assert_array_equal(result.steps, [20, 40, 60])
    np.testing.assert_allclose(result.lr, np.stack([batch[c](result.steps - 1) for c in range(3)]))
    np.testing.assert_array_equal(result.diverged, -1)
    assert (result.metrics["val_acc"][:, :, -1] > 0.5).all()  # 10 classes: chance is 0.1
    assert (result.metrics["train_loss"][:, :, -1] < result.metrics["train_loss"][:, :, 0]).all()


def test_vmapped_sweep_equals_per_config_runs(sweep):
    batch, result = sweep
    for c in range(3):
        alone = fit(js.stack([batch[c]]), model=_small_mlp, seeds=2, **RUN)
        for name, values in alone.metrics.items():
            np.testing.assert_allclose(
                values[:, 0], result.metrics[name][:, c], rtol=2e-5, atol=1e-6
            )


def test_seeds_differ_and_configs_of_a_seed_share_init_and_data(sweep):
    _, result = sweep
    acc = result.metrics["val_loss"]
    assert not np.allclose(acc[0], acc[1])
    twins = fit(
        js.stack([js.constant(0.05), js.constant(0.05)]), model=_small_mlp, seeds=[7], **RUN
    )
    np.testing.assert_array_equal(twins.metrics["val_loss"][0, 0], twins.metrics["val_loss"][0, 1])
    assert twins.seeds == [7]


def test_divergence_is_isolated():
    good_a, good_b, bad = js.constant(0.05), js.cosine(0.1, 60), js.constant(1e4)
    with_bad = fit(js.stack([good_a, bad, good_b]), model=_small_mlp, **RUN)
    without = fit(js.stack([good_a, good_a, good_b]), model=_small_mlp, **RUN)
    assert with_bad.diverged[0, 1] >= 0 and with_bad.diverged[0, 0] == with_bad.diverged[0, 2] == -1
    for name in with_bad.metrics:  # bit-identical for the configurations that did not diverge
        np.testing.assert_array_equal(
            with_bad.metrics[name][:, [0, 2]], without.metrics[name][:, [0, 2]]
        )
    after = result_steps_after(with_bad, with_bad.diverged[0, 1])
    assert np.isnan(with_bad.metrics["val_acc"][0, 1, after]).all()
    assert with_bad.best()["index"] != 1


@pytest.mark.parametrize(("steps", "diverged_at"), [(1, 0), (3, 1)])
def test_diverged_is_the_first_non_finite_loss_or_the_update_that_ends_a_chunk(steps, diverged_at):
    # The second rate, times 1e30, overflows float32: step 0's loss is finite
    # and its update leaves infinite weights, so step 1's loss is the first
    # non-finite one. A run of one step has no step 1: its last update counts.
    def huge_sgd(lr):
        return optax.sgd(lambda t: 1e30 * lr(t))

    batch = js.stack([js.constant(1e-31), js.constant(1e10)])
    run = {**RUN, "steps": steps, "eval_every": steps}
    result = fit(batch, model=_small_mlp, optimizer=huge_sgd, **run)
    np.testing.assert_array_equal(result.diverged, [[-1, diverged_at]])
    assert np.isfinite(result.metrics["val_acc"][0, 0]).all()
    assert np.isnan(result.metrics["val_acc"][0, 1]).all()


def test_json_is_strict_and_keeps_nan(tmp_path):
    result = fit(js.stack([js.constant(0.05), js.constant(1e4)]), model=_small_mlp, **RUN)
    assert np.isnan(result.metrics["val_acc"][0, 1, -1])
    result.to_json(tmp_path / "r.json")
    text = (tmp_path / "r.json").read_text()
    json.loads(text, parse_constant=lambda name: pytest.fail(f"non-standard JSON {name}"))
    again = Result.from_json(tmp_path / "r.json")
    for name, values in result.metrics.items():
        assert again.metrics[name].dtype == values.dtype == np.float32
        np.testing.assert_array_equal(again.metrics[name], values)
    # A rate that overflowed comes back infinite, not NaN.
    lr = result.lr.copy()
    lr[1] = [np.inf, -np.inf, np.nan]
    dataclasses.replace(result, lr=lr).to_json(tmp_path / "inf.json")
    np.testing.assert_array_equal(Result.from_json(tmp_path / "inf.json").lr, lr)


def result_steps_after(result, step):
    return result.steps > step


def test_custom_optimizer_and_batched_momentum():
    def adam(lr):
        return optax.adam(lr)

    result = fit(js.grid(js.constant, value=[5e-3, 2e-2]), model=_small_mlp, optimizer=adam, **RUN)
    assert (result.metrics["val_acc"][0, :, -1] > 0.5).all()

    def sgd_with_scheduled_momentum(lr):
        return optax.inject_hyperparams(optax.sgd)(
            learning_rate=lr, momentum=js.linear(0.5, 0.9, 60)
        )

    result = fit(
        js.stack([js.constant(0.05)]),
        model=_small_mlp,
        optimizer=sgd_with_scheduled_momentum,
        **RUN,
    )
    assert result.metrics["val_acc"][0, 0, -1] > 0.5


def test_cnn_and_uneven_last_chunk():
    result = fit(
        js.stack([js.constant(0.05)]),
        data=DIGITS,
        model="cnn",
        steps=50,
        eval_every=20,
        batch_size=32,
        progress=False,
    )
    np.testing.assert_array_equal(result.steps, [20, 40, 50])
    assert np.isfinite(result.metrics["test_acc"]).all()


def test_result_exports(sweep, tmp_path):
    _, result = sweep
    result.to_json(tmp_path / "r.json")
    again = Result.from_json(tmp_path / "r.json")
    for name in result.metrics:
        np.testing.assert_allclose(again.metrics[name], result.metrics[name], rtol=1e-7)
    assert again.configs == result.configs and again.seeds == result.seeds
    assert js.from_dict(again.configs[1]).to_dict() == result.configs[1]
    result.to_csv(tmp_path / "r.csv")
    rows = (tmp_path / "r.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 * 3 * 3 and rows[0].startswith("seed,config,step,lr,train_loss")
    assert (
        json.loads(rows[1].split(",", 10)[-1].strip('"').replace('""', '"'))["kind"] == "constant"
    )
    best = result.best("val_loss")
    assert best["index"] == int(np.argmin(result.metrics["val_loss"][:, :, -1].mean(0)))
    result.plot_lr(tmp_path / "lr.png")
    result.plot_curves("val_acc", tmp_path / "acc.png")
    assert (tmp_path / "lr.png").stat().st_size > 5000 and (
        tmp_path / "acc.png"
    ).stat().st_size > 5000


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"steps": 0}, ["steps", ">= 1"]),
        ({"steps": True}, ["steps", "integer"]),
        ({"steps": 2**31}, ["steps", "2**31 - 1", "int32"]),
        ({"steps": 2**31 - 1, "eval_every": 1, "seeds": 1000}, ["GiB", "raise eval_every (now 1)"]),
        ({"batch_size": 5000}, ["batch_size=5000", "training split"]),
        ({"eval_every": 0}, ["eval_every"]),
        ({"seeds": 0}, ["seeds"]),
        ({"seeds": [1, 1]}, ["distinct"]),
        ({"seeds": "3"}, ["seeds", "count or a list of integers", "'3'"]),
        ({"seeds": [1.5, 2.7]}, ["seeds must be integers", "1.5"]),
        ({"seeds": 2.0}, ["seeds", "count or a list"]),
        ({"seeds": [2**63]}, ["64-bit"]),
        ({"schedules": js.grid(js.constant, value=[0.1, 0.2])[0:0]}, ["empty batch"]),
        ({"optimizer": "adam"}, ["optimizer must be a function", "got 'adam'"]),
        ({"optimizer": optax.sgd(0.1)}, ["optimizer must be a function", "GradientTransformation"]),
        (
            {"optimizer": lambda lr: lr},
            ["optimizer must be a function", "it returned a Constant"],
        ),
        (  # its update needs the loss as well: said in jaxsched's words, not optax's TypeError
            {"optimizer": lambda lr: optax.lbfgs(lr)},
            ["optimizer: its update needs more than (grads, state, params)", "'value_fn'"],
        ),
        (  # every configuration would train alike, under the rates the result reports
            {"optimizer": lambda lr: optax.sgd(0.05, momentum=0.9)},
            ["optimizer ignores the learning rate it is given"],
        ),
        ({"optimizer": lambda lr: optax.sgd(float(lr(0)))}, ["fit: optimizer", "traced"]),
        (
            {"optimizer": lambda lr: optax.MultiSteps(optax.sgd(lr), 2)},
            ["returned a MultiSteps", ".gradient_transformation()"],
        ),
        ({"schedules": js.constant(0.1)}, ["got one schedule", "jaxsched.stack([schedule])"]),
        (
            {"schedules": js.constant(np.ones((2, 3)))},
            ["batch shape (2, 3)", "schedules.flatten() to train its 6 schedules as one axis"],
        ),
        ({"schedules": 0.1}, ["batch of schedules"]),
        ({"data": "imagenet"}, ["unknown data"]),
        ({"model": "resnet"}, ["unknown model"]),
        ({"model": MLP((64,), 10, nnx.Rngs(0))}, ["got a MLP instance", "pass the class"]),
        ({"seeds": 2**40}, ["metrics history", "GiB"]),  # refused before a list of 2**40
        ({"seeds": 10**7}, ["weights, gradients and optimizer states", "10000000 seeds", "GiB"]),
        ({"checkpoint_dir": ""}, ["checkpoint_dir must be a folder's path", "''"]),
        ({"checkpoint_dir": __file__}, ["checkpoint_dir", "is a file"]),
        ({"checkpoint_dir": f"{__file__}/sub"}, ["checkpoint_dir", "is a file"]),
        # refused now, not after the first chunk when orbax saves
        ({"checkpoint_dir": "/proc/jaxsched-ckpt"}, ["checkpoint_dir", "cannot be made"]),
        ({"checkpoint_dir": "/proc/1"}, ["checkpoint_dir '/proc/1' is not writable"]),
    ],
)
def test_bad_input(kwargs, words):
    args = {"schedules": js.stack([js.constant(0.1)]), **RUN, **kwargs}
    with pytest.raises(ValueError) as info:
        fit(args.pop("schedules"), **args)
    for word in words:
        assert word in str(info.value)


def test_invalid_configuration_is_named_by_index():
    batch = js.grid(js.cosine, init_value=[0.1, 0.2], decay_steps=100)
    # js.Cosine refuses it; rebuilt from its leaves as a pytree, it is not checked.
    leaves = [batch.init_value, jnp.array([100.0, -5.0]), batch.end_value, batch.exponent]
    broken = jax.tree.unflatten(jax.tree.structure(batch), leaves)
    with pytest.raises(
        ValueError, match=r"configuration 1 is invalid: cosine: decay_steps must be > 0"
    ):
        fit(broken, **RUN)


def test_without_a_validation_split_val_metrics_are_nan_and_best_says_why():
    result = fit(
        js.stack([js.constant(0.05), js.constant(0.2)]),
        model=_small_mlp,
        val_fraction=0.0,
        **{**RUN, "data": "digits"},
    )
    assert np.isnan(result.metrics["val_acc"]).all() and np.isnan(result.metrics["val_loss"]).all()
    assert (result.metrics["test_acc"][..., -1] > 0.5).all()
    with pytest.raises(ValueError, match=r"val_acc was never measured .*val_fraction=0"):
        result.best()
    assert result.best("test_acc")["test_acc_mean"] == result.metrics["test_acc"][0, :, -1].max()


def test_best_of_a_sweep_where_everything_diverged_says_so():
    result = fit(js.stack([js.constant(1e4), js.constant(1e5)]), model=_small_mlp, **RUN)
    assert (result.diverged >= 0).all()
    with pytest.raises(ValueError, match="every configuration diverged"):
        result.best()


def test_fit_and_lr_find_run_with_x64_enabled_and_agree_with_float32(monkeypatch):
    # Users with jax_enable_x64 on: schedules then compute in float64, the model stays
    # float32, and the step counters must keep their dtype through the scan. The
    # setting holds for this thread only; two groups of configurations trained from
    # threads of their own must follow it all the same.
    monkeypatch.setattr(devices, "usable_cores", lambda: 2)
    batch = js.stack([js.constant(0.05), js.cosine(0.2, decay_steps=60)])
    plain = fit(batch, model=_small_mlp, **RUN)
    with x64_mode(True):
        wide = fit(
            js.stack([js.constant(0.05), js.cosine(0.2, decay_steps=60)]), model=_small_mlp, **RUN
        )
        found = lr_find(data=DIGITS, method="sweep", n_rates=4, steps=20)
    assert plain.lr.dtype == np.float32 and wide.lr.dtype == np.float64
    for name, values in plain.metrics.items():
        np.testing.assert_allclose(wide.metrics[name], values, rtol=1e-4, atol=1e-5)
    assert found.suggested > 0


def test_a_long_chunk_runs_in_pieces_with_the_same_result(monkeypatch):
    from jaxsched.train import trainer

    batch = js.stack([js.constant(0.05), js.cosine(0.2, decay_steps=60)])
    whole = fit(batch, model=_small_mlp, **RUN)
    # Batch indices of 7 steps at a time (32 examples, one seed): 20-step chunks in 3 pieces.
    monkeypatch.setattr(trainer, "_INDICES_BYTES", 4 * 32 * 7)
    pieces = fit(batch, model=_small_mlp, **RUN)
    for name, values in whole.metrics.items():
        if name == "train_loss":  # the chunk's sum of losses is added up piece by piece
            np.testing.assert_allclose(pieces.metrics[name], values, rtol=1e-6)
        else:
            np.testing.assert_array_equal(pieces.metrics[name], values)


class _VectorisedMLP(MLP):
    xla_cpu_fusion_emitters = True


def test_a_model_class_may_ask_for_xla_fusion_emitters(monkeypatch):
    # The built-in CNN asks for them (they vectorise its gather of patches), the MLP
    # does not; a user's class asks as the CNN does. They reach every trainer program.
    from jaxsched.train import _compiler

    asked = []
    monkeypatch.setattr(
        loop, "compiler_options", lambda **kw: asked.append(kw) or _compiler.compiler_options(**kw)
    )
    run = {**RUN, "steps": 4, "eval_every": 4}
    for model in ("cnn", _small_mlp, lambda s, n, rngs: _VectorisedMLP(s, n, rngs, hidden=8)):
        fit(js.stack([js.constant(0.1)]), model=model, **run)
    assert asked == [{"fusion_emitters": f} for f in (True, False, True)]
    if jax.default_backend() == "cpu":
        assert _compiler.compiler_options(fusion_emitters=True) == {
            "xla_cpu_use_fusion_emitters": True
        }
        assert _compiler.compiler_options() == {"xla_cpu_use_fusion_emitters": False}


def test_unknown_metrics_are_named_by_best_score_and_plot(sweep):
    _, result = sweep
    for call in (result.best, result.score, result.plot_curves):
        with pytest.raises(ValueError, match=r"unknown metric 'acc': use one of train_loss"):
            call("acc")


def test_seeds_may_be_an_array_of_integers():
    from jaxsched.train.plan import _seeds

    assert _seeds(jnp.arange(2)) == [0, 1]
    assert _seeds(np.array([3, 5])) == [3, 5]
    assert _seeds(4) == range(4)  # a count stays a range until its size is checked


@pytest.mark.parametrize("model", [_small_mlp, "cnn"])
def test_cpu_compiler_options_change_no_number(monkeypatch, model):
    # The trainer compiles with jaxsched.train._compiler's options on a CPU (faster
    # compiles); XLA's default compilation gives the same numbers up to float32
    # rounding (bit for bit for blocks of one run; a block of two differs in the
    # last bit of a loss).
    batch = js.stack([js.constant(0.05), js.cosine(0.2, decay_steps=60)])
    run = {**RUN, "steps": 30, "eval_every": 15}
    tuned = fit(batch, model=model, **run)
    asked = []
    monkeypatch.setattr(loop, "compiler_options", lambda **_: asked.append(1))
    default = fit(batch, model=model, **run)
    assert asked, "fit no longer asks jaxsched.train._compiler for its options"
    for name, values in tuned.metrics.items():
        np.testing.assert_allclose(default.metrics[name], values, rtol=1e-6, err_msg=name)
