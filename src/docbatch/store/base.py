"""The store protocol: what the runner needs from any searchable store, what a store that
keeps a list of its sources adds (``SourceRegistry``), and the record a writer lock keeps
of its holder."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Protocol, Unpack, runtime_checkable

import polars as pl

from docbatch.errors import ConfigError, StoreLockedError
from docbatch.store.query import MARKERS
from docbatch.store.records import DEFAULT_BATCH_SIZE, PassageFilter
from docbatch.store.search_filters import SearchFilterArgs


@runtime_checkable
class DocumentStore(Protocol):
    """A searchable store of documents and their passages, grouped by source.

    Implementations guarantee:

    * ``write_slice`` is one transaction: all of it lands or none of it does;
    * writing a document replaces all its previous passages (no duplicates, no stale tail);
    * ``known_documents`` reflects every committed ``write_slice``.

    A store may also have the optional hooks of ``ChangeMarker`` (``change_mark()``),
    ``PassageReader`` (reading its passages back out) and,
    one that several machines or state folders can write, of ``WriterLocker``
    (``writer_lock(source)``).
    """

    location: str
    """Where the store lives (a path or URL), for messages and for the state folder."""

    def known_documents(self, source: str) -> pl.DataFrame:
        """``docbatch.frames.KNOWN_DOCUMENTS`` rows of every document of ``source``."""
        ...

    def write_slice(
        self, source: str, documents: pl.DataFrame, passages: pl.DataFrame, touched: pl.DataFrame
    ) -> None:
        """Replace ``documents`` (with their ``passages``) and update size/mtime of ``touched``,
        in one transaction. Raises ``StoreBusyError`` when locked, ``StoreError`` otherwise."""
        ...

    def delete_documents(self, source: str, doc_ids: list[str]) -> int:
        """Remove these documents of ``source`` and their passages in one transaction;
        returns how many were removed."""
        ...

    def integrity(self, source: str) -> pl.DataFrame:
        """Problems inside the store for ``source`` (``docbatch.frames.PROBLEMS``): passages
        without a document (``orphaned_passages``), documents whose passage count is not what
        was written (``passage_count``), a search index out of step (``index``)."""
        ...

    def repair_integrity(self, source: str) -> None:
        """Remove orphaned passages, and rebuild the search index."""
        ...

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        source: str | None = None,
        group_by_document: bool = False,
        markers: tuple[str, str] = MARKERS,
        **filters: Unpack[SearchFilterArgs],
    ) -> pl.DataFrame:
        """Ranked hits as a ``docbatch.frames.SEARCH_HITS`` frame, best first: the passages
        holding every word, then, when fewer than ``limit``, those holding some of them
        (``docbatch.store.query.plan_search``). With ``group_by_document`` each document
        appears once, with its best passage. ``markers`` surround the matching words in
        the snippet (``QueryError`` unless two non-empty strings). ``filters`` are applied
        while ranking (``docbatch.store.search_filters.SearchFilters``; ``QueryError`` for
        a bad value, naming the filter)."""
        ...

    def passages(self, source: str, doc_id: str) -> pl.DataFrame:
        """The stored passages of one document, in order (``docbatch.frames.PASSAGES``)."""
        ...

    def counts(self) -> dict[str, int]:
        """``{"documents": n, "passages": m}`` over all sources."""
        ...

    def close(self) -> None:
        """Release the connection; the store stays on disk."""
        ...


@runtime_checkable
class ChangeMarker(Protocol):
    """The optional hook of a ``DocumentStore`` that can tell cheaply whether it changed."""

    def change_mark(self) -> object:
        """A value that differs from one returned earlier whenever anything was committed to
        the store in between, by any writer. A run in several calls then plans its next
        call without reading every stored document back while the mark stays the same. A
        store without this method (or returning None) is read each time."""
        ...


@runtime_checkable
class KnownRanges(Protocol):
    """The optional hook of a ``DocumentStore`` that reads its documents a range at a time."""

    def known_documents_between(self, source: str, after: str | None, upto: str | None) -> pl.DataFrame:
        """``docbatch.frames.KNOWN_DOCUMENTS`` rows of the documents of ``source`` whose doc_id
        is above ``after`` and at most ``upto`` (None: no bound), in the order of their UTF-8
        bytes. Planning reads a tree's stored documents so, one range of its inventory at a
        time, instead of all of them at once (a store without it is read whole)."""
        ...


KnownReader = Callable[[str | None, str | None], pl.DataFrame]
"""Reads the stored documents of a source in a range of doc ids (``known_reader``)."""


def known_reader(store: DocumentStore, source: str) -> KnownReader:
    """Reads the stored documents of ``source`` in a range of doc ids (see ``KnownRanges``)."""
    if isinstance(store, KnownRanges):
        return lambda after, upto: store.known_documents_between(source, after, upto)
    known = store.known_documents(source).sort("doc_id")
    ids = known["doc_id"]

    def between(after: str | None, upto: str | None) -> pl.DataFrame:
        start = 0 if after is None else int(ids.search_sorted(after, side="right"))
        end = known.height if upto is None else int(ids.search_sorted(upto, side="right"))
        return known.slice(start, end - start)

    return between


class StoreLock(Protocol):
    """A store's lock of one source, held for a run (what ``WriterLocker.writer_lock`` yields)."""

    @property
    def previous(self) -> dict[str, Any] | None:
        """The record of a holder that died without releasing the lock (taken over), else None."""
        ...

    def note(self, **fields: Any) -> None:
        """Add ``fields`` (e.g. ``run_id``) to the holder record a refused writer reads."""
        ...


