"""A fast reStructuredText reader for search text, without docutils.

A line-oriented reader in two passes: ``rst_fast_blocks`` reads the block
structure (sections from adornment lines, paragraphs, literal blocks, lists,
fields, tables; ``rst_fast_directives`` for explicit markup) into ops, then
every op's inline markup is removed (``rst_fast_inline``) once all hyperlink
targets and substitutions are known. The result has the shape the docutils
engine (``docbatch.formats.rst_docutils``) gives: the same title and heading paths,
directives and roles reduced to their text, code kept verbatim and resolved
external links in document order. Footnote references are dropped and the
reader reports no warnings but those of includes. It reads a file only for ``include``, when given an include
reader (``formats.includes``, as docutils' engine); ``raw :file:``,
``csv-table :file:`` and friends give nothing (``raw:: html`` written in the file is the
text of its HTML). Reading is iterative and linear
in the input.

A section's anchor is its docutils id (the label of the target right before it, else
its title's; ``rst_fast_ids``); each block and heading knows the source lines it was
read from (a heading its title and adornment lines). A ``:ref:`` without a title of its
own to a section labelled in the document shows the section's title, as in Sphinx; one to
another document's label shows the title the label table given to ``parse`` holds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from docbatch.errors import ParseError
from docbatch.formats.base import DocumentBuilder, ParsedDocument
from docbatch.formats.includes import Includes
from docbatch.formats.rst_fast.blocks import BlockReader
from docbatch.formats.rst_fast.directives import explicit
from docbatch.formats.rst_fast.ids import Ids
from docbatch.formats.rst_fast.including import expand
from docbatch.formats.rst_fast.inline import Inline
from docbatch.formats.rst_fast.tables import cell_text

_SPECIAL_SPACE = re.compile("[\v\f]")
_EXPLICIT_LINE = re.compile(r"^\.\.(?: |$)", re.MULTILINE)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _lines(text: str) -> list[str]:
    """Source lines as docutils sees them: tabs expanded, trailing white space removed."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if "\v" in text or "\f" in text:
        text = _SPECIAL_SPACE.sub(" ", text)
    if "\t" in text:
        text = text.expandtabs(8)
    return [line.rstrip() for line in text.splitlines()]


class _Numbers:
    """Section numbers of the ``sectnum`` directive (``1``, ``1.1``, ...)."""

    def __init__(self, options: dict[str, str]) -> None:
        self.depth = _number(options.get("depth"), 1 << 30)
        self.start = _number(options.get("start"), 1)
        self.prefix = options.get("prefix", "")
        self.suffix = options.get("suffix", "")
        self.counters: list[int] = []

    def __call__(self, level: int, title: str) -> str:
        del self.counters[level:]
        while len(self.counters) < level:
            self.counters.append(self.start - 1 if not self.counters else 0)
        self.counters[level - 1] += 1
        if level > self.depth:
            return title
        numbers = ".".join(str(count) for count in self.counters)
        return f"{self.prefix}{numbers}{self.suffix} {title}"


