"""Each source's record in the store: the folder it was ingested from and when.

An ingest claims its root before it starts (``claim_root``: a renamed folder is told
from a new tree, a second folder of the same name is added with a warning) and records
it when the call ends (``record_ingest``); ``verify --repair`` checks it
(``docbatch.state.verify.check_repair_root``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import polars as pl

from docbatch.errors import ConfigError, StoreError
from docbatch.plan.hashing import file_sha256
from docbatch.plan.inventory import check_source
from docbatch.state.checkpoint import Checkpoint
from docbatch.state.lock import writer_lock
from docbatch.store.base import DocumentStore, SourceRegistry

log = logging.getLogger("docbatch")

RENAME_SAMPLE = 24
"""Stored documents of a source looked for in a new folder to tell that it was renamed;
a few of those found are hashed (``RENAME_HASHED``). No other file is read."""
RENAME_HASHED = 4
RENAME_FOUND_SHARE = 0.8
"""Share of the sampled doc ids that must be files of the new folder."""


def recorded_root(store: DocumentStore, source: str) -> str | None:
    """The folder ``source`` was ingested from, as the store records it (None: unknown)."""
    return store.lookup_source(source)[1] if isinstance(store, SourceRegistry) else None


def claim_root(
    store: DocumentStore, source: str, root: Path, *, explicit: bool, deleting: bool
) -> str | None:
    """Before an ingest of ``root`` as ``source``: refuse it, or say which root to record
    when the call ends (``record_ingest``): ``root`` (its real path), or None to keep the
    recorded one. Reads the store, writes nothing.

    * A new source (no documents) is refused when ``root`` looks like the folder of
      another source renamed (see ``moved_source``), unless named with ``explicit``:
      ingesting it would store every document a second time.
    * A source without a recorded root records ``root``.
    * A source recorded at another folder moves to ``root`` when named (``explicit``) or
      when its folder no longer exists (the same name elsewhere: a new checkout). When its
      folder still exists, the files of ``root`` are added to it with a warning, and a
      ``deleting`` ingest (``--delete-missing``) is refused.

    Raises:
        ConfigError: the ingest is refused; nothing has been changed.
    """
    here = os.path.realpath(root)
    if not isinstance(store, SourceRegistry):
        return here
    stored, recorded = store.lookup_source(source)
    if not stored:
        others = store.sources().filter(pl.col("name") != source) if not explicit else None
        moved = moved_source(store, others, Path(here)) if others is not None else None
        if moved is not None:
            old, old_root, found, sampled = moved
            raise ConfigError(
                f"{here} looks like the folder of source {old!r} renamed ({old_root} is gone, and "
                f"{found} of {sampled} sampled documents are here with the same content); nothing "
                f"was ingested. To move the source here give --source {old}, or rename it first: "
                f"docbatch sources rename {old} {source}; to store these files a second time as "
                f"a new source, give --source {source}"
            )
        return here
    if recorded is None or recorded == here:
        return here
    if explicit or not os.path.exists(recorded):
        log.info("source %r moves from %s to %s", source, recorded, here)
        return here
    if deleting:
        raise ConfigError(
            f"refusing to delete documents of source {source!r} from {here}: it was ingested from "
            f"{recorded}; nothing was changed. Another folder is another source (--source NAME), "
            f"or give --source {source} to make this folder its root"
        )
    log.warning(
        "%s is not the folder source %r was ingested from (%s): its files are added to that "
        "source; give --source NAME to ingest it as a source of its own",
        here,
        source,
        recorded,
    )
    return None


def record_ingest(store: DocumentStore, source: str, root: str | None) -> None:
    """Record, at the end of an ingest call, that ``source`` was ingested (now) and its root
    (``root``; None keeps the recorded one). A store without a source list records nothing.

    At the end, not the start: a call that continues a run finds the store as the previous
    call left it, so that call's plan is reused (``RunInventory``). The call's documents are
    committed by then: a store that cannot take the record is a warning, not a failed call."""
    if not isinstance(store, SourceRegistry):
        return
    try:
        store.record_source(source, root)
    except StoreError as exc:
        log.warning("could not record the root of source %r (the next ingest does): %s", source, exc)


def moved_source(store: DocumentStore, sources: pl.DataFrame, root: Path) -> tuple[str, str, int, int] | None:
    """The source of ``sources`` whose recorded folder is gone and whose documents are the
    files of ``root``: (name, old root, found, sampled), else None.

    Cheap: only sources whose folder is gone are looked at; of each, ``RENAME_SAMPLE``
    stored doc ids spread over the sorted list are looked for under ``root``, and
    ``RENAME_HASHED`` of those found are hashed and compared with the stored hash."""
    candidates = sources.filter(pl.col("root").is_not_null() & (pl.col("documents") > 0))
    for name, old_root in candidates.select("name", "root").iter_rows():
        if os.path.exists(old_root):
            continue
        known = store.known_documents(name).sort("doc_id")
        step = max(1, known.height // RENAME_SAMPLE)
        sample = known.gather_every(step).head(RENAME_SAMPLE)
        rows = sample.select("doc_id", "content_hash").iter_rows()
        found = [(d, h) for d, h in rows if (root / d).is_file()]
        if not found or len(found) < RENAME_FOUND_SHARE * sample.height:
            continue
        hashed = found[:: max(1, len(found) // RENAME_HASHED)][:RENAME_HASHED]
        if all(file_sha256(str(root / d)) == digest for d, digest in hashed):
            return str(name), str(old_root), len(found), sample.height
    return None


def registry(store: DocumentStore) -> SourceRegistry:
    """``store`` as a keeper of sources, or ``ConfigError`` when it keeps no list of them."""
    if not isinstance(store, SourceRegistry):
        raise ConfigError(f"the store {store.location} keeps no list of sources")
    return store


def rename_source(store: DocumentStore, state_dir: Path, old: str, new: str) -> int:
    """Give source ``old`` the name ``new`` under its writer lock; the state folder's last
    run follows it. Returns how many documents the source holds."""
    sources = registry(store)
    new = check_source(new)
    with writer_lock(state_dir, store, old):
        moved = sources.rename_source(old, new)
        checkpoint = Checkpoint(state_dir)
        manifest = checkpoint.read_run()
        if manifest is not None and manifest.get("source") == old:
            checkpoint.write_run({**manifest, "source": new})
    return moved


def drop_source(store: DocumentStore, state_dir: Path, name: str) -> int:
    """Remove source ``name``'s documents and passages under its writer lock; returns how
    many documents it held."""
    sources = registry(store)
    with writer_lock(state_dir, store, name):
        return sources.drop_source(name)
