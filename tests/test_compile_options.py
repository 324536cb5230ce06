"""The suite's fast compile options (``FAST_COMPILE_FLAGS`` in conftest) change no value.

The programs this process compiles with them give the same bits as the same
programs compiled with XLA's default options in a fresh process: every schedule
of the conftest table at float and integer steps, and a small training sweep.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import jax
import numpy as np
from conftest import SWEEPS

import jaxsched as js
from jaxsched.train import fit

STEPS = [0, 1, 2.5, 7, 29.5, 30, 99, 100, 101, 1000, 123456, 2**24 + 3, 2**31 - 1]


def values() -> dict[str, np.ndarray]:
    """Every case of the table at `STEPS` (float32 and int32), and a small CNN sweep."""
    call = jax.jit(lambda s, t: s(t))
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, (factory, shared, sweeps) in SWEEPS.items():
            cases = [shared] + [{**shared, p: v} for p, vs in sweeps.items() for v in vs]
            for i, kwargs in enumerate(cases):
                s = factory(**kwargs)
                for dtype in (np.float32, np.int32):
                    steps = [t if dtype is np.float32 else int(t) for t in STEPS]
                    out[f"{name}/{i}/{dtype.__name__}"] = np.asarray(
                        call(s, np.asarray(steps, dtype))
                    )
        batch = js.grid(js.cosine, init_value=[0.05, 0.5], decay_steps=12)
        result = fit(batch, data="digits", model="cnn", steps=12, eval_every=6, batch_size=16,
                     progress=False)  # fmt: skip
    out |= {f"fit/{name}": np.asarray(v) for name, v in result.metrics.items()}
    params = jax.tree_util.tree_leaves(result.weights.params)
    out["fit/params"] = np.concatenate([np.ravel(x) for x in params])
    return out


def test_fast_compile_options_change_no_value(tmp_path):
    path = tmp_path / "defaults.npz"
    code = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); " + (
        "import numpy as np, test_compile_options as t; np.savez(sys.argv[1], **t.values())"
    )
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": "", "JAXSCHED_TEST_XLA_DEFAULTS": "1"}
    done = subprocess.run([sys.executable, "-c", code, str(path)], env=env, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    here = values()
    with np.load(path) as defaults:
        assert sorted(defaults.files) == sorted(here) and len(here) > 300
        for key in defaults.files:
            np.testing.assert_array_equal(here[key], defaults[key], err_msg=key)
