"""Sweep speed: N exponential-decay configurations x S steps of the MNIST-1D MLP, five ways.

Every method trains the same MLP (MNIST-1D, two hidden layers of 100, the
initial weights of ``build("mlp", ..., seed=0)``) with SGD, momentum 0.9, batch
size 100, for S steps, once per configuration; configuration i decays from
``init_value[i]`` (log-spaced 1e-3..0.3) by a factor 0.1 over the S steps. All
methods see the same batches (the order ``jaxsched.train.fit`` draws for seed
0), so their final test losses must agree, which the script checks.

  (a) fit    ``jaxsched.train.fit(..., eval_every=S)``: one compiled program for all
             configurations (one chunk of S steps, then one validation and test evaluation);
             on one CPU device, called for a group of configurations per core from threads
  (b) optax  what an optax user writes today: for each configuration a new
             ``optax.sgd(optax.exponential_decay(...))``, a jitted step, a Python loop
  (c) scan   for each configuration a new optimizer and a jitted ``lax.scan`` over
             the S steps, one configuration after another
  (d) torch  PyTorch's standard loop (``SGD`` + ``LambdaLR``), one configuration after another
  (e) vmap   hand-written raw JAX: ``jit(vmap(scan))`` over the configurations, with no
             divergence checks, one call; the reference for the overhead of ``fit`` on a
             GPU (on a CPU fit's groups use more cores than its one call)

Wall times include compilation: from the start of a method to its test losses on
the host. Loading MNIST-1D, the initial weights and the batch order are prepared
once, before any clock starts.

PyTorch runs in this interpreter when it can import torch; otherwise give
``--torch-python`` an interpreter that can, and the script runs itself there on
the same workload, written to a temporary ``.npz``.

Usage:
  python benchmarks/sweep_speed.py --configs 16 --steps 2000 [--skip-torch]
      [--torch-python /path/to/python] [--torch-threads K] [--cpu-devices K] [--json out.json]

``--cpu-devices K`` gives JAX K CPU devices (``jax_num_cpu_devices``), over
which ``fit`` shards the configurations instead of grouping them (one XLA
program per device, each on its own core); the other methods run on one
device, as their users' code does.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import functools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

try:
    import jax
    import jax.numpy as jnp
    import optax
    from flax import __version__ as flax_version
except ImportError:  # the PyTorch worker may run in an interpreter without JAX
    jax = None

try:
    import torch
except ImportError:
    torch = None

BATCH_SIZE = 100
MOMENTUM = 0.9
DECAY_RATE = 0.1
SEED = 0
LABELS = {
    "fit": "(a) fit",
    "optax": "(b) optax loop",
    "scan": "(c) scan per config",
    "torch": "(d) torch loop",
    "vmap": "(e) raw vmap scan",
}


@dataclasses.dataclass(frozen=True)
class Workload:
    """What every method trains: data, initial weights, batch order, configurations.

    ``params`` is ``[(kernel [in, out], bias [out]), ...]`` for the three layers;
    ``batches[t]`` holds the training indices of step t.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    params: list[tuple[np.ndarray, np.ndarray]]
    batches: np.ndarray
    init_values: np.ndarray

    @property
    def steps(self) -> int:
        """Training steps per configuration."""
        return len(self.batches)

    def save(self, path: Path) -> None:
        """Write the workload to an ``.npz`` (read back by `Workload.load`)."""
        arrays = {
            f"{k}_{i}": a
            for i, layer in enumerate(self.params)
            for k, a in zip("wb", layer, strict=True)
        }
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        del fields["params"]
        np.savez(path, **fields, **arrays)

    @classmethod
    def load(cls, path: Path) -> Workload:
        """Read a workload written by `Workload.save`."""
        with np.load(path) as f:
            arrays = dict(f)
        layers = len([k for k in arrays if k.startswith("w_")])
        params = [(arrays.pop(f"w_{i}"), arrays.pop(f"b_{i}")) for i in range(layers)]
        return cls(params=params, **arrays)


