"""Explicit markup for the fast reStructuredText reader: directives, targets, footnotes.

Directives degrade the way the docutils engine with the ``sphinx_compat``
fallbacks shows them: code directives keep their body verbatim, admonitions and
version notes their text, ``toctree`` its entries, ``only``/``ifconfig`` their
content, unknown (domain) directives their argument (unless it is a file's path) and
content; ``raw:: html`` written in the file is the text of its HTML. Directives that would
read a file, embed other raw output or only steer the build produce nothing (which
directives are known, and how a body splits into argument, options and content, is in
``specs``).
Comments are dropped; targets and substitution definitions are recorded for the
inline pass. An empty target stays the pending label of a section title that follows
unless something docutils keeps as a node comes between (a comment, a substitution
definition, a footnote, a directive other than those that leave nothing).
"""

from __future__ import annotations

import re

from docbatch.formats.rst_fast import tables
from docbatch.formats.rst_fast.blocks import BlockReader, Frame
from docbatch.formats.rst_fast.lines import first_known, trim, vanishing
from docbatch.formats.rst_fast.specs import (
    FALLBACK,
    HIDDEN,
    NATIVE,
    NODES,
    PROSE,
    split_body,
)
from docbatch.formats.rst_fast.text import (
    display_text,
    escape,
    normalize_name,
    target_link,
    unescape,
)
from docbatch.formats.sphinx_text import names_file, raw_html_blocks

_NAME = r"(?:(?!_)\w)+(?:[-._+:](?:(?!_)\w)+)*"
_FOOTNOTE = re.compile(r"\.\.[ ]+\[([0-9]+|#|#" + _NAME + r"|\*)\](?:[ ]+|$)")
_CITATION = re.compile(r"\.\.[ ]+\[(" + _NAME + r")\](?:[ ]+|$)")
_TARGET_START = re.compile(r"\.\.[ ]+_(?![ ]|$)")
SUBSTITUTION_START = re.compile(r"\.\.[ ]+\|(?![ ]|$)")
"""The start of a substitution definition (``.. |name| directive::``)."""
_DIRECTIVE = re.compile(r"\.\.[ ]+(" + _NAME + r")[ ]?::(?:[ ]+|$)")
_EMBEDDED = re.compile("(" + _NAME + r")[ ]?::(?:[ ]+|$)")
TARGET = re.compile(
    r"(?:_|(?!_)(?P<quote>`?)(?![ `])(?P<name>.+?)(?<![\s\x00])(?P=quote))"
    r"(?<!(?<!\x00):)(?<![\s\x00])[ ]?:(?:[ ]+|$)"
)
"""A hyperlink target's name after ``.. _`` (the text escaped), up to its colon."""
_SUBSTITUTION = re.compile(r"(?![ ])(?P<name>.+?)(?<![\s\\])\|(?:[ ]+|$)")
_LETTER = re.compile("[a-zA-Z]")
_UNICODE = re.compile(r"(?:0x|x|\\x|U\+?|\\u)([0-9a-f]+)$|&#x([0-9a-f]+);$", re.IGNORECASE)
_NAME_LINES = 16
_SYMBOLS = "*\u2020\u2021\u00a7\u00b6#\u2660\u2665\u2666\u2663"
_VERSION_SUFFIXES = ("versionadded", "versionchanged", "versionremoved", "deprecated")

Link = tuple[str, str]


def explicit(reader: BlockReader, frame: Frame, pos: int, column: int) -> int:
    """Read the explicit markup block at ``frame.lines[pos]``; returns where reading goes on."""
    lines, line = frame.lines, frame.lines[pos]
    match = _DIRECTIVE.match(line)
    if match:
        return _directive(reader, frame, pos, match)
    lead = line[column : column + 1]
    if lead == "[":
        match = _FOOTNOTE.match(line) or _CITATION.match(line)
        if match:
            return _footnote(reader, frame, pos, match)
    elif lead == "_":
        match = _TARGET_START.match(line)
        if match:
            return _target(reader, lines, pos, match.end())
    elif lead == "|":
        match = SUBSTITUTION_START.match(line)
        if match:
            return substitution(reader, lines, pos, match.end())
    reader.labels = ()  # a comment
    if not line[column:].strip() and (pos + 1 >= len(lines) or not lines[pos + 1]):
        return pos + 1
    return first_known(lines, pos, column)[1]


