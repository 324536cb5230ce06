"""`fit`: train a batch of schedule configurations x seeds in one compiled program.

`fit` is a plan, then a run: `jaxsched.train.plan.make_plan` checks every
argument and derives what the run needs, and `run` trains it: it builds the
program, trains the chunks one after another (evaluating, saving checkpoints,
calling callbacks), and gathers the `Result`.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np

from jaxsched._base import Schedule
from jaxsched._plateau import Plateau
from jaxsched.train import order
from jaxsched.train._weights import Weights
from jaxsched.train.checkpoint import Checkpointer
from jaxsched.train.data import Dataset
from jaxsched.train.devices import Blocks, PerBlock
from jaxsched.train.evaluation import EvalSet, eval_batch_size
from jaxsched.train.loop import OptimizerFactory, Program, build_program
from jaxsched.train.models import ModelFactory, Network, initial_states
from jaxsched.train.objective import PerExample, goals
from jaxsched.train.plan import Callback, Plan, make_plan
from jaxsched.train.plateaus import PlateauRuns
from jaxsched.train.result import Result
from jaxsched.train.shared import SharedLeaves

__all__ = ["fit", "run"]

#: The most bytes of batch indices sent to the devices at once (a chunk's, or a piece's).
_INDICES_BYTES = 2**26


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
    plan = make_plan(
        schedules,
        data=data,
        model=model,
        optimizer=optimizer,
        loss=loss,
        metrics=metrics,
        steps=steps,
        batch_size=batch_size,
        seeds=seeds,
        eval_every=eval_every,
        val_fraction=val_fraction,
        divergence_factor=divergence_factor,
        keep_weights=keep_weights,
        callbacks=callbacks,
        block_size=block_size,
        monitor=monitor,
        checkpoint_dir=checkpoint_dir,
        checkpoint_every=checkpoint_every,
        progress=progress,
        eval_params=eval_params,
    )
    return run(plan)


def run(plan: Plan) -> Result:
    """Train a checked `Plan` (`jaxsched.train.plan.make_plan`): what `fit` does after
    its checks. Resumes from the plan's checkpoint folder when it holds a checkpoint
    of the same plan."""
    network, params, state = initial_states(
        plan.model, plan.dataset.input_shape, plan.dataset.n_outputs, list(plan.seeds)
    )
    # A plateau sweep's rates change between chunks: its batch stays whole.
    shared = None if plan.controllers is not None else SharedLeaves.of(plan.schedules)
    program = build_program(network, plan.objective, plan.optimizer, plan.divergence_factor, shared)
    placed = plan.blocks.place_configs(
        plan.schedules if shared is None else shared.varying(plan.schedules)
    )
    sweep, lr = _Sweep.start(plan, program, params, state, placed)
    checkpointer = None
    if plan.checkpoint_dir is not None:
        checkpointer = Checkpointer(plan, network, params, state, sweep.carry)
        try:
            sweep.resume(checkpointer, plan.blocks)
        except BaseException:  # a refused or unreadable checkpoint: release orbax first
            checkpointer.close()
            raise
    bar = _ProgressBar(
        plan.steps, plan.n_configs, len(plan.seeds), enabled=plan.progress, start=sweep.done
    )
    bar.note(plan.keep_note)
    _start_callbacks(plan)
    try:
        _train(plan, program, sweep, placed, checkpointer, bar)
    finally:
        bar.close()
        if checkpointer is not None:
            checkpointer.close()
        _end_callbacks(plan)  # also on an error or Ctrl-C: flush and close files
    result = _result(plan, sweep, lr)
    if plan.keep_weights == "none":
        return result
    return dataclasses.replace(result, weights=_weights(plan, result, network, sweep.carry))


def _start_callbacks(plan: Plan) -> None:
    """Tell the callbacks with a ``start`` method what the sweep trains."""
    for callback in plan.callbacks:
        start = getattr(callback, "start", None)
        if start is not None:
            start(
                configs=list(plan.configs),
                seeds=list(plan.seeds),
                goals=goals(plan.objective.metrics),
            )


def _end_callbacks(plan: Plan) -> None:
    """Tell the callbacks with an ``end`` method that training stopped."""
    for callback in plan.callbacks:
        stop = getattr(callback, "end", None)
        if stop is not None:
            stop()


@dataclasses.dataclass
class _Sweep:
    """A run between chunks: every block's carry, the metrics so far ``{name: [seed,
    config, eval]}``, the steps done, and the plateau controllers' states."""

    carry: PerBlock
    history: dict[str, np.ndarray]
    done: int
    plateaus: PlateauRuns | None

    @classmethod
    def start(
        cls, plan: Plan, program: Program, params, state, placed: PerBlock
    ) -> tuple[_Sweep, PerBlock]:
        """Nothing trained yet, every controller at its initial rate; and the rates in
        force at each evaluation, those of the step before it (``[config, eval]`` per block)."""
        blocks = plan.blocks
        started = blocks.run(
            program.init,
            blocks.place_seeds(params),
            blocks.place_seeds(state),
            placed,
            np.asarray(plan.eval_steps, np.int32) - 1,
        )
        shape = (len(plan.seeds), plan.n_configs, len(plan.eval_steps))
        history = {m: np.full(shape, np.nan, np.float32) for m in plan.names}
        plateaus = None
        if plan.controllers is not None:
            plateaus = PlateauRuns.start(plan.controllers, plan.monitor, len(plan.seeds))
        sweep = cls(started.map(lambda out: out[0]), history, 0, plateaus)
        return sweep, started.map(lambda out: out[1])

    def snapshot(self, blocks: Blocks) -> dict:
        """What a checkpoint holds: the carry joined on the host ``[seed, config, ...]``
        without padding (the same whatever the devices, cores or processes), the metrics
        so far, and plateau controllers' states."""
        leaves = jax.tree_util.tree_leaves(blocks.gather(self.carry))
        snapshot = {"carry": leaves, "history": self.history}
        if self.plateaus is not None:
            snapshot["plateau"] = self.plateaus.leaves()
        return snapshot

    def resume(self, checkpointer: Checkpointer, blocks: Blocks) -> None:
        """Go on from the newest checkpoint, if there is one; the carry is cut into
        blocks and placed as it was."""
        restored = checkpointer.restore(self.snapshot(blocks))
        if restored is None:
            return
        self.done, saved = restored
        host = [np.asarray(x) for x in saved["carry"]]
        structure = jax.tree_util.tree_structure(next(iter(self.carry.values())))
        self.carry = blocks.place_runs(jax.tree_util.tree_unflatten(structure, host))
        self.history = {m: np.asarray(saved["history"][m]) for m in self.history}
        if self.plateaus is not None:
            self.plateaus.restore(saved["plateau"])


