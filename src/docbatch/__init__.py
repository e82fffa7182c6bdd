"""docbatch: batch-ingest documentation trees into a searchable store, resumably."""

from __future__ import annotations

from docbatch.config import BatchConfig, config
from docbatch.display.load import LoadedRun, load_run
from docbatch.errors import (
    ConfigError,
    DocbatchError,
    FileError,
    QueryError,
    RootError,
    StoreError,
)
from docbatch.metrics import BatchProgress
from docbatch.result import IngestResult
from docbatch.retry import RetryPolicy, retry
from docbatch.service import BatchIngestService
from docbatch.store import DocumentStore, SQLiteStore, open_store

__version__ = "0.1.0"

__all__ = [
    "BatchConfig",
    "BatchIngestService",
    "BatchProgress",
    "ConfigError",
    "DocbatchError",
    "DocumentStore",
    "FileError",
    "IngestResult",
    "LoadedRun",
    "QueryError",
    "RetryPolicy",
    "RootError",
    "SQLiteStore",
    "StoreError",
    "__version__",
    "config",
    "load_run",
    "open_store",
    "retry",
]
