"""Progress counters, memory sampling, rates and ETA.

``BatchProgress`` is the live state of a run (the seed's object); the runner
updates it after every slice and any thread may read it. Time and memory come
from injectable callables so tests can use a fake clock.
"""

from __future__ import annotations

import resource
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

MB = 1024 * 1024


def current_rss_mb() -> float:
    """Resident memory of this process in MB (psutil, imported on first use)."""
    import psutil

    return float(psutil.Process().memory_info().rss) / MB


def peak_rss_mb() -> float:
    """The highest resident memory this process has reached, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / MB


@dataclass
class BatchProgress:
    """Counters of a run, safe to read from another thread while it runs.

    ``bytes_total``/``bytes_done`` count the bytes of the files to process; the
    ETA is computed from bytes, since file sizes are skewed.
    """

    total_files: int = 0
    processed: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    pending: int = 0
    bytes_total: int = 0
    bytes_done: int = 0
    start_time: float = field(default_factory=time.perf_counter)
    memory_usage_mb: float = 0.0
    peak_memory_mb: float = 0.0
    memory_warning: bool = False
    finished: bool = False
    clock: Callable[[], float] = field(default=time.perf_counter, repr=False, compare=False)
    rss: Callable[[], float] = field(default=current_rss_mb, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def update_metrics(self) -> None:
        """Sample memory now (RSS and peak)."""
        rss = self.rss()
        with self._lock:
            self.memory_usage_mb = rss
            self.peak_memory_mb = max(self.peak_memory_mb, rss)

    def add(
        self, *, succeeded: int = 0, failed: int = 0, skipped: int = 0, nbytes: int = 0
    ) -> None:
        """Count finished files (thread-safe)."""
        with self._lock:
            self.succeeded += succeeded
            self.failed += failed
            self.skipped += skipped
            self.processed += succeeded + failed + skipped
            self.bytes_done += nbytes

    @property
    def elapsed_s(self) -> float:
        return max(0.0, self.clock() - self.start_time)

    def snapshot(self) -> dict[str, Any]:
        """A consistent copy of the counters as a dict."""
        with self._lock:
            return {
                f.name: getattr(self, f.name)
                for f in fields(self)
                if not f.name.startswith("_") and f.name not in ("clock", "rss")
            }


def processing_metrics(progress: BatchProgress, *, work_files: int | None = None) -> dict[str, Any]:
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
