"""The schedule comparison: search spaces, selection on validation, and a tiny real `compare`."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import jaxsched as js
from jaxsched.cli import main
from jaxsched.experiments import FAMILIES, Candidate, base_rates, search_space, summarize
from jaxsched.experiments.compare import run_study
from jaxsched.experiments.families import candidates
from jaxsched.experiments.tasks import BUDGETS, Task, eval_every
from jaxsched.train import Result

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- search spaces
def test_every_family_of_the_issue_is_compared():
    assert set(FAMILIES) == {
        "constant", "step", "multistep", "exponential", "inverse_time", "poly", "linear",
        "cosine", "warmup_cosine", "one_cycle", "cyclic", "cosine_restarts", "wsd", "rex",
        "schedule_free",
    }  # fmt: skip


@pytest.mark.parametrize("own", [1, 2, 3])
def test_search_space_is_rates_times_own_values_and_stacks_into_one_batch(own):
    rates = [0.01, 0.1]
    space = search_space(FAMILIES, rates, 1000, own)
    one_param = {"constant", "linear", "cosine", "rex"}
    # parameterless families: the 2 rates and own - 1 between them, 0.0316 and 0.0215, 0.0464
    finer = {1: [0.01, 0.1], 2: [0.01, 0.0316, 0.1], 3: [0.01, 0.0215, 0.0464, 0.1]}[own]
    n_other = len(FAMILIES) - len(one_param)
    assert len(space) == len(one_param) * len(finer) + n_other * own * len(rates)
    batch = js.stack([c.schedule for c in space])
    assert batch.batch_shape == (len(space),)
    for c in space:  # every configuration is a valid schedule with its base rate recorded
        assert c.base_rate in (finer if c.family in one_param else rates)
        js.from_dict(c.schedule.to_dict())
    for family in one_param:
        assert [c.base_rate for c in space if c.family == family] == finer
    assert len({json.dumps(c.schedule.to_dict(), sort_keys=True) for c in space}) == len(space)


@pytest.mark.parametrize("family", FAMILIES)
def test_schedules_start_or_peak_at_the_base_rate_and_end_low(family):
    steps = np.arange(1000)
    for c in candidates(family, [0.1], 1000, own=3):
        lr = np.asarray(c.schedule(steps))
        assert lr.max() == pytest.approx(0.1, rel=1e-4), c
        if family == "schedule_free":  # the rate of optax's schedule-free: warmup, then constant
            assert lr[0] < 0.1 / 5 and lr[-1] == pytest.approx(0.1)
            continue
        if family == "constant":
            continue
        assert lr[-1] < 0.1 / 3, (c, lr[-1])  # every other family decays by the end
        if family in ("warmup_cosine", "one_cycle", "wsd"):
            assert lr[0] < 0.1 / 5  # warmup
        if family == "cyclic":
            np.testing.assert_allclose(c.schedule(1000), 0.01, rtol=1e-5)  # whole cycles, at base


def test_own_parameters_are_recorded_in_steps_relative_to_the_run():
    wsd = candidates("wsd", [0.1], 500, own=2)
    assert [c.params for c in wsd] == [{"decay_steps": 100}, {"decay_steps": 50}]
    warm = candidates("warmup_cosine", [0.1], 500, own=2)
    assert [c.params["warmup_steps"] for c in warm] == [25, 100]
    assert warm[1].schedule.to_dict()["warmup_steps"] == 100.0


def test_rate_grids_and_eval_spacing():
    assert base_rates("sgd", 5) == [0.01, 0.0316, 0.1, 0.316, 1.0]
    assert base_rates("adam", 5) == [0.001, 0.00316, 0.01, 0.0316, 0.1]
    assert base_rates("adamw", 4) == [0.00178, 0.00562, 0.0178, 0.0562]
    assert (
        eval_every(500, 20) == 25 and eval_every(1000, 20) == 50 and 300 % eval_every(300, 20) == 0
    )
    assert BUDGETS["default"].rates >= 4 and BUDGETS["full"].rates > BUDGETS["default"].rates


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: candidates("nope", [0.1], 100), ["unknown family 'nope': use any of"]),
        (
            lambda: candidates("cosin", [0.1], 100),
            ["unknown family 'cosin' (did you mean 'cosine'?)"],
        ),
        (lambda: candidates("cosine", [-0.1], 100), ["base rates must be > 0"]),
        (lambda: search_space(["cosine", "cosine"], [0.1], 100), ["'cosine' is given twice"]),
        (lambda: base_rates("rmsprop", 3), ["unknown optimizer 'rmsprop'"]),
        (
            lambda: run_study(
                [Task("d", "digits", "mlp", 10)], ["sgd"], ["constant"], val_fraction=0
            ),
            ["val_fraction must be in (0, 1)", "selected on validation"],
        ),
        (
            lambda: run_study(
                [Task("d", "digits", "mlp", 10, batch_size=5000)], ["sgd"], ["constant"]
            ),
            ["d: batch size 5000 is larger than the training split"],
        ),
    ],
)
def test_bad_search_spaces_are_named(call, words):
    with pytest.raises(ValueError) as e:
        call()
    for w in words:
        assert w in str(e.value)


# ----------------------------------------------------------------------------- selection
def _result(val, test, loss=None, diverged=None, steps=(10, 20)):
    """A Result from [seed, config, eval] arrays of validation and test accuracy."""
    val, test = np.asarray(val, float), np.asarray(test, float)
    loss = np.ones_like(val) if loss is None else np.asarray(loss, float)
    s, c, _ = val.shape
    metrics = {
        "train_loss": loss,
        "val_loss": loss,
        "val_acc": val,
        "test_loss": loss,
        "test_acc": test,
    }
    diverged = np.full((s, c), -1) if diverged is None else np.asarray(diverged)
    return Result(
        metrics, np.asarray(steps), np.zeros((c, len(steps))), diverged, [{}] * c, list(range(s))
    )


def _cands(families_and_rates):
    return [Candidate(f, r, {}, js.constant(r)) for f, r in families_and_rates]


def test_selection_uses_validation_never_test():
    # cosine config 1 has the best test accuracy but the worse validation accuracy
    cands = _cands([("constant", 0.1), ("cosine", 0.1), ("cosine", 0.3)])
    val = [[[0.5, 0.70], [0.5, 0.60], [0.5, 0.80]], [[0.5, 0.72], [0.5, 0.62], [0.5, 0.78]]]
    test = [[[0.5, 0.70], [0.5, 0.99], [0.5, 0.74]], [[0.5, 0.70], [0.5, 0.99], [0.5, 0.76]]]
    rows, target = summarize(cands, _result(val, test))
    cosine = next(r for r in rows if r.family == "cosine")
    assert cosine.index == 2 and cosine.base_rate == 0.3
    assert cosine.val_acc == pytest.approx(0.79) and cosine.test_acc == pytest.approx(0.75)
    assert cosine.search_val_acc == pytest.approx(0.79)
    assert cosine.test_acc_std == pytest.approx(0.01)
    assert target == pytest.approx(0.95 * 0.79)
    # against the tuned constant, paired per seed: d = [0.04, 0.06], se 0.01, t_{0.975, 1} = 12.706
    assert cosine.delta == pytest.approx(0.05)
    assert cosine.delta_ci_low == pytest.approx(0.05 - 12.7062 * 0.01, abs=1e-5)
    assert cosine.p == pytest.approx(0.0628, abs=1e-3)  # t = 5, 1 degree of freedom
    assert cosine.beats_constant is False  # two seeds cannot show it
    const = next(r for r in rows if r.family == "constant")
    assert const.beats_constant is None and const.delta == 0.0


def _rex_row_against_constant(constant_test, family_test):
    """The rex row of a study with one constant and one rex configuration, ``[seed]`` test accs."""
    cands = _cands([("constant", 0.1), ("rex", 0.1)])
    n = len(constant_test)
    val = [[[0.7], [0.8]]] * n
    test = [[[c], [f]] for c, f in zip(constant_test, family_test, strict=True)]
    rows, _ = summarize(cands, _result(val, test, steps=(10,)))
    return rows[1]


def test_a_small_gain_every_seed_agrees_on_is_a_win():
    # Seeds differ by 10 points, the gain is 2 on each: unpaired, it would drown in the spread.
    rex = _rex_row_against_constant([0.60, 0.70, 0.80], [0.62, 0.72, 0.82])
    assert rex.delta == pytest.approx(0.02) and rex.delta_ci_low == pytest.approx(0.02)
    assert rex.p_holm == 0.0 and rex.beats_constant is True


def test_a_gain_the_seeds_disagree_on_is_not_a_win():
    rex = _rex_row_against_constant([0.70, 0.70, 0.70], [0.80, 0.60, 0.77])  # d = [0.1, -0.1, 0.07]
    d = np.array([0.1, -0.1, 0.07])
    want = d.mean() - 4.302653 * d.std(ddof=1) / math.sqrt(3)
    assert rex.delta == pytest.approx(d.mean()) and rex.delta_ci_low == pytest.approx(want)
    assert rex.beats_constant is False


def test_one_seed_has_no_verdict_rex_row_against_constant():
    rex = _rex_row_against_constant([0.70], [0.90])
    assert rex.delta == pytest.approx(0.2) and math.isnan(rex.delta_ci_low)
    assert rex.beats_constant is None and math.isnan(rex.p_holm) and math.isnan(rex.p_best)


def test_diverged_configurations_are_not_selected_and_steps_to_target():
    cands = _cands([("step", 0.1), ("step", 1.0), ("wsd", 0.1), ("wsd", 1.0)])
    val = np.array(
        [
            [[0.2, 0.5, 0.6], [0.9, 0.9, 0.9], [0.1, 0.3, 0.5], [0.1, 0.1, 0.1]],
            [[0.2, 0.6, 0.6], [0.9, 0.9, 0.9], [0.1, 0.3, 0.5], [0.1, 0.1, 0.1]],
        ]
    )
    diverged = [[-1, 15, -1, 3], [-1, -1, -1, 3]]  # step@1.0 diverged for one seed
    rows, _ = summarize(
        cands, _result(val, val, diverged=diverged, steps=(10, 20, 30)), target=0.55
    )
    step, wsd = rows
    assert step.index == 0 and step.n_diverged == 1 and step.n_configs == 2
    assert step.steps_to_target == 20  # mean curve 0.2, 0.55, 0.6
    assert wsd.index == 2 and wsd.steps_to_target is None  # ends at 0.5 < 0.55


def test_a_family_that_always_diverged_gets_an_empty_row():
    cands = _cands([("constant", 0.1), ("cyclic", 9.0)])
    val = [[[0.7], [0.1]]]
    rows, _ = summarize(cands, _result(val, val, diverged=[[-1, 4]], steps=(10,)))
    assert rows[1].index == -1 and math.isnan(rows[1].test_acc) and rows[1].n_diverged == 1


# ----------------------------------------------------------------------------- a real run
@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """``jaxsched compare`` on digits: 2 families x 2 base rates, 1 search seed, 2 confirmation
    seeds, 100 steps, SGD + Adam."""
    out = tmp_path_factory.mktemp("results")
    argv = [
        "compare", "--data", "digits", "--families", "constant,cosine", "--seeds", "2",
        "--search-seeds", "1",
        "--steps", "100", "--budget", "small", "--results-dir", str(out), "--name", "tiny",
    ]  # fmt: skip
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(argv)
    return code, buffer.getvalue(), out / "tiny"


def test_compare_writes_tables_data_and_figures(tiny):
    code, printed, folder = tiny
    assert code == 0
    for name in (
        "table.md", "summary.csv", "study.json", "overview.png",
        *(f"digits-mlp-{o}{s}" for o in ("sgd", "adam")
          for s in (".json", "-confirm.json", "-lr.png", "-curves.png", "-sensitivity.png")),
    ):  # fmt: skip
        assert (folder / name).is_file(), name
    assert (folder / "overview.png").read_bytes()[:4] == b"\x89PNG"
    assert "[1/2] digits-mlp sgd: search 4 configurations (2 families) x 1 seeds x 100 steps" in (
        printed
    )
    assert "confirm 2 configurations (one per family) x 2 seeds (100, 101)" in printed
    table = (folder / "table.md").read_text()
    assert table in printed
    assert "### digits, MLP · SGD (momentum 0.9)" in table and "### digits, MLP · Adam" in table
    # one row per family in each run's table, and one summary row per optimizer
    assert sum(line.startswith(("| constant", "| **constant")) for line in table.splitlines()) == 2
    assert sum(line.startswith(("| cosine", "| **cosine")) for line in table.splitlines()) == 2
    assert sum(line.startswith("| digits, MLP |") for line in table.splitlines()) == 2
    for line in table.splitlines():  # with two base rates, every choice is at an edge: marked
        if line.startswith(("| constant", "| **constant", "| cosine", "| **cosine")):
            cell = line.split("|")[2].strip()  # SGD 0.0562, 0.178; Adam 0.00562, 0.0178
            assert cell in ("0.0562 ⇣", "0.178 ⇡", "0.00562 ⇣", "0.0178 ⇡"), line


def test_compare_selects_on_the_search_and_reports_the_confirmation(tiny):
    _, _, folder = tiny
    with (folder / "summary.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [(r["optimizer"], r["family"]) for r in rows] == [
        ("sgd", "constant"), ("sgd", "cosine"), ("adam", "constant"), ("adam", "cosine"),
    ]  # fmt: skip
    for column in (
        "task", "optimizer", "family", "seeds", "test_acc_mean", "test_acc_ci_low",
        "test_acc_ci_high", "delta_vs_constant", "delta_ci_low", "p_holm", "beats_constant",
        "p_best",
    ):  # fmt: skip
        assert column in rows[0], column
    study = json.loads((folder / "study.json").read_text())
    assert study["settings"]["seeds"] == [100, 101] and study["settings"]["search_seeds"] == [0]
    assert study["settings"]["rates"]["sgd"] == [0.0562, 0.178]
    for row in rows:
        search = Result.from_json(folder / f"digits-mlp-{row['optimizer']}.json")
        confirm = Result.from_json(folder / f"digits-mlp-{row['optimizer']}-confirm.json")
        assert search.metrics["val_acc"].shape == (1, 4, 10)  # seed, 2 families x 2 rates, evals
        assert confirm.metrics["val_acc"].shape == (2, 2, 10)  # fresh seeds, one per family
        assert search.seeds == [0] and confirm.seeds == [100, 101]
        family = [0, 1] if row["family"] == "constant" else [2, 3]
        final_val = search.metrics["val_acc"][:, family, -1].mean(axis=0)
        chosen = family[int(np.argmax(final_val))]  # on the search's validation
        j = 0 if row["family"] == "constant" else 1
        assert confirm.configs[j] == search.configs[chosen]
        test = confirm.metrics["test_acc"][:, j, -1]
        assert row["seeds"] == "2"
        assert float(row["search_val_acc"]) == pytest.approx(final_val.max(), abs=1e-6)
        assert float(row["test_acc_mean"]) == pytest.approx(test.mean(), abs=1e-6)
        assert float(row["test_acc_ci_low"]) <= float(row["test_acc_mean"])
        assert float(row["test_acc_mean"]) > 0.85  # digits: chance is 0.1
        assert 0 < float(row["train_loss"]) < 1.0
        assert int(row["steps_to_target"]) in confirm.steps.tolist()
        run = next(r for r in study["runs"] if r["optimizer"] == row["optimizer"])
        assert run["candidates"][chosen]["family"] == row["family"]
        assert json.loads(row["schedule"]) == search.configs[chosen]
        sens = run["sensitivity"][row["family"]]
        assert max(sens.values()) == pytest.approx(float(row["search_val_acc"]), abs=1e-6)
        if row["family"] == "cosine":
            const = confirm.metrics["test_acc"][:, 0, -1]
            assert float(row["delta_vs_constant"]) == pytest.approx((test - const).mean(), abs=1e-6)
            assert row["p_holm"] == row["p"]  # one family compared: Holm changes nothing
        assert 0 <= float(row["p_best"]) <= 1
    assert sum(float(r["p_best"]) for r in rows if r["optimizer"] == "sgd") == pytest.approx(1)


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--families", "cosine,nope"], ["unknown family 'nope'"]),
        (["--families", "cosin,wsd"], ["unknown family 'cosin' (did you mean 'cosine'?): use"]),
        (["--optimizer", "rmsprop"], ["unknown optimizer 'rmsprop'"]),
        (["--data", "/no/such/mine.npz"], ["/no/such/mine.npz", "no such file"]),
        (["--data", "mine.csv"], ["--data", "mine.csv"]),
        (["--budget", "huge"], ["--budget", "huge"]),
        (["--seeds", "0"], ["--seeds"]),
        (["--seeds", "a,b"], ["--seeds", "integers"]),
        (
            ["--search-seeds", "0,1", "--seeds", "1,2,3"],
            ["--search-seeds", "--seeds", "overlap (1)"],
        ),
        (["--search-seeds", "1,1"], ["--search-seeds", "distinct"]),
        (["--target", "70"], ["target", "(0, 1]", "70"]),
        (["--families", "rex,rex"], ["given twice"]),
        (["--rates", "0.1,abc"], ["--rates", "'abc'"]),
        (["--rates", "inf"], ["--rates", "finite", "inf"]),
        (["--rates", "0.1,nan"], ["--rates", "nan"]),
        (["--model", "resnet", "--steps", "10"], ["unknown model 'resnet'"]),
    ],
)
def test_compare_errors_are_one_line(argv, words, capsys, tmp_path):
    assert main(["compare", "--results-dir", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("jaxsched compare: error:"), err
    for w in words:
        assert w in err
    assert not list(tmp_path.iterdir())  # nothing written before the settings are checked


def test_compare_on_a_users_npz(tmp_path, capsys):
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(3, 8)) * 3
    y, y_test = rng.integers(0, 3, 600), rng.integers(0, 3, 150)
    x = centers[y] + rng.normal(size=(600, 8))
    x_test = centers[y_test] + rng.normal(size=(150, 8))
    np.savez(tmp_path / "mine.npz", x=x, y=y, x_test=x_test, y_test=y_test)
    argv = [
        "compare", "--data", str(tmp_path / "mine.npz"), "--optimizer", "adam", "--families",
        "rex", "--seeds", "2", "--steps", "40", "--rates", "0.01", "--batch-size", "50",
        "--results-dir", str(tmp_path), "--name", "mine", "--no-plots",
    ]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "### mine-mlp · Adam" in out and "REX" in out
    assert not list((tmp_path / "mine").glob("*.png"))
    rows = list(csv.DictReader((tmp_path / "mine" / "summary.csv").open()))
    # constant was not asked for: trained as the reference all are compared with
    assert [(r["family"], r["reference"]) for r in rows] == [("constant", "True"), ("rex", "False")]
    assert "| **constant** (reference) |" in out or "| constant (reference) |" in out
    assert float(rows[1]["test_acc_mean"]) > 0.9  # well separated clusters
    assert rows[1]["delta_vs_constant"] != "" and rows[1]["p_holm"] != ""
    # A file named like a built-in data set is still the user's: not its label or paper.
    (tmp_path / "sub").mkdir()
    (tmp_path / "mine.npz").rename(tmp_path / "sub" / "digits.npz")
    argv[2], argv[-2] = str(tmp_path / "sub" / "digits.npz"), "named"
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "### digits.npz-mlp · Adam" in out and "digits, MLP" not in out


def test_the_experiments_script_is_the_compare_command():
    result = subprocess.run(
        [sys.executable, str(ROOT / "experiments" / "compare.py"), "--budget", "nope"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "jaxsched compare: error: --budget must be one of small, default, full, got 'nope'"
    )


def test_a_results_folder_that_cannot_be_written_is_refused_before_training(capsys, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for results_dir, words in ((blocker, "cannot be made"), ("/proc/1", "cannot be made")):
        argv = ["compare", "--results-dir", str(results_dir), "--name", "run", "--data", "digits"]
        assert main([*argv, "--families", "constant", "--seeds", "1", "--no-plots"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("jaxsched compare: error: --results-dir/--name: the folder"), err
        assert words in err and "trained" not in err


# ----------------------------------------------------------------------------- the protocol
def _confirmed(test_by_family, families):
    """``summarize`` of a search where each family has one configuration, and a confirmation
    whose final test accuracy is ``test_by_family[seed, family]`` (10 fresh seeds)."""
    test_by_family = np.asarray(test_by_family, float)
    n_seeds, k = test_by_family.shape
    cands = _cands([(f, 0.1) for f in families])
    search = _result(np.full((1, k, 1), 0.7), np.full((1, k, 1), 0.7), steps=(10,))
    confirm = _result(np.full((n_seeds, k, 1), 0.7), test_by_family[..., None], steps=(10,))
    confirm = dataclasses.replace(confirm, seeds=list(range(100, 100 + n_seeds)))
    rows, _ = summarize(cands, search, confirm)
    return {r.family: r for r in rows}


def test_a_known_difference_is_detected_a_null_one_is_not_and_holm_corrects():
    rng = np.random.default_rng(0)
    base = rng.normal(0.80, 0.03, 10)  # the seeds differ a lot; the pairs much less
    better = base + 0.02 + rng.normal(0, 0.005, 10)
    same = base + rng.normal(0, 0.005, 10)
    rows = _confirmed(np.stack([base, better, same], 1), ["constant", "cosine", "rex"])
    assert rows["cosine"].beats_constant is True and rows["cosine"].p_holm < 0.001
    assert rows["cosine"].delta_ci_low > 0 and rows["cosine"].p_best > 0.95
    assert rows["rex"].beats_constant is False and rows["rex"].delta_ci_low < 0
    assert rows["constant"].beats_constant is None and math.isnan(rows["constant"].p_holm)
    # Holm: p-values below 0.05 alone, not after correcting for three families
    d = np.array([0.03, -0.01, 0.02, 0.0, 0.01, 0.025, -0.005, 0.015, 0.01, -0.008])
    raw = sps_paired(d)
    assert 0.02 < raw < 0.05
    rows = _confirmed(
        np.stack([base, base + d, base + d[::-1], base + np.roll(d, 3)], 1),
        ["constant", "cosine", "rex", "wsd"],
    )
    for f in ("cosine", "rex", "wsd"):
        assert rows[f].p == pytest.approx(raw) and rows[f].p_holm == pytest.approx(3 * raw)
        assert rows[f].beats_constant is (3 * raw < 0.05)


def sps_paired(d):
    from scipy import stats

    return float(stats.ttest_1samp(d, 0.0, alternative="greater").pvalue)


def test_confirmation_seeds_are_fresh_and_overlap_is_refused():
    from jaxsched.experiments.compare import seed_lists

    assert seed_lists(2, 10) == ([0, 1], list(range(100, 110)))
    assert seed_lists(150, 2)[1] == [150, 151]  # a count never overlaps the search
    assert seed_lists([3], [0, 1]) == ([3], [0, 1])
    with pytest.raises(ValueError, match=r"overlap \(1, 2\)"):
        seed_lists([0, 1, 2], [1, 2, 5])
    with pytest.raises(ValueError, match="seeds must be >= 1"):
        seed_lists(1, 0)


def test_search_then_confirm_with_schedule_free_and_one_seed(capsys):
    from jaxsched.experiments.report import markdown

    study = run_study(
        [Task("d", "digits", "mlp", 30)],
        ["adam"],
        ["rex", "schedule_free"],
        budget="small",
        rates=[0.01],
        seeds=1,
        search_seeds=[0],
        progress=False,
        log=None,
    )
    run = study.runs[0]
    assert run.result.seeds == [0] and run.confirm.seeds == [100]
    assert [c.family for c in run.candidates] == ["constant", "rex", "schedule_free"]
    rows = {r.family: r for r in run.rows}
    assert rows["constant"].reference and not rows["rex"].reference
    assert study.settings["reference"] == ["constant"]
    for f, r in rows.items():  # each selected configuration retrained on the fresh seed
        assert run.confirm.configs[r.confirm_index] == run.result.configs[r.index], f
        assert r.seeds == 1 and math.isnan(r.test_acc_ci_low) and r.beats_constant is None
    assert rows["schedule_free"].test_acc > 0.5  # evaluated at its averaged weights; chance 0.1
    table = markdown(study)
    assert "1 seed: no interval" in table and "no interval and no test" in table
    assert "— (1 seed: no test)" in table


def test_compare_refuses_regression_data_before_training(tmp_path, capsys):
    x = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    np.savez(tmp_path / "reg.npz", x=x, y=x[:, 0], x_test=x[:8], y_test=x[:8, 0])
    assert main(["compare", "--data", str(tmp_path / "reg.npz"), "--model", "mlp"]) == 2
    err = capsys.readouterr().err
    assert "y holds floats (regression targets)" in err and "jaxsched sweep" in err
