"""Reduce-on-plateau: a learning rate driven by a metric, as a pure, jittable controller.

A plateau rate is not a function of the step: it falls when a monitored metric
stops improving. `Plateau` is the controller, a pytree of hyperparameters like a
schedule, with pure methods: ``init() -> state``, ``update(state, metric) -> state``
and ``value(state) -> rate``. The state is a `PlateauState` of arrays, so a run
is a ``lax.scan`` and a sweep of controllers is a ``vmap``. `plateau_transform`
puts one into an optax chain.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxsched._base import _broadcast_leaf, data, static
from jaxsched._fields import convert_fields, register_checked

__all__ = ["Plateau", "PlateauState", "plateau", "plateau_transform"]

RULES = ("torch", "keras")


class PlateauState(NamedTuple):
    """Where a `Plateau` controller stands: arrays of the controller's batch shape."""

    lr: jax.Array
    """The current rate."""
    best: jax.Array
    """The best metric so far. Before any: ``+inf`` for ``"min"``, ``-inf`` for ``"max"``
    (``rules="torch"``: PyTorch starts there), or NaN, none yet (``rules="keras"``: the
    first metric always improves, as Keras's ``best=None``). A first metric that is NaN,
    which Keras keeps as a best that nothing improves on, is kept as the best nothing
    improves on: ``-inf`` for ``"min"``, ``+inf`` for ``"max"``."""
    num_bad_epochs: jax.Array
    """Updates without improvement since the last improvement, reduction or cooldown."""
    cooldown_counter: jax.Array
    """Updates left in the cooldown after a reduction."""


