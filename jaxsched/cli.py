"""The ``jaxsched`` command line.

- ``jaxsched plot SPEC... [-o lr.png] [--steps N]`` draws schedules given as spec
  strings: a preview in the terminal, and a PNG with ``-o`` (needs matplotlib).
- ``jaxsched compare [--data D --model M --optimizer O --families F ...]`` runs
  the schedule comparison (`jaxsched.experiments`) and writes ``results/<name>/``.
- ``jaxsched sweep CONFIG.toml`` trains the sweep a TOML file describes
  (`jaxsched.experiments.sweep_file`).
- ``--checkpoint-dir DIR`` (compare, sweep) saves checkpoints there; the same
  command run again resumes from them.
- ``jaxsched lr-find [--data D --model M --optimizer O --method ramp|sweep]``
  runs the learning-rate range test (`jaxsched.train.lr_find`) and prints the
  suggested rate and the loss curve.

Errors are one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import math
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import jaxsched
from jaxsched._output import image_formats, output_file, writable_folder
from jaxsched._preview import PLOTTED, curve, plotted_steps, text_chart


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():  # restores the warnings module on the way out
            warnings.showwarning = functools.partial(_show_warning, args.command)
            _use_cpu_devices(getattr(args, "cpu_devices", None))
            return args.run(args)
    except (ValueError, OSError) as e:
        print(f"jaxsched {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: one line, the shell's status for SIGINT
        print(f"jaxsched {args.command}: interrupted", file=sys.stderr)
        return 130


def _show_warning(command: str, message, category, filename, lineno, file=None, line=None):
    """A warning as one line in the CLI's words (not ``.../bin/jaxsched:8: UserWarning``)."""
    print(f"jaxsched {command}: warning: {message}", file=sys.stderr if file is None else file)