def make_workload(dataset, n_configs: int, steps: int) -> Workload:
    """The MLP's seed-0 weights, fit's seed-0 batch order and the learning rates."""
    from jaxsched.train.models import build

    model = build("mlp", dataset.input_shape, dataset.n_classes, SEED)
    params = [(np.asarray(l.kernel[...]), np.asarray(l.bias[...])) for l in model.layers]
    return Workload(
        x_train=dataset.x_train,
        y_train=dataset.y_train,
        x_test=dataset.x_test,
        y_test=dataset.y_test,
        params=params,
        batches=fit_batch_order(len(dataset.x_train), steps),
        init_values=np.geomspace(1e-3, 0.3, n_configs).astype(np.float32),
    )


def fit_batch_order(n_train: int, steps: int) -> np.ndarray:
    """``[steps, BATCH_SIZE]`` indices: the batches `fit` draws for seed ``SEED``."""
    from jaxsched.train.order import batch_indices

    return batch_indices(SEED, 0, steps, n_train, BATCH_SIZE)


# --- JAX: the model, one training step, a scan of steps ------------------------------------


def mlp(params, x):
    """The MNIST-1D MLP by hand: ReLU between the layers, logits out."""
    for kernel, bias in params[:-1]:
        x = jax.nn.relu(x @ kernel + bias)
    kernel, bias = params[-1]
    return x @ kernel + bias


def loss_fn(params, x, y):
    """Mean softmax cross-entropy."""
    return optax.softmax_cross_entropy_with_integer_labels(mlp(params, x), y).mean()


def sgd(init_value, steps: int) -> optax.GradientTransformation:
    """SGD with momentum; the rate decays by ``DECAY_RATE`` over ``steps`` (optax's schedule).

    ``init_value`` may be traced (so ``vmap`` works); ``steps`` must be a Python int,
    because ``optax.exponential_decay`` branches on it in Python.
    """
    return optax.sgd(optax.exponential_decay(init_value, steps, DECAY_RATE), momentum=MOMENTUM)


def train_step(opt, params, opt_state, x, y):
    """One SGD update; returns ``(params, opt_state, loss)``."""
    loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
    updates, opt_state = opt.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss


def train_scan(opt, params, x_train, y_train, batches):
    """All steps as one ``lax.scan``; returns the final parameters."""

    def step(carry, idx):
        params, opt_state, _ = train_step(opt, *carry, x_train[idx], y_train[idx])
        return (params, opt_state), None

    (params, _), _ = jax.lax.scan(step, (params, opt.init(params)), batches)
    return params


# --- the methods: each returns the test loss of every configuration, as numpy ---------------


def run_fit(work: Workload, dataset) -> np.ndarray:
    """(a) `jaxsched.train.fit`: one program, evaluation only at the end."""
    import jaxsched
    from jaxsched.train import fit

    schedules = jaxsched.grid(
        jaxsched.exponential,
        init_value=work.init_values.tolist(),
        decay_steps=work.steps,
        decay_rate=DECAY_RATE,
    )
    result = fit(
        schedules,
        data=dataset,
        model="mlp",
        optimizer=lambda lr: optax.sgd(lr, momentum=MOMENTUM),
        steps=work.steps,
        batch_size=BATCH_SIZE,
        seeds=[SEED],
        eval_every=work.steps,
        progress=False,
    )
    return result.metrics["test_loss"][0, :, -1]


def run_optax(work: Workload) -> np.ndarray:
    """(b) Today's optax loop: per configuration a new optimizer, a jitted step, a Python loop.

    Batches are gathered with numpy on the host; the loop never waits for a loss.
    """
    test_loss = jax.jit(loss_fn)
    losses = []
    for init_value in work.init_values:
        opt = sgd(float(init_value), work.steps)
        step = jax.jit(functools.partial(train_step, opt))
        params = jax.tree_util.tree_map(jnp.asarray, work.params)
        opt_state = opt.init(params)
        for idx in work.batches:
            params, opt_state, _ = step(params, opt_state, work.x_train[idx], work.y_train[idx])
        losses.append(test_loss(params, work.x_test, work.y_test))
    return np.asarray(losses)


