"""Plain-text parser: blank-line separated blocks, setext-underlined headings.

A line underlined with ``===`` (level 1) or ``---`` (level 2), at least three
characters, is a heading; an identical overline above it is consumed too.
The title is the first non-empty line that is not a rule (``===``, ``---``...).
"""

from __future__ import annotations

import re

from docbatch.formats.base import DocumentBuilder, ParsedDocument

TITLE_MAX_CHARS = 200
"""Longest title taken from the first non-empty line."""

_HEADING_RE = re.compile(
    r"^(?:(?P<over>=|-)(?P=over){2,}[ \t]*\n)?"
    r"(?![ \t]*[=-]{3,}[ \t]*$)(?=[^\n]*\S)(?P<text>[^\n]*)\n"  # linear: no split to backtrack over
    r"(?P<under>=|-)(?P=under){2,}[ \t]*$",
    re.M,
)
_BLANK_RE = re.compile(r"\n[ \t]*\n")
_TITLE_RE = re.compile(r"^[ \t]*(?![=\-*_~#]{3,}[ \t]*$)(\S[^\n]*)", re.M)


def _blocks(builder: DocumentBuilder, chunk: str) -> None:
    """Add the blank-line separated blocks of ``chunk`` to ``builder``."""
    for block in _BLANK_RE.split(chunk):
        builder.block(block.rstrip())


def parse(text: str) -> ParsedDocument:
    """Parse plain text into a ``ParsedDocument``.

    Args:
        text: The decoded text.

    Returns:
        The text split into blocks and sections, titled by its first non-empty line.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    builder = DocumentBuilder()
    position = 0
    for match in _HEADING_RE.finditer(text):
        _blocks(builder, text[position : match.start()])
        builder.heading(1 if match["under"] == "=" else 2, match["text"])
        position = match.end()
    _blocks(builder, text[position:])

    first = _TITLE_RE.search(text)
    title = first[1].strip()[:TITLE_MAX_CHARS] if first else None
    return builder.build(title)
