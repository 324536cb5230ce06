"""Callbacks for `fit`: objects called as ``callback(step, metrics)`` after each evaluation.

``metrics`` is ``{name: array[seed, config]}`` at that step, NaN for a run that
has diverged. `fit` calls a callback's ``start(configs=..., seeds=..., goals=...)``
first, if it has one, and its ``end()`` when training stops (after the last
evaluation, or on an error or Ctrl-C).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from jaxsched._spec import label

__all__ = ["TensorBoard"]


class TensorBoard:
    """Write every run's curves and hyperparameters for TensorBoard (with tensorboardX).

    Each (configuration, seed) run gets a folder of its own under ``logdir``,
    ``config-003_seed-0``, holding one scalar per metric at each evaluation
    step (``train_loss``, ``val_acc``, ...; a diverged run's NaN are left out),
    its hyperparameters for the HParams dashboard (the configuration's
    `to_dict` flattened to ``schedule.init_value``-style names, plus ``config``
    and ``seed``) and its spec string as text (``config``). Events are flushed
    after every evaluation and the files closed when `fit` ends. Use a new
    ``logdir`` for each `fit`. Opens one writer (a file and a thread) per run.

    Example:
      >>> import tempfile, jaxsched
      >>> from jaxsched.train import fit
      >>> from jaxsched.train.callbacks import TensorBoard
      >>> logdir = tempfile.mkdtemp()
      >>> batch = jaxsched.grid(jaxsched.cosine, init_value=[0.03, 0.1], decay_steps=20)
      >>> result = fit(batch, data="digits", steps=20, eval_every=10, progress=False,
      ...              callbacks=[TensorBoard(logdir)])
      >>> sorted(p.name for p in Path(logdir).iterdir())
      ['config-000_seed-0', 'config-001_seed-0']

      Then ``tensorboard --logdir`` that folder.
    """

    def __init__(self, logdir: str | Path) -> None:
        try:
            import tensorboardX  # noqa: F401
        except ImportError:
            raise ValueError(
                "TensorBoard needs tensorboardX: pip install 'jaxsched[train]'"
            ) from None
        self.logdir = Path(logdir)
        self._writers: dict[tuple[int, int], Any] = {}

    def __repr__(self) -> str:
        return f"TensorBoard({str(self.logdir)!r})"

    def start(self, *, configs: list[dict], seeds: list[int], goals: dict[str, str]) -> None:
        """Open a writer per run and write its hyperparameters (called by `fit`)."""
        from tensorboardX import SummaryWriter
        from tensorboardX.summary import hparams

        self.end()
        digits = max(3, len(str(len(configs) - 1)))
        for c, config in enumerate(configs):
            for s, seed in enumerate(seeds):
                run = self.logdir / f"config-{c:0{digits}d}_seed-{seed}"
                writer = SummaryWriter(str(run), flush_secs=3600)
                self._writers[s, c] = writer
                values = {"config": c, "seed": int(seed), **_flat(config)}
                for summary in hparams(values, {name: None for name in goals}):
                    writer.file_writer.add_summary(summary)
                writer.add_text("config", label(config, width=None))
        self._flush()

    def __call__(self, step: int, metrics: dict[str, np.ndarray]) -> None:
        """Write each run's finite metrics at ``step`` and flush."""
        if not self._writers:
            raise ValueError(
                "TensorBoard: pass it to fit(callbacks=[...]), which calls its start() first"
            )
        host = {name: np.asarray(values, dtype=np.float64) for name, values in metrics.items()}
        for (s, c), writer in self._writers.items():
            for name, values in host.items():
                value = values[s, c]
                if math.isfinite(value):
                    writer.add_scalar(name, float(value), int(step))
        self._flush()

    def end(self) -> None:
        """Flush and close every writer (called by `fit` when training stops)."""
        writers, self._writers = self._writers, {}
        for writer in writers.values():
            writer.close()

    def _flush(self) -> None:
        for writer in self._writers.values():
            writer.flush()


def _flat(config: Any, prefix: str = "") -> dict[str, Any]:
    """A `to_dict` row as ``{dotted name: bool | int | float | str}``, for the HParams
    dashboard: nested schedules by their field's name, lists of schedules by index, other
    lists as their text, None left out.

    >>> _flat({"kind": "warmup", "schedule": {"kind": "constant", "value": 0.1},
    ...        "warmup_steps": 10.0, "boundaries": [1, 2], "x": None})
    {'kind': 'warmup', 'schedule.kind': 'constant', 'schedule.value': 0.1, \
'warmup_steps': 10.0, 'boundaries': '[1, 2]'}
    """
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flat(value, f"{name}."))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for i, v in enumerate(value):
                out.update(_flat(v, f"{name}.{i}."))
        elif isinstance(value, list):
            out[name] = str(value)
        elif value is not None:
            out[name] = value
    return out