@dataclasses.dataclass(frozen=True, eq=False)
class Plateau:
    """A reduce-on-plateau controller. Build with `jaxsched.plateau`, or with
    `jaxsched.compat.torch.ReduceLROnPlateau` or `jaxsched.compat.keras.ReduceLROnPlateau`.

    Every numeric hyperparameter is an array leaf (traceable, batchable); ``mode``,
    ``threshold_mode`` and ``rules`` are static. A batched controller (leaves with
    leading axes) runs every entry at once: its state has the batch shape. Built
    directly, it converts and checks its fields as `plateau` does; rebuilt from its
    leaves (inside ``jit``, ``vmap``) it takes them as they are.
    """

    init_value: jax.Array = data(float, ">= 0")
    factor: jax.Array = data(float, "in [0, 1)")
    patience: jax.Array = data(float, "a whole number >= 0")
    threshold: jax.Array = data(float)
    cooldown: jax.Array = data(float, "a whole number >= 0")
    min_value: jax.Array = data(float, ">= 0")
    eps: jax.Array = data(float, ">= 0")
    mode: str = static(choices=("min", "max"), default="min")
    threshold_mode: str = static(choices=("rel", "abs"), default="rel")
    rules: str = static(choices=RULES, default="torch")

    def __post_init__(self) -> None:
        """Convert and check every field as declared, check that their batch shapes
        broadcast (a controller built directly is checked as `plateau` checks it), and
        broadcast every leaf to the batch shape."""
        convert_fields(self, "plateau")
        try:
            shape = self.batch_shape
        except ValueError:
            shapes = {f.name: jnp.shape(getattr(self, f.name)) for f in _data_fields(self)}
            raise ValueError(
                f"plateau: the hyperparameters' batch shapes do not broadcast: {shapes}"
            ) from None
        for f in _data_fields(self):  # every leaf of the batch shape, so vmap maps them all
            object.__setattr__(self, f.name, _broadcast_leaf(getattr(self, f.name), shape))

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """The broadcast shape of the hyperparameters; ``()`` for one controller."""
        return tuple(np.broadcast_shapes(*(jnp.shape(x) for x in jax.tree_util.tree_leaves(self))))

    def _dtype(self) -> jnp.dtype:
        return jnp.result_type(*jax.tree_util.tree_leaves(self))

    def init(self) -> PlateauState:
        """The state before any metric: the rate at ``init_value``, no best yet."""
        shape, dtype = self.batch_shape, self._dtype()
        worst = jnp.inf if self.mode == "min" else -jnp.inf
        if self.rules == "keras":  # Keras's best=None: the first metric improves
            worst = jnp.nan
        zeros = jnp.zeros(shape, jnp.int32)
        return PlateauState(
            lr=jnp.broadcast_to(self.init_value, shape).astype(dtype),
            best=jnp.full(shape, worst, dtype),
            num_bad_epochs=zeros,
            cooldown_counter=zeros,
        )

    def value(self, state: PlateauState) -> jax.Array:
        """The rate in ``state``."""
        return state.lr

    def update(self, state: PlateauState, metric: jax.typing.ArrayLike) -> PlateauState:
        """The state after one more metric (an epoch's validation loss, say).

        With ``rules="torch"`` (PyTorch's ``ReduceLROnPlateau.step``): an
        improvement resets the bad count, otherwise it grows; in cooldown the
        count is held at 0 while the cooldown runs down; once the count exceeds
        ``patience`` the rate becomes ``max(lr * factor, min_value)`` (kept only if
        it falls by more than ``eps``), the cooldown starts and the count resets.

        With ``rules="keras"`` (Keras's ``ReduceLROnPlateau.on_epoch_end``): the
        first metric is an improvement whatever it is (NaN and infinities included);
        the cooldown runs down first (resetting the count); a non-improvement counts
        only out of cooldown, and once the count reaches ``patience`` a rate above
        ``min_value`` is reduced, which starts the cooldown and resets the count.
        """
        dtype = state.best.dtype
        metric = jnp.asarray(metric, dtype)
        better = self._improves(metric, state.best)
        best = jnp.where(better, metric, state.best)
        if self.rules == "keras":  # no best yet (NaN): any metric is the first best
            first = jnp.isnan(state.best)
            better = better | first
            # A NaN best, as Keras keeps it, is one no metric improves on: held as the
            # infinity on the wrong side, so that NaN stays "none yet".
            unbeatable = -jnp.inf if self.mode == "min" else jnp.inf
            best = jnp.where(first, jnp.where(jnp.isnan(metric), unbeatable, metric), best)
        reduced = jnp.maximum(state.lr * self.factor, self.min_value)
        if self.rules == "torch":
            bad = jnp.where(better, 0, state.num_bad_epochs + 1)
            cooling = state.cooldown_counter > 0
            cooldown = jnp.where(cooling, state.cooldown_counter - 1, state.cooldown_counter)
            bad = jnp.where(cooling, 0, bad)
            reduce = bad > self.patience
            lr = jnp.where(reduce & (state.lr - reduced > self.eps), reduced, state.lr)
        else:
            cooling = state.cooldown_counter > 0
            cooldown = jnp.where(cooling, state.cooldown_counter - 1, state.cooldown_counter)
            wait = jnp.where(cooling, 0, state.num_bad_epochs)
            counts = ~better & (cooldown == 0)
            bad = jnp.where(better, 0, jnp.where(counts, wait + 1, wait))
            reduce = counts & (bad >= self.patience) & (state.lr > self.min_value)
            lr = jnp.where(reduce, reduced, state.lr)
        return PlateauState(
            lr=lr.astype(dtype),
            best=best,
            num_bad_epochs=jnp.where(reduce, 0, bad).astype(jnp.int32),
            cooldown_counter=jnp.where(reduce, self.cooldown, cooldown).astype(jnp.int32),
        )

    def _improves(self, metric: jax.Array, best: jax.Array) -> jax.Array:
        """Whether ``metric`` improves on ``best`` by more than the threshold."""
        thr = self.threshold
        if self.rules == "keras":  # Keras compares metric -+ min_delta with best
            return metric - thr > best if self.mode == "max" else metric + thr < best
        if self.mode == "max":
            return metric > (best * (1 + thr) if self.threshold_mode == "rel" else best + thr)
        return metric < (best * (1 - thr) if self.threshold_mode == "rel" else best - thr)


register_checked(Plateau)


def _data_fields(controller: Plateau) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(controller) if not f.metadata.get("static")]


