"""Checkpoints of a running sweep: save every few chunks, resume from the newest.

A checkpoint holds the whole training carry (weights, optimizer state,
divergence steps) of every seed x configuration, the metrics recorded so far
and the step reached, written with orbax: a save goes to a temporary folder
that is renamed when complete, so a run killed at any moment leaves only
complete checkpoints behind, and the last two are kept.

Each checkpoint also records a fingerprint of the run's plan
(`jaxsched.train.plan.Plan`: schedules, data, model, optimizer, steps, seeds,
..., and the jaxpr of one training step and the initial weights, so that a
model or optimizer function edited under the same name counts as another
argument), which the `Checkpointer` takes itself. A run finds the newest
checkpoint in ``checkpoint_dir`` and resumes from it only when the
fingerprints agree; otherwise it stops with an error rather than mix two runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from typing import TYPE_CHECKING, Any

import jax
import numpy as np

from jaxsched.train import order
from jaxsched.train.loop import step_program
from jaxsched.train.plan import first

if TYPE_CHECKING:
    from jaxsched.train.devices import PerBlock
    from jaxsched.train.models import Network
    from jaxsched.train.plan import Plan

__all__ = ["Checkpointer", "fingerprint", "plan_fingerprint"]

_KEEP = 2


def fingerprint(**parts: Any) -> str:
    """A stable hash of JSON-able run arguments and arrays.

    Arrays contribute their dtype, shape and bytes; everything else its JSON
    form (sorted keys), so the same arguments give the same fingerprint in a
    new process.

    >>> fingerprint(steps=10, x=np.zeros(3)) == fingerprint(x=np.zeros(3), steps=10)
    True
    >>> fingerprint(steps=10) == fingerprint(steps=11)
    False
    """
    digest = hashlib.sha256()
    for name in sorted(parts):
        digest.update(name.encode())
        for leaf in jax.tree_util.tree_leaves(parts[name]):
            if isinstance(leaf, np.ndarray | jax.Array | np.generic):
                array = np.asarray(leaf)
                digest.update(f"{array.dtype}{array.shape}".encode())
                digest.update(np.ascontiguousarray(array).tobytes())
            else:
                digest.update(json.dumps(leaf, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def plan_fingerprint(plan: Plan, network: Network, params, state, carry: PerBlock) -> str:
    """The `fingerprint` of a run: its plan's arguments, what one training step computes
    (whatever the names of the model, loss and optimizer) and the initial ``carry``
    (the blocks' first training carry, from the seeds' ``params`` and model ``state``)."""
    dataset, objective, blocks = plan.dataset, plan.objective, plan.blocks
    eval_params = plan.eval_params
    return fingerprint(
        configs=list(plan.configs),
        data=[dataset.x_train, dataset.y_train, dataset.x_val, dataset.y_val],
        test=[dataset.x_test, dataset.y_test],
        model=_name(plan.model),
        optimizer=_name(plan.optimizer),
        **({} if eval_params is None else {"eval_params": _name(eval_params)}),
        objective=[
            objective.loss_name,
            [(m, v.goal, _name(v.fn)) for m, v in objective.metrics.items()],
            plan.divergence_factor,
        ],
        program=step_program(
            network,
            objective,
            plan.optimizer,
            first(params),
            first(state),
            first(plan.schedules),
            dataset.x_train[: plan.batch_size],
            dataset.y_train[: plan.batch_size],
        ),
        initial_state=jax.tree_util.tree_leaves(blocks.gather(carry)),
        run=[plan.steps, plan.batch_size, list(plan.seeds), plan.eval_every, blocks.size],
        # The scheme's name, and the first batch of every seed: a NumPy whose
        # generator draws other permutations changes it too.
        order=[
            order.SCHEME,
            *(
                order.batch_indices(s, 0, 1, len(dataset.x_train), plan.batch_size)
                for s in plan.seeds
            ),
        ],
    )


def _name(factory: Any) -> str:
    """How a model or optimizer is identified in a fingerprint."""
    if isinstance(factory, str):
        return factory
    # A name stable across processes (a functools.partial's repr holds an address).
    name = getattr(factory, "__qualname__", type(factory).__qualname__)
    return f"{getattr(factory, '__module__', '')}.{name}"


class Checkpointer:
    """Saves and restores ``{"carry": [...], "history": {...}}`` trees of a planned run
    in its ``checkpoint_dir`` (created if missing), after every ``checkpoint_every``
    chunks (and always after the last).

    Args:
      plan: the run's `Plan`.
      network, params, state, carry: the run's model, the seeds' initial weights and
        model state, and the blocks' first carry, which its fingerprint holds
        (`plan_fingerprint`, ``run_id``).
    """

    def __init__(self, plan: Plan, network: Network, params, state, carry: PerBlock):
        import orbax.checkpoint as ocp

        self._ocp = ocp
        self.directory = plan.checkpoint_dir.absolute()
        self.run_id = plan_fingerprint(plan, network, params, state, carry)
        self.every = plan.checkpoint_every
        self._chunks = 0
        self.directory.mkdir(parents=True, exist_ok=True)
        self._manager = ocp.CheckpointManager(
            self.directory,
            options=ocp.CheckpointManagerOptions(
                max_to_keep=_KEEP, enable_async_checkpointing=False, create=True
            ),
        )

    def restore(self, like: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        """The newest checkpoint as ``(step, tree)``, or None if there is none.

        ``like`` is a tree of arrays with the shapes, dtypes and shardings to
        restore into. Raises `ValueError` if the checkpoint is from a run with
        other arguments.
        """
        step = self._manager.latest_step()
        if step is None:
            return None
        args = self._ocp.args
        with self._readable(step):
            meta = self._manager.restore(step, args=args.Composite(meta=args.JsonRestore()))
        if meta["meta"].get("run_id") != self.run_id:
            raise ValueError(
                f"{self.directory} holds a checkpoint (step {step}) of a run with other "
                "arguments (schedules, data, model, optimizer, steps, seeds, batch size or "
                "eval_every differ); use another checkpoint_dir or delete that one"
            )
        abstract = jax.tree_util.tree_map(_abstract, like)
        with self._readable(step):
            restored = self._manager.restore(
                step, args=args.Composite(state=args.StandardRestore(abstract))
            )
        return step, restored["state"]

    @contextlib.contextmanager
    def _readable(self, step: int):
        """Turn orbax's errors on a damaged or foreign step folder into one clear `ValueError`."""
        try:
            yield
        except Exception as e:  # orbax and tensorstore raise many kinds
            detail = " ".join(str(e).split())[:200]
            raise ValueError(
                f"{self.directory / str(step)} is not a readable checkpoint of a sweep "
                f"({type(e).__name__}: {detail}); delete that folder to resume from the one "
                "before it, or use another checkpoint_dir"
            ) from e

    def save(self, step: int, tree: dict[str, Any], last: bool) -> None:
        """Save ``tree`` at ``step`` if a save is due (every ``every`` chunks, and at the end)."""
        self._chunks += 1
        if not last and self._chunks % self.every:
            return
        args = self._ocp.args
        self._manager.save(
            step,
            args=args.Composite(
                state=args.StandardSave(tree),
                meta=args.JsonSave({"run_id": self.run_id, "step": step}),
            ),
            force=True,
        )
        self._manager.wait_until_finished()

    def close(self) -> None:
        self._manager.close()


def _abstract(x: Any) -> Any:
    sharding = getattr(x, "sharding", None)
    return jax.ShapeDtypeStruct(np.shape(x), x.dtype, sharding=sharding)
