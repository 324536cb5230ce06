"""`make_plan`: fit's checks in one place, before anything compiles; the configurations
checked per family in one pass; the plan frozen and holding the checked values."""

from __future__ import annotations

import dataclasses
import inspect
import warnings
from pathlib import Path

import jax
import numpy as np
import pytest
from conftest import SWEEPS
from flax import nnx

import jaxsched as js
from jaxsched._spec import from_dict
from jaxsched.experiments.sweep_file import load_sweep, run_sweep
from jaxsched.train import fit, load, lr_find, plan
from jaxsched.train.loop import default_optimizer
from jaxsched.train.plan import check_configs, make_plan

DIGITS = load("digits")


def _one_by_one(schedules):
    """What fit checked before: every configuration rebuilt alone, the first bad one named."""
    configs = schedules.to_dicts()
    for i, config in enumerate(configs):
        try:
            with warnings.catch_warnings():  # as check_configs: a huge step rounds again
                warnings.simplefilter("ignore")
                from_dict(config)
        except ValueError as e:
            return f"fit: configuration {i} is invalid: {e}"
    return configs


def _checked(schedules):
    try:
        return check_configs(schedules)
    except ValueError as e:
        return str(e)


def _broken(schedules, at, value):
    """``schedules`` with entry ``at`` of every floating leaf set to ``value``, as a
    traced or hand-built batch can be (factories refuse it)."""

    def set_entry(x):
        x = np.array(x)
        if x.dtype.kind == "f":
            x[at] = value
        return jax.device_put(x)

    return jax.tree_util.tree_map(set_entry, schedules)


@pytest.mark.parametrize("name", list(SWEEPS))
def test_families_checked_at_once_refuse_what_one_by_one_refused(name):
    fn, shared, sweeps = SWEEPS[name]
    param, values = next(iter(sweeps.items()))
    batch = js.grid(fn, **{**shared, param: values})
    assert _checked(batch) == _one_by_one(batch)
    for value in (-5.0, np.nan, 1e30):
        broken = _broken(batch, len(values) - 1, value)
        assert _checked(broken) == _one_by_one(broken), value


def test_a_mixed_batch_names_its_first_bad_configuration_whatever_its_family():
    cosines = [js.cosine(0.5, decay_steps=50), js.cosine(0.3, decay_steps=50)]
    batch = js.stack([js.constant(0.1), cosines[0], js.constant(0.2), cosines[1], js.constant(0.3)])
    # Configuration 4 (a constant) and 3 (a cosine) are broken: 3 is named.
    broken = _broken(_broken(batch, 4, np.nan), 3, -5.0)
    message = _checked(broken)
    assert message.startswith("fit: configuration 3 is invalid: cosine:") and "-5" in message
    assert message == _one_by_one(broken)


def test_a_family_is_rebuilt_once_however_many_configurations_it_has(monkeypatch):
    calls = []

    def counted(spec):
        calls.append(spec["kind"])
        return from_dict(spec)

    monkeypatch.setattr(plan, "from_dict", counted)
    grid = js.grid(js.cosine, init_value=list(np.linspace(0.01, 0.1, 20)), decay_steps=[50, 90])
    mixed = js.stack([*grid, *js.grid(js.constant, value=[0.1, 0.2, 0.3])])
    assert len(check_configs(mixed)) == 43
    assert sorted(calls) == ["constant", "cosine"]
    calls.clear()
    with pytest.raises(ValueError, match="configuration 37 is invalid"):
        check_configs(_broken(mixed, 37, -5.0))
    # The failing family whole, bisected (at most log2(40) + 1 prefixes), then the
    # bad configuration alone to say why: not 40 rebuilds.
    assert calls.count("constant") == 1 and 3 <= calls.count("cosine") <= 1 + 6 + 1


