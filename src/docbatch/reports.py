"""Reports of a run: Parquet frames for analysis and the seed's JSON summaries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from docbatch.atomic import write_json, write_parquet

PERFORMANCE_JSON = "batch_ingest_performance.json"
ERRORS_JSON = "batch_ingest_errors.json"
OUTCOMES_PARQUET = "outcomes.parquet"
TIMELINE_PARQUET = "timeline.parquet"


def error_records(outcomes: pl.DataFrame) -> list[dict[str, Any]]:
    """One dict per failed file: ``type``, ``category``, ``path``, ``doc_id``, ``message``, ``attempts``."""
    failed = outcomes.filter(pl.col("status") == "failed")
    return [
        {
            "type": row["error_type"],
            "category": row["error_category"],
            "path": row["path"] or row["doc_id"],
            "doc_id": row["doc_id"],
            "message": row["error_message"],
            "attempts": row["attempts"],
        }
        for row in failed.iter_rows(named=True)
    ]


def error_report(
    outcomes: pl.DataFrame, problems: Iterable[dict[str, Any]] = (), *, now: datetime | None = None
) -> dict[str, Any]:
    """The ``batch_ingest_errors.json`` document (seed shape)."""
    errors = error_records(outcomes) + list(problems)
    summary: dict[str, int] = {}
    for error in errors:
        summary[error["category"]] = summary.get(error["category"], 0) + 1
    return {
        "timestamp": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "total_errors": len(errors),
        "error_summary": dict(sorted(summary.items())),
        "errors": errors,
    }


def per_format(outcomes: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """Files, successes, failures, bytes and parse seconds by format."""
    if outcomes.height == 0:
        return {}
    stats = (
        outcomes.group_by(pl.col("format").fill_null("unknown"))
        .agg(
            files=pl.len(),
            succeeded=(pl.col("status") == "succeeded").sum(),
            failed=(pl.col("status") == "failed").sum(),
            skipped=(pl.col("status") == "skipped").sum(),
            bytes=pl.col("size").fill_null(0).sum(),
            duration_s=pl.col("duration_s").fill_null(0).sum(),
        )
        .sort("format")
    )
    return {row.pop("format"): row for row in stats.iter_rows(named=True)}


def write_reports(
    report_dir: Path,
    *,
    performance: dict[str, Any],
    outcomes: pl.DataFrame,
    timeline: pl.DataFrame,
    problems: Iterable[dict[str, Any]] = (),
) -> dict[str, Path]:
    """Write all four reports atomically into ``report_dir``; returns their paths by name."""
    report_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "performance": report_dir / PERFORMANCE_JSON,
        "errors": report_dir / ERRORS_JSON,
        "outcomes": report_dir / OUTCOMES_PARQUET,
        "timeline": report_dir / TIMELINE_PARQUET,
    }
    write_parquet(outcomes, paths["outcomes"])
    write_parquet(timeline, paths["timeline"])
    write_json(error_report(outcomes, problems), paths["errors"])
    write_json(performance, paths["performance"])
    return paths


def write_performance(report_dir: Path, performance: dict[str, Any]) -> Path:
    """Refresh only the performance JSON (during a run, so ``tail -f`` shows progress)."""
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / PERFORMANCE_JSON
    write_json(performance, path)
    return path