def _train(
    plan: Plan,
    program: Program,
    sweep: _Sweep,
    placed: PerBlock,
    checkpointer: Checkpointer | None,
    bar: _ProgressBar,
) -> None:
    """Train the chunks not done yet, one after another: each is evaluated, then the
    plateau controllers take its metrics, a checkpoint is saved when due, the progress
    bar moves and the callbacks are called."""
    blocks = plan.blocks
    dataset = plan.dataset
    train = blocks.replicate((dataset.x_train, dataset.y_train))
    evaluation = _Evaluation(plan, program)
    watched = "val_acc" if "val_acc" in sweep.history else "val_loss"
    metric_goals = goals(plan.objective.metrics)
    for k, end in enumerate(plan.eval_steps):
        if end <= sweep.done:
            continue
        if sweep.plateaus is not None:  # this chunk's rates, set at the last evaluation
            placed = blocks.place_runs(sweep.plateaus.schedules())
            sweep.history["lr"][..., k] = sweep.plateaus.rates
        loss_sum = _chunk(plan, program, sweep, placed, train, end, bar)
        sweep.history["train_loss"][..., k] = loss_sum / (end - sweep.done)
        sweep.done = end
        evaluation.record(sweep, k)
        if sweep.plateaus is not None:
            sweep.plateaus.update(sweep.history, k)
        if checkpointer is not None:
            last = end == plan.eval_steps[-1]
            checkpointer.save(sweep.done, sweep.snapshot(blocks), last=last)
        bar.update(sweep.done, sweep.history[watched][..., k], metric_goals[watched])
        if plan.callbacks:
            at = blocks.gather(sweep.carry.map(lambda c: c.diverged_at))
            dead = _dead_after(at, np.asarray([end]))[..., 0]
            now = {m: np.where(dead, np.nan, v[..., k]) for m, v in sweep.history.items()}
            for callback in plan.callbacks:
                callback(end, now)


