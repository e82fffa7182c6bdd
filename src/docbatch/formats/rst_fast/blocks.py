"""Block structure for the fast reStructuredText reader (``rst_fast``).

``BlockReader`` walks the lines the way the docutils body states do
(sections from adornment lines, paragraphs, literal blocks, lists, fields,
tables, explicit markup) and records *ops*: headings and blocks whose inline
source is cleaned later, when every target and substitution is known. Nested
bodies (list items, definitions, directive content, block quotes) are frames on
an explicit stack, so nothing recurses; past ``MAX_DEPTH`` levels a nested body
is kept as plain text. The ops, their lines and the stack are kept in ``frames``;
where the items of a list end is read in ``lists``, where a table ends and its rows
in ``tables``.

A nested body is a run of the document's lines (dedented), so a frame knows the line
its body starts on and every op the source lines it was read from.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from docbatch.formats.rst_fast import lists, tables
from docbatch.formats.rst_fast.frames import MAX_DEPTH, Bodies, Frame, Op, Place
from docbatch.formats.rst_fast.lines import (
    ATTRIBUTION,
    BLOCK,
    KINDS,
    LINE,
    enum_valid,
    first_known,
    indented,
    simple_text,
)
from docbatch.formats.rst_fast.text import Substitution, target_link

Explicit = Callable[["BlockReader", "Frame", int, int], int]


class BlockReader(Bodies):
    """Reads the block structure of a document into ops, rendered by ``rst_fast``.

    An op is ``(kind, prefix, ...)``; ``prefix`` (a list marker such as ``"- "``)
    goes before the block's text, except for headings where it holds the level:
    ``h`` heading source, ``p`` paragraph source, ``r`` raw text (no inline
    markup), ``v`` verbatim code, ``vi`` verbatim with inline markup, ``l`` list of
    (marker, source) and whether to clean it, ``d`` term and definition, ``f``
    fields, ``o`` options, ``lb`` line block, ``t`` table rows, ``link`` a link, ``id`` a
    named target (its name), which takes an id in the rendered page. A heading op also
    holds the labels of the empty targets right before it: docutils moves the targets
    there, and links to the section use the last one's id.
    ``places`` holds each op's source lines (``Place``), side by side with ``ops``.
    Targets (``named`` counts the targets of each name), substitutions and the document
    title are collected on the way.
    """

    def __init__(self) -> None:
        super().__init__()
        self.named: dict[str, int] = {}
        self.styles: list[str] = []
        self.level = 0
        self.targets: dict[str, tuple[str, str]] = {}
        self.anonymous: list[tuple[str, str]] = []
        self.substitutions: dict[str, list[Substitution]] = {}
        self.title: str | None = None
        self.sectnum: dict[str, str] | None = None
        self.footnotes = 0
        self.symbols = 0

    # -- main loop -----------------------------------------------------------------------

    def read(self, lines: list[str], explicit: Explicit) -> None:
        """Read a whole document given as rstripped, tab-expanded lines.

        ``explicit`` reads explicit markup (``.. ``) blocks (see ``rst_fast_directives``).
        """
        self.stack = [Frame(lines, titles=True)]
        stack, ops, places = self.stack, self.ops, self.places
        while stack:
            frame = stack[-1]
            if frame.op is not None:
                stack.pop()
                self.emit(*frame.op, at=frame.at)
                continue
            if frame.prefix is not None:
                self.prefix, frame.prefix, frame.owner = frame.prefix, None, True
            lines, pos, size = frame.lines, frame.pos, len(frame.lines)
            while pos < size and not lines[pos]:
                pos += 1
            if pos >= size:
                stack.pop()
                if frame.owner:
                    self.prefix = ""
                continue
            line = lines[pos]
            count = len(ops)
            height = len(stack)
            if line[0] == " ":
                block, frame.pos = indented(lines, pos)
                self.quote(block, frame.base + pos)
            else:
                match = BLOCK.match(line)
                if match is None:
                    frame.pos = self._text(frame, pos)
                else:
                    kind = next((k for k in KINDS if match.group(k)), "line")
                    if kind == "explicit":
                        frame.pos = explicit(self, frame, pos, match.end())
                    else:
                        frame.pos = getattr(self, "_" + kind)(frame, pos, match)
            if len(ops) > count and (places[count] is None or places[-1] is None):
                # the ops read without lines of their own have the lines read (blank lines
                # left out)
                end = frame.pos
                if len(stack) > height:  # up to the first nested body pushed meanwhile
                    end = min(end, *(pushed.base - frame.base for pushed in stack[height:]))
                while end > pos + 1 and not lines[end - 1]:
                    end -= 1
                place = (frame.base + pos, frame.base + (end - 1 if end > pos else pos))
                for index in range(count, len(ops)):
                    if places[index] is None:
                        places[index] = place

    # -- sections, paragraphs, literal blocks ---------------------------------------------

    def section(self, title: str, style: str) -> None:
        """A section title with adornment ``style``; dropped when its level is inconsistent."""
        if style in self.styles:
            level = self.styles.index(style) + 1
            if level > self.level + 1:
                return
        elif len(self.styles) == self.level:
            self.styles.append(style)
            level = len(self.styles)
        else:
            return
        self.level = level
        self.prefix = ""
        self.chain = []
        self.add(("h", level, title, self.labels))
        self.labels = ()

    def _line(self, frame: Frame, pos: int, match: re.Match[str]) -> int:
        lines, line = frame.lines, frame.lines[pos]
        short = len(line) < 4
        if not frame.titles:
            return self._text(frame, pos) if short or line == "::" else pos + 1
        size = len(lines)
        following = lines[pos + 1] if pos + 1 < size else ""
        if not following:
            return self._text(frame, pos) if short else pos + 1
        if LINE.match(following):
            return self._text(frame, pos) if short else pos + 2
        under = lines[pos + 2] if pos + 2 < size else ""
        title = following.strip()
        if under != line or (short and tables.width(title) > len(line)):
            if short:
                return self._text(frame, pos)
            return pos + (3 if under else 2)
        self.section(title, line[0] * 2)
        return pos + 3

    def _text(self, frame: Frame, pos: int) -> int:
        lines, size = frame.lines, len(frame.lines)
        following = lines[pos + 1] if pos + 1 < size else ""
        if following:
            if following[0] == " ":
                return self._definition(frame, pos)
            if LINE.match(following) and not (
                len(following) < 4 and tables.width(lines[pos]) > len(following)
            ):
                if frame.titles:
                    self.section(lines[pos], following[0])
                return pos + 2
        end = pos + 1
        while end < size and lines[end] and lines[end][0] != " ":
            end += 1
        data = "\n".join(lines[pos:end])
        backslashes = len(data) - 2 - len(data[:-2].rstrip("\\"))
        if not data.endswith("::") or backslashes % 2:
            self.emit("p", data, at=(frame.base + pos, frame.base + end - 1))
            return end
        if len(data) > 2:
            text = data[:-3].rstrip() if data[-3] in " \n" else data[:-1]
            self.emit("p", text, at=self.span(frame, pos, end))
        return self._literal(frame, end)

    def _literal(self, frame: Frame, start: int) -> int:
        lines = frame.lines
        block, end = indented(lines, start)
        if block:
            self.emit("v", "\n".join(block), at=self.span(frame, start, end))
            return end
        size = len(lines)
        while start < size and not lines[start]:
            start += 1
        if start >= size or not LINE.match(lines[start][0]):
            return start
        quote, end = lines[start][0], start
        while end < size and lines[end][:1] == quote:
            end += 1
        self.emit("v", "\n".join(lines[start:end]), at=self.span(frame, start, end))
        return end

    def _definition(self, frame: Frame, pos: int) -> int:
        body, end = indented(frame.lines, pos + 1)
        text = simple_text(body)
        if text is not None:
            self.emit("d", frame.lines[pos], text)
        else:
            self.emit("p", frame.lines[pos])
            self.push(body, frame.base + pos + 1)
        return end

    # -- lists and fields ---------------------------------------------------------------

    def _bullet(self, frame: Frame, pos: int, match: re.Match[str]) -> int:
        bodies, starts, end = lists.bullet_items(frame.lines, pos, match.end())
        self._items(frame, bodies, starts, ["- "] * len(bodies))
        return end

    def _items(self, frame: Frame, bodies: list[list[str]], starts: list[int], markers: list[str]) -> None:
        texts = [simple_text(body) for body in bodies]
        if all(text is not None for text in texts):
            self.emit("l", list(zip(markers, texts, strict=True)), True)
        else:
            base = frame.base
            self.push_all(
                [
                    (body, marker, base + start)
                    for body, marker, start in zip(bodies, markers, starts, strict=True)
                ]
            )

    def _enum(self, frame: Frame, pos: int, match: re.Match[str]) -> int:
        if not enum_valid(frame.lines, pos, match):
            return self._text(frame, pos)
        bodies, starts, first, end = lists.enum_items(frame.lines, pos, match)
        self._items(frame, bodies, starts, [f"{first + index}. " for index in range(len(bodies))])
        return end

    def _field(self, frame: Frame, pos: int, match: re.Match[str]) -> int:
        fields, end = lists.field_items(frame.lines, pos, match)
        texts = [simple_text(body) for _, body, _ in fields]
        if all(text is not None for text in texts):
            pairs = [(name, text) for (name, _, _), text in zip(fields, texts, strict=True)]
            self.emit("f", pairs)
            return end
        bodies: list[tuple[list[str], str | None, int] | tuple[Op, Place]] = []
        for name, body, start in fields:
            line = frame.base + start
            bodies.append((("p", f"{name}:"), (line, line)))
            bodies.append((body, "", line))
        self.push_all(bodies)
        return end

    def _option(self, frame: Frame, pos: int, match: re.Match[str]) -> int:
        items, end = lists.option_items(frame.lines, pos, match)
        if not items:
            return self._text(frame, pos)
        self.emit("o", items)
        return end

    def quote(self, block: list[str], base: int) -> None:
        """Read a block quote starting on document line ``base``, splitting off a final
        attribution (``-- Author``)."""
        for index in range(2, len(block)):
            match = ATTRIBUTION.match(block[index])
            if match and not block[index - 1]:
                end = index + 1
                while end < len(block) and block[end]:
                    end += 1
                rest = block[index + 1 : end]
                if len({len(line) - len(line.lstrip()) for line in rest}) > 1:
                    continue
                text = "\n".join([block[index][match.end() :], *(line.strip() for line in rest)])
                self.push_all(
                    [
                        (block[:index], None, base),
                        (("p", text), (base + index, base + end - 1)),
                        (block[end:], None, base + end),
                    ]
                )
                return
        self.push(block, base)

    def _lineblock(self, frame: Frame, pos: int, match: re.Match[str]) -> int:
        lines, size = frame.lines, len(frame.lines)
        items: list[str] = []
        while pos < size and lines[pos]:
            line = lines[pos]
            if line.startswith("|") and (len(line) == 1 or line[1] == " "):
                items.append(line[2:].strip())
            elif items and line[0] == " ":
                items[-1] += "\n" + line.strip()
            else:
                break
            pos += 1
        self.emit("lb", items)
        return pos

    def _doctest(self, frame: Frame, pos: int, match: re.Match[str]) -> int:
        lines, end = frame.lines, pos
        while end < len(lines) and lines[end]:
            end += 1
        self.emit("v", "\n".join(lines[pos:end]))
        return end

    # -- tables and anonymous targets ---------------------------------------------------

    def _grid(self, frame: Frame, pos: int, match: re.Match[str]) -> int:
        end = tables.grid_block(frame.lines, pos)
        rows = tables.grid_rows(frame.lines[pos:end])
        if rows:
            self.emit("t", rows)
        return end

    def _simple(self, frame: Frame, pos: int, match: re.Match[str]) -> int:
        end, good = tables.simple_block(frame.lines, pos)
        if good:
            rows = tables.simple_rows(frame.lines[pos:end])
            if rows:
                self.emit("t", rows)
        return end

    def _anon(self, frame: Frame, pos: int, match: re.Match[str]) -> int:
        block, end = first_known(frame.lines, pos, match.end(), until_blank=True)
        self.labels = ()
        self.anonymous.append(target_link(block))
        return end


__all__ = ["MAX_DEPTH", "BlockReader", "Explicit", "Frame", "Op"]
