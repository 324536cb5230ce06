"""What a sweep minimizes and measures: the loss and the metrics, per example.

A loss or a metric is a function ``fn(outputs, y) -> values[batch]`` of the
model's outputs and the targets of a batch, one value per example. Training
minimizes the batch mean of the loss; evaluation averages the loss and every
metric over each split (validation, test). The defaults follow the targets:

- integer ``y`` (class indices): softmax cross-entropy, and accuracy;
- floating ``y`` (regression targets, any trailing shape): mean squared
  error over each example's target values, and no other metric.

A metric is ranked higher-is-better unless it is marked ``"min"``:
``metrics={"mae": (mae_fn, "min")}``; losses are always lower-is-better.

Example:
  >>> import jax.numpy as jnp
  >>> objective = Objective.resolve(None, None, classification=True)
  >>> objective.loss_name, list(objective.metrics), objective.goal("val_acc")
  ('cross_entropy', ['acc'], 'max')
  >>> logits, y = jnp.array([[2.0, 0.0], [0.0, 1.0]]), jnp.array([0, 0])
  >>> objective.metrics["acc"].fn(logits, y).tolist()
  [1.0, 0.0]
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

__all__ = ["LOSSES", "Metric", "Objective", "accuracy", "cross_entropy", "mse"]

#: ``fn(outputs, y) -> values[batch]``: one loss or metric value per example.
PerExample = Callable[[jax.Array, jax.Array], jax.Array]
GOALS = ("min", "max")


def cross_entropy(logits: jax.Array, y: jax.Array) -> jax.Array:
    r"""Softmax cross-entropy with integer labels, per example:
    :math:`-\log \mathrm{softmax}(z)_{y}`.

    >>> cross_entropy(jnp.zeros((1, 4)), jnp.array([2])).round(4).tolist()  # ln 4
    [1.3863]
    """
    return optax.softmax_cross_entropy_with_integer_labels(logits, y)


def mse(outputs: jax.Array, y: jax.Array) -> jax.Array:
    r"""Mean squared error per example, over its target values:
    :math:`\frac{1}{k}\sum_j (o_j - y_j)^2` (outputs reshaped to the targets' shape).

    >>> mse(jnp.array([[1.0, 2.0], [0.0, 0.0]]), jnp.array([[1.0, 0.0], [3.0, 1.0]])).tolist()
    [2.0, 5.0]
    """
    diff = outputs.reshape(y.shape).astype(jnp.float32) - y
    return jnp.mean(diff.reshape(len(y), -1) ** 2, axis=1)


def accuracy(logits: jax.Array, y: jax.Array) -> jax.Array:
    """1.0 where the largest logit is the label's, else 0.0, per example.

    >>> accuracy(jnp.array([[0.1, 0.9], [0.8, 0.2]]), jnp.array([1, 1])).tolist()
    [1.0, 0.0]
    """
    return (jnp.argmax(logits, -1) == y).astype(jnp.float32)


#: The losses named by strings.
LOSSES: dict[str, PerExample] = {"cross_entropy": cross_entropy, "mse": mse}


@dataclasses.dataclass(frozen=True)
class Metric:
    """A per-example function and whether higher (``"max"``) or lower (``"min"``) is better."""

    fn: PerExample
    goal: str = "max"


@dataclasses.dataclass(frozen=True)
class Objective:
    """The loss and the metrics of a sweep.

    Attributes:
      loss: ``loss(outputs, y) -> [batch]``.
      loss_name: its name (``"cross_entropy"``, ``"mse"``, or the function's).
      metrics: ``{name: Metric}``, in the order they are reported.
      classification: whether the targets are class indices.
    """

    loss: PerExample
    loss_name: str
    metrics: dict[str, Metric]
    classification: bool

    @classmethod
    def resolve(
        cls,
        loss: str | PerExample | None,
        metrics: Mapping[str, Any] | None,
        classification: bool,
    ) -> Objective:
        """The objective `fit` and `lr_find` train with, from their ``loss`` and
        ``metrics`` arguments and the kind of targets; bad ones raise `ValueError`."""
        if loss is None:
            loss = "cross_entropy" if classification else "mse"
        if isinstance(loss, str):
            if loss not in LOSSES:
                raise ValueError(
                    f"loss must be one of {', '.join(map(repr, LOSSES))} or a function "
                    f"loss(outputs, y) -> per-example losses, got {loss!r}"
                )
            if loss == "cross_entropy" and not classification:
                raise ValueError(
                    "loss='cross_entropy' needs integer class labels, but y holds floats: "
                    "cast y to integers (y.astype(int)) for classification, or use loss='mse'"
                )
            name, fn = loss, LOSSES[loss]
        elif callable(loss):
            name, fn = _name(loss), loss
        else:
            raise ValueError(
                f"loss must be a name or a function loss(outputs, y) -> per-example losses, "
                f"got {loss!r}"
            )
        if metrics is None:
            metrics = {"acc": Metric(accuracy)} if classification else {}
        return cls(fn, name, _metrics(metrics), classification)

    @property
    def names(self) -> tuple[str, ...]:
        """The history's metric names: ``train_loss``, then ``val_*`` and ``test_*`` of
        the loss and of every metric."""
        evaluated = ("loss", *self.metrics)
        return ("train_loss", *(f"{s}_{m}" for s in ("val", "test") for m in evaluated))

    def goal(self, name: str) -> str:
        """``"min"`` or ``"max"`` for a history name such as ``val_acc`` or ``test_loss``."""
        return goals(self.metrics)[name]

    def check(self, outputs: jax.ShapeDtypeStruct, y: jax.ShapeDtypeStruct, n_outputs: int) -> None:
        """Refuse model outputs that do not fit the targets, and a loss or metric that
        does not give one real value per example, for a batch of ``outputs`` (the
        model's, abstract) and targets ``y``, before anything compiles. ``n_outputs``
        is what the model was asked for (the classes, or the target values)."""
        fns = {self.loss, *(m.fn for m in self.metrics.values())}
        logits = fns & {cross_entropy, accuracy}
        if self.classification and logits and outputs.shape[1:] != (n_outputs,):
            raise ValueError(
                f"model: its outputs have shape {outputs.shape[1:]} per example, but "
                f"{self.loss_name if self.loss is cross_entropy else 'accuracy'} needs "
                f"logits of shape ({n_outputs},), one per class: build the model with the "
                f"n_outputs it is given"
            )
        if self.loss is mse and math.prod(outputs.shape[1:]) != math.prod(y.shape[1:]):
            raise ValueError(
                f"model: its outputs have shape {outputs.shape[1:]} per example, but the "
                f"targets {y.shape[1:]}: loss 'mse' needs as many outputs as target values "
                f"({n_outputs}); build the model with the n_outputs it is given"
            )
        for name, fn in (
            ("loss", self.loss),
            *((f"metrics[{m!r}]", v.fn) for m, v in self.metrics.items()),
        ):
            try:
                got = jax.eval_shape(fn, outputs, y)
            except Exception as e:  # the user's function, on the model's outputs
                detail = " ".join(str(e).split())[:300]
                raise ValueError(
                    f"{name} failed on the model's outputs {_shape(outputs)} and targets "
                    f"{_shape(y)} ({type(e).__name__}: {detail}); it must take (outputs, y) of "
                    f"a batch and return one value per example"
                ) from None
            if (
                not isinstance(got, jax.ShapeDtypeStruct)
                or got.shape != (y.shape[0],)
                or not jnp.issubdtype(got.dtype, jnp.floating)
            ):
                raise ValueError(
                    f"{name} must return one real value per example, shape ({y.shape[0]},) "
                    f"for a batch of {y.shape[0]}, got {_shape(got)}; reduce over every axis "
                    f"but the first (e.g. jnp.mean(err.reshape(len(y), -1), axis=1))"
                )


def goals(metrics: Mapping[str, Metric]) -> dict[str, str]:
    """``{history name: "min" | "max"}`` for a sweep with these metrics.

    >>> goals({"acc": Metric(accuracy), "mae": Metric(accuracy, "min")})["test_mae"]
    'min'
    """
    out = {"train_loss": "min", "val_loss": "min", "test_loss": "min"}
    for name, metric in metrics.items():
        out[f"val_{name}"] = out[f"test_{name}"] = metric.goal
    return out


def _metrics(metrics: Any) -> dict[str, Metric]:
    if not isinstance(metrics, Mapping):
        raise ValueError(
            f"metrics must be a dict {{name: fn(outputs, y) -> per-example values}}, "
            f"got {metrics!r}"
        )
    out = {}
    for name, spec in metrics.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"metrics: names must be identifiers such as 'mae', got {name!r}")
        if name == "loss":
            raise ValueError("metrics: 'loss' is the loss's own name; call the metric otherwise")
        if isinstance(spec, Metric):
            fn, goal = spec.fn, spec.goal
        elif isinstance(spec, tuple) and len(spec) == 2:
            fn, goal = spec
        else:
            fn, goal = spec, "max"
        if not callable(fn):
            raise ValueError(
                f"metrics[{name!r}] must be a function fn(outputs, y) -> per-example values, "
                f"or (fn, 'min' | 'max'), got {spec!r}"
            )
        if goal not in GOALS:
            raise ValueError(
                f"metrics[{name!r}]: the goal must be 'min' (lower is better) or 'max', "
                f"got {goal!r}"
            )
        out[name] = Metric(fn, goal)
    return out


def _name(fn: Any) -> str:
    return getattr(fn, "__name__", type(fn).__name__)


def _shape(x: Any) -> str:
    if isinstance(x, jax.ShapeDtypeStruct | np.ndarray | jax.Array):
        return f"{x.dtype}{list(x.shape)}"
    return type(x).__name__
