"""Reading a PostgreSQL store's passages back out (``docbatch.store.base.PassageReader``),
the ``docbatch_removed_passages`` table that keeps the passage ids its writes removed, and
the reads of its sources and of its integrity problems."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import polars as pl
import psycopg

from docbatch.frames import PASSAGES, PROBLEMS
from docbatch.store.base import SOURCES
from docbatch.store.records import (
    DOCUMENT_RECORD,
    KEY,
    PASSAGE_RECORDS,
    REMOVED_PASSAGES,
    SQL_COLUMNS,
    SQL_FROM,
    PassageFilter,
    check_batch_size,
    check_columns,
    glob_regex,
    utc,
)

REMOVED_TABLE = """
CREATE TABLE IF NOT EXISTS docbatch_removed_passages (
    source text NOT NULL,
    passage_id text NOT NULL,
    doc_id text NOT NULL,
    removed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, passage_id)
);
CREATE INDEX IF NOT EXISTS passages_passage_id ON passages (passage_id)
"""
"""The passage ids removed from the store (by source), and the index that finds a passage
by its id."""
_RECORD_REMOVED = """
INSERT INTO docbatch_removed_passages (source, passage_id, doc_id, removed_at)
SELECT source, passage_id, doc_id, now() FROM passages WHERE source = %s AND doc_id = ANY(%s)
ON CONFLICT (source, passage_id) DO UPDATE SET doc_id = EXCLUDED.doc_id, removed_at = EXCLUDED.removed_at
"""
_WRITTEN_AGAIN = "DELETE FROM docbatch_removed_passages WHERE source = %s AND passage_id = ANY(%s)"
_SOURCES = """
SELECT n.name, s.root, coalesce(d.n, 0), coalesce(s.last_ingest, d.last)
FROM (SELECT name FROM docbatch_sources UNION SELECT DISTINCT source FROM documents) AS n
LEFT JOIN docbatch_sources AS s ON s.name = n.name
LEFT JOIN (
    SELECT source, count(*) AS n, max(ingested_at) AS last FROM documents GROUP BY source
) AS d ON d.source = n.name
ORDER BY n.name
"""
_ORPHANS = """
SELECT p.doc_id, count(*) FROM passages AS p
LEFT JOIN documents AS d ON d.source = p.source AND d.doc_id = p.doc_id
WHERE p.source = %s AND d.doc_id IS NULL GROUP BY p.doc_id ORDER BY p.doc_id
"""
_MISCOUNTED = """
SELECT d.doc_id, d.n_passages, count(p.id) FROM documents AS d
LEFT JOIN passages AS p ON p.source = d.source AND p.doc_id = d.doc_id
WHERE d.source = %s GROUP BY d.doc_id, d.n_passages HAVING count(p.id) <> d.n_passages ORDER BY d.doc_id
"""

Fetch = Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]]
"""The store's read: a statement and its parameters -> the rows (errors as ``StoreError``)."""


def add_removed_passages(conn: psycopg.Connection[Any]) -> None:
    """From version 2 (and in a new store): ``docbatch_removed_passages``, empty (passages
    removed before it are not known), and the index of passage ids."""
    for statement in REMOVED_TABLE.split(";"):
        if statement.strip():
            conn.execute(statement)


def record_removed(cur: psycopg.Cursor[Any], source: str, doc_ids: list[str]) -> None:
    """Before the passages of these documents are deleted: keep their ids as removed."""
    cur.execute(_RECORD_REMOVED, (source, doc_ids))


def forget_written_again(cur: psycopg.Cursor[Any], source: str, passage_ids: list[str]) -> None:
    """Passages were written with these ids: they are no longer removed."""
    cur.execute(_WRITTEN_AGAIN, (source, passage_ids))


def _conditions(where: PassageFilter) -> tuple[list[str], list[Any]]:
    conditions: list[str] = []
    params: list[Any] = []
    if where.source is not None:
        conditions.append("p.source = %s")
        params.append(where.source)
    if where.format is not None:
        conditions.append("d.format = %s")
        params.append(where.format)
    if where.path is not None:
        conditions.append("p.doc_id ~ %s")
        params.append(glob_regex(where.path))
    if where.since is not None:
        conditions.append("d.ingested_at >= %s")
        params.append(utc(where.since).replace(microsecond=0))
    return conditions, params


