"""The ``include`` directive for the fast reader: the included file's lines take the
directive's place, at its indentation, before the document is read (docutils inserts them
in its input at the same point). With ``literal`` or ``code`` they are a literal block.

Each line read knows the document line it stands for: an included line, the directive's.
An ``include`` line in a literal block (after ``::``, in a code directive) is its text.
"""

from __future__ import annotations

import re

from docbatch.formats.includes import Includes, select
from docbatch.formats.rst_fast.specs import LITERAL

_INCLUDE = re.compile(r"( *)\.\.[ ]+include[ ]?::(?:[ ]+(.*))?$", re.IGNORECASE)
_OPTION = re.compile(r":([\w-]+):(?:[ ]+(.*))?$")
_NAME = re.compile(r"\.\.[ ]+([\w.+:-]+?)[ ]?::")


def expand(lines: list[str], includes: Includes) -> tuple[list[str], list[int] | None]:
    """``lines`` (as the reader takes them) with their includes read in, and the line of
    ``lines`` each comes from (None when nothing was included)."""
    if not any(".. include" in line.lower() for line in lines):
        return lines, None
    out: list[str] = []
    origin: list[int] = []
    _expand(lines, includes, None, out, origin, list(range(len(lines))), "")
    return out, origin


def _expand(
    lines: list[str],
    includes: Includes,
    source: str | None,
    out: list[str],
    origin: list[int],
    rows: list[int],
    indent: str,
) -> None:
    pos, size = 0, len(lines)
    verbatim = -1  # the indentation of the line opening a literal block, if in one
    while pos < size:
        line = lines[pos]
        column = len(line) - len(line.lstrip(" ")) if line else -1
        if verbatim >= 0 and line and column <= verbatim:
            verbatim = -1
        match = _INCLUDE.match(line) if verbatim < 0 and "include" in line.lower() else None
        if match is None and verbatim < 0 and _opens_literal(line):
            verbatim = column
        if match is None:
            out.append(indent + line if line else "")
            origin.append(rows[pos])
            pos += 1
            continue
        inner = match.group(1)
        name, options, end = _directive(lines, pos, len(inner), match.group(2) or "")
        read = includes.text(name, source, options.get("encoding")) if name else None
        at = rows[pos]
        pos = end
        if read is None:
            continue
        text, path = read
        text = select(text, options)
        width = _int(options.get("tab-width"), 8)
        included = [piece.expandtabs(width).rstrip() for piece in text.splitlines()]
        if "literal" in options or "code" in options:
            block = ["::", "", *("    " + piece if piece else "" for piece in included), ""]
            out.extend(indent + inner + piece if piece else "" for piece in block)
            origin.extend([at] * len(block))
            continue
        out.append("")
        origin.append(at)
        _expand(included, includes, path, out, origin, [at] * len(included), indent + inner)
        out.append("")
        origin.append(at)


def _opens_literal(line: str) -> bool:
    """``line`` opens a literal block (``::`` ending a paragraph line, a code directive),
    whose lines are not read for includes."""
    stripped = line.lstrip(" ")
    if stripped.startswith(".. "):
        name = _NAME.match(stripped)
        return name is not None and name.group(1).lower() in LITERAL
    return line.endswith("::")


def _directive(lines: list[str], pos: int, column: int, argument: str) -> tuple[str, dict[str, str], int]:
    """The path, options and end of the ``include`` directive at ``pos``."""
    end = pos + 1
    body: list[str] = []
    while end < len(lines) and (not lines[end] or len(lines[end]) - len(lines[end].lstrip()) > column):
        body.append(lines[end].strip())
        end += 1
    while body and not body[-1]:
        body.pop()
        end -= 1
    name_parts = [argument.strip()] if argument.strip() else []
    options: dict[str, str] = {}
    for piece in body:
        option = _OPTION.match(piece)
        if option is not None:
            options[option.group(1).lower()] = (option.group(2) or "").strip()
        elif not options and piece:
            name_parts.append(piece)
    return "".join(name_parts), options, end


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


__all__ = ["expand"]