def run_scan(work: Workload) -> np.ndarray:
    """(c) Per configuration a new optimizer and a jitted ``lax.scan``, one after another."""
    x_train, y_train, batches = jnp.asarray(work.x_train), jnp.asarray(work.y_train), work.batches
    test_loss = jax.jit(loss_fn)
    losses = []
    for init_value in work.init_values:
        train = jax.jit(functools.partial(train_scan, sgd(float(init_value), work.steps)))
        params = train(work.params, x_train, y_train, batches)
        losses.append(test_loss(params, work.x_test, work.y_test))
    return np.asarray(losses)


def run_vmap(work: Workload) -> np.ndarray:
    """(e) Raw JAX: ``jit(vmap(scan))`` over the learning rates, no checks, no evaluation chunks."""

    @jax.jit
    def train_all(init_values, params, x_train, y_train, batches, x_test, y_test):
        def one(init_value):
            final = train_scan(sgd(init_value, work.steps), params, x_train, y_train, batches)
            return loss_fn(final, x_test, y_test)

        return jax.vmap(one)(init_values)

    data = (work.x_train, work.y_train, work.batches, work.x_test, work.y_test)
    return np.asarray(train_all(work.init_values, work.params, *data))


def run_torch(work: Workload, threads: int | None = None) -> np.ndarray:
    """(d) PyTorch's standard loop: ``SGD(momentum)`` + ``LambdaLR``, one configuration at a time.

    The model starts from the same weights and indexes the same batches from
    in-memory tensors (no ``DataLoader``, whose per-example collation would
    dominate the time of so small a model). ``threads``: intra-op threads, if not
    torch's default.
    """
    if threads:
        torch.set_num_threads(threads)
    nn = torch.nn
    x_train, y_train = torch.from_numpy(work.x_train), torch.from_numpy(work.y_train).long()
    x_test, y_test = torch.from_numpy(work.x_test), torch.from_numpy(work.y_test).long()
    batches = torch.from_numpy(work.batches).long()
    steps = work.steps
    losses = []
    for init_value in work.init_values:
        model = nn.Sequential(
            nn.Linear(*work.params[0][0].shape),
            nn.ReLU(),
            nn.Linear(*work.params[1][0].shape),
            nn.ReLU(),
            nn.Linear(*work.params[2][0].shape),
        )
        with torch.no_grad():
            for layer, (kernel, bias) in zip(model[::2], work.params, strict=True):
                layer.weight.copy_(torch.from_numpy(kernel.T))
                layer.bias.copy_(torch.from_numpy(bias))
        opt = torch.optim.SGD(model.parameters(), lr=float(init_value), momentum=MOMENTUM)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: DECAY_RATE ** (t / steps))
        for idx in batches:
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
            sched.step()
        with torch.no_grad():
            losses.append(nn.functional.cross_entropy(model(x_test), y_test).item())
    return np.asarray(losses)


