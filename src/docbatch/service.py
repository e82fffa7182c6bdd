"""``BatchIngestService``: the seed-compatible facade over inventory, planning and the runner.

>>> import tempfile, os
>>> from docbatch import BatchIngestService, sample
>>> tmp = tempfile.mkdtemp()
>>> docs = sample.write_sample_tree(os.path.join(tmp, "docs"))
>>> service = BatchIngestService(os.path.join(tmp, "docs.db"))
>>> result = service.ingest_batch(docs, pattern="*.md,*.rst,*.html,*.txt")
>>> result.failed > 0 and result.succeeded > 20
True
>>> service.search("quokka")["doc_id"][0]
'guides/troubleshooting.md'
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from docbatch import reports
from docbatch.checkpoint import Checkpoint, LoadedCheckpoint, load_legacy_progress
from docbatch.config import BatchConfig
from docbatch.config import config as default_config
from docbatch.errors import ConfigError
from docbatch.formats.base import Parser
from docbatch.frames import OUTCOMES, TIMELINE, conform
from docbatch.inventory import DEFAULT_PATTERN, parse_patterns, scan
from docbatch.metrics import BatchProgress, peak_rss_mb, processing_metrics
from docbatch.outcomes import carried_over, pending_rows, planned_rows
from docbatch.planning import plan
from docbatch.progress import resolve as resolve_progress
from docbatch.result import IngestResult
from docbatch.retry import RetryPolicy
from docbatch.runner import RunContext, Runner
from docbatch.store import DocumentStore, SQLiteStore, open_store
from docbatch.worker import ParseOptions

ExecutorSpec = str | Executor | None


class BatchIngestService:
    """Ingest documentation trees into a searchable store, resumably.

    Args:
        backend: a store object, or a path/URL naming one (default ``./docbatch.db``).
        git_service: reserved for git provenance; may be None.
        ingest_service: parsers by format name (``{"markdown": func}``) replacing the
            built-in ones; None uses the built-in parsers.
        config: the settings (default: the module-level ``docbatch.config``).
        state_dir: where checkpoints and reports go (default: next to the store,
            ``<store name>.state``).
        sleep: the function used to wait between retries (tests pass a no-op).
    """

    def __init__(
        self,
        backend: DocumentStore | str | os.PathLike[str] | None = None,
        git_service: object | None = None,
        ingest_service: Mapping[str, Parser] | None = None,
        config: BatchConfig | None = None,
        *,
        state_dir: str | os.PathLike[str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.backend = open_store(backend)
        self.git_service = git_service
        self.parsers: dict[str, Parser] = dict(ingest_service or {})
        self.config = config if config is not None else default_config
        self.state_dir = Path(state_dir) if state_dir is not None else _state_dir_for(self.backend)
        self.sleep = sleep
        self.progress = BatchProgress()

    # ingest --------------------------------------------------------------------------------
    def ingest_batch(
        self,
        directory: str | os.PathLike[str],
        pattern: str = DEFAULT_PATTERN,
        recursive: bool = True,
        force: bool = False,
        resume: bool = True,
        *,
        source: str | None = None,
        executor: ExecutorSpec = None,
        workers: int | None = None,
        progress: object = None,
        fallback_encoding: str | None = None,
        report_dir: str | os.PathLike[str] | None = None,
    ) -> IngestResult:
        """Ingest the files of ``directory`` that match ``pattern`` (comma-separated globs).

        Unchanged files are skipped (unless ``force``); with ``resume`` an unfinished
        run of the same tree continues where it stopped. At most
        ``config.max_batch_size`` files are processed; the rest stay pending for the
        next call. One bad file never stops the run: it becomes a failed outcome row.

        Raises:
            RootError: ``directory`` is missing or unreadable.
            ConfigError: a bad pattern, source, executor or progress value.
            StoreError: the store cannot be read or written.
        """
        started_at = datetime.now(UTC)
        clock0 = time.perf_counter()
        cfg = self.config
        root = Path(directory)
        patterns = parse_patterns(pattern)
        source = _check_source(source if source is not None else _default_source(root))
        inventory = scan(root, patterns, recursive=recursive, max_file_size=cfg.max_file_size)

        checkpoint = Checkpoint(self.state_dir)
        checkpoint.prepare()
        job = {
            "root": os.path.realpath(root),
            "patterns": list(patterns),
            "recursive": recursive,
            "source": source,
        }
        run_id, loaded, resumed = self._open_run(checkpoint, job, resume)
        planned = plan(
            inventory,
            self.backend.known_documents(source),
            force=force,
            patterns=patterns,
            recursive=recursive,
        )
        carried = carried_over(loaded.outcomes, inventory)
        done_ids = carried["doc_id"].implode()
        todo_all = planned.filter(
            pl.col("status").is_in(["new", "changed"]) & ~pl.col("doc_id").is_in(done_ids)
        )
        todo = todo_all.head(cfg.max_batch_size)
        waiting = todo_all.slice(cfg.max_batch_size)
        fixed = planned_rows(planned.filter(~pl.col("doc_id").is_in(done_ids)), run_id, source)

        live = BatchProgress(
            total_files=inventory.height,
            bytes_total=int(todo["size"].sum() or 0),
            start_time=time.perf_counter(),
        )
        live.add(
            succeeded=int((carried["status"] == "succeeded").sum()),
            failed=int((carried["status"] == "failed").sum())
            + int((fixed["status"] == "failed").sum()),
            skipped=int((carried["status"] == "skipped").sum())
            + int((fixed["status"] == "skipped").sum()),
        )
        live.pending = waiting.height
        live.update_metrics()
        self.progress = live
        sinks = resolve_progress(progress)
        progress = live
        report_path = Path(report_dir) if report_dir is not None else self.state_dir
        checkpoint.write_run(
            {
                **job,
                "run_id": run_id,
                "state": "running",
                "started_at": started_at.isoformat(timespec="seconds"),
            }
        )

        def performance(state: str) -> dict[str, Any]:
            return self._performance(run_id, source, started_at, progress, state)

        refresh = _throttled(lambda: reports.write_performance(report_path, performance("running")))
        for sink in sinks:
            sink.start(progress)
        with _executor(executor, workers) as pool, _stop_on_sigint() as stop:
            ctx = RunContext(
                store=self.backend,
                source=source,
                run_id=run_id,
                config=cfg,
                options=ParseOptions(
                    cfg.max_file_size, cfg.max_passage_chars, fallback_encoding, self.parsers
                ),
                checkpoint=checkpoint,
                progress=progress,
                retry=RetryPolicy(cfg.max_retry_attempts, cfg.retry_backoff_factor, self.sleep),
                sinks=sinks,
                executor=pool,
                in_flight=_in_flight(pool),
                first_part=loaded.next_part,
                stop=stop,
                on_checkpoint=refresh,
            )
            output = Runner(ctx).run(todo)
        progress.finished = True
        progress.update_metrics()
        for sink in sinks:
            sink.stop(progress)

        unprocessed = todo.join(output.outcomes.select("doc_id"), on="doc_id", how="anti")
        pending = pending_rows(
            pl.concat([unprocessed, waiting]), run_id, source, output.interrupted
        )
        outcomes = pl.concat([carried, fixed, output.outcomes, pending]).sort("doc_id")
        timeline = self._timeline(checkpoint, resumed, output.timeline)
        complete = pending.height == 0
        checkpoint.write_run(
            {
                **job,
                "run_id": run_id,
                "state": "complete" if complete else "running",
                "started_at": started_at.isoformat(timespec="seconds"),
            }
        )
        result = IngestResult(
            run_id=run_id,
            source=source,
            root=str(root),
            store=self.backend.location,
            state_dir=str(self.state_dir),
            outcomes=outcomes,
            timeline=timeline,
            elapsed_s=time.perf_counter() - clock0,
            peak_memory_mb=peak_rss_mb(),
            bytes_processed=progress.bytes_done,
            interrupted=output.interrupted,
            checkpoint_problems=loaded.problems,
            plan_counts=dict(planned.group_by("status").len().iter_rows()),
        )
        paths = reports.write_reports(
            report_path,
            performance=performance("complete" if complete else "running"),
            outcomes=outcomes,
            timeline=timeline,
            problems=loaded.problems,
        )
        result.reports = {name: str(path) for name, path in paths.items()}
        return result

    def _open_run(
        self, checkpoint: Checkpoint, job: dict[str, Any], resume: bool
    ) -> tuple[str, LoadedCheckpoint, bool]:
        manifest = checkpoint.read_run()
        same_job = manifest is not None and all(manifest.get(k) == v for k, v in job.items())
        if resume and same_job and manifest is not None and manifest.get("state") == "running":
            run_id = str(manifest["run_id"])
            return run_id, checkpoint.load(run_id), True
        checkpoint.clear_parts()
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        return run_id, LoadedCheckpoint(pl.DataFrame(schema=OUTCOMES)), False

    def _timeline(self, checkpoint: Checkpoint, resumed: bool, new: pl.DataFrame) -> pl.DataFrame:
        """This call's timeline, after the earlier calls' rows when the run was resumed."""
        if not resumed:
            return new
        previous = self.state_dir / reports.TIMELINE_PARQUET
        try:
            old = conform(pl.read_parquet(previous), TIMELINE)
        except (OSError, pl.exceptions.PolarsError):
            return new
        run_rows = old.filter(pl.col("run_id") == new["run_id"][0]) if new.height else old
        return pl.concat([run_rows, new])

    def _performance(
        self, run_id: str, source: str, started_at: datetime, progress: BatchProgress, state: str
    ) -> dict[str, Any]:
        metrics = processing_metrics(progress)
        return {
            "run_id": run_id,
            "source": source,
            "state": state,
            "started_at": started_at.isoformat(timespec="seconds"),
            "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            **metrics,
            "final_memory_mb": progress.memory_usage_mb,
            "configuration": self.config.as_dict(),
        }

    # queries -------------------------------------------------------------------------------
    def search(self, query: str, *, limit: int = 10, source: str | None = None) -> pl.DataFrame:
        """Ranked hits for ``query`` as a polars DataFrame (doc_id, title, heading_path,
        snippet, score). Raises ``QueryError`` for a query the store cannot run."""
        return self.backend.search(query, limit=limit, source=source)

    def get_processing_metrics(
        self, progress: BatchProgress | IngestResult | None = None
    ) -> dict[str, Any]:
        """Rate, memory, percent done, ETA and success rate of a progress object or a result."""
        if isinstance(progress, IngestResult):
            attempted = progress.succeeded + progress.failed
            return {
                "total_files": progress.total_files,
                "processed": progress.total_files - progress.pending,
                "files_per_second": progress.files_per_second,
                "bytes_per_second": progress.bytes_per_second,
                "memory_usage_mb": float(progress.timeline["rss_mb"].max() or 0.0)
                if progress.timeline.height
                else 0.0,
                "peak_memory_mb": progress.peak_memory_mb,
                "progress_percent": 100.0
                * (progress.total_files - progress.pending)
                / progress.total_files
                if progress.total_files
                else 100.0,
                "estimated_time_remaining": 0.0 if progress.complete else None,
                "success_rate": progress.succeeded / attempted if attempted else 1.0,
            }
        return processing_metrics(progress or self.progress)

    def _load_progress(self, progress_file: str | os.PathLike[str]) -> set[str]:
        """Completed paths from a legacy JSON progress file; a damaged file is backed up
        and whatever can be read from it is recovered."""
        paths, problem = load_legacy_progress(progress_file)
        if problem is not None:
            backup = Path(f"{progress_file}.corrupt-{datetime.now(UTC):%Y%m%dT%H%M%S}.bak")
            backup.write_bytes(Path(progress_file).read_bytes())
        return paths

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> BatchIngestService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _state_dir_for(store: DocumentStore) -> Path:
    if isinstance(store, SQLiteStore):
        return store.path.with_suffix(".state")
    return Path("docbatch.state")


def _default_source(root: Path) -> str:
    return Path(os.path.realpath(root)).name or "root"


def _check_source(source: str) -> str:
    if not source or not source.strip() or "\n" in source:
        raise ConfigError.invalid("source", source, "a non-empty name on one line")
    return source


@contextmanager
def _executor(spec: ExecutorSpec, workers: int | None) -> Iterator[Executor | None]:
    if spec is None or spec == "serial":
        yield None
    elif spec == "process":
        n = workers or os.cpu_count() or 1
        pool = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"))
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    elif isinstance(spec, Executor):
        yield spec
    else:
        raise ConfigError.invalid(
            "executor", spec, "'serial', 'process' or a concurrent.futures.Executor"
        )


def _in_flight(pool: Executor | None) -> int:
    if pool is None:
        return 1
    workers = getattr(pool, "_max_workers", None) or os.cpu_count() or 1
    return int(workers) + 1


@contextmanager
def _stop_on_sigint() -> Iterator[threading.Event]:
    """The first Ctrl-C sets the returned event (stop after this slice); a second one interrupts."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def _throttled(func: Callable[[], object], interval_s: float = 0.5) -> Callable[[], None]:
    last = [0.0]

    def call() -> None:
        now = time.monotonic()
        if now - last[0] >= interval_s:
            last[0] = now
            func()

    return call
