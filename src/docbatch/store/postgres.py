"""A PostgreSQL store: documents and passages tables, a generated ``tsvector`` with a
GIN index for search, and COPY for bulk writes (psycopg 3, extra ``docbatch[postgres]``).

Several drivers may write to one database at once, each with its own source; writers
of the same source take turns (a per-source advisory lock inside each transaction), and a
run holds its source for its whole length (``writer_lock``: a session advisory lock).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Unpack

import polars as pl
import psycopg

from docbatch.errors import ConfigError, QueryError, StoreBusyError, StoreError
from docbatch.frames import DOCUMENTS, KNOWN_DOCUMENTS, PASSAGES, SEARCH_HITS, conform
from docbatch.store import mask_password, mask_secrets, postgres_records, postgres_search
from docbatch.store.base import WriterLocker, no_source, source_exists
from docbatch.store.postgres_lock import LOCK_CLASS, RunLock, take_run_lock
from docbatch.store.postgres_schema import prepare_schema
from docbatch.store.query import MARKERS
from docbatch.store.records import DEFAULT_BATCH_SIZE, PassageFilter
from docbatch.store.search_filters import SearchFilterArgs

BUSY_SQLSTATES = frozenset({"55P03", "40P01", "40001"})
"""lock_not_available, deadlock_detected, serialization_failure: worth retrying."""
_HAS_SOURCE = """
SELECT EXISTS (SELECT 1 FROM docbatch_sources WHERE name = %(name)s)
    OR EXISTS (SELECT 1 FROM documents WHERE source = %(name)s)
    OR EXISTS (SELECT 1 FROM passages WHERE source = %(name)s)