def _footnote(reader: BlockReader, frame: Frame, pos: int, match: re.Match[str]) -> int:
    label = match.group(1)
    if label.startswith("#"):
        reader.footnotes += 1
        label = str(reader.footnotes)
    elif label == "*":
        count, index = divmod(reader.symbols, len(_SYMBOLS))
        reader.symbols += 1
        label = _SYMBOLS[index] * (count + 1)
    elif label.isdigit():
        reader.footnotes = max(reader.footnotes, int(label))
    body, end = first_known(frame.lines, pos, match.end())
    reader.labels = ()
    reader.push(body, frame.base + pos, prefix=f"{reader.take_prefix()}[{label}] ")
    return end


def _target(reader: BlockReader, lines: list[str], pos: int, column: int) -> int:
    block, end = first_known(lines, pos, column, until_blank=True)
    labels, reader.labels = reader.labels, ()
    escaped, index = escape(block[0]), 0
    match = TARGET.match(escaped)
    while match is None:
        index += 1
        if index >= min(len(block), _NAME_LINES):
            return end
        escaped += escape(block[index])
        match = TARGET.match(escaped)
    rest = [_restore((escaped + " ")[match.end() :].strip()), *block[index + 1 :]]
    link = target_link(rest)
    name = match.group("name")
    if name is None:
        reader.anonymous.append(link)
        return end
    key = normalize_name(unescape(name))
    reader.add(("id", "", key))
    reader.named[key] = reader.named.get(key, 0) + 1
    if link == ("internal", ""):
        reader.chain.append(key)
        reader.labels = (*labels, key)
    else:
        for chained in reader.chain:
            reader.targets[chained] = link
        reader.chain = []
    known = reader.targets.get(key)
    if known is not None and known != link and known != ("internal", ""):
        link = ("duplicate", "")
    reader.targets[key] = link
    return end


def _restore(text: str) -> str:
    """Escaped text (NUL marks) turned back into source with backslashes."""
    return text.replace("\x00", "\\")


def substitution(reader: BlockReader, lines: list[str], pos: int, column: int) -> int:
    """Read the substitution definition at ``lines[pos]`` (its name from ``column``) into
    ``reader``; returns the line after it."""
    block, end = first_known(lines, pos, column)
    reader.labels = ()
    joined, index = block[0].rstrip(), 0
    match = _SUBSTITUTION.match(joined)
    while match is None:
        index += 1
        if index >= min(len(block), _NAME_LINES):
            return end
        joined += " " + block[index].strip()
        match = _SUBSTITUTION.match(joined)
    name = " ".join(unescape(escape(match.group("name"))).split())
    rest = joined[match.end() :]
    embedded = _EMBEDDED.match(rest)
    if embedded is None:
        return end
    kind = embedded.group(1).lower()
    data = trim([rest[embedded.end() :], *block[index + 1 :]])
    if kind == "replace" and data:
        split = next((i for i, line in enumerate(data) if not line.strip()), len(data))
        if split == len(data) or vanishing(data, split + 1):
            reader.substitutions.setdefault(name, []).append(
                ("\n".join(line.strip() for line in data[:split]), True, None)
            )
    elif kind == "unicode":
        reader.substitutions.setdefault(name, []).append((_unicode(" ".join(data)), False, None))
    elif kind == "date":
        reader.substitutions.setdefault(name, []).append(("", False, None))
    elif kind == "image":
        parts = split_body(data, NATIVE["image"])
        if parts is not None and parts[0]:
            options = parts[1]
            link = target_link(options["target"].splitlines()) if options.get("target") else None
            reader.substitutions.setdefault(name, []).append((options.get("alt", name), False, link))
    return end


def _unicode(text: str) -> str:
    chars = []
    for code in text.split(" .. ")[0].split():
        match = _UNICODE.match(code)
        try:
            if code.isdigit():
                chars.append(chr(int(code)))
            elif match:
                chars.append(chr(int(match.group(1) or match.group(2), 16)))
            else:
                chars.append(code)
        except (OverflowError, ValueError):
            return ""
    return "".join(chars)