def _chunk(
    plan: Plan,
    program: Program,
    sweep: _Sweep,
    placed: PerBlock,
    train: PerBlock,
    end: int,
    bar: _ProgressBar,
) -> np.ndarray:
    """Train every run from ``sweep.done`` to step ``end``; the sum of the training
    losses ``[seed, config]``. Chunks are ``eval_every`` long (the last one may be
    shorter and compiles once more); a chunk whose batch order would be large runs
    in pieces."""
    blocks, seeds, n_train = plan.blocks, plan.seeds, len(plan.dataset.x_train)
    piece = max(1, _INDICES_BYTES // (4 * plan.batch_size * len(seeds)))
    loss_sum = 0.0
    for start in range(sweep.done, end, piece):
        n = min(piece, end - start)
        indices = np.stack(
            [order.batch_indices(s, start, n, n_train, plan.batch_size) for s in seeds]
        )
        sweep.carry = blocks.run(
            program.chunk,
            sweep.carry,
            placed,
            train,
            blocks.place_seeds(indices),
            np.int32(start),
        )
        if start + n < end:
            loss_sum = loss_sum + blocks.gather(sweep.carry.map(lambda c: c.loss_sum))
            bar.update(start + n)
    return loss_sum + blocks.gather(sweep.carry.map(lambda c: c.loss_sum))


class _Evaluation:
    """The validation and test splits on the devices, and the program that measures them."""

    splits = ("val", "test")

    def __init__(self, plan: Plan, program: Program):
        dataset, blocks = plan.dataset, plan.blocks
        splits = [(dataset.x_val, dataset.y_val), (dataset.x_test, dataset.y_test)]
        n_examples = sum(len(y) for _, y in splits)
        # Evaluation batches follow the block, not the sweep: the same sums on any machine.
        self.packed = EvalSet.pack(splits, eval_batch_size(blocks.size, n_examples))
        self.arrays = [
            blocks.replicate(a) for a in (self.packed.x, self.packed.y, self.packed.member)
        ]
        self.plan, self.program = plan, program
        self.evaluated = _evaluated(plan.eval_params, blocks)

    def record(self, sweep: _Sweep, k: int) -> None:
        """Evaluation ``k`` of every run into ``sweep.history`` (no val split: NaN)."""
        blocks = self.plan.blocks
        totals = blocks.run(
            self.program.evaluate,
            self.evaluated(sweep.carry),
            sweep.carry.map(lambda c: c.state),
            *self.arrays,
        )
        means = self.packed.means(blocks.gather(totals))
        for i, measure in enumerate(("loss", *self.plan.objective.metrics)):
            for j, split in enumerate(self.splits):
                sweep.history[f"{split}_{measure}"][..., k] = means[..., i, j]


def _evaluated(eval_params: Callable[[Any, Any], Any] | None, blocks: Blocks):
    """``carry -> PerBlock`` of the weights to evaluate: the trained ones, or
    ``eval_params(opt_state, params)`` of every run (one jitted program per block)."""
    if eval_params is None:
        return lambda carry: carry.map(lambda c: c.params)
    per_run = jax.jit(jax.vmap(eval_params))
    return lambda carry: blocks.run(
        per_run, carry.map(lambda c: c.opt_state), carry.map(lambda c: c.params)
    )


def _result(plan: Plan, sweep: _Sweep, lr: PerBlock) -> Result:
    """The metrics, with a diverged run's dropped from the chunk it diverged in on."""
    diverged = plan.blocks.gather(sweep.carry.map(lambda c: c.diverged_at))
    dead = _dead_after(diverged, np.asarray(plan.eval_steps))
    metrics = {m: np.where(dead, np.nan, v) for m, v in sweep.history.items()}
    return Result(
        metrics=metrics,
        steps=np.asarray(plan.eval_steps),
        # A plateau run's rate changes with its seed: the first seed's (all in metrics["lr"]).
        lr=plan.blocks.gather_configs(lr) if sweep.plateaus is None else metrics["lr"][0],
        diverged=diverged,
        configs=list(plan.configs),
        seeds=list(plan.seeds),
        goals=goals(plan.objective.metrics),
    )


def _weights(plan: Plan, result: Result, network: Network, carry: PerBlock) -> Weights:
    """The final weights the plan keeps: every run's, or ("best") every seed's run of
    the configuration `Result.best` picks (the first if every one diverged)."""
    kept = list(range(plan.n_configs))
    if plan.keep_weights == "best":
        kept = [int(np.argmax(result.score(result.default_metric)))]
    blocks = plan.blocks
    evaluated = _evaluated(plan.eval_params, blocks)(carry)  # what the metrics measured
    final = blocks.gather(PerBlock((b, (evaluated[b], c.state)) for b, c in carry.items()))
    final = jax.tree_util.tree_map(lambda x: x[:, kept], final)
    return Weights(
        network=network,
        params=final[0],
        state=final[1],
        configs=kept,
        model=plan.model if isinstance(plan.model, str) else None,
        input_shape=plan.dataset.input_shape,
        n_outputs=plan.dataset.n_outputs,
    )


def _dead_after(diverged: np.ndarray, eval_steps: np.ndarray) -> np.ndarray:
    """``[seed, config, eval]``: True from the first evaluation after a divergence."""
    at = diverged[..., None]
    return (at >= 0) & (eval_steps[None, None, :] > at)


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
