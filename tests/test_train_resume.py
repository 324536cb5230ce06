"""Checkpoint/resume: a sweep killed with SIGKILL and restarted ends bit-identical to an
uninterrupted one; a checkpoint of other arguments is refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import jaxsched as js
from jaxsched.train import Result, fit, order

# One process runs this sweep: fit with checkpoints, then the result as JSON.
SWEEP = """
import sys
import jaxsched as js
from jaxsched.train import fit

batch = js.stack([js.constant(0.05), js.cosine(0.2, 100), js.constant(1e4)])
result = fit(batch, data="digits", steps=100, eval_every=5, batch_size=32, seeds=2,
             checkpoint_dir=sys.argv[1], checkpoint_every={every}, progress=False)
result.to_json(sys.argv[2])
"""
KW = {"data": "digits", "steps": 100, "eval_every": 5, "batch_size": 32, "seeds": 2}


def _batch():
    return js.stack([js.constant(0.05), js.cosine(0.2, 100), js.constant(1e4)])


def _saved_steps(directory: Path) -> list[int]:
    """Steps of the complete checkpoints (orbax renames a folder to its step when done)."""
    return sorted(int(p.name) for p in directory.glob("*") if p.name.isdigit())


def _start(script: Path, ckpt: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    return subprocess.Popen([sys.executable, str(script), str(ckpt), str(out)], env=env)


@pytest.mark.parametrize("every", [1, 3])
def test_killed_run_resumes_bit_identical(tmp_path, every):
    script = tmp_path / "sweep.py"
    script.write_text(SWEEP.format(every=every))
    ckpt, out = tmp_path / "ckpt", tmp_path / "resumed.json"

    run = _start(script, ckpt, out)
    deadline = time.monotonic() + 120
    while not (ckpt.exists() and len(_saved_steps(ckpt)) >= 1) and time.monotonic() < deadline:
        assert run.poll() is None, "the run ended before it saved a checkpoint"
        time.sleep(0.01)
    time.sleep(0.3)  # kill it somewhere in the middle, maybe while it saves
    run.send_signal(signal.SIGKILL)
    run.wait()
    saved = _saved_steps(ckpt)
    assert not out.exists() and saved and saved[-1] < KW["steps"], saved
    # The last two are kept; a kill between finishing a save and deleting the oldest
    # leaves three complete ones, which the next save trims.
    assert len(saved) <= 3
    assert all(step % (5 * every) == 0 for step in saved)

    rerun = _start(script, ckpt, out)
    assert rerun.wait(timeout=300) == 0
    resumed = Result.from_json(out)
    whole = fit(_batch(), **KW, progress=False)
    for name, values in whole.metrics.items():
        np.testing.assert_array_equal(resumed.metrics[name], values, err_msg=name)
    np.testing.assert_array_equal(resumed.diverged, whole.diverged)
    assert (whole.diverged[:, 2] >= 0).any() and (whole.diverged[:, :2] == -1).all()
    assert _saved_steps(ckpt)[-1] == KW["steps"] and len(_saved_steps(ckpt)) == 2


def test_finished_checkpoint_gives_the_result_without_training(tmp_path):
    kw = {**KW, "steps": 20, "progress": False, "checkpoint_dir": tmp_path}
    first = fit(_batch(), **kw)
    again = fit(_batch(), **kw)
    for name, values in first.metrics.items():
        np.testing.assert_array_equal(again.metrics[name], values)
    np.testing.assert_array_equal(again.diverged, first.diverged)


@pytest.mark.parametrize(
    "change",
    [
        {"schedules": js.stack([js.constant(0.05), js.cosine(0.3, 200), js.constant(1e4)])},
        {"seeds": 3},
        {"steps": 25},
        {"batch_size": 16},
        {"eval_every": 4},
        {"model": "cnn"},
        {"optimizer": lambda lr: __import__("optax").adam(lr)},
    ],
    ids=["schedules", "seeds", "steps", "batch_size", "eval_every", "model", "optimizer"],
)
def test_checkpoint_of_other_arguments_is_refused(tmp_path, change):
    kw = {**KW, "steps": 20, "progress": False, "checkpoint_dir": tmp_path}
    fit(_batch(), **kw)
    kw.update(change)
    schedules = kw.pop("schedules", _batch())
    with pytest.raises(ValueError, match=r"checkpoint .* of a run with other arguments"):
        fit(schedules, **kw)


@pytest.mark.parametrize("change", ["scheme", "generator"])
def test_checkpoint_of_another_data_order_is_refused(tmp_path, monkeypatch, change):
    kw = {**KW, "steps": 20, "progress": False, "checkpoint_dir": tmp_path}
    fit(_batch(), **kw)
    if change == "scheme":
        monkeypatch.setattr(order, "SCHEME", order.SCHEME + ", changed")
    else:  # the same scheme, but the generator draws other permutations
        drawn = order.epoch_order
        monkeypatch.setattr(order, "epoch_order", lambda *args: drawn(*args)[::-1])
    with pytest.raises(ValueError, match=r"checkpoint .* of a run with other arguments"):
        fit(_batch(), **kw)


def _adam(b1):
    return lambda lr: __import__("optax").adam(lr, b1=b1)


def _mlp(activation):
    from flax import nnx

    class Small(nnx.Module):  # the same name for either activation
        def __init__(self, shape, n_classes, rngs):
            self.hidden = nnx.Linear(int(np.prod(shape)), 16, rngs=rngs)
            self.out = nnx.Linear(16, n_classes, rngs=rngs)

        def __call__(self, x):
            return self.out(activation(self.hidden(x.reshape(x.shape[0], -1))))

    return Small


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ({"optimizer": _adam(0.9)}, {"optimizer": _adam(0.5)}),
        ({"model": _mlp(__import__("jax").nn.relu)}, {"model": _mlp(__import__("jax").nn.tanh)}),
    ],
    ids=["optimizer", "model"],
)
def test_a_function_of_the_same_name_that_computes_otherwise_is_refused(tmp_path, first, then):
    kw = {**KW, "steps": 10, "progress": False, "checkpoint_dir": tmp_path}
    fit(_batch(), **kw, **first)
    with pytest.raises(ValueError, match=r"checkpoint .* of a run with other arguments"):
        fit(_batch(), **kw, **then)


def test_an_equal_partial_optimizer_resumes(tmp_path):
    # A partial's repr holds its function's address, which differs here as it
    # would in a new process; what it computes does not.
    import functools

    import optax

    def adam():
        return functools.partial(lambda lr, b1: optax.adam(lr, b1=b1), b1=0.8)

    one, other = adam(), adam()  # both alive: two addresses
    kw = {**KW, "steps": 10, "progress": False, "checkpoint_dir": tmp_path}
    first = fit(_batch(), optimizer=one, **kw)
    again = fit(_batch(), optimizer=other, **kw)
    np.testing.assert_array_equal(again.metrics["val_acc"], first.metrics["val_acc"])


# After failing to read the damaged folder, orbax's tensorstore leaves an event loop
# that is closed when collected: an unraisable warning from inside orbax, not ours.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_damaged_checkpoint_is_named_and_the_one_before_it_resumes(tmp_path):
    kw = {**KW, "steps": 20, "progress": False}
    whole = fit(_batch(), **kw)
    fit(_batch(), **kw, checkpoint_dir=tmp_path)  # keeps the checkpoints of steps 15 and 20
    assert _saved_steps(tmp_path) == [15, 20]
    for f in (tmp_path / "20").rglob("manifest.ocdbt"):
        f.unlink()
    with pytest.raises(ValueError, match=r"20 is not a readable checkpoint .* delete that folder"):
        fit(_batch(), **kw, checkpoint_dir=tmp_path)
    __import__("shutil").rmtree(tmp_path / "20")
    resumed = fit(_batch(), **kw, checkpoint_dir=tmp_path)
    for name, values in whole.metrics.items():
        np.testing.assert_array_equal(resumed.metrics[name], values)


def test_a_folder_that_is_not_a_checkpoint_is_named(tmp_path):
    (tmp_path / "10").mkdir()
    (tmp_path / "10" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"10 is not a readable checkpoint of a sweep"):
        fit(_batch(), **{**KW, "steps": 20}, progress=False, checkpoint_dir=tmp_path)


def test_the_checkpointer_fingerprints_the_plan_and_refuses_another_plans_checkpoint(
    tmp_path, monkeypatch
):
    import dataclasses

    from jaxsched.train.checkpoint import Checkpointer
    from jaxsched.train.plan import make_plan
    from jaxsched.train.trainer import run

    ids, restore = [], Checkpointer.restore

    def recorded(self, like):
        ids.append(self.run_id)
        return restore(self, like)

    monkeypatch.setattr(Checkpointer, "restore", recorded)
    plan = make_plan(_batch(), **{**KW, "steps": 10}, progress=False, checkpoint_dir=tmp_path)
    first = run(plan)
    again = run(plan)  # the same plan: its finished checkpoint, nothing trained
    np.testing.assert_array_equal(again.metrics["val_loss"], first.metrics["val_loss"])
    # A plan that differs in one checked value only (its run would diverge otherwise).
    other = dataclasses.replace(plan, divergence_factor=plan.divergence_factor / 2)
    with pytest.raises(ValueError, match=r"checkpoint .* of a run with other arguments"):
        run(other)
    assert ids[0] == ids[1] != ids[2]
