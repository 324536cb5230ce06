"""`jaxsched plot` and `jaxsched lr-find`: terminal output, files, and one-line errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import optax
import pytest

from jaxsched import cli
from jaxsched.cli import main
from jaxsched.train import LRFindResult, lr_find

SPEC = "warmup(cosine(init_value=0.1, decay_steps=90), warmup_steps=10)"


def test_plot_prints_a_preview(capsys):
    assert main(["plot", SPEC, "--steps", "100"]) == 0
    out = capsys.readouterr().out
    assert SPEC in out
    assert "0.1 |" in out and "0 .. 99" in out
    assert "█" in out


def test_plot_writes_a_png(tmp_path):
    path = tmp_path / "lr.png"
    assert main(["plot", SPEC, "torch.StepLR(0.1, step_size=30)", "-o", str(path)]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 5000


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["plot", "cosine(0.1, decay_steps=-1)"], ["cosine", "decay_steps", "-1"]),
        (["plot", "nope(1)"], ["unknown schedule 'nope'"]),
        (
            ["plot", "torch.StepLr(0.1, step_size=30)"],
            ["unknown schedule 'torch.StepLr' (did you mean 'torch.StepLR'?)"],
        ),
        (["plot", "cosine(0.1, decay_steps=x)"], ["literal"]),
        (["plot", SPEC, "--steps", "0"], ["--steps"]),
        (["plot", SPEC, "-o", "/no/such/folder/lr.png"], ["/no/such/folder"]),
        (["plot", SPEC, "-o", "lr.txt"], ["-o 'lr.txt'", ".png, .pdf, .svg"]),
        (["plot", SPEC, "-o", "/"], ["-o '/' is a folder"]),
    ],
)
def test_errors_are_one_line_without_traceback(argv, words, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("jaxsched plot: error:")
    for word in words:
        assert word in err


def test_console_script_runs():
    result = subprocess.run(
        [sys.executable, "-m", "jaxsched.cli", "plot", "rex(1.0, decay_steps=10)", "--steps", "20"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "rex(1.0, decay_steps=10)" in result.stdout


def _help(command: str, capsys) -> str:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    return " ".join(capsys.readouterr().out.split())  # unwrapped


def test_help_lists_the_registry_and_the_compared_families(capsys):
    from jaxsched._base import core_factory_names, factory_names
    from jaxsched.experiments import FAMILIES

    plot = _help("plot", capsys)
    listed = re.search(r"Schedules: (.*?); and the constructors of jaxsched.compat: (.*?) \(", plot)
    assert listed[1].split(", ") == core_factory_names()
    modules = {name.split(".")[0] + ".*" for name in factory_names() if "." in name}
    assert set(listed[2].split(", ")) == modules
    compare = _help("compare", capsys)
    listed = re.search(r"--families FAMILIES comma-separated \(default all\): (.*?) \(", compare)
    assert listed[1].split(", ") == list(FAMILIES)


def test_the_parser_does_not_import_the_experiments():
    """compare's families are read when its help is printed: `plot` needs no extras."""
    code = "import sys; from jaxsched import cli; cli._parser(); print(sorted(sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "'jaxsched.experiments'" not in result.stdout


def test_lr_find_prints_the_suggestion_of_train_lr_find(tmp_path, capsys):
    png, js = tmp_path / "lr.png", tmp_path / "lr.json"
    argv = ["lr-find", "--data", "digits", "--steps", "120", "--min-lr", "1e-4", "--max-lr", "30"]
    assert main([*argv, "-o", str(png), "--json", str(js)]) == 0
    out = capsys.readouterr().out
    expected = lr_find(data="digits", steps=120, min_lr=1e-4, max_lr=30.0)
    saved = LRFindResult.from_dict(json.loads(js.read_text()))
    assert saved.suggested == expected.suggested
    np.testing.assert_array_equal(saved.loss, expected.loss)
    assert f"suggested learning rate: {expected.suggested:.3g}" in out
    assert "lr 0.0001 .. 30 (log)" in out and "█" in out
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_lr_find_sweep_flags_the_rates_that_diverge(capsys):
    argv = ["lr-find", "--data", "digits", "--method", "sweep", "--steps", "30", "--n-rates", "6"]
    assert main([*argv, "--min-lr", "1e-4", "--max-lr", "10"]) == 0
    out = capsys.readouterr().out
    assert "(sweep, sgd)" in out and "diverged from lr" in out  # SGD at rate 10 diverges
    rate = float(out.split("suggested learning rate: ")[1])
    assert 1e-4 < rate < 10


