"""Running slices on worker processes that may hang or die, without losing the run.

A watchdog reads the workers' heartbeats while the driver waits for a slice: a worker
stuck on one file for longer than ``file_timeout_s`` (past the in-worker alarm, e.g.
inside C code) is killed. When a worker dies — killed, crashed, out of memory — the
pool breaks; the supervisor names the file each dead worker was on, replaces the pool,
and has every unfinished slice run again without those files, which become outcome rows
(``timeout`` or ``worker_crash``).
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from concurrent.futures import Executor, Future
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import polars as pl

from docbatch.errors import RunError, WorkerStartError
from docbatch.run.spawning import start_problem
from docbatch.work.isolation import IDLE, alive, read_beats
from docbatch.work.worker import ParseOptions, SliceResult, process_slice

log = logging.getLogger("docbatch")

WATCH_INTERVAL_S = 0.25


class Supervisor:
    """Submits slices to an executor and gets their results back, surviving dead workers.

    A break that no file explains, where a fresh pool's workers cannot run even a warm-up
    task (they die as they start: a broken environment, no memory for a new process), is
    not blamed on files: the run parses in this process instead (``fallback``) or stops
    with ``WorkerStartError``, its checkpoint intact for the next run.

    Args:
        executor: where slices run; None runs them in this process.
        factory: makes a fresh executor when the current one breaks; None means a broken
            executor stops the run (a caller's own executor is not ours to replace).
        options: the worker options; ``heartbeat_dir`` enables the watchdog.
        fallback: see above.
    """

    def __init__(
        self,
        executor: Executor | None,
        factory: Callable[[], Executor] | None,
        options: ParseOptions,
        *,
        worker_memory_mb: float = 0.0,
        fallback: bool = False,
    ) -> None:
        self.executor = executor
        self.fallback = fallback
        """When worker processes cannot start at all: parse in this process (with one
        warning) instead of stopping the run with ``WorkerStartError``."""
        self.worker_memory_mb = worker_memory_mb
        self.factory = factory
        self.options = options
        self._killed: set[int] = set()
        self.generation = 0
        """Bumped each time the pool is replaced; older futures are resubmitted, not blamed."""
        self.culprits: dict[str, tuple[str, str]] = {}
        """doc_id -> (category, message) of files that killed or hung a worker."""

    def submit(self, piece: pl.DataFrame) -> Future[SliceResult] | None:
        clean = self._without_culprits(piece)
        if self.executor is None or clean.height == 0:
            return None
        try:
            future = self.executor.submit(process_slice, clean, self.options.for_slice(clean))
        except BrokenProcessPool as exc:  # the pool broke before we noticed: result() recovers
            future = Future()
            future.set_exception(exc)
        future.generation = self.generation  # type: ignore[attr-defined]
        return future

    def result(self, piece: pl.DataFrame, future: Future[SliceResult] | None) -> SliceResult:
        """The result of ``piece`` (whose ``future`` came from ``submit``)."""
        unexplained = 0
        while True:
            clean = self._without_culprits(piece)
            try:
                if clean.height == 0:
                    result = None
                elif future is None:
                    result = process_slice(clean, self.options)
                else:
                    result = self._wait(future)
                return self._with_culprit_rows(piece, result)
            except BrokenProcessPool as exc:
                if future is not None and future.generation == self.generation:  # type: ignore[attr-defined]
                    if not self._recover(exc):
                        unexplained += 1
                if unexplained >= 2:  # workers keep dying on this slice and no file is to blame
                    self._blame_all(piece)
                    return self._with_culprit_rows(piece, None)
                future = self.submit(piece)

    # waiting and watching -------------------------------------------------------------------
    def _wait(self, future: Future[SliceResult]) -> SliceResult:
        timeout = self.options.file_timeout_s
        memory_mb = self.worker_memory_mb
        if (timeout <= 0 and memory_mb <= 0) or self.options.heartbeat_dir is None:
            return future.result()
        while True:
            try:
                return future.result(timeout=WATCH_INTERVAL_S)
            except FutureTimeout:
                self._watch(timeout, memory_mb)

    def _watch(self, timeout: float, memory_mb: float) -> None:
        """Kill the workers stuck on one file past the time limit (the in-worker alarm gets
        the first chance), or grown past the memory limit, and blame their file."""
        assert self.options.heartbeat_dir is not None
        limit = timeout * 1.5 + 1.0
        for pid, (elapsed, doc_id) in read_beats(self.options.heartbeat_dir).items():
            if doc_id == IDLE or doc_id in self.culprits or not alive(pid):
                continue
            if timeout > 0 and elapsed > limit:
                why = ("timeout", f"parsing took longer than file_timeout_s={timeout:g}; worker killed")
            elif memory_mb > 0 and (rss := _rss_mb(pid)) > memory_mb:
                why = (
                    "worker_memory",
                    f"the worker grew to {rss:.0f} MB on this file, over "
                    f"worker_memory_mb={memory_mb:g}; worker killed",
                )
            else:
                continue
            log.warning("%s: %s", doc_id, why[1])
            self.culprits[doc_id] = why
            self._killed.add(pid)
            _kill(pid)

    def _recover(self, exc: BaseException) -> bool:
        """The pool broke: name the files the dead workers were on, and start a new pool.
        Returns whether the break is explained (a worker killed, or a file blamed)."""
        if self.factory is None:
            raise RunError(f"the executor's workers died and it cannot be replaced: {exc}") from exc
        heartbeat_dir = self.options.heartbeat_dir
        explained, blamed_before = bool(self._killed), len(self.culprits)
        if heartbeat_dir is not None:
            # a worker the watchdog killed explains the break; otherwise the worker that died
            # on its own is to blame — not the others, which the pool then stops (SIGTERM)
            exits = _exit_codes(self.executor)
            for pid, (_, doc_id) in read_beats(heartbeat_dir).items():
                code = exits.get(pid)
                if pid not in exits and alive(pid):
                    continue  # not of this pool
                died_on_its_own = code is not None and code != -signal.SIGTERM
                if doc_id != IDLE and doc_id not in self.culprits and died_on_its_own and not explained:
                    self.culprits[doc_id] = ("worker_crash", "the worker process died on this file")
                Path(heartbeat_dir, str(pid)).unlink(missing_ok=True)
        explained = explained or len(self.culprits) > blamed_before
        self._killed.clear()
        old = self.executor
        self.executor = self.factory()
        self.generation += 1
        if old is not None:
            old.shutdown(wait=False, cancel_futures=True)
        problem = None if explained else start_problem(self.executor)
        if problem is not None:
            self._cannot_start(problem)
            return True
        log.warning(
            "a worker process died; replaced the pool (files blamed so far: %s)",
            ", ".join(sorted(self.culprits)) or "none",
        )
        return explained

    def _cannot_start(self, problem: str) -> None:
        """Worker processes die as they start: parse here from now on, or stop the run."""
        broken, self.executor, self.factory = self.executor, None, None
        if broken is not None:
            broken.shutdown(wait=False, cancel_futures=True)
        if not self.fallback:
            raise WorkerStartError(
                f"worker processes cannot start: {problem}. No file was blamed and nothing is "
                "lost: fix the cause and run the same command again to resume, or parse in "
                "this process with executor='serial' (--executor serial)"
            )
        log.warning("worker processes cannot start (%s); parsing in this process instead", problem)

    def _blame_all(self, piece: pl.DataFrame) -> None:
        for doc_id in piece["doc_id"]:
            self.culprits.setdefault(
                doc_id,
                ("worker_crash", "workers kept dying on this slice; the file could not be singled out"),
            )

    # culprits -------------------------------------------------------------------------------
    def _without_culprits(self, piece: pl.DataFrame) -> pl.DataFrame:
        if not self.culprits:
            return piece
        return piece.filter(~pl.col("doc_id").is_in(list(self.culprits)))

    def _with_culprit_rows(self, piece: pl.DataFrame, result: SliceResult | None) -> SliceResult:
        """``result`` (None: nothing ran) and the failed rows of the files of ``piece`` that
        killed or hung a worker."""
        blamed = piece.filter(pl.col("doc_id").is_in(list(self.culprits))) if self.culprits else piece.clear()
        if blamed.height == 0:
            return result if result is not None else SliceResult.empty()
        by_file = {doc_id: category for doc_id, (category, _) in self.culprits.items()}
        failed = SliceResult.failed(
            blamed,
            pl.col("doc_id").replace_strict(by_file, return_dtype=pl.Utf8),
            pl.col("doc_id").replace_strict(
                {d: "FileTimeout" if c == "timeout" else "WorkerCrash" for d, c in by_file.items()},
                return_dtype=pl.Utf8,
            ),
            pl.col("doc_id").replace_strict(
                {d: m for d, (_, m) in self.culprits.items()}, return_dtype=pl.Utf8
            ),
        )
        return SliceResult.concat([result, failed]) if result is not None else failed


def _exit_codes(executor: Executor | None) -> dict[int, int | None]:
    """Exit codes of a broken pool's workers, once the pool has stopped them."""
    processes = dict(getattr(executor, "_processes", None) or {})
    for process in processes.values():
        process.join(timeout=5)
    return {pid: process.exitcode for pid, process in processes.items()}


def _rss_mb(pid: int) -> float:
    import psutil

    try:
        return float(psutil.Process(pid).memory_info().rss) / (1024 * 1024)
    except psutil.Error:
        return 0.0


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
