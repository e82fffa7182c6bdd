"""docbatch: batch-ingest documentation trees into a searchable store, resumably.

The packages follow the data flow, and import only downward (tests/test_layers.py):

    directory + patterns
      plan/      inventory (walk, patterns, hidden, links), planning against the
                 store (hashing, fingerprints), git facts      -> plan frame
      run/       ingest (one call: request -> lock -> preparation -> call -> closing),
                 preparation (plan + checkpoint read back, site templates), execution
                 (where slices run: this process, a spawned pool, dask_cluster),
                 supervisor (dead or stuck workers), runner (slice -> store ->
                 checkpoint -> timeline), closing (outcomes, reports, the result)
      work/      what a worker imports: worker (one slice), decoding, formats (via
                 docbatch.formats: markdown, html + templates, rst_fast, rst_docutils,
                 text), chunking into passages, outcome rows, isolation
      store/     the DocumentStore protocol: SQLite FTS5, PostgreSQL, in memory
      state/     checkpoint parts and manifest, atomic writes, reports, writer lock,
                 state-folder checks, verify
      display/   progress sinks (terminal bar, log lines, notebook dashboard),
                 summaries, plots, runs read back (load_run)
    outcomes + timeline frames -> reports (Parquet, JSON), widgets, plots

Beside them: frames (every schema), errors, config (BatchConfig), retry (the seed's
decorator), metrics (BatchProgress), result (IngestResult), service (the seed's
BatchIngestService facade), cli, sample (the shipped sample tree).

The names below are imported on first use, so a worker process that needs only the
parsers does not import the service, the store or the display.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

# both are also the names of submodules: bound now, so the package attribute is the
# object (the global settings, the decorator) and never the module
from docbatch.config import BatchConfig, config
from docbatch.retry import RetryPolicy, retry

if _typing.TYPE_CHECKING:
    from docbatch.display.load import LoadedRun, load_run
    from docbatch.errors import (
        ConfigError,
        DocbatchError,
        FileError,
        IngestFailures,
        QueryError,
        RootError,
        StoreError,
    )
    from docbatch.metrics import BatchProgress
    from docbatch.result import IngestResult
    from docbatch.service import BatchIngestService
    from docbatch.store import DocumentStore, SQLiteStore, open_store
    from docbatch.store.location import state_dir_for

__version__ = "0.1.0"

_LAZY = {
    "BatchIngestService": "docbatch.service",
    "BatchProgress": "docbatch.metrics",
    "ConfigError": "docbatch.errors",
    "DocbatchError": "docbatch.errors",
    "DocumentStore": "docbatch.store",
    "FileError": "docbatch.errors",
    "IngestFailures": "docbatch.errors",
    "IngestResult": "docbatch.result",
    "LoadedRun": "docbatch.display.load",
    "QueryError": "docbatch.errors",
    "RootError": "docbatch.errors",
    "SQLiteStore": "docbatch.store",
    "StoreError": "docbatch.errors",
    "load_run": "docbatch.display.load",
    "open_store": "docbatch.store",
    "state_dir_for": "docbatch.store.location",
}

__all__ = [
    "BatchConfig",
    "BatchIngestService",
    "BatchProgress",
    "ConfigError",
    "DocbatchError",
    "DocumentStore",
    "FileError",
    "IngestFailures",
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
    "state_dir_for",
]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'docbatch' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
