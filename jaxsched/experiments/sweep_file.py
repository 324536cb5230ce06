"""Sweeps described in a TOML file: what ``jaxsched sweep CONFIG.toml`` runs.

A sweep file has four tables; every key is checked, and an unknown or
ill-typed one is a `ValueError` naming the file, the table and the key::

    [data]
    name = "digits"          # "mnist1d", "digits", or path = "mine.npz" (x, y, x_test, y_test)
    val_fraction = 0.1       # optional

    [train]
    model = "mlp"            # "mlp" or "cnn"
    optimizer = "sgd"        # optional: "sgd" (momentum 0.9, fit's default), "adam", "adamw"
    loss = "mse"             # optional: "cross_entropy" or "mse"; default by the targets
                             # (integer y: classes, cross-entropy; float y: regression, mse)
    steps = 500
    seeds = 3                # a count or a list of seeds; optional, default 1
    eval_every = 100         # optional, default steps / 10
    batch_size = 100         # optional

    [schedule]               # or several [[schedule]] tables: their grids are stacked
    family = "cosine"        # a jaxsched factory with numeric parameters
    init_value = [0.01, 0.03, 0.1]   # a list is a grid axis (a list of lists for boundaries)
    decay_steps = 500
    # or: spec = ["warmup(cosine(0.1, decay_steps=450), warmup_steps=50)", ...]

    [output]
    dir = "results/sweep-digits"     # optional, default results/<file name>

A composed schedule is swept by writing ``$name`` placeholders in one spec and
their values in a ``[schedule.grid]`` table: the cartesian product (the last
key varies fastest) is the batch, here 3 x 2 = 6 configurations::

    [[schedule]]
    spec = "warmup(cosine(init_value=$peak, decay_steps=900), warmup_steps=$w)"
    [schedule.grid]          # belongs to the [[schedule]] above it
    peak = [0.03, 0.1, 0.3]
    w = [50, 100]            # a list of lists where one value is a list (boundaries)

Each placeholder is replaced by the value's Python literal and the spec is read
by `jaxsched.parse` (never evaluated). A placeholder without values, a grid key
the spec does not use, and a value that is not a finite number, a boolean or a
list of numbers are errors naming the table and the key.

Relative paths (``[data] path``, ``[output] dir``) are relative to the sweep
file's folder, not the current directory.
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
import math
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import jaxsched
from jaxsched._base import Schedule, core_factory_names, event_ndim, factory_named
from jaxsched._batch import _depth
from jaxsched._check import did_you_mean
from jaxsched._output import writable_folder
from jaxsched.experiments.tasks import OPTIMIZERS, optimizer
from jaxsched.train import Result
from jaxsched.train._io import pyplot
from jaxsched.train.data import BUILTIN
from jaxsched.train.models import BUILTIN as MODELS
from jaxsched.train.objective import LOSSES
from jaxsched.train.plan import make_plan
from jaxsched.train.trainer import run

__all__ = ["SweepSpec", "load_sweep", "run_sweep", "sweep_table"]

_KEYS = {
    "data": {"name", "path", "val_fraction"},
    "train": {"model", "optimizer", "loss", "steps", "seeds", "eval_every", "batch_size"},
    "schedule": None,  # family + the factory's parameters, or spec
    "output": {"dir"},
}
_COMPOSITES = {"warmup", "join", "switch"}
_PLACEHOLDER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    """A validated sweep file.

    Attributes:
      path: the file.
      data: a built-in dataset name or an ``.npz`` path (joined to the file's folder).
      val_fraction: the part of the training set held out for validation.
      model, optimizer: names (`jaxsched.train.models`, `jaxsched.experiments.OPTIMIZERS`).
      loss: ``"cross_entropy"``, ``"mse"``, or None (by the targets, as in `fit`).
      steps, seeds, eval_every, batch_size: as in `jaxsched.train.fit`.
      schedules: the batch of schedules (the grids of every ``[schedule]`` table, stacked).
      output: the folder the results go to (joined to the file's folder).
    """

    path: Path
    data: str
    val_fraction: float
    model: str
    optimizer: str
    loss: str | None
    steps: int
    seeds: int | list[int]
    eval_every: int
    batch_size: int
    schedules: Schedule
    output: Path


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file (see the module docstring for its format).

    Example:
      >>> import tempfile, pathlib
      >>> from jaxsched.experiments.sweep_file import load_sweep
      >>> text = '''
      ... [data]
      ... name = "digits"
      ... [train]
      ... model = "mlp"
      ... optimizer = "adam"
      ... steps = 200
      ... [schedule]
      ... family = "cosine"
      ... init_value = [0.001, 0.01]
      ... decay_steps = 200
      ... '''
      >>> with tempfile.TemporaryDirectory() as d:
      ...     file = pathlib.Path(d, "s.toml")
      ...     _ = file.write_text(text)
      ...     spec = load_sweep(file)
      >>> spec.schedules.batch_shape, spec.eval_every, spec.optimizer
      ((2,), 20, 'adam')
      >>> spec.output.relative_to(d)  # next to the file
      PosixPath('results/s')
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    try:
        with path.open("rb") as f:
            doc = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: not valid TOML ({e})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a UTF-8 text file") from None
    err = _Errors(path)
    for section in doc:
        if section not in _KEYS:
            err(f"unknown table [{section}]; use {', '.join(f'[{k}]' for k in _KEYS)}")
    for section in ("data", "train", "schedule"):
        if section not in doc:
            err(f"missing table [{section}]")
    for section, allowed in _KEYS.items():
        table = doc.get(section, {})
        if section == "schedule":
            continue
        if not isinstance(table, dict):
            err(f"[{section}] must be a table")
        for key in table:
            if key not in allowed:
                err(f"unknown key {key!r} in [{section}]; use {', '.join(sorted(allowed))}")

    data, train, output = doc["data"], doc["train"], doc.get("output", {})
    if ("name" in data) == ("path" in data):
        err("[data] needs exactly one of name (mnist1d, digits) or path (an .npz file)")
    if "name" in data:
        source = _string(err, data, "data", "name")
        if source not in BUILTIN:
            err(
                f"[data] name {source!r} is not a built-in dataset; use {', '.join(BUILTIN)} or path"
            )
    else:
        given = _string(err, data, "data", "path")
        if not given.endswith(".npz"):
            err(f"[data] path must name an .npz file, got {given!r}")
        source = str(path.parent / given)  # relative to the sweep file's folder
        if not Path(source).is_file():
            err(f"[data] path {given!r}: no such file {source!r}")
    val_fraction = _number(err, data, "data", "val_fraction", 0.1)
    if not 0.0 < val_fraction < 1.0:
        err(
            f"[data] val_fraction must be in (0, 1): the sweep ranks on validation, got {val_fraction}"
        )

    for key in ("model", "steps"):
        if key not in train:
            err(f"missing key {key!r} in [train]")
    model = _string(err, train, "train", "model")
    if model not in MODELS:
        err(f"[train] model {model!r} is unknown; use {', '.join(MODELS)}")
    opt = _string(err, train, "train", "optimizer", "sgd")  # fit's default, by name
    if opt not in OPTIMIZERS:
        err(f"[train] optimizer {opt!r} is unknown; use {', '.join(OPTIMIZERS)}")
    loss = train.get("loss")  # None: by the targets (cross-entropy or mean squared error)
    if loss is not None and loss not in LOSSES:
        err(f"[train] loss {loss!r} is unknown; use {', '.join(LOSSES)}")
    steps = _count(err, train, "train", "steps")
    eval_every = _count(err, train, "train", "eval_every", max(1, steps // 10))
    batch_size = _count(err, train, "train", "batch_size", 100)
    seeds: int | list[int] = train.get("seeds", 1)
    if isinstance(seeds, list):
        if not seeds or not all(_is_int(s) for s in seeds) or len(set(seeds)) != len(seeds):
            err(f"[train] seeds must be a count or a list of distinct integers, got {seeds!r}")
    else:
        seeds = _count(err, train, "train", "seeds", 1)

    tables = doc["schedule"]
    if isinstance(tables, dict):
        tables = [tables]
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        err("[schedule] must be a table or an array of [[schedule]] tables")
    if not tables:
        err("[[schedule]] has no tables")
    schedules: list[Schedule] = []
    for k, table in enumerate(tables):
        where = "[schedule]" if len(tables) == 1 else f"[[schedule]] #{k + 1}"
        schedules.extend(_schedules(err, table, where))

    out_dir = output.get("dir", str(Path("results") / path.stem))
    if not isinstance(out_dir, str) or not out_dir:
        err(f"[output] dir must be a non-empty string, got {out_dir!r}")
    return SweepSpec(
        path=path,
        data=source,
        val_fraction=float(val_fraction),
        model=model,
        optimizer=opt,
        loss=loss,
        steps=steps,
        seeds=seeds,
        eval_every=eval_every,
        batch_size=batch_size,
        schedules=jaxsched.stack(schedules),
        output=path.parent / out_dir,  # relative to the sweep file's folder
    )


def run_sweep(
    spec: SweepSpec,
    *,
    progress: bool = True,
    plots: bool = True,
    log: Callable[[str], None] | None = print,
    checkpoint_dir: Path | None = None,
) -> tuple[Result, list[Path]]:
    """Train the sweep with `jaxsched.train.fit` and write ``result.json``, ``result.csv``,
    ``table.md`` and (with ``plots``) ``lr.png`` and ``val_acc.png`` (``val_loss.png`` for
    regression) into ``spec.output``.

    The sweep is planned first (`jaxsched.train.plan.make_plan`): what `fit` refuses
    (a batch size larger than the training split, a loss the targets cannot take, ...)
    is refused with `fit`'s message before anything is written or trained.

    With ``checkpoint_dir``, `fit` saves the sweep there and, run again with the same
    file, resumes from its newest checkpoint. Configurations whose schedule ends after
    the run's steps are warned about by `fit` (`jaxsched.train.run_length.warn_unfinished`)."""
    say = log or (lambda _: None)
    if plots:
        from jaxsched.experiments.report import check_plotting

        check_plotting()
    plan = make_plan(
        spec.schedules,
        data=spec.data if spec.data in BUILTIN else Path(spec.data),
        model=spec.model,
        optimizer=optimizer(spec.optimizer),
        loss=spec.loss,
        steps=spec.steps,
        batch_size=spec.batch_size,
        seeds=spec.seeds,
        eval_every=spec.eval_every,
        val_fraction=spec.val_fraction,
        progress=progress,
        checkpoint_dir=checkpoint_dir,
    )
    writable_folder(spec.output, f"{spec.path}: [output] dir")  # now, not after the training
    n, n_seeds = plan.n_configs, len(plan.seeds)
    say(f"{spec.path}: {n} schedules x {n_seeds} seeds x {spec.steps} steps on {spec.data}")
    result = run(plan)
    written = [spec.output / "result.json", spec.output / "result.csv", spec.output / "table.md"]
    result.to_json(written[0])
    result.to_csv(written[1])
    written[2].write_text(sweep_table(result, spec.schedules) + "\n")
    if plots:
        top = _ranking(result)[:10]
        metric = result.default_metric
        for path, fig in (
            (spec.output / "lr.png", result.plot_lr(configs=top)),
            (spec.output / f"{metric}.png", result.plot_curves(metric, configs=top)),
        ):
            fig.savefig(path, dpi=100)
            written.append(path)
            pyplot().close(fig)
    return result, written


def sweep_table(result: Result, schedules: Schedule, top: int | None = None) -> str:
    """A Markdown table of the configurations, best final validation metric first
    (accuracy for classification, loss for regression: `Result.default_metric`).

    Diverged configurations come last. Accuracies are in %, mean ± std over seeds.
    """
    order = _ranking(result)
    if top is not None:
        order = order[:top]
    metric = result.default_metric
    name = metric.removeprefix("val_")
    val = result.metrics[metric][:, :, -1]
    test = result.metrics[f"test_{name}"][:, :, -1]
    loss = result.metrics["train_loss"][:, :, -1]
    show = _pct if name == "acc" else _plain
    lines = [
        f"| rank | config | schedule | val {name} | test {name} | final train loss | diverged |",
        "|---|---|---|---|---|---|---|",
    ]
    for rank, i in enumerate(order, 1):
        div = int((result.diverged[:, i] >= 0).sum())
        lines.append(
            f"| {rank} | {i} | `{schedules[i]!r}` | {show(val[:, i])} | {show(test[:, i])} "
            f"| {_mean(loss[:, i]):.4g} | {f'{div}/{len(result.seeds)} seeds' if div else 'no'} |"
        )
    return "\n".join(lines)


def _ranking(result: Result) -> list[int]:
    """Configurations by `Result.score` on the default validation metric; diverged ones last."""
    return [int(i) for i in np.argsort(-result.score(), kind="stable")]


def _pct(values: np.ndarray) -> str:
    if not np.isfinite(values).all():
        return "—"
    return f"{100 * values.mean():.1f} ± {100 * values.std():.1f}"


def _plain(values: np.ndarray) -> str:
    if not np.isfinite(values).all():
        return "—"
    return f"{values.mean():.4g} ± {values.std():.2g}"


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if np.isfinite(values).all() else math.nan


# ----------------------------------------------------------------------------- validation
class _Errors:
    def __init__(self, path: Path):
        self.path = path

    def __call__(self, message: str):
        raise ValueError(f"{self.path}: {message}")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _string(err: _Errors, table: dict, section: str, key: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value:
        err(f"[{section}] {key} must be a non-empty string, got {value!r}")
    return value


def _number(err: _Errors, table: dict, section: str, key: str, default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        err(f"[{section}] {key} must be a number, got {value!r}")
    return float(value)


def _count(err: _Errors, table: dict, section: str, key: str, default: int | None = None) -> int:
    value = table.get(key, default)
    if not _is_int(value) or value < 1:
        err(f"[{section}] {key} must be an integer >= 1, got {value!r}")
    return value


def _schedules(err: _Errors, table: dict, where: str) -> list[Schedule]:
    if "spec" in table:
        return _spec_schedules(err, table, where)
    if "grid" in table:
        err(f'{where}: grid goes with spec = "...$name..."; a family\'s lists are its grid already')
    if "family" not in table:
        err(f'{where}: needs family = "<factory>" (with its parameters) or spec = [...]')
    family = table["family"]
    if not isinstance(family, str):
        err(f"{where}: family must be a string, got {family!r}")
    try:
        factory = factory_named(family)
    except ValueError:
        factory = None
    if factory is None or family in _COMPOSITES or "." in family:
        numeric = [n for n in core_factory_names() if n not in _COMPOSITES]
        err(
            f"{where}: family {family!r}{did_you_mean(family, numeric)} is not a schedule "
            "factory with numeric parameters "
            f'(e.g. cosine, poly, wsd); write composed schedules as spec = ["..."]'
        )
    params = {k: v for k, v in table.items() if k != "family"}
    signature = inspect.signature(factory)
    for key, value in params.items():
        if key not in signature.parameters:
            err(
                f"{where}: {family} has no parameter {key!r}; "
                f"its parameters: {', '.join(signature.parameters)}"
            )
        if not _plain_value(value):
            err(f"{where}: {key} must be a number, boolean, string or list of them, got {value!r}")
        if _depth(value) > event_ndim(factory, key) + 1:
            err(
                f"{where}: {key} = {value!r} nests lists too deep: a list is one grid axis "
                f"(a list of lists only where one value is a list, as boundaries)"
            )
    missing = [
        name
        for name, p in signature.parameters.items()
        if p.default is inspect.Parameter.empty and name not in params
    ]
    if missing:
        err(f"{where}: {family} needs {', '.join(missing)}")
    try:
        if any(_depth(v) > event_ndim(factory, k) for k, v in params.items()):
            return list(jaxsched.grid(factory, **params))
        return [factory(**params)]
    except (ValueError, TypeError) as e:
        err(f"{where}: {e}")
    raise AssertionError  # unreachable: err raises


def _spec_schedules(err: _Errors, table: dict, where: str) -> list[Schedule]:
    """The schedules of ``spec = "..."`` or ``spec = [...]``, or of one spec over a grid."""
    extra = sorted(set(table) - {"spec", "grid"})
    if extra:
        err(f"{where}: spec cannot be combined with {', '.join(extra)}")
    if "grid" in table:
        return _spec_grid(err, table["spec"], table["grid"], where)
    specs = table["spec"] if isinstance(table["spec"], list) else [table["spec"]]
    if not specs or not all(isinstance(s, str) for s in specs):
        err(f"{where}: spec must be a spec string or a list of them")
    out = []
    for s in specs:
        for name in _PLACEHOLDER.findall(s):
            err(f"{where}: spec {s!r} has placeholder ${name}; give its values in [schedule.grid]")
        schedule = _parse(err, s, where)
        out.extend(schedule if schedule.batch_shape else [schedule])  # a batch: its members
    return out


def _spec_grid(err: _Errors, spec: Any, grid: Any, where: str) -> list[Schedule]:
    """One schedule per point of the grid's cartesian product (the last key varies fastest),
    each the spec with its ``$name`` placeholders replaced by the point's literal values."""
    table = "[schedule.grid]" if where == "[schedule]" else f"[schedule.grid] of {where}"
    if not isinstance(spec, str):
        err(f"{where}: a spec with a grid must be one string with $name placeholders")
    if not isinstance(grid, dict) or not grid:
        err(f"{table} must be a table of name = [values, ...], got {grid!r}")
    used = set(_PLACEHOLDER.findall(spec))
    for name in sorted(used - set(grid)):
        err(f"{where}: spec placeholder ${name} has no values; add {name} = [...] to {table}")
    for key, values in grid.items():
        if key not in used:
            err(f"{table}: key {key!r} is not used by the spec; write ${key} where its values go")
        if not isinstance(values, list) or not values:
            err(
                f"{table}: {key} must be a non-empty list of values (one grid axis), got {values!r}"
            )
        for v in values:
            if not _literal(v):
                err(
                    f"{table}: {key} = {values!r}: {v!r} is not a finite number, a boolean "
                    "or a list of numbers"
                )
    out = []
    for point in itertools.product(*grid.values()):
        schedule = _parse(err, _substitute(spec, dict(zip(grid, point, strict=True))), where)
        if schedule.batch_shape:
            err(f"{where}: spec {spec!r} is a batch; with a grid, give one schedule per point")
        out.append(schedule)
    return out


def _substitute(spec: str, values: dict[str, Any]) -> str:
    """``spec`` with each ``$name`` replaced by the Python literal of ``values[name]``.

    >>> _substitute("cosine(init_value=$peak, decay_steps=$k)", {"peak": 0.1, "k": 900})
    'cosine(init_value=0.1, decay_steps=900)'
    """
    return _PLACEHOLDER.sub(lambda m: repr(values[m[1]]), spec)


def _parse(err: _Errors, spec: str, where: str) -> Schedule:
    """``jaxsched.parse(spec)``, a batch of at most one axis."""
    try:
        schedule = jaxsched.parse(spec)
    except ValueError as e:
        err(f"{where}: spec {spec!r}: {e}")
    if len(schedule.batch_shape) > 1:
        err(f"{where}: spec {spec!r} is a batch of shape {schedule.batch_shape}; give one axis")
    return schedule


def _literal(value: Any) -> bool:
    """A grid value a placeholder can stand for: a finite number, a boolean, a list of numbers."""
    if isinstance(value, list):
        return all(_is_number(v) for v in value)
    return isinstance(value, bool) or _is_number(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _plain_value(value: Any) -> bool:
    if isinstance(value, list):
        return all(_plain_value(v) for v in value)
    return isinstance(value, int | float | str | bool)
