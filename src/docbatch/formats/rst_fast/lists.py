"""Where the items of a list end, for the fast reStructuredText reader (``rst_fast``).

Bullet and enumerated lists, field lists and option lists: each function reads one
list from its first marker and returns the items' (dedented) bodies, the line each body
starts on (its marker's) and the position after the list; ``BlockReader`` decides what
to emit for them.
"""

from __future__ import annotations

import re

from docbatch.formats.rst_fast.lines import (
    BLOCK,
    FIELD,
    FORMATS,
    OPTION_MARKER,
    enum_ordinal,
    first_known,
    known,
    trim,
    valid_item,
)


def item_body(lines: list[str], pos: int, column: int) -> tuple[list[str], int]:
    """The body of the list item whose marker ends at ``column`` of line ``pos``, and its end."""
    if lines[pos][column:]:
        return known(lines, pos, column)
    return first_known(lines, pos, column)


def next_block(lines: list[str], pos: int) -> int:
    """The first line at or after ``pos`` that is not blank (or the end)."""
    while pos < len(lines) and not lines[pos]:
        pos += 1
    return pos


def bullet_items(lines: list[str], pos: int, column: int) -> tuple[list[list[str]], list[int], int]:
    """The bodies of a bullet list starting at line ``pos`` (same bullet character), the
    line of each item's marker, and the end of its last item."""
    char = lines[pos][0]
    bodies: list[list[str]] = []
    starts: list[int] = []
    while True:
        body, end = item_body(lines, pos, column)
        bodies.append(body)
        starts.append(pos)
        pos = next_block(lines, end)
        following = BLOCK.match(lines[pos]) if pos < len(lines) else None
        if not following or not following.group("bullet") or lines[pos][0] != char:
            break
        column = following.end()
    return bodies, starts, end


def enum_items(
    lines: list[str], pos: int, match: re.Match[str]
) -> tuple[list[list[str]], list[int], int, int]:
    """The bodies of an enumerated list starting at line ``pos`` (``match``: its first
    marker), the line of each item's marker, its first ordinal and the end of its last item.

    The list ends where the enumeration format changes or an ordinal does not follow on.
    """
    fmt = next(name for name in FORMATS if match.group(name))
    seq, ordinal = enum_ordinal(match.group(fmt), None)
    kind = "arabic" if seq == "#" else seq
    first = 1 if ordinal is None else ordinal
    auto, last = seq == "#", first
    bodies: list[list[str]] = []
    starts: list[int] = []
    column = match.end()
    while True:
        body, end = item_body(lines, pos, column)
        bodies.append(body)
        starts.append(pos)
        pos = next_block(lines, end)
        following = BLOCK.match(lines[pos]) if pos < len(lines) else None
        if not following or not following.group("enum") or not following.group(fmt):
            break
        column = following.end()
        seq, ordinal = enum_ordinal(following.group(fmt), kind)
        if seq != "#" and (seq != kind or auto or ordinal != last + 1):
            break
        if not valid_item(lines, pos, ordinal, seq, fmt):
            break
        auto, last = auto or seq == "#", last + 1
    return bodies, starts, first, end


def field_items(
    lines: list[str], pos: int, match: re.Match[str]
) -> tuple[list[tuple[str, list[str], int]], int]:
    """The (name, body, line of the name) of each field of a field list starting at line
    ``pos``, and the end of its last field."""
    fields: list[tuple[str, list[str], int]] = []
    marker: re.Match[str] | None = match
    while marker is not None:
        name = marker.group()[1 : marker.group().rstrip().rfind(":")]
        body, end = first_known(lines, pos, marker.end())
        fields.append((name, body, pos))
        pos = next_block(lines, end)
        marker = FIELD.match(lines[pos]) if pos < len(lines) else None
    return fields, end


def option_items(lines: list[str], pos: int, match: re.Match[str]) -> tuple[list[tuple[str, str]], int]:
    """The (options, description) of each item of an option list starting at line ``pos``,
    and where reading stopped; it stops at an option without a description."""
    items: list[tuple[str, str]] = []
    marker: re.Match[str] | None = match
    while marker is not None:
        body, end = first_known(lines, pos, marker.end())
        body = trim(body)
        if not body:
            break
        items.append((marker.group(), "\n".join(line.strip() for line in body)))
        pos = next_block(lines, end)
        marker = OPTION_MARKER.match(lines[pos]) if pos < len(lines) else None
    return items, end


__all__ = ["bullet_items", "enum_items", "field_items", "item_body", "next_block", "option_items"]
