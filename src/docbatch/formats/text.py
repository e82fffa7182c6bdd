"""Plain-text parser: blank-line separated blocks, setext-underlined headings.

A line underlined with ``===`` (level 1) or ``---`` (level 2), at least three
characters, is a heading; an identical overline above it is consumed too.
The title is the first non-empty line that is not a rule (``===``, ``---``...).
"""

from __future__ import annotations

import re
from bisect import bisect_left

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


class _Lines:
    """The source line of a character offset (1-based), by bisection over the newlines."""

    def __init__(self, text: str) -> None:
        self._newlines = [m.start() for m in re.finditer("\n", text)]

    def __call__(self, start: int, end: int) -> tuple[int, int]:
        """The first and last line of ``text[start:end]``."""
        return bisect_left(self._newlines, start) + 1, bisect_left(self._newlines, max(start, end - 1)) + 1


def _blocks(builder: DocumentBuilder, text: str, start: int, end: int, lines: _Lines) -> None:
    """Add the blank-line separated blocks of ``text[start:end]`` to ``builder``."""
    for blank in _BLANK_RE.finditer(text, start, end):
        _block(builder, text, start, blank.start(), lines)
        start = blank.end()
    _block(builder, text, start, end, lines)


def _block(builder: DocumentBuilder, text: str, start: int, end: int, lines: _Lines) -> None:
    block = text[start:end].rstrip()
    if block.strip():
        skipped = len(block) - len(block.lstrip())  # leading blank lines and spaces
        builder.block(block, lines(start + skipped, start + len(block)))


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
    lines = _Lines(text)
    position = 0
    for match in _HEADING_RE.finditer(text):
        _blocks(builder, text, position, match.start(), lines)
        builder.heading(1 if match["under"] == "=" else 2, match["text"], line=lines(*match.span()))
        position = match.end()
    _blocks(builder, text, position, len(text), lines)

    first = _TITLE_RE.search(text)
    title = first[1].strip()[:TITLE_MAX_CHARS] if first else None
    return builder.build(title)