"""
_COPY_DOCUMENTS = f"COPY documents (source, {', '.join(DOCUMENTS)}) FROM STDIN"
_COPY_PASSAGES = (
    'COPY passages (source, doc_id, seq, passage_id, title, heading_path, start, "end", text, anchor, '
    "line_start, line_end) FROM STDIN"
)
_TOUCH = """
UPDATE documents AS d SET size = t.size, mtime_ns = t.mtime_ns
FROM unnest(%s::text[], %s::bigint[], %s::bigint[]) AS t(doc_id, size, mtime_ns)
WHERE d.source = %s AND d.doc_id = t.doc_id
"""


class PostgresStore:
    """Documents, passages and a full-text index in a PostgreSQL database.

    Args:
        url: a libpq URL, ``postgresql://user:password@host:port/dbname``.
        busy_timeout_s: how long a write waits for a lock held by another writer
            before it fails with ``StoreBusyError`` (which the runner retries).
        connect_timeout_s: how long to wait for the server to answer.

    Raises:
        ConfigError: ``url`` is not a URL libpq can read (e.g. an unclosed ``[``).
        StoreError: the server cannot be reached, the login fails, or the database
            holds a docbatch schema of another version.
    """

    def __init__(self, url: str, *, busy_timeout_s: float = 5.0, connect_timeout_s: float = 10.0) -> None:
        self._url = url
        self.location = mask_password(url)
        try:
            psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.Error as exc:
            raise ConfigError(f"not a usable PostgreSQL URL {self.location}: {self._message(exc)}") from None
        self._busy_timeout_ms = max(1, int(busy_timeout_s * 1000))
        self._connect_timeout_s = max(1, int(connect_timeout_s))
        self._conn: psycopg.Connection[Any] | None = None
        self._connection()

    # connection ----------------------------------------------------------------------------
    def _connection(self) -> psycopg.Connection[Any]:
        """The open connection, opened again if it was lost."""
        if self._conn is not None and not self._conn.closed and not self._conn.broken:
            return self._conn
        try:
            conn = psycopg.connect(self._url, autocommit=True, connect_timeout=self._connect_timeout_s)
        except psycopg.Error as exc:
            raise StoreError(f"cannot open store {self.location}: {self._message(exc)}") from None
        try:
            conn.execute("SELECT set_config('lock_timeout', %s, false)", (f"{self._busy_timeout_ms}ms",))
            prepare_schema(conn, self.location)
        except psycopg.Error as exc:
            conn.close()
            raise StoreError(f"cannot open store {self.location}: {self._message(exc)}") from None
        except StoreError:
            conn.close()
            raise
        self._conn = conn
        return conn

    def _message(self, exc: BaseException) -> str:
        """One line of ``exc``'s message, never showing the password."""
        return mask_secrets(" ".join(str(exc).split()) or type(exc).__name__, self._url)

    def _store_error(self, action: str, exc: psycopg.Error) -> StoreError:
        if exc.sqlstate in BUSY_SQLSTATES:
            return StoreBusyError(f"store {self.location} is locked: {self._message(exc)}")
        if isinstance(exc, psycopg.OperationalError) or (exc.sqlstate or "").startswith("08"):
            return StoreError(f"lost the connection to store {self.location}: {self._message(exc)}")
        return StoreError(f"cannot {action} store {self.location}: {self._message(exc)}")

    def _fetch(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._connection().execute(query, params).fetchall()
        except psycopg.Error as exc:
            raise self._store_error("read", exc) from None

    # protocol ------------------------------------------------------------------------------
    def known_documents(self, source: str) -> pl.DataFrame:
        rows = self._fetch(f"SELECT {', '.join(KNOWN_DOCUMENTS)} FROM documents WHERE source = %s", (source,))
        return pl.DataFrame(rows, schema=KNOWN_DOCUMENTS, orient="row")

    def write_slice(
        self, source: str, documents: pl.DataFrame, passages: pl.DataFrame, touched: pl.DataFrame
    ) -> None:
        documents = _without_nul(documents.unique("doc_id", keep="last", maintain_order=True), "title")
        passages = _without_nul(conform(passages, PASSAGES, {"anchor": ""}), "heading_path", "text", "anchor")
        doc_ids = documents["doc_id"].to_list()
        titles = dict(zip(doc_ids, documents["title"], strict=True))
        try:
            conn = self._connection()
            with conn.transaction(), conn.cursor() as cur:
                _lock_source(cur, source)
                if doc_ids:
                    _delete(cur, source, doc_ids)
                    with cur.copy(_COPY_DOCUMENTS) as copy:
                        for row in documents.iter_rows():
                            copy.write_row((source, *row))
                if passages.height:
                    postgres_records.forget_written_again(cur, source, passages["passage_id"].to_list())
                    with cur.copy(_COPY_PASSAGES) as copy:
                        for doc_id, seq, pid, heading, start, end, text, *place in passages.iter_rows():
                            title = titles.get(doc_id)
                            copy.write_row(
                                (source, doc_id, seq, pid, title, heading, start, end, text, *place)
                            )
                if touched.height:
                    cur.execute(
                        _TOUCH,
                        (
                            touched["doc_id"].to_list(),
                            touched["size"].to_list(),
                            touched["mtime_ns"].to_list(),
                            source,
                        ),
                    )
        except psycopg.Error as exc:
            raise self._store_error("write to", exc) from None

    def delete_documents(self, source: str, doc_ids: list[str]) -> int:
        try:
            conn = self._connection()
            with conn.transaction(), conn.cursor() as cur:
                _lock_source(cur, source)
                removed = _delete(cur, source, list(doc_ids))
        except psycopg.Error as exc:
            raise self._store_error("write to", exc) from None
        return int(removed)

    def integrity(self, source: str) -> pl.DataFrame:
        """Orphaned passages and passage counts that differ from what was written. The search
        index cannot fall out of step: it is a generated column, kept by PostgreSQL."""
        return postgres_records.problems(self._fetch, source)

    def repair_integrity(self, source: str) -> None:
        """Remove the passages of ``source`` that have no document (one transaction)."""
        try:
            conn = self._connection()
            with conn.transaction(), conn.cursor() as cur:
                _lock_source(cur, source)
                cur.execute(
                    "DELETE FROM passages AS p WHERE p.source = %s AND NOT EXISTS (SELECT 1 FROM documents d "
                    "WHERE d.source = p.source AND d.doc_id = p.doc_id)",
                    (source,),
                )
        except psycopg.Error as exc:
            raise self._store_error("repair", exc) from None

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
        """Ranked hits (``ts_rank`` of English stems, an exact match and a title naming the
        query ranking higher), with ``markers`` around the matches in the snippet.

        The query language is the one of every docbatch store (see ``plan_search``): words
        (all must match; then, when fewer than ``limit`` do, passages holding some of them),
        ``"phrases"``, ``OR``, ``NOT`` and ``prefix*``; each word or phrase is parsed by
        ``websearch_to_tsquery``, so any text is safe. With ``group_by_document`` each
        document appears once, with its best passage.
        """
        try:
            hits = postgres_search.search(
                self._connection,
                query,
                limit=limit,
                source=source,
                group_by_document=group_by_document,
                markers=markers,
                **filters,
            )
        except psycopg.Error as exc:
            if isinstance(exc, psycopg.OperationalError) or (exc.sqlstate or "").startswith("08"):
                raise self._store_error("read", exc) from None
            raise QueryError(f"invalid search query {query!r}: {self._message(exc)}") from None
        return pl.DataFrame(hits, schema=SEARCH_HITS, orient="row")

    def passages(self, source: str, doc_id: str) -> pl.DataFrame:
        return postgres_records.passages(self._fetch, source, doc_id)

    # reading passages out (PassageReader) --------------------------------------------------
    def passage_batches(
        self,
        where: PassageFilter | None = None,
        *,
        columns: list[str] | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> Iterator[pl.DataFrame]:
        """The batches are read on a connection of their own, as one snapshot of the store."""
        batches = postgres_records.passage_batches(
            lambda: psycopg.connect(self._url, connect_timeout=self._connect_timeout_s),
            where,
            columns,
            batch_size,
        )
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except psycopg.Error as exc:
                raise self._store_error("read", exc) from None
            yield batch

    def passage(self, passage_id: str, source: str | None = None) -> dict[str, Any] | None:
        return postgres_records.passage(self._fetch, passage_id, source)

    def document(self, doc_id: str, source: str | None = None) -> dict[str, Any] | None:
        return postgres_records.document(self._fetch, doc_id, source)

    def removed_passages(self, *, source: str | None = None, since: datetime | None = None) -> pl.DataFrame:
        return postgres_records.removed_passages(self._fetch, source, since)

    def sources(self) -> pl.DataFrame:
        return postgres_records.sources(self._fetch)

    def lookup_source(self, name: str) -> tuple[bool, str | None]:
        return postgres_records.lookup_source(self._fetch, name)

    def record_source(self, name: str, root: str | None = None) -> None:
        try:
            self._connection().execute(
                "INSERT INTO docbatch_sources (name, root, last_ingest) VALUES (%s, %s, now()) "
                "ON CONFLICT (name) DO UPDATE SET root = coalesce(EXCLUDED.root, docbatch_sources.root), "
                "last_ingest = EXCLUDED.last_ingest",
                (name, root),
            )
        except psycopg.Error as exc:
            raise self._store_error("write to", exc) from None

    def rename_source(self, old: str, new: str) -> int:
        try:
            conn = self._connection()
            with conn.transaction(), conn.cursor() as cur:
                for name in sorted((old, new)):  # in one order, so two renames cannot deadlock
                    _lock_source(cur, name)
                if not _has_source(cur, old):
                    raise no_source(old)
                if _has_source(cur, new):
                    raise source_exists(new)
                cur.execute("UPDATE passages SET source = %s WHERE source = %s", (new, old))
                cur.execute("UPDATE docbatch_removed_passages SET source = %s WHERE source = %s", (new, old))
                cur.execute("UPDATE documents SET source = %s WHERE source = %s", (new, old))
                moved = cur.rowcount
                cur.execute("UPDATE docbatch_sources SET name = %s WHERE name = %s", (new, old))
        except psycopg.Error as exc:
            raise self._store_error("write to", exc) from None
        return int(moved)

    def drop_source(self, name: str) -> int:
        try:
            conn = self._connection()
            with conn.transaction(), conn.cursor() as cur:
                _lock_source(cur, name)
                if not _has_source(cur, name):
                    raise no_source(name)
                cur.execute("SELECT DISTINCT doc_id FROM passages WHERE source = %s", (name,))
                postgres_records.record_removed(cur, name, [d for (d,) in cur.fetchall()])
                cur.execute("DELETE FROM passages WHERE source = %s", (name,))
                cur.execute("DELETE FROM documents WHERE source = %s", (name,))
                removed = cur.rowcount
                cur.execute("DELETE FROM docbatch_sources WHERE name = %s", (name,))
        except psycopg.Error as exc:
            raise self._store_error("write to", exc) from None
        return int(removed)

    def counts(self) -> dict[str, int]:
        ((docs, passages),) = self._fetch(
            "SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM passages)"
        )
        return {"documents": int(docs), "passages": int(passages)}

    @contextmanager
    def writer_lock(self, source: str) -> Iterator[RunLock]:
        """Hold ``source`` for one run: a session advisory lock keyed by the schema and the
        source, on a connection of its own, so that a second run of the source is refused
        whatever its state folder, and PostgreSQL frees the lock when the holder's session
        ends however the holder died. The holder is recorded in ``docbatch_writers``.

        Raises:
            StoreLockedError: another run holds ``source``; the message names it.
            StoreError: the server cannot be reached.
        """
        try:
            conn = psycopg.connect(
                self._url,
                autocommit=True,
                connect_timeout=self._connect_timeout_s,
                application_name=f"docbatch writer {source}"[:63],
            )
        except psycopg.Error as exc:
            raise StoreError(f"cannot open store {self.location}: {self._message(exc)}") from None
        try:
            try:
                held = take_run_lock(conn, self.location, source)
            except psycopg.Error as exc:
                raise self._store_error("lock", exc) from None
            try:
                yield held
            finally:
                held.release()
        finally:
            conn.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PostgresStore({self.location!r})"


def _lock_source(cur: psycopg.Cursor[Any], source: str) -> None:
    """Writers of one source take turns (until the end of the transaction)."""
    cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LOCK_CLASS, source))


def _has_source(cur: psycopg.Cursor[Any], name: str) -> bool:
    (found,) = cur.execute(_HAS_SOURCE, {"name": name}).fetchone() or (False,)
    return bool(found)


def _delete(cur: psycopg.Cursor[Any], source: str, doc_ids: list[str]) -> int:
    """Remove documents and their passages (their ids kept as removed); returns how many
    documents there were."""
    postgres_records.record_removed(cur, source, doc_ids)
    cur.execute("DELETE FROM passages WHERE source = %s AND doc_id = ANY(%s)", (source, doc_ids))
    cur.execute("DELETE FROM documents WHERE source = %s AND doc_id = ANY(%s)", (source, doc_ids))
    return int(cur.rowcount)


def _without_nul(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """PostgreSQL text cannot hold NUL characters: they become U+FFFD."""
    return frame.with_columns(pl.col(*columns).str.replace_all("\x00", "\ufffd", literal=True))


if TYPE_CHECKING:  # the store has the optional hook of its protocol, as declared there
    _WRITER_LOCKER: type[WriterLocker] = PostgresStore