def test_lr_find_takes_the_optimizer_by_name(capsys):
    argv = ["lr-find", "--data", "digits", "--optimizer", "adam", "--steps", "60"]
    assert main(argv) == 0
    expected = lr_find(data="digits", optimizer=optax.adam, steps=60)
    assert f"suggested learning rate: {expected.suggested:.3g}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--method", "grid"], ["--method", "'grid'"]),
        (["--optimizer", "rmsprop"], ["unknown optimizer 'rmsprop'"]),
        (["--model", "resnet"], ["resnet"]),
        (["--data", "/no/such/data.npz"], ["/no/such/data.npz"]),
        (["--min-lr", "0"], ["min_lr", "0"]),
        (["--min-lr", "1", "--max-lr", "0.5"], ["max_lr", "0.5"]),
        (["--steps", "0"], ["steps", "0"]),
        (["-o", "/no/such/folder/lr.png"], ["/no/such/folder"]),
        # refused before the test, which the old checks let run and then lost
        (["-o", "curve.txt"], ["-o 'curve.txt'", ".png"]),
        (["--json", "/"], ["--json '/' is a folder"]),
        (["--json", "/proc/1/lr.json"], ["--json: the folder '/proc/1' is not writable"]),
    ],
)
def test_lr_find_errors_are_one_line(argv, words, capsys):
    assert main(["lr-find", "--data", "digits", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("jaxsched lr-find: error:"), err
    for word in words:
        assert word in err


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["compare", "--steps", "abc"], "jaxsched compare: error: argument --steps: invalid int"),
        (["nope"], "jaxsched: error: argument command: invalid choice: 'nope'"),
        (["lr-find", "--min-lr"], "jaxsched lr-find: error: argument --min-lr: expected one"),
    ],
)
def test_usage_mistakes_are_one_line(argv, line, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(line), err


def test_plot_draws_each_member_of_a_batch_and_samples_huge_step_counts(tmp_path, capsys):
    # a batch was a broadcasting traceback; 3e9 steps were all evaluated (killed, out of memory)
    path = tmp_path / "lr.png"
    assert main(["plot", "cosine([0.1, 0.2], 100)", "--steps", "3000000000", "-o", str(path)]) == 0
    out = capsys.readouterr().out
    assert "cosine(init_value=0.1, decay_steps=100" in out and "init_value=0.2" in out
    assert "step 0 .. 2999999999" in out and path.stat().st_size > 5000


def test_ctrl_c_is_one_line_and_the_status_of_sigint(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_plot", interrupted)
    assert main(["plot", SPEC]) == 130
    assert capsys.readouterr().err.strip() == "jaxsched plot: interrupted"


def test_warnings_are_one_line_in_the_commands_words(capsys):
    assert main(["plot", "piecewise([16777217], [0.1, 0.2])", "--steps", "10"]) == 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("jaxsched plot: warning: piecewise: boundaries at index 0 is 16777217")
    assert err.count("\n") == 0


def test_compare_resumes_each_task_and_optimizer_from_its_own_checkpoints(
    tmp_path, capsys, monkeypatch
):
    from jaxsched.train.checkpoint import Checkpointer

    restore, restored = Checkpointer.restore, []

    def recorded(self, like):
        out = restore(self, like)
        name = f"{self.directory.parent.name}/{self.directory.name}"
        restored.append((name, None if out is None else out[0]))
        return out

    monkeypatch.setattr(Checkpointer, "restore", recorded)
    ckpt = tmp_path / "ckpt"
    argv = [
        "compare", "--data", "digits", "--model", "mlp", "--optimizer", "sgd,adam",
        "--families", "constant", "--seeds", "1", "--steps", "2", "--budget", "small",
        "--no-plots", "--results-dir", str(tmp_path), "--checkpoint-dir", str(ckpt),
    ]  # fmt: skip
    assert main([*argv, "--name", "first"]) == 0
    assert main([*argv, "--name", "again"]) == 0  # restores every fit, trains nothing
    fits = [f"digits-mlp-{o}/{stage}" for o in ("sgd", "adam") for stage in ("search", "confirm")]
    assert restored == [(f, None) for f in fits] + [(f, 2) for f in fits]
    assert sorted(p.name for p in ckpt.iterdir()) == ["digits-mlp-adam", "digits-mlp-sgd"]
    for folder in ckpt.iterdir():  # a folder per stage; the last two checkpoints are kept
        assert sorted(p.name for p in folder.iterdir()) == ["confirm", "search"]
        for stage in folder.iterdir():
            assert sorted(p.name for p in stage.iterdir() if p.name.isdigit()) == ["1", "2"]
    names = [f"digits-mlp-{o}{s}.json" for o in ("sgd", "adam") for s in ("", "-confirm")]
    for name in (*names, "summary.csv"):
        assert (tmp_path / "again" / name).read_text() == (tmp_path / "first" / name).read_text()
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main([*argv, "--name", "x", "--checkpoint-dir", str(blocker)]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err == f"jaxsched compare: error: --checkpoint-dir '{blocker}' cannot be made (File exists)"
    )