def run_torch_elsewhere(
    work: Workload, python: str, threads: int | None
) -> tuple[float, np.ndarray]:
    """(d) in another interpreter: this script with ``--torch-worker`` on a saved workload."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "workload.npz"
        work.save(path)
        out = subprocess.run(
            [python, __file__, "--torch-worker", str(path), "--torch-threads", str(threads or 0)],
            check=True,
            capture_output=True,
            text=True,
        )
    answer = json.loads(out.stdout.splitlines()[-1])
    print(f"  (d) ran in {python}: torch {answer['torch']}, {answer['threads']} threads")
    return answer["seconds"], np.asarray(answer["test_loss"])


def timed(method: Callable[..., np.ndarray], *args) -> tuple[float, np.ndarray]:
    """Wall seconds of ``method(*args)`` (results on the host included) and its result."""
    start = time.perf_counter()
    losses = method(*args)
    return time.perf_counter() - start, np.asarray(losses, dtype=np.float64)


# --- the report ----------------------------------------------------------------------------


def torch_runner(args) -> Callable[[Workload], tuple[float, np.ndarray]] | str:
    """How to run (d), or why it is skipped."""
    if args.skip_torch:
        return "skipped (--skip-torch)"
    if torch is not None:
        return lambda work: timed(run_torch, work, args.torch_threads)
    if args.torch_python:
        return lambda work: run_torch_elsewhere(work, args.torch_python, args.torch_threads)
    return "skipped: torch is not importable here (pass --torch-python PATH to run it elsewhere)"


def machine() -> dict:
    """CPU model, JAX backend and devices, library versions."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            l.split(":", 1)[1].strip()
            for l in cpuinfo.read_text().splitlines()
            if l.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    return {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "backend": jax.default_backend(),
        "devices": [d.device_kind for d in jax.devices()],
        "python": platform.python_version(),
        "jax": jax.__version__,
        "optax": optax.__version__,
        "flax": flax_version,
        "torch": torch.__version__ if torch is not None else None,
        "torch_threads": torch.get_num_threads() if torch is not None else None,
    }


def report(times: dict[str, float], losses: dict[str, np.ndarray], n_configs: int) -> list[dict]:
    """Print the table and check that every method reached fit's test losses; return the rows.

    Runs at the largest rates are chaotic: float32 rounding that differs between
    programs (batched or not, one device or several) grows over thousands of steps
    into differences of a few percent. A method that did other work (another
    schedule, other batches) differs at every configuration, so the check is on
    the median configuration.
    """
    print(
        f"\n{'method':<22} {'wall s':>8} {'s/config':>9} {'vs fit':>7}  {'test loss':>9}"
        "  rel. diff: median  max"
    )
    rows = []
    for name, seconds in times.items():
        diff = np.abs(losses[name] - losses["fit"]) / losses["fit"]
        row = {
            "method": LABELS[name],
            "seconds": seconds,
            "seconds_per_config": seconds / n_configs,
            "ratio_vs_fit": seconds / times["fit"],
            "median_test_loss": float(np.nanmedian(losses[name])),
            "median_rel_diff_vs_fit": float(np.nanmedian(diff)),
            "max_rel_diff_vs_fit": float(np.nanmax(diff)),
        }
        rows.append(row)
        print(
            f"{row['method']:<22} {seconds:>8.2f} {row['seconds_per_config']:>9.3f} "
            f"{row['ratio_vs_fit']:>6.2f}x  {row['median_test_loss']:>9.4f}"
            f"  {row['median_rel_diff_vs_fit']:>17.1e}  {row['max_rel_diff_vs_fit']:.1e}"
        )
    worst = max(row["median_rel_diff_vs_fit"] for row in rows)
    verdict = "agree" if worst < 0.01 else "DISAGREE: the methods did not do the same work"
    print(f"(test loss and rel. diff vs fit over the configurations) -> {verdict}")
    return rows


def check_targets(times: dict[str, float], backend: str) -> dict[str, bool]:
    """The issue's targets: on CPU (N=16) fit >= 3x faster than the optax loop; on a GPU
    (N=512) >= 100x faster, and at most 1.2x the time of the raw vmapped scan."""
    speedup, overhead = times["optax"] / times["fit"], times["fit"] / times["vmap"]
    print(f"\ntime (b) / time fit = {speedup:.2f}; time fit / time (e) = {overhead:.2f}")
    if backend == "cpu":
        met = {"fit >= 3x faster than (b)": speedup >= 3}
    else:
        met = {"fit >= 100x faster than (b)": speedup >= 100, "fit <= 1.2x (e)": overhead <= 1.2}
    for target, ok in met.items():
        print(f"target on {backend}: {target}: {'met' if ok else 'NOT met'}")
    return met


