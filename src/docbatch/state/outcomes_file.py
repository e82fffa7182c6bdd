"""The outcomes report of one call, held open for the call's result.

``IngestResult.outcomes`` is read from the ``outcomes.parquet`` its call wrote, on first
use: the rows of a run of a million files stay on disk, not in the process, unless they
are asked for. The file is opened when the call closes and held open until the result is
gone, so what the result reads is the report as its call wrote it, even after a later
call replaced the report or the state folder dropped the run's folder (``keep_runs``).
"""

from __future__ import annotations

import io
import os
import weakref
from pathlib import Path

import polars as pl

from docbatch.frames import OUTCOMES, conform

_READ = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
_BLOCK = 1 << 20


class OutcomesFile:
    """An ``outcomes.parquet`` report, open; ``frame()`` reads it (once)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        fd = os.open(path, _READ)
        self._fd = fd
        self._close = weakref.finalize(self, os.close, fd)
        self._frame: pl.DataFrame | None = None

    def frame(self) -> pl.DataFrame:
        """The report's rows (read on the first call, then kept)."""
        if self._frame is None:
            self._frame = conform(pl.read_parquet(io.BytesIO(self._bytes())), OUTCOMES)
        return self._frame

    def status_counts(self) -> dict[str, int]:
        """Rows by status, reading the status column only."""
        if self._frame is not None:
            statuses = self._frame.lazy()
        else:
            statuses = pl.scan_parquet(io.BytesIO(self._bytes()))
        counts = statuses.group_by(pl.col("status").cast(pl.Utf8)).len().collect()
        return dict(zip(counts["status"].to_list(), counts["len"].to_list(), strict=True))

    def failed_rows(self) -> pl.DataFrame:
        """The rows of the files that failed, without reading the others."""
        if self._frame is not None:
            return self._frame.filter(pl.col("status") == "failed")
        failed = pl.scan_parquet(io.BytesIO(self._bytes())).filter(pl.col("status") == "failed")
        return conform(failed.collect(), OUTCOMES)

    def _bytes(self) -> bytes:
        blocks = []
        offset = 0
        while block := os.pread(self._fd, _BLOCK, offset):
            blocks.append(block)
            offset += len(block)
        return b"".join(blocks)

    def close(self) -> None:
        """Let go of the file (the rows read so far are kept)."""
        self._close()


__all__ = ["OutcomesFile"]