def test_a_switch_step_rounded_when_built_is_not_warned_about_again():
    with pytest.warns(UserWarning, match="float32 cannot hold"):
        batch = js.stack([js.piecewise([123456789], [0.1, 0.2]), js.constant(0.1)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_configs(batch)[0]["boundaries"] == [123456790.0]  # shortest decimal


def test_a_plan_is_frozen_and_holds_the_checked_values():
    planned = make_plan(
        js.grid(js.cosine, init_value=[0.05, 0.1], decay_steps=50),
        data=DIGITS,
        steps=50,
        eval_every=20,
        batch_size=32,
        seeds=np.array([5, 3]),
        callbacks=print,
        divergence_factor=4,
        progress=False,
    )
    assert planned.seeds == (5, 3) and planned.eval_steps == (20, 40, 50)
    assert planned.callbacks == (print,) and planned.optimizer is default_optimizer
    assert planned.divergence_factor == 4.0 and isinstance(planned.divergence_factor, float)
    assert planned.keep_weights == "all" and planned.keep_note is None
    assert [c["init_value"] for c in planned.configs] == [0.05, 0.1]
    assert planned.names == ("train_loss", "val_loss", "val_acc", "test_loss", "test_acc")
    assert (planned.blocks.n_configs, planned.blocks.n_seeds) == (2, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        planned.steps = 10


def test_fit_and_make_plan_take_the_same_arguments_with_the_same_defaults():
    assert inspect.signature(fit).parameters == inspect.signature(make_plan).parameters


# ------------------------------------------------------- checks shared with lr_find and sweeps
class _Narrow(nnx.Module):
    def __init__(self, input_shape, n_outputs, rngs):
        self.out = nnx.Linear(input_shape[0], 3, rngs=rngs)

    def __call__(self, x):
        return self.out(x)


RNG = np.random.default_rng(0)
REGRESSION = tuple(
    RNG.normal(size=s).astype(np.float32) for s in [(90, 4), (90, 2), (10, 4), (10, 2)]
)
BASE = {"data": "digits", "steps": 20, "batch_size": 32}


def _error(call, *args, **kwargs) -> str:
    with pytest.raises(ValueError) as info:
        call(*args, **kwargs)
    return str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": "imagenet"},
        {"data": REGRESSION, "loss": "cross_entropy"},
        {"loss": "hinge"},
        {"model": "resnet"},
        {"model": _Narrow},
        {"batch_size": 5000},
        {"optimizer": "adam"},
    ],
    ids=["data", "targets", "loss", "model name", "model outputs", "batch_size", "optimizer"],
)
def test_lr_find_refuses_what_fit_refuses_with_the_same_message(kwargs):
    args = {**BASE, **kwargs}
    by_fit = _error(fit, js.stack([js.constant(0.1)]), **args)
    assert _error(lr_find, **args) == by_fit.replace("fit: ", "lr_find: ")


SWEEP = """
[data]
path = "data.npz"
[train]
model = "mlp"
steps = {steps}
batch_size = {batch_size}
{loss}
[schedule]
family = "constant"
value = [0.1, 0.2]
[output]
dir = "out"
"""


@pytest.mark.parametrize(
    "edit",
    [{"batch_size": 5000}, {"steps": 2**31}, {"loss": "cross_entropy"}],
    ids=["batch_size", "steps", "loss"],
)
def test_a_sweep_file_refuses_what_fit_refuses_with_fits_message_before_writing(edit, tmp_path):
    x, y, x_test, y_test = REGRESSION
    np.savez(tmp_path / "data.npz", x=x, y=y, x_test=x_test, y_test=y_test)
    args = {"steps": 20, "batch_size": 10, "loss": None, **edit}
    loss = "" if args["loss"] is None else f'loss = "{args["loss"]}"'
    path = tmp_path / "sweep.toml"
    path.write_text(SWEEP.format(steps=args["steps"], batch_size=args["batch_size"], loss=loss))
    spec = load_sweep(path)
    by_sweep = _error(run_sweep, spec, plots=False, log=None, progress=False)
    fit_args = {"steps": args["steps"], "batch_size": args["batch_size"], "loss": args["loss"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # eval_every follows steps in the file, not here
        by_fit = _error(
            fit, spec.schedules, data=Path(spec.data), eval_every=spec.eval_every, **fit_args
        )
    assert by_sweep == by_fit
    assert not (tmp_path / "out").exists()  # refused before its output folder was made
