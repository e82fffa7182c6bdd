"""Explicit markup for the fast reStructuredText reader: directives, targets, footnotes.

Directives degrade the way the docutils engine with the ``sphinx_compat``
fallbacks shows them: code directives keep their body verbatim, admonitions and
version notes their text, ``toctree`` its entries, ``only``/``ifconfig`` their
content, unknown (domain) directives their argument and content; ``raw:: html`` written
in the file is the text of its HTML. Directives that would read a file, embed other raw
output or only steer the build produce nothing.
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
from docbatch.formats.rst_fast.text import (
    display_text,
    escape,
    normalize_name,
    target_link,
    unescape,
)
from docbatch.formats.sphinx_text import raw_html_blocks

_NAME = r"(?:(?!_)\w)+(?:[-._+:](?:(?!_)\w)+)*"
_FOOTNOTE = re.compile(r"\.\.[ ]+\[([0-9]+|#|#" + _NAME + r"|\*)\](?:[ ]+|$)")
_CITATION = re.compile(r"\.\.[ ]+\[(" + _NAME + r")\](?:[ ]+|$)")
_TARGET_START = re.compile(r"\.\.[ ]+_(?![ ]|$)")
_SUBSTITUTION_START = re.compile(r"\.\.[ ]+\|(?![ ]|$)")
_DIRECTIVE = re.compile(r"\.\.[ ]+(" + _NAME + r")[ ]?::(?:[ ]+|$)")
_EMBEDDED = re.compile("(" + _NAME + r")[ ]?::(?:[ ]+|$)")
_TARGET = re.compile(
    r"(?:_|(?!_)(?P<quote>`?)(?![ `])(?P<name>.+?)(?<![\s\x00])(?P=quote))"
    r"(?<!(?<!\x00):)(?<![\s\x00])[ ]?:(?:[ ]+|$)"
)
_SUBSTITUTION = re.compile(r"(?![ ])(?P<name>.+?)(?<![\s\\])\|(?:[ ]+|$)")
_FIELD = re.compile(r":(?![: ])((?:[^:\\]|\\.|:(?!(?:[ `]|$)))*)(?<! ):(?: +|$)")
_LETTER = re.compile("[a-zA-Z]")
_UNICODE = re.compile(r"(?:0x|x|\\x|U\+?|\\u)([0-9a-f]+)$|&#x([0-9a-f]+);$", re.IGNORECASE)
_NAME_LINES = 16
_SYMBOLS = "*\u2020\u2021\u00a7\u00b6#\u2660\u2665\u2666\u2663"
_VERSION_SUFFIXES = ("versionadded", "versionchanged", "versionremoved", "deprecated")

_HIDDEN = frozenset(
    """index highlight highlightlang currentmodule module program sectionauthor codeauthor
    moduleauthor tabularcolumns default-domain testsetup testcleanup todolist cssclass contents
    meta include role default-role target-notes date replace unicode
    restructuredtext-test-directive""".split()
)
_LITERAL = frozenset(
    """code code-block sourcecode literalinclude doctest testcode testoutput prompt ipython
    graphviz digraph graph""".split()
)
_PROSE = frozenset({"seealso", "centered", "todo", "deprecated-removed", "hlist"})
_CLASS_NAME = frozenset({"class", "name"})
_IMAGE = frozenset({"align", "alt", "class", "height", "loading", "name", "scale", "target", "width"})
_TABLE = frozenset({"align", "class", "name", "width", "widths", "header-rows", "stub-columns"})
_CSV = _TABLE | {"delim", "encoding", "escape", "file", "header", "keepspace", "quote", "url"}
_NODES = frozenset({"contents", "meta", "target-notes", "sectnum", "section-numbering", "image", "figure"})
"""Directives that make a node even when they give no text here."""
_ANY: frozenset[str] = frozenset()
_NONE = 0
_OPTIONAL = 1
_REQUIRED = 2

# name: (argument, accepted options (None: no options, _ANY: any), content, action);
# argument and content are _NONE (not allowed), _OPTIONAL or _REQUIRED.
Spec = tuple[int, frozenset[str] | None, int, str]
_NATIVE: dict[str, Spec] = {
    **dict.fromkeys(
        "attention caution danger error hint important note tip warning".split(),
        (_NONE, _CLASS_NAME, _REQUIRED, "body"),
    ),
    **dict.fromkeys(("epigraph", "highlights", "pull-quote"), (_NONE, None, _REQUIRED, "body")),
    **dict.fromkeys(("header", "footer"), (_NONE, None, _REQUIRED, "body")),
    **dict.fromkeys(("class", "rst-class"), (_REQUIRED, None, _OPTIONAL, "body")),
    **dict.fromkeys(("sectnum", "section-numbering"), (_NONE, _ANY, _NONE, "sectnum")),
    "admonition": (_REQUIRED, _CLASS_NAME, _REQUIRED, "titled"),
    "topic": (_REQUIRED, _CLASS_NAME, _REQUIRED, "titled"),
    "sidebar": (_OPTIONAL, _CLASS_NAME | {"subtitle"}, _REQUIRED, "titled"),
    "rubric": (_REQUIRED, _CLASS_NAME, _NONE, "titled"),
    "compound": (_NONE, _CLASS_NAME, _REQUIRED, "body"),
    "container": (_OPTIONAL, frozenset({"name"}), _REQUIRED, "body"),
    "parsed-literal": (_NONE, _CLASS_NAME, _REQUIRED, "parsed"),
    "math": (_NONE, _CLASS_NAME, _REQUIRED, "verbatim"),
    "line-block": (_NONE, _CLASS_NAME, _REQUIRED, "lines"),
    "table": (_OPTIONAL, _TABLE, _REQUIRED, "titled"),
    "csv-table": (_OPTIONAL, _CSV, _OPTIONAL, "table"),
    "list-table": (_OPTIONAL, _TABLE, _REQUIRED, "table"),
    "image": (_REQUIRED, _IMAGE, _NONE, "image"),
    "figure": (_REQUIRED, _IMAGE | {"figclass", "figname", "figwidth"}, _OPTIONAL, "image"),
    "title": (_REQUIRED, None, _NONE, "title"),
    "toctree": (_NONE, _ANY, _OPTIONAL, "toctree"),
    "productionlist": (_OPTIONAL, _ANY, _OPTIONAL, "verbatim"),
    **dict.fromkeys(("only", "ifconfig"), (_OPTIONAL, _ANY, _OPTIONAL, "transparent")),
    **dict.fromkeys(_LITERAL, (_OPTIONAL, _ANY, _OPTIONAL, "literal")),
    "raw": (_REQUIRED, frozenset({"class", "encoding", "file", "url"}), _OPTIONAL, "raw"),
}
_FALLBACK: Spec = (_OPTIONAL, _ANY, _OPTIONAL, "fallback")

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
        match = _SUBSTITUTION_START.match(line)
        if match:
            return _substitution(reader, lines, pos, match.end())
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
    match = _TARGET.match(escaped)
    while match is None:
        index += 1
        if index >= min(len(block), _NAME_LINES):
            return end
        escaped += escape(block[index])
        match = _TARGET.match(escaped)
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


def _substitution(reader: BlockReader, lines: list[str], pos: int, column: int) -> int:
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
        parts = _split(data, _NATIVE["image"])
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


def _split(body: list[str], spec: Spec) -> tuple[str, dict[str, str], list[str], int] | None:
    """Argument text, options and content of a directive body, and the index in ``body``
    of the content's first line (None: docutils rejects it)."""
    argument, accepted, content_rule, _ = spec
    first, last = (1 if body and not body[0].strip() else 0), len(body)
    while last > first and not body[last - 1].strip():
        last -= 1
    body = body[first:last]
    split = len(body)
    if argument or accepted is not None:
        split = next((i for i, line in enumerate(body) if not line.strip()), len(body))
    arg_block, content = body[:split], body[split + 1 :]
    at = first + split + 1
    values: dict[str, list[str]] = {}
    start = None
    if accepted is not None:
        start = next((i for i, line in enumerate(arg_block) if _FIELD.match(line)), None)
    if start is not None:
        value: list[str] = []
        for line in arg_block[start:]:
            match = _FIELD.match(line)
            if match:
                name = match.group(1).lower()
                if accepted and name not in accepted:
                    return None
                value = values[name] = [line[match.end() :].strip()]
            elif line[:1] == " ":
                value.append(line.strip())
            else:
                return None
        arg_block = arg_block[:start]
    options = {name: "\n".join(lines).strip() for name, lines in values.items()}
    if arg_block and not argument:
        content, arg_block, at = arg_block + body[split:], [], first
    lead = 0
    while lead < len(content) and not content[lead].strip():
        lead += 1
    content = trim(content)
    text = "\n".join(arg_block).strip()
    if argument == _REQUIRED and not text:
        return None
    if (content and content_rule == _NONE) or (not content and content_rule == _REQUIRED):
        return None
    return text, options, content, at + lead


def _directive(reader: BlockReader, frame: Frame, pos: int, match: re.Match[str]) -> int:
    name = match.group(1).lower()
    body, end = first_known(frame.lines, pos, match.end())
    if name in _NODES:
        reader.labels = ()
    if name in _HIDDEN:
        return end
    spec = _NATIVE.get(name, _FALLBACK)
    if name == "class" and not _class_names(body[0]):
        spec = _FALLBACK
    parts = _split(body, spec)
    if parts is None:
        return end
    argument, options, content, at = parts
    base = frame.base + pos + at  # the document line of the content's first line
    action = spec[3]
    if action == "fallback":
        if argument:
            prose = name in _PROSE or name.endswith(_VERSION_SUFFIXES)
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


__all__ = ["explicit"]
