"""Markdown parser: pyromark (pulldown-cmark) events reduced to clean text.

Headings become section headings, paragraphs, list items, block quotes, tables
and code blocks become blocks, inline markup is dropped (link text and image
alt text stay), raw HTML is reduced to its text. Front matter gives the title; when the page has no
level-1 heading of its own (a site generator shows the front matter's title and
description at its top), the title opens the text as its level-1 heading, followed by
the description.

A heading's anchor is its explicit ``{#id}``, else its GitHub-style slug (``slug``);
every block records its source lines.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

import pyromark

from docbatch.errors import ParseError
from docbatch.formats.base import DocumentBuilder, ParsedDocument

OPTIONS: pyromark.Options = (
    pyromark.Options.ENABLE_TABLES
    | pyromark.Options.ENABLE_YAML_STYLE_METADATA_BLOCKS
    | pyromark.Options.ENABLE_PLUSES_DELIMITED_METADATA_BLOCKS
    | pyromark.Options.ENABLE_STRIKETHROUGH
    | pyromark.Options.ENABLE_TASKLISTS
    | pyromark.Options.ENABLE_GFM
    | pyromark.Options.ENABLE_HEADING_ATTRIBUTES
)
"""pyromark options: tables, YAML/TOML front matter, strikethrough, task lists, alerts,
heading attributes (``# Title {#id}``)."""

_INLINE = frozenset({"Emphasis", "Strong", "Strikethrough", "Link", "Image", "Superscript", "Subscript"})
_TEXT_EVENTS = frozenset({"Text", "Code", "InlineMath", "DisplayMath", "Html"})
_HTML_RE = re.compile(r"<!--.*?(?:-->|\Z)|<(script|style)\b.*?(?:</\1\s*>|\Z)|<[^>]*>", re.S | re.I)
_BLANK_LINES_RE = re.compile(r"\n\s*\n")
_SLUG_DROP_RE = re.compile(r"[^\w\- ]")
_NEWLINE_RE = re.compile(b"\n")
_LEAF_BLOCKS = frozenset({"Paragraph", "Heading", "CodeBlock", "HtmlBlock", "Table", "MetadataBlock"})
"""Blocks whose source range is the block's text: their own range is their lines."""


def slug(text: str, seen: dict[str, int]) -> str:
    """The GitHub-style anchor of a heading: lowercase, punctuation removed, each space a
    ``-``; a slug already in ``seen`` gets ``-1``, ``-2``... (``seen`` is updated).

    >>> seen: dict[str, int] = {}
    >>> [slug(t, seen) for t in ("Install the *tool*!", "Install the tool", "Été 2.0")]
    ['install-the-tool', 'install-the-tool-1', 'été-20']
    """
    base = result = _SLUG_DROP_RE.sub("", text.strip().lower()).replace(" ", "-")
    while result in seen:
        seen[base] += 1
        result = f"{base}-{seen[base]}"
    seen[result] = 0
    return result


class _Lines:
    """The source lines of pyromark's byte ranges: bisection over the newlines' offsets."""

    def __init__(self, text: str) -> None:
        raw = text.encode() if not text.isascii() else text.encode("ascii")
        self._newlines = [m.start() for m in _NEWLINE_RE.finditer(raw)]

    def __call__(self, start: int, end: int) -> tuple[int, int]:
        newlines = self._newlines
        return bisect_left(newlines, start) + 1, bisect_left(newlines, max(start, end - 1)) + 1


def front_matter_title(meta: str) -> str | None:
    """The ``title`` value of a YAML (``title: x``) or TOML (``title = "x"``) block.

    Only a top-level, single-line value is read; surrounding quotes are removed.

    >>> front_matter_title('title: "Hello"\\ndraft: true\\n')
    'Hello'
    """
    return front_matter_value(meta, "title")


def front_matter_value(meta: str, key: str) -> str | None:
    """The single-line, top-level value of ``key`` in a YAML or TOML front matter block.

    >>> front_matter_value("title: x\\ndescription = 'Returns the sum.'\\n", "description")
    'Returns the sum.'
    """
    match = re.search(rf"^{re.escape(key)}[ \t]*[:=][ \t]*(.*?)[ \t]*$", meta, re.M)
    if match is None:
        return None
    value = match.group(1)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        quote, value = value[0], value[1:-1]
        value = value.replace("''", "'") if quote == "'" else value.replace('\\"', '"')
    elif value.startswith(("|", ">", "[", "{")):
        return None
    value = value.strip()
    return value or None


def html_to_text(raw: str) -> str:
    """Text of a raw HTML fragment: comments, scripts, styles and tags removed.

    >>> html_to_text("<p>a &amp; b</p><!-- note -->")
    'a & b'
    """
    text = html.unescape(_HTML_RE.sub("", raw))
    return _BLANK_LINES_RE.sub("\n", text).strip()


def parse(text: str) -> ParsedDocument:
    """Parse Markdown into a ``ParsedDocument``.

    Args:
        text: The decoded Markdown source.

    Returns:
        The clean text with sections, the title (front matter ``title``, else the
        first heading) and every link destination in document order.

    Raises:
        ParseError: The text cannot be handed to the Markdown parser.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        events: Iterator[Any] = pyromark.events_with_range(text, options=OPTIONS, merge_text=True)
    except (ValueError, RuntimeError) as exc:
        raise ParseError(f"markdown parser rejected the text: {exc}") from exc

    builder = DocumentBuilder()
    lines = _Lines(text)
    links = builder.links
    block = builder.block
    parts: list[str] = []
    cells: list[str] = []
    rows: list[str] = []
    title: str | None = None
    lead: tuple[str, str | None] | None = None  # front matter's title and description, to place
    lead_lines: tuple[int, int] | None = None
    level = 0
    anchor: str | None = None
    place: tuple[int, int] | None = None
    seen: dict[str, int] = {}
    low = high = -1  # the byte range of the text in ``parts``

    for event, where in events:
        if type(event) is str:
            if event == "SoftBreak":
                parts.append(" ")
            elif event == "HardBreak":
                parts.append("\n")
            elif parts:
                block("".join(parts), lines(low, high))
                parts.clear()
                low = -1
            continue
        ((kind, value),) = event.items()
        if kind in _TEXT_EVENTS:
            parts.append(value)
            if low < 0:
                low = where["start"]
            high = where["end"]
            continue
        if kind != "Start" and kind != "End":
            continue
        tag = value if type(value) is str else next(iter(value))
        if tag in _INLINE:
            if kind == "Start" and tag == "Link":
                links.append(value["Link"]["dest_url"])
            continue
        if kind == "Start":
            if lead is not None and tag != "MetadataBlock":
                if tag != "Heading" or value["Heading"]["level"] != "H1":
                    builder.heading(1, lead[0], line=lead_lines)
                    block(lead[1] or "", lead_lines)
                lead = None
            if parts:
                block("".join(parts), lines(low, high))
                parts.clear()
                low = -1
            if tag == "Heading":
                heading = value["Heading"]
                level = int(heading["level"][1])
                anchor = heading["id"]
                if anchor is not None:
                    seen.setdefault(anchor, 0)
            continue
        joined = "".join(parts)
        parts.clear()
        if tag == "TableCell":
            cells.append(" ".join(joined.split()))
            continue
        if tag == "TableRow" or tag == "TableHead":
            if any(cells):
                rows.append(" | ".join(cells))
            cells.clear()
            continue
        if tag in _LEAF_BLOCKS:
            place = lines(where["start"], where["end"])
        elif joined:
            place = lines(low, high)
        low = -1
        if tag == "Heading":
            if joined.strip():
                builder.heading(level, joined, anchor or slug(joined, seen), place)
        elif tag == "Table":
            block("\n".join(rows), place)
            rows.clear()
        elif tag == "HtmlBlock":
            block(html_to_text(joined), place)
        elif tag == "MetadataBlock":
            if title is None:
                title = front_matter_title(joined)
                if title is not None:
                    lead = (title, front_matter_value(joined, "description"))
                    lead_lines = place
        elif joined:
            block(joined, place)
    if parts:
        block("".join(parts), lines(low, high))
    if lead is not None and lead[1]:  # front matter and nothing else: a title alone is no text
        builder.heading(1, lead[0], line=lead_lines)
        block(lead[1], lead_lines)
    return builder.build(title)
