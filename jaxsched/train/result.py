"""`Result`: a sweep's metrics as arrays with the sweep axes first, and their exports."""

from __future__ import annotations

import csv
import dataclasses
import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np

from jaxsched._preview import curve, plotted_steps
from jaxsched._spec import from_dict, label
from jaxsched.train._io import array, plain, pyplot
from jaxsched.train._weights import Weights, load_weights, save_weights

__all__ = ["Result", "Weights"]

#: The directions of a classification sweep's default metrics (a result read from an
#: older JSON file has no ``goals``).
_CLASSIFICATION_GOALS = {
    "train_loss": "min",
    "val_loss": "min",
    "test_loss": "min",
    "val_acc": "max",
    "test_acc": "max",
}


@dataclasses.dataclass(frozen=True, repr=False)
class Result:
    """What `fit` returns.

    Attributes:
      metrics: ``{name: array[seed, config, eval]}``: ``train_loss`` (mean over
        the steps since the last evaluation), ``val_loss``, ``test_loss``, and
        ``val_<m>``, ``test_<m>`` for every metric ``m`` (``acc`` by default for
        classification).
      steps: ``[eval]``, the step count at each evaluation.
      lr: ``[config, eval]``, each configuration's learning rate at those steps.
      diverged: ``[seed, config]``, the step at which the run diverged, or -1.
      configs: one ``to_dict`` row of hyperparameters per configuration.
      seeds: the seeds, in the order of the seed axis.
      goals: ``{metric: "min" | "max"}``, whether lower or higher is better.
      weights: the kept runs' final weights (`Weights`), or None; see `model`.
    """

    metrics: dict[str, np.ndarray]
    steps: np.ndarray
    lr: np.ndarray
    diverged: np.ndarray
    configs: list[dict[str, Any]]
    seeds: list[int]
    goals: dict[str, str] = dataclasses.field(default_factory=lambda: dict(_CLASSIFICATION_GOALS))
    weights: Weights | None = None

    def __repr__(self) -> str:
        n_seeds, n_configs, n_evals = self.metrics[
            "train_loss" if "train_loss" in self.metrics else next(iter(self.metrics))
        ].shape
        n_diverged = int((self.diverged >= 0).any(axis=0).sum())
        kept = "none" if self.weights is None else f"{len(self.weights.configs)} configs"
        return (
            f"Result({n_configs} configs x {n_seeds} seeds, {n_evals} evaluations to step "
            f"{int(self.steps[-1])}, metrics: {', '.join(self.metrics)}; {n_diverged} configs "
            f"diverged; weights kept: {kept})"
        )

    @property
    def default_metric(self) -> str:
        """What `best` ranks by unless told: ``val_acc`` where accuracy is measured, else
        ``val_loss``."""
        return "val_acc" if "val_acc" in self.metrics else "val_loss"

    def score(self, metric: str | None = None) -> np.ndarray:
        """``[config]``: the final ``metric`` averaged over seeds, oriented so that higher
        is better (metrics whose goal is ``"min"``, losses among them, negated); ``-inf``
        for a configuration that diverged for any seed or has no finite value. What
        `best` and the comparisons rank by.

        Example:
          >>> r = Result({"val_acc": np.array([[[0.5], [0.9], [0.7]]])}, np.array([10]),
          ...            np.zeros((3, 1)), np.array([[-1, 4, -1]]), [{}] * 3, [0])
          >>> r.score().tolist()  # config 1 diverged
          [0.5, -inf, 0.7]
        """
        metric = metric or self.default_metric
        self._check_metric(metric)
        with np.errstate(invalid="ignore"):
            mean = self.metrics[metric][:, :, -1].mean(axis=0)
        ok = (self.diverged < 0).all(axis=0) & np.isfinite(mean)
        higher = self.goals.get(metric, "min") == "max"
        return np.where(ok, mean if higher else -mean, -np.inf)

    def _check_metric(self, metric: str) -> None:
        if metric not in self.metrics:
            raise ValueError(f"unknown metric {metric!r}: use one of {', '.join(self.metrics)}")

    def best(self, metric: str | None = None) -> dict[str, Any]:
        """The configuration with the best final ``metric`` averaged over seeds (lowest
        for losses and ``"min"`` metrics, else highest); default `default_metric`.

        Diverged configurations never win. Returns ``{"index", "config",
        metric + "_mean", metric + "_std"}`` and the same for its test
        counterpart (``test_acc`` for ``val_acc``), as ``test_<m>_mean`` and
        ``test_<m>_std``.
        """
        metric = metric or self.default_metric
        score = self.score(metric)
        if not np.isfinite(score).any():
            if np.isnan(self.metrics[metric]).all() and not (self.diverged >= 0).all():
                raise ValueError(
                    f"{metric} was never measured (no validation split, val_fraction=0?): "
                    f"rank by another metric, e.g. best('test_loss')"
                )
            raise ValueError("every configuration diverged (for at least one seed)")
        i = int(np.argmax(score))
        out = {"index": i, "config": self.configs[i]}
        test = "test_" + metric.split("_", 1)[1] if metric.startswith("val_") else None
        for name in dict.fromkeys([metric, test if test in self.metrics else None]):
            if name is not None:
                final = self.metrics[name][:, i, -1]
                out[f"{name}_mean"] = float(final.mean())
                out[f"{name}_std"] = float(final.std())
        return out

    # ------------------------------------------------------------------ weights
    def model(self, config: int, seed: int | None = None):
        """The trained model of configuration ``config`` and ``seed`` (default the first),
        in evaluation mode: an ``nnx.Module`` holding that run's final weights and state.

        Needs the weights (``fit(keep_weights="all")``, or ``"best"`` for the
        best configuration). Evaluated on the test split it gives the reported
        test metrics (up to float32 summation order).
        """
        if self.weights is None:
            raise ValueError(
                "this result kept no weights: fit with keep_weights='all' or 'best' "
                "(or load it from a folder that result.save wrote)"
            )
        if config not in self.weights.configs:
            raise ValueError(
                f"configuration {config}'s weights were not kept (kept: "
                f"{', '.join(map(str, self.weights.configs))}); fit with keep_weights='all'"
            )
        seed = self.seeds[0] if seed is None else seed
        if seed not in self.seeds:
            raise ValueError(f"unknown seed {seed!r}: the seeds are {self.seeds}")
        s, c = self.seeds.index(seed), self.weights.configs.index(config)
        params, state = jax.tree_util.tree_map(
            lambda x: jax.device_put(np.asarray(x)[s, c]), (self.weights.params, self.weights.state)
        )
        return self.weights.network.module(params, state)

    def save(self, directory: str | Path) -> None:
        """Write the result to ``directory``: ``result.json`` (`to_json`) and, when
        weights were kept, ``weights/`` (orbax) with ``weights.json`` describing them.
        `Result.load` reads it back."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.to_json(directory / "result.json")
        if self.weights is not None:
            save_weights(directory, self.weights)

    @classmethod
    def load(cls, directory: str | Path, model: Any = None) -> Result:
        """The result `save` wrote to ``directory``, with its weights. ``model`` is the
        model function the weights were trained with, needed unless it was a built-in
        (``"mlp"``, ``"cnn"``)."""
        directory = Path(directory)
        result = cls.from_json(directory / "result.json")
        if not (directory / "weights.json").exists():
            return result
        return dataclasses.replace(result, weights=load_weights(directory, model))

    # ------------------------------------------------------------------ export
    def to_json(self, path: str | Path) -> None:
        """Write everything to a JSON file that `from_json` reads back."""
        data = {
            "metrics": {k: plain(v) for k, v in self.metrics.items()},
            "steps": self.steps.tolist(),
            "lr": plain(self.lr),
            "diverged": self.diverged.tolist(),
            "configs": self.configs,
            "seeds": list(self.seeds),
            "goals": self.goals,
        }
        Path(path).write_text(json.dumps(data, allow_nan=False))

    @classmethod
    def from_json(cls, path: str | Path) -> Result:
        data = json.loads(Path(path).read_text())
        return cls(
            metrics={k: array(v, np.float32) for k, v in data["metrics"].items()},
            steps=np.asarray(data["steps"], dtype=np.int64),
            lr=array(data["lr"], np.float32),
            diverged=np.asarray(data["diverged"], dtype=np.int32),  # as fit gives it
            configs=data["configs"],
            seeds=data["seeds"],
            goals=data.get("goals", _CLASSIFICATION_GOALS),
        )

    def to_csv(self, path: str | Path) -> None:
        """One row per (seed, config, evaluation): the metrics, the rate, and the config."""
        with Path(path).open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(
                ["seed", "config", "step", "lr", *self.metrics, "diverged_at", "schedule"]
            )
            for s, seed in enumerate(self.seeds):
                for c, config in enumerate(self.configs):
                    for e, step in enumerate(self.steps):
                        values = [self.metrics[m][s, c, e] for m in self.metrics]
                        writer.writerow(
                            [
                                seed,
                                c,
                                int(step),
                                self.lr[c, e],
                                *values,
                                int(self.diverged[s, c]),
                                json.dumps(config),
                            ]
                        )

    # ------------------------------------------------------------------- plots
    def plot_lr(self, path: str | Path | None = None, configs: Sequence[int] | None = None):
        """Each configuration's learning rate at every step from 0 to the last
        evaluation (at most 20000 evenly spread steps), rebuilt from its `configs` row,
        so a warmup shorter than ``eval_every`` shows. ``configs``: the indices to
        draw (default the first 20). The legend names each one's hyperparameters.

        Example:
          >>> import jaxsched
          >>> batch = jaxsched.grid(jaxsched.cosine, init_value=[0.1, 0.3], decay_steps=900)
          >>> r = Result({"val_acc": np.full((1, 2, 1), 0.5)}, np.array([900]),
          ...            np.zeros((2, 1)), np.full((1, 2), -1), batch.to_dicts(), [0])
          >>> fig = r.plot_lr()  # or r.plot_lr("lr.png")
          >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
          ['cosine(init_value=0.1, decay_steps=900)', 'cosine(init_value=0.3, decay_steps=900)']
        """
        chosen = self._chosen(configs, default=list(range(min(len(self.configs), 20))))
        plt = pyplot()
        fig, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
        steps = plotted_steps(int(self.steps[-1]) + 1)
        for c in chosen:
            try:
                lr = np.asarray(curve(from_dict(self.configs[c]), steps))
                ax.plot(steps, lr, label=self._label(c))
            except (ValueError, TypeError, KeyError):  # a row that is not a schedule
                ax.plot(self.steps, self.lr[c], label=self._label(c))
        ax.set(xlabel="step", ylabel="learning rate", title=self._count(chosen, "learning rate"))
        ax.grid(alpha=0.3)
        return _finish(fig, ax, path)

    def plot_curves(
        self,
        metric: str = "val_acc",
        path: str | Path | None = None,
        configs: Sequence[int] | None = None,
    ):
        """``metric`` against step, mean over seeds with a band of one standard deviation,
        for ``configs`` (default: the 10 best by `score` of ``metric``, best first). The
        y-axis is logarithmic when the values are positive and span over two decades
        (a loss), and the legend names each configuration's hyperparameters."""
        self._check_metric(metric)
        if configs is None:
            order = np.argsort(-self.score(metric), kind="stable")
            chosen = [int(c) for c in order[:10]]
        else:
            chosen = self._chosen(configs)
        plt = pyplot()
        fig, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
        values = self.metrics[metric]
        drawn = []
        for c in chosen:
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a diverged run's NaN
                mean, std = values[:, c].mean(0), values[:, c].std(0)
            (line,) = ax.plot(self.steps, mean, label=self._label(c))
            ax.fill_between(self.steps, mean - std, mean + std, color=line.get_color(), alpha=0.2)
            drawn.append(mean)
        finite = np.concatenate(drawn)[np.isfinite(np.concatenate(drawn))] if drawn else []
        if len(finite) and finite.min() > 0 and finite.max() > 100 * finite.min():
            ax.set_yscale("log")
        best = " (best first)" if configs is None else ""
        ax.set(xlabel="step", ylabel=metric, title=self._count(chosen, metric) + best)
        ax.grid(alpha=0.3)
        return _finish(fig, ax, path)

    def _chosen(self, configs: Sequence[int] | None, default: list[int] | None = None) -> list:
        if configs is None:
            return default
        chosen = [int(c) for c in configs]
        bad = [c for c in chosen if not 0 <= c < len(self.configs)]
        if bad:
            raise ValueError(
                f"configs: no configuration {bad[0]} (there are {len(self.configs)}: "
                f"0 .. {len(self.configs) - 1})"
            )
        return chosen

    def _label(self, c: int) -> str:
        config = self.configs[c]
        return label(config) if isinstance(config, dict) and "kind" in config else f"config {c}"

    def _count(self, chosen: list[int], what: str) -> str:
        n = len(self.configs)
        return f"{what}: {len(chosen)} of {n} configuration{'s' if n != 1 else ''}"


def _finish(fig, ax, path):
    if 0 < len(ax.get_lines()) <= 20:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
