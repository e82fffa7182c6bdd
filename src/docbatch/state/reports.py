"""Reports of a run: Parquet frames for analysis and the seed's JSON summaries.

Layout in a state folder::

    batch_ingest_performance.json, batch_ingest_errors.json,
    outcomes.parquet, timeline.parquet     the latest run's reports
    runs/<run_id>/                        the same four files of each of the last runs

The files of ``runs/<run_id>/`` are hard links to (or, where links are not possible,
copies of) the top-level files of that run's last call, so keeping them costs no writing.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from docbatch.state.atomic import sink_parquet, temp_name, write_json, write_parquet

PERFORMANCE_JSON = "batch_ingest_performance.json"
ERRORS_JSON = "batch_ingest_errors.json"
OUTCOMES_PARQUET = "outcomes.parquet"
TIMELINE_PARQUET = "timeline.parquet"
REPORT_FILES = {
    "performance": PERFORMANCE_JSON,
    "errors": ERRORS_JSON,
    "outcomes": OUTCOMES_PARQUET,
    "timeline": TIMELINE_PARQUET,
}
"""The reports of a run by name, as ``IngestResult.reports`` names them."""
RUNS_DIR = "runs"
KEEP_RUNS = 20
"""How many runs' reports a state folder keeps by default (``BatchConfig.keep_runs``)."""


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


def per_format(outcomes: pl.DataFrame | pl.LazyFrame) -> dict[str, dict[str, Any]]:
    """Files, successes, failures, bytes and parse seconds by format."""
    stats = (
        outcomes.lazy()
        .group_by(pl.col("format").cast(pl.Utf8).fill_null("unknown"))  # not an enum value
        .agg(
            files=pl.len(),
            succeeded=(pl.col("status") == "succeeded").sum(),
            failed=(pl.col("status") == "failed").sum(),
            skipped=(pl.col("status") == "skipped").sum(),
            bytes=pl.col("size").fill_null(0).sum(),
            duration_s=pl.col("duration_s").fill_null(0).sum(),
        )
        .sort("format")
        .collect(engine="streaming")
    )
    return {row.pop("format"): row for row in stats.iter_rows(named=True)}


def write_reports(
    report_dir: Path,
    *,
    performance: dict[str, Any],
    outcomes: pl.DataFrame | pl.LazyFrame | None,
    timeline: pl.DataFrame,
    problems: Iterable[dict[str, Any]] = (),
    failures: pl.DataFrame | None = None,
) -> dict[str, Path]:
    """Write all four reports atomically into ``report_dir``; returns their paths by name.

    ``outcomes`` given as a ``LazyFrame`` is streamed to its file; the performance report's
    ``per_format`` is read back from that file (the columns it needs), and ``failures``,
    the rows of the failed files when known, spares reading those back too.

    With ``outcomes`` None (a call that leaves files for the next call of its run), the
    outcomes report is not written and an earlier one in ``report_dir`` is removed: the
    other three reports are written, with the given ``failures`` and the performance
    report's own ``per_format``."""
    report_dir.mkdir(parents=True, exist_ok=True)
    paths = report_paths(report_dir)
    if outcomes is None:
        if failures is None:
            raise ValueError("the failures are needed when the outcomes report is not written")
        paths["outcomes"].unlink(missing_ok=True)  # an earlier call's, or an earlier run's
        del paths["outcomes"]
        write_parquet(timeline, paths["timeline"])
        write_json(error_report(failures, problems), paths["errors"])
        write_json(performance, paths["performance"])
        return paths
    if isinstance(outcomes, pl.LazyFrame):
        # zstd's fastest level: at 300,000 rows 0.17 s instead of 0.24, and as small
        sink_parquet(outcomes, paths["outcomes"], compression_level=1)
    else:
        write_parquet(outcomes, paths["outcomes"])
    written = pl.scan_parquet(paths["outcomes"])
    write_parquet(timeline, paths["timeline"])
    if failures is None:
        failures = written.filter(pl.col("status") == "failed").collect()
    write_json(error_report(failures, problems), paths["errors"])
    write_json({**performance, "per_format": per_format(written)}, paths["performance"])
    return paths


