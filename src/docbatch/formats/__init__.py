"""Format detection and the parser registry.

A file's format comes from the rightmost known extension in its name, so
``mod_ssl.html.en.utf8`` is HTML and ``guide.md`` is Markdown. Parser modules are
imported on first use. reStructuredText has two engines: ``"fast"`` (the default,
``rst_fast``: a line-oriented reader for search text) and ``"docutils"`` (``rst_docutils``:
docutils with the Sphinx fallbacks, slower and exact). HTML pages lose their site
template (``templates``: regions repeated across a source's pages).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from functools import cache

from docbatch.errors import FormatError
from docbatch.formats.base import DocumentBuilder, ParsedDocument, Parser, Section

EXTENSIONS: dict[str, str] = {
    "md": "markdown",
    "markdown": "markdown",
    "mdown": "markdown",
    "rst": "rst",
    "rest": "rst",
    "txt": "text",
    "text": "text",
    "html": "html",
    "htm": "html",
    "xhtml": "html",
}

_MODULES: dict[str, str] = {
    "markdown": "docbatch.formats.markdown",
    "rst": "docbatch.formats.rst_fast",
    "html": "docbatch.formats.html",
    "text": "docbatch.formats.text",
}

RST_ENGINES: tuple[str, ...] = ("fast", "docutils")
"""The reStructuredText engines ``get_parser`` accepts; the first is the default."""

_RST_MODULES: dict[str, str] = {
    "fast": "docbatch.formats.rst_fast",
    "docutils": "docbatch.formats.rst_docutils",
}


def supported_formats() -> tuple[str, ...]:
    """The format names docbatch can parse."""
    return tuple(sorted(_MODULES))


def detect_format(name: str, format_map: Mapping[str, str] | None = None) -> str | None:
    """The format of a file name, or None when no part of it is a known extension.

    ``format_map`` (see ``extension_formats``) maps more extensions, or known ones to
    another format; it goes before ``EXTENSIONS``.

    >>> detect_format("guide.md"), detect_format("mod_ssl.html.en.utf8"), detect_format("a.png")
    ('markdown', 'html', None)
    >>> detect_format("snippet.txt", {"txt": "rst"})
    'rst'
    """
    parts = name.lower().split(".")[1:]
    for part in reversed(parts):
        fmt = format_map.get(part) if format_map else None
        if fmt is None:
            fmt = EXTENSIONS.get(part)
        if fmt is not None:
            return fmt
    return None


def extension_formats(format_map: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> dict[str, str]:
    """The ``format_map`` setting (pairs, or a dict, of extension and format) as
    ``detect_format`` reads it: extensions lower-cased, without their dot.

    >>> extension_formats([(".TXT", "rst")])
    {'txt': 'rst'}
    """
    if not format_map:
        return {}
    pairs = format_map.items() if isinstance(format_map, Mapping) else format_map
    return {extension.lower().lstrip("."): fmt for extension, fmt in pairs}


@cache
def get_parser(fmt: str, *, rst_engine: str = "fast") -> Parser:
    """The parser function for a format name (see ``supported_formats()``).

    ``rst_engine`` picks the reStructuredText parser (one of ``RST_ENGINES``):
    ``"fast"`` (default) or ``"docutils"``; other formats ignore it.

    Raises:
        FormatError: unknown format or ``rst_engine`` (a ``ConfigError``, so a
            ``ValueError`` too).
    """
    if rst_engine not in _RST_MODULES:
        raise FormatError(f"unknown rst_engine {rst_engine!r}: allowed values are {', '.join(RST_ENGINES)}")
    try:
        module = _RST_MODULES[rst_engine] if fmt == "rst" else _MODULES[fmt]
    except KeyError:
        raise FormatError(
            f"unknown format {fmt!r}: supported formats are {', '.join(supported_formats())}"
        ) from None
    parser: Parser = importlib.import_module(module).parse
    return parser


__all__ = [
    "EXTENSIONS",
    "RST_ENGINES",
    "DocumentBuilder",
    "ParsedDocument",
    "Parser",
    "Section",
    "detect_format",
    "extension_formats",
    "get_parser",
    "supported_formats",
]
