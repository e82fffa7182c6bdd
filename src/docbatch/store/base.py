"""The store protocol: what the runner needs from any searchable store."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import polars as pl


@runtime_checkable
class DocumentStore(Protocol):
    """A searchable store of documents and their passages, grouped by source.

    Implementations guarantee:

    * ``write_slice`` is one transaction: all of it lands or none of it does;
    * writing a document replaces all its previous passages (no duplicates, no stale tail);
    * ``known_documents`` reflects every committed ``write_slice``.

    A store may also have ``change_mark()``: a value that differs from one it returned
    earlier whenever anything was committed to the store in between, by any writer. A run
    in several calls then plans its next call without reading every stored document back
    while the mark stays the same. A store without it (or returning None) is read each time.
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

    def search(self, query: str, *, limit: int = 10, source: str | None = None) -> pl.DataFrame:
        """Ranked hits as a ``docbatch.frames.SEARCH_HITS`` frame, best first."""
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
