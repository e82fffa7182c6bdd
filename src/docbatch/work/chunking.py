"""Split a parsed document into passages for search.

Sections (heading spans) are split first; a section longer than ``max_chars``
is cut at paragraph breaks, then line breaks, then spaces, and only as a last
resort inside a word. Every passage is an exact slice of the clean text, so
``text[start:end] == passage.text``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from docbatch.formats.base import ParsedDocument
from docbatch.frames import HEADING_SEPARATOR

_BREAKS = ("\n\n", "\n", " ")


@dataclass(frozen=True, slots=True)
class Passage:
    """One searchable piece of a document."""

    seq: int
    passage_id: str
    heading_path: str
    start: int
    end: int
    text: str


def chunk(doc_id: str, doc: ParsedDocument, max_chars: int) -> list[Passage]:
    """The passages of ``doc``, in order, each at most ``max_chars`` characters.

    Passage ids are derived from the doc id, the heading path and the passage
    text, so an unchanged section keeps its id when other sections change.

    >>> from docbatch.formats.base import DocumentBuilder
    >>> b = DocumentBuilder(); b.heading(1, "Intro"); b.block("Hello world.")
    >>> [(p.heading_path, p.text) for p in chunk("a.md", b.build(None), 100)]
    [('Intro', 'Intro\\n\\nHello world.')]
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be >= 1, got {max_chars}")
    text = doc.text
    spans: list[tuple[str, int, int]] = []
    for section in doc.sections:
        heading = HEADING_SEPARATOR.join(section.heading_path)
        for start, end in _split(text, section.start, section.end, max_chars):
            spans.append((heading, start, end))
    if not doc.sections and text.strip():
        spans.extend(("", s, e) for s, e in _split(text, 0, len(text), max_chars))

    passages: list[Passage] = []
    seen: dict[str, int] = {}
    for seq, (heading, start, end) in enumerate(spans):
        body = text[start:end]
        digest = hashlib.blake2b(f"{doc_id}\0{heading}\0{body}".encode(), digest_size=8).hexdigest()
        n = seen.get(digest, 0)
        seen[digest] = n + 1
        pid = digest if n == 0 else f"{digest}-{n}"
        passages.append(Passage(seq, pid, heading, start, end, body))
    return passages


def _split(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` into trimmed spans of at most ``max_chars``."""
    spans: list[tuple[int, int]] = []
    while start < end:
        start, stop = _trim(text, start, end)
        if start >= stop:
            break
        if stop - start <= max_chars:
            spans.append((start, stop))
            break
        cut = _cut_point(text, start, start + max_chars)
        piece_start, piece_end = _trim(text, start, cut)
        if piece_start < piece_end:
            spans.append((piece_start, piece_end))
        start = cut
    return spans


def _cut_point(text: str, start: int, limit: int) -> int:
    """The best place to end a piece that starts at ``start`` and may not pass ``limit``."""
    floor = start + (limit - start) // 4  # never leave a piece shorter than a quarter
    for brk in _BREAKS:
        at = text.rfind(brk, floor, limit)
        if at > start:
            return at + len(brk)
    return limit


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
