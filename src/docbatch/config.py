"""Batch settings: one typed record, read from the environment in one place.

>>> from docbatch.config import BatchConfig
>>> BatchConfig().chunk_processing_size
100
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from docbatch.errors import ConfigError

MB = 1024 * 1024


@dataclass
class BatchConfig:
    """Settings of a batch run. Validated on creation; change one with ``dataclasses.replace``
    or by assignment (``config.chunk_processing_size = 50``), which is validated too."""

    max_file_size: int = 50 * MB
    """Files larger than this many bytes are rejected as ``validation`` errors (BATCH_MAX_FILE_SIZE:
    bytes, or a number with KB, MB or GB: ``10MB``, ``1.5MB``; see ``parse_size``)."""
    max_batch_size: int = 1000
    """At most this many files are processed by one ``ingest_batch`` call; the rest stay pending
    for the next call; 0: no limit (BATCH_MAX_BATCH_SIZE)."""
    progress_save_interval: int = 10
    """A checkpoint part is written at least every this many finished files (BATCH_PROGRESS_INTERVAL)."""
    memory_threshold_mb: int = 1024
    """Resident memory, in MB, above which a warning fires and slices shrink (BATCH_MEMORY_THRESHOLD_MB)."""
    max_retry_attempts: int = 3
    """Attempts at a transient failure before it is ``exception_after_retries`` (BATCH_MAX_RETRIES)."""
    retry_backoff_factor: float = 2.0
    """Multiplier of the exponential backoff between attempts, in seconds."""
    chunk_processing_size: int = 100
    """Files per slice: the unit of work and of progress; slices back together are committed
    together (BATCH_CHUNK_SIZE)."""
    max_passage_chars: int = 1500
    """Passages longer than this are split further (characters, or tokens with
    ``passage_unit="tokens"``)."""
    min_passage_chars: int = 200
    """A passage shorter than this merges with a neighbour of its section when the two fit
    ``max_passage_chars`` (0: never; at most half of ``max_passage_chars``; same unit)."""
    passage_overlap_chars: int = 0
    """Each piece cut from a long section after the first repeats about this much of the
    previous piece's end (0: none; at most half of ``max_passage_chars``; same unit)."""
    passage_unit: str = "chars"
    """What the three passage sizes count: "chars" or "tokens" (``passage_tokenizer``)."""
    passage_tokenizer: str = ""
    """With ``passage_unit="tokens"``: the import path ``"module:function"`` of a function
    that takes a text and returns its token count or its tokens; empty: a built-in estimate
    (runs of up to six letters, and punctuation marks, count one token each)."""
    max_delete_share: float = 0.2
    """Syncing deletions refuses to remove more than this share of a source's stored documents."""
    file_timeout_s: float = 0.0
    """Give up on a file whose parsing takes longer than this (0: no limit); a worker stuck
    past it is killed and replaced (BATCH_FILE_TIMEOUT_S)."""
    worker_memory_mb: int = 0
    """Kill a worker process whose memory grows past this while on one file; the file
    becomes a ``worker_memory`` row (0: no limit)."""
    worker_max_files: int = 0
    """Replace each worker process after about this many files, to bound leaks (0: never)."""
    rst_engine: str = "fast"
    """reStructuredText parser: "fast" (docbatch's own reader) or "docutils" (exact, ~10x slower)."""
    html_content_selectors: tuple[str, ...] = ()
    """CSS selectors of a page's main content, tried before the built-in ones (``main``,
    ``article``, ``div[role=main]``, ...): for a site whose generator marks its content
    otherwise. Set per source: a call ingests one."""
    html_drop_selectors: tuple[str, ...] = ()
    """CSS selectors of elements dropped from a page's content (besides ``nav``, ``header``,
    ``footer``, scripts and the site template docbatch finds itself)."""
    format_map: tuple[tuple[str, str], ...] = ()
    """Files of an extension read as another format: pairs ``(extension, format)``, the
    extension with or without its dot, e.g. ``(("txt", "rst"),)`` reads ``.txt`` files (Sphinx's
    include snippets) as reStructuredText; a mapped extension goes before the built-in ones
    (``--format EXT=FORMAT``). Formats: html, markdown, rst, text."""
    keep_runs: int = 20
    """The state folder keeps the reports of this many latest runs in ``runs/<run_id>/``."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if f.name in _RULES or f.name in _CHOICES or f.name in _TEXTS or f.name in _OTHERS:
                _check(f.name, getattr(self, f.name))

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _RULES or name in _CHOICES or name in _TEXTS or name in _OTHERS:
            _check(name, value)
        object.__setattr__(self, name, value)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> BatchConfig:
        """A config whose fields come from the ``BATCH_*`` variables, defaults elsewhere.

        Raises:
            ConfigError: a variable is set to a value that is not allowed; the message names
                the variable, the value and the allowed range.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for variable, name in ENVIRONMENT_VARIABLES.items():
            raw = environ.get(variable)
            if raw is None or raw.strip() == "":
                continue
            values[name] = (
                parse_size(raw, variable) if name == "max_file_size" else _parse(variable, raw, _RULES[name])
            )
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        """The settings as a plain dict (for reports)."""
        return dataclasses.asdict(self)


