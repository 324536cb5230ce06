"""The README's Python examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index):
    exec(compile(BLOCKS[index], f"README.md example {index}", "exec"), {})


def test_flax_loop_logs_the_rate_the_logged_update_used(capsys):
    """The own-training-loop example prints, for step k, the rate of update k (it printed
    the next update's: optimizer.step has advanced when it is read)."""
    (block,) = [b for b in BLOCKS if "nnx.Optimizer" in b]
    namespace: dict = {}
    exec(compile(block, "README.md Flax example", "exec"), namespace)
    schedule = namespace["schedule"]
    logged = re.findall(r"^(\d+) loss \S+ lr (\S+)$", capsys.readouterr().out, flags=re.M)
    assert [int(step) for step, _ in logged] == [0, 100, 200]
    for step, lr in logged:
        assert lr == f"{schedule(int(step)):.2e}", step
