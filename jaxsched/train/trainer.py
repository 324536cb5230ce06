"""`fit`: train a batch of schedule configurations x seeds in one compiled program."""

from __future__ import annotations

import dataclasses
import math
import numbers
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np

from jaxsched._base import Schedule
from jaxsched._decay import constant
from jaxsched._output import writable_folder
from jaxsched._plateau import Plateau
from jaxsched._spec import from_dict
from jaxsched.train import order
from jaxsched.train._limits import (
    check_fits,
    check_runs_fit,
    check_seed,
    check_steps,
    memory_bytes,
)
from jaxsched.train._weights import Weights
from jaxsched.train.checkpoint import Checkpointer, fingerprint
from jaxsched.train.data import Dataset, load
from jaxsched.train.devices import Blocks, PerBlock
from jaxsched.train.evaluation import EvalSet, eval_batch_size
from jaxsched.train.loop import (
    OptimizerFactory,
    build_program,
    check_optimizer,
    default_optimizer,
    step_program,
)
from jaxsched.train.models import ModelFactory, initial_states, outputs_like, weight_count
from jaxsched.train.objective import Objective, PerExample, goals
from jaxsched.train.plateaus import PlateauRuns, check_batch
from jaxsched.train.result import Result
from jaxsched.train.run_length import warn_unfinished

__all__ = ["fit"]

#: The most bytes of batch indices sent to the devices at once (a chunk's, or a piece's).
_INDICES_BYTES = 2**26
KEEP_WEIGHTS = ("all", "best", "none")

#: ``callback(step, metrics)``, called after each evaluation with ``{name: [seed, config]}``.
Callback = Callable[[int, dict[str, np.ndarray]], Any]


