"""Markdown parser: pyromark (pulldown-cmark) events reduced to clean text.

Headings become section headings, paragraphs, list items, block quotes, tables
and code blocks become blocks, inline markup is dropped (link text and image
alt text stay), raw HTML is reduced to its text. Front matter gives the title; when the page has no
level-1 heading of its own (a site generator shows the front matter's title and
description at its top), the title opens the text as its level-1 heading, followed by
the description.
"""

from __future__ import annotations

import html
import re
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
)
"""pyromark options: tables, YAML/TOML front matter, strikethrough, task lists, alerts."""

_INLINE = frozenset({"Emphasis", "Strong", "Strikethrough", "Link", "Image", "Superscript", "Subscript"})
_TEXT_EVENTS = frozenset({"Text", "Code", "InlineMath", "DisplayMath", "Html"})
_HTML_RE = re.compile(r"<!--.*?(?:-->|\Z)|<(script|style)\b.*?(?:</\1\s*>|\Z)|<[^>]*>", re.S | re.I)
_BLANK_LINES_RE = re.compile(r"\n\s*\n")


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
        events: Iterator[Any] = pyromark.events(text, options=OPTIONS)
    except (ValueError, RuntimeError) as exc:
        raise ParseError(f"markdown parser rejected the text: {exc}") from exc

    builder = DocumentBuilder()
    links = builder.links
    block = builder.block
    parts: list[str] = []
    cells: list[str] = []
    rows: list[str] = []
    title: str | None = None
    lead: tuple[str, str | None] | None = None  # front matter's title and description, to place
    level = 0

    for event in events:
        if type(event) is str:
            if event == "SoftBreak":
                parts.append(" ")
            elif event == "HardBreak":
                parts.append("\n")
            elif parts:
                block("".join(parts))
                parts.clear()
            continue
        ((kind, value),) = event.items()
        if kind in _TEXT_EVENTS:
            parts.append(value)
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
                    builder.heading(1, lead[0])
                    block(lead[1] or "")
                lead = None
            if parts:
                block("".join(parts))
                parts.clear()
            if tag == "Heading":
                level = int(value["Heading"]["level"][1])
            continue
        joined = "".join(parts)
        parts.clear()
        if tag == "Heading":
            builder.heading(level, joined)
        elif tag == "TableCell":
            cells.append(" ".join(joined.split()))
        elif tag == "TableRow" or tag == "TableHead":
            if any(cells):
                rows.append(" | ".join(cells))
            cells.clear()
        elif tag == "Table":
            block("\n".join(rows))
            rows.clear()
        elif tag == "HtmlBlock":
            block(html_to_text(joined))
        elif tag == "MetadataBlock":
            if title is None:
                title = front_matter_title(joined)
                if title is not None:
                    lead = (title, front_matter_value(joined, "description"))
        elif joined:
            block(joined)
    if parts:
        block("".join(parts))
    if lead is not None and lead[1]:  # front matter and nothing else: a title alone is no text
        builder.heading(1, lead[0])
        block(lead[1])
    return builder.build(title)