class _Parser(argparse.ArgumentParser):
    """Usage mistakes are one line too (``jaxsched compare: error: ...``), exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def format_help(self) -> str:
        # A help text an action computes (its ``help_text``) is computed when the help is
        # printed: compare's families need the experiments extras, which `plot` does not.
        for action in self._actions:
            text = getattr(action, "help_text", None)
            if text is not None:
                action.help = text()
        return super().format_help()


def _add_cpu_devices(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--cpu-devices",
        type=int,
        metavar="K",
        help="on a CPU, spread the blocks of runs over K JAX CPU devices (by default one "
        "device, with a thread per core; the results are the same bit for bit either way)",
    )


def _add_checkpoint_dir(p: argparse.ArgumentParser, holds: str) -> None:
    p.add_argument(
        "--checkpoint-dir",
        type=Path,
        metavar="DIR",
        help=f"save checkpoints here ({holds}); run the same command again after a crash or "
        "a kill and it resumes from the newest one",
    )


def _checkpoint_dir(args: argparse.Namespace) -> Path | None:
    """``--checkpoint-dir``, made and written to now, not after the training."""
    if args.checkpoint_dir is not None:
        writable_folder(args.checkpoint_dir, "--checkpoint-dir")
    return args.checkpoint_dir


#: The most CPU devices ``--cpu-devices`` gives: more than the cores only slows a sweep.
_MAX_CPU_DEVICES = 256


def _use_cpu_devices(k: int | None) -> None:
    """Give JAX ``k`` CPU devices; possible only before JAX has run anything."""
    if k is None:
        return
    if k < 1:
        raise ValueError(f"--cpu-devices must be >= 1, got {k}")
    if k > _MAX_CPU_DEVICES:  # each is a thread pool and a copy of the data: 10**5 hung
        raise ValueError(f"--cpu-devices must be <= {_MAX_CPU_DEVICES} (one per core), got {k}")
    import jax

    try:
        jax.config.update("jax_num_cpu_devices", k)
    except RuntimeError:
        raise ValueError(
            "--cpu-devices must be set before JAX runs anything: call jaxsched in a new process"
        ) from None
    if jax.default_backend() == "cpu":
        print(f"training on {jax.device_count()} CPU devices", flush=True)
    else:
        print(f"--cpu-devices has no effect: JAX trains on {jax.default_backend()}", flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="jaxsched", description="Learning-rate schedules for JAX and Optax.")
    parser.add_argument("--version", action="version", version=f"jaxsched {jaxsched.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    plot = commands.add_parser(
        "plot",
        help="draw schedules given as spec strings",
        description='Draw schedules, e.g. jaxsched plot "cosine(init_value=0.1, decay_steps=900)"',
        epilog=_schedule_names(),
    )
    plot.add_argument("specs", nargs="+", metavar="SPEC", help="a schedule spec string")
    plot.add_argument("-o", "--output", type=Path, help="write a PNG here (needs matplotlib)")
    plot.add_argument("--steps", type=int, default=1000, help="steps to draw (default 1000)")
    plot.set_defaults(run=_plot)
    _add_compare(commands)
    _add_sweep(commands)
    _add_lr_find(commands)
    return parser


def _schedule_names() -> str:
    """The schedules a spec string may call, from the registry `jaxsched.parse` reads."""
    from jaxsched._base import core_factory_names, factory_names

    compat = sorted({name.split(".")[0] for name in factory_names() if "." in name})
    return (
        f"Schedules: {', '.join(core_factory_names())}; and the constructors of "
        f"jaxsched.compat: {', '.join(f'{module}.*' for module in compat)} (e.g. torch.StepLR)."
    )


def _plot(args: argparse.Namespace) -> int:
    if args.steps < 1:
        raise ValueError(f"--steps must be >= 1, got {args.steps}")
    labels, schedules = [], []
    for spec in args.specs:  # a batch (cosine([0.1, 0.2], 100)) draws one curve per member
        schedule = jaxsched.parse(spec)
        if len(schedule.batch_shape) > 1:
            raise ValueError(f"{spec!r} is a batch of shape {schedule.batch_shape}; give one axis")
        members = list(schedule) if schedule.batch_shape else [schedule]
        schedules += members
        labels += [repr(m) for m in members] if schedule.batch_shape else [spec]
    if args.output is not None:
        output_file(args.output, "-o", image_formats())
    steps = plotted_steps(args.steps, _PLOTTED)
    curves = [np.asarray(curve(s, steps)) for s in schedules]
    for label, values in zip(labels, curves, strict=True):
        print(label)
        print(text_chart(values, axis=f"step 0 .. {args.steps - 1}"))
        print()
    if args.output is not None:
        _write_png(args.output, labels, steps, curves)
        print(f"wrote {args.output}")
    return 0


#: The most steps `jaxsched plot` evaluates a schedule at.
_PLOTTED = PLOTTED


def _write_png(path: Path, labels: list[str], steps: np.ndarray, curves: list[np.ndarray]) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ValueError("-o needs matplotlib: pip install 'jaxsched[experiments]'") from None
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    for label, values in zip(labels, curves, strict=True):
        ax.plot(steps, values, label=label if len(label) <= 70 else label[:67] + "...")
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ---------------------------------------------------------------------------- compare
def _add_compare(commands) -> None:
    p = commands.add_parser(
        "compare",
        help="which schedule trains best: sweep every family, select on validation",
        description=(
            "Search each schedule family's hyperparameters (base rate on a log grid x the "
            "family's own parameter) on the search seeds, select each family's configuration "
            "on validation accuracy, then train the selected ones, the tuned constant rate "
            "among them, on fresh seeds and report their test accuracy with intervals, the "
            "paired difference to the constant rate and a Holm-corrected test. Without "
            "--data/--model: MNIST-1D with the MLP and with the CNN (digits: --data digits)."
        ),
    )
    p.add_argument("--data", help="mnist1d, digits, or an .npz with x, y, x_test, y_test")
    p.add_argument("--model", help="mlp or cnn (default mlp when --data is given)")
    p.add_argument(
        "--optimizer",
        default="sgd,adam",
        help="comma-separated: sgd, adam, adamw (default sgd,adam)",
    )
    families = p.add_argument("--families", help=_families_help(None))
    families.help_text = _compared_families_help
    p.add_argument(
        "--seeds",
        help="confirmation seeds: a count (default 10: seeds 100, 101, ...) or a "
        "comma-separated list (one seed: a trailing comma, 7,), none of them a search seed",
    )
    p.add_argument(
        "--search-seeds",
        help="search seeds: a count (default 1: seed 0) or a comma-separated list "
        "(one seed of your choice: a trailing comma, --search-seeds 2,)",
    )
    p.add_argument("--steps", type=int, help="training steps (default: set by the budget)")
    p.add_argument(
        "--budget",
        default="default",
        help="small, default (under 10 minutes on a 2-core CPU) or full (6000 steps: about 1.5 "
        "hours there)",
    )
    p.add_argument("--full", action="store_true", help="the same as --budget full")
    p.add_argument("--rates", help="comma-separated base rates (default: a log grid per optimizer)")
    p.add_argument("--batch-size", type=int, default=100, help="examples per step (default 100)")
    p.add_argument(
        "--target", type=float, help="validation accuracy for steps-to-target (default: see below)"
    )
    p.add_argument(
        "--target-fraction",
        type=float,
        default=0.95,
        help="without --target, the target is this fraction of the best validation accuracy "
        "of each task x optimizer (default 0.95)",
    )
    p.add_argument(
        "--name", help="run name: results go to RESULTS_DIR/NAME (default compare-<time>)"
    )
    p.add_argument("--results-dir", type=Path, default=Path("results"), help="default results")
    p.add_argument("--no-plots", action="store_true", help="skip the PNGs (no matplotlib needed)")
    _add_checkpoint_dir(p, "a folder per task x optimizer")
    _add_cpu_devices(p)
    p.set_defaults(run=_compare)


def _families_help(families: Sequence[str] | None) -> str:
    listed = "" if families is None else f": {', '.join(families)}"
    return (
        f"comma-separated (default all){listed} (constant is trained as the reference in any case)"
    )


def _compared_families_help() -> str:
    """``--families``'s help: the families of `jaxsched.experiments.families`, each of
    which builds a schedule of the registry (without the experiments extras, none listed)."""
    try:
        from jaxsched.experiments.families import FAMILIES
    except ImportError:
        return _families_help(None)
    return _families_help(FAMILIES)


def _compare(args: argparse.Namespace) -> int:
    from jaxsched.experiments import report
    from jaxsched.experiments.compare import (
        DEFAULT_SEARCH_SEEDS,
        DEFAULT_SEEDS,
        check_settings,
        run_study,
    )
    from jaxsched.experiments.families import FAMILIES
    from jaxsched.experiments.tasks import BUDGETS, STANDARD_TASKS, Task, standard_tasks
    from jaxsched.train.data import BUILTIN as DATASETS
    from jaxsched.train.models import BUILTIN as MODELS

    budget_name = "full" if args.full else args.budget
    if budget_name not in BUDGETS:
        raise ValueError(f"--budget must be one of {', '.join(BUDGETS)}, got {budget_name!r}")
    budget = BUDGETS[budget_name]
    seeds = DEFAULT_SEEDS if args.seeds is None else _seed_arg(args.seeds, "--seeds")
    search_seeds = (
        DEFAULT_SEARCH_SEEDS
        if args.search_seeds is None
        else _seed_arg(args.search_seeds, "--search-seeds")
    )
    for flag, value in (
        ("--steps", args.steps),
        ("--batch-size", args.batch_size),
    ):
        if value is not None and value < 1:
            raise ValueError(f"{flag} must be >= 1, got {value}")
    if args.steps is not None and args.steps < 2:
        raise ValueError(f"--steps must be >= 2, got {args.steps}")
    optimizers = _names(args.optimizer, "--optimizer")
    families = FAMILIES if args.families is None else _names(args.families, "--families")
    rates = None if args.rates is None else _floats(args.rates, "--rates")
    if args.data is None and args.model is None:
        tasks = [
            dataclasses.replace(t, batch_size=args.batch_size)
            for t in standard_tasks(budget, args.steps)
        ]
    else:
        data, model = args.data or "mnist1d", args.model or "mlp"
        if model not in MODELS:
            raise ValueError(f"unknown model {model!r}: use one of {', '.join(MODELS)}")
        if data not in DATASETS:
            if not data.endswith(".npz"):
                raise ValueError(f"--data must be mnist1d, digits or an .npz file, got {data!r}")
            if not Path(data).is_file():
                raise ValueError(f"--data {data}: no such file")
        builtin = data in DATASETS
        name = f"{data if builtin else Path(data).stem}-{model}"
        standard = {task: acc for task, _, _, acc in STANDARD_TASKS}
        if not builtin and name in standard:  # mine/digits.npz is not scikit-learn's digits
            name = f"{Path(data).name}-{model}"
        steps = args.steps or budget.steps.get(name, budget.steps["other"])
        tasks = [Task(name, data, model, steps, args.batch_size, standard.get(name))]
    check_settings(
        optimizers,
        families,
        seeds,
        args.target,
        args.target_fraction,
        search_seeds=search_seeds,
        names=("--search-seeds", "--seeds"),
    )
    if not args.no_plots:
        report.check_plotting()
    name = args.name or time.strftime("compare-%Y%m%d-%H%M%S")
    folder = args.results_dir / name
    writable_folder(folder, "--results-dir/--name: the folder")  # now, not after the training
    checkpoint_dir = _checkpoint_dir(args)
    study = run_study(
        tasks,
        optimizers,
        families,
        budget=budget,
        seeds=seeds,
        search_seeds=search_seeds,
        rates=rates,
        target=args.target,
        target_fraction=args.target_fraction,
        progress=True,
        log=lambda line: print(line, flush=True),
        checkpoint_dir=checkpoint_dir,
    )
    written = report.write(study, folder, plots=not args.no_plots)
    print()
    print(report.markdown(study))
    print(f"total {study.seconds:.0f} s; wrote {len(written)} files to {folder}/")
    return 0


def _seed_arg(text: str, flag: str) -> int | list[int]:
    """``--seeds``: a count (``10``) or the seeds themselves (``0,1,2``)."""
    items = _names(text, flag)
    try:
        values = [int(item) for item in items]
    except ValueError:
        raise ValueError(
            f"{flag} must be a count or comma-separated integers, got {text!r}"
        ) from None
    if "," not in text:
        if values[0] < 1:
            raise ValueError(f"{flag} must be >= 1, got {values[0]}")
        return values[0]
    return values


def _names(text: str, flag: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise ValueError(f"{flag} needs at least one name")
    return names


def _floats(text: str, flag: str) -> list[float]:
    out = []
    for item in _names(text, flag):
        try:
            value = float(item)
        except ValueError:
            raise ValueError(f"{flag}: {item!r} is not a number") from None
        if not 0 < value < math.inf:
            raise ValueError(f"{flag}: rates must be finite and > 0, got {item}")
        out.append(value)
    return out


# ------------------------------------------------------------------------------ sweep
def _add_sweep(commands) -> None:
    p = commands.add_parser(
        "sweep",
        help="train the sweep a TOML file describes",
        description="Train a sweep described in a TOML file (data, train, schedule, output); "
        "see experiments/sweep.toml for an example.",
    )
    p.add_argument("config", type=Path, metavar="CONFIG.toml", help="the sweep file")
    p.add_argument("--no-plots", action="store_true", help="skip the PNGs (no matplotlib needed)")
    p.add_argument("--top", type=int, default=20, help="table rows to print (default 20)")
    _add_checkpoint_dir(p, "the sweep's checkpoints")
    _add_cpu_devices(p)
    p.set_defaults(run=_sweep)


def _sweep(args: argparse.Namespace) -> int:
    from jaxsched.experiments.sweep_file import load_sweep, run_sweep, sweep_table

    if args.top < 1:
        raise ValueError(f"--top must be >= 1, got {args.top}")
    spec = load_sweep(args.config)
    result, written = run_sweep(
        spec,
        plots=not args.no_plots,
        log=lambda line: print(line, flush=True),
        checkpoint_dir=_checkpoint_dir(args),
    )
    print(sweep_table(result, spec.schedules, top=args.top))
    if (result.diverged >= 0).any(axis=0).all():
        print(f"every configuration diverged; wrote {len(written)} files to {spec.output}/")
        return 1
    best = result.best()
    name = result.default_metric.removeprefix("val_")

    def shown(split: str) -> str:
        mean, std = best[f"{split}_{name}_mean"], best[f"{split}_{name}_std"]
        if name == "acc":
            return f"{split} {100 * mean:.1f} ± {100 * std:.1f}%"
        return f"{split} {name} {mean:.4g} ± {std:.2g}"

    print(
        f"best on validation: config {best['index']} {spec.schedules[best['index']]!r}: "
        f"{shown('val')}, {shown('test')}"
    )
    print(f"wrote {len(written)} files to {spec.output}/")
    return 0


# ---------------------------------------------------------------------------- lr-find
def _add_lr_find(commands) -> None:
    p = commands.add_parser(
        "lr-find",
        help="the learning-rate range test: loss against rate, and a suggested rate",
        description=(
            "The learning-rate range test (Smith, 2017): 'ramp' trains one run whose rate "
            "grows exponentially from --min-lr to --max-lr; 'sweep' trains --n-rates constant "
            "rates in one compiled program. Prints the suggested rate and the loss curve."
        ),
    )
    p.add_argument("--data", default="mnist1d", help="mnist1d (default), digits or an .npz")
    p.add_argument("--model", default="mlp", help="mlp (default) or cnn")
    p.add_argument("--optimizer", default="sgd", help="sgd (momentum 0.9, default), adam, adamw")
    p.add_argument("--method", default="ramp", help="ramp (default) or sweep")
    p.add_argument("--min-lr", type=float, default=1e-5, help="lowest rate (default 1e-5)")
    p.add_argument("--max-lr", type=float, default=10.0, help="highest rate (default 10)")
    p.add_argument(
        "--steps", type=int, default=200, help="ramp length, or steps per rate (default 200)"
    )
    p.add_argument("--n-rates", type=int, default=32, help="rates of the sweep (default 32)")
    p.add_argument("--batch-size", type=int, default=100, help="examples per step (default 100)")
    p.add_argument("--seed", type=int, default=0, help="initialization and data order (default 0)")
    p.add_argument("-o", "--output", type=Path, help="write the curve as a PNG (needs matplotlib)")
    p.add_argument("--json", type=Path, help="write the curve and the suggestion as JSON")
    p.set_defaults(run=_lr_find)


def _lr_find(args: argparse.Namespace) -> int:
    import json

    from jaxsched.experiments.tasks import optimizer
    from jaxsched.train import lr_find
    from jaxsched.train._io import pyplot
    from jaxsched.train.data import BUILTIN as DATASETS

    if args.method not in ("ramp", "sweep"):
        raise ValueError(f"--method must be ramp or sweep, got {args.method!r}")
    opt = optimizer(args.optimizer)
    data = args.data if args.data in DATASETS else Path(args.data)
    # A missing matplotlib or an unwritable output is an error now, not after the test.
    if args.output is not None:
        output_file(args.output, "-o", image_formats())
    if args.json is not None:
        output_file(args.json, "--json")
    result = lr_find(
        data=data,
        model=args.model,
        optimizer=opt,
        method=args.method,
        min_lr=args.min_lr,
        max_lr=args.max_lr,
        steps=args.steps,
        n_rates=args.n_rates,
        batch_size=args.batch_size,
        seed=args.seed,
    )
    stopped = result.lr[result.diverged]
    print(f"training loss against the learning rate ({args.method}, {args.optimizer}):")
    print(text_chart(result.loss, axis=f"lr {result.lr[0]:.3g} .. {result.lr[-1]:.3g} (log)"))
    if stopped.size:
        print(f"diverged from lr {stopped[0]:.3g}")
    found = np.isfinite(result.suggested)
    if found:
        print(f"suggested learning rate: {result.suggested:.3g}")
    else:
        print("no suggestion: the loss never fell (try a lower --min-lr or more --steps)")
    if args.output is not None:
        fig = result.plot(args.output)
        pyplot().close(fig)
        print(f"wrote {args.output}")
    if args.json is not None:
        args.json.write_text(json.dumps(result.to_dict(), allow_nan=False))
        print(f"wrote {args.json}")
    return 0 if found else 1


if __name__ == "__main__":
    raise SystemExit(main())
