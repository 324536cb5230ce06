"""Several devices: the configuration axis is padded and sharded, and the metrics equal
a single-device run (4 CPU devices forced in a subprocess). One CPU device: the
configurations are split into a group per core, trained from threads of their own."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading

import jax
import numpy as np
import pytest

import jaxsched as js
from jaxsched.train import LRFindResult, Result, devices, fit, lr_find
from jaxsched.train.checkpoint import Checkpointer
from jaxsched.train.devices import Groups, Placement

SWEEP = """
import json
import logging
import sys
import jax
import jaxsched as js
from jaxsched.train import fit, lr_find
from jaxsched.train.devices import Placement

compiles = []
class Compiles(logging.Handler):
    def emit(self, record):
        compiles.append(record.getMessage())
logging.getLogger("jax").addHandler(Compiles())
jax.config.update("jax_log_compiles", True)

assert len(jax.devices()) == 4, jax.devices()
batch = {batch}
placement = Placement(len(batch))
assert placement.padded == 8
assert placement.groups == 1  # several devices: sharded, not grouped
(placed,) = placement.place(batch, axis=0)
assert len(placed.init_value.sharding.device_set) == 4
result = fit(batch, data="digits", steps=40, eval_every=20, batch_size=32, seeds=2, progress=False)
result.to_json(sys.argv[1])
with open(sys.argv[2], "w") as f:  # lr_find's sweep is sharded the same way
    json.dump(lr_find(**{lr_find}).to_dict(), f)
