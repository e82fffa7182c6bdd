"""What Sphinx shows for a role or a toctree entry, shared by both reStructuredText
engines (``rst_fast`` and ``rst_docutils``), which differ only in how they unescape."""

from __future__ import annotations

import re
from collections.abc import Callable

_FILE_EXTENSIONS = frozenset(
    """c h cc cpp cxx hh hpp hxx py pyi cmake txt md rst rest csv tsv json yaml yml toml ini cfg
    xml html htm svg png jpg jpeg gif dot gv mmd puml uml ipynb sh bash js ts java go rs rb lua
    tex bib""".split()
)
_PATH = re.compile(r"[^\s<>]*\.([A-Za-z][A-Za-z0-9]{0,7})")


def closing_bracket_start(text: str) -> int:
    """Index of the ``<`` matching a final ``>``, or -1 when there is none.

    >>> closing_bracket_start("Guide <guide-1>")
    6
    """
    if not text.endswith(">"):
        return -1
    depth = 0
    for index in range(len(text) - 1, -1, -1):
        char = text[index]
        if char == ">":
            depth += 1
        elif char == "<" and not (index and text[index - 1] == "\x00"):
            depth -= 1
            if depth == 0:
                return index
    return -1


def shown_text(text: str, unescape: Callable[[str], str]) -> str:
    """The text Sphinx shows for a role or toctree entry.

    ``Title <target>`` shows ``Title`` (the ``<`` must follow whitespace, so ``$<GENEX>``
    and ``CMAKE_<LANG>`` stay whole); ``~a.b.c`` shows ``c``; a leading ``!`` is dropped;
    then the engine's ``unescape`` runs.

    >>> shown_text("Guide <guide-1>", str), shown_text("~pkg.mod.func", str), shown_text("$<CONFIG>", str)
    ('Guide', 'func', '$<CONFIG>')
    """
    start = closing_bracket_start(text)
    if start > 0 and text[start - 1].isspace() and text[:start].strip():
        shown = text[:start].strip()
    else:
        shown = text.strip()
        if shown.startswith("!"):
            shown = shown[1:]
        if shown.startswith("~"):
            shown = shown[1:].rsplit(".", 1)[-1]
    return unescape(shown)


def names_file(argument: str) -> bool:
    """Whether a directive's argument is a file's path (``../Modules/FindBoost.cmake``,
    ``include/linux/device.h``, ``widget.hpp``) rather than something the page names.

    An extension directive whose argument is a path (CMake's ``cmake-module``, the kernel's
    ``kernel-doc``, ``mermaid``, breathe's ``doxygenfile``) shows what it reads from that file,
    never the path: a path is one word ending in a file extension, with a ``/`` or with an
    extension files have (``os.path`` and ``pkg.Widget`` name things).

    >>> names_file("../../Modules/FindBoost.cmake"), names_file("widget.hpp"), names_file("os.path")
    (True, True, False)
    """
    match = _PATH.fullmatch(argument.strip())
    if match is None or "://" in argument:
        return False
    return "/" in argument or match.group(1).lower() in _FILE_EXTENSIONS


def raw_html_blocks(source: str) -> list[str]:
    """The text blocks of the HTML written inside a ``raw:: html`` directive, as docbatch's
    HTML reader sees it (scripts and styles dropped); none when it has no text.

    >>> raw_html_blocks("<p>Hello <b>world</b></p><script>x()</script><p>Bye</p>")
    ['Hello world', 'Bye']
    """
    from docbatch.errors import DocbatchError
    from docbatch.formats import html  # only for documents that embed HTML

    try:
        text = html.parse(source).text
    except DocbatchError:
        return []
    return [block for block in text.split("\n\n") if block.strip()]
