"""HTML parser: selectolax (lexbor) reduced to clean text with headings and links.

The main content node is chosen by ``MAIN_CONTENT_SELECTORS``; boilerplate
inside it (``REMOVED_SELECTORS``) is dropped. Instead of walking the tree in
Python, marker characters are inserted around block elements and the text of
the main node is read once; the markers then split it into headings and
blocks. No Python recursion is involved, so very deep trees are safe.

A heading's anchor is its ``id``, else its enclosing ``section``'s or ``div``'s when that
starts with the heading, else that of an ``<a id>`` or ``<a name>`` inside it. The tree
keeps no source lines: a section's lines run from the line where its anchor is found in
the source to the line of the next section's (unknown for a section without one).
"""

from __future__ import annotations

import itertools
import operator
import re
from dataclasses import dataclass, field, replace

from selectolax.lexbor import LexborHTMLParser, LexborNode

from docbatch.errors import ParseError, ValidationError
from docbatch.formats.base import DocumentBuilder, ParsedDocument
from docbatch.formats.templates import Template, page_keys

MAIN_CONTENT_SELECTORS: tuple[str, ...] = (
    "div[role=main]",
    "main",
    "article",
    "#page-content",
)
"""Candidates for the main content node, tried in order; ``body`` is the fallback."""

REMOVED_SELECTORS: str = (
    "head, script, style, nav, header, footer, noscript, template, form, a.headerlink, a.permalink"
)
"""Elements removed from the main content before its text is read."""

_HEADINGS = {"h1": "1", "h2": "2", "h3": "3", "h4": "4", "h5": "5", "h6": "6"}
_BLOCK_TAGS = (
    "address, article, aside, blockquote, caption, center, dd, details, dialog, div, dl, dt,"
    " fieldset, figcaption, figure, hgroup, hr, legend, li, main, menu, ol, p, section,"
    " summary, table, ul"
)
_MARKED = f"h1, h2, h3, h4, h5, h6, pre, tr, br, td, th, {_BLOCK_TAGS}"

# Markers: block boundary, pre open/close, heading open (+ level digit)/close,
# line break (tr, br) and table cell start.
_BLOCK, _PRE_OPEN, _PRE_CLOSE, _HEAD_OPEN, _HEAD_CLOSE = "\x01", "\x02", "\x03", "\x04", "\x05"
_LINE, _CELL = "\x06", "\x07"
_SPLIT_RE = re.compile("([\x01-\x05])")
_CONTROL_CHARS = "\x01\x02\x03\x04\x05\x06\x07"
_CONTROL_RE = re.compile(r"[\x01-\x07]|&#(?:0*[1-7]|[xX]0*[1-7])(?![0-9a-fA-F]);?")
_INLINE_MARKS = str.maketrans({_LINE: " ", _CELL: " "})
_PRE_MARKS = str.maketrans({_LINE: "\n", _CELL: "\t"})


def _flat(raw: str) -> str:
    """Whitespace-collapsed text of a block; table cells joined by `` | ``, rows by lines."""
    if _LINE not in raw and _CELL not in raw:
        return " ".join(raw.split())
    lines = []
    for row in raw.split(_LINE):
        line = " | ".join(cell for cell in (" ".join(c.split()) for c in row.split(_CELL)) if cell)
        if line:
            lines.append(line)
    return "\n".join(lines)


def _starts_with(parent: LexborNode, node: LexborNode) -> bool:
    """Whether ``node`` comes first in ``parent`` (before any other element or text)."""
    child = parent.child
    while child is not None and child.mem_id != node.mem_id:
        if child.tag != "-comment" and (child.tag != "-text" or (child.text_content or "").strip()):
            return False
        child = child.next
    return child is not None


def _anchor(heading: LexborNode) -> str:
    """What a link to ``heading`` uses (see the module's documentation), else ""."""
    anchor = heading.attributes.get("id")
    if anchor:
        return anchor
    parent = heading.parent
    if parent is not None and parent.tag in ("section", "div") and _starts_with(parent, heading):
        anchor = parent.attributes.get("id")
        if anchor:
            return anchor
    inner = heading.css_first("a[id], a[name]")
    if inner is not None:
        return inner.attributes.get("id") or inner.attributes.get("name") or ""
    return ""


def _mark(main: LexborNode) -> list[str]:
    """Insert marker text nodes around the block elements under ``main``. Blocks inside a
    table cell stay in the cell, so that a table keeps one line per row. Returns the anchor
    of every heading, in document order."""
    anchors = [_anchor(heading) for heading in main.css("h1, h2, h3, h4, h5, h6")]
    in_cells = {inner.mem_id for cell in main.css("td, th") for inner in cell.css(_BLOCK_TAGS)}
    for node in main.css(_MARKED):
        tag = node.tag
        if in_cells and node.mem_id in in_cells:
            if tag not in _HEADINGS and tag != "pre" and tag != "br":
                if tag not in ("table", "tr", "td", "th"):
                    node.insert_after(" ")
                continue
        if tag in _HEADINGS:
            node.insert_before(_HEAD_OPEN + _HEADINGS[tag])
            node.insert_after(_HEAD_CLOSE)
        elif tag == "pre":
            node.insert_before(_PRE_OPEN)
            node.insert_after(_PRE_CLOSE)
        elif tag == "tr" or tag == "br":
            node.insert_after(_LINE)
        elif tag == "td" or tag == "th":
            node.insert_before(_CELL)
        else:
            node.insert_before(_BLOCK)
            node.insert_after(_BLOCK)
    return anchors