ENVIRONMENT_VARIABLES: dict[str, str] = {
    "BATCH_MAX_FILE_SIZE": "max_file_size",
    "BATCH_MAX_BATCH_SIZE": "max_batch_size",
    "BATCH_PROGRESS_INTERVAL": "progress_save_interval",
    "BATCH_MEMORY_THRESHOLD_MB": "memory_threshold_mb",
    "BATCH_MAX_RETRIES": "max_retry_attempts",
    "BATCH_CHUNK_SIZE": "chunk_processing_size",
    "BATCH_FILE_TIMEOUT_S": "file_timeout_s",
}

# field -> (type, minimum); every rule reads "a <type> >= minimum" (finite, and at most
# the field's bound in _MAXIMA where it has one)
_RULES: dict[str, tuple[type, float]] = {
    "max_file_size": (int, 1),
    "max_batch_size": (int, 0),
    "progress_save_interval": (int, 1),
    "memory_threshold_mb": (int, 1),
    "max_retry_attempts": (int, 1),
    "retry_backoff_factor": (float, 0.0),
    "max_delete_share": (float, 0.0),
    "file_timeout_s": (float, 0.0),
    "worker_max_files": (int, 0),
    "worker_memory_mb": (int, 0),
    "chunk_processing_size": (int, 1),
    "max_passage_chars": (int, 50),
    "min_passage_chars": (int, 0),
    "passage_overlap_chars": (int, 0),
    "keep_runs": (int, 1),
}


_MAXIMA: dict[str, float] = {
    "max_retry_attempts": 100,
    "retry_backoff_factor": 3600.0,
    "max_delete_share": 1.0,
    "file_timeout_s": 7 * 24 * 3600.0,
}
"""Upper bounds where a larger value means nothing or breaks something (a share over 1,
a timeout the system timer cannot hold, retries that would never end)."""


# field -> the values it may take
_CHOICES: dict[str, tuple[str, ...]] = {
    "rst_engine": ("fast", "docutils"),
    "passage_unit": ("chars", "tokens"),
}

_SELECTORS = ("html_content_selectors", "html_drop_selectors")

FORMAT_NAMES: tuple[str, ...] = ("html", "markdown", "rst", "text")
"""The formats docbatch parses (``docbatch.formats.supported_formats()``), for ``format_map``."""
FORMAT_MAP_ALLOWED = (
    "pairs (extension, format) such as (('txt', 'rst'),): an extension of letters, digits,"
    " '_', '+' or '-' (a leading dot is fine), a format one of " + ", ".join(FORMAT_NAMES)
)
"""What ``format_map`` accepts, for error messages."""
_EXTENSION = re.compile(r"\.?[\w+-]+")
_OTHERS = (*_SELECTORS, "format_map")


def _check_format_map(name: str, value: Any) -> None:
    good = isinstance(value, tuple | list) and all(
        isinstance(pair, tuple | list)
        and len(pair) == 2
        and isinstance(pair[0], str)
        and _EXTENSION.fullmatch(pair[0]) is not None
        and pair[1] in FORMAT_NAMES
        for pair in value
    )
    if not good:
        raise ConfigError.invalid(name, value, FORMAT_MAP_ALLOWED)