def passage_batches(
    connect: Callable[[], psycopg.Connection[Any]],
    where: PassageFilter | None,
    columns: list[str] | None,
    batch_size: int,
) -> Iterator[pl.DataFrame]:
    """The rows of ``PassageReader.passage_batches``, one keyset page at a time, read on a
    connection of their own (``connect()``) in one read-only repeatable-read transaction:
    the batches are one snapshot of the store whatever is written meanwhile."""
    names = check_columns(columns)
    batch_size = check_batch_size(batch_size)
    conditions, params = _conditions(where or PassageFilter())
    selected = ", ".join([*(f"p.{k}" for k in KEY), *(SQL_COLUMNS[n] for n in names)])
    order = " ORDER BY p.source, p.doc_id, p.seq LIMIT %s"
    schema = {n: PASSAGE_RECORDS[n] for n in names}
    conn = connect()
    try:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        after: tuple[Any, ...] | None = None
        while True:
            keyset = ["(p.source, p.doc_id, p.seq) > (%s, %s, %s)"] if after is not None else []
            sql = f"SELECT {selected} {SQL_FROM}"
            if conditions or keyset:
                sql += " WHERE " + " AND ".join([*keyset, *conditions])
            rows = conn.execute(sql + order, (*(after or ()), *params, batch_size)).fetchall()
            if not rows:
                return
            after = rows[-1][: len(KEY)]
            yield pl.DataFrame([row[len(KEY) :] for row in rows], schema=schema, orient="row")
            if len(rows) < batch_size:
                return
    finally:
        conn.close()


def passages(fetch: Fetch, source: str, doc_id: str) -> pl.DataFrame:
    """The ``PASSAGES`` of one document, in order."""
    rows = fetch(
        'SELECT doc_id, seq, passage_id, heading_path, start, "end", text, anchor, line_start, line_end '
        "FROM passages WHERE source = %s AND doc_id = %s ORDER BY seq",
        (source, doc_id),
    )
    return pl.DataFrame(rows, schema=PASSAGES, orient="row")


def passage(fetch: Fetch, passage_id: str, source: str | None) -> dict[str, Any] | None:
    sql = f"SELECT {', '.join(SQL_COLUMNS.values())} {SQL_FROM} WHERE p.passage_id = %s"
    params: tuple[Any, ...] = (passage_id,)
    if source is not None:
        sql += " AND p.source = %s"
        params += (source,)
    rows = fetch(sql + " ORDER BY p.source, p.doc_id, p.seq LIMIT 1", params)
    return pl.DataFrame(rows, schema=PASSAGE_RECORDS, orient="row").row(0, named=True) if rows else None


def document(fetch: Fetch, doc_id: str, source: str | None) -> dict[str, Any] | None:
    sql = f"SELECT {', '.join(DOCUMENT_RECORD)} FROM documents WHERE doc_id = %s"
    params: tuple[Any, ...] = (doc_id,)
    if source is not None:
        sql += " AND source = %s"
        params += (source,)
    rows = fetch(sql + " ORDER BY source LIMIT 1", params)
    return pl.DataFrame(rows, schema=DOCUMENT_RECORD, orient="row").row(0, named=True) if rows else None


def removed_passages(fetch: Fetch, source: str | None, since: datetime | None) -> pl.DataFrame:
    sql = f"SELECT {', '.join(REMOVED_PASSAGES)} FROM docbatch_removed_passages WHERE true"
    params: tuple[Any, ...] = ()
    if source is not None:
        sql += " AND source = %s"
        params += (source,)
    if since is not None:
        sql += " AND removed_at >= %s"
        params += (utc(since).replace(microsecond=0),)
    rows = fetch(sql + " ORDER BY source, passage_id", params)
    return pl.DataFrame(rows, schema=REMOVED_PASSAGES, orient="row")


def sources(fetch: Fetch) -> pl.DataFrame:
    """``SOURCES`` rows: every source recorded or holding documents, by name."""
    rows = fetch(_SOURCES, ())
    return pl.DataFrame([(a, b, int(n), last) for a, b, n, last in rows], schema=SOURCES, orient="row")


def lookup_source(fetch: Fetch, name: str) -> tuple[bool, str | None]:
    """Whether ``name`` holds documents, and the root recorded for it."""
    ((found, root),) = fetch(
        "SELECT EXISTS (SELECT 1 FROM documents WHERE source = %s), "
        "(SELECT root FROM docbatch_sources WHERE name = %s)",
        (name, name),
    )
    return bool(found), root


def problems(fetch: Fetch, source: str) -> pl.DataFrame:
    """``PROBLEMS`` of ``source``: orphaned passages and passage counts that differ from
    what was written."""
    rows: list[tuple[str | None, str, str]] = []
    for doc_id, n in fetch(_ORPHANS, (source,)):
        rows.append((doc_id, "orphaned_passages", f"{n} passages without a document"))
    for doc_id, expected, actual in fetch(_MISCOUNTED, (source,)):
        rows.append((doc_id, "passage_count", f"{actual} passages stored, {expected} written"))
    return pl.DataFrame(rows, schema=PROBLEMS, orient="row")