def plateau(
    init_value: Any,
    mode: str = "min",
    factor: Any = 0.1,
    patience: Any = 10,
    threshold: Any = 1e-4,
    threshold_mode: str = "rel",
    cooldown: Any = 0,
    min_value: Any = 0.0,
    eps: Any = 1e-8,
    rules: str = "torch",
) -> Plateau:
    r"""A controller that multiplies the rate by ``factor`` when a metric stops improving.

    A metric :math:`m` improves on the best :math:`b` so far when, for ``mode="min"``,

    .. math:: m < b (1 - \theta) \;\; (\text{rel}) \qquad m < b - \theta \;\; (\text{abs})

    (``"max"``: :math:`m > b (1 + \theta)`, :math:`m > b + \theta`). After more than
    ``patience`` updates without one, the rate becomes
    :math:`\max(\eta \cdot \text{factor}, \eta_{min})` and ``cooldown`` updates
    pass before bad ones count again. ``rules`` picks whose counting is followed
    in the corners, PyTorch's or Keras's (see `Plateau.update`); the compat
    constructors set it.

    Args:
      init_value: the rate before any reduction.
      mode: ``"min"`` (a loss) or ``"max"`` (an accuracy).
      factor: in ``[0, 1)``.
      patience: updates without improvement tolerated, a whole number ``>= 0``.
      threshold: :math:`\theta`, the least improvement that counts.
      threshold_mode: ``"rel"`` or ``"abs"`` (``rules="keras"``: always absolute).
      cooldown: updates after a reduction during which bad ones do not count.
      min_value: :math:`\eta_{min} \ge 0`, the floor of the rate.
      eps: a smaller reduction is not made (``rules="torch"``).
      rules: ``"torch"`` or ``"keras"``.

    Example:
      >>> import jax.numpy as jnp, jaxsched
      >>> c = jaxsched.plateau(0.1, factor=0.5, patience=1)
      >>> state = c.init()
      >>> for loss in [1.0, 0.9, 0.95, 0.97, 0.8, 0.85, 0.86]:
      ...     state = c.update(state, loss)
      ...     print(round(float(c.value(state)), 4), end=" ")
      0.1 0.1 0.1 0.05 0.05 0.05 0.025
    """
    return Plateau(
        init_value=init_value,
        factor=factor,
        patience=patience,
        threshold=threshold,
        cooldown=cooldown,
        min_value=min_value,
        eps=eps,
        mode=mode,
        threshold_mode=threshold_mode,
        rules=rules,
    )


class PlateauTransformState(NamedTuple):
    """`plateau_transform`'s state: the controller's."""

    plateau: PlateauState


def plateau_transform(controller: Plateau) -> optax.GradientTransformationExtraArgs:
    """An optax transform that scales updates by a `Plateau` controller's rate.

    Chain it after an optimizer built with a rate of 1, in place of a learning rate:
    ``optax.chain(optax.sgd(1.0, momentum=0.9), plateau_transform(c))`` is
    ``optax.sgd(rate, momentum=0.9)`` at the controller's rate. Give the metric
    as an extra argument, ``tx.update(grads, state, params, metric=val_loss)``,
    when there is one (once per epoch, as PyTorch's ``scheduler.step(val_loss)``):
    the controller takes it before that update is scaled. Without ``metric`` the
    rate is unchanged. ``state.plateau.lr`` (or an entry of a chain's state) is
    the rate in use.

    Example:
      >>> import jax.numpy as jnp, optax, jaxsched
      >>> tx = optax.chain(optax.sgd(1.0), jaxsched.plateau_transform(jaxsched.plateau(0.1, patience=0)))
      >>> params = jnp.ones(2)
      >>> state = tx.init(params)
      >>> updates, state = tx.update(jnp.ones(2), state, params, metric=1.0)
      >>> updates, state = tx.update(jnp.ones(2), state, params, metric=2.0)  # worse: reduced
      >>> updates
      Array([-0.01, -0.01], dtype=float32)
    """
    if not isinstance(controller, Plateau):
        raise ValueError(f"plateau_transform: expected a Plateau controller, got {controller!r}")

    def init_fn(params: optax.Params) -> PlateauTransformState:
        del params
        return PlateauTransformState(controller.init())

    def update_fn(
        updates: optax.Updates,
        state: PlateauTransformState,
        params: optax.Params | None = None,
        *,
        metric: jax.typing.ArrayLike | None = None,
        **extra_args: Any,
    ) -> tuple[optax.Updates, PlateauTransformState]:
        del params, extra_args
        plateau_state = state.plateau
        if metric is not None:
            plateau_state = controller.update(plateau_state, metric)
        rate = controller.value(plateau_state)
        updates = jax.tree_util.tree_map(lambda u: (rate * u).astype(u.dtype), updates)
        return updates, PlateauTransformState(plateau_state)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)
