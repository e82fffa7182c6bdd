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
from docbatch.state.outcomes_file import OutcomesFile
from docbatch.state.plan_rows import Rows
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
    still running, with files pending), and return the result of the call.

    The outcome rows of the call's files are streamed from its checkpoint parts into the
    outcomes report, never all held here: the result reads them back when asked."""
    unprocessed = _unprocessed(run, output)
    pending = Rows(
        pending_rows(pl.concat([unprocessed, run.waiting.lazy()]), run.run_id, run.source, output.interrupted)
    )
    carried = run.carried if run.carried["doc_id"].is_sorted() else run.carried.sort("doc_id")
    known = [frame for frame in (Rows.of(carried), run.decided, pending) if frame.height]
    counts = dict(output.tally.counts)
    for frame in known:
        for status, n in frame.statuses().items():
            counts[status] = counts.get(status, 0) + n
    failures = pl.concat(  # a frame is read again only when it holds failed rows
        [frame.filter(pl.col("status") == "failed") for frame in known if frame.statuses().get("failed")]
        + [output.tally.failures]
    )
    state = "complete" if counts.get("pending", 0) == 0 else "running"
    timeline = run_timeline(run, output.timeline, state_dir)
    outcomes = _merged([*known, output.outcomes()], sorted_parts=output.tally.ordered)
    # the state folder always holds the latest reports (verify's ledger, a resumed run's
    # timeline) and keeps each run's; a report folder gets a copy
    paths = reports.write_reports(
        state_dir,
        performance=performance(run, state, progress, config),
        outcomes=outcomes,
        failures=failures,
        timeline=timeline,
        problems=run.problems,
    )
    result = IngestResult(
        run_id=run.run_id,
        source=run.source,
        root=str(run.root),
        store=store_location,
        state_dir=str(state_dir),
        outcomes_file=OutcomesFile(paths["outcomes"]),  # opened before a later call replaces it
        counts=counts,
        failures=failures,
        timeline=timeline,
        # the seconds of ``files_per_second``: the call's clock, stopped when its last file
        # got its status (the reports written after it are not counted)
        elapsed_s=progress.elapsed_s if progress.finished else elapsed_s,
        peak_memory_mb=max(peak_rss_mb(), progress.peak_memory_mb),
        bytes_processed=progress.bytes_done,
        interrupted=output.interrupted,
        checkpoint_problems=run.problems,
        plan_counts=dict(sorted(run.planned.statuses().items())),
        handled_files=sum(n for status, n in run.decided.statuses().items() if status in FINAL)
        + output.tally.rows,
        pending_bytes=pending.total("size"),
    )
    reports.keep_run(state_dir, run.run_id, keep=config.keep_runs)
    if _elsewhere(report_path, state_dir):
        paths = reports.copy_reports(paths, report_path)
    result.reports = {name: str(path) for name, path in paths.items()}
    # last: a run killed before this line is still "running", and the next call writes
    # the reports it lost (marked complete first, the run's reports were lost for good)
    manifest = run.manifest(state, (result.elapsed_s, result.handled_files or 0))
    run.checkpoint.write_run(manifest)
    if state == "complete":  # its parts are in the reports now: the next run finds none to clear
        run.checkpoint.clear_parts()
    result.run_calls, result.run_elapsed_s = manifest["calls"], manifest["calls_s"]
    result.run_files = manifest["calls_files"]
    result.peak_memory_mb = max(result.peak_memory_mb, peak_rss_mb())  # the reports' share too
    return result


def _unprocessed(run: PreparedRun, output: RunOutput) -> pl.LazyFrame:
    """The plan rows of the call's files that got no outcome row (the call was stopped)."""
    if output.tally.rows == run.todo.height:  # every file of the call has its row
        return run.todo.lazy().head(0)
    done = output.outcomes().select("doc_id").collect()
    return run.todo.lazy().join(done.lazy(), on="doc_id", how="anti", maintain_order="left")


def _merged(frames: list[Rows | pl.LazyFrame], *, sorted_parts: bool) -> pl.LazyFrame:
    """The rows of ``frames`` in one frame in ``doc_id`` order, merged as they are streamed
    (each frame in that order already: the rows read from the plan are, the in-memory ones
    are sorted here when they are not, the checkpoint parts are when ``sorted_parts``, else
    they are sorted whole)."""
    lazy: list[pl.LazyFrame] = []
    for frame in frames:
        if isinstance(frame, Rows):
            lazy.append(frame.lazy())
        else:
            lazy.append(frame if sorted_parts else frame.sort("doc_id"))
    merged = lazy[0]
    for other in lazy[1:]:
        merged = merged.merge_sorted(other, key="doc_id")
    return merged


def _elsewhere(folder: Path, state_dir: Path) -> bool:
    """Whether ``folder`` is another folder than ``state_dir``."""
    try:
        return folder.resolve() != state_dir.resolve()
    except OSError:
        return folder != state_dir


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
) -> dict[str, Any]:
    """The ``batch_ingest_performance.json`` document (``per_format`` is filled in by
    ``reports.write_reports`` from the outcomes report, once it is written)."""
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
        "per_format": None,
        "configuration": config.as_dict(),
    }
