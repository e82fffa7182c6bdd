"""Drive the slices of a plan through worker, retry, store, checkpoint and metrics.

For each slice: the worker function parses it (in this process or on an
executor), transient failures among its rows are retried with backoff, then
the slice is committed to the store in one transaction, its outcome rows are
written as one checkpoint part, and one timeline row is recorded. While the
driver commits slice k, an executor is already parsing the next slices; slices
that are back by the time the driver gets to them are committed together (one
transaction, one part, one timeline row).

A call's files are processed in batches of ``max_batch_size`` (0: one batch): a slice
never spans two batches, slices of two batches are never committed together, and at the
end of each batch the reports are refreshed (``on_batch``) and the batch's label rows
added to the label table.
Slices of the next batch are already being parsed meanwhile: a batch boundary does not
drain the workers.

Progress is saved at least every ``progress_save_interval`` files as they finish:
in this process files finish one by one, so slices are cut no larger than that;
a worker's files all finish together when its slice comes back, so there the
slice (``chunk_processing_size``) is the unit.
"""

from __future__ import annotations

import gc
import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import polars as pl

from docbatch.config import BatchConfig
from docbatch.frames import DOCUMENTS, GIT_COLUMNS, OUTCOMES, TIMELINE, conform
from docbatch.metrics import BatchProgress, SliceSizer, processing_metrics
from docbatch.result import OutcomeTally, RunOutput
from docbatch.retry import RetryPolicy
from docbatch.run.supervisor import Supervisor
from docbatch.state.checkpoint import Checkpoint
from docbatch.state.labels import LabelTable
from docbatch.state.plan_rows import PlanRows
from docbatch.store.base import DocumentStore
from docbatch.work.outcomes import after_retries
from docbatch.work.worker import ParseOptions, SliceResult, process_slice

log = logging.getLogger("docbatch")

MAX_SLICES_PER_COMMIT = 8
"""Slices whose results are already back when the driver gets to commit are committed
together, in one transaction and one checkpoint part: when the driver is the bottleneck,
its fixed cost per commit is spread over more files."""
LABEL_ROWS_PER_SAVE = 1000
"""The label rows of the commits are added to the label table (as a part) at the end of
each batch and of the run, and once the commits since the last hold this many documents'
rows: not one part per commit. A run killed in between leaves the table without the rows
of the documents committed since, which the next run parses again
(``docbatch.state.labels``)."""


class ProgressSink(Protocol):
    """Receives a run's progress events; terminal bars, widgets and logs implement it.

    A sink that shows files too (the notebook dashboard) also has the optional hook of
    ``OutcomeSink``, and then receives outcome rows as well."""

    def start(self, progress: BatchProgress) -> None: ...

    def update(self, progress: BatchProgress, commit_row: dict[str, Any]) -> None: ...

    def stop(self, progress: BatchProgress) -> None: ...


@runtime_checkable
class OutcomeSink(Protocol):
    """The optional hook of a ``ProgressSink`` that shows files: ``outcomes`` receives the
    rows of the files decided before any slice is parsed (unchanged, invalid, carried
    from an earlier call), then each commit's rows (``docbatch.frames.OUTCOMES``)."""

    def outcomes(self, progress: BatchProgress | None, frame: pl.DataFrame) -> None: ...


class StopFlag(Protocol):
    def is_set(self) -> bool: ...


@dataclass
class RunContext:
    """Everything a run needs besides the plan rows."""

    store: DocumentStore
    source: str
    run_id: str
    config: BatchConfig
    options: ParseOptions
    checkpoint: Checkpoint
    progress: BatchProgress
    retry: RetryPolicy
    sinks: list[ProgressSink] = field(default_factory=list)
    executor: Executor | None = None
    executor_factory: Callable[[], Executor] | None = None
    """Makes a replacement when a worker dies (None: a broken executor stops the run)."""
    fallback: bool = False
    """Parse in this process when worker processes cannot start (else stop the run)."""
    in_flight: int = 2
    first_part: int = 0
    stop: StopFlag | None = None
    provenance: pl.DataFrame | None = None
    """git_commit/git_author/git_date by doc_id, merged into the stored documents."""
    on_checkpoint: Callable[[], None] | None = None
    """Called after each checkpoint part (e.g. to refresh the performance report)."""
    on_batch: Callable[[int], None] | None = None
    """Called with the batch's number when its last commit is done."""
    labels: LabelTable | None = None
    """The source's label table: each commit's label rows are merged in and saved."""
    fix_up: bool = False
    """The commits store files the run has counted and checkpointed already, parsed again
    (``run.references``): they write no checkpoint part and count nothing."""


