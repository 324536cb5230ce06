"""A sweep's trained weights on disk: orbax arrays beside a JSON description.

``weights/`` holds the leaves of ``(params, state)``, every one ``[seed, kept
config, ...]``; ``weights.json`` the model (a built-in's name), its input
shape and outputs, and the kept configurations. Reading them back needs the
model's structure, rebuilt from the built-in's name or from the model function
the caller gives.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jax
import numpy as np

__all__ = ["Weights", "load_weights", "save_weights"]


@dataclasses.dataclass(frozen=True, eq=False)
class Weights:
    """The final weights and model state of some runs of a sweep, on the host.

    Attributes:
      network: the model's graphs (`jaxsched.train.models.Network`).
      params, state: the ``nnx.Param`` and the other state, every leaf
        ``[seed, kept config, ...]``.
      configs: the configuration index of each kept entry.
      model: the built-in model's name, or None for a user's function.
      input_shape, n_outputs: what the model was built for.
    """

    network: Any
    params: Any
    state: Any
    configs: list[int]
    model: str | None
    input_shape: tuple[int, ...]
    n_outputs: int


def save_weights(directory: Path, weights: Weights) -> None:
    """Write ``weights`` into ``directory`` (``weights/`` and ``weights.json``)."""
    leaves = [np.asarray(x) for x in jax.tree_util.tree_leaves((weights.params, weights.state))]
    path = (directory / "weights").absolute()
    with _checkpointer() as checkpointer:
        checkpointer.save(path, leaves, force=True)
    meta = {
        "model": weights.model,
        "input_shape": list(weights.input_shape),
        "n_outputs": weights.n_outputs,
        "configs": weights.configs,
    }
    (directory / "weights.json").write_text(json.dumps(meta))


def _checkpointer():
    """An orbax checkpointer for this process alone: in a run of several processes
    (`jax.distributed`) a result is saved and read by whichever process holds it."""
    import orbax.checkpoint as ocp

    me = jax.process_index()
    alone = ocp.options.MultiprocessingOptions(primary_host=me, active_processes={me})
    return ocp.StandardCheckpointer(multiprocessing_options=alone)


def load_weights(directory: Path, model: Any = None) -> Weights:
    """The `Weights` `save_weights` wrote into ``directory``; ``model`` is the model
    function, needed unless the weights are a built-in model's."""
    from jaxsched.train.models import abstract_states

    meta = json.loads((directory / "weights.json").read_text())
    if model is None:
        if meta["model"] is None:
            raise ValueError(
                f"{directory}: the weights are of a model function: pass it, "
                f"Result.load({str(directory)!r}, model=...)"
            )
        model = meta["model"]
    network, like = abstract_states(model, tuple(meta["input_shape"]), meta["n_outputs"])
    with _checkpointer() as checkpointer:
        leaves = checkpointer.restore((directory / "weights").absolute())
    shapes = [x.shape for x in jax.tree_util.tree_leaves(like)]
    if len(leaves) != len(shapes) or any(
        np.shape(a)[2:] != s for a, s in zip(leaves, shapes, strict=False)
    ):
        raise ValueError(
            f"{directory}: the saved weights do not fit the model {model!r} "
            f"(built for inputs {meta['input_shape']}, {meta['n_outputs']} outputs)"
        )
    params, state = jax.tree_util.tree_unflatten(
        jax.tree_util.tree_structure(like), [np.asarray(a) for a in leaves]
    )
    return Weights(
        network=network,
        params=params,
        state=state,
        configs=list(meta["configs"]),
        model=meta["model"],
        input_shape=tuple(meta["input_shape"]),
        n_outputs=meta["n_outputs"],
    )
