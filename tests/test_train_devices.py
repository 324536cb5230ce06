"""Blocks: every run is trained by one block program of a fixed shape, so the results are
bit-identical on one device, four CPU devices, one core, several threads and two
processes (each machine in a subprocess)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading

import jax
import numpy as np
import pytest

import jaxsched as js  # noqa: F401  (BATCH is evaluated here)
from jaxsched.train import LRFindResult, Result, devices, fit
from jaxsched.train.devices import Blocks, block_layout

# 5 configurations x 2 seeds in blocks of 2: 3 blocks per seed, the last one padded.
BATCH = "js.grid(js.cosine, init_value=[0.02, 0.05, 0.1, 0.2, 1e4], decay_steps=20)"
FIT = {"data": "digits", "steps": 20, "eval_every": 10, "batch_size": 32, "seeds": 2}
LR_FIND = {"data": "digits", "method": "sweep", "n_rates": 6, "steps": 20}

SWEEP = (
    """
import json, os, sys
machine = sys.argv[1]
if machine == "one-core":
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
if machine == "four-devices":
    os.environ["XLA_FLAGS"] += " --xla_force_host_platform_device_count=4"
import jax
if machine.startswith("process"):
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    index, port = int(machine[-1]), int(sys.argv[3])
    jax.distributed.initialize(f"127.0.0.1:{port}", num_processes=2, process_id=index)
import numpy as np
import jaxsched as js
from jaxsched.train import fit, lr_find
from jaxsched.train.devices import Blocks

blocks = Blocks(5, 2, block_size=2)
expected = {"four-devices": (4, 1), "one-core": (1, 1), "process-0": (1, 2), "process-1": (1, 2)}
assert (len(jax.local_devices()), jax.process_count()) == expected.get(machine, (1, 1))
assert blocks.workers == {"one-core": 1, "four-devices": 4}.get(machine, blocks.workers)
checkpoint_dir = sys.argv[4] if len(sys.argv) > 4 else None
result = fit(BATCH_SPEC, block_size=2, progress=False, checkpoint_dir=checkpoint_dir, **FIT_KW)
found = lr_find(**LR_FIND_KW)
if jax.process_index() == 0:
    result.save(sys.argv[2])
    with open(os.path.join(sys.argv[2], "lr_find.json"), "w") as f:
        json.dump(found.to_dict(), f)