class Runner:
    """Runs one plan; not reusable."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        cfg = ctx.config
        self.sizer = SliceSizer(cfg.chunk_processing_size, cfg.memory_threshold_mb)
        self.part = ctx.first_part
        self.commit_no = 0
        self.tally = OutcomeTally()
        self.parts: list[Path] = []
        self.timeline: list[dict[str, Any]] = []
        self.labels: list[pl.DataFrame] = []
        """The label rows of the commits since the label table was last saved."""
        self.supervisor = Supervisor(
            ctx.executor,
            ctx.executor_factory,
            ctx.options,
            worker_memory_mb=cfg.worker_memory_mb,
            fallback=ctx.fallback,
        )

    def run(self, todo: pl.DataFrame | PlanRows) -> RunOutput:
        # objects alive before the run are not the run's garbage: freezing them keeps the
        # collection between slices cheap (a full collection walks every tracked object)
        gc.freeze()
        try:
            return self._run(todo)
        finally:
            gc.unfreeze()

    def _run(self, todo: pl.DataFrame | PlanRows) -> RunOutput:
        if self.ctx.options.label_scan is not None:
            self._scan_labels()
        ctx = self.ctx
        interrupted = False
        batch_size = ctx.config.max_batch_size or todo.height or 1
        queue: deque[tuple[int, int, pl.DataFrame, Future[SliceResult] | None]] = deque()
        offset = 0
        while offset < todo.height or queue:
            while offset < todo.height and len(queue) < max(1, ctx.in_flight) and not self._stopped():
                size = self._slice_size()
                batch = offset // batch_size
                piece = todo.slice(offset, min(size, (batch + 1) * batch_size - offset))
                offset += piece.height
                queue.append((batch, size, piece, self.supervisor.submit(piece)))
            if not queue:
                interrupted = self._stopped()
                break
            ready = [queue.popleft()]
            batch = ready[0][0]
            while (
                queue
                and len(ready) < MAX_SLICES_PER_COMMIT
                and queue[0][0] == batch
                and _finished(queue[0][3])
            ):
                ready.append(queue.popleft())
            results = []
            for _, _, piece, future in ready:
                results.append(self._retry_transient(piece, self._compute(piece, future)))
            result = results[0] if len(results) == 1 else SliceResult.concat(results)
            self._commit(result, [piece for _, _, piece, _ in ready])
            self._record_commit(sum(p.height for _, _, p, _ in ready), ready[0][1], batch)
            batch_done = queue[0][0] != batch if queue else offset >= todo.height or offset % batch_size == 0
            if batch_done:
                self._save_labels()
            if batch_done and ctx.on_batch is not None:
                ctx.on_batch(batch)
            gc.collect()
            if self._stopped():
                for _, _, _, pending in queue:
                    if pending is not None:
                        pending.cancel()
                interrupted = offset < todo.height or bool(queue)
                queue.clear()
                break
        self._save_labels()
        timeline = pl.DataFrame(self.timeline, schema=TIMELINE)
        return RunOutput(self.parts, self.tally, timeline, interrupted, self.part)

    def _scan_labels(self) -> None:
        """Find the labels of the call's files before parsing any (``ParseOptions.label_scan``),
        on the executor the slices are parsed on: the driver only gathers what it finds."""
        options = self.ctx.options
        assert options.label_scan is not None
        index = options.label_scan.found(options, self.supervisor.executor, self.ctx.in_flight, self._stopped)
        self.ctx = replace(self.ctx, options=replace(options, title_index=index, label_scan=None))
        self.supervisor.options = self.ctx.options

    def _slice_size(self) -> int:
        if self.ctx.executor is None:
            return min(self.sizer.current, self.ctx.config.progress_save_interval)
        return self.sizer.current

    def _stopped(self) -> bool:
        return self.ctx.stop is not None and self.ctx.stop.is_set()

    # computing -----------------------------------------------------------------------------
    def _compute(self, piece: pl.DataFrame, future: Future[SliceResult] | None) -> SliceResult:
        try:
            return self.supervisor.result(piece, future)
        except MemoryError:
            return self._compute_halves(piece)

    def _compute_halves(self, piece: pl.DataFrame) -> SliceResult:
        """After a MemoryError: process the slice again in halves, down to single files."""
        new_size = self.sizer.shrink()
        gc.collect()
        if piece.height == 1:
            log.warning("out of memory on %s alone; recorded as failed", piece["doc_id"][0])
            return SliceResult.failed(
                piece, "processing", "MemoryError", "ran out of memory processing this file alone"
            )
        log.warning(
            "out of memory on a slice of %d files; retrying in halves (slice size now %d)",
            piece.height,
            new_size,
        )
        half = piece.height // 2
        parts = []
        for sub in (piece.slice(0, half), piece.slice(half)):
            try:
                parts.append(process_slice(sub, self.ctx.options))
            except MemoryError:
                parts.append(self._compute_halves(sub))
        return SliceResult.concat(parts)

    def _retry_transient(self, piece: pl.DataFrame, result: SliceResult) -> SliceResult:
        policy = self.ctx.retry
        attempt = 1
        while True:
            if not result.outcomes["retryable"].any():
                return result
            failed = result.outcomes.filter(pl.col("retryable"))
            ids = set(failed["doc_id"])
            if attempt >= policy.max_attempts:
                return replace(result, outcomes=after_retries(result.outcomes))
            for row in failed.iter_rows(named=True):
                log.info(
                    "retrying %s after %s (attempt %d of %d): %s",
                    row["doc_id"],
                    row["error_type"],
                    attempt + 1,
                    policy.max_attempts,
                    row["error_message"],
                )
            policy.pause(attempt)
            attempt += 1
            again = process_slice(piece.filter(pl.col("doc_id").is_in(list(ids))), self.ctx.options)
            again.outcomes = again.outcomes.with_columns(attempts=pl.lit(attempt, dtype=pl.Int32))
            result = SliceResult.concat([result.without(ids), again])

    # committing ----------------------------------------------------------------------------
    def _commit(self, result: SliceResult, pieces: list[pl.DataFrame]) -> None:
        """Store the files of ``result`` (parsed from the plan rows ``pieces``), then write
        their outcome rows as a checkpoint part (in ``doc_id`` order) and count them."""
        ctx = self.ctx
        outcomes = conform(
            result.outcomes, OUTCOMES, {"run_id": ctx.run_id, "source": ctx.source, "commit": self.commit_no}
        ).sort("doc_id")
        documents = result.documents
        if ctx.provenance is not None and documents.height:
            documents = documents.drop(GIT_COLUMNS).join(ctx.provenance, on="doc_id", how="left")
            documents = documents.select(list(DOCUMENTS))
        ctx.retry.call(
            ctx.store.write_slice,
            ctx.source,
            documents,
            result.passages,
            result.touched,
            on_retry=_log_store_retry,
        )
        if ctx.labels is not None and result.labels.height:  # after the store has the documents
            self.labels.append(result.labels)
            if sum(rows.height for rows in self.labels) >= LABEL_ROWS_PER_SAVE:
                self._save_labels()
        self.tally.add(outcomes, pl.concat([piece.select("doc_id", "size") for piece in pieces]))
        if ctx.fix_up:
            return
        self.parts.append(ctx.checkpoint.write_part(ctx.run_id, self.part, outcomes))
        self.part += 1
        status = outcomes["status"]
        ctx.progress.add(
            succeeded=int((status == "succeeded").sum()),
            failed=int((status == "failed").sum()),
            skipped=int((status == "skipped").sum()),
            nbytes=int(outcomes["size"].fill_null(0).sum()),
        )
        for sink in ctx.sinks:
            if isinstance(sink, OutcomeSink):  # sinks that show files (the dashboard)
                sink.outcomes(ctx.progress, outcomes)
        if ctx.on_checkpoint is not None:
            ctx.on_checkpoint()

    def _save_labels(self) -> None:
        """Add the label rows of the commits since the last time to the label table, as a
        part of it (see ``LABEL_ROWS_PER_SAVE``)."""
        if self.ctx.labels is None or not self.labels:
            return
        self.ctx.labels.add(pl.concat(self.labels) if len(self.labels) > 1 else self.labels[0])
        self.labels = []

    def _record_commit(self, files: int, size_used: int, batch: int) -> None:
        ctx = self.ctx
        progress = ctx.progress
        workers = getattr(self.supervisor.executor, "_processes", None) or {}  # a local pool's
        progress.update_metrics(worker_pids=list(workers))
        crossed = self.sizer.observe(progress.memory_usage_mb)
        if crossed:
            log.warning(
                "memory %.0f MB is over memory_threshold_mb=%d; slice size now %d",
                progress.memory_usage_mb,
                ctx.config.memory_threshold_mb,
                self.sizer.current,
            )
            progress.memory_warning = True
        metrics = processing_metrics(progress)
        row = {
            "run_id": ctx.run_id,
            "commit": self.commit_no,
            "batch": batch,
            "elapsed_s": metrics["elapsed_s"],
            "commit_files": files,
            "slice_size": size_used,
            "processed": metrics["processed"],
            "succeeded": metrics["succeeded"],
            "failed": metrics["failed"],
            "skipped": metrics["skipped"],
            "bytes_done": progress.bytes_done,
            "files_per_second": metrics["files_per_second"],
            "bytes_per_second": metrics["bytes_per_second"],
            "rss_mb": progress.memory_usage_mb,
            "peak_rss_mb": progress.peak_memory_mb,
            "eta_s": metrics["estimated_time_remaining"],
            "memory_warning": crossed,
        }
        self.timeline.append(row)
        self.commit_no += 1
        for sink in ctx.sinks:
            sink.update(progress, row)


def _finished(future: Future[SliceResult] | None) -> bool:
    return future is not None and future.done()


def _log_store_retry(exc: BaseException, attempt: int) -> None:
    log.warning("store busy (attempt %d): %s; retrying", attempt, exc)
