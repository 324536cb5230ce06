"""Tables, files and figures of a comparison.

`write` puts everything of a `Study` in one folder:

- ``table.md``: the summary and one table per task x optimizer (what the CLI prints);
- ``summary.csv`` and ``study.json``: one row per task x optimizer x family (its
  confirmed numbers: ``seeds, test_acc_mean, test_acc_ci_low, test_acc_ci_high,
  delta_vs_constant, delta_ci_low, delta_ci_high, p, p_holm, beats_constant, p_best``,
  ...), the settings, the validation-accuracy sensitivity to the base rate (search),
  the curves of the selected configurations (confirmation);
- ``<task>-<optimizer>.json`` (the search) and ``<task>-<optimizer>-confirm.json``
  (the confirmation): the full `jaxsched.train.Result` (every configuration, seed
  and evaluation; ``Result.from_json`` reads it back);
- PNGs (matplotlib): ``overview.png`` and, per task x optimizer, ``-lr.png``
  (the selected schedules), ``-curves.png`` (training loss and validation
  accuracy, confirmation) and ``-sensitivity.png`` (validation accuracy against
  base rate, search).
"""

from __future__ import annotations

import csv
import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from jaxsched._preview import curve
from jaxsched.experiments.compare import FamilyRow, Study, TaskRun
from jaxsched.experiments.families import label
from jaxsched.experiments.tasks import OPTIMIZER_LABELS
from jaxsched.train._io import pyplot

__all__ = ["check_plotting", "markdown", "run_table", "summary_table", "write"]

_TASK_LABELS = {
    "mnist1d-mlp": "MNIST-1D, MLP",
    "mnist1d-cnn": "MNIST-1D, CNN",
    "digits-mlp": "digits, MLP",
}


def markdown(study: Study) -> str:
    """The summary table, then one table per task x optimizer."""
    parts = [summary_table(study)]
    parts += [run_table(run) for run in study.runs]
    return "\n\n".join(parts) + "\n"