def _number(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


def _rows(text: str, count: int) -> list[int] | None:
    """The source line (lines split at ``\\n``) of each of the reader's ``count`` lines, by
    its number; None when they are the same (no other line breaks in ``text``)."""
    if count == text.count("\n") + (not text.endswith("\n")):
        return None
    rows, row = [0], 1
    for piece in text.splitlines(keepends=True):
        rows.append(row)
        row += piece.count("\n")
    return rows[: count + 1] + [row] * (count + 1 - len(rows))


def _included_rows(rows: list[int], origin: list[int]) -> list[int]:
    """``rows`` (the source line of each line read, by its number from 1) for the lines read
    with includes, the line of ``origin`` each stands for (by its index)."""
    return [rows[0], *(rows[line + 1] for line in origin), rows[-1]]


def _render(
    reader: BlockReader,
    inline: Inline,
    builder: DocumentBuilder,
    numbers: _Numbers | None,
    rows: list[int] | None,
) -> None:
    """Turn the reader's ops into blocks of clean text on their source lines (``rows``: the
    source line of each of the reader's lines, None when they are the same)."""
    clean = inline.text
    ids: Ids = inline.ids
    labels: dict[str, str] = {}
    for op, line in zip(reader.ops, reader.places, strict=True):
        kind, prefix = op[0], op[1]
        if rows is not None and line is not None:
            line = (rows[line[0]], rows[line[1]])
        if kind == "h":
            shown = inline.shown
            shown.clear()
            title = clean(op[2])
            if not title.strip():
                continue
            name = title  # docutils names a section before its substitutions are made
            for made, key in shown:
                name = name.replace(made, key, 1)
            anchor = ids.add(name, "section")
            if op[3] and reader.named.get(op[3][-1]) == 1:
                anchor = labels.get(op[3][-1], anchor)
            builder.heading(prefix, numbers(prefix, title) if numbers else title, anchor, line)
            continue
        if kind == "id":
            labels[op[2]] = ids.add(op[2], "target")
            continue
        if kind == "p":
            text = _one_line(clean(op[2]))
        elif kind == "r":
            text = _one_line(op[2])
        elif kind == "v":
            prefix, text = "", op[2]
        elif kind == "vi":
            prefix, text = "", clean(op[2])
        elif kind == "l":
            items = op[2]
            show = clean if op[3] else str
            text = "\n".join(f"{marker}{_one_line(show(raw))}" for marker, raw in items)
        elif kind == "d":
            parts = (_one_line(clean(op[2])), _one_line(clean(op[3])))
            text = "\n".join(part for part in parts if part)
        elif kind == "f":
            fields = ((_one_line(clean(n)), _one_line(clean(b))) for n, b in op[2])
            text = "\n".join(f"{name}: {body}" for name, body in fields if body)
        elif kind == "o":
            pairs = ((_one_line(marker), _one_line(clean(body))) for marker, body in op[2])
            text = "\n".join("  ".join(part for part in pair if part) for pair in pairs)
        elif kind == "lb":
            text = "\n".join(clean(line) for line in op[2])
        elif kind == "t":
            prefix, text = "", _table(op[2], inline)
        else:
            inline.refs.append(op[2])
            continue
        builder.block(f"{prefix}{text}", line)


def _titles(reader: BlockReader, size: int) -> dict[str, str]:
    """The title of each labelled section (what a ``:ref:`` to the label shows), cleaned
    apart from the document's inline pass (which they must not change)."""
    titles: dict[str, str] = {}
    if not any(op[0] == "h" and op[3] for op in reader.ops):
        return titles
    clean = Inline(dict(reader.targets), reader.substitutions, size).text
    for op in reader.ops:
        if op[0] == "h" and op[3]:
            title = _one_line(clean(op[2]))
            for label in op[3]:
                if title and reader.named.get(label) == 1:
                    titles[label] = title
    return titles


def _table(rows: list[list[str]], inline: Inline) -> str:
    lines = []
    for row in rows:
        cells = [_one_line(_cell(cell_text(cell), inline)) for cell in row]
        if any(cells):
            lines.append(" | ".join(cells))
    return "\n".join(lines)


def _cell(source: str, inline: Inline) -> str:
    """The text of a table cell: its inline markup removed, and, when it holds explicit
    markup (a directive, a comment), its body read like the document's (docutils parses a
    cell as a body: a ``code-block`` in a cell is its code, an empty comment nothing)."""
    if _EXPLICIT_LINE.search(source) is None:
        return inline.text(source)
    reader = BlockReader()
    reader.read(_lines(source), explicit)
    for name, target in reader.targets.items():  # a target defined in a cell is the document's
        inline.targets.setdefault(name, target)
    builder = DocumentBuilder()
    _render(reader, inline, builder, None, None)
    return builder.build(None).text


def parse(
    text: str, *, labels: Mapping[str, str] | None = None, includes: Includes | None = None
) -> ParsedDocument:
    """Parse reStructuredText into clean search text, headings and links, with the other
    documents' section ``labels`` and the ``includes`` reader as ``formats.base.LabelParser``
    says.

    Raises:
        ParseError: the reader failed on the input (not expected for any input).
    """
    builder = DocumentBuilder()
    if not text.strip():
        return builder.build(None)
    try:
        reader = BlockReader()
        lines = _lines(text)
        count = len(lines)
        rows = _rows(text, count)
        if includes is not None:
            lines, origin = expand(lines, includes)
            builder.warnings.extend(includes.warnings)
            if origin is not None:
                rows = _included_rows(rows or list(range(count + 1)), origin)
        reader.read(lines, explicit)
        inline = Inline(reader.targets, reader.substitutions, len(text))
        titles = _titles(reader, len(text))
        inline.titles = titles
        if labels:
            inline.table = labels
        numbers = _Numbers(reader.sectnum) if reader.sectnum is not None else None
        _render(reader, inline, builder, numbers, rows)
        builder.links.extend(inline.links(reader.anonymous))
        builder.labels.update(titles)
        builder.refs.update(inline.unresolved)
        return builder.build(reader.title)
    except (RecursionError, MemoryError) as exc:
        raise ParseError(f"rst reader failed: {type(exc).__name__}") from None
    except Exception as exc:  # a reader bug must not escape as anything but ParseError
        detail = " ".join(str(exc).split())[:160]
        raise ParseError(f"rst reader failed: {type(exc).__name__}: {detail}") from None


__all__ = ["parse"]