def main(argv: list[str] | None = None) -> None:
    """Run every method on one workload and print (optionally save) the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=16, help="configurations N (default 16)")
    parser.add_argument(
        "--steps", type=int, default=2000, help="steps S per configuration (default 2000)"
    )
    parser.add_argument("--skip-torch", action="store_true", help="do not run PyTorch")
    parser.add_argument("--torch-python", help="an interpreter with torch, when this one has none")
    parser.add_argument(
        "--torch-threads", type=int, help="torch intra-op threads (default: torch's own)"
    )
    parser.add_argument(
        "--cpu-devices", type=int, help="JAX CPU devices for fit to shard over (default 1)"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--torch-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.torch_worker:  # (d) for a parent process: one JSON line on stdout
        seconds, losses = timed(run_torch, Workload.load(args.torch_worker), args.torch_threads)
        answer = {"seconds": seconds, "test_loss": losses.tolist()}
        answer.update(torch=torch.__version__, threads=torch.get_num_threads())
        print(json.dumps(answer))
        return
    if jax is None:
        sys.exit("sweep_speed: needs jax, optax and flax (or --torch-worker)")
    if args.cpu_devices:  # must precede the first JAX operation
        jax.config.update("jax_num_cpu_devices", args.cpu_devices)

    from jaxsched.train.data import load
    from jaxsched.train.devices import Blocks

    dataset = load("mnist1d")
    work = make_workload(dataset, args.configs, args.steps)
    jnp.zeros(()).block_until_ready()  # start the backend before any clock
    info = machine()
    blocks = Blocks(args.configs, 1)
    info["fit_devices"], info["fit_blocks"] = len(jax.local_devices()), blocks.n_blocks
    info["fit_block_size"], info["fit_threads"] = blocks.size, blocks.workers
    load_before = os.getloadavg()[0]
    print(
        f"{args.configs} configs x {args.steps} steps, batch {BATCH_SIZE}, on {info['backend']} "
        f"({info['cpu']}, {info['cpu_count']} cores); fit on {info['fit_devices']} device(s), "
        f"{blocks.n_blocks} block(s) of {blocks.size} runs, {blocks.workers} thread(s); "
        f"load average {load_before:.2f}"
    )

    runners = {
        "fit": lambda: timed(run_fit, work, dataset),
        "optax": lambda: timed(run_optax, work),
        "scan": lambda: timed(run_scan, work),
    }
    torch_run = torch_runner(args)
    if callable(torch_run):
        runners["torch"] = lambda: torch_run(work)
    else:
        print(f"(d) torch loop: {torch_run}")
    runners["vmap"] = lambda: timed(run_vmap, work)

    times, losses = {}, {}
    for name, run in runners.items():
        times[name], losses[name] = run()
        print(f"  {LABELS[name]}: {times[name]:.2f} s", flush=True)
    rows = report(times, losses, args.configs)
    met = check_targets(times, info["backend"])
    load_after = os.getloadavg()[0]
    print(f"load average after: {load_after:.2f}")

    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
                    "date": datetime.datetime.now().isoformat(timespec="seconds"),
                    "settings": {
                        "configs": args.configs,
                        "steps": args.steps,
                        "batch_size": BATCH_SIZE,
                        "momentum": MOMENTUM,
                        "decay_rate": DECAY_RATE,
                        "seed": SEED,
                        "init_values": work.init_values.tolist(),
                        "torch_python": args.torch_python,
                        "torch_threads": args.torch_threads,
                        "cpu_devices": args.cpu_devices,
                    },
                    "machine": info,
                    "load_average": {"before": load_before, "after": load_after},
                    "results": rows,
                    "targets": met,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
