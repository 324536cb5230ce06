"""The Python examples of the README and of the documentation (docs/) run as written."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").rglob("*.md"))
_FENCE = re.compile(r"^( *)```python\n(.*?)^\1```", flags=re.S | re.M)


def python_blocks(page: Path) -> list[str]:
    """The ```python blocks of a Markdown page, dedented (a block may sit in a list item)."""
    return [textwrap.dedent(code) for _, code in _FENCE.findall(page.read_text())]


# Each distinct example once (the home page is the README, and a guide may repeat one of
# its examples), named after the first page that shows it.
EXAMPLES: dict[str, str] = {}
for _page in [README, *DOCS]:
    for _i, _block in enumerate(python_blocks(_page)):
        EXAMPLES.setdefault(_block, f"{_page.relative_to(ROOT)} example {_i}")
BLOCKS = list(EXAMPLES)


def test_readme_and_docs_have_examples():
    assert python_blocks(README)
    assert sum(len(python_blocks(page)) for page in DOCS) >= 10


@pytest.mark.parametrize("block", BLOCKS, ids=[EXAMPLES[b] for b in BLOCKS])
def test_example_runs(block):
    exec(compile(block, EXAMPLES[block], "exec"), {})


def test_flax_loop_logs_the_rate_the_logged_update_used(capsys):
    """The own-training-loop example prints, for step k, the rate of update k (it printed
    the next update's: optimizer.step has advanced when it is read)."""
    (block,) = [b for b in BLOCKS if "nnx.Optimizer" in b]
    namespace: dict = {}
    exec(compile(block, EXAMPLES[block], "exec"), namespace)
    schedule = namespace["schedule"]
    logged = re.findall(r"^(\d+) loss \S+ lr (\S+)$", capsys.readouterr().out, flags=re.M)
    assert [int(step) for step, _ in logged] == [0, 100, 200]
    for step, lr in logged:
        assert lr == f"{schedule(int(step)):.2e}", step