def write_performance(report_dir: Path, performance: dict[str, Any]) -> Path:
    """Refresh only the performance JSON (during a run, so ``tail -f`` shows progress)."""
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / PERFORMANCE_JSON
    write_json(performance, path)
    return path


def report_paths(folder: Path) -> dict[str, Path]:
    """Where the four reports are in ``folder``, by name."""
    return {name: folder / filename for name, filename in REPORT_FILES.items()}


def copy_reports(paths: dict[str, Path], folder: Path, *, link: bool = False) -> dict[str, Path]:
    """Put the reports at ``paths`` into ``folder``, each atomically (under a temporary name,
    then renamed); ``link``: as hard links where the file system allows. Returns the new paths."""
    folder.mkdir(parents=True, exist_ok=True)
    copied: dict[str, Path] = {}
    for name, path in paths.items():
        target = folder / path.name
        if not path.is_file():
            target.unlink(missing_ok=True)  # not one of this call's: an earlier one is not either
            continue
        tmp = temp_name(target)
        tmp.unlink(missing_ok=True)
        try:
            if link:
                try:
                    os.link(path, tmp)
                except OSError:
                    shutil.copyfile(path, tmp)
            else:
                shutil.copyfile(path, tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        copied[name] = target
    return copied


def run_folder(state_dir: Path, run_id: str) -> Path:
    """The folder keeping the reports of run ``run_id``.

    Raises:
        ValueError: ``run_id`` is not a run id (a path, or empty).
    """
    if not run_id or Path(run_id).name != run_id or run_id.startswith("."):
        raise ValueError(f"{run_id!r} is not a run id")
    return state_dir / RUNS_DIR / run_id


def keep_run(state_dir: Path, run_id: str, *, keep: int = KEEP_RUNS) -> Path:
    """Keep the top-level reports of ``state_dir`` (run ``run_id``'s) in its run folder, and
    remove the folders of older runs beyond the last ``keep``. Returns the run's folder."""
    folder = run_folder(state_dir, run_id)
    copy_reports(report_paths(state_dir), folder, link=True)
    for old in [row["run_id"] for row in list_runs(state_dir)][max(1, keep) :]:
        if old != run_id:
            shutil.rmtree(state_dir / RUNS_DIR / old, ignore_errors=True)
    return folder


def list_runs(state_dir: Path) -> list[dict[str, Any]]:
    """The runs kept in ``state_dir``, newest first: each run's performance report (``run_id``,
    ``source``, ``state``, ``started_at``, ``elapsed_s``, counts, ``files_per_second``, ...)
    and ``folder``. A run folder without a readable performance report is listed with its id only."""
    runs_dir = state_dir / RUNS_DIR
    if not runs_dir.is_dir():
        return []
    rows: list[tuple[tuple[str, int, str], dict[str, Any]]] = []
    for folder in runs_dir.iterdir():
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        path = folder / PERFORMANCE_JSON
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            mtime = path.stat().st_mtime_ns
        except (OSError, ValueError):
            data, mtime = {}, 0
        row = dict(data) if isinstance(data, dict) else {}
        row["run_id"] = folder.name
        row["folder"] = str(folder)
        # started_at is to the second: runs started in the same second by when they last wrote
        rows.append(((str(row.get("started_at") or ""), mtime, folder.name), row))
    rows.sort(key=lambda item: item[0], reverse=True)
    return [row for _, row in rows]


def latest_outcomes(
    state_dir: Path, source: str, columns: tuple[str, ...] = ("doc_id", "status", "content_hash")
) -> pl.LazyFrame | None:
    """The ``columns`` of the outcome rows of the latest kept run of ``source`` in
    ``state_dir`` (None if none), to be read lazily (at a million files they take 100 MB):
    ``verify`` reads them a range of doc ids at a time."""
    candidates = [state_dir / OUTCOMES_PARQUET]
    candidates += [
        Path(row["folder"]) / OUTCOMES_PARQUET for row in list_runs(state_dir) if row.get("source") == source
    ]
    for path in candidates:
        try:
            rows = pl.scan_parquet(path)
            if "source" not in rows.collect_schema().names():
                continue
            outcomes = rows.filter(pl.col("source") == source).select(columns)
            if outcomes.select(pl.len()).collect().item():
                return outcomes
        except (OSError, pl.exceptions.PolarsError):
            continue
    return None
