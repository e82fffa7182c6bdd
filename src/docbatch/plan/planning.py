"""Decide what to do with every file: compare the inventory with the store.

Size and mtime are compared first; a file whose size or mtime differ is
``changed`` and carries the stored content hash, so the worker can tell a real
change from a touched file without the planner reading anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import polars as pl

from docbatch.frames import PLAN
from docbatch.plan.hashing import file_sha256
from docbatch.plan.selection import Selection, selection

RELABEL = "section labels not known, or a section title it shows or a file it includes changed"
"""The reason of a document planned ``changed`` by its ``document_fingerprints`` row."""


def plan(
    inventory: pl.DataFrame,
    known: pl.DataFrame,
    *,
    force: bool = False,
    patterns: tuple[str, ...] = (),
    recursive: bool = True,
    fingerprints: Mapping[str, str] | None = None,
    exclude: tuple[str, ...] = (),
    include_hidden: bool = False,
    document_fingerprints: pl.DataFrame | None = None,
    unseen: tuple[str, ...] | None = None,
) -> pl.DataFrame:
    """The plan frame: the inventory plus ``status``, ``reason`` and ``known_hash``.

    ``known`` holds the store's documents of this source (``KNOWN_DOCUMENTS``).
    Documents in the store that the inventory's selection would list (``patterns``,
    ``exclude``, ``include_hidden``, ``recursive``: see ``scoped_ids``) but are gone from
    disk are added as ``deleted`` rows. Inventory rows ``invalid`` or ``skipped``
    (hidden paths, folder symlinks) keep their status and reason.
    With ``force`` every valid file is ``changed`` and no stored hash is given,
    so everything is re-parsed. A stored document whose fingerprint differs from
    ``fingerprints[format]`` (other parser or chunking settings) is ``changed``
    and re-parsed even when its content is the same; ``document_fingerprints`` (``doc_id``,
    ``fingerprint``) gives the fingerprint of some documents in place of their format's
    (see ``docbatch.state.labels``). ``unseen`` gives the folders the walk did not look into
    (``scoped_ids``) when ``inventory`` is a part of it.
    """
    known = known.select(
        pl.col("doc_id"),
        pl.col("size").alias("known_size"),
        pl.col("mtime_ns").alias("known_mtime_ns"),
        pl.col("content_hash").alias("known_hash"),
        pl.col("fingerprint").alias("known_fingerprint"),
    )
    joined = inventory.join(known, on="doc_id", how="left", maintain_order="left")
    stale_reason: pl.Expr = pl.lit("stored with other parser or chunking settings")
    if fingerprints:
        current = pl.col("format").replace_strict(dict(fingerprints), default=None, return_dtype=pl.Utf8)
        if document_fingerprints is not None and document_fingerprints.height:
            own = document_fingerprints.select("doc_id", pl.col("fingerprint").alias("_expected"))
            joined = joined.join(own, on="doc_id", how="left", maintain_order="left")
            by_format, current = current, pl.coalesce(pl.col("_expected"), current)
            stale_reason = (
                pl.when(
                    pl.col("_expected").is_not_null() & pl.col("known_fingerprint").str.starts_with(by_format)
                )
                .then(pl.lit(RELABEL))
                .otherwise(stale_reason)
            )
        stale = pl.col("known_fingerprint").ne_missing(current) & pl.col("known_hash").is_not_null()
    else:
        stale = pl.lit(False)
    decided = pl.col("status").is_in(["invalid", "skipped"])  # by the inventory already
    is_known = pl.col("known_hash").is_not_null()
    same_stat = (pl.col("size") == pl.col("known_size")) & (pl.col("mtime_ns") == pl.col("known_mtime_ns"))
    if force:
        status = (
            pl.when(decided)
            .then(pl.col("status"))
            .when(is_known)
            .then(pl.lit("changed"))
            .otherwise(pl.lit("new"))
        )
        reason = pl.when(decided).then(pl.col("reason")).when(is_known).then(pl.lit("forced"))
        known_hash = pl.lit(None, dtype=pl.Utf8)
    else:
        status = (
            pl.when(decided)
            .then(pl.col("status"))
            .when(is_known & same_stat & ~stale)
            .then(pl.lit("unchanged"))
            .when(is_known)
            .then(pl.lit("changed"))
            .otherwise(pl.lit("new"))
        )
        reason = (
            pl.when(decided)
            .then(pl.col("reason"))
            .when(is_known & same_stat & ~stale)
            .then(pl.lit("same size and mtime as stored"))
            .when(stale)
            .then(stale_reason)
            .when(is_known)
            .then(pl.lit("size or mtime differ from stored"))
        )
        known_hash = pl.when(stale).then(None).otherwise(pl.col("known_hash"))
    planned = joined.with_columns(
        status=status, reason=reason.cast(pl.Utf8), known_hash=known_hash.cast(pl.Utf8)
    ).select(list(PLAN))
    deleted = _deleted(
        inventory,
        known.drop("known_fingerprint").rename({"known_size": "size", "known_mtime_ns": "mtime_ns"}),
        selection(patterns, exclude, include_hidden, recursive),
        unseen,
    )
    return pl.concat([planned, deleted]) if deleted.height else planned


def _deleted(
    inventory: pl.DataFrame, known: pl.DataFrame, rules: Selection, unseen: tuple[str, ...] | None
) -> pl.DataFrame:
    gone = known.join(inventory.select("doc_id"), on="doc_id", how="anti")
    if not gone.height:
        return pl.DataFrame(schema=PLAN)
    gone = gone.filter(pl.col("doc_id").is_in(scoped_ids(gone["doc_id"], inventory, rules, unseen)))
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


def scoped_ids(
    doc_ids: Iterable[str], inventory: pl.DataFrame, rules: Selection, unseen: tuple[str, ...] | None = None
) -> list[str]:
    """The stored ``doc_ids`` in the scope of ``rules`` and not under a folder the
    inventory did not look into (a ``"dir/"`` row: unlistable, hidden, or a folder
    symlink; ``unseen``, when given, names them instead), whose files are unseen rather
    than gone. Deletion and ``verify`` both use this."""
    if unseen is None:
        unseen = tuple(inventory.filter(pl.col("doc_id").str.ends_with("/"))["doc_id"])
    return [d for d in doc_ids if rules.selects(d) and not (unseen and d.startswith(unseen))]


def confirm_changes(planned: pl.DataFrame) -> pl.DataFrame:
    """Hash the files planned ``changed`` that have a stored hash; those whose content is
    the same after all become ``unchanged``. Only these files are read."""
    suspects = planned.filter((pl.col("status") == "changed") & pl.col("known_hash").is_not_null())
    same = [
        doc_id
        for doc_id, path, known in suspects.select("doc_id", "path", "known_hash").iter_rows()
        if file_sha256(path) == known
    ]
    if not same:
        return planned
    touched = pl.col("doc_id").is_in(same)
    return planned.with_columns(
        status=pl.when(touched).then(pl.lit("unchanged")).otherwise(pl.col("status")),
        reason=pl.when(touched)
        .then(pl.lit("same content; only the mtime changed"))
        .otherwise(pl.col("reason")),
    )
