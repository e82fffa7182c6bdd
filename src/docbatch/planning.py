"""Decide what to do with every file: compare the inventory with the store.

Size and mtime are compared first; a file whose size or mtime differ is
``changed`` and carries the stored content hash, so the worker can tell a real
change from a touched file without the planner reading anything.
"""

from __future__ import annotations

import fnmatch

import polars as pl

from docbatch.frames import INVENTORY, KNOWN_DOCUMENTS, PLAN


def plan(
    inventory: pl.DataFrame,
    known: pl.DataFrame,
    *,
    force: bool = False,
    patterns: tuple[str, ...] = (),
    recursive: bool = True,
) -> pl.DataFrame:
    """The plan frame: the inventory plus ``status``, ``reason`` and ``known_hash``.

    ``known`` holds the store's documents of this source (``KNOWN_DOCUMENTS``).
    Documents in the store that match ``patterns`` (and, when not ``recursive``,
    sit at the top level) but are gone from disk are added as ``deleted`` rows.
    With ``force`` every valid file is ``changed`` and no stored hash is given,
    so everything is re-parsed.
    """
    known = known.select(
        pl.col("doc_id"),
        pl.col("size").alias("known_size"),
        pl.col("mtime_ns").alias("known_mtime_ns"),
        pl.col("content_hash").alias("known_hash"),
    )
    joined = inventory.join(known, on="doc_id", how="left")
    invalid = pl.col("status") == "invalid"
    is_known = pl.col("known_hash").is_not_null()
    same_stat = (pl.col("size") == pl.col("known_size")) & (
        pl.col("mtime_ns") == pl.col("known_mtime_ns")
    )
    if force:
        status = (
            pl.when(invalid)
            .then(pl.lit("invalid"))
            .when(is_known)
            .then(pl.lit("changed"))
            .otherwise(pl.lit("new"))
        )
        reason = pl.when(invalid).then(pl.col("reason")).when(is_known).then(pl.lit("forced"))
        known_hash = pl.lit(None, dtype=pl.Utf8)
    else:
        status = (
            pl.when(invalid)
            .then(pl.lit("invalid"))
            .when(is_known & same_stat)
            .then(pl.lit("unchanged"))
            .when(is_known)
            .then(pl.lit("changed"))
            .otherwise(pl.lit("new"))
        )
        reason = (
            pl.when(invalid)
            .then(pl.col("reason"))
            .when(is_known & same_stat)
            .then(pl.lit("same size and mtime as stored"))
            .when(is_known)
            .then(pl.lit("size or mtime differ from stored"))
        )
        known_hash = pl.col("known_hash")
    planned = joined.with_columns(
        status=status, reason=reason.cast(pl.Utf8), known_hash=known_hash.cast(pl.Utf8)
    ).select(list(PLAN))
    deleted = _deleted(
        inventory,
        known.rename({"known_size": "size", "known_mtime_ns": "mtime_ns"}),
        patterns,
        recursive,
    )
    return pl.concat([planned, deleted]) if deleted.height else planned


def _deleted(
    inventory: pl.DataFrame, known: pl.DataFrame, patterns: tuple[str, ...], recursive: bool
) -> pl.DataFrame:
    gone = known.join(inventory.select("doc_id"), on="doc_id", how="anti")
    if not gone.height:
        return pl.DataFrame(schema=PLAN)
    in_scope = [doc_id for doc_id in gone["doc_id"] if _in_scope(doc_id, patterns, recursive)]
    gone = gone.filter(pl.col("doc_id").is_in(in_scope))
    return gone.select(
        pl.col("doc_id"),
        pl.lit(None, dtype=pl.Utf8).alias("path"),
        pl.lit(None, dtype=pl.Utf8).alias("format"),
        pl.col("size"),
        pl.col("mtime_ns"),
        pl.lit("deleted").alias("status"),
        pl.lit("in the store but no longer on disk").alias("reason"),
        pl.col("known_hash"),
    ).cast(PLAN)  # type: ignore[arg-type]


def _in_scope(doc_id: str, patterns: tuple[str, ...], recursive: bool) -> bool:
    if not recursive and "/" in doc_id:
        return False
    name = doc_id.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(doc_id if "/" in p else name, p) for p in patterns)


__all__ = ["INVENTORY", "KNOWN_DOCUMENTS", "plan"]