""".replace("BATCH_SPEC", BATCH)
    .replace("FIT_KW", repr(FIT))
    .replace("LR_FIND_KW", repr(LR_FIND))
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(machine: str, out, *extra) -> subprocess.Popen:
    # The suite's compile options (conftest), without a device count given to this process.
    flags = os.environ.get("XLA_FLAGS", "").split()
    flags = [f for f in flags if not f.startswith("--xla_force_host_platform_device_count")]
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": " ".join(flags)}
    return subprocess.Popen(
        [sys.executable, "-c", SWEEP, machine, str(out), *map(str, extra)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _finish(*procs: subprocess.Popen) -> None:
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()[-3000:]


def _assert_identical(a: Result, b: Result) -> None:
    for name, values in a.metrics.items():
        np.testing.assert_array_equal(b.metrics[name], values, err_msg=name)
    np.testing.assert_array_equal(b.diverged, a.diverged)
    np.testing.assert_array_equal(b.lr, a.lr)
    for x, y in zip(
        jax.tree_util.tree_leaves(a.weights.params),
        jax.tree_util.tree_leaves(b.weights.params),
        strict=True,
    ):
        np.testing.assert_array_equal(x, y)


def test_bit_identical_on_one_device_four_devices_one_core_and_two_processes(tmp_path):
    """The same sweep in five settings, and the two processes' checkpoints resumed by two
    processes and by one."""
    port, ckpt = _free_port(), tmp_path / "ckpt"
    runs = {
        "four-devices": [_run("four-devices", tmp_path / "four")],
        "one-core": [_run("one-core", tmp_path / "core")],
        "processes": [_run(f"process-{i}", tmp_path / "procs", port, ckpt) for i in (0, 1)],
    }
    here = fit(eval(BATCH), block_size=2, progress=False, **FIT)
    for procs in runs.values():
        _finish(*procs)
    assert (here.diverged[:, 4] >= 0).all() and (here.diverged[:, :4] == -1).all()
    from jaxsched.train import lr_find

    found = lr_find(**LR_FIND)
    for folder in ("four", "core", "procs"):
        other = Result.load(tmp_path / folder)
        _assert_identical(here, other)
        theirs = LRFindResult.from_dict(
            json.loads((tmp_path / folder / "lr_find.json").read_text())
        )
        np.testing.assert_array_equal(theirs.raw_loss, found.raw_loss)

    # The processes saved after each chunk; remove the last checkpoint, as if both had
    # been killed after the first chunk: both resume, to the uninterrupted result.
    assert sorted(int(p.name) for p in ckpt.iterdir() if p.name.isdigit()) == [10, 20]
    shutil.rmtree(ckpt / "20")
    port = _free_port()
    _finish(*(_run(f"process-{i}", tmp_path / "resumed", port, ckpt) for i in (0, 1)))
    _assert_identical(here, Result.load(tmp_path / "resumed"))
    # The checkpoint holds the gathered runs: one process resumes what two saved.
    shutil.rmtree(ckpt / "20")
    alone = fit(eval(BATCH), block_size=2, progress=False, checkpoint_dir=ckpt, **FIT)
    _assert_identical(here, alone)


def test_block_layout_follows_the_sweep_and_block_size_not_the_machine():
    assert [block_layout(n, 16) for n in (1, 16, 17, 32, 33, 136, 360)] == [
        (1, 1),
        (1, 16),
        (2, 9),
        (2, 16),
        (4, 9),  # an even number of blocks when there are several
        (10, 14),
        (24, 15),
    ]
    cpu = jax.devices()[0]
    one, four = Blocks(7, 3, 4), Blocks(7, 3, 4, devices=[cpu] * 4, workers=4)
    assert (one.size, one.per_seed, one.n_blocks) == (four.size, four.per_seed, four.n_blocks)
    assert (one.size, one.per_seed, one.n_blocks) == (4, 2, 6)
    assert one.configs_of(1).tolist() == [4, 5, 6, 6] and one.seed_of(3) == 1
    assert Blocks(3, 1, 16).size == 3  # a small sweep is one block, unpadded
    assert Blocks(100, 1).size == 13  # the CPU's default: 8 blocks of at most 16


def _cores(monkeypatch, n: int) -> None:
    """Pretend this process may use ``n`` CPU cores."""
    monkeypatch.setattr(devices, "usable_cores", lambda: n)


def test_blocks_train_from_threads_one_compile_serving_them_all(monkeypatch):
    batch = eval(BATCH)
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
            threaded = fit(batch, block_size=2, progress=False, **FIT)
    finally:
        logging.getLogger("jax").removeHandler(handler)
    assert len(threads) == 3 and all(t.startswith("jaxsched-block") for t in threads)
    # Two chunks of one length: one compile serves every block and both chunks (XLA
    # logs it also where the tests' compilation cache, conftest, holds the program).
    chunk = "Finished XLA compilation of jit(chunk_one)"
    assert len([m for m in compiles if m.startswith(chunk)]) == 1, compiles

    _cores(monkeypatch, 1)
    threads.clear()
    alone = fit(batch, block_size=2, progress=False, **FIT)
    assert all(not t.startswith("jaxsched-block") for t in threads)  # from this thread
    _assert_identical(threaded, alone)


def test_another_block_size_trains_the_same_runs_up_to_float32_rounding():
    batch = eval(BATCH)
    small = fit(batch, block_size=2, progress=False, **FIT)
    large = fit(batch, block_size=16, progress=False, **FIT)
    np.testing.assert_array_equal(small.diverged, large.diverged)
    for name, values in small.metrics.items():
        np.testing.assert_allclose(large.metrics[name], values, rtol=1e-5, atol=1e-6)


def test_a_checkpoint_refuses_another_block_size(tmp_path):
    batch = eval(BATCH)
    kw = {**FIT, "seeds": 1, "progress": False}
    fit(batch, block_size=2, checkpoint_dir=tmp_path, **kw)
    with pytest.raises(ValueError, match=r"holds a checkpoint .* of a run with other arguments"):
        fit(batch, block_size=3, checkpoint_dir=tmp_path, **kw)


def test_block_size_must_be_a_positive_integer():
    with pytest.raises(ValueError, match="block_size must be an integer >= 1, got 0"):
        fit(eval(BATCH), block_size=0, **FIT)