# Two chunks of one length: the second reuses the first's program (the carry
# comes out of init placed as it comes out of a chunk).
chunks = [m for m in compiles if m.startswith("Finished XLA compilation of jit(chunk_seed)")]
assert len(chunks) == 1, chunks
"""
BATCH = "js.grid(js.cosine, init_value=[0.02, 0.05, 0.1, 0.2, 1e4], decay_steps=40)"
LR_FIND = {"data": "digits", "method": "sweep", "n_rates": 6, "steps": 30}


def test_sharded_over_four_devices_equals_one_device(tmp_path):
    script, out = tmp_path / "sweep.py", tmp_path / "sharded.json"
    found_out = tmp_path / "lr_find.json"
    script.write_text(SWEEP.format(batch=BATCH, lr_find=LR_FIND))
    env = {
        **os.environ,
        "JAX_PLATFORMS": "cpu",
        "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
    }
    done = subprocess.run(
        [sys.executable, str(script), str(out), str(found_out)], env=env, capture_output=True
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    sharded = Result.from_json(out)

    batch = eval(BATCH)
    single = fit(
        batch, data="digits", steps=40, eval_every=20, batch_size=32, seeds=2, progress=False
    )
    assert sharded.metrics["val_acc"].shape == (2, 5, 2)
    # Bit-identical on the 2-core CI machine; XLA may vectorise 2 and 5 configurations
    # differently elsewhere, so allow float32 rounding.
    for name, values in single.metrics.items():
        np.testing.assert_allclose(
            sharded.metrics[name], values, rtol=1e-6, atol=1e-7, err_msg=name
        )
    np.testing.assert_array_equal(sharded.diverged, single.diverged)
    assert sharded.configs == single.configs
    found = LRFindResult.from_dict(json.loads(found_out.read_text()))
    alone = lr_find(**LR_FIND)
    np.testing.assert_allclose(found.raw_loss, alone.raw_loss, rtol=1e-5)
    assert found.suggested == alone.suggested


def test_placement_pads_by_repeating_the_last_configuration():
    devices = jax.devices()[:1] * 3  # the padding arithmetic, without a real mesh
    placement = Placement(4, devices=devices)
    assert placement.padded == 6
    batch = js.grid(js.constant, value=[1.0, 2.0, 3.0, 4.0])
    padded = placement.pad(batch, axis=0)
    np.testing.assert_array_equal(padded.value, [1, 2, 3, 4, 4, 4])
    values = np.arange(12.0).reshape(2, 6)
    np.testing.assert_array_equal(placement.to_host(Groups([values]), axis=1), values[:, :4])


def _cores(monkeypatch, n: int) -> None:
    """Pretend this process may use ``n`` CPU cores."""
    monkeypatch.setattr(devices, "usable_cores", lambda: n)


def test_one_cpu_device_makes_a_group_per_usable_core(monkeypatch):
    _cores(monkeypatch, 3)
    assert [Placement(n).groups for n in (1, 2, 3, 5, 16)] == [1, 2, 3, 3, 3]
    assert Placement(5).padded == 6
    assert Placement(5, devices=jax.devices()[:1] * 2).groups == 1  # devices: sharded instead
    with pytest.raises(ValueError, match="one device"):
        Placement(4, devices=jax.devices()[:1] * 2, groups=2)


def test_groups_train_from_threads_of_their_own_and_equal_one_group(monkeypatch):
    batch = js.grid(js.cosine, init_value=[0.02, 0.05, 0.1, 0.2, 1e4], decay_steps=40)
    kw = {"data": "digits", "steps": 40, "eval_every": 20, "batch_size": 24, "seeds": 2}
    threads, compiles = set(), []
    call = jax.stages.Compiled.__call__

    def noting_call(self, *args):
        threads.add(threading.current_thread().name)
        return call(self, *args)

    class Compiles(logging.Handler):
        def emit(self, record):
            compiles.append(record.getMessage())

    monkeypatch.setattr(jax.stages.Compiled, "__call__", noting_call)
    handler = Compiles()
    logging.getLogger("jax").addHandler(handler)
    _cores(monkeypatch, 3)
    try:
        with jax.log_compiles(True):
            grouped = fit(batch, progress=False, **kw)
    finally:
        logging.getLogger("jax").removeHandler(handler)
    assert len(threads) == 3 and all(t.startswith("jaxsched-group") for t in threads)
    # Two chunks of one length: one compile serves every group and both chunks.
    chunk = "Finished XLA compilation of jit(chunk_seed)"
    assert len([m for m in compiles if m.startswith(chunk)]) == 1, compiles

    _cores(monkeypatch, 1)
    threads.clear()
    single = fit(batch, progress=False, **kw)
    assert not threads  # one group: the jitted functions, called from this thread
    assert (single.diverged[:, 4] >= 0).all() and (single.diverged[:, :4] == -1).all()
    np.testing.assert_array_equal(grouped.diverged, single.diverged)
    for name, values in single.metrics.items():  # float32 rounding of 2 vs 5 configurations
        np.testing.assert_allclose(grouped.metrics[name], values, rtol=1e-6, atol=1e-7)


def test_a_checkpoint_resumes_under_other_groups(monkeypatch, tmp_path):
    batch = js.grid(js.cosine, init_value=[0.02, 0.05, 0.1], decay_steps=60)
    kw = {"data": "digits", "steps": 60, "eval_every": 20, "batch_size": 24, "progress": False}
    whole = fit(batch, **kw)
    save = Checkpointer.save

    def save_then_stop(self, step, tree, last):
        save(self, step, tree, last)
        raise KeyboardInterrupt

    _cores(monkeypatch, 3)
    monkeypatch.setattr(Checkpointer, "save", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        fit(batch, checkpoint_dir=tmp_path, **kw)
    monkeypatch.setattr(Checkpointer, "save", save)
    restore, restored = Checkpointer.restore, []

    def noting_restore(self, like):
        out = restore(self, like)
        restored.append(out[0])
        return out

    monkeypatch.setattr(Checkpointer, "restore", noting_restore)
    _cores(monkeypatch, 2)
    resumed = fit(batch, checkpoint_dir=tmp_path, **kw)
    assert restored == [20]  # resumed after the first chunk, saved by three groups
    for name, values in whole.metrics.items():
        np.testing.assert_allclose(resumed.metrics[name], values, rtol=1e-6, atol=1e-7)
