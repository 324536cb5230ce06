"""Reduce-on-plateau controllers in `fit`: a rate per run that follows a validation metric.

A batch of `jaxsched.Plateau` controllers (``jaxsched.plateau``, or
``jaxsched.compat.torch.ReduceLROnPlateau`` / ``keras.ReduceLROnPlateau`` with
array hyperparameters) trains like a batch of schedules, one configuration per
controller. Each run holds a constant rate between evaluations; after each
evaluation its controller takes the run's monitored metric (``monitor``, the
validation loss by default) and gives the rate of the next chunk, as
``scheduler.step(val_loss)`` once per epoch does in PyTorch. The controllers'
states live on the host, ``[seed, config]``, and travel in checkpoints.

Example:
  >>> import numpy as np, jaxsched
  >>> from jaxsched.train import fit
  >>> controllers = jaxsched.plateau(0.3, factor=np.array([0.1, 0.5]), patience=0)
  >>> r = fit(controllers, data="digits", steps=60, eval_every=20, progress=False)
  >>> r.metrics["lr"].shape  # the rate each run trained with before each evaluation
  (1, 2, 3)
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import numpy as np

from jaxsched._base import plain_data
from jaxsched._decay import constant
from jaxsched._plateau import Plateau, PlateauState

__all__ = ["PlateauRuns", "check_batch", "check_monitor", "controller_configs"]


@dataclasses.dataclass
class PlateauRuns:
    """The controllers of a sweep and every run's state (host arrays ``[seed, config]``)."""

    controllers: Plateau
    monitor: str
    state: PlateauState

    @classmethod
    def start(cls, controllers: Plateau, monitor: str, n_seeds: int):
        """Every run at its controller's initial rate (``controllers`` and ``monitor``
        checked by `check_batch` and `check_monitor`)."""
        first = controllers.init()
        shape = controllers.batch_shape
        state = PlateauState(*(np.broadcast_to(x, (n_seeds, *shape)).copy() for x in first))
        return cls(controllers, monitor, state)

    @property
    def rates(self) -> np.ndarray:
        """``[seed, config]``: the rate each run trains with now."""
        return np.asarray(self.state.lr)

    def schedules(self):
        """The runs' current rates as constant schedules ``[seed, config]``."""
        return constant(self.rates)

    def update(self, history: dict[str, np.ndarray], k: int) -> None:
        """Every run's controller takes evaluation ``k`` of the monitored metric."""
        metric = history[self.monitor][..., k]
        updated = _update(self.controllers, self.state, metric)
        self.state = PlateauState(*(np.asarray(x) for x in updated))

    def leaves(self) -> list[np.ndarray]:
        """The state as arrays, for a checkpoint."""
        return [np.asarray(x) for x in self.state]

    def restore(self, leaves) -> None:
        """The state a checkpoint held."""
        self.state = PlateauState(*(np.asarray(x) for x in leaves))


def controller_configs(controllers: Plateau, monitor: str) -> list[dict[str, Any]]:
    """One row per controller: its kind, hyperparameters and the monitored metric."""
    fields = {f.name: f for f in dataclasses.fields(controllers)}
    shape = controllers.batch_shape
    rows = []
    for i in range(shape[0]):
        row: dict[str, Any] = {"kind": "plateau", "monitor": monitor}
        for name in fields:
            value = getattr(controllers, name)
            if isinstance(value, str):
                row[name] = value
            else:
                row[name] = plain_data(np.broadcast_to(np.asarray(value), shape)[i])
        rows.append(row)
    return rows


def check_monitor(monitor: str, names: tuple[str, ...]) -> None:
    """Refuse a ``monitor`` the sweep does not measure (``names``: the metrics it records)."""
    if monitor not in names:
        raise ValueError(f"fit: monitor {monitor!r} is not measured: use one of {', '.join(names)}")


def check_batch(controllers: Plateau) -> tuple[int]:
    """The batch shape ``(n,)`` of a batch of controllers; anything else is refused."""
    shape = controllers.batch_shape
    if len(shape) != 1 or shape[0] < 1:
        raise ValueError(
            f"fit: a batch of plateau controllers needs one axis of configurations "
            f"(array hyperparameters of one shape [n]), got batch shape {shape}"
        )
    return shape


@jax.jit
def _update(controllers: Plateau, state: PlateauState, metric) -> PlateauState:
    return controllers.update(state, metric)
