"""Progress counters, memory sampling, rates and ETA.

``BatchProgress`` is the live state of a run (the seed's object); the runner
updates it after every store commit and any thread may read it. Time and memory come
from injectable callables so tests can use a fake clock.
"""

from __future__ import annotations

import resource
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

MB = 1024 * 1024


def current_rss_mb() -> float:
    """Resident memory of this process in MB (from /proc where there is one, else psutil)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE_SIZE / MB
    except (OSError, IndexError, ValueError):
        import psutil

        return float(psutil.Process().memory_info().rss) / MB


_PAGE_SIZE = resource.getpagesize()


def process_rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB (0 when it is gone or cannot be read)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE_SIZE / MB
    except (OSError, IndexError, ValueError):
        try:
            import psutil

            return float(psutil.Process(pid).memory_info().rss) / MB
        except Exception:
            return 0.0


def peak_rss_mb() -> float:
    """The highest resident memory this process has reached, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / MB


def files_per_second(files: int, seconds: float) -> float:
    """docbatch's one measure of throughput, shown by every display of a run.

    ``files`` are the files of the run that reached a final status (succeeded, failed or
    skipped, including the unchanged files that planning skipped) during one
    ``ingest_batch`` call; files finished by an earlier call of a resumed run, files
    left pending and documents deleted from the store do not count. ``seconds`` are
    the wall seconds of that call, from its start (planning included) until its last
    file got its status. The terminal bar, the dashboard, ``IngestResult`` (summary,
    HTML, ``files_per_second``), ``get_processing_metrics``, the timeline,
    ``batch_ingest_performance.json`` and ``load_run`` all use this function.
    """
    return files / seconds if seconds > 0 else 0.0


def format_rate(rate: float, *, checked_only: bool = False) -> str:
    """A rate as every display writes it: ``"1,234.5 files/s"``; for a call in which no
    file needed parsing (every one unchanged), what it measured: files checked.

    >>> format_rate(2_500_000, checked_only=True)
    '2,500,000.0 files checked/s (none needed parsing)'
    """
    if checked_only:
        return f"{rate:,.1f} files checked/s (none needed parsing)"
    return f"{rate:,.1f} files/s"