def _check_selectors(name: str, value: Any) -> None:
    allowed = "a list of CSS selectors, such as ['div.content', '#main']"
    if isinstance(value, str) or not isinstance(value, tuple | list):
        raise ConfigError.invalid(name, value, allowed)
    from selectolax.lexbor import LexborHTMLParser, SelectolaxError  # only when selectors are set

    probe = LexborHTMLParser("<p></p>")
    for selector in value:
        try:
            if not isinstance(selector, str):
                raise TypeError(selector)
            probe.css(selector)
        except (SelectolaxError, TypeError):
            raise ConfigError.invalid(name, value, f"{allowed}; {selector!r} is not one") from None


# field -> (pattern the whole text matches, what is allowed)
_TEXTS: dict[str, tuple[re.Pattern[str], str]] = {
    "passage_tokenizer": (
        re.compile(r"(?:[A-Za-z_][\w.]*:[A-Za-z_][\w.]*)?"),
        "empty, or an import path 'module:function'",
    ),
}


def _allowed(name: str) -> str:
    kind, minimum = _RULES[name]
    maximum = _MAXIMA.get(name)
    if kind is int:
        return (
            f"a whole number from {int(minimum)} to {int(maximum)}"
            if maximum
            else f"a whole number >= {int(minimum)}"
        )
    return f"a number from {minimum:g} to {maximum:g}" if maximum else f"a finite number >= {minimum:g}"


def _in_range(name: str, value: float) -> bool:
    maximum = _MAXIMA.get(name)
    return math.isfinite(value) and value >= _RULES[name][1] and (maximum is None or value <= maximum)


def _check(name: str, value: Any) -> None:
    if name in _SELECTORS:
        _check_selectors(name, value)
        return
    if name == "format_map":
        _check_format_map(name, value)
        return
    if name in _TEXTS:
        pattern, allowed = _TEXTS[name]
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise ConfigError.invalid(name, value, allowed)
        return
    if name in _CHOICES:
        if value not in _CHOICES[name]:
            raise ConfigError.invalid(name, value, "one of " + ", ".join(map(repr, _CHOICES[name])))
        return
    kind, _ = _RULES[name]
    ok_type = (
        isinstance(value, int) and not isinstance(value, bool)
        if kind is int
        else isinstance(value, int | float) and not isinstance(value, bool)
    )
    if not ok_type or not _in_range(name, value):
        raise ConfigError.invalid(name, value, _allowed(name))


SIZE_ALLOWED = "a size of at least 1 byte: bytes (52428800) or a number with KB, MB or GB (200KB, 1.5MB)"
"""What ``parse_size`` accepts, for error messages."""
_SIZE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(?:([kmgt])i?)?b?", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(text: str, name: str) -> int:
    """A size in bytes from ``text``: plain bytes (``52428800``) or a number with a unit
    (``200KB``, ``10MB``, ``1.5MB``, ``2GiB``; the units count 1024s, case and spaces do not
    matter, ``_`` separates digits). ``BATCH_MAX_FILE_SIZE`` and ``--max-file-size`` read it.

    >>> parse_size("1.5MB", "BATCH_MAX_FILE_SIZE")
    1572864

    Raises:
        ConfigError: not a size, less than one byte, or a fraction of a byte; the message
            names ``name`` (the variable or option), the value and what is allowed.
    """
    match = _SIZE.fullmatch(text.strip().replace("_", ""))
    if match is None:
        raise ConfigError.invalid(name, text, SIZE_ALLOWED)
    number, unit = match[1], (match[2] or "").lower()
    value = float(number) * _UNITS[unit]
    if value < 1 or (not unit and not value.is_integer()):
        raise ConfigError.invalid(name, text, SIZE_ALLOWED)
    return round(value)


def _parse(variable: str, raw: str, rule: tuple[type, float]) -> Any:
    name = ENVIRONMENT_VARIABLES[variable]
    kind, _ = rule
    try:
        value = kind(raw.strip().replace("_", ""))
    except ValueError:
        raise ConfigError.invalid(variable, raw, _allowed(name)) from None
    if not _in_range(name, value):
        raise ConfigError.invalid(variable, raw, _allowed(name))
    return value


config = BatchConfig()
"""The process-wide default configuration (the seed's ``config``)."""
