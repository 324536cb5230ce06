"""Run the comparison and summarize it: search, then confirm on fresh seeds.

For every task x optimizer:

1. **Search.** Every family's configurations (base rate on a log grid x its
   own parameter, `jaxsched.experiments.families`) are trained on the search
   seeds (default: seed 0 alone) by `jaxsched.train.fit`: the schedules of every family
   in one compiled program, the schedule-free baseline in one of its own. Per
   family, the configuration with the highest final validation accuracy
   (mean over the search seeds) is selected; a configuration that diverged for
   any seed is not eligible, and the test set plays no part.
2. **Confirm.** Each family's selected configuration, the tuned constant rate
   among them, is trained again on fresh seeds (default 10 seeds, 100 ..
   109; never a search seed: other initial weights and data order), and only
   these runs are reported (`jaxsched.experiments.stats`): test accuracy, its
   mean and 95% t interval over the seeds (cut to [0, 1]); the paired per-seed difference to
   the constant rate ``delta`` with its 95% interval (a seed gives every family
   the same initial weights and batches, so the differences pair); the
   one-sided paired t-test's p-value for ``delta > 0``, Holm-Bonferroni
   corrected over the families compared (``p_holm``); ``beats_constant`` where
   ``p_holm < alpha`` (None with one seed: no test); ``p_best``, the bootstrap
   probability over seeds that the family has the highest mean test accuracy;
   and the first evaluation step at which its validation accuracy (mean over
   the seeds) reaches the target.

The target validation accuracy is ``target_fraction`` (default 0.95) of the
best confirmed validation accuracy of that task x optimizer, unless an
absolute ``target`` is given. Without ``constant`` among the families it is
still searched and confirmed, as the reference (its row says so).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import optax

import jaxsched
from jaxsched._check import did_you_mean
from jaxsched._output import writable_folder
from jaxsched.experiments import stats
from jaxsched.experiments.families import FAMILIES, SCHEDULE_FREE, Candidate, candidates
from jaxsched.experiments.tasks import (
    BUDGETS,
    SCHEDULE_FREE_RATE_SCALE,
    Budget,
    Task,
    base_rates,
    eval_every,
    optimizer,
    schedule_free_optimizer,
)
from jaxsched.train import Result, fit, load

__all__ = [
    "DEFAULT_SEARCH_SEEDS",
    "DEFAULT_SEEDS",
    "FamilyRow",
    "Study",
    "TaskRun",
    "check_settings",
    "paired_lower_bound",
    "run_study",
    "seed_lists",
    "select",
    "summarize",
]

#: Seeds of the search stage (a count: 0, 1, ...) and of the confirmation (a count:
#: from `CONFIRM_FROM` on, after the search seeds). One search seed keeps the default
#: study under 10 minutes on 2 cores (the CNN trains 2000 steps); the choice it makes
#: is noisier (a rate at the edge of stability can win on one seed: experiments/RESULTS.md),
#: but every reported number comes from the 10 fresh confirmation seeds.
DEFAULT_SEARCH_SEEDS = 1
DEFAULT_SEEDS = 10
CONFIRM_FROM = 100


@dataclasses.dataclass(frozen=True)
class FamilyRow:
    """One family's selected configuration and its confirmed numbers (accuracies in [0, 1]).

    ``index`` is the configuration's position in the search batch and
    ``confirm_index`` its position in the confirmation batch (-1 and NaNs when
    every configuration of the family diverged in the search). ``search_val_acc``
    is what it was selected on; every other number is over the ``seeds``
    confirmation seeds on which it did not diverge (``confirm_diverged`` did).
    ``delta`` and its interval compare it with the constant rate per seed;
    ``p`` is the one-sided paired t-test's p-value for ``delta > 0``, ``p_holm``
    the same corrected over the families compared; NaN bounds and p-values and
    a None ``beats_constant`` mean there was no interval or test (one seed, or
    no constant rate). ``reference``: the family was not asked for, only
    trained as the reference (the constant rate).
    """

    family: str
    index: int
    base_rate: float
    params: dict[str, Any]
    schedule: dict[str, Any]
    search_val_acc: float
    n_configs: int
    n_diverged: int
    confirm_index: int = -1
    seeds: int = 0
    confirm_diverged: int = 0
    val_acc: float = math.nan
    val_acc_std: float = math.nan
    test_acc: float = math.nan
    test_acc_std: float = math.nan
    test_acc_ci_low: float = math.nan
    test_acc_ci_high: float = math.nan
    train_loss: float = math.nan
    steps_to_target: int | None = None
    delta: float | None = None
    delta_ci_low: float = math.nan
    delta_ci_high: float = math.nan
    p: float = math.nan
    p_holm: float = math.nan
    beats_constant: bool | None = None
    p_best: float = math.nan
    reference: bool = False


@dataclasses.dataclass(frozen=True)
class TaskRun:
    """One task x optimizer: its configurations, the search's and the confirmation's
    `Result` (``result``: every candidate on the search seeds; ``confirm``: one
    configuration per family, ``FamilyRow.confirm_index``, on the confirmation seeds)
    and the family rows."""

    task: Task
    optimizer: str
    candidates: list[Candidate]
    result: Result
    rows: list[FamilyRow]
    target: float
    seconds: float
    confirm: Result | None = None
    alpha: float = 0.05

    @property
    def name(self) -> str:
        """``"<task>-<optimizer>"``, used for file names."""
        return f"{self.task.name}-{self.optimizer}"

    def sensitivity(self) -> dict[str, dict[float, float]]:
        """``{family: {base_rate: validation accuracy}}``: the best over the family's own
        parameter of the final validation accuracy (mean over the search seeds); NaN if all
        diverged."""
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


def seed_lists(
    search_seeds: int | Sequence[int],
    seeds: int | Sequence[int],
    names: tuple[str, str] = ("search_seeds", "seeds"),
) -> tuple[list[int], list[int]]:
    """The search and the confirmation seeds, from counts or lists; overlapping ones refused.

    A count of search seeds is ``0 .. n-1``; a count of confirmation seeds starts at
    `CONFIRM_FROM` (100), or after the largest search seed if that is higher, so
    counts never overlap.

    Example:
      >>> seed_lists(2, 3)
      ([0, 1], [100, 101, 102])
      >>> seed_lists([5, 7], [1, 2])
      ([5, 7], [1, 2])
      >>> seed_lists([0, 1], [1, 2])
      Traceback (most recent call last):
      ...
      ValueError: search_seeds and seeds overlap (1): the confirmation needs fresh seeds (other initial weights and data order)
    """
    search = _seed_list(search_seeds, names[0], start=0)
    confirm = _seed_list(seeds, names[1], start=max(CONFIRM_FROM, max(search) + 1))
    shared = sorted(set(search) & set(confirm))
    if shared:
        raise ValueError(
            f"{names[0]} and {names[1]} overlap ({', '.join(map(str, shared))}): the "
            f"confirmation needs fresh seeds (other initial weights and data order)"
        )
    return search, confirm


def _seed_list(seeds: int | Sequence[int], name: str, start: int) -> list[int]:
    if isinstance(seeds, bool):
        raise ValueError(f"{name} must be a count >= 1 or a list of seeds, got {seeds!r}")
    if isinstance(seeds, int | np.integer):
        if seeds < 1:
            raise ValueError(f"{name} must be >= 1, got {seeds}")
        return list(range(start, start + int(seeds)))
    out = list(seeds)
    if not out or any(isinstance(s, bool) or not isinstance(s, int | np.integer) for s in out):
        raise ValueError(f"{name} must be a count >= 1 or a list of integer seeds, got {seeds!r}")
    if any(s < 0 for s in out) or len(set(out)) != len(out):
        raise ValueError(f"{name} must be distinct seeds >= 0, got {out}")
    return [int(s) for s in out]


def run_study(
    tasks: Sequence[Task],
    optimizers: Sequence[str] = ("sgd", "adam"),
    families: Sequence[str] = FAMILIES,
    *,
    budget: Budget | str = "default",
    seeds: int | Sequence[int] = DEFAULT_SEEDS,
    search_seeds: int | Sequence[int] = DEFAULT_SEARCH_SEEDS,
    rates: dict[str, Sequence[float]] | Sequence[float] | None = None,
    target: float | None = None,
    target_fraction: float = 0.95,
    val_fraction: float = 0.1,
    alpha: float = 0.05,
    progress: bool = True,
    log: Callable[[str], None] | None = print,
    checkpoint_dir: str | Path | None = None,
) -> Study:
    """Search every family's configurations, confirm each family's choice on fresh seeds.

    Args:
      tasks: what to train (`jaxsched.experiments.tasks.standard_tasks`, or a `Task`
        for a user's data).
      optimizers: names from `jaxsched.experiments.OPTIMIZERS`.
      families: names from `jaxsched.experiments.FAMILIES`; without ``"constant"`` it is
        trained anyway, as the reference every family is compared with.
      budget: a `Budget` or its name (base rates, own-parameter values, evaluations).
      seeds: the confirmation seeds: a count (100, 101, ...) or a list; at least 2 for
        intervals and tests.
      search_seeds: the search seeds: a count (0, 1, ...) or a list, none of ``seeds``.
      rates: base rates for every optimizer, or ``{optimizer: rates}``; default
        ``base_rates(optimizer, budget.rates)``.
      target: an absolute validation accuracy for steps-to-target; default
        ``target_fraction`` of the best confirmed validation accuracy.
      target_fraction: see ``target``.
      val_fraction: the part of the training set held out for validation.
      alpha: the level of the Holm-corrected test against the constant rate.
      progress: show `fit`'s progress bar (on a terminal).
      log: called with a line of progress per stage (None: silent).
      checkpoint_dir: save each `fit` in its own folder here,
        ``<task>-<optimizer>/<stage>[-schedule_free]``, and resume from them when run
        again with the same settings.

    Returns:
      A `Study`.
    """
    budget = _budget(budget)
    check_settings(optimizers, families, seeds, target, target_fraction, val_fraction, search_seeds)
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    search_list, confirm_list = seed_lists(search_seeds, seeds)
    asked = list(families)
    families = asked if "constant" in asked else ["constant", *asked]
    datasets = {str(task.data): load(task.data, val_fraction) for task in tasks}
    for task in tasks:  # before any training, not after the first task's
        if not datasets[str(task.data)].classification:
            raise ValueError(
                f"{task.name}: y holds floats (regression targets), but the comparison ranks "
                "classifiers by accuracy; sweep a regression problem with jaxsched sweep (a "
                "TOML file, ranked by validation loss) or jaxsched.train.fit"
            )
        n_train = len(datasets[str(task.data)].x_train)
        if task.batch_size > n_train:
            raise ValueError(
                f"{task.name}: batch size {task.batch_size} is larger than the training split "
                f"({n_train} examples)"
            )
    folders = _checkpoint_folders(checkpoint_dir, tasks, optimizers)
    say = log or (lambda _: None)
    if families != asked:
        say("constant is not among the families: trained as the reference all are compared with")
    start = time.perf_counter()
    runs = []
    total = len(tasks) * len(optimizers)
    for task in tasks:
        for opt in optimizers:
            opt_rates = _rates(rates, opt, budget)
            space = _space(families, opt, opt_rates, task.steps, budget.own)
            say(
                f"[{len(runs) + 1}/{total}] {task.name} {opt}: search {len(space)} configurations "
                f"({len(families)} families) x {len(search_list)} seeds x {task.steps} steps "
                f"(elapsed {_clock(time.perf_counter() - start)})"
            )
            t0 = time.perf_counter()
            train = functools.partial(
                _fit_candidates,
                task=task,
                opt=opt,
                data=datasets[str(task.data)],
                every=eval_every(task.steps, budget.evals),
                progress=progress,
                folder=folders.get((task.name, opt)),
            )
            search = train(space, search_list, "search")
            chosen = _chosen(space, search)
            picked = [i for i in chosen.values() if i >= 0]
            confirm = None
            if picked:
                say(
                    f"    confirm {len(picked)} configurations (one per family) x "
                    f"{len(confirm_list)} seeds ({_seed_text(confirm_list)})"
                )
                confirm = train([space[i] for i in picked], confirm_list, "confirm")
            seconds = time.perf_counter() - t0
            rows, run_target = summarize(space, search, confirm, target, target_fraction, alpha)
            rows = [dataclasses.replace(r, reference=r.family not in asked) for r in rows]
            runs.append(
                TaskRun(task, opt, space, search, rows, run_target, seconds, confirm, alpha)
            )
            winner = _winner(rows)
            say(
                f"    done in {_clock(seconds)}"
                + (
                    f"; best on validation: {winner.family} "
                    f"(test {100 * winner.test_acc:.1f}%, {winner.seeds} seeds)"
                    if winner
                    else "; every configuration diverged"
                )
            )
    settings = {
        "tasks": [dataclasses.asdict(t) | {"data": str(t.data)} for t in tasks],
        "optimizers": list(optimizers),
        "families": list(families),
        "reference": [f for f in families if f not in asked],
        "budget": dataclasses.asdict(budget),
        "search_seeds": search_list,
        "seeds": confirm_list,
        "rates": {opt: _rates(rates, opt, budget) for opt in optimizers},
        "target": target,
        "target_fraction": target_fraction,
        "val_fraction": val_fraction,
        "alpha": alpha,
    }
    return Study(runs, settings, time.perf_counter() - start)


def _space(
    families: Sequence[str], opt: str, rates: Sequence[float], steps: int, own: int
) -> list[Candidate]:
    """`jaxsched.experiments.search_space`, the schedule-free baseline's rates scaled by
    ``SCHEDULE_FREE_RATE_SCALE[opt]`` (its SGD has no momentum)."""
    out = []
    for f in families:
        scale = SCHEDULE_FREE_RATE_SCALE.get(opt, 1.0) if f in SCHEDULE_FREE else 1.0
        out += candidates(f, [float(f"{scale * r:.3g}") for r in rates], steps, own)
    return out


def _winner(rows: Sequence[FamilyRow]) -> FamilyRow | None:
    """The family with the highest confirmed validation accuracy (None if none has one)."""
    ok = [r for r in rows if r.index >= 0 and math.isfinite(r.val_acc)]
    return max(ok, key=lambda r: r.val_acc, default=None)


def _seed_text(seeds: Sequence[int]) -> str:
    if len(seeds) > 2 and list(seeds) == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}..{seeds[-1]}"
    return ", ".join(map(str, seeds))


def _fit_candidates(
    candidates: Sequence[Candidate],
    seeds: Sequence[int],
    stage: str,
    *,
    task: Task,
    opt: str,
    data,
    every: int,
    progress: bool,
    folder: Path | None,
) -> Result:
    """Train ``candidates`` on ``seeds``: the schedules in one `fit`, the schedule-free
    baseline in another (its own optimizer, evaluated at its averaged weights), joined
    into one `Result` in the order of ``candidates``."""
    groups: dict[bool, list[int]] = {}
    for i, c in enumerate(candidates):
        groups.setdefault(c.family in SCHEDULE_FREE, []).append(i)
    results, order = [], []
    for free, members in sorted(groups.items()):
        results.append(
            fit(
                jaxsched.stack([candidates[i].schedule for i in members]),
                data=data,
                model=task.model,
                optimizer=schedule_free_optimizer(opt) if free else optimizer(opt),
                eval_params=optax.contrib.schedule_free_eval_params if free else None,
                steps=task.steps,
                batch_size=task.batch_size,
                seeds=list(seeds),
                eval_every=every,
                keep_weights="none",
                progress=progress,
                checkpoint_dir=None
                if folder is None
                else folder / (f"{stage}-schedule_free" if free else stage),
            )
        )
        order += members
    return _join(results, order)


def _join(results: Sequence[Result], order: Sequence[int]) -> Result:
    """Results of the same seeds and evaluations joined along the configurations;
    entry ``k`` of the joined configurations is ``order[k]`` of the caller's."""
    if len(results) == 1 and list(order) == sorted(order):
        return results[0]
    perm = np.argsort(np.asarray(order))
    first = results[0]
    configs = [c for r in results for c in r.configs]
    return Result(
        metrics={
            m: np.concatenate([r.metrics[m] for r in results], axis=1)[:, perm]
            for m in first.metrics
        },
        steps=first.steps,
        lr=np.concatenate([r.lr for r in results], axis=0)[perm],
        diverged=np.concatenate([r.diverged for r in results], axis=1)[:, perm],
        configs=[configs[k] for k in perm],
        seeds=first.seeds,
        goals=first.goals,
    )


def _take(result: Result, indices: Sequence[int]) -> Result:
    """The configurations ``indices`` of ``result``."""
    idx = np.asarray(indices, int)
    return Result(
        metrics={m: v[:, idx] for m, v in result.metrics.items()},
        steps=result.steps,
        lr=result.lr[idx],
        diverged=result.diverged[:, idx],
        configs=[result.configs[i] for i in idx],
        seeds=result.seeds,
        goals=result.goals,
    )


def _checkpoint_folders(
    checkpoint_dir: str | Path | None, tasks: Sequence[Task], optimizers: Sequence[str]
) -> dict[tuple[str, str], Path]:
    """A checkpoint folder per task x optimizer (a subfolder per `fit`), each made and
    written to before any training."""
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


def _chosen(candidates: Sequence[Candidate], search: Result) -> dict[str, int]:
    """``{family: index}`` selected on the search's validation accuracy (-1: all diverged),
    in the order the families first appear."""
    if len(candidates) != len(search.configs):
        raise ValueError(
            f"{len(candidates)} candidates but the result has {len(search.configs)} configurations"
        )
    by_family: dict[str, list[int]] = {}
    for i, c in enumerate(candidates):
        by_family.setdefault(c.family, []).append(i)
    return {f: select(search, idx) for f, idx in by_family.items()}


def summarize(
    candidates: Sequence[Candidate],
    result: Result,
    confirm: Result | None = None,
    target: float | None = None,
    target_fraction: float = 0.95,
    alpha: float = 0.05,
) -> tuple[list[FamilyRow], float]:
    """Select each family's configuration on the search's validation accuracy and report
    it on the confirmation.

    Args:
      candidates: the search space, one per configuration of ``result``.
      result: the search (`fit` of every candidate on the search seeds).
      confirm: the confirmation: the selected configurations, one per family that has
        one, in the order the families first appear, on fresh seeds. None: report on the
        search's own runs (no fresh seeds; for a quick look only).
      target: an absolute validation accuracy for steps-to-target; default
        ``target_fraction`` of the best confirmed validation accuracy.
      alpha: the level of the Holm-corrected one-sided test against the constant rate.

    Returns the rows (in the order the families first appear) and the target
    validation accuracy used for steps-to-target.
    """
    chosen = _chosen(candidates, result)
    picked = [(f, i) for f, i in chosen.items() if i >= 0]
    if confirm is None:
        confirm = _take(result, [i for _, i in picked])
    if confirm is not None and len(confirm.configs) != len(picked):
        raise ValueError(
            f"the confirmation has {len(confirm.configs)} configurations, but "
            f"{len(picked)} families have a selected one"
        )
    search_score = result.score("val_acc")
    val = confirm.metrics["val_acc"]
    test = confirm.metrics["test_acc"][:, :, -1]
    loss = confirm.metrics["train_loss"][:, :, -1]
    with warnings.catch_warnings():  # a family that diverged on every seed: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        final_val = np.nanmean(val[:, :, -1], axis=0)
    if target is None:
        finite = final_val[np.isfinite(final_val)]
        target = target_fraction * float(finite.max()) if finite.size else math.nan
    rows = []
    j = 0
    for family, i in chosen.items():
        members = [k for k, c in enumerate(candidates) if c.family == family]
        n_div = int((result.diverged[:, members] >= 0).any(axis=0).sum())
        if i < 0:
            rows.append(FamilyRow(family, -1, math.nan, {}, {}, math.nan, len(members), n_div))
            continue
        row = FamilyRow(
            family=family,
            index=i,
            base_rate=candidates[i].base_rate,
            params=candidates[i].params,
            schedule=result.configs[i],
            search_val_acc=float(search_score[i]),
            n_configs=len(members),
            n_diverged=n_div,
            confirm_index=j,
        )
        mean, low, high = stats.mean_ci(test[:, j], within=(0.0, 1.0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            curve = np.nanmean(val[:, j], axis=0)
            row = dataclasses.replace(
                row,
                seeds=int(np.isfinite(test[:, j]).sum()),
                confirm_diverged=int((confirm.diverged[:, j] >= 0).sum()),
                val_acc=float(final_val[j]),
                val_acc_std=float(np.nanstd(val[:, j, -1])),
                test_acc=mean,
                test_acc_std=float(np.nanstd(test[:, j])),
                test_acc_ci_low=low,
                test_acc_ci_high=high,
                train_loss=float(np.nanmean(loss[:, j])),
                steps_to_target=stats.steps_to_target(curve, confirm.steps, target),
            )
        rows.append(row)
        j += 1
    return _against_constant(rows, test, alpha), float(target)


def _against_constant(rows: list[FamilyRow], test: np.ndarray, alpha: float) -> list[FamilyRow]:
    """Each row's paired comparison with the constant row (Holm over the families
    compared) and its bootstrap P(best); ``test`` is ``[seed, confirm_index]``."""
    ok = [r for r in rows if r.confirm_index >= 0]
    if ok and test.shape[0]:
        best = stats.p_best(test)
        rows = [
            dataclasses.replace(r, p_best=float(best[r.confirm_index]))
            if r.confirm_index >= 0
            else r
            for r in rows
        ]
    base = next((r for r in rows if r.family == "constant" and r.confirm_index >= 0), None)
    if base is None or not test.shape[0]:
        return rows
    tests = {}
    for r in rows:
        if r.confirm_index >= 0:
            tests[r.family] = stats.paired(
                test[:, r.confirm_index], test[:, base.confirm_index], within=(-1.0, 1.0)
            )
    others = [f for f in tests if f != "constant"]
    adjusted = dict(zip(others, stats.holm([tests[f].p for f in others]), strict=True))
    out = []
    for r in rows:
        if r.family not in tests:
            out.append(r)
            continue
        t = tests[r.family]
        p_holm = adjusted.get(r.family, math.nan)
        beats = None if r is base or math.isnan(p_holm) else bool(p_holm < alpha)
        out.append(
            dataclasses.replace(
                r,
                delta=t.mean,
                delta_ci_low=t.low if r is not base else math.nan,
                delta_ci_high=t.high if r is not base else math.nan,
                p=t.p if r is not base else math.nan,
                p_holm=p_holm,
                beats_constant=beats,
            )
        )
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
    seeds: int | Sequence[int] = DEFAULT_SEEDS,
    target: float | None = None,
    target_fraction: float = 0.95,
    val_fraction: float = 0.1,
    search_seeds: int | Sequence[int] = DEFAULT_SEARCH_SEEDS,
    names: tuple[str, str] = ("search_seeds", "seeds"),
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
    seed_lists(search_seeds, seeds, names)
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
