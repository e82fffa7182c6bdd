"""Getting passages out of the store: a polars LazyFrame over a store's passages read in
bounded batches (``scan_passages``), the ``docbatch export`` files (Parquet or JSON lines
with a versioned schema, ``export_passages``), and the service's reading methods
(``StoreReading``)."""

from __future__ import annotations

from docbatch.export.files import EXPORT_SCHEMA, EXPORT_SCHEMA_VERSION, ExportSummary, export_passages
from docbatch.export.lazy import passage_reader, scan_passages
from docbatch.export.reading import StoreReading

__all__ = [
    "EXPORT_SCHEMA",
    "EXPORT_SCHEMA_VERSION",
    "ExportSummary",
    "StoreReading",
    "export_passages",
    "passage_reader",
    "scan_passages",
]
