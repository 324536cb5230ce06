"""`jaxsched sweep CONFIG.toml`: a tiny real sweep, the shipped example, and one-line errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from jaxsched.cli import main
from jaxsched.experiments.sweep_file import load_sweep
from jaxsched.train import Result

ROOT = Path(__file__).resolve().parents[1]

TINY = """
[data]
name = "digits"

[train]
model = "mlp"
optimizer = "sgd"
steps = 60
seeds = 2
eval_every = 20
batch_size = 50

[schedule]
family = "cosine"
init_value = [0.003, 0.1]
decay_steps = 60

[output]
dir = "{out}"
"""


def _write(tmp_path: Path, text: str, name: str = "sweep.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_tiny_sweep_trains_ranks_on_validation_and_writes_its_files(tmp_path, capsys):
    out = tmp_path / "out"
    path = _write(tmp_path, TINY.format(out=out))
    assert main(["sweep", str(path)]) == 0
    printed = capsys.readouterr().out
    for name in ("result.json", "result.csv", "table.md", "lr.png", "val_acc.png"):
        assert (out / name).is_file(), name
    result = Result.from_json(out / "result.json")
    assert result.metrics["val_acc"].shape == (2, 2, 3) and result.seeds == [0, 1]
    assert [c["init_value"] for c in result.configs] == [0.003, 0.1]
    final_val = result.metrics["val_acc"][:, :, -1].mean(axis=0)
    # 0.1 learns digits in 60 steps; 0.003 barely moves
    assert final_val[1] > 0.8 and final_val[1] > final_val[0]
    table = (out / "table.md").read_text()
    ranks = re.findall(r"^\| (\d) \| (\d) \| `(.*?)` \|", table, flags=re.M)
    assert [(r, c) for r, c, _ in ranks] == [("1", "1"), ("2", "0")]  # best validation first
    assert ranks[0][2].startswith("cosine(init_value=0.1, decay_steps=60")
    assert table.strip() in printed
    test = result.metrics["test_acc"][:, 1, -1]
    assert f"test {100 * test.mean():.1f} ± {100 * test.std():.1f}%" in printed
    assert "best on validation: config 1 cosine(init_value=0.1" in printed
    assert len(json.loads((out / "result.json").read_text())["configs"]) == 2


def test_several_schedule_tables_and_specs_stack_into_one_batch(tmp_path, monkeypatch):
    text = """
