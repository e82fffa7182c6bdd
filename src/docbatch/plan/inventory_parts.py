"""An inventory written to Parquet files as the tree is walked (``scan_parts``).

At a million files the inventory frame is 150 MB; written in files of ``PARTS_ROWS`` rows
as the walk goes, it is held a part at a time, and planning reads it back a part at a time
(``docbatch.run.plan_parts``). The walk is ``scan``'s (``docbatch.plan.inventory``): the
same rows, sorted by doc_id, with the same warnings.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from docbatch.frames import INVENTORY
from docbatch.plan.inventory import walk_tree, warn_unmatched
from docbatch.plan.selection import DEFAULT_PATTERN
from docbatch.plan.walk import FormatMap


@dataclass(frozen=True)
class InventoryParts:
    """An inventory written as Parquet files (``scan_parts``), in doc_id order: each file's
    rows are sorted, and each file's first doc_id follows the last of the file before."""

    files: list[Path]
    height: int
    resorted: bool = False
    """Whether the walk's parts were sorted again at its end (``scan_parts``), after they
    were given to its ``on_part``."""

    def lazy(self) -> pl.LazyFrame:
        return pl.scan_parquet(self.files) if self.files else pl.LazyFrame(schema=INVENTORY)

    def parts(self) -> Iterator[pl.DataFrame]:
        """The rows of each file in turn."""
        for path in self.files:
            yield pl.read_parquet(path)

    @classmethod
    def write(cls, frame: pl.DataFrame, folder: Path) -> InventoryParts:
        """``frame`` (an inventory frame) written to ``folder`` in parts."""
        sink = _PartSink(folder)
        sink.add(frame if frame["doc_id"].is_sorted() else frame.sort("doc_id"))
        return sink.close()


PARTS_ROWS = 65_536
"""Rows of each file of ``scan_parts``."""


def scan_parts(
    root: str | os.PathLike[str],
    folder: Path,
    pattern: str | Iterable[str] = DEFAULT_PATTERN,
    *,
    recursive: bool = True,
    max_file_size: int = 50 * 1024 * 1024,
    exclude: str | Iterable[str] | None = None,
    include_hidden: bool = False,
    unmatched: list[str] | None = None,
    format_map: FormatMap = None,
    leave_out: Callable[[list[str]], set[str]] | None = None,
    on_part: Callable[[pl.DataFrame], None] | None = None,
) -> InventoryParts:
    """The inventory of ``root``, as ``scan`` walks it, written to ``folder`` in files of
    ``PARTS_ROWS`` rows as the walk goes (at a million files the frame is 150 MB, and the
    walk holds one part); ``leave_out`` names the doc ids of each part to leave out (git's
    ignored files); ``on_part`` is given each part once written."""
    sink = _PartSink(folder, leave_out, on_part)
    # the walk's parts are made, written and given to on_part in a thread of their own
    maker = ThreadPoolExecutor(1, thread_name_prefix="docbatch-walk-parts")
    try:
        walk = walk_tree(
            root, pattern, recursive, max_file_size, exclude, include_hidden, format_map, sink.add, maker
        )
        walk.frame()  # the last rows
    finally:
        maker.shutdown(cancel_futures=True)
    warn_unmatched(walk.unmatched(str(root)), unmatched)
    parts = sink.close()
    if not sink.in_order:  # a name not UTF-8 sorts otherwise once replaced: sort them all
        frame = parts.lazy().collect()
        for path in parts.files:
            path.unlink()
        return dataclasses.replace(InventoryParts.write(frame, folder), resorted=True)
    return parts


class _PartSink:
    """Writes an inventory's rows to files of ``PARTS_ROWS`` rows as they come."""

    def __init__(
        self,
        folder: Path,
        leave_out: Callable[[list[str]], set[str]] | None = None,
        on_part: Callable[[pl.DataFrame], None] | None = None,
    ) -> None:
        self.folder = folder
        self.leave_out = leave_out
        self.on_part = on_part
        self.files: list[Path] = []
        self.height = 0
        self.in_order = True
        self._last: str | None = None
        self._buffer: list[pl.DataFrame] = []

    def add(self, rows: pl.DataFrame) -> None:
        if self.leave_out is not None and rows.height:
            left_out = self.leave_out(rows["doc_id"].to_list())
            if left_out:
                rows = rows.filter(~pl.col("doc_id").is_in(list(left_out)))
        if rows.height == 0:
            return
        first = rows["doc_id"][0]
        if not rows["doc_id"].is_sorted() or (self._last is not None and first <= self._last):
            self.in_order = False
        self._last = rows["doc_id"][-1]
        self._buffer.append(rows)
        if sum(part.height for part in self._buffer) >= PARTS_ROWS:
            rows = pl.concat(self._buffer)
            while rows.height >= PARTS_ROWS:
                self._write(rows.head(PARTS_ROWS))
                rows = rows.slice(PARTS_ROWS)
            self._buffer = [rows] if rows.height else []

    def close(self) -> InventoryParts:
        if self._buffer:
            self._write(pl.concat(self._buffer))
            self._buffer = []
        return InventoryParts(self.files, self.height)

    def _write(self, rows: pl.DataFrame) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"inventory-{len(self.files):05d}.parquet"
        rows.write_parquet(path, compression="lz4")  # read back once or twice: fast beats small
        self.files.append(path)
        self.height += rows.height
        if self.on_part is not None:
            self.on_part(rows)
