"""A MkDocs hook: the site's home page is the README, with its links made docs-relative.

The README lives at the repository's root and links into ``docs/`` (``docs/guides/...``,
the figure ``docs/assets/overview.png``), so that it reads well in the repository. On the
site, ``index.md`` is the same text with ``docs/`` taken off those links; a link to a
file outside ``docs/`` (``experiments/RESULTS.md``), which the site does not serve, is
given as its path in the repository instead.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

# Code (a fenced block, an inline span) is kept as it is; a link outside code is rewritten.
_CODE_OR_LINK = re.compile(
    r"(?P<code>^ *```.*?^ *```|(`+)[^`].*?(?<!`)\2(?!`))|(?P<link>(!?)\[([^\]]*)\]\(([^)\s]+)\))",
    flags=re.S | re.M,
)


def _is_relative(target: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:|^/|^#", target)


def docs_relative(markdown: str) -> str:
    """``markdown`` (the README) with its links rewritten for ``docs/index.md``."""

    def rewrite(match: re.Match[str]) -> str:
        if match.group("code"):
            return match.group(0)
        bang, text, target = match.group(4, 5, 6)
        if not _is_relative(target):
            return match.group(0)
        if target.startswith("docs/"):
            return f"{bang}[{text}]({target.removeprefix('docs/')})"
        shown = text if text.strip("`") == target else f"{text} (`{target}`)"
        return f"{shown} in the repository"

    return _CODE_OR_LINK.sub(rewrite, markdown)


def on_page_read_source(page: Any, config: Any, **kwargs: Any) -> str | None:
    if page.file.src_uri != "index.md":
        return None
    readme = Path(config["config_file_path"]).parent / "README.md"
    return docs_relative(readme.read_text(encoding="utf-8"))
