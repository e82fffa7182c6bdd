"""Nested bodies and the ops read from them, for the fast reStructuredText reader.

``Bodies`` is what ``BlockReader`` (``blocks``) records into: the ops in document
order with the source lines (``Place``) each was read from, the prefix (a list marker,
a footnote label) waiting for the next block, and the stack of bodies still to read.
A nested body (a list item, a definition, directive content, a block quote) is a
``Frame`` holding a run of the document's lines, dedented, and the number of the line
it starts on; past ``MAX_DEPTH`` levels a nested body is kept as plain text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from docbatch.formats.rst_fast.lines import trim

MAX_DEPTH = 48
Op = tuple[Any, ...]
Place = tuple[int, int]
"""The first and last of the document's lines (numbered from 1) an op was read from."""


@dataclass(slots=True)
class Frame:
    """A body being read: its (dedented) lines and the read position.

    ``titles``: section titles are allowed (the document and ``only`` bodies).
    ``prefix``: list marker or footnote label for the body's first block, handed
    over when reading starts (``owner`` then drops a prefix left unused at the end).
    ``op``: instead of a body, an op to emit in its turn.
    ``depth``: how many bodies it is nested in (its siblings, side by side on the
    stack, share it).
    ``base``: the number of the document line ``lines[0]`` is; ``at``: the lines of ``op``.
    """

    lines: list[str]
    pos: int = 0
    titles: bool = False
    prefix: str | None = None
    owner: bool = False
    op: Op | None = None
    depth: int = 0
    base: int = 1
    at: Place | None = None


class Bodies:
    """The ops read so far (``ops``, with their lines in ``places``), the pending prefix,
    the labels of the empty targets waiting for the next op (``labels``, ``chain``) and
    the stack of bodies to read (``stack``)."""

    def __init__(self) -> None:
        self.ops: list[Op] = []
        self.places: list[Place | None] = []
        self.labels: tuple[str, ...] = ()
        self.chain: list[str] = []
        self.prefix = ""
        self.stack: list[Frame] = []

    def take_prefix(self) -> str:
        """The pending prefix, which the caller now owns."""
        prefix, self.prefix = self.prefix, ""
        return prefix

    def emit(self, kind: object, *payload: object, at: Place | None = None) -> None:
        """Record an op (taking the pending prefix) read from lines ``at`` (None: those of
        the block being read); it ends a chain of empty targets."""
        self.chain = []
        self.labels = ()
        self.ops.append((kind, self.take_prefix(), *payload))
        self.places.append(at)

    def add(self, op: Op, at: Place | None = None) -> None:
        """Record an op as it is (see ``emit``)."""
        self.ops.append(op)
        self.places.append(at)

    def _depth(self) -> int:
        """The depth of a body nested in the one being read."""
        return self.stack[-1].depth + 1 if self.stack else 0

    def push(
        self,
        lines: list[str],
        base: int,
        *,
        titles: bool = False,
        prefix: str | None = None,
        depth: int | None = None,
    ) -> None:
        """Read ``lines``, which start on document line ``base``, as a nested body next
        (``prefix`` goes to its first block)."""
        trimmed = trim(lines)
        if not trimmed:
            return
        if trimmed[0] is not lines[0]:
            lead = 0
            while not lines[lead].strip():
                lead += 1
            base += lead
        lines = trimmed
        depth = self._depth() if depth is None else depth
        if depth >= MAX_DEPTH:
            if prefix is not None:
                self.prefix = prefix
            self.emit("p", "\n".join(line.strip() for line in lines), at=(base, base + len(lines) - 1))
            return
        self.stack.append(Frame(lines, titles=titles, prefix=prefix, depth=depth, base=base))

    def push_all(self, bodies: list[tuple[list[str], str | None, int] | tuple[Op, Place]]) -> None:
        """Read several bodies in order, each with its own prefix and first line (or emit an
        op, with its lines, between)."""
        depth = self._depth()
        if depth >= MAX_DEPTH:
            for body in bodies:
                if isinstance(body[0], list):
                    self.push(body[0], body[2], prefix=body[1], depth=depth)
                else:
                    self.emit(*body[0], at=body[1])
            return
        for body in reversed(bodies):
            if isinstance(body[0], list):
                self.push(body[0], body[2], prefix=body[1], depth=depth)
            else:
                self.stack.append(Frame([], op=body[0], depth=depth, base=body[1][0], at=body[1]))

    @staticmethod
    def span(frame: Frame, start: int, end: int) -> Place:
        """The document lines of ``frame.lines[start:end]`` without blank lines at the ends."""
        lines = frame.lines
        while end > start + 1 and not lines[end - 1]:
            end -= 1
        while start < end - 1 and not lines[start]:
            start += 1
        return frame.base + start, frame.base + max(start, end - 1)


__all__ = ["MAX_DEPTH", "Bodies", "Frame", "Op", "Place"]
