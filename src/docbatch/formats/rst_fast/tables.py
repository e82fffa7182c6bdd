"""Tables for the fast reStructuredText reader: rows of raw cell text.

Grid tables, simple tables, ``csv-table`` and ``list-table`` bodies become a
list of rows, each a list of cell source texts; ``rst_fast`` removes the inline
markup of each cell and joins the cells with `` | ``. A table docutils rejects
as malformed gives no rows (docutils keeps none of its text either).
"""

from __future__ import annotations

import csv
import re
import unicodedata

_GRID_BORDER = re.compile(r"\+(?:[-=]+\+)+$")
_SIMPLE_BORDER = re.compile(r"=+[ =]*$")
_SPAN_UNDERLINE = re.compile(r"[- ]*-[- ]*$")
_LIST_ITEM = re.compile(r"[-*+\u2022](?: +|$)")

_PAD = "\x00"
_MARKERS = "-*+\u2022"

Rows = list[list[str]]


def width(text: str) -> int:
    """Display columns of ``text`` as docutils counts them (wide characters take two)."""
    if text.isascii():
        return len(text)
    wide = sum(1 for char in text if unicodedata.east_asian_width(char) in "WF")
    return len(text) + wide - sum(1 for char in text if unicodedata.combining(char))


def _padded(block: list[str]) -> tuple[list[str], bool]:
    """``block`` with a pad character after each wide character (so columns line up)."""
    if all(line.isascii() for line in block):
        return block, False
    padded = [
        "".join(c + _PAD if unicodedata.east_asian_width(c) in "WF" else c for c in line)
        if not line.isascii()
        else line
        for line in block
    ]
    return padded, True


def cell_text(cell: str) -> str:
    """A cell's source with bullet list markers removed (docutils shows the item text)."""
    if not cell or "\n" not in cell and cell.lstrip()[:1] not in _MARKERS:
        return cell.strip()
    lines = cell.split("\n")
    indent = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
    out: list[str] = []
    in_list, starts = False, True
    for line in lines:
        line = line[indent:]
        match = _LIST_ITEM.match(line) if line else None
        if match and (starts or in_list):
            line, in_list = line[match.end() :], True
        elif not line or line[0] != " ":
            in_list = False
        starts = not line
        out.append(line)
    return "\n".join(out).strip()


def _unpad(rows: Rows) -> Rows:
    return [[cell.replace(_PAD, "") for cell in row] for row in rows]


def grid_block(lines: list[str], start: int) -> int:
    """End (exclusive) of the grid table starting at ``lines[start]``."""
    end = start
    size = len(lines)
    while end < size and lines[end][:1] in ("+", "|"):
        end += 1
    if not _GRID_BORDER.match(lines[end - 1]):
        for index in range(end - 2, start + 1, -1):
            if _GRID_BORDER.match(lines[index]):
                return index + 1
    return end


def grid_rows(block: list[str]) -> Rows:
    """Rows of a grid table given as its lines (top border first)."""
    block, padded = _padded(block)
    rows = _grid_rows(block)
    return _unpad(rows) if padded else rows


def _grid_rows(block: list[str]) -> Rows:
    size = len(block[0])
    if len(block) < 2 or any(len(line) != size or line[-1] not in "+|" for line in block):
        return []
    if not _GRID_BORDER.match(block[-1]) or any(line[0] not in "+|" for line in block):
        return []
    bounds = [index for index, char in enumerate(block[0]) if char == "+"]
    rows: Rows = []
    cells: dict[int, list[str]] = {}
    for line in block[1:]:
        if _GRID_BORDER.match(line):
            if cells:
                rows.append(["\n".join(cells[key]) for key in sorted(cells)])
                cells = {}
            continue
        left = 0
        for right in bounds[1:]:
            if line[right] not in "|+":
                continue
            segment = line[left + 1 : right]
            if segment.strip(" -=+") or not segment.strip():
                cells.setdefault(left, []).append(segment.rstrip())
            left = right
    if cells:
        rows.append(["\n".join(cells[key]) for key in sorted(cells)])
    return rows


