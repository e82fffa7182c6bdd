"""The end of an ``ingest_batch`` call: the outcome row of every file, the reports, the result."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from docbatch.config import BatchConfig
from docbatch.frames import TIMELINE, conform
from docbatch.metrics import BatchProgress, peak_rss_mb, processing_metrics
from docbatch.result import FINAL, IngestResult, RunOutput
from docbatch.run.preparation import PreparedRun
from docbatch.state import reports
from docbatch.work.outcomes import pending_rows


def close_call(
    run: PreparedRun,
    output: RunOutput,
    *,
    progress: BatchProgress,
    config: BatchConfig,
    store_location: str,
    state_dir: Path,
    report_path: Path,
    elapsed_s: float,
) -> IngestResult:
    """Write the run's reports into the state folder (and a copy into ``report_path`` when
    it is another folder), keep them in ``runs/<run_id>/``, then mark the run complete (or
    still running, with files pending), and return the result of the call."""
    outcomes = run_outcomes(run, output)
    pending = int((outcomes["status"] == "pending").sum())
    state = "complete" if pending == 0 else "running"
    result = IngestResult(
        run_id=run.run_id,
        source=run.source,
        root=str(run.root),
        store=store_location,
        state_dir=str(state_dir),
        outcomes=outcomes,
        timeline=run_timeline(run, output.timeline, state_dir),
        # the seconds of ``files_per_second``: the call's clock, stopped when its last file
        # got its status (the reports written after it are not counted)
        elapsed_s=progress.elapsed_s if progress.finished else elapsed_s,
        peak_memory_mb=max(peak_rss_mb(), progress.peak_memory_mb),
        bytes_processed=progress.bytes_done,
        interrupted=output.interrupted,
        checkpoint_problems=run.problems,
        plan_counts=dict(run.planned.group_by("status").len().sort("status").iter_rows()),
        handled_files=int(run.decided["status"].is_in(FINAL).sum()) + output.outcomes.height,
    )
    # the state folder always holds the latest reports (verify's ledger, a resumed run's
    # timeline) and keeps each run's; a report folder gets a copy
    paths = reports.write_reports(
        state_dir,
        performance=performance(run, state, progress, config, outcomes),
        outcomes=outcomes,
        timeline=result.timeline,
        problems=run.problems,
    )
    reports.keep_run(state_dir, run.run_id, keep=config.keep_runs)
    if _elsewhere(report_path, state_dir):
        paths = reports.copy_reports(paths, report_path)
    result.reports = {name: str(path) for name, path in paths.items()}
    # last: a run killed before this line is still "running", and the next call writes
    # the reports it lost (marked complete first, the run's reports were lost for good)
    manifest = run.manifest(state, (result.elapsed_s, result.handled_files or 0))
    run.checkpoint.write_run(manifest)
    result.run_calls, result.run_elapsed_s = manifest["calls"], manifest["calls_s"]
    result.run_files = manifest["calls_files"]
    result.peak_memory_mb = max(result.peak_memory_mb, peak_rss_mb())  # the reports' share too
    return result


def _elsewhere(folder: Path, state_dir: Path) -> bool:
    """Whether ``folder`` is another folder than ``state_dir``."""
    try:
        return folder.resolve() != state_dir.resolve()
    except OSError:
        return folder != state_dir


def run_outcomes(run: PreparedRun, output: RunOutput) -> pl.DataFrame:
    """One row per file of the run, by doc_id: earlier calls', this call's, and ``pending``
    rows for the files left over (``max_batch_size``, or an interruption)."""
    if output.outcomes.height == run.todo.height:  # every file of the call has its row
        unprocessed = run.todo.clear()
    else:
        unprocessed = run.todo.join(output.outcomes.select("doc_id"), on="doc_id", how="anti")
    pending = pending_rows(pl.concat([unprocessed, run.waiting]), run.run_id, run.source, output.interrupted)
    parts = [frame for frame in (run.carried, run.decided, output.outcomes, pending) if frame.height]
    outcomes = pl.concat(parts) if parts else pending
    if not outcomes["doc_id"].is_sorted():  # in plan order already when one part holds them all
        outcomes = outcomes.sort("doc_id")
    return outcomes


def run_timeline(run: PreparedRun, new: pl.DataFrame, state_dir: Path) -> pl.DataFrame:
    """This call's timeline, after the earlier calls' rows when the run was resumed."""
    if not run.resumed:
        return new
    try:
        old = conform(pl.read_parquet(state_dir / reports.TIMELINE_PARQUET), TIMELINE)
    except (OSError, pl.exceptions.PolarsError):
        return new
    return pl.concat([old.filter(pl.col("run_id") == run.run_id), new])


def performance(
    run: PreparedRun,
    state: str,
    progress: BatchProgress,
    config: BatchConfig,
    outcomes: pl.DataFrame | None = None,
) -> dict[str, Any]:
    """The ``batch_ingest_performance.json`` document (``per_format`` once outcomes are known)."""
    return {
        "run_id": run.run_id,
        "source": run.source,
        "root": str(run.root),
        "state": state,
        "started_at": run.started_at.isoformat(timespec="seconds"),
        "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **processing_metrics(progress),
        "final_memory_mb": progress.memory_usage_mb,
        "driver_max_rss_mb": peak_rss_mb(),  # the operating system's peak, reports included
        "recovered": run.recovered,
        "per_format": reports.per_format(outcomes) if outcomes is not None else None,
        "configuration": config.as_dict(),
    }
