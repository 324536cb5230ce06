"""Which verdicts of a comparison hold when it is run again with other search seeds.

A `jaxsched compare` run writes ``summary.csv``: one row per task x optimizer x
family, with the confirmed test accuracy and whether the family beats the tuned
constant rate after the Holm correction (``beats_constant``). `agreement` reads
the summaries of several runs of the same command (differing only in
``--search-seeds``) and tabulates, per task x optimizer, the family each run
selected on validation, whether that family beat the constant, and the
families that beat it in every run, in some runs only, or in none::

    python -m jaxsched.experiments.robustness results/seed-1 results/seed-2 results/seed-3

`ranking` compares the order of the families by confirmed test accuracy between
runs, such as the same study at several step budgets (horizons): each run's first
three, and Kendall's rank correlation of each run's order with the last run's.

Example:
  >>> import tempfile, pathlib
  >>> head = "task,optimizer,family,val_acc,test_acc_mean,beats_constant,p_best\\n"
  >>> runs = []
  >>> for i, beats in enumerate(["True", "False"]):
  ...     folder = pathlib.Path(tempfile.mkdtemp())
  ...     rows = ["t,sgd,constant,0.5,0.5,,0.0", f"t,sgd,cosine,0.6,0.6,{beats},1.0"]
  ...     _ = (folder / "summary.csv").write_text(head + "\\n".join(rows) + "\\n")
  ...     runs.append(folder)
  >>> verdicts = agreement_rows(runs)
  >>> [(v.task, v.selected, v.selected_beats, v.always, v.sometimes) for v in verdicts]
  [('t', ['cosine', 'cosine'], [True, False], [], ['cosine'])]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
from pathlib import Path

from jaxsched.experiments.families import label
from jaxsched.experiments.tasks import OPTIMIZER_LABELS

__all__ = [
    "Ranking",
    "Verdicts",
    "agreement",
    "agreement_rows",
    "ranking",
    "ranking_rows",
    "read_summary",
]


@dataclasses.dataclass(frozen=True)
class Verdicts:
    """The verdicts of several runs on one task x optimizer.

    Attributes:
      task, optimizer: as in ``summary.csv``.
      selected: per run, the family with the highest confirmed validation accuracy.
      selected_beats: per run, whether that family beat the constant (Holm-corrected).
      selected_test: per run, its mean test accuracy.
      always, sometimes, never: the families (constant excluded) that beat the
        constant in every run, in some runs but not all, and in none.
      most_likely_best: per run, the family with the highest bootstrap P(best).
    """

    task: str
    optimizer: str
    selected: list[str]
    selected_beats: list[bool]
    selected_test: list[float]
    always: list[str]
    sometimes: list[str]
    never: list[str]
    most_likely_best: list[str]


def read_summary(folder: str | Path) -> dict[tuple[str, str], list[dict[str, str]]]:
    """``folder/summary.csv`` as rows grouped by (task, optimizer), in file order."""
    path = Path(folder) / "summary.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no summary.csv (is {folder} a jaxsched compare run?)")
    groups: dict[tuple[str, str], list[dict[str, str]]] = {}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            groups.setdefault((row["task"], row["optimizer"]), []).append(row)
    return groups


def agreement_rows(folders: list[str | Path]) -> list[Verdicts]:
    """The `Verdicts` of every task x optimizer that all ``folders`` ran."""
    return [_verdicts(key, rows) for key, rows in _common_runs(folders).items()]


def _common_runs(folders: list[str | Path]) -> dict[tuple[str, str], list[list[dict[str, str]]]]:
    """Per task x optimizer that every run of ``folders`` has, each run's rows."""
    if len(folders) < 2:
        raise ValueError(f"need at least 2 runs to compare, got {len(folders)}")
    runs = [read_summary(folder) for folder in folders]
    shared = [key for key in runs[0] if all(key in run for run in runs[1:])]
    if not shared:
        raise ValueError("the runs have no task x optimizer in common")
    return {key: [run[key] for run in runs] for key in shared}


@dataclasses.dataclass(frozen=True)
class Ranking:
    """The order of the families by confirmed test accuracy in several runs.

    Attributes:
      task, optimizer: as in ``summary.csv``.
      orders: per run, the families (constant included) from the highest mean test
        accuracy down, over the families every run has.
      tau: per run, Kendall's rank correlation of its order with the last run's (1: the
        same order, 0: unrelated, -1: reversed).
    """

    task: str
    optimizer: str
    orders: list[list[str]]
    tau: list[float]