def simple_block(lines: list[str], start: int) -> tuple[int, bool]:
    """End (exclusive) of the simple table at ``lines[start]`` and whether it is well formed."""
    size = len(lines)
    top = len(lines[start])
    count, last = 0, 0
    for index in range(start + 1, size):
        line = lines[index]
        if _SIMPLE_BORDER.match(line):
            if len(line) != top:
                return index + 1, False
            count, last = count + 1, index
            if count == 2 or index == size - 1 or not lines[index + 1]:
                return index + 1, True
    return (last + 1 if count else size), False


def simple_rows(block: list[str]) -> Rows:
    """Rows of a simple table given as its lines (top border first)."""
    block, padded = _padded(block)
    rows = _simple_rows(block)
    return _unpad(rows) if padded else rows


def _simple_rows(block: list[str]) -> Rows:
    border = block[0]
    starts = [match.start() for match in re.finditer(r"=+", border)]
    first_end = starts[1] if len(starts) > 1 else None
    # each row: its source lines, the starts of its cells, whether a line may still join it
    groups: list[tuple[list[str], list[int], bool]] = []
    for line in block[1:]:
        if not line or _SIMPLE_BORDER.match(line):
            continue
        if _SPAN_UNDERLINE.match(line):
            if groups and groups[-1][2]:  # column spans of the row above
                groups[-1] = (groups[-1][0], _spanned(starts, line), False)
            continue
        if groups and not line[starts[0] : first_end].strip():
            groups[-1][0].append(line)
        else:
            groups.append(([line], starts, True))
    rows: Rows = []
    for lines, cell_starts, _ in groups:
        row: list[str] = []
        for line in lines:
            cells = [
                line[begin : cell_starts[i + 1] if i + 1 < len(cell_starts) else len(line)].rstrip()
                for i, begin in enumerate(cell_starts)
            ]
            row = (
                [f"{old}\n{new}" if old and new else old or new for old, new in zip(row, cells, strict=True)]
                if row
                else cells
            )
        rows.append(row)
    return rows


def _spanned(starts: list[int], underline: str) -> list[int]:
    """Cell starts of a row whose column-span underline is ``underline``: a column whose
    start lies inside a run of ``-`` joins the column before it."""
    runs = [match.span() for match in re.finditer(r"-+", underline)]
    return [start for start in starts if not any(a < start < b for a, b in runs)]


def csv_rows(content: list[str], options: dict[str, str]) -> Rows:
    """Rows of a ``csv-table`` body (and its ``:header:`` option); none when malformed."""
    delimiter = _one_char(options.get("delim", ","), ",")
    quote = _one_char(options.get("quote", '"'), '"')
    rows: Rows = []
    try:
        for source in (options.get("header", ""), "\n".join(content)):
            if source.strip():
                reader = csv.reader(
                    source.splitlines(),
                    delimiter=delimiter,
                    quotechar=quote,
                    skipinitialspace="keepspace" not in options,
                    strict=True,
                )
                rows.extend([cell.strip() for cell in row] for row in reader)
    except (csv.Error, TypeError):
        return []
    return rows


def _one_char(value: str, default: str) -> str:
    value = value.strip()
    if value == "tab":
        return "\t"
    if value == "space":
        return " "
    return value[0] if value else default


def list_rows(content: list[str]) -> Rows:
    """Rows of a ``list-table`` body: a two-level bullet list; none when not uniform."""
    rows: Rows = []
    for item in _items(content):
        cells = ["\n".join(lines) for lines in _items(item)]
        rows.append(cells)
    if not rows or len({len(row) for row in rows}) != 1:
        return []
    return rows


def _items(lines: list[str]) -> list[list[str]]:
    """The bodies of the bullet items at the left edge of ``lines`` (dedented)."""
    items: list[list[str]] = []
    current: list[str] | None = None
    indent = 2
    for line in lines:
        match = _LIST_ITEM.match(line)
        if match:
            indent = match.end() if line[match.end() :] else 2
            current = [line[match.end() :]]
            items.append(current)
        elif current is not None:
            current.append(line[indent:] if line[:indent].isspace() else line.strip())
    return [_trimmed(item) for item in items]


def _trimmed(lines: list[str]) -> list[str]:
    """``lines`` without blank lines at either end (those inside separate paragraphs)."""
    first = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    last = len(lines)
    while last > first and not lines[last - 1].strip():
        last -= 1
    return lines[first:last]


__all__ = [
    "Rows",
    "csv_rows",
    "grid_block",
    "grid_rows",
    "list_rows",
    "simple_block",
    "cell_text",
    "simple_rows",
    "width",
]
