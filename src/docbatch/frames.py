"""The polars frames that flow between stages, and their schemas.

Every stage hands the next one a DataFrame with one of these schemas; they are
part of the public API (``result.outcomes``, ``result.timeline``, the Parquet
reports). Column names are snake_case and carry their unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

import polars as pl

PlanStatus = Literal["new", "changed", "unchanged", "deleted", "invalid", "skipped"]

# The values of the outcome frame's enum columns, each in alphabetical order so that sorting
# by one sorts as its text would. A value outside them cannot enter an outcome frame: building
# or loading one with it raises.
OutcomeStatus = Literal["deleted", "failed", "pending", "skipped", "succeeded"]
ErrorCategory = Literal[
    "checkpoint",  # a checkpoint problem of the error report (no file's row carries it)
    "exception_after_retries",  # a transient error still there after the last attempt
    "pattern",  # a pattern that matches nothing, in the error report (no file's row either)
    "processing",  # the parser (or reading the file) failed
    "timeout",  # parsing took longer than file_timeout_s
    "validation",  # not acceptable input: empty, too large, binary, unsupported, outside the root
    "worker_crash",  # the worker process died on the file
    "worker_memory",  # the worker grew past worker_memory_mb on the file
]
Format = Literal["html", "markdown", "rst", "text"]  # docbatch.formats.supported_formats()

OUTCOME_STATUSES: tuple[str, ...] = get_args(OutcomeStatus)
ERROR_CATEGORIES: tuple[str, ...] = get_args(ErrorCategory)
FORMATS: tuple[str, ...] = get_args(Format)

OUTCOME_STATUS = pl.Enum(OUTCOME_STATUSES)
ERROR_CATEGORY = pl.Enum(ERROR_CATEGORIES)
FORMAT = pl.Enum(FORMATS)

INVENTORY: dict[str, pl.DataType] = {
    "doc_id": pl.Utf8(),  # posix path relative to the root
    "path": pl.Utf8(),  # absolute path on disk
    "format": pl.Utf8(),
    "size": pl.Int64(),
    "mtime_ns": pl.Int64(),
    "status": pl.Utf8(),  # "" after inventory ("invalid"/"skipped" at once); a PlanStatus after planning
    "reason": pl.Utf8(),
}

PLAN: dict[str, pl.DataType] = {
    **INVENTORY,
    "known_hash": pl.Utf8(),  # content hash in the store, when the document is there
}

OUTCOMES: dict[str, pl.DataType] = {
    "run_id": pl.Utf8(),
    "source": pl.Utf8(),
    "doc_id": pl.Utf8(),
    "path": pl.Utf8(),
    "format": FORMAT,  # null when the file has no supported format
    "size": pl.Int64(),
    "mtime_ns": pl.Int64(),
    "status": OUTCOME_STATUS,
    "reason": pl.Utf8(),
    "error_category": ERROR_CATEGORY,  # when status == "failed"
    "error_type": pl.Utf8(),
    "error_message": pl.Utf8(),
    "attempts": pl.Int32(),
    "content_hash": pl.Utf8(),
    "title": pl.Utf8(),
    "n_passages": pl.Int32(),  # the passages the document was cut into
    "n_chars": pl.Int64(),
    "duration_s": pl.Float64(),
    "commit": pl.Int32(),  # the number of the commit that wrote the row (null: decided without parsing)
    "started_at": pl.Datetime("us", "UTC"),
    "finished_at": pl.Datetime("us", "UTC"),
}

DOCUMENTS: dict[str, pl.DataType] = {
    "doc_id": pl.Utf8(),
    "title": pl.Utf8(),
    "format": pl.Utf8(),
    "size": pl.Int64(),
    "mtime_ns": pl.Int64(),
    "content_hash": pl.Utf8(),
    "n_chars": pl.Int64(),
    "n_passages": pl.Int32(),
    "fingerprint": pl.Utf8(),  # parser and chunking settings it was made with
    "git_commit": pl.Utf8(),  # the last commit that touched the file (null outside git)
    "git_author": pl.Utf8(),
    "git_date": pl.Datetime("us", "UTC"),
}

GIT_COLUMNS = ("git_commit", "git_author", "git_date")

TOUCHED: dict[str, pl.DataType] = {
    "doc_id": pl.Utf8(),
    "size": pl.Int64(),
    "mtime_ns": pl.Int64(),
}

KNOWN_DOCUMENTS: dict[str, pl.DataType] = {
    "doc_id": pl.Utf8(),
    "size": pl.Int64(),
    "mtime_ns": pl.Int64(),
    "content_hash": pl.Utf8(),
    "fingerprint": pl.Utf8(),
}

PASSAGES: dict[str, pl.DataType] = {
    "doc_id": pl.Utf8(),
    "seq": pl.Int32(),
    "passage_id": pl.Utf8(),
    "heading_path": pl.Utf8(),  # headings joined with HEADING_SEPARATOR
    "start": pl.Int64(),
    "end": pl.Int64(),
    "text": pl.Utf8(),
    "anchor": pl.Utf8(),  # of the section it starts in: what a link to it uses ("" when none)
    "line_start": pl.Int32(),  # the source lines it comes from (1-based, inclusive; null: unknown)
    "line_end": pl.Int32(),
}

TIMELINE: dict[str, pl.DataType] = {  # one row per store commit: a slice, or slices back together
    "run_id": pl.Utf8(),
    "commit": pl.Int32(),  # the commit's number in the run (outcome rows carry it too)
    "batch": pl.Int32(),  # the batch of the call (max_batch_size files each) the commit belongs to
    "elapsed_s": pl.Float64(),
    "commit_files": pl.Int32(),  # files in the commit
    "slice_size": pl.Int32(),  # the slice size in force when its (first) slice was cut
    "processed": pl.Int64(),  # cumulative over the run
    "succeeded": pl.Int64(),
    "failed": pl.Int64(),
    "skipped": pl.Int64(),
    "bytes_done": pl.Int64(),
    "files_per_second": pl.Float64(),
    "bytes_per_second": pl.Float64(),
    "rss_mb": pl.Float64(),
    "peak_rss_mb": pl.Float64(),
    "eta_s": pl.Float64(),
    "memory_warning": pl.Boolean(),
}

SEARCH_HITS: dict[str, pl.DataType] = {
    "source": pl.Utf8(),
    "doc_id": pl.Utf8(),
    "title": pl.Utf8(),
    "heading_path": pl.Utf8(),
    "snippet": pl.Utf8(),
    "score": pl.Float64(),
    "passage_id": pl.Utf8(),
    "anchor": pl.Utf8(),
    "line_start": pl.Int32(),
    "line_end": pl.Int32(),
    "format": pl.Utf8(),  # of the passage's document, as are git_commit and git_date
    "text": pl.Utf8(),  # the passage's full text
    "git_commit": pl.Utf8(),
    "git_date": pl.Datetime("us", "UTC"),
}

PROBLEMS: dict[str, pl.DataType] = {
    "doc_id": pl.Utf8(),
    "kind": pl.Utf8(),  # missing / extra / stale / orphaned_passages / passage_count / index
    "detail": pl.Utf8(),
}

HEADING_SEPARATOR = " > "

FORMER_NAMES = {"n_passages": "n_chunks", "commit": "slice", "commit_files": "slice_files"}
"""Outcome and timeline columns -> the names earlier versions wrote them under, in the
Parquet files of the state folders they left: ``conform`` reads those under the names now."""


def conform(
    df: pl.DataFrame, schema: dict[str, pl.DataType], fill: Mapping[str, object] | None = None
) -> pl.DataFrame:
    """``df`` with exactly the schema's columns, in order and cast; a missing column is
    read under its former name (``FORMER_NAMES``), or is ``fill[name]`` on every row, or null.

    Built from the columns themselves, not a query: this runs for every slice.

    >>> conform(pl.DataFrame({"b": [1, 2]}), {"a": pl.Utf8(), "b": pl.Int32()}, {"a": "x"}).rows()
    [('x', 1), ('x', 2)]
    >>> conform(pl.DataFrame({"slice": [3]}), {"commit": pl.Int32()}).columns
    ['commit']
    """
    present = df.schema
    columns = []
    for name, dtype in schema.items():
        found = name if name in present else FORMER_NAMES.get(name, name)
        if found in present:
            column = df.get_column(found).alias(name)
            if present[found] != dtype:  # (an enum dtype is a new object at each look)
                column = column.cast(dtype)
        else:
            value = fill.get(name) if fill is not None else None
            column = pl.Series(name, [value] * df.height, dtype=dtype)
        columns.append(column)
    return pl.DataFrame(columns)


def count_statuses(statuses: pl.Series, into: dict[str, int] | None = None) -> dict[str, int]:
    """The number of rows of each value of an outcome ``status`` column, added to ``into``
    (a new dict when None) and returned.

    >>> count_statuses(pl.Series(["failed", "succeeded", "succeeded"]), {"failed": 2})
    {'failed': 3, 'succeeded': 2}
    """
    counts = {} if into is None else into
    for name, count in statuses.cast(pl.Utf8).value_counts().iter_rows():
        counts[name] = counts.get(name, 0) + int(count)
    return counts
