"""The reading side of ``BatchIngestService``: its passages as a LazyFrame, one passage or
document by id, and the export (each a thin call of ``docbatch.export``)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from docbatch.export.files import ExportFormat, ExportSummary, export_passages, run_started_at
from docbatch.export.lazy import passage_reader, scan_passages
from docbatch.store.base import DocumentStore
from docbatch.store.records import DEFAULT_BATCH_SIZE, PassageFilter


class StoreReading:
    """Reading the store of a service back out (``backend`` the store, ``state_dir`` its
    state folder, whose runs ``since`` may name)."""

    backend: DocumentStore
    state_dir: Path

    def passages(
        self,
        *,
        source: str | None = None,
        format: str | None = None,
        path: str | None = None,
        since: datetime | str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> pl.LazyFrame:
        """Every stored passage with its document's metadata
        (``docbatch.store.records.PASSAGE_RECORDS``), by source, doc_id and seq, as a
        LazyFrame read from the store ``batch_size`` passages at a time when collected or
        sunk (``.filter(...).collect()``, ``.sink_parquet(path)``): only the columns a query
        uses are read, and its filters apply batch by batch.

        ``source``, ``format`` (markdown, rst, html, text), ``path`` (a glob on doc_id) and
        ``since`` (a time, or a run id of the state folder: its start) are run by the store.

        Raises:
            ConfigError: an unknown run, or a store that cannot give its passages out.
        """
        when = run_started_at(self.state_dir, since) if isinstance(since, str) else since
        where = PassageFilter(source=source, format=format, path=path, since=when)
        return scan_passages(self.backend, where, batch_size=batch_size)

    def passage(self, passage_id: str, source: str | None = None) -> dict[str, Any] | None:
        """The ``PASSAGE_RECORDS`` fields of one passage (of ``source``; else of the first
        source by name holding it), or None."""
        return passage_reader(self.backend).passage(passage_id, source)

    def document(self, doc_id: str, source: str | None = None) -> dict[str, Any] | None:
        """The stored fields of one document (``docbatch.store.records.DOCUMENT_RECORD``; of
        ``source``, else of the first source by name holding it), or None."""
        return passage_reader(self.backend).document(doc_id, source)

    def export(
        self,
        out: str | os.PathLike[str],
        *,
        format: ExportFormat = "parquet",
        source: str | None = None,
        since_run: str | None = None,
    ) -> ExportSummary:
        """Write every passage to ``out`` (Parquet or JSON lines) with its schema file; with
        ``since_run`` only what changed since that run started, and the removed passage ids
        (``docbatch.export.files``)."""
        return export_passages(
            self.backend, out, format=format, source=source, since_run=since_run, state_dir=self.state_dir
        )
