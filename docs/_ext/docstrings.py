"""A griffe extension for the API pages: the docstrings' doctests and math as Markdown.

jaxsched's docstrings are written for doctest and with reStructuredText's math:
``>>>`` examples (under an ``Example:`` heading or in the text), ``:math:`...```
roles, ``.. math::`` blocks, and literal blocks introduced by ``::``. Markdown reads
``>>>`` as nested quotes and a printed list such as ``[0.5, 1.0]`` as a link, so
before griffe parses a docstring this extension rewrites, in the text mkdocstrings
renders only:

- each run of doctest lines into a fenced ``pycon`` block;
- ``:math:`x``` into inline code and a ``.. math::`` block into a fenced ``tex``
  block (the TeX as written: no script from outside the site is needed);
- a line ending in ``::`` into one ending in ``:`` (the indented block after it is
  a code block in Markdown too).

The source files, and the doctests that pytest runs, stay as they are.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_INLINE_MATH = re.compile(r":math:`([^`]*)`")
_MATH_DIRECTIVE = re.compile(r"^(\s*)\.\. math::\s*(.*)$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _is_doctest(line: str) -> bool:
    stripped = line.lstrip()
    return stripped == ">>>" or stripped.startswith(">>> ")


def as_markdown(text: str) -> str:
    """``text`` (a docstring) with its doctests fenced and its math as code."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        math = _MATH_DIRECTIVE.match(line)
        if _is_doctest(line):
            pad = " " * _indent(line)
            block = [line]
            i += 1
            while i < len(lines) and lines[i].strip() and _indent(lines[i]) >= len(pad):
                block.append(lines[i])
                i += 1
            out += [pad + "```pycon", *block, pad + "```"]
            continue
        if math:
            pad, first = math.group(1), math.group(2)
            body = [first] if first else []
            i += 1
            while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > len(pad)):
                if not lines[i].strip() and body:
                    break
                if lines[i].strip():
                    body.append(lines[i].strip())
                i += 1
            out += [pad + "```tex", *(pad + b for b in body), pad + "```"]
            continue
        line = _INLINE_MATH.sub(lambda m: "`" + m.group(1) + "`", line)
        if line.endswith("::") and not line.lstrip().startswith(".."):
            line = line[:-1]
        out.append(line)
        i += 1
    return "\n".join(out)


class DocstringsAsMarkdown(griffe.Extension):
    """Rewrites every docstring with `as_markdown` before griffe parses it."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = as_markdown(obj.docstring.value)
