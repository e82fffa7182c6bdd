"""Write files so that a crash at any instant leaves either the old or the new file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from polars._typing import ParquetCompression


def _replace(tmp: Path, path: Path, fsync: bool) -> None:
    if fsync:
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    os.replace(tmp, path)
    if fsync:
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def temp_name(path: Path) -> Path:
    """The temporary name ``path`` is written under before it is renamed into place."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def write_parquet(df: pl.DataFrame, path: Path, *, fsync: bool = True) -> None:
    """Write ``df`` to ``path`` atomically (temp file in the same folder, then rename)."""
    tmp = temp_name(path)
    try:
        df.write_parquet(tmp)
        _replace(tmp, path, fsync)
    finally:
        tmp.unlink(missing_ok=True)


SINK_ROWS_PER_GROUP = 16_384
"""Rows per row group of a streamed Parquet file: the writer holds one group at a time
(with polars' default, 512² rows, streaming a million outcome rows held 60 MB)."""


def sink_parquet(
    frame: pl.LazyFrame,
    path: Path,
    *,
    fsync: bool = True,
    compression: ParquetCompression = "zstd",
    compression_level: int | None = None,
) -> None:
    """Stream the rows of ``frame`` to ``path`` atomically (never all in memory at once),
    with ``compression`` (polars' default: zstd) at ``compression_level`` (None: its own)."""
    tmp = temp_name(path)
    try:
        frame.sink_parquet(
            tmp,
            engine="streaming",
            row_group_size=SINK_ROWS_PER_GROUP,
            compression=compression,
            compression_level=compression_level,
        )
        _replace(tmp, path, fsync)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(data: Any, path: Path, *, fsync: bool = False) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically."""
    tmp = temp_name(path)
    try:
        tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
        _replace(tmp, path, fsync)
    finally:
        tmp.unlink(missing_ok=True)


def sweep_temp_files(folder: Path) -> int:
    """Remove temp files a killed writer left behind; returns how many."""
    removed = 0
    if folder.is_dir():
        for stray in folder.glob(".*.tmp"):
            stray.unlink(missing_ok=True)
            removed += 1
    return removed
