"""A call's plan rows, kept on disk and read a window at a time.

At a million files the plan frame is about 100 MB, and a call held it for all its
duration, with the rows of the files it parses (on a re-run, a filtered copy) and the
outcome rows of the files planning alone decided (on an unchanged re-run, a million rows
of twenty columns). ``PlanRows`` keeps such rows in a Parquet file of the call's plan
folder (``new_plan_folder``): the runner reads its slices one row group at a time, and the
rest of the call asks its questions lazily (``Rows``): counts, a filter, a stream.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections.abc import Collection, Mapping
from functools import cached_property
from pathlib import Path
from typing import Final

import polars as pl

from docbatch.state.atomic import SINK_ROWS_PER_GROUP, sink_parquet

PLAN_COMPRESSION: Final = "lz4"
"""The compression of the plan files, written once and read back once or twice in a call:
at 300,000 rows, 0.14 s of CPU to write them, with zstd 0.36 s (27 MB instead of 15)."""

PLANS = "plans"
"""The state folder's folder of the calls' plan folders, one folder per source."""


class Rows:
    """Rows of a frame, held as a query (``lazy``) with their count worked out once."""

    def __init__(
        self, frame: pl.LazyFrame, height: int | None = None, statuses: Mapping[str, int] | None = None
    ) -> None:
        """``height`` and ``statuses``: the count and the counts by status when they are known
        (not worked out from the rows then)."""
        self._frame = frame
        if height is not None:
            self.__dict__["height"] = height
        if statuses is not None:
            self.__dict__["_statuses"] = dict(statuses)

    @classmethod
    def of(cls, frame: pl.DataFrame) -> Rows:
        """The rows of a frame in memory."""
        return cls(frame.lazy(), frame.height)

    @cached_property
    def height(self) -> int:
        return int(self._frame.select(pl.len()).collect().item())

    def lazy(self) -> pl.LazyFrame:
        return self._frame

    def collect(self) -> pl.DataFrame:
        return self._frame.collect()

    def filter(self, *predicates: pl.Expr) -> pl.DataFrame:
        """The rows where ``predicates`` hold, read into memory."""
        return self._frame.filter(*predicates).collect()

    def statuses(self) -> dict[str, int]:
        """The number of rows of each ``status`` (counted once)."""
        return dict(self._statuses)

    @cached_property
    def _statuses(self) -> dict[str, int]:
        counts = self._frame.group_by(pl.col("status").cast(pl.Utf8)).len().collect()
        return {str(status): int(n) for status, n in counts.iter_rows()}

    def total(self, column: str) -> int:
        """The sum of an integer column (nulls count 0)."""
        if self.height == 0:
            return 0
        return int(self._frame.select(pl.col(column).fill_null(0).sum()).collect().item() or 0)


class PlanRows(Rows):
    """Rows ``start`` to ``start + height`` of the Parquet files ``files`` (one after the
    other), read by slices a row group at a time (the group last read is kept: consecutive
    slices read each group once)."""

    def __init__(self, files: list[Path], start: int, height: int) -> None:
        frame = pl.scan_parquet(files).slice(start, height) if height else pl.scan_parquet(files).head(0)
        super().__init__(frame, height)
        self.files, self.start = files, start
        self._window: tuple[int, pl.DataFrame] | None = None

    @classmethod
    def write(cls, frame: pl.LazyFrame | pl.DataFrame, path: Path) -> PlanRows:
        """Stream the rows of ``frame`` to ``path`` (never all in memory at once)."""
        return cls.of_files([write_part(frame, path)])

    @classmethod
    def of_files(cls, files: list[Path]) -> PlanRows:
        """The rows of ``files``, written by ``write_part`` in this order."""
        height = int(pl.scan_parquet(files).select(pl.len()).collect().item())
        return cls(files, 0, height)

    @property
    def folder(self) -> Path:
        return self.files[0].parent

    def head(self, n: int) -> PlanRows:
        """The first ``n`` rows."""
        return PlanRows(self.files, self.start, max(0, min(n, self.height)))

    def after(self, n: int) -> PlanRows:
        """The rows after the first ``n``."""
        n = max(0, min(n, self.height))
        return PlanRows(self.files, self.start + n, self.height - n)

    def slice(self, offset: int, length: int) -> pl.DataFrame:
        """Rows ``offset`` to ``offset + length`` (of these rows), read from the files' row
        groups."""
        length = max(0, min(length, self.height - offset))
        pieces = []
        at = self.start + offset
        while length > 0:
            group_start, group = self._group(at)
            piece = group.slice(at - group_start, length)
            pieces.append(piece)
            at += piece.height
            length -= piece.height
        if not pieces:
            return self._frame.head(0).collect()
        return pieces[0] if len(pieces) == 1 else pl.concat(pieces)

    def _group(self, row: int) -> tuple[int, pl.DataFrame]:
        """The row group holding row ``row`` of the files, and its first row."""
        start = row - row % SINK_ROWS_PER_GROUP
        if self._window is None or self._window[0] != start:
            group = pl.scan_parquet(self.files).slice(start, SINK_ROWS_PER_GROUP).collect()
            self._window = (start, group)
        return self._window


def write_part(frame: pl.LazyFrame | pl.DataFrame, path: Path) -> Path:
    """Stream the rows of ``frame`` to the Parquet file ``path`` in row groups of
    ``SINK_ROWS_PER_GROUP`` rows; returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # a call stopped before its end plans again
    sink_parquet(frame.lazy(), path, fsync=False, compression=PLAN_COMPRESSION)
    return path


def new_plan_folder(state_dir: Path, source: str) -> Path:
    """A new folder for a call's plan files, in the source's folder of ``plans/`` (only the
    call holding the source's writer lock writes there)."""
    folder = _source_plans(state_dir, source) / uuid.uuid4().hex[:12]
    folder.mkdir(parents=True)
    return folder


def clear_plans(state_dir: Path, source: str, keep: Collection[Path] = ()) -> None:
    """Remove the source's plan folders but those of ``keep``: left by earlier calls, or by
    one stopped at any instant; at the end of a call, all but those its next call reuses."""
    parent = _source_plans(state_dir, source)
    if parent.is_dir():
        for folder in parent.iterdir():
            if folder not in keep:
                shutil.rmtree(folder, ignore_errors=True)


def _source_plans(state_dir: Path, source: str) -> Path:
    return state_dir / PLANS / hashlib.sha256(source.encode()).hexdigest()[:16]
