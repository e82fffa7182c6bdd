"""Outcome rows that need no parsing: skipped, rejected, pending and carried-over files."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from docbatch.frames import OUTCOMES, conform


def planned_rows(planned: pl.DataFrame, run_id: str, source: str) -> pl.DataFrame:
    """Outcome rows for plan rows decided without parsing: ``unchanged`` files are skipped,
    and so are ``skipped`` paths (hidden, folder symlinks; with their reason); ``invalid``
    files failed with category ``validation``."""
    now = datetime.now(UTC)
    rows = planned.filter(pl.col("status").is_in(["unchanged", "skipped", "invalid"]))
    invalid = pl.col("status") == "invalid"
    return conform(
        rows.with_columns(
            run_id=pl.lit(run_id),
            source=pl.lit(source),
            status=pl.when(invalid).then(pl.lit("failed")).otherwise(pl.lit("skipped")),
            reason=pl.when(invalid).then(pl.lit(None, dtype=pl.Utf8)).otherwise(pl.col("reason")),
            error_category=pl.when(invalid).then(pl.lit("validation")),
            error_type=pl.when(invalid).then(pl.lit("ValidationError")),
            error_message=pl.when(invalid).then(pl.col("reason")),
            attempts=pl.lit(0),
            content_hash=pl.col("known_hash"),
            started_at=pl.lit(now),
            finished_at=pl.lit(now),
        ),
        OUTCOMES,
    )


def pending_rows(rows: pl.DataFrame, run_id: str, source: str, interrupted: bool) -> pl.DataFrame:
    """Outcome rows for files left for the next call."""
    reason = (
        "run interrupted before this file"
        if interrupted
        else "over the call's limit; call again (or run the same command) to continue"
    )
    return conform(
        rows.with_columns(
            run_id=pl.lit(run_id),
            source=pl.lit(source),
            status=pl.lit("pending"),
            reason=pl.lit(reason),
            attempts=pl.lit(0),
        ),
        OUTCOMES,
    )


def deleted_rows(deleted: pl.DataFrame, run_id: str, source: str) -> pl.DataFrame:
    """Outcome rows for stored documents removed because their file is gone."""
    now = datetime.now(UTC)
    return conform(
        deleted.with_columns(
            run_id=pl.lit(run_id),
            source=pl.lit(source),
            status=pl.lit("deleted"),
            reason=pl.lit("file gone from disk; removed from the store"),
            attempts=pl.lit(0),
            content_hash=pl.col("known_hash"),
            started_at=pl.lit(now),
            finished_at=pl.lit(now),
        ),
        OUTCOMES,
    )


def carried_over(checkpointed: pl.DataFrame, inventory: pl.DataFrame) -> pl.DataFrame:
    """Checkpointed rows of the run being resumed whose file has not changed since, and its
    rows of documents removed because their file was gone (while it still is)."""
    if checkpointed.height == 0:
        return conform(checkpointed, OUTCOMES)
    listed = inventory.select("doc_id", pl.col("size").alias("_size"), pl.col("mtime_ns").alias("_mtime"))
    deleted = pl.col("status") == "deleted"
    same = (
        checkpointed.filter(~deleted)
        .join(listed, on="doc_id", how="inner")
        .filter((pl.col("mtime_ns") == pl.col("_mtime")) & (pl.col("size") == pl.col("_size")))
    )
    still_gone = checkpointed.filter(deleted).join(listed, on="doc_id", how="anti")
    return conform(pl.concat([same.drop("_size", "_mtime"), still_gone]), OUTCOMES)
