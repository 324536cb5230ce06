"""Run the comparison and summarize it: each family's best configuration, chosen on validation.

For every task x optimizer, all families' configurations are stacked into one
switch batch and trained by one `jaxsched.train.fit` call (one compile). Then,
per family:

- the configuration with the highest validation accuracy at the last
  evaluation, averaged over seeds, is selected (a configuration that diverged
  for any seed is not eligible); the test set plays no part in the choice;
- its test accuracy (mean and standard deviation over seeds), its final
  training loss (mean over seeds), and the first evaluation step at which its
  seed-averaged validation accuracy reaches the target are reported;
- it is compared with the constant-rate family, selected the same way. A seed
  sets the initial weights and the batches of every configuration alike, so the
  per-seed differences of test accuracy ``d_s`` are paired: ``delta`` is their
  mean, ``delta_low`` the one-sided 95% lower confidence bound
  ``mean(d) - t_{0.95, n-1} * std(d, ddof=1) / sqrt(n)`` over the ``n`` seeds
  (Student's t), and ``beats_constant`` is ``delta_low > 0`` (None with one seed).

The target validation accuracy is ``target_fraction`` (default 0.95) of the
best selected validation accuracy of that task x optimizer, unless an
absolute ``target`` is given.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import jaxsched
from jaxsched._check import did_you_mean
from jaxsched._output import writable_folder
from jaxsched.experiments.families import FAMILIES, Candidate, search_space
from jaxsched.experiments.tasks import BUDGETS, Budget, Task, base_rates, eval_every, optimizer
from jaxsched.train import Result, fit, load

__all__ = [
    "FamilyRow",
    "Study",
    "TaskRun",
    "check_settings",
    "paired_lower_bound",
    "run_study",
    "select",
    "summarize",
]


@dataclasses.dataclass(frozen=True)
class FamilyRow:
    """One family's selected configuration and its numbers (accuracies in [0, 1]).

    ``index`` is the configuration's position in the batch (-1 and NaNs when
    every configuration of the family diverged).
    """

    family: str
    index: int
    base_rate: float
    params: dict[str, Any]
    schedule: dict[str, Any]
    val_acc: float
    val_acc_std: float
    test_acc: float
    test_acc_std: float
    train_loss: float
    steps_to_target: int | None
    n_configs: int
    n_diverged: int
    delta: float | None = None
    delta_low: float | None = None
    beats_constant: bool | None = None


@dataclasses.dataclass(frozen=True)
class TaskRun:
    """One task x optimizer: its configurations, the `Result` of `fit`, and the family rows."""

    task: Task
    optimizer: str
    candidates: list[Candidate]
    result: Result
    rows: list[FamilyRow]
    target: float
    seconds: float

    @property
    def name(self) -> str:
        """``"<task>-<optimizer>"``, used for file names."""
        return f"{self.task.name}-{self.optimizer}"

    def sensitivity(self) -> dict[str, dict[float, float]]:
        """``{family: {base_rate: validation accuracy}}``: the best over the family's own
        parameter of the final validation accuracy (mean over seeds); NaN if all diverged."""
        score = self.result.score("val_acc")  # -inf where a seed diverged
        out: dict[str, dict[float, float]] = {}
        for i, c in enumerate(self.candidates):
            best = out.setdefault(c.family, {}).get(c.base_rate, -np.inf)
            out[c.family][c.base_rate] = max(best, score[i])
        return {
            f: {r: (v if np.isfinite(v) else math.nan) for r, v in rates.items()}
            for f, rates in out.items()
        }


@dataclasses.dataclass(frozen=True)
class Study:
    """A whole comparison: one `TaskRun` per task x optimizer, and its settings."""

    runs: list[TaskRun]
    settings: dict[str, Any]
    seconds: float


def run_study(
    tasks: Sequence[Task],
    optimizers: Sequence[str] = ("sgd", "adam"),
    families: Sequence[str] = FAMILIES,
    *,
    budget: Budget | str = "default",
    seeds: int = 3,
    rates: dict[str, Sequence[float]] | Sequence[float] | None = None,
    target: float | None = None,
    target_fraction: float = 0.95,
    val_fraction: float = 0.1,
    progress: bool = True,
    log: Callable[[str], None] | None = print,
    checkpoint_dir: str | Path | None = None,
) -> Study:
    """Train every family's search space on every task x optimizer and summarize it.

    Args:
      tasks: what to train (`jaxsched.experiments.tasks.standard_tasks`, or a `Task`
        for a user's data).
      optimizers: names from `jaxsched.experiments.OPTIMIZERS`.
      families: names from `jaxsched.experiments.FAMILIES`.
      budget: a `Budget` or its name (base rates, own-parameter values, evaluations).
      seeds: seeds per configuration (0, 1, ...); at least 2 to test against the constant.
      rates: base rates for every optimizer, or ``{optimizer: rates}``; default
        ``base_rates(optimizer, budget.rates)``.
      target: an absolute validation accuracy for steps-to-target; default
        ``target_fraction`` of the best selected validation accuracy.
      target_fraction: see ``target``.
      val_fraction: the part of the training set held out for validation.
      progress: show `fit`'s progress bar (on a terminal).
      log: called with a line of progress per task x optimizer (None: silent).
      checkpoint_dir: save each task x optimizer's `fit` in its own folder here,
        ``<task>-<optimizer>``, and resume from them when run again with the same settings.

    Returns:
      A `Study`.
    """
    budget = _budget(budget)
    check_settings(optimizers, families, seeds, target, target_fraction, val_fraction)
    datasets = {str(task.data): load(task.data, val_fraction) for task in tasks}
    for task in tasks:  # before any training, not after the first task's
        n_train = len(datasets[str(task.data)].x_train)
        if task.batch_size > n_train:
            raise ValueError(
                f"{task.name}: batch size {task.batch_size} is larger than the training split "
                f"({n_train} examples)"
            )
    folders = _checkpoint_folders(checkpoint_dir, tasks, optimizers)
    say = log or (lambda _: None)
    start = time.perf_counter()
    runs = []
    total = len(tasks) * len(optimizers)
    for task in tasks:
        key = str(task.data)
        for opt in optimizers:
            opt_rates = _rates(rates, opt, budget)
            space = search_space(families, opt_rates, task.steps, budget.own)
            say(
                f"[{len(runs) + 1}/{total}] {task.name} {opt}: {len(space)} configurations "
                f"({len(families)} families) x {seeds} seeds x {task.steps} steps "
                f"(elapsed {_clock(time.perf_counter() - start)})"
            )
            t0 = time.perf_counter()
            result = fit(
                jaxsched.stack([c.schedule for c in space]),
                data=datasets[key],
                model=task.model,
                optimizer=optimizer(opt),
                steps=task.steps,
                batch_size=task.batch_size,
                seeds=seeds,
                eval_every=eval_every(task.steps, budget.evals),
                progress=progress,
                checkpoint_dir=folders.get((task.name, opt)),
            )
            seconds = time.perf_counter() - t0
            rows, run_target = summarize(space, result, target, target_fraction)
            runs.append(TaskRun(task, opt, space, result, rows, run_target, seconds))
            winner = max((r for r in rows if r.index >= 0), key=lambda r: r.val_acc, default=None)
            say(
                f"    done in {_clock(seconds)}"
                + (
                    f"; best on validation: {winner.family} "
                    f"(test {100 * winner.test_acc:.1f} ± {100 * winner.test_acc_std:.1f}%)"
                    if winner
                    else "; every configuration diverged"
                )
            )
    settings = {
        "tasks": [dataclasses.asdict(t) | {"data": str(t.data)} for t in tasks],
        "optimizers": list(optimizers),
        "families": list(families),
        "budget": dataclasses.asdict(budget),
        "seeds": seeds,
        "rates": {opt: _rates(rates, opt, budget) for opt in optimizers},
        "target": target,
        "target_fraction": target_fraction,
        "val_fraction": val_fraction,
    }
    return Study(runs, settings, time.perf_counter() - start)


def _checkpoint_folders(
    checkpoint_dir: str | Path | None, tasks: Sequence[Task], optimizers: Sequence[str]
) -> dict[tuple[str, str], Path]:
    """A checkpoint folder per task x optimizer (each `fit` its own), each made and written
    to before any training."""
    if checkpoint_dir is None:
        return {}
    folders = {
        (t.name, opt): Path(checkpoint_dir) / f"{t.name}-{opt}" for t in tasks for opt in optimizers
    }
    for folder in folders.values():
        writable_folder(folder, "checkpoint_dir: the folder")
    return folders


def select(result: Result, indices: Sequence[int]) -> int:
    """The configuration among ``indices`` with the best final validation accuracy (mean over
    seeds), never one that diverged for any seed; -1 if all did. Ties go to the first.

    Example:
      >>> import numpy as np
      >>> from jaxsched.train import Result
      >>> val = np.array([[[0.5, 0.7], [0.6, 0.9], [0.9, 0.8]]])  # [seed, config, eval]
      >>> r = Result({"val_acc": val}, np.array([1, 2]), np.zeros((3, 2)),
      ...            np.array([[-1, 5, -1]]), [{}] * 3, [0])
      >>> select(r, [0, 1, 2])  # config 1 diverged; config 2 ends higher than config 0
      2
    """
    score = result.score("val_acc")
    best = max(indices, key=lambda i: score[i], default=-1)  # the first of equal maxima
    return int(best) if best >= 0 and np.isfinite(score[best]) else -1


def summarize(
    candidates: Sequence[Candidate],
    result: Result,
    target: float | None = None,
    target_fraction: float = 0.95,
) -> tuple[list[FamilyRow], float]:
    """Select each family's configuration on validation accuracy and compute its row.

    Returns the rows (in the order the families first appear) and the target
    validation accuracy used for steps-to-target.
    """
    if len(candidates) != len(result.configs):
        raise ValueError(
            f"{len(candidates)} candidates but the result has {len(result.configs)} configurations"
        )
    by_family: dict[str, list[int]] = {}
    for i, c in enumerate(candidates):
        by_family.setdefault(c.family, []).append(i)
    chosen = {f: select(result, idx) for f, idx in by_family.items()}
    score = result.score("val_acc")  # the seed-mean final validation accuracy of valid configs
    if target is None:
        picked = [score[i] for i in chosen.values() if i >= 0]
        target = target_fraction * max(picked) if picked else math.nan
    val = result.metrics["val_acc"]
    test = result.metrics["test_acc"][:, :, -1]
    loss = result.metrics["train_loss"][:, :, -1]
    rows = []
    for family, i in chosen.items():
        n_div = int((result.diverged[:, by_family[family]] >= 0).any(axis=0).sum())
        if i < 0:
            nan = math.nan
            rows.append(
                FamilyRow(
                    family,
                    -1,
                    nan,
                    {},
                    {},
                    nan,
                    nan,
                    nan,
                    nan,
                    nan,
                    None,
                    len(by_family[family]),
                    n_div,
                )
            )
            continue
        curve = val[:, i].mean(axis=0)
        reached = np.flatnonzero(curve >= target)
        rows.append(
            FamilyRow(
                family=family,
                index=i,
                base_rate=candidates[i].base_rate,
                params=candidates[i].params,
                schedule=result.configs[i],
                val_acc=float(score[i]),
                val_acc_std=float(val[:, i, -1].std()),
                test_acc=float(test[:, i].mean()),
                test_acc_std=float(test[:, i].std()),
                train_loss=float(loss[:, i].mean()),
                steps_to_target=int(result.steps[reached[0]]) if reached.size else None,
                n_configs=len(by_family[family]),
                n_diverged=n_div,
            )
        )
    return _against_constant(rows, test), float(target)


def _against_constant(rows: list[FamilyRow], test: np.ndarray) -> list[FamilyRow]:
    """Each row's paired test against the constant row; ``test`` is ``[seed, config]``."""
    base = next((r for r in rows if r.family == "constant" and r.index >= 0), None)
    if base is None:
        return rows
    out = []
    for r in rows:
        if r.index < 0:
            out.append(r)
            continue
        delta, low = paired_lower_bound(test[:, r.index] - test[:, base.index])
        beats = None if r is base or math.isnan(low) else bool(low > 0)
        out.append(dataclasses.replace(r, delta=delta, delta_low=low, beats_constant=beats))
    return out


def paired_lower_bound(differences: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """The mean of paired differences and its one-sided lower confidence bound (Student's t).

    ``mean(d) - t_{confidence, n-1} * std(d, ddof=1) / sqrt(n)``; NaN with fewer than two.

    >>> mean, low = paired_lower_bound(np.array([0.02, 0.03, 0.04]))
    >>> round(mean, 4), round(low, 4)  # t_{0.95, 2} = 2.92, standard error 0.01 / sqrt(3)
    (0.03, 0.0131)
    """
    from scipy.stats import t

    d = np.asarray(differences, np.float64)
    mean = float(d.mean())
    if d.size < 2:
        return mean, math.nan
    error = float(d.std(ddof=1)) / math.sqrt(d.size)
    return mean, mean - float(t.ppf(confidence, d.size - 1)) * error


def _budget(budget: Budget | str) -> Budget:
    if isinstance(budget, Budget):
        return budget
    if budget not in BUDGETS:
        raise ValueError(f"unknown budget {budget!r}: use one of {', '.join(BUDGETS)}")
    return BUDGETS[budget]


def _rates(rates, opt: str, budget: Budget) -> list[float]:
    if rates is None:
        return base_rates(opt, budget.rates)
    if isinstance(rates, dict):
        return list(rates[opt]) if opt in rates else base_rates(opt, budget.rates)
    return [float(r) for r in rates]


def check_settings(
    optimizers: Sequence[str],
    families: Sequence[str],
    seeds: int = 3,
    target: float | None = None,
    target_fraction: float = 0.95,
    val_fraction: float = 0.1,
) -> None:
    """Raise a `ValueError` naming the first bad setting of `run_study` (before any training)."""
    if not optimizers:
        raise ValueError("give at least one optimizer")
    for opt in optimizers:
        optimizer(opt)
    if not families:
        raise ValueError("give at least one family")
    for f in families:
        if f not in FAMILIES:
            raise ValueError(
                f"unknown family {f!r}{did_you_mean(f, FAMILIES)}: use any of {', '.join(FAMILIES)}"
            )
    if len(set(families)) != len(families):
        raise ValueError(f"a family is given twice: {', '.join(families)}")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds must be an integer >= 1, got {seeds!r}")
    if target is not None and not 0.0 < target <= 1.0:
        raise ValueError(f"target must be a validation accuracy in (0, 1], got {target}")
    if not 0.0 < target_fraction <= 1.0:
        raise ValueError(f"target_fraction must be in (0, 1], got {target_fraction}")
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(
            f"val_fraction must be in (0, 1): configurations are selected on validation, "
            f"got {val_fraction}"
        )


def _clock(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    return f"{m}:{s:02d}"
