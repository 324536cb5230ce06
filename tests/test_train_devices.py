"""Several devices: the configuration axis is padded and sharded, and the metrics equal
a single-device run (4 CPU devices forced in a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys

import jax
import numpy as np

import jaxsched as js
from jaxsched.train import Result, fit
from jaxsched.train.devices import Placement

SWEEP = """
import logging
import sys
import jax
import jaxsched as js
from jaxsched.train import fit
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
placed = placement.shard(placement.pad(batch, axis=0), axis=0)
assert len(placed.init_value.sharding.device_set) == 4
result = fit(batch, data="digits", steps=40, eval_every=20, batch_size=32, seeds=2, progress=False)
result.to_json(sys.argv[1])
# Two chunks of one length: the second reuses the first's program (the carry
# comes out of init placed as it comes out of a chunk).
chunks = [m for m in compiles if m.startswith("Finished XLA compilation of jit(chunk_seed)")]
assert len(chunks) == 1, chunks
"""
BATCH = "js.grid(js.cosine, init_value=[0.02, 0.05, 0.1, 0.2, 1e4], decay_steps=40)"


def test_sharded_over_four_devices_equals_one_device(tmp_path):
    script, out = tmp_path / "sweep.py", tmp_path / "sharded.json"
    script.write_text(SWEEP.format(batch=BATCH))
    env = {
        **os.environ,
        "JAX_PLATFORMS": "cpu",
        "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
    }
    done = subprocess.run([sys.executable, str(script), str(out)], env=env, capture_output=True)
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


def test_placement_pads_by_repeating_the_last_configuration():
    devices = jax.devices()[:1] * 3  # the padding arithmetic, without a real mesh
    placement = Placement(4, devices=devices)
    assert placement.padded == 6
    batch = js.grid(js.constant, value=[1.0, 2.0, 3.0, 4.0])
    padded = placement.pad(batch, axis=0)
    np.testing.assert_array_equal(padded.value, [1, 2, 3, 4, 4, 4])
    values = np.arange(12.0).reshape(2, 6)
    np.testing.assert_array_equal(placement.to_host(values, axis=1), values[:, :4])
