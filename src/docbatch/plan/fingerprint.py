"""What a stored document was made with: one fingerprint per format.

A document stored under another fingerprint than the current one is planned
as ``changed``: a new parser version or a new chunking setting re-ingests
exactly the documents it affects, and nothing else.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import cache
from importlib import metadata
from typing import Any

from docbatch import __version__
from docbatch.formats import extension_formats
from docbatch.work.chunking import PassageRules

# the library that parses each format; its version is part of the format's fingerprint
FORMAT_LIBRARIES: dict[str, str | None] = {
    "markdown": "pyromark",
    "html": "selectolax",
    "rst": None,  # depends on the engine, see _library
    "text": None,
}


@cache
def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def _library(fmt: str, rst_engine: str) -> str | None:
    if fmt == "rst":
        return "docutils" if rst_engine == "docutils" else None
    return FORMAT_LIBRARIES.get(fmt)


def fingerprints(*, passages: PassageRules | None = None, rst_engine: str = "fast") -> dict[str, str]:
    """The fingerprint of every format under these settings.

    >>> a = fingerprints(passages=PassageRules(max_size=1500))
    >>> b = fingerprints(passages=PassageRules(max_size=800))
    >>> sorted(a) == ["html", "markdown", "rst", "text"] and a["html"] != b["html"]
    True
    """
    return dict(_fingerprints(passages or PassageRules(), rst_engine))


CHUNKER_VERSION = 3
"""Bumped when the same settings cut passages differently (2: heading-only passages
dropped, short passages merged, long sections cut evenly; 3: passages know their anchor
and source lines)."""


@cache
def _fingerprints(passages: PassageRules, rst_engine: str) -> tuple[tuple[str, str], ...]:
    result = {}
    for fmt in FORMAT_LIBRARIES:
        library = _library(fmt, rst_engine)
        recipe = {
            "docbatch": __version__,
            "format": fmt,
            "engine": rst_engine if fmt == "rst" else None,
            "library": f"{library}=={_version(library)}" if library else None,
            "max_passage_chars": passages.max_size,
            "chunker": CHUNKER_VERSION,
            "passages": [passages.min_size, passages.overlap, passages.unit, passages.tokenizer],
        }
        digest = hashlib.blake2b(json.dumps(recipe, sort_keys=True).encode(), digest_size=8)
        result[fmt] = digest.hexdigest()
    return tuple(result.items())


def parser_fingerprints(config: Any, parsers: Mapping[str, object]) -> dict[str, str]:
    """Per-format fingerprints of ``config``'s settings; a custom parser for a format makes
    that format's fingerprint name it (module and name), and so do the extensions
    ``format_map`` gives a format (``+map:inc,txt``): changing the map re-plans them."""
    prints = fingerprints(passages=PassageRules.from_config(config), rst_engine=config.rst_engine)
    mapped: dict[str, list[str]] = {}
    for extension, fmt in sorted(extension_formats(getattr(config, "format_map", ())).items()):
        mapped.setdefault(fmt, []).append(extension)
    for fmt, extensions in mapped.items():
        prints[fmt] = f"{prints.get(fmt, '')}+map:{','.join(extensions)}"
    for fmt, parser in parsers.items():
        module = getattr(parser, "__module__", "?")
        name = getattr(parser, "__qualname__", type(parser).__name__)
        prints[fmt] = f"{prints.get(fmt, '')}+{module}.{name}"
    return prints