def ranking_rows(folders: list[str | Path]) -> list[Ranking]:
    """The `Ranking` of every task x optimizer that all ``folders`` ran.

    Example:
      >>> import tempfile, pathlib
      >>> head = "task,optimizer,family,val_acc,test_acc_mean,beats_constant,p_best\\n"
      >>> runs = []
      >>> for accs in ([0.5, 0.6, 0.7], [0.5, 0.7, 0.6]):
      ...     folder = pathlib.Path(tempfile.mkdtemp())
      ...     rows = [f"t,sgd,{f},{a},{a},,0" for f, a in zip(["constant", "cosine", "wsd"], accs)]
      ...     _ = (folder / "summary.csv").write_text(head + "\\n".join(rows) + "\\n")
      ...     runs.append(folder)
      >>> (r,) = ranking_rows(runs)
      >>> r.orders, [round(t, 2) for t in r.tau]
      ([['wsd', 'cosine', 'constant'], ['cosine', 'wsd', 'constant']], [0.33, 1.0])
    """
    from scipy.stats import kendalltau

    out = []
    for (task, optimizer), runs in _common_runs(folders).items():
        families = [
            r["family"]
            for r in runs[0]
            if all(_test(rows, r["family"]) is not None for rows in runs)
        ]
        accs = [[_test(rows, f) for f in families] for rows in runs]
        orders = [
            [f for _, f in sorted(zip(acc, families, strict=True), key=lambda x: -x[0])]
            for acc in accs
        ]
        tau = [float(kendalltau(acc, accs[-1]).statistic) for acc in accs]
        out.append(Ranking(task, optimizer, orders, tau))
    return out


def _test(rows: list[dict[str, str]], family: str) -> float | None:
    """The family's mean test accuracy in a run's rows (None if absent or empty)."""
    for r in rows:
        if r["family"] == family and r["test_acc_mean"] not in ("", "nan"):
            return float(r["test_acc_mean"])
    return None


def ranking(folders: list[str | Path], names: list[str] | None = None) -> str:
    """A markdown table of `ranking_rows`: each run's first three families and its rank
    correlation with the last run. ``names`` labels the runs (default 1, 2, ...)."""
    names = names or [str(i) for i in range(1, len(folders) + 1)]
    lines = [
        "| task | optimizer | "
        + " | ".join(f"first three ({n})" for n in names)
        + f" | Kendall's τ with ({names[-1]}) |",
        "|---|---|" + "---|" * len(names) + "---|",
    ]
    for r in ranking_rows(folders):
        firsts = [", ".join(label(f) for f in order[:3]) for order in r.orders]
        taus = " / ".join(f"{t:.2f}" for t in r.tau[:-1])
        lines.append(
            f"| {r.task} | {OPTIMIZER_LABELS.get(r.optimizer, r.optimizer)} | "
            + " | ".join(firsts)
            + f" | {taus} |"
        )
    return "\n".join(lines)


def _verdicts(key: tuple[str, str], runs: list[list[dict[str, str]]]) -> Verdicts:
    selected = [max(rows, key=lambda r: float(r["val_acc"])) for rows in runs]
    likely = [max(rows, key=lambda r: float(r["p_best"])) for rows in runs]
    families = [r["family"] for r in runs[0] if r["family"] != "constant"]
    wins = {
        family: sum(
            r["family"] == family and r["beats_constant"] == "True" for rows in runs for r in rows
        )
        for family in families
    }
    return Verdicts(
        task=key[0],
        optimizer=key[1],
        selected=[r["family"] for r in selected],
        selected_beats=[r["beats_constant"] == "True" for r in selected],
        selected_test=[float(r["test_acc_mean"]) for r in selected],
        always=[f for f in families if wins[f] == len(runs)],
        sometimes=[f for f in families if 0 < wins[f] < len(runs)],
        never=[f for f in families if wins[f] == 0],
        most_likely_best=[r["family"] for r in likely],
    )


def agreement(folders: list[str | Path]) -> str:
    """A markdown table of `agreement_rows`: what held in every run, and what did not."""
    n = len(folders)
    lines = [
        f"| task | optimizer | selected on validation ({n} runs) | its test acc | "
        "selected beats constant | beat constant in every run | in some runs | in none | "
        "highest P(best) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for v in agreement_rows(folders):
        beats = sum(v.selected_beats)
        lines.append(
            f"| {v.task} | {OPTIMIZER_LABELS.get(v.optimizer, v.optimizer)} | "
            f"{' / '.join(label(f) for f in v.selected)} | "
            f"{' / '.join(f'{100 * a:.1f}' for a in v.selected_test)} | {beats} of {n} | "
            f"{_labels(v.always)} | {_labels(v.sometimes)} | {_labels(v.never)} | "
            f"{' / '.join(label(f) for f in v.most_likely_best)} |"
        )
    return "\n".join(lines)


def _labels(families: list[str]) -> str:
    return ", ".join(label(f) for f in families) or "—"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m jaxsched.experiments.robustness",
        description="Which verdicts of several jaxsched compare runs agree.",
    )
    parser.add_argument("runs", nargs="+", type=Path, help="folders written by jaxsched compare")
    parser.add_argument(
        "--ranking",
        action="store_true",
        help="also compare the order of the families by test accuracy (runs at several "
        "step budgets, say), each run with the last",
    )
    args = parser.parse_args(argv)
    print(agreement(args.runs))
    if args.ranking:
        print()
        print(ranking(args.runs, [folder.name for folder in args.runs]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
