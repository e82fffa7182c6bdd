"""Which directives the fast reStructuredText reader knows, and how it splits their bodies.

For each directive docutils (with the ``sphinx_compat`` fallbacks) knows, ``NATIVE``
holds whether it takes an argument, which options and whether content, as docutils
checks them, and what ``directives`` does with it; ``split_body`` splits a directive's
body into argument text, options and content, or rejects it as docutils does (a
rejected directive gives nothing).
"""

from __future__ import annotations

import re

from docbatch.formats.rst_fast.lines import trim

_FIELD = re.compile(r":(?![: ])((?:[^:\\]|\\.|:(?!(?:[ `]|$)))*)(?<! ):(?: +|$)")

HIDDEN = frozenset(
    """index highlight highlightlang currentmodule module program sectionauthor codeauthor
    moduleauthor tabularcolumns default-domain testsetup testcleanup todolist cssclass contents
    meta include role default-role target-notes date replace unicode
    restructuredtext-test-directive""".split()
)
LITERAL = frozenset(
    """code code-block sourcecode literalinclude doctest testcode testoutput prompt ipython
    graphviz digraph graph""".split()
)
PROSE = frozenset({"seealso", "centered", "todo", "deprecated-removed", "hlist"})
_CLASS_NAME = frozenset({"class", "name"})
_IMAGE = frozenset({"align", "alt", "class", "height", "loading", "name", "scale", "target", "width"})
_TABLE = frozenset({"align", "class", "name", "width", "widths", "header-rows", "stub-columns"})
_CSV = _TABLE | {"delim", "encoding", "escape", "file", "header", "keepspace", "quote", "url"}
NODES = frozenset({"contents", "meta", "target-notes", "sectnum", "section-numbering", "image", "figure"})
"""Directives that make a node even when they give no text here."""
_ANY: frozenset[str] = frozenset()
_NONE = 0
_OPTIONAL = 1
_REQUIRED = 2

# name: (argument, accepted options (None: no options, _ANY: any), content, action);
# argument and content are _NONE (not allowed), _OPTIONAL or _REQUIRED.
Spec = tuple[int, frozenset[str] | None, int, str]
NATIVE: dict[str, Spec] = {
    **dict.fromkeys(
        "attention caution danger error hint important note tip warning".split(),
        (_NONE, _CLASS_NAME, _REQUIRED, "body"),
    ),
    **dict.fromkeys(("epigraph", "highlights", "pull-quote"), (_NONE, None, _REQUIRED, "body")),
    **dict.fromkeys(("header", "footer"), (_NONE, None, _REQUIRED, "body")),
    **dict.fromkeys(("class", "rst-class"), (_REQUIRED, None, _OPTIONAL, "body")),
    **dict.fromkeys(("sectnum", "section-numbering"), (_NONE, _ANY, _NONE, "sectnum")),
    "admonition": (_REQUIRED, _CLASS_NAME, _REQUIRED, "titled"),
    "topic": (_REQUIRED, _CLASS_NAME, _REQUIRED, "titled"),
    "sidebar": (_OPTIONAL, _CLASS_NAME | {"subtitle"}, _REQUIRED, "titled"),
    "rubric": (_REQUIRED, _CLASS_NAME, _NONE, "titled"),
    "compound": (_NONE, _CLASS_NAME, _REQUIRED, "body"),
    "container": (_OPTIONAL, frozenset({"name"}), _REQUIRED, "body"),
    "parsed-literal": (_NONE, _CLASS_NAME, _REQUIRED, "parsed"),
    "math": (_NONE, _CLASS_NAME, _REQUIRED, "verbatim"),
    "line-block": (_NONE, _CLASS_NAME, _REQUIRED, "lines"),
    "table": (_OPTIONAL, _TABLE, _REQUIRED, "titled"),
    "csv-table": (_OPTIONAL, _CSV, _OPTIONAL, "table"),
    "list-table": (_OPTIONAL, _TABLE, _REQUIRED, "table"),
    "image": (_REQUIRED, _IMAGE, _NONE, "image"),
    "figure": (_REQUIRED, _IMAGE | {"figclass", "figname", "figwidth"}, _OPTIONAL, "image"),
    "title": (_REQUIRED, None, _NONE, "title"),
    "toctree": (_NONE, _ANY, _OPTIONAL, "toctree"),
    "productionlist": (_OPTIONAL, _ANY, _OPTIONAL, "verbatim"),
    **dict.fromkeys(("only", "ifconfig"), (_OPTIONAL, _ANY, _OPTIONAL, "transparent")),
    **dict.fromkeys(LITERAL, (_OPTIONAL, _ANY, _OPTIONAL, "literal")),
    "raw": (_REQUIRED, frozenset({"class", "encoding", "file", "url"}), _OPTIONAL, "raw"),
}
FALLBACK: Spec = (_OPTIONAL, _ANY, _OPTIONAL, "fallback")


def split_body(body: list[str], spec: Spec) -> tuple[str, dict[str, str], list[str], int] | None:
    """Argument text, options and content of a directive body, and the index in ``body``
    of the content's first line (None: docutils rejects it)."""
    argument, accepted, content_rule, _ = spec
    first, last = (1 if body and not body[0].strip() else 0), len(body)
    while last > first and not body[last - 1].strip():
        last -= 1
    body = body[first:last]
    split = len(body)
    if argument or accepted is not None:
        split = next((i for i, line in enumerate(body) if not line.strip()), len(body))
    arg_block, content = body[:split], body[split + 1 :]
    at = first + split + 1
    values: dict[str, list[str]] = {}
    start = None
    if accepted is not None:
        start = next((i for i, line in enumerate(arg_block) if _FIELD.match(line)), None)
    if start is not None:
        value: list[str] = []
        for line in arg_block[start:]:
            match = _FIELD.match(line)
            if match:
                name = match.group(1).lower()
                if accepted and name not in accepted:
                    return None
                value = values[name] = [line[match.end() :].strip()]
            elif line[:1] == " ":
                value.append(line.strip())
            else:
                return None
        arg_block = arg_block[:start]
    options = {name: "\n".join(lines).strip() for name, lines in values.items()}
    if arg_block and not argument:
        content, arg_block, at = arg_block + body[split:], [], first
    lead = 0
    while lead < len(content) and not content[lead].strip():
        lead += 1
    content = trim(content)
    text = "\n".join(arg_block).strip()
    if argument == _REQUIRED and not text:
        return None
    if (content and content_rule == _NONE) or (not content and content_rule == _REQUIRED):
        return None
    return text, options, content, at + lead


__all__ = ["FALLBACK", "HIDDEN", "LITERAL", "NATIVE", "NODES", "PROSE", "Spec", "split_body"]
