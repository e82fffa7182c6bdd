"""A store held in memory: the store protocol without a file or a server, for tests.

Its writes can be made to fail on purpose (``fail_write``, ``fail_delete``): the k-th
``write_slice`` (or ``delete_documents``) raises ``StoreBusyError`` (transient: the runner
retries it) or ``StoreError`` (terminal: the run stops), and changes nothing, as every
failed write of a store must.

Its search, simple and not stemmed, is ``docbatch.store.memory_search``.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Unpack

import polars as pl

from docbatch.errors import StoreBusyError, StoreError
from docbatch.frames import DOCUMENTS, KNOWN_DOCUMENTS, PASSAGES, conform
from docbatch.store import memory_records, memory_search
from docbatch.store.base import no_source, source_exists
from docbatch.store.query import MARKERS
from docbatch.store.records import DEFAULT_BATCH_SIZE, PassageFilter
from docbatch.store.search_filters import SearchFilterArgs

Failure = Literal["transient", "terminal"] | BaseException
"""What an injected failure raises: ``"transient"`` a ``StoreBusyError``, ``"terminal"`` a
``StoreError``, or the given exception itself."""

_DOCUMENT_REQUIRED = (
    "doc_id",
    "format",
    "size",
    "mtime_ns",
    "content_hash",
    "n_chars",
    "n_passages",
    "fingerprint",
)

_Passage = tuple[str, int, str, str, int, int, str, str, int | None, int | None, str | None]
"""doc_id, seq, passage_id, heading_path, start, end, text, anchor, line_start, line_end, title
(of its document when written)."""
_PASSAGE_REQUIRED = tuple(name for name in PASSAGES if name not in ("line_start", "line_end"))
"""Columns of ``PASSAGES`` that are never null (the source lines may be unknown)."""


@dataclass
class _Tables:
    """The contents, shared by every connection (``MemoryStore.connect``) to one store."""

    documents: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    passages: dict[tuple[str, str], dict[int, _Passage]] = field(default_factory=dict)
    sources: dict[str, tuple[str | None, datetime]] = field(default_factory=dict)
    removed: memory_records.Removed = field(default_factory=dict)
    version: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class _Rule:
    first: int
    last: int | None  # None: every call from ``first`` on
    failure: Failure


class MemoryStore:
    """Documents and passages in dictionaries, gone when the last connection is dropped.

    >>> store = MemoryStore("docs")
    >>> store.location, store.counts()
    ('memory://docs', {'documents': 0, 'passages': 0})

    Args:
        name: names the store in messages (``location`` is ``memory://name``).
        fail_writes: ``{k: failure}``: the k-th call of ``write_slice`` (from 1, every
            attempt counted) fails so (see ``Failure``).
        fail_deletes: the same for ``delete_documents``.
        busy_timeout_s: how long a write waits for another connection's write before it
            raises ``StoreBusyError``.
    """

    def __init__(
        self,
        name: str = "",
        *,
        fail_writes: Mapping[int, Failure] | None = None,
        fail_deletes: Mapping[int, Failure] | None = None,
        busy_timeout_s: float = 5.0,
        _tables: _Tables | None = None,
    ) -> None:
        self.location = f"memory://{name}"
        self.busy_timeout_s = busy_timeout_s
        self.write_calls = 0
        """Calls of ``write_slice`` so far, failed ones included."""
        self.delete_calls = 0
        """Calls of ``delete_documents`` so far, failed ones included."""
        self._tables = _tables if _tables is not None else _Tables()
        self._rules: dict[str, list[_Rule]] = {"write": [], "delete": []}
        self._closed = False
        for k, failure in (fail_writes or {}).items():
            self.fail_write(k, failure)
        for k, failure in (fail_deletes or {}).items():
            self.fail_delete(k, failure)

    # failure injection -----------------------------------------------------------------------
    def fail_write(self, k: int, failure: Failure = "transient", *, times: int | None = 1) -> None:
        """Make calls ``k`` .. ``k + times - 1`` of ``write_slice`` fail (``times=None``: every
        call from the k-th on). Calls are counted from 1 over the store's life."""
        self._rules["write"].append(_rule(k, failure, times))

    def fail_delete(self, k: int, failure: Failure = "transient", *, times: int | None = 1) -> None:
        """As ``fail_write``, for ``delete_documents``."""
        self._rules["delete"].append(_rule(k, failure, times))

    def clear_failures(self) -> None:
        """No more injected failures: every later write runs."""
        for rules in self._rules.values():
            rules.clear()

    def _injected(self, operation: str, call: int) -> None:
        for rule in self._rules[operation]:
            if rule.first <= call and (rule.last is None or call <= rule.last):
                failure = rule.failure
                if isinstance(failure, BaseException):
                    raise failure
                what = f"call {call} of {'write_slice' if operation == 'write' else 'delete_documents'}"
                if failure == "transient":
                    raise StoreBusyError(f"store {self.location} is locked (failure injected on {what})")
                raise StoreError(f"cannot use store {self.location} (failure injected on {what})")

    # connections -----------------------------------------------------------------------------
    def connect(self, **options: Any) -> MemoryStore:
        """Another connection to the same contents, with its own failures to inject."""
        name = self.location.removeprefix("memory://")
        return MemoryStore(name, _tables=self._tables, **options)

    @contextmanager
    def _writing(self) -> Iterator[_Tables]:
        self._check_open()
        tables = self._tables
        if not tables.lock.acquire(timeout=self.busy_timeout_s):
            raise StoreBusyError(f"store {self.location} is locked by another writer")
        try:
            yield tables
        finally:
            tables.lock.release()

    @property
    def write_lock(self) -> threading.Lock:
        """The lock each write takes (shared by the connections): while a test holds it,
        writers wait ``busy_timeout_s`` and then raise ``StoreBusyError``."""
        return self._tables.lock

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"cannot use store {self.location}: it is closed")

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MemoryStore({self.location!r})"

    # the store protocol ----------------------------------------------------------------------
    def known_documents(self, source: str) -> pl.DataFrame:
        self._check_open()
        rows = [
            {name: doc[name] for name in KNOWN_DOCUMENTS}
            for (s, _), doc in self._tables.documents.items()
            if s == source
        ]
        return pl.DataFrame(rows, schema=KNOWN_DOCUMENTS)

    def change_mark(self) -> int:
        """The number of changes committed so far, by any connection."""
        self._check_open()
        return self._tables.version

    def write_slice(
        self, source: str, documents: pl.DataFrame, passages: pl.DataFrame, touched: pl.DataFrame
    ) -> None:
        self.write_calls += 1
        self._injected("write", self.write_calls)
        now = datetime.now(UTC)
        with self._writing() as tables:
            new_docs: dict[tuple[str, str], dict[str, Any]] = {}
            new_passages: dict[tuple[str, str], dict[int, _Passage]] = {}
            for doc in documents.select(list(DOCUMENTS)).iter_rows(named=True):
                _required(self.location, "documents", doc, _DOCUMENT_REQUIRED)
                new_docs[(source, doc["doc_id"])] = {**doc, "ingested_at": now}
                new_passages[(source, doc["doc_id"])] = {}
            for row in conform(passages, PASSAGES, {"anchor": ""}).iter_rows(named=True):
                _required(self.location, "passages", row, _PASSAGE_REQUIRED)
                key = (source, row["doc_id"])
                if key not in new_passages:
                    new_passages[key] = dict(tables.passages.get(key, {}))
                seqs = new_passages[key]
                if row["seq"] in seqs:
                    raise StoreError(
                        f"cannot use store {self.location}: passage {row['seq']} of {row['doc_id']} "
                        "written twice"
                    )
                seqs[row["seq"]] = (
                    row["doc_id"],
                    row["seq"],
                    row["passage_id"],
                    row["heading_path"],
                    row["start"],
                    row["end"],
                    row["text"],
                    row["anchor"],
                    row["line_start"],
                    row["line_end"],
                    new_docs[key]["title"] if key in new_docs else None,
                )
            for doc_id, size, mtime_ns in touched.iter_rows():
                key = (source, doc_id)
                found = new_docs.get(key) or tables.documents.get(key)
                if found is not None:
                    new_docs[key] = {**found, "size": size, "mtime_ns": mtime_ns}
            # all checked: nothing above changed the tables, everything below cannot fail
            memory_records.record(tables.removed, tables.passages, source, [k[1] for k in new_docs], now)
            for key, seqs in new_passages.items():
                memory_records.forget(tables.removed, key[0], [stored[2] for stored in seqs.values()])
            tables.documents.update(new_docs)
            tables.passages.update(new_passages)
            tables.version += 1

    def delete_documents(self, source: str, doc_ids: list[str]) -> int:
        self.delete_calls += 1
        self._injected("delete", self.delete_calls)
        with self._writing() as tables:
            removed = 0
            memory_records.record(tables.removed, tables.passages, source, list(doc_ids), datetime.now(UTC))
            for doc_id in dict.fromkeys(doc_ids):
                tables.passages.pop((source, doc_id), None)
                removed += tables.documents.pop((source, doc_id), None) is not None
            tables.version += 1
            return removed

    def integrity(self, source: str) -> pl.DataFrame:
        """Passages without a document, and documents without the passages they were written
        with. (There is no index apart from the passages to go out of step with them.)"""
        self._check_open()
        return memory_records.problems(self._tables.documents, self._tables.passages, source)

    def repair_integrity(self, source: str) -> None:
        with self._writing() as tables:
            for key in [k for k in tables.passages if k[0] == source and k not in tables.documents]:
                del tables.passages[key]
            tables.version += 1

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
        self._check_open()
        tables = self._tables
        return memory_search.search(
            tables.documents,
            tables.passages,
            query,
            limit=limit,
            source=source,
            group_by_document=group_by_document,
            markers=markers,
            **filters,
        )

    def passages(self, source: str, doc_id: str) -> pl.DataFrame:
        self._check_open()
        seqs = self._tables.passages.get((source, doc_id), {})
        return pl.DataFrame([seqs[seq][:10] for seq in sorted(seqs)], schema=PASSAGES, orient="row")

    # reading passages out (PassageReader) ------------------------------------------------------
    def passage_batches(
        self,
        where: PassageFilter | None = None,
        *,
        columns: list[str] | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> Iterator[pl.DataFrame]:
        self._check_open()
        tables = self._tables
        yield from memory_records.passage_batches(
            tables.documents, tables.passages, where, columns, batch_size
        )

    def passage(self, passage_id: str, source: str | None = None) -> dict[str, Any] | None:
        self._check_open()
        return memory_records.passage(self._tables.documents, self._tables.passages, passage_id, source)

    def document(self, doc_id: str, source: str | None = None) -> dict[str, Any] | None:
        self._check_open()
        return memory_records.document(self._tables.documents, doc_id, source)

    def removed_passages(self, *, source: str | None = None, since: datetime | None = None) -> pl.DataFrame:
        self._check_open()
        return memory_records.removed_passages(self._tables.removed, source, since)

    def counts(self) -> dict[str, int]:
        self._check_open()
        passages = sum(len(seqs) for seqs in self._tables.passages.values())
        return {"documents": len(self._tables.documents), "passages": passages}

    # the sources (SourceRegistry) ------------------------------------------------------------
    def sources(self) -> pl.DataFrame:
        self._check_open()
        return memory_records.sources(self._tables.documents, self._tables.sources)

    def lookup_source(self, name: str) -> tuple[bool, str | None]:
        self._check_open()
        found = any(s == name for s, _ in self._tables.documents)
        recorded = self._tables.sources.get(name)
        return found, recorded[0] if recorded else None

    def record_source(self, name: str, root: str | None = None) -> None:
        with self._writing() as tables:
            kept = tables.sources.get(name, (None, None))[0]
            tables.sources[name] = (root if root is not None else kept, datetime.now(UTC))
            tables.version += 1

    def rename_source(self, old: str, new: str) -> int:
        with self._writing() as tables:
            if not self._has_source(old):
                raise no_source(old)
            if self._has_source(new):
                raise source_exists(new)
            tables.documents = {_renamed(k, old, new): v for k, v in tables.documents.items()}
            tables.passages = {_renamed(k, old, new): v for k, v in tables.passages.items()}
            tables.removed = {_renamed(k, old, new): v for k, v in tables.removed.items()}
            if old in tables.sources:
                tables.sources[new] = tables.sources.pop(old)
            tables.version += 1
            return sum(s == new for s, _ in tables.documents)

    def drop_source(self, name: str) -> int:
        with self._writing() as tables:
            if not self._has_source(name):
                raise no_source(name)
            before = len(tables.documents)
            dropped = [k[1] for k in tables.passages if k[0] == name]
            memory_records.record(tables.removed, tables.passages, name, dropped, datetime.now(UTC))
            tables.documents = {k: v for k, v in tables.documents.items() if k[0] != name}
            tables.passages = {k: v for k, v in tables.passages.items() if k[0] != name}
            tables.sources.pop(name, None)
            tables.version += 1
            return before - len(tables.documents)

    def _has_source(self, name: str) -> bool:
        tables = self._tables
        return name in tables.sources or any(
            s == name for s, _ in itertools.chain(tables.documents, tables.passages)
        )


def _rule(k: int, failure: Failure, times: int | None) -> _Rule:
    if k < 1 or (times is not None and times < 1):
        raise ValueError(f"calls are counted from 1 and fail at least once: k={k}, times={times}")
    return _Rule(k, None if times is None else k + times - 1, failure)


def _required(location: str, table: str, row: Mapping[str, Any], names: tuple[str, ...]) -> None:
    missing = [name for name in names if row[name] is None]
    if missing:
        raise StoreError(f"cannot use store {location}: {table} row without {', '.join(missing)}")


def _renamed(key: tuple[str, str], old: str, new: str) -> tuple[str, str]:
    return (new, key[1]) if key[0] == old else key
