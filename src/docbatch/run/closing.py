"""The end of an ``ingest_batch`` call: the outcome row of every file, the reports, the result."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from docbatch.config import BatchConfig
from docbatch.frames import OUTCOMES, TIMELINE, conform
from docbatch.metrics import BatchProgress, peak_rss_mb, processing_metrics
from docbatch.result import FINAL, IngestResult, RunOutput
from docbatch.run.kept import Ledger
from docbatch.run.preparation import PreparedRun
from docbatch.state import reports
from docbatch.state.outcomes_file import HeldFiles, OutcomesFile, OutcomesQuery
from docbatch.state.plan_rows import Rows
from docbatch.work.outcomes import pending_rows, planned_rows


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
    keep_figures: Callable[[Ledger], None] | None = None,
) -> IngestResult:
    """Write the run's reports into the state folder (and a copy into ``report_path`` when
    it is another folder), keep them in ``runs/<run_id>/``, then mark the run complete (or
    still running, with files pending), and return the result of the call.

    The outcome rows of the call's files are streamed from its checkpoint parts into the
    outcomes report, never all held here: the result reads them back when asked.

    A call that continues from its run's previous call (``run.ledger``) and leaves files
    for the next one writes no outcomes report: its other reports add its own files to
    the figures the previous call left, and its result makes its rows when asked for
    (``OutcomesQuery``). The run's last call writes the outcomes report of the whole run.
    ``keep_figures`` is given the figures of this call's reports, for the next call."""
    deferred = (
        run.ledger is not None
        and not output.interrupted
        and output.tally.rows == run.todo.height
        and run.waiting.height > 0
    )
    outcomes: pl.LazyFrame | None = None
    outcomes_file: OutcomesFile | OutcomesQuery | None = None
    if deferred:
        assert run.ledger is not None
        figures = _added(run.ledger, run, output)
        outcomes_file = OutcomesQuery(_rows_later(run, output))
    else:
        unprocessed = _unprocessed(run, output)
        pending = Rows(
            pending_rows(
                pl.concat([unprocessed, run.waiting.lazy()]), run.run_id, run.source, output.interrupted
            )
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
        outcomes = _merged([*known, output.outcomes()], sorted_parts=output.tally.ordered)
        figures = Ledger(
            plan=run.planned,
            counts=counts,
            per_format={},  # read from the performance report once written
            failures=failures,
            pending=pending.height,
            pending_bytes=pending.total("size"),
            decided=run.decided.statuses(),
        )
    state = "complete" if figures.counts.get("pending", 0) == 0 else "running"
    timeline = run_timeline(run, output.timeline, state_dir)
    report = performance(run, state, progress, config)
    if deferred:
        report["per_format"] = figures.per_format
    # the state folder always holds the latest reports (verify's ledger, a resumed run's
    # timeline) and keeps each run's; a report folder gets a copy
    paths = reports.write_reports(
        state_dir,
        performance=report,
        outcomes=outcomes,
        failures=figures.failures,
        timeline=timeline,
        problems=run.problems,
    )
    if outcomes_file is None:
        outcomes_file = OutcomesFile(paths["outcomes"])  # opened before a later call replaces it
    if not deferred and keep_figures is not None and state == "running":
        written = json.loads(paths["performance"].read_text(encoding="utf-8"))
        figures = replace(figures, per_format=written.get("per_format") or {})
    result = IngestResult(
        run_id=run.run_id,
        source=run.source,
        root=str(run.root),
        store=store_location,
        state_dir=str(state_dir),
        outcomes_file=outcomes_file,
        counts=figures.counts,
        failures=figures.failures,
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
        pending_bytes=figures.pending_bytes,
    )
    reports.keep_run(state_dir, run.run_id, keep=config.keep_runs)
    if _elsewhere(report_path, state_dir):
        paths = reports.copy_reports(reports.report_paths(state_dir), report_path)
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
    if keep_figures is not None and state == "running":
        done = run.todo.height > 0 and output.tally.rows == run.todo.height and not output.interrupted
        last = run.todo.slice(run.todo.height - 1, 1)["doc_id"].item() if done else None
        keep_figures(replace(figures, after=last))
    return result


def _added(before: Ledger, run: PreparedRun, output: RunOutput) -> Ledger:
    """The figures of ``before`` with the call's files, every one of them done now, moved
    from pending to their outcome (counted from their rows alone)."""
    done = output.tally.rows
    counts = dict(before.counts)
    counts["pending"] = counts.get("pending", 0) - done
    for status, n in output.tally.counts.items():
        counts[status] = counts.get(status, 0) + n
    per_format = {name: dict(row) for name, row in before.per_format.items()}
    now_done = reports.per_format(output.outcomes())
    were_pending = reports.per_format(pending_rows(run.todo.lazy(), run.run_id, run.source, False))
    for rows, sign in ((now_done, 1), (were_pending, -1)):
        for name, row in rows.items():
            target = per_format.setdefault(name, dict.fromkeys(row, 0))
            for key, value in row.items():
                target[key] = target.get(key, 0) + sign * value
    return Ledger(
        plan=before.plan,
        counts={status: n for status, n in counts.items() if n or status != "pending"},
        per_format=dict(sorted(per_format.items())),
        failures=pl.concat([before.failures, output.tally.failures]),
        pending=before.pending - done,
        pending_bytes=before.pending_bytes - run.todo.total("size"),
        decided=before.decided,
    )


def _rows_later(run: PreparedRun, output: RunOutput) -> Callable[[], pl.LazyFrame]:
    """The query of the outcome rows of a call that leaves files for the next one, made
    when it is run from the plan's files as they are now (held open: the run's last call
    removes them) and the call's checkpoint parts (read now: a later call merges them)."""
    plan = HeldFiles(run.planned.files)
    start, height, limit = run.planned.start, run.planned.height, run.todo.height
    parts = [path.read_bytes() for path in output.parts]
    carried, run_id, source = run.carried, run.run_id, run.source
    ordered = output.tally.ordered

    def build() -> pl.LazyFrame:
        planned = pl.scan_parquet(plan.contents()).slice(start, height)
        done = pl.col("doc_id").is_in(carried["doc_id"].implode())
        decided = planned_rows(planned.filter(~done), run_id, source)
        to_parse = pl.col("status").is_in(["new", "changed"])
        waiting = pending_rows(planned.filter(to_parse & ~done).slice(limit), run_id, source, False)
        rows = pl.scan_parquet(parts, schema=OUTCOMES) if parts else pl.LazyFrame(schema=OUTCOMES)
        kept = carried if carried["doc_id"].is_sorted() else carried.sort("doc_id")
        return _merged([Rows.of(kept), Rows(decided), Rows(waiting), rows], sorted_parts=ordered)

    return build


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
