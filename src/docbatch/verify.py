"""Compare the store with the disk and the checkpoint ledger, and find where they drift.

Kinds of problem (``docbatch.frames.PROBLEMS``):

* ``missing``: the ledger says the file was ingested (or unchanged), it is on disk, but
  the store has no document for it;
* ``extra``: the store has a document whose file is not on disk (within the scope);
* ``stale``: the stored content hash is not the hash of the file on disk, while size
  and mtime say nothing changed — so a normal run would skip it;
* ``orphaned_passages``, ``passage_count``, ``index``: the store's own bookkeeping (see
  ``DocumentStore.integrity``).
"""

from __future__ import annotations

import polars as pl

from docbatch.frames import PROBLEMS
from docbatch.hashing import file_sha256
from docbatch.inventory import selection
from docbatch.planning import scoped_ids
from docbatch.store.base import DocumentStore


def find_problems(
    store: DocumentStore,
    source: str,
    inventory: pl.DataFrame,
    ledger: pl.DataFrame | None,
    *,
    patterns: tuple[str, ...],
    recursive: bool = True,
    exclude: tuple[str, ...] = (),
    include_hidden: bool = False,
) -> pl.DataFrame:
    """Every problem of ``source``: ``inventory`` is the scan of its root with ``patterns``
    (valid files only are compared), ``ledger`` the outcome rows of its last run (None if
    there is none). Stored documents outside the scope are left alone: the scope is the
    one deletion uses (``docbatch.planning.scoped_ids``)."""
    known = store.known_documents(source)
    rules = selection(patterns, exclude, include_hidden, recursive)
    known = known.filter(pl.col("doc_id").is_in(scoped_ids(known["doc_id"], inventory, rules)))
    on_disk = inventory.filter(~pl.col("status").is_in(["invalid", "skipped"]))
    frames = [store.integrity(source)]
    extra = known.join(on_disk.select("doc_id"), on="doc_id", how="anti")
    frames.append(_rows(extra["doc_id"], "extra", "stored, but the file is not on disk"))
    if ledger is not None and ledger.height:
        # skipped rows count when the file was stored (unchanged), not when it was never
        # taken (hidden, a folder symlink)
        stored = (pl.col("status") == "skipped") & pl.col("content_hash").is_not_null()
        done = ledger.filter((pl.col("status") == "succeeded") | stored).select("doc_id")
        missing = done.join(on_disk.select("doc_id"), on="doc_id", how="semi").join(
            known.select("doc_id"), on="doc_id", how="anti"
        )
        frames.append(_rows(missing["doc_id"], "missing", "the last run ingested it; the store lacks it"))
    both = on_disk.join(known.select("doc_id", "content_hash"), on="doc_id", how="inner")
    stale = [
        doc_id
        for doc_id, path, stored in both.select("doc_id", "path", "content_hash").iter_rows()
        if file_sha256(path) not in (stored, None)
    ]
    frames.append(_rows(pl.Series(stale, dtype=pl.Utf8), "stale", "stored content differs from the file"))
    return pl.concat(frames).sort("kind", "doc_id", nulls_last=True)


def _rows(doc_ids: pl.Series, kind: str, detail: str) -> pl.DataFrame:
    return pl.DataFrame(
        {"doc_id": doc_ids, "kind": [kind] * len(doc_ids), "detail": [detail] * len(doc_ids)},
        schema=PROBLEMS,
    )