class BatchProgress:
    """Counters of a run, updated by the runner and safe to read from another thread.

    ``bytes_total``/``bytes_done`` count the bytes of the files to process; the ETA is
    computed from bytes, since file sizes are skewed. Until a run has listed its
    files, ``total_files`` is one more than ``processed`` (the run is not over), so a
    monitor loop of the form ``while p.processed < p.total_files`` waits for the run.

    ``processed`` counts every file of the run with a final status, ``carried`` those of
    them finished by an earlier call (a resumed run); the rate (``files_per_second``)
    counts the others over the seconds since the call began (``begin_call``, else
    ``reset``). ``finish`` stops the clock, so a finished call's rate stays what it was.
    """

    _COUNTERS = (
        "processed",
        "succeeded",
        "failed",
        "skipped",
        "pending",
        "carried",
        "bytes_total",
        "bytes_done",
        "bytes_files",
    )

    def __init__(
        self,
        total_files: int | None = None,
        *,
        bytes_total: int = 0,
        clock: Callable[[], float] = time.perf_counter,
        rss: Callable[[], float] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self.clock = clock
        self._rss = rss
        self._total_files = total_files
        self.processed = self.succeeded = self.failed = self.skipped = self.pending = 0
        self.carried = 0
        self.bytes_total = bytes_total
        self.bytes_done = 0
        self.bytes_files = 0
        self.start_time = clock()
        self.end_time: float | None = None
        self._begun: float | None = None
        self.memory_usage_mb = 0.0
        self.peak_memory_mb = 0.0
        self.peak_tree_memory_mb = 0.0
        """The most this process and its worker processes held together, at a sample."""
        self.memory_warning = False
        self.finished = False

    @property
    def total_files(self) -> int:
        if self._total_files is None:
            return self.processed if self.finished else self.processed + 1
        return self._total_files

    @total_files.setter
    def total_files(self, value: int) -> None:
        self._total_files = value

    def begin_call(self) -> float:
        """Note that an ``ingest_batch`` call starts now (its clock, planning included, starts
        here; the next ``reset`` keeps it); returns the time on ``clock``."""
        now = self.clock()
        with self._lock:
            self._begun = now
        return now

    def reset(self, total_files: int, *, bytes_total: int = 0, pending: int = 0, carried: int = 0) -> None:
        """Start counting a new run in this same object (so holders of it see the new run).

        Args:
            total_files: files of the run (earlier calls' included).
            bytes_total: bytes of the files this call is to parse.
            pending: files left for a later call (``limit``).
            carried: files finished by earlier calls of the run (counted in ``processed``
                when added, never in the rate).
        """
        with self._lock:
            for name in self._COUNTERS:
                setattr(self, name, 0)
            self._total_files = total_files
            self.bytes_total = bytes_total
            self.pending = pending
            self.carried = carried
            self.start_time = self._begun if self._begun is not None else self.clock()
            self._begun = None
            self.end_time = None
            self.memory_warning = False
            self.finished = False

    def update_metrics(self, worker_pids: Iterable[int] = ()) -> None:
        """Sample memory now: this process's RSS and peak, and with ``worker_pids`` the
        total over this process and those workers (the tree's)."""
        rss = self._rss() if self._rss is not None else current_rss_mb()
        tree = rss + sum(process_rss_mb(pid) for pid in worker_pids)
        with self._lock:
            self.memory_usage_mb = rss
            self.peak_memory_mb = max(self.peak_memory_mb, rss)
            self.peak_tree_memory_mb = max(self.peak_tree_memory_mb, tree)

    def add(self, *, succeeded: int = 0, failed: int = 0, skipped: int = 0, nbytes: int = 0) -> None:
        """Count finished files (thread-safe); ``nbytes`` is the size of the files parsed."""
        with self._lock:
            self.succeeded += succeeded
            self.failed += failed
            self.skipped += skipped
            self.processed += succeeded + failed + skipped
            self.bytes_done += nbytes
            if nbytes:
                self.bytes_files += succeeded + failed + skipped

    def finish(self) -> None:
        """The call is over: stop its clock."""
        with self._lock:
            self.finished = True
            self.end_time = self.clock()

    @property
    def elapsed_s(self) -> float:
        """Seconds of the call so far (until ``finish`` once it is over)."""
        end = self.end_time if self.end_time is not None else self.clock()
        return max(0.0, end - self.start_time)

    def snapshot(self) -> dict[str, Any]:
        """A consistent copy of the counters as a dict."""
        with self._lock:
            return {
                "total_files": self.total_files,
                **{name: getattr(self, name) for name in self._COUNTERS},
                "memory_usage_mb": self.memory_usage_mb,
                "peak_memory_mb": self.peak_memory_mb,
                "peak_tree_memory_mb": self.peak_tree_memory_mb,
                "memory_warning": self.memory_warning,
                "finished": self.finished,
                "elapsed_s": self.elapsed_s,
            }

    def __repr__(self) -> str:
        snap = self.snapshot()
        return "BatchProgress(" + ", ".join(f"{k}={v!r}" for k, v in snap.items()) + ")"


def estimate_remaining_s(
    *, files_left: int, bytes_left: int, bytes_per_second: float, mean_file_bytes: float | None
) -> float | None:
    """Seconds to give the ``files_left`` files their status at ``bytes_per_second``.

    ``bytes_left`` are the known bytes still to parse; files beyond them (left for a later
    call) are counted at ``mean_file_bytes`` each. None when there is no rate yet; never 0
    while files are left.
    """
    if files_left <= 0:
        return 0.0
    if bytes_per_second <= 0:
        return None
    eta = bytes_left / bytes_per_second
    if eta <= 0:
        if not mean_file_bytes:
            return None
        eta = files_left * mean_file_bytes / bytes_per_second
    return eta


def processing_metrics(progress: BatchProgress) -> dict[str, Any]:
    """The seed's metrics dict: rate, memory, percent done, ETA and success rate.

    ``files_per_second`` is ``docbatch.metrics.files_per_second`` (files of this call over
    its seconds). ``pending`` counts the files without a final status yet (all of them
    once the call is over: after Ctrl-C, or over ``limit``). ``estimated_time_remaining``
    is 0 only when every file has its status; None until there is a rate; otherwise
    the time the files left would take at this call's pace (after a stop too: the
    time a next call would need).
    """
    snap = progress.snapshot()
    elapsed = snap["elapsed_s"]
    processed = snap["processed"]
    total = snap["total_files"]
    bytes_per_second = snap["bytes_done"] / elapsed if elapsed > 0 else 0.0
    left = max(0, total - processed)
    waiting = min(left, snap["pending"])  # files this call was never to parse (limit)
    mean = snap["bytes_done"] / snap["bytes_files"] if snap["bytes_files"] else None
    eta = estimate_remaining_s(
        files_left=left,
        bytes_left=max(0, snap["bytes_total"] - snap["bytes_done"]) + int(waiting * (mean or 0)),
        bytes_per_second=bytes_per_second,
        mean_file_bytes=mean,
    )
    attempted = snap["succeeded"] + snap["failed"]
    return {
        "total_files": total,
        "processed": processed,
        "succeeded": snap["succeeded"],
        "failed": snap["failed"],
        "skipped": snap["skipped"],
        "pending": left if progress._total_files is not None else snap["pending"],
        "elapsed_s": elapsed,
        "files_per_second": files_per_second(processed - snap["carried"], elapsed),
        "bytes_per_second": bytes_per_second,
        "memory_usage_mb": snap["memory_usage_mb"],
        "peak_memory_mb": snap["peak_memory_mb"],
        "peak_tree_memory_mb": snap["peak_tree_memory_mb"],
        "progress_percent": 100.0 * processed / total if total else 100.0,
        "estimated_time_remaining": eta,
        "success_rate": snap["succeeded"] / attempted if attempted else 1.0,
    }


class SliceSizer:
    """The slice size to use next: halves while memory is over the threshold, grows back under it."""

    def __init__(self, configured: int, threshold_mb: float) -> None:
        self.configured = configured
        self.threshold_mb = threshold_mb
        self.current = configured
        self.over = False

    def observe(self, rss_mb: float) -> bool:
        """Record a memory sample; True when this sample crossed the threshold upwards."""
        crossed = rss_mb > self.threshold_mb and not self.over
        self.over = rss_mb > self.threshold_mb
        if self.over:
            self.current = max(1, self.current // 2)
        else:
            self.current = min(self.configured, self.current * 2)
        return crossed

    def shrink(self) -> int:
        """Halve the size after a MemoryError; returns the new size."""
        self.current = max(1, self.current // 2)
        return self.current
