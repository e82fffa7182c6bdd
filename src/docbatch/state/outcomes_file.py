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
from collections.abc import Callable
from pathlib import Path

import polars as pl

from docbatch.frames import OUTCOMES, conform, count_statuses

_READ = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
_BLOCK = 1 << 20


class OutcomesFile:
    """An ``outcomes.parquet`` report, open: ``frame()`` reads its rows, ``status_counts()``
    and ``failed_rows()`` what they need of them (each once: the file does not change)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        fd = os.open(path, _READ)
        self._fd = fd
        weakref.finalize(self, os.close, fd)
        self._frame: pl.DataFrame | None = None
        self._counts: dict[str, int] | None = None
        self._failed: pl.DataFrame | None = None

    def frame(self) -> pl.DataFrame:
        """The report's rows (read on the first call, then kept)."""
        if self._frame is None:
            self._frame = conform(pl.read_parquet(io.BytesIO(self._bytes())), OUTCOMES)
        return self._frame

    def status_counts(self) -> dict[str, int]:
        """Rows by status, the status column alone decoded."""
        if self._counts is None:
            statuses = self._frame.lazy() if self._frame is not None else self._scan()
            self._counts = count_statuses(statuses.select("status").collect().to_series())
        return dict(self._counts)

    def failed_rows(self) -> pl.DataFrame:
        """The rows of the files that failed, the others not decoded."""
        if self._failed is None:
            rows = self._frame.lazy() if self._frame is not None else self._scan()
            self._failed = conform(rows.filter(pl.col("status") == "failed").collect(), OUTCOMES)
        return self._failed

    def _scan(self) -> pl.LazyFrame:
        return pl.scan_parquet(io.BytesIO(self._bytes()))

    def _bytes(self) -> bytes:
        return _read_all(self._fd)


class HeldFiles:
    """Files held open from now on, so that they can be read as they are now even after
    they are replaced or removed."""

    def __init__(self, paths: list[Path]) -> None:
        self._fds: list[int] = []
        for path in paths:
            fd = os.open(path, _READ)
            self._fds.append(fd)
            weakref.finalize(self, os.close, fd)

    def contents(self) -> list[bytes]:
        """Each file's bytes, read now."""
        return [_read_all(fd) for fd in self._fds]


class OutcomesQuery:
    """The outcome rows of a call that wrote no ``outcomes.parquet`` (one that leaves files
    for the next call of its run), made on first use by ``build`` from what the call held
    (``HeldFiles``): ``frame()``, ``status_counts()`` and ``failed_rows()`` as an
    ``OutcomesFile`` gives them."""

    path: Path | None = None

    def __init__(self, build: Callable[[], pl.LazyFrame]) -> None:
        self._build: Callable[[], pl.LazyFrame] | None = build
        self._frame: pl.DataFrame | None = None

    def frame(self) -> pl.DataFrame:
        """The rows (made on the first call, then kept)."""
        if self._frame is None:
            assert self._build is not None
            self._frame = conform(self._build().collect(), OUTCOMES)
            self._build = None  # what it held is not needed any more
        return self._frame

    def status_counts(self) -> dict[str, int]:
        return count_statuses(self.frame()["status"])

    def failed_rows(self) -> pl.DataFrame:
        return self.frame().filter(pl.col("status") == "failed")


def _read_all(fd: int) -> bytes:
    blocks = []
    offset = 0
    while block := os.pread(fd, _BLOCK, offset):
        blocks.append(block)
        offset += len(block)
    return b"".join(blocks)


__all__ = ["HeldFiles", "OutcomesFile", "OutcomesQuery"]
