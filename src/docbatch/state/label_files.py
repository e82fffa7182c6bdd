"""The files of a label table (``docbatch.state.labels``): its file and its numbered parts,
each read as ``docbatch.work.labels.LABELS`` rows (a file that cannot be read is left out,
with a warning), and the rows a later part replaces."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import polars as pl

from docbatch.work.labels import LABELS

log = logging.getLogger("docbatch")

PART = re.compile(r"^part-(\d+)\.parquet$")
"""The name of a part of the table, with its number."""


def part_numbers(folder: Path) -> list[int]:
    """The numbers of the parts in ``folder``."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return [int(match[1]) for name in names if (match := PART.match(name))]


def read_rows(path: Path) -> pl.DataFrame | None:
    """The ``LABELS`` rows of a file of the table (None when there is none, or it cannot be
    read: its documents are parsed again, which writes their rows again)."""
    try:
        rows = pl.read_parquet(path)
        missing = [
            pl.lit(None, dtype=dtype).alias(name)
            for name, dtype in LABELS.items()
            if name not in rows.columns
        ]
        return rows.with_columns(missing).select(list(LABELS)).cast(LABELS)  # type: ignore[arg-type]
    except FileNotFoundError:
        return None
    except (OSError, pl.exceptions.PolarsError) as exc:
        log.warning("the label table file %s cannot be read (%s): its documents are parsed again", path, exc)
        return None


def superseded(files: list[Path]) -> dict[Path, pl.Series]:
    """The doc_ids of each of ``files`` (the table's, oldest first) that a later one has a
    row of too. Found by hashes of the doc_ids (8 bytes a row, not the strings), checked on
    the rows whose hash is there twice."""
    if len(files) < 2:
        return {}
    hashes = pl.concat(
        [
            pl.read_parquet(path, columns=["doc_id"]).select(
                pl.col("doc_id").hash().alias("hash"), pl.lit(number, dtype=pl.UInt32).alias("file")
            )
            for number, path in enumerate(files)
        ]
    )
    twice = hashes.filter(pl.col("hash").is_duplicated())
    if twice.height == 0:
        return {}
    hashed = twice["hash"].unique().implode()
    rows = pl.concat(
        [
            pl.read_parquet(files[number], columns=["doc_id"])
            .filter(pl.col("doc_id").hash().is_in(hashed))
            .with_columns(file=pl.lit(number, dtype=pl.UInt32))
            for number in twice["file"].unique().sort()
        ]
    )
    older = rows.filter(pl.col("file") < pl.col("file").max().over("doc_id"))
    return {files[number]: group["doc_id"] for (number,), group in older.group_by("file")}


def scan_rows(path: Path, columns: list[str]) -> tuple[pl.LazyFrame, bool] | None:
    """``columns`` of the ``LABELS`` rows of a file of the table, as a query, and whether the
    file holds exactly the ``LABELS`` columns (None when there is none, or it cannot be read:
    ``read_rows``)."""
    try:
        schema = pl.read_parquet_schema(path)
    except FileNotFoundError:
        return None
    except (OSError, pl.exceptions.PolarsError) as exc:
        log.warning("the label table file %s cannot be read (%s): its documents are parsed again", path, exc)
        return None
    query = pl.scan_parquet(path).select(
        pl.col(name).cast(LABELS[name]) if name in schema else pl.lit(None, dtype=LABELS[name]).alias(name)
        for name in columns
    )
    return query, pl.Schema(schema) == pl.Schema(LABELS)
