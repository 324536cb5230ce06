"""The agreement of repeated comparison runs (jaxsched.experiments.robustness)."""

from __future__ import annotations

import csv

import pytest

from jaxsched.experiments import robustness

COLUMNS = ["task", "optimizer", "family", "val_acc", "test_acc_mean", "beats_constant", "p_best"]


def _run(folder, rows):
    """A summary.csv with rows (task, optimizer, family, val_acc, test, beats, p_best)."""
    folder.mkdir()
    with (folder / "summary.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return folder


def _rows(task, cosine_beats, wsd_beats, best):
    val = {"cosine": 0.70, "wsd": 0.72} if best == "wsd" else {"cosine": 0.75, "wsd": 0.72}
    return [
        (task, "sgd", "constant", 0.60, 0.61, "", 0.0),
        (task, "sgd", "cosine", val["cosine"], 0.74, cosine_beats, 0.3),
        (task, "sgd", "wsd", val["wsd"], 0.73, wsd_beats, 0.7),
    ]


def test_verdicts_sort_families_by_how_often_they_beat_the_constant(tmp_path):
    runs = [
        _run(
            tmp_path / "a",
            _rows("mlp", "True", "True", "wsd") + _rows("cnn", "False", "False", "wsd"),
        ),
        _run(
            tmp_path / "b",
            _rows("mlp", "True", "False", "cosine") + _rows("cnn", "False", "False", "wsd"),
        ),
        _run(tmp_path / "c", _rows("mlp", "True", "True", "wsd")),  # no cnn: left out
    ]
    (mlp,) = robustness.agreement_rows(runs)
    assert (mlp.task, mlp.optimizer) == ("mlp", "sgd")
    assert mlp.selected == ["wsd", "cosine", "wsd"]  # the highest validation accuracy
    assert mlp.selected_beats == [True, True, True]
    assert mlp.selected_test == [0.73, 0.74, 0.73]
    assert (mlp.always, mlp.sometimes, mlp.never) == (["cosine"], ["wsd"], [])
    assert mlp.most_likely_best == ["wsd", "wsd", "wsd"]
    cnn = robustness.agreement_rows(runs[:2])[1]
    assert (cnn.always, cnn.sometimes, cnn.never) == ([], [], ["cosine", "wsd"])
    assert cnn.selected_beats == [False, False]


def test_the_table_says_how_many_runs_agree(tmp_path, capsys):
    runs = [
        _run(tmp_path / "a", _rows("mnist1d-cnn", "True", "True", "wsd")),
        _run(tmp_path / "b", _rows("mnist1d-cnn", "True", "False", "cosine")),
    ]
    assert robustness.main([str(r) for r in runs]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("| task | optimizer | selected on validation (2 runs) |")
    cells = [c.strip() for c in table[2].split("|")[1:-1]]
    assert cells == [
        "mnist1d-cnn",
        "SGD (momentum 0.9)",
        "WSD / cosine",
        "73.0 / 74.0",
        "2 of 2",
        "cosine",
        "WSD",
        "—",
        "WSD / WSD",
    ]


def test_bad_input_is_refused(tmp_path):
    run = _run(tmp_path / "a", _rows("mlp", "True", "True", "wsd"))
    with pytest.raises(ValueError, match="at least 2 runs"):
        robustness.agreement_rows([run])
    with pytest.raises(FileNotFoundError, match=r"no summary\.csv"):
        robustness.agreement_rows([run, tmp_path])
    other = _run(tmp_path / "b", _rows("cnn", "True", "True", "wsd"))
    with pytest.raises(ValueError, match="no task x optimizer in common"):
        robustness.agreement_rows([run, other])


def test_rankings_and_their_correlation_with_the_last_run(tmp_path):
    """Runs at three step budgets: the order of the families by test accuracy in each,
    and Kendall's tau with the last (full) one: 1 for the same order, -1 reversed."""

    def rows(accs):
        families = ["constant", "cosine", "wsd", "rex"]
        return [("cnn", "sgd", f, a, a, "", 0.0) for f, a in zip(families, accs, strict=True)]

    quarter = _run(tmp_path / "quarter", rows([0.83, 0.82, 0.81, 0.80]))  # reversed
    half = _run(tmp_path / "half", rows([0.90, 0.92, 0.93, 0.91]))  # REX moved down
    full = _run(tmp_path / "full", rows([0.90, 0.94, 0.95, 0.96]))
    (r,) = robustness.ranking_rows([quarter, half, full])
    assert r.orders[0] == ["constant", "cosine", "wsd", "rex"]
    assert r.orders[2] == ["rex", "wsd", "cosine", "constant"]
    assert r.tau[0] == pytest.approx(-1.0)
    assert r.tau[1] == pytest.approx((4 - 2) / 6)  # 4 of the 6 pairs in the same order
    assert r.tau[2] == pytest.approx(1.0)
    table = robustness.ranking([quarter, half, full], ["1/4", "1/2", "all"])
    assert "| cnn | SGD (momentum 0.9) | constant, cosine, WSD |" in table
    assert table.rstrip().endswith("| -1.00 / 0.33 |")
