"""`Result`: a sweep's metrics as arrays with the sweep axes first, and their exports."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from jaxsched.train._io import array, plain, pyplot

__all__ = ["METRICS", "Result"]

METRICS = ("train_loss", "val_loss", "val_acc", "test_loss", "test_acc")
_HIGHER_IS_BETTER = {"val_acc": True, "test_acc": True}


@dataclasses.dataclass(frozen=True)
class Result:
    """What `fit` returns.

    Attributes:
      metrics: ``{name: array[seed, config, eval]}`` for ``train_loss`` (mean over
        the steps since the last evaluation), ``val_loss``, ``val_acc``,
        ``test_loss``, ``test_acc``.
      steps: ``[eval]``, the step count at each evaluation.
      lr: ``[config, eval]``, each configuration's learning rate at those steps.
      diverged: ``[seed, config]``, the step of the first non-finite loss, or -1.
      configs: one ``to_dict`` row of hyperparameters per configuration.
      seeds: the seeds, in the order of the seed axis.
    """

    metrics: dict[str, np.ndarray]
    steps: np.ndarray
    lr: np.ndarray
    diverged: np.ndarray
    configs: list[dict[str, Any]]
    seeds: list[int]

    def score(self, metric: str = "val_acc") -> np.ndarray:
        """``[config]``: the final ``metric`` averaged over seeds, oriented so that higher
        is better (losses negated); ``-inf`` for a configuration that diverged for any
        seed or has no finite value. What `best` and the comparisons rank by.

        Example:
          >>> r = Result({"val_acc": np.array([[[0.5], [0.9], [0.7]]])}, np.array([10]),
          ...            np.zeros((3, 1)), np.array([[-1, 4, -1]]), [{}] * 3, [0])
          >>> r.score().tolist()  # config 1 diverged
          [0.5, -inf, 0.7]
        """
        self._check_metric(metric)
        with np.errstate(invalid="ignore"):
            mean = self.metrics[metric][:, :, -1].mean(axis=0)
        ok = (self.diverged < 0).all(axis=0) & np.isfinite(mean)
        higher = _HIGHER_IS_BETTER.get(metric, False)
        return np.where(ok, mean if higher else -mean, -np.inf)

    def _check_metric(self, metric: str) -> None:
        if metric not in self.metrics:
            raise ValueError(f"unknown metric {metric!r}: use one of {', '.join(self.metrics)}")

    def best(self, metric: str = "val_acc") -> dict[str, Any]:
        """The configuration with the best final ``metric`` averaged over seeds.

        Diverged configurations never win. Returns ``{"index", "config",
        metric + "_mean", metric + "_std", "test_acc_mean", "test_acc_std"}``.
        """
        score = self.score(metric)
        if not np.isfinite(score).any():
            if np.isnan(self.metrics[metric]).all() and not (self.diverged >= 0).all():
                raise ValueError(
                    f"{metric} was never measured (no validation split, val_fraction=0?): "
                    f"rank by another metric, e.g. best('test_acc')"
                )
            raise ValueError("every configuration diverged (for at least one seed)")
        i = int(np.argmax(score))
        final = self.metrics[metric][:, i, -1]
        test = self.metrics["test_acc"][:, i, -1]
        return {
            "index": i,
            "config": self.configs[i],
            f"{metric}_mean": float(final.mean()),
            f"{metric}_std": float(final.std()),
            "test_acc_mean": float(test.mean()),
            "test_acc_std": float(test.std()),
        }

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
    def plot_lr(self, path: str | Path | None = None, configs: list[int] | None = None):
        """Learning rate against step for the chosen configurations (default: all, up to 20)."""
        plt = pyplot()
        fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
        for c in configs if configs is not None else range(min(len(self.configs), 20)):
            ax.plot(self.steps, self.lr[c], label=f"config {c}")
        ax.set(xlabel="step", ylabel="learning rate")
        ax.grid(alpha=0.3)
        return _finish(fig, ax, path)

    def plot_curves(self, metric: str = "val_acc", path: str | Path | None = None, configs=None):
        """``metric`` against step, mean over seeds with a band of one standard deviation."""
        self._check_metric(metric)
        plt = pyplot()
        fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
        values = self.metrics[metric]
        for c in configs if configs is not None else range(min(len(self.configs), 20)):
            mean, std = values[:, c].mean(0), values[:, c].std(0)
            (line,) = ax.plot(self.steps, mean, label=f"config {c}")
            ax.fill_between(self.steps, mean - std, mean + std, color=line.get_color(), alpha=0.2)
        ax.set(xlabel="step", ylabel=metric)
        ax.grid(alpha=0.3)
        return _finish(fig, ax, path)


def _finish(fig, ax, path):
    if len(ax.get_lines()) <= 12:
        ax.legend(fontsize=7)
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
