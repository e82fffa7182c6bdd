"""Reading a ``MemoryStore``'s passages back out (``docbatch.store.base.PassageReader``),
the passage ids its writes removed, its sources and its integrity problems."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import polars as pl

from docbatch.frames import PASSAGES, PROBLEMS
from docbatch.store.base import SOURCES
from docbatch.store.records import (
    DOCUMENT_RECORD,
    PASSAGE_RECORDS,
    REMOVED_PASSAGES,
    PassageFilter,
    check_batch_size,
    check_columns,
    utc,
)

Documents = Mapping[tuple[str, str], dict[str, Any]]
Passages = Mapping[tuple[str, str], Mapping[int, tuple[Any, ...]]]
Removed = dict[tuple[str, str], tuple[str, datetime]]
"""(source, passage_id) -> (doc_id, removed_at)."""

_PASSAGE_FIELDS: tuple[str, ...] = tuple(PASSAGES)
"""The fields of a stored passage tuple, in order (its document's title follows)."""


def record(removed: Removed, passages: Passages, source: str, doc_ids: list[str], now: datetime) -> None:
    """The passages of these documents are about to go: keep their ids as removed."""
    for doc_id in doc_ids:
        for stored in passages.get((source, doc_id), {}).values():
            removed[(source, stored[2])] = (doc_id, now)


def forget(removed: Removed, source: str, passage_ids: list[str]) -> None:
    """These passage ids were written (again): they are not removed."""
    for passage_id in passage_ids:
        removed.pop((source, passage_id), None)


def _record(key: tuple[str, str], seq: int, stored: tuple[Any, ...], doc: dict[str, Any]) -> dict[str, Any]:
    found = dict(zip(_PASSAGE_FIELDS, stored, strict=False))
    return {
        name: key[0] if name == "source" else found[name] if name in found else doc.get(name)
        for name in PASSAGE_RECORDS
    }


def passage_batches(
    documents: Documents,
    passages: Passages,
    where: PassageFilter | None,
    columns: list[str] | None,
    batch_size: int,
) -> Iterator[pl.DataFrame]:
    """The rows of ``PassageReader.passage_batches`` (the keys read first, the rows of each
    batch built from them)."""
    names = check_columns(columns)
    batch_size = check_batch_size(batch_size)
    where = where or PassageFilter()
    keys = sorted(
        (key, seq)
        for key, seqs in list(passages.items())
        if key in documents and where.matches({"source": key[0], **documents[key]})
        for seq in list(seqs)
    )
    for first in range(0, len(keys), batch_size):
        rows = []
        for key, seq in keys[first : first + batch_size]:
            stored = passages.get(key, {}).get(seq)
            if stored is not None and key in documents:
                rows.append(_record(key, seq, stored, documents[key]))
        yield pl.DataFrame(rows, schema=PASSAGE_RECORDS).select(names)


def passage(
    documents: Documents, passages: Passages, passage_id: str, source: str | None
) -> dict[str, Any] | None:
    for key in sorted(passages):
        if key in documents and (source is None or key[0] == source):
            seqs = passages[key]
            for seq in sorted(seqs):
                if seqs[seq][2] == passage_id:
                    row: dict[str, Any] = _record(key, seq, seqs[seq], documents[key])
                    return pl.DataFrame([row], schema=PASSAGE_RECORDS).row(0, named=True)
    return None


def document(documents: Documents, doc_id: str, source: str | None) -> dict[str, Any] | None:
    for key in sorted(documents):
        if key[1] == doc_id and (source is None or key[0] == source):
            row = {**documents[key], "source": key[0]}
            return pl.DataFrame([row], schema=DOCUMENT_RECORD).row(0, named=True)
    return None


def removed_passages(removed: Removed, source: str | None, since: datetime | None) -> pl.DataFrame:
    floor = utc(since).replace(microsecond=0) if since is not None else None
    rows = [
        (passage_id, s, doc_id, when)
        for (s, passage_id), (doc_id, when) in sorted(removed.items())
        if (source is None or s == source) and (floor is None or when >= floor)
    ]
    return pl.DataFrame(rows, schema=REMOVED_PASSAGES, orient="row")


def sources(documents: Documents, recorded: Mapping[str, tuple[str | None, datetime]]) -> pl.DataFrame:
    """``SOURCES`` rows: every source recorded (name -> root, last ingest) or holding documents."""
    held: dict[str, list[datetime]] = {}
    for (s, _), doc in documents.items():
        held.setdefault(s, []).append(doc["ingested_at"])
    rows = []
    for name in sorted(held.keys() | recorded.keys()):
        root, last = recorded.get(name, (None, None))
        times = held.get(name, [])
        rows.append((name, root, len(times), last or max(times)))
    return pl.DataFrame(rows, schema=SOURCES, orient="row")


def problems(documents: Documents, passages: Passages, source: str) -> pl.DataFrame:
    """``PROBLEMS`` of ``source``: passages without a document, and documents without the
    passages they were written with."""
    rows: list[tuple[str | None, str, str]] = []
    for (s, doc_id), seqs in sorted(passages.items()):
        if s == source and seqs and (s, doc_id) not in documents:
            rows.append((doc_id, "orphaned_passages", f"{len(seqs)} passages without a document"))
    for (s, doc_id), doc in sorted(documents.items()):
        stored = len(passages.get((s, doc_id), {}))
        if s == source and stored != doc["n_passages"]:
            rows.append((doc_id, "passage_count", f"{stored} passages stored, {doc['n_passages']} written"))
    return pl.DataFrame(rows, schema=PROBLEMS, orient="row")
