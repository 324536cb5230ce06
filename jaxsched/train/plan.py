"""`make_plan`: every argument of `fit` checked, in order, before anything compiles.

`fit` is a plan, then a run (`jaxsched.train.trainer.run`). `make_plan` does
every check of `fit`'s arguments, one after another, and derives what the run
needs: the dataset, the objective, the configurations' dicts, the seeds, the
evaluation steps, the blocks and whose weights to keep. The `Plan` it returns
is frozen: the run reads it and checks nothing again, and a checkpoint's
fingerprint is read off it (`jaxsched.train.checkpoint.Checkpointer`).

The checks of the problem (`load_problem`, `check_outputs`) are `lr_find`'s
too, and a sweep file (`jaxsched.experiments.sweep_file.run_sweep`) makes its
plan before it writes anything: all three refuse a bad input with one message.

Example:
  >>> import jaxsched
  >>> from jaxsched.train.plan import make_plan
  >>> plan = make_plan(jaxsched.grid(jaxsched.cosine, init_value=[0.03, 0.1], decay_steps=200),
  ...                  data="digits", steps=200, eval_every=80, seeds=2)
  >>> plan.seeds, plan.eval_steps, plan.configs[1]["init_value"]
  ((0, 1), (80, 160, 200), 0.1)
  >>> plan
  Plan(2 configs x 2 seeds x 200 steps, 3 evaluations, 2 blocks of 2 runs)
  >>> make_plan(jaxsched.stack([jaxsched.constant(0.1)]), data="digits", steps=0)
  Traceback (most recent call last):
  ...
  ValueError: fit: steps must be an integer >= 1, got 0
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np

from jaxsched._base import Schedule
from jaxsched._compose import Switch
from jaxsched._decay import constant
from jaxsched._output import writable_folder
from jaxsched._plateau import Plateau
from jaxsched._spec import from_dict
from jaxsched.train._limits import (
    check_fits,
    check_runs_fit,
    check_seed,
    check_steps,
    memory_bytes,
)
from jaxsched.train.data import Dataset, load
from jaxsched.train.devices import Blocks
from jaxsched.train.loop import OptimizerFactory, check_optimizer, default_optimizer
from jaxsched.train.models import ModelFactory, outputs_like, weight_count
from jaxsched.train.objective import Objective, PerExample
from jaxsched.train.plateaus import check_batch, check_monitor, controller_configs
from jaxsched.train.run_length import warn_unfinished

__all__ = ["Plan", "check_outputs", "load_problem", "make_plan"]

KEEP_WEIGHTS = ("all", "best", "none")

#: ``callback(step, metrics)``, called after each evaluation with ``{name: [seed, config]}``.
Callback = Callable[[int, dict[str, np.ndarray]], Any]


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Plan:
    """A checked `fit`: everything its run needs, derived from the arguments.

    Attributes:
      schedules: the batch of schedules, ``[config]`` (for plateau controllers, the
        constant rates they start from).
      controllers: the batch of plateau controllers, or None.
      configs: each configuration as a dict (`Result.configs`).
      dataset, objective: the data and the loss and metrics to train and measure.
      names: the metrics the history records (each run's ``"lr"`` too with controllers).
      model: as given (a name or a function).
      optimizer: the optimizer factory (`jaxsched.train.loop.default_optimizer` if none
        was given).
      eval_params, divergence_factor, monitor, steps, batch_size, eval_every,
        checkpoint_every, progress: as given (a number's type kept: the fingerprint
        holds it), checked.
      seeds: the seeds, distinct integers.
      eval_steps: the steps after which the runs are evaluated (every ``eval_every``,
        and the last step).
      blocks: the blocks the runs are trained in (`jaxsched.train.devices.Blocks`).
      keep_weights: ``"all"``, ``"best"`` or ``"none"``, decided.
      keep_note: what to tell the user when the default could not keep every run's weights.
      callbacks: the callbacks, as a tuple.
      checkpoint_dir: the checkpoint folder (made and writable), or None.
    """

    schedules: Schedule
    controllers: Plateau | None
    configs: tuple[dict[str, Any], ...]
    dataset: Dataset
    objective: Objective
    names: tuple[str, ...]
    model: str | ModelFactory
    optimizer: OptimizerFactory
    eval_params: Callable[[Any, Any], Any] | None
    divergence_factor: float | None
    monitor: str
    steps: int
    batch_size: int
    eval_every: int
    seeds: tuple[int, ...]
    eval_steps: tuple[int, ...]
    blocks: Blocks
    keep_weights: str
    keep_note: str | None
    callbacks: tuple[Callback, ...]
    checkpoint_dir: Path | None
    checkpoint_every: int
    progress: bool

    @property
    def n_configs(self) -> int:
        """How many configurations the sweep trains per seed."""
        return len(self.configs)

    def __repr__(self) -> str:
        return (
            f"Plan({self.n_configs} configs x {len(self.seeds)} seeds x {self.steps} steps, "
            f"{len(self.eval_steps)} evaluations, {self.blocks.n_blocks} blocks of "
            f"{self.blocks.size} runs)"
        )


def make_plan(
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
) -> Plan:
    """Check `fit`'s arguments (the same, with the same defaults) and plan its run.

    Nothing compiles: a bad argument is refused with a `ValueError` (and a schedule
    longer than the run warned about) before any training program is built.
    """
    dataset, objective = load_problem(data, loss, metrics, val_fraction)
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
    seeds = _seeds(seeds)
    _check_history_size(len(objective.names), len(seeds), n_configs, steps, eval_every)
    n_weights = weight_count(model, dataset.input_shape, dataset.n_outputs)
    n_runs = len(seeds) * n_configs
    check_runs_fit(
        "fit",
        f"{len(seeds)} seeds x {n_configs} configurations ({n_weights} weights each)",
        n_runs,
        n_weights,
        "use fewer seeds or configurations, or run them in several fits",
    )
    keep_weights, note = _keep_weights(keep_weights, n_runs, n_weights)
    check_outputs(model, dataset, objective, batch_size)
    names = objective.names
    if controllers is not None:
        check_monitor(monitor, names)
        names = (*names, "lr")  # each run's rate, which its controller sets
        configs = controller_configs(controllers, monitor)
    else:
        configs = check_configs(schedules)  # after the cheap checks
    return Plan(
        schedules=schedules,
        controllers=controllers,
        configs=tuple(configs),
        dataset=dataset,
        objective=objective,
        names=names,
        model=model,
        optimizer=optimizer or default_optimizer,
        eval_params=eval_params,
        divergence_factor=divergence_factor,
        monitor=monitor,
        steps=steps,
        batch_size=batch_size,
        eval_every=eval_every,
        seeds=tuple(seeds),
        eval_steps=_eval_steps(steps, eval_every),
        blocks=Blocks(n_configs, len(seeds), block_size),
        keep_weights=keep_weights,
        keep_note=note,
        callbacks=tuple(callbacks),
        checkpoint_dir=None if checkpoint_dir is None else Path(checkpoint_dir),
        checkpoint_every=checkpoint_every,
        progress=progress,
    )


# ------------------------------------------------------- the problem (fit and lr_find)
def load_problem(
    data: str | Path | Dataset | tuple,
    loss: str | PerExample | None,
    metrics: Mapping[str, Any] | None,
    val_fraction: float,
) -> tuple[Dataset, Objective]:
    """The dataset (loaded unless given as one) and the loss and metrics for its targets."""
    dataset = data if isinstance(data, Dataset) else load(data, val_fraction)
    return dataset, Objective.resolve(loss, metrics, dataset.classification)


def check_outputs(
    model: str | ModelFactory, dataset: Dataset, objective: Objective, batch_size: int
) -> None:
    """Refuse a model whose outputs the loss and metrics cannot take, or that the
    metrics reduce wrongly, on a batch of ``batch_size`` (traced: nothing runs)."""
    n_outputs = dataset.n_outputs
    y_like = jax.ShapeDtypeStruct((batch_size, *dataset.y_train.shape[1:]), dataset.y_train.dtype)
    outputs = outputs_like(model, dataset.input_shape, n_outputs, batch_size)
    objective.check(outputs, y_like, n_outputs)


# ------------------------------------------------------------------- the arguments
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
    """The batch's shape, the optimizer and the counts (the configurations' values
    are checked last, by `check_configs`)."""
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
        check_optimizer("fit", optimizer, first(schedules))
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


def _seeds(seeds: int | Sequence[int]) -> Sequence[int]:
    """``seeds`` as distinct integers: a count as a `range` (its size is checked before
    it becomes a list), or the seeds themselves as a list."""
    if isinstance(seeds, int | np.integer) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"fit: seeds must be >= 1, got {seeds}")
        return range(int(seeds))
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
    return seeds


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


def _eval_steps(steps: int, eval_every: int) -> tuple[int, ...]:
    """Every ``eval_every`` steps, and the last step.

    >>> _eval_steps(50, 20)
    (20, 40, 50)
    """
    at = list(range(eval_every, steps + 1, eval_every))
    if not at or at[-1] != steps:
        at.append(steps)
    return tuple(at)


def first(tree):
    """The first entry of every leaf (a configuration, a seed's weights), sliced on the
    host: indexing on the device would compile a program per shape."""
    return jax.tree_util.tree_map(lambda x: jax.device_put(np.asarray(x)[0]), tree)


# --------------------------------------------------------------- the configurations
def check_configs(schedules: Schedule) -> list[dict[str, Any]]:
    """The configurations' dicts, each valid: `jaxsched.from_dict` rebuilds it.

    A family's configurations (a batch of one family, or the members of one of a
    mixed batch's `jaxsched.switch` branches) are rebuilt together, in one call of
    each factory with all their values, which checks every entry at once. A family
    that fails is bisected to its first configuration that fails, and that one is
    rebuilt alone to say why, in its own factory's words. The rebuilds warn about
    nothing: a switch step beyond float32's whole numbers was rounded, and warned
    about, when the schedule was built, and a dict's shortest decimal of it would
    only seem to round again.

    >>> import jax, jax.numpy as jnp, jaxsched
    >>> batch = jaxsched.grid(jaxsched.cosine, init_value=[0.1, 0.2, 0.3], decay_steps=100)
    >>> [c["init_value"] for c in check_configs(batch)]
    [0.1, 0.2, 0.3]
    >>> leaves = [batch.init_value, jnp.array([100.0, 100.0, -5.0]), batch.end_value,
    ...           batch.exponent]  # rebuilt from its leaves, a pytree is not checked
    >>> check_configs(jax.tree.unflatten(jax.tree.structure(batch), leaves))
    Traceback (most recent call last):
    ...
    ValueError: fit: configuration 2 is invalid: cosine: decay_steps must be > 0, got -5
    """
    configs = schedules.to_dicts()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        suspects = sorted(
            members[_first_failing(family)]
            for members, family in _families(schedules)
            if not _rebuilds(family)
        )
        for i in suspects:
            try:
                from_dict(configs[i])
            except ValueError as e:
                raise ValueError(f"fit: configuration {i} is invalid: {e}") from None
    return configs


def _families(schedules: Schedule):
    """``(positions, family)`` for every family of a batch: the batch itself, or the
    members of each branch of a mixed batch (`jaxsched.switch`), on the host."""
    host = jax.tree_util.tree_map(np.asarray, schedules.broadcast())
    if not isinstance(host, Switch):
        yield np.arange(host.batch_shape[0]), host
        return
    for k, branch in enumerate(host.schedules):
        members = np.flatnonzero(host.index == k)
        if members.size:
            yield members, jax.tree_util.tree_map(lambda x, m=members: x[m], branch)


def _rebuilds(family: Schedule) -> bool:
    """Whether every entry of a family is valid: its factories, called once with all."""
    try:
        from_dict(family.to_dict())
    except ValueError:
        return False
    return True


def _first_failing(family: Schedule) -> int:
    """The first entry of a family that fails to rebuild, found by bisecting its prefixes."""
    passes, fails = 0, family.batch_shape[0]  # prefixes of these lengths
    while fails - passes > 1:
        middle = (passes + fails) // 2
        prefix = jax.tree_util.tree_map(lambda x, n=middle: x[:n], family)
        passes, fails = (middle, fails) if _rebuilds(prefix) else (passes, middle)
    return fails - 1
