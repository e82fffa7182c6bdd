"""What every format parser returns, and the shape of a parser."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from docbatch.formats.includes import Includes

SourceLines = tuple[int, int] | None
"""A block's first and last source line (1-based, inclusive), or None when unknown."""


@dataclass(frozen=True, slots=True)
class Section:
    """A span of the clean text that sits under one heading path.

    ``start``/``end`` are character offsets into ``ParsedDocument.text``; the span
    begins with the heading's own line (when there is one). ``heading_path`` runs
    from the outermost heading to this section's heading; it is empty for text
    before the first heading. ``anchor`` is what a link to the section uses (the heading's
    id in its rendered page: an explicit id, else the one its format derives from the
    heading text); empty when there is none.
    """

    heading_path: tuple[str, ...]
    start: int
    end: int
    anchor: str = ""


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """A document reduced to search text.

    ``text`` is the clean text: markup gone, code blocks kept as text, blocks
    separated by blank lines. ``sections`` cover ``text`` in order without
    overlapping. ``links`` are the link targets as written in the source.
    ``warnings`` are problems the parser recovered from (kept as outcome data).
    ``line_map`` tells where the text comes from in the source: sorted
    ``(offset, first, last)`` entries, each saying that the clean text from ``offset`` up to
    the next entry's offset comes from source lines ``first``..``last`` (1-based, inclusive;
    0 and 0 when unknown); empty when the parser gave no lines at all.
    """

    title: str | None
    text: str
    sections: tuple[Section, ...]
    links: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())
    line_map: tuple[tuple[int, int, int], ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    """reStructuredText: each section label the document defines and the section's title
    (what a ``:ref:`` to the label shows in another document)."""
    refs: tuple[str, ...] = ()
    """reStructuredText: the labels of the ``:ref:`` roles without a title of their own that
    name no section of the document (each once, in order); another document's labels,
    shown by their title when the parser was given them."""

    def line_range(self, start: int, end: int) -> SourceLines:
        """The source lines ``text[start:end]`` comes from: the first line of the first block
        it overlaps and the last line of the last; None when one of them is unknown.

        >>> b = DocumentBuilder(); b.block("one", (1, 2)); b.block("two", (4, 4))
        >>> doc = b.build(None)
        >>> doc.line_range(0, 3), doc.line_range(0, len(doc.text)), doc.line_range(5, 8)
        ((1, 2), (1, 4), (4, 4))
        """
        entries = self.line_map
        if not entries or end <= start:
            return None
        i = max(bisect_right(entries, (start, _MAX, _MAX)) - 1, 0)
        first, last = _MAX, 0
        while i < len(entries) and entries[i][0] < end:
            _, a, b = entries[i]
            if not a:
                return None
            first, last = min(first, a), max(last, b)
            i += 1
        return (first, last) if last else None


def check_sections(doc: ParsedDocument, *, complete: bool = True) -> None:
    """Check the ``ParsedDocument`` contract: sections in order, without overlap, within the
    text, each opening with its own heading, with only white space between them; with
    ``complete``, they also cover the text from its start to its end.

    Raises:
        ValueError: naming the first section that breaks the contract.
    """
    if complete and not doc.text:
        if doc.sections:
            raise ValueError("sections given for an empty text")
        return
    if complete and (not doc.sections or doc.sections[0].start != 0 or doc.sections[-1].end != len(doc.text)):
        raise ValueError("sections do not cover the text from its start to its end")
    previous_end = 0
    for n, section in enumerate(doc.sections):
        if not previous_end <= section.start < section.end <= len(doc.text):
            raise ValueError(
                f"section {n} ({section.start}-{section.end}) is out of order or out of the text"
            )
        if doc.text[previous_end : section.start].strip():
            raise ValueError(f"text before section {n} belongs to no section")
        if section.heading_path and not doc.text[section.start : section.end].startswith(
            section.heading_path[-1]
        ):
            raise ValueError(f"section {n} does not open with its heading {section.heading_path[-1]!r}")
        previous_end = section.end


class Parser(Protocol):
    """A format parser: decoded text in, ``ParsedDocument`` out.

    Parsers are pure: they never read files (the text is given), never touch
    the network and keep no state between calls. A parser raises
    ``docbatch.errors.ParseError`` for input it cannot handle.
    """

    def __call__(self, text: str) -> ParsedDocument: ...


class LabelParser(Protocol):
    """A built-in reStructuredText parser (both engines keep this contract).

    ``labels`` maps other documents' section labels to their titles: an untitled ``:ref:``
    to one shows its title. The document's own labels and the labels of its untitled
    ``:ref:`` roles that name none of its sections are in ``ParsedDocument.labels`` and
    ``refs``. ``includes`` reads the files of ``include`` directives (``formats.includes``;
    without it they give nothing); the included text is on the directive's lines."""

    def __call__(
        self, text: str, *, labels: Mapping[str, str] | None = None, includes: Includes | None = None
    ) -> ParsedDocument: ...


_MAX = 1 << 62


class DocumentBuilder:
    """Accumulates blocks of clean text under headings and builds a ``ParsedDocument``.

    Parsers call ``heading(level, text, anchor, line)`` and ``block(text, line)`` in
    document order; the builder keeps the heading stack, the character offsets, the block
    separators and the source lines, so every parser produces text, sections and line map
    the same way. ``line`` is the block's ``(first, last)`` source line range (1-based),
    or None when the parser does not know it.
    """

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self._stack: list[tuple[int, str]] = []
        self._sections: list[Section] = []
        self._section_start = 0
        self._section_path: tuple[str, ...] = ()
        self._section_anchor = ""
        self._lines: list[tuple[int, int, int]] = []
        self._known_lines = False
        self.links: list[str] = []
        self.labels: dict[str, str] = {}
        self.refs: dict[str, None] = {}
        self.warnings: list[str] = []

    def _append(self, text: str) -> None:
        if self._parts:
            self._parts.append("\n\n")
            self._length += 2
        self._parts.append(text)
        self._length += len(text)

    def _place(self, line: SourceLines) -> None:
        """Record the source lines of the block about to be appended."""
        first, last = line if line is not None else (0, 0)
        last = max(first, last)
        if first:
            self._known_lines = True
        lines = self._lines
        if lines and lines[-1][1] == first and lines[-1][2] == last:
            return  # the same lines as the block before: one entry covers both
        lines.append((self._length + (2 if self._parts else 0), first, last))

    def heading(self, level: int, text: str, anchor: str = "", line: SourceLines = None) -> None:
        text = " ".join(text.split())
        if not text:
            return
        self._close_section()
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        self._stack.append((level, text))
        self._section_path = tuple(t for _, t in self._stack)
        self._section_anchor = anchor
        self._section_start = self._length + (2 if self._parts else 0)
        self._place(line)
        self._append(text)

    def block(self, text: str, line: SourceLines = None) -> None:
        if text.strip():
            self._place(line)
            self._append(_strip_blank_lines(text))

    def _close_section(self) -> None:
        if self._length > self._section_start:
            self._sections.append(
                Section(self._section_path, self._section_start, self._length, self._section_anchor)
            )

    def build(self, title: str | None) -> ParsedDocument:
        self._close_section()
        self._section_start = self._length  # a second build() adds no section
        if title is None:
            title = next((s.heading_path[0] for s in self._sections if s.heading_path), None)
        return ParsedDocument(
            title=" ".join(title.split()) if title else None,
            text="".join(self._parts),
            sections=tuple(self._sections),
            links=tuple(self.links),
            warnings=tuple(self.warnings),
            line_map=tuple(self._lines) if self._known_lines else (),
            labels=tuple(self.labels.items()),
            refs=tuple(self.refs),
        )


def _strip_blank_lines(text: str) -> str:
    """``text`` without leading and trailing lines that hold only white space."""
    start = 0
    while (newline := text.find("\n", start)) != -1 and not text[start:newline].strip():
        start = newline + 1
    end = len(text)
    while (newline := text.rfind("\n", start, end)) != -1 and not text[newline + 1 : end].strip():
        end = newline
    return text[start:end]
