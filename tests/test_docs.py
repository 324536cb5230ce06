"""The front page and the documentation site: a short README, links that resolve, and no
reference to a file outside the repository."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.rglob("*.md"))]

_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|<img [^>]*src=\"([^\"]+)\"")
_FENCED = re.compile(r"^ *```.*?^ *```", flags=re.S | re.M)
_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", flags=re.S)


def _module(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def links(markdown: str, images_only: bool = False) -> list[str]:
    """The targets of the links and images of ``markdown``, code left out."""
    text = _FENCED.sub("", markdown)
    text = _CODE_SPAN.sub("", text)
    found = []
    for match in _LINK.finditer(text):
        if images_only and not match.group(0).startswith(("!", "<img")):
            continue
        found.append(match.group(1) or match.group(2))
    return found


def _is_relative(target: str) -> bool:
    return not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^#|^/", target)


def test_readme_is_at_most_200_lines():
    assert len(README.read_text().splitlines()) <= 200


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_relative_links_resolve(page):
    for target in links(page.read_text()):
        if _is_relative(target):
            path = target.split("#")[0]
            assert (page.parent / path).exists(), f"{page.name}: {target}"


def test_readme_images_are_under_docs():
    """The README's figures live in docs/, so the same link, made docs-relative, works on
    the documentation site (whose home page is the README)."""
    images = links(README.read_text(), images_only=True)
    assert images
    for target in images:
        assert not _is_relative(target) or target.startswith("docs/"), target


def test_home_page_links_stay_in_the_site():
    """The README as the site's home page (docs/_ext/readme_home.py): every relative link
    points to a file under docs/, the others are written out as repository paths."""
    home = _module(DOCS / "_ext" / "readme_home.py").docs_relative(README.read_text())
    targets = [t for t in links(home) if _is_relative(t)]
    assert "assets/overview.png" in targets
    for target in targets:
        assert (DOCS / target.split("#")[0]).is_file(), target
    assert "`experiments/RESULTS.md` in the repository" in home
    # Only the lines with a link outside code change (code such as `schedules[index](t)`
    # is no link).
    for ours, theirs in zip(README.read_text().split("\n"), home.split("\n"), strict=True):
        if not any(_is_relative(t) for t in links(ours)):
            assert theirs == ours


_TEXT = {".md", ".py", ".toml", ".yml", ".yaml", ".cfg"}
_NOT_OURS = {".git", ".venv", "site", "build", "dist", "results"}  # at the root


def _text_files():
    """The repository's text files: sources, documentation, configuration, CI."""
    for path in ROOT.rglob("*"):
        parts = path.relative_to(ROOT).parts
        if parts[0] in _NOT_OURS or not path.is_file():
            continue
        hidden = [p for p in parts[:-1] if p.startswith(".") and p not in {".ci", ".github"}]
        if hidden or "__pycache__" in parts or any(p.endswith(".egg-info") for p in parts):
            continue
        if path.suffix in _TEXT or path.name == "run":
            yield path


def test_nothing_refers_to_files_outside_the_repository():
    outside = ["../" + "shared", "DESIGN" + ".md"]  # split, so this file does not match
    files = list(_text_files())
    assert README in files and DOCS / "design.md" in files and Path(__file__) in files
    for path in files:
        text = path.read_text(errors="replace")
        for needle in outside:
            assert needle not in text, f"{path.relative_to(ROOT)} mentions {needle}"


def test_docstrings_render_as_markdown():
    """The griffe extension of the API pages fences doctests and turns reST math into code."""
    as_markdown = _module(DOCS / "_ext" / "docstrings.py").as_markdown
    docstring = (
        "Sum :math:`a + b`, as below::\n\n    a + b\n\n.. math::\n    a + b\n\n"
        "Example:\n  >>> [1.0, 2.0]\n  [1.0, 2.0]\n\nEnd."
    )
    assert as_markdown(docstring) == (
        "Sum `a + b`, as below:\n\n    a + b\n\n```tex\na + b\n```\n\n"
        "Example:\n  ```pycon\n  >>> [1.0, 2.0]\n  [1.0, 2.0]\n  ```\n\nEnd."
    )


def test_readme_table_lists_every_schedule_factory():
    from jaxsched._base import core_factory_names

    listed = re.findall(r"^\| `(\w+)\(", README.read_text(), flags=re.M)
    assert sorted(listed) == core_factory_names()
