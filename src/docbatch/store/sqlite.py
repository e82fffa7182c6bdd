"""The embedded default store: one SQLite file with an FTS5 full-text index."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, Unpack

import apsw
import polars as pl

from docbatch.errors import StoreBusyError, StoreError
from docbatch.frames import KNOWN_DOCUMENTS, PASSAGES, PROBLEMS, conform
from docbatch.store import sqlite_ranking, sqlite_records, sqlite_schema, sqlite_search
from docbatch.store.base import no_source, source_exists
from docbatch.store.query import MARKERS
from docbatch.store.records import DEFAULT_BATCH_SIZE, PassageFilter
from docbatch.store.search_filters import SearchFilterArgs, SearchFilters
from docbatch.store.sqlite_arrow import ArrowReads
from docbatch.store.sqlite_records import transaction
from docbatch.store.sqlite_schema import (
    DELETE_TRIGGER,
    FTS_INDEXES,
    compact,
    crisismerge_set,
    prepare_schema,
    record_passage_range,
    set_crisismerge,
)
from docbatch.store.tokens import codes

_T = TypeVar("_T")
ROWS_PER_READ = 8192
"""Rows of a long read (the known documents of a source) fetched at a time."""


def _reads(method: Callable[..., _T]) -> Callable[..., _T]:
    """A reading method whose SQLite errors (a damaged file above all) are ``StoreError``."""

    @functools.wraps(method)
    def read(self: SQLiteStore, *args: Any, **kwargs: Any) -> _T:
        try:
            return method(self, *args, **kwargs)
        except (sqlite3.Error, apsw.Error) as exc:
            raise _store_error(self.location, exc) from None

    return read


class SQLiteStore:
    """Documents, passages and an FTS5 index in one SQLite file (WAL mode).

    >>> import tempfile, os
    >>> store = SQLiteStore(os.path.join(tempfile.mkdtemp(), "docs.db"))
    >>> store.counts()
    {'documents': 0, 'passages': 0}
    """

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 5.0) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        self._arrow = ArrowReads(self.path)  # the long reads, opened on the first
        self._busy_timeout_s = busy_timeout_s
        self._searching: apsw.Connection | None = None  # opened on the first search
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # planning reads the store's documents from a thread of its own, while the
            # tree is walked (``run.plan_parts``): one thread at a time
            self._con = sqlite3.connect(
                self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
            )
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=NORMAL")
            # a log grown by a large commit is cut back once checkpointed
            self._con.execute(f"PRAGMA journal_size_limit={sqlite_schema.WAL_LIMIT_BYTES}")
            prepare_schema(self._con, self.location)
            self._crisismerge_set = crisismerge_set(self._con)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open store {self.location}: {exc}") from None
        except OSError as exc:
            raise StoreError(f"cannot open store {self.location}: {exc.strerror or exc}") from None

    def known_documents(self, source: str) -> pl.DataFrame:
        return self.known_documents_between(source, None, None)

    @_reads
    def known_documents_between(self, source: str, after: str | None, upto: str | None) -> pl.DataFrame:
        # the primary key (source, doc_id) orders the rows by the bytes of doc_id
        where = ["source = ?"]
        values = [source]
        if after is not None:
            where.append("doc_id > ?")
            values.append(after)
        if upto is not None:
            where.append("doc_id <= ?")
            values.append(upto)
        columns = "doc_id, size, mtime_ns, content_hash, fingerprint"
        sql = f"SELECT {columns} FROM documents WHERE {' AND '.join(where)} ORDER BY doc_id"
        read = self._arrow.frame(sql, {f"p{n}": [value] for n, value in enumerate(values)}, KNOWN_DOCUMENTS)
        if read is not None:
            return read
        cursor = self._con.execute(sql, values)
        # read in parts: a source's rows as Python tuples take ten times their frame
        parts = [pl.DataFrame(schema=KNOWN_DOCUMENTS)]
        while rows := cursor.fetchmany(ROWS_PER_READ):
            parts.append(pl.DataFrame(rows, schema=KNOWN_DOCUMENTS, orient="row"))
        return pl.concat(parts) if len(parts) > 2 else parts[-1]

    def change_mark(self) -> tuple[int, int]:
        """A value that differs from an earlier one when anything was committed to the store
        in between: by another connection (SQLite's ``data_version``) or through this one
        (rows changed so far)."""
        self._arrow.connect()
        try:
            (others,) = self._con.execute("PRAGMA data_version").fetchone()
        except sqlite3.Error as exc:
            raise _store_error(self.location, exc) from None
        return int(others), self._con.total_changes

    def write_slice(
        self, source: str, documents: pl.DataFrame, passages: pl.DataFrame, touched: pl.DataFrame
    ) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        titles = dict(zip(documents["doc_id"], documents["title"], strict=True))
        con = self._con
        try:
            with transaction(con):
                if not self._crisismerge_set:  # a store made before it
                    set_crisismerge(con)
                sqlite_records.record_removed(con, source, documents["doc_id"].to_list(), now)
                con.executemany(
                    "DELETE FROM passages WHERE source = ? AND doc_id = ?",
                    ((source, d) for d in documents["doc_id"]),
                )
                con.executemany(
                    "INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    ((source, *row[:-1], _git_date(row[-1]), now) for row in documents.iter_rows()),
                )
                # rows inserted now get ids above the current maximum; index them in one
                # statement (much cheaper than a per-row trigger)
                (last_id,) = con.execute("SELECT coalesce(max(id), 0) FROM passages").fetchone()
                con.executemany(
                    "INSERT INTO passages (source, doc_id, seq, passage_id, title, heading_path, "
                    'start, "end", text, codes, anchor, line_start, line_end) '
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        (
                            source,
                            d,
                            seq,
                            pid,
                            titles.get(d),
                            heading,
                            start,
                            end,
                            text,
                            codes(titles.get(d), heading, text),
                            *place,
                        )
                        for d, seq, pid, heading, start, end, text, *place in conform(
                            passages, PASSAGES, {"anchor": ""}
                        ).iter_rows()
                    ),
                )
                for index in FTS_INDEXES:
                    con.execute(
                        f"INSERT INTO {index} (rowid, title, heading_path, text, codes) "
                        "SELECT id, title, heading_path, text, codes FROM passages WHERE id > ?",
                        (last_id,),
                    )
                (new_last,) = con.execute("SELECT coalesce(max(id), 0) FROM passages").fetchone()
                if new_last > last_id:
                    record_passage_range(con, source, last_id + 1, new_last)
                sqlite_records.forget_written_again(con, source, last_id)
                con.executemany(
                    "UPDATE documents SET size = ?, mtime_ns = ? WHERE source = ? AND doc_id = ?",
                    ((size, mtime, source, d) for d, size, mtime in touched.iter_rows()),
                )
            self._crisismerge_set = True
        except sqlite3.Error as exc:
            raise _store_error(self.location, exc) from None

    def delete_documents(self, source: str, doc_ids: list[str]) -> int:
        con = self._con
        try:
            with transaction(con):
                now = datetime.now(UTC).isoformat(timespec="seconds")
                sqlite_records.record_removed(con, source, list(doc_ids), now)
                con.executemany(
                    "DELETE FROM passages WHERE source = ? AND doc_id = ?", ((source, d) for d in doc_ids)
                )
                before = con.total_changes
                con.executemany(
                    "DELETE FROM documents WHERE source = ? AND doc_id = ?", ((source, d) for d in doc_ids)
                )
                return con.total_changes - before
        except sqlite3.Error as exc:
            raise _store_error(self.location, exc) from None

    @_reads
    def integrity(self, source: str) -> pl.DataFrame:
        con = self._con
        rows: list[tuple[str | None, str, str]] = []
        for doc_id, n in con.execute(
            "SELECT p.doc_id, count(*) FROM passages p LEFT JOIN documents d "
            "ON d.source = p.source AND d.doc_id = p.doc_id "
            "WHERE p.source = ? AND d.doc_id IS NULL GROUP BY p.doc_id",
            (source,),
        ):
            rows.append((doc_id, "orphaned_passages", f"{n} passages without a document"))
        for doc_id, expected, actual in con.execute(
            "SELECT d.doc_id, d.n_passages, count(p.id) FROM documents d LEFT JOIN passages p "
            "ON p.source = d.source AND p.doc_id = d.doc_id WHERE d.source = ? "
            "GROUP BY d.doc_id HAVING count(p.id) != d.n_passages",
            (source,),
        ):
            rows.append((doc_id, "passage_count", f"{actual} passages stored, {expected} written"))
        for index in FTS_INDEXES:
            try:
                con.execute(f"INSERT INTO {index}({index}, rank) VALUES ('integrity-check', 1)")
            except sqlite3.DatabaseError as exc:
                rows.append((None, "index", f"full-text index {index} out of step with the passages: {exc}"))
        return pl.DataFrame(rows, schema=PROBLEMS, orient="row")

    def repair_integrity(self, source: str) -> None:
        con = self._con
        try:
            with transaction(con):
                # the index may not hold what the rows say, so remove them without the
                # trigger that unindexes them, then rebuild the index from the rows
                con.execute("DROP TRIGGER passages_ad")
                con.execute(
                    "DELETE FROM passages WHERE source = ? AND NOT EXISTS (SELECT 1 FROM documents d "
                    "WHERE d.source = passages.source AND d.doc_id = passages.doc_id)",
                    (source,),
                )
                con.execute(DELETE_TRIGGER)
                for index in FTS_INDEXES:
                    con.execute(f"INSERT INTO {index}({index}) VALUES ('rebuild')")
        except sqlite3.Error as exc:
            raise _store_error(self.location, exc) from None

    def compact_index(self, written_passages: int) -> None:
        """Merge the full-text indexes' parts after a run wrote ``written_passages`` passages
        (``sqlite_schema.compact``, in steps of their own transactions, so that the
        write-ahead log holds one step): a store left busy by another writer, or whose log
        a reader keeps from being checkpointed, is merged later."""
        try:
            compact(self._con, written_passages)
        except sqlite3.Error as exc:
            error = _store_error(self.location, exc)
            if not isinstance(error, StoreBusyError):
                raise error from None

    @_reads
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
        """Ranked hits: passages holding every word (stemmed; an exact match and the code-like
        words of ``docbatch.store.tokens`` rank higher), then, when they are fewer than
        ``limit``, passages holding some of the words. With ``group_by_document`` each
        document appears once, with its best passage; ``markers`` surround the matches in the
        snippet; ``filters`` (``SearchFilters``) apply while ranking."""
        where = SearchFilters.of(**filters)
        if self._searching is None:
            self._searching = sqlite_ranking.connect(self.location, self._busy_timeout_s)
        return sqlite_search.search(
            self._searching,
            query,
            limit=limit,
            source=source,
            group_by_document=group_by_document,
            markers=markers,
            where=where,
        )

    @_reads
    def passages(self, source: str, doc_id: str) -> pl.DataFrame:
        rows = self._con.execute(
            'SELECT doc_id, seq, passage_id, heading_path, start, "end", text, anchor, line_start, line_end '
            "FROM passages WHERE source = ? AND doc_id = ? ORDER BY seq",
            (source, doc_id),
        ).fetchall()
        return pl.DataFrame(rows, schema=PASSAGES, orient="row")

    # reading passages out (PassageReader) --------------------------------------------------
    def passage_batches(
        self,
        where: PassageFilter | None = None,
        *,
        columns: list[str] | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> Iterator[pl.DataFrame]:
        """The batches are read on a connection of their own, as one snapshot of the store."""
        batches = sqlite_records.passage_batches(self.path, where, columns, batch_size)
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except sqlite3.Error as exc:
                raise _store_error(self.location, exc) from None
            yield batch

    @_reads
    def passage(self, passage_id: str, source: str | None = None) -> dict[str, Any] | None:
        return sqlite_records.passage(self._con, passage_id, source)

    @_reads
    def document(self, doc_id: str, source: str | None = None) -> dict[str, Any] | None:
        return sqlite_records.document(self._con, doc_id, source)

    @_reads
    def removed_passages(self, *, source: str | None = None, since: datetime | None = None) -> pl.DataFrame:
        return sqlite_records.removed_passages(self._con, source, since)

    def sources(self) -> pl.DataFrame:
        try:
            return sqlite_records.sources(self._con)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read store {self.location}: {exc}") from None

    def lookup_source(self, name: str) -> tuple[bool, str | None]:
        try:
            found, root = self._con.execute(
                "SELECT EXISTS (SELECT 1 FROM documents WHERE source = ?), "
                "(SELECT root FROM sources WHERE name = ?)",
                (name, name),
            ).fetchone()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read store {self.location}: {exc}") from None
        return bool(found), root

    def record_source(self, name: str, root: str | None = None) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            with transaction(self._con):
                self._con.execute(
                    "INSERT INTO sources (name, root, last_ingest) VALUES (?, ?, ?) ON CONFLICT (name) "
                    "DO UPDATE SET root = coalesce(excluded.root, sources.root), "
                    "last_ingest = excluded.last_ingest",
                    (name, root, now),
                )
        except sqlite3.Error as exc:
            raise _store_error(self.location, exc) from None

    def rename_source(self, old: str, new: str) -> int:
        con = self._con
        try:
            with transaction(con):
                if not self._has_source(old):
                    raise no_source(old)
                if self._has_source(new):
                    raise source_exists(new)
                # the full-text index holds no source: the passages keep their row ids
                con.execute("UPDATE passages SET source = ? WHERE source = ?", (new, old))
                con.execute("UPDATE removed_passages SET source = ? WHERE source = ?", (new, old))
                con.execute("DELETE FROM passage_ranges WHERE source = ?", (new,))
                con.execute("UPDATE passage_ranges SET source = ? WHERE source = ?", (new, old))
                moved = con.execute("UPDATE documents SET source = ? WHERE source = ?", (new, old)).rowcount
                con.execute("UPDATE sources SET name = ? WHERE name = ?", (new, old))
                return int(moved)
        except sqlite3.Error as exc:
            raise _store_error(self.location, exc) from None

    def drop_source(self, name: str) -> int:
        con = self._con
        try:
            with transaction(con):
                if not self._has_source(name):
                    raise no_source(name)
                now = datetime.now(UTC).isoformat(timespec="seconds")
                held = con.execute("SELECT DISTINCT doc_id FROM passages WHERE source = ?", (name,))
                doc_ids = [d for (d,) in held]
                sqlite_records.record_removed(con, name, doc_ids, now)
                con.execute("DELETE FROM passages WHERE source = ?", (name,))
                removed = con.execute("DELETE FROM documents WHERE source = ?", (name,)).rowcount
                con.execute("DELETE FROM sources WHERE name = ?", (name,))
                con.execute("DELETE FROM passage_ranges WHERE source = ?", (name,))
                return int(removed)
        except sqlite3.Error as exc:
            raise _store_error(self.location, exc) from None

    def _has_source(self, name: str) -> bool:
        return bool(
            self._con.execute(
                "SELECT EXISTS (SELECT 1 FROM sources WHERE name = ?) "
                "OR EXISTS (SELECT 1 FROM documents WHERE source = ?) "
                "OR EXISTS (SELECT 1 FROM passages WHERE source = ?)",
                (name, name, name),
            ).fetchone()[0]
        )

    @_reads
    def counts(self) -> dict[str, int]:
        (docs,) = self._con.execute("SELECT count(*) FROM documents").fetchone()
        (passages,) = self._con.execute("SELECT count(*) FROM passages").fetchone()
        return {"documents": docs, "passages": passages}

    def close(self) -> None:
        self._arrow.close()
        if self._searching is not None:
            self._searching.close()
        self._con.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SQLiteStore({self.location!r})"


def _git_date(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%S%z") if value is not None else None


_DAMAGE = ("malformed", "not a database", "disk i/o error", "corrupt")


def _store_error(location: str, exc: sqlite3.Error | apsw.Error) -> StoreError:
    if isinstance(exc, apsw.BusyError | apsw.LockedError) or (
        isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))
    ):
        return StoreBusyError(f"store {location} is locked: {exc}")
    if any(word in str(exc).lower() for word in _DAMAGE):
        return StoreError(
            f"the store {location} is damaged ({exc}): its documents all come from your files, so "
            f"move it away and ingest again to rebuild it (ingest-docs-batch DIR --db {location})"
        )
    return StoreError(f"cannot use store {location}: {exc}")
