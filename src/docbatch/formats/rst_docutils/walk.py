"""The walk over a docutils doctree that gives the search text, for ``rst_docutils``.

The doctree is visited in document order without recursion: sections give headings
(with their anchors), paragraphs, literal blocks, tables, line blocks, option lists,
simple lists and fields one block each, other containers their children. ``Placed``
hands them to the ``DocumentBuilder`` with the source lines they were read from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from docutils import nodes

from docbatch.formats.base import DocumentBuilder

_Item = tuple[nodes.Node, int, str]


def one_line(text: str) -> str:
    return " ".join(text.split())


def _skip(node: nodes.Node) -> bool:
    if isinstance(node, nodes.Invisible | nodes.raw | nodes.meta | nodes.transition):
        return True
    return isinstance(node, nodes.topic) and "contents" in node.get("classes", ())


def _simple(node: nodes.Node) -> str | None:
    """The one-line text of a paragraph or of an element holding just one, else None."""
    if isinstance(node, nodes.paragraph):
        return one_line(node.astext())
    if isinstance(node, nodes.Element) and len(node.children) == 1:
        if isinstance(node.children[0], nodes.paragraph):
            return one_line(node.children[0].astext())
    if isinstance(node, nodes.Element) and not node.children:
        return ""
    return None


def _markers(node: nodes.Element) -> list[str]:
    count = len(node.children)
    if isinstance(node, nodes.enumerated_list):
        start = node.get("start", 1)
        return [f"{start + i}. " for i in range(count)]
    return ["- "] * count


def _table_text(node: nodes.table) -> str:
    lines = []
    for row in node.findall(nodes.row):
        cells = [one_line(entry.astext()) for entry in row.children]
        if any(cells):
            lines.append(" | ".join(cells))
    return "\n".join(lines)


def _line_block_text(node: nodes.line_block) -> str:
    return "\n".join(line.astext() for line in node.findall(nodes.line))


def _option_list_text(node: nodes.option_list) -> str:
    lines = []
    for item in node.children:
        parts = [one_line(child.astext()) for child in item.children]
        lines.append("  ".join(part for part in parts if part))
    return "\n".join(lines)


def _field_label(node: nodes.Node) -> str:
    if isinstance(node, nodes.field):
        return one_line(node.children[0].astext())
    return str(node.tagname).capitalize()


def _field_items(node: nodes.Element, depth: int) -> list[_Item] | str:
    """One block for a list of simple fields, else the fields' items to walk."""
    lines = []
    for field in node.children:
        body = field.children[-1] if isinstance(field, nodes.field) else field
        text = one_line(body.astext()) if isinstance(body, nodes.TextElement) else _simple(body)
        if text is None:
            break
        if text:
            lines.append(f"{_field_label(field)}: {text}")
    else:
        return "\n".join(lines)
    items: list[_Item] = []
    for field in node.children:
        if isinstance(field, nodes.field):
            items.append((_placed_like(field, _field_label(field) + ":"), depth, ""))
            items.extend((child, depth, "") for child in field.children[-1].children)
        else:
            items.append((field, depth, f"{_field_label(field)}: "))
    return items


def _items(children: Iterable[nodes.Node], depth: int, prefix: str) -> list[_Item]:
    """Walk items for ``children``; ``prefix`` goes to the first visible one."""
    kids = [child for child in children if not _skip(child)]
    return [(child, depth, prefix if i == 0 else "") for i, child in enumerate(kids)]


def _children(node: nodes.Element, depth: int, prefix: str) -> list[_Item]:
    return _items(node.children, depth, prefix)


def _placed_like(node: nodes.Node, text: str) -> nodes.paragraph:
    """A paragraph of ``text`` standing for part of ``node``, at its line."""
    paragraph = nodes.paragraph("", text)
    paragraph.line = _line_of(node)
    return paragraph


def _line_of(node: nodes.Node) -> int | None:
    """The source line of ``node``, else of its first descendant that has one, else of
    its nearest ancestor that has one."""
    if node.line:
        return int(node.line)
    if isinstance(node, nodes.Element):
        for inner in node.findall(include_self=False):
            if inner.line:
                return int(inner.line)
    for parent in ancestors(node):
        if parent.line:
            return int(parent.line)
    return None


def _anchor(section: nodes.Element) -> str:
    """The id a link to ``section`` uses: its explicit label's, else its own."""
    ids: list[str] = section["ids"]
    doc = section.document
    if doc is not None:
        for name in section["names"]:
            if doc.nametypes.get(name) and doc.nameids.get(name) in ids:
                return str(doc.nameids[name])
    return ids[0] if ids else ""


_LONG_WORD, _WORD = re.compile(r"\w{4,}"), re.compile(r"\w+")