[data]
path = "data/mine.npz"
val_fraction = 0.2
[train]
model = "cnn"
optimizer = "adamw"
steps = 300
seeds = [3, 5]
[[schedule]]
family = "multistep"
init_value = 0.1
boundaries = [[100, 200], [150, 250]]
decay_rate = 0.1
[[schedule]]
spec = ["warmup(cosine(0.1, decay_steps=270), warmup_steps=30)", "constant([0.05, 0.2])"]
[[schedule]]
family = "wsd"
peak_value = 0.1
total_steps = 300
warmup_steps = 10
decay_steps = 60
"""
    npz = tmp_path / "data" / "mine.npz"
    npz.parent.mkdir()
    np.savez(npz, x=np.zeros((10, 4)), y=np.zeros(10, int), x_test=np.zeros((2, 4)), y_test=[0, 1])
    monkeypatch.chdir(tmp_path / "data")  # relative paths are the file's, not the directory's
    spec = load_sweep(_write(tmp_path, text))
    assert spec.schedules.batch_shape == (6,)  # a spec that is a batch gives its members
    kinds = [s.to_dict()["kind"] for s in spec.schedules]
    assert kinds == ["multistep", "multistep", "warmup", "constant", "constant", "wsd"]
    assert [spec.schedules[i].to_dict()["value"] for i in (3, 4)] == [0.05, 0.2]
    assert spec.schedules[1].to_dict()["boundaries"] == [150.0, 250.0]
    assert spec.seeds == [3, 5] and spec.eval_every == 30 and spec.batch_size == 100
    assert (spec.model, spec.optimizer, spec.val_fraction) == ("cnn", "adamw", 0.2)
    assert spec.data == str(npz) and spec.output == tmp_path / "results" / "sweep"


def test_the_shipped_example_is_valid():
    spec = load_sweep(ROOT / "experiments" / "sweep.toml")
    assert spec.schedules.batch_shape == (13,)
    assert spec.data == "mnist1d" and spec.steps == 1000 and spec.seeds == 3
    assert spec.output == ROOT / "experiments" / "results" / "sweep-example"
    rows = spec.schedules.to_dicts()[:6]  # the grid over a composed spec
    assert [(r["schedule"]["init_value"], r["warmup_steps"]) for r in rows[:2]] == [
        (0.03, 50.0), (0.03, 100.0)
    ]  # fmt: skip
    assert np.nanmax(spec.schedules.end_step) <= spec.steps  # nothing to warn about


GOOD = """
[data]
name = "digits"
[train]
model = "mlp"
optimizer = "sgd"
steps = 100
[schedule]
family = "cosine"
init_value = [0.01, 0.1]
decay_steps = 100
"""


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda t: t + "[extra]\nx = 1\n", ["unknown table [extra]"]),
        (
            lambda t: t.replace("\nsteps = 100", "\nsteps = 100\nlr = 0.1"),
            ["unknown key 'lr' in [train]"],
        ),
        (lambda t: t.replace("\nsteps = 100\n", "\n"), ["missing key 'steps' in [train]"]),
        (lambda t: t.replace("\nsteps = 100", '\nsteps = "100"'), ["[train] steps", "'100'"]),
        (lambda t: t.replace("\nsteps = 100", "\nsteps = 0"), ["[train] steps", ">= 1"]),
        (lambda t: t.replace('"sgd"', '"rmsprop"'), ["optimizer 'rmsprop'"]),
        (lambda t: t.replace('model = "mlp"', 'model = "vit"'), ["model 'vit'"]),
        (lambda t: t.replace('name = "digits"', 'name = "cifar"'), ["[data] name 'cifar'"]),
        (
            lambda t: t.replace('name = "digits"', 'name = "digits"\nval_fraction = 0.0'),
            ["[data] val_fraction must be in (0, 1)", "ranks on validation"],
        ),
        (
            lambda t: t.replace('name = "digits"', 'path = "/no/such.npz"'),
            ["/no/such.npz", "no such file"],
        ),
        (
            lambda t: t.replace("decay_steps = 100", "decay = 100"),
            ["cosine has no parameter 'decay'"],
        ),
        (lambda t: t.replace("decay_steps = 100", "decay_steps = -5"), ["decay_steps", "-5"]),
        (lambda t: t.replace("decay_steps = 100\n", ""), ["cosine needs decay_steps"]),
        (
            lambda t: t.replace("decay_steps = 100", "decay_steps = true"),
            ["decay_steps must be a number", "True"],
        ),
        (
            lambda t: t.replace("decay_steps = 100", "decay_steps = [[100, 200]]"),
            ["decay_steps = [[100, 200]] nests lists too deep", "one grid axis"],
        ),
        (lambda t: t.replace('"cosine"', '"cosin"'), ["family 'cosin' (did you mean 'cosine'?)"]),
        (lambda t: t.replace('"cosine"', '"warmup"'), ["family 'warmup'", "spec"]),
        (
            lambda t: (
                t.split("[schedule]")[0] + '[schedule]\nspec = ["cosine(0.1, decay_steps=x)"]'
            ),
            ["spec 'cosine(0.1, decay_steps=x)'", "literal"],
        ),
        (
            lambda t: t.replace('family = "cosine"', 'spec = ["cosine(0.1, decay_steps=9)"]'),
            ["spec cannot be combined with decay_steps, init_value"],
        ),
        (lambda t: t.replace("[schedule]", "[schedules]"), ["unknown table [schedules]"]),
        (lambda t: t.replace("\nsteps = 100", "\nsteps = = 100"), ["not valid TOML", "line"]),
        (lambda t: t.replace("\nsteps = 100", "\nsteps = 100\nseeds = [1, 1]"), ["[train] seeds"]),
    ],
)
def test_bad_files_give_one_line_errors_naming_the_file_and_key(edit, words, tmp_path, capsys):
    path = _write(tmp_path, edit(GOOD), "bad.toml")
    assert main(["sweep", str(path), "--no-plots"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("jaxsched sweep: error:"), err
    assert str(path) in err
    for w in words:
        assert w in err


def test_a_missing_file_and_an_output_that_is_a_file(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "nope.toml")]) == 2
    assert capsys.readouterr().err.strip().endswith("nope.toml: no such file")
    blocker = tmp_path / "taken"
    blocker.write_text("")
    for out in (blocker, blocker / "sub"):  # refused before training: nothing is lost
        path = _write(tmp_path, GOOD + f'[output]\ndir = "{out}"\n')
        assert main(["sweep", str(path), "--no-plots"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "cannot be made" in err and str(out) in err


def test_the_file_the_error_cases_start_from_is_valid(tmp_path):
    spec = load_sweep(_write(tmp_path, GOOD))
    assert spec.schedules.batch_shape == (2,) and spec.seeds == 1 and spec.eval_every == 10


def test_cpu_devices_shard_the_sweep_in_a_new_process(tmp_path, capsys):
    one, two = tmp_path / "one", tmp_path / "two"
    assert (
        main(["sweep", str(_write(tmp_path, TINY.format(out=one), "one.toml")), "--no-plots"]) == 0
    )
    path = _write(tmp_path, TINY.format(out=two), "two.toml")
    code = "import sys; from jaxsched.cli import main; sys.exit(main(sys.argv[1:]))"
    argv = ["sweep", str(path), "--no-plots", "--cpu-devices", "2"]
    run = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "training on 2 CPU devices" in run.stdout
    a, b = Result.from_json(one / "result.json"), Result.from_json(two / "result.json")
    for name in ("train_loss", "val_loss", "test_loss"):  # equal up to float rounding
        np.testing.assert_allclose(b.metrics[name], a.metrics[name], rtol=1e-4)


def test_cpu_devices_after_jax_has_run_or_below_one_is_a_one_line_error(tmp_path, capsys):
    jax.numpy.zeros(1).block_until_ready()  # this process's JAX is running
    path = _write(tmp_path, TINY.format(out=tmp_path / "out"))
    for k, words in (
        ("2", "before JAX runs anything"),
        ("0", "must be >= 1, got 0"),
        ("100000", "must be <= 256"),  # it hung
    ):
        assert main(["sweep", str(path), "--no-plots", "--cpu-devices", k]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and words in err, err


# ------------------------------------------------------------------ a grid over a spec
GRID = """
[data]
name = "digits"
[train]
model = "mlp"
steps = 100
[[schedule]]
spec = "warmup(cosine(init_value=$peak, decay_steps=900), warmup_steps=$w)"
[schedule.grid]
peak = [0.03, 0.1, 0.3]
w = [50, 100]
[[schedule]]
spec = "multistep(0.1, boundaries=$b, decay_rate=0.5)"
grid = {b = [[10, 20], [30, 40, 50]]}
[[schedule]]
family = "constant"
value = 0.1
"""


def test_a_grid_over_a_composed_spec_is_its_cartesian_product(tmp_path):
    spec = load_sweep(_write(tmp_path, GRID))
    assert spec.schedules.batch_shape == (9,)
    assert spec.optimizer == "sgd"  # [train] optimizer is optional: fit's default
    rows = spec.schedules.to_dicts()
    assert [(r["schedule"]["init_value"], r["warmup_steps"]) for r in rows[:6]] == [
        (0.03, 50.0), (0.03, 100.0), (0.1, 50.0), (0.1, 100.0), (0.3, 50.0), (0.3, 100.0)
    ]  # fmt: skip
    assert [r["boundaries"] for r in rows[6:8]] == [[10.0, 20.0], [30.0, 40.0, 50.0]]
    assert [r["kind"] for r in rows] == ["warmup"] * 6 + ["multistep"] * 2 + ["constant"]


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (
            lambda t: t.replace("w = [50, 100]", "w = [50, 100]\nk = [1, 2]"),
            ["[schedule.grid] of [[schedule]] #1: key 'k' is not used by the spec", "$k"],
        ),
        (
            lambda t: t.replace("w = [50, 100]\n", ""),
            ["[[schedule]] #1: spec placeholder $w has no values", "[schedule.grid]"],
        ),
        (
            lambda t: t.replace("w = [50, 100]", 'w = [50, "long"]'),
            ["[schedule.grid] of [[schedule]] #1: w = [50, 'long']: 'long' is not a finite number"],
        ),
        (lambda t: t.replace("w = [50, 100]", "w = [50, inf]"), ["w = [50, inf]", "finite"]),
        (
            lambda t: t.replace("w = [50, 100]", "w = 50"),
            ["[schedule.grid] of [[schedule]] #1: w must be a non-empty list", "got 50"],
        ),
        (lambda t: t.replace("[[10, 20], [30, 40, 50]]", "[[[10]]]"), ["b = [[[10]]]"]),
        (lambda t: t.replace("w = [50, 100]", "w = [-5]"), ["warmup_steps", "-5"]),
        (
            lambda t: t.replace("value = 0.1", "value = 0.1\ngrid = {v = [1]}"),
            ["[[schedule]] #3: grid goes with spec"],
        ),
        (
            lambda t: t.replace("boundaries=$b", "boundaries=$bb"),
            ["[[schedule]] #2: spec placeholder $bb has no values"],
        ),
    ],
)
def test_grid_errors_name_the_file_table_and_key(edit, words, tmp_path, capsys):
    path = _write(tmp_path, edit(GRID), "bad.toml")
    assert main(["sweep", str(path), "--no-plots"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith(f"jaxsched sweep: error: {path}: "), err
    for w in words:
        assert w in err, err


def test_a_placeholder_without_a_grid_is_named(tmp_path):
    text = GOOD.split("[schedule]")[0] + '[schedule]\nspec = "cosine($peak, decay_steps=100)"\n'
    with pytest.raises(ValueError, match=r"\[schedule\]: spec .* has placeholder \$peak; give"):
        load_sweep(_write(tmp_path, text))


# ---------------------------------------------------- checkpoints, and schedules too long
RESUMABLE = """
[data]
name = "digits"
[train]
model = "mlp"
steps = 40
eval_every = 20
batch_size = 32
[schedule]
spec = "warmup(cosine(init_value=$peak, decay_steps=$k), warmup_steps=10)"
grid = {peak = [0.1], k = [30, 200]}
[output]
dir = "out"
"""


@pytest.mark.filterwarnings("default:fit")  # the CLI prints it: pyproject's filter would hide it
def test_a_killed_sweep_resumes_from_its_checkpoints(tmp_path, capsys, monkeypatch):
    from jaxsched.train.checkpoint import Checkpointer

    path, ckpt = _write(tmp_path, RESUMABLE), tmp_path / "ckpt"
    argv = ["sweep", str(path), "--no-plots", "--checkpoint-dir", str(ckpt)]
    save, restore, restored = Checkpointer.save, Checkpointer.restore, []

    def save_then_stop(self, step, tree, last):
        save(self, step, tree, last)
        raise KeyboardInterrupt  # killed after the first checkpoint

    def recorded(self, like):
        out = restore(self, like)
        restored.append(None if out is None else out[0])
        return out

    monkeypatch.setattr(Checkpointer, "restore", recorded)
    monkeypatch.setattr(Checkpointer, "save", save_then_stop)
    assert main(argv) == 130
    err = capsys.readouterr().err
    # the warmup of 10 + a cosine of 200 ends at step 210, after the run's 40 steps
    assert "jaxsched sweep: warning: fit: 1 of 2 configurations end after the run's 40 " in err
    assert "config 1 at step 210 (warmup(schedule=cosine(init_value=0.1, decay_steps=200" in err
    assert sorted(p.name for p in ckpt.iterdir()) == ["20"]
    assert not (tmp_path / "out" / "result.json").exists()
    monkeypatch.setattr(Checkpointer, "save", save)
    assert main(argv) == 0  # resumes at step 20
    first = (tmp_path / "out" / "result.json").read_text()
    assert main(argv) == 0  # finished: restores step 40 and trains nothing
    assert restored == [None, 20, 40]
    assert sorted(p.name for p in ckpt.iterdir()) == ["20", "40"]
    assert (tmp_path / "out" / "result.json").read_text() == first
    result = Result.from_json(tmp_path / "out" / "result.json")
    assert result.metrics["val_acc"].shape == (1, 2, 2)
    assert np.isfinite(result.metrics["val_acc"]).all()


def test_a_checkpoint_dir_that_cannot_be_made_is_refused_before_training(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    path = _write(tmp_path, RESUMABLE)
    assert main(["sweep", str(path), "--no-plots", "--checkpoint-dir", str(blocker / "c")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"jaxsched sweep: error: --checkpoint-dir '{blocker / 'c'}' cannot be")
    assert not (tmp_path / "out" / "result.json").exists()


def test_a_regression_sweep_ranks_by_validation_loss(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 4)).astype(np.float32)
    y = (x @ rng.normal(size=(4, 2))).astype(np.float32)  # float targets [n, 2]
    np.savez(tmp_path / "reg.npz", x=x[:250], y=y[:250], x_test=x[250:], y_test=y[250:])
    text = TINY.replace('name = "digits"', 'path = "reg.npz"').replace(
        'optimizer = "sgd"', 'optimizer = "adam"\nloss = "mse"'
    )
    path = _write(tmp_path, text.format(out="out"))
    assert load_sweep(path).loss == "mse"
    assert main(["sweep", str(path)]) == 0
    table = (tmp_path / "out" / "table.md").read_text()
    assert "| val loss | test loss |" in table
    result = Result.from_json(tmp_path / "out" / "result.json")
    assert "val_acc" not in result.metrics and result.default_metric == "val_loss"
    first = int(table.splitlines()[2].split("|")[2])  # the config ranked first
    assert first == result.best()["index"]
    assert (tmp_path / "out" / "val_loss.png").exists()
    bad = _write(tmp_path, text.replace('loss = "mse"', 'loss = "hinge"').format(out="out"))
    assert main(["sweep", str(bad)]) == 2
    assert "[train] loss 'hinge' is unknown; use cross_entropy, mse" in capsys.readouterr().err