def _emit(builder: DocumentBuilder, marked: str, anchors: list[str]) -> None:
    """Feed the marked text of the main node to ``builder`` as headings and blocks;
    ``anchors`` are the headings' anchors, in order."""
    parts = _SPLIT_RE.split(marked)
    buf = [parts[0]]
    pre = heading = 0
    level = 1
    n_heading = -1
    anchor = ""
    for i in range(1, len(parts), 2):
        mark, chunk = parts[i], parts[i + 1]
        if mark == _BLOCK and not heading and not pre:  # by far the most common mark
            text = buf[0] if len(buf) == 1 else "".join(buf)
            if text and not text.isspace():  # (white space alone makes no block)
                builder.block(_flat(text))
            buf = [chunk]
            continue
        if mark == _HEAD_OPEN:
            digit, chunk = chunk[:1], chunk[1:]
            n_heading += 1
            if not pre:
                if not heading:
                    builder.block(_flat("".join(buf)))
                    buf.clear()
                    level = int(digit) if digit.isdigit() else 1
                    anchor = anchors[n_heading] if n_heading < len(anchors) else ""
                heading += 1
        elif mark == _HEAD_CLOSE:
            if not pre and heading:
                heading -= 1
                if not heading:
                    builder.heading(level, "".join(buf).translate(_INLINE_MARKS), anchor)
                    buf.clear()
        elif heading:
            if mark == _BLOCK:
                buf.append(" ")
        elif mark == _PRE_OPEN:
            if not pre:
                builder.block(_flat("".join(buf)))
                buf.clear()
            pre += 1
        elif mark == _PRE_CLOSE:
            if pre:
                pre -= 1
                if not pre:
                    builder.block("".join(buf).translate(_PRE_MARKS))
                    buf.clear()
        elif not pre:
            builder.block(_flat("".join(buf)))
            buf.clear()
        buf.append(chunk)
    rest = "".join(buf)
    builder.block(rest.translate(_PRE_MARKS) if pre else _flat(rest))


@dataclass(frozen=True)
class HtmlOptions:
    """How one source's pages are read.

    Args:
        content_selectors: CSS selectors of the main content, tried before
            ``MAIN_CONTENT_SELECTORS`` (``html_content_selectors``).
        drop_selectors: CSS selectors of elements to drop from the content, besides
            ``REMOVED_SELECTORS`` (``html_drop_selectors``).
        template: the source's template regions (``docbatch.formats.templates``).
    """

    content_selectors: tuple[str, ...] = ()
    drop_selectors: tuple[str, ...] = ()
    template: Template = field(default_factory=Template)


def _main_node(tree: LexborHTMLParser, options: HtmlOptions) -> LexborNode | None:
    """The first node matching the content selectors, else ``body`` (or the root)."""
    for selector in (*options.content_selectors, *MAIN_CONTENT_SELECTORS):
        node = tree.css_first(selector)
        if node is not None:
            return node
    return tree.body or tree.root


def _tree(text: str) -> LexborHTMLParser:
    check_nesting(text)
    if any(c in text for c in _CONTROL_CHARS) or ("&#" in text and _CONTROL_RE.search(text)):
        text = _CONTROL_RE.sub("", text)
    try:
        return LexborHTMLParser(text)
    except (ValueError, RuntimeError) as exc:
        raise ParseError(f"HTML parser rejected the text: {exc}") from exc


def _content(tree: LexborHTMLParser, options: HtmlOptions) -> LexborNode | None:
    """The main content node, with what is never content removed from it."""
    main = _main_node(tree, options)
    if main is not None:
        main_id = main.mem_id
        removed = ", ".join((REMOVED_SELECTORS, *options.drop_selectors))
        for node in reversed(main.css(removed)):
            if node.mem_id != main_id:
                node.decompose()
        for image in main.css("img[alt]"):  # its alt text stands in its place (template too)
            alt = " ".join((image.attributes.get("alt") or "").split())
            if alt:
                image.insert_before(f" {alt} ")
    return main


def template_keys(text: str, options: HtmlOptions | None = None) -> set[tuple[str, str, str]]:
    """What this page tells about its source's template (``templates.page_keys``)."""
    main = _content(_tree(text), options or HtmlOptions())
    return set() if main is None else page_keys(main)


