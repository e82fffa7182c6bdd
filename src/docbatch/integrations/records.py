"""What the loaders share: the passages of a service, a store or a store's path or URL,
read in bounded batches, as (passage_id, text, metadata)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from docbatch.errors import ConfigError
from docbatch.export.files import run_started_at
from docbatch.export.lazy import passage_reader
from docbatch.service import BatchIngestService
from docbatch.store import DocumentStore, open_store
from docbatch.store.records import DEFAULT_BATCH_SIZE, PassageFilter

Target = BatchIngestService | DocumentStore | str | os.PathLike[str]
"""Where the passages are: a service, a store, or a store's path or URL."""


@dataclass(frozen=True)
class PassageQuery:
    """Which passages a loader gives (as ``BatchIngestService.passages`` takes them): a
    ``since`` run id needs a service (its state folder keeps the runs)."""

    source: str | None = None
    format: str | None = None
    path: str | None = None
    since: datetime | str | None = None
    batch_size: int = DEFAULT_BATCH_SIZE


def metadata(record: dict[str, Any]) -> dict[str, Any]:
    """A passage's metadata: every column but ``text``, times as ISO 8601 text, nulls left
    out (vector stores take plain values)."""
    return {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name, value in record.items()
        if name != "text" and value is not None
    }


def passage_records(target: Target, query: PassageQuery) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(passage_id, text, metadata) of each passage ``query`` selects, in the order
    (source, doc_id, seq), read ``query.batch_size`` at a time.

    Raises:
        ConfigError: an unknown run, a run id without a service, or a store that cannot
            give its passages out.
    """
    service: BatchIngestService | None = None
    if isinstance(target, BatchIngestService):
        service, store = target, target.backend
    else:
        store = open_store(target)
    try:
        since = query.since
        if isinstance(since, str):
            if service is None:
                raise ConfigError(
                    "since as a run id needs a BatchIngestService (its state folder keeps the runs)"
                )
            since = run_started_at(service.state_dir, since)
        where = PassageFilter(source=query.source, format=query.format, path=query.path, since=since)
        for batch in passage_reader(store).passage_batches(where, batch_size=query.batch_size):
            for record in batch.iter_rows(named=True):
                yield record["passage_id"], record["text"], metadata(record)
    finally:
        if service is None and store is not target:
            store.close()