def fit(
    schedules: Schedule | Plateau,
    *,
    data: str | Path | Dataset | tuple = "mnist1d",
    model: str | ModelFactory = "mlp",
    optimizer: OptimizerFactory | None = None,
    loss: str | PerExample | None = None,
    metrics: Mapping[str, Any] | None = None,
    steps: int,
    batch_size: int = 100,
    seeds: int | Sequence[int] = 1,
    eval_every: int = 250,
    val_fraction: float = 0.1,
    divergence_factor: float | None = 10.0,
    keep_weights: str | None = None,
    callbacks: Sequence[Callback] = (),
    block_size: int | None = None,
    monitor: str = "val_loss",
    checkpoint_dir: str | Path | None = None,
    checkpoint_every: int = 1,
    progress: bool = True,
    eval_params: Callable[[Any, Any], Any] | None = None,
) -> Result:
    """Train every schedule in a batch, for every seed, in one compiled program.

    Args:
      schedules: a batch of schedules (one leading axis: the configurations),
        e.g. from `jaxsched.grid` or `jaxsched.stack`; or a batch of
        reduce-on-plateau controllers (`jaxsched.plateau` with array
        hyperparameters), whose rates follow ``monitor`` (`jaxsched.train.plateaus`).
      data: ``"mnist1d"``, ``"digits"``, a path to an ``.npz`` with ``x, y,
        x_test, y_test``, those four arrays as a tuple, or a loaded `Dataset`.
        Integer ``y`` are class indices; floating ``y`` regression targets.
      model: ``"mlp"``, ``"cnn"``, or ``model(input_shape, n_outputs, rngs)``
        returning a Flax NNX module (``n_outputs``: the classes, or the target
        values per example). Its ``nnx.Param`` are trained; other state
        (``nnx.BatchNorm``, ``nnx.Dropout``) is kept per run, in training mode
        while training and in evaluation mode while evaluating.
      optimizer: ``optimizer(schedule) -> optax.GradientTransformation``, called
        with each configuration's (traced) schedule; default SGD with momentum 0.9.
        Its ``update`` gets ``(grads, state, params)``: transformations that
        need more (``optax.lbfgs``'s ``value``, ``grad``, ``value_fn``) are refused.
      loss: ``"cross_entropy"``, ``"mse"`` or ``loss(outputs, y) -> [batch]``
        per-example losses; default cross-entropy for class labels, mean
        squared error for regression targets. Training minimizes its batch mean.
      metrics: ``{name: fn(outputs, y) -> [batch]}``, or ``{name: (fn, "min")}``
        for one where lower is better; averaged over each split into
        ``val_<name>`` and ``test_<name>``. Default: accuracy (``acc``) for
        classification, none for regression.
      steps: training steps per run.
      batch_size: examples per step.
      seeds: how many seeds (0, 1, ...) or the seeds themselves. A seed sets the
        initial weights, the data order and the model's random streams
        (dropout); configurations of one seed share all three.
      eval_every: steps between evaluations (the length of one compiled chunk).
      val_fraction: the part of the training set held out for validation.
      divergence_factor: a run diverged at the first step whose training loss
        is not finite or exceeds this many times its loss at step 0 (when that
        is positive); None: only a non-finite loss. A diverged run's later
        metrics are NaN and it is never selected.
      keep_weights: ``"all"`` (every run's final weights), ``"best"`` (every
        seed's run of the configuration `Result.best` picks) or ``"none"``;
        default ``"all"`` when they fit in a quarter of the memory, else ``"best"``.
      callbacks: functions called as ``callback(step, metrics)`` after each
        evaluation, ``metrics`` being ``{name: array[seed, config]}`` at that step;
        one with a ``start(configs=, seeds=, goals=)`` method gets that first, and
        one with an ``end()`` method is told when training stops (see
        `jaxsched.train.callbacks`, e.g. its `TensorBoard`). A callback that
        raises stops the run.
      monitor: the metric plateau controllers watch, at each evaluation (default
        ``"val_loss"``).
      block_size: the most runs one compiled block program trains (default: 16 on a
        CPU, 256 elsewhere; see `jaxsched.train.devices`). The results depend on
        it (and on the platform), never on the number of devices, cores or processes.
      checkpoint_dir: save the sweep here (orbax) and, when it holds a checkpoint
        of a run with the same arguments, resume from the newest one: the result
        is bit-identical to an uninterrupted run. A checkpoint of a run with
        other arguments is refused with a `ValueError`.
      checkpoint_every: save after every this many chunks (and after the last).
      progress: show a progress bar (only when stderr is a terminal).
      eval_params: ``eval_params(opt_state, params) -> params``, the weights to evaluate
        (and keep) instead of the trained ones, for optimizers that evaluate elsewhere
        than they take gradients: ``optax.contrib.schedule_free_eval_params``.

    Returns:
      A `Result` with metrics shaped ``[seed, config, eval]``.

    The runs are trained in blocks of at most ``block_size`` configurations of
    one seed, each by the same compiled program, spread over the processes, the
    devices and (on a CPU) the cores: results are bit-identical on any number
    of them (`jaxsched.train.devices`).

    Example:
      >>> import jaxsched
      >>> from jaxsched.train import fit
      >>> batch = jaxsched.grid(jaxsched.cosine, init_value=[0.03, 0.1], decay_steps=200)
      >>> result = fit(batch, data="digits", steps=200, eval_every=100, seeds=2, progress=False)
      >>> result.metrics["val_acc"].shape
      (2, 2, 2)
      >>> result.best()["val_acc_mean"] > 0.8
      True
    """
    dataset = data if isinstance(data, Dataset) else load(data, val_fraction)
    objective = Objective.resolve(loss, metrics, dataset.classification)
    controllers = schedules if isinstance(schedules, Plateau) else None
    if controllers is not None:  # checked as the constant rates they start from
        schedules = constant(np.broadcast_to(controllers.init_value, check_batch(controllers)))
    _check(
        schedules, optimizer, dataset, steps, batch_size, eval_every, checkpoint_every, block_size
    )
    divergence_factor = _check_factor(divergence_factor)
    warn_unfinished("fit", schedules, steps)
    callbacks = _check_callbacks(callbacks)
    if eval_params is not None and not callable(eval_params):
        raise ValueError(
            f"fit: eval_params must be a function (opt_state, params) -> params, got {eval_params!r}"
        )
    n_configs = schedules.batch_shape[0]
    _check_checkpoint_dir(checkpoint_dir)
    # The history's size is checked before a count of seeds becomes a list.
    seeds = _seeds(
        seeds, lambda n: _check_history_size(len(objective.names), n, n_configs, steps, eval_every)
    )
    n_outputs = dataset.n_outputs
    n_weights = weight_count(model, dataset.input_shape, n_outputs)
    n_runs = len(seeds) * n_configs
    check_runs_fit(
        "fit",
        f"{len(seeds)} seeds x {n_configs} configurations ({n_weights} weights each)",
        n_runs,
        n_weights,
        "use fewer seeds or configurations, or run them in several fits",
    )
    keep_weights, note = _keep_weights(keep_weights, n_runs, n_weights)
    y_like = jax.ShapeDtypeStruct((batch_size, *dataset.y_train.shape[1:]), dataset.y_train.dtype)
    outputs = outputs_like(model, dataset.input_shape, n_outputs, batch_size)
    objective.check(outputs, y_like, n_outputs)
    plateaus = None
    names = objective.names
    if controllers is not None:
        plateaus = PlateauRuns.start(controllers, monitor, len(seeds), names)
        names = (*names, "lr")  # each run's rate, which its controller sets
        configs = plateaus.configs()
    else:
        configs = _configs(schedules)  # after the cheap checks: 10**5 take a minute
    optimizer = optimizer or default_optimizer
    blocks = Blocks(n_configs, len(seeds), block_size)

    network, params, state = initial_states(model, dataset.input_shape, n_outputs, seeds)

    train = blocks.replicate((dataset.x_train, dataset.y_train))
    splits = {"val": (dataset.x_val, dataset.y_val), "test": (dataset.x_test, dataset.y_test)}
    n_examples = sum(len(y) for _, y in splits.values())
    # Evaluation batches follow the block, not the sweep: the same sums on any machine.
    evaluation = EvalSet.pack(list(splits.values()), eval_batch_size(blocks.size, n_examples))
    eval_arrays = [blocks.replicate(a) for a in (evaluation.x, evaluation.y, evaluation.member)]
    placed = blocks.place_configs(schedules)
    program = build_program(network, objective, optimizer, divergence_factor)
    evaluated = _evaluated(eval_params, blocks)

    n_train = len(dataset.x_train)
    eval_steps = list(range(eval_every, steps + 1, eval_every))
    if not eval_steps or eval_steps[-1] != steps:
        eval_steps.append(steps)
    # The rate in force at each evaluation: the one of the step before it.
    started = blocks.run(
        program.init,
        blocks.place_seeds(params),
        blocks.place_seeds(state),
        placed,
        np.asarray(eval_steps, np.int32) - 1,
    )
    carry, lr = started.map(lambda out: out[0]), started.map(lambda out: out[1])
    shape = (len(seeds), n_configs, len(eval_steps))
    history = {m: np.full(shape, np.nan, np.float32) for m in names}
    done = 0

    checkpointer = None
    if checkpoint_dir is not None:
        run_id = fingerprint(
            configs=configs,
            data=[dataset.x_train, dataset.y_train, dataset.x_val, dataset.y_val],
            test=[dataset.x_test, dataset.y_test],
            model=_name(model),
            optimizer=_name(optimizer),
            **({} if eval_params is None else {"eval_params": _name(eval_params)}),
            objective=[
                objective.loss_name,
                [(m, v.goal, _name(v.fn)) for m, v in objective.metrics.items()],
                divergence_factor,
            ],
            # What the model, loss and optimizer compute, whatever their names.
            program=step_program(
                network,
                objective,
                optimizer,
                _first(params),
                _first(state),
                _first(schedules),
                dataset.x_train[:batch_size],
                dataset.y_train[:batch_size],
            ),
            initial_state=jax.tree_util.tree_leaves(blocks.gather(carry)),
            run=[steps, batch_size, seeds, eval_every, blocks.size],
            # The scheme's name, and the first batch of every seed: a NumPy whose
            # generator draws other permutations changes it too.
            order=[
                order.SCHEME,
                *(order.batch_indices(s, 0, 1, n_train, batch_size) for s in seeds),
            ],
        )
        checkpointer = Checkpointer(checkpoint_dir, run_id, checkpoint_every)
        try:
            restored = checkpointer.restore(_snapshot(carry, history, blocks, plateaus))
        except BaseException:  # a refused or unreadable checkpoint: release orbax first
            checkpointer.close()
            raise
        if restored is not None:
            done, saved = restored
            carry = _unsnapshot(saved["carry"], carry, blocks)
            history = {m: np.asarray(saved["history"][m]) for m in names}
            if plateaus is not None:
                plateaus.restore(saved["plateau"])

    piece = max(1, _INDICES_BYTES // (4 * batch_size * len(seeds)))
    bar = _ProgressBar(steps, n_configs, len(seeds), enabled=progress, start=done)
    bar.note(note)
    watched = "val_acc" if "val_acc" in history else "val_loss"
    metric_goals = goals(objective.metrics)
    for callback in callbacks:
        start = getattr(callback, "start", None)
        if start is not None:
            start(configs=configs, seeds=seeds, goals=metric_goals)
    try:
        for k, end in enumerate(eval_steps):
            if end <= done:
                continue
            # Chunks are eval_every long; the last one may be shorter and compiles once more.
            # A chunk whose batch order would be large runs in pieces.
            length, loss_sum = end - done, 0.0
            if plateaus is not None:  # this chunk's rates, set at the last evaluation
                placed = blocks.place_runs(plateaus.schedules())
                history["lr"][..., k] = plateaus.rates
            for start in range(done, end, piece):
                n = min(piece, end - start)
                indices = np.stack(
                    [order.batch_indices(s, start, n, n_train, batch_size) for s in seeds]
                )
                carry = blocks.run(
                    program.chunk,
                    carry,
                    placed,
                    train,
                    blocks.place_seeds(indices),
                    np.int32(start),
                )
                if start + n < end:
                    loss_sum = loss_sum + blocks.gather(carry.map(lambda c: c.loss_sum))
                    bar.update(start + n)
            totals = blocks.run(
                program.evaluate,
                evaluated(carry),
                carry.map(lambda c: c.state),
                *eval_arrays,
            )
            done = end
            loss_sum = loss_sum + blocks.gather(carry.map(lambda c: c.loss_sum))
            history["train_loss"][..., k] = loss_sum / length
            means = evaluation.means(blocks.gather(totals))  # no val split: NaN
            for i, measure in enumerate(("loss", *objective.metrics)):
                for j, split in enumerate(splits):
                    history[f"{split}_{measure}"][..., k] = means[..., i, j]
            if plateaus is not None:
                plateaus.update(history, k)
            if checkpointer is not None:
                snapshot = _snapshot(carry, history, blocks, plateaus)
                checkpointer.save(done, snapshot, last=end == eval_steps[-1])
            bar.update(done, history[watched][..., k], metric_goals[watched])
            if callbacks:
                at = blocks.gather(carry.map(lambda c: c.diverged_at))
                dead = _dead_after(at, np.asarray([end]))[..., 0]
                now = {m: np.where(dead, np.nan, v[..., k]) for m, v in history.items()}
                for callback in callbacks:
                    callback(end, now)
    finally:
        bar.close()
        if checkpointer is not None:
            checkpointer.close()
        for callback in callbacks:  # also on an error or Ctrl-C: flush and close files
            stop = getattr(callback, "end", None)
            if stop is not None:
                stop()

    diverged = blocks.gather(carry.map(lambda c: c.diverged_at))
    metrics = dict(history)
    for m in metrics:  # a diverged run has no metrics from the chunk it diverged in on
        metrics[m] = np.where(_dead_after(diverged, np.asarray(eval_steps)), np.nan, metrics[m])
    result = Result(
        metrics=metrics,
        steps=np.asarray(eval_steps),
        # A plateau run's rate changes with its seed: the first seed's (all in metrics["lr"]).
        lr=blocks.gather_configs(lr) if plateaus is None else metrics["lr"][0],
        diverged=diverged,
        configs=configs,
        seeds=seeds,
        goals=metric_goals,
    )
    if keep_weights == "none":
        return result
    # "best": the configuration `Result.best` picks (the first if every one diverged).
    best = int(np.argmax(result.score(result.default_metric)))
    kept = list(range(n_configs)) if keep_weights == "all" else [best]
    evaluated_params = evaluated(carry)  # the weights the metrics were measured on
    final = blocks.gather(PerBlock((b, (evaluated_params[b], c.state)) for b, c in carry.items()))
    final = jax.tree_util.tree_map(lambda x: x[:, kept], final)
    weights = Weights(
        network=network,
        params=final[0],
        state=final[1],
        configs=kept,
        model=model if isinstance(model, str) else None,
        input_shape=dataset.input_shape,
        n_outputs=n_outputs,
    )
    return dataclasses.replace(result, weights=weights)


def _evaluated(eval_params: Callable[[Any, Any], Any] | None, blocks: Blocks):
    """``carry -> PerBlock`` of the weights to evaluate: the trained ones, or
    ``eval_params(opt_state, params)`` of every run (one jitted program per block)."""
    if eval_params is None:
        return lambda carry: carry.map(lambda c: c.params)
    per_run = jax.jit(jax.vmap(eval_params))
    return lambda carry: blocks.run(
        per_run, carry.map(lambda c: c.opt_state), carry.map(lambda c: c.params)
    )


def _snapshot(
    carry: PerBlock, history: dict[str, np.ndarray], blocks: Blocks, plateaus: PlateauRuns | None
) -> dict:
    """What a checkpoint holds: the carry joined on the host ``[seed, config, ...]``
    without padding (the same whatever the devices, cores or processes), the metrics
    so far, and plateau controllers' states."""
    leaves = jax.tree_util.tree_leaves(blocks.gather(carry))
    snapshot = {"carry": leaves, "history": history}
    if plateaus is not None:
        snapshot["plateau"] = plateaus.leaves()
    return snapshot


def _unsnapshot(leaves, like: PerBlock, blocks: Blocks) -> PerBlock:
    """A restored carry, cut into blocks and placed like ``like``."""
    host = [np.asarray(x) for x in leaves]
    structure = jax.tree_util.tree_structure(next(iter(like.values())))
    return blocks.place_runs(jax.tree_util.tree_unflatten(structure, host))


def _name(factory: Any) -> str:
    """How a model or optimizer is identified in a checkpoint's fingerprint."""
    if isinstance(factory, str):
        return factory
    # A name stable across processes (a functools.partial's repr holds an address).
    name = getattr(factory, "__qualname__", type(factory).__qualname__)
    return f"{getattr(factory, '__module__', '')}.{name}"


def _first(tree):
    """The first entry of every leaf (a configuration, a seed's weights), sliced on the
    host: indexing on the device would compile a program per shape."""
    return jax.tree_util.tree_map(lambda x: jax.device_put(np.asarray(x)[0]), tree)


def _dead_after(diverged: np.ndarray, eval_steps: np.ndarray) -> np.ndarray:
    """``[seed, config, eval]``: True from the first evaluation after a divergence."""
    at = diverged[..., None]
    return (at >= 0) & (eval_steps[None, None, :] > at)


def _seeds(seeds: int | Sequence[int], check_count: Callable[[int], None]) -> list[int]:
    """``seeds`` as a list of distinct integers: a count, or the seeds themselves;
    ``check_count`` refuses too many."""
    if isinstance(seeds, int | np.integer) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"fit: seeds must be >= 1, got {seeds}")
        check_count(int(seeds))
        return list(range(int(seeds)))
    if isinstance(seeds, np.ndarray | jax.Array):
        seeds = np.asarray(seeds).tolist() if np.ndim(seeds) == 1 else seeds
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence):
        raise ValueError(f"fit: seeds must be a count or a list of integers, got {seeds!r}")
    bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, int | np.integer)]
    if bad:
        raise ValueError(f"fit: seeds must be integers, got {bad[0]!r}")
    seeds = [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"fit: seeds must be a non-empty list of distinct integers, got {seeds}")
    for seed in seeds:
        check_seed("fit", seed)
    check_count(len(seeds))
    return seeds


