"""What a store gives back to read its passages out: the schema of a passage with its
document's metadata (``PASSAGE_RECORDS``), of a document (``DOCUMENT_RECORD``) and of a
removed passage (``REMOVED_PASSAGES``), the filter of a read (``PassageFilter``) and the
pieces the stores share to apply it.

A read goes through the passages in the order (source, doc_id, seq), one batch at a time:
each batch starts after the last key of the one before (keyset pagination), so no batch
holds more than ``batch_size`` rows and the whole table is never in memory.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl

PASSAGE_RECORDS: dict[str, pl.DataType] = {
    "source": pl.Utf8(),
    "doc_id": pl.Utf8(),
    "passage_id": pl.Utf8(),
    "seq": pl.Int32(),
    "title": pl.Utf8(),  # the document's
    "format": pl.Utf8(),
    "heading_path": pl.Utf8(),  # headings joined with docbatch.frames.HEADING_SEPARATOR
    "anchor": pl.Utf8(),  # "" when the section has none
    "line_start": pl.Int32(),  # source lines, 1-based, inclusive (null: unknown)
    "line_end": pl.Int32(),
    "text": pl.Utf8(),
    "start": pl.Int64(),  # character offsets in the document's clean text
    "end": pl.Int64(),
    "content_hash": pl.Utf8(),  # of the document's file
    "git_commit": pl.Utf8(),  # the last commit that touched the file (null outside git)
    "git_author": pl.Utf8(),
    "git_date": pl.Datetime("us", "UTC"),
    "mtime_ns": pl.Int64(),
    "ingested_at": pl.Datetime("us", "UTC"),  # when the document was last written
}
"""One passage with its document's metadata, as ``PassageReader.passage_batches`` yields it."""

DOCUMENT_RECORD: dict[str, pl.DataType] = {
    "source": pl.Utf8(),
    "doc_id": pl.Utf8(),
    "title": pl.Utf8(),
    "format": pl.Utf8(),
    "size": pl.Int64(),
    "mtime_ns": pl.Int64(),
    "content_hash": pl.Utf8(),
    "n_chars": pl.Int64(),
    "n_passages": pl.Int32(),
    "fingerprint": pl.Utf8(),
    "git_commit": pl.Utf8(),
    "git_author": pl.Utf8(),
    "git_date": pl.Datetime("us", "UTC"),
    "ingested_at": pl.Datetime("us", "UTC"),
}
"""One stored document (``PassageReader.document``)."""

REMOVED_PASSAGES: dict[str, pl.DataType] = {
    "passage_id": pl.Utf8(),
    "source": pl.Utf8(),
    "doc_id": pl.Utf8(),
    "removed_at": pl.Datetime("us", "UTC"),
}
"""A passage id no longer in the store: its document was written again without it, or was
deleted (its source dropped too). An id written again is no longer listed."""

_DOCUMENT_SIDE = {"title", "format", "content_hash", "git_commit", "git_author", "git_date"}
_DOCUMENT_SIDE |= {"mtime_ns", "ingested_at"}
SQL_COLUMNS = {name: f"d.{name}" if name in _DOCUMENT_SIDE else f"p.{name}" for name in PASSAGE_RECORDS}
SQL_COLUMNS["end"] = 'p."end"'
"""The SQL of each ``PASSAGE_RECORDS`` column over ``SQL_FROM`` (both SQL stores)."""
SQL_FROM = "FROM passages AS p JOIN documents AS d ON d.source = p.source AND d.doc_id = p.doc_id"

KEY = ("source", "doc_id", "seq")
"""The order of a read, and the key each batch starts after."""
DEFAULT_BATCH_SIZE = 10_000


@dataclass(frozen=True)
class PassageFilter:
    """Which passages a read returns (every given condition holds).

    Args:
        source: of this source only.
        format: of documents of this format (markdown, rst, html, text).
        path: a glob on ``doc_id`` (``*`` and ``?`` match any character, ``/`` too, and
            ``[...]`` one of a set, as ``fnmatch.fnmatchcase``).
        since: of documents written at or after this time (a naive time is UTC; the stores
            keep the time to the second or better, so a document written in that second counts).
    """

    source: str | None = None
    format: str | None = None
    path: str | None = None
    since: datetime | None = None

    def matches(self, record: dict[str, Any]) -> bool:
        """Whether a record (with ``source``, ``doc_id``, ``format``, ``ingested_at``) is kept."""
        return (
            (self.source is None or record["source"] == self.source)
            and (self.format is None or record["format"] == self.format)
            and (self.path is None or fnmatch.fnmatchcase(record["doc_id"], self.path))
            and (self.since is None or record["ingested_at"] >= utc(self.since).replace(microsecond=0))
        )


def utc(when: datetime) -> datetime:
    """``when`` as an aware UTC time (a naive one is taken to be UTC)."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def utc_text(when: datetime) -> str:
    """``when`` as the SQLite store writes its times (ISO 8601, UTC, to the second)."""
    return utc(when).isoformat(timespec="seconds")


def check_batch_size(batch_size: int) -> int:
    """``batch_size`` if it is a positive integer.

    Raises:
        ValueError: it is not.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, not {batch_size!r}")
    return batch_size


def check_columns(columns: list[str] | None) -> list[str]:
    """The ``PASSAGE_RECORDS`` columns a read returns, in the schema's order.

    Raises:
        ValueError: a column is not one of ``PASSAGE_RECORDS``.
    """
    if columns is None:
        return list(PASSAGE_RECORDS)
    unknown = [name for name in columns if name not in PASSAGE_RECORDS]
    if unknown:
        raise ValueError(
            f"no passage column {', '.join(map(repr, unknown))}: one of {', '.join(PASSAGE_RECORDS)}"
        )
    wanted = set(columns)
    return [name for name in PASSAGE_RECORDS if name in wanted]


def glob_regex(pattern: str) -> str:
    """A POSIX regular expression (for PostgreSQL's ``~``) matching what ``fnmatchcase``
    matches with ``pattern``.

    >>> glob_regex("guides/*.md")
    '^guides/.*\\\\.md$'
    >>> glob_regex("[!a]?")
    '^[^a].$'
    """
    out, i = ["^"], 0
    while i < len(pattern):
        char = pattern[i]
        i += 1
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[":
            end = i + (pattern[i : i + 1] == "!")
            end += pattern[end : end + 1] == "]"
            end = pattern.find("]", end)
            if end < 0:
                out.append(r"\[")
                continue
            body = pattern[i:end].replace("\\", "\\\\")
            i = end + 1
            if body.startswith("!"):
                body = "^" + body[1:]
            elif body.startswith("^"):
                body = "\\" + body
            out.append(f"[{body}]")
        else:
            out.append(re.sub(r"([\\.^$|?*+()\[\]{}])", r"\\\1", char))
    out.append("$")
    return "".join(out)


def parse_times(frame: pl.DataFrame, *names: str) -> pl.DataFrame:
    """``frame`` with its text columns ``names`` (ISO 8601 times as the SQLite store writes
    them) read as UTC times."""
    present = [name for name in names if name in frame.columns]
    return frame.with_columns(
        pl.col(name).str.to_datetime("%Y-%m-%dT%H:%M:%S%z", time_zone="UTC", strict=False) for name in present
    )
