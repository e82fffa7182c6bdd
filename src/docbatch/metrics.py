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
from collections.abc import Callable
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


def peak_rss_mb() -> float:
    """The highest resident memory this process has reached, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / MB


class BatchProgress:
    """Counters of a run, updated by the runner and safe to read from another thread.

    ``bytes_total``/``bytes_done`` count the bytes of the files to process; the ETA is
    computed from bytes, since file sizes are skewed. Until a run has listed its
    files, ``total_files`` is one more than ``processed`` (the run is not over), so a
    monitor loop of the form ``while p.processed < p.total_files`` waits for the run.
    """

    _COUNTERS = ("processed", "succeeded", "failed", "skipped", "pending", "bytes_total", "bytes_done")

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
        self.bytes_total = bytes_total
        self.bytes_done = 0
        self.start_time = clock()
        self.memory_usage_mb = 0.0
        self.peak_memory_mb = 0.0
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

    def reset(self, total_files: int, *, bytes_total: int = 0, pending: int = 0) -> None:
        """Start counting a new run in this same object (so holders of it see the new run)."""
        with self._lock:
            for name in self._COUNTERS:
                setattr(self, name, 0)
            self._total_files = total_files
            self.bytes_total = bytes_total
            self.pending = pending
            self.start_time = self.clock()
            self.memory_warning = False
            self.finished = False

    def update_metrics(self) -> None:
        """Sample memory now (RSS and peak)."""
        rss = self._rss() if self._rss is not None else current_rss_mb()
        with self._lock:
            self.memory_usage_mb = rss
            self.peak_memory_mb = max(self.peak_memory_mb, rss)

    def add(self, *, succeeded: int = 0, failed: int = 0, skipped: int = 0, nbytes: int = 0) -> None:
        """Count finished files (thread-safe)."""
        with self._lock:
            self.succeeded += succeeded
            self.failed += failed
            self.skipped += skipped
            self.processed += succeeded + failed + skipped
            self.bytes_done += nbytes

    def finish(self) -> None:
        with self._lock:
            self.finished = True

    @property
    def elapsed_s(self) -> float:
        return max(0.0, self.clock() - self.start_time)

    def snapshot(self) -> dict[str, Any]:
        """A consistent copy of the counters as a dict."""
        with self._lock:
            return {
                "total_files": self.total_files,
                **{name: getattr(self, name) for name in self._COUNTERS},
                "memory_usage_mb": self.memory_usage_mb,
                "peak_memory_mb": self.peak_memory_mb,
                "memory_warning": self.memory_warning,
                "finished": self.finished,
            }

    def __repr__(self) -> str:
        snap = self.snapshot()
        return "BatchProgress(" + ", ".join(f"{k}={v!r}" for k, v in snap.items()) + ")"


def processing_metrics(progress: BatchProgress) -> dict[str, Any]:
    """The seed's metrics dict: rate, memory, percent done, ETA and success rate.

    ``estimated_time_remaining`` is None until some bytes are done (no rate yet),
    and 0 once everything is processed.
    """
    snap = progress.snapshot()
    elapsed = progress.elapsed_s
    processed = snap["processed"]
    total = snap["total_files"]
    files_per_second = processed / elapsed if elapsed > 0 else 0.0
    bytes_per_second = snap["bytes_done"] / elapsed if elapsed > 0 else 0.0
    remaining = max(0, snap["bytes_total"] - snap["bytes_done"])
    eta: float | None
    if snap["finished"] or (total and processed >= total):
        eta = 0.0
    elif snap["bytes_done"] > 0 and bytes_per_second > 0:
        eta = remaining / bytes_per_second
    else:
        eta = None
    attempted = snap["succeeded"] + snap["failed"]
    return {
        "total_files": total,
        "processed": processed,
        "succeeded": snap["succeeded"],
        "failed": snap["failed"],
        "skipped": snap["skipped"],
        "pending": snap["pending"],
        "elapsed_s": elapsed,
        "files_per_second": files_per_second,
        "bytes_per_second": bytes_per_second,
        "memory_usage_mb": snap["memory_usage_mb"],
        "peak_memory_mb": snap["peak_memory_mb"],
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