def _check_checkpoint_dir(checkpoint_dir: str | Path | None) -> None:
    """Refuse a checkpoint folder that cannot be one, before anything compiles."""
    if checkpoint_dir is None:
        return
    if not isinstance(checkpoint_dir, str | Path) or not str(checkpoint_dir):
        raise ValueError(f"fit: checkpoint_dir must be a folder's path, got {checkpoint_dir!r}")
    path = Path(checkpoint_dir)
    for p in (path, *path.parents):
        if p.exists() and not p.is_dir():
            raise ValueError(f"fit: checkpoint_dir {str(path)!r}: {str(p)!r} is a file")
    writable_folder(path, "fit: checkpoint_dir")  # now, not at the first save


def _check(
    schedules,
    optimizer,
    dataset: Dataset,
    steps,
    batch_size,
    eval_every,
    checkpoint_every,
    block_size,
) -> None:
    """Every argument checked before anything compiles (the configurations' values by
    `_configs`)."""
    if not isinstance(schedules, Schedule):
        raise ValueError(
            f"fit: schedules must be a batch of schedules (jaxsched.grid or jaxsched.stack), "
            f"got {type(schedules).__name__}"
        )
    if schedules.batch_shape == (0,):
        raise ValueError("fit: schedules is an empty batch; give at least one configuration")
    if not schedules.batch_shape:
        raise ValueError(
            "fit: schedules must be a batch of configurations (one leading axis), got one "
            "schedule; use jaxsched.stack([schedule]) to train it alone"
        )
    if len(schedules.batch_shape) != 1:
        raise ValueError(
            f"fit: schedules must have one leading batch axis (the configurations), got batch "
            f"shape {schedules.batch_shape}; use schedules.flatten() to train its "
            f"{math.prod(schedules.batch_shape)} schedules as one axis, or jaxsched.stack a "
            f"list of the schedules"
        )
    if optimizer is not None:
        check_optimizer("fit", optimizer, _first(schedules))
    counts = {
        "block_size": 1 if block_size is None else block_size,
        "steps": steps,
        "batch_size": batch_size,
        "eval_every": eval_every,
        "checkpoint_every": checkpoint_every,
    }
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"fit: {name} must be an integer >= 1, got {value!r}")
    check_steps("fit", steps)
    dataset.check_batch_size("fit", batch_size)


