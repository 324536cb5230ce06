"""Which verdicts of a comparison hold when it is run again with other search seeds.

A `jaxsched compare` run writes ``summary.csv``: one row per task x optimizer x
family, with the confirmed test accuracy and whether the family beats the tuned
constant rate after the Holm correction (``beats_constant``). `agreement` reads
the summaries of several runs of the same command (differing only in
``--search-seeds``) and tabulates, per task x optimizer, the family each run
selected on validation, whether that family beat the constant, and the
families that beat it in every run, in some runs only, or in none::

    python -m jaxsched.experiments.robustness results/seed-1 results/seed-2 results/seed-3

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

__all__ = ["Verdicts", "agreement", "agreement_rows", "read_summary"]


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
    if len(folders) < 2:
        raise ValueError(f"agreement needs at least 2 runs to compare, got {len(folders)}")
    runs = [read_summary(folder) for folder in folders]
    shared = [key for key in runs[0] if all(key in run for run in runs[1:])]
    if not shared:
        raise ValueError("the runs have no task x optimizer in common")
    return [_verdicts(key, [run[key] for run in runs]) for key in shared]


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
    print(agreement(parser.parse_args(argv).runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