MAX_NESTING = 2000
"""Elements may nest this deep. The HTML parser's time grows with the square of the depth
(50,000 nested ``div``: 3.7 s; 200,000: over two minutes, in C code no alarm reaches);
real pages stay under a hundred."""
NESTING_CHECK_MIN_CHARS = 20_000
"""Shorter texts cannot nest deep enough to matter (about 4,000 elements at most: 30 ms)."""
_NOT_NESTING = (
    # void elements, and those whose end tag may be left out (they do not pile up)
    "area|base|br|col|embed|hr|img|input|link|meta|param|source|track|wbr|"
    "p|li|dt|dd|tr|td|th|option|optgroup|thead|tbody|tfoot|colgroup|rb|rt|rp|html|head|body"
)
_NESTING_TAG = re.compile(
    rf"<(/?)(?!(?:{_NOT_NESTING})[\s/>])[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*?)?(?<!/)>", re.IGNORECASE
)
_ANY_TAG = re.compile(r"<(/?)[A-Za-z]")
_STEP = {"": 1, "/": -1}


def _deepest(tags: list[str]) -> int:
    """The deepest rise of start tags ("") over end tags ("/") in ``tags``."""
    if not tags:
        return 0
    levels = list(itertools.accumulate(map(_STEP.__getitem__, tags)))
    return int(max(map(operator.sub, levels, itertools.accumulate([0, *levels[:-1]], min))))


def check_nesting(text: str, limit: int = MAX_NESTING) -> None:
    """Raise ``ValidationError`` when elements of ``text`` nest deeper than ``limit``.

    Counted on the tags alone, before the parser runs: the deepest rise of start tags over
    end tags (elements whose end tag is optional, void and self-closed elements are not
    counted), in C loops only.

    >>> check_nesting("<div>" * 3 + "</div>" * 3, limit=3)
    >>> check_nesting("</div>" * 5 + "<div>" * 4, limit=3)
    Traceback (most recent call last):
    ...
    docbatch.errors.ValidationError: HTML elements nest 4 deep, over 3; refused before parsing ...
    """
    if len(text) < NESTING_CHECK_MIN_CHARS and limit >= MAX_NESTING:
        return
    if _deepest(_ANY_TAG.findall(text)) <= limit:  # every tag counted: a bound, cheaply
        return
    depth = _deepest(_NESTING_TAG.findall(text))
    if depth > limit:
        raise ValidationError(
            f"HTML elements nest {depth} deep, over {limit}; refused before parsing (the parser's "
            "time grows with the square of the depth)"
        )


def parse(text: str, options: HtmlOptions | None = None) -> ParsedDocument:
    """Parse HTML into a ``ParsedDocument``.

    Args:
        text: The decoded HTML (or XHTML) source.
        options: content and drop selectors and the source's template (default: none).

    Returns:
        The clean text of the main content with sections, the title (``<title>``,
        else the first ``h1``) and every ``a[href]`` of the whole document.

    Raises:
        ParseError: The HTML parser could not build a tree.
        ValidationError: elements nest deeper than ``MAX_NESTING`` (see ``check_nesting``).
    """
    options = options or _DEFAULT
    tree = _tree(text)
    builder = DocumentBuilder()
    builder.links.extend(href for a in tree.css("a[href]") if (href := a.attributes.get("href")) is not None)
    title_node = tree.css_first("title")
    title = " ".join(title_node.text().split()) if title_node is not None else ""

    main = _content(tree, options)
    if main is not None:
        options.template.strip(main)
        if not title:
            h1 = main.css_first("h1") or tree.css_first("h1")
            title = " ".join(h1.text().split()) if h1 is not None else ""
        anchors = _mark(main)
        _emit(builder, main.text(deep=True), anchors)
    doc = builder.build(title or None)
    return replace(doc, line_map=_line_map(text, doc)) if doc.sections else doc


_BEFORE_VALUE = re.compile(r"""[\s"'/](?:id|name|ID|NAME)\s*=\s*["']?$""")
_AFTER_VALUE = frozenset("\"' \t\r\n/>")


def _attribute_at(text: str, value: str, position: int) -> int:
    """The offset of the first ``id`` or ``name`` attribute whose value is ``value`` at or
    after ``position``, else -1."""
    at = text.find(value, position)
    while at != -1:
        end = at + len(value)
        ends = end == len(text) or text[end] in _AFTER_VALUE
        if ends and _BEFORE_VALUE.search(text, max(0, at - 24), at):
            return at
        at = text.find(value, at + 1)
    return -1


def _line_map(text: str, doc: ParsedDocument) -> tuple[tuple[int, int, int], ...]:
    """Each section's source lines: from the line where its anchor is (``id="..."`` or
    ``name="..."``, found after the previous section's) to the line of the next section's
    found anchor, or to the last line; unknown (0) when its anchor is not found."""
    found: list[tuple[int, int]] = []  # (section number, line)
    position, line = 0, 1
    for n, section in enumerate(doc.sections):
        at = _attribute_at(text, section.anchor, position) if section.anchor else -1
        if at != -1:
            line += text.count("\n", position, at)
            position = at
            found.append((n, line))
    if not found:
        return ()
    last_line = text.count("\n") + (0 if text.endswith("\n") else 1)
    lines = dict.fromkeys(range(len(doc.sections)), (0, 0))
    for (n, first), following in zip(found, [*found[1:], (0, last_line)], strict=True):
        lines[n] = (first, max(first, following[1]))
    return tuple((section.start, *lines[n]) for n, section in enumerate(doc.sections))


_DEFAULT = HtmlOptions()