def summary_table(study: Study) -> str:
    """One row per task x optimizer: the family best on (confirmed) validation against the
    tuned constant rate, on the confirmation seeds."""
    lines = [
        "| task | optimizer | best on validation | its test acc [95% CI] | constant: test acc "
        "| Δ test [95% CI] | p (Holm) | beats constant | P(best) | families beating constant "
        "| paper (constant) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in study.runs:
        ok = [r for r in run.rows if r.confirm_index >= 0]
        best = max(
            (r for r in ok if math.isfinite(r.val_acc)), key=lambda r: r.val_acc, default=None
        )
        const = next((r for r in ok if r.family == "constant"), None)
        tested = [r for r in ok if r.beats_constant is not None]
        wins = sum(bool(r.beats_constant) for r in tested)
        paper = run.task.paper_test_acc
        lines.append(
            "| "
            + " | ".join(
                [
                    _task_label(run),
                    OPTIMIZER_LABELS.get(run.optimizer, run.optimizer),
                    label(best.family) if best else "all diverged",
                    _acc(best) if best else "—",
                    _acc(const) if const else "—",
                    _delta(best) if best and best.family != "constant" else "—",
                    _p(best.p_holm) if best and best.family != "constant" else "—",
                    _beats(best) if best else "—",
                    _prob(best.p_best) if best else "—",
                    f"{wins} of {len(tested)}" if tested else "— (no test)",
                    f"{100 * paper:.0f}%" if paper else "—",
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def run_table(run: TaskRun) -> str:
    """The families of one task x optimizer, best confirmed validation accuracy first
    (accuracies in %)."""
    search, confirm = run.result, run.confirm
    n_seeds = len(confirm.seeds) if confirm is not None else len(search.seeds)
    head = (
        f"### {_task_label(run)} · {OPTIMIZER_LABELS.get(run.optimizer, run.optimizer)}\n\n"
        f"{run.task.steps} steps of {run.task.batch_size}. Search: {len(run.candidates)} "
        f"configurations x {len(search.seeds)} seeds ({_seeds(search.seeds)}), each family's "
        f"configuration selected on validation accuracy (mean over seeds, last evaluation). "
        f"Confirmation: the selected configurations on {n_seeds} fresh seeds "
        f"({_seeds(confirm.seeds) if confirm is not None else '—'}), reported below; "
        f"trained in {run.seconds:.0f} s. "
        f"Target for steps-to-target: validation accuracy {100 * run.target:.1f}%.\n"
    )
    if n_seeds < 2:
        head += (
            "\nWith 1 confirmation seed there is no interval and no test: use --seeds 2 or "
            "more (10 by default).\n"
        )
    lines = [
        "| family | base rate | own parameter | val acc | test acc [95% CI] "
        "| Δ test vs constant [95% CI] | p (Holm) | P(best) | final train loss "
        "| steps to target |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    ok = sorted(
        (r for r in run.rows if r.confirm_index >= 0),
        key=lambda r: -r.val_acc if math.isfinite(r.val_acc) else math.inf,
    )
    for k, r in enumerate(ok):
        name = label(r.family)
        name = f"**{name}**" if k == 0 else name
        if r.reference:
            name += " (reference)"
        if r.n_diverged:
            name += f" ({r.n_diverged}/{r.n_configs} diverged in the search)"
        if r.confirm_diverged:
            name += f" (diverged on {r.confirm_diverged}/{n_seeds} seeds)"
        lines.append(
            "| "
            + " | ".join(
                [
                    name,
                    f"{r.base_rate:.3g}{_grid_edge(run, r)}",
                    _params(r.params),
                    _pm(r.val_acc, r.val_acc_std),
                    _acc(r),
                    "baseline" if r.family == "constant" else _delta(r) + _mark(r),
                    "—" if r.family == "constant" else _p(r.p_holm),
                    _prob(r.p_best),
                    f"{r.train_loss:.3f}",
                    str(r.steps_to_target) if r.steps_to_target is not None else "not reached",
                ]
            )
            + " |"
        )
    for r in run.rows:
        if r.index < 0:
            lines.append(
                f"| {label(r.family)} | all {r.n_configs} configurations diverged in the "
                f"search | | | | | | | | |"
            )
    note = (
        "\nval acc: mean ± std over the confirmation seeds. Test acc: mean and 95% t interval "
        "over them. Δ: the mean per-seed difference of test accuracy to the tuned constant "
        "rate, in points, with its 95% interval (a seed gives every family the same initial "
        "weights and batches, so they pair). p (Holm): the one-sided paired t-test of Δ > 0, "
        "Holm-Bonferroni corrected over the families compared; ✓ where it is below "
        f"{_alpha(run)}. P(best): the bootstrap probability over seeds of the highest mean test "
        "accuracy. ⇡ / ⇣: the highest / lowest base rate of the grid, so the best rate may lie "
        "beyond it."
    )
    return head + "\n" + "\n".join(lines) + "\n" + note


def write(study: Study, folder: str | Path, plots: bool = True) -> list[Path]:
    """Write the tables, CSV, JSON and (with ``plots``) PNGs of ``study`` into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    path = folder / "table.md"
    path.write_text(markdown(study))
    written.append(path)
    written.append(_write_csv(study, folder / "summary.csv"))
    path = folder / "study.json"
    path.write_text(json.dumps(_study_dict(study), indent=1))
    written.append(path)
    for run in study.runs:
        path = folder / f"{run.name}.json"
        run.result.to_json(path)
        written.append(path)
        if run.confirm is not None:
            path = folder / f"{run.name}-confirm.json"
            run.confirm.to_json(path)
            written.append(path)
    if plots:
        written.append(plot_overview(study, folder / "overview.png"))
        for run in study.runs:
            written.append(plot_lr(run, folder / f"{run.name}-lr.png"))
            written.append(plot_curves(run, folder / f"{run.name}-curves.png"))
            written.append(plot_sensitivity(run, folder / f"{run.name}-sensitivity.png"))
    return written


# ----------------------------------------------------------------------------- data files
_CSV_FIELDS = (
    "task",
    "optimizer",
    "family",
    "seeds",
    "test_acc_mean",
    "test_acc_ci_low",
    "test_acc_ci_high",
    "test_acc_std",
    "delta_vs_constant",
    "delta_ci_low",
    "delta_ci_high",
    "p",
    "p_holm",
    "beats_constant",
    "p_best",
    "val_acc",
    "val_acc_std",
    "search_val_acc",
    "base_rate",
    "params",
    "train_loss",
    "steps_to_target",
    "target",
    "n_configs",
    "n_diverged",
    "confirm_diverged",
    "reference",
    "schedule",
)
#: CSV columns named otherwise than the `FamilyRow` fields they hold.
_CSV_RENAMED = {"test_acc_mean": "test_acc", "delta_vs_constant": "delta"}


def _write_csv(study: Study, path: Path) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(_CSV_FIELDS)
        for run in study.runs:
            for r in run.rows:
                d = _row_dict(r) | {
                    "task": run.task.name,
                    "optimizer": run.optimizer,
                    "target": run.target,
                }
                d |= {new: d[old] for new, old in _CSV_RENAMED.items()}
                writer.writerow(
                    json.dumps(d[k]) if isinstance(d[k], dict) else _cell(d[k]) for k in _CSV_FIELDS
                )
    return path


def _row_dict(r: FamilyRow) -> dict[str, Any]:
    return {k: getattr(r, k) for k in FamilyRow.__dataclass_fields__}


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.6g}"
    return str(v)


def _study_dict(study: Study) -> dict[str, Any]:
    runs = []
    for run in study.runs:
        r = run.confirm if run.confirm is not None else run.result
        selected = {}
        for row in run.rows:
            if row.confirm_index < 0:
                continue
            selected[row.family] = {
                m: _plain(_seed_mean(r.metrics[m][:, row.confirm_index]))
                for m in ("train_loss", "val_acc", "test_acc")
            }
        runs.append(
            {
                "task": run.task.name,
                "optimizer": run.optimizer,
                "seconds": run.seconds,
                "target": run.target,
                "n_configs": len(run.candidates),
                "steps": r.steps.tolist(),
                "rows": [_jsonable(_row_dict(row)) for row in run.rows],
                "sensitivity": {
                    f: {str(rate): _num(v) for rate, v in by_rate.items()}
                    for f, by_rate in run.sensitivity().items()
                },
                "selected_curves": selected,
                "candidates": [
                    {"family": c.family, "base_rate": c.base_rate, "params": c.params}
                    for c in run.candidates
                ],
            }
        )
    return {"settings": study.settings, "seconds": study.seconds, "runs": runs}


def _seed_mean(a: np.ndarray) -> np.ndarray:
    """The mean over seeds (axis 0) of the runs that had not diverged."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(a, axis=0)


def _plain(a: np.ndarray) -> list[float | None]:
    return [_num(x) for x in np.asarray(a, dtype=float)]


def _num(x: float) -> float | None:
    return None if not math.isfinite(x) else float(x)


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (_num(v) if isinstance(v, float) else v) for k, v in d.items()}


# ----------------------------------------------------------------------------- formatting
def _task_label(run: TaskRun) -> str:
    return _TASK_LABELS.get(run.task.name, run.task.name)


def _pm(mean: float, std: float) -> str:
    return f"{100 * mean:.1f} ± {100 * std:.1f}"


def _acc(r: FamilyRow) -> str:
    """Mean test accuracy and its 95% interval, or why there is none."""
    if math.isnan(r.test_acc_ci_low):
        return f"{100 * r.test_acc:.1f} ({_no_interval(r)})"
    return f"{100 * r.test_acc:.1f} [{100 * r.test_acc_ci_low:.1f}, {100 * r.test_acc_ci_high:.1f}]"


def _no_interval(r: FamilyRow) -> str:
    return f"{r.seeds} seed: no interval" if r.seeds < 2 else "no interval"


def _p(p: float) -> str:
    if math.isnan(p):
        return "—"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _prob(p: float) -> str:
    return "—" if math.isnan(p) else f"{p:.2f}"


def _alpha(run: TaskRun) -> str:
    return f"{run.alpha:g}"


def _seeds(seeds) -> str:
    seeds = list(seeds)
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}..{seeds[-1]}"
    return ", ".join(map(str, seeds))


def _grid_edge(run: TaskRun, r: FamilyRow) -> str:
    """`` ⇡`` / `` ⇣`` when ``r`` took the highest / lowest base rate its family was swept over."""
    rates = sorted({c.base_rate for c in run.candidates if c.family == r.family})
    if len(rates) < 2:
        return ""
    return " ⇡" if r.base_rate == rates[-1] else " ⇣" if r.base_rate == rates[0] else ""


def _delta(r: FamilyRow) -> str:
    if r.delta is None:
        return "— (no constant rate to compare with)"
    if math.isnan(r.delta_ci_low):
        return f"{100 * r.delta:+.1f} ({_no_interval(r)})"
    return f"{100 * r.delta:+.1f} [{100 * r.delta_ci_low:+.1f}, {100 * r.delta_ci_high:+.1f}]"


def _mark(r: FamilyRow) -> str:
    return " ✓" if r.beats_constant else ""


def _beats(r: FamilyRow) -> str:
    if r.family == "constant":
        return "— (constant wins)"
    if r.beats_constant is None:
        return "— (1 seed: no test)" if r.seeds < 2 else "—"
    return "yes" if r.beats_constant else "no"


def _params(params: dict[str, Any]) -> str:
    if not params:
        return "—"
    return ", ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
    )


# ----------------------------------------------------------------------------- figures
def check_plotting() -> None:
    """Raise a one-line ValueError if matplotlib is missing (before any training starts)."""
    _pyplot()


def _pyplot():
    try:
        return pyplot()
    except ValueError as e:
        raise ValueError(f"{e} (or pass --no-plots)") from None


def _colors(n: int):
    plt = _pyplot()
    cmap = plt.get_cmap("tab20" if n > 10 else "tab10")
    return [cmap(i % cmap.N) for i in range(n)]


def _selected(run: TaskRun) -> list[FamilyRow]:
    return [r for r in run.rows if r.confirm_index >= 0]


def plot_lr(run: TaskRun, path: str | Path) -> Path:
    """The learning rate of each family's selected configuration, at every step."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    steps = np.arange(run.task.steps)
    rows = _selected(run)
    for r, color in zip(rows, _colors(len(rows)), strict=True):
        lr = np.asarray(curve(run.candidates[r.index].schedule, steps))
        ax.plot(steps, lr, color=color, label=f"{label(r.family)} ({r.base_rate:.3g})")
    ax.set(xlabel="step", ylabel="learning rate", title=f"selected schedules: {_title(run)}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    return _save(fig, path)


def plot_curves(run: TaskRun, path: str | Path) -> Path:
    """Training loss and validation accuracy (mean over seeds) of each selected configuration."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    rows = _selected(run)
    result = run.confirm if run.confirm is not None else run.result
    steps = result.steps
    for r, color in zip(rows, _colors(len(rows)), strict=True):
        loss = _seed_mean(result.metrics["train_loss"][:, r.confirm_index])
        acc = _seed_mean(result.metrics["val_acc"][:, r.confirm_index])
        left.plot(steps, loss, color=color, label=label(r.family))
        right.plot(steps, 100 * acc, color=color, label=label(r.family))
    right.axhline(100 * run.target, color="gray", ls=":", lw=1, label="target")
    left.set(xlabel="step", ylabel="training loss", yscale="log")
    right.set(xlabel="step", ylabel="validation accuracy (%)")
    lo = np.nanmin([100 * r.val_acc for r in rows]) if rows else 0
    lo = lo if np.isfinite(lo) else 0
    right.set_ylim(max(0, lo - 15), None)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    right.legend(fontsize=7, ncol=2)
    fig.suptitle(f"selected configurations, mean over the confirmation seeds: {_title(run)}")
    return _save(fig, path)


def plot_sensitivity(run: TaskRun, path: str | Path) -> Path:
    """Final validation accuracy against base rate, per family (best over its own parameter)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    sens = run.sensitivity()
    for (family, by_rate), color in zip(sens.items(), _colors(len(sens)), strict=True):
        rates = sorted(by_rate)
        ax.plot(rates, [100 * by_rate[x] for x in rates], "o-", color=color, label=label(family))
    ax.set(
        xscale="log",
        xlabel="base rate (initial or peak learning rate)",
        ylabel="validation accuracy (%)",
        title=f"sensitivity to the base rate: {_title(run)}",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    return _save(fig, path)


def plot_overview(study: Study, path: str | Path) -> Path:
    """Test accuracy (mean ± std over seeds) of each family's selected configuration, per run."""
    plt = _pyplot()
    n = len(study.runs)
    cols = min(n, 2)
    rows_n = math.ceil(n / cols)
    most = max((len(_selected(run)) for run in study.runs), default=1)
    fig, axes = plt.subplots(
        rows_n,
        cols,
        figsize=(6.5 * cols, (0.3 * most + 1.2) * rows_n + 0.4),
        layout="constrained",
        squeeze=False,
    )
    for ax, run in zip(axes.flat, study.runs, strict=False):
        rows = sorted(_selected(run), key=lambda r: r.val_acc if math.isfinite(r.val_acc) else -1)
        y = np.arange(len(rows))
        mean = np.array([100 * r.test_acc for r in rows])
        low = np.array([100 * r.test_acc_ci_low for r in rows])
        high = np.array([100 * r.test_acc_ci_high for r in rows])
        err = np.nan_to_num(np.stack([mean - low, high - mean]))  # no interval: no bar
        colors = ["tab:green" if r.beats_constant else "tab:blue" for r in rows]
        ax.errorbar(mean, y, xerr=err, fmt="none", ecolor="gray", capsize=2)
        ax.scatter(mean, y, c=colors, zorder=3, s=18)
        const = next((r for r in rows if r.family == "constant"), None)
        if const is not None:
            ax.axvline(100 * const.test_acc, color="tab:red", lw=1, ls="--", label="constant")
        if run.task.paper_test_acc:
            ax.axvline(100 * run.task.paper_test_acc, color="k", lw=1, ls=":", label="paper")
        ax.set_yticks(y, [label(r.family) for r in rows], fontsize=8)
        ax.set(xlabel="test accuracy (%)", title=_title(run))
        ax.grid(alpha=0.3, axis="x")
        if ax.get_legend_handles_labels()[0]:  # no constant row and no paper: no legend
            ax.legend(fontsize=7, loc="lower right")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle(
        "selected on validation (top: best); test accuracy on the confirmation seeds, mean and "
        "95% interval; green: beats constant (paired over seeds, Holm-corrected, 5%)",
        fontsize=9,
    )
    return _save(fig, path)


def _title(run: TaskRun) -> str:
    return f"{_task_label(run)}, {run.optimizer}"


def _save(fig, path: str | Path) -> Path:
    plt = _pyplot()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
