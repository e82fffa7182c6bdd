"""The ``include`` directive for the fast reader: the included file's lines take the
directive's place, at its indentation, before the document is read (docutils inserts them
in its input at the same point). With ``literal`` or ``code`` they are a literal block.

Each line read knows the document line it stands for: an included line, the directive's.
An ``include`` line in a literal block (after ``::``, in a code directive) is its text.
"""

from __future__ import annotations

import re

from docbatch.formats.includes import Includes, select, tab_width
from docbatch.formats.rst_fast.specs import LITERAL

_INCLUDE = re.compile(r"( *)\.\.[ ]+include[ ]?::(?:[ ]+(.*))?$", re.IGNORECASE)
_OPTION = re.compile(r":([\w-]+):(?:[ ]+(.*))?$")
_NAME = re.compile(r"\.\.[ ]+([\w.+:-]+?)[ ]?::")


def expand(lines: list[str], includes: Includes) -> tuple[list[str], list[int] | None]:
    """``lines`` (as the reader takes them) with their includes read in, and the line of
    ``lines`` each comes from (None when nothing was included)."""
    if not any(_INCLUDE.match(line) for line in lines if "::" in line):
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
    pos = 0
    for at_line in [i for i, line in enumerate(lines) if "::" in line and _INCLUDE.match(line)]:
        if at_line < pos or _in_literal(lines, at_line):
            continue
        out.extend(
            [indent + line if line else "" for line in lines[pos:at_line]] if indent else lines[pos:at_line]
        )
        origin.extend(rows[pos:at_line])
        match = _INCLUDE.match(lines[at_line])
        assert match is not None
        inner = match.group(1)
        name, options, pos = _directive(lines, at_line, len(inner), match.group(2) or "")
        read = includes.text(name, source, options.get("encoding")) if name else None
        if read is None:
            continue
        at = rows[at_line]
        text, path = read
        text = select(text, options)
        width = tab_width(options)
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
    out.extend([indent + line if line else "" for line in lines[pos:]] if indent else lines[pos:])
    origin.extend(rows[pos:])


def _in_literal(lines: list[str], pos: int) -> bool:
    """The line at ``pos`` is in a literal block: a line above it, less indented than it and
    than the lines between, opens one."""
    column = len(lines[pos]) - len(lines[pos].lstrip(" "))
    while column > 0 and pos > 0:
        pos -= 1
        line = lines[pos]
        if not line:
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent < column:
            if _opens_literal(line):
                return True
            column = indent
    return False


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


__all__ = ["expand"]