def _configs(schedules: Schedule) -> list[dict]:
    """The configurations' dicts, each checked by rebuilding it through its factories."""
    configs = schedules.to_dicts()
    for i, config in enumerate(configs):
        try:
            from_dict(config)
        except ValueError as e:
            raise ValueError(f"fit: configuration {i} is invalid: {e}") from None
    return configs


def _check_factor(factor: Any) -> float | None:
    """``divergence_factor``: None, or a number > 1."""
    if factor is None:
        return None
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not factor > 1:
        raise ValueError(
            f"fit: divergence_factor must be a number > 1 (the loss ratio to step 0 that "
            f"counts as diverged) or None (only non-finite losses), got {factor!r}"
        )
    return float(factor)


def _check_callbacks(callbacks: Any) -> list[Callback]:
    """``callbacks`` as a list of callables."""
    if callable(callbacks):
        callbacks = [callbacks]
    if isinstance(callbacks, str | bytes) or not isinstance(callbacks, Sequence):
        raise ValueError(
            f"fit: callbacks must be a list of functions callback(step, metrics), got {callbacks!r}"
        )
    for i, callback in enumerate(callbacks):
        if not callable(callback):
            raise ValueError(
                f"fit: callbacks[{i}] must be a function callback(step, metrics), got {callback!r}"
            )
    return list(callbacks)