def _directive(reader: BlockReader, frame: Frame, pos: int, match: re.Match[str]) -> int:
    name = match.group(1).lower()
    body, end = first_known(frame.lines, pos, match.end())
    if name in NODES:
        reader.labels = ()
    if name in HIDDEN:
        return end
    spec = NATIVE.get(name, FALLBACK)
    if name == "class" and not _class_names(body[0]):
        spec = FALLBACK
    parts = split_body(body, spec)
    if parts is None:
        return end
    argument, options, content, at = parts
    base = frame.base + pos + at  # the document line of the content's first line
    action = spec[3]
    if action == "fallback":
        if argument and not names_file(argument):
            prose = name in PROSE or name.endswith(_VERSION_SUFFIXES)
            reader.emit("p" if prose else "r", argument)
        reader.push(content, base)
    elif action == "body":
        if name in ("epigraph", "highlights", "pull-quote"):
            reader.quote(content, base)
        else:
            reader.push(content, base)
    elif action == "titled":
        if name in ("topic", "sidebar") and not frame.titles:
            return end
        reader.emit("p", argument)
        if options.get("subtitle"):
            reader.emit("p", options["subtitle"])
        reader.push(content, base)
    elif action == "literal":
        if options.get("caption"):
            reader.emit("r", options["caption"], at=reader.span(frame, pos, pos + at))
        if content:
            reader.emit("v", "\n".join(content), at=(base, base + len(content) - 1))
    elif action == "transparent":
        reader.push(content, base, titles=frame.titles)
    elif action == "toctree":
        entries = [("- ", display_text(line.strip())) for line in content if line.strip()]
        if entries:
            reader.emit("l", entries, False)
    elif action == "sectnum":
        if reader.sectnum is None:
            reader.sectnum = options
    elif action in ("parsed", "verbatim", "lines"):
        _verbatim(reader, action, argument, content)
    elif action == "raw":
        if "html" in argument.lower().split() and not ("file" in options or "url" in options):
            for block in raw_html_blocks("\n".join(content)):
                reader.emit("r", block)
    elif action in ("image", "title"):
        _image(reader, name, argument, options, content, base)
    else:
        _table(reader, name, argument, options, content)
    return end


def _class_names(argument: str) -> bool:
    """Whether ``.. class::`` names HTML classes (docutils) rather than a Python class.

    docutils rejects ``.. class:: Server(config, *, plugins=None)`` and loses its body;
    read as the Python-domain shorthand instead, its signature and body are kept.
    """
    return all(_LETTER.search(token) for token in argument.split())


def _verbatim(reader: BlockReader, action: str, argument: str, content: list[str]) -> None:
    if action == "parsed":
        reader.emit("vi", "\n".join(content))
    elif action == "lines":
        reader.emit("lb", [line.strip() for line in content if line.strip()])
    else:
        text = "\n".join([argument, *content] if argument else content)
        if text.strip():
            reader.emit("v", text)


def _image(
    reader: BlockReader, name: str, argument: str, options: dict[str, str], content: list[str], base: int
) -> None:
    if name == "title":
        if argument and reader.title is None:
            reader.title = argument
        return
    if not argument:
        return
    if options.get("target"):
        reader.add(("link", "", target_link(options["target"].splitlines())))
        reader.emit("r", options.get("alt", ""))
    elif options.get("alt", "").strip():  # the alt text stands in the image's place
        reader.emit("p", " ".join(options["alt"].split()))
    if name == "figure":
        reader.push(content, base)


def _table(
    reader: BlockReader, name: str, argument: str, options: dict[str, str], content: list[str]
) -> None:
    if name == "csv-table" and ("file" in options or "url" in options):
        return
    rows = tables.csv_rows(content, options) if name == "csv-table" else tables.list_rows(content)
    if not rows:
        return
    if argument:
        reader.emit("p", argument)
    reader.emit("t", rows)


__all__ = ["SUBSTITUTION_START", "TARGET", "explicit", "substitution"]
