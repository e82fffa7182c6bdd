"""The section labels of a reStructuredText document, found without parsing it.

``scan_labels`` looks only at the lines around each label (``.. _name:`` with nothing after
the colon, at the start of a line): the labels chained over blank lines, other labels and
directives that leave nothing behind (``index``, ...), then a section title under its
underline, or between an overline and an underline of the same characters. The title is
cleaned of inline markup as the parsers clean it (with the substitutions the document
defines). A label defined twice in the document
names no section, as in the parsers.

It gives what ``ParsedDocument.labels`` holds for nearly every document, at a small part of
a parse's cost: a caller that needs every document's labels before parsing any (a
``:ref:`` in one document shows the title of a section in another) takes them from here,
and checks them against the parsers' afterwards. A section the full reader would drop (a
title level out of order, a title starting like a list item) or a title using the
document's substitutions may come out otherwise here.
"""

from __future__ import annotations

import re

from docbatch.formats.rst_fast.blocks import BlockReader
from docbatch.formats.rst_fast.directives import SUBSTITUTION_START, TARGET, substitution
from docbatch.formats.rst_fast.inline import Inline
from docbatch.formats.rst_fast.lines import BLOCK, LINE
from docbatch.formats.rst_fast.specs import HIDDEN, NODES
from docbatch.formats.rst_fast.tables import width
from docbatch.formats.rst_fast.text import Substitution, escape, has_title, normalize_name, unescape

_TARGET_LINE = re.compile(r"^\.\.[ ]+_(?![ ]|$)", re.MULTILINE)
_DIRECTIVE = re.compile(r"\.\.[ ]+([\w.+:-]+?)[ ]?::(?:[ ]+|$)")
_PASSED = HIDDEN - NODES
"""Directives between a label and its section that leave the label to the section."""


def scan_labels(text: str) -> dict[str, str]:
    """Each section label ``text`` defines and its section's title (see the module)."""
    if ".. _" not in text or _TARGET_LINE.search(text) is None:
        return {}
    lines = [line.rstrip() for line in text.expandtabs(8).splitlines()]
    named: dict[str, int] = {}
    found: dict[str, str] = {}
    inline: Inline | None = None
    size, pos = len(lines), 0
    for start in [i for i, line in enumerate(lines) if line.startswith(".. ") and "_" in line]:
        if start < pos:
            continue  # read with the label before
        pos = start
        label = _label(lines, pos)
        if label is None:
            continue
        chain: list[str] = []
        while label is not None:
            name, internal = label
            named[name] = named.get(name, 0) + 1
            pos = _after_block(lines, pos)
            chain = [*chain, name] if internal else []
            label = None
            while pos < size:
                line = lines[pos]
                if not line:
                    pos += 1
                    continue
                label = _label(lines, pos)
                if label is None and _passed(line):
                    pos = _after_block(lines, pos)
                    continue
                break
        if not chain or pos >= size:
            continue
        title = _title(lines, pos)
        if title is None:
            continue
        if inline is None or ("|" in title and not inline.substitutions):
            inline = Inline({}, _substitutions(lines) if "|" in title else {}, len(text))
        shown = " ".join(inline.text(title).split())
        if shown:
            for name in chain:
                found.setdefault(name, shown)
    return {name: title for name, title in found.items() if named.get(name) == 1}


def _label(lines: list[str], pos: int) -> tuple[str, bool] | None:
    """The name of the target line ``pos`` defines and whether it is internal (nothing after
    its colon, nor on indented lines after it), or None when it is no named target."""
    line = lines[pos]
    if not line.startswith(".. ") or _TARGET_LINE.match(line) is None:
        return None
    start = line.index("_") + 1
    escaped = escape(line[start:])
    match = TARGET.match(escaped)
    if match is None or match.group("name") is None:
        return None
    following = lines[pos + 1] if pos + 1 < len(lines) else ""
    internal = not escaped[match.end() :].strip() and not following.startswith(" ")
    return normalize_name(unescape(match.group("name"))), internal


def _substitutions(lines: list[str]) -> dict[str, list[Substitution]]:
    """The substitutions the document defines (at the start of a line), read as the parser
    reads them."""
    reader = BlockReader()
    for pos, line in enumerate(lines):
        if line.startswith(".. ") and "|" in line:
            match = SUBSTITUTION_START.match(line)
            if match is not None:
                substitution(reader, lines, pos, match.end())
    return reader.substitutions


def _passed(line: str) -> bool:
    match = _DIRECTIVE.match(line)
    return match is not None and match.group(1).lower() in _PASSED


def _after_block(lines: list[str], pos: int) -> int:
    """The line after the explicit markup block starting at ``pos`` (its indented lines)."""
    pos += 1
    while pos < len(lines) and (not lines[pos] or lines[pos][0] == " "):
        pos += 1
    while pos > 0 and not lines[pos - 1]:
        pos -= 1
    return pos


def _title(lines: list[str], pos: int) -> str | None:
    """The title of the section starting at ``pos``, if one does."""
    line = lines[pos]
    following = lines[pos + 1] if pos + 1 < len(lines) else ""
    if line[0] == " " or not following:
        return None
    if LINE.match(line):
        under = lines[pos + 2] if pos + 2 < len(lines) else ""
        title = following.strip()
        if under != line or LINE.match(following) or (len(line) < 4 and width(title) > len(line)):
            return None
        return title
    if BLOCK.match(line) or not LINE.match(following):
        return None
    if len(following) < 4 and width(line) > len(following):
        return None
    return line


_REF_ROLE = re.compile(r":(?:std:)?ref:`((?:[^`\\]|\\.)+)`")


def ref_labels(text: str) -> list[str]:
    """The labels the untitled ``:ref:`` roles of ``text`` name (normalised as the parser
    looks them up): what a worker parsing ``text`` needs of other documents' titles. Roles
    the parser would read otherwise (in a literal block, say) only add a label too many.

    >>> ref_labels("See :ref:`Build  Targets` and :ref:`the docs <docs-label>`.")
    ['build targets']
    """
    found: dict[str, None] = {}
    for match in _REF_ROLE.finditer(text):
        escaped = match.group(1)
        if not has_title(escaped):
            found[normalize_name(unescape(escaped))] = None
    return list(found)