def _keep_weights(keep: Any, n_runs: int, n_weights: int) -> tuple[str, str | None]:
    """Which runs' final weights `fit` returns, and a note to show when the default
    could not keep them all."""
    if keep is not None and keep not in KEEP_WEIGHTS:
        raise ValueError(
            f"fit: keep_weights must be one of {', '.join(map(repr, KEEP_WEIGHTS))} or None "
            f"(all when they fit in memory), got {keep!r}"
        )
    size = n_runs * n_weights * 4
    fits = size <= memory_bytes() // 4
    if keep == "all" and not fits:
        raise ValueError(
            f"fit: keep_weights='all' ({n_runs} runs x {n_weights} weights) would take "
            f"{size / 2**30:.1f} GiB, more than a quarter of this machine's memory; use "
            "keep_weights='best' (the selected configuration) or 'none'"
        )
    if keep is None:
        keep = "all" if fits else "best"
        if not fits:
            gib = size / 2**30
            return keep, f"keeping the best configuration's weights only ({gib:.1f} GiB for all)"
    return keep, None


def _check_history_size(
    n_metrics: int, n_seeds: int, n_configs: int, steps: int, eval_every: int
) -> None:
    """Refuse a run whose metrics history would not fit in memory."""
    n_evals = -(-steps // eval_every)
    shape = (n_metrics, n_seeds, n_configs, n_evals)
    check_fits(
        f"fit: the metrics history ({' x '.join(map(str, shape))} float32)",
        int(np.prod(shape, dtype=np.float64)) * 4,
        f"raise eval_every (now {eval_every}), or use fewer seeds or configurations",
    )


class _ProgressBar:
    """A tqdm bar on a terminal: steps/s, configurations, the best validation metric so far."""

    def __init__(self, steps: int, n_configs: int, n_seeds: int, enabled: bool, start: int = 0):
        self.bar = None
        self.best = math.nan
        self.enabled = enabled
        if enabled and sys.stderr.isatty():
            try:
                from tqdm.auto import tqdm
            except ImportError:
                return
            desc = f"{n_configs} configs x {n_seeds} seeds"
            self.bar = tqdm(total=steps, initial=start, unit="step", desc=desc)

    def note(self, text: str | None) -> None:
        """Say ``text`` on stderr (above the bar), when progress is shown."""
        if text and self.enabled:
            print(f"fit: {text}", file=sys.stderr)

    def update(self, done: int, values: np.ndarray | None = None, goal: str = "max") -> None:
        """Move to step ``done``; ``values`` are the watched validation metric's latest."""
        if values is not None and np.isfinite(values).any():
            best = np.nanmax(values) if goal == "max" else np.nanmin(values)
            pick = max if goal == "max" else min
            self.best = float(best) if math.isnan(self.best) else pick(self.best, float(best))
        if self.bar is not None:
            self.bar.update(done - self.bar.n)
            if not math.isnan(self.best):
                self.bar.set_postfix(best_val=f"{self.best:.4g}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
