"""One ingest call once it is planned: removing documents whose files are gone, then
parsing and committing the files to process, with the live progress, the sinks, the run
manifest and the report refreshed along the way.

``run.ingest`` prepares the run (``run.preparation``), hands it to an ``IngestCall`` and
closes it (``run.closing``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

from docbatch.config import BatchConfig
from docbatch.formats.base import Parser
from docbatch.frames import count_statuses
from docbatch.metrics import BatchProgress
from docbatch.plan.fingerprint import parser_fingerprints
from docbatch.result import RunOutput
from docbatch.retry import RetryPolicy
from docbatch.run.closing import performance
from docbatch.run.execution import (
    ExecutorSpec,
    PoolKeeper,
    open_executor,
    resolve_local,
    slices_in_flight,
    stop_on_signals,
)
from docbatch.run.kept import RunInventory
from docbatch.run.preparation import PreparedRun
from docbatch.run.spawning import main_module_parsers
from docbatch.state import reports
from docbatch.state.plan_rows import Rows
from docbatch.state.verify import check_delete_share
from docbatch.store import DocumentStore
from docbatch.work.outcomes import deleted_rows

log = logging.getLogger("docbatch")


@dataclass
class IngestCall:
    """What one call of ``ingest_batch`` works with, beside the prepared run: the store,
    the settings, the state folder, custom parsers, the live progress (the service's own
    object, so holders of it see every call), the kept worker pool and the kept inventory."""

    backend: DocumentStore
    config: BatchConfig
    state_dir: Path
    parsers: Mapping[str, Parser]
    sleep: Callable[[float], None]
    progress: BatchProgress
    pools: PoolKeeper
    run_inventory: RunInventory
    stop_signal: int | None = None
    """The signal (SIGINT, SIGTERM, SIGHUP) that stopped the call early, if one did."""

    def _fingerprints(self) -> dict[str, str]:
        return parser_fingerprints(self.config, self.parsers)

    def sync_deletions(self, run: PreparedRun, allow_mass_delete: bool) -> PreparedRun:
        """Remove the documents of files gone from disk (within scope), or refuse to; returns
        ``run`` with their "deleted" rows decided, written as a checkpoint part."""
        gone = run.planned.filter(pl.col("status") == "deleted")
        if gone.height == 0:
            return run
        check_delete_share(
            gone.height, run.stored_in_scope, run.source, self.config.max_delete_share, allow_mass_delete
        )
        ids = gone["doc_id"].to_list()
        retry = RetryPolicy(self.config.max_retry_attempts, self.config.retry_backoff_factor, self.sleep)
        retry.call(self.backend.delete_documents, run.source, ids)
        self.run_inventory.forget_plan()  # its "deleted" rows are done now
        rows = deleted_rows(gone, run.run_id, run.source)
        run.checkpoint.write_part(run.run_id, run.next_part, rows)
        log.info("removed %d documents whose files are gone", gone.height)
        decided = Rows(
            run.decided.lazy().merge_sorted(rows.sort("doc_id").lazy(), key="doc_id"),
            run.decided.height + rows.height,
        )
        return replace(run, next_part=run.next_part + 1, decided=decided)

    def execute(
        self,
        run: PreparedRun,
        executor: ExecutorSpec,
        workers: int | None,
        sinks: list[Any],
        fallback_encoding: str | None,
        report_path: Path,
    ) -> RunOutput:
        cfg = self.config
        recycle = _tasks_per_worker(cfg.worker_max_files, cfg.chunk_processing_size)
        in_main = main_module_parsers(self.parsers)
        if in_main:
            executor = self._in_this_process(executor, in_main)
        self.stop_signal = None
        with ExitStack() as stack:
            pool: Executor | None = None
            if run.todo.height:
                # first, so that worker processes start while the rest is set up
                # a parser of __main__ cannot go to a worker, not even one that isolates
                isolate = (cfg.file_timeout_s > 0 or cfg.worker_memory_mb > 0) and not in_main
                executor, workers, fallback = resolve_local(
                    executor, workers, work_files=run.todo.height, isolate=isolate
                )
                pool = stack.enter_context(
                    open_executor(
                        executor,
                        workers,
                        work_files=run.todo.height,
                        max_tasks_per_child=recycle,
                        keeper=self.pools,
                        fallback=fallback,
                    )
                )
                log.info("parsing %d files %s", run.todo.height, _where(pool))
            live = self.progress
            live.reset(
                run.planned.height - run.planned.statuses().get("deleted", 0),
                bytes_total=run.todo.total("size"),
                pending=run.waiting.height,
                carried=int(run.carried["status"].is_in(["succeeded", "failed", "skipped"]).sum()),
            )
            counts = count_statuses(run.carried["status"], run.decided.statuses())
            live.add(
                succeeded=counts.get("succeeded", 0),
                failed=counts.get("failed", 0),
                skipped=counts.get("skipped", 0),
            )
            live.update_metrics()
            run.checkpoint.write_run(run.manifest("running"))

            def write_performance() -> None:
                state = performance(run, "running", self.progress, self.config)
                for folder in dict.fromkeys((self.state_dir, report_path)):  # state first, then a copy
                    reports.write_performance(folder, state)

            refresh = _throttled(write_performance)

            batches = -(-run.todo.height // (cfg.max_batch_size or run.todo.height or 1))

            def end_of_batch(batch: int) -> None:
                write_performance()
                if batches > 1:
                    log.info("batch %d of %d done: %s", batch + 1, batches, _counts(self.progress))

            from docbatch.run.runner import OutcomeSink  # the sinks' protocols live with the runner

            decided: pl.DataFrame | None = None
            for sink in sinks:
                sink.start(live)
                if isinstance(sink, OutcomeSink):
                    if decided is None:  # read from the plan for the sinks that show them
                        decided = pl.concat([run.carried, run.decided.collect()])
                    sink.outcomes(live, decided)
            if run.todo.height:
                ours = pool is not None and pool is self.pools.pool_now  # not a caller's executor
                stop = stack.enter_context(stop_on_signals())
                output = self._run_slices(
                    run, pool, ours, fallback, stop, sinks, fallback_encoding, refresh, end_of_batch
                )
                self.stop_signal = stop.signum
            else:
                output = RunOutput.nothing(run.next_part)
        if output.interrupted or run.waiting.height == 0:
            self.pools.close()  # no next batch to start them for
        live.finish()
        live.update_metrics()
        for sink in sinks:
            sink.stop(live)
        return output

    def _run_slices(
        self,
        run: PreparedRun,
        pool: Executor | None,
        ours: bool,
        fallback: bool,
        stop: threading.Event,
        sinks: list[Any],
        fallback_encoding: str | None,
        refresh: Callable[[], None],
        end_of_batch: Callable[[int], None],
    ) -> RunOutput:
        """Parse and commit ``run.todo`` slice by slice on ``pool`` (``ours``: the service's
        own process pool, which it may replace and whose workers it watches; ``fallback``:
        parse in this process if its workers cannot start). The parsers
        are imported only when there is something to parse."""
        from docbatch.run.runner import RunContext, Runner
        from docbatch.run.templates import with_template
        from docbatch.work.chunking import PassageRules
        from docbatch.work.worker import ParseOptions

        cfg = self.config
        ctx = RunContext(
            store=self.backend,
            source=run.source,
            run_id=run.run_id,
            config=cfg,
            options=ParseOptions(
                max_file_size=cfg.max_file_size,
                passages=PassageRules.from_config(cfg),
                fallback_encoding=fallback_encoding,
                parsers=self.parsers,
                rst_engine=cfg.rst_engine,
                fingerprints=with_template(self._fingerprints(), run.html),
                html=run.html if "html" not in self.parsers else None,
                file_timeout_s=cfg.file_timeout_s,
                heartbeat_dir=self._heartbeat_dir() if ours else None,
            ),
            executor_factory=self.pools.replace if ours else None,
            fallback=fallback,
            checkpoint=run.checkpoint,
            progress=self.progress,
            retry=RetryPolicy(cfg.max_retry_attempts, cfg.retry_backoff_factor, self.sleep),
            sinks=sinks,
            executor=pool,
            in_flight=slices_in_flight(pool),
            first_part=run.next_part,
            provenance=run.repo.provenance(_doc_ids(run.todo)) if run.repo is not None else None,
            stop=stop,
            on_checkpoint=refresh,
            on_batch=end_of_batch,
            labels=run.labels,
        )
        if run.labels is None:
            return Runner(ctx).run(run.todo)
        from docbatch.run.references import resolve_references, with_labels

        ctx = replace(ctx, options=with_labels(run, ctx.options))
        output = Runner(ctx).run(run.todo)
        if output.interrupted or run.waiting.height:
            return output  # the references are resolved again once the run is whole

        return resolve_references(run, ctx, output)

    def _in_this_process(self, executor: ExecutorSpec, in_main: list[str]) -> ExecutorSpec:
        """ "serial" for a local executor when custom parsers (of formats ``in_main``) are
        defined in ``__main__``: a worker process cannot import the caller's main module
        (docbatch's workers never run it). The time and memory limits then only hold as
        far as this process can enforce them (the alarm)."""
        if executor not in (None, "auto", "process"):
            return executor
        log.warning(
            "the %s parser is defined in __main__, which worker processes do not import; "
            "parsing in this process (define it in a module to use worker processes)",
            ", ".join(in_main),
        )
        return "serial"

    def _heartbeat_dir(self) -> str:
        """A fresh folder where worker processes record the file they are on."""
        folder = self.state_dir / "heartbeats"
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.iterdir():
            stale.unlink(missing_ok=True)
        return str(folder)


def _counts(progress: BatchProgress) -> str:
    return (
        f"{progress.processed}/{progress.total_files} files, {progress.succeeded} succeeded, "
        f"{progress.failed} failed, {progress.skipped} skipped"
    )


def _where(pool: Executor | None) -> str:
    if pool is None:
        return "in this process"
    workers = getattr(pool, "_max_workers", None)
    return f"on {workers} worker processes" if workers else f"on {type(pool).__name__}"


def _tasks_per_worker(max_files: int, slice_size: int) -> int | None:
    """Slices a worker may run before it is replaced (None: never)."""
    return max(1, max_files // slice_size) if max_files > 0 else None


def _throttled(func: Callable[[], object], interval_s: float = 0.5) -> Callable[[], None]:
    last = [0.0]

    def call() -> None:
        now = time.monotonic()
        if now - last[0] >= interval_s:
            last[0] = now
            func()

    return call


def _doc_ids(rows: Rows) -> list[str]:
    return rows.lazy().select("doc_id").collect()["doc_id"].to_list()