@runtime_checkable
class WriterLocker(Protocol):
    """The optional hook of a ``DocumentStore`` that several machines or state folders can
    write (the PostgreSQL store): a lock in the store itself, so that one run at a time
    writes a source whatever its state folder (see ``docbatch.state.lock``)."""

    def writer_lock(self, source: str) -> AbstractContextManager[StoreLock]:
        """Hold the lock of ``source`` for the block. A store without this method is locked
        by its state folder alone.

        Raises:
            StoreLockedError: another run holds ``source`` (``lock_refused`` names it).
        """
        ...


@runtime_checkable
class IndexCompactor(Protocol):
    """The optional hook of a ``DocumentStore`` whose full-text index is written in parts
    that a search reads one by one (SQLite FTS5): merged after a run, with work bounded by
    what the run wrote."""

    def compact_index(self, written_passages: int) -> None:
        """Merge the index's parts after a run wrote ``written_passages`` passages."""
        ...


@runtime_checkable
class PassageReader(Protocol):
    """The hook of a ``DocumentStore`` that gives its passages back out (every store of
    docbatch has it): in bounded batches with their document's metadata, one passage or one
    document by id, and the passage ids removed since a time (for a copy kept in step).

    A store without it still ingests and searches; ``BatchIngestService.passages`` and
    ``docbatch export`` then raise ``ConfigError``.
    """

    def passage_batches(
        self,
        where: PassageFilter | None = None,
        *,
        columns: list[str] | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> Iterator[pl.DataFrame]:
        """The passages ``where`` keeps as ``docbatch.store.records.PASSAGE_RECORDS`` frames
        (only ``columns``, when given), in the order (source, doc_id, seq), at most
        ``batch_size`` rows each: each batch is read after the last key of the one before,
        so memory holds one batch. Raises ``StoreError`` when the store cannot be read."""
        ...

    def passage(self, passage_id: str, source: str | None = None) -> dict[str, Any] | None:
        """The ``PASSAGE_RECORDS`` fields of passage ``passage_id`` (of ``source``; without
        it, of the first source by name holding it), or None."""
        ...

    def document(self, doc_id: str, source: str | None = None) -> dict[str, Any] | None:
        """The ``docbatch.store.records.DOCUMENT_RECORD`` fields of document ``doc_id`` (of
        ``source``; without it, of the first source by name holding it), or None."""
        ...

    def removed_passages(self, *, source: str | None = None, since: datetime | None = None) -> pl.DataFrame:
        """``docbatch.store.records.REMOVED_PASSAGES`` rows of the passage ids removed (at or
        after ``since``, of ``source``) and not written again since, by source and id."""
        ...


SOURCES: dict[str, pl.DataType] = {
    "name": pl.Utf8(),
    "root": pl.Utf8(),
    "documents": pl.Int64(),
    "last_ingest": pl.Datetime("us", "UTC"),
}
"""One row per source of a store (``SourceRegistry.sources``): its name, the real path of
the folder it was ingested from (null: not recorded, a store older than the list), how
many documents it holds, and when an ingest call of it last ended (for a source without a
recorded ingest, when its newest document was written)."""


@runtime_checkable
class SourceRegistry(Protocol):
    """A store that records each source's root folder (the SQLite and PostgreSQL stores).

    A store without these methods still works: its sources are then of unknown root, and
    ``docbatch sources`` cannot list, rename or drop them.
    """

    def sources(self) -> pl.DataFrame:
        """Every source (recorded, or holding documents) as ``SOURCES`` rows, by name."""
        ...

    def lookup_source(self, name: str) -> tuple[bool, str | None]:
        """Whether source ``name`` holds documents, and its recorded root (None: not
        recorded). Cheap: an ingest asks it on every call."""
        ...

    def record_source(self, name: str, root: str | None = None) -> None:
        """Record that an ingest call of ``name`` ends now; with ``root``, its root becomes
        ``root`` (without, a recorded root is kept)."""
        ...

    def rename_source(self, old: str, new: str) -> int:
        """Give source ``old`` (its documents, passages and record) the name ``new``, in
        one transaction; returns how many documents it holds.

        Raises:
            ConfigError: there is no source ``old``, or a source ``new`` exists already.
        """
        ...

    def drop_source(self, name: str) -> int:
        """Remove source ``name``: its documents, passages and record, in one transaction;
        returns how many documents it held.

        Raises:
            ConfigError: there is no source ``name``.
        """
        ...


def no_source(name: str) -> ConfigError:
    """The error for a source the store does not have."""
    return ConfigError(f"no source {name!r} in the store (docbatch sources lists them)")


def source_exists(new: str) -> ConfigError:
    """The error for a rename onto a name the store already has."""
    return ConfigError(
        f"a source {new!r} exists already: drop it first (docbatch sources drop {new}) or choose another name"
    )


def holder_record() -> dict[str, Any]:
    """Who is taking a writer lock: this process's pid, the host, when."""
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def lock_refused(store: str, who: dict[str, Any] | None) -> StoreLockedError:
    """The error of a writer refused because ``who`` holds the lock of ``store``."""
    who = who or {}
    run = f", run {who['run_id']}" if who.get("run_id") else ""
    return StoreLockedError(
        f"store {store} is being written by another run (pid {who.get('pid', '?')} on "
        f"{who.get('host', '?')}{run}, started {who.get('started_at', '?')}); wait for it to "
        "finish or stop it"
    )
