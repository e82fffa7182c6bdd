"""Line-level pieces of the fast reStructuredText reader (``rst_fast``).

The patterns that classify the first line of a block (the order of docutils'
body transitions), the indented-block extraction docutils does for list items,
definitions and directives, and enumerated-list arithmetic (sequences, roman
numerals, whether an enumerator really starts a list item).
"""

from __future__ import annotations

import re

_NAME = r"(?:(?!_)\w)+(?:[-._+:](?:(?!_)\w)+)*"
_ENUM = r"(?:[0-9]+|[a-zA-Z]|[ivxlcdm]+|[IVXLCDM]+|#)"
_OPTARG = r"(?:[a-zA-Z][a-zA-Z0-9_-]*|<[^<>]+>)"
_OPTION = (
    r"(?:[-+][a-zA-Z0-9](?: ?" + _OPTARG + r")?|(?:--|/)[a-zA-Z0-9][a-zA-Z0-9_-]*(?:[ =]" + _OPTARG + r")?)"
)
BLOCK = re.compile(
    r"(?P<bullet>[-+*\u2022\u2023\u2043](?: +|$))"
    r"|(?P<enum>(?:\((?P<parens>" + _ENUM + r")\)|(?P<rparen>" + _ENUM + r")\)"
    r"|(?P<period>" + _ENUM + r")\.)(?: +|$))"
    r"|(?P<field>:(?![: ])(?:[^:\\]|\\.|:(?!(?:[ `]|$)))*(?<! ):(?: +|$))"
    r"|(?P<option>" + _OPTION + r"(?:, " + _OPTION + r")*(?:  +| ?$))"
    r"|(?P<doctest>>>>(?: +|$))"
    r"|(?P<lineblock>\|(?: +|$))"
    r"|(?P<grid>\+-[-+]+-\+$)"
    r"|(?P<simple>=+(?: +=+)+$)"
    r"|(?P<explicit>\.\.(?: +|$))"
    r"|(?P<anon>__(?: +|$))"
    r"|(?P<line>(?P<char>[!-/:-@\[-`{-~])(?P=char)*$)"
)
_DIRECTIVE = re.compile(r"\.\.[ ]+(" + _NAME + r")[ ]?::(?:[ ]+|$)")
VANISHING = frozenset(
    """index highlight highlightlang currentmodule module program sectionauthor codeauthor
    moduleauthor tabularcolumns default-domain testsetup testcleanup todolist cssclass include
    raw role default-role title""".split()
)
KINDS = ("bullet", "enum", "field", "option", "doctest", "lineblock", "grid", "simple", "explicit", "anon")
LINE = re.compile(r"([!-/:-@\[-`{-~])\1*$")
OPTION_MARKER = re.compile(_OPTION + r"(?:, " + _OPTION + r")*(?:  +| ?$)")
ATTRIBUTION = re.compile(r"(---?(?!-)|\u2014) *(?=[^ \n])")
FIELD = re.compile(r":(?![: ])(?:[^:\\]|\\.|:(?!(?:[ `]|$)))*(?<! ):(?: +|$)")
_ROMAN = re.compile(r"M{0,4}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})$")
_ROMAN_VALUES = (
    (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
    (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
)  # fmt: skip
_SEQUENCES = (
    ("arabic", re.compile(r"[0-9]+$")),
    ("loweralpha", re.compile(r"[a-z]$")),
    ("upperalpha", re.compile(r"[A-Z]$")),
    ("lowerroman", re.compile(r"[ivxlcdm]+$")),
    ("upperroman", re.compile(r"[IVXLCDM]+$")),
)
_SEQUENCE_PATTERNS = dict(_SEQUENCES)
FORMATS = {"parens": ("(", ")"), "rparen": ("", ")"), "period": ("", ".")}


def indented(lines: list[str], start: int) -> tuple[list[str], int]:
    """The indented block at ``start`` (blank lines included), dedented; and its end."""
    end, size, indent = start, len(lines), 1 << 30
    while end < size:
        line = lines[end]
        if line:
            if line[0] != " ":
                break
            width = len(line) - len(line.lstrip(" "))
            indent = width if width < indent else indent
        end += 1
    block = [line[indent:] for line in lines[start:end]]
    return trim(block), end


def first_known(
    lines: list[str], start: int, column: int, *, until_blank: bool = False
) -> tuple[list[str], int]:
    """Rest of ``lines[start]`` after ``column`` plus the indented lines below, dedented."""
    end, size, indent = start + 1, len(lines), 1 << 30
    while end < size:
        line = lines[end]
        if line:
            if line[0] != " ":
                break
            width = len(line) - len(line.lstrip(" "))
            indent = width if width < indent else indent
        elif until_blank:
            break
        end += 1
    rest = [line[indent:] for line in lines[start + 1 : end]] if end > start + 1 else []
    return [lines[start][column:], *rest], end


def known(lines: list[str], start: int, column: int) -> tuple[list[str], int]:
    """Rest of ``lines[start]`` plus the lines below indented by at least ``column``."""
    end, size = start + 1, len(lines)
    while end < size:
        line = lines[end]
        if line and (line[0] != " " or len(line) - len(line.lstrip(" ")) < column):
            break
        end += 1
    return [lines[start][column:], *(line[column:] for line in lines[start + 1 : end])], end


def trim(block: list[str]) -> list[str]:
    """``block`` without leading and trailing blank lines."""
    first, last = 0, len(block)
    while first < last and not block[first].strip():
        first += 1
    while last > first and not block[last - 1].strip():
        last -= 1
    return block[first:last] if first or last < len(block) else block


def simple_text(body: list[str]) -> str | None:
    """The source of ``body`` when it is one plain paragraph ('' when empty), else None.

    Directives that leave nothing behind (``include``, ``index``, ...) may follow it.
    """
    body = trim(body)
    if not body or vanishing(body, 0):
        return ""
    for index, line in enumerate(body):
        if not line:
            if not vanishing(body, index + 1):
                return None
            body = body[:index]
            break
        if line[0] == " ":
            return None
    match = BLOCK.match(body[0])
    if match and not (match.group("enum") and not enum_valid(body, 0, match)):
        return None
    if len(body) > 1 and LINE.match(body[1]):
        return None
    text = "\n".join(body)
    return None if text.endswith("::") else text


def vanishing(body: list[str], start: int) -> bool:
    """Whether ``body[start:]`` holds only directives that produce nothing."""
    inside = False
    for index in range(start, len(body)):
        line = body[index]
        if line and line[0] != " ":
            match = _DIRECTIVE.match(line)
            if match is None or match.group(1).lower() not in VANISHING:
                return False
            if match.group(1).lower() == "raw" and _html_text(body, index, line[match.end() :]):
                return False
            inside = True
        elif line and not inside:
            return False
    return True


def _html_text(body: list[str], start: int, argument: str) -> bool:
    """Whether the ``raw`` directive at ``body[start]`` is HTML written in the file (which
    is text: ``rst_fast.directives``) rather than read from ``:file:``/``:url:``."""
    if "html" not in argument.lower().split():
        return False
    content = False
    for line in body[start + 1 :]:
        if line and line[0] != " ":
            break
        option = line.lstrip()
        if option.startswith((":file:", ":url:")):
            return False
        content = content or bool(option) and not option.startswith(":")
    return content


def valid_item(lines: list[str], pos: int, ordinal: int | None, seq: str, fmt: str) -> bool:
    """Whether an enumerator starts a list item (docutils checks the following line)."""
    if ordinal is None:
        return False
    if pos + 1 >= len(lines) or not lines[pos + 1][:1].strip():
        return True
    expected = enumerator(ordinal + 1, seq, fmt)
    return expected is not None and lines[pos + 1].startswith(expected)


def enum_valid(lines: list[str], pos: int, match: re.Match[str]) -> bool:
    fmt = next(name for name in FORMATS if match.group(name))
    seq, ordinal = enum_ordinal(match.group(fmt), None)
    return valid_item(lines, pos, ordinal, seq, fmt)


def _roman(value: int) -> str:
    out = []
    for number, letters in _ROMAN_VALUES:
        count, value = divmod(value, number)
        out.append(letters * count)
    return "".join(out)


def enum_ordinal(text: str, expected: str | None) -> tuple[str, int | None]:
    """The sequence name and ordinal of an enumerator's text (ordinal None if invalid)."""
    if text == "#":
        return "#", 1
    sequence = ""
    if expected and _SEQUENCE_PATTERNS[expected].match(text):
        sequence = expected
    elif text in ("i", "I"):
        sequence = "lowerroman" if text == "i" else "upperroman"
    else:
        sequence = next(name for name, pattern in _SEQUENCES if pattern.match(text))
    if sequence == "arabic":
        return sequence, int(text)
    if sequence.endswith("alpha"):
        return sequence, ord(text.lower()) - 96
    upper = text.upper()
    if not _ROMAN.match(upper):
        return sequence, None
    total, index = 0, 0
    for number, letters in _ROMAN_VALUES:
        while upper.startswith(letters, index):
            total += number
            index += len(letters)
    return sequence, total or None


def enumerator(ordinal: int, sequence: str, fmt: str) -> tuple[str, str] | None:
    if sequence == "#":
        text = "#"
    elif sequence == "arabic":
        text = str(ordinal)
    elif sequence.endswith("alpha"):
        if ordinal > 26:
            return None
        text = chr(ordinal + 96)
    else:
        if not 0 < ordinal < 5000:
            return None
        text = _roman(ordinal)
    text = text.upper() if sequence.startswith("upper") else text.lower()
    prefix, suffix = FORMATS[fmt]
    return f"{prefix}{text}{suffix} ", f"{prefix}#{suffix} "


__all__ = [
    "ATTRIBUTION",
    "BLOCK",
    "FIELD",
    "FORMATS",
    "KINDS",
    "LINE",
    "OPTION_MARKER",
    "VANISHING",
    "enum_ordinal",
    "enum_valid",
    "enumerator",
    "first_known",
    "indented",
    "known",
    "simple_text",
    "trim",
    "valid_item",
    "vanishing",
]