class Placed:
    """Hands headings and blocks to a ``DocumentBuilder`` with their source lines. docutils
    gives the first line of a node only: a block runs to the line before the next block's
    (the last one to the last line of the text), a heading covers its title and underline.
    A node made by a directive may give the line after the directive: a block whose first
    word is not on its line starts on the nearest line above that holds it."""

    def __init__(self, builder: DocumentBuilder, text: str) -> None:
        self.builder = builder
        self.node: nodes.Node | None = None  # the node being expanded
        self._pending: tuple[str, int] | None = None
        self._known = 1  # the line of the last block or heading
        self._source = text.split("\n")
        self._end = max(1, len(text.rstrip().split("\n")))

    def _first(self) -> int:
        line = _line_of(self.node) if self.node is not None else None
        return line if line is not None and line > 0 else self._known

    def _flush(self, next_first: int) -> None:
        if self._pending is not None:
            text, first = self._pending
            self.builder.block(text, (first, max(first, next_first - 1)))
            self._pending = None

    def heading(self, level: int, text: str, anchor: str = "") -> None:
        underline = self._first()
        first = max(1, underline - 1)
        self._flush(first)
        self._known = underline
        self.builder.heading(level, text, anchor, (first, underline))

    def block(self, text: str) -> None:
        if not text.strip():
            return
        first = self._first()
        word = _LONG_WORD.search(text, 0, 60) or _WORD.search(text)
        source = self._source
        if word is not None and first <= len(source) and word[0] not in source[first - 1]:
            for line in range(min(first, len(source)) - 1, self._known - 1, -1):
                if word[0] in source[line - 1]:
                    first = line
                    break
        self._flush(first)
        self._known = first
        self._pending = (text, first)

    def finish(self) -> None:
        self._flush(self._end + 1)


def _expand(node: nodes.Node, depth: int, prefix: str, builder: Placed) -> list[_Item]:
    """Emit ``node``'s text, or return the child items to walk next."""
    if isinstance(node, nodes.section):
        return _children(node, depth + 1, "")
    if isinstance(node, nodes.title) and isinstance(node.parent, nodes.section):
        builder.heading(depth, node.astext(), _anchor(node.parent))
        return []
    if isinstance(node, nodes.literal_block | nodes.doctest_block | nodes.math_block):
        builder.block(node.astext())
        return []
    if isinstance(node, nodes.table):
        for child in node.children:
            if isinstance(child, nodes.title):
                builder.block(one_line(child.astext()))
        builder.block(_table_text(node))
        return []
    if isinstance(node, nodes.line_block):
        builder.block(prefix + _line_block_text(node))
        return []
    if isinstance(node, nodes.option_list):
        builder.block(prefix + _option_list_text(node))
        return []
    if isinstance(node, nodes.bullet_list | nodes.enumerated_list):
        markers = _markers(node)
        texts = [_simple(item) for item in node.children]
        simple = [text for text in texts if text is not None]
        if len(simple) == len(texts):
            builder.block(prefix + "\n".join(m + t for m, t in zip(markers, simple, strict=True)))
            return []
        return [(item, depth, m) for m, item in zip(markers, node.children, strict=True)]
    if isinstance(node, nodes.definition_list_item):
        term = " : ".join(one_line(c.astext()) for c in node.children[:-1] if c.astext())
        definition = _simple(node.children[-1])
        if definition is not None:
            builder.block(prefix + "\n".join(t for t in (term, definition) if t))
            return []
        return [(_placed_like(node, term), depth, prefix), *_children(node[-1], depth, "")]
    if isinstance(node, nodes.field_list | nodes.docinfo):
        fields = _field_items(node, depth)
        if isinstance(fields, str):
            builder.block(prefix + fields)
            return []
        return fields
    if isinstance(node, nodes.footnote | nodes.citation):
        labels = [c.astext() for c in node.children if isinstance(c, nodes.label)]
        body = [c for c in node.children if not isinstance(c, nodes.label)]
        return _items(body, depth, f"{prefix}[{labels[0]}] " if labels else prefix)
    if isinstance(node, nodes.TextElement):
        builder.block(prefix + one_line(node.astext()))
        return []
    if isinstance(node, nodes.image):  # its alt text stands in its place
        builder.block(prefix + one_line(node.get("alt", "")))
        return []
    if isinstance(node, nodes.Element):
        return _children(node, depth, prefix)
    builder.block(prefix + one_line(node.astext()))
    return []


def walk(doc: nodes.document, builder: Placed) -> None:
    """Visit the doctree in document order without recursion."""
    stack: list[_Item] = list(reversed(_children(doc, 0, "")))
    while stack:
        node, depth, prefix = stack.pop()
        if _skip(node):
            continue
        builder.node = node
        stack.extend(reversed(_expand(node, depth, prefix, builder)))
    builder.finish()


def ancestors(node: nodes.Node) -> Iterable[nodes.Node]:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


__all__ = ["Placed", "ancestors", "one_line", "walk"]
