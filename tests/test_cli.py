"""`jaxsched plot`: terminal preview, PNG output, and one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from jaxsched.cli import main

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
        (["plot", "cosine(0.1, decay_steps=x)"], ["literal"]),
        (["plot", SPEC, "--steps", "0"], ["--steps"]),
        (["plot", SPEC, "-o", "/no/such/folder/lr.png"], ["/no/such/folder"]),
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
