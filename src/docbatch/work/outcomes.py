"""Outcome rows: the one place where a file's row of ``result.outcomes`` is made.

A worker fills the rows of the files it parsed (``worker_rows``, with ``failure`` for an
exception); every other row is made here from rows of the plan: ``failed_rows`` (a file
that killed or hung a worker, or ran the driver out of memory), ``planned_rows`` (decided
without parsing), ``pending_rows`` (left for the next call) and ``deleted_rows`` (removed
from the store because the file is gone).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, overload

import polars as pl

from docbatch.errors import FileError, is_transient
from docbatch.frames import ERROR_CATEGORIES, ERROR_CATEGORY, OUTCOMES, conform

WORKER_OUTCOMES: dict[str, pl.DataType] = {
    name: dtype for name, dtype in OUTCOMES.items() if name not in ("run_id", "source", "commit")
} | {"retryable": pl.Boolean()}
"""The outcome rows of a slice as they leave the worker: the driver adds the run, the
source and the commit's number, and drops ``retryable`` (the worker's word on whether
trying again may help)."""

MAX_MESSAGE_CHARS = 1000

_FILE_COLUMNS = ("doc_id", "path", "format", "size", "mtime_ns")


def worker_rows(columns: Mapping[str, list[Any]]) -> pl.DataFrame:
    """The ``WORKER_OUTCOMES`` frame of a worker's rows, given column by column."""
    return pl.DataFrame(dict(columns), schema=WORKER_OUTCOMES)


def failure(exc: Exception) -> dict[str, Any]:
    """The failed columns of the row of a file whose processing raised ``exc``."""
    category = exc.category if isinstance(exc, FileError) else "processing"
    if category not in ERROR_CATEGORIES:  # a parser's own FileError subclass
        category = "processing"
    message = " ".join(str(exc).split()) or type(exc).__name__
    return {
        "status": "failed",
        "error_category": category,
        "error_type": type(exc).__name__,
        "error_message": message[:MAX_MESSAGE_CHARS],
        "retryable": is_transient(exc),
    }


def failed_rows(
    files: pl.DataFrame,
    category: str | pl.Expr,
    error_type: str | pl.Expr,
    message: str | pl.Expr,
    *,
    attempts: int = 1,
) -> pl.DataFrame:
    """``WORKER_OUTCOMES`` rows of plan rows ``files`` that failed without a worker's word:
    each of ``category``, ``error_type`` and ``message`` is one value for all, or an
    expression over ``files``."""
    now = datetime.now(UTC)
    return _rows(
        files.select(_FILE_COLUMNS),
        WORKER_OUTCOMES,
        status="failed",
        error_category=category,
        error_type=error_type,
        error_message=message,
        attempts=attempts,
        started_at=now,
        finished_at=now,
        retryable=False,
    )


def after_retries(outcomes: pl.DataFrame) -> pl.DataFrame:
    """Worker rows after the last attempt: a failure worth retrying is one no more
    (``exception_after_retries``)."""
    return outcomes.with_columns(
        error_category=pl.when(pl.col("retryable"))
        .then(pl.lit("exception_after_retries", dtype=ERROR_CATEGORY))
        .otherwise(pl.col("error_category")),
        retryable=pl.lit(False),
    )


def planned_rows(planned: pl.LazyFrame, run_id: str, source: str) -> pl.LazyFrame:
    """Outcome rows for plan rows decided without parsing, as a query of them: ``unchanged``
    files are skipped, and so are ``skipped`` paths (hidden, folder symlinks; with their
    reason); ``invalid`` files failed with category ``validation``."""
    now = datetime.now(UTC)
    rows = planned.filter(pl.col("status").is_in(["unchanged", "skipped", "invalid"]))
    invalid = pl.col("status") == "invalid"
    return _rows(
        rows,
        OUTCOMES,
        run_id=run_id,
        source=source,
        status=pl.when(invalid).then(pl.lit("failed")).otherwise(pl.lit("skipped")),
        reason=pl.when(invalid).then(pl.lit(None, dtype=pl.Utf8)).otherwise(pl.col("reason")),
        error_category=pl.when(invalid).then(pl.lit("validation")),
        error_type=pl.when(invalid).then(pl.lit("ValidationError")),
        error_message=pl.when(invalid).then(pl.col("reason")),
        attempts=0,
        content_hash=pl.col("known_hash"),
        started_at=now,
        finished_at=now,
    )


def pending_rows(rows: pl.LazyFrame, run_id: str, source: str, interrupted: bool) -> pl.LazyFrame:
    """Outcome rows for files left for the next call, as a query of their plan rows."""
    reason = (
        "run interrupted before this file"
        if interrupted
        else "over the call's limit; call again (or run the same command) to continue"
    )
    return _rows(rows, OUTCOMES, run_id=run_id, source=source, status="pending", reason=reason, attempts=0)


def deleted_rows(deleted: pl.DataFrame, run_id: str, source: str) -> pl.DataFrame:
    """Outcome rows for stored documents removed because their file is gone."""
    now = datetime.now(UTC)
    return _rows(
        deleted,
        OUTCOMES,
        run_id=run_id,
        source=source,
        status="deleted",
        reason="file gone from disk; removed from the store",
        attempts=0,
        content_hash=pl.col("known_hash"),
        started_at=now,
        finished_at=now,
    )


@overload
def _rows(files: pl.DataFrame, schema: dict[str, pl.DataType], **values: object) -> pl.DataFrame: ...
@overload
def _rows(files: pl.LazyFrame, schema: dict[str, pl.DataType], **values: object) -> pl.LazyFrame: ...
def _rows(
    files: pl.DataFrame | pl.LazyFrame, schema: dict[str, pl.DataType], **values: object
) -> pl.DataFrame | pl.LazyFrame:
    """``files`` with the given columns (a value for every row, or an expression), in
    ``schema``; the schema's other columns are the files' own, or null (a query of
    ``files`` when it is one)."""
    columns = {
        name: value if isinstance(value, pl.Expr) else pl.lit(value, dtype=schema[name])
        for name, value in values.items()
    }
    if isinstance(files, pl.LazyFrame):
        present = files.with_columns(**columns).collect_schema()
        return files.with_columns(**columns).select(
            pl.col(name).cast(dtype) if name in present else pl.lit(None, dtype=dtype).alias(name)
            for name, dtype in schema.items()
        )
    return conform(files.with_columns(**columns), schema)


def carried_over(checkpointed: pl.DataFrame, inventory: pl.LazyFrame) -> pl.DataFrame:
    """Checkpointed rows of the run being resumed whose file has not changed since, and its
    rows of documents removed because their file was gone (while it still is)."""
    if checkpointed.height == 0:
        return conform(checkpointed, OUTCOMES)
    listed = inventory.select("doc_id", pl.col("size").alias("_size"), pl.col("mtime_ns").alias("_mtime"))
    deleted = pl.col("status") == "deleted"
    same = (
        checkpointed.lazy()
        .filter(~deleted)
        .join(listed, on="doc_id", how="inner")
        .filter((pl.col("mtime_ns") == pl.col("_mtime")) & (pl.col("size") == pl.col("_size")))
        .drop("_size", "_mtime")
    )
    still_gone = checkpointed.lazy().filter(deleted).join(listed, on="doc_id", how="anti")
    return conform(pl.concat([same, still_gone]).collect(), OUTCOMES)
